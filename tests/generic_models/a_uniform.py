"""Bayes-optimal linear regression with a uniform prior on [-√3, √3] (unit variance)."""
import sympy as sp

from replica import Model, channels, learning, priors

w = sp.Symbol("w", real=True)
model = Model(prior=priors.Custom(sp.Heaviside(sp.sqrt(3) - sp.Abs(w)) / (2 * sp.sqrt(3)), w),
              teacher=channels.Linear(noise="delta"), learning=learning.BayesOptimal(),
              name="a-uniform", defaults={"alpha": 1.0, "delta": 0.5})
