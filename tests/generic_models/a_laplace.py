"""Bayes-optimal linear regression with a Laplace prior exp(-√2|w|)/√2 (unit variance)."""
import sympy as sp

from replica import Model, channels, learning, priors

w = sp.Symbol("w", real=True)
model = Model(prior=priors.Custom(sp.exp(-sp.sqrt(2) * sp.Abs(w)) / sp.sqrt(2), w),
              teacher=channels.Linear(noise="delta"), learning=learning.BayesOptimal(),
              name="a-laplace", defaults={"alpha": 1.0, "delta": 0.5})
