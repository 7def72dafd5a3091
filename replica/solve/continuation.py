"""Continuation along one parameter.

``mode='follow'``: natural-parameter continuation — the point at values[i] starts from the
converged state at values[i-1] (the last converged one if that point failed), so a branch is
followed as far as it exists (past a spinodal it jumps to whatever the iteration reaches, which
the per-point ``branch`` label shows: e.g. ``'perfect'``).

``mode='vectorized'``: every point from the same start in one array program (what
``replica solve --sweep`` uses: a 20,000-point sweep costs a few dozen evaluations of the
generated code on 20,000-long arrays).
"""
from __future__ import annotations

import numpy as np

from .fixed_point import solve
from .solution import Solution

__all__ = ["sweep", "concat"]


def concat(solutions: list) -> Solution:
    """Join 1-d solutions (shapes (n_i,)) into one along their only axis."""
    first = solutions[0]
    cat = lambda get: {k: np.concatenate([np.atleast_1d(get(s)[k]) for s in solutions]) for k in get(first)}
    return Solution(
        model=first.model, names=first.names,
        params=cat(lambda s: s.params), values=cat(lambda s: s.values), fixed=cat(lambda s: s.fixed),
        outputs=cat(lambda s: s.outputs),
        converged=np.concatenate([np.atleast_1d(s.converged) for s in solutions]),
        residual=np.concatenate([np.atleast_1d(s.residual) for s in solutions]),
        iterations=np.concatenate([np.atleast_1d(s.iterations) for s in solutions]),
        branch=np.concatenate([np.atleast_1d(s.branch) for s in solutions]),
        last=cat(lambda s: s.last))


def sweep(compiled, along: str, values, fixed: dict | None = None, init="uninformed", *,
          mode: str = "follow", **solve_kw) -> Solution:
    """Solve along ``along`` = ``values`` (1-d) with the other parameters ``fixed``.

    init : start of the first point (``follow``) or of every point (``vectorized``).
    Returns a Solution of shape (len(values),)."""
    values = np.asarray(values, dtype=float).reshape(-1)
    fixed = dict(fixed or {})
    if along in fixed:
        raise ValueError(f"{along!r} is both swept and fixed")
    if mode == "vectorized":
        return solve(compiled, {**fixed, along: values}, init, **solve_kw)
    if mode != "follow":
        raise ValueError(f"unknown continuation mode {mode!r}; use 'follow' or 'vectorized'")
    label = solve_kw.pop("branch", init if isinstance(init, str) else "user")
    out, start = [], init
    for v in values:
        s = solve(compiled, {**fixed, along: np.array([v])}, start, branch=label, **solve_kw)
        out.append(s)
        if s.converged[0] and s.branch[0] != "perfect":
            start = s.state()
    return concat(out)
