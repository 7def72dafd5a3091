"""Bayes-optimal linear regression with a Student-t prior, ν = 5, scaled to unit variance:
P(w) = Γ(3)/(√(3π) Γ(5/2)) (1 + w²/3)^{-3}."""
import sympy as sp

from replica import Model, channels, learning, priors

w = sp.Symbol("w", real=True)
nu = 5
density = sp.gamma(sp.Rational(nu + 1, 2)) / (sp.sqrt((nu - 2) * sp.pi) * sp.gamma(sp.Rational(nu, 2))) \
    * (1 + w**2 / (nu - 2))**(-sp.Rational(nu + 1, 2))
model = Model(prior=priors.Custom(density, w), teacher=channels.Linear(noise="delta"),
              learning=learning.BayesOptimal(), name="a-student", defaults={"alpha": 1.0, "delta": 0.5})
