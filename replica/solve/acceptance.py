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
"""
from __future__ import annotations

import numpy as np

from .problem import DEFAULT_NODES, relative_residual

__all__ = ["QUAD_TOL", "check_rule", "quadrature_residual"]

#: default threshold on the residual under the feature-adapted rule
QUAD_TOL = 1e-8


def check_rule(nodes: int, rule: str) -> tuple:
    """(nodes, rule) of the check of a solve that used (nodes, rule): the feature-adapted rule on
    at least as many uniform nodes as the Legendre default, twice as many as an adaptive solve."""
    if rule == "adaptive":
        return 2 * int(nodes), "adaptive"
    return max(int(nodes), DEFAULT_NODES["legendre"]), "adaptive"


def quadrature_residual(problem, x: np.ndarray, idx) -> np.ndarray:
    """r_check at the states x (shape (d, len(idx))) of the points idx; +inf where not finite."""
    if len(idx) == 0:
        return np.zeros(0)
    nodes, rule = check_rule(problem.nodes, problem.rule)
    state = {k: x[i] for i, k in enumerate(problem.names)}
    out = problem.compiled.evaluate(nodes=nodes, rule=rule, want=["map_" + k for k in problem.names],
                                    **problem.param(idx), **state)
    r = relative_residual(problem.maps(out), x)
    return np.where(np.isfinite(r), r, np.inf)
