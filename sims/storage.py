"""Storage problems: is there a w storing every (x_μ, y_μ) with stability y_μ w·x_μ/√N ≥ κ?

* spherical weights, κ = 0: feasibility of the linear program y_μ w·x_μ ≥ 1 (any strictly
  separating w rescaled), solved by HiGHS (``scipy.optimize.linprog``) — exact;
  κ > 0: the set {|w|² = N, y w·x/√N ≥ κ} is non-empty iff the maximal stability
  κ_max = √N / min{|v| : y_μ v·x_μ/√N ≥ 1} is ≥ κ; the minimum-norm v is the hard-margin
  SVM, v = Σ α_μ y_μ x_μ/√N with α ≥ 0 maximizing Σ α − ½|Σ α y x/√N|² (its dual, a
  bound-constrained QP solved by L-BFGS-B after the LP has established separability).
* Ising weights (N ≲ 25): all 2^N vectors enumerated in chunks (a matrix product per chunk,
  on the GPU when the data are there), for the margin y λ ≥ κ or any constraint on (y, λ)
  (the symmetric binary perceptron's |λ| ≤ κ).  For each w, t(w) = the index of the first pattern it
  violates; the instance stores its first P patterns iff P ≤ P_c = max_w t(w), so one
  enumeration answers every P ≤ P_max at once.

The fraction of satisfiable instances at (N, P) is a binomial mean; its standard error is
√(f(1−f)/S).  For κ = 0 and spherical weights Cover's (1965) count gives it exactly at any
N: C(P, N)/2^P with C(P, N) = 2 Σ_{k<N} binom(P−1, k) (the tests compare with it).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .data import DTYPE, Data

__all__ = ["spherical_sat", "ising_capacities", "sat_fraction", "crossing"]


def _lp_feasible(A: np.ndarray, tol: float = 1e-9) -> bool:
    """Is there w with A w > 0 componentwise (A = y x rows)?  The bounded LP
    max t  s.t.  A w ≥ t,  |w_i| ≤ 1,  t ≤ 1  (HiGHS) has t* > 0 exactly when there is."""
    from scipy.optimize import linprog
    P, N = A.shape
    c = np.zeros(N + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-A, np.ones((P, 1))])
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(P), bounds=[(-1, 1)] * N + [(None, 1)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return -res.fun > tol * np.abs(A).max()


def _max_stability(A: np.ndarray) -> float:
    """κ_max = max_{|w|²=N} min_μ (A w)_μ/√N with A = y x; −inf when not separable.

    The hard-margin problem min |v|² s.t. A v/√N ≥ 1 has the dual max Σα − ½|Aᵀα/√N|², α ≥ 0;
    solved by L-BFGS-B on the bounds α ≥ 0 (bounded once the LP says the data are separable)."""
    from scipy.optimize import minimize
    if not _lp_feasible(A):
        return -math.inf
    P, N = A.shape
    G = A @ A.T / N

    def f(a):
        return 0.5 * a @ G @ a - a.sum(), G @ a - 1.0
    res = minimize(f, np.zeros(P), jac=True, method="L-BFGS-B", bounds=[(0, None)] * P,
                   options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-12})
    v = A.T @ res.x / N**0.5
    return float(N**0.5 / np.linalg.norm(v)) if np.linalg.norm(v) > 0 else math.inf


def spherical_sat(data: Data, kappa: float | None = None) -> torch.Tensor:
    """Per instance: 1.0 when some w on the sphere stores all patterns with stability ≥ κ."""
    if kappa is None:
        kappa = float(data.params.get("kappa", 0.0))
    if kappa < 0:
        raise NotImplementedError("negative margins make the spherical storage problem non-convex")
    out = []
    for X, y in zip(data.X.cpu().numpy(), data.y.cpu().numpy()):
        A = y[:, None] * X
        out.append(_lp_feasible(A) if kappa == 0 else _max_stability(A) >= kappa)
    return torch.tensor(out, dtype=DTYPE)


def ising_capacities(X: torch.Tensor, y: torch.Tensor, kappa: float = 0.0, *, dense: int = 8,
                     rows: int = 2**18, group: int = 16, constraint=None) -> torch.Tensor:
    """P_c per instance: the largest P such that some w ∈ {±1}^N has y_μ w·x_μ/√N ≥ κ for μ < P.

    ``constraint``: any other constraint on (y_μ, λ_μ), λ_μ = w·x_μ/√N — a function of
    broadcastable tensors (y, λ) returning a bool tensor (true: the pattern is stored), e.g.
    |λ| ≤ κ for the symmetric binary perceptron (Aubin, Perkins & Zdeborová 2019); default
    y λ ≥ κ (up to 10⁻¹²).

    X: (S, P_max, N), y: (S, P_max).  Exhaustive over the 2^N vectors (in blocks of ``rows``):
    the stabilities of the first ``dense`` patterns by one matrix product per block and group
    of instances, then, pattern after pattern, only the vectors that satisfied every earlier
    pattern are kept (each pattern removes about half of them).  Ties (a stability exactly κ)
    count as satisfied; use odd N at κ = 0 to make them impossible."""
    S, P, N = X.shape
    if N > 30:
        raise ValueError(f"enumeration of 2^{N} weight vectors is out of reach; N ≤ 30")
    if constraint is None:            # the margin: y folded into the patterns, λ → y λ
        X = y[..., None] * X
        y = torch.ones_like(y)

        def constraint(_, stab):
            return stab >= kappa - 1e-12
    A = X / N**0.5                                                       # (S, P, N)
    k = min(dense, P)
    best = torch.zeros(S, dtype=torch.long, device=X.device)
    ar = torch.arange(k, device=X.device)
    for start in range(0, 2**N, rows):
        W = _signs(torch.arange(start, min(start + rows, 2**N), device=X.device), N)   # (C, N)
        for g0 in range(0, S, group):
            g = slice(g0, min(g0 + group, S))
            G = A[g, :k].shape[0]
            lam = (W @ A[g, :k].reshape(G * k, N).T).view(-1, G, k)
            first = torch.where(constraint(y[g, :k], lam), k, ar).amin(-1)      # (C, G)
            best[g] = torch.maximum(best[g], first.amax(0))
            for j in range(G):
                s = g0 + j
                if k == P or int(best[s]) == P:
                    continue
                Ws = W[first[:, j] == k]
                if len(Ws) == 0:
                    continue
                mu = k
                while mu < P and len(Ws):
                    Ws = Ws[constraint(y[s, mu], Ws @ A[s, mu])]
                    mu += len(Ws) > 0
                best[s] = max(int(best[s]), mu)
    return best


def _signs(idx: torch.Tensor, n: int) -> torch.Tensor:
    """The sign vectors numbered ``idx`` (bit k of the number -> site k)."""
    bits = (idx[:, None] >> torch.arange(n, device=idx.device)[None, :]) & 1
    return bits.to(DTYPE) * 2 - 1


def sat_fraction(sat: torch.Tensor) -> tuple[float, float]:
    """(fraction, binomial standard error) of a 0/1 per-instance tensor."""
    f = float(sat.to(DTYPE).mean())
    return f, math.sqrt(max(f * (1 - f), 0.0) / len(sat))


def crossing(alphas, fractions, level: float = 0.5) -> float:
    """α where the SAT fraction (non-increasing in α) crosses ``level``, by linear interpolation
    between the last point above and the first point at or below it; NaN if it does not cross."""
    a, f = np.asarray(alphas, float), np.asarray(fractions, float)
    below = np.nonzero(f <= level)[0]
    if len(below) == 0 or below[0] == 0:
        return math.nan
    i = below[0]
    if f[i - 1] == f[i]:
        return float(a[i])
    return float(a[i - 1] + (f[i - 1] - level) * (a[i] - a[i - 1]) / (f[i - 1] - f[i]))
