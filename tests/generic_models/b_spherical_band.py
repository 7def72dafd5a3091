"""Spherical weights with the two-sided constraint |λ| ≤ κ on every example."""
import sympy as sp
from replica import Model, priors, channels, learning

y, lam = sp.symbols("y lam", real=True)
kappa = sp.Symbol("kappa", positive=True)
model = Model(prior=priors.Spherical(), teacher=channels.RandomLabels(),
              learning=learning.Volume(constraint=sp.Abs(lam) <= kappa, y=y, lam=lam,
                                       params={"kappa": "positive"}))
