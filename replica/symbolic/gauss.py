"""Gaussian-expectation algebra.

Everything the replica calculation integrates is a Gaussian expectation
E_x[f(x)] = ∫ Dx f(x), Dx = e^{-x²/2} dx / √(2π), or a Lebesgue integral over a label.
This module

* decides closed forms for the class of integrands that replica calculations of
  perceptrons produce — sums of  poly(x) · exp(quadratic(x)) · Π Θ(linear(x))  and
  exp(linear(x)) · H(linear(x)) — after rewriting |·|, max, min, sign and Heaviside
  functions of linear arguments into indicator pieces (``gaussian_integral``);
* represents the expectations it cannot close as an unevaluated node
  :class:`GaussE` (differentiable under the integral sign), lowered to quadrature
  by :mod:`replica.codegen`;
* applies Gaussian integration by parts (Stein's lemma) E[x g(x)] = E[g'(x)]
  (:func:`stein`).

Closed forms are tried first for every integrand, built-in or user-defined
(the ``sympy.stats`` habit: closed form when known, general fallback otherwise).
"""
from __future__ import annotations

import functools

import sympy as sp

__all__ = [
    "H", "Npdf", "GaussE", "gaussian_integral", "gauss_expect", "lebesgue_integral",
    "stein", "reclose", "expand_indicators",
]

_SQ2 = sp.sqrt(2)


def H(x):
    """Gaussian tail H(x) = ∫_x^∞ Dt = ½ erfc(x/√2)."""
    return sp.erfc(x / _SQ2) / 2


def Npdf(x):
    """Standard normal density N(x) = e^{-x²/2}/√(2π)."""
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


class GaussE(sp.Function):
    """Unevaluated Gaussian expectation E_x[f] = ∫ Dx f(x) over a standard normal x.

    ``GaussE(f, x)``; ``x`` is bound (not a free symbol).  Differentiation with
    respect to anything else passes under the integral.
    """

    nargs = 2

    @property
    def free_symbols(self):
        f, x = self.args
        return f.free_symbols - {x}

    def _eval_derivative(self, s):
        f, x = self.args
        if s == x:
            return sp.S.Zero
        return gauss_expect(sp.diff(f, s), x)

    def _latex(self, printer):
        f, x = self.args
        return r"\mathbb{E}_{%s}\left[%s\right]" % (printer._print(x), printer._print(f))

    def _sympystr(self, printer):
        f, x = self.args
        return "E_%s[%s]" % (printer._print(x), printer._print(f))


# --------------------------------------------------------------------------------------
# Rewriting non-smooth pieces into indicator form
# --------------------------------------------------------------------------------------

def _depends(e, x):
    return x in e.free_symbols


def _nonsmooth_to_heaviside(f, x):
    """|g| -> g(2Θ(g)-1), max/min -> Θ combinations, sign(g) -> 2Θ(g)-1 (g depending on x)."""
    reps = {}
    for a in f.atoms(sp.Abs, sp.Max, sp.Min, sp.sign):
        if not _depends(a, x):
            continue
        if isinstance(a, sp.Abs):
            g = a.args[0]
            reps[a] = g * (2 * sp.Heaviside(g) - 1)
        elif isinstance(a, sp.sign):
            g = a.args[0]
            reps[a] = 2 * sp.Heaviside(g) - 1
        elif isinstance(a, (sp.Max, sp.Min)):
            first, *rest = a.args
            acc = first
            for b in rest:
                if isinstance(a, sp.Max):
                    acc = acc + (b - acc) * sp.Heaviside(b - acc)
                else:
                    acc = acc + (b - acc) * sp.Heaviside(acc - b)
            reps[a] = acc
    if not reps:
        return f
    return _nonsmooth_to_heaviside(f.xreplace(reps), x)


def _indicator(cond):
    """Θ-expression of a condition: relations g > 0 -> Θ(g), And -> product, Or -> 1 - Π(1 - ·)."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if isinstance(cond, sp.And):
        return sp.Mul(*[_indicator(c) for c in cond.args])
    if isinstance(cond, sp.Or):
        return 1 - sp.Mul(*[1 - _indicator(c) for c in cond.args])
    if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
        return sp.Heaviside(cond.lhs - cond.rhs)
    if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
        return sp.Heaviside(cond.rhs - cond.lhs)
    return None


def _piecewise_to_heaviside(f, x):
    """Piecewise((a, c1), (b, True)) -> a Θ(c1) + b (1 - Θ(c1)) for conditions built from relations."""
    for pw in f.atoms(sp.Piecewise):
        if not _depends(pw, x):
            continue
        acc = sp.S.Zero
        remaining = sp.S.One
        for expr, cond in pw.args:
            ind = _indicator(cond)
            if ind is None:
                return f
            acc += expr * remaining * ind
            remaining = remaining * (1 - ind)
            if cond is sp.true:
                break
        f = f.xreplace({pw: acc})
    return f


def expand_indicators(f, x):
    """Split ``f`` into pieces ``[(g, [h1, h2, ...])]`` with f = Σ g · Π Θ(h_i).

    Every Heaviside function of x, wherever it sits inside ``f`` (inside an
    exponential, a logarithm, ...), is resolved: f = f|_{Θ(h)=1} Θ(h) + f|_{Θ(h)=0} Θ(-h).
    """
    f = _piecewise_to_heaviside(_nonsmooth_to_heaviside(sp.sympify(f), x), x)
    hs = sorted((h for h in f.atoms(sp.Heaviside)
                 if _depends(h, x) and not h.args[0].has(sp.Heaviside)), key=sp.default_sort_key)
    if not hs:
        return [(f, [])]
    h = hs[0]
    arg = h.args[0]
    out = []
    for val, cond in ((sp.S.One, arg), (sp.S.Zero, -arg)):
        g = f.xreplace({h: val})
        for piece, conds in expand_indicators(g, x):
            out.append((piece, [cond] + conds))
    return out


# --------------------------------------------------------------------------------------
# Closed-form Gaussian integrals over an interval
# --------------------------------------------------------------------------------------

class _NoClosedForm(Exception):
    pass


@functools.lru_cache(maxsize=4096)
def _decide_positive(e):
    """Whether ``e`` > 0 (True), ≤ 0 (False), else ``_NoClosedForm``; memoized: the terms of one
    piece share their exponent's quadratic coefficient and their interval's ends, and each
    decision costs a ``simplify``."""
    e = sp.simplify(e) if not e.is_number else e
    if e.is_positive:
        return True
    if e.is_nonpositive:
        return False
    raise _NoClosedForm


def _interval(conds, x):
    """Conditions h_i(x) > 0 with h_i linear in x -> (lo, hi) or None if empty."""
    return _interval_of(tuple(conds), x)


@functools.lru_cache(maxsize=4096)
def _interval_of(conds, x):
    """``_interval`` memoized: every term of a piece has the piece's conditions."""
    lo, hi = -sp.oo, sp.oo
    for h in conds:
        p = sp.Poly(sp.expand(h), x) if _depends(h, x) else None
        if p is None or p.degree() != 1:
            raise _NoClosedForm
        a, b = p.all_coeffs()
        root = -b / a
        if _decide_positive(a):
            lo = root if lo == -sp.oo else (root if _decide_positive(root - lo) else lo)
        else:
            hi = root if hi == sp.oo else (root if _decide_positive(hi - root) else hi)
    if lo != -sp.oo and hi != sp.oo and not _decide_positive(hi - lo):
        return None
    return lo, hi


def _moments(A, B, kmax):
    """M_k = ∫_A^B t^k N(t) dt for k = 0..kmax, by the recursion M_k = [t^{k-1}N]_B^A + (k-1)M_{k-2}."""
    def edge(t, k):  # t^{k} N(t) with N(±∞) = 0
        if t in (sp.oo, -sp.oo):
            return sp.S.Zero
        return t**k * Npdf(t)

    def h(t):
        if t == sp.oo:
            return sp.S.Zero
        if t == -sp.oo:
            return sp.S.One
        return H(t)

    M = [h(A) - h(B)]
    if kmax >= 1:
        M.append(edge(A, 0) - edge(B, 0))
    for k in range(2, kmax + 1):
        M.append(edge(A, k - 1) - edge(B, k - 1) + (k - 1) * M[k - 2])
    return M


def _split_term(term, x):
    """term = const · poly(x) · exp(c2 x² + c1 x + c0) · [H(p x + r)]."""
    const, poly, expo, tail = sp.S.One, sp.S.One, sp.S.Zero, None
    for fac in sp.Mul.make_args(term):
        if not _depends(fac, x):
            const *= fac
        elif isinstance(fac, sp.exp) or (fac.is_Pow and fac.base == sp.E):
            expo += fac.exp if fac.is_Pow else fac.args[0]
        elif fac.is_polynomial(x):
            poly *= fac
        elif isinstance(fac, sp.erfc) and tail is None:
            tail = fac.args[0]
        elif fac.is_Pow and isinstance(fac.base, sp.exp) and fac.exp.is_number:
            expo += fac.base.args[0] * fac.exp
        else:
            raise _NoClosedForm
    expo = sp.expand(expo)
    if not expo.is_polynomial(x) or sp.degree(expo, x) > 2:
        raise _NoClosedForm
    return const, sp.expand(poly), expo, tail


@functools.lru_cache(maxsize=4096)
def _factor(f):
    """``sp.factor``, memoized: the terms of one expanded integrand repeat the same denominator."""
    return sp.factor(f)


def _factor_factors(term):
    """``term`` with each of its factors factored (:func:`_factor`): the factorization of a
    product, factor by factor, so that a denominator shared by many terms is factored once."""
    return sp.Mul(*[_factor(f) for f in sp.Mul.make_args(term)])


def _integrate_piece(term, conds, x, lebesgue):
    try:
        const, poly, expo, tail = _split_term(term, x)
    except _NoClosedForm:
        # sums inside powers (a common factor hidden in a denominator): factor, merge exponentials
        const, poly, expo, tail = _split_term(sp.powsimp(_factor_factors(term), combine="exp"), x)
    pe = sp.Poly(expo, x)
    c2 = pe.coeff_monomial(x**2)
    c1 = pe.coeff_monomial(x)
    c0 = pe.coeff_monomial(1)
    a = -c2 if lebesgue else sp.Rational(1, 2) - c2
    if not _decide_positive(a):
        raise _NoClosedForm
    s2 = 1 / (2 * a)                      # variance of the completed square
    mu = c1 * s2
    s = sp.sqrt(s2)
    pref = const * sp.exp(c0 + mu**2 / (2 * s2)) * s * (sp.sqrt(2 * sp.pi) if lebesgue else 1)
    if tail is not None:
        # erfc(u) = 2 H(√2 u);  J_k = ∫ Dt t^k H(α t + β):
        #   J_0 = H(β/√(1+α²)),  J_k = (k-1) J_{k-2} - α ∫ Dt t^{k-1} N(α t + β)   (by parts)
        if conds:
            raise _NoClosedForm
        t = sp.Dummy("t", real=True)
        lin = sp.Poly(sp.expand(tail.subs(x, mu + s * t) * _SQ2), t)
        if lin.degree() > 1:
            raise _NoClosedForm
        al = lin.coeff_monomial(t)
        be = lin.coeff_monomial(1)
        pt = sp.Poly(sp.expand(poly.subs(x, mu + s * t)), t)
        J = [H(be / sp.sqrt(1 + al**2))]
        for k in range(1, pt.degree() + 1):
            K = _integral(t**(k - 1) * Npdf(al * t + be), t, lebesgue=False)
            J.append((k - 1) * (J[k - 2] if k >= 2 else 0) - al * K)
        return pref * 2 * sum(c * J[k[0]] for k, c in pt.terms())
    iv = _interval(conds, x)
    if iv is None:
        return sp.S.Zero
    lo, hi = iv
    A = -sp.oo if lo == -sp.oo else (lo - mu) / s
    B = sp.oo if hi == sp.oo else (hi - mu) / s
    t = sp.Dummy("t")
    pt = sp.Poly(sp.expand(poly.subs(x, mu + s * t)), t)
    M = _moments(A, B, pt.degree())
    total = sum(c * M[k[0]] for k, c in pt.terms())
    return pref * total


def _integral(f, x, lebesgue):
    f = sp.sympify(f)
    if not _depends(f, x):
        if lebesgue:
            raise _NoClosedForm
        return f
    total = sp.S.Zero
    for piece, conds in expand_indicators(f, x):
        piece = sp.expand(piece, log=False, power_base=False)
        for term in sp.Add.make_args(piece):
            total += _integrate_piece(term, conds, x, lebesgue)
    return total


#: integrands larger than this (in SymPy operations) are not expanded in search of a closed
#: form: the expansion costs more than the quadrature it would save
MAX_CLOSED_FORM_OPS = 400


def gaussian_integral(f, x):
    """Closed form of E_x[f] = ∫ Dx f(x), or ``None`` when the integrand is outside the known class
    (or too large to be worth expanding: see ``MAX_CLOSED_FORM_OPS``)."""
    if sp.count_ops(f) > MAX_CLOSED_FORM_OPS:
        return None
    try:
        return _integral(f, x, lebesgue=False)
    except (_NoClosedForm, sp.PolynomialError, sp.polys.polyerrors.GeneratorsNeeded):
        return None


def lebesgue_integral(f, x):
    """Closed form of ∫ dx f(x) over the real line, or ``None``."""
    try:
        return _integral(f, x, lebesgue=True)
    except (_NoClosedForm, sp.PolynomialError, sp.polys.polyerrors.GeneratorsNeeded):
        return None


def gauss_expect(f, x):
    """E_x[f]: closed form where one is found, term by term; an unevaluated :class:`GaussE` otherwise.

    Factors independent of ``x`` are pulled out of the node.
    """
    f = sp.sympify(f)
    if not _depends(f, x):
        return f
    closed = gaussian_integral(f, x)
    if closed is not None:
        return closed
    out, rest = sp.S.Zero, sp.S.Zero
    for term in sp.Add.make_args(sp.expand(f, deep=False)):
        c = gaussian_integral(term, x)
        if c is not None:
            out += c
        else:
            rest += term
    if rest != 0:
        indep, dep = rest.as_independent(x, as_Add=False) if rest.is_Mul else (sp.S.One, rest)
        out += indep * GaussE(dep, x)
    return out


_NONSMOOTH = (sp.Heaviside, sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.sign, sp.DiracDelta)


def reclose(expr, expand=False):
    """Re-try closed forms of every expectation node after a substitution (logarithms split first;
    ``expand``: also multiply out the integrand, for small prior-side expressions)."""
    def rule(node):
        f, x = node.args
        if f.has(sp.erfc) and sp.count_ops(f) > MAX_CLOSED_FORM_OPS:
            # a large sum of Gaussian tails (a label integral closed over a piecewise envelope):
            # closing it term by term costs minutes of SymPy, its quadrature microseconds
            return node
        f = sp.expand_log(f, force=True)
        return gauss_expect(sp.expand(f) if expand else f, x)
    return expr.replace(lambda n: isinstance(n, GaussE), rule)


def stein(expr):
    """Gaussian integration by parts inside every node: E_x[x g(x)] = E_x[g'(x)].

    Applied to each additive term of each node's integrand in which x appears as a
    plain multiplicative factor (to the first power), when the rest is smooth in x (for a
    kinked g the identity holds but sympy's derivative of a kink is a distribution, so such
    terms are left as they are).
    """
    def rule(node):
        f, x = node.args
        out = sp.S.Zero
        for term in sp.Add.make_args(sp.expand_mul(f)):
            coeff, rest = term.as_independent(x, as_Add=False)
            facs = sp.Mul.make_args(rest)
            if x in facs:
                g = sp.Mul(*[fac for fac in facs if fac != x]) if facs.count(x) == 1 else None
                # only for smooth g: the derivative of a kink would be a distribution
                if g is not None and not any(a.has(x) for a in g.atoms(*_NONSMOOTH)):
                    out += coeff * sp.diff(g, x)
                    continue
            out += term
        return gauss_expect(sp.expand(out, log=False, power_base=False, power_exp=False), x)

    return expr.replace(lambda e: isinstance(e, GaussE), rule)
