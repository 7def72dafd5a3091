"""Bayes-optimal linear regression with a Gauss–Bernoulli prior (1-ρ)δ(w) + ρ N(0, 1), ρ symbolic."""
import sympy as sp

from replica import Model, channels, learning, priors

w = sp.Symbol("w", real=True)
rho = sp.Symbol("rho", positive=True)
density = (1 - rho) * sp.DiracDelta(w) + rho * sp.exp(-w**2 / 2) / sp.sqrt(2 * sp.pi)
model = Model(prior=priors.Custom(density, w, params={"rho": (0, 1)}), teacher=channels.Linear(noise="delta"),
              learning=learning.BayesOptimal(), name="a-gauss-bernoulli",
              defaults={"alpha": 0.5, "delta": 0.01, "rho": 0.2})
