"""Ridge regression on isotropic Gaussian inputs, by hand: the bias² and the variances due to
sampling and to noise from the Marchenko–Pastur law (Hastie, Montanari, Rosset & Tibshirani 2019,
arXiv:1903.08560, Sec. 5 and Thm 5's proof, in their normalization β̂ = (Σ̂ + λ_H)⁻¹Xᵀy/n,
Σ̂ = XᵀX/n of ratio γ = p/n, y = Xβ + ε, |β|² = r², E ε² = σ²):

    E_ε β̂ − β = −λ_H (Σ̂ + λ_H)⁻¹ β,   E_{X,ε} β̂ = (1 − λ_H m(−λ_H)) β,

with m(z) = E_s 1/(s − z) over the spectrum of Σ̂ (rotation invariance makes E(Σ̂ + λ)⁻¹ = m I), so

    bias² = r² λ_H² m²,   var_sampling = r² λ_H² (m' − m²),   var_noise = σ² γ (m − λ_H m'),

m, m' at z = −λ_H.  In this package's normalization (Σ ½(y − w·x/√D)² + (λ/2)|w|², α = P/D):
β = w/√D, λ_H = λ/α, γ = 1/α.  m and m' are integrals of the Marchenko–Pastur density (mpmath,
with the atom at 0 of mass 1 − 1/γ when γ > 1).  No code of the package.
"""
from __future__ import annotations

import mpmath

__all__ = ["isotropic_ridge_terms"]


def _stieltjes(gamma, z, k, dps=30):
    """E_s 1/(s − z)^k over Marchenko–Pastur of ratio γ (variance 1), z < 0."""
    with mpmath.workdps(dps):
        g = mpmath.mpf(gamma)
        a, b = (1 - mpmath.sqrt(g))**2, (1 + mpmath.sqrt(g))**2
        dens = lambda s: mpmath.sqrt((b - s) * (s - a)) / (2 * mpmath.pi * g * s)  # noqa: E731
        out = mpmath.quad(lambda s: dens(s) / (s - z)**k, [a, (a + b) / 2, b])
        if g > 1:
            out += (1 - 1 / g) / (-z)**k
        return out


def isotropic_ridge_terms(alpha, lam, rho=1.0, delta=0.0, dps=30) -> dict:
    """{"bias2", "var_sampling", "var_noise", "generalization_error"} at α = P/D, ridge λ (ours)."""
    with mpmath.workdps(dps):
        lh, gamma = mpmath.mpf(lam) / alpha, 1 / mpmath.mpf(alpha)
        m, m1 = _stieltjes(gamma, -lh, 1, dps), _stieltjes(gamma, -lh, 2, dps)
        out = {"bias2": rho * lh**2 * m**2, "var_sampling": rho * lh**2 * (m1 - m**2),
               "var_noise": delta * gamma * (m - lh * m1)}
        out["generalization_error"] = sum(out.values())
        return {k: float(v) for k, v in out.items()}
