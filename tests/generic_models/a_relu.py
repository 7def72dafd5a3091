"""Bayes-optimal learning of the ReLU teacher with Gaussian noise, y = max(0, z) + √Δ η, Gaussian
weights: the label integral ∫dy Z_out log Z_out has no closed form (quadrature over y)."""
import sympy as sp

from replica import Model, channels, learning, priors

y, z = sp.symbols("y z", real=True)
delta = sp.Symbol("delta", positive=True)
relu = channels.Custom(sp.exp(-(y - sp.Max(0, z))**2 / (2 * delta)) / sp.sqrt(2 * sp.pi * delta), y, z,
                       outputs="real", params={"delta": "positive"})
model = Model(prior=priors.Gaussian(1), teacher=relu, learning=learning.BayesOptimal(),
              name="a-relu", defaults={"alpha": 1.0, "delta": 0.1})
