"""Never a wrong number (issue 12, numerics): a point is converged only where the quadrature
resolves its integrands; the replicon keeps its sign; transitions are re-checked; custom
components are checked for positivity on their whole domain.  Oracles: the mpmath backend
(tanh-sinh at 20+ digits), closed forms, and published values (α_alg = 1.49263 of the
Bayes-optimal binary perceptron: Barbier et al. PNAS 2019, table of the README)."""
import math

import numpy as np
import pytest

import replica
from replica.solve import solve

ALPHA_ALG = 1.49263          # spinodal of the uninformed branch, ising-bayes at flip = 0
#: the uninformed points past the spinodal that 400-node Legendre took for fixed points
#: (q = 1 - 8e-6, q_hat = 20.7; the q_hat map is 401.3 there)
SPURIOUS = {"alpha": 1.5906090609060906, "flip": 0.0, "q": 0.9999918419072783, "q_hat": 20.744943724045164}
ISSUE_ALPHAS = [1.5906090609060906, 1.7403740374037404, 2.8314831483148315]


@pytest.fixture(scope="module")
def ising():
    th = replica.derive("ising-bayes")
    return th.compile(), th.compile("mpmath")


def test_adaptive_rule_resolves_the_q_to_1_feature(ising):
    """At q = 1 - 8e-6 the q_hat map has a feature of width √(1 - q) ≈ 3e-3 at ξ = 0: the
    feature-adapted rule gives mpmath's value to 1e-9, the fixed 400-node Legendre rule does not."""
    c, mp = ising
    ref = float(mp.evaluate(dps=20, want=["map_q_hat"], **SPURIOUS)["map_q_hat"])
    assert ref == pytest.approx(401.3, abs=0.05)                 # the issue's mpmath value
    got = float(c.evaluate(nodes=400, rule="adaptive", want=["map_q_hat"], **SPURIOUS)["map_q_hat"])
    assert got == pytest.approx(ref, rel=1e-9)
    fixed = float(c.evaluate(nodes=400, rule="legendre", want=["map_q_hat"], **SPURIOUS)["map_q_hat"])
    assert abs(fixed - ref) > 100                                 # what the check has to catch


def test_no_converged_uninformed_point_below_q_1_past_the_spinodal(ising):
    """From the uninformed start, past α_alg every point is the perfect end point (q = 1) or not
    converged — never a q < 1 "fixed point" of an unresolved quadrature (the issue's three α)."""
    c, _ = ising
    alphas = np.concatenate([ISSUE_ALPHAS, np.linspace(0.5, 3.0, 60)])
    s = solve(c, {"alpha": alphas, "flip": 0.0}, "uninformed")
    past = alphas > ALPHA_ALG
    assert not np.any(s.converged & past & (s["q"] < 1)), alphas[s.converged & past & (s["q"] < 1)]
    assert not np.any(s.converged[:3] & (s.branch[:3] != "perfect"))
    # below the spinodal the accepted points are fixed points of the exact maps (mpmath)
    before = np.flatnonzero(s.converged & (alphas < 1.4))
    assert before.size >= 15
    _, mp = ising
    for i in before[::12]:
        st = {"alpha": alphas[i], "flip": 0.0, "q": s["q"][i], "q_hat": s["q_hat"][i]}
        out = mp.evaluate(dps=20, want=["map_q", "map_q_hat"], **st)
        assert float(out["map_q"]) == pytest.approx(st["q"], abs=1e-9)
        assert float(out["map_q_hat"]) == pytest.approx(st["q_hat"], rel=1e-9)


def test_check_reports_the_refined_residual(ising):
    """A point the check refuses is reported with the residual under the refined rule (large),
    not the residual of the rule it converged with (7e-15 in the issue)."""
    c, _ = ising
    start = {"q": SPURIOUS["q"], "q_hat": SPURIOUS["q_hat"]}
    s = solve(c, {"alpha": SPURIOUS["alpha"], "flip": 0.0}, start, rule="legendre", local=True)
    unchecked = solve(c, {"alpha": SPURIOUS["alpha"], "flip": 0.0}, start, rule="legendre", local=True, check=False)
    assert bool(unchecked.converged) and float(unchecked.residual) < 1e-10     # the bug, without the check
    assert not bool(s.converged)
    assert float(s.residual) > 1.0
    assert np.isnan(s["q"]) and np.isnan(s["free_entropy"])
