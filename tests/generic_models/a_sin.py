"""Bayes-optimal learning of the teacher y = sin z + √Δ η, Gaussian weights: neither Z_out nor
∫dy Z_out log Z_out has a closed form (a Gaussian expectation inside a quadrature over y)."""
import sympy as sp

from replica import Model, channels, learning, priors

y, z = sp.symbols("y z", real=True)
delta = sp.Symbol("delta", positive=True)
teacher = channels.Custom(sp.exp(-(y - sp.sin(z))**2 / (2 * delta)) / sp.sqrt(2 * sp.pi * delta), y, z,
                          outputs="real", params={"delta": "positive"})
model = Model(prior=priors.Gaussian(1), teacher=teacher, learning=learning.BayesOptimal(),
              name="a-sin", defaults={"alpha": 1.0, "delta": 0.1})
