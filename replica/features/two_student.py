"""Two students trained on the same data: their cross overlap, by a two-student replica calculation.

Two ERM students a, b see the same inputs X, through the same feature map or through
independently drawn random features F_a, F_b, and are labelled by the same teacher with the same
or with independent label noise (y_a = λ* + ε_a, y_b = λ* + ε_b, E ε_a ε_b = Δ or 0).  Their cross
overlap Q_ab = E_x f̂_a f̂_b (f̂ = ŵ·z/√N) is what the bias-variance decomposition needs
(d'Ascoli, Refinetti, Biroli & Krzakala 2020, arXiv:2003.01054, App. B: the replicated problem of
two students with a cross covariance between their feature maps; Loureiro, Gerbelot, Refinetti,
Sicuro & Krzakala 2022, arXiv:2201.13383, "Fluctuations, bias, variance & ensemble of learners",
Thm 1, the same for K learners of a Gaussian covariate model).

Replicating the pair, each student's own order parameters are those of the single-student theory
(marginally each one *is* that problem, solved by :mod:`replica.symbolic.derive`); the pair adds
the cross overlap Q_ab and its conjugate q̂_ab.  At zero temperature the Gibbs measure of the pair
factorizes given the data (the loss and the ridge are sums over the students), so the cross
susceptibility vanishes and the two stationarity conditions are

* output side:  q̂_ab = (α/ψ) E[f_a f_b],  f = (prox_{χℓ(y, ·)}(ω) − ω)/χ the loss's proximal
  residual, (λ*, ω_a, ω_b) Gaussian with covariance [[ρ, m, m], [m, Q, Q_ab], [m, Q_ab, Q]];
  f comes from the loss through :func:`replica.symbolic.moreau.moreau` and the average from its
  second moments (exact when the proximal map is affine in (y, ω): the square loss);
* prior side, per eigen-direction of the student covariance: the prior's zero-temperature
  estimator ŵ(b) = ∂_b φ(b, χ̂ω) (φ = the prior's Laplace potential with the ridge, as in the
  single-student derivation) at the fields b_a, b_b of cross covariance
  c_ab = ρ_w m̂² τ² + q̂_ab ω (ρ_w the teacher prior's second moment):

  - same features:  Q_ab = E_spec[ω ŵ'² c_ab] (ŵ linear in b, ŵ' = ∂_b ŵ);
  - independent random features:  Q_ab = (1/N) tr[Ω_ab R_b (ρ_w m̂² T_ba + q̂_ab Ω_ba) R_a] with
    Ω_ab = μ₁² F_a F_bᵀ/D, T_ab = (N/D) Φ_aᵀΦ_b = ψ Ω_ab and R = ŵ'(χ̂Ω).  The matrices F_aᵀ R_a F_a
    and F_bᵀ R_b F_b are independent with Haar right singular vectors (E V M Vᵀ = I tr M/D), so
    the trace factorizes into single-student spectral means:
    Q_ab = K² (ρ_w m̂² + q̂_ab/ψ),  K = E_spec[τ² ŵ'],
    (the single-student m = ρ_w m̂ K: the teacher part of Q_ab is m²/ρ_w).

The two conditions are linear in (Q_ab, q̂_ab) for ridge; SymPy solves them once per model and
the solution is evaluated, vectorized, at the single-student saddle point.  Independent data:
q̂_ab = 0 (no shared sample feeds the cross conjugate).  All shared (same data, features and
noise): Q_ab = Q, the single student's own equation (a check the tests make).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ..codegen.cache import model_key
from ..learning import ERM
from ..symbolic.moreau import moreau
from .components import RandomFeatures, lambdify_by_name

__all__ = ["PairError", "pair_overlap", "cross_equations"]

_Qab, _qab = sp.Symbol("Q_ab", real=True), sp.Symbol("q_hat_ab", real=True)
_rho, _noise = sp.Symbol("rho", positive=True), sp.Symbol("shared_noise", nonnegative=True)


class PairError(ValueError):
    """A two-student problem outside the closed linear equations (a loss or prior that is not affine)."""


def _affine(expr: sp.Expr, variables) -> dict:
    """{monomial: coefficient} of an expression affine in ``variables`` (else :class:`PairError`)."""
    try:
        poly = sp.Poly(sp.expand(expr), *variables)
    except sp.PolynomialError:
        poly = None
    if poly is None or poly.total_degree() > 1:
        raise PairError(f"the two-student equations are derived for an affine map, got {expr}")
    return {v: poly.coeff_monomial(v) for v in (*variables, 1)}


class _Identity:
    """No features: the student sees x itself (Ω = Φ = Ψ = I, ω = τ² = 1, ψ = 1)."""

    ratio = sp.S.One
    teacher_power = sp.S.One

    @staticmethod
    def spectral_mean(f):
        return f.xreplace({S.eig: sp.S.One, S.tau2: sp.S.One})

    @staticmethod
    def mean_function(f):
        return lambdify_by_name(_Identity.spectral_mean(f))


def _features(model):
    return _Identity if model.features is None else model.features


def _output_side(model) -> sp.Expr:
    """q̂_ab: (α/ψ) E[f_a f_b] from the loss's proximal residual f = (prox − ω)/χ."""
    L, feats = model.learning, _features(model)
    x, y, om = sp.Dummy("x", real=True), sp.Dummy("y", real=True), sp.Dummy("omega", real=True)
    _, prox = moreau(L.loss.expr.subs({S.y: y, S.lam: x}), x, y, om, S.chi)
    f = _affine((prox - om) / S.chi, (y, om))
    cy, co, c1 = f[y], f[om], f[1]
    # second moments: E y_a y_b = ρ + sΔ, E y_a ω_b = m, E ω_a ω_b = Q_ab, first moments 0
    noise = model.teacher.noise
    second = cy**2 * (_rho + _noise * noise) + 2 * cy * co * S.m + co**2 * _Qab + c1**2
    return S.alpha / feats.ratio * second


def _estimator(model) -> sp.Expr:
    """ŵ' = ∂_b ŵ: the slope of the prior's zero-temperature estimator ŵ(b) = ∂_b φ(b, χ̂ω + λ)
    (φ the prior's Laplace potential, :meth:`replica.priors.Prior.laplace`), linear in b for ridge."""
    L = model.learning
    sprior = model.student_prior or model.prior
    b = sp.Dummy("b", real=True)
    w = sp.diff(sprior.laplace(b, S.chi_hat * S.eig + L.ridge), b)
    coef = _affine(w, (b,))
    if coef[1] != 0:
        raise PairError(f"the two-student equations need an estimator linear in the field, got {w}")
    return coef[b]


def _prior_side(model, same_features: bool) -> tuple:
    """(P0, P1, means): Q_ab = P0 + P1 q̂_ab with the spectral means kept as symbols (``means``:
    symbol -> its per-direction expression), so that the pair's algebra stays small."""
    feats = _features(model)
    slope = _estimator(model)
    rho_w = _rho / feats.teacher_power
    if same_features:
        A0, A1 = sp.Symbol("E_teacher"), sp.Symbol("E_noise")
        means = {A0: S.eig * slope**2 * S.tau2, A1: S.eig**2 * slope**2}
        return rho_w * S.m_hat**2 * A0, A1, means
    if not isinstance(feats, RandomFeatures):
        raise PairError("independent feature maps are drawn for random features only "
                        f"(a Gaussian covariate model has one fixed feature map), not {feats!r}")
    K = sp.Symbol("K")
    return K**2 * rho_w * S.m_hat**2, K**2 / feats.ratio, {K: S.tau2 * slope}


_SOLVED: dict = {}


def _cached(model, same_features: bool, same_data: bool):
    """(Q_ab expression, argument names, vectorized function), once per model and sharing."""
    key = (model_key(model, "numpy"), same_features, same_data)
    if key not in _SOLVED:
        _SOLVED[key] = _solve_pair(model, same_features, same_data)
    return _SOLVED[key]


def _solve_pair(model, same_features: bool, same_data: bool):
    if not isinstance(model.learning, ERM):
        raise PairError(f"the two-student equations are derived for ERM, not {model.learning!r}")
    P0, P1, means = _prior_side(model, same_features)
    out = _output_side(model) if same_data else sp.S.Zero
    sol = sp.solve([sp.Eq(_Qab, P0 + P1 * _qab), sp.Eq(_qab, out)], [_Qab, _qab], dict=True)
    if len(sol) != 1:
        raise PairError(f"the two-student equations have no unique solution: {sol}")
    expr = sp.factor(sol[0][_Qab])
    spectral = {str(k): _spectral(model, f) for k, f in means.items()}
    return expr, lambdify_by_name(expr), spectral


_MEANS: dict = {}


def _spectral(model, f: sp.Expr):
    """The spectral mean of the per-direction expression ``f`` (lambdified), once per model."""
    key = (model_key(model, "numpy"), sp.srepr(f))
    if key not in _MEANS:
        _MEANS[key] = _features(model).mean_function(sp.expand(f))
    return _MEANS[key]


def cross_equations(model, same_features: bool, same_data: bool) -> sp.Expr:
    """Q_ab solved from the pair's two stationarity conditions: a SymPy expression of the
    single-student saddle point, the parameters, ``rho``, ``shared_noise`` ∈ {0, 1} and the
    spectral means (``K`` = E_spec[τ² ŵ'], ``E_teacher`` = E_spec[ω τ² ŵ'²], ``E_noise`` =
    E_spec[ω² ŵ'²])."""
    return _cached(model, bool(same_features), bool(same_data))[0]


def _call(names_fn, vals: dict) -> np.ndarray:
    names, fn = names_fn
    missing = [n for n in names if n not in vals]
    if missing:
        raise PairError(f"pair_overlap: no value for {missing}")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(fn(*[np.asarray(vals[n], dtype=complex) for n in names]), dtype=complex)
    # the closed forms are real below the spectrum's support; a value off the real axis is a
    # point outside their reach: NaN, never its real part
    bad = ~(np.abs(out.imag) <= 1e-9 * (1.0 + np.abs(out.real)))
    return np.where(bad, np.nan, out.real)


def pair_overlap(model, values: dict, *, same_features: bool, same_data: bool, same_noise: bool) -> np.ndarray:
    """Q_ab = E_x f̂_a f̂_b of two students sharing the sources named, evaluated at ``values``
    (name -> array: the parameters, the saddle point Q, m, chi, m_hat, chi_hat, q_hat and
    ``rho`` = E λ*²), vectorized.  ``same_noise`` only with ``same_data``."""
    if same_noise and not same_data:
        raise PairError("the label noise is shared only together with the data")
    _, main, spectral = _cached(model, bool(same_features), bool(same_data))
    vals = {**values, "shared_noise": 1.0 if same_noise else 0.0}
    vals.update({k: _call(nf, vals) for k, nf in spectral.items()})
    return _call(main, vals)
