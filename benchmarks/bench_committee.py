"""Committee solver timings, each against a baseline run in the same process.

1. vectorized over an α grid vs one α at a time;
2. binary weights, K = 2, uninformed start (the state evolution of AMP, which reaches perfect
   recovery from α ≈ 2): the output side near q → ρI by the slab rule in ω
   (``quadrature.slab_rule``) vs the Gauss–Hermite product rule in ξ alone (the rule before
   the slab rule; ``SLAB_MIN_EIG = inf`` switches the slab rule off), with how many points
   each converges;
3. solve time against K (K = 1 … 3, on the unspecialized subspace and from the uninformed
   start; K = 4 costs minutes per point with the nested orthant quadrature);
4. one output-side map (q̂ from q) against the per-point adaptive quadrature of the public
   committee code (Aubin et al.'s ``StateEvolution_class``: ``scipy.integrate.nquad`` over
   ξ ∈ [−10, 10]² per matrix element and per point, epsabs 1e-7) — with the inner label
   probabilities in closed form here (their code nests a ``quad`` inside, slower still).

Run:  python benchmarks/bench_committee.py [SECTIONS, e.g. 3,4]
"""
import time

import numpy as np

import replica.committee.derive as D
from replica.committee import committee_model, derive_committee, solve_committee


def _t(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def _nquad_map(qd, qa, K=2):
    """q̂/α = E_ξ Σ_y Z g gᵀ at one point, element by element, by scipy's nquad (the baseline)."""
    from scipy.integrate import nquad
    from replica.committee.derive import _label_probs
    from replica.committee.models import CommitteeRule
    rule = CommitteeRule(K)
    q = qd * np.eye(K) + qa / K * np.ones((K, K))
    w, U = np.linalg.eigh(q)
    sq = U @ np.diag(np.sqrt(w)) @ U.T
    V = (np.eye(K) - q)[None]

    def element(r, c):
        def f(x1, x2):
            om = (sq @ np.array([x1, x2]))[None, None]
            Z, dZ = _label_probs(rule, K, om, V, 32)
            Z, dZ = Z[0, 0], dZ[0, 0]
            ok = Z > 1e-300
            g = dZ[ok] / Z[ok, None]
            return np.exp(-0.5 * (x1 * x1 + x2 * x2)) / (2 * np.pi) * float((Z[ok] * g[:, r] * g[:, c]).sum())
        return nquad(f, [[-10, 10], [-10, 10]], opts={"epsabs": 1e-7})[0]
    return element(0, 0), element(0, 1)


def main(sections=(1, 2, 3, 4)):
    if 1 in sections:
        alpha = np.linspace(0.5, 4.0, 8)
        for K, prior, init in ((1, "gaussian", "uninformed"), (2, "gaussian", "unspecialized"),
                               (2, "gaussian", "uninformed"), (2, "ising", "uninformed"),
                               (3, "gaussian", "unspecialized")):
            th = derive_committee(committee_model(K, prior))
            vec, _ = _t(lambda: solve_committee(th, alpha, init))
            loop, _ = _t(lambda: [solve_committee(th, [a], init) for a in alpha])
            print(f"K={K} {prior:8s} {init:13s}  grid of {alpha.size}: vectorized {vec:7.3f} s, "
                  f"per point {loop:7.3f} s, ratio {loop / vec:5.2f}")
    if 2 in sections:
        th = derive_committee(committee_model(2, "ising"))
        alpha = np.linspace(1.0, 2.6, 8)
        slab, s = _t(lambda: solve_committee(th, alpha, "uninformed"))
        keep = D.SLAB_MIN_EIG
        D.SLAB_MIN_EIG = np.inf
        try:
            prod, p = _t(lambda: solve_committee(th, alpha, "uninformed"))
        finally:
            D.SLAB_MIN_EIG = keep
        print(f"K=2 ising uninformed, alpha 1.0:2.6:8: slab rule {slab:6.2f} s ({s.converged.sum()}/8 converged, "
              f"{(s.branch == 'perfect').sum()} perfect); product rule only {prod:6.2f} s "
              f"({p.converged.sum()}/8 converged, {(p.branch == 'perfect').sum()} perfect); ratio {prod / slab:5.2f}")
    if 3 in sections:
        print("solve time against K (8 alphas in 0.5..4):")
        alpha = np.linspace(0.5, 4.0, 8)
        for init, Ks in (("unspecialized", (1, 2, 3)), ("uninformed", (1, 2, 3))):
            for K in Ks:
                th = derive_committee(committee_model(K, "gaussian"))
                t, s = _t(lambda: solve_committee(th, alpha, init))
                print(f"  K={K} {init:13s} {t:7.2f} s  ({s.converged.sum()}/8 converged)")
    if 4 in sections:
        th = derive_committee(committee_model(2, "gaussian"))
        qd, qa = 0.3, 0.4
        base, (e00, e01) = _t(lambda: _nquad_map(qd, qa))
        grid = 200
        ours, out = _t(lambda: th.output_side(np.full(grid, qd), np.full(grid, qa)))
        gd, ga = out[0][0], out[1][0]
        # projected back onto the matrix: diag = G_d + G_a/K, off = G_a/K
        print(f"output-side map at q_d={qd}, q_a={qa}: nquad per point {base:7.3f} s; vectorized "
              f"{ours / grid * 1e3:7.3f} ms per point over {grid} points; ratio {base / (ours / grid):8.0f}; "
              f"|diag diff| {abs(gd + ga / 2 - e00):.1e}, |off diff| {abs(ga / 2 - e01):.1e}")


if __name__ == "__main__":
    import sys
    main(tuple(int(v) for v in sys.argv[1].split(",")) if len(sys.argv) > 1 else (1, 2, 3, 4))
