"""What the student sees instead of x: random features, or Gaussian covariates.

Conventions (DESIGN.md): x ~ N(0, I_D), teacher λ* = w*·x/√D (or w*·u/√D with u of covariance
Ψ), student on N features z with pre-activation λ = w·z/√N; α = P/D, ψ = N/D.

In the eigenbasis of the student covariance Ω = Σ_i ω_i v_i v_iᵀ the ridge prior decouples into
one Gaussian channel per direction (Loureiro et al. 2021, arXiv:2102.08127, eq. (3.5);
Gerace et al. 2020, arXiv:2002.09339): direction i has precision ω_i and teacher weight
τ_i² = (N/D)·v_iᵀ Φᵀ Φ v_i (the teacher averaged over an isotropic w*); a feature component
states that joint spectrum, and the derivation averages its per-direction prior term over it.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from .._component import Component, ComponentError
from ..params import POSITIVE
from .coefficients import gaussian_moments
from .density import DensityError, as_function, density_nodes
from .spectrum import empirical_mean, mp_mean, s as S_EIG

__all__ = ["Features", "RandomFeatures", "GaussianCovariate", "omega", "tau2", "ACTIVATIONS", "lambdify_by_name"]

#: eigenvalue of the student covariance on one direction, and the teacher's weight on it
omega, tau2 = S.eig, S.tau2

_X = sp.Symbol("x", real=True)
ACTIVATIONS = {"relu": sp.Max(0, _X), "erf": sp.erf(_X), "tanh": sp.tanh(_X), "linear": _X}


def lambdify_by_name(expr: sp.Expr) -> tuple:
    """(names, fn): ``expr`` as a NumPy function of its free symbols, passed by sorted name."""
    names = sorted({str(v) for v in expr.free_symbols})
    plain = expr.xreplace({v: sp.Symbol(str(v)) for v in expr.free_symbols})
    return names, sp.lambdify([sp.Symbol(n) for n in names], plain, "numpy")


class Features(Component):
    """Base: ``ratio`` (N/D), ``teacher_power`` (E λ*² per unit teacher second moment) and
    ``spectral_mean(f)`` of a per-direction expression f(ω_i, τ_i²)."""

    ratio: sp.Expr
    teacher_power: sp.Expr = sp.S.One

    def spectral_mean(self, f: sp.Expr) -> sp.Expr:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean_function(self, f: sp.Expr) -> tuple:
        """(names, fn): E_spec[f] as a vectorized NumPy function of its free symbols (by name,
        sorted), for evaluation after the derivation (the lambdified :meth:`spectral_mean`)."""
        return lambdify_by_name(self.spectral_mean(f))


class RandomFeatures(Features):
    """z = σ(F x/√D), F (N × D) with i.i.d. N(0, 1) entries; N/D = ``ratio`` (a parameter, ``psi``).

    By Gaussian equivalence (Mei & Montanari 2019; Goldt et al. 2020) a Gaussian covariate model
    with Ω = μ₁² FFᵀ/D + μ*² I, Φ = μ₁ Fᵀ/√D, Ψ = I (the rank-one μ₀² 11ᵀ drops out as N → ∞):
    ω = μ₁² s + μ*², τ² = ψ μ₁² s, s ~ Marchenko–Pastur(ψ)."""

    def __init__(self, activation="relu", ratio="psi"):
        super().__init__()
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ComponentError(f"RandomFeatures: unknown activation {activation!r}; "
                                     f"use one of {sorted(ACTIVATIONS)} or a SymPy expression of one symbol")
            self.name = activation
            expr = ACTIVATIONS[activation]
        else:
            expr = sp.sympify(activation)
            syms = expr.free_symbols
            if len(syms) != 1:
                raise ComponentError(f"RandomFeatures: the activation must be a SymPy expression of one "
                                     f"symbol, got {expr} (free symbols {sorted(map(str, syms))})")
            expr = expr.xreplace({syms.pop(): _X})
            self.name = str(expr)
        self.activation = expr
        self.ratio = self._param("ratio", ratio, POSITIVE)
        try:
            self.mu0, self.mu1, self.mustar = gaussian_moments(expr, _X)
        except (ValueError, TypeError) as e:
            raise ComponentError(f"RandomFeatures: {e}") from e
        if abs(float(self.mu1)) < 1e-25:
            raise ComponentError(f"RandomFeatures: activation {expr} has μ₁ = E ξσ(ξ) = 0: its features "
                                 "carry no linear signal of x (the equivalent model is pure noise)")

    def spectral_mean(self, f):
        # partial fractions with symbolic coefficients (exact algebra), the numbers put in after
        a, c, t = (sp.Dummy(k, positive=True) for k in "act")
        avg = mp_mean(f.xreplace({omega: a * S_EIG + c, tau2: t * S_EIG}), self.ratio)
        return avg.xreplace({a: self.mu1**2, c: self.mustar**2, t: self.ratio * self.mu1**2})

    def _args_repr(self):
        return f"activation={self.name!r}, ratio={self.ratio}"


class GaussianCovariate(Features):
    """Gaussian covariates (u, z) with teacher covariance Ψ (D × D), student covariance Ω (N × N)
    and cross covariance Φ = E u zᵀ (D × N), e.g. estimated from data (Loureiro et al. 2021).

    The spectrum is Ω's eigenvalues ω_i with teacher weights τ_i² = (N/D) (V ᵀΦᵀΦ V)_ii for an
    isotropic teacher (E λ*² = tr Ψ/D times the prior's second moment), or τ_i² = (N/D)(v_iᵀΦᵀθ)²
    and E λ*² = θᵀΨθ/D for given ``teacher_weights`` θ (scaled by the prior's rms)."""

    def __init__(self, teacher=None, student=None, cross=None, teacher_weights=None):
        super().__init__()
        try:
            Om = np.asarray(student, dtype=float)
            Ph = np.asarray(cross, dtype=float)
            Ps = np.asarray(teacher, dtype=float)
        except (TypeError, ValueError) as e:
            raise ComponentError(f"GaussianCovariate: covariances must be numeric matrices ({e})") from e
        if Om.ndim != 2 or Om.shape[0] != Om.shape[1]:
            raise ComponentError("GaussianCovariate: student covariance must be a square (N × N) matrix")
        N = Om.shape[0]
        if Ps.ndim != 2 or Ps.shape[0] != Ps.shape[1]:
            raise ComponentError("GaussianCovariate: teacher covariance must be a square (D × D) matrix")
        D = Ps.shape[0]
        if Ph.shape != (D, N):
            raise ComponentError(f"GaussianCovariate: cross covariance must be D × N = {D} × {N}, got {Ph.shape}")
        if not (np.all(np.isfinite(Om)) and np.all(np.isfinite(Ph)) and np.all(np.isfinite(Ps))):
            raise ComponentError("GaussianCovariate: covariances must be finite")
        if not (np.allclose(Om, Om.T) and np.allclose(Ps, Ps.T)):
            raise ComponentError("GaussianCovariate: teacher and student covariances must be symmetric")
        ev, V = np.linalg.eigh(Om)
        joint = np.block([[Ps, Ph], [Ph.T, Om]])
        if ev.min() < -1e-10 * max(1.0, ev.max()) or np.linalg.eigvalsh(joint).min() < -1e-8 * max(1.0, ev.max()):
            raise ComponentError("GaussianCovariate: the joint covariance [[Ψ, Φ], [Φᵀ, Ω]] is not positive semidefinite")
        self.eigenvalues = np.clip(ev, 0.0, None)
        #: the matrices themselves (copies), for simulations that draw (u, z) from them
        self.covariances = {"teacher": Ps.copy(), "cross": Ph.copy(), "student": Om.copy()}
        self.teacher_weights = None
        self.ratio = sp.Rational(N, D)
        if teacher_weights is None:           # isotropic teacher: E (v_iᵀΦᵀθ)² = v_iᵀΦᵀΦv_i
            self.weights = (N / D) * np.einsum("ij,ij->j", V, Ph.T @ Ph @ V)
            power = float(np.trace(Ps)) / D
        else:                                 # a given teacher θ (times the prior's rms)
            th = np.asarray(teacher_weights, dtype=float).reshape(-1)
            if th.shape != (D,) or not np.all(np.isfinite(th)):
                raise ComponentError(f"GaussianCovariate: teacher_weights must be {D} finite numbers")
            self.weights = (N / D) * (V.T @ (Ph.T @ th))**2
            self.teacher_weights = th.copy()
            power = float(th @ Ps @ th) / D
        self.teacher_power = sp.Float(power, 17)
        self.shape = (D, N)

    @classmethod
    def from_density(cls, density, support, teacher_variance=1, nodes: int = 64) -> "GaussianCovariate":
        """Covariances given by the eigenvalue density ρ(ω) of Ω on ``support`` (a SymPy
        expression of one symbol or a callable; e.g. a power law ω^(−1−1/a)), the student seeing
        the teacher's own features: Ψ = Φ = Ω, N = D (as in the power-law examples of Loureiro et
        al. 2021, Sec. 4).  The teacher's coefficient along an eigen-direction of eigenvalue ω has
        variance c(ω) = ``teacher_variance`` (times the prior's), so τ² = ω² c(ω) and
        E λ*² = E[ω c(ω)].  The spectral averages are Gauss–Legendre sums over ``nodes`` points
        (:func:`replica.features.density.density_nodes`)."""
        try:
            x, p = density_nodes(density, support, nodes)
            c = as_function(teacher_variance, "teacher_variance")(x)
        except DensityError as e:
            raise ComponentError(f"GaussianCovariate.from_density: {e}") from e
        if not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ComponentError("GaussianCovariate.from_density: teacher_variance must be finite and nonnegative")
        obj = cls.__new__(cls)
        Features.__init__(obj)
        obj.eigenvalues, obj.masses, obj.weights = x, p, x**2 * c
        obj.covariances, obj.teacher_weights, obj.shape = None, None, None
        obj.ratio = sp.S.One
        obj.teacher_power = sp.Float(float(p @ (x * c)), 17)
        return obj

    @classmethod
    def from_samples(cls, u, z, teacher_weights=None) -> "GaussianCovariate":
        """Covariances estimated from paired samples: ``u`` (n × D) what the teacher sees, ``z``
        (n × N) what the student sees, each centred; Ψ = uᵀu/n, Ω = zᵀz/n, Φ = uᵀz/n."""
        u = np.asarray(u, dtype=float)
        z = np.asarray(z, dtype=float)
        if u.ndim != 2 or z.ndim != 2 or u.shape[0] != z.shape[0]:
            raise ComponentError("GaussianCovariate.from_samples: u (n × D) and z (n × N) with the same n rows")
        u, z = u - u.mean(0), z - z.mean(0)
        n = u.shape[0]
        return cls(teacher=u.T @ u / n, student=z.T @ z / n, cross=u.T @ z / n, teacher_weights=teacher_weights)

    #: probability of each eigenvalue (None: uniform, an empirical spectrum)
    masses = None

    def spectral_mean(self, f):
        return empirical_mean(f.xreplace({omega: S_EIG}), self.eigenvalues, {tau2: self.weights}, self.masses)

    def mean_function(self, f):
        """As :meth:`Features.mean_function`, summed numerically over the eigenvalues (the same
        Σ_i p_i f(ω_i, τ_i²) as :meth:`spectral_mean`, without a SymPy sum of N terms)."""
        f = sp.sympify(f)
        names = sorted({str(v) for v in f.free_symbols} - {str(omega), str(tau2)})
        plain = f.xreplace({v: sp.Symbol(str(v)) for v in f.free_symbols - {omega, tau2}})
        fn = sp.lambdify([omega, tau2, *[sp.Symbol(n) for n in names]], plain, "numpy")
        ev, wt = self.eigenvalues, self.weights
        p = np.full(ev.size, 1.0 / ev.size) if self.masses is None else np.asarray(self.masses, dtype=float)

        def mean(*args):
            args = [np.asarray(a)[..., None] for a in args]
            return np.sum(p * np.broadcast_to(fn(ev, wt, *args), np.broadcast(*args, ev).shape), axis=-1)
        return names, mean

    def _args_repr(self):
        if self.shape is None:
            return f"spectral density, {self.eigenvalues.size} nodes"
        D, N = self.shape
        return f"D={D}, N={N}"
