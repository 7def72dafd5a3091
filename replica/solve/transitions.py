"""Transitions along one parameter, each located by root finding on a smooth function
(``scipy.optimize.brentq``) or, for the end of a branch, by continuation with a Newton corrector.

Which kinds apply to which models
---------------------------------
* ``capacity`` — storage problems (``theory.kind == 'storage'``: ``gardner``, ``ising-storage``):
  continuous weights: the root in α of Φ0, the free entropy of the q -> 1 theory
  (``theory.capacity``; Gardner 1988); discrete weights: the α where the RS entropy of the
  storage solution vanishes (Krauth & Mézard 1989), and additionally ``q_to_one``, the root of
  Φ0 of the q -> 1 theory (Gardner & Derrida's 4/π at κ = 0, wrong as a capacity).
* ``spinodal`` — the end of a branch (a saddle-node of the fixed-point map): the uninformed
  branch followed upward from the low end of the range, the informed one downward from the
  high end (not the perfect-recovery end point q = ρ, which exists at every α).  Found in
  teacher-student models with coexisting branches (``ising-bayes``, ``ising-gibbs`` at low T);
  absent (no record) where the branch continues through the range (ERM, linear regression,
  spherical perceptrons).
* ``first_order`` — where the free entropies of the uninformed and informed branches cross,
  inside the range where both exist and differ (``ising-bayes``: Györgyi's α_IT).  Only for
  teacher-student theories with a replica overlap q (not storage, not ERM, whose convex
  problems have one branch); the informed branch's spinodal likewise.
* ``weak_recovery`` — where the uninformative fixed point (zero overlaps) loses stability: the
  largest eigenvalue of the linearized overlap map at q = m = 0 crosses 1; only where q = m = 0
  is a fixed point (symmetric channels; none of the sign/linear built-ins, where the output
  maps give q_hat > 0 at q = 0) — skipped otherwise.
* ``rs_instability`` — where the replicon (de Almeida–Thouless) eigenvalue of a branch crosses 1
  (finite-temperature and Bayes-optimal theories; at the Nishimori line it stays below 1).

Every function returns a list of records ``{"kind", "value", ...}``.  Failures to compute a
transition that applies (a branch with a non-finite free entropy, a solve that does not
converge) raise ``TransitionError``; ``find_transitions`` turns them into a record with
``"value": None`` and ``"error"``.
"""
from __future__ import annotations

import math

import numpy as np

from .branches import same_point, solve_branches
from .fixed_point import solve

__all__ = ["capacity", "first_order", "spinodal", "weak_recovery", "rs_instability", "interpolation_peak",
           "find_transitions", "default_range", "compiled_part", "TransitionError", "crossing_confirmed",
           "precise_options", "unconfirmed_fold", "FOLD_GAP", "FOLD_WINDOW"]


class TransitionError(RuntimeError):
    """A transition that applies could not be located."""


# -- helpers ----------------------------------------------------------------------------------

def compiled_part(spec, part: str = "main"):
    """The CompiledTheory of ``spec`` — a Theory, a CompiledTheory, a Model or a model name —
    or of its q -> 1 capacity theory (``part='capacity'``; None where there is none).  Compiled
    modules come from the on-disk cache when they are there (no derivation)."""
    from ..codegen.compiled import CompiledTheory, load_compiled
    from ..theory import Theory
    if isinstance(spec, Theory):
        th = spec.capacity if part == "capacity" else spec
        return None if th is None else th.compile()
    if isinstance(spec, CompiledTheory) or hasattr(spec, "evaluate") and hasattr(spec, "unknowns"):
        if part == "main" or spec.kind.startswith("capacity"):
            return spec
        spec = spec.model
    try:
        return load_compiled(spec, part=part)
    except AttributeError:          # the model has no q -> 1 theory
        return None


def default_range(c, along: str) -> tuple:
    """The declared domain of ``along`` with infinite ends replaced by 10 max(1, |default|),
    an α = 0 end by 0.01 and open ends moved in by 1e-6 (``c`` a CompiledTheory)."""
    model = c.model
    dom = next((d for s, d in model.parameters.items() if s.name == along), None)
    if dom is None:
        raise ValueError(f"unknown parameter {along!r}; parameters are {[s.name for s in model.parameters]}")
    scale = max(1.0, abs(float(model.defaults.get(along, 1.0))))
    lo = -10 * scale if dom.lo == -math.inf else dom.lo + (1e-6 * scale if dom.lo_open else 0.0)
    hi = 10 * scale if dom.hi == math.inf else dom.hi - (1e-6 * scale if dom.hi_open else 0.0)
    if along == "alpha" and lo <= 0:
        lo = 0.01
    return float(lo), float(hi)


def _setup(spec, along, range, fixed):
    """(compiled theory, lo, hi, fixed parameters as floats)."""
    c = compiled_part(spec)
    lo, hi = default_range(c, along) if range is None else map(float, range)
    if not hi > lo:
        raise ValueError(f"empty range [{lo}, {hi}] for {along!r}")
    fixed = {k: float(v) for k, v in (fixed or {}).items() if k != along}
    return c, lo, hi, fixed


def _roots(values, grid, f_point, xtol) -> list:
    """Roots of f along ``grid`` from its values there: brentq on f_point (one value) in every
    bracket (consecutive finite values of opposite sign); exact zeros of the grid kept."""
    from scipy.optimize import brentq      # start-up: scipy.optimize (~0.3 s) only when a root is sought
    roots = []
    for i in range(len(grid) - 1):
        a, b = values[i], values[i + 1]
        if np.isfinite(a) and np.isfinite(b) and np.sign(a) * np.sign(b) < 0:
            roots.append(_root_in(brentq, f_point, float(grid[i]), float(grid[i + 1]), a, xtol))
        elif a == 0:
            roots.append(float(grid[i]))
    return roots


def _root_in(brentq, f_point, a, b, fa, xtol, depth=3):
    """A root of f_point in [a, b] (f(a) = fa and f(b) of opposite signs).  Where f is NaN inside
    the bracket (a branch that ends between the grid's points), the bracket is sampled at 9
    points and the search goes on in the first finite sub-bracket that changes sign; if none is
    left, the bracket's middle is returned: the caller's re-check (``crossing_confirmed``) then
    reports the crossing as not confirmed, with its reason, instead of a number."""
    try:
        return brentq(f_point, a, b, xtol=xtol, rtol=1e-15, maxiter=200)
    except ValueError:
        if depth == 0:
            return 0.5 * (a + b)
    xs = np.linspace(a, b, 11)
    fs = [fa] + [f_point(x) for x in xs[1:-1]]
    for j in range(len(fs) - 1):
        if fs[j] == 0:
            return float(xs[j])
        if np.isfinite(fs[j]) and np.isfinite(fs[j + 1]) and np.sign(fs[j]) * np.sign(fs[j + 1]) < 0:
            return _root_in(brentq, f_point, float(xs[j]), float(xs[j + 1]), fs[j], xtol, depth - 1)
    return 0.5 * (a + b)


def crossing_confirmed(f_precise, r: float, lo: float, hi: float, step: float | None = None) -> bool:
    """Whether f really crosses zero at r: re-evaluated by ``f_precise`` (a finer quadrature,
    a tighter tolerance) at r ± h, h = ``step`` or 1e-6 max(1, |r|), both values finite, of
    opposite signs and small (|f| < 1e-3: a continuous crossing, not a jump across a branch's
    end or a sign flip of quadrature noise)."""
    h = step if step is not None else 1e-6 * max(1.0, abs(r))
    a, b = max(lo, r - h), min(hi, r + h)
    fa, fb = float(f_precise(a)), float(f_precise(b))
    return bool(np.isfinite(fa) and np.isfinite(fb) and fa * fb < 0 and max(abs(fa), abs(fb)) < 1e-3)


def precise_options(tol: float) -> dict:
    """Solver options of the re-check of a located transition: the feature-adapted rule at 800
    nodes (twice the default), tolerance at most 1e-12."""
    return dict(nodes=800, rule="adaptive", tol=min(tol, 1e-12))


def _unconfirmed(kind: str, r: float, along: str, what: str, **extra) -> dict:
    """The record of a transition located at r that the re-check at higher precision does not
    confirm: no value, the reason in ``error``, the unconfirmed location in ``located``."""
    return {"kind": kind, "value": None, "located": float(r), **extra,
            "error": f"{kind} at {along} = {r:.10g} not confirmed with the feature-adapted rule at "
                     f"800 nodes: {what}"}


def _output_along(c, key, along, fixed, opts):
    """v (array) -> output ``key`` on the uninformed branch at along = v (NaN where the solve
    does not converge)."""
    def f(v):
        s = solve(c, {**fixed, along: np.atleast_1d(v)}, "uninformed", **opts)
        return np.where(s.converged, s[key], np.nan)
    return f


def _two_starts(c) -> bool:
    """Whether uninformed and informed starts differ in meaning: teacher-student theories with a
    replica overlap q (Bayes-optimal, Gibbs); not storage, not ERM (see ``solve_branches``)."""
    return c.kind != "storage" and "q" in c.unknowns


def _discrete_prior(c) -> bool:
    p = c.model.prior
    return getattr(p, "density", 1) == 0 and bool(getattr(p, "atoms", ()))


# -- capacity --------------------------------------------------------------------------------

def capacity(theory, along="alpha", range=None, fixed=None, *, nodes=None, rule="auto", grid=41,
             xtol=1e-12, tol=1e-10) -> list:
    """Storage capacity: Φ0(α) = 0 of the q -> 1 theory (continuous weights), or the zero of the
    RS entropy (discrete weights; with the q -> 1 point reported as ``q_to_one``)."""
    c, lo, hi, fixed = _setup(theory, along, range, fixed)
    if c.kind != "storage":
        return []
    opts = dict(nodes=nodes, rule=rule, tol=tol)
    xs = np.linspace(lo, hi, grid)
    out = []
    cap = compiled_part(theory, "capacity")
    if cap is not None:
        phi0 = _output_along(cap, "free_entropy", along, fixed, opts)
        kind = "q_to_one" if _discrete_prior(c) else "capacity"
        for r in _roots(phi0(xs), xs, lambda v: float(phi0(v)[0]), xtol):
            out.append({"kind": kind, "value": r, "criterion": "free entropy of the q -> 1 theory = 0"})
    if _discrete_prior(c):
        ent = _output_along(c, "entropy" if "entropy" in c.module.OUTPUTS else "free_entropy", along, fixed, opts)
        q = _output_along(c, "q", along, fixed, opts)
        for r in _roots(ent(xs), xs, lambda v: float(ent(v)[0]), xtol):
            out.append({"kind": "capacity", "value": r, "criterion": "RS entropy = 0", "q": float(q(r)[0])})
    return out


# -- first-order -----------------------------------------------------------------------------

def first_order(theory, along="alpha", range=None, fixed=None, *, nodes=None, rule="auto", grid=41,
                xtol=1e-12, tol=1e-10) -> list:
    """Crossings of the free entropies of the uninformed and informed branches, where both exist
    and differ; Φ at the crossing and the overlap on each side in the record.  Each crossing r
    is re-checked with the feature-adapted rule at 800 nodes (``crossing_confirmed`` of
    Φ_informed - Φ_uninformed at r ± 1e-6 max(1, |r|)); one that does not survive is reported
    with ``value`` None, ``located`` r and the reason in ``error``."""
    c, lo, hi, fixed = _setup(theory, along, range, fixed)
    if not _two_starts(c):
        return []
    opts = dict(nodes=nodes, rule=rule, tol=tol)
    xs = np.linspace(lo, hi, grid)

    def both(v, opts=opts):
        """(uninformed, informed, mask where both converged, to different states)."""
        b = solve_branches(c, {**fixed, along: np.atleast_1d(v)}, "all", **opts)
        u, i = b.solutions["uninformed"], b.solutions["informed"]
        return u, i, u.converged & b.distinct("informed")

    u, i, coexist = both(xs)
    bad = coexist & ~(np.isfinite(u.free_entropy) & np.isfinite(i.free_entropy))
    if bad.any():
        j = np.flatnonzero(bad)[0]
        sol = u if not np.isfinite(u.free_entropy[j]) else i
        raise TransitionError(f"first_order: the {sol.branch[j]} branch has a non-finite free entropy "
                              f"at {along} = {xs[j]:g}; the branches cannot be compared")

    def delta(v, opts=opts):
        uu, ii, co = both(v, opts)
        return float(np.where(co, ii.free_entropy - uu.free_entropy, np.nan)[0])

    out = []
    for r in _roots(np.where(coexist, i.free_entropy - u.free_entropy, np.nan), xs, delta, xtol):
        if not crossing_confirmed(lambda v: delta(v, precise_options(tol)), r, lo, hi):
            out.append(_unconfirmed("first_order", r, along, "the free entropies of the branches do not cross there"))
            continue
        uu, ii, _ = both(r)
        out.append({"kind": "first_order", "value": r, "free_entropy": float(uu.free_entropy[0]),
                    "branches": ["uninformed", str(ii.branch[0])],
                    "q_uninformed": float(uu["q"][0]) if "q" in uu.values else None,
                    "q_informed": float(ii["q"][0]) if "q" in ii.values else None})
    return out


# -- spinodal --------------------------------------------------------------------------------

def _follow_to_end(c, along, fixed, start, v0, v_end, h0, *, opts, xtol):
    """Natural-parameter continuation from the converged state ``start`` at v0 toward v_end with
    a Newton corrector (``solve(local=True)``): a step is halved when the corrector fails and
    grown by 1.5 (up to h0) when it succeeds.  Returns (v_last, state_last, h) with h < xtol at
    a branch end, or (v_end, state, h) if the branch reaches v_end."""
    direction = 1.0 if v_end > v0 else -1.0
    v, state, h = v0, start, h0
    while h >= xtol:
        if (v_end - v) * direction <= 0:
            return v_end, state, h
        vt = v + direction * min(h, abs(v_end - v))
        s = solve(c, {**fixed, along: np.array([vt])}, state, **opts, local=True, max_iter=40)
        if s.converged.all() and not (s.branch == "perfect").any():
            v, state, h = vt, s.state(), min(1.5 * h, h0)
        else:
            h /= 2
    return v, state, h


#: a located branch end is a saddle-node where the smallest |eigenvalue| of J = ∂M/∂x - I is below this
FOLD_GAP = 1e-3


def _jacobian_gap(c, params, state, opts) -> float:
    """Smallest |eigenvalue| of J = ∂M/∂x - I at one state (forward differences): 0 at a
    saddle-node, where the branch ends; O(1) where a branch merely stops being computable."""
    from .problem import Problem
    p = Problem(c, {k: np.atleast_1d(v) for k, v in params.items()}, nodes=opts["nodes"], rule=opts["rule"])
    x = np.array([np.asarray(state[k], float).reshape(-1)[0] for k in p.names])[:, None]
    d = len(x)
    step = 1e-7 * np.maximum(1.0, np.abs(x[:, 0]))
    X = np.concatenate([x, x + np.diag(step)], axis=1)
    m, _ = p.jacobi(X, np.zeros(d + 1, int))
    J = (m[:, 1:] - m[:, :1]) / step[None, :] - np.eye(d)
    return float(np.min(np.abs(np.linalg.eigvals(J)))) if np.all(np.isfinite(J)) else np.nan


#: half-width of the window in which the re-check must find a located branch end
FOLD_WINDOW = 1e-4


def unconfirmed_fold(c, along, fixed, state, v, v_end, tol) -> str:
    """Why the branch end located at v (state ``state``, travelling toward v_end) is not
    confirmed by the feature-adapted rule at 800 nodes, or '' if it is: under that rule the
    branch must exist at v - h (solved from ``state``; h = 1e-4 max(1, |v|) back toward the
    start) and a Newton corrector from there must fail at v + h — the end lies within h of v.
    (Closer to the fold Newton is too slow to decide, and the rules' folds differ by ~1e-11.)"""
    opts = {**precise_options(tol), "tol": tol}
    h = FOLD_WINDOW * max(1.0, abs(v)) * (1.0 if v_end > v else -1.0)
    at = solve(c, {**fixed, along: np.array([v - h])}, state, **opts)
    if not (at.converged.all() and (at.branch != "perfect").all()):
        return f"the branch does not reach {v - h:.10g}"
    on = solve(c, {**fixed, along: np.array([v + h])}, at.state(), **opts, local=True, max_iter=100)
    if on.converged.all() and (on.branch != "perfect").all():
        return f"the branch continues to {v + h:.10g}"
    return ""


def _end_bracket(c, along, fixed, xs, lab, opts):
    """First grid interval [xs[i], xs[i+1]] (xs ordered in the direction of travel) across which
    the branch reached from the start ``lab`` at xs[0] does not continue: the solution at xs[i]
    is on the branch (converged from ``lab``, not the perfect end point) but a Newton corrector
    from it fails at xs[i+1].  All intervals are tested in one vectorized local solve.
    Returns (i, Solution on the grid) or (None, Solution) when the branch spans the grid."""
    s = solve(c, {**fixed, along: xs}, lab, **opts)
    on = s.converged & (s.branch != "perfect")
    if not on[0]:
        raise TransitionError(f"spinodal: the {lab} start does not converge at {along} = {xs[0]:g}")
    nxt = solve(c, {**fixed, along: xs[1:]}, {k: v[:-1] for k, v in s.values.items()}, **opts,
                local=True, max_iter=40)
    cont = nxt.converged & (nxt.branch != "perfect")
    for i in np.arange(len(xs) - 1):
        if not on[i]:
            break
        if not cont[i]:
            return int(i), s
    return None, s


def spinodal(theory, along="alpha", range=None, fixed=None, *, nodes=None, rule="auto", grid=41,
             xtol=1e-10, tol=1e-10, branches=("uninformed", "informed")) -> list:
    """Ends of branches inside the range: the uninformed branch followed upward from ``lo``, the
    informed branch downward from ``hi`` (not when that is the perfect end point q = ρ, which
    exists at every value).  A grid scan brackets the end (``_end_bracket``), continuation with
    step halving narrows it below ``xtol``; the record holds the last point reached
    (``value``, within xtol of the end: the saddle-node) and its overlap ``q``.  Each end is
    re-checked with the feature-adapted rule at 800 nodes (``unconfirmed_fold``); one that does
    not survive is reported with ``value`` None, ``located`` v and the reason in ``error``."""
    c, lo, hi, fixed = _setup(theory, along, range, fixed)
    opts = dict(nodes=nodes, rule=rule, tol=tol)
    out = []
    for lab in branches if _two_starts(c) else ("uninformed",):
        xs = np.linspace(lo, hi, grid) if lab == "uninformed" else np.linspace(hi, lo, grid)
        if lab != "uninformed":
            s0 = solve(c, {**fixed, along: xs[:1]}, lab, **opts)
            if s0.converged[0] and s0.branch[0] == "perfect":
                continue
        i, s = _end_bracket(c, along, fixed, xs, lab, opts)
        if i is None:
            continue
        start = {k: v[i:i + 1] for k, v in s.values.items()}
        v, state, h = _follow_to_end(c, along, fixed, start, xs[i], xs[-1], abs(xs[1] - xs[0]),
                                     opts=opts, xtol=xtol)
        if h >= xtol:
            continue                                    # the corrector only needed shorter steps
        gap = _jacobian_gap(c, {**fixed, along: v}, state, opts)
        if not gap < FOLD_GAP:
            raise TransitionError(
                f"spinodal: the {lab} branch cannot be followed beyond {along} = {v:.10g}, where "
                f"it has no saddle-node (smallest |eigenvalue| of the Jacobian {gap:.2g}): the "
                f"generated maps are not finite there, or too noisy to converge to tol = {tol:g}")
        why = unconfirmed_fold(c, along, fixed, state, v, xs[-1], tol)
        if why:
            out.append(_unconfirmed("spinodal", v, along, why, branch=lab))
            continue
        rec = {"kind": "spinodal", "value": float(v), "branch": lab}
        if "q" in state:
            rec["q"] = float(np.asarray(state["q"]).reshape(-1)[0])
        out.append(rec)
    return out


# -- weak recovery ---------------------------------------------------------------------------

def _zero_state(c, params, names, quad):
    """State with q = m = 0 (others uninformed) and the conjugates from the output maps."""
    from .initial import initial_state
    from .problem import Problem
    p = Problem(c, params, **quad)
    x = initial_state(p, "uninformed")
    zero = [i for i, k in enumerate(p.names) if k in names]
    x[zero] = 0.0
    n = len(p.overlaps)
    x[n:] = p.maps(p.evaluate(x, np.arange(p.size)))[n:]
    return p, x, zero


def _overlap_map(p, x, zero):
    """T(o) = M_o(M_h(o)) restricted to the zero-able overlaps, at the states x."""
    n = len(p.overlaps)
    idx = np.arange(p.size)
    y = x.copy()
    y[n:] = p.maps(p.evaluate(y, idx))[n:]
    return p.maps(p.evaluate(y, idx))[zero]


def _growth(c, params, names, quad, eps=1e-6):
    """(|T(0)|, spectral radius of ∂T/∂o at o = 0): one-sided differences (overlaps are >= 0)
    with Richardson extrapolation, D = 2 D(eps/2) - D(eps), exact to O(eps²)."""
    p, x, zero = _zero_state(c, params, names, quad)
    t0 = _overlap_map(p, x, zero)

    def diff(e):
        J = np.empty((len(zero), len(zero), p.size))
        for j, i in enumerate(zero):
            y = x.copy()
            y[i] += e
            J[:, j] = (_overlap_map(p, y, zero) - t0) / e
        return J
    J = np.moveaxis(2 * diff(eps / 2) - diff(eps), 2, 0)
    ok = np.all(np.isfinite(J), axis=(1, 2))
    lam = np.full(p.size, np.nan)
    if ok.any():
        lam[ok] = np.max(np.abs(np.linalg.eigvals(J[ok])), axis=1)
    return np.max(np.abs(t0), axis=0), lam


def weak_recovery(theory, along="alpha", range=None, fixed=None, *, nodes=None, rule="auto",
                  grid=41, xtol=1e-10) -> list:
    """Where q = m = 0 stops being a stable fixed point: spectral radius of the linearized
    overlap map at zero overlaps = 1.  Only where zero overlaps are a fixed point."""
    c, lo, hi, fixed = _setup(theory, along, range, fixed)
    if c.kind == "storage":
        return []
    names = [k for k in ("q", "m") if k in c.unknowns]
    if not names:
        return []
    xs = np.linspace(lo, hi, grid)
    quad = dict(nodes=nodes, rule=rule)
    t0, lam = _growth(c, {**fixed, along: xs}, names, quad)
    if not np.all(t0 < 1e-12):
        return []                                       # q = 0 is no fixed point here

    def g(v):
        return _growth(c, {**fixed, along: np.atleast_1d(v)}, names, quad)[1] - 1.0
    return [{"kind": "weak_recovery", "value": r,
             "criterion": "spectral radius of the linearized overlap map at q = 0 equals 1"}
            for r in _roots(lam - 1.0, xs, lambda v: float(g(v)[0]), xtol)]


# -- RS instability --------------------------------------------------------------------------

def rs_instability(theory, along="alpha", range=None, fixed=None, *, nodes=None, rule="auto",
                   grid=41, xtol=1e-12, tol=1e-10) -> list:
    """The de Almeida–Thouless point: where the replicon eigenvalue of a branch,
    λ = α E[(∂²_ω log Z_out)²] E[(∂²_b log Z_w)²] (the generated output ``replicon``), crosses 1.
    Searched on the uninformed branch, and on the informed one where there are two starts;
    the record says which branch and on which side RS is stable.  Each root is re-checked with
    the feature-adapted rule at 800 nodes (``crossing_confirmed``): kept only where the replicon
    really crosses 1 there.  Theories without a replicon
    (zero temperature: ERM of convex losses, where RS is exact) have none."""
    c, lo, hi, fixed = _setup(theory, along, range, fixed)
    if "replicon" not in c.module.OUTPUTS:
        return []
    opts = dict(nodes=nodes, rule=rule, tol=tol)
    xs = np.linspace(lo, hi, grid)
    out = []
    for start in (("uninformed", "informed") if _two_starts(c) else ("uninformed",)):
        def f(v, start=start):
            sol = solve(c, {**fixed, along: np.atleast_1d(v)}, start, **opts)
            ok = sol.converged & (sol.branch == start)
            return np.where(ok, sol["replicon"] - 1.0, np.nan)
        def precise(v, start=start):        # the re-check: feature-adapted rule, 800 nodes
            sol = solve(c, {**fixed, along: np.atleast_1d(v)}, start, **precise_options(tol))
            ok = sol.converged & (sol.branch == start)
            return float(np.where(ok, sol["replicon"] - 1.0, np.nan)[0])
        vals = f(xs)
        for r in _roots(vals, xs, lambda v: float(f(v)[0]), xtol):
            if not crossing_confirmed(precise, r, lo, hi):
                continue
            right = float(f(min(hi, r + 1e-6 * max(1.0, abs(r))))[0])
            rec = {"kind": "rs_instability", "value": r, "branch": start,
                   "criterion": "replicon eigenvalue = 1",
                   "unstable": "above" if right > 0 else "below"}
            if not any(same_value(rec, o) for o in out):
                out.append(rec)
    return out


def same_value(a: dict, b: dict, tol: float = 1e-8) -> bool:
    return abs(a["value"] - b["value"]) <= tol * max(1.0, abs(a["value"]))


# -- all -------------------------------------------------------------------------------------

def interpolation_peak(theory, along="alpha", range=None, fixed=None, *, nodes=None, rule="auto",
                       grid=61, xtol=1e-9, tol=1e-10) -> list:
    """Local maxima of the generalization error along ``along`` (ERM theories): the interpolation
    peaks of double and triple descent (ψ = α and α = 1 for ridge on random features at small
    ridge; Mei & Montanari 2019, d'Ascoli, Sagun & Biroli 2020).  Bracketed on a grid (geometric
    when the range spans decades), then refined by bounded Brent on the error itself."""
    c, lo, hi, fixed = _setup(theory, along, range, fixed)
    if c.kind != "zero-temperature" or "generalization_error" not in c.module.OUTPUTS:
        return []
    opts = dict(nodes=nodes, rule=rule, tol=tol)

    def err(v):
        sol = solve(c, {**fixed, along: np.atleast_1d(v)}, "uninformed", **opts)
        return np.where(sol.converged, sol["generalization_error"], np.nan)

    xs = np.geomspace(lo, hi, grid) if lo > 0 and hi / lo > 100 else np.linspace(lo, hi, grid)
    ys = err(xs)
    out = []
    for i in np.arange(1, grid - 1):
        if not (np.isfinite(ys[i - 1:i + 2]).all() and ys[i] > ys[i - 1] and ys[i] >= ys[i + 1]):
            continue
        from scipy.optimize import minimize_scalar      # start-up: as in _roots
        r = minimize_scalar(lambda v: -float(err(v)[0]), bounds=(xs[i - 1], xs[i + 1]), method="bounded",
                                     options={"xatol": xtol * max(1.0, abs(xs[i]))})
        if np.isfinite(r.fun):
            out.append({"kind": "interpolation_peak", "value": float(r.x), "generalization_error": float(-r.fun),
                        "criterion": "local maximum of the generalization error"})
    return out


_KINDS = {"capacity": capacity, "weak_recovery": weak_recovery, "spinodal": spinodal,
          "first_order": first_order, "rs_instability": rs_instability, "interpolation_peak": interpolation_peak}


def find_transitions(theory, along="alpha", range=None, fixed=None, *, kinds=None, nodes=None,
                     rule="auto") -> list:
    """``theory``: a Theory, CompiledTheory, Model or built-in name.  Every transition of the kinds that apply to ``theory`` (storage: capacity; teacher-student:
    weak recovery, spinodals, first-order), sorted by value.  A kind that applies but cannot be
    located gives a record with ``"value": None`` and ``"error"``."""
    c = compiled_part(theory)
    if getattr(c, "solver", None) is not None:         # its own transitions (committee machines)
        return c.solver.find_transitions(along, range, fixed, kinds=kinds, nodes=nodes, rule=rule)
    if kinds is None:
        storage = c.kind == "storage"
        kinds = (["capacity"] if storage else ["weak_recovery", "spinodal", "first_order"]) + ["rs_instability"]
        if getattr(c.model, "features", None) is not None:
            kinds.append("interpolation_peak")
    unknown = sorted(set(kinds) - set(_KINDS))
    if unknown:
        raise ValueError(f"unknown transition kind(s) {unknown}; known: {sorted(_KINDS)}")
    out = []
    for k in kinds:
        try:
            out += _KINDS[k](theory, along, range, fixed, nodes=nodes, rule=rule)
        except TransitionError as e:
            out.append({"kind": k, "value": None, "error": str(e)})
    return sorted(out, key=lambda r: (r["value"] is None, r["value"] or 0.0))
