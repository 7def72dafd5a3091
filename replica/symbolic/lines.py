"""Integrals over the whole real line that have no closed form: a prior's continuous part.

``LineIntegral(f, x, mu, sigma, lo, hi)`` is ∫_lo^hi dx f(x), unevaluated (differentiable
under the integral sign); [lo, hi] is the support of the density in f (±oo when unbounded,
cut where a parameter-free density has fallen below 1e-30).  ``mu`` and ``sigma``
say where the integrand's mass lies — the centre and scale of the quadrature rule
(:mod:`replica.codegen.lines`); they do not change the value.

:func:`tilt_lines` prepares the prior partition Z_w(b, A) = ∫ dP(w) e^{b w - A w²/2} and its
b-derivatives for quadrature: the tilt's peak value L = max_{w ∈ support} (b w - A w²/2) is
taken out of the integral,

    ∫ dw g(w) e^{E(w)} = e^{L} ∫ dw g(w) e^{E(w) - L},   E(w) - L ≤ 0 on the support,

so nothing overflows, and e^{L} cancels symbolically from the ratios Z_w'/Z_w and is a plain
term L of log Z_w.  The rule is centred on the mass of P(w) e^{b w - A w²/2}: at b/(1 + A) (a P of unit scale)
or at the tilt's peak b/A (heavy tails far out), whichever carries the larger integrand;
scale 1/√(1 + A).
"""
from __future__ import annotations

import itertools

import sympy as sp

from .gauss import GaussE, expand_indicators, lebesgue_integral

__all__ = ["LineIntegral", "LabelLine", "TiltPeak", "reclose_lines", "line_integral", "tilt_lines", "support", "breakpoints", "without_hints", "kink_arguments"]

class LineIntegral(sp.Function):
    """∫_lo^hi dx f(x); ``mu``, ``sigma``: centre and scale of its quadrature."""

    nargs = 6

    @property
    def free_symbols(self):
        f, x = self.args[:2]
        return (f.free_symbols - {x}).union(*[a.free_symbols for a in self.args[2:]])

    def _eval_derivative(self, s):
        f, x, *hints = self.args
        if s == x:
            return sp.S.Zero
        return LineIntegral(sp.diff(f, s), x, *hints)

    def _latex(self, printer, exp=None):
        f, x = self.args[:2]
        s = r"\int d%s\, %s" % (printer._print(x), printer._print(f))
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)

    def _sympystr(self, printer):
        f, x = self.args[:2]
        return "Integral(%s, %s)" % (printer._print(f), printer._print(x))


class LabelLine(sp.Function):
    """∫_lo^hi dy f(y) over a continuous label, by quadrature (no closed form): [lo, hi] the range
    outside which the label density is negligible, ``centres`` (a Tuple) the points where it
    has features of scale ``width`` (the noise's standard deviation) — the images of the
    teacher function's kinks and turning points (:func:`replica.codegen.labels.label_line`).
    An optional seventh argument, ``crossings`` (a Tuple of pairs (g, s)), tells an enclosing
    expectation where the label density changes over a scale s of its own variable: where the
    teacher's field crosses a kink z_k of the teacher function, g = ω - z_k = 0, smoothed over
    s = √V (the field's spread).  The hints do not change the value; differentiated under the
    integral sign."""

    nargs = (6, 7)

    @property
    def free_symbols(self):
        f, y = self.args[:2]
        return (f.free_symbols - {y}).union(*[a.free_symbols for a in self.args[2:]])

    def _eval_derivative(self, s):
        f, y, *hints = self.args
        if s == y:
            return sp.S.Zero
        return LabelLine(sp.diff(f, s), y, *hints)

    def _latex(self, printer, exp=None):
        f, y = self.args[:2]
        s = r"\int d%s\, %s" % (printer._print(y), printer._print(f))
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)

    def _sympystr(self, printer):
        f, y = self.args[:2]
        return "Integral(%s, %s)" % (printer._print(f), printer._print(y))


class TiltPeak(sp.Function):
    """The tilt's peak c1/(-2 c2) clipped into [lo, hi] (0 when c1 = c2 = 0): only a reference
    point, e^{E(peak)} taken out of an integral and put back, so no result depends on it and
    its derivative is 0; opaque to the kink finders."""

    nargs = 4

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _latex(self, printer, exp=None):
        c1, c2, lo, hi = (printer._print(a) for a in self.args)
        return r"\operatorname{clip}\left(\frac{%s}{-2 %s}, %s, %s\right)" % (c1, c2, lo, hi)


def line_integral(f, x, lo=-sp.oo, hi=sp.oo):
    """∫_lo^hi dx f(x) as a node with the default rule (centre 0, scale 1)."""
    return LineIntegral(sp.sympify(f), x, sp.S.Zero, sp.S.One, sp.sympify(lo), sp.sympify(hi))


def _abs_branches(g):
    """``g`` with each |h| replaced by +h and by -h (all combinations)."""
    absx = sorted(g.atoms(sp.Abs), key=sp.default_sort_key)
    out = []
    for signs in itertools.product((1, -1), repeat=len(absx)):
        out.append(g.xreplace({a: s * a.args[0] for a, s in zip(absx, signs)}))
    return out


def without_hints(f):
    """``f`` with the rule hints of its line integrals dropped (the clipped centre of an inner
    integral is not a kink of the outer integrand)."""
    return f.replace(lambda n: isinstance(n, LineIntegral) and (n.args[2], n.args[3]) != (0, 1),
                     lambda n: LineIntegral(n.args[0], n.args[1], sp.S.Zero, sp.S.One, *n.args[4:]))


def kink_arguments(f, atoms=(sp.Heaviside, sp.Abs, sp.sign)) -> list:
    """Expressions whose zeros are the kinks or jumps of ``f``: the arguments of ``atoms``, the
    differences of max/min arguments and the sides of Piecewise conditions."""
    args = [a.args[0] for a in f.atoms(*atoms)]
    for a in f.atoms(sp.Max, sp.Min):
        args.extend(u - v for u, v in itertools.combinations(a.args, 2))
    for pw in f.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.core.relational.Relational):
                args.append(rel.lhs - rel.rhs)
    return args


def breakpoints(f, x) -> list:
    """Points where f(x) has a kink or a jump: linear roots of the arguments of Heaviside, |.|,
    sign, of max/min differences and Piecewise conditions, with |.| inside them resolved by
    branches (Θ(√3 - |w|) has its jumps at ±√3)."""
    args = kink_arguments(without_hints(f), (sp.Heaviside, sp.Abs, sp.sign, sp.DiracDelta))
    roots = []
    for g in args:
        if not g.has(x):
            continue
        for h in _abs_branches(g):
            h = sp.expand(h)
            if not h.is_polynomial(x) or sp.degree(h, x) != 1:
                continue
            a, b = sp.Poly(h, x).all_coeffs()
            r = sp.simplify(-b / a)
            if not r.has(x) and r not in roots:
                roots.append(r)
    return roots


def support(f, x):
    """(lo, hi): the smallest interval outside which f vanishes identically, read from its
    indicator pieces (±oo where unbounded)."""
    try:
        pieces = expand_indicators(f, x)
    except Exception:      # noqa: BLE001 - an integrand the splitter does not handle: no bound
        return -sp.oo, sp.oo
    lo, hi = sp.oo, -sp.oo
    for g, conds in pieces:
        if sp.simplify(g) == 0:
            continue
        plo, phi = -sp.oo, sp.oo
        for h in conds:
            h = sp.expand(h)
            if not h.is_polynomial(x) or sp.degree(h, x) != 1:
                return -sp.oo, sp.oo
            a, b = sp.Poly(h, x).all_coeffs()
            if not a.is_number:
                return -sp.oo, sp.oo
            r = -b / a
            if not r.is_number:
                return -sp.oo, sp.oo
            if a > 0:
                plo = sp.Max(plo, r)
            else:
                phi = sp.Min(phi, r)
        if plo != -sp.oo and phi != sp.oo and bool(phi <= plo):
            continue
        lo, hi = sp.Min(lo, plo), sp.Max(hi, phi)
    if lo == sp.oo:
        return -sp.oo, sp.oo
    return lo, hi


def _tilt(node):
    """e^{L} · LineIntegral(f e^{-L}, x, peak, scale) for an integrand g(x) e^{E(x)} with E
    quadratic in x; the node itself otherwise."""
    f, x, mu, sigma, lo, hi = node.args
    if f.has(LineIntegral, GaussE):
        return node          # an average over the prior of other integrals: no tilt to take out
    f = sp.powsimp(f, combine="exp")
    terms = sp.Add.make_args(sp.expand_mul(f))
    exps = None
    for t in terms:
        e = tuple(sorted((a for a in sp.Mul.make_args(t) if isinstance(a, sp.exp) and a.has(x)),
                         key=sp.default_sort_key))
        if exps is None:
            exps = e
        elif e != exps:
            return node
    if not exps:
        return node
    Eall = sp.expand(sp.Add(*[a.args[0] for a in exps]))
    E = sp.Add(*[t for t in sp.Add.make_args(Eall) if t.is_polynomial(x)])
    if not E.has(x) or sp.degree(E, x) != 2:
        return node
    c2, c1, c0 = sp.Poly(E, x).all_coeffs()
    rest = sp.Add(*[t.xreplace({a: 1 for a in exps}) for t in terms])
    peak = TiltPeak(c1, c2, lo, hi)
    L = c0 + c1 * peak + c2 * peak**2
    body = rest * sp.exp(Eall - L)
    # the mass of P(w) e^{E(w)}: near c1/(1 - 2 c2) for a P of unit scale with light tails,
    # near the tilt's peak for heavy tails far out; the rule is centred on the one where the
    # integrand is larger in magnitude (a signed integrand such as w P(w) e^{E(w)} at b < 0 is
    # negative at both), with scale 1/√(1 - 2 c2)
    near = TiltPeak(c1, c2 - sp.S.Half, lo, hi)
    centre = sp.Piecewise((peak, body.xreplace({x: peak})**2 > body.xreplace({x: near})**2), (near, True))   # |.| of reals, no re/im
    scale = 1 / sp.sqrt(sp.Abs(2 * c2) + 1)
    return sp.exp(L) * LineIntegral(body, x, centre, scale, lo, hi)


def tilt_lines(e):
    """Every :class:`LineIntegral` of ``e`` with its tilt's peak taken out (see the module docstring)."""
    return e.replace(lambda n: isinstance(n, LineIntegral), _tilt)


def reclose_lines(e, expand=False):
    """Re-try the closed form of every line integral after a substitution (the prior average
    of a Gaussian-closed integrand, e.g. under a Gaussian density), except closed forms in
    Gaussian tails (differences of tails: the quadrature is the stable form)."""
    def rule(node):
        f, x = node.args[:2]
        if f.has(GaussE, LineIntegral):
            return node
        c = lebesgue_integral(sp.expand(f) if expand else f, x)
        return node if c is None or c.has(sp.erfc) else c
    return e.replace(lambda n: isinstance(n, LineIntegral), rule)
