"""Transition lines of a phase diagram located from the grid's own branch data, every row at once.

The rows of a diagram (:func:`replica.phase.grid.solve_row`) already hold, at every grid point,
each start's solution: its free entropy, replicon, convergence and label.  The transitions along
x at each row are bracketed there and located by root finding along x at that row's y — the same
criteria, tolerances and re-checks as :func:`replica.solve.find_transitions`, but with every
row's search advanced together, each step one vectorized solve over all rows (instead of a
41-point scan and a scalar ``brentq`` per row and kind):

* ``first_order`` — Δ(x) = Φ_informed - Φ_uninformed where both starts converge to distinct
  states; every grid bracket [x_i, x_i+1] with a sign change is narrowed by Illinois regula
  falsi (Dowell & Jarratt, BIT 11, 168 (1971)) to |b - a| < 1e-12 or a step below it; the
  crossing is re-checked with the feature-adapted rule at 800 nodes at r ± 1e-6 max(1, |r|)
  (``crossing_confirmed``'s test: both values finite, of opposite signs, below 1e-3).
* ``spinodal`` — the uninformed branch followed upward from the row's low end, the informed one
  downward from its high end (not where that start is the perfect end point): the first grid
  interval a Newton corrector from the branch does not cross, then natural-parameter
  continuation with step halving below 1e-10, the smallest |eigenvalue| of J = ∂M/∂x - I at the
  end (< 1e-3 at a saddle-node) and the re-check of ``unconfirmed_fold``, all as in
  :func:`replica.solve.spinodal`.
* ``rs_instability`` — replicon - 1 of each start's own branch, bracketed on the grid, Illinois,
  re-checked with the feature-adapted rule at 800 nodes.

Kinds not listed (capacity, weak recovery, interpolation peaks) and committee machines are left
to :func:`replica.phase.grid.transitions_row`.
"""
from __future__ import annotations

import numpy as np

from ..solve import solve, solve_branches
from ..solve.problem import Problem
from ..solve.transitions import FOLD_GAP, FOLD_WINDOW, precise_options
from .grid import jsonable

__all__ = ["GRID_KINDS", "grid_kinds", "locate_rows", "illinois"]

#: the kinds located here from the grid's data
GRID_KINDS = ("spinodal", "first_order", "rs_instability")

_XTOL = {"first_order": 1e-12, "spinodal": 1e-10, "rs_instability": 1e-12}
_TOL = 1e-10            # the solver tolerance of find_transitions' locators


def grid_kinds(compiled, kinds) -> tuple[list, list]:
    """(kinds located here, kinds left to the per-row search) for ``kinds`` (None: every kind
    that applies, as in ``find_transitions``)."""
    if getattr(compiled, "solver", None) is not None or compiled.kind == "storage":
        return [], kinds
    if kinds is None:
        kinds = ["weak_recovery", "spinodal", "first_order", "rs_instability"]
        if getattr(compiled.model, "features", None) is not None:
            kinds.append("interpolation_peak")
    here = [k for k in kinds if k in GRID_KINDS]
    return here, [k for k in kinds if k not in GRID_KINDS]


def illinois(f, a, b, fa, fb, xtol: float, max_iter: int = 100) -> np.ndarray:
    """Roots of f in the brackets [a_k, b_k] (f(a_k) = fa_k and f(b_k) = fb_k finite, of opposite
    signs), all at once: Illinois regula falsi — the false-position point, the retained end's
    value halved when the same end is kept twice (Dowell & Jarratt 1971) — until the bracket is
    shorter than ``xtol`` or a step moves less than xtol/2.  ``f(x, k)`` gives the values at the
    points x of the brackets k (NaN where not defined); a NaN there is retried at the bracket's
    middle, and a bracket whose middle is NaN too is given up.  NaN for the brackets not located."""
    a, b = np.array(a, float), np.array(b, float)
    fa, fb = np.array(fa, float), np.array(fb, float)
    root = np.full(a.shape, np.nan)
    last = np.zeros(a.shape, int)                  # which end was kept last: -1 a, +1 b
    prev = np.full(a.shape, np.nan)
    active = np.ones(a.shape, bool)
    for _ in range(max_iter):
        k = np.flatnonzero(active)
        if k.size == 0:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (a[k] * fb[k] - b[k] * fa[k]) / (fb[k] - fa[k])
        inside = np.isfinite(x) & (x > a[k]) & (x < b[k])
        x = np.where(inside, x, 0.5 * (a[k] + b[k]))
        fx = np.asarray(f(x, k), float)
        nan = ~np.isfinite(fx)
        if nan.any():                              # retried at the middle
            x[nan] = 0.5 * (a[k[nan]] + b[k[nan]])
            fx[nan] = np.asarray(f(x[nan], k[nan]), float)
        lost = ~np.isfinite(fx)
        active[k[lost]] = False
        ok = ~lost
        k, x, fx = k[ok], x[ok], fx[ok]
        hit = fx == 0
        left = np.sign(fx) == np.sign(fa[k])       # the root is in [x, b]: a moves
        # Illinois: the end kept twice in a row has its value halved
        keep_b = left & ~hit
        keep_a = ~left & ~hit
        fb[k[keep_b & (last[k] == 1)]] /= 2
        fa[k[keep_a & (last[k] == -1)]] /= 2
        a[k[keep_b]], fa[k[keep_b]] = x[keep_b], fx[keep_b]
        b[k[keep_a]], fb[k[keep_a]] = x[keep_a], fx[keep_a]
        last[k[keep_b]], last[k[keep_a]] = 1, -1
        step = np.abs(x - prev[k])
        prev[k] = x
        done = hit | (b[k] - a[k] < xtol) | (step < 0.5 * xtol)
        root[k[done]] = x[done]
        active[k[done]] = False
    return root


def _sign_brackets(values: np.ndarray, xs: np.ndarray) -> list:
    """[(i, exact)] of the grid intervals [xs[i], xs[i+1]] where the finite values change sign
    (exact False), and of the grid points where a value is exactly 0 (exact True), in order."""
    out = []
    for i in range(len(xs) - 1):
        a, b = values[i], values[i + 1]
        if np.isfinite(a) and np.isfinite(b) and np.sign(a) * np.sign(b) < 0:
            out.append((i, False))
        elif a == 0:
            out.append((i, True))
    return out


class _Rows:
    """The rows' solutions as arrays (n_rows, n_x) per start, and the parameters of any point."""

    def __init__(self, compiled, x_name, xs, y_name, ys, fixed, rows, opts):
        self.c, self.x_name, self.xs, self.y_name = compiled, x_name, np.asarray(xs, float), y_name
        self.ys = np.asarray(ys, float)
        self.fixed, self.opts = fixed, {**opts, "tol": _TOL}
        self.lo, self.hi = float(self.xs[0]), float(self.xs[-1])
        self.names = list(compiled.unknowns)
        self.starts = [lab for lab in rows[0] if lab != "equilibrium"]
        self.data = {lab: {k: np.stack([np.asarray(r[lab][k]) for r in rows]) for k in rows[0][lab]}
                     for lab in self.starts}

    def params(self, x, rows) -> dict:
        return {**self.fixed, self.x_name: np.asarray(x, float), self.y_name: self.ys[rows]}

    def both(self, x, rows, opts=None):
        """(uninformed, informed, coexist) at the points x of the rows ``rows``."""
        b = solve_branches(self.c, self.params(x, rows), "all", **(opts or self.opts))
        u, i = b.solutions["uninformed"], b.solutions["informed"]
        return u, i, u.converged & b.distinct("informed")

    def delta(self, x, rows, opts=None) -> np.ndarray:
        u, i, co = self.both(x, rows, opts)
        with np.errstate(invalid="ignore"):
            return np.where(co, i.free_entropy - u.free_entropy, np.nan)

    def replicon(self, start, x, rows, opts=None) -> np.ndarray:
        s = solve(self.c, self.params(x, rows), start, **(opts or self.opts))
        ok = s.converged & (s.branch == start)
        return np.where(ok, s["replicon"] - 1.0, np.nan)


def _roots(R: _Rows, values: np.ndarray, f, xtol) -> list:
    """[(row, root)] of f along every row from its grid values (n_rows, n_x): brackets from the
    sign changes, all narrowed together by ``illinois``; NaN where not located."""
    found = [(r, i, exact) for r in range(values.shape[0]) for i, exact in _sign_brackets(values[r], R.xs)]
    out = [(r, float(R.xs[i])) for r, i, exact in found if exact]
    brk = [(r, i) for r, i, exact in found if not exact]
    if brk:
        rows = np.array([r for r, _ in brk])
        i = np.array([i for _, i in brk])
        roots = illinois(lambda x, k: f(x, rows[k]), R.xs[i], R.xs[i + 1], values[rows, i], values[rows, i + 1], xtol)
        out += list(zip(rows.tolist(), roots.tolist()))
    return out


def _confirmed(R: _Rows, f_precise, found: list) -> np.ndarray:
    """``crossing_confirmed`` for every (row, root) of ``found`` at once: f_precise at r ± h,
    h = 1e-6 max(1, |r|), finite, of opposite signs and below 1e-3 in size."""
    rows = np.array([r for r, _ in found], int)
    r = np.array([v for _, v in found], float)
    h = 1e-6 * np.maximum(1.0, np.abs(r))
    a, b = np.maximum(R.lo, r - h), np.minimum(R.hi, r + h)
    fv = f_precise(np.concatenate([a, b]), np.concatenate([rows, rows]))
    fa, fb = fv[:len(r)], fv[len(r):]
    with np.errstate(invalid="ignore"):
        return np.isfinite(fa) & np.isfinite(fb) & (fa * fb < 0) & (np.maximum(np.abs(fa), np.abs(fb)) < 1e-3)


def _unconfirmed(kind, r, along, what, **extra) -> dict:
    return {"kind": kind, "value": None, "located": float(r), **extra,
            "error": f"{kind} at {along} = {r:.10g} not confirmed with the feature-adapted rule at "
                     f"800 nodes: {what}"}


def _first_order(R: _Rows) -> dict:
    """row -> first-order records (see the module docstring)."""
    out = {}
    if not {"uninformed", "informed"} <= set(R.starts):
        return out
    u, i = R.data["uninformed"], R.data["informed"]
    coexist = u["converged"] & i["converged"] & ~i["duplicate"]
    with np.errstate(invalid="ignore"):
        bad = coexist & ~(np.isfinite(u["free_entropy"]) & np.isfinite(i["free_entropy"]))
        values = np.where(coexist, i["free_entropy"] - u["free_entropy"], np.nan)
    for r in np.flatnonzero(bad.any(axis=1)):
        j = np.flatnonzero(bad[r])[0]
        lab = "uninformed" if not np.isfinite(u["free_entropy"][r, j]) else "informed"
        out[r] = [{"kind": "first_order", "value": None,
                   "error": f"first_order: the {lab} branch has a non-finite free entropy at "
                            f"{R.x_name} = {R.xs[j]:g}; the branches cannot be compared"}]
    values[bad.any(axis=1)] = np.nan
    found = _roots(R, values, R.delta, _XTOL["first_order"])
    lost = [(r, v) for r, v in found if not np.isfinite(v)]
    for r, _ in lost:
        out.setdefault(r, []).append({"kind": "first_order", "value": None,
                                      "error": "first_order: the root search left the branches' coexistence"})
    found = [(r, v) for r, v in found if np.isfinite(v)]
    if not found:
        return out
    ok = _confirmed(R, lambda x, rows: R.delta(x, rows, precise_options(_TOL)), found)
    rows = np.array([r for r, _ in found], int)
    at = np.array([v for _, v in found], float)
    uu, ii, _ = R.both(at, rows)
    for n, (r, v) in enumerate(found):
        if not ok[n]:
            rec = _unconfirmed("first_order", v, R.x_name, "the free entropies of the branches do not cross there")
        else:
            rec = {"kind": "first_order", "value": v, "free_entropy": float(uu.free_entropy[n]),
                   "branches": ["uninformed", str(ii.branch[n])],
                   "q_uninformed": float(uu["q"][n]) if "q" in uu.values else None,
                   "q_informed": float(ii["q"][n]) if "q" in ii.values else None}
        out.setdefault(r, []).append(rec)
    return out


def _rs_instability(R: _Rows) -> dict:
    """row -> RS-instability records (see the module docstring)."""
    out = {}
    if "replicon" not in R.c.module.OUTPUTS:
        return out
    for start in [s for s in ("uninformed", "informed") if s in R.starts]:
        d = R.data[start]
        if "replicon" not in d:
            continue
        ok = d["converged"] & (d["label"] == start)
        values = np.where(ok, d["replicon"] - 1.0, np.nan)
        f = lambda x, rows, start=start: R.replicon(start, x, rows)
        found = [(r, v) for r, v in _roots(R, values, f, _XTOL["rs_instability"]) if np.isfinite(v)]
        if not found:
            continue
        ok = _confirmed(R, lambda x, rows, start=start: R.replicon(start, x, rows, precise_options(_TOL)), found)
        rows = np.array([r for r, _ in found], int)
        right = f(np.minimum(R.hi, np.array([v + 1e-6 * max(1.0, abs(v)) for _, v in found])), rows)
        for n, (r, v) in enumerate(found):
            if not ok[n]:
                continue
            if any(abs(o["value"] - v) <= 1e-8 * max(1.0, abs(v)) for o in out.get(r, [])):
                continue
            out.setdefault(r, []).append({"kind": "rs_instability", "value": v, "branch": start,
                                          "criterion": "replicon eigenvalue = 1",
                                          "unstable": "above" if right[n] > 0 else "below"})
    return out


def _state(R: _Rows, d: dict, rows, cols) -> dict:
    return {k: d[k][rows, cols] for k in R.names}


def _local(R: _Rows, x, rows, state, max_iter: int, opts=None):
    return solve(R.c, R.params(x, rows), state, **(opts or R.opts), local=True, max_iter=max_iter)


def _jacobian_gaps(R: _Rows, x, rows, state) -> np.ndarray:
    """Smallest |eigenvalue| of J = ∂M/∂x - I (forward differences, step 1e-7 max(1, |x_j|)) at
    the states of the points (x, rows), as ``transitions``' fold test."""
    P = len(rows)
    d = len(R.names)
    X0 = np.stack([np.asarray(state[k], float) for k in R.names])                 # (d, P)
    step = 1e-7 * np.maximum(1.0, np.abs(X0))
    X = np.concatenate([X0[:, None, :], X0[:, None, :] + np.eye(d)[:, :, None] * step[:, None, :]], axis=1)
    params = R.params(np.repeat(x, d + 1), np.repeat(rows, d + 1))
    p = Problem(R.c, params, nodes=R.opts["nodes"], rule=R.opts["rule"])
    Xf = X.transpose(0, 2, 1).reshape(d, -1)                                      # point-major
    m, _ = p.jacobi(Xf, np.arange(P * (d + 1)))
    m = m.reshape(d, P, d + 1)
    J = (m[:, :, 1:] - m[:, :, :1]).transpose(1, 0, 2) / step.T[:, None, :] - np.eye(d)[None]
    gap = np.full(P, np.nan)
    ok = np.all(np.isfinite(J), axis=(1, 2))
    if ok.any():
        gap[ok] = np.min(np.abs(np.linalg.eigvals(J[ok])), axis=1)
    return gap


def _spinodal(R: _Rows, xtol: float = _XTOL["spinodal"]) -> dict:
    """row -> spinodal records (see the module docstring)."""
    out = {}
    two = {"uninformed", "informed"} <= set(R.starts)
    n = R.xs.size
    dx = abs(R.xs[1] - R.xs[0]) if n > 1 else 0.0
    for lab in (("uninformed", "informed") if two else ("uninformed",)):
        d = R.data[lab]
        order = np.arange(n) if lab == "uninformed" else np.arange(n)[::-1]
        xs = R.xs[order]
        on = d["converged"][:, order] & (d["label"][:, order] != "perfect")
        rows = np.arange(len(R.ys))
        if lab != "uninformed":                    # the perfect end point exists everywhere: no end
            rows = rows[~(d["converged"][:, order[0]] & (d["label"][:, order[0]] == "perfect"))]
        for r in rows[~on[rows, 0]]:
            out.setdefault(r, []).append({"kind": "spinodal", "value": None,
                                          "error": f"spinodal: the {lab} start does not converge at "
                                                   f"{R.x_name} = {xs[0]:g}"})
        rows = rows[on[rows, 0]]
        if rows.size == 0 or n < 2:
            continue
        # the first interval a Newton corrector from the branch does not cross, every row at once
        rr, ii = np.meshgrid(rows, np.arange(n - 1), indexing="ij")
        rr, ii = rr.ravel(), ii.ravel()
        nxt = _local(R, xs[ii + 1], rr, _state(R, d, rr, order[ii]), 40)
        cont = (nxt.converged & (nxt.branch != "perfect")).reshape(rows.size, n - 1)
        first = {}
        for a, r in enumerate(rows):
            for i in range(n - 1):
                if not on[r, i]:
                    break
                if not cont[a, i]:
                    first[r] = i
                    break
        if not first:
            continue
        fr = np.array(sorted(first))
        fi = np.array([first[r] for r in fr])
        v = xs[fi].astype(float)
        state = _state(R, d, fr, order[fi])
        h = np.full(fr.size, dx)
        direction = 1.0 if lab == "uninformed" else -1.0
        end = xs[-1]
        while True:                                 # continuation with step halving, all rows together
            go = (h >= xtol) & ((end - v) * direction > 0)
            k = np.flatnonzero(go)
            if k.size == 0:
                break
            vt = v[k] + direction * np.minimum(h[k], np.abs(end - v[k]))
            s = _local(R, vt, fr[k], {kk: vv[k] for kk, vv in state.items()}, 40)
            good = s.converged & (s.branch != "perfect")
            g = k[good]
            v[g] = vt[good]
            for kk in R.names:
                state[kk][g] = s.values[kk][good]
            h[g] = np.minimum(1.5 * h[g], dx)
            h[k[~good]] /= 2
        ended = np.flatnonzero(h < xtol)
        if ended.size == 0:
            continue
        gap = _jacobian_gaps(R, v[ended], fr[ended], {kk: vv[ended] for kk, vv in state.items()})
        why = _folds_unconfirmed(R, v[ended], fr[ended], {kk: vv[ended] for kk, vv in state.items()}, direction)
        for n_, e in enumerate(ended):
            r, val = int(fr[e]), float(v[e])
            if not gap[n_] < FOLD_GAP:
                rec = {"kind": "spinodal", "value": None,
                       "error": f"spinodal: the {lab} branch cannot be followed beyond {R.x_name} = {val:.10g}, "
                                f"where it has no saddle-node (smallest |eigenvalue| of the Jacobian {gap[n_]:.2g}): "
                                f"the generated maps are not finite there, or too noisy to converge to tol = {_TOL:g}"}
            elif why[n_]:
                rec = _unconfirmed("spinodal", val, R.x_name, why[n_], branch=lab)
            else:
                rec = {"kind": "spinodal", "value": val, "branch": lab}
                if "q" in state:
                    rec["q"] = float(state["q"][e])
            out.setdefault(r, []).append(rec)
    return out


def _folds_unconfirmed(R: _Rows, v, rows, state, direction) -> list:
    """``unconfirmed_fold`` at every located end at once: under the feature-adapted rule at 800
    nodes the branch must exist at v - h (h = 1e-4 max(1, |v|) back toward the start) and a
    Newton corrector from there must fail at v + h.  '' where confirmed, else the reason."""
    opts = {**precise_options(_TOL), "tol": _TOL}
    h = FOLD_WINDOW * np.maximum(1.0, np.abs(v)) * direction
    at = solve(R.c, R.params(v - h, rows), state, **opts)
    back = at.converged & (at.branch != "perfect")
    why = [f"the branch does not reach {a:.10g}" for a in v - h]
    k = np.flatnonzero(back)
    if k.size:
        on = _local(R, (v + h)[k], rows[k], {kk: vv[k] for kk, vv in at.state().items()}, 100, opts)
        cont = on.converged & (on.branch != "perfect")
        for j, kk in enumerate(k):
            why[kk] = f"the branch continues to {(v + h)[kk]:.10g}" if cont[j] else ""
    return why


def locate_rows(compiled, x_name, xs, y_name, ys, fixed, rows, kinds, opts) -> dict:
    """y -> transition records (with ``y``; sorted by value as ``find_transitions`` sorts them)
    of the ``kinds`` among ``GRID_KINDS``, from ``rows`` (:func:`grid.solve_row`'s results at
    the ys)."""
    R = _Rows(compiled, x_name, xs, y_name, ys, fixed, rows, opts)
    found = {r: [] for r in range(len(R.ys))}
    for kind, fn in (("spinodal", _spinodal), ("first_order", _first_order), ("rs_instability", _rs_instability)):
        if kind in kinds:
            for r, recs in fn(R).items():
                found[int(r)] += recs
    out = {}
    for r, recs in found.items():
        y = float(R.ys[r])
        recs = sorted(recs, key=lambda q: (q["value"] is None, q["value"] or 0.0))
        out[y] = [{**{k: jsonable(v) for k, v in q.items()}, "y": y} for q in recs]
    return out
