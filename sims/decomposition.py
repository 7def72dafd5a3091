"""The bias-variance decomposition of ridge on features, measured directly (torch).

Random features: for each teacher w* (drawn from the Gaussian prior and rescaled to
|w*|² = D·var, which removes the O(1/√D) fluctuation of ρ and nothing else), ``data``
independent training sets X, ``features`` independent feature matrices F and, per training set,
``noises`` independent label-noise vectors ε are drawn, and a ridge student
ŵ = argmin ½Σ_μ (y_μ − w·z_μ/√N)² + (λ/2)|w|² is trained on every combination (X, F, ε) with the
real random features z = σ(Fx/√D) — no Gaussian equivalence.  On ``test`` fresh inputs the
overlap Q_S = E_x f̂_a f̂_b is averaged over the ordered pairs of students a ≠ b that share exactly
the sources S (ε shared only together with X): an unbiased estimate of each Q_S.

A Gaussian covariate model given by matrices (one fixed feature map): the pairs (u, z) of each
training set are drawn from the joint covariance [[Ψ, Φ], [Φᵀ, Ω]], the teacher θ is the model's
``teacher_weights`` (times the prior's rms) or drawn from the prior per group, and the overlaps
are exact averages over x: E_x f̂_a f̂_b = ŵ_aᵀΩŵ_b/N, m = θᵀΦŵ/√(ND), ρ = θᵀΨθ/D.

The terms of :mod:`replica.features.decomposition` are the same differences of these overlaps
(:func:`replica.features.decomposition.terms_from_overlaps`), per teacher (per group of draws);
the error bars are the spread over teachers (standard error of the mean).

:func:`measure_ensemble`: the test error of the average of K students trained on the same data
and labels with independent feature draws, measured directly.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from replica.features import GaussianCovariate, RandomFeatures
from replica.features.decomposition import check_model, terms, terms_from_overlaps
from replica.model import load_model

from .data import DTYPE, generator, model_parameters, numeric, sample_prior, to_torch

__all__ = ["measure_decomposition", "measure_ensemble"]


def _ridge(Z: torch.Tensor, Y: torch.Tensor, lam: float) -> torch.Tensor:
    """ŵ (..., N, k) for features Z (..., P, N) and label columns Y (..., P, k), through the
    smaller of the two normal equations (ZᵀZ/N + λ) w = Zᵀy/√N = Zᵀ (ZZᵀ/N + λ)⁻¹ y/√N."""
    P, N = Z.shape[-2:]
    if N <= P:
        A = Z.transpose(-1, -2) @ Z / N + lam * torch.eye(N, dtype=Z.dtype, device=Z.device)
        return torch.linalg.solve(A, Z.transpose(-1, -2) @ Y / N**0.5)
    K = Z @ Z.transpose(-1, -2) / N + lam * torch.eye(P, dtype=Z.dtype, device=Z.device)
    return Z.transpose(-1, -2) @ torch.linalg.solve(K, Y) / N**0.5


def _pair_masks(KX: int, KF: int, KE: int) -> dict:
    """Masks over ordered pairs of students (x, f, e) by the sources they share."""
    idx = np.array(list(itertools.product(range(KX), range(KF), range(KE))))
    x, f, e = (idx[:, k] for k in range(3))
    sx, sf = x[:, None] == x[None], f[:, None] == f[None]
    se = sx & (e[:, None] == e[None])
    return {"Q": sx & sf & se, "Q_PX": sx & sf & ~se, "Q_X_eps": sx & ~sf & se, "Q_X": sx & ~sf & ~se,
            "Q_P": ~sx & sf, "Q_none": ~sx & ~sf}


def _summary(rows: list, info: dict) -> dict:
    per = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    T = len(rows)
    mean = {k: float(a.mean()) for k, a in per.items()}
    se = {k: float(a.std(ddof=1) / np.sqrt(T)) if T > 1 else float("nan") for k, a in per.items()}
    return {"mean": mean, "stderr": se, "per_teacher": per, "info": info}


def _rf_setup(model, v: dict, n: int) -> tuple:
    """(D, N, P, λ, Δ, prior variance, σ as a torch function) of a random-feature model at D = n."""
    feats = model.features
    D = int(n)
    N, P = max(1, round(v[feats.ratio.name] * D)), max(1, round(v["alpha"] * D))
    lam, delta = v[model.learning.ridge.name], v[model.teacher.noise.name]
    var = float(model.prior.var.subs({s: v[s.name] for s in model.prior.var.free_symbols}))
    x = sorted(feats.activation.free_symbols, key=str)[0]
    return D, N, P, lam, delta, var, to_torch(feats.activation, [x])


def _teacher(D: int, var: float, g, dev) -> torch.Tensor:
    """w* from the Gaussian prior, rescaled to |w*|² = D·var."""
    w = torch.randn(D, generator=g, dtype=DTYPE, device=dev)
    return w * (D * var / (w @ w))**0.5


def _covariate_rows(model, v: dict, teachers: int, data: int, noises: int, seed: int, dev) -> list:
    """Per group: ``data`` training sets × ``noises`` noise draws from the covariate model's matrices."""
    feats = model.features
    c = feats.covariances
    D, N = feats.shape
    P = max(1, round(v["alpha"] * D))
    lam, delta = v[model.learning.ridge.name], v[model.teacher.noise.name]
    joint = np.block([[c["teacher"], c["cross"]], [c["cross"].T, c["student"]]])
    ev, V = np.linalg.eigh(joint)
    root = torch.as_tensor(V * np.sqrt(np.clip(ev, 0.0, None)), dtype=DTYPE, device=dev)
    Om, Ph, Ps = (torch.as_tensor(c[k], dtype=DTYPE, device=dev) for k in ("student", "cross", "teacher"))
    # one feature map: same data and noise -> Q, same data -> Q_X, independent data -> Q_none
    names = {"Q": "Q", "Q_PX": "Q_X", "Q_P": "Q_none"}
    masks = {names[k]: torch.as_tensor(m, device=dev) for k, m in _pair_masks(data, 1, noises).items() if k in names}
    rows = []
    for t in range(int(teachers)):
        g = generator(seed, t, 0, dev)
        if feats.teacher_weights is not None:
            rms = float(numeric(model.prior.second_moment(), v))**0.5
            theta = torch.as_tensor(feats.teacher_weights * rms, dtype=DTYPE, device=dev)
        else:
            theta = sample_prior(model.prior, v, D, g, dev)
        UZ = torch.randn(data, P, D + N, generator=g, dtype=DTYPE, device=dev) @ root.T
        U, Z = UZ[..., :D], UZ[..., D:]
        eps = torch.randn(data, noises, P, generator=g, dtype=DTYPE, device=dev) * delta**0.5
        Y = (U @ theta / D**0.5)[:, None, :] + eps                            # (KX, KE, P)
        W = _ridge(Z, Y.transpose(-1, -2), lam)                              # (KX, N, KE)
        W = W.transpose(-1, -2).reshape(-1, N)                               # students in (x, e) order
        G = W @ Om @ W.T / N                                                 # exact E_x f̂_a f̂_b
        o = {k: float(G[m].mean()) for k, m in masks.items()}
        o["m"] = float((W @ (Ph.T @ theta)).mean() / (N * D)**0.5)
        o["rho"] = float(theta @ Ps @ theta / D)
        rows.append({**o, **terms_from_overlaps(o)})
    return rows


def measure_decomposition(model="random-features", params: dict | None = None, n: int = 100, teachers: int = 20, *,
                          data: int = 3, features: int = 3, noises: int = 2, test: int = 4000, seed: int = 0,
                          device="cpu") -> dict:
    """Per-teacher overlaps and terms at input dimension D = ``n`` (N = round(ψD), P = round(αD));
    a Gaussian covariate model at its own D × N (``n``, ``features`` and ``test`` unused).

    Returns {"mean": {name: float}, "stderr": {name: float}, "per_teacher": {name: array}, "info"}
    with the overlaps (``m``, ``Q``, ``Q_none``, ``Q_X``, ..., ``rho``) and the terms
    (:func:`replica.features.decomposition.terms` of the model, ``generalization_error``)."""
    model = load_model(model)
    check_model(model)
    if model.features is None:
        raise ValueError("measure_decomposition: a model with features (random features or a Gaussian covariate model)")
    if min(data, features) < 2 or noises < 2:
        raise ValueError("measure_decomposition: at least 2 data sets, 2 feature draws and 2 noise draws")
    v = model_parameters(model, params)
    dev = torch.device(device)
    feats = model.features
    if isinstance(feats, GaussianCovariate):
        if feats.covariances is None:
            raise ValueError("a Gaussian covariate model given by a spectral density has no matrices to draw from")
        rows = _covariate_rows(model, v, teachers, data, noises, seed, dev)
        D, N = feats.shape
        info = {"D": D, "N": N, "P": max(1, round(v["alpha"] * D)), "teachers": len(rows), "data": data,
                "noises": noises, "terms": list(terms(model))}
        return _summary(rows, info)
    D, N, P, lam, delta, var, sigma = _rf_setup(model, v, n)
    masks = {k: torch.as_tensor(m, device=dev) for k, m in _pair_masks(data, features, noises).items()}
    rows = []
    for t in range(int(teachers)):
        g = generator(seed, t, 0, dev)
        w = _teacher(D, var, g, dev)
        F = torch.randn(features, N, D, generator=g, dtype=DTYPE, device=dev)
        X = torch.randn(data, P, D, generator=g, dtype=DTYPE, device=dev)
        eps = torch.randn(data, noises, P, generator=g, dtype=DTYPE, device=dev) * delta**0.5
        Xt = torch.randn(test, D, generator=g, dtype=DTYPE, device=dev)
        y0 = X @ w / D**0.5                                                   # (KX, P)
        Y = (y0[:, None, :] + eps).transpose(-1, -2)                          # (KX, P, KE)
        Z = sigma(X[:, None] @ F.transpose(-1, -2)[None] / D**0.5)            # (KX, KF, P, N)
        W = _ridge(Z, Y[:, None].expand(-1, features, -1, -1), lam)          # (KX, KF, N, KE)
        Zt = sigma(Xt @ F.transpose(-1, -2) / D**0.5)                         # (KF, M, N)
        f = torch.einsum("fmn,xfnk->xfkm", Zt, W) / N**0.5                    # (KX, KF, KE, M)
        f = f.reshape(-1, test)
        lt = Xt @ w / D**0.5
        G = f @ f.T / test
        o = {k: float(G[m].mean()) for k, m in masks.items()}
        o["m"] = float((f @ lt).mean() / test)
        o["rho"] = float((w @ w) / D)
        rows.append({**o, **terms_from_overlaps(o)})
    info = {"D": D, "N": N, "P": P, "teachers": len(rows), "data": data, "features": features, "noises": noises,
            "test": test, "terms": list(terms(model))}
    return _summary(rows, info)


def measure_ensemble(model="random-features", params: dict | None = None, n: int = 100, teachers: int = 20, *,
                     K=(1, 2, 4, 8), test: int = 4000, seed: int = 0, device="cpu") -> dict:
    """Test error E_x(λ* − (1/K)Σ_k f̂_k)² of ensembles of K ridge students trained on the same
    data and labels with independent feature draws F_k, measured directly at D = ``n``: per
    teacher one training set, max(K) students; the ensemble of size K averages the first K.

    Returns {"K": array, "mean": array, "stderr": array, "per_teacher": (teachers, len(K)), "info"}."""
    model = load_model(model)
    check_model(model)
    if not isinstance(model.features, RandomFeatures):
        raise ValueError("an ensemble over feature draws needs random features")
    Ks = np.asarray(sorted({int(k) for k in np.atleast_1d(K)}))
    if Ks[0] < 1:
        raise ValueError("ensembles have K >= 1 students")
    v = model_parameters(model, params)
    D, N, P, lam, delta, var, sigma = _rf_setup(model, v, n)
    dev = torch.device(device)
    kmax = int(Ks[-1])
    rows = []
    for t in range(int(teachers)):
        g = generator(seed, t, 2, dev)
        w = _teacher(D, var, g, dev)
        F = torch.randn(kmax, N, D, generator=g, dtype=DTYPE, device=dev)
        X = torch.randn(P, D, generator=g, dtype=DTYPE, device=dev)
        y = X @ w / D**0.5 + torch.randn(P, generator=g, dtype=DTYPE, device=dev) * delta**0.5
        Z = sigma(X @ F.transpose(-1, -2) / D**0.5)                            # (K, P, N)
        W = _ridge(Z, y[None, :, None].expand(kmax, -1, -1), lam)[..., 0]      # (K, N)
        Xt = torch.randn(test, D, generator=g, dtype=DTYPE, device=dev)
        f = torch.einsum("kmn,kn->km", sigma(Xt @ F.transpose(-1, -2) / D**0.5), W) / N**0.5
        avg = torch.cumsum(f, 0) / torch.arange(1, kmax + 1, dtype=DTYPE, device=dev)[:, None]
        err = ((avg - (Xt @ w / D**0.5)[None])**2).mean(1)
        rows.append(err[Ks - 1].cpu().numpy())
    per = np.array(rows)
    T = per.shape[0]
    se = per.std(0, ddof=1) / np.sqrt(T) if T > 1 else np.full(Ks.size, np.nan)
    return {"K": Ks, "mean": per.mean(0), "stderr": se, "per_teacher": per,
            "info": {"D": D, "N": N, "P": P, "teachers": T, "test": test}}
