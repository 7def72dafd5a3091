"""Shared test helpers: a plain damped fixed-point loop over a compiled theory (the real
solver is a later issue; tests only need *a* loop that stops when the maps are fixed)."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


#: seconds per test of a recent full run, as pytest's ``--durations`` prints them
#: ("217.14s call     tests/x.py::test_y[z]"); paste a fresh listing there to update
DURATIONS = Path(__file__).parent / "durations.txt"


def pytest_configure(config):
    """One torch thread for the whole session, set once before any tensor work: the tests'
    tensors are small, two threads contending on a 2-core machine are orders of magnitude
    slower, and changing the thread count after torch has run can stall its thread pool.

    With pytest-xdist (``-n``), workers take one test at a time (``--maxschedchunk 1`` unless
    given): with the slow tests first (``pytest_collection_modifyitems``) that is greedy
    longest-first scheduling, so no worker is left with a long test at the end while the
    other idles (xdist's default sends each worker a quarter of its share in one batch)."""
    import torch
    torch.set_num_threads(1)
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def known_durations(path=DURATIONS) -> dict:
    """{test id: seconds} summed over setup, call and teardown, from ``--durations`` lines."""
    out = {}
    if path.exists():
        for m in re.finditer(r"^\s*([0-9.]+)s\s+(?:setup|call|teardown)\s+(\S+)", path.read_text(), re.M):
            out[m.group(2)] = out.get(m.group(2), 0.0) + float(m.group(1))
    return out


def pytest_collection_modifyitems(config, items):
    """Known-slow tests first, longest first (``DURATIONS``); the others after them in
    collection order.  With ``-n 2`` the wall time is bounded below by the longest test, and a
    long test started last keeps one worker busy alone; started first, it overlaps the rest."""
    known = known_durations()
    if not known:
        return
    order = {id(it): i for i, it in enumerate(items)}
    items.sort(key=lambda it: (-known.get(it.nodeid, 0.0), order[id(it)]))


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
