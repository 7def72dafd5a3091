"""The symmetric binary perceptron: ±1 weights with |λ| ≤ κ on every example (Aubin, Perkins &
Zdeborová 2019)."""
import sympy as sp
from replica import Model, priors, channels, learning

y, lam = sp.symbols("y lam", real=True)
kappa = sp.Symbol("kappa", positive=True)
model = Model(prior=priors.Ising(), teacher=channels.RandomLabels(),
              learning=learning.Volume(constraint=sp.Abs(lam) <= kappa, y=y, lam=lam,
                                       params={"kappa": "positive"}))
