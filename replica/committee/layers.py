"""The layer rule: the outer expectation E_{ω ~ N(0, q)} F(ω) of a sign committee near q → ρI.

For a rule of the signs of the hidden fields the output potentials F(ω) (Z log Z, Z g gᵀ, …)
change only in layers of width √V_kk (V = ρI − q) around the hyperplanes ω_k = 0, and are
constant beyond: where |ω_j| ≥ c = ``LAYER_WIDTH`` √V_jj the sign of the teacher's field z_j
equals that of ω_j up to Φ(−c/√V_jj) = Φ(−8) ≈ 6e-16, so F depends on ω_j only through its
sign.  Gauss–Hermite in ξ (ω = q^{1/2} ξ) cannot resolve layers much thinner than its node
spacing (the product rule's NaN), and a tensor rule graded towards every hyperplane (the K = 2
slab rule) costs n^K points.  Here ℝ^K is cut by the *active set* A = {k : |ω_k| < c}:

    E F = Σ_A Σ_{σ ∈ {±1}^{A^c}} ∫_{[−c, c]^A} dω_A N(ω_A; 0, q_AA) P_σ(ω_A) F(ω_A, σ·∞),     (1)

with P_σ(ω_A) = P(σ_j ω_j ≥ c ∀ j ∉ A | ω_A) under ω ~ N(0, q), q = d I + e J (d = q_d,
e = q_a/K).  Given ω_A (m = |A| coordinates, S = Σ_A ω_k) the others are Gaussian with mean
μ = e S/(d + m e) each and covariance d I + e' J, e' = e d/(d + m e); a common shift √e' s
(s ~ N(0, 1), imaginary for e' < 0 — the analytic continuation of ``lower``'s kernel) makes
them independent:

    P_σ(ω_A) = E_s Π_{j ∉ A} Φ((σ_j (μ + √e' s) − c)/√d),                                       (2)

by Gauss–Hermite in s (real e'; e' < 0 scaled to the envelope as in ``lower``).  The
integral over [−c, c]^A is the tensor rule of a 1-D composite Gauss–Legendre rule graded
towards ω = 0 (``LAYER_PANELS``); F at the inactive coordinates is evaluated at σ_j·∞ (a
field far beyond the layer).  A = ∅ contributes nothing (F vanishes where Z_out ∈ {0, 1}).
For a permutation-symmetric rule only A = {1..m} (times C(K, m)) and sorted tuples of ω_A
(times their multiplicities) are kept: the projections of (1) (trace and total sum of the
K × K matrices, the scalars) are invariant under permuting the units.  Where c ≥ L = 8.5 √q_kk
the inner interval is [−L, L] (the mass beyond is below e^{−36}).

Cost: about n^K/K! points (n = 2 × panels × per_panel) for the largest A, against n^K for the
slab rule and no resolution at all for the product rule.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from .lower import unit_factors
from .quadrature import hermite, legendre, one_of_each_pair, tensor_tuples

__all__ = ["layer_rule", "LAYER_WIDTH", "LAYER_PANELS", "LAYER_PER_PANEL", "LAYER_REFINED_PER_PANEL"]

#: half-width of a layer in units of √V_kk: beyond it the sign of z_k is that of ω_k to Φ(−8)
LAYER_WIDTH = 8.0
#: panel edges of the 1-D inner rule on [0, 1] (times c), graded towards the hyperplane ω_k = 0
LAYER_PANELS = (0.0, 0.08, 0.2, 0.35, 0.55, 0.78, 1.0)
#: Gauss–Legendre nodes per panel, and the higher order of the accuracy estimate
LAYER_PER_PANEL, LAYER_REFINED_PER_PANEL = 4, 6
#: Gauss–Hermite nodes of the conditional orthant probabilities (2), and of the refined order
SHIFT_NODES, SHIFT_REFINED = 31, 41
#: (2) by Gauss–Hermite is trusted where Φ's argument varies on a scale ≥ 1.5 in s (e' > 0) or the
#: conditional covariance's smaller eigenvalue is ≥ 0.4 d (e' < 0); NaN otherwise
_SCALE, _EIG = 1.5, 0.4
#: a field this many √ρ beyond the layer stands for σ·∞
_FAR = 1e3
#: the outer Gaussian's extent in units of √q_kk
_EXTENT = 8.5


@functools.lru_cache(maxsize=8)
def _inner_1d(per_panel: int):
    """(u, w): the 1-D rule on [−1, 1] (times c), panels ``LAYER_PANELS`` mirrored."""
    x, w = legendre(per_panel)
    e = np.asarray(LAYER_PANELS)
    mid, half = (e[1:] + e[:-1]) / 2, (e[1:] - e[:-1]) / 2
    u = (mid[:, None] + half[:, None] * x[None]).ravel()
    wt = (half[:, None] * w[None]).ravel()
    return np.concatenate([-u[::-1], u]), np.concatenate([wt[::-1], wt])


@functools.lru_cache(maxsize=64)
def _tuples(n: int, m: int, symmetric: bool, flip: bool = False):
    """Index tuples (M, m) of the m-dimensional tensor rule and their multiplicities
    (``quadrature.tensor_tuples``); ``flip``: one of each pair ±ω (``quadrature.one_of_each_pair``)."""
    idx, mult = tensor_tuples(n, m, symmetric)
    return one_of_each_pair(idx, mult, n, symmetric) if flip else (idx, mult)


def _shift_rule(d: float, e: float, r: int, nodes: int):
    """(shifts (S,), log weights (S,)) of E_s in (2) for r units, covariance d I + e J; None
    where Gauss–Hermite is not trusted (see ``_SCALE``, ``_EIG``)."""
    if e == 0.0:
        return np.zeros(1), np.zeros(1)
    t, wt = hermite(nodes)
    if e > 0:
        if d < _SCALE ** 2 * e:
            return None
        return math.sqrt(e) * t, np.log(wt)
    if d + r * e < _EIG * d:
        return None
    sig = math.sqrt(d / (d + r * e))
    keep = t >= 0
    t, lw = t[keep], np.log(wt[keep]) + math.log(sig) - 0.5 * (sig * sig - 1.0) * t[keep] ** 2
    lw = lw + np.where(t > 0, math.log(2.0), 0.0)                  # the integrand at −s is the conjugate
    return 1j * math.sqrt(-e) * sig * t, lw


def _orthant_given(mu, sig_b, c: float, d: float, e: float, nodes: int):
    """P_σ(ω_A) of (2) at the conditional means ``mu`` (M,), for the sign patterns ``sig_b``
    (R, r) of the inactive units: (M, R); NaN where the shift rule is not trusted."""
    r = sig_b.shape[1]
    rule = _shift_rule(d, e, r, nodes)
    if rule is None:
        return np.full((mu.size, sig_b.shape[0]), np.nan)
    sh, lw = rule
    sd = math.sqrt(d)
    out = np.empty((mu.size, sig_b.shape[0]))
    # Φ((σ(μ + shift) − c)/√d) = Φ(σ x⁺) for σ = +1 with x⁺ = (μ + shift − c)/√d, and Φ(−x⁻)
    # for σ = −1 with x⁻ = (μ + shift + c)/√d: one unit factor per sign
    xp = (mu[:, None] + sh[None] - c) / sd
    xm = (mu[:, None] + sh[None] + c) / sd
    lwk = lw[None] / r
    pp = unit_factors(xp, lwk)[0]                                            # Φ(x⁺) w^{1/r}
    pm = unit_factors(xm, lwk)[1]                                            # Φ(−x⁻) w^{1/r}
    for j, s in enumerate(sig_b):
        n_plus = int((s > 0).sum())
        prod = pp ** n_plus * pm ** (r - n_plus)
        out[:, j] = prod.sum(-1).real
    return out


def layer_rule(K: int, rho: float, q_d: float, q_a: float, symmetric: bool, refined: bool = False,
               flip: bool = False):
    """Points ω (M, K) and weights (M,) of (1) at one state (q_d, q_a) of the ansatz, for
    integrands that depend on the coordinates beyond the layers only through their signs and
    vanish where every coordinate is beyond (module doc); None where the conditional orthant
    probabilities are not resolved (the caller reports NaN).  ``flip``: the integrand is even
    under ω → −ω (a rule with f(−σ) = −f(σ), projections summed over labels), so the region
    A = all units keeps one point of each pair ±ω."""
    d, e = float(q_d), float(q_a) / K
    vkk, qkk = rho - d - e, d + e
    L = _EXTENT * math.sqrt(qkk)
    c = min(LAYER_WIDTH * math.sqrt(vkk), L)
    u, wu = _inner_1d(LAYER_REFINED_PER_PANEL if refined else LAYER_PER_PANEL)
    pos, wpos = c * u, c * wu
    n = u.size
    far = _FAR * math.sqrt(rho)
    nodes = SHIFT_REFINED if refined else SHIFT_NODES
    points, weights = [], []
    subsets = ([tuple(range(m)) for m in range(1, K + 1)] if symmetric
               else [A for m in range(1, K + 1) for A in itertools.combinations(range(K), m)])
    for A in subsets:
        m, r = len(A), K - len(A)
        mult_A = math.comb(K, m) if symmetric else 1.0
        idx, mult = _tuples(n, m, symmetric, flip and m == K)
        om_A = pos[idx]                                                          # (M, m)
        w = mult * np.prod(wpos[idx], axis=1) * mult_A
        S = om_A.sum(1)
        # the marginal density N(ω_A; 0, d I + e J) (eigenvalues d, and d + m e along 1)
        quad = ((om_A ** 2).sum(1) - S * S / m) / d + S * S / (m * (d + m * e))
        logn = -0.5 * quad - 0.5 * ((m - 1) * math.log(d) + math.log(d + m * e)) - 0.5 * m * math.log(2 * math.pi)
        w = w * np.exp(logn)
        B = [k for k in range(K) if k not in A]
        if r == 0:
            points.append(om_A)
            weights.append(w)
            continue
        sig_b = np.array(list(itertools.product((1.0, -1.0), repeat=r)))
        mu = e * S / (d + m * e)
        prob = _orthant_given(mu, sig_b, c, d, e * d / (d + m * e), nodes)       # (M, R)
        if not np.all(np.isfinite(prob)):
            return None
        for j, s in enumerate(sig_b):
            om = np.empty((om_A.shape[0], K))
            om[:, list(A)] = om_A
            om[:, B] = s * far
            points.append(om)
            weights.append(w * prob[:, j])
    return np.concatenate(points), np.concatenate(weights)


def layer_lines(K: int, rho: float, q_d: float, q_a: float, symmetric: bool, refined: bool = False):
    """The layer rule (1) as lines, for integrands with kinks (the Bayes error's max over labels):
    per region A (|A| = m) and sign pattern σ of the inactive units, lines along the first active
    coordinate ω_{A,1} = t ∈ [−c, c] at the inner rule's nodes of the other m − 1 active ones
    (sorted tuples with multiplicities for a permutation-symmetric rule: the integrand is
    symmetric in ω_A at a fixed σ).  Returns a list of regions, each a dict with ``base`` (Λ, K)
    (t = 0 on the line; inactive coordinates at σ·∞), ``direction`` (K,), ``tw`` (Λ,) the
    transverse weights (times C(K, m) and multiplicities), ``c`` and ``weight(t)`` -> the
    density along the lines, N(ω_A; 0, q_AA) P_σ(ω_A) of (1)–(2), for t (Λ, n); None where the
    conditional orthant probabilities are not resolved (as ``layer_rule``)."""
    d, e = float(q_d), float(q_a) / K
    vkk, qkk = rho - d - e, d + e
    c = min(LAYER_WIDTH * math.sqrt(vkk), _EXTENT * math.sqrt(qkk))
    u, wu = _inner_1d(LAYER_REFINED_PER_PANEL if refined else LAYER_PER_PANEL)
    pos, wpos = c * u, c * wu
    n = u.size
    far = _FAR * math.sqrt(rho)
    nodes = SHIFT_REFINED if refined else SHIFT_NODES
    subsets = ([tuple(range(m)) for m in range(1, K + 1)] if symmetric
               else [A for m in range(1, K + 1) for A in itertools.combinations(range(K), m)])
    regions = []
    for A in subsets:
        m, r = len(A), K - len(A)
        mult_A = math.comb(K, m) if symmetric else 1.0
        if m > 1:
            idx, mult = _tuples(n, m - 1, symmetric)
            tau = pos[idx]                                                     # (T, m-1)
            tw = mult * np.prod(wpos[idx], axis=1) * mult_A
        else:
            tau, tw = np.zeros((1, 0)), np.array([mult_A])
        B = [k for k in range(K) if k not in A]
        sig_b = np.array(list(itertools.product((1.0, -1.0), repeat=r))) if r else np.ones((1, 0))
        R, T = sig_b.shape[0], tau.shape[0]
        base = np.zeros((R, T, K))
        base[:, :, list(A[1:])] = tau[None]
        if r:
            base[:, :, B] = sig_b[:, None, :] * far
        direction = np.zeros(K)
        direction[A[0]] = 1.0
        if r and _shift_rule(d, e * d / (d + m * e), r, nodes) is None:
            return None

        def weight(t, tau=tau, sig_b=sig_b, m=m, r=r, R=R, T=T):
            tt = t.reshape(R, T, -1)
            S = tt + tau.sum(1)[None, :, None]
            sq = tt * tt + (tau * tau).sum(1)[None, :, None]
            quad = (sq - S * S / m) / d + S * S / (m * (d + m * e))
            logn = (-0.5 * quad - 0.5 * ((m - 1) * math.log(d) + math.log(d + m * e))
                    - 0.5 * m * math.log(2 * math.pi))
            w = np.exp(logn)
            if r:
                mu = (e * S / (d + m * e)).ravel()
                prob = _orthant_given(mu, sig_b, c, d, e * d / (d + m * e), nodes)          # (R T n, R)
                prob = prob.reshape(R, T, -1, R)
                w = w * np.stack([prob[j, ..., j] for j in range(R)])
            return w.reshape(t.shape)
        regions.append({"base": base.reshape(R * T, K), "direction": direction,
                        "tw": np.tile(tw, R), "c": c, "weight": weight})
    return regions
