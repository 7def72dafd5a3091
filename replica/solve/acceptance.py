"""Acceptance of a converged point: the quadrature must resolve the integrands there.

A state x with a small residual r(x) = max_k |M_k(x) - x_k| / max(1, |x_k|) under the rule the
solver iterated with is a fixed point of the *discretized* maps only.  Where q -> 1 the
integrands have features of width √(1 - q) that a fixed rule misses, and the discretized maps
have fixed points the true ones do not (ising-bayes past its spinodal: q = 1 - 8e-6 with
q_hat = 20.7 under 400-node Legendre, where the q_hat map is 401.32 — mpmath and the
feature-adapted rule agree to 1e-11).  So every converged point is re-evaluated once with the
feature-adapted rule (``rule='adaptive'``, :mod:`replica.codegen.rules`: panels graded from the
width of each feature, split at the kinks) and accepted only if its residual there,

    r_check(x) = max_k |M_k^adaptive(x) - x_k| / max(1, |x_k|),

is below ``quad_tol`` as well: a cheap final pass (one evaluation of the maps per converged
point), not a second solve.

A point the check refuses — or one that did not converge at a state where the two rules
disagree, max_k |M_k^adaptive(x) - M_k(x)| / max(1, |x_k|) >= ``quad_tol`` (the rule may be
what stopped it) — is then re-solved from that state with the feature-adapted rule
(``fixed_point.solve``'s ``refine``) and checked again at the next level (twice the nodes).
"""
from __future__ import annotations

import numpy as np

from .problem import DEFAULT_NODES, relative_residual

__all__ = ["QUAD_TOL", "check_maps", "check_rule", "quadrature_residual", "unresolved"]

#: default threshold on the residual under the feature-adapted rule
QUAD_TOL = 1e-8


def check_rule(nodes: int, rule: str) -> tuple:
    """(nodes, rule) of the check of a solve that used (nodes, rule): the feature-adapted rule on
    at least as many uniform nodes as the Legendre default, twice as many as an adaptive solve."""
    if rule == "adaptive":
        return 2 * int(nodes), "adaptive"
    return max(int(nodes), DEFAULT_NODES["legendre"]), "adaptive"


def check_maps(problem, x: np.ndarray, idx) -> np.ndarray:
    """M^adaptive(x), the maps under the check rule, at the states x (shape (d, len(idx))) of the
    points idx."""
    nodes, rule = check_rule(problem.nodes, problem.rule)
    state = {k: x[i] for i, k in enumerate(problem.names)}
    out = problem.compiled.evaluate(nodes=nodes, rule=rule, want=["map_" + k for k in problem.names],
                                    **problem.param(idx), **state)
    return problem.maps(out)


def quadrature_residual(problem, x: np.ndarray, idx) -> np.ndarray:
    """r_check at the states x (shape (d, len(idx))) of the points idx; +inf where not finite."""
    if len(idx) == 0:
        return np.zeros(0)
    r = relative_residual(check_maps(problem, x, idx), x)
    return np.where(np.isfinite(r), r, np.inf)


def unresolved(problem, x: np.ndarray, m: np.ndarray, idx, quad_tol: float = QUAD_TOL) -> np.ndarray:
    """Mask of the points idx whose maps m = M(x) under the solver's rule differ from the check
    rule's, max_k |M_k^adaptive(x) - M_k(x)| / max(1, |x_k|) >= quad_tol, at finite states x
    (where the check rule is finite and the solver's is not, too)."""
    if len(idx) == 0:
        return np.zeros(0, bool)
    finite = np.all(np.isfinite(x), axis=0)
    out = np.zeros(len(idx), bool)
    if not finite.any():
        return out
    sel = np.flatnonzero(finite)
    mc = check_maps(problem, x[:, sel], np.asarray(idx)[sel])
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.max(np.abs(mc - m[:, sel]) / np.maximum(1.0, np.abs(x[:, sel])), axis=0)
    ok_c, ok_m = np.all(np.isfinite(mc), axis=0), np.all(np.isfinite(m[:, sel]), axis=0)
    out[sel] = np.where(ok_c & ok_m, d >= quad_tol, ok_c & ~ok_m)
    return out
