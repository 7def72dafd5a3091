"""ERM with the non-convex loss 1 - exp(-(y - λ)²): must be refused."""
import sympy as sp
from replica import Model, priors, channels, learning, losses

y, lam = sp.symbols("y lam", real=True)
model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
              learning=learning.ERM(losses.Custom(1 - sp.exp(-(y - lam)**2), y, lam), ridge="lam"))
