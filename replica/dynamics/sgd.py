"""Online SGD of a soft committee machine: the ODEs of the overlaps (Saad & Solla 1995, PRL 74,
4337 and PRE 52, 4225; Goldt, Advani, Saxe, Krzakala & Zdeborová 2019, NeurIPS, for general
activations).

Student σ(x) = Σ_i g(λ_i), λ_i = w_i·x/√N (i = 1..K); teacher y = Σ_n g*(ν_n) + √Δ ζ,
ν_n = w*_n·x/√N (n = 1..M); one fresh sample per step, w_i ← w_i + (η/√N) δ_i x with
δ_i = g'(λ_i)(y − σ(x)) (the rule of ``sims.twolayer.run_online_sgd``).  With Q = w wᵀ/N,
R = w w*ᵀ/N, T = w* w*ᵀ/N fixed, and time t = steps/N, as N → ∞

    dR_in/dt = η E[δ_i ν_n],
    dQ_ik/dt = η (E[δ_i λ_k] + E[δ_k λ_i]) + η² E[δ_i δ_k],

where the fields h = (λ, ν) ~ N(0, [[Q, R], [Rᵀ, T]]), so with s_c = −1 for a student field and
+1 for a teacher field (:mod:`.gaussian` for I2, I3, I4):

    E[δ_i h_b] = Σ_c s_c I3(i, b, c),   E[δ_i δ_k] = Σ_cd s_c s_d I4(i, k, c, d) + Δ E[g'(λ_i)g'(λ_k)],
    ε_g = ½ E[(σ − σ*)²] = ½ Σ_cd s_c s_d I2(c, d).

Integrated with scipy's adaptive ``solve_ivp`` (DOP853, rtol 1e-9, atol 1e-12).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from ..params import NONNEGATIVE, POSITIVE, ParameterError
from .gaussian import activation, moments

__all__ = ["SGDTrajectory", "rhs", "integrate_sgd", "generalization_error", "plateau"]


def _cov(Q, R, T):
    return np.block([[Q, R], [R.T, T]])


def rhs(Q, R, T, eta, *, g="erf", gt=None, noise=0.0, nodes=10, closed_form=True, orders=(1, 2)):
    """(dQ/dt, dR/dt) at (Q, R) (module docstring).  ``orders`` selects the η (1) and η² (2)
    terms: ``orders=(1,)`` is the gradient-flow part whose zeros are Saad & Solla's small-η
    fixed points."""
    g = activation(g)
    gt = g if gt is None else activation(gt)
    Q, R, T = (np.asarray(x, dtype=float) for x in (Q, R, T))
    K, M = R.shape
    E_dh, E_dd, _ = moments(_cov(Q, R, T), K, g, gt, noise=noise, nodes=nodes, closed_form=closed_form)
    dQ = np.zeros((K, K))
    dR = np.zeros((K, M))
    if 1 in orders:
        dR += eta * E_dh[:, K:]
        dQ += eta * (E_dh[:, :K] + E_dh[:, :K].T)
    if 2 in orders:
        dQ += eta**2 * E_dd
    return dQ, dR


def generalization_error(Q, R, T, *, g="erf", gt=None, nodes=10, closed_form=True):
    """ε_g = ½ Σ_cd s_c s_d I2(c, d) at the overlaps (Q, R, T)."""
    g = activation(g)
    gt = g if gt is None else activation(gt)
    Q, R, T = (np.asarray(x, dtype=float) for x in (Q, R, T))
    return moments(_cov(Q, R, T), R.shape[0], g, gt, nodes=nodes, closed_form=closed_form)[2]


def plateau(K: int) -> dict:
    """Saad & Solla's symmetric plateau for K = M erf units, T = I, small η:
    Q_ii = Q_ik = 1/(2K − 1), R_in = 1/√(K(2K − 1)) (PRL 74, 4337)."""
    q = 1.0 / (2 * K - 1)
    return {"Q": np.full((K, K), q), "R": np.full((K, K), 1.0 / np.sqrt(K * (2 * K - 1)))}


@dataclass
class SGDTrajectory:
    """The ODE solution at times ``t``: ``Q`` (len t, K, K), ``R`` (len t, K, M), ``T`` (M, M),
    ``generalization_error`` (len t,), solver ``status``/``message`` (scipy's)."""
    t: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    T: np.ndarray
    generalization_error: np.ndarray
    success: bool
    message: str
    params: dict = field(default_factory=dict)

    def observables(self) -> dict:
        """name -> list over t: generalization_error, and every Q_ik (i ≤ k) and R_in."""
        out = {"generalization_error": self.generalization_error.tolist()}
        K, M = self.R.shape[1:]
        for i in range(K):
            for k in range(i, K):
                out[f"Q_{i + 1}{k + 1}"] = self.Q[:, i, k].tolist()
            for n in range(M):
                out[f"R_{i + 1}{n + 1}"] = self.R[:, i, n].tolist()
        return out


def integrate_sgd(Q0, R0, T, eta, t_max, *, t_eval=None, g="erf", gt=None, noise=0.0, nodes=10,
                  closed_form=True, rtol=1e-9, atol=1e-12) -> SGDTrajectory:
    """Integrate the ODEs from (Q0, R0) up to ``t_max`` (module docstring); ``t_eval`` the
    output times (default 201 points on [0, t_max])."""
    eta = POSITIVE.check("eta", eta)
    t_max = POSITIVE.check("t_max", t_max)
    noise = NONNEGATIVE.check("noise", noise)
    g = activation(g)
    gt = g if gt is None else activation(gt)
    Q0, R0, T = (np.array(x, dtype=float) for x in (Q0, R0, T))
    K, M = R0.shape
    if Q0.shape != (K, K) or T.shape != (M, M):
        raise ParameterError(f"shapes: Q0 must be (K, K) = ({K}, {K}) and T (M, M) = ({M}, {M})")
    t_eval = np.linspace(0.0, t_max, 201) if t_eval is None else np.asarray(t_eval, dtype=float)

    def f(_, y):
        Q = y[:K * K].reshape(K, K)
        R = y[K * K:].reshape(K, M)
        dQ, dR = rhs(Q, R, T, eta, g=g, gt=gt, noise=noise, nodes=nodes, closed_form=closed_form)
        return np.concatenate([dQ.ravel(), dR.ravel()])

    sol = solve_ivp(f, (0.0, t_max), np.concatenate([Q0.ravel(), R0.ravel()]), method="DOP853", t_eval=t_eval,
                    rtol=rtol, atol=atol)
    n = sol.y.shape[1]
    Q = sol.y[:K * K].T.reshape(n, K, K)
    R = sol.y[K * K:].T.reshape(n, K, M)
    eg = np.array([generalization_error(Q[j], R[j], T, g=g, gt=gt, nodes=nodes, closed_form=closed_form)
                   for j in range(n)])
    if not sol.success:   # never a number where the solver stopped: the rest is NaN
        pad = len(t_eval) - n
        Q = np.concatenate([Q, np.full((pad, K, K), np.nan)])
        R = np.concatenate([R, np.full((pad, K, M), np.nan)])
        eg = np.concatenate([eg, np.full(pad, np.nan)])
    return SGDTrajectory(t_eval, Q, R, T, eg, bool(sol.success), str(sol.message),
                         params=dict(K=K, M=M, eta=eta, t_max=t_max, activation=g.name, teacher_activation=gt.name,
                                     noise=noise))
