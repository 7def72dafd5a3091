"""Simulations of learning on random features, batched over instances (torch, CPU or GPU).

The Model's conventions (DESIGN.md): x ~ N(0, I_D), teacher w* from the prior, labels from the
teacher channel at λ* = w*·x/√D; features z = σ(F x/√D) with F (N × D) i.i.d. N(0, 1); the
student is the Model's ERM estimator on (z_μ, y_μ) with pre-activation λ = w·z/√N; D = ``n``,
N = round(ψD), P = round(αD).  Observables, per instance, on fresh test inputs:

* ``generalization_error``: regression E(λ̂ − f*(λ*))², classification P(sign λ̂ ≠ sign λ*);
* ``Q`` = E λ̂², ``m`` = E λ̂ λ* (the overlaps of the equivalent Gaussian covariate model);
* ``training_error`` on the training set (as for plain ERM, :func:`sims.measure.training_error`).

A :class:`replica.features.GaussianCovariate` given by matrices is simulated at its own
dimensions (D × N; ``n`` must be D): the pairs (u, z) are drawn from the joint Gaussian of
covariance [[Ψ, Φ], [Φᵀ, Ω]], the teacher is λ* = θ·u/√D with θ the given ``teacher_weights``
times the prior's rms (or θ drawn from the prior), the student sees z.
"""
from __future__ import annotations

import numpy as np
import torch

from replica.features import GaussianCovariate, RandomFeatures

from .data import DTYPE, Data, _device, clean_output, generator, model_parameters, numeric, sample_labels, sample_prior, to_torch
from .erm import run_erm
from .measure import training_error

__all__ = ["sample_features", "feature_observables", "simulate_features_point"]


class FeatureData(Data):
    """A :class:`sims.data.Data` whose inputs ``X`` are the features (S, P, N); ``F`` (S, N, D) the
    feature matrices, ``d`` the input dimension D."""

    F: torch.Tensor = None
    d: int = 0


def _activation(model):
    x = sorted(model.features.activation.free_symbols, key=str)[0]
    return to_torch(model.features.activation, [x])


def _features(sigma, X, F):
    return sigma(X @ F.transpose(-1, -2) / F.shape[-1]**0.5)


class _Covariate:
    """Draws of (u, z) from a GaussianCovariate's joint covariance (a square root by eigh)."""

    def __init__(self, gcm: GaussianCovariate, device):
        c = gcm.covariances
        joint = np.block([[c["teacher"], c["cross"]], [c["cross"].T, c["student"]]])
        ev, V = np.linalg.eigh(joint)
        self.root = torch.as_tensor(V * np.sqrt(np.clip(ev, 0.0, None)), dtype=DTYPE, device=device)
        self.D, self.N = gcm.shape

    def fields(self, w: torch.Tensor, theta: torch.Tensor, samples: int, g) -> tuple:
        """``samples`` draws of (λ, λ*) = (w·z/√N, θ·u/√D), a Gaussian pair of covariance
        [[wᵀΩw/N, θᵀΦw/√(ND)], [., θᵀΨθ/D]]."""
        R = self.root.to(w.dtype)
        a = torch.cat([torch.zeros(self.D, dtype=w.dtype, device=w.device), w / self.N**0.5])
        b = torch.cat([theta / self.D**0.5, torch.zeros(self.N, dtype=w.dtype, device=w.device)])
        A = torch.stack([a, b]) @ R                     # (2, D + N): the pair's loadings
        xi = torch.randn(samples, 2, generator=g, dtype=w.dtype, device=w.device)
        ev, V = torch.linalg.eigh(A @ A.T)
        pair = xi @ (V * ev.clamp(min=0.0).sqrt()).T
        return pair[:, 0], pair[:, 1]

    def draw(self, P: int, g) -> tuple:
        x = torch.randn(P, self.D + self.N, generator=g, dtype=DTYPE, device=self.root.device) @ self.root.T
        return x[:, :self.D], x[:, self.D:]


def _check_features(model, n):
    feats = model.features
    if isinstance(feats, GaussianCovariate):
        if feats.covariances is None:
            raise NotImplementedError("a Gaussian covariate model given by a spectral density has no matrices "
                                      "to draw from: build it from matrices to simulate it")
        if n is not None and int(n) != feats.shape[0]:
            raise ValueError(f"a Gaussian covariate model given by matrices has the fixed input dimension "
                             f"D = {feats.shape[0]}: simulate it with n = {feats.shape[0]}, not {n}")
    elif not isinstance(feats, RandomFeatures):
        raise NotImplementedError(f"simulations are built for random features and Gaussian covariates, not {feats!r}")


def _teacher(model, values, D, g, dev):
    feats = model.features
    if isinstance(feats, GaussianCovariate) and feats.teacher_weights is not None:
        rms = float(numeric(model.prior.second_moment(), values))**0.5
        return torch.as_tensor(feats.teacher_weights * rms, dtype=DTYPE, device=dev)
    return sample_prior(model.prior, values, D, g, dev)


def sample_features(model, params: dict | None = None, n: int = 200, seeds=1, *, device="cpu", seed: int = 0) -> FeatureData:
    """``seeds`` instances at input dimension D = ``n``: teacher, feature matrix (random
    features) and training set."""
    _check_features(model, n)
    values = model_parameters(model, params)
    gcm = isinstance(model.features, GaussianCovariate)
    dev = _device(device)
    if gcm:
        cov = _Covariate(model.features, dev)
        D, N = cov.D, cov.N
    else:
        D = int(n)
        N = max(1, int(round(values[model.features.ratio.name] * D)))
        sigma = _activation(model)
    P = max(1, int(round(values["alpha"] * D)))
    ids = list(range(int(seeds))) if isinstance(seeds, int) else [int(s) for s in seeds]
    Zs, ys, ts, zs, Fs = [], [], [], [], []
    for s in ids:
        g = generator(seed, s, 0, dev)
        t = _teacher(model, values, D, g, dev)
        if gcm:
            X, Z = cov.draw(P, g)
        else:
            F = torch.randn(N, D, generator=g, dtype=DTYPE, device=dev)
            X = torch.randn(P, D, generator=g, dtype=DTYPE, device=dev)
            Z = _features(sigma, X, F)
            Fs.append(F)
        z = X @ t / D**0.5
        ys.append(sample_labels(model.teacher, values, z, g))
        Zs.append(Z), ts.append(t), zs.append(z)
    data = FeatureData(torch.stack(Zs), torch.stack(ys), torch.stack(ts), model, values, N, values["alpha"],
                       torch.stack(zs), ids, int(seed))
    data.F, data.d = (torch.stack(Fs) if Fs else None), D
    return data


def feature_observables(w_hat: torch.Tensor, data: FeatureData, *, samples: int = 20000, seed: int = 12345) -> dict:
    """Per-instance observables of the estimator ŵ (S, N) on ``samples`` fresh inputs."""
    gcm = isinstance(data.model.features, GaussianCovariate)
    if gcm:
        cov = _Covariate(data.model.features, data.device)
    else:
        sigma = _activation(data.model)
    ch = data.model.teacher
    out = {"generalization_error": [], "Q": [], "m": []}
    f_star = None if ch.classification else clean_output(ch, data.params)
    for k, s in enumerate(data.seeds):
        g = generator(seed, s, 1, data.device)
        if gcm:
            # (λ, λ*) is exactly Gaussian given ŵ and θ: draw the pair from its 2 × 2 covariance
            lam, lam_star = cov.fields(w_hat[k], data.teacher[k], samples, g)
        else:
            X = torch.randn(samples, data.d, generator=g, dtype=DTYPE, device=data.device)
            lam_star = X @ data.teacher[k] / data.d**0.5
            lam = _features(sigma, X, data.F[k]) @ w_hat[k] / data.n**0.5
        if ch.classification:
            err = (torch.sign(lam) != torch.sign(lam_star)).to(DTYPE).mean()
        else:
            err = ((lam - f_star(lam_star))**2).mean()
        out["generalization_error"].append(err)
        out["Q"].append((lam * lam).mean())
        out["m"].append((lam * lam_star).mean())
    obs = {k: torch.stack(v) for k, v in out.items()}
    obs["training_error"] = training_error(w_hat, data)
    return obs


def simulate_features_point(model, params: dict, n: int, seeds, *, algorithm=None, device="cpu", seed: int = 0) -> dict:
    """ERM on random features at one point: {"observables", "converged", "info"} as
    :func:`sims.verify.simulate_point`."""
    if algorithm not in (None, "erm"):
        raise ValueError(f"models with features are simulated by ERM, not {algorithm!r}")
    data = sample_features(model, params, n, seeds, device=device, seed=seed)
    r = run_erm(data)
    obs = feature_observables(r["w_hat"], data)
    info = {"algorithm": "erm", "method": r["method"], "p": data.p, "features": data.n}
    return {"observables": {k: v.cpu() for k, v in obs.items()}, "converged": r["converged"].cpu(), "info": info}
