"""The NumPy backend agrees with the mpmath backend (arbitrary precision, adaptive tanh-sinh
quadrature split at the integrand's kinks) to 1e-9 on every built-in model, at random points."""
import numpy as np
import pytest

from replica.builtin import BUILTINS

RANGES = {"q": (0.15, 0.6), "m": (0.05, 0.3), "Q": (0.9, 1.4), "chi": (0.4, 1.5),
          "q_hat": (0.3, 1.5), "m_hat": (0.2, 0.8), "Q_hat": (-0.5, 0.5), "chi_hat": (0.8, 2.0)}


# committee machines (K hidden units) have their own numerics: tests/test_committee.py
PERCEPTRONS = sorted(n for n, make in BUILTINS.items() if not getattr(make, "committee", False))


@pytest.mark.parametrize("name", PERCEPTRONS)
def test_numpy_agrees_with_mpmath(theories, name):
    th, c = theories(name)
    mp = th.compile("mpmath")
    rng = np.random.default_rng(sum(map(ord, name)))
    params = {k: float(v) for k, v in th.model.defaults.items()}
    params["alpha"] = float(rng.uniform(0.5, 2.0))
    if "flip" in params:
        params["flip"] = 0.05
    point = {**params, **{s.name: float(rng.uniform(*RANGES[s.name])) for s in th.order_parameters}}
    # the replicon is left out here: its squared log-derivatives have no closed form, and the
    # mpmath oracle's nested tanh-sinh quadratures take minutes (perceptron-gibbs: 90 s); it
    # is checked against independent oracles in test_stability.py and test_cli_solve.py
    want = [k for k in c.module.OUTPUTS if k != "replicon"]
    fast = c.evaluate(nodes=96, want=want, **point)
    slow = mp.evaluate(dps=20, want=want, **point)
    for k in fast:
        assert float(fast[k]) == pytest.approx(float(slow[k]), abs=1e-9, rel=1e-9), (k, point)
