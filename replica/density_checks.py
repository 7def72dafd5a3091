"""Positivity and normalization of a user's density on its whole domain (custom channels, priors).

A density P(y|z) (or ρ(w)) is checked at each given parameter point on the whole real line of
its argument: symbolically where SymPy decides it (a rational function of z: ``solveset`` of
P < 0 over the reals must be empty), else on a dense grid that includes the tails
(``GRID``: 2001 points on [-10, 10] and 200 log-spaced on 10 < |z| ≤ 1000, plus the given
kinks).  A channel that is a probability only near z = 0 — negative for |z| > 3, say — is
refused before any derivation, instead of being solved into a free entropy of log(negative).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

__all__ = ["GRID", "numeric", "corner_points", "check_nonnegative", "check_nonnegative_2d", "check_normalized_labels"]

#: the argument grid of the numerical checks: dense core and logarithmic tails to |x| = 1000
GRID = np.unique(np.concatenate([np.linspace(-10.0, 10.0, 2001), np.logspace(1, 3, 200), -np.logspace(1, 3, 200)]))

def numeric(args, expr):
    """``expr`` as a NumPy function of ``args`` (SymPy's lambdify) with SciPy's special functions
    (erf, erfc, ... on arrays: NumPy has none, and the ``math`` fallback takes scalars only)."""
    return sp.lambdify(args, expr, ["scipy", "numpy"])


#: values below this count as negative (rounding of a density that is 0 somewhere)
_NEG = -1e-14


def corner_points(syms, domains, max_syms: int = 3) -> list:
    """Parameter points near the ends of each parameter's domain (0.1 % inside a finite end,
    ±10 for an infinite one), all combinations for up to ``max_syms`` parameters."""
    syms = sorted(syms, key=lambda s: s.name)
    if not syms or len(syms) > max_syms:
        return []
    ends = []
    for s in syms:
        d = domains.get(s)
        if d is None:
            return []
        lo = d.lo if math.isfinite(d.lo) else -10.0
        hi = d.hi if math.isfinite(d.hi) else 10.0
        lo, hi = (lo, hi) if lo < hi else (lo, lo)
        span = hi - lo
        ends.append((lo + 1e-3 * span, hi - 1e-3 * span) if span > 0 else (lo,))
    return [dict(zip(syms, vals)) for vals in itertools.product(*ends)]


def _symbolic_negative(expr, x):
    """A point where the rational function ``expr`` of x is negative, False if none, None if
    SymPy cannot decide (not rational in x, or solveset gives no explicit set)."""
    if expr.free_symbols - {x} or not expr.is_rational_function(x):
        return None
    try:
        neg = sp.solveset(expr < 0, x, sp.S.Reals)
    except (NotImplementedError, TypeError, ValueError):
        return None
    if neg is sp.S.EmptySet:
        return False
    if isinstance(neg, (sp.Interval, sp.Union)):
        for part in (neg.args if isinstance(neg, sp.Union) else (neg,)):
            if isinstance(part, sp.Interval):
                lo, hi = part.inf, part.sup
                if lo.is_finite and hi.is_finite:
                    return float((lo + hi) / 2)
                return float(hi - 1) if lo.is_infinite and hi.is_finite else float(lo + 1) if lo.is_finite else 0.0
    return None


def check_nonnegative(expr, x, kinks=()) -> float | None:
    """A value of x where ``expr`` (free of other symbols) is negative, or None if it is
    non-negative on the whole line (symbolically where SymPy decides, else on ``GRID`` and at the
    ``kinks``); values that are not finite on the grid are skipped (checked elsewhere)."""
    sym = _symbolic_negative(expr, x)
    if sym is not None:
        return sym if sym is not False else None
    xs = np.concatenate([GRID, np.asarray([float(k) for k in kinks], dtype=float)])
    f = numeric(x, expr)
    with np.errstate(all="ignore"):
        vals = np.asarray(f(xs), dtype=float) * np.ones_like(xs)
    bad = np.flatnonzero(np.isfinite(vals) & (vals < _NEG))
    return float(xs[bad[0]]) if bad.size else None


def check_normalized_labels(expr, y, z, outputs, tol: float = 1e-6) -> float | None:
    """A z of ``GRID`` where Σ_y P(y|z) over the finite ``outputs`` differs from 1 by more than
    ``tol``, or None."""
    total = sp.Add(*[expr.subs(y, o) for o in outputs])
    f = numeric(z, total)
    with np.errstate(all="ignore"):
        vals = np.asarray(f(GRID), dtype=float) * np.ones_like(GRID)
    bad = np.flatnonzero(~(np.abs(vals - 1) <= tol))
    return float(GRID[bad[0]]) if bad.size else None


def check_nonnegative_2d(expr, y, z) -> tuple | None:
    """A point (y, z) of GRID x GRID[::20] where the continuous-label density ``expr`` is
    negative, or None."""
    f = numeric((y, z), expr)
    zs = GRID[::20]
    with np.errstate(all="ignore"):
        vals = np.asarray(f(GRID[:, None], zs[None, :]), dtype=float) * np.ones((GRID.size, zs.size))
    bad = np.argwhere(np.isfinite(vals) & (vals < _NEG))
    return (float(GRID[bad[0][0]]), float(zs[bad[0][1]])) if bad.size else None
