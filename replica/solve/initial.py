"""Initial conditions for the fixed-point iteration.

* ``uninformed``: overlaps at 1e-6 of their scale (q = 1e-6 Q, m = 1e-6 ρ; Q = ρ, chi = 1),
  conjugates from the output-side maps at those overlaps (hence small);
* ``informed``: q = Q(1 - 1e-6), m = ρ(1 - 1e-6) (Q = ρ, chi = 1) and, where there is a
  replica overlap q (Bayes-optimal, Gibbs), the conjugates that drive them, q_hat and m_hat,
  at 1e6 (the others from the maps; ERM: all conjugates from the maps).  The first sweep recomputes
  the overlaps from the conjugates: q = q_hat/(1 + q_hat) = 1 - 1e-6 for a Gaussian prior,
  q = ρ to machine precision for a discrete one (the perfect-recovery end, where the output
  maps at q = ρ would be evaluated at a degenerate Gaussian integral);
* a dict name -> value (a warm start, e.g. ``Solution.state()``): when every conjugate is given
  they are the start (the first sweep recomputes the overlaps from them, as
  ``CompiledTheory.step`` does); otherwise the overlaps are, missing ones uninformed, and the
  conjugates follow from them.  NaN entries (points that did not converge) fall back to
  ``uninformed`` at those points.
"""
from __future__ import annotations

import numpy as np

__all__ = ["initial_state", "KINDS"]

KINDS = ("uninformed", "informed")
_SMALL = 1e-6
_LARGE = 1e6


def _overlaps(problem, kind: str) -> np.ndarray:
    """Overlaps (and placeholder conjugates = 1) of a built-in start, shape (d, P)."""
    P = problem.size
    idx = np.arange(P)
    rho = problem.rho
    x = np.ones((len(problem.names), P))
    eps = _SMALL if kind == "uninformed" else 1 - _SMALL
    for i, k in enumerate(problem.names[:len(problem.overlaps)]):
        if k == "Q":
            x[i] = rho
        elif k == "chi":
            x[i] = 1.0
        elif k == "m":
            x[i] = eps * rho
    for i, k in enumerate(problem.overlaps):
        if k == "q":
            x[i] = eps * problem.cap(x, idx)
    return x


def _conjugates_from_overlaps(problem, x: np.ndarray, informed: bool) -> np.ndarray:
    """Replace the conjugates of x by the output-side maps at its overlaps (q_hat and m_hat by
    1e6 for the informed start)."""
    n = len(problem.overlaps)
    if len(problem.hats) == 0:
        return x
    with np.errstate(all="ignore"):
        h = problem.maps(problem.evaluate(x, np.arange(problem.size)))[n:]
    x = x.copy()
    x[n:] = h
    if informed and "q" in problem.names:
        for k in ("q_hat", "m_hat"):
            if k in problem.hats:
                x[problem.names.index(k)] = _LARGE
    return x


def _on_grid(v, problem) -> np.ndarray:
    """A value broadcast to the grid, flat (an array with as many entries as points is taken
    in grid order whatever its shape)."""
    a = np.asarray(v, float)
    if a.size == problem.size:
        return a.reshape(-1).copy()
    return np.broadcast_to(a, problem.shape).reshape(-1).copy()


def initial_state(problem, init) -> np.ndarray:
    """The starting state, shape (d, P), for ``init`` in ``KINDS`` or a dict."""
    if init is None:
        init = "uninformed"
    if isinstance(init, str):
        if init not in KINDS:
            raise ValueError(f"unknown initial condition {init!r}; use one of {KINDS} or a dict")
        return _conjugates_from_overlaps(problem, _overlaps(problem, init), init == "informed")
    unknown = sorted(set(init) - set(problem.names) - set(problem.fixed))
    if unknown:
        raise ValueError(f"initial values for unknown order parameters {unknown}; the unknowns are {problem.names}")
    base = initial_state(problem, "uninformed")
    given = {k: _on_grid(v, problem) for k, v in init.items() if k in problem.names}
    x = _overlaps(problem, "uninformed")
    for k, v in given.items():
        x[problem.names.index(k)] = v
    if not all(k in given for k in problem.hats):
        n = len(problem.overlaps)
        hats = _conjugates_from_overlaps(problem, x, False)[n:]
        for j, k in enumerate(problem.hats):
            if k not in given:
                x[n + j] = hats[j]
    bad = ~np.all(np.isfinite(x), axis=0)
    x[:, bad] = base[:, bad]
    return x
