"""Initial conditions for the fixed-point iteration.

* ``uninformed``: overlaps at 1e-6 of their scale (q = 1e-6 Q, m = 1e-6 ρ; Q = ρ, chi = 1),
  conjugates from the output-side maps at those overlaps (hence small);
* ``informed``: q = Q(1 - 1e-6), m = ρ(1 - 1e-6) (Q = ρ, chi = 1) and, where there is a
  replica overlap q (Bayes-optimal, Gibbs), the conjugates that drive them, q_hat and m_hat,
  at 1e6 (the others from the maps; ERM: all conjugates from the maps).  The overlaps implied
  by these conjugates are q = q_hat/(1 + q_hat) = 1 - 1e-6 for a Gaussian prior, q = ρ to
  machine precision for a discrete one (the perfect-recovery end, where the output maps at
  q = ρ would be evaluated at a degenerate Gaussian integral);
* a dict name -> value (a warm start, e.g. ``Solution.state()``): when every conjugate is given,
  missing overlaps are the prior-side maps of the conjugates; otherwise missing overlaps are
  uninformed and missing conjugates the output-side maps of the overlaps.  NaN entries (points
  that did not converge) fall back to ``uninformed`` at those points.

Each evaluation gives both halves of the maps at once (``fixed_point``), so the iteration is
two interleaved chains, o -> h -> o ... and h -> o -> h ...; a start whose missing half is the
map of the given half makes them one chain, half a step apart.
"""
from __future__ import annotations

import numpy as np

__all__ = ["initial_state", "KINDS"]

KINDS = ("uninformed", "informed")
_SMALL = 1e-6
_LARGE = 1e6


def _overlaps(problem, kind: str) -> np.ndarray:
    """Overlaps of a built-in start (conjugates 1, placeholders), shape (d, P): Q = ρ, chi = 1,
    m = eps ρ, q = eps Q (eps = 1e-6 uninformed, 1 - 1e-6 informed)."""
    rho = problem.rho
    eps = _SMALL if kind == "uninformed" else 1 - _SMALL
    x = np.ones((len(problem.names), problem.size))
    at = {"Q": rho, "chi": np.ones_like(rho), "m": eps * rho}
    for i, k in enumerate(problem.overlaps):
        x[i] = at.get(k, x[i])
    if "q" in problem.overlaps:
        x[problem.names.index("q")] = eps * problem.cap(x, np.arange(problem.size))
    return x


def _conjugates_from_overlaps(problem, x: np.ndarray, informed: bool) -> np.ndarray:
    """Replace the conjugates of x by the output-side maps at its overlaps (q_hat and m_hat by
    1e6 for the informed start)."""
    n = len(problem.overlaps)
    if len(problem.hats) == 0:
        return x
    with np.errstate(all="ignore"):
        out = problem.evaluate(x, np.arange(problem.size), want=["map_" + k for k in problem.hats])
        h = np.stack([np.asarray(out["map_" + k], float) for k in problem.hats])
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
    given = {k: _on_grid(v, problem) for k, v in init.items() if k in problem.names}
    x = _overlaps(problem, "uninformed")
    for k, v in given.items():
        x[problem.names.index(k)] = v
    n = len(problem.overlaps)
    if all(k in given for k in problem.hats):
        if not all(k in given for k in problem.overlaps):   # overlaps implied by the conjugates
            with np.errstate(all="ignore"):
                o = problem.maps(problem.evaluate(x, np.arange(problem.size)))[:n]
            for j, k in enumerate(problem.overlaps):
                if k not in given:
                    x[j] = o[j]
    else:
        hats = _conjugates_from_overlaps(problem, x, False)[n:]
        for j, k in enumerate(problem.hats):
            if k not in given:
                x[n + j] = hats[j]
    bad = ~np.all(np.isfinite(x), axis=0)
    if bad.any():
        x[:, bad] = initial_state(problem, "uninformed")[:, bad]
    return x
