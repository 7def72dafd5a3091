"""Signed sums of Gaussian tails, rewritten so that nothing cancels and no log sees a negative term.

A two-sided constraint or a door, a < λ < b, gives potentials such as

    Z = 1 - ½ erfc(u) - ½ erfc(v)  =  ½ (erf u + erf v),

which SymPy writes as a constant minus two tails.  Evaluated as written it cancels to 0 (and
its logarithm, taken as a log-sum-exp, sees negative coefficients).  Here every pair of tails

    C + k erfc(u) + k erfc(v)  =  (C + 2k) + (-2k) S(u, v),
    k erfc(u) - k erfc(v)      =  2k S(v, -u),          S(u, v) = ½ (erf u + erf v),

is rewritten with S = exp(:class:`logerfsum`), whose logarithm the generated code computes in
the regime that keeps relative precision (both arguments positive: erf + erf, a sum of
positives; one negative: erfc(-lo) - erfc(hi) as a log-difference, log1mexp-style).
``S(u, v)`` is the standard-normal mass of the interval (-√2 v, √2 u).

The torch twin of the NumPy helper is ``replica.codegen.torch_backend._logerfsum``.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["logerfsum", "signed_tails", "absorb_exponentials", "absorb_into_sums", "NUMPY_HELPERS", "MPMATH_HELPERS"]


class logerfsum(sp.Function):
    """log ½(erf u + erf v) for u + v > 0: the log-mass of a Gaussian interval.

    ∂/∂u = e^{-u² - logerfsum(u, v)}/√π (and symmetrically in v): ratios stay in log space."""

    nargs = 2

    def fdiff(self, argindex=1):
        a = self.args[argindex - 1]
        return sp.exp(-a**2 - self) / sp.sqrt(sp.pi)

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def _eval_is_extended_real(self):
        return self._eval_is_real()

    def _latex(self, printer, exp=None):
        u, v = (printer._print(a) for a in self.args)
        s = r"\log\tfrac12\left(\operatorname{erf}%s + \operatorname{erf}%s\right)" % (u, v)
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


def _tail_terms(a):
    """(C, {u: k}) with a = C + Σ k_u erfc(u), or None when a term holds erfc otherwise."""
    tails, rest = {}, []
    for t in a.args:
        facs = sp.Mul.make_args(t)
        erfcs = [f for f in facs if isinstance(f, sp.erfc)]
        if len(erfcs) == 1:
            k = sp.Mul(*[f for f in facs if f is not erfcs[0]])
            if k.has(sp.erfc):
                return None
            tails[erfcs[0].args[0]] = tails.get(erfcs[0].args[0], 0) + k
        elif t.has(sp.erfc):
            return None
        else:
            rest.append(t)
    return sp.Add(*rest), tails


def _pair(C, tails):
    """One rewrite of a pair of constant-coefficient tails; (C, tails, new term) or None."""
    items = [(u, k) for u, k in tails.items() if k.is_number and k != 0]
    for (u, ku), (v, kv) in ((p, q) for i, p in enumerate(items) for q in items[i + 1:]):
        if ku == kv and ku < 0:
            # C + k(erfc u + erfc v) = (C + 2k) + (-2k) S(u, v), -2k > 0
            new = {w: c for w, c in tails.items() if w not in (u, v)}
            return C + 2 * ku, new, -2 * ku * sp.exp(logerfsum(u, v))
        if ku == -kv:
            # k erfc u - k erfc v = 2k S(v, -u); with k < 0 the same with the roles swapped
            new = {w: c for w, c in tails.items() if w not in (u, v)}
            k, a, b = (ku, u, v) if ku > 0 else (kv, v, u)
            return C, new, 2 * k * sp.exp(logerfsum(b, -a))
    return None


def signed_tails(e):
    """Every sum of Gaussian tails with a negative coefficient paired into interval masses
    (see the module docstring); other sums are left as they are."""
    def rule(a):
        split = _tail_terms(a)
        if split is None:
            return a
        C, tails = split
        made = []
        while True:
            step = _pair(C, tails)
            if step is None:
                break
            C, tails, term = step
            made.append(term)
        if not made:
            return a
        return sp.Add(C, *made, *[k * sp.erfc(u) for u, k in tails.items()])
    return e.replace(lambda a: a.is_Add and sum(isinstance(f, sp.erfc) for t in a.args
                                                for f in sp.Mul.make_args(t)) >= 2, rule)


#: run-time helpers of the generated NumPy module (``_logerfsum``)
NUMPY_HELPERS = '''

def _log1mexp(x):
    """log(1 - e^x) for x <= 0 (Maechler 2012: expm1 near 0, log1p far)."""
    return numpy.where(x > -0.6931471805599453, numpy.log(-numpy.expm1(x)), numpy.log1p(-numpy.exp(x)))


def _logerfsum(u, v):
    """log ½(erf u + erf v), u + v > 0, to full relative precision: both positive, a sum of
    positives (log1p of the tails when both are large); one negative, erfc(-lo) - erfc(hi)
    as a log-difference of tails."""
    u, v = numpy.broadcast_arrays(numpy.asarray(u, dtype=float), numpy.asarray(v, dtype=float))
    lo, hi = numpy.minimum(u, v), numpy.maximum(u, v)
    near = numpy.log((scipy.special.erf(lo) + scipy.special.erf(hi)) / 2)
    far = numpy.log1p(-(scipy.special.erfc(lo) + scipy.special.erfc(hi)) / 2)
    la, lb = _logerfc(-lo), _logerfc(hi)
    diff = la + _log1mexp(numpy.minimum(lb - la, 0.0)) - numpy.log(2.0)
    out = numpy.where(lo >= 0.5, far, numpy.where(lo >= 0, near, diff))
    return numpy.where(lo + hi > 0, out, -numpy.inf)
'''

MPMATH_HELPERS = '''

def _logerfsum(u, v):
    """log ½(erf u + erf v) at the working precision (erfc differences when one is negative)."""
    lo, hi = min(u, v), max(u, v)
    if lo >= 0:
        return mpmath.log((mpmath.erf(lo) + mpmath.erf(hi)) / 2)
    return mpmath.log((mpmath.erfc(-lo) - mpmath.erfc(hi)) / 2)
'''


def absorb_exponentials(e):
    """(Σ s_i e^{A_i})^k · e^{E}  ->  (Σ s_i e^{A_i + E/k})^k  (k a positive integer).

    A squared difference of Gaussian densities divided by a tail mass, (e^{A} - e^{B})² / Z with
    Z = e^{L}, would otherwise underflow in the bracket and overflow in 1/Z (0 · inf); with the
    normalizer moved inside, every exponent is a difference of large numbers, computed once."""
    def power(f):
        return (f.base, f.exp) if f.is_Pow and f.exp.is_Integer and f.exp > 0 and f.base.is_Add else None
    return absorb_into_sums(e, power)


def absorb_into_sums(e, match):
    """Move the one exponential factor e^{E} of each product into a sum of exponentials among its
    other factors: ``match(factor)`` gives (Σ s_i e^{A_i}, k) for a factor (Σ s_i e^{A_i})^k that may
    take it (or None), and the product becomes (Σ s_i e^{A_i + E/k})^k times the rest."""
    def rule(m):
        facs = list(sp.Mul.make_args(m))
        exps = [f for f in facs if isinstance(f, sp.exp)]
        if len(exps) != 1:
            return m
        E = exps[0].args[0]
        for i, f in enumerate(facs):
            got = match(f)
            if got is None:
                continue
            base, k = got
            terms = []
            for t in base.args:
                c, rest = t.as_independent(sp.exp, as_Add=False)
                if not isinstance(rest, sp.exp):
                    break
                terms.append(c * sp.exp(rest.args[0] + E / k))
            else:
                others = [g for j, g in enumerate(facs) if j != i and g is not exps[0]]
                return sp.Mul(*others) * sp.Pow(sp.Add(*terms), k)
        return m
    return e.replace(lambda a: a.is_Mul and a.has(sp.exp) and any(match(f) is not None for f in a.args), rule)
