"""A covariance spectrum given as a density: quadrature nodes and probabilities.

An eigenvalue density ρ(ω) on a finite support [a, b] (a SymPy expression of one symbol, or a
Python callable of a NumPy array) becomes ``nodes`` Gauss–Legendre points ω_k with probabilities
p_k = w_k ρ(ω_k) J_k / Σ_j w_j ρ(ω_j) J_j — in log ω (J = ω) where a > 0 and b/a > 10, so that
a power law spanning decades is resolved evenly, in ω (J = 1) otherwise.  The normalization by the
quadrature itself makes ρ's constant irrelevant.  A spectral average E_ω f(ω) is then Σ_k p_k f(ω_k),
exact for polynomials of degree < 2·nodes in the integration variable.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["density_nodes", "as_function", "DensityError"]


class DensityError(ValueError):
    """A density or support that cannot be used."""


def as_function(f, what: str):
    """A NumPy function of one array from a SymPy expression of one symbol, a number or a callable."""
    if callable(f) and not isinstance(f, sp.Basic):
        def call(x):
            try:
                v = np.asarray(f(x), dtype=float)
            except (TypeError, ValueError):
                v = np.array([float(f(float(t))) for t in x])
            return np.broadcast_to(v, x.shape).astype(float)
        return call
    try:
        expr = sp.sympify(f)
    except (sp.SympifyError, TypeError) as e:
        raise DensityError(f"{what}: a SymPy expression of one symbol or a callable, not {f!r}") from e
    syms = sorted(expr.free_symbols, key=str)
    if len(syms) > 1:
        raise DensityError(f"{what}: {expr} has more than one symbol ({', '.join(map(str, syms))})")
    if not syms:
        c = float(expr)
        return lambda x: np.full(x.shape, c)
    fn = sp.lambdify(syms[0], expr, "numpy")
    return lambda x: np.broadcast_to(np.asarray(fn(x), dtype=float), x.shape).astype(float)


def density_nodes(density, support, nodes: int = 64) -> tuple:
    """(ω_k, p_k): quadrature points and probabilities of the density on ``support`` = (a, b)."""
    try:
        a, b = (float(v) for v in support)
    except (TypeError, ValueError) as e:
        raise DensityError(f"support must be two numbers (a, b), not {support!r}") from e
    if not (np.isfinite(a) and np.isfinite(b) and 0 <= a < b):
        raise DensityError(f"support must be finite with 0 <= a < b, got ({a}, {b})")
    if int(nodes) < 2:
        raise DensityError("nodes must be at least 2")
    t, w = np.polynomial.legendre.leggauss(int(nodes))
    if a > 0 and b / a > 10:
        la, lb = np.log(a), np.log(b)
        x = np.exp((lb - la) / 2 * t + (lb + la) / 2)
        jac = x * (lb - la) / 2
    else:
        x = (b - a) / 2 * t + (b + a) / 2
        jac = np.full_like(x, (b - a) / 2)
    rho = as_function(density, "density")(x)
    if not np.all(np.isfinite(rho)) or np.any(rho < 0):
        raise DensityError("the density must be finite and nonnegative on its support")
    mass = w * jac * rho
    if mass.sum() <= 0:
        raise DensityError("the density integrates to zero on its support")
    return x, mass / mass.sum()
