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

import functools
import itertools

import numpy as np
import sympy as sp

from .gauss import expand_indicators

__all__ = ["Prox", "moreau", "projection_envelope", "nonconvexity"]


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
            # the label as the class's own symbol (a real label y stays an argument of prox)
            pcls = Prox.of(ell.xreplace({yv: ylab}) if isinstance(yv, sp.Symbol) else ell, x, ylab)
            return Envelope.of(pcls)(yv, omega, chi), pcls(yv, omega, chi)
        (r,) = roots
        return sp.simplify(F(ell, r)), r
    try:
        return _one_kink(ell, pieces, x, omega, chi, F)
    except NotImplementedError:
        pass
    return _ordered_envelope(pieces, x, yv, omega, chi)


def _one_kink(ell, pieces, x, omega, chi, F):
    """(M, prox) of a loss with at most one kink and no Piecewise (|·|, hinge, perceptron):
    each piece's closed-form stationary point where it lies in its piece, else the kink.
    NotImplementedError otherwise (then :func:`_ordered_envelope`)."""
    if ell.has(sp.Piecewise):
        raise NotImplementedError("a Piecewise loss")
    cands = []
    kinks = set()
    for piece, conds in pieces:
        stat = sp.diff(piece, x) + (x - omega) / chi
        roots = _solve(stat, x)
        if roots is None:
            raise NotImplementedError(f"no closed-form proximal map for the piece {piece}")
        for r in roots:
            cands.append((r, [sp.expand(h.subs(x, r)) for h in conds], piece))
        for h in conds:
            for k in _solve(h, x) or []:
                kinks.add(k)
    try:
        at_kinks = _kink_branches(pieces, x, omega, chi, kinks)
    except NotImplementedError:
        if len(kinks) != 1:
            raise
        at_kinks = [(next(iter(kinks)), sp.true)]    # one kink: the only point left
    if len(at_kinks) > 1:
        raise NotImplementedError("several kinks")
    prox = sp.Piecewise(*[(r, sp.And(*[sp.StrictGreaterThan(h, 0) for h in c])) for r, c, _ in cands],
                        *at_kinks)
    return F(ell, prox), prox


def _ordered_envelope(pieces, x, yv, omega, chi):
    """(M, prox) of a convex piecewise loss with kinks k_1 < ... < k_n in x (linear conditions).

    On (k_{i-1}, k_i) the loss is one smooth piece ℓ_i; adjacent equal pieces are merged (the
    switch point of |·| inside Huber's quadratic part).  x + χ ∂ℓ(x) is monotone, so
        prox(ω) = r_i(ω)  for k_{i-1} + χ ℓ_{i-1}'(k_{i-1}) ... < ω < k_i + χ ℓ_i'(k_i),
        prox(ω) = k_i     for ω ∈ [k_i + χ ℓ_i'(k_i), k_i + χ ℓ_{i+1}'(k_i)]  (a real kink),
    r_i the closed-form root of ℓ_i'(x) + (x - ω)/χ = 0: a Piecewise with one threshold per
    branch, ordered, so that each threshold is one indicator downstream (Huber: 3 branches,
    2 thresholds; LAD: 3 branches).  A piece whose stationarity has no closed-form root gets
    the generated safeguarded Newton (:class:`Prox`) when the piece is convex on the whole line.
    Raises NotImplementedError when the kinks or pieces cannot be ordered or chosen symbolically.
    (Parikh & Boyd 2014, Proximal Algorithms, §6.1: the prox of a separable piecewise function.)"""
    kinks = []
    for _, conds in pieces:
        for h in conds:
            for k in _solve(h, x) or []:
                if not any(_sign(k - o) == 0 for o in kinks):
                    kinks.append(k)
    if not kinks:
        raise NotImplementedError("no kinks")
    kinks.sort(key=functools.cmp_to_key(lambda a, b: _sign(a - b)))
    probes = [kinks[0] - 1] + [(a + b) / 2 for a, b in zip(kinks[:-1], kinks[1:])] + [kinks[-1] + 1]
    segs = [_piece_at(pieces, x, t) for t in probes]
    # merge equal neighbours: their common end is not a kink
    merged, ends = [segs[0]], []
    for k, seg in zip(kinks, segs[1:]):
        if sp.simplify(seg - merged[-1]) == 0:
            continue
        merged.append(seg)
        ends.append(k)
    def F(e, at):
        if isinstance(at, Prox):    # the envelope theorem's derivatives, not the chain rule's
            return Envelope.of(type(at))(*at.args)
        return sp.factor(e.subs(x, at) + (at - omega)**2 / (2 * chi))
    roots = [_piece_root(seg, x, yv, omega, chi) for seg in merged]
    prox_br, env_br = [], []
    for i, k in enumerate(ends):
        left = sp.diff(merged[i], x).subs(x, k)
        right = sp.diff(merged[i + 1], x).subs(x, k)
        a, b = sp.expand(k + chi * left), sp.expand(k + chi * right)
        prox_br.append((roots[i], sp.StrictLessThan(omega, a)))
        env_br.append((F(merged[i], roots[i]), sp.StrictLessThan(omega, a)))
        if not sp.simplify(b - a).is_zero:
            prox_br.append((k, sp.LessThan(omega, b)))
            env_br.append((F(merged[i], k), sp.LessThan(omega, b)))
    prox_br.append((roots[-1], sp.true))
    env_br.append((F(merged[-1], roots[-1]), sp.true))
    return sp.Piecewise(*env_br), sp.Piecewise(*prox_br)


def _piece_at(pieces, x, t):
    """The piece of ``pieces`` (``expand_indicators`` form) whose conditions hold at the point t."""
    for piece, conds in pieces:
        if all(_sign(h.subs(x, t)) > 0 for h in conds):
            return piece
    raise NotImplementedError(f"no piece of the loss holds at {t}")


def _piece_root(piece, x, yv, omega, chi):
    """The stationary point of piece + (x - ω)²/(2χ): closed form (one root), else :class:`Prox`
    (the generated safeguarded Newton on the piece's own stationarity condition) when the piece
    is convex on the whole line, so that the root is unique and, for ω in the piece's window,
    inside the piece's interval."""
    roots = _solve(sp.diff(piece, x) + (x - omega) / chi, x)
    if roots is not None and len(roots) == 1:
        return sp.expand(roots[0]) if roots[0].is_polynomial(omega) else roots[0]
    ysym = yv if isinstance(yv, sp.Symbol) else sp.Dummy("y")
    labels = [-2.3, 0.0, 0.7, 2.9] if isinstance(yv, sp.Symbol) else [0.0]
    if nonconvexity(piece, x, ysym, labels, {}) is not None:
        raise NotImplementedError(f"the piece {piece} of the loss has no closed-form proximal map and is "
                                  "not convex on the whole line (no safeguarded Newton for it)")
    ylab = sp.Dummy("ylab")
    pcls = Prox.of(piece.xreplace({ysym: ylab}), x, ylab)
    return pcls(yv, omega, chi)


def _kink_branches(pieces, x, omega, chi, kinks):
    """The proximal map at the kinks of a convex piecewise loss, as Piecewise branches.

    At a kink k the subdifferential is [ℓ'(k⁻), ℓ'(k⁺)], so prox = k exactly when
    ω ∈ [k + χ ℓ'(k⁻), k + χ ℓ'(k⁺)]; these windows are ordered like the kinks (x + χ ∂ℓ(x) is
    monotone), so after the pieces' own stationary points the first kink whose window's right
    end is ≥ ω is the one.  Points where ℓ is in fact smooth (ℓ'(k⁻) = ℓ'(k⁺), such as the
    switch point of |·| inside Huber's quadratic part) are not kinks and are dropped.
    ``pieces``: ``expand_indicators`` of the loss.  Raises NotImplementedError when the kinks or
    the pieces around them cannot be ordered symbolically."""
    real = []
    for k in kinks:
        left, right = (_one_sided_slope(pieces, x, k, side) for side in (-1, 1))
        if not sp.simplify(right - left).is_zero:
            real.append((k, right))
    for (a, _), (b, _) in itertools.combinations(real, 2):
        if _sign(a - b) == 0:
            raise NotImplementedError(f"kinks {a} and {b} coincide")
    real.sort(key=functools.cmp_to_key(lambda a, b: _sign(a[0] - b[0])))
    if not real:
        return []
    out = [(k, sp.LessThan(sp.expand(omega - k - chi * right), 0)) for k, right in real[:-1]]
    return out + [(real[-1][0], sp.true)]


def _sign(e):
    """The sign (-1, 0, 1) of an expression SymPy can decide, else NotImplementedError."""
    e = sp.simplify(e)
    if e.is_zero:
        return 0
    if e.is_positive:
        return 1
    if e.is_negative:
        return -1
    raise NotImplementedError(f"cannot decide the sign of {e}")


def _one_sided_slope(pieces, x, k, side):
    """ℓ'(k⁺) (side = 1) or ℓ'(k⁻) (side = -1): the slope of the piece active just beside k."""
    for piece, conds in pieces:
        ok = True
        for h in conds:
            h0 = _sign(h.subs(x, k))
            slope = _sign(sp.diff(h, x)) * side
            if h0 < 0 or (h0 == 0 and slope <= 0):
                ok = False
                break
        if ok:
            return sp.diff(piece, x).subs(x, k)
    raise NotImplementedError(f"no piece of the loss next to the kink {k}")


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


def nonconvexity(loss, lam, y, labels, domains):
    """A point {y, lam, parameters} where ``loss`` is not convex in λ, or None.

    Checked numerically by second differences ℓ(λ-h) + ℓ(λ+h) - 2ℓ(λ) ≥ 0 on a grid of λ in
    [-8, 8] (h = 1/64, so kinks count as convex), for each label in ``labels`` and three
    admissible values of the other parameters (``domains``: symbol -> Domain).  The
    zero-temperature theory (Moreau envelopes, proximal maps) assumes convexity."""
    h = 1.0 / 64
    grid = np.arange(-8.0, 8.0 + h / 2, h)
    syms = sorted(sp.sympify(loss).free_symbols - {lam, y}, key=str)
    rng = np.random.default_rng(0)
    for _ in range(3):
        pt = {}
        for s in syms:
            d = domains.get(s)
            lo = d.lo if d is not None and np.isfinite(d.lo) else -2.0
            hi = d.hi if d is not None and np.isfinite(d.hi) else lo + 4.0
            pt[s] = lo + (hi - lo) * (0.1 + 0.8 * rng.random())
        e = sp.sympify(loss).subs(pt)
        for yv in labels:
            f = sp.lambdify(lam, e.subs(y, yv), "numpy")
            with np.errstate(all="ignore"):
                v = np.asarray(f(grid), dtype=float) * np.ones_like(grid)
            d2 = v[:-2] + v[2:] - 2 * v[1:-1]
            bad = np.flatnonzero(d2 < -1e-9 * (1 + np.abs(v[1:-1])))
            if bad.size:
                return {"y": yv, "lam": float(grid[bad[0] + 1]), **{str(k): float(v) for k, v in pt.items()}}
    return None
