"""Specialization of the Bayes-optimal sign committee (Gaussian weights) at K = 3, 4 (issue 16).

The specialized branch is followed in q_d (``replica.committee.solve.branch_alpha``: the α and
q_a at which (q_d, q_a) is a fixed point, on the layer rule near q → ρI): its appearance is the
minimum of α(q_d) (``specialized_spinodal``), the first-order transition the q_d where its free
entropy equals the unspecialized branch's at the same α (``specialized_first_order``).  Printed
with α/K against the large-K limit (``largek``: the branch appears at α̃ = 7.17, wins at
α̃ = 7.68, α = α̃ K; Aubin et al. 2018).  Minutes per K on one core.

Run:  python benchmarks/bench_committee_transitions.py [K ...]
"""
import sys
import time

from replica.committee import committee_model, derive_committee
from replica.committee.solve import specialized_first_order, specialized_spinodal

#: per K: q_d bracket of the fold, of the first-order point, and a start (α, q_a) for Newton (K = 4:
#: the branch point measured at q_d = 0.8; its fold and first-order point were not run, ~10 min per
#: branch point on one shared core)
SETUP = {3: ((0.55, 0.75), (0.7, 0.9), (10.92, 0.27)),
         4: ((0.55, 0.8), (0.8, 0.95), (9.73, 0.144))}


def main(Ks):
    for K in Ks:
        th = derive_committee(committee_model(K, "gaussian"))
        fold, upper, guess = SETUP[K]
        t = time.perf_counter()
        sp = specialized_spinodal(th, *fold, guess)
        t_sp = time.perf_counter() - t
        g = (sp["value"], sp["q_a"]) if sp else guess
        t = time.perf_counter()
        fo = specialized_first_order(th, max(upper[0], sp["q_d"] + 0.02) if sp else upper[0], upper[1], g)
        t_fo = time.perf_counter() - t
        print(f"K = {K}: branch appears at alpha = {sp['value']:.4f} (alpha/K = {sp['value'] / K:.4f}, "
              f"q_d = {sp['q_d']:.4f}) [{t_sp:.0f} s]" if sp else f"K = {K}: fold not found [{t_sp:.0f} s]")
        if fo:
            print(f"K = {K}: first order at alpha = {fo['value']:.5f} (alpha/K = {fo['value'] / K:.4f}, "
                  f"q_d = {fo['q_d']:.5f}, q_a = {fo['q_a']:.5f}, accuracy {fo['accuracy']:.1e}, Bayes error "
                  f"{fo['generalization_error'][0]:.5f} -> {fo['generalization_error'][1]:.5f}) [{t_fo:.0f} s]")
        else:
            print(f"K = {K}: first order not bracketed [{t_fo:.0f} s]")
    print("large K: appears at alpha/K = 7.1692, first order at alpha/K = 7.6802 (largek)")


if __name__ == "__main__":
    main([int(k) for k in sys.argv[1:]] or [3])
