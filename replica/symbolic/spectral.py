"""Spectral averages kept abstract during the derivation.

With structured inputs (``replica.features``) the prior side of the free entropy is an average
over the joint spectrum of a feature covariance: E_{ω,τ²}[f(ω, τ²)], ω an eigenvalue of the student
covariance and τ² the teacher's weight on its eigen-direction (Loureiro et al. 2021,
arXiv:2102.08127).  :class:`SpectralMean` holds f unevaluated (differentiation passes under the
average, as for Gaussian expectations), so the saddle-point algebra stays small; :meth:`value`
asks the spectrum for the average (a closed form for Marchenko–Pastur, a finite sum for an
empirical spectrum) when the code generator lowers it.
"""
from __future__ import annotations

import sympy as sp

from .. import symbols as S

__all__ = ["SpectralMean"]


class SpectralMean(sp.Function):
    """E over a spectrum of f(ω_i, τ_i²) (the symbols :data:`replica.symbols.eig`, ``tau2`` are
    bound).  Concrete classes, one per spectrum, come from :meth:`of`."""

    nargs = 1
    average = None          # callable f -> SymPy expression, set by ``of``
    _classes: dict = {}

    @staticmethod
    def of(spectrum) -> type:
        """The SpectralMean class of ``spectrum`` (an object with ``spectral_mean(f)``)."""
        key = id(spectrum)
        hit = SpectralMean._classes.get(key)
        if hit is None or hit[0] is not spectrum:
            cls = type(f"SpectralMean{len(SpectralMean._classes)}", (SpectralMean,),
                       {"average": staticmethod(spectrum.spectral_mean)})
            hit = SpectralMean._classes[key] = (spectrum, cls)
        return hit[1]

    @property
    def free_symbols(self):
        return self.args[0].free_symbols - {S.eig, S.tau2}

    def _eval_derivative(self, sym):
        if sym in (S.eig, S.tau2):
            return sp.S.Zero
        return type(self)(sp.diff(self.args[0], sym))

    def value(self) -> sp.Expr:
        return self.average(self.args[0])

    def _latex(self, printer, exp=None):
        s = r"\mathbb{E}_{\omega_i, \tau_i^2}\left[%s\right]" % printer._print(self.args[0])
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)

    def _sympystr(self, printer):
        return "E_spec[%s]" % printer._print(self.args[0])
