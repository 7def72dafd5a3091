"""The generated committee output kernel (``replica.committee.lower``, issue 16): Z_out(y; ω, V)
and ∇_ω Z_out for V = aI + bJ by a common (real or imaginary) shift that makes the units
independent, against the orthant probabilities (``orthant``: Owen's T at K = 2, nested
Gauss–Legendre at K = 3) to 1e-10, and against scipy's multivariate normal CDF (Genz's
algorithm, ``oracles.committee.label_probs_mvn``) at K = 4 and 5 and for a custom rule."""
import numpy as np
import pytest
import sympy as sp

from replica.committee import committee_model, hidden_fields
from replica.committee.derive import _orthant_label_probs
from replica.committee.lower import output_kernel

from oracles.committee import label_probs_k3, label_probs_mvn


def _states(K, n, rng):
    """(ω (n, K), a, b): overlaps q_d ∈ [0, 0.95], q_a ∈ [−q_d, ρ − q_d) (b = −q_a/K of both
    signs, V's smaller eigenvalue down to 1e-3 of a), ω ~ N(0, q)."""
    out = []
    while len(out) < n:
        qd = rng.uniform(0.0, 0.95)
        qa = rng.uniform(-qd, 1.0 - qd)
        a, b = 1.0 - qd, -qa / K
        if (a + K * b) / a < 1e-3:
            continue
        q = qd * np.eye(K) + qa / K * np.ones((K, K))
        om = rng.multivariate_normal(np.zeros(K), q + 1e-12 * np.eye(K), size=3)
        out.append((om, a, b))
    return out


@pytest.mark.parametrize("K, output", [(2, "sign"), (3, "sign"), (2, "parity"), (3, "parity")])
def test_kernel_equals_orthant_probabilities(K, output):
    """Z_out and its ω-gradient at 8 random states per rule equal the orthant machinery to 1e-10."""
    rule = committee_model(K, "gaussian", output).teacher
    ker = output_kernel(rule)
    rng = np.random.default_rng(16 + K)
    worst = 0.0
    for om, a, b in _states(K, 8, rng):
        V = a * np.eye(K) + b * np.ones((K, K))
        Z0, d0 = _orthant_label_probs(rule, K, om[None], V[None], 64)
        Z1, d1 = ker(om[None], np.array([a]), np.array([b]))
        worst = max(worst, np.abs(Z1 - Z0).max(), np.abs(d1 - d0).max())
    assert worst < 1e-10


def _sign_np(z):
    return np.sign(np.sign(z).sum(axis=1))


@pytest.mark.parametrize("K", [4, 5])
def test_kernel_against_genz_at_four_and_five_units(K):
    """The sign committee at K = 4 (three labels: ties) and 5 against scipy's mvn CDF (Genz,
    absolute error ~1e-8), and at K = 4 against the nested orthant quadrature to 1e-10."""
    rule = committee_model(K, "gaussian", "sign").teacher
    ker = output_kernel(rule)
    (om, a, b), = _states(K, 1, np.random.default_rng(40 + K))
    V = a * np.eye(K) + b * np.ones((K, K))
    Z, dZ = ker(om[None, :1], np.array([a]), np.array([b]))
    ref = label_probs_mvn(_sign_np, om[0], V, abseps=1e-8)
    for j, y in enumerate(rule.outputs):
        assert Z[0, 0, j] == pytest.approx(ref.get(float(y), 0.0), abs=2e-6)
    if K == 4:
        Z0, d0 = _orthant_label_probs(rule, K, om[None, :1], V[None], 24)
        assert np.abs(Z - Z0).max() < 1e-10 and np.abs(dZ - d0).max() < 1e-10


def test_custom_tree_rule_kernel():
    """A custom rule of the signs, a 'tree' at K = 3 — y = sign h1 if sign h2 = sign h3, else
    sign h2 — generated from its SymPy expression: value and gradient against the orthant
    machinery to 1e-10, values against a nested-quadrature oracle to 1e-10 (checked against mpmath:
    P(y = −1) = 0.781762163198502 at this state)."""
    h = hidden_fields(3)
    s1, s2, s3 = (sp.sign(x) for x in h)
    expr = sp.Piecewise((s1, sp.Eq(s2, s3)), (s2, True))
    rule = committee_model(3, "gaussian", expr).teacher
    ker = output_kernel(rule)

    def tree(z):
        s = np.sign(z)
        return np.where(s[:, 1] == s[:, 2], s[:, 0], s[:, 1])
    om, a, b = np.array([0.3, -0.5, 0.8]), 0.6, -0.1
    V = a * np.eye(3) + b * np.ones((3, 3))
    Z, dZ = ker(om[None, None], np.array([a]), np.array([b]))
    Z0, d0 = _orthant_label_probs(rule, 3, om[None, None], V[None], 64)
    assert np.abs(Z - Z0).max() < 1e-10 and np.abs(dZ - d0).max() < 1e-10
    ref = label_probs_k3(tree, om, V)     # nested quadrature (Genz's randomized CDF is only ~1e-6 here)
    for j, y in enumerate(rule.outputs):
        assert Z[0, 0, j] == pytest.approx(ref[float(y)], abs=1e-10)


def test_nearly_singular_covariance_is_not_a_number():
    """Where V's smaller eigenvalue is below what the s-rule resolves the kernel says NaN."""
    rule = committee_model(3, "gaussian", "sign").teacher
    Z, dZ = output_kernel(rule)(np.zeros((1, 1, 3)), np.array([1.0]), np.array([-(1 - 1e-13) / 3]))
    assert np.isnan(Z).all() and np.isnan(dZ).all()


def test_generated_source_is_the_rule():
    """The kernel is printed from SymPy: per label a polynomial in the unit factors (K = 2 sign
    committee: P(y = −1) = B1 B2, P(0) = A1 B2 + A2 B1, P(+1) = A1 A2), no orthant call in it."""
    
    src = output_kernel(committee_model(2, "gaussian", "sign").teacher).source
    assert src.startswith("def z_out(A1, A2, B1, B2):") and "def z_out_grad(" in src and "orthant" not in src


def test_points_carry_accuracy_and_unresolved_ones_are_null():
    """K = 3 through the generated kernel: the unspecialized fixed point at α = 3 converges with
    an accuracy estimate (default against higher quadrature orders) at most 1e-6; a state of thin
    layers whose conditional orthant probabilities the layer rule does not trust (q_d = 0.99,
    q_a = −0.72: the conditional covariance's smaller eigenvalue below 0.4 of its scale) is NaN
    on the output side — never a number."""
    from replica.committee import derive_committee, solve_committee
    th = derive_committee(committee_model(3, "gaussian"))
    s = solve_committee(th, [3.0], "unspecialized")
    assert s.converged[0] and 0.0 <= s["accuracy"][0] <= 1e-6
    out = th.output_side(np.array([0.99]), np.array([-0.72]))
    assert all(np.isnan(v[0]) for v in out)
