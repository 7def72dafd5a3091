"""Shared test helpers: a plain damped fixed-point loop over a compiled theory (the real
solver is a later issue; tests only need *a* loop that stops when the maps are fixed)."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):
    """One torch thread for the whole session, set once before any tensor work: the tests'
    tensors are small, two threads contending on a 2-core machine are orders of magnitude
    slower, and changing the thread count after torch has run can stall its thread pool."""
    import torch
    torch.set_num_threads(1)


def fixed_point(compiled, params, state, damping=0.5, tol=1e-13, max_iter=20000, nodes=96, rule="hermite"):
    """Iterate the derived maps until no order parameter moves by more than ``tol``."""
    state = {k: np.asarray(v, dtype=float) for k, v in state.items()}
    for _ in range(max_iter):
        new = compiled.step(state, params, nodes=nodes, rule=rule)
        diff = max(float(np.max(np.abs(new[k] - state[k]))) for k in state)
        if not np.isfinite(diff):
            raise RuntimeError(f"fixed-point iteration produced a non-finite value at {params}")
        state = {k: damping * state[k] + (1 - damping) * new[k] for k in state}
        if diff < tol:
            return state, compiled.evaluate(nodes=nodes, rule=rule, **params, **state)
    raise RuntimeError(f"no convergence at {params}: last change {diff:.2e}")


@pytest.fixture(scope="session")
def theories():
    """Derived and compiled theories, cached for the session."""
    import replica
    cache = {}

    def get(spec):
        if spec not in cache:
            th = replica.derive(spec)
            cache[spec] = (th, th.compile())
        return cache[spec]
    return get
