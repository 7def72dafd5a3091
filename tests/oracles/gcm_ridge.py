"""Ridge regression on a Gaussian covariate model, by hand: the saddle point of Loureiro et al.
(2021, arXiv:2102.08127, the square loss) in our normalization
(Σ ½(y − w·z/√N)² + (λ/2)|w|², α = P/D, ψ = N/D, teacher noise Δ), over an explicit spectrum
(eigenvalues ω_i with probabilities p_i and teacher weights τ_i²):

    χ̂ = m̂ = (α/ψ)/(1 + χ),   q̂ = (α/ψ)(ρ + Δ − 2m + Q)/(1 + χ)²,
    χ = Σ p ω/(χ̂ω + λ),   m = Σ p m̂τ²/(χ̂ω + λ),   Q = Σ p ω(m̂²τ² + q̂ω)/(χ̂ω + λ)²,

iterated with damping; the test error is Q − 2m + ρ.  NumPy only, no code of the package.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gcm_ridge_error"]


def gcm_ridge_error(omega, p, tau2, rho, alpha, psi, lam, delta, damping=0.5, tol=1e-13, max_iter=100000):
    omega, p, tau2 = (np.asarray(v, dtype=float) for v in (omega, p, tau2))
    r = alpha / psi
    Q, chi, m = 1.0, 1.0, 0.0
    for _ in range(max_iter):
        ch = mh = r / (1 + chi)
        qh = r * (rho + delta - 2 * m + Q) / (1 + chi)**2
        den = ch * omega + lam
        new = (p @ (omega * (mh**2 * tau2 + qh * omega) / den**2), p @ (omega / den), p @ (mh * tau2 / den))
        diff = max(abs(a - b) for a, b in zip(new, (Q, chi, m)))
        Q, chi, m = (damping * a + (1 - damping) * b for a, b in zip((Q, chi, m), new))
        if diff < tol:
            return Q - 2 * m + rho
    raise RuntimeError("gcm_ridge_error: no convergence")
