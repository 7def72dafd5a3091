"""A 100-point double-descent curve with its bias-variance decomposition: the package against a
per-point implementation of the same decomposition.

Ridge on ReLU random features (built-in ``random-features``), α = 1.5, λ = 0.01, Δ = 0.1, ψ on a
100-point grid in [0.2, 5].  ``replica.features.decomposition`` solves the whole curve vectorized
(one solve of the random-feature theory, then the two-student cross overlaps of
``replica.features.two_student`` in closed form at that saddle point).  The baseline does the
decomposition per point by the other, equivalent route, GCMProject-style: each spectral average a
``scipy.integrate.quad`` over the Marchenko–Pastur density (+ atom) inside a damped fixed-point
loop, solved at Δ and 2Δ, the effective ridge of the feature average (Jacot et al. 2020) by
``brentq`` on quad, the ridge-on-inputs fixed point in
closed form.  Prints the time per point of each, their ratio, and the largest difference of the
terms on the baseline's points.

    python benchmarks/bench_decomposition.py [N_BASELINE_POINTS]
"""
import math
import sys
import time

import numpy as np
from scipy.optimize import brentq

from bench_features import MU1, MUSTAR2, mp_expect
from replica.features.decomposition import decomposition

ALPHA, LAM, DELTA = 1.5, 0.01, 0.1
TERMS = ("generalization_error", "bias2", "var_sampling", "var_init", "var_noise", "ensemble_error",
         "var_P", "var_PX", "var_X_eps", "var_PX_eps")


def _iterate(step, state, damping=0.5, tol=1e-11, max_iter=20000):
    for _ in range(max_iter):
        new = step(*state)
        if max(abs(a - b) for a, b in zip(new[:3], state)) < tol:
            return new
        state = tuple(damping * a + (1 - damping) * b for a, b in zip(state, new[:3]))
    return (math.nan,) * 6


def gcm_point(psi, delta):
    """(Q, chi, m, m_hat, chi_hat, q_hat) of ridge on random features at one ψ."""
    r = ALPHA / psi
    om = lambda s: MU1**2 * s + MUSTAR2  # noqa: E731
    t2 = lambda s: psi * MU1**2 * s  # noqa: E731

    def step(Q, chi, m):
        ch = mh = r / (1 + chi)
        qh = r * (1 + delta - 2 * m + Q) / (1 + chi)**2
        return (mp_expect(lambda s: (mh**2 * t2(s) + qh * om(s)) * om(s) / (ch * om(s) + LAM)**2, psi),
                mp_expect(lambda s: om(s) / (ch * om(s) + LAM), psi),
                mh * mp_expect(lambda s: t2(s) / (ch * om(s) + LAM), psi), mh, ch, qh)
    return _iterate(step, (1.0, 1.0, 0.5))


def ridge_point(lam, delta):
    """(Q, chi, m, ...) of ridge on the inputs x (Gaussian prior, closed-form prior side)."""
    def step(Q, chi, m):
        ch = mh = ALPHA / (1 + chi)
        qh = ALPHA * (1 + delta - 2 * m + Q) / (1 + chi)**2
        return (mh**2 + qh) / (ch + lam)**2, 1 / (ch + lam), mh / (ch + lam), mh, ch, qh
    return _iterate(step, (1.0, 1.0, 0.5))


def baseline_point(psi):
    Q, _, m, mh, ch, _ = gcm_point(psi, DELTA)
    Q2 = gcm_point(psi, 2 * DELTA)[0]
    om = lambda s: MU1**2 * s + MUSTAR2  # noqa: E731
    Q_P = mp_expect(lambda s: mh**2 * psi * MU1**2 * s * om(s) / (ch * om(s) + LAM)**2, psi)
    g = lambda t: 1 - LAM / t - ALPHA / psi * mp_expect(lambda s: om(s) / (om(s) + t), ALPHA)  # noqa: E731
    lt = brentq(g, LAM * (1 + 1e-12), LAM + 10, xtol=1e-14)
    le = (MUSTAR2 + lt) / MU1**2
    Qe, Qe2 = ridge_point(le, DELTA)[0], ridge_point(le, 2 * DELTA)[0]
    Q_PX, Q_X, Q_0 = 2 * Q - Q2, 2 * Qe - Qe2, m**2
    return {"generalization_error": 1 - 2 * m + Q, "bias2": 1 - 2 * m + Q_0, "var_sampling": Q_X - Q_0,
            "var_init": Q_PX - Q_X, "var_noise": Q - Q_PX, "ensemble_error": 1 - 2 * m + Qe,
            "var_P": Q_P - Q_0, "var_PX": Q_PX - Q_P - Q_X + Q_0, "var_X_eps": Qe - Q_X,
            "var_PX_eps": Q - Q_PX - Qe + Q_X}


def main(n_base=6):
    psis = np.linspace(0.2, 5.0, 100)
    base_psis = psis[:: max(1, 100 // n_base)][:n_base]
    t = time.perf_counter()
    base = [baseline_point(p) for p in base_psis]
    t_base = (time.perf_counter() - t) / len(base_psis)

    grid = {"alpha": ALPHA, "lam": LAM, "delta": DELTA}
    decomposition("random-features", {**grid, "psi": psis[:2]})                    # warm-up (compile)
    t = time.perf_counter()
    d = decomposition("random-features", {**grid, "psi": psis})
    t_gen = (time.perf_counter() - t) / len(psis)
    idx = [int(np.argmin(abs(psis - p))) for p in base_psis]
    diff = max(abs(d[k][i] - b[k]) for i, b in zip(idx, base) for k in TERMS)
    print(f"baseline (quad, per point): {t_base * 1e3:9.1f} ms/point  ({len(base_psis)} points)")
    print(f"decomposition (vectorized): {t_gen * 1e3:9.2f} ms/point  (100 points, all converged: {bool(d['converged'].all())})")
    print(f"ratio baseline / package:   {t_base / t_gen:9.1f}")
    print(f"max |term - baseline| over {len(TERMS)} terms: {diff:.2e}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
