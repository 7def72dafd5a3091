"""Tensor-product Gauss–Hermite rules for K-dimensional Gaussian expectations.

E_{ξ ~ N(0, I_K)} f(ξ) ≈ Σ_i w_i f(ξ_i) over the n^K product of the probabilists' n-point
Gauss–Hermite rule.  For an integrand symmetric under permutations of the coordinates
(a permutation-symmetric committee), only the sorted multi-indices i_1 ≤ ... ≤ i_K are kept,
each weighted by its multiplicity K!/Π_j c_j! — C(n + K - 1, K) points instead of n^K.
Gauss–Legendre nodes on [-1, 1] for the one-dimensional conditional integrals of ``orthant``.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

__all__ = ["hermite", "legendre", "product_rule", "outer_rule", "refined_nodes", "tensor_tuples", "one_of_each_pair"]


@functools.lru_cache(maxsize=64)
def hermite(n: int):
    """(nodes, weights) of the n-point rule for E_{x ~ N(0,1)} (weights sum to 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(int(n))
    return x, w / w.sum()


@functools.lru_cache(maxsize=64)
def legendre(n: int):
    """(nodes, weights) of the n-point Gauss–Legendre rule on [-1, 1]."""
    return np.polynomial.legendre.leggauss(int(n))


@functools.lru_cache(maxsize=64)
def product_rule(n: int, K: int, symmetric: bool = False):
    """(points (M, K), weights (M,)) of the K-dimensional product rule; ``symmetric``: sorted
    multi-indices with multiplicities (valid for permutation-symmetric integrands)."""
    x, w = hermite(n)
    if not symmetric or K == 1:
        idx = np.array(list(itertools.product(range(n), repeat=K)), dtype=int).reshape(-1, K)
        return x[idx], np.prod(w[idx], axis=1)
    pts, wts = [], []
    fact = math.factorial(K)
    for comb in itertools.combinations_with_replacement(range(n), K):
        counts = np.bincount(comb)
        mult = fact / np.prod([math.factorial(c) for c in counts])
        pts.append(x[list(comb)])
        wts.append(mult * np.prod(w[list(comb)]))
    return np.array(pts), np.array(wts)


@functools.lru_cache(maxsize=16)
def line_rule(panels: int = 90, per_panel: int = 12, half_width: float = 10.0):
    """(nodes, weights) for E_{t ~ N(0,1)} by composite Gauss–Legendre on [-L, L]: resolves
    integrands with features much narrower than Gauss–Hermite's node spacing (the output
    potentials of a nearly determined teacher field, width √V)."""
    x, w = legendre(per_panel)
    # panels graded geometrically towards t = 0, where the features sit (down to 1e-13 L)
    pos = half_width * 0.5 ** np.arange(panels // 2)
    edges = np.concatenate([-pos, [0.0], pos[::-1]])
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    t = (mid[:, None] + half[:, None] * x[None]).ravel()
    wt = (half[:, None] * w[None]).ravel() * np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
    return t, wt


#: the higher orders of the accuracy estimate: Gauss–Hermite nodes per dimension n -> refined_nodes(n),
#: line rule and slab rule nodes per panel
REFINED_LINE_PER_PANEL, REFINED_SLAB_PER_PANEL = 16, 8


def refined_nodes(n: int) -> int:
    """The higher Gauss–Hermite order of the accuracy estimate: n + 4."""
    return int(n) + 4


def outer_rule(n: int, K: int, symmetric: bool, on_diagonal: bool, refined: bool = False):
    """Points ξ (M, K) and weights for E_{ξ ~ N(0, I_K)} f(ξ).  ``on_diagonal``: f depends on ξ
    only through its mean (the unspecialized subspace, and K = 1), so the expectation is
    one-dimensional: ξ = (t/√K) 1, t ~ N(0, 1), by ``line_rule``.  ``refined``: the higher order
    of the accuracy estimate (the line rule with more nodes per panel; ``n`` is the caller's)."""
    if on_diagonal:
        t, w = line_rule(per_panel=REFINED_LINE_PER_PANEL) if refined else line_rule()
        return np.repeat(t[:, None] / np.sqrt(K), K, axis=1), w
    return product_rule(n, K, symmetric)


#: panels of the slab rule: inner ones in units of the slab half-width c (graded towards the
#: hyperplane ω_k = 0), outer ones in units of L − c (the Gaussian density's scale)
SLAB_INNER = (0.0, 0.1, 0.2, 0.4, 0.7, 1.0)
SLAB_OUTER = (0.0, 0.06, 0.15, 0.27, 0.42, 0.62, 1.0)


def _composite(edges, per_panel):
    x, w = legendre(per_panel)
    e = np.asarray(edges, float)
    mid, half = (e[1:] + e[:-1]) / 2, (e[1:] - e[:-1]) / 2
    return (mid[:, None] + half[:, None] * x[None]).ravel(), (half[:, None] * w[None]).ravel()


@functools.lru_cache(maxsize=32)
def slab_template(K: int, symmetric: bool, flip: bool, per_panel: int = 6):
    """The point-independent part of the slab rule (see ``slab_rule``).

    Returns (sign, inner, u, w, idx, mult): the 1-D template in ascending order — node i sits
    at sign_i (u_i c) when ``inner[i]`` and at sign_i (c + u_i (L − c)) otherwise, with
    Legendre weight w_i (times c, or L − c) — and the K-dimensional points as index tuples
    ``idx`` (M, K) with multiplicities ``mult``: only tuples with at least one inner index
    (the union of the slabs |ω_k| < c), sorted tuples for a permutation-symmetric integrand,
    one of each pair ±ω for an integrand even under ω → −ω (``flip``)."""
    ui, wi = _composite(SLAB_INNER, per_panel)
    uo, wo = _composite(SLAB_OUTER, per_panel)
    ni, no = ui.size, uo.size
    sign = np.concatenate([-np.ones(no), -np.ones(ni), np.ones(ni), np.ones(no)])
    inner = np.concatenate([np.zeros(no, bool), np.ones(ni, bool), np.ones(ni, bool), np.zeros(no, bool)])
    u = np.concatenate([uo[::-1], ui[::-1], ui, uo])
    w = np.concatenate([wo[::-1], wi[::-1], wi, wo])
    n = u.size
    idx, mult = tensor_tuples(n, K, symmetric)
    keep = inner[idx].any(axis=1)
    idx, mult = idx[keep], mult[keep]
    if flip:
        idx, mult = one_of_each_pair(idx, mult, n, symmetric)
    return sign, inner, u, w, idx, mult


def tensor_tuples(n: int, K: int, symmetric: bool):
    """Index tuples (M, K) of the K-dimensional tensor rule of an n-node 1-D rule and their
    multiplicities: every tuple (weight 1), or for a permutation-symmetric integrand the sorted
    tuples with multiplicity K!/Π c_j!."""
    if symmetric and K > 1:
        idx = np.array(list(itertools.combinations_with_replacement(range(n), K)), dtype=int)
        fact = math.factorial(K)
        mult = np.array([fact / math.prod(math.factorial(c) for c in np.unique(t, return_counts=True)[1])
                         for t in idx])
        return idx, mult
    idx = np.array(list(itertools.product(range(n), repeat=K)), dtype=int).reshape(-1, K)
    return idx, np.ones(len(idx))


def one_of_each_pair(idx, mult, n: int, symmetric: bool):
    """For an integrand even under ω → −ω on a 1-D rule mirrored about 0 (node i ↔ n − 1 − i):
    one tuple of each pair ±ω, its multiplicity doubled where the pair is two tuples."""
    K = idx.shape[1]
    neg = n - 1 - idx                                         # the index tuple of −ω
    if symmetric and K > 1:
        neg = np.sort(neg, axis=1)
    key = lambda a: a @ (n ** np.arange(K)[::-1])
    k0, k1 = key(idx), key(neg)
    sel = k0 <= k1
    return idx[sel], mult[sel] * np.where(k0[sel] < k1[sel], 2.0, 1.0)


def slab_rule(K: int, c, L, q_d, q_a, symmetric: bool, flip: bool, per_panel: int = 6):
    """Points ω (P, M, K) and weights (P, M) for E_{ω ~ N(0, q)} F(ω) over the union of the
    slabs |ω_k| < c (F must vanish outside them), q = q_d I + (q_a/K) J (well conditioned).

    For a teacher field nearly determined by the data (V = ρI − q small), the output
    potentials change on the scale √V_kk across the hyperplanes ω_k = 0 and are constant
    (Z_out ∈ {0, 1}) beyond a few √V_kk: Gauss–Hermite in ξ misses those layers.  Here the
    layers are integrated in ω itself with composite Gauss–Legendre panels graded towards
    ω_k = 0 (``SLAB_INNER``), the other coordinates over [−L, L] (``SLAB_OUTER``), and the
    Gaussian density N(ω; 0, q) in the weights.  ``c``, ``L``, ``q_d``, ``q_a``: arrays (P,)."""
    sign, inner, u, w, idx, mult = slab_template(K, symmetric, flip, per_panel)
    c, L = np.asarray(c, float)[:, None], np.asarray(L, float)[:, None]
    pos = sign * np.where(inner, u * c, c + u * (L - c))                  # (P, n)
    wt = w * np.where(inner, c, L - c)
    omega = pos[:, idx]                                                    # (P, M, K)
    a, b = q_d[:, None], (q_d + q_a)[:, None]
    S2 = omega.sum(-1) ** 2 / K
    quad = ((omega ** 2).sum(-1) - S2) / a + S2 / b
    logn = -0.5 * quad - 0.5 * ((K - 1) * np.log(a) + np.log(b)) - 0.5 * K * np.log(2 * np.pi)
    return omega, mult * np.prod(wt[:, idx], axis=-1) * np.exp(logn)
