"""Linear separability of a classification teacher's data: where ERM without a ridge has no minimizer.

With labels y = ±1 drawn from P(y | V), V = w*·x/√N ~ N(0, 1), and P/N = α, the data are
linearly separable with probability -> 1 iff α < α_sep = 1/h,

    h = min_t  Σ_{y = ±1} E_V[ P(y | V) g(t y V) ],    g(a) = E_Z[(Z - a)_+²] = (1 + a²) H(a) - a φ(a)

(Candès & Sur 2020, Ann. Stat. 48, 27, Thm 1 and §2; it is Gardner's capacity at zero margin
with the teacher's labels: h = 1/2 at t = 0 gives Cover's α = 2 for random labels, and a
noiseless teacher has h -> 0 as t -> ∞, separable at every α).  A loss that keeps decreasing
along a separating direction (logistic) has no minimizer below α_sep when the ridge is 0.

Numerics: E_V by composite Gauss–Legendre on [-12, 12], panels split at V = 0 (the kink of
sign-type channels); h(t) is convex in t (g is convex and t y V linear), minimized by bounded
Brent on [-T, T] with T = 1e3.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy.special import ndtr

__all__ = ["separability_threshold"]

_T = 1e3


def _g(a):
    """E_Z[(Z - a)_+²] = (1 + a²) H(a) - a φ(a), H the Gaussian tail."""
    return (1 + a * a) * ndtr(-a) - a * np.exp(-a * a / 2) / math.sqrt(2 * math.pi)


def _nodes(panels: int = 48, order: int = 16):
    t, w = np.polynomial.legendre.leggauss(order)
    ends = np.concatenate([np.linspace(-12, 0, panels // 2 + 1), np.linspace(0, 12, panels // 2 + 1)[1:]])
    a, b = ends[:-1, None], ends[1:, None]
    v = ((a + b) / 2 + (b - a) / 2 * t).ravel()
    wv = ((b - a) / 2 * w).ravel() * np.exp(-v * v / 2) / math.sqrt(2 * math.pi)
    return v, wv


def separability_threshold(density, y, z, values: dict | None = None) -> float:
    """α_sep of the labels y = ±1 of the channel ``density`` = P(y | z) (a SymPy expression in
    ``y``, ``z`` and parameters given in ``values``, name -> float): the data are separable for
    α < α_sep; ``inf`` where h vanishes (noiseless labels, separable at every α)."""
    subs = {s: float(values[s.name]) for s in density.free_symbols - {y, z} if values and s.name in values}
    missing = density.free_symbols - {y, z} - set(subs)
    if missing:
        raise ValueError(f"separability_threshold: no value for {sorted(s.name for s in missing)}")
    from scipy.optimize import minimize_scalar     # start-up: scipy.optimize only when asked
    v, wv = _nodes()
    p = {s: np.broadcast_to(np.asarray(sp.lambdify(z, density.subs(subs).subs(y, s), "numpy")(v), float), v.shape)
         for s in (1, -1)}

    def h(t):
        return float(np.sum(wv * (p[1] * _g(t * v) + p[-1] * _g(-t * v))))
    r = minimize_scalar(h, bounds=(-_T, _T), method="bounded", options={"xatol": 1e-10})
    hmin = min(r.fun, h(0.0))
    return math.inf if hmin <= 1e-12 else 1.0 / hmin
