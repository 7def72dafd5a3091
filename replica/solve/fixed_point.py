"""Vectorized fixed-point solver: adaptive damping, safeguarded Anderson acceleration, Newton.

We solve x = G(x) with G the Gauss–Seidel sweep of the saddle-point maps (see ``problem``),
independently at every point of a parameter grid but in one array program: the state is an
array (d, P) over the d unknowns and the P points still iterating, and each iteration
evaluates the generated code once for all of them.  Per point:

* damped step     x' = x + β f,   f = G(x) - x,   β ∈ [β_min, 1] adapted per point
  (halved where the residual grows with the step reversing direction — overshoot —, and
  where the step is not finite; grown by 1.5 after other steps);
* Anderson (type II, memory ``anderson``): with ΔX, ΔF the last differences of iterates and
  residuals, γ = argmin ‖W(f - ΔF γ)‖ (W = diag 1/max(1,|x|), a small ridge) and
  x' = x + β f - (ΔX + β ΔF) γ  (Walker & Ni 2011).  Safeguard: a candidate outside the
  domain is replaced by the damped step; one whose residual is larger than the current one
  is rejected, the history cleared, and the point takes a damped step next;
* Newton, once the residual is below ``newton_switch``, in the conjugates h alone (the sweep
  depends on nothing else: overlaps are maps of the conjugates): h' = h - t J⁻¹ (T(h) - h),
  T(h) = M_h(M_o(h)), J = ∂T/∂h - I by forward differences (step 1e-7 max(1,|h_j|)), all
  perturbed states of all points in one sweep, and kept while steps contract the residual
  tenfold (chord method); refused like Anderson if it does not lower the residual, the length
  t then divided by 4 (backtracking), and abandoned for the point after three refusals.

A point converges when the Jacobi residual r = max_k |M_k(s) - s_k| / max(1, |s_k|) at the
state s where it was measured is below ``tol``; that state, its free entropy and observables
are returned.  A point whose every evaluation is non-finite, that never gets below ``tol``
within ``max_iter`` iterations, that makes no progress for ``patience`` iterations, or whose
steps keep failing, is reported ``converged=False`` and its values are NaN.  A point whose overlap reaches its bound with a diverging conjugate
(``Problem.saturated``) converges to the perfect-recovery end point q = ρ, q_hat = +inf
(branch ``'perfect'``), whose free entropy is evaluated there.
"""
from __future__ import annotations

import numpy as np

from .initial import initial_state
from .problem import Problem, relative_residual
from .solution import Solution

__all__ = ["solve"]

_BETA_MIN = 1.0 / 1024
_MAX_FAILS = 40
_STALL = 10          # Anderson is paused when the residual has not halved in this many steps...
_PAUSE = 25          # ...for this many plain steps


class _Iterate:
    """Per-point iteration state over all P points (only the active ones move)."""

    def __init__(self, d, k, P, memory, beta0):
        self.x = np.full((d, P), np.nan)      # current iterate
        self.f = np.full((d, P), np.nan)      # G(x) - x
        self.r = np.full(P, np.inf)           # relative residual of f
        self.beta = np.full(P, beta0)
        self.dX = np.zeros((memory, d, P))    # Anderson history, newest last
        self.dF = np.zeros((memory, d, P))
        self.hist = np.zeros(P, int)
        self.fails = np.zeros(P, int)         # consecutive rejected steps
        self.newton_fails = np.zeros(P, int)
        self.nscale = np.ones(P)              # Newton step length (backtracking)
        self.J = np.zeros((P, k, k))          # Jacobian of T(h) - h (Newton), and whether current
        self.J_ok = np.zeros(P, bool)
        self.ref = np.full(P, np.inf)         # residual level of the last real progress
        self.stall = np.zeros(P, int)         # iterations since then
        self.aa_off = np.zeros(P, int)        # iterations left with Anderson switched off
        self.best = np.full(P, np.inf)        # smallest residual so far
        self.since_best = np.zeros(P, int)    # iterations since it was (at least) halved
        self.iterations = np.zeros(P, int)
        self.done = np.zeros(P, bool)
        self.converged = np.zeros(P, bool)
        self.perfect = np.zeros(P, bool)
        self.s = np.full((d, P), np.nan)      # state where the Jacobi residual was measured
        self.res = np.full(P, np.nan)         # that residual
        self.out = {}                         # outputs at s


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
    gamma = _batched_solve(A, b)
    gamma = np.where(valid.T, gamma, 0.0)
    return x + beta * f - np.einsum("idp,pi->dp", dX + beta * dF, gamma)


def _batched_solve(A, b):
    """Solve A_p y_p = b_p for every p; least squares where A_p is singular."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.stack([np.linalg.lstsq(a, v, rcond=None)[0] for a, v in zip(A, b)])


def _jacobian(problem: Problem, it: _Iterate, idx) -> np.ndarray:
    """J = ∂T/∂h - I, (p, k, k), of the conjugate map T(h) = M_h(M_o(h)) at the points idx by
    forward differences (step 1e-7 max(1, |h_j|), backward where forward leaves the domain);
    the k perturbed states of every point go through one sweep."""
    n, d = len(problem.overlaps), len(problem.names)
    k = d - n
    x, g = it.x[:, idx], it.x[:, idx] + it.f[:, idx]
    p = x.shape[1]
    h = 1e-7 * np.maximum(1.0, np.abs(x[n:]))                               # (k, p)
    flat_idx = np.tile(idx, k)

    def perturbed(sign):
        X = np.repeat(x[:, None, :], k, axis=1)                             # (d, k, p): column j moves h_j
        X[n:] += np.eye(k)[:, :, None] * (sign * h)[None, :, :]
        return X.reshape(d, -1)
    up = problem.admissible(perturbed(1.0), flat_idx).reshape(k, p)
    sign = np.where(up, 1.0, -1.0)
    gp, _, _ = problem.sweep(perturbed(sign), flat_idx)
    J = (gp[n:].reshape(k, k, p) - g[n:, None, :]) / (sign * h)[None, :, :] - np.eye(k)[:, :, None]
    return np.moveaxis(J, 2, 0)


def _newton_step(problem: Problem, it: _Iterate, idx) -> np.ndarray:
    """Newton candidates for the points idx, in the conjugates h (the sweep recomputes the
    overlaps from them): h' = h - t J⁻¹ (T(h) - h).  The Jacobian is kept while Newton steps
    contract the residual at least tenfold (chord steps), recomputed otherwise."""
    n = len(problem.overlaps)
    stale = idx[~it.J_ok[idx]]
    if stale.size:
        it.J[stale] = _jacobian(problem, it, stale)
        it.J_ok[stale] = True
    x, f = it.x[:, idx], it.f[:, idx]
    step = _batched_solve(it.J[idx], -f[n:].T).T
    cand = x + f                                                            # overlaps M_o(h)
    cand[n:] = x[n:] + it.nscale[idx] * step
    return cand


def _damped(it: _Iterate, idx) -> np.ndarray:
    return it.x[:, idx] + it.beta[idx] * it.f[:, idx]


def _pull_into_domain(problem, it, idx, cand):
    """Candidates outside the domain become the damped step; damped steps outside it are
    shortened (β halved) until inside (the domain is convex in every constraint used)."""
    ok = problem.admissible(cand, idx)
    cand = np.where(ok, cand, _damped(it, idx))
    for _ in range(30):
        ok = problem.admissible(cand, idx)
        if ok.all():
            break
        it.beta[idx[~ok]] = np.maximum(it.beta[idx[~ok]] / 2, 1e-9)
        cand = np.where(ok, cand, _damped(it, idx))
    return cand


def _record(it: _Iterate, problem: Problem, idx, s, out, mask):
    """Store state s, its Jacobi residual and outputs for the points idx[mask]."""
    if not mask.any():
        return
    sel = idx[mask]
    res = relative_residual(problem.maps(out)[:, mask], s[:, mask])
    it.s[:, sel] = s[:, mask]
    it.res[sel] = res
    for k, v in out.items():
        if k.startswith("map_"):
            continue
        if k not in it.out:
            it.out[k] = np.full(problem.size, np.nan)
        it.out[k][sel] = np.asarray(v, float)[mask]


def _finish(it: _Iterate, problem: Problem, idx, g, s, tol):
    """Mark converged and saturated (perfect-recovery) points among idx as done."""
    conv = it.res[idx] < tol
    it.converged[idx[conv]] = True
    it.done[idx[conv]] = True
    sat = problem.saturated(s, g, idx) & ~conv
    it.perfect[idx[sat]] = True
    it.done[idx[sat]] = True


def _accept(it, idx, cand, g, rc, kind):
    """Take or refuse the candidates of the points idx; returns the mask of accepted ones.

    Damped steps are taken whenever finite (plain iteration converges to stable fixed points
    even where the residual grows for a while, e.g. leaving the ghost of a saddle-node); when
    the residual grows *and* the step reverses direction (overshoot, W f'·W f < 0) β is halved.
    Anderson and Newton candidates are taken only if they lower the residual; a refused one
    clears the history, and the point takes a damped step next."""
    finite = np.isfinite(rc)
    fc = g - cand
    damped = kind == 0
    r_old = it.r[idx].copy()
    acc = np.where(damped, finite, finite & (rc <= it.r[idx]))
    a = idx[acc]
    if it.dX.shape[0]:
        it.dX[:, :, a] = np.roll(it.dX[:, :, a], -1, axis=0)
        it.dF[:, :, a] = np.roll(it.dF[:, :, a], -1, axis=0)
        it.dX[-1, :, a] = (cand[:, acc] - it.x[:, a]).T
        it.dF[-1, :, a] = (fc[:, acc] - it.f[:, a]).T
        it.hist[a] = np.minimum(it.hist[a] + 1, it.dX.shape[0])
    if it.adaptive:
        w = 1.0 / np.maximum(1.0, np.abs(cand))
        overshoot = damped & finite & (rc > it.r[idx]) & (np.sum(w * fc * w * it.f[:, idx], axis=0) < 0)
        grow = damped & acc & ~overshoot
        it.beta[idx[overshoot | (damped & ~finite)]] = np.maximum(it.beta[idx[overshoot | (damped & ~finite)]] / 2, _BETA_MIN)
        it.beta[idx[grow]] = np.minimum(1.0, it.beta[idx[grow]] * 1.5)
    it.x[:, a], it.f[:, a], it.r[a] = cand[:, acc], fc[:, acc], rc[acc]
    it.fails[a] = 0
    _progress(it, idx)
    rej = idx[~acc]
    it.hist[rej] = 0
    it.fails[rej] += 1
    nw_rej, nw_acc = idx[~acc & (kind == 2)], idx[acc & (kind == 2)]
    it.newton_fails[nw_rej] += 1
    it.nscale[nw_rej] /= 4
    it.J_ok[nw_rej] = False
    slow = nw_acc[rc[acc & (kind == 2)] > 0.1 * r_old[acc & (kind == 2)]]
    it.J_ok[slow] = False
    it.newton_fails[nw_acc] = 0
    it.nscale[nw_acc] = 1.0
    return acc


def _progress(it, idx):
    """Stall guard: Anderson drives the residual to a local minimum of |G(x) - x| even where
    that is no root (the ghost of a saddle-node just past a spinodal), holding the iterate
    there; plain iteration escapes.  Where the residual has not halved in ``_STALL``
    iterations, Anderson is paused for ``_PAUSE`` iterations."""
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


def solve(compiled, params: dict | None = None, init=None, *, tol: float = 1e-10,
          max_iter: int = 2000, damping="adaptive", anderson: int = 5, newton: bool = True,
          newton_switch: float = 1e-3, nodes: int = 96, rule: str = "hermite",
          branch: str | None = None, local: bool = False, patience: int = 400) -> Solution:
    """Solve the saddle-point equations of ``compiled`` at every point of the broadcast grid
    of ``params`` (name -> float or array; missing parameters take the model's defaults).

    init : ``'uninformed'`` (default), ``'informed'`` or a dict of starting values
        (arrays broadcast to the grid), e.g. ``Solution.state()`` (see ``initial``).
    tol : convergence threshold on max_k |M_k(x) - x_k| / max(1, |x_k|).
    damping : ``'adaptive'`` (β per point, starting at 1) or a fixed weight d ∈ [0, 1) of the
        old iterate, x' = d x + (1 - d) G(x) (then no adaptation).
    anderson : Anderson memory (0: plain damped iteration).
    newton : Newton steps with a finite-difference Jacobian once the residual is below
        ``newton_switch``.
    nodes, rule : quadrature of the generated Gaussian expectations (``'hermite'`` or
        ``'legendre'``, see ``CompiledTheory.evaluate``).
    branch : label of the returned points (default: the name of ``init``, or ``'user'``).
    patience : a point whose smallest residual has not halved for this many iterations stops
        (not converged).
    local : Newton steps only (each must lower the residual; a point fails after three refused
        ones): converges to a root near ``init`` or not at all — the corrector of continuation.
    """
    problem = Problem(compiled, params or {}, nodes=nodes, rule=rule)
    d, P = len(problem.names), problem.size
    adaptive = damping == "adaptive"
    beta0 = 1.0 if adaptive else 1.0 - float(damping)
    it = _Iterate(d, d - len(problem.overlaps), P, int(anderson), beta0)
    it.adaptive = adaptive
    all_idx = np.arange(P)
    it.x[:] = initial_state(problem, init)
    g, s, out = problem.sweep(it.x, all_idx)
    it.f[:] = g - it.x
    it.r[:] = np.nan_to_num(relative_residual(g, it.x), nan=np.inf)
    _record(it, problem, all_idx, s, out, np.ones(P, bool))
    _finish(it, problem, all_idx, g, s, tol)
    it.done |= ~np.isfinite(it.r)
    for _ in range(max_iter):
        idx = np.flatnonzero(~it.done)
        if idx.size == 0:
            break
        it.iterations[idx] += 1
        cand, kind = _candidates(problem, it, idx, newton, np.inf if local else newton_switch, local)
        g, s, out = problem.sweep(cand, idx)
        rc = np.nan_to_num(relative_residual(g, cand), nan=np.inf)
        acc = _accept(it, idx, cand, g, rc, kind)
        _record(it, problem, idx, s, out, acc)
        _finish(it, problem, idx[acc], g[:, acc], s[:, acc], tol)
        it.done[idx[(it.fails[idx] >= _MAX_FAILS) | (it.since_best[idx] >= patience)]] = True
        if local:
            it.done[idx[it.newton_fails[idx] >= 3]] = True
    return _solution(problem, it, branch or (init if isinstance(init, str) else "uninformed" if init is None else "user"))


def _candidates(problem, it, idx, newton, newton_switch, local=False):
    """Next candidate of every active point and its kind: 0 damped, 1 Anderson, 2 Newton."""
    kind = np.zeros(idx.size, int)
    cand = _damped(it, idx)
    aa = (it.hist[idx] >= 1) & (it.aa_off[idx] == 0) & (not local)
    if aa.any():
        cand[:, aa] = _anderson_step(it, idx[aa])
        kind[aa] = 1
    if newton:
        nw = (it.r[idx] < newton_switch) & (it.newton_fails[idx] < 3)
        if nw.any():
            with np.errstate(all="ignore"):
                cand[:, nw] = _newton_step(problem, it, idx[nw])
            kind[nw] = 2
    if local:
        ok = problem.admissible(cand, idx)
        return np.where(ok, cand, np.nan), kind
    fixed = _pull_into_domain(problem, it, idx, cand)
    kind[np.any(fixed != cand, axis=0)] = 0
    return fixed, kind


def _solution(problem: Problem, it: _Iterate, label: str) -> Solution:
    """Package the iteration state: NaN for points that did not converge, the q = ρ end point
    for the perfect ones."""
    conv = it.converged.copy()
    values = np.where(conv, it.s, np.nan)
    branch = np.full(problem.size, label, dtype=object)
    residual = it.res.copy()
    outputs = {k: np.where(conv, v, np.nan) for k, v in it.out.items()}
    if it.perfect.any():
        pidx = np.flatnonzero(it.perfect)
        xp = problem.perfect_state(pidx)
        out = problem.evaluate(xp, pidx)
        for i, k in enumerate(problem.names):
            values[i, pidx] = np.inf if k in problem.hats else xp[i]
        for k in outputs:
            outputs[k][pidx] = np.asarray(out[k], float)
        conv[pidx] = True
        branch[pidx] = "perfect"
        residual[pidx] = 0.0
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
        branch=rs(branch), last={k: rs(it.x[i]) for i, k in enumerate(problem.names)})
