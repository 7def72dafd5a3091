"""Tests of the independent classification oracles (tests/oracles/classification.py).

Every published number asserted here is quoted from the paper cited in the test (or is a
closed form); the tolerances reflect the number of digits printed in the source.  The other
tests are internal consistency checks (stationarity by finite differences, Nishimori
identities, thermodynamic integration, limits), which involve no pasted numbers.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, optimize

try:  # collected as the package "oracles" (pytest prepend mode) or as tests.oracles
    from . import classification as C
except ImportError:  # pragma: no cover
    from tests.oracles import classification as C


@pytest.fixture(autouse=True)
def _mp_precision():
    """All mpmath comparisons in this module at 30 digits, without touching the global."""
    with mp.workdps(30):
        yield


def _fd(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


# ---------------------------------------------------------------------------------------
# quadrature used by the oracles vs mpmath
# ---------------------------------------------------------------------------------------

def test_quadrature_against_mpmath():
    """Composite Gauss-Legendre Gaussian averages agree with mpmath.quad (dps 30)."""
    # (a) Psi_out of the BO Ising perceptron, flip = 0: 2 E_xi H(u) log H(u)
    q = mp.mpf("0.6")
    c = mp.sqrt(q / (1 - q))
    H = lambda x: mp.erfc(x / mp.sqrt(2)) / 2
    f = lambda xi: 2 * mp.npdf(xi) * H(c * xi) * mp.log(H(c * xi))
    ref = mp.quad(f, [-mp.inf, -3, 0, 3, mp.inf])
    assert abs(C._bo_psi_out(0.4, 0.0) - float(ref)) < 1e-14
    # (b) Gibbs energetic term at finite T with flip
    m, q, T, fl = mp.mpf("0.45"), mp.mpf("0.35"), mp.mpf("0.7"), mp.mpf("0.05")
    a = m / mp.sqrt(q - m * m)
    s = mp.sqrt(q / (1 - q))
    emb = mp.exp(-1 / T)
    g = lambda xi: 2 * mp.npdf(xi) * (fl + (1 - 2 * fl) * H(-a * xi)) * mp.log(emb + (1 - emb) * H(-s * xi))
    ref = mp.quad(g, [-mp.inf, -3, 0, 3, mp.inf])
    assert abs(C.gibbs_energetic_term(0.45, 0.35, 0.7, 0.05) - float(ref)) < 1e-14
    # (c) storage energetic term, kappa = 0.5
    q, k = mp.mpf("0.7"), mp.mpf("0.5")
    u = lambda t: (k - mp.sqrt(q) * t) / mp.sqrt(1 - q)
    ref = mp.quad(lambda t: mp.npdf(t) * mp.log(H(u(t))), [-mp.inf, 0, k / mp.sqrt(q), 5, mp.inf])
    assert abs(C._storage_energetic(0.7, 0.3, 0.5)[0] - float(ref)) < 1e-13


# ---------------------------------------------------------------------------------------
# 1. Gardner 1988
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kappa,value", [(0, 2.0), (0.5, 0.96120505), (1, 0.51957223), (2, 0.20023102)])
def test_gardner_alpha_c(kappa, value):
    """E. Gardner, J. Phys. A 21, 257 (1988): alpha_c(kappa) = 1/int_{-kappa} Dt (t+kappa)^2
    (values as tabulated in VALIDATION.md)."""
    assert abs(float(C.gardner_alpha_c(kappa)) - value) < 6e-9
    # closed form == the defining integral
    integral = mp.quad(lambda t: mp.npdf(t) * (t + kappa) ** 2, [-kappa, mp.inf])
    assert abs(C.gardner_alpha_c(kappa) - 1 / integral) < mp.mpf(10) ** -25


def test_gardner_kappa_max():
    """Gardner 1988: kappa_max(alpha = 1) = 0.4706554; and the inversion is exact."""
    k = C.gardner_kappa_max(1.0)
    assert abs(float(k) - 0.4706554) < 6e-8
    assert abs(C.gardner_alpha_c(k) - 1) < mp.mpf(10) ** -25
    assert abs(C.gardner_kappa_max(2.0)) < mp.mpf(10) ** -20  # alpha_c(0) = 2


# ---------------------------------------------------------------------------------------
# 2. Ising storage (Gardner & Derrida 1988; Krauth & Mezard 1989)
# ---------------------------------------------------------------------------------------

def test_ising_storage_krauth_mezard_capacity():
    """Krauth & Mezard, J. Phys. France 50, 3057 (1989): the RS entropy vanishes at
    alpha = 0.833 (0.8330786; Ding & Sun 2019 prove alpha_c = 0.833078599...)."""
    a = C.ising_storage_entropy_zero_alpha(0.0)
    assert abs(a - 0.8330786) < 6e-8
    assert abs(C.ising_storage_rs(a)["entropy"]) < 1e-11


def test_ising_storage_q1_point():
    """Gardner & Derrida, J. Phys. A 21, 271 (1988): the RS solution reaches q = 1 at
    alpha = 4/pi (kappa = 0).  General kappa: (2/pi) alpha_c^Gardner(kappa) (derived in the
    oracle's docstring); checked against the RS curve alpha(qh) at large qh, whose
    approach is ~ qh^{-1/2} (Richardson-extrapolated)."""
    assert abs(C.ising_storage_q1_alpha(0) - 4 / mp.pi) < mp.mpf(10) ** -25
    for kappa in (0.0, 0.5):
        a6 = C._storage_state(1e6, kappa)["alpha"]
        a8 = C._storage_state(1e8, kappa)["alpha"]
        extrap = a8 + (a8 - a6) / 9.0  # corrections ~ qh^{-1/2}: ratio 10 between the two
        assert abs(extrap - float(C.ising_storage_q1_alpha(kappa))) < 2e-5
        assert a6 < a8 < float(C.ising_storage_q1_alpha(kappa))
    with pytest.raises(C.ConvergenceError):
        C.ising_storage_rs(1.3)


@pytest.mark.parametrize("alpha,kappa", [(0.5, 0.0), (0.3, 0.4)])
def test_ising_storage_stationarity(alpha, kappa):
    """The RS entropy is stationary in (q, qh) at the solution (finite differences)."""
    r = C.ising_storage_rs(alpha, kappa)
    q, qh = r["q"], r["q_hat"]
    s = lambda q_, qh_: C.ising_storage_entropy(q_, qh_, alpha, kappa)
    assert abs(s(q, qh) - r["entropy"]) < 1e-13
    assert abs(_fd(lambda x: s(x, qh), q)) < 1e-8
    assert abs(_fd(lambda x: s(q, x), qh)) < 1e-8


def test_ising_storage_small_alpha():
    """s -> log 2 (counting measure) as alpha -> 0."""
    r = C.ising_storage_rs(1e-4)
    assert abs(r["entropy"] - math.log(2)) < 2e-4


# ---------------------------------------------------------------------------------------
# 3. Spherical teacher-student: version space and Bayes
# ---------------------------------------------------------------------------------------

def test_spherical_asymptotic_constants():
    """Engel & Van den Broeck 2001, ch. 2: eps_Gibbs ~ 0.62465819/alpha; Opper & Haussler,
    PRL 66, 2677 (1991): eps_Bayes ~ 0.44170004/alpha; their ratio is sqrt 2."""
    cg = C.spherical_gibbs_T0_asymptotic_constant()
    cb = C.spherical_bayes_asymptotic_constant()
    assert abs(float(cg) - 0.62465819) < 6e-9
    assert abs(float(cb) - 0.44170004) < 6e-9
    assert abs(cg / cb - mp.sqrt(2)) < mp.mpf(10) ** -25


def test_spherical_large_alpha_scaling():
    """alpha eps -> the constants, same references (the relative correction decays like
    alpha^{-2}; bound 3/alpha^2)."""
    cg = float(C.spherical_gibbs_T0_asymptotic_constant())
    cb = float(C.spherical_bayes_asymptotic_constant())
    for a in (1e3, 1e4):
        g = C.spherical_gibbs_T0(a)
        b = C.spherical_bayes(a)
        assert abs(a * float(g["eps"]) / cg - 1) < 3.0 / a**2
        assert abs(a * float(b["eps"]) / cb - 1) < 3.0 / a**2


def test_spherical_version_space_equation_and_bayes_form():
    """The version-space equation (Engel & Van den Broeck eq. 2.42) is satisfied, and its
    root is also the Bayes-optimal fixed point written in the Gaussian-prior form
    q = qh/(1+qh), qh = (2 alpha/(1-q)) E_xi N(u)^2/H(u), u = sqrt(q) xi/sqrt(1-q)
    (Barbier et al. 2019, rho = 1)."""
    alpha = 2.0
    g = C.spherical_gibbs_T0(alpha)
    R = g["R"]
    H = lambda x: mp.erfc(x / mp.sqrt(2)) / 2
    rhs = alpha / mp.pi * mp.quad(lambda t: mp.npdf(t) * mp.exp(-R * t * t / 2) / H(-mp.sqrt(R) * t),
                                  [-mp.inf, 0, mp.inf])
    assert abs(R / mp.sqrt(1 - R) - rhs) < mp.mpf(10) ** -20
    b = C.spherical_bayes(alpha)
    q = b["q"]
    c = mp.sqrt(q / (1 - q))
    qh = 2 * alpha / (1 - q) * mp.quad(lambda xi: mp.npdf(xi) * mp.npdf(c * xi) ** 2 / H(c * xi),
                                       [-mp.inf, 0, mp.inf])
    assert abs(qh / (1 + qh) - q) < mp.mpf(10) ** -20
    assert abs(b["eps"] - mp.acos(mp.sqrt(q)) / mp.pi) < mp.mpf(10) ** -25
    assert abs(g["eps"] - mp.acos(R) / mp.pi) < mp.mpf(10) ** -25


# ---------------------------------------------------------------------------------------
# 4. Ising Bayes-optimal perceptron (Gyorgyi 1990; Barbier et al. 2019)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha,flip", [(1.0, 0.0), (1.4, 0.0), (1.5, 0.1)])
def test_ising_bayes_nishimori_and_stationarity(alpha, flip):
    """At the RS fixed point: Nishimori q = E tanh = E tanh^2, and Phi(q, qh) is stationary
    in q and in qh (finite differences)."""
    r = C.ising_bayes_fixed_point(alpha, flip)
    assert r["branch"] == "low"
    q, qh = r["q"], r["q_hat"]
    assert abs(C._bo_prior_tanh2(qh) - q) < 1e-12
    phi = lambda q_, qh_: C.ising_bayes_free_entropy(alpha, flip, q_, qh_)
    assert abs(phi(q, qh) - r["free_entropy"]) < 1e-12
    assert abs(_fd(lambda x: phi(x, qh), q)) < 1e-8
    assert abs(_fd(lambda x: phi(q, x), qh)) < 1e-8
    assert r["eps_bayes"] < r["eps_gibbs"]


def test_ising_bayes_free_entropy_limits():
    """Normalisation (log-evidence, uniform prior): Phi(q=0,qh=0) = -alpha log 2,
    Phi(q=1) = -log 2 - alpha h(flip), Phi -> -alpha log 2 as alpha -> 0."""
    assert abs(C.ising_bayes_free_entropy(0.7, 0.0, 1e-300, 0.0) + 0.7 * math.log(2)) < 1e-13
    f = 0.1
    h = -(f * math.log(f) + (1 - f) * math.log(1 - f))
    assert abs(C.ising_bayes_free_entropy(2.0, f, 1.0) - (-math.log(2) - 2.0 * h)) < 1e-15
    r = C.ising_bayes_fixed_point(1e-3)
    assert abs(r["free_entropy"] + 1e-3 * math.log(2)) < 1e-6


def test_ising_bayes_thermodynamic_integration():
    """Envelope theorem: dPhi/dalpha = Psi_out(q(alpha)) along the branch, so
    Phi_low(alpha) = int_0^alpha Psi_out(q(a)) da; at alpha_IT this must equal Phi(q=1) =
    -log 2.  An independent check of the free-entropy crossing."""
    a_it = C.ising_bayes_first_order(0.0)
    f = lambda a: C._bo_psi_out(C.ising_bayes_fixed_point(a)["one_minus_q"], 0.0)
    x, w = np.polynomial.legendre.leggauss(40)
    val = 0.5 * a_it * sum(wi * f(0.5 * a_it * (xi + 1)) for xi, wi in zip(x, w))
    assert abs(val + math.log(2)) < 1e-9
    r = C.ising_bayes_fixed_point(a_it)
    assert abs(r["free_entropy"] + math.log(2)) < 1e-11


def test_ising_bayes_first_order_gyorgyi():
    """Gyorgyi, PRA 41, 7097 (1990): first-order transition to perfect generalisation at
    alpha = 1.245.  (Barbier et al. 2019 quote alpha_IT = 1.249; the RS free-entropy
    crossing of these equations gives Gyorgyi's value, see the oracle docstring.)"""
    a_it = C.ising_bayes_first_order(0.0)
    assert abs(a_it - 1.245) < 5e-4
    # below: the low branch is the global maximum of Phi; above: q = 1 is
    lo = C.ising_bayes_fixed_point(a_it - 0.05)
    hi = C.ising_bayes_fixed_point(a_it + 0.05)
    assert lo["free_entropy"] > -math.log(2) > hi["free_entropy"]
    assert hi["branch"] == "low"  # the metastable branch still exists above alpha_IT


def test_ising_bayes_spinodal_barbier():
    """Barbier, Krzakala, Macris, Miolane & Zdeborova, PNAS 116, 5451 (2019): AMP
    (algorithmic) threshold alpha_alg = 1.493.  The saddle-node of the fixed-point curve
    also separates iterations from q ~ 0 that stay low from those that reach q = 1."""
    a_sp = C.ising_bayes_spinodal(0.0)
    assert abs(a_sp - 1.493) < 5e-4
    assert C.ising_bayes_fixed_point(a_sp - 2e-3, q0=1e-8)["branch"] == "low"
    assert C.ising_bayes_fixed_point(a_sp + 2e-3, q0=1e-8)["branch"] == "perfect"
    assert C.ising_bayes_first_order(0.0) < a_sp


def test_ising_bayes_noise_shifts_thresholds():
    """With label noise both thresholds move up and stay ordered (alpha_IT < alpha_sp)."""
    a_it0, a_sp0 = C.ising_bayes_first_order(0.0), C.ising_bayes_spinodal(0.0)
    a_it, a_sp = C.ising_bayes_first_order(0.05), C.ising_bayes_spinodal(0.05)
    assert a_it0 < a_it < a_sp and a_sp0 < a_sp


def test_ising_annealed_threshold():
    """Lyuu & Rivin, Neural Comput. 4, 854 (1992): annealed threshold 1.44797."""
    assert abs(float(C.ising_annealed_threshold()) - 1.44797) < 6e-6


def test_ising_bayes_nonconvergence_raises():
    """An iteration stopped early raises instead of returning a number."""
    with pytest.raises(C.ConvergenceError):
        C.ising_bayes_fixed_point(1.49, maxiter=5)


# ---------------------------------------------------------------------------------------
# 5. Gibbs learning at temperature T (Seung, Sompolinsky & Tishby 1992)
# ---------------------------------------------------------------------------------------

def test_gibbs_energetic_derivatives():
    """Analytic dG_E/dm, dG_E/dq against finite differences (T > 0 and T = 0, with flip)."""
    for (m, q, T, f) in ((0.4, 0.3, 0.5, 0.0), (0.5, 0.45, 0.0, 0.0), (0.2, 0.5, 1.3, 0.1)):
        _, dm, dq = C.gibbs_energetic_term(m, q, T, f, derivatives=True)
        assert abs(dm - _fd(lambda x: C.gibbs_energetic_term(x, q, T, f), m)) < 1e-8
        assert abs(dq - _fd(lambda x: C.gibbs_energetic_term(m, x, T, f), q)) < 1e-8


def test_ising_gibbs_stationarity():
    """Seung, Sompolinsky & Tishby, PRA 45, 6056 (1992): RS free entropy of the Ising
    student at T = 0.5 is stationary in (m, q, mh, qh) at the fixed point."""
    alpha, T = 1.0, 0.5
    r = C.ising_gibbs(alpha, T)
    args = [r["m"], r["q"], r["m_hat"], r["q_hat"]]
    F = lambda a: C.ising_gibbs_free_entropy(alpha, T, *a)
    assert abs(F(args) - r["free_entropy"]) < 1e-13
    for i in range(4):
        def fi(x, i=i):
            b = list(args)
            b[i] = x
            return F(b)
        assert abs(_fd(fi, args[i])) < 1e-8
    assert r["m"] > r["q"]  # away from the Nishimori line, m != q


def test_ising_gibbs_T0_equals_bayes():
    """T = 0 Gibbs learning of a noiseless teacher samples the posterior (Gyorgyi 1990):
    m = q = q_Bayes and free_entropy - log 2 = Phi_Bayes."""
    alpha = 1.0
    b = C.ising_bayes_fixed_point(alpha)
    for T in (0.0, 0.02):
        r = C.ising_gibbs(alpha, T, 0.5, 0.5)
        assert abs(r["m"] - b["q"]) < 1e-10 and abs(r["q"] - b["q"]) < 1e-10
        assert abs(r["free_entropy"] - math.log(2) - b["free_entropy"]) < 1e-10


def test_gibbs_nishimori_line_with_noise():
    """Gibbs learning at e^{-beta} = f/(1-f) with label-flip probability f is Bayes-optimal:
    m = q, equal to the BO fixed point, and Phi_BO = f_Gibbs - log 2 + alpha log(1-f)."""
    alpha, f = 1.0, 0.1
    T = 1.0 / math.log((1 - f) / f)
    r = C.ising_gibbs(alpha, T, 0.5, 0.5, flip=f)
    b = C.ising_bayes_fixed_point(alpha, f)
    assert abs(r["m"] - r["q"]) < 1e-10 and abs(r["q"] - b["q"]) < 1e-10
    assert abs(r["free_entropy"] - math.log(2) + alpha * math.log(1 - f) - b["free_entropy"]) < 1e-10
    s = C.spherical_gibbs(alpha, T, flip=f)
    assert abs(s["m"] - s["q"]) < 1e-10


def test_spherical_gibbs_stationarity():
    """Spherical student, T = 1: f(m, q) stationary at the fixed point."""
    alpha, T = 3.0, 1.0
    r = C.spherical_gibbs(alpha, T)
    F = lambda m, q: C.spherical_gibbs_free_entropy(alpha, T, m, q)
    assert abs(_fd(lambda x: F(x, r["q"]), r["m"])) < 1e-8
    assert abs(_fd(lambda x: F(r["m"], x), r["q"])) < 1e-8


@pytest.mark.parametrize("alpha", [1.0, 5.0])
def test_spherical_gibbs_T0_matches_version_space(alpha):
    """T -> 0 of spherical Gibbs learning = the version-space equation of Gyorgyi & Tishby
    1990 / Engel & Van den Broeck eq. (2.42) (computed independently, mpmath)."""
    R = float(C.spherical_gibbs_T0(alpha)["R"])
    for T in (0.0, 0.02):
        r = C.spherical_gibbs(alpha, T)
        assert abs(r["m"] - R) < 1e-10 and abs(r["q"] - R) < 1e-10


def test_gibbs_high_temperature_limit():
    """Seung, Sompolinsky & Tishby 1992, high-T limit (beta -> 0, alpha beta = at fixed):
    f = s(m) - at eps(m), eps = arccos(m)/pi, giving
    spherical (s = log(1-m^2)/2):      m/sqrt(1-m^2) = at/pi,
    Ising (s = binary entropy):        atanh(m) sqrt(1-m^2) = at/pi (smaller root).
    Corrections are O(beta): Richardson-extrapolate beta = 0.02, 0.01."""
    at = 1.0
    m_sph = (at / math.pi) / math.sqrt(1 + (at / math.pi) ** 2)
    m_is = optimize.brentq(lambda m: math.atanh(m) * math.sqrt(1 - m * m) - at / math.pi, 1e-9, 0.8)
    ms, mi = {}, {}
    for beta in (0.02, 0.01):
        ms[beta] = C.spherical_gibbs(at / beta, 1 / beta, 0.2, 0.1)["m"]
        mi[beta] = C.ising_gibbs(at / beta, 1 / beta, 0.2, 0.1)["m"]
    assert abs(2 * ms[0.01] - ms[0.02] - m_sph) < 2e-5
    assert abs(2 * mi[0.01] - mi[0.02] - m_is) < 2e-5


def test_ising_gibbs_perfect_state_and_first_order_line():
    """Seung, Sompolinsky & Tishby 1992: the frozen state m = 1 is an RS solution at every T
    (free entropy 0, counting measure) and the first-order line alpha_c(T) starts from
    Gyorgyi's 1.245 at T = 0 and rises with T (their phase-diagram figure)."""
    r = C.ising_gibbs(2.0, 0.3, 0.5, 0.5)
    assert r["branch"] == "perfect" and r["free_entropy"] == 0.0 and r["eps"] == 0.0
    a0 = C.ising_gibbs_first_order(0.0)
    assert abs(a0 - 1.245) < 5e-4
    assert abs(a0 - C.ising_bayes_first_order(0.0)) < 1e-9
    assert C.ising_gibbs_first_order(0.5) > a0
