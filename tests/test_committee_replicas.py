"""The committee machine's replicated free entropy with K × K order parameters and its n → 0
limit (``replica.committee.replicas``).

What is checked, and against what:

* the pair counts of the coupling against enumeration of the replica pairs; the coupling
  polynomial against the sum of traces of explicit (n+1)K × (n+1)K block matrices (K = 2, 3,
  n = 1, 2, 3) built here from the ansatz;
* the Gaussian prior term (log-determinant through the eigen-decomposition, symbolic K and n)
  against ``numpy.linalg.slogdet`` of the explicit block matrix I + ρ₀M at integer n;
  the Hubbard–Stratonovich form E_{w⁰,ξ} Z_w(b, A)^n (with the module's b and A) against the
  same determinant, Z_w and the Gaussian expectations in closed form by linear algebra here;
* the output decoupling (the module's ω*, V*, ω, V) against the Gaussian expectation over the
  (n+1)K fields with the RS covariance, for a Gaussian test channel (both sides by
  determinants here);
* the n → 0 limits against the stated RS expressions (symbolic identities), against G(n)/n
  at small n, and the Gaussian prior's two routes (log-determinant; abstract Z_w summed over
  eigen-directions) against each other for symbolic K;
* K = 1 against the perceptron engine (``replica.derive`` of a Gaussian-prior Gibbs perceptron:
  all six order parameters; ``linear-bayes`` on the Nishimori line);
* the Nishimori reduction against ``derive_committee``'s free entropy (Aubin et al. 2018,
  eqs. 3–5) for Gaussian weights (ρ₀ = 1, 2) and ±1 weights, exactly, symbolic K.
"""
import itertools

import numpy as np
import pytest
import sympy as sp

import replica
from replica import channels, learning, losses, priors
from replica import symbols as S
from replica.committee import committee_model, derive_committee
from replica.committee import replicas as R
from replica.committee.ansatz import K_SYMBOL
from replica.model import Model
from replica.symbolic.derive import LabelIntegral, Zout, Zstar, Zw, _n_zero_limit

K = K_SYMBOL
n = S.n
OP = R.ORDER_PARAMETERS

#: a point of the order parameters (d, a) where every covariance below is positive definite
#: (and the replicated Gaussian integral converges up to n = 3: I + ρ₀M positive definite)
POINT = {"Q": (1.1, 0.3), "q": (0.5, 0.25), "m": (0.35, 0.1),
         "Q_hat": (0.2, 0.1), "q_hat": (0.12, 0.08), "m_hat": (0.1, 0.05)}


def subs_point(point=POINT):
    return {s: v for name, (d, a) in point.items() for s, v in zip(OP[name], (d, a))}


def mat(d, a, k):
    """d I_k + (a/k) J_k."""
    return d * np.eye(k) + a / k * np.ones((k, k))


def num(expr, k, nn=None, extra=None):
    vals = {**subs_point(), K: k, **(extra or {})}
    if nn is not None:
        vals[n] = nn
    return float(sp.N(expr.xreplace(vals)))


def perm_num(P, k):
    """A PermSym of the module evaluated at POINT and K = k, as an explicit matrix."""
    vals = {**subs_point(), K: k}
    return mat(float(sp.N(P.d.xreplace(vals))), float(sp.N(P.a.xreplace(vals))), k)


def tr(x, y):
    """Tr[(x_d I + x_a J/K)(y_d I + y_a J/K)], by J² = K J and Tr J = K."""
    return K * x[0] * y[0] + x[0] * y[1] + x[1] * y[0] + x[1] * y[1]


def explicit_blocks(k, nn, rho0):
    """The RS overlaps Q^{ab} and conjugates Q̂^{ab} (a, b = 0..n) as explicit matrices."""
    P = {name: mat(d, a, k) for name, (d, a) in POINT.items()}
    Qm = [[None] * (nn + 1) for _ in range(nn + 1)]
    Qh = [[None] * (nn + 1) for _ in range(nn + 1)]
    for a in range(nn + 1):
        for b in range(nn + 1):
            if a == b == 0:
                Qm[a][b], Qh[a][b] = rho0 * np.eye(k), np.zeros((k, k))
            elif a == b:
                Qm[a][b], Qh[a][b] = P["Q"], P["Q_hat"]
            elif 0 in (a, b):
                Qm[a][b], Qh[a][b] = P["m"], P["m_hat"]
            else:
                Qm[a][b], Qh[a][b] = P["q"], P["q_hat"]
    return Qm, Qh


@pytest.fixture(scope="session")
def gauss():
    return R.rs_free_entropy(priors.Gaussian(1))


@pytest.fixture(scope="session")
def gauss2():
    return R.rs_free_entropy(priors.Gaussian(2))


# -- the coupling -----------------------------------------------------------------------------------

def test_pair_counts_enumerate_the_replica_pairs():
    counts = R.pair_counts()
    for nn in range(6):
        pairs = list(itertools.combinations(range(1, nn + 1), 2))
        assert counts["q"].subs(n, nn) == len(pairs)
        assert counts["Q"].subs(n, nn) == counts["m"].subs(n, nn) == nn


def test_coupling_polynomial_and_limit(gauss):
    c = gauss.replicated.coupling
    Qx, qx, mx = OP["Q"], OP["q"], OP["m"]
    Qhx, qhx, mhx = OP["Q_hat"], OP["q_hat"], OP["m_hat"]
    stated = n * (tr(Qhx, Qx) / 2 - tr(mhx, mx)) - n * (n - 1) / 2 * tr(qhx, qx)
    assert sp.expand(c - stated) == 0
    assert sp.Poly(c, n).degree() == 2
    assert sp.expand(gauss.coupling - (tr(Qhx, Qx) / 2 - tr(mhx, mx) + tr(qhx, qx) / 2)) == 0


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("nn", [1, 2, 3])
def test_coupling_against_explicit_block_matrices(gauss, k, nn):
    Qm, Qh = explicit_blocks(k, nn, 1.0)
    total = sum(0.5 * np.trace(Qh[a][a] @ Qm[a][a]) for a in range(1, nn + 1))
    total -= sum(np.trace(Qh[a][b] @ Qm[a][b]) for a in range(nn + 1) for b in range(a + 1, nn + 1))
    assert num(gauss.replicated.coupling, k, nn) == pytest.approx(total, rel=1e-12)


# -- the prior term -----------------------------------------------------------------------------

def site_matrix(k, nn, rho0):
    """I + ρ₀M, M the (n+1)K × (n+1)K matrix of the single-site exponent −½ WᵀMW:
    M^{aa} = Q̂ (a ≥ 1), M^{0a} = −m̂, M^{ab} = −q̂ (a ≠ b ≥ 1), M^{00} = 0."""
    _, Qh = explicit_blocks(k, nn, rho0)
    M = np.block([[(Qh[a][b] if a == b else -Qh[a][b]) for b in range(nn + 1)] for a in range(nn + 1)])
    return np.eye((nn + 1) * k) + rho0 * M


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("nn", [1, 2, 3])
@pytest.mark.parametrize("which", ["gauss", "gauss2"])
def test_prior_logdet_against_slogdet(request, which, k, nn):
    rs = request.getfixturevalue(which)
    rho0 = float(rs.replicated.rho0)
    sign, logdet = np.linalg.slogdet(site_matrix(k, nn, rho0))
    assert sign > 0
    assert num(rs.replicated.prior, k, nn) == pytest.approx(-logdet / 2, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("nn", [1, 2, 3])
def test_hubbard_stratonovich_against_slogdet(gauss2, k, nn):
    """E_{w⁰,ξ} Z_w(m̂w⁰ + q̂^{1/2}ξ, Q̂ + q̂)^n with the module's b and A, Gaussian weights of
    variance ρ₀: Z_w(b, A) = det(I + ρ₀A)^{-1/2} exp(½ bᵀ(ρ₀⁻¹I + A)⁻¹b), and the expectation
    over z = (w⁰, ξ) ~ N(0, diag(ρ₀I, I)) of exp(½ n zᵀPᵀRPz) is det(I − n C^{1/2}PᵀRPC^{1/2})^{-1/2}."""
    rc = gauss2.replicated
    rho0 = float(rc.rho0)
    Mt, Sn, A = (perm_num(P, k) for P in (rc.field_teacher, rc.field_noise, rc.precision))
    R_ = np.linalg.inv(np.eye(k) / rho0 + A)
    P = np.hstack([Mt, Sn])
    C = np.diag(np.r_[np.full(k, np.sqrt(rho0)), np.ones(k)])
    log_moment = (-nn / 2 * np.linalg.slogdet(np.eye(k) + rho0 * A)[1]
                  - 0.5 * np.linalg.slogdet(np.eye(2 * k) - nn * C @ P.T @ R_ @ P @ C)[1])
    assert log_moment == pytest.approx(-np.linalg.slogdet(site_matrix(k, nn, rho0))[1] / 2, rel=1e-12)


def test_prior_limit_is_the_rs_expression(gauss, gauss2):
    """Φ_prior = −½ Σ_k μ_k (log A_k + B_k/A_k) (symbolic eigenvalues); numerically at K = 2, 3
    the matrix form −½ log det A + ½ Tr[A⁻¹(ρ₀q̂ + ρ₀²m̂²)], A = I + ρ₀(Q̂ + q̂)."""
    ap, al = sp.symbols("A_perp A_par", positive=True)
    bp, bl = sp.symbols("B_perp B_par", real=True)
    stated = -(K - 1) / 2 * (sp.log(ap) + bp / ap) - (sp.log(al) + bl / al) / 2
    assert sp.simplify(gauss.prior_eigen - stated) == 0
    for rs in (gauss, gauss2):
        rho0 = float(rs.replicated.rho0)
        for k in (2, 3):
            P = {name: mat(d, a, k) for name, (d, a) in POINT.items()}
            A = np.eye(k) + rho0 * (P["Q_hat"] + P["q_hat"])
            want = (-0.5 * np.linalg.slogdet(A)[1]
                    + 0.5 * np.trace(np.linalg.solve(A, rho0 * P["q_hat"] + rho0**2 * P["m_hat"] @ P["m_hat"])))
            assert num(rs.prior, k) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("prior", [priors.Gaussian(1), priors.Gaussian(2)])
def test_prior_two_routes_agree(prior):
    """Log-determinant (no Hubbard–Stratonovich) = E log Z_w summed over eigen-directions, K symbolic."""
    logdet = R.rs_free_entropy(prior).prior
    assert sp.simplify(logdet - R.prior_by_eigendirections(prior)) == 0


def test_abstract_prior_limit():
    rs = R.rs_free_entropy(priors.Ising())
    rc = rs.replicated
    Xw, _ = rc.prior_moment()
    assert isinstance(Xw, R.ZwK)
    assert rs.prior == R.VectorE(sp.log(Xw), R.XI, R.W0)
    # b = m̂ w⁰ + q̂^{1/2} ξ, A = Q̂ + q̂: eigenvalues
    mh, qh, Qh = OP["m_hat"], OP["q_hat"], OP["Q_hat"]
    assert sp.simplify(Xw.teacher_field.parallel - (mh[0] + mh[1])) == 0
    assert sp.simplify(Xw.noise_field.perp - sp.sqrt(qh[0])) == 0
    assert sp.simplify(Xw.noise_field.parallel - sp.sqrt(qh[0] + qh[1])) == 0
    assert sp.simplify(Xw.precision.parallel - (Qh[0] + Qh[1] + qh[0] + qh[1])) == 0
    with pytest.raises(replica.symbolic.derive.DerivationError):
        R.prior_by_eigendirections(priors.Ising())


@pytest.mark.parametrize("k", [2, 3])
def test_small_n_against_the_limit(gauss, k):
    """[coupling(n) + prior(n)]/n at n = 1e-6 against the limit (the difference is O(n))."""
    rc = gauss.replicated
    small = num((rc.coupling + rc.prior) / n, k, 1e-6)
    assert small == pytest.approx(num(gauss.coupling + gauss.prior, k), abs=1e-5)


# -- the output term ----------------------------------------------------------------------------

def test_decoupled_fields_reproduce_the_covariance(gauss):
    """λ^a = q^{1/2}ξ + (Q − q)^{1/2}u^a, λ⁰ = m q^{−1/2}ξ + (ρ − m q⁻¹m)^{1/2}u⁰:
    E λ^aλ^aᵀ = Q, E λ^aλ^bᵀ = q, E λ⁰λ^aᵀ = m, E λ⁰λ⁰ᵀ = ρ (symbolic K)."""
    rc = gauss.replicated
    Lm, Vs, Tm, Vt = rc.student_mean, rc.student_var, rc.teacher_mean, rc.teacher_var
    for got, want in [((Lm * Lm).d, OP["q"][0]), ((Lm * Lm).a, OP["q"][1]),
                      ((Lm * Lm + Vs).d, OP["Q"][0]), ((Lm * Lm + Vs).a, OP["Q"][1]),
                      ((Tm * Lm).d, OP["m"][0]), ((Tm * Lm).a, OP["m"][1]),
                      ((Tm * Tm + Vt).d, rc.rho0), ((Tm * Tm + Vt).a, 0)]:
        assert sp.simplify(got - want) == 0


def test_output_limit_is_the_rs_expression(gauss):
    rc = gauss.replicated
    z = R.ZoutK(S.y, R.XI, rc.student_mean.d, rc.student_mean.a, rc.student_var.d, rc.student_var.a)
    zs = R.ZstarK(S.y, R.XI, rc.teacher_mean.d, rc.teacher_mean.a, rc.teacher_var.d, rc.teacher_var.a)
    assert gauss.output == LabelIntegral(R.VectorE(zs * sp.log(z), R.XI), S.y)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("nn", [1, 2, 3])
def test_output_decoupling_against_the_replicated_gaussian(gauss, k, nn):
    """Test channel φ(λ) = exp(−½λᵀDλ), P*(λ) = exp(−½λᵀD*λ): E over the (n+1)K fields with the RS
    covariance of P*(λ⁰) Π φ(λ^a) = det(I + Σ^{1/2} diag(D*, D, ..) Σ^{1/2})^{-1/2}, against
    E_ξ Z*(T ξ, V*) Z_out(L ξ, V)^n with the module's T, V*, L, V, where
    Z(ω, V) = det(I + VD)^{-1/2} exp(−½ ωᵀ D (I + VD)⁻¹ ω)."""
    rng = np.random.default_rng(k * 10 + nn)
    G = rng.normal(size=(2, k, k))
    D, Ds = (g @ g.T / k + 0.3 * np.eye(k) for g in G)
    Qm, _ = explicit_blocks(k, nn, float(gauss.replicated.rho0))
    Sigma = np.block(Qm)
    assert np.all(np.linalg.eigvalsh(Sigma) > 0)
    w, U = np.linalg.eigh(Sigma)
    half = U @ np.diag(np.sqrt(w)) @ U.T
    Dblk = np.zeros_like(Sigma)
    for a in range(nn + 1):
        Dblk[a * k:(a + 1) * k, a * k:(a + 1) * k] = Ds if a == 0 else D
    lhs = -0.5 * np.linalg.slogdet(np.eye(Sigma.shape[0]) + half @ Dblk @ half)[1]
    rc = gauss.replicated
    T, Vt, L, V = (perm_num(P, k) for P in (rc.teacher_mean, rc.teacher_var, rc.student_mean, rc.student_var))

    def quad(Dm, Vm):
        return Dm @ np.linalg.inv(np.eye(k) + Vm @ Dm), -0.5 * np.linalg.slogdet(np.eye(k) + Vm @ Dm)[1]
    Rs, cs = quad(Ds, Vt)
    Ro, co = quad(D, V)
    rhs = cs + nn * co - 0.5 * np.linalg.slogdet(np.eye(k) + T.T @ Rs @ T + nn * L.T @ Ro @ L)[1]
    assert rhs == pytest.approx(lhs, rel=1e-11)


def test_whole_limit_in_one_call(gauss):
    """lim G(n)/n of the whole replicated free entropy = the sum of the parts' limits."""
    rc = gauss.replicated
    phi, _ = _n_zero_limit(rc.coupling + rc.prior, [(S.alpha, *rc.output_moment())])
    assert sp.cancel(sp.expand(phi - gauss.free_entropy)) == 0


# -- K = 1: the perceptron engine -------------------------------------------------------------------

def at_k1(expr):
    """K = 1 with the matrices' d-parts 0 (one unit: the scalar is d + a)."""
    names = {"Q": S.Q, "q": S.q, "m": S.m, "Q_hat": S.Q_hat, "q_hat": S.q_hat, "m_hat": S.m_hat}
    sub = {K: 1}
    for name, (d, a) in OP.items():
        sub[d], sub[a] = 0, names[name]
    return expr.subs(sub)


def _split(phi):
    """(coupling, prior, output) terms of an engine free entropy."""
    parts = {"coupling": 0, "prior": 0, "output": 0}
    for t in sp.Add.make_args(sp.expand(phi)):
        if t.has(Zw):
            parts["prior"] += t
        elif t.has(Zout) or t.has(Zstar):
            parts["output"] += t
        else:
            parts["coupling"] += t
    return parts


def _args_over_xi(z):
    """(coefficient of ξ in ω, V) of an engine output potential."""
    xi = next(iter(z.args[1].free_symbols - {S.m, S.q, S.Q}))
    return sp.simplify(z.args[1] / xi), z.args[2]


def test_k1_is_the_perceptron_engine(gauss):
    """A Gaussian-prior perceptron with Gibbs learning keeps Q, q, m and their conjugates: the
    engine's coupling and prior term (its Z_w closed) equal this module's at K = 1, and the
    arguments of its Z* and Z_out are this module's."""
    model = Model(prior=priors.Gaussian(1), teacher=channels.Sign(), learning=learning.Gibbs("T", losses.Errors()),
                  name="gauss-gibbs")
    th = replica.derive(model)
    parts = _split(th.free_entropy)
    assert sp.simplify(at_k1(gauss.coupling) - parts["coupling"]) == 0
    assert sp.simplify(at_k1(gauss.prior) - th.explicit(parts["prior"])) == 0
    rc = gauss.replicated
    for cls, mean, var in ((Zstar, rc.teacher_mean, rc.teacher_var), (Zout, rc.student_mean, rc.student_var)):
        zs = parts["output"].atoms(cls)
        assert zs
        for z in zs:
            coef, V = _args_over_xi(z)
            assert sp.simplify(at_k1(mean.parallel) - coef) == 0
            assert sp.simplify(at_k1(var.parallel) - V) == 0


def test_k1_nishimori_is_linear_bayes(gauss):
    """On the Nishimori line at K = 1 (q_d = 0): the coupling −½ q q̂ and the prior term of the
    engine's ``linear-bayes`` (Gaussian weights), and Ψ_out's arguments those of its Z_out."""
    th = replica.derive("linear-bayes")
    parts = _split(th.free_entropy)
    ni = gauss.nishimori()
    k1 = {K: 1, R.Q_D: 0, R.Q_A: S.q, R.QH_D: 0, R.QH_A: S.q_hat}
    assert sp.simplify(ni.coupling.subs(k1) - parts["coupling"]) == 0
    assert sp.simplify(ni.prior_term.subs(k1) - th.explicit(parts["prior"])) == 0
    (z,) = R.psi_out_definition(1).atoms(R.ZoutK)
    for zz in parts["output"].atoms(Zout):
        coef, V = _args_over_xi(zz)
        assert sp.simplify(z.omega.parallel.subs(k1) - coef) == 0
        assert sp.simplify(z.V.parallel.subs(k1) - V) == 0


# -- the Nishimori line: derive_committee ---------------------------------------------------------

@pytest.mark.parametrize("which,model", [
    ("gauss", "committee-bayes"),
    ("gauss2", committee_model(2, priors.Gaussian(2))),
    ("ising", "committee-ising-bayes"),
])
def test_nishimori_is_derive_committee(request, which, model):
    rs = R.rs_free_entropy(priors.Ising()) if which == "ising" else request.getfixturevalue(which)
    th = replica.derive(model) if isinstance(model, str) else derive_committee(model)
    ni = rs.nishimori()
    assert sp.simplify(ni.free_entropy - th.free_entropy) == 0
    assert sp.simplify(ni.prior_term - th.prior_term) == 0
    assert sp.expand(ni.coupling - th.coupling_general_K) == 0
    assert ni.output == R.PSI_OUT(R.Q_D, R.Q_A)
    assert ni.steps[-1].startswith("Bayes-optimal (Nishimori)")


def test_nishimori_gaussian_prior_is_the_eigen_sum(gauss2):
    """Gaussian weights of variance ρ₀ = 2: ψ = Σ_k μ_k [ρ₀ r_k/2 − ½ log(1 + ρ₀ r_k)],
    r_⊥ = q̂_d, r_∥ = q̂_d + q̂_a (the closed form of ψ₁(r) for a N(0, ρ₀) prior)."""
    psi1 = lambda r: r - sp.log(1 + 2 * r) / 2  # noqa: E731
    want = (K - 1) * psi1(R.QH_D) + psi1(R.QH_D + R.QH_A)
    assert sp.simplify(gauss2.nishimori().prior_term - want) == 0


def test_nishimori_abstract_prior_folds_into_psi_p0():
    """The Hubbard–Stratonovich route for Gaussian weights keeps Z_w abstract; on the Nishimori
    line its prior term is ψ_P₀(q̂) by its definition."""
    ni = R.rs_free_entropy(priors.Gaussian(1), gaussian_logdet=False).nishimori()
    assert ni.prior_term == R.PSI_P0(R.QH_D, R.QH_A)
