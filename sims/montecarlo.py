"""Monte Carlo sampling of the Gibbs measure  P(w) ∝ P_prior(w) exp(−Σ_μ ℓ(y_μ, λ_μ)/T),
λ_μ = w·x_μ/√N, batched over instances and two independent replicas per instance (for q).

Moves (each satisfies detailed balance with respect to the Gibbs measure):

* discrete priors (atoms only, e.g. ±1): single-site Metropolis — a site i proposes another
  atom uniformly, accepted with probability min(1, p(a')/p(a) · e^{−ΔE/T}); the fields λ are
  updated incrementally, Δλ_μ = (a' − a) x_μi/√N, so a sweep over the N sites costs O(NP);
* Gaussian prior N(0, var) and the sphere |w|² = N: Metropolis with prior-invariant moves —
  a one-site Crank–Nicolson step (Gaussian) or the rotation of a pair of sites in its plane
  (sphere, keeps |w|² = N), accepted with min(1, e^{−ΔE/T}); the step adapted in the
  burn-in only.  T = 0 (the version space of a counting energy) is allowed here, from a zero-energy start
  (the teacher when labels are noiseless: ``init="teacher"``);
* any other prior: single-site independence Metropolis, proposals from the prior.

One sweep = N single-site proposals, or slice moves of every site once.  The first
``burn_in`` fraction of the sweeps is discarded; observables are averaged over the rest, every
``thin`` sweeps.  Diagnostics: the measurement window split in halves, the difference of
their per-instance means (m, q, energy) compared with its standard error over instances.
"""
from __future__ import annotations

import math

import torch

from replica.learning import Gibbs
from replica.priors import Gaussian, Spherical

from .data import DTYPE, Data, generator, numeric, sample_prior, to_torch
from replica.symbols import lam as LAM, y as Y

__all__ = ["run_gibbs"]


def _setup(data: Data, temperature, loss):
    L = data.model.learning
    if loss is None:
        if not isinstance(L, Gibbs):
            raise ValueError(f"model {data.model.name!r} is not a Gibbs model; give loss= and temperature=")
        loss = L.loss
    if temperature is None:
        temperature = float(numeric(L.temperature, data.params))
    return to_torch(loss.expr, [Y, LAM], data.params), float(temperature)


def run_gibbs(data: Data, *, temperature=None, loss=None, sweeps: int = 2000, burn_in: float = 0.5,
              thin: int = 1, init: str = "random", seed: int = 1) -> dict:
    """Sample the Gibbs measure of ``data.model`` (or of ``loss`` at ``temperature``).

    Returns per-instance tensors (S,): ``m`` (w·w*/N, both replicas and the window averaged),
    ``q`` (w¹·w²/N), ``Q`` (|w|²/N), ``energy`` (mean training loss per sample, E/P),
    ``generalization_error`` (arccos of the normalized overlap / π, averaged), ``acceptance``,
    plus ``drift`` (dict of the half-window differences, per instance) and ``trace`` (the m, q,
    energy series averaged over instances)."""
    ell, T = _setup(data, temperature, loss)
    prior = data.model.student_prior or data.model.prior
    S, P, N = data.X.shape
    dev = data.device
    X2 = data.X.repeat_interleave(2, 0)             # (2S, P, N): replica r of instance s at 2s + r
    y2 = data.y.repeat_interleave(2, 0)
    t2 = data.teacher.repeat_interleave(2, 0)
    B = 2 * S
    g = generator(seed, data.seeds[0] if data.seeds else 0, 7 + 1000 * data.seed, dev)
    if init == "teacher":
        w = t2.clone()
    elif init == "random":
        w = torch.stack([sample_prior(prior, data.params, N, g, dev) for _ in range(B)])
    else:
        raise ValueError(f"init must be 'random' or 'teacher', got {init!r}")
    if T == 0 and not isinstance(prior, (Gaussian, Spherical)):
        raise NotImplementedError("T = 0 sampling is built for Gaussian and spherical weights only "
                                  "(single-site moves do not mix in the version space of discrete weights)")
    if isinstance(prior, (Gaussian, Spherical)):
        step = _RotationStep(X2, y2, ell, T, prior, data.params, g)
    else:
        step = _SiteStep(X2, y2, ell, T, prior, data.params, g)
    step.reset(w)
    start = int(burn_in * sweeps)
    rec = {"m": [], "q": [], "Q": [], "energy": [], "eg": []}
    for k in range(sweeps):
        step.adapt = k < start
        step.sweep()
        if k >= start and (k - start) % thin == 0:
            wd = step.direction()
            m = (wd * t2).sum(-1) / N
            Qs = (wd * wd).sum(-1) / N
            rho = (t2 * t2).sum(-1) / N
            rec["m"].append(m.view(S, 2).mean(-1))
            rec["Q"].append(Qs.view(S, 2).mean(-1))
            rec["q"].append((wd[0::2] * wd[1::2]).sum(-1) / N)
            rec["energy"].append(step.energy().view(S, 2).mean(-1) / P)
            c = (m / torch.sqrt(Qs * rho)).clamp(-1, 1)
            rec["eg"].append((torch.arccos(c) / math.pi).view(S, 2).mean(-1))
    series = {k: torch.stack(v) for k, v in rec.items()}       # (T_meas, S)
    half = series["m"].shape[0] // 2
    drift = {k: series[k][:half].mean(0) - series[k][half:].mean(0) for k in ("m", "q", "energy")}
    out = {k: v.mean(0) for k, v in series.items()}
    out["generalization_error"] = out.pop("eg")
    out["acceptance"] = step.accepted / max(step.proposed, 1)
    out["drift"] = drift
    out["trace"] = {k: series[k].mean(1) for k in ("m", "q", "energy")}
    out["temperature"] = T
    out["sweeps"] = sweeps
    return out


def _log_accept(dE, T):
    if T == 0:
        return torch.where(dE <= 0, 0.0, -math.inf).to(DTYPE)
    return -dE / T


class _Fields:
    """What both move types share: the fields λ = Xw/√N and per-sample losses of the current
    weights, the direction measured, and the energy (the summed loss)."""

    def _refresh(self):
        self.lam = (self.X @ self.w[..., None])[..., 0] / self.N**0.5
        self.e = self.ell(self.y, self.lam)

    def direction(self):
        return self.w

    def energy(self):
        return self.e.sum(-1)


class _SiteStep(_Fields):
    """Single-site Metropolis for a prior with atoms (and a continuous part: proposals from the prior)."""

    def __init__(self, X, y, ell, T, prior, params, g):
        self.X, self.y, self.ell, self.T, self.g = X, y, ell, T, g
        self.B, self.P, self.N = X.shape
        self.XT = X.transpose(1, 2).contiguous()    # (B, N, P): column i of every instance
        self.prior, self.params = prior, params
        self.discrete = prior.density == 0
        if self.discrete:
            self.atoms = torch.tensor([float(numeric(a, params)) for a, _ in prior.atoms], dtype=DTYPE, device=X.device)
            self.logp = torch.log(torch.tensor([float(numeric(p, params)) for _, p in prior.atoms], dtype=DTYPE, device=X.device))
        self.adapt = False
        if prior.fixed_norm is not None and not self.discrete:
            raise NotImplementedError("single-site moves cannot keep a fixed norm of continuous weights")
        self.accepted = torch.zeros(self.B // 2, dtype=DTYPE, device=X.device)
        self.proposed = 0

    def reset(self, w):
        self.w = w.clone()
        self._refresh()

    def _propose(self, i):
        cur = self.w[:, i]
        if self.discrete:
            K = len(self.atoms)
            k = torch.argmin((cur[:, None] - self.atoms[None, :]).abs(), -1)
            shift = torch.randint(1, K, (self.B,), generator=self.g, device=cur.device) if K > 1 else torch.zeros_like(k)
            k2 = (k + shift) % K
            return self.atoms[k2], self.logp[k2] - self.logp[k]
        new = sample_prior(self.prior, self.params, self.B, self.g, cur.device)
        return new, torch.zeros_like(cur)

    def sweep(self):
        order = torch.randperm(self.N, generator=self.g, device=self.w.device)
        u = torch.log(torch.rand(self.N, self.B, generator=self.g, dtype=DTYPE, device=self.w.device))
        sq = self.N**0.5
        for j in range(self.N):
            i = int(order[j])
            new, dlogp = self._propose(i)
            lam2 = self.lam + ((new - self.w[:, i]) / sq)[:, None] * self.XT[:, i, :]
            e2 = self.ell(self.y, lam2)
            dE = (e2 - self.e).sum(-1)
            acc = u[j] < _log_accept(dE, self.T) + dlogp
            self.w[:, i] = torch.where(acc, new, self.w[:, i])
            self.lam = torch.where(acc[:, None], lam2, self.lam)
            self.e = torch.where(acc[:, None], e2, self.e)
            self.accepted += acc.to(DTYPE).view(-1, 2).mean(-1) / self.N
        self.proposed += 1


class _RotationStep(_Fields):
    """Metropolis moves that keep the prior invariant, for Gaussian and spherical weights.

    Gaussian prior N(0, var): site i proposes w_i' = w_i cos δ + ν_i sin δ, ν_i ~ N(0, var)
    (a one-site Crank–Nicolson move, reversible with respect to the prior).  Sphere: a random
    pairing of the sites; pair (i, j) is rotated by an angle φ ~ U(−δ, δ) in its plane, which
    keeps |w|² = N and is symmetric (the uniform measure on the sphere is invariant).  Either
    is accepted with probability min(1, e^{−ΔE/T}) (T = 0: iff ΔE ≤ 0).  δ is adapted towards
    an acceptance of about 0.4 during the burn-in only (``adapt``), then frozen.  λ is updated
    incrementally in O(P) per proposal and recomputed every 20 sweeps."""

    def __init__(self, X, y, ell, T, prior, params, g):
        self.X, self.y, self.ell, self.T, self.g = X, y, ell, T, g
        self.B, self.P, self.N = X.shape
        self.XT = X.transpose(1, 2).contiguous()
        self.sphere = isinstance(prior, Spherical)
        self.scale = 1.0 if self.sphere else float(numeric(prior.var, params))**0.5
        self.delta = torch.full((self.B,), 0.5, dtype=DTYPE, device=X.device)
        self.adapt = True
        self.accepted = torch.zeros(self.B // 2, dtype=DTYPE, device=X.device)
        self.proposed = 0

    def reset(self, w):
        self.w = w.clone()
        if self.sphere:
            self.w = self.w * (self.N / (self.w * self.w).sum(-1))[:, None]**0.5
        self._refresh()


    def sweep(self):
        dev, B, sq = self.w.device, self.B, self.N**0.5
        order = torch.randperm(self.N, generator=self.g, device=dev)
        k = 2 if self.sphere else 1
        moves = [order[j:j + k] for j in range(0, self.N - k + 1, k)]
        u = torch.log(torch.rand(len(moves), B, generator=self.g, dtype=DTYPE, device=dev))
        if self.sphere:
            phi = (2 * torch.rand(len(moves), B, generator=self.g, dtype=DTYPE, device=dev) - 1) * self.delta
        else:
            nu = torch.randn(len(moves), B, generator=self.g, dtype=DTYPE, device=dev) * self.scale
        acc_count = torch.zeros(B, dtype=DTYPE, device=dev)
        for j, idx in enumerate(moves):
            cur = self.w[:, idx]                                       # (B, k)
            if self.sphere:
                c, s = torch.cos(phi[j])[:, None], torch.sin(phi[j])[:, None]
                new = torch.cat([c * cur[:, :1] - s * cur[:, 1:], s * cur[:, :1] + c * cur[:, 1:]], 1)
            else:
                new = torch.cos(self.delta)[:, None] * cur + torch.sin(self.delta)[:, None] * nu[j][:, None]
            d = new - cur
            lam2 = self.lam + (d[:, :, None] * self.XT[:, idx, :]).sum(1) / sq
            e2 = self.ell(self.y, lam2)
            acc = u[j] < _log_accept((e2 - self.e).sum(-1), self.T)
            self.w[:, idx] = torch.where(acc[:, None], new, cur)
            self.lam = torch.where(acc[:, None], lam2, self.lam)
            self.e = torch.where(acc[:, None], e2, self.e)
            acc_count += acc.to(DTYPE)
        rate = acc_count / len(moves)
        if self.adapt:
            self.delta = (self.delta * torch.exp(rate - 0.4)).clamp(1e-4, math.pi / 2)
        self.proposed += 1
        self.accepted += rate.view(-1, 2).mean(-1)
        if self.proposed % 20 == 0:
            if self.sphere:
                self.w = self.w * (self.N / (self.w * self.w).sum(-1))[:, None]**0.5
            self._refresh()
