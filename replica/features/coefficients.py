"""Gaussian-equivalence coefficients of an activation σ (Mei & Montanari 2019, arXiv:1908.05355,
eq. (5); Goldt et al. 2020; Gerace et al. 2020, arXiv:2002.09339):

    μ₀ = E σ(ξ),   μ₁ = E ξ σ(ξ),   μ*² = E σ(ξ)² − μ₀² − μ₁²,   ξ ~ N(0, 1).

Each expectation goes through the engine's Gaussian algebra (closed form where it closes, Stein's
lemma E[ξσ] = E[σ'] tried for μ₁, odd symmetry for μ₀); what stays open is integrated by mpmath
at 30 digits (tanh, erf²).
"""
from __future__ import annotations

import mpmath
import sympy as sp

from ..symbolic.gauss import GaussE, gauss_expect

__all__ = ["gaussian_moments"]

_DPS = 30


def _numeric(f, x) -> sp.Float:
    """E_x f(x) by mpmath quadrature on the real line (30 digits)."""
    fn = sp.lambdify(x, f, "mpmath")
    with mpmath.workdps(_DPS + 5):
        v = mpmath.quad(lambda t: fn(t) * mpmath.npdf(t), [-mpmath.inf, -4, 0, 4, mpmath.inf])
    return sp.Float(v, _DPS)


def _odd(f, x) -> bool:
    return sp.simplify(f.subs(x, -x) + f) == 0


def _expect(f, x) -> sp.Expr:
    if _odd(f, x):
        return sp.S.Zero
    e = gauss_expect(f, x)
    if e.has(GaussE):
        return _numeric(f, x)
    return sp.nsimplify(e) if e.is_number and not e.is_Float else e


def gaussian_moments(sigma: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(μ₀, μ₁, μ*) of the activation ``sigma`` (a SymPy expression of the one symbol ``x``)."""
    mu0 = _expect(sigma, x)
    # μ₁ = E[ξσ(ξ)] = E[σ'(ξ)] (Stein) when σ' closes and the direct form does not
    direct = _expect(x * sigma, x) if _odd(x * sigma, x) else gauss_expect(x * sigma, x)
    if direct.has(GaussE):
        via_stein = gauss_expect(sp.diff(sigma, x), x)
        mu1 = via_stein if not via_stein.has(GaussE) else _numeric(x * sigma, x)
    else:
        mu1 = direct
    m2 = _expect(sigma**2, x)
    star2 = sp.simplify(m2 - mu0**2 - mu1**2)
    if not star2.is_number:
        raise ValueError(f"activation {sigma}: its moments depend on {sorted(map(str, star2.free_symbols))}")
    if float(star2) < -1e-25:
        raise ValueError(f"activation {sigma}: negative μ*² = {star2}")
    mustar = sp.sqrt(star2) if float(star2) > 1e-25 else sp.S.Zero
    return sp.simplify(mu0), sp.simplify(mu1), mustar
