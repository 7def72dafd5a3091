"""The NumPy backend agrees with the mpmath backend (arbitrary precision, adaptive tanh-sinh
quadrature split at the integrand's kinks) to 1e-9 on every built-in model, at random points."""
import numpy as np
import pytest

from replica.builtin import BUILTINS

RANGES = {"q": (0.15, 0.6), "m": (0.05, 0.3), "Q": (0.9, 1.4), "chi": (0.4, 1.5),
          "q_hat": (0.3, 1.5), "m_hat": (0.2, 0.8), "Q_hat": (-0.5, 0.5), "chi_hat": (0.8, 2.0)}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_numpy_agrees_with_mpmath(theories, name):
    th, c = theories(name)
    mp = th.compile("mpmath")
    rng = np.random.default_rng(sum(map(ord, name)))
    params = {k: float(v) for k, v in th.model.defaults.items()}
    params["alpha"] = float(rng.uniform(0.5, 2.0))
    if "flip" in params:
        params["flip"] = 0.05
    point = {**params, **{s.name: float(rng.uniform(*RANGES[s.name])) for s in th.order_parameters}}
    fast = c.evaluate(nodes=96, **point)
    slow = mp.evaluate(dps=20, **point)
    for k in fast:
        assert float(fast[k]) == pytest.approx(float(slow[k]), abs=1e-9, rel=1e-9), (k, point)
