"""Specialized branches of the sign committee at K ≥ 3 (issue 16): the Bayes error on the layer
rule with the kinks of its max located, and the transitions found by following the specialized
branch (``replica.committee.solve.specialized_transitions``; the K = 3 Gaussian numbers, minutes
each, are in ``benchmarks/bench_committee_transitions.py``)."""
import numpy as np
import pytest

from replica.committee import committee_model, derive_committee
from replica.committee.solve import specialized_transitions

from oracles.committee import bayes_error_three_independent_units


def test_layer_bayes_error_against_independent_units_K3():
    """q = q_d I at K = 3: the units are independent given the data and the Bayes error has a
    one-dimensional-kink oracle (``bayes_error_three_independent_units``: the kink in ω_3 placed
    exactly, Owen-free, converged to ~1e-9).  The layer rule with the kinks located is within
    5e-7 of it, closer than the tensor rule, and its estimate ``bayes_accuracy`` (the
    disagreement with the tensor rule) covers its error."""
    th = derive_committee(committee_model(3, "gaussian"))
    qd = 0.99
    oracle = bayes_error_three_independent_units(qd, panels=60)
    side = th.output_side(np.array([qd]), np.array([0.0]), exact_bayes=True, bayes_accuracy=True)
    tensor = th.output_side(np.array([qd]), np.array([0.0]))[4][0]
    located, est = side[4][0], side[6][0]
    assert abs(located - oracle) < 5e-7
    assert abs(located - oracle) < abs(tensor - oracle)
    assert abs(located - oracle) <= est <= 1e-5


def test_find_transitions_K3_binary_weights_first_order_to_perfect():
    """±1 weights at K = 3 through ``replica.solve.find_transitions`` (the path of ``replica
    transition committee-ising-bayes --set K=3``, K ≥ 3: ``specialized_transitions``): the
    informed start is perfect recovery, and the first-order point is where the unspecialized
    free entropy crosses the perfect state's −3 log 2 (checked on both sides of it), between
    the K = 2 value α ≈ 1.6 (α/K = 0.8, Aubin et al. 2018) and the large-K one α/K → 1.6176
    (``largek``) in α/K."""
    from replica.solve import find_transitions
    from replica.committee import solve_committee
    th = derive_committee(committee_model(3, "ising"))
    found = find_transitions(th, "alpha", (3.0, 4.5), {"K": 3}, kinds=["first_order"])
    assert [t["kind"] for t in found] == ["first_order"]
    fo = found[0]
    assert fo["to"] == "perfect" and fo["accuracy"] <= 1e-6
    assert 0.8 < fo["value"] / 3 < 1.6176
    s = solve_committee(th, [fo["value"] - 2e-4, fo["value"] + 2e-4], "unspecialized")
    assert s["free_entropy"][0] > -3 * np.log(2) > s["free_entropy"][1]
