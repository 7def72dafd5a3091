"""Learning settings: what the student does with the data.

* :class:`BayesOptimal` — the posterior with the true prior and channel (Nishimori line);
* :class:`Gibbs` — the Gibbs measure e^{-Σ ℓ / T} over the prior (T = 0: its ground states);
* :class:`ERM` — empirical risk minimization Σ ℓ + (ridge/2)|w|², zero temperature;
* :class:`Volume` — the fraction of weights satisfying a constraint on every example.
"""
from __future__ import annotations

import sympy as sp

from ._component import Component, ComponentError
from .losses import Loss
from .params import NONNEGATIVE, REAL
from .symbols import lam as LAM, y as Y

__all__ = ["Learning", "BayesOptimal", "Gibbs", "ERM", "Volume"]


class Learning(Component):
    zero_temperature = False


class BayesOptimal(Learning):
    """Sampling the posterior with the teacher's own prior and channel."""


class Gibbs(Learning):
    """P(w) ∝ P_prior(w) e^{-Σ_μ ℓ(y_μ, λ_μ)/T}.  ``temperature=0`` gives the ground states:
    the version space for a loss that counts violations (``Errors``)."""

    def __init__(self, temperature="T", loss=None):
        super().__init__()
        if not isinstance(loss, Loss):
            raise ComponentError("Gibbs: loss must be a replica.losses loss")
        self.loss = loss
        self.temperature = self._param("temperature", temperature, NONNEGATIVE)
        self.domains.update(loss.domains)
        self.zero_temperature = self.temperature == 0

    def _args_repr(self):
        return f"temperature={self.temperature}, loss={self.loss!r}"


class ERM(Learning):
    """argmin_w Σ_μ ℓ(y_μ, λ_μ) + (ridge/2)|w|²  (Aubin, Krzakala, Lu & Zdeborová 2020)."""

    zero_temperature = True

    def __init__(self, loss=None, ridge="lam"):
        super().__init__()
        if not isinstance(loss, Loss):
            raise ComponentError("ERM: loss must be a replica.losses loss")
        self.loss = loss
        self.ridge = self._param("ridge", ridge, NONNEGATIVE)
        self.domains.update(loss.domains)

    def _args_repr(self):
        return f"loss={self.loss!r}, ridge={self.ridge}"


class Volume(Learning):
    """The Gardner volume: the prior mass of weights with ``constraint(y_μ, λ_μ)`` true for every μ.

    ``Volume(margin=kappa)`` is y λ ≥ κ; ``Volume(constraint=sp.Abs(lam) <= kappa, y=y, lam=lam)``
    any relation (conjunctions with ``&`` too)."""

    def __init__(self, margin=None, constraint=None, y=None, lam=None, params=None):
        super().__init__()
        if constraint is None:
            self.margin = self._param("margin", margin if margin is not None else 0, REAL)
            self.indicator = sp.Heaviside(Y * LAM - self.margin)
            self.constraint = sp.Ge(Y * LAM, self.margin)
            return
        if isinstance(constraint, str):
            raise ComponentError("Volume: give the constraint as a SymPy relation, not a string")
        reps = {}
        if y is not None:
            reps[y] = Y
        if lam is not None:
            reps[lam] = LAM
        c = constraint.xreplace(reps)
        self.constraint = c
        self.indicator = self._indicator(c)
        self.indicator = self._declare(self.indicator, {Y, LAM}, params, "Volume")
        if not self.indicator.has(LAM):
            raise ComponentError("Volume: the constraint does not depend on the prediction lam")

    @staticmethod
    def _indicator(c):
        if isinstance(c, sp.And):
            out = sp.S.One
            for a in c.args:
                out *= Volume._indicator(a)
            return out
        if isinstance(c, (sp.GreaterThan, sp.StrictGreaterThan)):
            return sp.Heaviside(c.lhs - c.rhs)
        if isinstance(c, (sp.LessThan, sp.StrictLessThan)):
            return sp.Heaviside(c.rhs - c.lhs)
        raise ComponentError(f"Volume: constraint must be an inequality (or a conjunction), got {c}")

    def _args_repr(self):
        return f"constraint={self.constraint}"
