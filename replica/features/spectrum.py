"""Spectral averages E_s f(s) over the eigenvalues s of a covariance.

* Marchenko–Pastur (the random-feature Gram matrix FFᵀ/D, F of size N × D with i.i.d. N(0, 1)
  entries, ratio ψ = N/D; Marchenko & Pastur 1967, Bai & Silverstein 2010, Thm 3.10).  Its
  Stieltjes transform g(z) = E 1/(s − z) is *derived* here: the root of the self-consistent
  equation  ψ z g² + (z + ψ − 1) g + 1 = 0  with z g(z) → −1 as z → −∞; its moments come from
  the expansion of g at infinity, g(z) = −Σ_k E[s^k]/z^{k+1}.  A rational f is split into
  partial fractions in s (``sympy.apart``): E s^k from the moments and
  E 1/(s − r)^k = g^{(k−1)}(r)/(k−1)!, so the average is a closed form in the parameters (real
  for r < 0, i.e. outside the support, which is where ridge problems evaluate it).
* An empirical spectrum (eigenvalues of a given matrix): the mean of f over them.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp

__all__ = ["s", "mp_stieltjes", "mp_moment", "mp_mean", "empirical_mean", "SpectrumError"]

#: an eigenvalue of the spectrum being averaged over
s = sp.Symbol("s", nonnegative=True)
_z = sp.Symbol("z", negative=True)
_g = sp.Symbol("g")
_psi = sp.Symbol("psi", positive=True)


class SpectrumError(ValueError):
    """A spectral average that is not a rational function of the eigenvalue."""


@functools.lru_cache(maxsize=None)
def _stieltjes_generic() -> sp.Expr:
    """g(z; ψ) for z < 0: the root of ψ z g² + (z + ψ − 1) g + 1 = 0 with z g → −1 at −∞."""
    roots = sp.solve(_psi * _z * _g**2 + (_z + _psi - 1) * _g + 1, _g)
    far = [{_z: -sp.Integer(10)**12, _psi: v} for v in (sp.Rational(3, 7), sp.Rational(7, 3))]
    good = [r for r in roots if all(abs(sp.N((_z * r).subs(pt), 30) + 1) < 1e-6 for pt in far)]
    if len(good) != 1:  # pragma: no cover - algebra guard
        raise SpectrumError(f"Marchenko-Pastur: no unique Stieltjes branch among {roots}")
    return good[0]


def mp_stieltjes(z, ratio) -> sp.Expr:
    """g(z) = E_s 1/(s − z) of the Marchenko–Pastur law of ratio ``ratio`` (real z below the support)."""
    return _stieltjes_generic().subs({_z: z, _psi: ratio})


@functools.lru_cache(maxsize=None)
def _moments(k: int) -> tuple:
    w = sp.Symbol("w", positive=True)                   # w = −1/z → 0⁺
    ser = sp.series((_stieltjes_generic().subs(_z, -1 / w)), w, 0, k + 2).removeO()
    # g(−1/w) = −Σ_j E[s^j] (−w)^{j+1}
    return tuple(sp.simplify(-ser.coeff(w, j + 1) / (-1)**(j + 1)) for j in range(k + 1))


def mp_moment(k: int, ratio) -> sp.Expr:
    """E s^k under Marchenko–Pastur of ratio ``ratio`` (1, 1, 1 + ψ, ...)."""
    return _moments(k)[k].subs(_psi, ratio)


def mp_mean(f: sp.Expr, ratio) -> sp.Expr:
    """E_s f(s) under Marchenko–Pastur of ratio ``ratio``; f rational in :data:`s`."""
    f = sp.together(sp.sympify(f))
    num, den = sp.fraction(f)
    if not (num.is_polynomial(s) and den.is_polynomial(s)):
        raise SpectrumError(f"spectral average of a non-rational function of the eigenvalue: {f}")
    out = sp.S.Zero
    for term in sp.Add.make_args(sp.apart(f, s)):
        c, rest = term.as_independent(s, as_Add=False)
        if rest == 1:
            out += c
            continue
        base, k = rest.as_base_exp()
        if base == s and k.is_Integer and k > 0:
            out += c * mp_moment(int(k), ratio)
            continue
        if k.is_Integer and k < 0 and sp.degree(base, s) == 1:
            a1 = sp.diff(base, s)
            r = -base.subs(s, 0) / a1                        # base = a1 (s − r)
            n = int(-k)
            zz = sp.Dummy("z")
            gk = sp.diff(mp_stieltjes(zz, ratio), zz, n - 1) / sp.factorial(n - 1)
            out += c / a1**n * gk.subs(zz, r)
            continue
        raise SpectrumError(f"spectral average: cannot split {term} into s^k and 1/(s - r)^k")
    return out


def empirical_mean(f: sp.Expr, eigenvalues, weights: dict | None = None, masses=None) -> sp.Expr:
    """(1/N) Σ_i f(s_i, ...) over an empirical spectrum, or Σ_i p_i f(s_i, ...) with the
    probabilities ``masses`` p_i (quadrature nodes of a density); ``weights`` maps further symbols
    of f to per-eigenvalue arrays (e.g. the teacher's weight on each eigen-direction)."""
    ev = np.asarray(eigenvalues, dtype=float)
    cols = {sym: np.asarray(v, dtype=float) for sym, v in (weights or {}).items()}
    fn = sp.Lambda((s, *cols), f)
    terms = [fn(sp.Float(ev[i]), *[sp.Float(c[i]) for c in cols.values()]) for i in range(ev.size)]
    if masses is None:
        return sp.Add(*terms) / ev.size
    p = np.asarray(masses, dtype=float)
    return sp.Add(*[sp.Float(p[i]) * t for i, t in enumerate(terms)])
