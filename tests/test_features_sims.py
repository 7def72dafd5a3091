"""Logistic and hinge ERM on real random features (sims/features.py, torch) against the Gaussian
covariate theory of the same Model: agreement within the simulation's error bars plus a
finite-size allowance c/√D (tiny sizes here; benchmarks/bench_features.py goes larger)."""
from __future__ import annotations

import math

import pytest

import replica
from replica import Model, channels, learning, losses, priors
from replica.features import RandomFeatures
from replica.solve import solve
from sims.measure import summarize
from sims.verify import simulate_point

D, SEEDS = 250, 6


def _hinge_relu():
    return Model(prior=priors.Gaussian(1), teacher=channels.Sign(), learning=learning.ERM(losses.Hinge(), ridge="lam"),
                 features=RandomFeatures("relu"), name="rf-hinge-relu", defaults={"psi": 1.5, "lam": 0.1})


@pytest.mark.parametrize("spec, point", [
    ("random-features-logistic", {"alpha": 2.0, "psi": 1.5, "lam": 0.1}),
    (_hinge_relu, {"alpha": 1.5, "psi": 2.0, "lam": 0.05}),
])
def test_classification_on_random_features_matches_simulation(spec, point):
    model = replica.load_model(spec) if isinstance(spec, str) else spec()
    th = solve(replica.derive(model).compile(), point).to_records()[0]
    assert th["converged"]
    sim = simulate_point(model, point, D, SEEDS, seed=3)
    assert bool(sim["converged"].all())
    for name in ("generalization_error", "training_error", "Q", "m"):
        mean, se, k = summarize(sim["observables"][name])
        assert k == SEEDS
        assert abs(mean - th[name]) <= 4 * se + 0.5 / math.sqrt(D) * (1 if name in ("Q", "m") else 0.2), \
            (name, mean, se, th[name])
