"""Measurements on learned weights, and statistics over instances.

Definitions (the observables' fixed names, DESIGN.md; the same as replica/theory.py):

* ``m`` = ŵ·w*/N, ``Q`` = |ŵ|²/N (ERM's self-overlap; Bayes/Gibbs report ``q``);
* ``mse`` = |ŵ − w*|²/N;
* ``generalization_error``: classification — P_x[sign(ŵ·x) ≠ sign(w*·x)] (the teacher's
  noiseless label), exactly arccos(ŵ·w*/(|ŵ||w*|))/π for Gaussian inputs; for a deterministic
  teacher rule that is not sign(z) (the door; ``replica.observables.label_rule``),
  P_x[sign(ŵ·x) ≠ y*(x)] estimated on fresh samples; regression —
  E_x[(ŷ − f*(z))²] with ŷ = ŵ·x/√N: exactly |ŵ − w*|²/N for a linear teacher f*(z) = z,
  otherwise estimated on fresh samples (:func:`sims.data.fresh`);
* ``training_error``: classification — the fraction of training labels y_μ ≠ sign(λ_μ);
  regression — (1/P) Σ (y_μ − λ_μ)²;  ``training_loss`` = (1/P) Σ ℓ(y_μ, λ_μ).

Statistics: the mean over instances and its standard error s/√S; :func:`extrapolate` fits
a + b/N by weighted least squares over several N.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
import torch

from replica.observables import label_rule
from replica.symbols import z as Z

from .data import Data, clean_output, fresh

__all__ = ["overlaps", "generalization_error", "training_error", "summarize", "extrapolate", "estimator_observables"]


def overlaps(w_hat: torch.Tensor, data: Data) -> dict:
    """m = ŵ·w*/N, Q = |ŵ|²/N, rho = |w*|²/N and mse = |ŵ − w*|²/N per instance."""
    N = data.n
    t = data.teacher
    return {"m": (w_hat * t).sum(-1) / N, "Q": (w_hat * w_hat).sum(-1) / N,
            "rho": (t * t).sum(-1) / N, "mse": ((w_hat - t)**2).sum(-1) / N}


def generalization_error(w_hat: torch.Tensor, data: Data, *, samples: int = 20000, seed: int = 12345,
                         exact: bool = True) -> torch.Tensor:
    """Per-instance generalization error of the predictor ŵ (see the module docstring)."""
    ch = data.model.teacher
    N = data.n
    if ch.classification:
        if label_rule(ch) == "deterministic":        # the fresh labels are the noiseless ones
            X, y, _ = fresh(data, samples, seed)
            lam = (X @ w_hat[..., None])[..., 0] / N**0.5
            return (torch.sign(lam) != y).to(w_hat.dtype).mean(-1)
        if exact:
            o = overlaps(w_hat, data)
            c = (o["m"] / torch.sqrt(o["Q"] * o["rho"])).clamp(-1, 1)
            return torch.arccos(c) / math.pi
        X, _, z = fresh(data, samples, seed)
        lam = (X @ w_hat[..., None])[..., 0] / N**0.5
        return (torch.sign(lam) != torch.sign(z)).to(w_hat.dtype).mean(-1)
    f = ch.clean_output()
    if exact and sp.simplify(f - Z) == 0:
        return overlaps(w_hat, data)["mse"]
    X, _, z = fresh(data, samples, seed)
    lam = (X @ w_hat[..., None])[..., 0] / N**0.5
    return ((lam - clean_output(ch, data.params)(z))**2).mean(-1)


def training_error(w_hat: torch.Tensor, data: Data) -> torch.Tensor:
    """Fraction of misclassified training labels, or the training mean squared error."""
    lam = (data.X @ w_hat[..., None])[..., 0] / data.n**0.5
    if data.model.teacher.classification:
        return (torch.sign(lam) != data.y).to(w_hat.dtype).mean(-1)
    return ((data.y - lam)**2).mean(-1)


def estimator_observables(w_hat: torch.Tensor, data: Data) -> dict:
    """Every per-instance observable of a point estimate ŵ: m, Q, mse, generalization and training error."""
    o = overlaps(w_hat, data)
    return {"m": o["m"], "Q": o["Q"], "mse": o["mse"],
            "generalization_error": generalization_error(w_hat, data),
            "training_error": training_error(w_hat, data)}


def summarize(values, mask=None) -> tuple[float, float, int]:
    """(mean, standard error, count) over the instances (those where ``mask`` is True)."""
    v = torch.as_tensor(values, dtype=torch.float64).flatten().cpu()
    if mask is not None:
        v = v[torch.as_tensor(mask).flatten().cpu().bool()]
    v = v[torch.isfinite(v)]
    k = len(v)
    if k == 0:
        return math.nan, math.nan, 0
    mean = float(v.mean())
    se = float(v.std(unbiased=True) / math.sqrt(k)) if k > 1 else math.inf
    return mean, se, k


def extrapolate(ns, means, stderrs) -> dict:
    """Weighted least-squares fit mean(N) = a + b/N.

    Returns {"value": a, "stderr": its standard error, "slope": b, "chi2": χ², "dof"}; the
    standard error is scaled by √(χ²/dof) when the fit is worse than the error bars say."""
    x = 1.0 / np.asarray(ns, float)
    yv = np.asarray(means, float)
    s = np.maximum(np.asarray(stderrs, float), 1e-12)
    A = np.stack([np.ones_like(x), x], 1) / s[:, None]
    coef, *_ = np.linalg.lstsq(A, yv / s, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    chi2 = float(np.sum(((A @ coef) - yv / s)**2))
    dof = max(len(x) - 2, 1)
    scale = max(1.0, math.sqrt(chi2 / dof))
    return {"value": float(coef[0]), "stderr": float(math.sqrt(cov[0, 0]) * scale), "slope": float(coef[1]),
            "chi2": chi2, "dof": dof}
