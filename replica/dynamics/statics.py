"""Static (Bayes-optimal, replica-symmetric) thresholds of the spherical spiked matrix-tensor
model, for the phase diagram next to the gradient-flow line (Sarao Mannelli, Biroli, Cammarota,
Krzakala, Urbani & Zdeborová, PRX 10, 011057 (2020), "Marvels and pitfalls of the Langevin
algorithm"; Fig. 1 of the NeurIPS 2019 paper).

RS free entropy as a function of the overlap m with the signal (spherical prior):

    Φ(m) = ½ log(1 − m) + m/2 + m²/(4Δ₂) + m^p/(2pΔ_p),

its stationary points Φ'(m) = 0 (SymPy's derivative) are the state-evolution fixed points.
* ``amp``: the uninformative point m = 0 loses stability where Φ''(0) = 0, i.e. Δ₂ = 1 (for p ≥ 3,
  whatever Δ_p) — Bayes-optimal AMP from a random start recovers the signal for Δ₂ < 1;
* ``information_theoretic``: the informative maximum m* > 0 has Φ(m*) = Φ(0) = 0; for larger Δ₂
  the signal cannot be recovered even in principle;
* ``spinodal``: the informative branch disappears (Φ' and Φ'' vanish together).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from ..params import POSITIVE, ParameterError

__all__ = ["free_entropy", "informative_overlap", "static_thresholds"]

_m, _d2, _dp = sp.symbols("m Delta_2 Delta_p", positive=True)


def free_entropy(p: int) -> sp.Expr:
    """Φ(m) of the module docstring, a SymPy expression in (m, Δ₂, Δ_p)."""
    return sp.log(1 - _m) / 2 + _m / 2 + _m**2 / (4 * _d2) + _m**p / (2 * p * _dp)


@functools.lru_cache(maxsize=8)
def _numeric(p):
    phi = free_entropy(p)
    d1 = sp.diff(phi, _m)
    return [sp.lambdify((_m, _d2, _dp), e, "numpy") for e in (phi, d1, sp.diff(d1, _m))]


def informative_overlap(delta2: float, deltap: float, p: int = 3, grid: int = 1500):
    """The largest stationary point m* ∈ (0, 1) of Φ that is a local maximum, or None."""
    phi, d1, d2 = _numeric(p)
    m = np.linspace(1e-6, 1 - 1e-9, grid)
    f = d1(m, delta2, deltap)
    roots = [brentq(d1, a, b, args=(delta2, deltap), xtol=1e-14)
             for a, b, fa, fb in zip(m[:-1], m[1:], f[:-1], f[1:]) if fa * fb < 0]
    maxima = [r for r in roots if d2(r, delta2, deltap) < 0]
    return max(maxima) if maxima else None


def static_thresholds(deltap: float, p: int = 3, lo: float = 0.05, hi: float = 5.0) -> dict:
    """{"amp": Δ₂ where Φ''(0) = 0, "information_theoretic": Δ₂ where Φ(m*) = 0,
    "spinodal": the largest Δ₂ with an informative maximum} at fixed Δ_p."""
    deltap = POSITIVE.check("deltap", deltap)
    if p < 3:
        raise ParameterError("p must be >= 3")
    phi, d1, d2 = _numeric(p)
    amp = float(sp.solve(sp.Eq(sp.diff(free_entropy(p), _m, 2).subs(_m, 0), 0), _d2)[0])

    def gap(delta2):
        m = informative_overlap(delta2, deltap, p)
        return -1.0 if m is None else float(phi(m, delta2, deltap))

    grid = np.geomspace(lo, hi, 40)
    exists = np.array([informative_overlap(x, deltap, p) is not None for x in grid])
    if not exists[0]:
        raise ParameterError(f"no informative state even at delta2 = {lo:g}")
    last = int(np.nonzero(exists)[0][-1])
    spin = hi if last == len(grid) - 1 else brentq(
        lambda x: 1.0 if informative_overlap(x, deltap, p) is not None else -1.0, grid[last], grid[last + 1],
        xtol=1e-6)
    g = np.array([gap(x) for x in grid])
    sign = np.nonzero((g[:-1] > 0) & (g[1:] <= 0))[0]
    it = brentq(gap, grid[sign[0]], grid[sign[0] + 1], xtol=1e-10) if len(sign) else math.nan
    return {"amp": amp, "information_theoretic": float(it), "spinodal": float(spin)}
