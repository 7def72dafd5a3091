"""Committee machines (issue 6): K = 1 reduces to the perceptron, orthant probabilities against
mpmath, observables against Monte Carlo, stationarity of the free entropy, the K = 2
transitions of Aubin, Maillard, Barbier, Krzakala, Macris & Zdeborová (NeurIPS 2018,
arXiv:1806.05451; VALIDATION.md "Committee machines"), and the public paths: the built-ins
``committee-bayes`` / ``committee-ising-bayes``, ``replica.derive``, ``replica.solve`` and the
command line."""
import json

import numpy as np
import pytest
import sympy as sp

import replica
from replica._component import ComponentError
from replica.committee import (committee_model, committee_transitions, derive_committee,
                               hidden_fields, solve_committee)
from replica.committee.ansatz import K_SYMBOL, PermSym
from replica.committee.orthant import orthant, orthant_grad
from replica.committee.solve import specialized_transitions
from replica.solve import solve

from inprocess import replica as replica_in_process
from oracles.committee import (bayes_error_mc, bayes_error_two_independent_units, bvn_orthant_mp,
                               gibbs_error_mc, quadratic_error_mc)


@pytest.fixture(scope="session")
def theories():
    cache = {}

    def get(K, prior, output="sign"):
        key = (K, prior, str(output))
        if key not in cache:
            cache[key] = derive_committee(committee_model(K, prior, output))
        return cache[key]
    return get


# -- K = 1 is the perceptron ---------------------------------------------------------------

@pytest.mark.parametrize("prior, name", [("gaussian", "perceptron-bayes"), ("ising", "ising-bayes")])
def test_one_unit_is_the_perceptron(theories, prior, name):
    alpha = np.array([0.3, 0.8, 1.2])
    ref = solve(replica.derive(name).compile(), {"alpha": alpha, "flip": 0.0})
    com = solve_committee(theories(1, prior), alpha, "uninformed")
    assert com.converged.all() and np.all(ref.converged)
    np.testing.assert_allclose(com["q_a"], ref["q"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(com["q_hat_a"], ref["q_hat"], rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(com["free_entropy"], ref["free_entropy"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(com["mse"], ref["mse"], rtol=0, atol=1e-8)
    # the Bayes-optimal estimator's error is the perceptron built-ins' generalization_error,
    # arccos(√q)/π; a posterior sample's error is arccos(q)/π (closed forms of the K = 1 orthant)
    np.testing.assert_allclose(com["generalization_error"], ref["generalization_error"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(com["generalization_error"], np.arccos(np.sqrt(com["q_a"])) / np.pi, atol=1e-9)
    np.testing.assert_allclose(com["gibbs_error"], np.arccos(com["q_a"]) / np.pi, atol=1e-9)


def test_ising_one_unit_perfect_recovery(theories):
    """Past the spinodal of the binary perceptron (α ≈ 1.493, Györgyi 1990) the uninformed start
    reaches q = 1 with free entropy −log 2."""
    s = solve_committee(theories(1, "ising"), [1.7])
    assert s.branch[0] == "perfect"
    assert s["free_entropy"][0] == pytest.approx(-np.log(2), abs=1e-12)


# -- pieces ----------------------------------------------------------------------------------

def test_coupling_for_general_K():
    """−½ Tr(r̂ q) of the ansatz equals the explicit matrix trace for K = 2, 3, 4."""
    a, b, c, d = sp.symbols("a b c d")
    gen = -(PermSym(c, d) * PermSym(a, b)).trace() / 2
    for K in (2, 3, 4):
        M = -(PermSym(c, d, K).matrix() * PermSym(a, b, K).matrix()).trace() / 2
        assert sp.simplify(gen.subs(K_SYMBOL, K) - M) == 0


@pytest.mark.parametrize("mu, S", [((0.3, -0.4), ((1.0, -0.3), (-0.3, 0.8))),
                                   ((0.0, 0.0), ((0.7, 0.2), (0.2, 0.5))),
                                   ((-1.5, 2.0), ((0.4, -0.35), (-0.35, 0.4)))])
def test_bivariate_orthant_against_mpmath(mu, S):
    mu, S = np.array(mu), np.array(S)
    ref = bvn_orthant_mp(mu[0], mu[1], S[0, 0], S[1, 1], S[0, 1])
    assert float(orthant(mu, S)) == pytest.approx(ref, abs=1e-12)


def test_trivariate_orthant_gradient_is_derivative():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3, 3))
    S, mu = A @ A.T + 0.5 * np.eye(3), rng.normal(size=3)
    g = orthant_grad(mu, S)
    for k in range(3):
        e = 1e-5 * np.eye(3)[k]
        assert g[k] == pytest.approx((orthant(mu + e, S) - orthant(mu - e, S)) / 2e-5, abs=1e-8)
    # zero mean, equicorrelation r: P = 1/8 + 3 arcsin(r)/(4π) (Sheppard)
    r = 0.3
    S3 = (1 - r) * np.eye(3) + r
    assert float(orthant(np.zeros(3), S3)) == pytest.approx(1 / 8 + 3 * np.arcsin(r) / (4 * np.pi), abs=1e-10)


# -- K = 2 ------------------------------------------------------------------------------------

def _phi_gradient(th, alpha, s, keys=("q_d", "q_a", "q_hat_d", "q_hat_a"), h=1e-5):
    """Central finite differences of Φ at the first point of the solution ``s``, per key."""
    x0 = {k: s[k][0] for k in ("q_d", "q_a", "q_hat_d", "q_hat_a")}
    out = {}
    for k in keys:
        up, dn = dict(x0), dict(x0)
        up[k] += h
        dn[k] -= h
        out[k] = float((th.evaluate(alpha=alpha, want=["free_entropy"], **up)["free_entropy"]
                        - th.evaluate(alpha=alpha, want=["free_entropy"], **dn)["free_entropy"]) / (2 * h))
    return out


def test_free_entropy_is_stationary(theories):
    """The saddle point of the specialized K = 2 branch is a stationary point of Φ(q, r̂) (the
    output side's Nishimori form E[g gᵀ] and the derivative of Ψ_out agree up to the
    quadrature's error)."""
    th = theories(2, "gaussian")
    s = solve_committee(th, [3.0], "uninformed")
    assert s.converged[0] and s["q_d"][0] > 0.1
    for k, d in _phi_gradient(th, 3.0, s).items():
        assert abs(d) < 2e-6, k


def test_generalization_error_against_monte_carlo(theories):
    th = theories(2, "gaussian")
    s = solve_committee(th, [3.0], "uninformed")
    q = s["q_d"][0] * np.eye(2) + s["q_a"][0] / 2 * np.ones((2, 2))
    mc, se = gibbs_error_mc(q)
    assert s["gibbs_error"][0] == pytest.approx(mc, abs=5 * se)
    mc, se = bayes_error_mc(q)
    assert s["generalization_error"][0] == pytest.approx(mc, abs=5 * se)


def test_binary_K2_against_the_authors_state_evolution(theories):
    """The state evolution of Aubin et al.'s own code (github.com/benjaminaubin/TheCommitteeMachine,
    ``Demo_K=2.ipynb``, output of ``run_SE`` and ``run_gen_error_SE``: K = 2, binary weights,
    sign-sign channel, α = 1.8): q = [[0.45836988, 0.24338854], [0.24338854, 0.45836988]] and
    gen_err = 0.1349695.  Their SE stops at a change of 1e-5 (nested scipy quadrature, from a
    stored fixed point) and their error is a 10⁶-sample Monte Carlo (standard error ≈ 3e-4).
    The uninformed start (AMP's) reaches the same partially specialized fixed point; its
    ``quadratic_error`` is their generalization error, and agrees with our own Monte Carlo."""
    s = solve_committee(theories(2, "ising"), [1.8], "uninformed")
    assert s.converged[0]
    assert s["q_diag"][0] == pytest.approx(0.45836988, abs=5e-4)
    assert s["q_off"][0] == pytest.approx(0.24338854, abs=5e-4)
    assert s["quadratic_error"][0] == pytest.approx(0.1349695, abs=1e-3)
    q = s["q_d"][0] * np.eye(2) + s["q_a"][0] / 2 * np.ones((2, 2))
    mc, se = quadratic_error_mc(q)
    assert s["quadratic_error"][0] == pytest.approx(mc, abs=5 * se)


@pytest.mark.parametrize("prior, alphas", [("gaussian", (0.5, 1.5, 2.5, 3.5)), ("ising", (1.0, 1.8))])
def test_generalization_error_curves_K2_against_monte_carlo(theories, prior, alphas):
    """The K = 2 generalization-error curves of Aubin et al. 2018 (Fig. 2; the figure gives no
    table) on both sides of the specialization transition, from AMP's (uninformed) start: the
    quadratic error at each α against a Monte Carlo of teacher and posterior-sample labels at the
    solved overlap (independent of the quadrature), and decreasing along the curve."""
    s = solve_committee(theories(2, prior), list(alphas), "uninformed")
    assert s.converged.all()
    for i in range(len(alphas)):
        q = s["q_d"][i] * np.eye(2) + s["q_a"][i] / 2 * np.ones((2, 2))
        mc, se = quadratic_error_mc(q, n=1_000_000, seed=10 + i)
        assert s["quadratic_error"][i] == pytest.approx(mc, abs=5 * se + 1e-6)
    assert np.all(np.diff(s["quadratic_error"]) < 0)


@pytest.mark.parametrize("qd", [0.2, 0.9])
def test_bayes_error_locates_the_kinks_of_the_max(qd):
    """1 − E max_y Z_out has kinks where two labels tie; at q = q_d I (independent units) it
    agrees with the oracle's Richardson-extrapolated midpoint rule, on the product-rule region
    (q_d = 0.2) and on the slab rule's (q_d = 0.9)."""
    th = replica.derive("committee-bayes")
    e = th.evaluate(alpha=1.0, q_d=qd, q_a=0.0, q_hat_d=0.0, q_hat_a=0.0, want=["generalization_error"])
    assert float(e["generalization_error"]) == pytest.approx(bayes_error_two_independent_units(qd), abs=5e-6)


def test_specialization_threshold_K2_gaussian(theories):
    """Aubin et al. 2018 (Fig. 2, left; VALIDATION.md): continuous specialization at α ≃ 2."""
    tr = committee_transitions(theories(2, "gaussian"), 1.5, 2.5, num=3)
    spec = [t for t in tr if t["kind"] == "specialization"]
    assert len(spec) == 1
    assert spec[0]["value"] == pytest.approx(2.0, abs=0.1)
    below = solve_committee(theories(2, "gaussian"), [1.5, spec[0]["value"] + 0.3], "uninformed")
    assert below["q_d"][0] < 1e-8 < 1e-2 < below["q_d"][1]


def test_first_order_K2_binary(theories):
    """Aubin et al. 2018 (Fig. 2, right; VALIDATION.md): binary weights, first-order transition
    to perfect generalization at α ≈ 1.6 — where the unspecialized free entropy meets the
    perfect state's −2 log 2 (``specialized_transitions``: the informed start is perfect
    recovery; the point carries its accuracy)."""
    th = theories(2, "ising")
    fo = [t for t in specialized_transitions(th, 1.2, 2.0, num=0) if t["kind"] == "first_order"]
    assert len(fo) == 1 and fo[0]["to"] == "perfect" and fo[0]["accuracy"] <= 1e-6
    assert fo[0]["value"] == pytest.approx(1.6, abs=0.1)
    # the unspecialized free entropy crosses −2 log 2 there (within brentq's xtol = 1e-4)
    s = solve_committee(th, [fo[0]["value"] - 2e-4, fo[0]["value"] + 2e-4], "unspecialized")
    assert s["free_entropy"][0] > -2 * np.log(2) > s["free_entropy"][1]


def test_unspecialized_generalization_error_decreases(theories):
    s = solve_committee(theories(2, "gaussian"), np.linspace(0.0, 3.0, 7), "unspecialized")
    e, g = s["generalization_error"], s["gibbs_error"]
    assert s.converged.all()
    # α = 0: P(y) = (1/4, 1/2, 1/4).  Two independent committees disagree with probability
    # 1 − 3/8; the Bayes estimator answers 0 and errs with probability 1/2
    assert g[0] == pytest.approx(0.625, abs=1e-12)
    assert e[0] == pytest.approx(0.5, abs=1e-12)
    assert np.all(np.diff(e) < 0) and np.all(np.diff(g) < 0)
    # the Bayes estimator is optimal, and a posterior sample errs at most twice as often
    assert np.all(e <= g) and np.all(g <= 2 * e)


# -- K = 3, custom rules, bad input -----------------------------------------------------------

def test_K3_unspecialized_runs_and_keeps_symmetry(theories):
    s = solve_committee(theories(3, "gaussian"), [1.0, 2.0], "unspecialized")
    assert s.converged.all() and np.all(s["q_d"] == 0)
    q = s["q_a"][1] / 3 * np.ones((3, 3))
    mc, se = gibbs_error_mc(q, n=1_000_000)
    assert s["gibbs_error"][1] == pytest.approx(mc, abs=5 * se)


def test_parity_machine_custom_rule(theories):
    """A custom output rule (the parity machine Π sign h_k, written as an expression) derives
    and solves with no other code; at α = 0 two independent parity labels differ with
    probability ½."""
    h = hidden_fields(2)
    th = derive_committee(committee_model(2, "gaussian", sp.sign(h[0]) * sp.sign(h[1])))
    assert th._rule.outputs == (-1, 1)
    s = solve_committee(th, [0.0, 1.0], "uninformed")
    assert s.converged.all()
    assert s["gibbs_error"][0] == pytest.approx(0.5, abs=1e-12)
    assert s["generalization_error"][0] == pytest.approx(0.5, abs=1e-12)


def test_bad_input():
    with pytest.raises(ComponentError):
        committee_model(0)
    h = hidden_fields(2)
    with pytest.raises(ComponentError):
        committee_model(2, "gaussian", h[0] + h[1])       # not a sign rule (yet)
    with pytest.raises(ComponentError):
        committee_model(2, "gaussian", sp.sign(sp.Symbol("x")))
    with pytest.raises(replica.ParameterError):
        solve_committee(derive_committee(committee_model(1)), [-1.0])


# -- near perfect recovery: the slab rule ----------------------------------------------------

@pytest.mark.parametrize("name, alpha", [("committee-ising-bayes", 1.95), ("committee-bayes", 8.0)])
def test_free_entropy_is_stationary_near_recovery(name, alpha):
    """Specialized fixed points with a nearly determined teacher field (Gaussian weights at
    α = 8: q_d ≈ 0.96, V ≈ 0.03) are stationary points of Φ: the slab rule in ω integrates
    the output side where Gauss–Hermite in ξ misses the layers at ω_k = 0."""
    th = replica.derive(name)
    s = solve_committee(th, [alpha], "uninformed")
    assert s.converged[0] and s.branch[0] == "uninformed" and s["q_d"][0] > 0.4
    for k, d in _phi_gradient(th, alpha, s).items():
        assert abs(d) < 5e-6, k


def test_binary_K2_reaches_perfect_recovery():
    """Aubin et al. 2018 (VALIDATION.md): for binary weights at K = 2 the state evolution of AMP
    (the uninformed start) recovers the teacher perfectly from α ≈ 2; below the specialization
    it stays unspecialized."""
    th = replica.derive("committee-ising-bayes")
    s = solve_committee(th, [1.5, 2.2, 2.5], "uninformed")
    assert s.converged.all()
    assert s.branch.tolist() == ["uninformed", "perfect", "perfect"]
    assert s["q_d"][0] == 0.0
    assert s["free_entropy"][1] == pytest.approx(-2 * np.log(2), abs=1e-12)
    spin = [t for t in committee_transitions(th, 1.9, 2.05, num=2) if t["kind"] == "spinodal"]
    assert len(spin) == 1 and spin[0]["to"] == "perfect"
    assert spin[0]["value"] == pytest.approx(2.0, abs=0.1)


def test_informed_start_finds_the_specialized_branch():
    """From q = ρ(1 − 1e-4) I the Gaussian K = 2 state evolution returns to the specialized
    fixed point of the uninformed start (one stable fixed point above α_c ≃ 2)."""
    th = replica.derive("committee-bayes")
    a = solve_committee(th, [3.0, 6.0], "uninformed")
    b = solve_committee(th, [3.0, 6.0], "informed")
    assert a.converged.all() and b.converged.all()
    np.testing.assert_allclose(b["q_d"], a["q_d"], atol=1e-8)
    assert np.all(a["q_d"] > 0.4)


# -- the public paths ------------------------------------------------------------------------

def test_builtins_and_parameter_K():
    from replica.builtin import BUILTINS
    from replica.committee import CommitteeTheory
    for name in ("committee-bayes", "committee-ising-bayes"):
        m = replica.load_model(name)
        assert m.parameter_names() == ["alpha", "K"] and m.defaults["K"] == 2 and m.hidden_units == 2
        assert BUILTINS[name].committee
        assert isinstance(replica.derive(m), CommitteeTheory)
    dom = dict(zip(m.parameter_names(), m.parameters.values()))["K"]
    assert 3 in dom and 2.5 not in dom and 0 not in dom
    with pytest.raises(replica.ParameterError):
        m.check({"K": 1.5})


def test_solve_through_replica_solve_broadcasts_K():
    """``replica.solve.solve`` on the committee theory: K is an array parameter (points grouped
    by K); the K = 1 row is the Bayes-optimal perceptron."""
    from replica.solve import solve_branches
    c = replica.derive("committee-bayes").compile()
    alpha = np.array([0.5, 1.0])
    s = solve(c, {"alpha": alpha[None, :], "K": np.array([[1], [2]])})
    assert s.shape == (2, 2) and s.converged.all()
    ref = solve(replica.derive("perceptron-bayes").compile(), {"alpha": alpha, "flip": 0.0})
    np.testing.assert_allclose(s["q_a"][0], ref["q"], atol=1e-8)
    np.testing.assert_allclose(s["generalization_error"][0], ref["generalization_error"], atol=1e-9)
    b = solve_branches(c, {"alpha": np.array([1.0, 3.0]), "K": 2})
    eq = b.equilibrium_solution()
    assert eq["q_d"][0] == 0.0 and eq["q_d"][1] > 0.4       # specialized above α_c ≃ 2 only


def _cli(*args):
    return replica_in_process(*args)


def test_cli_list_solve_transition_derive():
    r = _cli("list", "--json")
    assert r.returncode == 0, r.stderr
    models = {m["name"]: m for m in json.loads(r.stdout)["models"]}
    for name in ("committee-bayes", "committee-ising-bayes"):
        p = models[name]["parameters"]
        assert list(p) == ["alpha", "K"] and p["K"]["default"] == 2.0 and p["K"]["domain"] == "{1, 2, 3, ...}"
    r = _cli("solve", "committee-bayes", "--set", "K=2", "--sweep", "alpha=1:3:5", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "committee-bayes" and doc["parameters"] == {"K": 2.0}
    eq = [p for p in doc["points"] if p["equilibrium"]]
    assert [p["alpha"] for p in eq] == [1.0, 1.5, 2.0, 2.5, 3.0]
    for p in eq:
        assert p["converged"] and p["K"] == 2.0
        assert {"branch", "q_d", "q_a", "q_hat_d", "q_hat_a", "free_entropy", "residual", "mse",
                "generalization_error", "gibbs_error"} <= set(p)
    # unspecialized below α_c ≃ 2 (Aubin et al. 2018), specialized above
    assert [p["q_d"] > 1e-3 for p in eq] == [False, False, False, True, True]
    r = _cli("transition", "committee-bayes", "--along", "alpha", "--set", "K=2", "--range", "1.5:2.5", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "committee-bayes" and doc["parameter"] == "alpha"
    assert [t["kind"] for t in doc["transitions"]] == ["specialization"]
    assert doc["transitions"][0]["value"] == pytest.approx(2.0, abs=0.1)
    r = _cli("derive", "committee-ising-bayes")
    assert r.returncode == 0, r.stderr
    assert "Psi_out(q_d, q_a)" in r.stdout and "q_hat_d" in r.stdout
    r = _cli("solve", "committee-bayes", "--set", "K=2.5")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "'K'" in r.stderr


# -- the soft committee: y = Σ_k erf(h_k/√2) + √Δ η ---------------------------------------

def test_soft_committee_one_unit_against_the_glm_oracle():
    """K = 1: the Bayes-optimal GLM with channel N(y; erf(z/√2), Δ).  The perceptron engine
    refuses this model (``channels.Custom`` with continuous labels and a non-linear f raises
    LoweringError: no closed form), so the reference is the oracle's direct quadrature of the
    textbook K = 1 equations."""
    from oracles.committee import soft_unit_bayes_fixed_point
    from replica.committee.models import soft_committee_model
    th = derive_committee(soft_committee_model(1)).at_point(delta=0.05)
    s = solve_committee(th, [0.5, 1.5], "uninformed")
    assert s.converged.all()
    for i, a in enumerate((0.5, 1.5)):
        q, qh, phi = soft_unit_bayes_fixed_point(a, 0.05)
        assert s["q_a"][i] == pytest.approx(q, abs=1e-5)
        assert s["q_hat_a"][i] == pytest.approx(qh, rel=1e-4)
        assert s["free_entropy"][i] == pytest.approx(phi, abs=1e-5)


def test_soft_committee_K2_unspecialized_is_stationary():
    """K = 2, Δ = 0.01: the unspecialized fixed point (q_d = 0) is a stationary point of Φ in
    the directions q_a, q̂_d, q̂_a (central finite differences), and the built-in's parameters
    are those of DESIGN.md."""
    m = replica.load_model("soft-committee-bayes")
    assert set(m.parameter_names()) == {"alpha", "K", "delta"}
    th = replica.derive(m).at_point(delta=0.01)
    s = solve_committee(th, [1.0], "unspecialized")
    assert s.converged[0] and s["q_d"][0] == 0.0 and 0.5 < s["q_a"][0] < 1
    for k, d in _phi_gradient(th, 1.0, s, keys=("q_a", "q_hat_d", "q_hat_a")).items():
        assert abs(d) < 1e-5, k


def test_soft_committee_cli_specializes():
    """The command line of DESIGN.md; K = 2 at small noise: unspecialized at small α, and a
    specialized equilibrium (q_d > 0) at α = 3 — the specialization of Aubin et al. (2018)
    seen qualitatively (no published number for this normalization)."""
    r = _cli("solve", "soft-committee-bayes", "--set", "K=2", "--set", "delta=0.01", "--sweep", "alpha=0.5:3:2",
             "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "soft-committee-bayes" and doc["parameters"] == {"K": 2.0, "delta": 0.01}
    eq = [p for p in doc["points"] if p["equilibrium"]]
    assert [p["alpha"] for p in eq] == [0.5, 3.0] and all(p["converged"] for p in eq)
    assert eq[0]["q_d"] == 0.0 and eq[1]["q_d"] > 0.5
    assert eq[0]["generalization_error"] > eq[1]["generalization_error"]
