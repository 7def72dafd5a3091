"""Committee solver timings, each against a baseline run in the same process.

1. vectorized over an α grid vs one α at a time;
2. binary weights, K = 2, uninformed start (the state evolution of AMP, which reaches perfect
   recovery from α ≈ 2): the output side near q → ρI by the slab rule in ω
   (``quadrature.slab_rule``) vs the Gauss–Hermite product rule in ξ alone (the rule before
   the slab rule; ``SLAB_MIN_EIG = inf`` switches the slab rule off), with how many points
   each converges.

Run:  python benchmarks/bench_committee.py
"""
import time

import numpy as np

import replica.committee.derive as D
from replica.committee import committee_model, derive_committee, solve_committee


def _t(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def main():
    alpha = np.linspace(0.5, 4.0, 8)
    for K, prior, init in ((1, "gaussian", "uninformed"), (2, "gaussian", "unspecialized"),
                           (2, "gaussian", "uninformed"), (2, "ising", "uninformed"),
                           (3, "gaussian", "unspecialized")):
        th = derive_committee(committee_model(K, prior))
        vec, _ = _t(lambda: solve_committee(th, alpha, init))
        loop, _ = _t(lambda: [solve_committee(th, [a], init) for a in alpha])
        print(f"K={K} {prior:8s} {init:13s}  grid of {alpha.size}: vectorized {vec:7.3f} s, "
              f"per point {loop:7.3f} s, ratio {loop / vec:5.2f}")

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


if __name__ == "__main__":
    main()
