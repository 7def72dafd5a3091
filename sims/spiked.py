"""Gradient flow and Langevin dynamics of the spherical spiked matrix-tensor model at finite N,
batched over instances (torch, float64, any device) — the simulation side of
``replica.dynamics.dmft`` (same model and conventions; Sarao Mannelli et al. 2019).

Instance: signal x* uniform on the sphere |x*|² = N; loss

    H(x) = −N Q(m) − (1/(2√(Δ₂N))) xᵀ G₂ x − (1/√(pΔ_p N^(p−1))) ⟨G_p, x^⊗p⟩,
    Q(m) = m²/(2Δ₂) + m^p/(pΔ_p),  m = x·x*/N,

G₂ symmetric with N(0, 1) off-diagonal entries and zero diagonal, G_p with i.i.d. N(0, 1) entries
(only its symmetric part matters; the gradient sums the contractions over every axis), so the noise is a Gaussian field of covariance N Q(x·x'/N) —
the spiked-matrix-tensor likelihood up to O(1) terms.  Dynamics: stochastic Heun with step dt on
the drift projected onto the sphere's tangent space, F(x) = −P(x)∇H(x), P(x) = 1 − x xᵀ/N, each
stage put back on the sphere (the retraction realises the Lagrange multiplier μ):

    x̃ = √N y/|y|, y = x + dt F(x) + √(2 T dt) ξ;   x ← √N y/|y|, y = x + (dt/2)(F(x) + F(x̃)) + √(2 T dt) ξ.

Second order in dt at T = 0 (a tangential step dt v followed by the retraction moves x along the
sphere by dt v + O(dt³)).  Stepping with the full gradient −∇H instead, whose radial part −μ x
(μ ≈ 2.6 at t = 1 for Δ₂ = 0.9, Δ_p = 1) the retraction removes, shrinks every tangential step by
1/(1 + μ dt): a first-order error (m(1) low by 0.005 at dt = 0.1 there; tests/test_dynamics_dmft.py).

x(0) = m0 x* + √(1 − m0²) u, u uniform on the sphere orthogonal to x*.  Recorded: m(t), the
energy H/N, and x(t) at requested times for two-time correlations C(t, t') = x(t)·x(t')/N (aging).
Instance s draws from ``sims.data.generator(seed, s, stream)``, so its trajectory does not depend
on which other instances run with it.  ``antithetic=True`` negates the noise (G₂, G_p) of every
instance: an instance of the same law, so the mean of a run and its antithetic twin (same seed)
is an unbiased estimate of E m(t) from which the part odd in the noise — the leading O(N^(−1/2))
fluctuation — cancels (variance reduction for finite-N studies).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from replica.params import NONNEGATIVE, POSITIVE, ParameterError

from .data import DTYPE, _device, generator

__all__ = ["SpikedRun", "run_spiked", "MAX_TENSOR_ENTRIES"]

_SIGNAL, _NOISE2, _NOISEP, _INIT, _LANGEVIN = 20, 21, 22, 23, 24
#: seeds · N^p noise-tensor entries allowed (float64: 1.6 GB)
MAX_TENSOR_ENTRIES = 2 * 10**8


@dataclass
class SpikedRun:
    """``t`` (R,) record times; ``m``, ``energy`` (S, R); ``C`` (S, R, R) two-time correlations
    between the records; ``params``."""
    t: np.ndarray
    m: np.ndarray
    energy: np.ndarray
    C: np.ndarray
    params: dict = field(default_factory=dict)

    def stats(self, name: str):
        """(mean, stderr) over instances of ``m`` or ``energy``, each (R,)."""
        x = getattr(self, name)
        S = x.shape[0]
        se = x.std(0, ddof=1) / math.sqrt(S) if S > 1 else np.full(x.shape[1], np.nan)
        return x.mean(0), se


def _tensor_gradient(G, x):
    """(g, v) for the p-form ⟨G, x^⊗p⟩ of G (S, N, ..., N) without symmetrizing G:
    v = ⟨G, x^⊗p⟩ and g = Σ_k (G contracted with x on every axis but k), its gradient.
    Two full passes over G: the right contractions R_j (last j axes) come from R_1, the last
    position's term is the left contraction of the first p − 1 axes."""
    S, N = x.shape
    p = G.dim() - 1
    right = [G]
    for _ in range(p - 1):
        A = right[-1]
        right.append((A.reshape(S, -1, N) @ x[..., None]).reshape(S, *A.shape[1:-1]))
    g = torch.zeros_like(x)
    for k in range(p - 1):
        A = right[p - 1 - k]                     # (S, N^(k+1)): axes 0..k left
        for _ in range(k):
            A = (x[:, None, :] @ A.reshape(S, N, -1)).reshape(S, *A.shape[2:])
        g = g + A
    A = G
    for _ in range(p - 1):
        A = (x[:, None, :] @ A.reshape(S, N, -1)).reshape(S, *A.shape[2:])
    g = g + A
    return g, (right[p - 1] * x).sum(-1)


def _tangent(x, v):
    """P(x) v = v − (x·v/N) x, the part of v tangent to the sphere |x|² = N at x (S, N)."""
    return v - ((x * v).sum(-1, keepdim=True) / x.shape[-1]) * x


def _retract(y, N):
    """√N y/|y|: back onto the sphere."""
    return y * (math.sqrt(N) / y.norm(dim=-1, keepdim=True))


def run_spiked(n: int, seeds: int = 4, *, p: int = 3, delta2: float = 0.5, deltap: float = 1.0, T: float = 0.0,
               m0: float = 0.1, t_max: float = 10.0, dt: float = 0.05, records=11, seed: int = 0,
               device="cpu", tensor: bool = True, antithetic: bool = False) -> SpikedRun:
    """Simulate S = ``seeds`` instances of size N = ``n`` (module docstring) up to ``t_max``;
    ``records``: number of record times evenly spaced on [0, t_max], or the times.
    ``tensor=False``: Δ_p = ∞, the spiked matrix alone (no N^p tensor is drawn; ``deltap`` is
    ignored), for finite-N studies at large N.  ``antithetic``: the noise of every instance negated
    (module docstring)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ParameterError(f"n must be an integer >= 2, got {n!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise ParameterError(f"seeds must be a positive integer, got {seeds!r}")
    if p not in (3, 4):
        raise ParameterError(f"p must be 3 or 4, got {p!r}")
    if tensor and seeds * n**p > MAX_TENSOR_ENTRIES:
        raise ParameterError(f"seeds * N^p = {seeds * n ** p:.3g} tensor entries exceed the limit "
                             f"{MAX_TENSOR_ENTRIES:.0e} (memory); use a smaller N or fewer seeds")
    delta2, deltap = POSITIVE.check("delta2", delta2), POSITIVE.check("deltap", deltap)
    T, t_max, dt = NONNEGATIVE.check("T", T), POSITIVE.check("t_max", t_max), POSITIVE.check("dt", dt)
    if not -1 <= m0 <= 1:
        raise ParameterError(f"m0 must be in [-1, 1], got {m0!r}")
    rec_t = np.linspace(0, t_max, records) if np.ndim(records) == 0 else np.asarray(records, dtype=float)
    steps = int(round(t_max / dt))
    rec_steps = np.round(rec_t / dt).astype(int)
    if np.any(rec_steps < 0) or np.any(rec_steps > steps):
        raise ParameterError("record times must lie in [0, t_max]")
    dev = _device(device)
    S, N = int(seeds), int(n)

    xs, G2, Gp, x = [], [], [], []
    for s in range(S):
        g = generator(seed, s, _SIGNAL, dev)
        v = torch.randn(N, dtype=DTYPE, device=dev, generator=g)
        v = v * math.sqrt(N) / v.norm()
        A = torch.randn((N, N), dtype=DTYPE, device=dev, generator=generator(seed, s, _NOISE2, dev))
        A = torch.triu(A, 1)
        G2.append(A + A.T)
        if tensor:
            Gp.append(torch.randn((N,) * p, dtype=DTYPE, device=dev, generator=generator(seed, s, _NOISEP, dev)))
        u = torch.randn(N, dtype=DTYPE, device=dev, generator=generator(seed, s, _INIT, dev))
        u = u - (u @ v) / N * v
        u = u * math.sqrt(N) / u.norm()
        xs.append(v)
        x.append(m0 * v + math.sqrt(1 - m0 * m0) * u)
    xs, G2, x = torch.stack(xs), torch.stack(G2), torch.stack(x)
    Gp = torch.stack(Gp) if tensor else None
    sign = -1.0 if antithetic else 1.0
    c2 = sign / math.sqrt(delta2 * N)
    cp = sign / math.sqrt(p * deltap * N ** (p - 1))
    inv_dp = 1.0 / deltap if tensor else 0.0
    lgens = [generator(seed, s, _LANGEVIN, dev) for s in range(S)]

    def grad_energy(x):
        m = (x * xs).sum(-1) / N
        dQ = m / delta2 + m ** (p - 1) * inv_dp
        g_tensor, form = _tensor_gradient(Gp, x) if tensor else (0.0, 0.0)   # ∇⟨G_p, x^⊗p⟩, ⟨G_p, x^⊗p⟩
        g2 = (G2 @ x[..., None])[..., 0]
        grad = -dQ[:, None] * xs - c2 * g2 - cp * g_tensor
        energy = (-(m * m / (2 * delta2) + m**p * inv_dp / p) - 0.5 * c2 * (x * g2).sum(-1) / N
                  - cp * form / N)
        return grad, m, energy

    ms, es, snaps = [], [], []
    ri = 0
    for step in range(steps + 1):
        grad, m, energy = grad_energy(x)
        while ri < len(rec_steps) and rec_steps[ri] == step:
            ms.append(m.clone())
            es.append(energy.clone())
            snaps.append(x.clone())
            ri += 1
        if step == steps:
            break
        kick = (math.sqrt(2 * T * dt) * torch.stack([torch.randn(N, dtype=DTYPE, device=dev, generator=g)
                                                      for g in lgens])) if T > 0 else 0.0
        drift = _tangent(x, -grad)
        x_pred = _retract(x + dt * drift + kick, N)
        x = _retract(x + 0.5 * dt * (drift + _tangent(x_pred, -grad_energy(x_pred)[0])) + kick, N)
    X = torch.stack(snaps, 1)                              # (S, R, N)
    C = (X @ X.transpose(1, 2) / N).cpu().numpy()
    return SpikedRun(rec_t, torch.stack(ms, 1).cpu().numpy(), torch.stack(es, 1).cpu().numpy(), C,
                     params=dict(n=N, seeds=S, p=p, delta2=delta2, deltap=deltap if tensor else math.inf, T=T, m0=m0,
                                 t_max=t_max, dt=dt,
                                 seed=seed, antithetic=bool(antithetic)))
