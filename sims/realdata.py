"""A real data set seen through random features, and its Gaussian covariate model.

scikit-learn's ``load_digits`` (1797 images of 8 × 8 pixels, shipped with the package): inputs x
centred and scaled so that tr Σ/D = 1 (D = 64), label y = +1 for even digits, −1 for odd ones;
student features z = relu(Fx/√D) (N of them, F i.i.d. N(0, 1), centred over the data set).
The covariate model (Loureiro et al. 2021, arXiv:2102.08127, Sec. 4): the teacher sees
u = (x, z) and its weights θ are the least-squares fit of y on u/√dim u over the whole set; the
residual y − θ·u/√dim u, orthogonal to everything the student can express, is the label noise
Δ.  Its covariances Ψ, Ω, Φ are estimated on the whole set.  The experiment: ridge on P images
drawn from the set, test error on the rest, over independent draws.
"""
from __future__ import annotations

import numpy as np

from replica import Model, channels, learning, losses, priors
from replica.features import GaussianCovariate

__all__ = ["digits_problem", "digits_model", "ridge_learning_curve"]


def digits_problem(n_features: int = 128, seed: int = 0) -> dict:
    """{"x", "y", "z", "u", "theta", "delta"} for the digits seen through ``n_features`` ReLU features."""
    from sklearn.datasets import load_digits
    x, label = load_digits(return_X_y=True)
    x = x - x.mean(0)
    x = x / np.sqrt((x**2).sum(1).mean() / x.shape[1])
    y = np.where(label % 2 == 0, 1.0, -1.0)
    D = x.shape[1]
    F = np.random.default_rng(seed).standard_normal((n_features, D))
    z = np.maximum(x @ F.T / np.sqrt(D), 0.0)
    z = z - z.mean(0)
    u = np.hstack([x, z])
    theta = np.linalg.lstsq(u / np.sqrt(u.shape[1]), y, rcond=None)[0]
    residual = y - u @ theta / np.sqrt(u.shape[1])
    return {"x": x, "y": y, "z": z, "u": u, "theta": theta, "delta": float(residual.var())}


def digits_model(problem: dict) -> Model:
    """Ridge on the features with the covariate model of ``problem`` (α = P/dim u)."""
    gcm = GaussianCovariate.from_samples(problem["u"], problem["z"], teacher_weights=problem["theta"])
    return Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                 learning=learning.ERM(losses.Square(), ridge="lam"), features=gcm, name="digits-random-features",
                 defaults={"delta": problem["delta"], "lam": 0.5})


def ridge_learning_curve(problem: dict, sizes, lam: float, draws: int = 20, seed: int = 100) -> tuple:
    """(mean, standard error) over ``draws`` of the held-out error E(ŷ − y)² of ridge
    Σ ½(y − w·z/√N)² + (λ/2)|w|² on P = sizes[k] random images, tested on the others."""
    z, y = problem["z"], problem["y"]
    n, N = z.shape
    means, ses = [], []
    for P in sizes:
        errs = []
        for s in range(draws):
            idx = np.random.default_rng(seed + s).permutation(n)
            tr, te = idx[:P], idx[P:]
            A = z[tr]
            w = np.linalg.solve(A.T @ A / N + lam * np.eye(N), A.T @ y[tr] / np.sqrt(N))
            errs.append(float(((z[te] @ w / np.sqrt(N) - y[te])**2).mean()))
        means.append(np.mean(errs)), ses.append(np.std(errs, ddof=1) / np.sqrt(draws))
    return np.array(means), np.array(ses)
