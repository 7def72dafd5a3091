"""Vectorized fixed-point solver: adaptive damping, safeguarded Anderson acceleration, Newton.

We solve x = M(x), M the saddle-point maps of the unknowns x = (overlaps o, conjugates h),
independently at every point of a parameter grid but in one array program: the state is an
array (d, P) over the d unknowns and the P points still iterating, and each iteration
evaluates the generated code once, on the points not yet done.  One evaluation at x gives
M(x) = (M_o(h), M_h(o)) — both halves, since overlaps are maps of the conjugates only and
conjugates of the overlaps only — so the residual f = M(x) - x, and the free entropy and
observables at x.  (A Gauss–Seidel sweep, ``CompiledTheory.step``, costs two evaluations and
uses half of each; two Jacobi steps advance each half as far as one sweep.)  Per point:

* damped step     x' = x + β f,   β ∈ [β_min, 1] adapted per point (halved where the residual
  grows with the step reversing direction — overshoot — and where the step is not finite;
  grown by 1.5 after other steps);
* Anderson (type II, memory ``anderson``): with ΔX, ΔF the last differences of iterates and
  residuals, γ = argmin ‖W(f - ΔF γ)‖ (W = diag 1/max(1,|x|), a small ridge) and
  x' = x + β f - (ΔX + β ΔF) γ  (Walker & Ni 2011).  Safeguards: a candidate outside the
  domain is replaced by the damped step; one whose residual is larger than the current one
  is refused, the history cleared, and the point takes a damped step next; where the residual
  has not halved in 10 steps Anderson pauses for 25 (it would otherwise hold the iterate at a
  local minimum of |f| that is no root, e.g. the ghost of a saddle-node past a spinodal);
* Newton, once the residual is below ``newton_switch``: x' = x - t J⁻¹ f, J = ∂M/∂x - I by
  forward differences (step 1e-7 max(1,|x_j|)).  M_o does not depend on o nor M_h on h, so
  overlap j and conjugate j are perturbed in the same evaluation: max(#o, #h) evaluations,
  batched over all points in one call.  J is kept while steps contract the residual tenfold
  (chord method); a step that does not lower the residual is refused, t divided by 4
  (backtracking), and Newton abandoned for the point after three refusals.

A point converges when r = max_k |M_k(x) - x_k| / max(1, |x_k|) < ``tol`` at an evaluated
state x; that state, its free entropy and observables are returned.  A point whose every
evaluation is non-finite, that does not converge within ``max_iter`` iterations, that makes no
progress (residual not halved) for ``patience`` iterations, or whose steps keep failing, is
reported ``converged=False`` and its values are NaN.  A point whose overlap, as implied by its
conjugates, reaches its bound (``Problem.saturated``) converges to the perfect-recovery end
point q = ρ, q_hat = +inf (branch ``'perfect'``), with the free entropy evaluated there — in
teacher-student problems; in storage problems q -> 1 is the capacity and the point fails.
A point where ERM without a ridge has no minimizer (separable data and a loss that keeps
decreasing, ``replica.separability.no_minimizer``: the norm of the estimator and the RS Q, χ
grow without bound) is not iterated: not converged at once, with that reason
(``Solution.reason``).
"""
from __future__ import annotations

import numpy as np

from ..separability import no_minimizer
from ..variables import NONNEGATIVE
from .acceptance import QUAD_TOL, check_rule, quadrature_residual, unresolved
from .initial import initial_state
from .problem import DEFAULT_NODES, Problem, relative_residual
from .solution import Solution

__all__ = ["solve"]

_BETA_MIN = 1.0 / 1024
_MAX_FAILS = 40      # consecutive refused steps before a point is abandoned
_STALL = 10          # Anderson is paused when the residual has not halved in this many steps...
_PAUSE = 25          # ...for this many plain steps
_DAMPED, _ANDERSON, _NEWTON = 0, 1, 2
#: a point that failed after visiting q within this fraction of its bound, where the feature
#: width √(1 - q) is below the uniform rules' panels, is re-solved with the adapted rule
_NEAR = 1e-3
#: the re-solve's own limits (a start next to the answer, or a point that fails again)
_REFINE_ITER, _REFINE_PATIENCE = 400, 100
#: the replicon λ = α E[(∂²_ω log Z_out)²] E[(∂²_b log Z_w)²] at q = ρ: the prior factor -> 0 and
#: the output factor -> ∞ as q_hat -> ∞, a limit that depends on the model (0 for a discrete
#: prior, whose posterior variance vanishes like e^{-q_hat/2}; 1/α for linear-bayes at Δ = 0),
#: not taken by the generated code: reported null with this reason
_PERFECT_REPLICON = ("replicon not evaluated at the perfect end point (q = rho, conjugates infinite): "
                     "a limit 0 * inf of its prior and output factors that depends on the model")


class _Iterate:
    """Per-point iteration state over all P points (only the active ones move)."""

    def __init__(self, d, P, memory, beta0, adaptive):
        self.adaptive = adaptive
        self.x = np.full((d, P), np.nan)      # current iterate
        self.f = np.full((d, P), np.nan)      # M(x) - x
        self.r = np.full(P, np.inf)           # relative residual of f
        self.beta = np.full(P, beta0)
        self.dX = np.zeros((memory, d, P))    # Anderson history, newest last
        self.dF = np.zeros((memory, d, P))
        self.hist = np.zeros(P, int)
        self.fails = np.zeros(P, int)
        self.newton_fails = np.zeros(P, int)
        self.nscale = np.ones(P)              # Newton step length (backtracking)
        self.J = np.zeros((P, d, d))          # Jacobian of M(x) - x, and whether it is current
        self.J_ok = np.zeros(P, bool)
        self.ref = np.full(P, np.inf)         # stall guard: residual level of the last progress
        self.stall = np.zeros(P, int)
        self.aa_off = np.zeros(P, int)
        self.best = np.full(P, np.inf)        # patience: smallest residual so far
        self.since_best = np.zeros(P, int)
        self.gap = np.full(P, np.inf)         # smallest distance of the implied q to its bound
        self.near = np.full(P, np.inf)        # smallest (cap - q) / cap of any state visited
        self.iterations = np.zeros(P, int)
        self.done = np.zeros(P, bool)
        self.converged = np.zeros(P, bool)
        self.perfect = np.zeros(P, bool)
        self.out = {}                         # outputs at x (free entropy, observables)


# -- candidates ------------------------------------------------------------------------------

def _damped(it: _Iterate, idx) -> np.ndarray:
    return it.x[:, idx] + it.beta[idx] * it.f[:, idx]


def _batched_solve(A, b):
    """Solve A_p y_p = b_p for every p; least squares where A_p is singular."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.stack([np.linalg.lstsq(a, v, rcond=None)[0] for a, v in zip(A, b)])


def _anderson_step(it: _Iterate, idx) -> np.ndarray:
    """Anderson (type II) candidates for the points idx (all with hist >= 1)."""
    x, f, beta = it.x[:, idx], it.f[:, idx], it.beta[idx]
    dX, dF = it.dX[:, :, idx], it.dF[:, :, idx]
    m = dX.shape[0]
    valid = np.arange(m)[:, None] >= (m - it.hist[idx])[None, :]           # (m, p)
    w = 1.0 / np.maximum(1.0, np.abs(x))
    Fw = dF * w[None] * valid[:, None, :]
    A = np.einsum("idp,jdp->pij", Fw, Fw)
    b = np.einsum("idp,dp->pi", Fw, f * w)
    scale = np.maximum(np.einsum("pii->p", A) / np.maximum(it.hist[idx], 1), 1e-300)
    eye = np.eye(m)[None]
    A = A + eye * (1e-12 * scale)[:, None, None] + eye * (~valid.T)[:, :, None]
    gamma = np.where(valid.T, _batched_solve(A, b), 0.0)
    return x + beta * f - np.einsum("idp,pi->dp", dX + beta * dF, gamma)


def _jacobian(problem: Problem, it: _Iterate, idx) -> np.ndarray:
    """J = ∂M/∂x - I, shape (p, d, d), at the points idx by forward differences (backward where
    forward leaves the domain).  Perturbation j moves overlap j and conjugate j together: M_o
    only sees the conjugate, M_h only the overlap, so one evaluation gives both columns."""
    n, d = len(problem.overlaps), len(problem.names)
    cols = max(n, d - n)
    x, m0 = it.x[:, idx], it.x[:, idx] + it.f[:, idx]
    p = x.shape[1]
    step = 1e-7 * np.maximum(1.0, np.abs(x))
    E = np.zeros((d, cols))                                                 # which unknowns move in evaluation j
    for j in range(cols):
        if j < n:
            E[j, j] = 1.0
        if j < d - n:
            E[n + j, j] = 1.0
    flat_idx = np.tile(idx, cols)

    def perturbed(sign):
        return (x[:, None, :] + E[:, :, None] * (sign * step)[:, None, :]).reshape(d, -1)
    up = problem.admissible(perturbed(1.0), flat_idx).reshape(cols, p)
    sign = np.where(up, 1.0, -1.0)                                          # (cols, p)
    X = x[:, None, :] + E[:, :, None] * sign[None] * step[:, None, :]
    out = problem.evaluate(X.reshape(d, -1), flat_idx, want=["map_" + k for k in problem.names])   # the maps only
    dM = problem.maps(out).reshape(d, cols, p) - m0[:, None, :]
    J = np.zeros((p, d, d))
    for j in range(cols):
        if j < n:                                       # overlap j moved: the conjugate maps respond
            J[:, n:, j] = (dM[n:, j, :] / (sign[j] * step[j])).T
        if j < d - n:                                   # conjugate j moved: the overlap maps respond
            J[:, :n, n + j] = (dM[:n, j, :] / (sign[j] * step[n + j])).T
    return J - np.eye(d)[None]


def _newton_step(problem: Problem, it: _Iterate, idx) -> np.ndarray:
    """Newton candidates x - t J⁻¹ f for the points idx, J recomputed where not current."""
    stale = idx[~it.J_ok[idx]]
    if stale.size:
        it.J[stale] = _jacobian(problem, it, stale)
        it.J_ok[stale] = True
    delta = _batched_solve(it.J[idx], -it.f[:, idx].T).T
    return it.x[:, idx] + it.nscale[idx] * delta


def _pull_into_domain(problem, it, idx, cand):
    """Candidates outside the domain become the damped step; damped steps outside it are
    shortened (β halved) until inside (each constraint used defines a convex set)."""
    ok = problem.admissible(cand, idx)
    cand = np.where(ok, cand, _damped(it, idx))
    for _ in range(30):
        ok = problem.admissible(cand, idx)
        if ok.all():
            break
        it.beta[idx[~ok]] = np.maximum(it.beta[idx[~ok]] / 2, 1e-9)
        cand = np.where(ok, cand, _damped(it, idx))
    return cand


def _candidates(problem, it, idx, newton, newton_switch, local):
    """Next candidate of every active point and its kind (damped, Anderson, Newton)."""
    kind = np.full(idx.size, _DAMPED)
    cand = _damped(it, idx)
    aa = (it.hist[idx] >= 1) & (it.aa_off[idx] == 0) & (not local)
    if aa.any():
        cand[:, aa] = _anderson_step(it, idx[aa])
        kind[aa] = _ANDERSON
    if newton:
        nw = (it.r[idx] < newton_switch) & (it.newton_fails[idx] < 3)
        if nw.any():
            with np.errstate(all="ignore"):
                cand[:, nw] = _newton_step(problem, it, idx[nw])
            kind[nw] = _NEWTON
    if local:
        return np.where(problem.admissible(cand, idx), cand, np.nan), kind
    fixed = _pull_into_domain(problem, it, idx, cand)
    kind[np.any(fixed != cand, axis=0)] = _DAMPED
    return fixed, kind


# -- bookkeeping -----------------------------------------------------------------------------

def _accept(it, idx, cand, fc, rc, kind):
    """Take or refuse the candidates of the points idx; returns the mask of accepted ones.

    Damped steps are taken whenever finite (plain iteration converges to stable fixed points
    even where the residual grows for a while); Anderson and Newton candidates only if they
    lower the residual."""
    finite = np.isfinite(rc)
    damped = kind == _DAMPED
    r_old = it.r[idx].copy()
    acc = np.where(damped, finite, finite & (rc <= r_old))
    a = idx[acc]
    if it.dX.shape[0]:
        it.dX[:, :, a] = np.roll(it.dX[:, :, a], -1, axis=0)
        it.dF[:, :, a] = np.roll(it.dF[:, :, a], -1, axis=0)
        it.dX[-1, :, a] = (cand[:, acc] - it.x[:, a]).T
        it.dF[-1, :, a] = (fc[:, acc] - it.f[:, a]).T
        it.hist[a] = np.minimum(it.hist[a] + 1, it.dX.shape[0])
    if it.adaptive:
        w = 1.0 / np.maximum(1.0, np.abs(cand))
        overshoot = damped & finite & (rc > r_old) & (np.sum(w * fc * w * it.f[:, idx], axis=0) < 0)
        shrink = idx[overshoot | (damped & ~finite)]
        it.beta[shrink] = np.maximum(it.beta[shrink] / 2, _BETA_MIN)
        grow = idx[damped & acc & ~overshoot]
        it.beta[grow] = np.minimum(1.0, it.beta[grow] * 1.5)
    it.x[:, a], it.f[:, a], it.r[a] = cand[:, acc], fc[:, acc], rc[acc]
    it.fails[a] = 0
    rej = idx[~acc]
    it.hist[rej] = 0
    it.fails[rej] += 1
    nw = kind == _NEWTON
    it.newton_fails[idx[nw & ~acc]] += 1
    it.nscale[idx[nw & ~acc]] /= 4
    it.J_ok[idx[nw & ~acc]] = False
    it.J_ok[idx[nw & acc & (rc > 0.1 * r_old)]] = False                    # slow chord: refresh J
    it.newton_fails[idx[nw & acc]] = 0
    it.nscale[idx[nw & acc]] = 1.0
    _progress(it, idx)
    return acc


def _progress(it, idx):
    """Stall guard (Anderson paused after ``_STALL`` steps without halving the residual) and
    patience counter (iterations since the smallest residual was last halved)."""
    it.aa_off[idx] = np.maximum(it.aa_off[idx] - 1, 0)
    better = it.r[idx] < 0.5 * it.ref[idx]
    it.ref[idx[better]] = it.r[idx[better]]
    it.stall[idx] = np.where(better, 0, it.stall[idx] + 1)
    stalled = idx[it.stall[idx] >= _STALL]
    it.aa_off[stalled] = _PAUSE
    it.stall[stalled] = 0
    it.ref[stalled] = np.inf
    it.hist[stalled] = 0
    gain = it.r[idx] < 0.5 * it.best[idx]
    it.best[idx[gain]] = it.r[idx[gain]]
    it.since_best[idx] = np.where(gain, 0, it.since_best[idx] + 1)


def _record(it: _Iterate, problem: Problem, outputs: bool = True):
    """The outputs other than the maps (free entropy, observables), evaluated once at the final
    state of the converged points (the iteration itself computes the maps only); NaN
    everywhere without ``outputs`` (a coarse pass whose states only start the next one)."""
    module = getattr(problem.compiled, "module", None)
    names = None if module is None else [k for k in module.OUTPUTS if not k.startswith("map_")]
    sel = np.flatnonzero(it.converged & outputs)
    if names is None and sel.size == 0:
        sel = np.arange(problem.size)        # a hand-made theory: learn its output names
    out = problem.evaluate(it.x[:, sel], sel, want=names) if sel.size else dict.fromkeys(names, np.nan)
    for k, v in out.items():
        if not k.startswith("map_"):
            it.out[k] = np.full(problem.size, np.nan)
            it.out[k][sel] = np.asarray(v, float)


def _check_quadrature(problem: Problem, it: _Iterate, quad_tol: float) -> np.ndarray:
    """Converged points (not the perfect end point) whose residual under the feature-adapted
    rule exceeds ``quad_tol`` are not converged: the rule the solver used does not resolve
    their integrands (``acceptance``); they are reported with the residual under that rule.
    Returns their indices."""
    sel = np.flatnonzero(it.converged & ~it.perfect)
    if sel.size == 0:
        return sel
    rc = quadrature_residual(problem, it.x[:, sel], sel)
    bad = sel[rc >= quad_tol]
    it.r[bad] = rc[rc >= quad_tol]
    it.converged[bad] = False
    return bad


def _refine(problem: Problem, it: _Iterate, idx, quad_tol: float, outputs: bool, label: str, kw: dict) -> dict:
    """Re-solve the points idx from their states ``it.x`` with the feature-adapted rule on the
    check's nodes (``acceptance.check_rule``), checked in turn at twice those nodes; the points
    that converge there (or reach the perfect end point) replace the old ones, the others stay
    not converged with the residual of the re-solve.  Returns the re-solve's outputs at the
    points it accepted, {name: (indices, values)}."""
    x0 = it.x[:, idx]
    idx = idx[np.all(np.isfinite(x0), axis=0)]
    if idx.size == 0:
        return {}
    nodes, rule = check_rule(problem.nodes, problem.rule)
    sub = solve(problem.compiled, problem.param(idx), {k: it.x[i, idx] for i, k in enumerate(problem.names)},
                nodes=nodes, rule=rule, branch=label, outputs=outputs, check=True, quad_tol=quad_tol,
                refine=False, **kw)
    perfect = sub.branch.reshape(-1) == "perfect"
    conv = sub.converged.reshape(-1) & ~perfect
    last = np.stack([sub.last[k].reshape(-1) for k in problem.names])
    it.x[:, idx] = last
    it.converged[idx[conv]] = True
    it.perfect[idx[perfect]] = True
    res = sub.residual.reshape(-1)
    it.r[idx] = np.where(np.isfinite(res), res, np.inf)
    it.iterations[idx] += sub.iterations.reshape(-1)
    return {k: (idx[conv], v.reshape(-1)[conv]) for k, v in sub.outputs.items()}


def _finish(it: _Iterate, problem: Problem, idx, m, tol):
    """Mark the converged points among idx as done, and the saturated ones (the overlaps implied
    by the conjugates, M_o(h), at their bound): perfect recovery in teacher-student problems,
    no solution (beyond the capacity) in storage problems."""
    conv = it.r[idx] < tol
    it.converged[idx[conv]] = True
    n = len(problem.overlaps)
    implied = it.x[:, idx].copy()
    implied[:n] = m[:n]
    sat = problem.saturated(implied, idx) & ~conv
    if "q" in problem.names:
        iq = problem.names.index("q")
        cap = problem.cap(implied, idx)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.fmin((cap - implied[iq]) / cap, (problem.cap(it.x[:, idx], idx) - it.x[iq, idx]) / cap)
        it.near[idx] = np.fmin(it.near[idx], np.nan_to_num(rel, nan=np.inf))
    if "q" in problem.names and not problem.storage:
        # a march towards perfect recovery (q -> ρ, q_hat -> ∞) is progress even though the
        # residual of the diverging conjugate does not fall: patience counts from its last halving
        gap = problem.cap(implied, idx) - implied[problem.names.index("q")]
        closer = gap < 0.5 * it.gap[idx]
        it.gap[idx[closer]] = gap[closer]
        it.since_best[idx[closer]] = 0
    if not problem.storage:                             # storage: q -> 1 is past the capacity
        it.perfect[idx[sat]] = True
    it.done[idx[conv | sat]] = True


# -- driver ----------------------------------------------------------------------------------

def solve(compiled, params: dict | None = None, init=None, *, tol: float = 1e-10,
          max_iter: int = 2000, damping="adaptive", anderson: int = 5, newton: bool = True,
          newton_switch: float = 1e-6, nodes: int | None = None, rule: str = "auto",
          branch: str | None = None, local: bool = False, patience: int = 400,
          outputs: bool = True, check: bool = True, quad_tol: float = QUAD_TOL, refine: bool = True) -> Solution:
    """Solve the saddle-point equations of ``compiled`` at every point of the broadcast grid
    of ``params`` (name -> float or array; missing parameters take the model's defaults).

    init : ``'uninformed'`` (default), ``'informed'`` or a dict of starting values
        (arrays broadcast to the grid), e.g. ``Solution.state()`` (see ``initial``).
    tol : convergence threshold on max_k |M_k(x) - x_k| / max(1, |x_k|).
    damping : ``'adaptive'`` (β per point, starting at 1) or a fixed weight d ∈ [0, 1) of the
        old iterate, x' = d x + (1 - d) M(x) (then no adaptation).
    anderson : Anderson memory (0: plain damped iteration).
    newton : Newton steps with a finite-difference Jacobian once the residual is below
        ``newton_switch``.
    nodes, rule : quadrature of the generated Gaussian expectations: ``'hermite'`` (96 nodes by
        default), ``'legendre'`` (composite Gauss–Legendre, 400 by default: accurate to ~1e-10
        also for the narrow features of q -> 1 and for kinks), or ``'auto'`` (default):
        converge with 96-node Gauss–Hermite (fast), then continue from there with ``nodes``-node
        Gauss–Legendre until converged again — the accuracy of the second at a fraction of its
        cost.  96-node Gauss–Hermite alone can be off by 1e-3 in q at q ≈ 0.7 for sign-type
        channels (see tests/test_stability.py).
    branch : label of the returned points (default: the name of ``init``, or ``'user'``).
    patience : a point whose smallest residual has not halved for this many iterations stops
        (not converged).
    check, quad_tol : accept a converged point only if the quadrature resolves it: its maps
        re-evaluated once with the feature-adapted rule (``'adaptive'``, panels graded from the
        width √(1 - q) of each narrow feature and split at kinks; see ``acceptance``) leave a
        residual below ``quad_tol`` too; otherwise it is reported not converged (NaN values)
        with the residual under that rule.
    refine : re-solve the points the check refuses (from their state), and the points that did
        not converge at a state the solver's rule does not resolve (``acceptance.unresolved``)
        or after visiting q within 1e-3 of its bound (from ``init``), with the feature-adapted rule on the check's nodes (400, or twice ``nodes`` of an
        adaptive solve), accepted only if they converge and pass the check at twice those nodes;
        otherwise they stay not converged.  Only with ``check``.
    local : Newton steps only (each must lower the residual; a point fails after three refused
        ones): converges to a root near ``init`` or not at all — the corrector of continuation.
    outputs : evaluate the free entropy and observables at the converged points (False: NaN,
        for a pass whose states only start another — ``rule='auto'``'s Gauss-Hermite pass).
    """
    if getattr(compiled, "solver", None) is not None:   # its own state evolution (committee machines)
        return compiled.solver.solve(params, init, tol=tol, nodes=nodes, rule=rule, branch=branch)
    label = branch or (init if isinstance(init, str) else "uninformed" if init is None else "user")
    if rule == "auto" and not local:
        kw = dict(tol=tol, max_iter=max_iter, damping=damping, anderson=anderson, newton=newton,
                  newton_switch=newton_switch, patience=patience, refine=refine)
        coarse = solve(compiled, params, init, nodes=DEFAULT_NODES["hermite"], rule="hermite", branch=label,
                       outputs=False, check=False, **kw)
        # the fine pass continues from the coarse one where it converged, and starts afresh
        # where it did not (Gauss-Hermite fails where q -> 1, leaving states it cannot resolve)
        start = _restart(compiled, params, coarse, init, nodes)
        fine = solve(compiled, params, start, nodes=nodes, rule="legendre", branch=label, outputs=outputs,
                     check=check, quad_tol=quad_tol, **kw)
        fine.iterations = fine.iterations + coarse.iterations
        # the perfect end point (q = ρ, conjugates infinite) is reached by saturation, whatever the rule
        return fine.where(coarse.branch == "perfect", coarse) if (coarse.branch == "perfect").any() else fine
    problem = Problem(compiled, params or {}, nodes=nodes, rule=rule)
    d, P = len(problem.names), problem.size
    adaptive = damping == "adaptive"
    it = _Iterate(d, P, int(anderson), 1.0 if adaptive else 1.0 - float(damping), adaptive)
    switch = np.inf if local else newton_switch
    it.x[:] = x_init = initial_state(problem, init)
    # ERM without a ridge on separable data has no fixed point (|w| -> inf): not iterated
    blocked, reasons = no_minimizer(problem.model, problem.flat)
    it.done |= blocked
    idx = np.flatnonzero(~blocked)
    if idx.size:
        m, out = problem.jacobi(it.x[:, idx], idx)
        it.f[:, idx] = m - it.x[:, idx]
        it.r[idx] = np.nan_to_num(relative_residual(m, it.x[:, idx]), nan=np.inf)
        _finish(it, problem, idx, m, tol)
    it.done |= ~np.isfinite(it.r)
    for _ in range(max_iter):
        idx = np.flatnonzero(~it.done)
        if idx.size == 0:
            break
        it.iterations[idx] += 1
        cand, kind = _candidates(problem, it, idx, newton, switch, local)
        m, out = problem.jacobi(cand, idx)
        rc = np.nan_to_num(relative_residual(m, cand), nan=np.inf)
        acc = _accept(it, idx, cand, m - cand, rc, kind)
        _finish(it, problem, idx[acc], m[:, acc], tol)
        quit_ = (it.fails[idx] >= _MAX_FAILS) | (it.since_best[idx] >= patience)
        if local:
            quit_ |= it.newton_fails[idx] >= 3
        it.done[idx[quit_]] = True
    refined = {}
    if check:
        bad = _check_quadrature(problem, it, quad_tol)
        if refine:
            failed = np.setdiff1d(np.flatnonzero(~it.converged & ~it.perfect & ~blocked), bad)
            near = it.near[failed] < _NEAR
            stuck = failed[near | unresolved(problem, it.x[:, failed], it.x[:, failed] + it.f[:, failed], failed,
                                             quad_tol)]
            kw = dict(tol=tol, max_iter=min(max_iter, _REFINE_ITER), damping=damping, anderson=anderson,
                      newton=newton, newton_switch=newton_switch, patience=min(patience, _REFINE_PATIENCE),
                      local=local)
            it.x[:, stuck] = x_init[:, stuck]           # a failed run's last state may be anywhere
            refined = _refine(problem, it, np.union1d(bad, stuck), quad_tol, outputs, label, kw)
    _record(it, problem, outputs)
    for k, (where, v) in refined.items():
        if k in it.out:
            it.out[k][where] = v
    return _solution(problem, it, label, reasons if blocked.any() else None)


def _restart(compiled, params, coarse: Solution, init, nodes):
    """Start of the fine pass of ``rule='auto'``: the coarse pass's last state where it
    converged, ``init`` afresh where it did not (Gauss-Hermite fails where q -> 1 and leaves
    states there that no rule continues from)."""
    ok = coarse.converged.reshape(-1)
    if ok.all():
        return coarse.last
    problem = Problem(compiled, params or {}, nodes=nodes, rule="legendre")
    x0 = initial_state(problem, init)
    return {k: np.where(ok, np.asarray(coarse.last[k]).reshape(-1), x0[i]).reshape(problem.shape)
            for i, k in enumerate(problem.names)}


def _solution(problem: Problem, it: _Iterate, label: str, reasons=None) -> Solution:
    """Package the iteration state: NaN for points that did not converge, the q = ρ end point
    for the perfect ones; ``reasons`` (per flat point, or None) why points are not converged,
    or why a perfect point's replicon is null (``_PERFECT_REPLICON``)."""
    conv = it.converged.copy()
    values = np.where(conv, it.x, np.nan)
    branch = np.full(problem.size, label, dtype=object)
    residual = np.where(np.isfinite(it.r), it.r, np.nan)
    outputs = {k: np.where(conv, v, np.nan) for k, v in it.out.items()}
    if it.perfect.any():
        pidx = np.flatnonzero(it.perfect)
        xp = problem.perfect_state(pidx)
        out = problem.evaluate(xp, pidx)
        for i, k in enumerate(problem.names):
            values[i, pidx] = np.inf if k in problem.hats else xp[i]
        for k in outputs:
            v = np.asarray(out[k], float)
            if k in NONNEGATIVE:       # 1 - (weights summing to 1 - 2e-16) at q = rho: a rounding
                v = np.where((v < 0) & (v > -1e-12), 0.0, v)
            outputs[k][pidx] = v
        conv[pidx] = True
        branch[pidx] = "perfect"
        residual[pidx] = 0.0
        if "replicon" in outputs:
            nan = pidx[~np.isfinite(outputs["replicon"][pidx])]
            if nan.size:
                reasons = list(reasons) if reasons is not None else [None] * problem.size
                for p in nan:
                    reasons[p] = _PERFECT_REPLICON
    shape = problem.shape
    rs = lambda a: np.asarray(a).reshape(shape)
    return Solution(
        model=problem.model.name,
        names=list(problem.names),
        params={k: rs(v) for k, v in problem.flat.items()},
        values={k: rs(values[i]) for i, k in enumerate(problem.names)},
        fixed={k: rs(v) for k, v in problem.fixed.items()},
        outputs={k: rs(v) for k, v in outputs.items()},
        converged=rs(conv), residual=rs(residual), iterations=rs(it.iterations),
        branch=rs(branch), last={k: rs(it.x[i]) for i, k in enumerate(problem.names)},
        reason=None if reasons is None else rs(np.array(reasons, dtype=object)))
