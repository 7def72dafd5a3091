"""Bias and variances of ridge regression on features, and the ensemble error.

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

    bias² = ρ − 2m + Q_∅, var_sampling = Q_X − Q_∅, var_init = Q_PX − Q_X, var_noise = Q − Q_PX,
    ensemble_error = ρ − 2m + Q_Xε,

with m = E_x f̂ λ* and Q = E_x f̂² of one student (the replica theory of the model, derived).
The symmetric decomposition of Adlam & Pennington (2020, arXiv:2011.03321) is the
Möbius inversion of the same overlaps over the three sources P (the features F), X, ε:
V_P = Q_P − Q_∅, V_X = Q_X − Q_∅, V_PX = Q_PX − Q_P − Q_X + Q_∅, V_Xε = Q_Xε − Q_X,
V_PXε = Q_PXε − Q_PX − Q_Xε + Q_X (V_ε = V_Pε = 0: the same noise vector on independent data
is uncorrelated with the predictor, Q_ε = Q_∅, Q_Pε = Q_P).

Where each overlap comes from: Q = Q_PXε and m from the model's own replica theory (the
Gaussian covariate model with its spectrum, derived by :mod:`replica.symbolic.derive`, one
solve); every other Q_S from the two-student replica calculation of
:mod:`replica.features.two_student` evaluated at that saddle point (two students sharing the
sources S: the same or independent random features, the same or independent data, the same or
independent label noise).  No other solve.

* Q_P (same features, independent data) and Q_∅ (nothing shared): the cross conjugate has no
  shared sample, q̂_ab = 0; for random features Q_∅ = m²/ρ comes out of it (the fully averaged
  predictor is (m/ρ) λ*, as rotation invariance says).
* Q_PX (same data and features, independent noise): also Q(Δ = 0) = 2Q(Δ) − Q(2Δ), Q being affine
  in Δ for ridge.
* Q_X, Q_Xε (same data, independent features): the shortcut of the previous version,
  :func:`shortcut_overlaps` — the average over F of the random-feature predictor is kernel ridge
  regression with the kernel K = μ₁² XXᵀ/D + μ*² I at the effective ridge λ̃ solving
  λ̃ = λ + λ̃ (P/N) E_s[k(s)/(k(s) + λ̃)], k(s) = μ₁² s + μ*², s over the Marchenko–Pastur spectrum of
  XXᵀ/D of ratio α (Jacot, Şimşek, Spadaro, Hongler & Gabriel 2020, ICML), i.e. plain ridge on x
  at λ_e = (μ*² + λ̃)/μ₁² — gives the same numbers (the tests hold them equal to 1e-10).

A Gaussian covariate model given by matrices or a density, or ridge on x itself (no features,
the built-in ``ridge``), has one fixed feature map: its
decomposition is over the data and the noise only — :data:`FIXED_TERMS`: bias² = ρ − 2m + Q_∅,
var_sampling = Q_X − Q_∅, var_noise = Q − Q_X, with Q_∅ (independent data) and Q_X (same data,
independent noise) from the same two-student equations with the same features.

Everything is evaluated on the broadcast parameter grid, vectorized; a point where any of the
solves did not converge is NaN in every term.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .. import symbols as S
from ..channels import Linear
from ..codegen.cache import model_key
from ..learning import ERM
from ..losses import Square
from ..model import Model, load_model
from ..priors import Gaussian
from ..solve.fixed_point import solve as _solve
from ..solve.transitions import compiled_part
from .components import GaussianCovariate, RandomFeatures
from .spectrum import mp_mean, s as S_EIG
from .two_student import pair_overlap

__all__ = ["decomposition", "effective_ridge", "shortcut_overlaps", "check_model", "applies", "add_to_records",
           "terms", "terms_from_overlaps", "ensemble_error", "DecompositionError", "TERMS", "SYMMETRIC", "FIXED_TERMS"]

#: d'Ascoli et al.'s terms, in their order, and the ensemble error
TERMS = ("bias2", "var_sampling", "var_init", "var_noise", "ensemble_error")
#: Adlam & Pennington's symmetric terms (P = the features, X = the data, eps = the label noise)
SYMMETRIC = ("var_P", "var_X", "var_PX", "var_X_eps", "var_PX_eps")
#: the terms of a model with one fixed feature map (a Gaussian covariate model): data and noise
FIXED_TERMS = ("bias2", "var_sampling", "var_noise")


class DecompositionError(ValueError):
    """A model outside the decomposition's reach (not ridge on random features of a linear teacher)."""


def check_model(model: Model) -> None:
    """Raise :class:`DecompositionError` unless ``model`` is ridge on random features or on a
    Gaussian covariate model (or on x itself), of a Gaussian-noise linear teacher with a Gaussian prior."""
    if not (model.features is None or isinstance(model.features, (RandomFeatures, GaussianCovariate))):
        raise DecompositionError(f"model {model.name!r}: the bias-variance decomposition is derived for random "
                                 "features, a Gaussian covariate model or the inputs themselves")
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
    """Whether ``replica solve`` reports the decomposition for ``model``: ridge on features
    (:func:`decomposition` also takes ridge on x itself, through the Python API)."""
    if model.features is None:
        return False
    try:
        check_model(model)
    except DecompositionError:
        return False
    return True


def terms(model: Model) -> tuple:
    """The names of the decomposition's terms for ``model``: d'Ascoli et al.'s and Adlam &
    Pennington's for random features, :data:`FIXED_TERMS` for a fixed feature map."""
    return TERMS + SYMMETRIC if isinstance(model.features, RandomFeatures) else FIXED_TERMS


def add_to_records(records: list, model: Model, params: dict, **options) -> list:
    """The ``solve`` JSON records (C order over the grid of ``params``) with the terms of the
    decomposition added (None where its solve did not converge)."""
    d = decomposition(model, params, **options)
    for k in terms(model):
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


def _overlaps(model: Model, grid: dict, **options) -> tuple:
    """(overlaps, converged): ρ, m, Q of the model's solve and the pairs' Q_S (two-student)."""
    compiled = compiled_part(model)
    one = _solve(compiled, grid, "uninformed", **options)
    # ρ = E λ*²: the theory's test error Q − 2m + ρ at Q = m = 0
    rho = _evaluate(compiled, one, grid, "generalization_error", {S.Q.name: 0.0, S.m.name: 0.0})
    values = {**grid, **{k: np.asarray(v) for k, v in one.values.items()}, "rho": rho}
    o = {"rho": rho, "m": np.asarray(one["m"]), "Q": np.asarray(one["Q"])}
    pair = functools.partial(pair_overlap, model, values)
    if isinstance(model.features, RandomFeatures):
        o["Q_PX"] = pair(same_features=True, same_data=True, same_noise=False)
        o["Q_P"] = pair(same_features=True, same_data=False, same_noise=False)
        o["Q_X_eps"] = pair(same_features=False, same_data=True, same_noise=True)
        o["Q_X"] = pair(same_features=False, same_data=True, same_noise=False)
        o["Q_none"] = pair(same_features=False, same_data=False, same_noise=False)
    else:
        o["Q_X"] = pair(same_features=True, same_data=True, same_noise=False)
        o["Q_none"] = pair(same_features=True, same_data=False, same_noise=False)
    return o, np.asarray(one.converged)


def terms_from_overlaps(o: dict) -> dict:
    """The terms from the overlaps (the same differences for the theory and the simulations);
    the random-feature terms where ``o`` has Q_P, else :data:`FIXED_TERMS`."""
    out = {"generalization_error": o["rho"] - 2 * o["m"] + o["Q"], "bias2": o["rho"] - 2 * o["m"] + o["Q_none"],
           "var_sampling": o["Q_X"] - o["Q_none"]}
    if "Q_P" not in o:
        out["var_noise"] = o["Q"] - o["Q_X"]
        return out
    out.update({
        "var_init": o["Q_PX"] - o["Q_X"],
        "var_noise": o["Q"] - o["Q_PX"],
        "ensemble_error": o["rho"] - 2 * o["m"] + o["Q_X_eps"],
        "var_P": o["Q_P"] - o["Q_none"],
        "var_X": o["Q_X"] - o["Q_none"],
        "var_PX": o["Q_PX"] - o["Q_P"] - o["Q_X"] + o["Q_none"],
        "var_X_eps": o["Q_X_eps"] - o["Q_X"],
        "var_PX_eps": o["Q"] - o["Q_PX"] - o["Q_X_eps"] + o["Q_X"],
    })
    return out


def decomposition(model="random-features", params: dict | None = None, **options) -> dict:
    """The bias-variance decomposition of ridge on features on a parameter grid.

    ``model``: a built-in name, a file or a :class:`replica.Model` (ridge on
    :class:`RandomFeatures` or a :class:`GaussianCovariate` of a Gaussian-noise linear teacher);
    ``params``: name -> number or array (broadcast; defaults from the model); ``options``: passed
    to the solver.

    Returns name -> array of the grid's shape: the parameters, ``generalization_error``, the
    terms (:func:`terms`: for random features d'Ascoli et al.'s ``bias2``, ``var_sampling``,
    ``var_init``, ``var_noise``, ``ensemble_error`` and Adlam & Pennington's ``var_P``, ``var_X``,
    ``var_PX``, ``var_X_eps``, ``var_PX_eps``; for a Gaussian covariate model ``bias2``,
    ``var_sampling``, ``var_noise``), the overlaps (``Q_none``, ``Q_X``, ..., ``Q``, ``m``,
    ``rho``) and ``converged`` (NaN where False)."""
    model = load_model(model)
    check_model(model)
    grid = _grid(model, params)
    o, conv = _overlaps(model, grid, **options)
    out = {**terms_from_overlaps(o), **o}
    shape = conv.shape
    conv = conv & np.all([np.isfinite(np.broadcast_to(v, shape)) for v in out.values()], axis=0)
    out = {k: np.where(conv, np.broadcast_to(v, shape), np.nan) for k, v in out.items()}
    return {**{k: np.broadcast_to(v, shape).copy() for k, v in grid.items()}, **out, "converged": conv}


def ensemble_error(decomp: dict, K) -> np.ndarray:
    """Test error of the average of K students trained on the same data and labels with
    independent feature draws (d'Ascoli et al. 2020, Sec. 4): E_x(λ* − (1/K)Σ_k f̂_k)² =
    ρ − 2m + Q/K + (1 − 1/K) Q_Xε = E_∞ + (E_1 − E_∞)/K, from a random-feature
    :func:`decomposition` (broadcast against ``K``; K = inf gives ``ensemble_error``)."""
    if "Q_X_eps" not in decomp:
        raise DecompositionError("the ensemble over feature draws needs random features")
    K = np.asarray(K, dtype=float)
    if np.any(K < 1):
        raise DecompositionError("an ensemble has K >= 1 students")
    e_inf, e_one = decomp["ensemble_error"], decomp["generalization_error"]
    return e_inf + (e_one - e_inf) / K


def shortcut_overlaps(model="random-features", params: dict | None = None, **options) -> dict:
    """Q_Xε and Q_X of random features by Jacot et al.'s effective ridge (plain ridge on x at
    λ_e = (μ*² + λ̃)/μ₁², at Δ and at 2Δ: Q_X = 2Q(Δ) − Q(2Δ)), the shortcut the two-student
    calculation replaces; also ``m_on_inputs`` (= the random-feature m) and ``lam_tilde``."""
    model = load_model(model)
    check_model(model)
    if not isinstance(model.features, RandomFeatures):
        raise DecompositionError("the effective ridge is over a draw of random features")
    grid = _grid(model, params)
    feats, ch = model.features, model.teacher
    psi, lam, delta = feats.ratio.name, model.learning.ridge.name, ch.noise.name
    lt = effective_ridge(feats, grid["alpha"], grid[psi], grid[lam])
    lam_e = (float(feats.mustar)**2 + lt) / float(feats.mu1)**2
    plain = _on_inputs(model)
    sub = {k: v for k, v in grid.items() if k in plain.parameter_names()}
    r1 = _solve(compiled_part(plain), {**sub, lam: lam_e}, "uninformed", **options)
    r2 = _solve(compiled_part(plain), {**sub, lam: lam_e, delta: 2 * grid[delta]}, "uninformed", **options)
    conv = np.asarray(r1.converged & r2.converged)
    Q_Xe = np.asarray(r1["Q"])
    out = {"Q_X_eps": Q_Xe, "Q_X": 2 * Q_Xe - np.asarray(r2["Q"]), "m_on_inputs": np.asarray(r1["m"]), "lam_tilde": lt}
    return {k: np.where(conv, np.broadcast_to(v, conv.shape), np.nan) for k, v in out.items()} | {"converged": conv}
