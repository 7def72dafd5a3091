"""ERM with a smooth-but-kinked convex loss, log cosh(y - λ) + |y - λ|/2, and a ridge, on a
linear teacher with Gaussian noise: neither piece's proximal map has a closed form."""
import sympy as sp
from replica import Model, priors, channels, learning, losses

y, lam = sp.symbols("y lam", real=True)
model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
              learning=learning.ERM(losses.Custom(sp.log(sp.cosh(y - lam)) + sp.Abs(y - lam) / 2, y, lam),
                                    ridge="lam"))
