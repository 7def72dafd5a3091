"""Paper form: the derived free entropy and saddle-point equations written as papers write them.

A presentation pass over a Theory's expressions (the solver's forms are left alone):

* the potentials are replaced by their closed forms (``Theory.explicit``: the same
  substitution the code generator makes, expectations re-closed, mirror-image label and
  atom terms folded — for a symmetric prior that is the Nishimori gauge w* = 1);
* the code generator's numerically safe spellings are undone: log-space tails
  exp(logerfc u) -> erfc u, XLogX(Z) -> Z ln Z, and a two-term log-sum-exp of ±b as
  ln 2cosh b (plus the mean of its arguments);
* Gaussian tails become H(x) = ½ erfc(x/√2) = ∫_x^∞ Dz (Engel & Van den Broeck, eq. (A1.8));
  expectations print as ∫Dz [...] (:class:`Dz`), and each integrand is simplified (ratios of
  hyperbolic functions become tanh);
* where the prior-side equations give the overlaps in closed form (spherical weights), the
  conjugates are eliminated by solving them: Gardner's entropic term
  ½ ln(1 − q) + q/(2(1 − q)) (Gardner 1988, eq. (27)) and, with a teacher,
  ½ ln(1 − q) + (q − m²)/(2(1 − q)) (Engel & Van den Broeck, eq. (A2.30)); the remaining
  equations then read  q̂(q, m) = α (...),  i.e. the conjugates' equations with their solved values.

Everything comes out of the Theory; nothing here knows which model it is presenting.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..codegen.lower import logerfc
from .gauss import GaussE
from .special import LogSumExp, XLogX

__all__ = ["H", "Dz", "PaperForm", "paper_form", "numeric"]

#: integrands larger than this (operation count) are printed as they are, not simplified
_SIMPLIFY_MAX_OPS = 250


class H(sp.Function):
    """The Gaussian tail H(x) = ∫_x^∞ Dz = ½ erfc(x/√2)."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return -sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(x / sp.sqrt(2)) / 2

    def _eval_evalf(self, prec):
        return self.rewrite(sp.erfc)._eval_evalf(prec)

    def _eval_is_positive(self):
        return True if self.args[0].is_extended_real else None

    def _latex(self, printer, exp=None):
        s = r"H\left(%s\right)" % printer._print(self.args[0])
        return s if exp is None else r"H^{%s}\left(%s\right)" % (exp, printer._print(self.args[0]))


class Dz(GaussE):
    """A Gaussian expectation printed with the measure Dz: ∫Dz f(z) = E_z[f(z)], z ~ N(0, 1)."""

    def _latex(self, printer):
        f, x = self.args
        return r"\int D%s\, \left[%s\right]" % (printer._print(x), printer._print(f))

    def _sympystr(self, printer):
        f, x = self.args
        return "∫D%s [%s]" % (printer._print(x), printer._print(f))


@dataclass
class PaperForm:
    """The free entropy and the saddle-point equations in paper form.

    ``eliminated``: conjugate -> its closed-form value in the overlaps (substituted in
    ``free_entropy`` and on the left of ``equations``)."""

    free_entropy: sp.Expr
    equations: list
    eliminated: dict = field(default_factory=dict)


def _undo_codegen(e):
    """The code generator's spellings back to textbook functions."""
    e = e.replace(lambda a: isinstance(a, logerfc), lambda a: sp.log(sp.erfc(a.args[0])))
    e = e.replace(lambda a: isinstance(a, XLogX), lambda a: a.args[0] * sp.log(a.args[0]))

    def lse(a):
        if len(a.args) == 2:                       # ln(e^{c+b} + e^{c-b}) = c + ln 2cosh b
            c, b = (a.args[0] + a.args[1]) / 2, sp.expand((a.args[0] - a.args[1]) / 2)
            if sp.Add.make_args(b)[0].could_extract_minus_sign():
                b = -b
            return c + sp.log(2 * sp.cosh(b))
        return sp.log(sp.Add(*[sp.exp(t) for t in a.args]))
    e = e.replace(lambda a: isinstance(a, LogSumExp), lse)
    return sp.expand_power_exp(e)


def _tails(e):
    """erfc(u) -> 2 H(√2 u); then C + k H(u) -> (C + k) H(u) + C H(-u) (with H(u) + H(-u) = 1):
    sums of tails with positive weights, (1 - ε) H(x) + ε H(-x) rather than ε + (1 - 2ε) H(x)."""
    e = e.replace(lambda a: isinstance(a, sp.erfc), lambda a: 2 * H(sp.expand(sp.sqrt(2) * a.args[0])))

    def rule(a):
        tails, rest = {}, []
        for t in a.args:
            k, f = t.as_independent(H, as_Add=False)
            if isinstance(f, H) and not k.has(H):
                tails[f.args[0]] = tails.get(f.args[0], 0) + k
            elif t.has(H):
                return a
            else:
                rest.append(t)
        if len(tails) != 1 or not rest:
            return a
        (u, k), = tails.items()
        C = sp.Add(*rest)
        return sp.factor_terms(C + k) * H(u) + C * H(-u)
    return e.replace(lambda a: a.is_Add and a.has(H), rule)


def _hyperbolic(f):
    """A rational function of e^{±b}, cosh b, sinh b (one argument b) as a polynomial or
    rational function of tanh b, using e^{±b} = cosh b (1 ± tanh b) and cosh² b = 1/(1 − tanh² b);
    None when ``f`` is not of that kind."""
    args = {c.args[0] for c in f.atoms(sp.cosh, sp.sinh)}
    if len(args) != 1:
        return None
    b = args.pop()
    f = sp.powsimp(f, deep=True, combine="exp")
    C, T = sp.Dummy("c", positive=True), sp.Dummy("t", real=True)

    def exp_rule(a):
        n = sp.cancel(a.args[0] / b)
        if not n.is_integer:
            raise ValueError
        return (C * (1 + T))**n
    try:
        g = f.replace(lambda a: isinstance(a, sp.exp), exp_rule)
    except ValueError:
        return None
    g = sp.cancel(g.xreplace({sp.cosh(b): C, sp.sinh(b): C * T}))
    g = sp.cancel(g.subs(C, 1 / sp.sqrt(1 - T**2)))
    if g.has(C) or any(p.exp.is_Rational and not p.exp.is_integer for p in g.atoms(sp.Pow)):
        return None
    return sp.factor(g).xreplace({T: sp.tanh(b)})


def _tidy(e):
    """Tidy the integrand of every expectation (hyperbolic functions as tanh; a constant added
    to an expectation taken inside when that tidies it), then print it with Dz."""
    def integrand(f):
        if sp.count_ops(f) > _SIMPLIFY_MAX_OPS:
            return f
        if isinstance(f, sp.log) or (f.is_Mul and any(isinstance(a, sp.log) for a in f.args)):
            f = sp.expand_log(f, force=True)
        g = _hyperbolic(f) if f.has(sp.cosh) and not f.has(sp.log) else None
        return sp.factor_terms(f) if g is None else g

    def inside(a):                                 # C + k E[f] -> k E[C/k + f] when that is smaller
        nodes = [t for t in a.args if t.has(GaussE)]
        if len(nodes) != 1:
            return a
        k, node = nodes[0].as_independent(GaussE, as_Add=False)
        C = a - nodes[0]
        if not isinstance(node, GaussE) or node.args[0].has(sp.log) or not C.is_number:
            return a
        f, x = node.args
        g = integrand(sp.expand(C / k + f))
        if sp.count_ops(g) < sp.count_ops(integrand(f)):
            return k * GaussE(g, x)
        return a
    def node(a):                                   # E[c + g(x)] = c + E[g]
        f, x = a.args
        g = integrand(f)
        const, dep = g.as_independent(x, as_Add=True)
        k, dep = dep.as_independent(x, as_Add=False)
        return const + k * Dz(dep, x) if dep != 0 else const
    e = e.replace(lambda a: a.is_Add and a.has(GaussE), inside)
    e = e.replace(lambda a: isinstance(a, GaussE) and not isinstance(a, Dz), node)
    return _radicals(e)


def _radicals(u):
    """√(n/d) -> √n/√d (d a product of overlaps, positive): √q √(1 − m²/q) -> √(q − m²)."""
    def rule(p):
        num, den = sp.fraction(sp.together(p.base))
        if den == 1:
            return p
        r = sp.sqrt(sp.expand(num)) / sp.sqrt(den)
        return r if p.exp > 0 else 1 / r
    return u.replace(lambda a: a.is_Pow and abs(a.exp) == sp.S.Half, rule)


def _closed_part(phi, overlaps):
    """The expectation-free part of a free entropy with its conjugates eliminated, simplified
    with every overlap below 1 (spherical weights: q, m < 1), logarithms split."""
    indep, dep = sp.sympify(phi).as_independent(GaussE, as_Add=True)
    u = {o: sp.Dummy(o.name, positive=True) for o in overlaps}
    e = sp.expand_log(sp.factor(indep.xreplace({o: 1 - v for o, v in u.items()})), force=True)
    e = sp.expand_log(sp.simplify(e), force=True).xreplace({v: 1 - o for o, v in u.items()})
    terms = sp.collect(sp.expand(e), [sp.log(1 - o) for o in overlaps], evaluate=False)
    return sp.Add(*[sp.factor(c) * t for t, c in terms.items()]) + dep


def _present(th, expr):
    return _tidy(_tails(_undo_codegen(th.explicit(expr))))


def _closed_overlaps(th):
    """The overlap equations q = f(conjugates) free of expectations: [(Eq, conjugate)]."""
    conj = {s.name: s for s in th.order_parameters if s.name.endswith("_hat")}
    out = []
    for eq in th.equations:
        if eq.lhs in conj.values():
            continue
        hat = conj.get(eq.lhs.name + "_hat")
        if hat is None or eq.rhs.has(GaussE) or eq.rhs.free_symbols - set(conj.values()) - set(th.parameters):
            return []
        out.append((eq, hat))
    return out


def _eliminate(th):
    """Solve the prior-side equations for the conjugates (square roots taken as positive
    unknowns s with s² = their radicand): {conjugate: value, root: value}, or {} when they
    do not solve in closed form, or not uniquely with positive roots."""
    pairs = _closed_overlaps(th)
    if not pairs or not th.fixed:                  # only with the norm fixed (spherical weights)
        return {}
    roots = {}
    for eq, _ in pairs:
        for p in sorted(eq.rhs.atoms(sp.Pow), key=sp.default_sort_key):
            if p.exp == sp.S.Half and p not in roots:
                roots[p] = sp.Symbol(f"s{len(roots)}", positive=True)
    system = [sp.numer(sp.together(eq.lhs - eq.rhs.xreplace(roots))) for eq, _ in pairs]
    system += [s**2 - p.base for p, s in roots.items()]
    unknowns = [hat for _, hat in pairs] + list(roots.values())
    sols = sp.solve(system, unknowns, dict=True)
    if len(sols) != 1:
        return {}
    sol = {k: sp.factor(v) for k, v in sols[0].items()}
    return {**sol, **{p: sol[s] for p, s in roots.items()}}


def paper_form(th) -> PaperForm:
    """The Theory's free entropy and equations in paper form (see the module docstring)."""
    sol = _eliminate(th)
    roots = {k: v for k, v in sol.items() if isinstance(k, sp.Pow)}
    hats = {k: v for k, v in sol.items() if isinstance(k, sp.Symbol) and k.name.endswith("_hat")}

    def elim(e):
        if not sol:
            return e
        return e.xreplace(roots).xreplace(hats)

    phi = elim(_present(th, th.free_entropy))
    if hats:                                       # the prior-side part in closed form: simplify it
        phi = _closed_part(phi, [o for o in th.order_parameters if o.name + "_hat" in {h.name for h in hats}])
    eqs = []
    used = {h.name[:-4] for h in hats}             # overlaps whose equations the elimination used up
    for eq in th.equations:
        if eq.lhs.name in used:
            continue
        lhs = hats.get(eq.lhs, eq.lhs)
        rhs = elim(_present(th, eq.rhs))
        rhs_indep, rhs_dep = sp.sympify(rhs).as_independent(GaussE, as_Add=True)
        eqs.append(sp.Eq(lhs, sp.simplify(rhs_indep) + rhs_dep, evaluate=False))
    return PaperForm(free_entropy=phi, equations=eqs, eliminated=hats)


def numeric(expr, values: dict) -> float:
    """Evaluate a paper-form expression at ``values`` (name -> number) in float64, every ∫Dz by
    adaptive quadrature on [-12, 12] (``scipy.integrate.quad``, to 1e-13; the Gaussian weight beyond is below 1e-32) — for checks against textbook forms."""
    # start-up: scipy.integrate (and the scipy.optimize / scipy.sparse it loads, ~0.3 s) is
    # imported by this check only, not by every ``import replica``
    from scipy import integrate
    subs = {s: values[s.name] for s in sp.sympify(expr).free_symbols if s.name in values}
    e = sp.sympify(expr).xreplace(subs)

    def rule(node):
        f, x = node.args
        g = sp.lambdify(x, f.rewrite(sp.erfc), modules="scipy")
        v, _ = integrate.quad(lambda t: g(t) * np.exp(-t * t / 2) / np.sqrt(2 * np.pi), -12.0, 12.0,
                              epsabs=1e-13, epsrel=1e-12, limit=200)
        return sp.Float(v)
    e = e.replace(lambda a: isinstance(a, GaussE), rule)
    return float(e.rewrite(sp.erfc).evalf())
