"""Online-SGD ODEs of soft committee machines (replica/dynamics/sgd.py, gaussian.py).

Independent references:
* Saad & Solla, PRL 74, 4337 (1995): the symmetric plateau Q_ii = Q_ik = 1/(2K − 1),
  R_in = 1/√(K(2K − 1)) for K = M erf units, T = I — a zero of the O(η) part of the ODEs
  (VALIDATION.md, committee table), written out by hand here;
* the closed-form erf averages against tensor Gauss–Hermite quadrature of the same
  expectations, and the ReLU quadrature against plain NumPy Monte Carlo;
* ε_g(t) against online-SGD simulations of ``sims.twolayer`` at N = 500 (same initial overlaps,
  paired per seed), K = M = 2 and 3: |mean(sim − ODE)| ≤ t_{0.995}(S − 1) · stderr.
"""
import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from replica.dynamics.gaussian import activation, moments
from replica.dynamics.sgd import generalization_error, integrate_sgd, plateau, rhs
from replica.params import ParameterError


def _random_cov(L, seed):
    A = np.random.default_rng(seed).normal(size=(L, L))
    return A @ A.T / L + 0.3 * np.eye(L)


@pytest.mark.parametrize("K", [2, 3])
def test_plateau_is_a_fixed_point_of_the_gradient_flow_part(K):
    q = 1.0 / (2 * K - 1)
    Q = np.full((K, K), q)
    R = np.full((K, K), 1.0 / math.sqrt(K * (2 * K - 1)))
    assert np.allclose(plateau(K)["Q"], Q) and np.allclose(plateau(K)["R"], R)
    dQ, dR = rhs(Q, R, np.eye(K), 1.0, orders=(1,))
    assert np.max(np.abs(dQ)) < 1e-12 and np.max(np.abs(dR)) < 1e-12
    # not a fixed point elsewhere: the test can fail
    dQ, dR = rhs(1.1 * Q, R, np.eye(K), 1.0, orders=(1,))
    assert np.max(np.abs(dQ)) > 1e-3


def test_trajectory_reaches_the_plateau():
    """Small random initial weights: ε_g stalls near the plateau value (Saad & Solla's ε_g formula
    at Q = C = 1/(2K − 1), R = S = 1/√(K(2K − 1)), by hand); the stall's offset is O(η), so the
    Richardson extrapolation 2 ε(η/2) − ε(η) of the flattest values lands on the plateau."""
    K = 2
    rng = np.random.default_rng(3)
    W = rng.normal(size=(K, 400)) * 0.1
    Ws = np.linalg.qr(rng.normal(size=(400, K)))[0].T * math.sqrt(400)
    Q0, R0 = W @ W.T / 400, W @ Ws.T / 400
    q, r = 1 / 3, 1 / math.sqrt(6)
    asin = lambda c, a, b: math.asin(c / math.sqrt((1 + a) * (1 + b)))  # noqa: E731
    eg_plateau = (1 / math.pi) * (K * K * asin(q, q, q) + K * asin(1, 1, 1) - 2 * K * K * asin(r, q, 1))
    flat = []
    for eta in (0.05, 0.025):
        t_max = 20 / eta
        tr = integrate_sgd(Q0, R0, np.eye(K), eta, t_max, t_eval=np.linspace(0, t_max, 401), rtol=1e-8, atol=1e-11)
        assert tr.success
        slope = np.abs(np.gradient(tr.generalization_error, tr.t))
        j = int(np.argmin(slope[20:])) + 20           # the flattest point after the initial drop
        assert np.max(np.abs(tr.Q[j] - q)) < 0.02 and np.max(np.abs(tr.R[j] - r)) < 0.02
        flat.append(tr.generalization_error[j])
    assert abs(flat[1] - eg_plateau) > abs(2 * flat[1] - flat[0] - eg_plateau)
    assert abs(2 * flat[1] - flat[0] - eg_plateau) < 0.01 * eg_plateau


@pytest.mark.parametrize("K,M", [(2, 2), (2, 3)])
def test_erf_closed_forms_equal_quadrature(K, M):
    """Gauss–Hermite converges geometrically to the closed forms: error < tol and shrinking."""
    C = 0.5 * _random_cov(K + M, K + 10 * M) + 0.35 * np.eye(K + M)
    g = activation("erf")
    closed = moments(C, K, g, g, noise=0.1)
    n_lo, n_hi, tol = (10, 16, 2e-4) if K + M == 4 else (8, 12, 2e-3)
    err = [max(float(np.max(np.abs(a - b))) for a, b in zip(closed, moments(C, K, g, g, noise=0.1, closed_form=False,
                                                                              nodes=n))) for n in (n_lo, n_hi)]
    assert err[1] < tol and err[1] < err[0] / 4


def test_relu_quadrature_against_monte_carlo():
    K, M = 2, 2
    C = _random_cov(4, 7)
    g = activation("relu")
    E_dh, E_dd, eg = moments(C, K, g, g, nodes=26)
    h = np.random.default_rng(0).multivariate_normal(np.zeros(4), C, size=400_000).T
    f = np.maximum(h, 0)
    e = f[K:].sum(0) - f[:K].sum(0)
    gp = (h[:K] > 0).astype(float)
    for est, samples in ((E_dh[0, 2], gp[0] * e * h[2]), (E_dd[0, 1], gp[0] * gp[1] * e * e),
                         (eg, 0.5 * e * e)):
        assert abs(est - samples.mean()) < 5 * samples.std() / math.sqrt(samples.size)


def test_custom_activation_goes_through_the_same_path():
    import sympy as sp
    x = sp.Symbol("x")
    C = _random_cov(4, 2)
    named = moments(C, 2, activation("tanh"), activation("tanh"), nodes=10)
    custom = moments(C, 2, activation(sp.tanh(x)), activation(sp.tanh(x)), nodes=10)
    for a, b in zip(named, custom):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14)


def test_bad_input():
    with pytest.raises(ParameterError):
        activation("softsign")
    with pytest.raises(ParameterError):
        integrate_sgd(np.eye(2), np.eye(2), np.eye(2), -0.5, 1.0)
    with pytest.raises(ParameterError):
        integrate_sgd(np.eye(3), np.eye(2), np.eye(2), 0.5, 1.0)


@pytest.mark.parametrize("K", [2, 3])
def test_generalization_error_agrees_with_online_sgd_simulations(K):
    from sims.twolayer import make_teacher, run_online_sgd
    N, S, eta, t_max = 500, 4, 0.5, 6.0
    run = run_online_sgd(make_teacher(N, K, S, seed=1), K, eta, t_max, records=7, init_scale=0.5, n_test=2)
    ode = np.array([integrate_sgd(run.Q[s, 0], run.R[s, 0], run.T[s], eta, t_max, t_eval=run.alpha,
                                  rtol=1e-7, atol=1e-10).generalization_error for s in range(S)])
    # the ODE's ε_g is the same closed form as the simulation's at t = 0
    assert np.allclose(ode[:, 0], run.eg[:, 0], rtol=1e-10)
    d = run.eg[:, 1:] - ode[:, 1:]
    se = d.std(0, ddof=1) / math.sqrt(S)
    tol = student_t.ppf(0.995, S - 1) * se
    assert np.all(np.abs(d.mean(0)) <= tol), (d.mean(0), tol)
    assert ode[:, -1].mean() < 0.5 * ode[:, 0].mean()          # it learned: the comparison has content
