"""Mei & Montanari (2019), arXiv:1908.05355, Definition 1 and Theorem 1: the asymptotic test error
of ridge regression on random features σ(⟨θ_a, x⟩/√d), a ≤ N, with n samples in dimension d,

    R = F₁² B(ζ, ψ₁, ψ₂, λ̄) + (τ² + F*²) V(ζ, ψ₁, ψ₂, λ̄) + F*²,

ψ₁ = N/d, ψ₂ = n/d, ζ = μ₁/μ*, λ̄ = λ/μ*², B = E₁/E₀, V = E₂/E₀ with χ = ν₁ν₂ at
ξ = i√(ψ₁ψ₂λ̄), (ν₁, ν₂) the solution of

    ν₁ = ψ₁ (−ξ − ν₂ − ζ²ν₂/(1 − ζ²ν₁ν₂))⁻¹,    ν₂ = ψ₂ (−ξ − ν₁ − ζ²ν₁/(1 − ζ²ν₁ν₂))⁻¹

in the upper half plane.  Their ridge objective is (1/n) Σ (y_i − aᵀσ)² + (Nλ/d)|a|²; with a = w/√N
and our Σ ½(y − w·z/√N)² + (λ_ours/2)|w|², λ = λ_ours/ψ₂.  An independent closed form: no
replica derivation, no code of the package.
"""
from __future__ import annotations

import mpmath

__all__ = ["mm_nu", "mm_risk"]


def mm_nu(zeta, psi1, psi2, lam_bar, dps=40):
    """(ν₁, ν₂) at ξ = i√(ψ₁ψ₂λ̄): the fixed point, by damped iteration from the upper half plane
    and a Newton polish (mpmath.findroot) at ``dps`` digits."""
    with mpmath.workdps(dps):
        xi = 1j * mpmath.sqrt(psi1 * psi2 * lam_bar)
        z2 = mpmath.mpf(zeta)**2

        def F(n1, n2):
            d = 1 - z2 * n1 * n2
            return (psi1 / (-xi - n2 - z2 * n2 / d), psi2 / (-xi - n1 - z2 * n1 / d))

        n1, n2 = 1j * psi1 / abs(xi), 1j * psi2 / abs(xi)
        for _ in range(20000):
            a, b = F(n1, n2)
            a, b = (n1 + a) / 2, (n2 + b) / 2
            if abs(a - n1) + abs(b - n2) < mpmath.mpf(10)**(-20):
                n1, n2 = a, b
                break
            n1, n2 = a, b
        sol = mpmath.findroot(lambda u, v: [u - F(u, v)[0], v - F(u, v)[1]], (n1, n2))
        n1, n2 = sol[0], sol[1]
        if not (mpmath.im(n1) > 0 and mpmath.im(n2) > 0):
            raise ArithmeticError("Mei-Montanari fixed point left the upper half plane")
        return n1, n2


def mm_risk(zeta, psi1, psi2, lam_bar, F1sq=1, tau2=0, Fstar2=0, dps=40):
    """(R, B, V) of Theorem 1 (test error against the noiseless target)."""
    with mpmath.workdps(dps):
        n1, n2 = mm_nu(zeta, psi1, psi2, lam_bar, dps)
        chi = n1 * n2
        z = mpmath.mpf(zeta)
        p1, p2 = mpmath.mpf(psi1), mpmath.mpf(psi2)
        E0 = (-chi**5 * z**6 + 3 * chi**4 * z**4 + (p1 * p2 - p2 - p1 + 1) * chi**3 * z**6
              - 2 * chi**3 * z**4 - 3 * chi**3 * z**2 + (p1 + p2 - 3 * p1 * p2 + 1) * chi**2 * z**4
              + 2 * chi**2 * z**2 + chi**2 + 3 * p1 * p2 * chi * z**2 - p1 * p2)
        E1 = p2 * chi**3 * z**4 - p2 * chi**2 * z**2 + p1 * p2 * chi * z**2 - p1 * p2
        E2 = (chi**5 * z**6 - 3 * chi**4 * z**4 + (p1 - 1) * chi**3 * z**6 + 2 * chi**3 * z**4
              + 3 * chi**3 * z**2 + (-p1 - 1) * chi**2 * z**4 - 2 * chi**2 * z**2 - chi**2)
        B, V = E1 / E0, E2 / E0
        R = F1sq * B + (tau2 + Fstar2) * V + Fstar2
        return float(mpmath.re(R)), float(mpmath.re(B)), float(mpmath.re(V))
