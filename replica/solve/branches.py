"""Branches: solve from several initial conditions, merge coinciding ones, pick the equilibrium.

Each start (``uninformed``, ``informed``, or a user dict) is solved on the whole grid.  At a
point, two converged solutions that agree to ``merge_tol`` (max_k |x_k - y_k| / max(1, |x_k|),
infinite conjugates equal) are one branch; the later start is marked a duplicate there.  A
start that reaches q = ρ with a diverging conjugate is labelled ``'perfect'`` by the solver.

Equilibrium: the branch of largest RS free entropy among the converged ones.  Our free entropy
is Φ = lim (1/N) E log Z (log-evidence for Bayes-optimal, log partition function for Gibbs,
log-volume for storage), which the thermodynamic state *maximizes* among the RS stationary
points.  Checked against the oracles: for the Bayes-optimal Ising perceptron the low
branch's Φ exceeds that of the perfect one, −log 2 − α h(flip), below α_IT (1.2447 at
flip = 0, 1.8350 at flip = 0.05) and falls below it beyond, where recovery is perfect
(Györgyi 1990): the equilibrium is the maximum (tests/test_solver.py checks it at flip = 0.05).
Where a converged branch has a non-finite free entropy the equilibrium is undetermined there
and no branch is marked.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixed_point import solve
from .initial import KINDS
from .solution import Solution

__all__ = ["solve_branches", "merge_branches", "Branches", "same_point"]


def same_point(a: Solution, b: Solution, tol: float = 1e-6) -> np.ndarray:
    """Points where both solutions converged to the same state (to ``tol``, relative above 1)."""
    same = a.converged & b.converged
    for k in a.names:
        x, y = a.values[k], b.values[k]
        with np.errstate(invalid="ignore"):
            close = (np.abs(x - y) <= tol * np.maximum(1.0, np.abs(x))) | ((x == y) & np.isinf(x))
        same &= close
    return same


@dataclass
class Branches:
    """Solutions from several starts on one grid.

    solutions : label -> Solution (in the order solved).
    duplicate : label -> bool array, True where that start found a branch an earlier one had.
    equilibrium : label -> bool array, True where that branch has the largest free entropy.
    """

    solutions: dict
    duplicate: dict
    equilibrium: dict

    def distinct(self, label: str) -> np.ndarray:
        """Converged, non-duplicate points of a branch."""
        s = self.solutions[label]
        return s.converged & ~self.duplicate[label]

    def equilibrium_solution(self) -> Solution:
        """One Solution holding, at every point, the equilibrium branch (``converged`` False
        where none could be chosen)."""
        labels = list(self.solutions)
        first = self.solutions[labels[0]]
        out = first.take(...)
        out.converged = np.zeros(first.shape, bool)
        for lab in labels:
            s, m = self.solutions[lab], self.equilibrium[lab]
            for d_out, d_in in ((out.values, s.values), (out.outputs, s.outputs), (out.last, s.last)):
                for k in d_out:
                    d_out[k] = np.where(m, d_in[k], d_out[k])
            out.residual = np.where(m, s.residual, out.residual)
            out.iterations = np.where(m, s.iterations, out.iterations)
            out.branch = np.where(m, s.branch, out.branch)
            out.converged |= m
        for d in (out.values, out.outputs):
            for k in d:
                d[k] = np.where(out.converged, d[k], np.nan)
        return out

    def to_records(self) -> list:
        """Every distinct branch at every point (grid order, then start order), each record with
        ``"equilibrium": bool``; duplicates are left out, failed starts kept (not converged)."""
        recs = []
        per = {lab: s.to_records() for lab, s in self.solutions.items()}
        n = next(iter(self.solutions.values())).converged.size
        for i in range(n):
            for lab, s in self.solutions.items():
                if self.duplicate[lab].reshape(-1)[i]:
                    continue
                r = dict(per[lab][i])
                r["equilibrium"] = bool(self.equilibrium[lab].reshape(-1)[i])
                recs.append(r)
        return recs


def _starts(init, single: bool) -> dict:
    if init is None or init == "all":
        return {"uninformed": "uninformed"} if single else {k: k for k in KINDS}
    if isinstance(init, str):
        return {init: init}
    if isinstance(init, dict) and all(isinstance(v, dict) for v in init.values()):
        return dict(init)          # label -> dict of starting values
    return {"user": init}


def solve_branches(compiled, params: dict | None = None, init="all", *, merge_tol: float = 1e-6,
                   **solve_kw) -> Branches:
    """Solve from every start of ``init``, merge coinciding branches, mark the equilibrium.

    init : ``'all'`` — uninformed and informed where there is a replica overlap q (Bayes-optimal,
        Gibbs); uninformed only for storage problems (no teacher to be informed about) and ERM
        (one minimizer for convex losses; ``'informed'`` can still be asked for); a kind; a dict
        of values; or a dict label -> dict of values."""
    if getattr(compiled, "solver", None) is not None:   # its own state evolution (committee machines)
        return compiled.solver.solve_branches(params, init, merge_tol=merge_tol, **solve_kw)
    single = compiled.kind.startswith(("storage", "capacity")) or "q" not in compiled.unknowns
    sols = {lab: solve(compiled, params, start, branch=lab, **solve_kw)
            for lab, start in _starts(init, single).items()}
    return merge_branches(sols, merge_tol)


def merge_branches(sols: dict, merge_tol: float = 1e-6) -> Branches:
    """Branches from solutions label -> Solution on one grid: a later start that lands where an
    earlier one did is a duplicate there; the equilibrium is the largest free entropy."""
    labels = list(sols)
    dup = {lab: np.zeros(sols[lab].shape, bool) for lab in labels}
    for j, b in enumerate(labels):
        for a in labels[:j]:
            dup[b] |= same_point(sols[a], sols[b], merge_tol) & ~dup[a]
    return Branches(sols, dup, _equilibrium(sols, dup))


def _equilibrium(sols: dict, dup: dict) -> dict:
    """label -> mask of the points where that branch maximizes Φ among distinct converged ones."""
    labels = list(sols)
    shape = sols[labels[0]].shape
    phi = np.stack([np.where(sols[l].converged & ~dup[l], sols[l].free_entropy, -np.inf) for l in labels])
    undecided = np.zeros(shape, bool)
    for l in labels:
        undecided |= sols[l].converged & ~dup[l] & ~np.isfinite(sols[l].free_entropy)
    best = np.argmax(phi, axis=0)
    anyconv = np.any(np.isfinite(phi), axis=0)
    return {l: (best == i) & anyconv & ~undecided for i, l in enumerate(labels)}
