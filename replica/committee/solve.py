"""Vectorized solution of the committee saddle point under the permutation-symmetric ansatz.

On the Nishimori line the saddle point is the fixed point of the state-evolution map of the
overlaps alone,  q ↦ M(q) = prior_side(α · output_side(q))  (q = (q_d, q_a)), iterated at
every α of a grid at once.  Plain iteration from a start, then Newton steps on M(q) − q with a
forward-difference Jacobian (batched over the points; backtracking; refused steps fall back to
iteration).  A point converges when max |M(q) − q| < ``tol`` and its accuracy estimate
(``accuracy``: the map and α Ψ_out at the default against higher quadrature orders) is at
most ``ACCURACY_TOL`` = 1e-6 (the soft committee: ``SOFT_ACCURACY_TOL``); one that does not is reported ``converged=False`` with NaN
values (the estimate is kept in ``outputs["accuracy"]``).  A discrete prior can reach perfect recovery (q = ρ I,
conjugates infinite, reported as branch ``"perfect"`` with the free entropy −K H(P₀) and zero
errors).

Branches: ``unspecialized`` (the invariant subspace q_d = 0), ``uninformed`` (q_d, q_a at
1e-6 ρ: lands on the specialized branch where the unspecialized one is unstable to
specialization), ``informed`` (q = ρ(1 − 1e-4) I).  ``solve_branches`` returns them all and
the equilibrium (largest free entropy).  Transitions (``committee_transitions``):
``specialization`` — where the unspecialized fixed point loses stability in the q_d direction,
λ(α) = ∂M_d/∂q_d|_{q_d=0} = 1 (a continuous transition when the specialized branch grows out
of it); ``first_order`` — where the free entropies of the unspecialized and the specialized
(or perfect) branch cross; ``spinodal`` — where the uninformed start (the state evolution of
AMP from no information) leaves the branch it was on: the unspecialized one (other than by
a continuous specialization) or a specialized one, for perfect recovery (AMP's algorithmic
threshold).

A point that converges within ``tol`` of the invariant subspace q_d = 0 is put on it (and its
observables evaluated with the one-dimensional rule there).  :class:`CommitteeSolver` is what
``replica.solve.solve`` / ``solve_branches`` / ``find_transitions`` call for a committee
theory: it groups the points of a parameter grid by ``K`` and returns the shared ``Solution``,
``Branches`` and transition records.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from ..params import ParameterError
from .derive import OBSERVABLES, default_nodes

__all__ = ["CommitteeSolution", "solve_committee", "accuracy", "ACCURACY_TOL", "solve_branches", "stability", "committee_transitions",
           "branch_alpha", "specialized_spinodal", "specialized_first_order", "specialized_transitions"]

_PERFECT = 1e-9


@dataclass
class CommitteeSolution:
    alpha: np.ndarray
    values: dict          # q_d, q_a, q_hat_d, q_hat_a
    outputs: dict         # free_entropy, mse, generalization_error, ..., accuracy
    converged: np.ndarray
    residual: np.ndarray
    branch: np.ndarray

    def __getitem__(self, k):
        return self.values[k] if k in self.values else self.outputs[k]

    def to_records(self):
        recs = []
        for i in range(len(self.alpha)):
            r = {"alpha": float(self.alpha[i]), "branch": str(self.branch[i]),
                 "converged": bool(self.converged[i]), "residual": float(self.residual[i])}
            for d in (self.values, self.outputs):
                for k, v in d.items():
                    ok = (self.converged[i] or k == "accuracy") and np.isfinite(v[i])
                    r[k] = float(v[i]) if ok else None
            recs.append(r)
        return recs


def _map(theory, alpha, q_d, q_a, nodes, refined: bool = False):
    """(M_d, M_a, q_hat_d, q_hat_a) at the overlaps; ``refined``: every rule at the higher
    order of the accuracy estimate."""
    gd, ga = theory.output_side(q_d, q_a, nodes, refined=refined)[:2]
    hd, ha = alpha * gd, alpha * ga
    md, ma, _ = theory.prior_side(hd, ha, nodes, refined=refined)
    return md, ma, hd, ha


#: a converged point whose accuracy estimate exceeds this is not converged (values null)
ACCURACY_TOL = 1e-6
#: the same for the soft committee, whose binned output side (``derive._soft_output_side``, not
#: generated yet) is only resolved to ~1e-4 at small noise: its points report the estimate and
#: are refused above this looser bound
SOFT_ACCURACY_TOL = 1e-3


def accuracy_tolerance(theory) -> float:
    """``ACCURACY_TOL``, or ``SOFT_ACCURACY_TOL`` for the soft committee."""
    return SOFT_ACCURACY_TOL if getattr(theory.model.teacher, "soft", False) else ACCURACY_TOL


def accuracy(theory, alpha, q_d, q_a, nodes):
    """The accuracy estimate at fixed points (arrays): the largest difference, between the
    default quadrature orders and higher ones (``quadrature.refined_nodes``, finer panels of the
    line, slab and s-rules), of the state-evolution map M(q) (both components) and of the free
    entropy's output term α Ψ_out — the error of the default orders, the higher ones being far
    more accurate.  NaN where either order is not resolved."""
    base = theory.output_side(q_d, q_a, nodes)
    ref = theory.output_side(q_d, q_a, nodes, refined=True)
    md, ma, _ = theory.prior_side(alpha * base[0], alpha * base[1], nodes)
    rd, ra, _ = theory.prior_side(alpha * ref[0], alpha * ref[1], nodes, refined=True)
    with np.errstate(invalid="ignore"):
        est = np.maximum.reduce([np.abs(md - rd), np.abs(ma - ra), np.abs(alpha * (base[2] - ref[2]))])
    return np.where(np.isfinite(est), est, np.nan)


def _start(theory, init, n):
    rho = theory.rho
    if init == "informed":
        return np.full(n, rho * (1 - 1e-4)), np.zeros(n)
    if init == "uninformed":
        return np.full(n, 1e-6 * rho), np.full(n, 1e-6 * rho)
    if init == "unspecialized":
        return np.zeros(n), np.full(n, 1e-6 * rho)
    if isinstance(init, dict):
        return (np.broadcast_to(np.asarray(init["q_d"], float), (n,)).copy(),
                np.broadcast_to(np.asarray(init["q_a"], float), (n,)).copy())
    raise ValueError(f"unknown start {init!r}; use 'unspecialized', 'uninformed', 'informed' or a dict")


def solve_committee(theory, alpha, init="uninformed", *, tol: float = 1e-9, max_iter: int = 3000,
                    nodes: int | None = None, newton_switch: float = 1e-4) -> CommitteeSolution:
    """Fixed points of the committee state evolution at every ``alpha`` (array)."""
    alpha = np.atleast_1d(np.asarray(alpha, float)).ravel()
    if np.any(alpha < 0) or not np.all(np.isfinite(alpha)):
        raise ParameterError("parameter 'alpha' must be finite and >= 0")
    nodes = default_nodes(theory.K, nodes)
    K, rho = theory.K, theory.rho
    n = alpha.size
    sub = init == "unspecialized" or K == 1          # q_d held at 0
    qd, qa = _start(theory, init, n)
    done = np.zeros(n, bool)
    conv = np.zeros(n, bool)
    perfect = np.zeros(n, bool)
    res = np.full(n, np.inf)
    prior = theory.model.prior
    if init == "informed" and prior.density == 0 and prior.atoms:
        # a discrete prior and a deterministic rule: q = ρ I is a fixed point at every α
        # (V = 0 makes r̂ infinite, which pins the posterior on the teacher)
        perfect[:] = done[:] = True
    for attempt in (0, 1):
        for _ in range(max_iter):
            a = np.flatnonzero(~done)
            if a.size == 0:
                break
            # states at the perfect-recovery bound (teacher fields determined: V's smaller
            # eigenvalue ρ - q_d - q_a below 1e-9 ρ) end there
            at_bound = (rho - qd[a] - qa[a] <= _PERFECT * rho) & (qd[a] + qa[a] / K >= rho * (1 - 1e-6))
            perfect[a[at_bound]] = True
            done[a[at_bound]] = True
            a = a[~at_bound]
            if a.size == 0:
                break
            md, ma, _, _ = _map(theory, alpha[a], qd[a], qa[a], nodes)
            if sub:
                md = np.zeros_like(md)
            r = np.maximum(np.abs(md - qd[a]), np.abs(ma - qa[a]))
            res[a] = r
            fin = np.isfinite(r)
            # perfect recovery: the mapped overlaps at ρ; for a discrete prior already within 1e-6
            # (1 - q decays like e^{-r̂/2} while r̂ grows like V^{-1/2}: from there the approach
            # to q = ρ I is faster than exponential, and beyond the quadrature's resolution)
            edge = 1e-6 if (prior.density == 0 and prior.atoms) else _PERFECT
            near = (rho - md - ma <= edge * rho) & ((rho - md <= edge * rho) if (K > 1 and not sub) else True)
            sat = fin & near
            ok = fin & (r < tol)
            conv[a[ok]] = True
            perfect[a[sat & ~ok]] = True
            done[a[ok | sat | ~fin]] = True
            step = a[fin & ~ok & ~sat]
            if step.size == 0:
                continue
            nw = res[step] < newton_switch
            plain = step[~nw]
            sel = np.isin(a, plain)
            qd[plain], qa[plain] = md[sel], ma[sel]
            if nw.any():
                _newton(theory, alpha, qd, qa, step[nw], md[np.isin(a, step[nw])], ma[np.isin(a, step[nw])], nodes, sub)
        # the uninformed start is AMP's: AMP leaves an unstable fixed point (a finite system's
        # fluctuations grow along its unstable direction), but the state evolution from q_d =
        # 1e-6 ρ can decay towards q_d = 0 while q_a grows and meet ``tol`` there before the
        # instability (λ > 1) has grown back.  Such points start again from q_d = 1e-3 ρ.
        if attempt or init != "uninformed" or K == 1:
            break
        idx = np.flatnonzero(conv & (np.abs(qd) < 1e-8 * rho))
        if idx.size == 0:
            break
        h = 1e-6 * rho
        md, _, _, _ = _map(theory, alpha[idx], np.full(idx.size, h), qa[idx], nodes)
        again = idx[md / h > 1 + 1e-6]
        if again.size == 0:
            break
        qd[again] = 1e-3 * rho
        conv[again] = done[again] = False
        res[again] = np.inf
    # a point converged to within tol of the invariant subspace q_d = 0 is on it (the
    # unspecialized fixed point); evaluated there, with the one-dimensional rule
    qd = np.where(conv & (np.abs(qd) < tol * rho), 0.0, qd)
    return _package(theory, alpha, qd, qa, conv, perfect, res, init if isinstance(init, str) else "user", nodes)


def _newton(theory, alpha, qd, qa, idx, md, ma, nodes, sub):
    """One Newton step on F(q) = M(q) − q at the points idx (forward-difference Jacobian);
    refused (plain iteration taken) where it does not lower the residual."""
    f0 = np.stack([md - qd[idx], ma - qa[idx]])
    h = 1e-7
    if sub:
        _, ma1, _, _ = _map(theory, alpha[idx], qd[idx], qa[idx] + h, nodes)
        J = (ma1 - ma) / h - 1.0
        dd = np.zeros(idx.size)
        da = -f0[1] / J
    else:
        md1, ma1, _, _ = _map(theory, alpha[idx], qd[idx] + h, qa[idx], nodes)
        md2, ma2, _, _ = _map(theory, alpha[idx], qd[idx], qa[idx] + h, nodes)
        J = np.empty((idx.size, 2, 2))
        J[:, 0, 0] = (md1 - md) / h - 1
        J[:, 1, 0] = (ma1 - ma) / h
        J[:, 0, 1] = (md2 - md) / h
        J[:, 1, 1] = (ma2 - ma) / h - 1
        with np.errstate(all="ignore"):
            step = -np.linalg.solve(J, f0.T[..., None])[..., 0]
        dd, da = step[:, 0], step[:, 1]
    cd, ca = qd[idx] + dd, qa[idx] + da
    mc_d, mc_a, _, _ = _map(theory, alpha[idx], cd, ca, nodes)
    if sub:
        mc_d = np.zeros_like(mc_d)
    rc = np.maximum(np.abs(mc_d - cd), np.abs(mc_a - ca))
    r0 = np.max(np.abs(f0), axis=0)
    good = np.isfinite(rc) & (rc < r0)
    qd[idx] = np.where(good, cd, md)
    qa[idx] = np.where(good, ca, ma)


def _package(theory, alpha, qd, qa, conv, perfect, res, label, nodes):
    n = alpha.size
    vals = {k: np.full(n, np.nan) for k in ("q_d", "q_a", "q_hat_d", "q_hat_a")}
    outs = {k: np.full(n, np.nan) for k in OBSERVABLES}
    acc = np.full(n, np.nan)
    c = np.flatnonzero(conv)
    if c.size:
        # every converged point carries its accuracy estimate; above ACCURACY_TOL (or not
        # resolved) it is not converged: null values, never a number
        acc[c] = accuracy(theory, alpha[c], qd[c], qa[c], nodes)
        bad = ~(acc[c] <= accuracy_tolerance(theory))
        conv = conv.copy()
        conv[c[bad]] = False
        c = c[~bad]
    bacc = np.full(n, np.nan)
    if c.size:
        _, _, hd, ha = _map(theory, alpha[c], qd[c], qa[c], nodes)
        ev = theory.evaluate(nodes=nodes, want=list(theory.module.OUTPUTS) + ["bayes_accuracy"], alpha=alpha[c],
                             q_d=qd[c], q_a=qa[c], q_hat_d=hd, q_hat_a=ha)
        for k, v in (("q_d", qd[c]), ("q_a", qa[c]), ("q_hat_d", hd), ("q_hat_a", ha)):
            vals[k][c] = v
        for k in outs:
            outs[k][c] = ev[k]
        bacc[c] = ev["bayes_accuracy"]
    branch = np.full(n, label, dtype=object)
    p = np.flatnonzero(perfect)
    if p.size:
        vals["q_d"][p], vals["q_a"][p] = theory.rho, 0.0
        vals["q_hat_d"][p], vals["q_hat_a"][p] = np.inf, 0.0
        outs["free_entropy"][p] = -theory.K * float(theory.model.prior.shannon_entropy())
        for k in ("mse", "generalization_error", "gibbs_error", "quadratic_error"):
            outs[k][p] = 0.0
        outs["q_diag"][p], outs["q_off"][p] = theory.rho, 0.0
        branch[p] = "perfect"
        res[p] = 0.0
        acc[p] = 0.0
    outs["accuracy"] = acc
    outs["bayes_accuracy"] = bacc
    return CommitteeSolution(alpha=alpha, values=vals, outputs=outs, converged=conv | perfect,
                             residual=np.where(conv | perfect, res, np.nan), branch=branch)


def solve_branches(theory, alpha, inits=("unspecialized", "uninformed", "informed"), **kw):
    """Every branch from every start, and the equilibrium (largest free entropy) per point:
    returns (dict start -> CommitteeSolution, equilibrium start name per point)."""
    sols = {s: solve_committee(theory, alpha, s, **kw) for s in inits}
    phi = np.stack([np.where(sols[s].converged, sols[s]["free_entropy"], -np.inf) for s in inits])
    best = np.array(inits, dtype=object)[np.argmax(phi, axis=0)]
    return sols, best


def stability(theory, alpha, nodes=None, h: float = 1e-6):
    """λ(α) = ∂M_d/∂q_d at the unspecialized fixed point (q_d = 0): the unspecialized branch is
    stable to specialization where λ < 1."""
    alpha = np.atleast_1d(np.asarray(alpha, float))
    un = solve_committee(theory, alpha, "unspecialized", nodes=nodes)
    nodes = default_nodes(theory.K, nodes)
    md, _, _, _ = _map(theory, alpha, np.full(alpha.size, h), un["q_a"], nodes)
    return md / h


def committee_transitions(theory, lo: float, hi: float, num: int = 9, nodes=None, xtol: float = 1e-4,
                          spinodal_xtol: float = 1e-3, spinodal_iter: int = 600):
    """Transitions in α ∈ [lo, hi] from a scan of ``num`` points: ``specialization`` (λ(α) = 1,
    by brentq to ``xtol``), ``first_order`` (free entropies of the unspecialized and the
    informed branch cross, brentq), ``spinodal`` (the uninformed start leaves its branch,
    by bisection to ``spinodal_xtol``: the state evolution slows down at a saddle-node, so
    each bisection step is a solve of up to ``spinodal_iter`` iterations).  Each a dict
    {"kind", "value", ...}."""
    out = []
    grid = np.linspace(lo, hi, num)
    lam = stability(theory, grid, nodes)
    for i in range(num - 1):
        if np.isfinite(lam[i]) and np.isfinite(lam[i + 1]) and (lam[i] - 1) * (lam[i + 1] - 1) < 0:
            v = brentq(lambda a: stability(theory, a, nodes)[0] - 1, grid[i], grid[i + 1], xtol=xtol)
            out.append({"kind": "specialization", "value": float(v), "criterion": "lambda = 1"})
    sols, _ = solve_branches(theory, grid, nodes=nodes)
    un, inf_ = sols["unspecialized"], sols["informed"]
    d = un["free_entropy"] - inf_["free_entropy"]
    distinct = np.abs(un["q_d"] - inf_["q_d"]) > 1e-4

    def gap(a):
        u = solve_committee(theory, a, "unspecialized", nodes=nodes)
        f = solve_committee(theory, a, "informed", nodes=nodes)
        return float(u["free_entropy"][0] - f["free_entropy"][0])
    for i in range(num - 1):
        if (distinct[i] and distinct[i + 1] and np.isfinite(d[i]) and np.isfinite(d[i + 1])
                and d[i] * d[i + 1] < 0):
            out.append({"kind": "first_order", "value": float(brentq(gap, grid[i], grid[i + 1], xtol=xtol))})
    # spinodals: where the uninformed start (the state evolution of AMP from no information)
    # leaves the unspecialized branch, and where it leaves a specialized one for perfect recovery
    def stage(a, below):
        # near a saddle-node the iteration crawls past the ghost of the vanished fixed point:
        # a start still crawling after ``spinodal_iter`` steps has left the branch ``below``
        s = solve_committee(theory, a, "uninformed", nodes=nodes, max_iter=spinodal_iter)
        st = np.where(s.branch == "perfect", 2, np.where(s["q_d"] > 1e-3, 1, 0))
        return np.where(s.converged, st, below + 1)
    ui = sols["uninformed"]
    st = np.where(ui.branch == "perfect", 2, np.where(ui["q_d"] > 1e-3, 1, 0))
    for i in range(num - 1):
        if not st[i] < st[i + 1]:
            continue
        if st[i] == 0 and st[i + 1] == 1 and any(t["kind"] == "specialization" and grid[i] <= t["value"] <= grid[i + 1]
                                                 for t in out):
            continue                         # continuous: the specialized branch grows out of it
        a, b = grid[i], grid[i + 1]
        while b - a > spinodal_xtol:
            m = 0.5 * (a + b)
            a, b = (a, m) if stage(m, st[i])[0] > st[i] else (m, b)
        out.append({"kind": "spinodal", "value": float(0.5 * (a + b)), "xtol": spinodal_xtol,
                    "branch": ("unspecialized", "specialized")[st[i]],
                    "to": ("unspecialized", "specialized", "perfect")[st[i + 1]]})
    return sorted(out, key=lambda t: t["value"])


# -- the shared interface: replica.solve.solve / solve_branches / find_transitions ---------------

#: the starts of ``init="all"``, in order (the equilibrium is the largest free entropy)
STARTS = ("unspecialized", "uninformed", "informed")


class CommitteeSolver:
    """The committee state evolution behind ``replica.solve``'s public functions.

    ``replica.solve.solve``, ``solve_branches`` and ``find_transitions`` hand a theory that
    has a ``solver`` to it (a committee's fixed points live on the permutation-symmetric
    ansatz, with the unspecialized subspace q_d = 0 and the perfect-recovery end q = ρ I,
    which the generic solver's starts and domain do not know).  Results come back as the
    shared :class:`~replica.solve.Solution` and :class:`~replica.solve.Branches`, so records,
    JSON and equilibria are those of every other model.  Parameters: ``alpha`` (array) and
    ``K`` (array of integers) and any other parameter (the soft committee's ``delta``): points
    are grouped by the parameters other than alpha, each group solved by the theory at them
    (``CommitteeTheory.at_point``)."""

    def __init__(self, theory):
        self.theory = theory

    def grid(self, params: dict | None) -> tuple:
        """(shape, {name: flat array}) of the broadcast parameters, defaults filled in and
        every value checked against its domain."""
        model = self.theory.model
        params = dict(params or {})
        names = self.theory.parameter_names
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {unknown} for model {model.name!r}; "
                                 f"its parameters are {names}")
        for k in names:
            if k not in params:
                if k not in model.defaults:
                    raise ParameterError(f"parameter {k!r} needs a value (model {model.name!r} has no default)")
                params[k] = model.defaults[k]
        domains = {s.name: d for s, d in model.parameters.items()}
        arrs = np.broadcast_arrays(*[np.asarray(params[k], float) for k in names])
        for k, a in zip(names, arrs):
            for v in np.unique(a):
                domains[k].check(k, v)
        return arrs[0].shape, {k: a.reshape(-1).copy() for k, a in zip(names, arrs)}

    def solve(self, params=None, init=None, *, tol: float = 1e-10, nodes=None, branch=None, **_):
        """Fixed points at every point of the grid from one start (``'uninformed'`` by default,
        ``'unspecialized'``, ``'informed'`` or a dict with ``q_d``, ``q_a``) as a Solution."""
        from ..solve.solution import Solution
        shape, flat = self.grid(params)
        init = "uninformed" if init is None else init
        n = flat["alpha"].size
        values = {k: np.full(n, np.nan) for k in self.theory.unknowns}
        outputs = {k: np.full(n, np.nan) for k in OBSERVABLES + ("accuracy", "bayes_accuracy")}
        conv, res, lab = np.zeros(n, bool), np.full(n, np.nan), np.full(n, "", dtype=object)
        pp = self.theory.point_parameters
        rows = np.stack([flat[a] for a in pp], -1)
        for row in np.unique(rows, axis=0):
            sel = np.flatnonzero(np.all(rows == row, axis=1))
            start = init
            if isinstance(init, dict):
                start = {k: np.broadcast_to(np.asarray(v, float), shape).reshape(-1)[sel]
                         for k, v in init.items() if k in ("q_d", "q_a")}
            s = solve_committee(self.theory.at_point(**dict(zip(pp, row))), flat["alpha"][sel], start, tol=tol,
                                nodes=None if nodes is None else int(nodes))
            for d_out, d_in in ((values, s.values), (outputs, s.outputs)):
                for k in d_out:
                    d_out[k][sel] = d_in[k]
            conv[sel], res[sel], lab[sel] = s.converged, s.residual, s.branch
        if branch is not None:
            lab[lab != "perfect"] = branch
        rs = lambda a: a.reshape(shape)
        return Solution(model=self.theory.model.name, names=list(self.theory.unknowns),
                        params={k: rs(v) for k, v in flat.items()},
                        values={k: rs(v) for k, v in values.items()}, fixed={},
                        outputs={k: rs(v) for k, v in outputs.items()}, converged=rs(conv),
                        residual=rs(res), iterations=rs(np.zeros(n, int)), branch=rs(lab),
                        last={k: rs(v) for k, v in values.items()})

    def solve_branches(self, params=None, init="all", *, merge_tol: float = 1e-6, **kw):
        """Every start of ``init`` (``'all'``: unspecialized, uninformed, informed), coinciding
        branches merged, the equilibrium marked (the shared ``Branches``)."""
        from ..solve.branches import merge_branches
        if init is None or init == "all":
            starts = {k: k for k in STARTS}
        elif isinstance(init, str):
            starts = {init: init}
        elif all(isinstance(v, dict) for v in init.values()):
            starts = dict(init)
        else:
            starts = {"user": init}
        sols = {lab: self.solve(params, start, branch=lab, **kw) for lab, start in starts.items()}
        return merge_branches(sols, merge_tol)

    def find_transitions(self, along="alpha", range=None, fixed=None, *, kinds=None, nodes=None, **_):
        """``committee_transitions`` along ``alpha`` at the K of ``fixed`` (default the
        model's): ``specialization``, ``first_order``, ``spinodal`` records."""
        if along != "alpha":
            raise ParameterError(f"committee machines: transitions are searched along 'alpha', not {along!r}")
        fixed = {k: v for k, v in (fixed or {}).items() if k != "alpha"}
        _, flat = self.grid({**fixed, "alpha": 1.0})
        lo, hi = (0.01, 10.0) if range is None else map(float, range)
        at = self.theory.at_point(**{k: flat[k][0] for k in self.theory.point_parameters})
        nodes = None if nodes is None else int(nodes)
        if at.K >= 3 and not getattr(at.model.teacher, "soft", False):
            # first-order specialization: the specialized branch followed in q_d (minutes, not a
            # scan of informed state evolutions that crawl near the fold)
            found = specialized_transitions(at, lo, hi, nodes,
                                            num=9 if kinds is None or "specialization" in kinds else 0)
        else:
            found = committee_transitions(at, lo, hi, num=17, nodes=nodes)
        return [t for t in found if kinds is None or t["kind"] in kinds]


# -- the specialized branch parametrized by q_d: its appearance (a saddle-node in α) ----------

def branch_alpha(theory, q_d: float, guess=(10.0, 0.1), nodes=None, tol: float = 1e-10, refined: bool = False):
    """(α, q_a) at which the state (q_d, q_a) is a fixed point of the state evolution — the
    specialized branch parametrized by q_d instead of α: the roots of M_d(q) − q_d = 0 and
    M_a(q) − q_a = 0 in (α, q_a) (Newton with a forward-difference Jacobian from ``guess``).
    Near a fold the branch is a smooth function of q_d while α(q_d) has its minimum there, so
    the branch's first appearance is min_{q_d} α(q_d) (``specialized_spinodal``).  NaN where
    Newton does not converge to ``tol``.  ``refined``: the maps at the accuracy estimate's
    higher order (what ``specialized_transitions`` compares α with)."""
    nodes = default_nodes(theory.K, nodes)
    x = np.array(guess, float)

    def f(x):
        md, ma, _, _ = _map(theory, np.array([x[0]]), np.array([q_d]), np.array([x[1]]), nodes, refined)
        return np.array([md[0] - q_d, ma[0] - x[1]])
    for _ in range(30):
        r = f(x)
        if not np.all(np.isfinite(r)):
            return np.nan, np.nan
        if np.max(np.abs(r)) < tol:
            return float(x[0]), float(x[1])
        h = np.array([1e-6 * max(1.0, abs(x[0])), 1e-7])
        J = np.stack([(f(x + np.array([h[0], 0.0])) - r) / h[0], (f(x + np.array([0.0, h[1]])) - r) / h[1]], 1)
        try:
            step = -np.linalg.solve(J, r)
        except np.linalg.LinAlgError:
            return np.nan, np.nan
        t = 1.0
        while t > 1e-3:                                    # backtracking: the residual must fall
            cand = x + t * step
            rc = f(cand) if cand[0] > 0 else np.full(2, np.inf)
            if np.all(np.isfinite(rc)) and np.max(np.abs(rc)) < np.max(np.abs(r)):
                break
            t /= 2
        else:
            return np.nan, np.nan
        x = cand
    return np.nan, np.nan


#: the largest step in q_d between two Newton solves of ``branch_alpha`` (continuation)
BRANCH_STEP = 0.04


def _follow(theory, q_d: float, state: dict, nodes=None):
    """``branch_alpha`` at q_d by continuation from the last point found (``state``: "guess"
    (α, q_a) and "at", its q_d, or None for the caller's first guess): steps of at most
    ``BRANCH_STEP`` in q_d, each started from the previous solution; updates ``state``."""
    at, guess = state["at"], state["guess"]
    steps = [q_d] if at is None else list(np.linspace(at, q_d, int(np.ceil(abs(q_d - at) / BRANCH_STEP)) + 1)[1:])
    a = qa = np.nan
    for q in steps or [q_d]:
        a, qa = branch_alpha(theory, float(q), guess, nodes)
        if not np.isfinite(a):
            return np.nan, np.nan
        guess = (a, qa)
    state["guess"], state["at"] = (a, qa), q_d
    return a, qa


def specialized_spinodal(theory, q_lo: float, q_hi: float, guess=(10.0, 0.1), nodes=None,
                         xtol: float = 1e-4):
    """Where the specialized branch appears (first-order specialization's lower spinodal): the
    minimum over q_d ∈ [q_lo, q_hi] of α(q_d) (``branch_alpha``), by bounded Brent minimization
    to ``xtol`` in q_d; returns {"kind": "spinodal", "value": α, "q_d": ..., "q_a": ...} or
    None where α(q_d) is not found or its minimum lies at an end of the interval."""
    state = {"guess": tuple(guess), "at": None}

    def alpha_of(qd):
        a, qa = _follow(theory, qd, state, nodes)
        if np.isfinite(a):
            state[qd] = (a, qa)
        return a if np.isfinite(a) else np.inf
    res = minimize_scalar(alpha_of, bounds=(q_lo, q_hi), method="bounded", options={"xatol": xtol})
    if not np.isfinite(res.fun) or min(res.x - q_lo, q_hi - res.x) < 2 * xtol:
        return None
    a, qa = state.get(res.x, (res.fun, np.nan))
    return {"kind": "spinodal", "value": float(a), "branch": "specialized", "appears": True,
            "q_d": float(res.x), "q_a": float(qa), "criterion": "min over q_d of alpha(q_d)"}


def specialized_first_order(theory, q_lo: float, q_hi: float, guess=(10.0, 0.1), nodes=None,
                            xtol: float = 1e-6):
    """The first-order specialization along the specialized branch parametrized by q_d: the
    root in q_d ∈ [q_lo, q_hi] (the branch's upper part, above ``specialized_spinodal``) of
    φ_spec(q_d) − φ_unspec(α(q_d)), α(q_d) and q_a by ``branch_alpha``, the free entropies of
    the converged points (``solve_committee`` from the fixed point itself, and from the
    unspecialized start), by brentq to ``xtol`` in q_d.  No crawling state evolution near the
    fold.  Returns {"kind": "first_order", "value": α, "q_d", "q_a", "accuracy", ...} or None
    without a sign change."""
    state = {"guess": tuple(guess), "at": None}

    def point(qd):
        a, qa = _follow(theory, qd, state, nodes)
        if not np.isfinite(a):
            return None
        sp_ = solve_committee(theory, [a], {"q_d": qd, "q_a": qa}, nodes=nodes)
        un = solve_committee(theory, [a], "unspecialized", nodes=nodes)
        if not (sp_.converged[0] and un.converged[0]):
            return None
        return a, sp_, un

    def gap(qd):
        p = point(qd)
        return np.nan if p is None else float(p[1]["free_entropy"][0] - p[2]["free_entropy"][0])
    g_lo, g_hi = gap(q_lo), gap(q_hi)
    if not (np.isfinite(g_lo) and np.isfinite(g_hi) and g_lo * g_hi < 0):
        return None
    q = brentq(gap, q_lo, q_hi, xtol=xtol)
    a, sp_, un = point(q)
    return {"kind": "first_order", "value": float(a), "q_d": float(sp_["q_d"][0]), "q_a": float(sp_["q_a"][0]),
            "accuracy": float(max(sp_["accuracy"][0], un["accuracy"][0])),
            "generalization_error": (float(un["generalization_error"][0]), float(sp_["generalization_error"][0])),
            "criterion": "free entropies of the unspecialized and specialized branches equal"}


# -- K ≥ 3: the transitions of first-order specialization by following the specialized branch --

#: the smallest step in q_d the continuation of ``specialized_transitions`` halves down to
#: (a Newton solve that fails is retried at half the step)
MIN_BRANCH_STEP = 0.005


def _specialization_roots(theory, grid, nodes, xtol):
    """``specialization`` records: the roots of λ(α) = 1 (``stability``) bracketed on ``grid``."""
    lam = stability(theory, grid, nodes)
    out = []
    for i in range(len(grid) - 1):
        if np.isfinite(lam[i]) and np.isfinite(lam[i + 1]) and (lam[i] - 1) * (lam[i + 1] - 1) < 0:
            v = brentq(lambda a: stability(theory, a, nodes)[0] - 1, grid[i], grid[i + 1], xtol=xtol)
            out.append({"kind": "specialization", "value": float(v), "criterion": "lambda = 1"})
    return out


def _branch_point(theory, alpha: float, q_d: float, q_a: float, nodes):
    """A point (α, q_d, q_a) of the specialized branch against the unspecialized fixed point at the
    same α: {"gap": φ_spec − φ_unspec, "psi": (αΨ_out spec, unspec) / α, ...} or None where the
    unspecialized solve does not converge (free entropies as in ``CommitteeTheory.evaluate``)."""
    un = solve_committee(theory, [alpha], "unspecialized", nodes=nodes)
    if not un.converged[0]:
        return None
    _, _, hd, ha = _map(theory, np.array([alpha]), np.array([q_d]), np.array([q_a]), nodes)
    ev = theory.evaluate(nodes=nodes, want=["free_entropy"], alpha=alpha, q_d=q_d, q_a=q_a, q_hat_d=hd[0],
                         q_hat_a=ha[0])
    return {"alpha": float(alpha), "q_d": float(q_d), "q_a": float(q_a),
            "gap": float(ev["free_entropy"]) - float(un["free_entropy"][0]), "unspecialized": un}


def specialized_transitions(theory, lo: float, hi: float, nodes=None, num: int = 9, xtol: float = 1e-4,
                            q_xtol: float = 1e-4, fo_xtol: float = 1e-6):
    """Transitions of first-order specialization in α ∈ [lo, hi] (K ≥ 3) by following the
    specialized branch in q_d (``branch_alpha``) instead of scanning the state evolution:

    1. ``specialization``: λ(α) = 1 on the unspecialized branch (``stability`` on ``num`` points,
       brentq to ``xtol``; ``num`` < 2: not searched) — where AMP from no information leaves it;
    2. the specialized branch at α = hi from the informed start (one ``solve_committee``); a
       discrete prior whose informed start is perfect recovery instead gives ``first_order`` at
       φ_unspec(α) = −K H(P₀) (the perfect state's free entropy), brentq to ``xtol``;
    3. from there down in q_d by continuation (steps ``BRANCH_STEP``, halved to
       ``MIN_BRANCH_STEP`` where Newton fails) until α(q_d) turns up (the fold) or leaves [lo, hi];
       every step also gives gap(q_d) = φ_spec − φ_unspec at α(q_d);
    4. ``spinodal`` (the branch appears): min over q_d of α(q_d), bounded Brent to ``q_xtol`` around
       the lowest step (α is stationary there: its error is O(q_xtol²));
       ``first_order``: the root of gap(q_d) on the upper part (brentq to ``fo_xtol`` in q_d).

    Accuracy per record: ``accuracy`` is the point's estimate (``accuracy``: the maps and αΨ_out
    against higher orders); ``alpha_accuracy`` the error of α it implies — for the spinodal
    |α_refined − α| at the fold q_d (``branch_alpha`` with every rule at the higher order; α is
    stationary in q_d there, so this is the first-order shift of the minimum), for the first-order
    point (acc_spec + acc_unspec)/|Ψ_spec − Ψ_unspec| (dφ/dα = Ψ_out at a stationary point, so the
    gap's slope in α is the difference of the output terms) plus |dα/dq_d| ``fo_xtol``.  A record
    whose accuracy exceeds ``accuracy_tolerance`` has value None (located, not resolved)."""
    theory_tol = accuracy_tolerance(theory)
    out = _specialization_roots(theory, np.linspace(lo, hi, num), nodes, xtol) if num >= 2 else []
    top = solve_committee(theory, [hi], "informed", nodes=nodes)
    if top.branch[0] == "perfect":
        h_perfect = -theory.K * float(theory.model.prior.shannon_entropy())

        def gap_perfect(a):
            un = solve_committee(theory, [a], "unspecialized", nodes=nodes)
            return float(h_perfect - un["free_entropy"][0]) if un.converged[0] else np.nan
        g_lo, g_hi = gap_perfect(lo), gap_perfect(hi)
        if np.isfinite(g_lo) and np.isfinite(g_hi) and g_lo * g_hi < 0:
            v = brentq(gap_perfect, lo, hi, xtol=xtol)
            un = solve_committee(theory, [v], "unspecialized", nodes=nodes)
            out.append({"kind": "first_order", "value": float(v), "to": "perfect", "xtol": xtol,
                        "accuracy": float(un["accuracy"][0]),
                        "criterion": "free entropy of the unspecialized branch equals -K H(P0) (perfect recovery)"})
        return sorted(out, key=lambda t: t["value"])
    if not (top.converged[0] and top["q_d"][0] > 1e-3):
        return sorted(out, key=lambda t: t["value"])        # no specialized branch at hi
    q0, qa0 = float(top["q_d"][0]), float(top["q_a"][0])
    first = _branch_point(theory, hi, q0, qa0, nodes)
    if first is None:
        return sorted(out, key=lambda t: t["value"])
    pts = [first]
    state = {"guess": (hi, qa0), "at": q0}
    step = BRANCH_STEP
    while True:
        q = pts[-1]["q_d"] - step
        if q <= 1e-3:
            break
        trial = dict(state)
        a, qa = _follow(theory, q, trial, nodes)
        if not np.isfinite(a):
            if step / 2 < MIN_BRANCH_STEP:
                break
            step /= 2
            continue
        p = _branch_point(theory, a, q, qa, nodes)
        if p is None:
            break
        state.update(trial)
        pts.append(p)
        if len(pts) >= 3 and pts[-1]["alpha"] > pts[-2]["alpha"]:
            break                                            # past the fold
        if a < lo:
            break
    # the fold: the lowest α with a step on either side
    alphas = np.array([p["alpha"] for p in pts])
    i = int(np.argmin(alphas))
    if 0 < i < len(pts) - 1 and lo <= alphas[i] <= hi:
        fstate = {"guess": (pts[i]["alpha"], pts[i]["q_a"]), "at": pts[i]["q_d"]}
        found = {}

        def alpha_of(qd):
            a, qa = _follow(theory, qd, fstate, nodes)
            if np.isfinite(a):
                found[qd] = (a, qa)
            return a if np.isfinite(a) else np.inf
        res = minimize_scalar(alpha_of, bounds=(pts[i + 1]["q_d"], pts[i - 1]["q_d"]), method="bounded",
                              options={"xatol": q_xtol})
        if np.isfinite(res.fun) and res.x in found:
            a, qa = found[res.x]
            acc = float(accuracy(theory, np.array([a]), np.array([res.x]), np.array([qa]),
                                 default_nodes(theory.K, nodes))[0])
            a_ref, _ = branch_alpha(theory, float(res.x), (a, qa), nodes, refined=True)
            a_acc = abs(a_ref - a) if np.isfinite(a_ref) else np.nan
            ok = acc <= theory_tol and np.isfinite(a_acc)
            out.append({"kind": "spinodal", "value": float(a) if ok else None, "branch": "specialized",
                        "appears": True, "q_d": float(res.x), "q_a": float(qa), "accuracy": acc,
                        "alpha_accuracy": float(a_acc), "q_xtol": q_xtol,
                        "criterion": "min over q_d of alpha(q_d) on the specialized branch"})
    # first order: a sign change of the gap on the upper part (the steps above the fold)
    upper = pts[:i + 1]
    for j in range(len(upper) - 1):
        g1, g2 = upper[j]["gap"], upper[j + 1]["gap"]
        if not (np.isfinite(g1) and np.isfinite(g2) and g1 * g2 < 0):
            continue
        bstate = {"guess": (upper[j]["alpha"], upper[j]["q_a"]), "at": upper[j]["q_d"]}
        memo = {}

        def gap(qd):
            a, qa = _follow(theory, qd, bstate, nodes)
            p = _branch_point(theory, a, qd, qa, nodes) if np.isfinite(a) else None
            memo[qd] = p
            return np.nan if p is None else p["gap"]
        qs = brentq(gap, upper[j + 1]["q_d"], upper[j]["q_d"], xtol=fo_xtol)
        if memo.get(qs) is None:
            gap(qs)
        p = memo[qs]
        if p is None:
            break
        a = p["alpha"]
        nd = default_nodes(theory.K, nodes)
        arr = lambda v: np.array([v])
        spec = solve_committee(theory, [a], {"q_d": qs, "q_a": p["q_a"]}, nodes=nodes)
        un = p["unspecialized"]
        acc = float(max(spec["accuracy"][0], un["accuracy"][0]))
        psi_s = theory.output_side(arr(qs), arr(p["q_a"]), nd)[2][0]
        psi_u = theory.output_side(arr(0.0), arr(un["q_a"][0]), nd)[2][0]
        slope = abs(upper[j]["alpha"] - upper[j + 1]["alpha"]) / abs(upper[j]["q_d"] - upper[j + 1]["q_d"])
        a_acc = (float(spec["accuracy"][0]) + float(un["accuracy"][0])) / abs(psi_s - psi_u) + slope * fo_xtol
        ok = bool(spec.converged[0]) and acc <= theory_tol
        rec = {"kind": "first_order", "value": float(a) if ok else None, "q_d": float(qs), "q_a": float(p["q_a"]),
               "accuracy": acc, "alpha_accuracy": float(a_acc),
               "criterion": "free entropies of the unspecialized and specialized branches equal"}
        if ok:
            # (unspecialized, specialized); null where not resolved (the Bayes error at K ≥ 4)
            rec["generalization_error"] = [float(v) if np.isfinite(v) else None
                                           for v in (un["generalization_error"][0], spec["generalization_error"][0])]
            rec["bayes_accuracy"] = float(np.nanmax([un["bayes_accuracy"][0], spec["bayes_accuracy"][0], 0.0]))
        out.append(rec)
        break
    return sorted(out, key=lambda t: (t["value"] is None, t["value"] or 0.0))
