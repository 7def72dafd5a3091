"""The bias-variance decomposition of ridge on random features, measured directly (torch).

For each teacher w* (drawn from the Gaussian prior and rescaled to |w*|² = D·var, which removes
the O(1/√D) fluctuation of ρ and nothing else), ``data`` independent training sets X,
``features`` independent feature matrices F and, per training set, ``noises`` independent
label-noise vectors ε are drawn, and a ridge student
ŵ = argmin ½Σ_μ (y_μ − w·z_μ/√N)² + (λ/2)|w|² is trained on every combination (X, F, ε) with the
real random features z = σ(Fx/√D) — no Gaussian equivalence.  On ``test`` fresh inputs the
overlap Q_S = E_x f̂_a f̂_b is averaged over the ordered pairs of students a ≠ b that share exactly
the sources S (ε shared only together with X): an unbiased estimate of each Q_S.  The terms of
:mod:`replica.features.decomposition` are the same differences of these overlaps, per teacher;
the error bars are the spread over teachers (standard error of the mean).
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from replica.features.decomposition import SYMMETRIC, TERMS, check_model
from replica.model import load_model

from .data import DTYPE, generator, model_parameters, to_torch

__all__ = ["measure_decomposition", "terms_from_overlaps"]


def terms_from_overlaps(o: dict) -> dict:
    """The decomposition's terms from the overlaps ``o`` (keys rho, m, Q, Q_none, Q_P, Q_X, Q_PX,
    Q_X_eps) — the same differences as the theory's."""
    return {
        "generalization_error": o["rho"] - 2 * o["m"] + o["Q"],
        "bias2": o["rho"] - 2 * o["m"] + o["Q_none"],
        "var_sampling": o["Q_X"] - o["Q_none"],
        "var_init": o["Q_PX"] - o["Q_X"],
        "var_noise": o["Q"] - o["Q_PX"],
        "ensemble_error": o["rho"] - 2 * o["m"] + o["Q_X_eps"],
        "var_P": o["Q_P"] - o["Q_none"],
        "var_X": o["Q_X"] - o["Q_none"],
        "var_PX": o["Q_PX"] - o["Q_P"] - o["Q_X"] + o["Q_none"],
        "var_X_eps": o["Q_X_eps"] - o["Q_X"],
        "var_PX_eps": o["Q"] - o["Q_PX"] - o["Q_X_eps"] + o["Q_X"],
    }


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


def measure_decomposition(model="random-features", params: dict | None = None, n: int = 100, teachers: int = 20, *,
                          data: int = 3, features: int = 3, noises: int = 2, test: int = 4000, seed: int = 0,
                          device="cpu") -> dict:
    """Per-teacher overlaps and terms at input dimension D = ``n`` (N = round(ψD), P = round(αD)).

    Returns {"mean": {name: float}, "stderr": {name: float}, "per_teacher": {name: array}, "info"}
    with the overlaps (``m``, ``Q``, ``Q_none``, ``Q_P``, ``Q_X``, ``Q_PX``, ``Q_X_eps``, ``rho``)
    and the terms (:data:`replica.features.decomposition.TERMS`, ``SYMMETRIC``,
    ``generalization_error``)."""
    model = load_model(model)
    check_model(model)
    if min(data, features) < 2 or noises < 2:
        raise ValueError("measure_decomposition: at least 2 data sets, 2 feature draws and 2 noise draws")
    v = model_parameters(model, params)
    feats = model.features
    D = int(n)
    N, P = max(1, round(v[feats.ratio.name] * D)), max(1, round(v["alpha"] * D))
    lam, delta = v[model.learning.ridge.name], v[model.teacher.noise.name]
    var = float(model.prior.var.subs({s: v[s.name] for s in model.prior.var.free_symbols}))
    x = sorted(feats.activation.free_symbols, key=str)[0]
    sigma = to_torch(feats.activation, [x])
    dev = torch.device(device)
    masks = {k: torch.as_tensor(m, device=dev) for k, m in _pair_masks(data, features, noises).items()}
    rows = []
    for t in range(int(teachers)):
        g = generator(seed, t, 0, dev)
        w = torch.randn(D, generator=g, dtype=DTYPE, device=dev)
        w = w * (D * var / (w @ w))**0.5
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
    per = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    T = len(rows)
    mean = {k: float(a.mean()) for k, a in per.items()}
    se = {k: float(a.std(ddof=1) / np.sqrt(T)) if T > 1 else float("nan") for k, a in per.items()}
    info = {"D": D, "N": N, "P": P, "teachers": T, "data": data, "features": features, "noises": noises,
            "test": test, "terms": list(TERMS) + list(SYMMETRIC)}
    return {"mean": mean, "stderr": se, "per_teacher": per, "info": info}
