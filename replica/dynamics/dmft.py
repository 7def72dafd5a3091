"""Dynamical mean-field theory (DMFT) of gradient flow and Langevin dynamics in the spherical
spiked matrix-tensor model (Sarao Mannelli, Krzakala, Urbani & Zdeborová, ICML 2019 "Passed &
spurious"; Sarao Mannelli, Biroli, Cammarota, Krzakala & Zdeborová, NeurIPS 2019 "Who is afraid
of big bad minima?"; the Cugliandolo–Kurchan equations of the mixed spherical spin glass).

Model: x* and x on the sphere |x|² = N; Y = x* x*ᵀ/√N + ξ (noise variance Δ₂),
T = √((p−1)!) x*^⊗p / N^((p−1)/2) + ξ' (variance Δ_p); the loss (minus log-likelihood) is
H(x) = −N Q(m) + V(x), m = x·x*/N, with V a Gaussian field of covariance N Q(x·x'/N), where

    Q(c) = c²/(2Δ₂) + c^p/(p Δ_p).

Dynamics ẋ = −μ(t) x − ∇H(x) + η(t), ⟨η_i(t) η_j(t')⟩ = 2T δ_ij δ(t − t'), μ(t) keeping |x|² = N.
With C(t, t') = x(t)·x(t')/N, R(t, t') = Σ_i ∂x_i(t)/∂h_i(t')/N and m(t), for t > t':

    ∂_t C(t,t') = −μ(t) C(t,t') + Q'(m(t)) m(t') + ∫_0^t ds Q''(C(t,s)) R(t,s) C(s,t')
                  + ∫_0^t' ds Q'(C(t,s)) R(t',s),
    ∂_t R(t,t') = −μ(t) R(t,t') + ∫_t'^t ds Q''(C(t,s)) R(t,s) R(s,t'),
    ∂_t m(t)    = −μ(t) m(t) + Q'(m(t)) + ∫_0^t ds Q''(C(t,s)) R(t,s) m(s),
    μ(t)        = T + Q'(m(t)) m(t) + ∫_0^t ds [Q'(C(t,s)) + Q''(C(t,s)) C(t,s)] R(t,s),

C(t, t) = 1, R(t, t⁻) = 1, m(0) = m0 (x(0) uniform on the sphere given its overlap m0); the
energy per coordinate e(t) = −Q(m(t)) − ∫_0^t ds Q'(C(t,s)) R(t,s).  Q and its derivatives are
SymPy's (:func:`covariance`).

Scheme: uniform grid t_i = i h; Heun's predictor–corrector in t for every t' = t_j ≤ t_i at
once, the memory integrals by the trapezoidal rule on the grid (second order in h; O(n²) memory
and O(n³) work for n = t_max/h steps: each of the n rows needs O(n²) for its memory integrals).  :func:`integrate_dmft` with ``check=True`` also runs the grid
of step h/2 and reports max_t |m_h − m_{h/2}| as the error estimate (``m_error``).

The scheme is second order with a large constant (μ ≈ 4 makes h = 0.1 errors of μ(t) ≈ 0.1 at
t = 10 and of the growth rate of m a few 10⁻³): :func:`growth_rate` Richardson-extrapolates in h.

Gradient-flow threshold (T = 0, m0 → 0⁺): GF leaves the equator when the outlier of the
Hessian of the marginal "threshold" minima at m = 0 — a rank-one spike 1/Δ₂ on a semicircle of
radius 2√Q''(1) — detaches (BBP), 1/Δ₂² = Q''(1) = 1/Δ₂ + (p−1)/Δ_p, i.e.

    Δ₂^GF = [√(Δ_p² + 4(p−1)Δ_p) − Δ_p] / (2(p−1))        (NeurIPS 2019 closed form).

(The ICML 2019 paper obtains Δ₂^GF only numerically, by extrapolating convergence times of these
equations.)  :func:`gradient_flow_threshold_from_rates` locates it from the integrated DMFT: the
growth rate λ∞ of m at m0 → 0⁺ vanishes there like (Δ₂^GF − Δ₂)².
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..params import NONNEGATIVE, POSITIVE, ParameterError

__all__ = ["covariance", "DMFTSolution", "integrate_dmft", "gradient_flow_threshold_closed_form",
           "gradient_flow_threshold", "growth_rate", "gradient_flow_threshold_from_rates"]

_c, _d2, _dp = sp.symbols("c Delta_2 Delta_p", positive=True)


def covariance(p: int):
    """Q(c) = c²/(2Δ₂) + c^p/(pΔ_p) and its first two derivatives as NumPy functions of
    (c, Δ₂, Δ_p), derived by SymPy."""
    Q = _c**2 / (2 * _d2) + _c**p / (p * _dp)
    return tuple(sp.lambdify((_c, _d2, _dp), e, "numpy") for e in (Q, sp.diff(Q, _c), sp.diff(Q, _c, 2)))


@dataclass
class DMFTSolution:
    """The DMFT on the grid ``t`` (n+1,): ``C``, ``R`` (n+1, n+1) (R lower-triangular), ``m``,
    ``mu``, ``energy`` (n+1,); ``m_error`` the step-halving estimate (None without the check);
    ``finite`` False where the integration blew up (those values are NaN)."""
    t: np.ndarray
    C: np.ndarray
    R: np.ndarray
    m: np.ndarray
    mu: np.ndarray
    energy: np.ndarray
    params: dict = field(default_factory=dict)
    m_error: float | None = None

    @property
    def finite(self) -> bool:
        return bool(np.all(np.isfinite(self.m)))

    def observables(self) -> dict:
        return {"m": self.m.tolist(), "energy": self.energy.tolist(), "mu": self.mu.tolist()}

    def aging(self, t_w: float) -> tuple[np.ndarray, np.ndarray]:
        """(τ, C(t_w + τ, t_w)) for τ ≥ 0 on the grid."""
        j = int(round(t_w / (self.t[1] - self.t[0])))
        if not 0 <= j < len(self.t):
            raise ParameterError(f"waiting time {t_w:g} outside [0, {self.t[-1]:g}]")
        return self.t[j:] - self.t[j], self.C[j:, j]


def _check(p, delta2, deltap, T, m0, t_max, h):
    if p not in (3, 4) and not (isinstance(p, int) and p >= 3):
        raise ParameterError(f"p must be an integer >= 3, got {p!r}")
    delta2 = POSITIVE.check("delta2", delta2)
    deltap = POSITIVE.check("deltap", deltap)
    T = NONNEGATIVE.check("T", T)
    if not -1.0 <= float(m0) <= 1.0:
        raise ParameterError(f"m0 must be in [-1, 1], got {m0!r}")
    t_max = POSITIVE.check("t_max", t_max)
    h = POSITIVE.check("h", h)
    n = int(round(t_max / h))
    if n < 2:
        raise ParameterError(f"t_max/h = {t_max / h:g}: at least 2 steps are needed")
    if n > 20000:
        raise ParameterError(f"t_max/h = {n} steps: the two-time grid would need {(n + 1) ** 2 * 16 / 1e9:.1f} GB; "
                             "use a larger step h or a shorter t_max")
    return int(p), delta2, deltap, T, float(m0), t_max, h, n


def _rates(i, C, R, m, h, T, delta2, deltap, fns):
    """μ(t_i), e(t_i) and the time derivatives at row i: (dC[i, :i+1], dR[i, :i+1], dm[i]); the
    memory integrals by the trapezoidal rule over the grid points 0..i."""
    Qf, dQ, d2Q = fns
    k = i + 1
    Ci, Ri = C[i, :k], R[i, :k]
    w = np.full(k, h)
    w[0] = w[-1] = h / 2
    if k == 1:
        w[:] = 0.0
    q1, q2 = dQ(Ci, delta2, deltap), d2Q(Ci, delta2, deltap) * np.ones(k)
    a = q2 * Ri
    dq_m = dQ(m[i], delta2, deltap)
    mu = T + dq_m * m[i] + w @ ((q1 + q2 * Ci) * Ri)
    energy = -Qf(m[i], delta2, deltap) - w @ (q1 * Ri)
    Rl = R[:k, :k]
    dm = -mu * m[i] + dq_m + (w * a) @ m[:k]
    mem_C = (w * a) @ C[:k, :k] + h * (Rl @ q1) - 0.5 * h * (Rl[:, 0] * q1[0] + np.diag(Rl) * q1)
    mem_R = h * (a @ Rl) - 0.5 * h * (a * np.diag(Rl) + a[-1] * Ri)
    dC = -mu * Ci + dq_m * m[:k] + mem_C
    dR = -mu * Ri + mem_R
    return mu, energy, dC, dR, dm


def _integrate(p, delta2, deltap, T, m0, h, n):
    """Heun's predictor–corrector on the two-time grid (second order in h with the trapezoidal
    memory integrals): predict row i+1 by Euler, evaluate the rates there, average."""
    fns = covariance(p)
    C = np.zeros((n + 1, n + 1))
    R = np.zeros((n + 1, n + 1))
    m = np.zeros(n + 1)
    mu = np.zeros(n + 1)
    energy = np.zeros(n + 1)
    C[0, 0] = R[0, 0] = 1.0
    m[0] = m0
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(n + 1):
            mu[i], energy[i], dC, dR, dm = _rates(i, C, R, m, h, T, delta2, deltap, fns)
            if i == n:
                break
            k = i + 1
            C[i + 1, :k] = C[:k, i + 1] = C[i, :k] + h * dC
            R[i + 1, :k] = R[i, :k] + h * dR
            C[i + 1, i + 1] = R[i + 1, i + 1] = 1.0
            m[i + 1] = m[i] + h * dm
            _, _, dC2, dR2, dm2 = _rates(i + 1, C, R, m, h, T, delta2, deltap, fns)
            C[i + 1, :k] = C[:k, i + 1] = C[i, :k] + 0.5 * h * (dC + dC2[:k])
            R[i + 1, :k] = R[i, :k] + 0.5 * h * (dR + dR2[:k])
            m[i + 1] = m[i] + 0.5 * h * (dm + dm2)
            if not math.isfinite(m[i + 1]) or abs(m[i + 1]) > 10:
                m[i + 1:] = mu[i + 1:] = energy[i + 1:] = np.nan
                C[i + 1:, :] = C[:, i + 1:] = R[i + 1:, :] = np.nan
                break
    return C, R, m, mu, energy


def integrate_dmft(p=3, delta2=0.5, deltap=1.0, T=0.0, *, m0=0.01, t_max=20.0, h=0.05, check=False) -> DMFTSolution:
    """Integrate the DMFT (module docstring) on [0, t_max] with step h.  ``check``: also
    integrate with h/2 and set ``m_error`` = max_t |m_h(t) − m_{h/2}(t)| (an estimate of the
    scheme's error at step h)."""
    p, delta2, deltap, T, m0, t_max, h, n = _check(p, delta2, deltap, T, m0, t_max, h)
    C, R, m, mu, energy = _integrate(p, delta2, deltap, T, m0, h, n)
    sol = DMFTSolution(np.arange(n + 1) * h, C, R, m, mu, energy,
                       params=dict(p=p, delta2=delta2, deltap=deltap, T=T, m0=m0, t_max=t_max, h=h))
    if check:
        m_half = _integrate(p, delta2, deltap, T, m0, h / 2, 2 * n)[2][::2]
        sol.m_error = float(np.max(np.abs(m - m_half))) if sol.finite else math.nan
    return sol


def gradient_flow_threshold_closed_form(deltap: float, p: int = 3) -> float:
    """Δ₂^GF(Δ_p) = [√(Δ_p² + 4(p−1)Δ_p) − Δ_p]/(2(p−1)) (module docstring): gradient flow
    from a random start recovers the signal for Δ₂ < Δ₂^GF."""
    deltap = POSITIVE.check("deltap", deltap)
    return (math.sqrt(deltap**2 + 4 * (p - 1) * deltap) - deltap) / (2 * (p - 1))


def gradient_flow_threshold(deltap: float, p: int = 3, *, m0=1e-3, t_max=100.0, h=0.1, m_hit=0.5,
                            bracket=(0.05, 1.0), tol=1e-3) -> dict:
    """Δ₂ at which gradient flow (T = 0) from m(0) = m0 first fails to reach m ≥ ``m_hit`` within
    ``t_max``, by bisection in Δ₂ on the integrated DMFT.  Success is monotone in Δ₂ (less matrix
    noise, stronger pull); a finite horizon and m0 > 0 bias the estimate low (near the threshold
    the escape time diverges).  Returns {"delta2": estimate, "bracket": [lo, hi], "runs": n}."""
    lo, hi = (POSITIVE.check("bracket", b) for b in bracket)
    runs = 0

    def succeeds(d2):
        nonlocal runs
        runs += 1
        s = integrate_dmft(p, d2, deltap, 0.0, m0=m0, t_max=t_max, h=h)
        return bool(np.nanmax(s.m) >= m_hit)

    if not succeeds(lo):
        raise ParameterError(f"gradient flow fails already at delta2 = {lo:g} within t_max = {t_max:g}")
    if succeeds(hi):
        return {"delta2": math.inf, "bracket": [hi, math.inf], "runs": runs}
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if succeeds(mid) else (lo, mid)
    return {"delta2": 0.5 * (lo + hi), "bracket": [lo, hi], "runs": runs}


def growth_rate(p: int, delta2: float, deltap: float, *, t_max: float = 40.0, h: float = 0.1) -> dict:
    """The asymptotic growth rate λ∞ of m in gradient flow (T = 0) started at m(0) → 0⁺.

    In the linear regime (m(0) = 1e-30, so m stays negligible in μ and the dynamics of C and R
    is that of m = 0) m(t) ∝ exp(∫λ), λ(t) = d log m/dt.  λ(t) is integrated at steps h and h/2
    and Richardson-extrapolated, λ = (4λ_{h/2} − λ_h)/3 (the scheme is second order with a large
    constant: μ ≈ 4 makes the h = 0.1 error of λ a few 10⁻³, as large as λ∞ near the threshold),
    then λ(t) = λ∞ + a t^(−γ) is fitted by least squares on [t_max/4, t_max] (extrapolation in
    t^(−γ); γ by profile least squares on a grid of [0.2, 2]; the aging of C and μ gives γ ≈ 2/3).
    Returns {"rate": λ∞, "gamma": γ, "t": times, "lambda": λ(t) (extrapolated in h), "fit": the
    fitted λ∞ + a t^(−γ) as a function of t}."""
    n = int(round(t_max / h))
    runs = [_integrate(*_check(p, delta2, deltap, 0.0, 1e-30, t_max, hh)[:5], hh, k)[2]
            for hh, k in ((h, n), (h / 2, 2 * n))]
    t = np.arange(n + 1) * h
    lam_h = np.gradient(np.log(runs[0]), t)
    lam_h2 = np.gradient(np.log(runs[1]), np.arange(2 * n + 1) * (h / 2))[::2]
    lam = (4 * lam_h2 - lam_h) / 3
    sel = t >= t_max / 4
    best = None
    for gamma in np.linspace(0.2, 2.0, 181):
        X = np.stack([np.ones(sel.sum()), t[sel] ** -gamma], 1)
        coef, res = np.linalg.lstsq(X, lam[sel], rcond=None)[:2]
        r = float(res[0]) if len(res) else float(np.sum((X @ coef - lam[sel]) ** 2))
        if best is None or r < best[0]:
            best = (r, float(coef[0]), float(gamma))
    rate, gamma = best[1], best[2]
    amp = float(np.linalg.lstsq(t[sel, None] ** -gamma, lam[sel] - rate, rcond=None)[0][0])
    return {"rate": rate, "gamma": gamma, "t": t, "lambda": lam, "fit": lambda x: rate + amp * np.asarray(x) ** -gamma}


def gradient_flow_threshold_from_rates(deltap: float, p: int = 3, *, delta2s, t_max: float = 40.0,
                                       h: float = 0.1) -> dict:
    """Δ₂^GF located from the integrated DMFT by the growth rate of m (:func:`growth_rate`).

    Below the threshold m grows exponentially at rate λ∞ > 0; λ∞ vanishes at Δ₂^GF, quadratically
    (an outlier leaving a spectral edge: λ∞ ∝ (Δ₂^GF − Δ₂)², so √λ∞ is linear there); above it m
    grows as a power of t only.  So √λ∞ at the points ``delta2s`` (at least two, below the
    threshold) is extrapolated linearly (least squares) to its zero.  Returns {"delta2": the
    zero, "delta2s": [...], "rates": [λ∞...], "gammas": [...], "t_max", "h"}."""
    deltap = POSITIVE.check("deltap", deltap)
    delta2s = [POSITIVE.check("delta2", x) for x in delta2s]
    if len(delta2s) < 2:
        raise ParameterError("at least two delta2 points are needed")
    fits = [growth_rate(p, d2, deltap, t_max=t_max, h=h) for d2 in delta2s]
    rates = [f["rate"] for f in fits]
    if min(rates) <= 0:
        raise ParameterError(f"m does not grow exponentially at every delta2 in {delta2s} (rates {rates}); "
                             "choose points below the threshold")
    slope, icpt = np.polyfit(delta2s, np.sqrt(rates), 1)
    zero = -icpt / slope if slope < 0 else math.nan
    return {"delta2": float(zero), "delta2s": [float(x) for x in delta2s], "rates": rates,
            "gammas": [f["gamma"] for f in fits], "t_max": t_max, "h": h}
