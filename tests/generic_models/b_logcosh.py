"""ERM with the log-cosh loss log cosh(y - λ) and a ridge, on a linear teacher with Gaussian noise."""
import sympy as sp
from replica import Model, priors, channels, learning, losses

y, lam = sp.symbols("y lam", real=True)
model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
              learning=learning.ERM(losses.Custom(sp.log(sp.cosh(y - lam)), y, lam), ridge="lam"))
