"""Committee solve time against the number of hidden units K = 2 … 5, as ratios to K = 2.

Every K in the same process: ``committee-bayes`` (Gaussian weights, sign committee) solved on
the unspecialized subspace (start ``unspecialized``, the branch every K reaches from no
information at these α) at α ∈ {1, 2, 3}, and one output-side map at a generic specialized
state (q_d, q_a) = (0.5, 0.3) on the symmetric Gauss–Hermite product rule.  K ≥ 3 run the
generated output kernel (``replica.committee.lower``); K = 2 the Owen's-T closed form (the
documented shortcut), so the ``kernel`` column also times the generated kernel at K = 2 on the same
points (Z_out and ∇Z_out at the product rule's points).  ``spec map``: one map on the specialized
branch near q → ρI, (q_d, q_a) = (0.8, 0.12) — the slab rule at K = 2, the layer rule at K ≥ 3
(about n^K/K! points, n = 48: the cost of every step of ``specialized_transitions``).

Run:  python benchmarks/bench_committee_k.py [KMAX]
"""
import sys
import time

import numpy as np

from replica.committee import committee_model, derive_committee, solve_committee
from replica.committee.derive import default_nodes
from replica.committee.lower import output_kernel
from replica.committee.quadrature import product_rule


def _t(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def main(kmax=5):
    alpha = np.array([1.0, 2.0, 3.0])
    rows = []
    for K in range(2, kmax + 1):
        th = derive_committee(committee_model(K, "gaussian"))
        t_solve, s = _t(lambda: solve_committee(th, alpha, "unspecialized"))
        t_map, _ = _t(lambda: th.output_side(np.array([0.5]), np.array([0.3])))
        n = default_nodes(K)
        xi, _ = product_rule(n, K, True)
        om = (np.sqrt(0.5) * xi + (np.sqrt(0.8) - np.sqrt(0.5)) * xi.mean(1, keepdims=True))[None]
        t_ker, _ = _t(lambda: output_kernel(th._rule)(om, np.array([0.5]), np.array([-0.3 / K])))
        t_spec, _ = _t(lambda: th.output_side(np.array([0.8]), np.array([0.12])))
        rows.append((K, t_solve, t_map, t_ker, t_spec, bool(s.converged.all()), float(np.nanmax(s["accuracy"]))))
    base = rows[0]
    print(f"{'K':>2} {'solve s':>9} {'ratio':>7} {'map s':>8} {'ratio':>7} {'kernel s':>9} {'ratio':>7} "
          f"{'spec map s':>10} {'ratio':>7}  converged  max accuracy")
    for K, ts, tm, tk, tsp, ok, acc in rows:
        print(f"{K:>2} {ts:9.2f} {ts / base[1]:7.2f} {tm:8.3f} {tm / base[2]:7.2f} {tk:9.3f} {tk / base[3]:7.2f} "
              f"{tsp:10.2f} {tsp / base[4]:7.1f}  {ok!s:>9}  {acc:.1e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
