"""The layer rule of committee machines near q → ρI (``replica.committee.layers``, issue 16): the
outer expectation cut by the set of units inside their layers |ω_k| < 8√V_kk, conditional
orthant probabilities (a common shift) for the others.

Checked against the closed-form error of a posterior sample when q = q_d I (units independent:
Sheppard's formula per unit, ``oracles.committee.gibbs_error_independent_units``) at K = 2, 3,
down to V = 1e-4 where the product rule resolves nothing; against the K = 2 slab rule (a tensor
rule graded towards every hyperplane, no decomposition) for every output-side quantity with
q_a ≠ 0 (imaginary shifts); the accuracy estimate's higher order against the default; and
the refusal (NaN) where the conditional probabilities are not resolved.  (Also measured, not
a test — 5 minutes of Genz: at K = 3, (q_d, q_a) = (0.9, 0.02) the six-dimensional orthant sum
``P(f(z) ≠ f(z'))`` gives 0.17850542, the layer rule 0.17850539.)"""
import numpy as np
import pytest

from replica.committee import committee_model
from replica.committee import derive as D
from replica.committee.layers import layer_rule
from replica.committee.quadrature import slab_rule

from oracles.committee import gibbs_error_independent_units


@pytest.fixture(scope="session")
def rules():
    return {K: committee_model(K, "gaussian").teacher for K in (2, 3)}


def _outputs(rule, K, qd, qa, refined=False):
    rho = 1.0
    om, w = layer_rule(K, rho, qd, qa, rule.permutation_symmetric, refined, rule.flip_symmetric)
    V = (rho - qd) * np.eye(K) - qa / K * np.ones((K, K))
    return np.asarray(D._integrate(rule, K, om[None], V[None], w[None], 32, refined))[:, 0]


@pytest.mark.parametrize("K, qd", [(2, 0.99), (3, 0.9), (3, 0.9999)])
def test_gibbs_error_against_independent_units(rules, K, qd):
    """1 − E Σ_y Z_out² on the layer rule equals P(f(z) ≠ f(z')) in closed form (q = q_d I)."""
    got = _outputs(rules[K], K, qd, 0.0)[3]
    assert got == pytest.approx(gibbs_error_independent_units(qd, K), abs=1e-8)


@pytest.mark.parametrize("qd, qa", [(0.9, 0.02), (0.9999, -5e-5)])
def test_layer_rule_equals_slab_rule_at_two_units(rules, qd, qa):
    """Every output-side quantity (G_d, G_a, Ψ_out, Gibbs, quadratic error) of the layer rule at
    its higher order against the K = 2 slab rule at 8 nodes per panel to 1e-8 relative (the
    Bayes error, a max with kinks, is not smooth: 1e-5); the default order within 2e-6."""
    rule = rules[2]
    ref = _outputs(rule, 2, qd, qa, refined=True)
    base = _outputs(rule, 2, qd, qa)
    V = (1 - qd) * np.eye(2) - qa / 2 * np.ones((2, 2))
    c = np.array([min(D.SLAB_WIDTH * np.sqrt(1 - qd - qa / 2), 0.999 * 8.5 * np.sqrt(qd + qa / 2))])
    om, w = slab_rule(2, c, 8.5 * np.sqrt(np.array([qd + qa / 2])), np.array([qd]), np.array([qa]), True, True, 8)
    slab = np.asarray(D._integrate(rule, 2, om, V[None], w, 32))[:, 0]
    smooth = [0, 1, 2, 3, 5]
    np.testing.assert_allclose(ref[smooth], slab[smooth], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ref[4], slab[4], atol=1e-5)
    np.testing.assert_allclose(base[smooth], ref[smooth], rtol=2e-6, atol=1e-12)


def test_unresolved_conditional_probabilities_are_refused():
    """States whose conditional orthant probabilities Gauss–Hermite does not resolve give no rule
    (the output side reports NaN), not a number: q_d = 0.25, q_a = 0.74 at K = 3 (a real
    common shift e' = 0.12 against d = 0.25), and q_d = 0.99, q_a = −0.72 (an imaginary one:
    the conditional covariance's smaller eigenvalue 0.36 against d = 0.99)."""
    assert layer_rule(3, 1.0, 0.25, 0.74, True) is None
    assert layer_rule(3, 1.0, 0.99, -0.72, True) is None


def test_branch_by_q_d_meets_the_continuous_transition_K2():
    """The specialized branch parametrized by q_d (``branch_alpha``: the α and q_a at which
    (q_d, q_a) is a fixed point) grows out of the unspecialized one where that loses
    stability (λ(α) = 1, a different computation: the derivative of the map at q_d = 0) —
    Aubin et al. 2018's continuous specialization at α ≃ 2 (K = 2, Gaussian weights)."""
    from scipy.optimize import brentq

    from replica.committee import derive_committee
    from replica.committee.solve import branch_alpha, stability
    th = derive_committee(committee_model(2, "gaussian"))
    a_c = brentq(lambda a: stability(th, [a])[0] - 1.0, 1.9, 2.2, xtol=1e-6)
    a_b, qa = branch_alpha(th, 1e-4, (2.0, 0.6))
    assert a_c == pytest.approx(2.0, abs=0.1)
    assert a_b == pytest.approx(a_c, abs=1e-3) and a_b > a_c
