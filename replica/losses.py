"""Student energies ℓ(y, λ), λ = w·x/√N, stated once as SymPy expressions.

Their Boltzmann factors e^{-βℓ}, zero-temperature Moreau envelopes and proximal maps are
derived by :mod:`replica.symbolic`.
"""
from __future__ import annotations

import sympy as sp

from ._component import Component, ComponentError
from .params import REAL
from .symbols import lam as LAM, y as Y

__all__ = ["Loss", "Square", "Hinge", "Logistic", "Perceptron", "Errors", "Custom"]


class Loss(Component):
    """ℓ(y, λ) as a SymPy expression ``self.expr`` in :data:`y` and :data:`lam`."""

    y, lam = Y, LAM
    expr: sp.Expr

    def indicator(self):
        """If ℓ = c Θ(g(y, λ)) with c > 0 (a count of violations), return g; else None."""
        c, rest = self.expr.as_independent(LAM, as_Add=False)
        if isinstance(rest, sp.Heaviside) and (c.is_positive or c.is_number and c > 0):
            return rest.args[0]
        return None

    def _args_repr(self):
        return ", ".join(f"{k}={v}" for k, v in vars(self).items() if k not in ("domains", "expr"))


class Square(Loss):
    """ℓ = ½ (y - λ)²."""

    def __init__(self):
        super().__init__()
        self.expr = (Y - LAM)**2 / 2


class Hinge(Loss):
    """ℓ = max(0, margin - yλ)."""

    def __init__(self, margin=1):
        super().__init__()
        self.margin = self._param("margin", margin, REAL)
        self.expr = sp.Max(0, self.margin - Y * LAM)


class Perceptron(Loss):
    """ℓ = max(0, margin - yλ), margin 0 by default (Rosenblatt's perceptron cost)."""

    def __init__(self, margin=0):
        super().__init__()
        self.margin = self._param("margin", margin, REAL)
        self.expr = sp.Max(0, self.margin - Y * LAM)


class Logistic(Loss):
    """ℓ = log(1 + e^{-yλ})."""

    def __init__(self):
        super().__init__()
        self.expr = sp.log(1 + sp.exp(-Y * LAM))


class Errors(Loss):
    """ℓ = Θ(margin - yλ): the number of margin violations (Gardner / Gibbs energy)."""

    def __init__(self, margin=0):
        super().__init__()
        self.margin = self._param("margin", margin, REAL)
        self.expr = sp.Heaviside(self.margin - Y * LAM)


class Custom(Loss):
    """Any loss: ``expr`` in ``y`` and ``lam`` (SymPy symbols); other symbols declared in ``params``."""

    def __init__(self, expr, y, lam, params=None):
        super().__init__()
        if not (isinstance(y, sp.Symbol) and isinstance(lam, sp.Symbol)):
            raise ComponentError("losses.Custom: y and lam must be SymPy Symbols")
        if isinstance(expr, str):
            raise ComponentError("losses.Custom: give the loss as a SymPy expression, not a string")
        e = self._declare(sp.sympify(expr).xreplace({y: Y, lam: LAM}), {Y, LAM}, params, "losses.Custom")
        if not e.has(LAM) or sp.simplify(sp.diff(e, LAM)) == 0:
            raise ComponentError("losses.Custom: the loss does not depend on the prediction lam")
        self.expr = e

    def _args_repr(self):
        return str(self.expr)
