"""The derived equations alone reproduce published values (Done-when of the symbolic-engine issue).

Each value is checked against the paper's number and against an independent oracle in
tests/oracles (hand-written from the literature with mpmath / scipy)."""
import math

import numpy as np
import pytest
import scipy.optimize as so

import replica
from replica.solve import solve
from replica import channels, learning, losses, priors
from conftest import fixed_point
from oracles import classification as oc
from oracles import regression as orr


def _capacity(compiled, init, **params):
    def phi0(a):
        _, res = fixed_point(compiled, {"alpha": a, **params}, init)
        return float(res["free_entropy"])
    return so.brentq(phi0, 0.05, 5.0, xtol=1e-14)


# Gardner 1988, J. Phys. A 21, 257: α_c(κ) = 1/[(1+κ²)H(-κ) + κN(κ)]
@pytest.mark.parametrize("kappa, published", [(0.0, 2.0), (0.5, 0.96120505), (1.0, 0.51957223)])
def test_gardner_capacity(theories, kappa, published):
    th, _ = theories("gardner")
    cap = th.capacity.compile()
    a = _capacity(cap, {"q_hat": 1.0}, kappa=kappa)
    assert a == pytest.approx(float(oc.gardner_alpha_c(kappa)), abs=1e-9)
    assert a == pytest.approx(published, abs=1e-8)


def test_ising_storage_capacity_entropy_zero(theories):
    """Krauth & Mézard 1989 (J. Phys. France 50, 3057): RS entropy of ±1 weights vanishes at 0.833
    (0.8330786 to more digits, Ding & Sun 2019)."""
    th, c = theories("ising-storage")

    def entropy(a):
        _, res = fixed_point(c, {"alpha": a, "kappa": 0.0}, {"Q": 1.0, "q": 0.3, "Q_hat": 0.0, "q_hat": 0.3})
        return float(res["entropy"])
    a = so.brentq(entropy, 0.6, 0.95, xtol=1e-12)
    assert a == pytest.approx(0.833, abs=5e-4)
    assert a == pytest.approx(oc.ising_storage_entropy_zero_alpha(0.0), abs=1e-7)


def test_ising_storage_rs_q_to_one(theories):
    """Gardner & Derrida 1988 (J. Phys. A 21, 271): the RS q -> 1 point of ±1 weights is 4/π."""
    th, _ = theories("ising-storage")
    a = _capacity(th.capacity.compile(), {"Q": 1.0, "chi_hat": 1.0, "q_hat": 1.0}, kappa=0.0)
    assert a == pytest.approx(4 / math.pi, abs=1e-9)
    a = _capacity(th.capacity.compile(), {"Q": 1.0, "chi_hat": 1.0, "q_hat": 1.0}, kappa=0.5)
    assert a == pytest.approx(float(oc.ising_storage_q1_alpha(0.5)), abs=1e-8)


@pytest.fixture(scope="session")
def version_space():
    m = replica.Model(priors.Spherical(), channels.Sign(), learning.Gibbs(0, losses.Errors()))
    th = replica.derive(m)
    return th, th.compile()


def test_version_space_learning_curve(version_space):
    """Györgyi & Tishby 1990; Engel & Van den Broeck 2001 ch. 2:
    R/√(1-R) = (α/π)∫Dt e^{-Rt²/2}/H(-√R t), ε = arccos(R)/π; α ε -> 0.62465819."""
    th, c = version_space
    state = {"q": 0.5, "m": 0.5, "q_hat": 1.0, "m_hat": 1.0}
    eps = {}
    # plain Gauss-Hermite resolves the ξ-integrals of width √(1-q) to 1e-8 up to α = 5 with
    # 250 nodes; beyond, the composite Gauss-Legendre rule resolves them (α = 30: 1 - q ≈ 0.004)
    for a, tol, quad in ((1.0, 1e-9, {}), (2.0, 1e-9, {}), (5.0, 1e-8, {}),
                         (10.0, 1e-9, {"rule": "legendre", "nodes": 1600}),
                         (30.0, 1e-8, {"rule": "legendre", "nodes": 1600})):
        # the vectorized solver (Newton near the fixed point; the damped plain iteration of
        # ``fixed_point`` took 80 s here), continued from the previous α
        sol = solve(c, {"alpha": a}, init=state, nodes=quad.get("nodes", 250), rule=quad.get("rule", "hermite"),
                    tol=1e-12)
        assert bool(np.all(sol.converged))
        state = {k: float(sol[k]) for k in state}
        ref = oc.spherical_gibbs_T0(a)
        assert state["m"] == pytest.approx(float(ref["R"]), abs=tol)
        assert float(sol["generalization_error"]) == pytest.approx(float(ref["eps"]), abs=tol)
        eps[a] = float(sol["generalization_error"])
    # approaching the asymptote 0.62465819/α from below
    assert 0.59 < 5 * eps[5.0] < 10 * eps[10.0] < 30 * eps[30.0] < 0.62465819
    assert 30 * eps[30.0] == pytest.approx(0.62465819, abs=2e-3)


def test_linear_bayes_mmse(theories):
    """Gaussian prior, linear channel, Bayes-optimal: mmse = √2 - 1 at α = 2, Δ = 1 (closed form)."""
    th, c = theories("linear-bayes")
    for a, d in ((2.0, 1.0), (0.5, 0.1), (3.0, 0.3)):
        state, res = fixed_point(c, {"alpha": a, "delta": d}, {"q": 0.0, "q_hat": 0.0})
        assert float(res["mse"]) == pytest.approx(orr.linear_bayes(a, d)["mmse"], abs=1e-10)
    state, res = fixed_point(c, {"alpha": 2.0, "delta": 1.0}, {"q": 0.0, "q_hat": 0.0})
    assert float(res["mse"]) == pytest.approx(math.sqrt(2) - 1, abs=1e-12)
