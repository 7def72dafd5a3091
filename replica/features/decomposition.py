"""Bias and variances of ridge regression on random features, and the ensemble error.

The test error of the ridge estimator f̂(x) = ŵ·z(x)/√N on random features z = σ(Fx/√D), for the
noiseless linear target f*(x) = λ* = w*·x/√D, averaged over the data X, the label noise ε and
the feature matrix F, splits by the law of total variance into (d'Ascoli, Refinetti, Biroli &
Krzakala 2020, arXiv:2003.01054, in their order: sampling, then initialization,
then noise)

    E_gen = bias² + var_sampling + var_init + var_noise,
    bias²        = E_x (f* − E_{X,F,ε} f̂)²,
    var_sampling = E_x Var_X E_{F,ε} f̂,
    var_init     = E_x E_X Var_F E_ε f̂,
    var_noise    = E_x E_{X,F} Var_ε f̂,

and the infinite ensemble over feature draws (same data, same labels) has the error
``ensemble_error`` = E_x (f* − E_F f̂)².  Every term is a difference of the overlaps
Q_S = E_x f̂_a f̂_b of two students a, b that share the sources S ⊆ {X, F, ε} and draw the
others independently (ε shared only with X: it is the noise on the shared labels):

    bias² = ρ − 2m + Q_∅, var_sampling = Q_X − Q_∅, var_init = Q_XF − Q_X, var_noise = Q − Q_XF,
    ensemble_error = ρ − 2m + Q_Xε,

with m = E_x f̂ λ* and Q = E_x f̂² of one student (the replica theory of the model, derived).
The symmetric decomposition of Adlam & Pennington (2020, arXiv:2011.03321) is the
Möbius inversion of the same overlaps over the three sources P (the features F), X, ε:
V_P = Q_P − Q_∅, V_X = Q_X − Q_∅, V_PX = Q_PX − Q_P − Q_X + Q_∅, V_Xε = Q_Xε − Q_X,
V_PXε = Q_PXε − Q_PX − Q_Xε + Q_X (V_ε = V_Pε = 0: the same noise vector on independent data
is uncorrelated with the predictor, Q_ε = Q_∅, Q_Pε = Q_P).

Where each overlap comes from:

* Q = Q_PXε and m: the model's own replica theory (the Gaussian covariate model with the
  Marchenko–Pastur spectrum, derived by :mod:`replica.symbolic.derive`).
* Q_XF = Q_PX (same data and features, independent noise): E_ε f̂ is the estimator trained on the
  noiseless labels, since ridge is linear in the labels; Q is affine in the noise variance Δ, so
  Q_XF = Q(Δ=0) = 2Q(Δ) − Q(2Δ) (the same theory solved at 2Δ).
* Q_∅ = m²/ρ: the fully averaged predictor is invariant under the rotations that fix w*, hence
  E f̂ = (m/ρ) λ*.
* Q_F = Q_P (same features, independent data): in the Gaussian covariate model the estimator is, per
  eigen-direction of the feature covariance, ŵ_i = (m̂ t_i + √(q̂ ω_i) ξ_i)/(χ̂ ω_i + λ) with ξ the
  data's Gaussian field (Loureiro et al. 2021, arXiv:2102.08127); two students on
  independent data have independent ξ (the conjugate of their cross overlap has no energetic
  source), so Q_F is the theory's own equation for Q with q̂ = 0 at the saddle point.
* Q_Xε and Q_X (same data, independent features): the average over F of the random-feature
  predictor is kernel ridge regression with the kernel K = μ₁² XXᵀ/D + μ*² I at the effective
  ridge λ̃ solving  λ̃ = λ + λ̃ (P/N) E_s[k(s)/(k(s) + λ̃)],  k(s) = μ₁² s + μ*², s over the
  Marchenko–Pastur spectrum of XXᵀ/D of ratio α (Jacot, Şimşek, Spadaro, Hongler & Gabriel 2020,
  "Implicit regularization of random feature models", ICML); the nugget μ*² and λ̃ add
  up, so E_F f̂ is plain ridge regression on x with ridge λ_e = (μ*² + λ̃)/μ₁², whose Q is the
  replica theory of the same model without features (derived, solved at λ_e; at Δ and at 0).
  The test ``m(random features) = m(ridge on x at λ_e)`` holds to solver precision: it is the
  same statement for the first moment, from two independent derivations.

Everything is evaluated on the broadcast parameter grid, vectorized; a point where any of the
solves did not converge is NaN in every term.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .. import symbols as S
from ..channels import Linear
from ..learning import ERM
from ..losses import Square
from ..model import Model, load_model
from ..priors import Gaussian
from ..solve.fixed_point import solve as _solve
from ..solve.transitions import compiled_part
from ..codegen.cache import model_key
from .components import RandomFeatures
from .spectrum import mp_mean, s as S_EIG

__all__ = ["decomposition", "effective_ridge", "check_model", "applies", "add_to_records", "DecompositionError", "TERMS", "SYMMETRIC"]

#: d'Ascoli et al.'s terms, in their order, and the ensemble error
TERMS = ("bias2", "var_sampling", "var_init", "var_noise", "ensemble_error")
#: Adlam & Pennington's symmetric terms (P = the features, X = the data, eps = the label noise)
SYMMETRIC = ("var_P", "var_X", "var_PX", "var_X_eps", "var_PX_eps")


class DecompositionError(ValueError):
    """A model outside the decomposition's reach (not ridge on random features of a linear teacher)."""


def check_model(model: Model) -> None:
    """Raise :class:`DecompositionError` unless ``model`` is ridge on random features of a
    Gaussian-noise linear teacher with a Gaussian prior."""
    if not isinstance(model.features, RandomFeatures):
        raise DecompositionError(f"model {model.name!r}: the bias-variance decomposition needs random features "
                                 "(the variance due to initialization is over the draw of F)")
    L = model.learning
    if not (isinstance(L, ERM) and isinstance(L.loss, Square)):
        raise DecompositionError(f"model {model.name!r}: the decomposition is derived for ridge regression "
                                 f"(ERM with the square loss), not {L!r}")
    if not isinstance(model.teacher, Linear):
        raise DecompositionError(f"model {model.name!r}: the decomposition needs a linear teacher with "
                                 f"Gaussian noise (channels.Linear), not {model.teacher!r}")
    if not isinstance(model.prior, Gaussian) or model.student_prior is not None:
        raise DecompositionError(f"model {model.name!r}: the decomposition needs a Gaussian teacher prior")


def applies(model: Model) -> bool:
    """Whether :func:`decomposition` is defined for ``model``."""
    try:
        check_model(model)
    except DecompositionError:
        return False
    return True


def add_to_records(records: list, model: Model, params: dict, **options) -> list:
    """The ``solve`` JSON records (C order over the grid of ``params``) with the terms of the
    decomposition added (None where a solve of the decomposition did not converge)."""
    d = decomposition(model, params, **options)
    for k in TERMS + SYMMETRIC:
        for r, v in zip(records, d[k].reshape(-1)):
            r[k] = float(v) if np.isfinite(v) else None
    return records


@functools.lru_cache(maxsize=None)
def _kernel_mean(mu1sq: float, mustar2: float):
    """(t, α) -> E_s[k/(k + t)], k = μ₁² s + μ*², s ~ Marchenko–Pastur(α) (closed form, vectorized)."""
    t, a, b, c = (sp.Dummy(k, positive=True) for k in "tabc")
    alpha = sp.Dummy("alpha", positive=True)
    k = b * S_EIG + c
    expr = mp_mean(k / (k + t), alpha).xreplace({b: sp.Float(mu1sq, 17), c: sp.Float(mustar2, 17)})
    return sp.lambdify((t, alpha), expr, "numpy")


def effective_ridge(features: RandomFeatures, alpha, psi, lam, iterations: int = 200) -> np.ndarray:
    """λ̃ ≥ 0 with λ̃ = λ + λ̃ (α/ψ) E_s[k/(k + λ̃)] (Jacot et al. 2020), by bisection on the
    increasing g(t) = 1 − λ/t − (α/ψ) E_s[k/(k + t)]; λ̃ = 0 where λ = 0 and g(0⁺) ≥ 0 (more features
    than samples: the average of min-norm interpolators is the kernel interpolator)."""
    mu1sq, ms2 = float(features.mu1)**2, float(features.mustar)**2
    h = _kernel_mean(mu1sq, ms2)
    alpha, psi, lam = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (alpha, psi, lam)))
    r = alpha / psi

    def g(t):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 - lam / t - r * np.real(h(t + 0j, alpha + 0j))
    lo = np.maximum(lam, 1e-300)
    hi = lam + r * (mu1sq + ms2) + 1.0          # g(hi) > 0: E k/(k+t) ≤ E k/t
    zero = (lam == 0) & (g(np.full_like(lo, 1e-14)) >= 0)
    for _ in range(iterations):
        mid = np.sqrt(lo * hi)
        up = g(mid) > 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.where(zero, 0.0, np.sqrt(lo * hi))


def _evaluate(compiled, solution, grid: dict, output: str, at: dict) -> np.ndarray:
    """The generated ``output`` at the solution's order parameters, with those of ``at`` replaced."""
    values = {**grid, **{k: np.asarray(v) for k, v in solution.values.items()},
              **{k: np.asarray(v) for k, v in solution.fixed.items()}}
    values.update({k: np.zeros(solution.shape) + v for k, v in at.items()})
    return np.asarray(compiled.evaluate(want=[output], **values)[output], dtype=float)


def _on_inputs(model: Model) -> Model:
    """The same prior, teacher and ridge without features: regression on x itself (named as the
    built-in ``ridge`` where it is that model, so that its generated module is shared)."""
    plain = Model(prior=model.prior, teacher=model.teacher, learning=model.learning, name=f"{model.name}-on-inputs")
    ridge = load_model("ridge")
    if model_key(plain, "numpy") == model_key(ridge, "numpy"):
        return ridge
    return plain


def _grid(model: Model, params: dict | None) -> dict:
    names = model.parameter_names()
    params = dict(params or {})
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise DecompositionError(f"unknown parameter(s) {unknown} for model {model.name!r}; its parameters are {names}")
    vals = {}
    for n in names:
        if n in params:
            vals[n] = np.asarray(params[n], dtype=float)
        elif n in model.defaults:
            vals[n] = np.asarray(float(model.defaults[n]))
        else:
            raise DecompositionError(f"parameter {n!r} needs a value (model {model.name!r} has no default)")
    model.check({k: v for k, v in vals.items() if v.ndim == 0})
    arrays = np.broadcast_arrays(*vals.values())
    return {k: np.array(a, dtype=float) for k, a in zip(vals, arrays)}


def decomposition(model="random-features", params: dict | None = None, **options) -> dict:
    """The bias-variance decomposition of ridge on random features on a parameter grid.

    ``model``: a built-in name, a file or a :class:`replica.Model` (ridge on
    :class:`RandomFeatures` of a Gaussian-noise linear teacher); ``params``: name -> number or
    array (broadcast; defaults from the model); ``options``: passed to the solver.

    Returns name -> array of the grid's shape: the parameters, ``generalization_error``,
    d'Ascoli et al.'s ``bias2``, ``var_sampling``, ``var_init``, ``var_noise``,
    ``ensemble_error``, Adlam & Pennington's ``var_P``, ``var_X``, ``var_PX``, ``var_X_eps``,
    ``var_PX_eps``, the overlaps ``Q_none``, ``Q_P``, ``Q_X``, ``Q_PX``, ``Q_X_eps``, ``Q``, ``m``,
    the effective ridge ``lam_tilde`` and ``converged`` (NaN where False)."""
    model = load_model(model)
    check_model(model)
    grid = _grid(model, params)
    feats, L, ch = model.features, model.learning, model.teacher
    psi, lam, delta = feats.ratio.name, L.ridge.name, ch.noise.name
    compiled = compiled_part(model)
    one = _solve(compiled, grid, "uninformed", **options)
    twice = _solve(compiled, {**grid, delta: 2 * grid[delta]}, "uninformed", **options)
    conv = np.asarray(one.converged & twice.converged)

    # ρ = E λ*²: the theory's test error Q − 2m + ρ at Q = m = 0
    rho = _evaluate(compiled, one, grid, "generalization_error", {S.Q.name: 0.0, S.m.name: 0.0})
    m, Q = np.asarray(one["m"]), np.asarray(one["Q"])
    Q_PX = 2 * Q - np.asarray(twice["Q"])
    # the map for Q, E_spec[ω(m̂²τ² + ωq̂)/(χ̂ω + λ)²], at q̂ = 0: two students on independent data
    Q_P = _evaluate(compiled, one, grid, "map_Q", {S.q_hat.name: 0.0})

    lt = effective_ridge(feats, grid["alpha"], grid[psi], grid[lam])
    lam_e = (float(feats.mustar)**2 + lt) / float(feats.mu1)**2
    plain = _on_inputs(model)
    sub = {k: v for k, v in grid.items() if k in plain.parameter_names()}
    r1 = _solve(compiled_part(plain), {**sub, lam: lam_e}, "uninformed", **options)
    r2 = _solve(compiled_part(plain), {**sub, lam: lam_e, delta: 2 * grid[delta]}, "uninformed", **options)
    conv = conv & np.asarray(r1.converged & r2.converged)
    Q_Xe = np.asarray(r1["Q"])
    Q_X = 2 * Q_Xe - np.asarray(r2["Q"])
    Q_0 = m**2 / rho

    out = {
        "generalization_error": rho - 2 * m + Q,
        "bias2": rho - 2 * m + Q_0,
        "var_sampling": Q_X - Q_0,
        "var_init": Q_PX - Q_X,
        "var_noise": Q - Q_PX,
        "ensemble_error": rho - 2 * m + Q_Xe,
        "var_P": Q_P - Q_0,
        "var_X": Q_X - Q_0,
        "var_PX": Q_PX - Q_P - Q_X + Q_0,
        "var_X_eps": Q_Xe - Q_X,
        "var_PX_eps": Q - Q_PX - Q_Xe + Q_X,
        "Q_none": Q_0, "Q_P": Q_P, "Q_X": Q_X, "Q_PX": Q_PX, "Q_X_eps": Q_Xe, "Q": Q, "m": m,
        "lam_tilde": lt, "m_on_inputs": np.asarray(r1["m"]),
    }
    shape = conv.shape
    out = {k: np.where(conv, np.broadcast_to(v, shape), np.nan) for k, v in out.items()}
    return {**{k: np.broadcast_to(v, shape).copy() for k, v in grid.items()}, **out, "converged": conv}
