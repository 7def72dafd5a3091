"""Real data (scikit-learn's digits) through ReLU random features: the Gaussian covariate model with
covariances estimated from the data predicts ridge's held-out learning curve (sims/realdata.py).
The experiment's error bars: t₀.₉₉₅ × standard error over 20 draws, plus the simulations' finite-size
allowance 0.1/√N (N = 128 features).  At P = 1000 of the 1797 images the held-out error is 0.015
above the theory: the training draws are then most of the finite pool the teacher was fitted on
(see the note in derivations/gallery/gallery.md)."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

import replica
from replica.solve import solve
from sims.realdata import digits_model, digits_problem, ridge_learning_curve

SIZES = np.array([20, 40, 80, 160, 320, 640])


def test_digits_learning_curve_matches_the_covariate_model():
    prob = digits_problem(n_features=128)
    model = digits_model(prob)
    lam = 0.5
    dim = prob["u"].shape[1]
    sol = solve(replica.derive(model).compile(), {"alpha": SIZES / dim, "lam": lam, "delta": prob["delta"]})
    assert np.all(sol.converged)
    theory = sol["generalization_error"] + prob["delta"]      # against the labels: + the residual
    mean, se = ridge_learning_curve(prob, SIZES, lam, draws=20)
    tol = stats.t.ppf(0.995, 19) * se + 0.1 / math.sqrt(128)
    assert np.all(np.abs(mean - theory) <= tol), (mean, se, theory)
    assert np.all(np.diff(theory) < 0)                         # a learning curve: it decreases
