"""Integrals over a continuous label against a Gaussian density in the label.

For a teacher with additive Gaussian noise, y = f(z) + √Δ η, every label integral of a
zero-temperature (ERM) or Gibbs theory has the form

    ∫ dy  c · e^{-(y - μ)²/(2s²)} · g(y)  =  c · √(2π) s · E_t[ g(μ + s t) ],   t ~ N(0, 1),

with g anything the loss produces (a Moreau envelope with kinks, a proximal map without closed
form).  The density's exponent is read off the integrand (the factors that are exponentials
of a quadratic in y with a negative leading coefficient); the rest becomes a Gaussian
expectation node, closed where SymPy can, else quadrature (split at its kinks) at lowering.
"""
from __future__ import annotations

import sympy as sp

from ..symbolic.gauss import gauss_expect

__all__ = ["gaussian_label_integral"]


def _split(term, y):
    """(exponent, rest) with term = e^{exponent} · rest, the exponent a quadratic in y collected
    from the exponential factors; None when there is none."""
    expo, rest = sp.S.Zero, []
    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.exp) and f.has(y):
            expo += f.args[0]
        elif f.is_Pow and isinstance(f.base, sp.exp) and f.has(y) and not f.exp.has(y):
            expo += f.base.args[0] * f.exp
        else:
            rest.append(f)
    expo = sp.expand(expo)
    if expo == 0 or not expo.is_polynomial(y) or sp.degree(expo, y) != 2:
        return None
    return expo, sp.Mul(*rest)


def gaussian_label_integral(f, y):
    """∫ dy f(y) as c √(2π) s E_t[g(μ + s t)] term by term (see the module docstring), or None
    when a term has no Gaussian factor in y with a leading coefficient known to be negative."""
    f = sp.powsimp(sp.sympify(f), combine="exp")
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(f, deep=False, power_exp=False)):
        split = _split(sp.powsimp(term, combine="exp"), y)
        if split is None:
            return None
        expo, rest = split
        c2, c1, c0 = (expo.coeff(y, k) for k in (2, 1, 0))
        if not (-c2).is_positive:
            return None
        s2 = -1 / (2 * c2)
        mu = c1 * s2
        t = sp.Dummy("t", real=True)
        s = sp.sqrt(s2)
        pref = sp.exp(c0 + mu**2 / (2 * s2)) * s * sp.sqrt(2 * sp.pi)
        total += pref * gauss_expect(rest.xreplace({y: mu + s * t}), t)
    return total
