"""Gaussian covariate models given by matrices: simulations drawn from the matrices themselves
(sims/features.py — (u, z) from the joint covariance, the teacher's given weights) against the
theory, through ``verify`` (the real-data covariances of sims/realdata.py: digits through 128 ReLU
features); spectral densities as input against a large sampled matrix of the same spectrum."""
from __future__ import annotations

import numpy as np
import pytest

from sims.features import simulate_features_point
from sims.realdata import digits_model, digits_problem
from sims.verify import verify


def test_verify_a_covariate_model_from_data_matrices():
    prob = digits_problem(n_features=128)
    model = digits_model(prob)
    D = prob["u"].shape[1]
    doc = verify(model, ("alpha", [80 / D, 320 / D]), {"lam": 0.5, "delta": prob["delta"]}, n=[D], seeds=16)
    assert doc["verdict"] == "agree", doc["points"]
    assert {p["observable"] for p in doc["points"]} >= {"generalization_error", "m", "Q", "training_error"}
    with pytest.raises(ValueError, match="fixed input dimension"):
        simulate_features_point(model, {"alpha": 1.0}, 100, 2)


def test_spectral_density_input_matches_a_large_sampled_matrix_of_the_same_spectrum():
    """A power-law density ρ(ω) ∝ ω^(−3/2) on [0.01, 1] (Ψ = Φ = Ω): the package's solve of
    ``GaussianCovariate.from_density`` against the hand-written ridge saddle point
    (tests/oracles/gcm_ridge.py) over the eigen-decomposition of a 400 × 400 matrix whose
    eigenvalues are that density's quantiles, in a random basis (τ² from the matrices)."""
    import sympy as sp
    from scipy.stats import ortho_group

    import replica
    from replica import Model, channels, learning, losses, priors
    from replica.features import GaussianCovariate
    from tests.oracles.gcm_ridge import gcm_ridge_error

    a, b, N = 0.01, 1.0, 400
    w = sp.Symbol("w", positive=True)
    feat = GaussianCovariate.from_density(w**sp.Rational(-3, 2), (a, b), nodes=24)
    model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                  learning=learning.ERM(losses.Square(), ridge="lam"), features=feat, name="gcm-power-law")
    pts = {"alpha": np.array([0.5, 2.0, 1.0]), "lam": np.array([0.01, 0.01, 0.1]), "delta": 0.1}
    got = replica.solve(model, pts)
    assert got.converged.all()
    # the matrix route: quantiles of the density, F(ω) = (a^-½ − ω^-½)/(a^-½ − b^-½), a random basis
    ev = (a**-0.5 - (np.arange(N) + 0.5) / N * (a**-0.5 - b**-0.5))**-2
    V = ortho_group.rvs(N, random_state=1)
    Om = (V * ev) @ V.T
    om, U = np.linalg.eigh((Om + Om.T) / 2)
    tau2 = np.einsum("ij,ij->j", U, Om.T @ Om @ U)            # (N/D) v_iᵀ ΦᵀΦ v_i with Φ = Ω
    rho = np.trace(Om) / N
    for k in range(3):
        ref = gcm_ridge_error(om, np.full(N, 1 / N), tau2, rho, pts["alpha"][k], 1.0, pts["lam"][k], 0.1)
        assert got["generalization_error"][k] == pytest.approx(ref, rel=2e-4)
    with pytest.raises(replica.ComponentError, match="support"):
        GaussianCovariate.from_density(w, (1.0, 0.5))
