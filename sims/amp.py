"""Approximate message passing for Bayes-optimal (and mismatched) inference, batched over instances.

The denoisers are generated from the Model's own symbolic components
(:mod:`replica.codegen.denoisers`): with Z_w(b, A) = ∫ dP(w) e^{bw - Aw²/2} and
Z_out(y, ω, V) = E_u φ(y, ω + √V u),

    f_a = ∂_b log Z_w,  f_v = ∂_b f_a,   g_out = ∂_ω log Z_out,  ∂_ω g_out,

φ being the channel density P(y|λ) (Bayes-optimal) or e^{-ℓ/T} (Gibbs learning: mismatched
inference), so a custom prior or channel runs through the same path as a built-in one.

Iteration (GAMP, Rangan 2011, in the form of Zdeborová & Krzakala 2016, sec. 6.3, with the
variances replaced by their averages — i.i.d. Gaussian inputs; rows x_μ/√N):

    V^t   = (1/N) Σ_i v_i^t
    ω^t   = X a^t/√N − V^t g^{t−1}
    g^t   = g_out(y, ω^t, V^t),           A^t = −(1/N) Σ_μ ∂_ω g_out(y_μ, ω_μ^t, V^t)
    b^t   = Xᵀ g^t/√N + A^t a^t
    a^{t+1} = f_a(b^t, A^t),              v^{t+1} = f_v(b^t, A^t)

with optional damping of (g, a, v).  Its state evolution is the replica saddle-point iteration
(Bayati & Montanari 2011; Javanmard & Montanari 2013): at a fixed point the overlaps
m = a·w*/N and q = |a|²/N follow the theory's m and q (m = q on the Nishimori line).

Everything is float64 on the data's device (CPU or CUDA); each instance converges (or not) on
its own and is frozen once it has.  A non-converged instance reports NaN overlaps with
``converged = False`` (its last iterate is kept in ``w_last``).
"""
from __future__ import annotations

import torch

from replica.codegen.denoisers import denoisers

from .data import DTYPE

__all__ = ["run_amp"]


def _parameters(D, data, params):
    values = {**data.params, **(params or {})}
    return {k: values[k] for k in D.parameter_names if k in values}


def run_amp(data, *, max_iter: int = 200, tol: float = 1e-8, damping: float = 0.0, init=None,
            model=None, params: dict | None = None, nodes: int = 96) -> dict:
    """Run AMP on every instance of ``data`` (a :class:`sims.data.Data`).

    Parameters
    ----------
    max_iter : iterations at most.
    tol : an instance has converged when the RMS change of its estimate, ‖a^{t+1} − a^t‖/√N,
        falls below ``tol``, or when its mean posterior variance (1/N) Σ_i v_i does (perfect
        recovery: every marginal a point mass).
    damping : in [0, 1): new = (1 − damping)·update + damping·old for g, a and v.
    init : None or ``"uninformed"`` (the prior's mean and variance, f_a(0, 0), f_v(0, 0));
        ``"informed"`` (the teacher, variance 10⁻⁶ × the prior's); or a tensor (S, N) of means
        (variance: the prior's).
    model, params : the student's model and parameter values when they differ from the data's
        (mismatched inference); default the data's.
    nodes : quadrature nodes for denoisers without closed form.

    Returns
    -------
    dict of per-instance tensors: ``m`` = ŵ·w*/N, ``q`` = |ŵ|²/N, ``mse`` = |ŵ − w*|²/N (NaN
    where not converged), ``converged`` (bool), ``iterations``, ``w_hat`` (S, N; NaN rows where
    not converged), ``w_last`` (the last iterate), ``V`` and ``A`` (the final variances).
    """
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be positive, got {max_iter}")
    D = denoisers(model if model is not None else data.model)
    par = _parameters(D, data, params)
    X, y, w_star = data.X.to(DTYPE), data.y.to(DTYPE), data.teacher.to(DTYPE)
    S, P, N = X.shape
    dev = X.device
    scale = N ** -0.5
    zero = torch.zeros((S, 1), dtype=DTYPE, device=dev)
    a0, v0 = D.prior(zero, zero, par, nodes=nodes)            # prior mean and variance
    if init is None or (isinstance(init, str) and init == "uninformed"):
        a, v = a0.expand(S, N).clone(), v0.expand(S, N).clone()
    elif isinstance(init, str) and init == "informed":
        a, v = w_star.clone(), (1e-6 * v0).expand(S, N).clone()
    elif isinstance(init, str):
        raise ValueError(f"init must be 'uninformed', 'informed' or a tensor (S, N), got {init!r}")
    else:
        a = torch.as_tensor(init, dtype=DTYPE, device=dev).expand(S, N).clone()
        v = v0.expand(S, N).clone()
    g = torch.zeros((S, P), dtype=DTYPE, device=dev)
    active = torch.ones(S, dtype=torch.bool, device=dev)
    converged = torch.zeros(S, dtype=torch.bool, device=dev)
    iterations = torch.zeros(S, dtype=torch.long, device=dev)
    V = v.mean(1, keepdim=True)
    A = zero.clone()
    keep = damping
    # the iteration runs on a working set of rows, re-gathered (one copy of their X) whenever
    # the still-active instances fall to 3/4 of it: finished instances cost nothing, and the
    # copies cost at most a geometric series of passes over X
    rows = torch.arange(S, device=dev)
    Xw, yw = X, y
    for _ in range(max_iter):
        if int(active[rows].sum()) <= 0.75 * len(rows):
            rows = rows[active[rows]]
            Xw, yw = X[rows], y[rows]
        aw, vw, gw = a[rows], v[rows], g[rows]
        V_new = vw.mean(1, keepdim=True)
        omega = (Xw @ aw[..., None])[..., 0] * scale - V_new * gw
        g_new, dg = D.channel(yw, omega, V_new, par, nodes=nodes)
        g_new = (1 - keep) * g_new + keep * gw
        A_new = -dg.mean(1, keepdim=True) * (P / N)
        b = (g_new[:, None, :] @ Xw)[:, 0, :] * scale + A_new * aw
        a_new, v_new = D.prior(b, A_new, par, nodes=nodes)
        a_new = (1 - keep) * a_new + keep * aw
        v_new = (1 - keep) * v_new + keep * vw
        change = ((a_new - aw) ** 2).mean(1).sqrt()
        finite = torch.isfinite(a_new).all(1) & torch.isfinite(v_new).all(1) & torch.isfinite(g_new).all(1)
        step = active[rows] & finite
        iterations[rows] += step.long()
        upd = step[:, None]
        a[rows], v[rows], g[rows] = torch.where(upd, a_new, aw), torch.where(upd, v_new, vw), torch.where(upd, g_new, gw)
        V[rows], A[rows] = torch.where(upd, V_new, V[rows]), torch.where(upd, A_new, A[rows])
        # converged: the estimate no longer moves, or the posterior has collapsed onto a point
        # (perfect recovery: the zero-variance fixed point, which a finite sample cannot iterate
        # on — once no sample lies within √V of the decision boundary the fields vanish)
        converged[rows] |= step & ((change < tol) | (v_new.mean(1) < tol))
        active[rows] &= finite & ~converged[rows]
        if not bool(active.any()):
            break
    nan = torch.tensor(float("nan"), dtype=DTYPE, device=dev)
    w_hat = torch.where(converged[:, None], a, nan)
    m = (w_hat * w_star).sum(1) / N
    q = (w_hat * w_hat).sum(1) / N
    mse = ((w_hat - w_star) ** 2).sum(1) / N
    return {"m": m, "q": q, "mse": mse, "converged": converged, "iterations": iterations,
            "w_hat": w_hat, "w_last": a, "V": V[:, 0], "A": A[:, 0]}
