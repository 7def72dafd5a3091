"""Priors: single-site weight distributions P(w), stated once as SymPy objects.

A prior is a finite set of atoms (value, probability) plus a continuous density.
Everything the replica calculation needs — the log-partition
log ∫ dP(w) e^{b w - A w²/2}, its zero-temperature (Laplace) limit, the second
moment ρ = E w², the Shannon entropy of a discrete prior — is derived from that
statement by :mod:`replica.symbolic`; nothing is typed in per prior.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ._component import Component, ComponentError
from .density_checks import check_nonnegative, corner_points, numeric
from .params import POSITIVE, Domain
from .symbolic.gauss import GaussE, expand_indicators, lebesgue_integral
from .symbolic.lines import LineIntegral, line_integral, support
from .symbolic.special import LogSumExp
from .symbols import w as W

__all__ = ["Prior", "Spherical", "Ising", "Gaussian", "GaussBernoulli", "Custom"]

_NORMAL = sp.exp(-W**2 / 2) / sp.sqrt(2 * sp.pi)


class Prior(Component):
    """P(w) = Σ_i p_i δ(w - a_i) + ρ_c(w).

    ``fixed_norm``: the student's self-overlap Q is constrained to this value (spherical
    weights) rather than extremized.
    """

    w = W
    _fixed_norm = None

    def __init__(self, atoms=(), density=0):
        super().__init__()
        self.atoms = [(sp.sympify(a), sp.sympify(p)) for a, p in atoms]
        self.density = sp.sympify(density)

    @property
    def fixed_norm(self):
        """Q held fixed: declared (spherical weights), or implied when w² is the same at every
        atom of a purely discrete prior (±1 weights: Q = 1 and its conjugate drops out)."""
        if self._fixed_norm is not None:
            return self._fixed_norm
        if self.density == 0 and self.atoms:
            sq = {sp.simplify(a**2) for a, _ in self.atoms}
            if len(sq) == 1:
                return sq.pop()
        return None

    # -- derived quantities ------------------------------------------------------------
    def integrate(self, f) -> sp.Expr:
        """∫ dP(w) f(w): sum over atoms plus the continuous part — closed form (Gaussian
        integrals on intervals), else ∫ dw ρ_c(w) f(w) as a :class:`LineIntegral` node, lowered
        to a quadrature on the density's support split at its kinks."""
        f = sp.sympify(f)
        total = sum((p * f.subs(W, a) for a, p in self.atoms), sp.S.Zero)
        if self.density != 0:
            g = self.density * f
            c = lebesgue_integral(g, W)
            if c is None:
                c = self._standard_normal(f)
            if c is None:
                c = self._line(g)
            total += c
        return total

    def _standard_normal(self, f):
        """c E_x[f(x)], x ~ N(0, 1), when the density is c times the standard normal one (the
        spherical and unit Gaussian priors): Gauss-Hermite is exact for it, no line node needed."""
        ratio = sp.simplify(self.density / _NORMAL)
        if ratio.has(W):
            return None
        x = sp.Dummy("x", real=True)
        return ratio * GaussE(f.subs(W, x), x)

    def _line(self, g):
        """∫ dw g(w) as a quadrature node on the density's effective support."""
        x = sp.Dummy("x", real=True)
        return line_integral(g.subs(W, x), x, *self.effective_support())

    def effective_support(self) -> tuple:
        """(lo, hi) of the continuous density: its support, with an unbounded side cut where a
        parameter-free density has fallen below 1e-30 for good (the mass beyond is below
        rounding; inside, tilted integrands e^{b w - A w²/2 - L} stay representable)."""
        lo, hi = support(self.density, W)
        if self.density.free_symbols - {W}:
            return lo, hi
        f = numeric(W, self.density)
        out = []
        for end, sgn in ((lo, -1), (hi, 1)):
            if end.is_finite:
                out.append(end)
                continue
            cut = sgn * sp.oo
            with np.errstate(all="ignore"):
                for k in range(1, 1020):
                    v = np.abs(np.asarray(f(sgn * 2.0**np.array([k, k + 1])), float) * np.ones(2))
                    if np.all(v < 1e-30):
                        cut = sp.Integer(sgn * 2**k)
                        break
            out.append(cut)
        return tuple(out)

    def support(self) -> tuple:
        """(lo, hi): the hull of the atoms and of the continuous density's support."""
        lo, hi = (support(self.density, W) if self.density != 0 else (sp.oo, -sp.oo))
        for a, _ in self.atoms:
            lo, hi = sp.Min(lo, a), sp.Max(hi, a)
        return lo, hi

    def partition(self, b, A) -> sp.Expr:
        """Z_w(b, A) = ∫ dP(w) e^{b w - A w²/2}; for a discrete prior exp(LogSumExp(log p_i + b a_i - A a_i²/2))."""
        if self.density == 0 and len(self.atoms) > 1:
            return sp.exp(LogSumExp(*[sp.log(p) + b * a - A * a**2 / 2 for a, p in self.atoms]))
        f = sp.exp(b * W - A * W**2 / 2)
        cont = lebesgue_integral(self.density * f, W) if self.density != 0 else None
        if self.density != 0 and (cont is None or cont.has(sp.erfc)):
            # no closed form, or one in Gaussian tails (a density on a half-line or an interval,
            # or with a kink): a difference of tails that overflows and cancels at large b²/A —
            # the tilted quadrature instead
            cont = self._line(self.density * f)
        if not self.atoms:
            return cont
        # atoms and a density: a sum of positive terms, kept as one (weights such as 1 - ρ
        # must not be split into signed terms of a log-sum-exp)
        return sp.exp(LogSumExp(*[sp.log(p) + b * a - A * a**2 / 2 for a, p in self.atoms],
                                sp.expand_log(sp.log(cont), force=True)))

    def second_moment(self) -> sp.Expr:
        """ρ = E[w²]: closed form (Gaussian integrals, else SymPy's ``integrate`` on each smooth
        piece of the density), else the quadrature node of :meth:`integrate`."""
        rho = self.integrate(W**2)
        if rho.has(LineIntegral):
            cont = _piecewise_integral(self.density * W**2)
            if cont == sp.oo:
                raise ComponentError(f"{self!r}: the second moment E w² is infinite; the replica "
                                     "theory needs a prior with finite variance")
            if cont is not None:
                rho = sum((p * a**2 for a, p in self.atoms), sp.S.Zero) + cont
        return sp.simplify(rho)

    def shannon_entropy(self) -> sp.Expr:
        """-Σ p_i log p_i of a purely discrete prior; 0 for one with a continuous part
        (entropies of continuous weights are reported as log-volume fractions)."""
        if self.density != 0:
            return sp.S.Zero
        return -sum((p * sp.log(p) for _, p in self.atoms if p != 0), sp.S.Zero)

    def _numeric_mass(self, pt) -> float:
        """Σ p_i + ∫ ρ_c(w) dw by adaptive quadrature (for densities without a closed-form integral)."""
        import scipy.integrate as si
        f = numeric(W, self.density.subs(pt))
        with np.errstate(all="ignore"):
            val, _ = si.quad(lambda v: float(f(v)), -np.inf, np.inf, limit=200)
        atoms = sum(float(p.subs(pt)) for _, p in self.atoms)
        return atoms + val if np.isfinite(val) else np.inf

    def laplace(self, b, A) -> sp.Expr:
        """lim_{β→∞} (1/β) log ∫ dP(w) e^{β(b w - A w²/2)} = max over the support of b w - A w²/2:
        at the atoms, and at b/A clipped into the continuous support [lo, hi]."""
        cands = [b * a - A * a**2 / 2 for a, _ in self.atoms]
        if self.density != 0:
            lo, hi = support(self.density, W)
            if lo == -sp.oo and hi == sp.oo:
                cands.append(b**2 / (2 * A))
            else:
                c = b / A
                c = c if lo == -sp.oo else sp.Max(c, lo)
                c = c if hi == sp.oo else sp.Min(c, hi)
                cands.append(b * c - A * c**2 / 2)
        return cands[0] if len(cands) == 1 else sp.Max(*cands)

    def check(self):
        """Normalization and positivity, checked where that can be decided."""
        total = sp.simplify(self.integrate(sp.S.One))
        if total.free_symbols:
            pts = _sample_points(total.free_symbols, self.domains)
            vals = [complex(total.subs(pt).evalf()) for pt in pts]
            ok = all(abs(v - 1) < 1e-8 for v in vals)
        elif total.has(LineIntegral):
            ok = all(abs(self._numeric_mass(pt) - 1) < 1e-8 for pt in _sample_points(self.density.free_symbols - {W}, self.domains))
        else:
            ok = abs(complex(total.evalf()) - 1) < 1e-10
        if not ok:
            raise ComponentError(f"{self!r}: density is not normalized (its integral is {total})")
        syms = self.density.free_symbols - {W}
        for pt in _sample_points(syms, self.domains) + corner_points(syms, self.domains):
            # the whole line: symbolically where SymPy decides, else a dense grid with tails
            wbad = check_nonnegative(self.density.subs(pt), W) if self.density != 0 else None
            if wbad is not None:
                raise ComponentError(f"{self!r}: density is negative at w={wbad:g} (parameters {pt})")
        for a, p in self.atoms:
            for pt in _sample_points(p.free_symbols, self.domains):
                if float(p.subs(pt)) < 0:
                    raise ComponentError(f"{self!r}: negative atom probability {p} at {pt}")
        return self


def _piecewise_integral(g):
    """∫ dw g(w) by SymPy's ``integrate`` on each indicator piece of g, or None (no closed form,
    or a piece whose interval is not numeric)."""
    total = sp.S.Zero
    try:
        for piece, conds in expand_indicators(g, W):
            lo, hi = -sp.oo, sp.oo
            for h in conds:
                h = sp.expand(h)
                if not h.is_polynomial(W) or sp.degree(h, W) != 1:
                    return None
                a, c = sp.Poly(h, W).all_coeffs()
                if not (a.is_number and (-c / a).is_number):
                    return None
                if a > 0:
                    lo = sp.Max(lo, -c / a)
                else:
                    hi = sp.Min(hi, -c / a)
            if lo != -sp.oo and hi != sp.oo and bool(hi <= lo):
                continue
            val = sp.integrate(piece, (W, lo, hi), conds="none")
            if val in (sp.oo, -sp.oo):
                return val
            if val.has(sp.Integral) or val.has(sp.nan, sp.zoo) or not val.is_finite:
                return None
            total += val
    except (ValueError, TypeError, NotImplementedError, sp.PolynomialError):
        return None
    return total


def merge_atoms(atoms):
    """Atoms at the same point (equal up to simplification) merged, their weights added."""
    out = []
    for a, p in atoms:
        for i, (b, q) in enumerate(out):
            if sp.simplify(a - b) == 0:
                out[i] = (b, sp.simplify(q + p))
                break
        else:
            out.append((a, p))
    return [(a, p) for a, p in out if p != 0]


def _sample_points(syms, domains, k=3):
    """A few admissible values of the symbols, for numerical checks of custom components."""
    rng = np.random.default_rng(0)
    pts = []
    for _ in range(k):
        pt = {}
        for s in syms:
            d = domains.get(s, Domain())
            lo = d.lo if math.isfinite(d.lo) else min(-2.0, d.hi - 2.0)
            hi = d.hi if math.isfinite(d.hi) else max(2.0, lo + 2.0)
            pt[s] = lo + (hi - lo) * (0.1 + 0.8 * rng.random())
        pts.append(pt)
    return pts or [{}]


class Gaussian(Prior):
    """w ~ N(0, var)."""

    def __init__(self, var=1):
        super().__init__()
        self.var = self._param("var", var, POSITIVE)
        self.density = sp.exp(-W**2 / (2 * self.var)) / sp.sqrt(2 * sp.pi * self.var)

    def _args_repr(self):
        return f"var={self.var}"


class Spherical(Prior):
    """Uniform on the sphere |w|² = N: a standard Gaussian density with the norm Q fixed to 1
    by a Lagrange multiplier (the conjugate Q_hat), so that log-volumes are fractions of the sphere."""

    _fixed_norm = sp.S.One

    def __init__(self):
        super().__init__(density=_NORMAL)


class Ising(Prior):
    """w = ±1 with probability ½ each."""

    def __init__(self):
        super().__init__(atoms=[(1, sp.S.Half), (-1, sp.S.Half)])


class GaussBernoulli(Prior):
    """w = 0 with probability 1 - rho, else N(0, 1)."""

    def __init__(self, rho=sp.S.Half):
        super().__init__()
        self.rho = self._param("rho", rho, Domain(0.0, 1.0, True, False))
        self.atoms = [(sp.S.Zero, 1 - self.rho)]
        self.density = self.rho * _NORMAL

    def _args_repr(self):
        return f"rho={self.rho}"


class Custom(Prior):
    """Any single-site prior: ``density`` is a SymPy expression in ``w``; point masses are
    written ``p*DiracDelta(w - a)``.  Free symbols other than ``w`` must be declared in
    ``params`` (name -> (lo, hi) or 'positive' / 'real' / 'nonnegative').

    >>> import sympy as sp
    >>> w = sp.Symbol('w')
    >>> Custom(sp.Rational(1, 2)*sp.DiracDelta(w - 1) + sp.Rational(1, 2)*sp.DiracDelta(w + 1), w)
    Custom(1/2*δ(w - 1) + 1/2*δ(w + 1))
    """

    def __init__(self, density, w, params=None, fixed_norm=None):
        super().__init__()
        if not isinstance(w, sp.Symbol):
            raise ComponentError("priors.Custom: w must be a SymPy Symbol")
        if isinstance(density, str):
            raise ComponentError("priors.Custom: give the density as a SymPy expression, not a string")
        expr = self._declare(sp.sympify(density).subs(w, W), {W}, params, "priors.Custom")
        if not expr.has(W):
            raise ComponentError("priors.Custom: the density does not depend on w")
        atoms, cont = [], sp.S.Zero
        for term in sp.Add.make_args(sp.expand(expr)):
            deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.DiracDelta)]
            if deltas:
                if len(deltas) > 1:
                    raise ComponentError("priors.Custom: a product of Dirac deltas is not a density")
                d = deltas[0]
                root = sp.solve(d.args[0], W)
                if len(root) != 1:
                    raise ComponentError(f"priors.Custom: cannot locate the atom of {d}")
                atoms.append((root[0], term / d))
            else:
                cont += term
        self.atoms = merge_atoms(atoms)
        self.density = cont
        self._fixed_norm = None if fixed_norm is None else sp.sympify(fixed_norm)
        self.expr = expr
        self.check()

    def _args_repr(self):
        return str(self.expr).replace("DiracDelta", "δ")
