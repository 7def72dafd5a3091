"""Teacher channels (likelihoods) P(y|z), z = w*·x/√N, stated once as SymPy densities.

``outputs`` is a finite tuple of labels (P(y|z) is then a probability mass) or ``"real"``
(a density in y).  The replica potentials Z_out(y, ω, V) = E_u P(y | ω + √V u), their
derivatives and the additive-noise form used for continuous labels are derived from the
density by :mod:`replica.symbolic`.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ._component import Component, ComponentError
from .density_checks import check_nonnegative, check_nonnegative_2d, check_normalized_labels, corner_points, numeric
from .params import NONNEGATIVE, POSITIVE, Domain
from .priors import _sample_points
from .symbolic.gauss import H
from .symbols import y as Y, z as Z

__all__ = ["Channel", "Sign", "Linear", "Probit", "Abs", "ReLU", "Door", "RandomLabels", "Custom"]


def _gauss(y, mean, var):
    return sp.exp(-(y - mean)**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


class Channel(Component):
    """P(y|z) with ``outputs`` a label tuple or ``"real"``."""

    y, z = Y, Z
    outputs: tuple | str = (-1, 1)
    random_labels = False   # labels independent of z: a storage problem, no teacher
    classification = True   # generalization error is a misclassification probability

    def __init__(self, density=None, outputs=(-1, 1)):
        super().__init__()
        self.density = sp.sympify(density) if density is not None else None
        self.outputs = outputs

    @property
    def continuous(self) -> bool:
        return self.outputs == "real"

    def noise_form(self):
        """(f(z), Δ) when P(y|z) = N(y; f(z), Δ) — additive Gaussian noise — else None.

        Read off the density: log P must be quadratic in y with a z-independent curvature."""
        if not self.continuous:
            return None
        L = sp.expand(sp.expand_log(sp.log(self.density), force=True))
        if not L.is_polynomial(Y) or sp.degree(L, Y) != 2:
            return None
        c2 = L.coeff(Y, 2)
        if c2.has(Z) or not (-c2).is_positive:
            return None
        delta = sp.simplify(-1 / (2 * c2))
        f = sp.simplify(L.coeff(Y, 1) * delta)
        back = sp.simplify(sp.expand_log(sp.log(_gauss(Y, f, delta)), force=True) - L)
        if back.has(Y) or back.has(Z) and sp.simplify(back) != 0:
            return None
        return f, delta

    def clean_output(self):
        """f(z) of the noiseless teacher: the label rule (classification) or the noise-free output."""
        nf = self.noise_form()
        if nf is not None:
            return nf[0]
        return sp.sign(Z)


class Sign(Channel):
    """y = sign(z), flipped with probability ``flip``:  P(y|z) = (1-ε) Θ(yz) + ε Θ(-yz)."""

    def __init__(self, flip=0):
        super().__init__()
        self.flip = self._param("flip", flip, Domain(0.0, 0.5, False, False))
        self.density = (1 - self.flip) * sp.Heaviside(Y * Z) + self.flip * sp.Heaviside(-Y * Z)

    def _args_repr(self):
        return f"flip={self.flip}"


class Probit(Channel):
    """y = sign(z + σ η), η ~ N(0,1):  P(y|z) = H(-y z / σ)."""

    def __init__(self, scale=1):
        super().__init__()
        self.scale = self._param("scale", scale, POSITIVE)
        self.density = H(-Y * Z / self.scale)

    def _args_repr(self):
        return f"scale={self.scale}"


class _Noisy(Channel):
    classification = False

    def __init__(self, noise, name="delta"):
        super().__init__(outputs="real")
        self.noise = self._param("noise", noise if noise is not None else name, POSITIVE)
        self.density = _gauss(Y, self.f(Z), self.noise)

    def _args_repr(self):
        return f"noise={self.noise}"


class Linear(_Noisy):
    """y = z + √Δ η."""

    @staticmethod
    def f(z):
        return z


class Abs(_Noisy):
    """y = |z| + √Δ η."""

    @staticmethod
    def f(z):
        return sp.Abs(z)


class ReLU(_Noisy):
    """y = max(0, z) + √Δ η."""

    @staticmethod
    def f(z):
        return sp.Max(0, z)


class Door(Channel):
    """y = sign(|z| - width): +1 outside the door, -1 inside."""

    def __init__(self, width=1):
        super().__init__()
        self.width = self._param("width", width, POSITIVE)
        self.density = sp.Heaviside(Y * (sp.Abs(Z) - self.width))

    def _args_repr(self):
        return f"width={self.width}"


class RandomLabels(Channel):
    """y = ±1 independently of the inputs (storage problems): P(y) = ½."""

    random_labels = True

    def __init__(self):
        super().__init__(density=sp.S.Half)


class Custom(Channel):
    """Any channel: ``density`` is P(y|z) as a SymPy expression in ``y`` and ``z``; ``outputs`` a
    label tuple such as (-1, 1) or "real".  Other free symbols must be declared in ``params``."""

    def __init__(self, density, y, z, outputs=(-1, 1), params=None, classification=None):
        super().__init__(outputs=outputs)
        if not (isinstance(y, sp.Symbol) and isinstance(z, sp.Symbol)):
            raise ComponentError("channels.Custom: y and z must be SymPy Symbols")
        if isinstance(density, str):
            raise ComponentError("channels.Custom: give P(y|z) as a SymPy expression, not a string")
        if outputs != "real":
            try:
                self.outputs = tuple(int(o) if float(o).is_integer() else float(o) for o in outputs)
            except (TypeError, ValueError):
                raise ComponentError(f"channels.Custom: outputs must be a tuple of numbers or 'real', got {outputs!r}") from None
        expr = self._declare(sp.sympify(density).xreplace({y: Y, z: Z}), {Y, Z}, params, "channels.Custom")
        self.density = expr
        self.random_labels = not expr.has(Z)
        self.classification = (outputs != "real") if classification is None else classification
        self._check()

    def _check(self):
        """P(y|z) ≥ 0 for every z on the real line (symbolically where SymPy decides, else on a
        dense grid with tails to |z| = 1000: ``density_checks``) and Σ_y P(y|z) = 1 there (finite
        outputs; ∫ dy P(y|z) = 1 at |z| ≤ 3 for real labels), at sample parameter points and near
        the ends of the parameters' domains."""
        syms = self.density.free_symbols - {Y, Z}
        for pt in _sample_points(syms, self.domains) + corner_points(syms, self.domains):
            d = self.density.subs(pt)
            where = f", parameters {pt}" if pt else ""
            if self.continuous:
                bad = check_nonnegative_2d(d, Y, Z)
                if bad is not None:
                    raise ComponentError(f"channels.Custom: density is negative (y={bad[0]:g}, z={bad[1]:g}{where})")
                ys = np.linspace(-30, 30, 60001)
                for zv in (-3.0, -1.7, -0.3, 0.4, 2.1, 3.0):
                    f = numeric(Y, d.subs(Z, zv))
                    tot = np.trapezoid(np.asarray(f(ys), dtype=float) * np.ones_like(ys), ys)
                    if abs(tot - 1) > 1e-6:
                        raise ComponentError(
                            f"channels.Custom: P(y|z) is not normalized over the outputs (integral {tot:.6g} at z={zv}{where})")
                continue
            for o in self.outputs:
                zbad = check_nonnegative(d.subs(Y, o), Z)
                if zbad is not None:
                    raise ComponentError(f"channels.Custom: negative probability P(y={o}|z) at z={zbad:g}{where}")
            zbad = check_normalized_labels(d, Y, Z, self.outputs)
            if zbad is not None:
                tot = float(sum(d.subs({Y: o, Z: zbad}) for o in self.outputs))
                raise ComponentError(
                    f"channels.Custom: P(y|z) is not normalized over the outputs (sum {tot:.6g} at z={zbad:g}{where})")

    def _args_repr(self):
        return f"{self.density}, outputs={self.outputs}"
