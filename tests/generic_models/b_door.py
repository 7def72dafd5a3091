"""Bayes-optimal learning of the door teacher y = sign(|z| - κ) with Gaussian weights, the door
stated as a custom channel."""
import sympy as sp
from replica import Model, priors, channels, learning

y, z = sp.symbols("y z", real=True)
kappa = sp.Symbol("kappa", positive=True)
door = channels.Custom(sp.Heaviside(y * (sp.Abs(z) - kappa)), y, z, outputs=(-1, 1),
                       params={"kappa": "positive"})
model = Model(prior=priors.Gaussian(1), teacher=door, learning=learning.BayesOptimal())
