"""Gibbs learning at temperature T of a sign teacher with Gaussian weights and the custom energy
ℓ = ½ max(0, -yλ)² (a squared perceptron cost)."""
import sympy as sp
from replica import Model, priors, channels, learning, losses

y, lam = sp.symbols("y lam", real=True)
model = Model(prior=priors.Gaussian(1), teacher=channels.Sign(),
              learning=learning.Gibbs(temperature="T", loss=losses.Custom(sp.Max(0, -y * lam)**2 / 2, y, lam)))
