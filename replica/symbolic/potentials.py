"""Scalar potentials as abstract SymPy functions that know their own calculus.

The derivation keeps the single-site and output partition functions abstract —

    Z_w(b, A)        = ∫ dP(w) e^{b w - A w²/2}           (prior side)
    Z_out(y, ω, V)   = E_u φ(y, ω + √V u)                 (output side)

— so that the free entropy and equations read as in the papers.  Each potential's
derivatives are new functions of the same family, and the heat-equation identities that
follow from the definitions are built into differentiation:

    ∂_V Z_out = ½ ∂²_ω Z_out ,        ∂_A Z_w = -½ ∂²_b Z_w .

With them (and Gaussian integration by parts) the stationarity conditions collapse to the
familiar forms, e.g. q̂ = α E[Z* (∂_ω log Z_out)²], exactly and without simplification
heuristics.  :meth:`Potential.explicit` substitutes a potential's closed form (or quadrature
node), differentiated as many times as the family index says.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["Potential", "potential", "substitute_potentials"]

_FAMILIES: dict[tuple, type] = {}


class Potential(sp.Function):
    """Base class; concrete classes are made by :func:`potential`."""

    family: str = ""
    tex: str = "Z"
    kind: str = "out"       # "out": (y, ω, V), heat sign +½ ;  "prior": (b, A), heat sign -½
    order: int = 0

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        nargs = len(self.args)
        mean_slot = nargs - 1   # ω or b
        var_slot = nargs        # V or A
        if argindex == mean_slot:
            return potential(self.family, self.tex, self.kind, self.order + 1)(*self.args)
        if argindex == var_slot:
            sgn = sp.S.Half if self.kind == "out" else -sp.S.Half
            return sgn * potential(self.family, self.tex, self.kind, self.order + 2)(*self.args)
        return sp.Derivative(self, self.args[argindex - 1])

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        var = r"\omega" if self.kind == "out" else "b"
        d = "" if self.order == 0 else (r"\partial_{%s}" % var if self.order == 1
                                        else r"\partial_{%s}^{%d}" % (var, self.order))
        s = r"%s %s\left(%s\right)" % (d, self.tex, args)
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)

    def _sympystr(self, printer):
        args = ", ".join(printer._print(a) for a in self.args)
        return f"{self.family}{'' if self.order == 0 else '_' + str(self.order)}({args})"


def potential(family: str, tex: str, kind: str, order: int = 0) -> type:
    """The class of the ``order``-th ω- (or b-) derivative of potential ``family``."""
    key = (family, kind, order)
    cls = _FAMILIES.get(key)
    if cls is None:
        name = family if order == 0 else f"{family}_d{order}"
        cls = type(name, (Potential,), {"family": family, "tex": tex, "kind": kind, "order": order,
                                          "nargs": 3 if kind == "out" else 2})
        _FAMILIES[key] = cls
    return cls


def substitute_potentials(expr, definitions: dict):
    """Replace each potential (any derivative order) by its definition.

    ``definitions[family] = (slots, expr)`` with ``slots`` the symbols of the arguments.
    """
    def rule(e):
        slots, body = definitions[e.family]
        if isinstance(body, dict):   # one closed form per label value
            body = body[e.args[0]] if e.args[0] in body else body[int(e.args[0])]
        mean = slots[-2]
        d = sp.diff(body, mean, e.order) if e.order else body
        return d.xreplace(dict(zip(slots, e.args)))

    return expr.replace(lambda e: isinstance(e, Potential) and e.family in definitions, rule)
