"""ERM with a convex C² loss whose right piece, (λ-y)³/6 + (λ-y)²/2, is not convex beyond its
own interval: its proximal map is not lowered (the derivation says so; must be refused)."""
import sympy as sp
from replica import Model, priors, channels, learning, losses

y, lam = sp.symbols("y lam", real=True)
r = lam - y
loss = sp.Piecewise((r**2 / 2, r < 0), (r**3 / 6 + r**2 / 2, True))
model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
              learning=learning.ERM(losses.Custom(loss, y, lam), ridge="lam"))
