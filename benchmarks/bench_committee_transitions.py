"""Specialization of the Bayes-optimal sign committee at K = 3, 4, 5 (issue 16), by the path of
``replica transition committee-bayes --along alpha --set K=3 --range LO:HI``:
``replica.committee.solve.specialized_transitions`` — the specialized branch from the informed
start at α = HI, followed down in q_d (``branch_alpha``: the α and q_a at which (q_d, q_a) is a
fixed point, on the layer rule near q → ρI); where it appears (min of α(q_d), ``spinodal``) and
where its free entropy equals the unspecialized branch's (``first_order``), each with its
accuracy (the point's estimate and the α error it implies).  Printed with α/K against the
large-K limit (``largek``: the branch appears at α̃ = 7.17, wins at α̃ = 7.68, α = α̃ K; Aubin
et al. 2018).  ±1 weights (``ising``): the first-order jump to perfect recovery (K → ∞:
α̃ = 1.6176).

Cross-check (``--check``): the fold by a second method — the state evolution from a point just
above the fold converges (it is on the branch) and from just below it leaves for the
unspecialized branch (the branch does not exist there), both starts informed.

Run:  python benchmarks/bench_committee_transitions.py [--check] [gaussian|ising] K LO HI
(K = 3, Gaussian: ``3 10.5 12``, ~3 CPU minutes; K = 4: ``4 9.5 11``.)
"""
import json
import sys
import time

from replica.committee import committee_model, derive_committee, solve_committee
from replica.committee.solve import specialized_transitions


def main(argv):
    check = "--check" in argv
    argv = [a for a in argv if a != "--check"]
    prior = argv.pop(0) if argv and argv[0] in ("gaussian", "ising") else "gaussian"
    K, lo, hi = int(argv[0]), float(argv[1]), float(argv[2])
    th = derive_committee(committee_model(K, prior))
    t = time.perf_counter()
    found = specialized_transitions(th, lo, hi)
    dt = time.perf_counter() - t
    print(f"K = {K}, {prior} weights, alpha in [{lo}, {hi}]: {dt:.0f} s")
    for r in found:
        v = r["value"]
        print(f"  {r['kind']:<15} alpha = {v if v is None else f'{v:.6f}'}"
              + ("" if v is None else f"  (alpha/K = {v / K:.5f})"))
        print("    " + json.dumps({k: x for k, x in r.items() if k not in ("kind", "value")}, default=str))
    print("large K: appears at alpha/K = 7.1692, first order at alpha/K = 7.6802; "
          "+-1 weights: first order (perfect) at alpha/K = 1.6176 (largek)")
    spin = [r for r in found if r["kind"] == "spinodal" and r["value"] is not None]
    if check and spin:
        s = spin[0]
        for da in (+0.01, -0.01):
            a = s["value"] + da
            t = time.perf_counter()
            sol = solve_committee(th, [a], {"q_d": s["q_d"], "q_a": s["q_a"]}, max_iter=4000)
            print(f"  check: state evolution from the fold's state at alpha = {a:.4f}: q_d = {sol['q_d'][0]:.5f} "
                  f"(converged {bool(sol.converged[0])}) [{time.perf_counter() - t:.0f} s]")


if __name__ == "__main__":
    main(sys.argv[1:])
