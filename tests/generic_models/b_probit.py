"""Bayes-optimal learning of a probit teacher P(y|z) = ½ erfc(−y z/(√2 s)) with Gaussian weights,
the probit written by hand as a custom channel (not channels.Probit)."""
import sympy as sp
from replica import Model, priors, channels, learning

y, z = sp.symbols("y z", real=True)
s = sp.Symbol("s", positive=True)
probit = channels.Custom(sp.erfc(-y * z / (sp.sqrt(2) * s)) / 2, y, z, outputs=(-1, 1), params={"s": "positive"})
model = Model(prior=priors.Gaussian(1), teacher=probit, learning=learning.BayesOptimal())
