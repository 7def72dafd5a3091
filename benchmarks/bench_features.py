"""Double descent on ReLU random features: the generated solver against a per-point baseline.

Ridge on ReLU random features (built-in ``random-features``), α = 1.5, λ = 0.01, Δ = 0.1, ψ on a
100-point grid in [0.2, 5].  The baseline is a GCMProject-style implementation of the same
saddle-point equations (Gerace et al. 2020; Loureiro et al. 2021): the prior-side traces as
``scipy.integrate.quad`` over the Marchenko–Pastur density (plus its atom at 0) inside a damped
fixed-point loop, one ψ at a time; the output side in the closed form of the square loss.  The
generated solver does the whole curve in one vectorized call (Marchenko–Pastur averages in closed
form through the derived Stieltjes transform).  Prints the time per point of each, their ratio,
and the largest |ε_g − ε_g(baseline)| on the baseline's points.

The curve is the test error only; its decomposition (bias², variances) is timed by
``bench_decomposition.py``.

    python benchmarks/bench_features.py [N_BASELINE_POINTS]
"""
import math
import sys
import time

import numpy as np
from scipy import integrate

import replica
from replica.solve import solve

ALPHA, LAM, DELTA = 1.5, 0.01, 0.1
MU1, MUSTAR2 = 0.5, 0.25 - 1 / (2 * math.pi)          # ReLU: μ₁ = 1/2, μ*² = 1/4 − 1/(2π)


def mp_expect(f, psi):
    """E f(s) under Marchenko–Pastur(ψ), by quad on the density (and the atom at 0 for ψ > 1)."""
    a, b = (1 - math.sqrt(psi))**2, (1 + math.sqrt(psi))**2
    dens = lambda s: math.sqrt(max((b - s) * (s - a), 0.0)) / (2 * math.pi * psi * s)  # noqa: E731
    val = integrate.quad(lambda s: f(s) * dens(s), a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    return val + (1 - 1 / psi) * f(0.0) if psi > 1 else val


def baseline_point(psi, damping=0.5, tol=1e-10, max_iter=5000):
    """Test error E(ŷ − λ*)² = Q − 2m + 1 at one ψ, per-point damped iteration."""
    r = ALPHA / psi
    Q, chi, m = 1.0, 1.0, 0.5
    for _ in range(max_iter):
        ch = r / (1 + chi)
        mh = r / (1 + chi)
        qh = r * (1 + DELTA - 2 * m + Q) / (1 + chi)**2
        om = lambda s: MU1**2 * s + MUSTAR2  # noqa: E731
        t2 = lambda s: psi * MU1**2 * s  # noqa: E731
        Qn = mp_expect(lambda s: (mh**2 * t2(s) + qh * om(s)) * om(s) / (ch * om(s) + LAM)**2, psi)
        chin = mp_expect(lambda s: om(s) / (ch * om(s) + LAM), psi)
        mn = mh * mp_expect(lambda s: t2(s) / (ch * om(s) + LAM), psi)
        diff = max(abs(Qn - Q), abs(chin - chi), abs(mn - m))
        Q, chi, m = (damping * Q + (1 - damping) * Qn, damping * chi + (1 - damping) * chin,
                     damping * m + (1 - damping) * mn)
        if diff < tol:
            return Q - 2 * m + 1
    return math.nan


def main(n_base=8):
    psis = np.linspace(0.2, 5.0, 100)
    base_psis = psis[:: max(1, 100 // n_base)][:n_base]
    t = time.perf_counter()
    base = np.array([baseline_point(p) for p in base_psis])
    t_base = (time.perf_counter() - t) / len(base_psis)

    c = replica.derive("random-features").compile()
    solve(c, {"alpha": ALPHA, "psi": psis[:2], "lam": LAM, "delta": DELTA})      # warm-up
    t = time.perf_counter()
    sol = solve(c, {"alpha": ALPHA, "psi": psis, "lam": LAM, "delta": DELTA})
    t_gen = (time.perf_counter() - t) / len(psis)
    err = sol["generalization_error"]
    idx = [int(np.argmin(abs(psis - p))) for p in base_psis]
    print(f"baseline (quad, per point): {t_base * 1e3:9.2f} ms/point  ({len(base_psis)} points)")
    print(f"generated (vectorized):     {t_gen * 1e3:9.3f} ms/point  (100 points, all converged: {bool(sol.converged.all())})")
    print(f"ratio baseline / generated: {t_base / t_gen:9.1f}")
    print(f"max |eps_g - baseline|:     {np.nanmax(np.abs(err[idx] - base)):.2e}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
