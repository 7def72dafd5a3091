"""Bayes-optimal learning of a logistic teacher P(y|z) = 1/(1 + exp(−y z/s)) with Gaussian
weights, stated as a custom channel."""
import sympy as sp
from replica import Model, priors, channels, learning

y, z = sp.symbols("y z", real=True)
s = sp.Symbol("s", positive=True)
logistic = channels.Custom(1 / (1 + sp.exp(-y * z / s)), y, z, outputs=(-1, 1), params={"s": "positive"})
model = Model(prior=priors.Gaussian(1), teacher=logistic, learning=learning.BayesOptimal())
