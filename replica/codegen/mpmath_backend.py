"""The mpmath backend: the same outputs as scalar arbitrary-precision code, the oracle the
NumPy backend is tested against.

Each Gaussian expectation becomes ``mpmath.quad`` of the integrand times the standard normal
density (tanh-sinh over (-inf, -6, 0, 6, inf)), each integral over a line or a label range
``mpmath.quad`` on its interval split at its kinks and feature centres; Gaussian tails are evaluated directly (mpmath
has no underflow at the working precision); a proximal map without closed form is solved by
``mpmath.findroot``.  Scalar only and slow: meant for checking, not for grids.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from ..symbolic.gauss import GaussE
from ..symbolic.lines import breakpoints
from ..symbolic.moreau import Prox
from .rules import features
from .lower import kink_points, hide_labels, implicit_kink_arguments
from .signed import MPMATH_HELPERS

__all__ = ["generate_mpmath_module"]


class _MpPrinter(MpmathPrinter):
    def _print_LineIntegral(self, e):
        f, x, mu, sigma, lo, hi = e.args
        ks = ", ".join(self._print(k) for k in [mu] + breakpoints(f, x))
        return "_I(lambda %s: %s, [%s], %s, %s)" % (self._print(x), self._print(f), ks, self._print(lo), self._print(hi))

    def _print_LabelLine(self, e):
        f, y, lo, hi, width, centres = e.args[:6]
        ks = ", ".join(self._print(c) for c in centres)
        return "_I(lambda %s: %s, [%s], %s, %s)" % (self._print(y), self._print(f), ks, self._print(lo), self._print(hi))

    def _print_TiltPeak(self, e):
        c1, c2, lo, hi = (self._print(a) for a in e.args)
        return "_tilt_peak(%s, %s, %s, %s)" % (c1, c2, lo, hi)

    def _print_GaussE(self, e):
        f, x = e.args
        # kinks and the centres of narrow features (q -> 1) as interval ends of tanh-sinh
        ks = ", ".join([self._print(k) for k in kink_points(f, x)]
                       + ["_point(lambda: %s)" % self._print(c) for c, _ in features(hide_labels(f), x)]
                       + ["*_roots(lambda %s: %s)" % (self._print(x), self._print(g)) for g in implicit_kink_arguments(f, x)])
        return "_E(lambda %s: %s, [%s])" % (self._print(x), self._print(f), ks)

    def _print_logerfc(self, e):
        return "mpmath.log(mpmath.erfc(%s))" % self._print(e.args[0])

    def _print_logerfsum(self, e):
        return "_logerfsum(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_LogSumExp(self, e):
        return "_lse(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_XLogX(self, e):
        return "_xlogx(%s)" % self._print(e.args[0])

    def _print_Heaviside(self, e):
        return "_heaviside(%s)" % self._print(e.args[0])

    def _print_Max(self, e):
        return "max(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_Min(self, e):
        return "min(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_Prox(self, e):
        return "%s(%s)" % (type(e).__name__, ", ".join(self._print(a) for a in e.args))

    def _print_Dummy(self, e):
        return f"_{e.name}_{e.dummy_index}"

    def _print_Symbol(self, e):
        return e.name

    def _print_Piecewise(self, e):
        out = "mpmath.nan"
        for expr, cond in reversed(e.args):
            out = self._print(expr) if cond is sp.true else "((%s) if (%s) else (%s))" % (
                self._print(expr), self._print(cond), out)
        return out

    def _print_Relational(self, e):
        return "(%s %s %s)" % (self._print(e.lhs), e.rel_op, self._print(e.rhs))

    def _print_And(self, e):
        return "(" + " and ".join(self._print(a) for a in e.args) + ")"

    def _print_Or(self, e):
        return "(" + " or ".join(self._print(a) for a in e.args) + ")"


_PRELUDE = '''
import mpmath


def _E(f, kinks=()):
    """E_t f(t), t ~ N(0,1), by tanh-sinh with the integrand's kinks as interval ends."""
    pts = sorted(set([mpmath.mpf(-6), mpmath.mpf(0), mpmath.mpf(6)]
                     + [mpmath.mpf(k) for k in kinks if k is not None and mpmath.isfinite(k) and abs(k) < 40]))
    return mpmath.quad(lambda t: f(t) * mpmath.npdf(t), [-mpmath.inf] + pts + [mpmath.inf])


def _roots(g, m=385):
    """The roots in (-12, 12) of g, a kink argument not linear in the variable: sign changes on m
    equispaced points, each refined by bisection (``mpmath.findroot``)."""
    s = [mpmath.mpf(-12) + 24 * mpmath.mpf(i) / (m - 1) for i in range(m)]
    v = [g(t) >= 0 for t in s]
    return [mpmath.findroot(g, (a, b), solver="bisect") for a, b, p, r in zip(s, s[1:], v, v[1:]) if p != r]


def _point(f):
    """A feature's centre, or None where it is undefined (no feature: q = 0)."""
    try:
        return f()
    except (ZeroDivisionError, ValueError):
        return None


def _I(f, points, lo, hi):
    """∫_lo^hi dx f(x) by tanh-sinh, the integrand's kinks and centre inside as interval ends."""
    lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
    pts = sorted(set(mpmath.mpf(k) for k in points if lo < k < hi))
    return mpmath.quad(f, [lo] + pts + [hi])


def _tilt_peak(c1, c2, lo, hi):
    p = mpmath.mpf(0) if c1 == 0 else c1 / (-2 * c2)
    return min(max(p, lo), hi)


def _lse(*xs):
    return mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs))


def _xlogx(x):
    return x * mpmath.log(x) if x else mpmath.mpf(0)


def _heaviside(x):
    return mpmath.mpf(1) if x > 0 else (mpmath.mpf(0) if x < 0 else mpmath.mpf(0.5))
'''

_PROX = '''

def {name}(y, omega, chi):
    g = lambda x: {d1} + (x - omega) / chi          # increasing in x for a convex loss
    width = 1 + abs(omega) + chi
    return mpmath.findroot(g, (omega - 50 * width, omega + 50 * width), solver="illinois",
                           tol=mpmath.mpf(10) ** (-mpmath.mp.dps + 3), verify=False)
'''


def generate_mpmath_module(outputs: dict, arguments: list, header: str = "") -> str:
    pr = _MpPrinter({"fully_qualified_modules": True, "allow_unknown_functions": True})
    src = [header, _PRELUDE, MPMATH_HELPERS]
    proxes = {}
    for e in outputs.values():
        for p in sp.sympify(e).atoms(Prox):
            proxes[type(p).__name__] = type(p)
    for name, cls in proxes.items():
        d1 = sp.diff(cls.loss, cls.x).xreplace({cls.x: sp.Symbol("x"), cls.ysym: sp.Symbol("y")})
        src.append(_PROX.format(name=name, d1=pr.doprint(d1)))
    argnames = [a.name for a in arguments]
    src.append(f"\n\ndef evaluate({', '.join(argnames)}, dps=30, want=None):")
    src.append("    with mpmath.workdps(dps):")
    for a in argnames:
        src.append(f"        {a} = mpmath.mpf({a})")
    src.append("        out = {}")
    for name, e in outputs.items():
        src.append(f"        if want is None or {name!r} in want:")
        src.append(f"            out[{name!r}] = {pr.doprint(sp.sympify(e))}")
    src.append("        return out\n")
    return "\n".join(src)
