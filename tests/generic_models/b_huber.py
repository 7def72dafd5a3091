"""ERM with the Huber loss (threshold 1) and a ridge, on a linear teacher with Gaussian noise."""
import sympy as sp
from replica import Model, priors, channels, learning, losses

y, lam = sp.symbols("y lam", real=True)
r = y - lam
huber = sp.Piecewise((r**2 / 2, sp.Abs(r) <= 1), (sp.Abs(r) - sp.Rational(1, 2), True))
model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
              learning=learning.ERM(losses.Custom(huber, y, lam), ridge="lam"))
