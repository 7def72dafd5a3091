"""Bayes-optimal linear regression with a sparse ternary prior (1-ρ)δ(w) + ρ/2 δ(w-1) + ρ/2 δ(w+1),
ρ symbolic, written with three Dirac deltas (the atom at 0 stated twice: merged)."""
import sympy as sp

from replica import Model, channels, learning, priors

w = sp.Symbol("w", real=True)
rho = sp.Symbol("rho", positive=True)
density = (1 - rho) / 2 * sp.DiracDelta(w) + (1 - rho) / 2 * sp.DiracDelta(w) \
    + rho / 2 * sp.DiracDelta(w - 1) + rho / 2 * sp.DiracDelta(w + 1)
model = Model(prior=priors.Custom(density, w, params={"rho": (0, 1)}), teacher=channels.Linear(noise="delta"),
              learning=learning.BayesOptimal(), name="a-ternary", defaults={"alpha": 1.0, "delta": 0.1, "rho": 0.3})
