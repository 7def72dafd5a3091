"""Orthant probabilities of correlated Gaussians and their gradients in the mean.

A committee whose output depends on the hidden fields through their signs has the output
potential  Z_out(y; ω, V) = Σ_{σ ∈ {±1}^K} [f(σ) = y] P(σ ⊙ z > 0),  z ~ N(ω, V),  a sum of
orthant probabilities

    P_K(μ, Σ) = P(x > 0 componentwise),   x ~ N(μ, Σ).

* K = 1:  Φ(μ/s) (``scipy.special.ndtr``);
* K = 2:  Φ₂(h, k; r) in closed form with Owen's T function (Owen 1956):
  Φ₂ = ½Φ(h) + ½Φ(k) − T(h, (k − r h)/(h√(1−r²))) − T(k, (h − r k)/(k√(1−r²))) − ½[hk < 0];
* K ≥ 3:  conditioning on the last coordinate, P_K = ∫_{x_K > 0} N(x_K) P_{K−1}(μ_c, Σ_c) dx_K,
  a smooth one-dimensional integral done by Gauss–Legendre on the standardized half-line cut
  at 9 standard deviations (μ_c, Σ_c the conditional mean and Schur complement).

Gradients need no differentiation of quadratures: ∂P_K/∂μ_k = N(0; μ_k, Σ_kk) P_{K−1}(the
other coordinates > 0 | x_k = 0), the density of the k-th coordinate at the face times the
orthant probability of the face.  Every function broadcasts over leading axes.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr, owens_t

from .quadrature import legendre

__all__ = ["orthant", "orthant_grad", "bvn_upper"]

_SQ2PI = np.sqrt(2 * np.pi)
_CUT = 9.0          # standardized half-line truncated at 9 sd (tail < 1e-18)
_EPS = 1e-300


def _npdf(x):
    return np.exp(-0.5 * x * x) / _SQ2PI


def bvn_upper(h, k, r):
    """Φ₂(h, k; r) = P(X < h, Y < k) for standard normals of correlation r (Owen's T form)."""
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    s = np.sqrt(np.clip(1.0 - r * r, 1e-300, None))
    hs = np.where(h == 0, 1e-300, h)
    ks = np.where(k == 0, 1e-300, k)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ah = (k - r * h) / (hs * s)
        ak = (h - r * k) / (ks * s)
        out = 0.5 * ndtr(h) + 0.5 * ndtr(k) - owens_t(h, ah) - owens_t(k, ak)
    out = out - 0.5 * ((h * k < 0) | ((h * k == 0) & (h + k < 0)))
    # both arguments zero: the ratios above are 0/0; Sheppard's formula
    out = np.where((h == 0) & (k == 0), 0.25 + np.arcsin(np.clip(r, -1, 1)) / (2 * np.pi), out)
    # perfectly (anti)correlated limits
    out = np.where(r >= 1 - 1e-15, ndtr(np.minimum(h, k)), out)
    out = np.where(r <= -1 + 1e-15, np.maximum(ndtr(h) + ndtr(k) - 1, 0.0), out)
    return np.clip(out, 0.0, 1.0)


def _conditional(mu, S, k):
    """Mean and covariance of the other coordinates given x_k = 0."""
    idx = [j for j in range(mu.shape[-1]) if j != k]
    Skk = S[..., k, k]
    c = S[..., idx, k]
    muc = mu[..., idx] - c * (mu[..., k] / Skk)[..., None]
    Sc = S[..., idx, :][..., :, idx] - c[..., :, None] * c[..., None, :] / Skk[..., None, None]
    return muc, Sc


def orthant(mu, S, nodes: int = 32):
    """P(x > 0), x ~ N(mu, S); mu (..., K), S (..., K, K)."""
    mu = np.asarray(mu, float)
    S = np.asarray(S, float)
    K = mu.shape[-1]
    if K == 1:
        return ndtr(mu[..., 0] / np.sqrt(S[..., 0, 0]))
    if K == 2:
        s1, s2 = np.sqrt(S[..., 0, 0]), np.sqrt(S[..., 1, 1])
        return bvn_upper(mu[..., 0] / s1, mu[..., 1] / s2, S[..., 0, 1] / (s1 * s2))
    # condition on the last coordinate: x_K = mu_K + s t, t >= -mu_K/s
    sK = np.sqrt(S[..., -1, -1])
    lo = np.clip(-mu[..., -1] / sK, -_CUT, _CUT)
    x, w = legendre(nodes)
    half = (_CUT - lo) / 2
    t = lo[..., None] + half[..., None] * (x + 1)                       # (..., n)
    c = S[..., :-1, -1]                                                  # (..., K-1)
    muc = mu[..., None, :-1] + (c / sK[..., None])[..., None, :] * t[..., None]
    Sc = S[..., :-1, :-1] - c[..., :, None] * c[..., None, :] / S[..., -1, -1][..., None, None]
    inner = orthant(muc, Sc[..., None, :, :], nodes)                     # (..., n)
    return np.sum(w * _npdf(t) * inner, axis=-1) * half


def orthant_grad(mu, S, nodes: int = 32):
    """∂P(x > 0)/∂mu_k for every k, shape (..., K)."""
    mu = np.asarray(mu, float)
    S = np.asarray(S, float)
    K = mu.shape[-1]
    out = []
    for k in range(K):
        s = np.sqrt(S[..., k, k])
        dens = _npdf(mu[..., k] / s) / s
        if K == 1:
            out.append(dens)
            continue
        muc, Sc = _conditional(mu, np.broadcast_to(S, mu.shape + (K,)), k)
        out.append(dens * orthant(muc, Sc, nodes))
    return np.stack(out, axis=-1)
