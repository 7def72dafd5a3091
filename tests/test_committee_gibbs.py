"""Gibbs learning of committee machines (replica.committee.gibbs): the K = 1 identity with the
perceptron's Gibbs learning, the T = 0 identity with the Bayes-optimal committee (a version-space
sample of a noiseless teacher with the teacher's prior is a posterior sample), the derived
entropic term against the matrix form, the command line."""
import json

import numpy as np
import pytest

from oracles.classification import spherical_gibbs
from oracles.committee_gibbs import entropic_term


@pytest.fixture(scope="module")
def gibbs1():
    from replica.committee.gibbs import committee_gibbs, derive_gibbs_committee
    return derive_gibbs_committee(committee_gibbs(1))


@pytest.mark.parametrize("alpha", [1.0])
def test_k1_is_the_perceptron_gibbs_learning(gibbs1, alpha):
    """K = 1 with Gaussian weights = the spherical perceptron at temperature T (the sign rule is
    scale invariant: Q = 1 at the saddle): m, q, Φ and ε_g = arccos(m)/π against the oracle."""
    from replica.committee.gibbs import solve_gibbs_committee
    ref = spherical_gibbs(alpha, 0.5)
    s = solve_gibbs_committee(gibbs1, [alpha], [0.5], tol=1e-11)
    assert s["converged"][0]
    assert abs(s["Q_diag"][0] - 1.0) < 1e-8
    assert abs(s["m_diag"][0] - ref["m"]) < 1e-8
    assert abs(s["q_diag"][0] - ref["q"]) < 1e-8
    assert abs(s["free_entropy"][0] - ref["free_entropy"]) < 1e-8
    assert abs(s["generalization_error"][0] - ref["eps"]) < 1e-8


def test_k1_matches_replicas_perceptron_gibbs(gibbs1, theories):
    """The same identity with replica's own ``perceptron-gibbs`` (spherical prior)."""
    from replica.committee.gibbs import solve_gibbs_committee
    from replica.solve import solve
    _, comp = theories("perceptron-gibbs")
    ref = solve(comp, {"alpha": [1.0], "T": 0.5})
    s = solve_gibbs_committee(gibbs1, [1.0], [0.5], tol=1e-11)
    assert abs(s["m_diag"][0] - ref.values["m"][0]) < 1e-8
    assert abs(s["q_diag"][0] - ref.values["q"][0]) < 1e-8
    assert abs(s["generalization_error"][0] - ref.outputs["generalization_error"][0]) < 1e-8


def test_entropic_term_is_the_matrix_form(gibbs1):
    """The conjugates eliminated by SymPy on the eigen-directions = the matrix form of the oracle,
    at K = 3 and random ansatz points."""
    th = gibbs1.at_point(K=3)
    rng = np.random.default_rng(0)
    K = 3
    J = np.ones((K, K)) / K
    for _ in range(3):
        Qp, Ql = 1 + 0.2 * rng.random(2)
        qp, ql = 0.4 * rng.random(2)
        mp, ml = 0.5 * np.sqrt(qp), 0.5 * np.sqrt(ql)
        mat = lambda p, l: p * (np.eye(K) - J) + l * J  # noqa: E731
        x = np.array([[Qp, Ql, qp, ql, mp, ml]])
        assert abs(th.entropic_value(x)[0] - entropic_term(mat(Qp, Ql), mat(qp, ql), mat(mp, ml))) < 1e-12


def test_k3_version_space_is_the_bayes_committee(gibbs1, theories):
    """T = 0 (the version space of the noiseless sign committee, K = 3, Gaussian weights) samples
    the Bayes posterior: q = m (Nishimori) and q and the Gibbs error equal those of the
    Bayes-optimal committee's unspecialized fixed point (an independent code path: the
    Nishimori-line equations of ``committee-bayes``)."""
    from replica.committee.gibbs import solve_gibbs_committee
    from replica.solve import solve
    th = gibbs1.at_point(K=3)
    s = solve_gibbs_committee(th, [1.0], [0.0], tol=1e-10)
    bayes, _ = theories("committee-bayes")
    ref = solve(bayes.at_point(K=3), {"alpha": [1.0], "K": 3}, "unspecialized")
    assert s["converged"][0] and ref.converged[0]
    assert abs(s["q_diag"][0] - s["m_diag"][0]) < 1e-8
    assert abs(s["q_diag"][0] - ref.outputs["q_diag"][0]) < 1e-7
    assert abs(s["generalization_error"][0] - ref.outputs["gibbs_error"][0]) < 1e-7
    assert s["training_error"][0] < 1e-12          # the version space: no training error
    assert abs(s["Q_diag"][0] - 1.0) < 1e-8


def test_cli_rejects_k_beyond_the_numerics():
    """``--set K=4``: exit code 2, one error line, before any derivation."""
    from click.testing import CliRunner
    from replica.cli import main
    r = CliRunner().invoke(main, ["solve", "committee-gibbs", "--set", "K=4", "--json"])
    assert r.exit_code == 2
    assert "error" in json.loads(r.stdout)


def test_erm_on_a_committee_is_refused_with_the_reason():
    import replica
    from replica import learning, losses
    from replica.committee.gibbs import committee_gibbs
    from replica.symbolic.derive import DerivationError
    m = committee_gibbs(3)
    erm = replica.Model(prior=m.prior, teacher=m.teacher, learning=learning.ERM(losses.Hinge(), ridge="lam"),
                        hidden_units=3, name="committee-erm", defaults={"alpha": 1.0, "K": 3, "lam": 0.1})
    with pytest.raises(DerivationError, match="ERM is not derived"):
        replica.derive(erm)
