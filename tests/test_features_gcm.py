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
