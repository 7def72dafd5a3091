"""ERM at finite N against the independent oracles of tests/oracles/regression.py (random-matrix
closed form for ridge, Aubin et al. 2020 fixed point for hinge and logistic), and the
optimizer's own defining properties (stationarity, KKT, non-existence on separable data)."""
import math

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
