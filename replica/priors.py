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
from .density_checks import check_nonnegative, corner_points
from .params import POSITIVE, Domain
from .symbolic.gauss import GaussE, lebesgue_integral
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
        """∫ dP(w) f(w): sum over atoms plus the continuous part (closed form, or a quadrature node)."""
        f = sp.sympify(f)
        total = sum((p * f.subs(W, a) for a, p in self.atoms), sp.S.Zero)
        if self.density != 0:
            g = self.density * f
            c = lebesgue_integral(g, W)
            if c is None:
                x = sp.Dummy("x", real=True)
                c = GaussE(sp.sqrt(2 * sp.pi) * sp.exp(x**2 / 2) * g.subs(W, x), x)
            total += c
        return total

    def partition(self, b, A) -> sp.Expr:
        """Z_w(b, A) = ∫ dP(w) e^{b w - A w²/2}; for a discrete prior exp(LogSumExp(log p_i + b a_i - A a_i²/2))."""
        if self.density == 0 and len(self.atoms) > 1:
            return sp.exp(LogSumExp(*[sp.log(p) + b * a - A * a**2 / 2 for a, p in self.atoms]))
        return self.integrate(sp.exp(b * W - A * W**2 / 2))

    def second_moment(self) -> sp.Expr:
        """ρ = E[w²]."""
        return sp.simplify(self.integrate(W**2))

    def shannon_entropy(self) -> sp.Expr:
        """-Σ p_i log p_i of a purely discrete prior; 0 for one with a continuous part
        (entropies of continuous weights are reported as log-volume fractions)."""
        if self.density != 0:
            return sp.S.Zero
        return -sum((p * sp.log(p) for _, p in self.atoms if p != 0), sp.S.Zero)

    def _numeric_mass(self, pt) -> float:
        """Σ p_i + ∫ ρ_c(w) dw by adaptive quadrature (for densities without a closed-form integral)."""
        import scipy.integrate as si
        f = sp.lambdify(W, self.density.subs(pt), "numpy")
        with np.errstate(all="ignore"):
            val, _ = si.quad(lambda v: float(f(v)), -np.inf, np.inf, limit=200)
        atoms = sum(float(p.subs(pt)) for _, p in self.atoms)
        return atoms + val if np.isfinite(val) else np.inf

    def laplace(self, b, A) -> sp.Expr:
        """lim_{β→∞} (1/β) log ∫ dP(w) e^{β(b w - A w²/2)} = max over the support of b w - A w²/2."""
        cands = [b * a - A * a**2 / 2 for a, _ in self.atoms]
        if self.density != 0:
            cands.append(b**2 / (2 * A))
        return cands[0] if len(cands) == 1 else sp.Max(*cands)

    def check(self):
        """Normalization and positivity, checked where that can be decided."""
        total = sp.simplify(self.integrate(sp.S.One))
        if total.free_symbols:
            pts = _sample_points(total.free_symbols, self.domains)
            vals = [complex(total.subs(pt).evalf()) for pt in pts]
            ok = all(abs(v - 1) < 1e-8 for v in vals)
        elif total.has(GaussE):
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
        self.atoms = atoms
        self.density = cont
        self._fixed_norm = None if fixed_norm is None else sp.sympify(fixed_norm)
        self.expr = expr
        self.check()

    def _args_repr(self):
        return str(self.expr).replace("DiracDelta", "δ")
