"""Checks of the independent regression / ERM oracles in tests/oracles/regression.py against
published values and closed forms (each test cites its source), and of independent methods
against each other.  Published numbers are typed from the papers (or VALIDATION.md), never
from the oracle's own output."""

from __future__ import annotations

import importlib.util
import math
import pathlib

import numpy as np
import pytest
from scipy import optimize, special

_spec = importlib.util.spec_from_file_location(
    "regression_oracle", pathlib.Path(__file__).with_name("regression.py"))
reg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reg)


# --------------------------------------------------------------------------------------------
# 1. Bayes-optimal linear regression
# --------------------------------------------------------------------------------------------

def test_linear_bayes_sqrt2_minus_1():
    # VALIDATION.md / Barbier et al. 2019 (PNAS 116, 5451): alpha = 2, Delta = 1: mmse = sqrt2 - 1
    d = reg.linear_bayes(2.0, 1.0)
    assert d["mmse"] == pytest.approx(math.sqrt(2.0) - 1.0, abs=1e-14)
    assert d["q"] == pytest.approx(2.0 - math.sqrt(2.0), abs=1e-14)


@pytest.mark.parametrize("alpha,delta", [(0.3, 0.5), (1.0, 0.01), (2.0, 1.0), (5.0, 2.0)])
def test_linear_bayes_is_fixed_point(alpha, delta):
    # the defining equations qhat = alpha/(Delta + 1 - q), q = qhat/(1 + qhat) (Barbier et al. 2019)
    d = reg.linear_bayes(alpha, delta)
    qhat = alpha / (delta + 1.0 - d["q"])
    assert d["q"] == pytest.approx(qhat / (1.0 + qhat), abs=1e-14)
    assert 0.0 <= d["q"] < 1.0


@pytest.mark.parametrize("alpha,delta", [(0.5, 0.3), (2.0, 1.0), (3.0, 0.05)])
def test_linear_bayes_mutual_information_matches_log_det(alpha, delta):
    # replica MI formula (Barbier et al. 2016/2019; Reeves & Pfister 2016) versus the exact
    # (1/2) E ln det(1 + X^T X/(N Delta)) integrated over the Marchenko-Pastur law
    d = reg.linear_bayes(alpha, delta)
    assert d["mi"] == pytest.approx(reg.linear_bayes_mutual_information_rmt(alpha, delta),
                                    abs=1e-10)
    # free entropy of the evidence p(Y|X) = -I - (alpha/2) ln(2 pi e Delta)
    assert d["free_entropy"] == pytest.approx(
        -d["mi"] - 0.5 * alpha * math.log(2 * math.pi * math.e * delta), abs=1e-14)


def test_linear_bayes_mi_is_minimised_at_mmse():
    # the RS potential i(E) is stationary (minimal) at E = mmse
    alpha, delta = 1.7, 0.4
    mmse = reg.linear_bayes(alpha, delta)["mmse"]

    def i_rs(E):
        r = alpha / (delta + E)
        return 0.5 * math.log1p(r) + 0.5 * alpha * (math.log1p(E / delta) - E / (delta + E))

    res = optimize.minimize_scalar(i_rs, bounds=(1e-9, 1.0), method="bounded",
                                   options=dict(xatol=1e-12))
    assert res.x == pytest.approx(mmse, abs=1e-6)


# --------------------------------------------------------------------------------------------
# 2. Ridge regression: random-matrix theory versus replica
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.3, 0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("delta", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("lam", [1e-2, 0.1, 1.0, 10.0])
def test_ridge_rmt_equals_replica(alpha, delta, lam):
    # Hastie, Montanari, Rosset & Tibshirani 2019 (MP Stieltjes transform) versus the
    # replica fixed point of Aubin et al. 2020: to 1e-8
    a = reg.ridge_regression_rmt(alpha, delta, lam)
    b = reg.ridge_regression_replica(alpha, delta, lam)
    for k in ("m", "q", "V", "test_error", "train_mse", "train_loss"):
        assert a[k] == pytest.approx(b[k], abs=1e-8, rel=1e-8), k
    assert a["test_error"] == pytest.approx(a["q"] - 2 * a["m"] + 1, abs=1e-14)


@pytest.mark.parametrize("alpha", [0.25, 0.5, 2.0, 4.0])
@pytest.mark.parametrize("delta", [0.1, 1.0])
def test_ridgeless_limit(alpha, delta):
    # Hastie et al. 2019, Thm 1 (isotropic, r^2 = 1, sigma^2 = Delta, gamma = 1/alpha)
    g = 1.0 / alpha
    expected = delta * g / (1 - g) if g < 1 else (1 - 1 / g) + delta / (g - 1)
    assert reg.ridgeless_risk(alpha, delta) == pytest.approx(expected, rel=1e-14)
    lam = 1e-9
    assert reg.ridge_regression_rmt(alpha, delta, lam)["test_error"] == pytest.approx(
        expected, rel=1e-6)
    assert reg.ridge_regression_replica(alpha, delta, 1e-7)["test_error"] == pytest.approx(
        expected, rel=1e-5)


def test_ridgeless_closed_values():
    # Hastie et al. 2019: gamma = 1/2 -> sigma^2; gamma = 2 -> 1/2 + sigma^2 (r^2 = 1)
    assert reg.ridgeless_risk(2.0, 0.7) == pytest.approx(0.7, rel=1e-14)
    assert reg.ridgeless_risk(0.5, 0.7) == pytest.approx(0.5 + 0.7, rel=1e-14)
    assert reg.ridgeless_risk(1.0, 0.7) == math.inf


@pytest.mark.parametrize("alpha,delta", [(0.5, 0.1), (2.0, 0.1), (3.0, 1.0)])
def test_ridge_at_lambda_delta_is_bayes(alpha, delta):
    # Gaussian prior and noise: the posterior mean is ridge with lam = Delta (in our scaling),
    # so ridge attains the mmse of linear_bayes and m = q (Nishimori).
    d = reg.ridge_regression(alpha, delta, delta)
    b = reg.linear_bayes(alpha, delta)
    assert d["test_error"] == pytest.approx(b["mmse"], abs=1e-10)
    assert d["m"] == pytest.approx(d["q"], abs=1e-10)
    assert d["m"] == pytest.approx(b["q"], abs=1e-10)


def test_ridge_lambda_delta_is_optimal():
    # optimal ridge penalty equals Delta / r^2 (Dobriban & Wager 2018; Hastie et al. 2019)
    alpha, delta = 1.5, 0.3
    res = optimize.minimize_scalar(lambda l: reg.ridge_regression_rmt(alpha, delta, l)["test_error"],
                                   bounds=(1e-3, 5.0), method="bounded", options=dict(xatol=1e-8))
    assert res.x == pytest.approx(delta, abs=1e-4)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_ridge_simulation(alpha):
    # finite-N simulation (N = 800, 3 samples): test error and training mse within ~4 sigma
    delta, lam, N = 0.1, 0.1, 800
    d = reg.ridge_regression(alpha, delta, lam)
    errs, trains = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        P = int(alpha * N)
        X = rng.standard_normal((P, N))
        ws = rng.standard_normal(N)
        y = X @ ws / math.sqrt(N) + math.sqrt(delta) * rng.standard_normal(P)
        A = X / math.sqrt(N)
        w = np.linalg.solve(A.T @ A + lam * np.eye(N), A.T @ y)
        errs.append(np.sum((w - ws) ** 2) / N)
        trains.append(np.mean((y - A @ w) ** 2))
    assert np.mean(errs) == pytest.approx(d["test_error"], rel=0.06)
    assert np.mean(trains) == pytest.approx(d["train_mse"], rel=0.08)


# --------------------------------------------------------------------------------------------
# 3. ERM on the sign teacher
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha,lam,flip", [(0.5, 0.05, 0.0), (1.5, 0.3, 0.0), (4.0, 2.0, 0.0),
                                             (1.5, 0.3, 0.1), (3.0, 0.5, 0.25)])
def test_square_generic_equals_hand_expectations(alpha, lam, flip):
    # generic prox/quadrature route versus the hand-computed square-loss channel
    # (E[y z] = (1 - 2 flip) sqrt(2/pi); Aubin et al. 2020, ridge case)
    a = reg.erm_sign("square", alpha, lam, flip)
    b = reg.erm_sign_square_closed(alpha, lam, flip)
    for k in ("m", "q", "V", "eps_gen"):
        assert a[k] == pytest.approx(b[k], abs=1e-9, rel=1e-9), k


@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_square_optimal_lambda_is_pi_over_2_minus_1(alpha):
    # Aubin, Krzakala, Lu & Zdeborova 2020: optimal ridge for square loss is pi/2 - 1 at every alpha
    res = optimize.minimize_scalar(
        lambda l: reg.erm_sign("square", alpha, l, check_quad=False)["eps_gen"],
        bounds=(0.05, 3.0), method="bounded", options=dict(xatol=1e-5))
    assert res.x == pytest.approx(math.pi / 2 - 1, abs=1e-3)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_large_lambda_is_hebb(alpha):
    # lam -> infinity: every loss reduces to the Hebb rule, R = sqrt(2a/pi)/sqrt(1 + 2a/pi)
    # (Vallet 1989; Engel & Van den Broeck 2001, Ch. 3)
    R = math.sqrt(2 * alpha / math.pi) / math.sqrt(1 + 2 * alpha / math.pi)
    eps = math.acos(R) / math.pi
    for loss in ("square", "hinge", "logistic"):
        assert reg.erm_sign(loss, alpha, 1e4)["eps_gen"] == pytest.approx(eps, abs=1e-4), loss


def test_max_margin_asymptotic_constant():
    # Opper, Kinzel, Kleinz & Nehl 1990: alpha eps -> 0.5005 for the maximally stable perceptron
    d = reg.max_margin_asymptotic()
    assert d["alpha_eps"] == pytest.approx(0.5005, abs=1e-4)
    mm = reg.max_margin_sign(1000.0)
    assert 1000.0 * mm["eps_gen"] == pytest.approx(d["alpha_eps"], abs=1e-5)
    # finite-alpha approach from below
    assert 20.0 * reg.max_margin_sign(20.0)["eps_gen"] < d["alpha_eps"]


@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_hinge_small_lambda_is_max_margin(alpha):
    # hinge ERM with lam -> 0 is the hard-margin SVM (Aubin et al. 2020); lam V -> 1 - alpha P(sv)
    mm = reg.max_margin_sign(alpha)
    h = reg.erm_sign("hinge", alpha, 1e-5)
    assert h["eps_gen"] == pytest.approx(mm["eps_gen"], abs=1e-7)
    assert h["m"] / math.sqrt(h["q"]) == pytest.approx(mm["R"], abs=1e-7)
    assert 1 / math.sqrt(h["q"]) == pytest.approx(mm["kappa"], rel=1e-6)
    assert 1e-5 * h["V"] == pytest.approx(1 - alpha * mm["frac_support"], abs=1e-5)
    assert h["train_loss"] < 1e-6  # hard-margin: no margin violations


def test_max_margin_no_teacher_limit_is_gardner():
    # alpha -> 0: R -> 0 and the second equation tends to Gardner's 1 = alpha int Dt (t+kappa)^2
    # at kappa -> infinity; check the Gardner relation alpha_c(kappa) at small alpha within
    # the O(R^2) teacher correction.
    from scipy import integrate
    mm = reg.max_margin_sign(0.05)
    k = mm["kappa"]
    gard = 1.0 / integrate.quad(lambda t: np.exp(-t * t / 2) / math.sqrt(2 * math.pi) * (t + k) ** 2,
                                -k, np.inf)[0]
    assert gard == pytest.approx(0.05, rel=0.1)


def test_bayes_asymptotic_constants():
    # Opper & Haussler 1991 (Bayes 0.44170004/alpha); Gyorgyi & Tishby 1990 (Gibbs 0.62465819/alpha)
    c = reg.bayes_asymptotic_constants()
    assert c["bayes"] == pytest.approx(0.44170004, abs=1e-8)
    assert c["gibbs"] == pytest.approx(0.62465819, abs=1e-8)
    d = reg.bayes_sign_perceptron(1e4)
    assert 1e4 * d["eps_bayes"] == pytest.approx(0.44170004, abs=1e-6)
    assert 1e4 * d["eps_gibbs"] == pytest.approx(0.62465819, abs=1e-6)


@pytest.mark.parametrize("alpha", [0.5, 2.0, 5.0])
def test_bayes_two_forms_agree(alpha):
    # Gibbs-overlap equation (Engel & Van den Broeck) vs GLM state evolution (Barbier et al. 2019)
    a = reg.bayes_sign_perceptron(alpha)
    b = reg.bayes_sign_perceptron_se(alpha)
    assert a["R"] == pytest.approx(b["q"], abs=1e-9)


@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_logistic_optimal_lambda_near_bayes(alpha):
    # Aubin et al. 2020: optimally regularised logistic regression is within a fraction of a
    # percent of Bayes-optimal; it can never beat it.
    res = optimize.minimize_scalar(
        lambda l: reg.erm_sign("logistic", alpha, l, check_quad=False)["eps_gen"],
        bounds=(1e-3, 1.0), method="bounded", options=dict(xatol=1e-4))
    bayes = reg.bayes_sign_perceptron(alpha)["eps_bayes"]
    assert res.fun >= bayes - 1e-9
    assert res.fun <= bayes * 1.01


@pytest.mark.parametrize("loss", ["square", "hinge", "logistic"])
def test_erm_never_beats_bayes(loss):
    # Bayes-optimal error is a lower bound for every estimator
    for alpha in (0.5, 2.0):
        bayes = reg.bayes_sign_perceptron(alpha)["eps_bayes"]
        for lam in (0.01, 0.1, 1.0):
            assert reg.erm_sign(loss, alpha, lam, check_quad=False)["eps_gen"] >= bayes - 1e-9


def _simulate(loss, alpha, lam, N, seed):
    rng = np.random.default_rng(seed)
    P = int(alpha * N)
    X = rng.standard_normal((P, N))
    ws = rng.standard_normal(N)
    y = np.sign(X @ ws)
    A = y[:, None] * X / math.sqrt(N)
    if loss == "logistic":
        def fg(w):
            u = A @ w
            return np.logaddexp(0, -u).sum() + lam / 2 * w @ w, -A.T @ special.expit(-u) + lam * w
        w = optimize.minimize(fg, np.zeros(N), jac=True, method="L-BFGS-B",
                              options=dict(gtol=1e-10, maxiter=10000)).x
        tl = np.mean(np.logaddexp(0, -(A @ w)))
    else:  # hinge through its dual, w = A^T a / lam, 0 <= a <= 1
        Q = A @ A.T

        def dual(a):
            Qa = Q @ a
            return -(a.sum() - a @ Qa / (2 * lam)), -(1 - Qa / lam)
        a = optimize.minimize(dual, np.zeros(P), jac=True, method="L-BFGS-B",
                              bounds=[(0, 1)] * P,
                              options=dict(gtol=1e-8, ftol=1e-12, maxiter=20000)).x
        w = A.T @ a / lam
        tl = np.mean(np.maximum(0, 1 - A @ w))
    return w @ ws / N, w @ w / N, tl


@pytest.mark.parametrize("loss,N,n_seeds,rtol_m,rtol_q,atol_tl", [
    ("logistic", 1000, 3, 0.05, 0.05, 0.008),
    ("hinge", 300, 4, 0.08, 0.09, 0.012),
])
def test_erm_simulation(loss, N, n_seeds, rtol_m, rtol_q, atol_tl):
    # finite-N ERM at alpha = 2, lam = 0.1 versus the replica prediction.  Tolerances are ~4
    # standard errors of the seed average (per-sample spread measured separately: hinge N=300
    # sd(m) ~ 0.07, sd(q) ~ 0.19, sd(train loss) ~ 0.006); a sanity check of the whole replica
    # derivation, the precise checks being the analytic ones above.
    alpha, lam = 2.0, 0.1
    d = reg.erm_sign(loss, alpha, lam)
    sims = np.array([_simulate(loss, alpha, lam, N, s) for s in range(n_seeds)])
    m, q, tl = sims.mean(axis=0)
    assert m == pytest.approx(d["m"], rel=rtol_m)
    assert q == pytest.approx(d["q"], rel=rtol_q)
    assert tl == pytest.approx(d["train_loss"], abs=atol_tl)


def test_erm_flip_noise_runs_and_is_worse():
    # label noise can only hurt: eps_gen increases with the flip probability
    for loss in ("hinge", "logistic"):
        e = [reg.erm_sign(loss, 2.0, 0.3, flip=f)["eps_gen"] for f in (0.0, 0.1, 0.2)]
        assert e[0] < e[1] < e[2]
        assert reg.erm_sign(loss, 2.0, 0.3, flip=0.2)["train_error"] > 0.1


def test_iterations_raise_when_not_converged():
    with pytest.raises(reg.ConvergenceError):
        reg.erm_sign("logistic", 2.0, 0.1, max_iter=2, use_root=False)
    with pytest.raises(reg.ConvergenceError):
        reg.ridge_regression_replica(1.0, 0.1, 1e-3, max_iter=3)


def test_bad_arguments():
    with pytest.raises(ValueError):
        reg.erm_sign("exponential", 1.0, 0.1)
    with pytest.raises(ValueError):
        reg.erm_sign("hinge", 1.0, 0.0)


# --------------------------------------------------------------------------------------------
# 4. Existence of the logistic MLE
# --------------------------------------------------------------------------------------------

def test_cover_and_candes_sur():
    # Cover 1965 / Candes & Sur 2020: h(0) = 1/2, so with no signal the MLE exists iff alpha > 2
    assert reg.candes_sur_h(0.0) == pytest.approx(0.5, abs=1e-12)
    assert not reg.logistic_mle_exists(1.9)
    assert reg.logistic_mle_exists(2.1)
    # h decreases with the signal strength and vanishes for a noiseless teacher
    hs = [reg.candes_sur_h(s) for s in (0.0, 1.0, 3.0, 30.0)]
    assert all(a > b for a, b in zip(hs[:-1], hs[1:]))
    assert hs[-1] < 0.05
