"""Bayes-optimal noisy phase retrieval, y = |z| + √Δ η, Gaussian weights: the label integral
∫dy Z_out log Z_out has no closed form (quadrature over y)."""
import sympy as sp

from replica import Model, channels, learning, priors

y, z = sp.symbols("y z", real=True)
delta = sp.Symbol("delta", positive=True)
phase = channels.Custom(sp.exp(-(y - sp.Abs(z))**2 / (2 * delta)) / sp.sqrt(2 * sp.pi * delta), y, z,
                        outputs="real", params={"delta": "positive"})
model = Model(prior=priors.Gaussian(1), teacher=phase, learning=learning.BayesOptimal(),
              name="a-abs", defaults={"alpha": 1.0, "delta": 0.01})
