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

:func:`no_minimizer` applies this per point of a parameter grid to an ERM Model: the CLI refuses
such points up front, ``replica.solve`` reports them not converged with the reason, at once.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy.special import ndtr

from .learning import ERM
from .symbols import lam as LAM, y as Y, z as Z

__all__ = ["separability_threshold", "no_minimizer"]

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


def no_minimizer(model, values: dict) -> tuple[np.ndarray, list]:
    """Where ERM without a ridge has no minimizer, per point of the broadcast grid of ``values``
    (name -> number or array; parameters not given are not checked).

    Labels that a linear rule separates leave no minimizer when the loss keeps decreasing along
    the separating direction (logistic: ℓ(1, λ) > 0 for every λ, decreasing): |ŵ| → ∞ and the
    saddle-point equations have no solution (the RS norm Q and χ grow without bound).  A point
    is flagged when its ridge is 0, the loss ℓ(1, λ) is positive and strictly decreasing at
    λ = 10, 20, 40, and the data are separable: noiseless labels (P(y = −sign z | z) = 0 at
    z = ±1) at every α, noisy ones below α_sep (:func:`separability_threshold`).

    Returns (mask, reasons): a flat bool array over the grid (C order) and, per point, the
    reason (a sentence) or None.  Not an ERM classification model: nothing flagged."""
    names = list(values)
    grids = np.broadcast_arrays(*[np.asarray(values[k], float) for k in names]) if names else []
    pts = {k: g.ravel() for k, g in zip(names, grids)}
    size = next(iter(pts.values())).size if pts else 1
    mask, reasons = np.zeros(size, bool), [None] * size
    L = model.learning
    if not isinstance(L, ERM) or not getattr(model.teacher, "classification", False):
        return mask, reasons
    if isinstance(L.ridge, sp.Symbol):
        if L.ridge.name not in pts:
            return mask, reasons
        zero = pts[L.ridge.name] == 0
    else:
        zero = np.full(size, float(L.ridge) == 0)
    ridge = getattr(L.ridge, "name", "ridge")
    density, loss = model.teacher.density, L.loss.expr
    used = sorted({s.name for s in density.free_symbols | loss.free_symbols} & set(pts))
    teacher = sorted({s.name for s in density.free_symbols} & set(pts))
    seen, thresholds = {}, {}
    for i in np.flatnonzero(zero):
        key = tuple(float(pts[k][i]) for k in used)
        if key not in seen:
            seen[key] = _decreasing_and_noiseless(density, loss, dict(zip(used, key)))
        kind = seen[key]
        if kind is None:
            continue
        if kind == "noiseless":
            mask[i] = True
            reasons[i] = (f"with {ridge} = 0 the loss has no minimizer on these data (noiseless labels are "
                          "linearly separable and the loss keeps decreasing along a separating direction: "
                          "|w| grows without bound); give a positive ridge, or label noise")
            continue
        if "alpha" not in pts:
            continue
        a = float(pts["alpha"][i])
        tkey = tuple(float(pts[k][i]) for k in teacher)
        if tkey not in thresholds:
            thresholds[tkey] = separability_threshold(density, Y, Z, dict(zip(teacher, tkey)))
        a_sep = thresholds[tkey]
        if a < a_sep:
            mask[i] = True
            reasons[i] = (f"with {ridge} = 0 the loss has no minimizer at alpha = {a:g}: these labels are "
                          f"linearly separable for alpha < {a_sep:.6g} (Candès & Sur 2020) and the loss keeps "
                          "decreasing along a separating direction (|w| grows without bound); give a positive "
                          "ridge, or alpha above that")
    return mask, reasons


def _decreasing_and_noiseless(density, loss, at: dict):
    """None when the loss ℓ(1, λ) is not positive and strictly decreasing at λ = 10, 20, 40 (or
    cannot be evaluated); else "noiseless" when P(y = −sign z | z) = 0 at z = ±1, "noisy"
    otherwise."""
    subs = {s: at[s.name] for s in density.free_symbols | loss.free_symbols if s.name in at}
    try:
        ell = [float(loss.subs(subs).subs({Y: 1, LAM: t})) for t in (10, 20, 40)]
        wrong = [float(density.subs(subs).subs({Y: -sp.sign(zz), Z: zz})) for zz in (1, -1)]
    except (TypeError, ValueError):
        return None
    if not ell[0] > ell[1] > ell[2] > 0:
        return None
    return "noiseless" if max(abs(w) for w in wrong) == 0 else "noisy"
