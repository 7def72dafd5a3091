"""Every derived equation set is the stationarity condition of its own free entropy.

At a random admissible point, set the overlaps to their maps (prior side): every derivative
of Φ with respect to a conjugate must vanish (central finite differences).  Set the
conjugates to their maps (output side): every derivative with respect to an overlap must
vanish.  Nothing here is solved, so this checks the algebra, not a solver."""
import numpy as np
import pytest

from replica.builtin import BUILTINS

RANGES = {"q": (0.15, 0.55), "m": (0.05, 0.3), "Q": (0.9, 1.4), "chi": (0.4, 1.5),
          "q_hat": (0.3, 1.5), "m_hat": (0.2, 0.8), "Q_hat": (-0.5, 0.5), "chi_hat": (0.8, 2.0)}


def _phi(c, params, state, nodes):
    return float(c.evaluate(nodes=nodes, **params, **state)["free_entropy"])


def _grad(c, params, state, names, nodes, h=1e-5):
    g = {}
    for k in names:
        up, dn = dict(state), dict(state)
        up[k] = state[k] + h
        dn[k] = state[k] - h
        g[k] = (_phi(c, params, up, nodes) - _phi(c, params, dn, nodes)) / (2 * h)
    return g


# committee machines (K hidden units) have their own numerics: tests/test_committee.py
PERCEPTRONS = sorted(n for n, make in BUILTINS.items() if not getattr(make, "committee", False))


@pytest.mark.parametrize("name", PERCEPTRONS)
def test_equations_are_stationarity_conditions(theories, name):
    th, c = theories(name)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    params = {k: float(v) for k, v in th.model.defaults.items()}
    params["alpha"] = float(rng.uniform(0.5, 2.0))
    names = [s.name for s in th.order_parameters]
    n = len(names) // 2
    overlaps, hats = names[:n], names[n:]
    nodes = 120
    for trial in range(2):
        state = {k: float(rng.uniform(*RANGES[k])) for k in names}
        res = c.evaluate(nodes=nodes, **params, **state)
        prior_side = dict(state, **{k: float(res["map_" + k]) for k in overlaps})
        g = _grad(c, params, prior_side, hats, nodes)
        for k in hats:
            assert abs(g[k]) < 1e-6, (name, k, g)
        output_side = dict(state, **{k: float(res["map_" + k]) for k in hats})
        g = _grad(c, params, output_side, overlaps, nodes)
        for k in overlaps:
            assert abs(g[k]) < 1e-6, (name, k, g)
