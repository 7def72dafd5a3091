"""ERM at finite N against the independent oracles of tests/oracles/regression.py (random-matrix
closed form for ridge, Aubin et al. 2020 fixed point for hinge and logistic), and the
optimizer's own defining properties (stationarity, KKT, non-existence on separable data)."""
import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy.stats import t as student_t

from oracles.regression import erm_sign, ridge_regression
from replica import losses
from sims.data import sample
from sims.erm import run_erm
from sims.measure import estimator_observables, summarize


def _agree(values, theory, n, c=0.1):
    """The verify rule: |mean - theory| <= t_{S-1}(0.995) stderr + c/sqrt(N)."""
    mean, se, k = summarize(values)
    tol = student_t.ppf(0.995, k - 1) * se + c / math.sqrt(n)
    assert abs(mean - theory) <= tol, (mean, se, theory, tol)
    return mean, se


@pytest.mark.parametrize("alpha", [0.5, 2.0, 3.0])
def test_ridge_test_error_matches_random_matrix_theory(alpha):
    n, lam, delta = 300, 0.1, 0.1
    d = sample("ridge", {"delta": delta, "lam": lam}, n=n, seeds=6, alpha=alpha)
    r = run_erm(d)
    assert bool(r["converged"].all())
    obs = estimator_observables(r["w_hat"], d)
    ref = ridge_regression(alpha, delta, lam)
    _agree(obs["generalization_error"], ref["test_error"], n)
    _agree(obs["training_error"], ref["train_mse"], n)
    _agree(obs["m"], ref["m"], n)


def test_hinge_at_one_alpha_exact_minimizer():
    n, alpha, lam = 200, 2.0, 0.1
    d = sample("hinge", {"flip": 0.0, "lam": lam}, n=n, seeds=6, alpha=alpha)
    r = run_erm(d)
    assert bool(r["converged"].all()) and float(r["kkt"].max()) == 0.0
    # subgradient optimality of the non-smooth objective, checked directly: with
    # theta_mu = -dl/dlam in [0, 1], lam w = sum theta y x / sqrt(N) and theta = 1 on errors
    w = r["w_hat"]
    lamb = (d.X @ w[..., None])[..., 0] / n**0.5
    u = 1 - d.y * lamb
    assert float(u[u.abs() < 1e-9].numel()) > 0                          # support vectors on the margin
    obs = estimator_observables(w, d)
    ref = erm_sign("hinge", alpha, lam)
    _agree(obs["generalization_error"], ref["eps_gen"], n)
    _agree(obs["m"], ref["m"], n, c=0.5)                                   # m ~ 1.6: scale the allowance
    _agree(obs["Q"], ref["q"], n, c=1.0)


def test_logistic_at_one_alpha_and_separable_data():
    n, alpha, lam = 200, 2.0, 0.1
    d = sample("logistic", {"flip": 0.0, "lam": lam}, n=n, seeds=6, alpha=alpha)
    r = run_erm(d)
    assert bool(r["converged"].all()) and float(r["gradient"].max()) < 1e-8
    ref = erm_sign("logistic", alpha, lam)
    _agree(estimator_observables(r["w_hat"], d)["generalization_error"], ref["eps_gen"], n)
    # lam = 0 on noiseless labels: the data are separable (by the teacher), no minimizer exists
    d0 = sample("logistic", {"flip": 0.0, "lam": 0.0}, n=40, seeds=2, alpha=2.0)
    r0 = run_erm(d0, max_iter=30)
    assert not bool(r0["converged"].any())


def test_custom_losses_take_the_same_path():
    """A custom square loss (closed form) and a custom hinge (active set) give the built-ins' minimizers."""
    y, lam = sp.symbols("y lam")
    d = sample("hinge", {"flip": 0.05, "lam": 0.2}, n=60, seeds=2, alpha=1.5)
    ref = run_erm(d)
    alt = run_erm(d, loss=losses.Custom(sp.Max(0, 1 - y * lam), y, lam))
    assert torch.allclose(alt["w_hat"], ref["w_hat"], atol=1e-10)
    sq = run_erm(d, loss=losses.Custom((1 - y * lam)**2 / 2, y, lam))     # = (y - lam)^2/2 for y = +-1
    assert sq["method"].startswith("closed form")
    A = d.X / 60**0.5
    H = A.transpose(1, 2) @ A + 0.2 * torch.eye(60, dtype=torch.float64)
    direct = torch.linalg.solve(H, (A.transpose(1, 2) @ d.y[..., None])[..., 0])
    assert torch.allclose(sq["w_hat"], direct, atol=1e-10)
    # a kinked loss that is not of hinge form: smoothing continuation with a KKT certificate
    ab = run_erm(d, loss=losses.Custom(sp.Abs(y - lam), y, lam))
    assert bool(ab["converged"].all()) and float(ab["kkt"].max()) <= 1e-8
    with pytest.raises(ValueError, match="convex"):
        run_erm(d, loss=losses.Custom(sp.Heaviside(-y * lam) + (y - lam)**2, y, lam))


def test_piecewise_losses_are_minimized_and_certified():
    """A Piecewise loss (Huber, written by the user) is minimized by the smoothing continuation and
    certified by the KKT condition of the exact loss: the minimizer is scipy's L-BFGS on the exact
    (C¹) Huber objective; |y − λ| written as a Piecewise gives the minimizer of sp.Abs; a Piecewise
    with a jump is not convex and refused."""
    from scipy.optimize import minimize
    y, lam = sp.symbols("y lam")
    d = sample("hinge", {"flip": 0.05, "lam": 0.2}, n=60, seeds=2, alpha=1.5)
    yr = d.y + 0.7 * torch.randn(d.y.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    d.y = yr                                    # real labels, some beyond the Huber threshold
    r = y - lam
    huber = run_erm(d, loss=losses.Custom(sp.Piecewise((r**2 / 2, sp.Abs(r) <= 1), (sp.Abs(r) - sp.Rational(1, 2), True)),
                                          y, lam), ridge=0.2)
    assert bool(huber["converged"].all()) and float(huber["kkt"].max()) <= 1e-8
    for s in range(2):
        A, t = d.X[s].numpy() / 60**0.5, yr[s].numpy()

        def f(w):
            res = t - A @ w
            g = np.where(np.abs(res) <= 1, res, np.sign(res))
            return np.where(np.abs(res) <= 1, res**2 / 2, np.abs(res) - 0.5).sum() + 0.1 * w @ w, -A.T @ g + 0.2 * w
        ref = minimize(f, np.zeros(60), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000})
        assert np.max(np.abs(huber["w_hat"][s].numpy() - ref.x)) < 1e-6
    small = sample("hinge", {"flip": 0.05, "lam": 0.2}, n=30, seeds=1, alpha=1.5)
    ab = run_erm(small, loss=losses.Custom(sp.Abs(y - lam), y, lam))
    pw = run_erm(small, loss=losses.Custom(sp.Piecewise((lam - y, lam > y), (y - lam, True)), y, lam))
    assert bool(pw["converged"].all()) and torch.allclose(pw["w_hat"], ab["w_hat"], atol=1e-6)
    with pytest.raises(ValueError, match="convex"):
        run_erm(d, loss=losses.Custom(sp.Piecewise(((y - lam)**2, y > lam), ((y - lam)**2 + 1, True)), y, lam))
