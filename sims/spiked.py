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

__all__ = ["SpikedRun", "run_spiked", "run_spiked_groups", "MAX_TENSOR_ENTRIES"]

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

    def units(self, name: str) -> np.ndarray:
        """The independent units of ``m`` or ``energy`` (U, R): the instances, or for
        ``run_spiked_groups`` the mean of each group (its trajectories share the noise)."""
        x = getattr(self, name)
        k = self.params.get("group", 1)
        return x.reshape(-1, k, x.shape[1]).mean(1)

    def stats(self, name: str):
        """(mean, stderr) over the independent units (``units``) of ``m`` or ``energy``, each (R,)."""
        x = self.units(name)
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


def _positive_int(name, v, least):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
        raise ParameterError(f"{name} must be an integer >= {least}, got {v!r}")


def _checked(delta2, deltap, T, t_max, dt, m0, records):
    """The checked parameters, the record times, the number of steps and the record steps."""
    delta2, deltap = POSITIVE.check("delta2", delta2), POSITIVE.check("deltap", deltap)
    T, t_max, dt = NONNEGATIVE.check("T", T), POSITIVE.check("t_max", t_max), POSITIVE.check("dt", dt)
    if not -1 <= m0 <= 1:
        raise ParameterError(f"m0 must be in [-1, 1], got {m0!r}")
    rec_t = np.linspace(0, t_max, records) if np.ndim(records) == 0 else np.asarray(records, dtype=float)
    steps = int(round(t_max / dt))
    rec_steps = np.round(rec_t / dt).astype(int)
    if np.any(rec_steps < 0) or np.any(rec_steps > steps):
        raise ParameterError("record times must lie in [0, t_max]")
    return delta2, deltap, T, t_max, dt, rec_t, steps, rec_steps


def _signal_and_start(seed, s, N, m0, dev, offset=0):
    """x* uniform on |x*|² = N and x(0) = m0 x* + √(1 − m0²) u, u uniform on the sphere orthogonal
    to x*, from the streams (seed, s, _SIGNAL + offset) and (seed, s, _INIT + offset)."""
    v = torch.randn(N, dtype=DTYPE, device=dev, generator=generator(seed, s, _SIGNAL + offset, dev))
    v = v * math.sqrt(N) / v.norm()
    u = torch.randn(N, dtype=DTYPE, device=dev, generator=generator(seed, s, _INIT + offset, dev))
    u = u - (u @ v) / N * v
    u = u * math.sqrt(N) / u.norm()
    return v, m0 * v + math.sqrt(1 - m0 * m0) * u


def _matrix_noise(seed, s, N, dev):
    """G₂: symmetric, N(0, 1) off the diagonal, zero diagonal, from the stream (seed, s, _NOISE2)."""
    A = torch.triu(torch.randn((N, N), dtype=DTYPE, device=dev, generator=generator(seed, s, _NOISE2, dev)), 1)
    return A + A.T


def _heun(x, grad_energy, N, dt, steps, rec_steps, kick):
    """The tangent-space stochastic Heun scheme of the module docstring from x (S, N) for ``steps``
    steps; ``grad_energy(x)`` → (∇H, m, H/N), ``kick()`` → the Langevin increment √(2T dt) ξ (or
    0).  Returns the lists of m, H/N and x at the steps ``rec_steps`` (sorted)."""
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
        k = kick()
        drift = _tangent(x, -grad)
        x_pred = _retract(x + dt * drift + k, N)
        x = _retract(x + 0.5 * dt * (drift + _tangent(x_pred, -grad_energy(x_pred)[0])) + k, N)
    return ms, es, snaps


def run_spiked(n: int, seeds: int = 4, *, p: int = 3, delta2: float = 0.5, deltap: float = 1.0, T: float = 0.0,
               m0: float = 0.1, t_max: float = 10.0, dt: float = 0.05, records=11, seed: int = 0,
               device="cpu", tensor: bool = True, antithetic: bool = False) -> SpikedRun:
    """Simulate S = ``seeds`` instances of size N = ``n`` (module docstring) up to ``t_max``;
    ``records``: number of record times evenly spaced on [0, t_max], or the times.
    ``tensor=False``: Δ_p = ∞, the spiked matrix alone (no N^p tensor is drawn; ``deltap`` is
    ignored), for finite-N studies at large N.  ``antithetic``: the noise of every instance negated
    (module docstring)."""
    _positive_int("n", n, 2)
    _positive_int("seeds", seeds, 1)
    if p not in (3, 4):
        raise ParameterError(f"p must be 3 or 4, got {p!r}")
    if tensor and seeds * n**p > MAX_TENSOR_ENTRIES:
        raise ParameterError(f"seeds * N^p = {seeds * n ** p:.3g} tensor entries exceed the limit "
                             f"{MAX_TENSOR_ENTRIES:.0e} (memory); use a smaller N or fewer seeds")
    delta2, deltap, T, t_max, dt, rec_t, steps, rec_steps = _checked(delta2, deltap, T, t_max, dt, m0, records)
    dev = _device(device)
    S, N = int(seeds), int(n)

    xs, G2, Gp, x = [], [], [], []
    for s in range(S):
        v, x0 = _signal_and_start(seed, s, N, m0, dev)
        G2.append(_matrix_noise(seed, s, N, dev))
        if tensor:
            Gp.append(torch.randn((N,) * p, dtype=DTYPE, device=dev, generator=generator(seed, s, _NOISEP, dev)))
        xs.append(v)
        x.append(x0)
    xs, G2, x = torch.stack(xs), torch.stack(G2), torch.stack(x)
    Gp = torch.stack(Gp) if tensor else None
    sign = -1.0 if antithetic else 1.0
    c2 = sign / math.sqrt(delta2 * N)
    cp = sign / math.sqrt(p * deltap * N ** (p - 1))
    inv_dp = 1.0 / deltap if tensor else 0.0
    lgens = [generator(seed, s, _LANGEVIN, dev) for s in range(S)]

    def kick():
        return (math.sqrt(2 * T * dt) * torch.stack([torch.randn(N, dtype=DTYPE, device=dev, generator=g)
                                                      for g in lgens])) if T > 0 else 0.0

    def grad_energy(x):
        m = (x * xs).sum(-1) / N
        dQ = m / delta2 + m ** (p - 1) * inv_dp
        g_tensor, form = _tensor_gradient(Gp, x) if tensor else (0.0, 0.0)   # ∇⟨G_p, x^⊗p⟩, ⟨G_p, x^⊗p⟩
        g2 = (G2 @ x[..., None])[..., 0]
        grad = -dQ[:, None] * xs - c2 * g2 - cp * g_tensor
        energy = (-(m * m / (2 * delta2) + m**p * inv_dp / p) - 0.5 * c2 * (x * g2).sum(-1) / N
                  - cp * form / N)
        return grad, m, energy

    ms, es, snaps = _heun(x, grad_energy, N, dt, steps, rec_steps, kick)
    X = torch.stack(snaps, 1)                              # (S, R, N)
    C = (X @ X.transpose(1, 2) / N).cpu().numpy()
    return SpikedRun(rec_t, torch.stack(ms, 1).cpu().numpy(), torch.stack(es, 1).cpu().numpy(), C,
                     params=dict(n=N, seeds=S, p=p, delta2=delta2, deltap=deltap if tensor else math.inf, T=T, m0=m0,
                                 t_max=t_max, dt=dt,
                                 seed=seed, antithetic=bool(antithetic)))


def _symmetrized_layout(G, dtype):
    """T (N, N²) with T[k, (i, j)] = G_ijk + G_jik + G_jki for G (N, N, N), so that the gradient of
    the 3-form ⟨G, x^⊗3⟩ is ∇_i = Σ_jk T[k, (i, j)] x_j x_k (each of the three positions of i in
    G_{··· } appears once) and the form is x·∇/3: one pass over T per gradient instead of two,
    and a (k, N) @ (N, N²) product for k trajectories that share the noise."""
    N = G.shape[0]
    T = G.permute(2, 0, 1).to(dtype).contiguous()
    T += G.permute(2, 1, 0)
    T += G.permute(1, 2, 0)
    return T.reshape(N, N * N)


def run_spiked_groups(n: int, groups: int = 4, signals: int = 4, *, delta2: float = 0.9, deltap: float = 1.0,
                      m0: float = 0.2, t_max: float = 8.0, dt: float = 0.1, records=9, seed: int = 0,
                      tensor_dtype=torch.float32) -> SpikedRun:
    """Gradient flow (T = 0) of the p = 3 model of the module docstring for finite-N statistics at
    N ≈ 100–600 on a CPU: ``groups`` independent noise draws (G₂, G₃), each shared by ``signals``
    signals x*_j with their own starts x_j(0), every one run with the noise and with the noise
    negated (the antithetic twin) — 2·signals trajectories per group, batched against one
    tensor.  Each trajectory is an instance of the law of ``run_spiked`` (x* uniform and
    independent of the noise; negating the noise preserves its law), so the group mean is an
    unbiased estimate of E m(t) and the groups are independent: statistics over groups
    (``SpikedRun.units``).  Signal j = 0 of group g is instance g of ``run_spiked(n, groups, p=3,
    seed=seed)`` with the same signal, start and noise (and its antithetic twin); j ≥ 1 draw their
    signal and start from the streams offset by 100 j.

    Cost: the tensor is kept once, as T (N, N²) of ``_symmetrized_layout``, in ``tensor_dtype``
    (float32 by default: half the memory traffic of the bandwidth-bound contraction; x, G₂ and the
    accumulations stay float64), and each gradient of all 2·signals trajectories is one
    (2·signals, N) @ (N, N²) product.  Returns m, energy (groups·2·signals, R), ordered group by
    group, in each group signal by signal, the noise then its negation; C (…, R, R)."""
    _positive_int("n", n, 2)
    _positive_int("groups", groups, 1)
    _positive_int("signals", signals, 1)
    if n**3 > MAX_TENSOR_ENTRIES:
        raise ParameterError(f"N^3 = {n ** 3:.3g} tensor entries exceed the limit {MAX_TENSOR_ENTRIES:.0e} (memory)")
    if tensor_dtype not in (torch.float32, torch.float64):
        raise ParameterError(f"tensor_dtype must be torch.float32 or torch.float64, got {tensor_dtype!r}")
    delta2, deltap, _, t_max, dt, rec_t, steps, rec_steps = _checked(delta2, deltap, 0.0, t_max, dt, m0, records)
    dev, N, J = torch.device("cpu"), int(n), int(signals)
    sign = torch.tensor([1.0, -1.0] * J, dtype=DTYPE)
    c2 = sign / math.sqrt(delta2 * N)
    c3 = sign / math.sqrt(3 * deltap * N ** 2)
    out = {"m": [], "energy": [], "C": []}
    for g in range(int(groups)):
        pairs = [_signal_and_start(seed, g, N, m0, dev, 100 * j) for j in range(J)]
        xs = torch.stack([v for v, _ in pairs for _ in (0, 1)])
        x = torch.stack([x0 for _, x0 in pairs for _ in (0, 1)])
        G2 = _matrix_noise(seed, g, N, dev)
        T3 = _symmetrized_layout(torch.randn((N,) * 3, dtype=DTYPE, generator=generator(seed, g, _NOISEP, dev)),
                                 tensor_dtype)

        def grad_energy(x):
            m = (x * xs).sum(-1) / N
            dQ = m / delta2 + m * m / deltap
            xt = x.to(tensor_dtype)
            A = (xt @ T3).reshape(-1, N, N)                         # A[c, i, j] = Σ_k T_ijk x_ck
            g3 = (A @ xt[..., None])[..., 0].to(DTYPE)               # ∇⟨G₃, x^⊗3⟩
            g2 = x @ G2
            grad = -dQ[:, None] * xs - c2[:, None] * g2 - c3[:, None] * g3
            energy = (-(m * m / (2 * delta2) + m**3 / (3 * deltap)) - 0.5 * c2 * (x * g2).sum(-1) / N
                      - c3 * (x * g3).sum(-1) / (3 * N))
            return grad, m, energy

        ms, es, snaps = _heun(x, grad_energy, N, dt, steps, rec_steps, lambda: 0.0)
        del T3
        X = torch.stack(snaps, 1)
        out["m"].append(torch.stack(ms, 1))
        out["energy"].append(torch.stack(es, 1))
        out["C"].append(X @ X.transpose(1, 2) / N)
    return SpikedRun(rec_t, *(torch.cat(out[k]).numpy() for k in ("m", "energy", "C")),
                     params=dict(n=N, seeds=int(groups) * 2 * J, group=2 * J, p=3, delta2=delta2, deltap=deltap,
                                 T=0.0, m0=m0, t_max=t_max, dt=dt, seed=seed, antithetic="paired",
                                 tensor_dtype=str(tensor_dtype).replace("torch.", "")))
