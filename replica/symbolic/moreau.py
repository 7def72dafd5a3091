"""Zero-temperature output potentials: Moreau envelopes and proximal maps, derived from the loss.

    lim_{β→∞} (1/β) log E_u e^{-β ℓ(y, ω + √(χ/β) u)} = -M(y, ω, χ),
    M(y, ω, χ) = min_x [ ℓ(y, x) + (x - ω)²/(2χ) ],      prox = argmin.

For a hard constraint (a Gardner volume, or the version space of a Gibbs student at T = 0)
ℓ is 0 on the feasible set and +∞ off it, and the proximal map is the projection.

The minimization is done symbolically where it can be: the loss is cut into smooth pieces
on intervals (|·|, max, Θ resolved), each piece's stationary point is solved for, the
interval ends are candidates too, and M is the minimum over the admissible candidates.
Where a piece's stationarity condition has no closed-form root (the logistic loss) the
proximal map is the function :class:`Prox`, computed by a safeguarded Newton iteration in
the generated code, with derivatives from the implicit-function theorem.
"""
from __future__ import annotations

import sympy as sp

from .gauss import expand_indicators

__all__ = ["Prox", "moreau", "projection_envelope"]


class Prox(sp.Function):
    """prox(y, ω, χ) = argmin_x ℓ(y, x) + (x-ω)²/(2χ) for a smooth loss without closed-form root.

    The loss is attached to the class (``Prox.of(loss_expr, x, y)``); derivatives come from
    the stationarity condition ℓ'(x) + (x - ω)/χ = 0:
        ∂x/∂ω = 1/(1 + χ ℓ''),  ∂x/∂χ = -ℓ'/(1 + χ ℓ''),  ∂x/∂y = -χ ∂_y ℓ' /(1 + χ ℓ'').
    """

    nargs = 3
    loss: sp.Expr = None
    x: sp.Symbol = None
    ysym: sp.Symbol = None

    _cache: dict = {}

    @staticmethod
    def of(loss, x, ysym):
        key = (sp.srepr(loss), x, ysym)
        cls = Prox._cache.get(key)
        if cls is None:
            cls = type(f"prox{len(Prox._cache)}", (Prox,), {"loss": loss, "x": x, "ysym": ysym})
            Prox._cache[key] = cls
        return cls

    def _derivs(self):
        yv, om, ch = self.args
        l1 = sp.diff(self.loss, self.x)
        l2 = sp.diff(l1, self.x)
        sub = {self.x: self, self.ysym: yv}
        return l1.xreplace(sub), l2.xreplace(sub), sp.diff(l1, self.ysym).xreplace(sub), ch

    def fdiff(self, argindex=1):
        l1, l2, l1y, ch = self._derivs()
        den = 1 + ch * l2
        if argindex == 2:
            return 1 / den
        if argindex == 3:
            return -l1 / den
        return -ch * l1y / den

    def _latex(self, printer, exp=None):
        s = r"\mathrm{prox}\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)
        return s if exp is None else r"%s^{%s}" % (s, exp)


class Envelope(sp.Function):
    """M(y, ω, χ) = min_x ℓ(y, x) + (x-ω)²/(2χ) for a smooth loss without closed-form prox.

    Derivatives by the envelope theorem, so expressions stay small:
        ∂_ω M = (ω - prox)/χ,   ∂_χ M = -(ω - prox)²/(2χ²),   ∂_y M = ∂_y ℓ(y, prox).
    :meth:`expand` gives ℓ(y, prox) + (prox - ω)²/(2χ) for evaluation."""

    nargs = 3
    prox: type = None

    @staticmethod
    def of(prox_cls):
        name = "M_" + prox_cls.__name__
        return type(name, (Envelope,), {"prox": prox_cls})

    def _p(self):
        return self.prox(*self.args)

    def fdiff(self, argindex=1):
        yv, om, ch = self.args
        p = self._p()
        if argindex == 2:
            return (om - p) / ch
        if argindex == 3:
            return -(om - p)**2 / (2 * ch**2)
        return sp.diff(self.prox.loss, self.prox.ysym).xreplace({self.prox.x: p, self.prox.ysym: yv})

    def value(self):
        yv, om, ch = self.args
        p = self._p()
        return self.prox.loss.xreplace({self.prox.x: p, self.prox.ysym: yv}) + (p - om)**2 / (2 * ch)

    def _latex(self, printer, exp=None):
        s = r"\mathcal{M}\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)
        return s if exp is None else r"%s^{%s}" % (s, exp)


def moreau(loss, x, yv, omega, chi):
    """(M, prox): the Moreau envelope of ``loss`` (an expression in ``x``, label set to ``yv``).

    Piecewise losses must be convex (hinge, perceptron): the stationary point of a piece that
    lies inside its interval is then the minimum, else the kink is."""
    ell = sp.sympify(loss)
    F = lambda e, at: (e + (x - omega)**2 / (2 * chi)).subs(x, at)  # noqa: E731
    pieces = expand_indicators(ell, x)
    if len(pieces) == 1 and not pieces[0][1]:
        stat = sp.diff(ell, x) + (x - omega) / chi
        roots = _solve(stat, x)
        if roots is None:
            ylab = sp.Dummy("ylab")
            pcls = Prox.of(ell, x, ylab)
            return Envelope.of(pcls)(yv, omega, chi), pcls(yv, omega, chi)
        (r,) = roots
        return sp.simplify(F(ell, r)), r
    cands = []
    kinks = set()
    for piece, conds in pieces:
        stat = sp.diff(piece, x) + (x - omega) / chi
        roots = _solve(stat, x)
        if roots is None:
            raise NotImplementedError(f"no closed-form proximal map for the piece {piece} of {loss}")
        for r in roots:
            cands.append((r, sp.And(*[sp.StrictGreaterThan(sp.expand(h.subs(x, r)), 0) for h in conds])))
        for h in conds:
            for k in _solve(h, x) or []:
                kinks.add(k)
    kinks = sorted(kinks, key=sp.default_sort_key)
    if len(kinks) > 1:
        raise NotImplementedError(f"proximal map of a loss with several kinks: {loss}")
    prox = sp.Piecewise(*cands, *[(k, sp.true) for k in kinks])
    return F(ell, prox), prox


def projection_envelope(indicator, x, yv, omega, chi):
    """(M, prox) for a hard constraint: M = dist(ω, C)²/(2χ), prox = the projection on C.

    ``indicator`` is a product of Heaviside functions of expressions in ``x``."""
    pieces = expand_indicators(indicator, x)
    feasible = sp.Or(*[sp.And(*[sp.StrictGreaterThan(sp.expand(h.subs(x, omega)), 0) for h in conds])
                       for val, conds in pieces if val != 0])
    bounds = set()
    for _, conds in pieces:
        for h in conds:
            for k in _solve(h, x) or []:
                bounds.add(k)
    bounds = sorted(bounds, key=sp.default_sort_key)
    branches = [(omega, feasible)]
    for i, k in enumerate(bounds):
        # the nearest boundary point: (k - ω)² ≤ (k' - ω)² is linear in ω
        nearer = [sp.LessThan(sp.expand((k - omega)**2 - (o - omega)**2), 0) for o in bounds if o != k]
        branches.append((k, sp.true if i == len(bounds) - 1 else sp.And(*nearer)))
    prox = sp.Piecewise(*branches)
    return (prox - omega)**2 / (2 * chi), prox


def _solve(eq, x):
    """Real roots of eq = 0 in x, or None when SymPy finds no closed form."""
    eq = sp.together(sp.sympify(eq))
    num = sp.numer(eq)
    if not num.has(x):
        return []
    if not num.is_polynomial(x) or sp.degree(num, x) > 2:
        return None
    return sp.solve(num, x)
