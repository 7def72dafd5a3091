"""Simulations of learning on random features, batched over instances (torch, CPU or GPU).

The Model's conventions (DESIGN.md): x ~ N(0, I_D), teacher w* from the prior, labels from the
teacher channel at λ* = w*·x/√D; features z = σ(F x/√D) with F (N × D) i.i.d. N(0, 1); the
student is the Model's ERM estimator on (z_μ, y_μ) with pre-activation λ = w·z/√N; D = ``n``,
N = round(ψD), P = round(αD).  Observables, per instance, on fresh test inputs:

* ``generalization_error``: regression E(λ̂ − f*(λ*))², classification P(sign λ̂ ≠ sign λ*);
* ``Q`` = E λ̂², ``m`` = E λ̂ λ* (the overlaps of the equivalent Gaussian covariate model);
* ``training_error`` on the training set (as for plain ERM, :func:`sims.measure.training_error`).
"""
from __future__ import annotations

import torch

from replica.features import RandomFeatures

from .data import DTYPE, Data, _device, clean_output, generator, model_parameters, sample_labels, sample_prior, to_torch
from .erm import run_erm
from .measure import training_error

__all__ = ["sample_features", "feature_observables", "simulate_features_point"]


class FeatureData(Data):
    """A :class:`sims.data.Data` whose inputs ``X`` are the features (S, P, N); ``F`` (S, N, D) the
    feature matrices, ``d`` the input dimension D."""

    F: torch.Tensor = None
    d: int = 0


def _activation(model):
    feats = model.features
    if not isinstance(feats, RandomFeatures):
        raise NotImplementedError(f"simulations are built for random features, not {feats!r}")
    x = sorted(feats.activation.free_symbols, key=str)[0]
    return to_torch(feats.activation, [x])


def _features(sigma, X, F):
    return sigma(X @ F.transpose(-1, -2) / F.shape[-1]**0.5)


def sample_features(model, params: dict | None = None, n: int = 200, seeds=1, *, device="cpu", seed: int = 0) -> FeatureData:
    """``seeds`` instances at input dimension D = ``n``: teacher, feature matrix, training set."""
    values = model_parameters(model, params)
    D = int(n)
    N = max(1, int(round(values[model.features.ratio.name] * D)))
    P = max(1, int(round(values["alpha"] * D)))
    dev = _device(device)
    sigma = _activation(model)
    ids = list(range(int(seeds))) if isinstance(seeds, int) else [int(s) for s in seeds]
    Zs, ys, ts, zs, Fs = [], [], [], [], []
    for s in ids:
        g = generator(seed, s, 0, dev)
        t = sample_prior(model.prior, values, D, g, dev)
        F = torch.randn(N, D, generator=g, dtype=DTYPE, device=dev)
        X = torch.randn(P, D, generator=g, dtype=DTYPE, device=dev)
        z = X @ t / D**0.5
        ys.append(sample_labels(model.teacher, values, z, g))
        Zs.append(_features(sigma, X, F)), ts.append(t), zs.append(z), Fs.append(F)
    data = FeatureData(torch.stack(Zs), torch.stack(ys), torch.stack(ts), model, values, N, values["alpha"],
                       torch.stack(zs), ids, int(seed))
    data.F, data.d = torch.stack(Fs), D
    return data


def feature_observables(w_hat: torch.Tensor, data: FeatureData, *, samples: int = 20000, seed: int = 12345) -> dict:
    """Per-instance observables of the estimator ŵ (S, N) on ``samples`` fresh inputs."""
    sigma = _activation(data.model)
    ch = data.model.teacher
    out = {"generalization_error": [], "Q": [], "m": []}
    f_star = None if ch.classification else clean_output(ch, data.params)
    for k, s in enumerate(data.seeds):
        g = generator(seed, s, 1, data.device)
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
