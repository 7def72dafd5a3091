"""The bias-variance decomposition of ridge on features (replica.features.decomposition, the
two-student overlaps of replica.features.two_student): each term against a simulation that
measures it directly (sims.decomposition: students trained with shared / independent data,
features and noise, real ReLU features) at two sizes; the two-student overlaps against Jacot et
al.'s effective-ridge shortcut (a separate route through the plain ridge theory) to 1e-10 and the
effective ridge against the Marchenko–Pastur density (mpmath); ridge on x against the isotropic
closed form (tests/oracles/ridge_isotropic.py); a Gaussian covariate model from data matrices
against its direct simulation; the ensemble of K students against its direct measurement."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy.optimize import brentq

import replica
from replica.features import RandomFeatures
from replica.features.decomposition import (FIXED_TERMS, SYMMETRIC, TERMS, DecompositionError, decomposition,
                                            effective_ridge, ensemble_error, shortcut_overlaps)
from replica.features.two_student import PairError, pair_overlap
from sims.decomposition import measure_decomposition, measure_ensemble
from sims.realdata import digits_model, digits_problem
from tests.oracles.ridge_isotropic import isotropic_ridge_terms

# (alpha, psi, lam, delta): psi from 0.5 to 5, lam from 1e-3 to 1, noise > 0
POINTS = [(1.5, 0.5, 1e-3, 0.1), (1.5, 0.8, 0.01, 0.2), (1.5, 1.2, 0.1, 0.1), (2.0, 2.0, 1e-3, 0.1),
          (0.7, 3.0, 0.3, 0.5), (3.0, 5.0, 1.0, 0.5), (1.0, 4.0, 0.05, 0.05), (2.5, 1.5, 0.02, 0.3)]


def _grid():
    a, p, l, d = (np.array(c) for c in zip(*POINTS))
    return {"alpha": a, "psi": p, "lam": l, "delta": d}


def _lam_tilde_from_density(mu1sq, ms2, alpha, psi, lam):
    """λ̃ = λ + λ̃ (α/ψ) E_s[k/(k + λ̃)], k = μ₁² s + μ*², with E_s from the Marchenko–Pastur density
    of XXᵀ/D (ratio α; atom at 0 of mass 1 − 1/α for α > 1) integrated by mpmath."""
    a, b = (1 - math.sqrt(alpha))**2, (1 + math.sqrt(alpha))**2

    def mean(t):
        with mpmath.workdps(18):
            k = lambda x: mu1sq * x + ms2  # noqa: E731
            dens = lambda x: mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * alpha * x)  # noqa: E731
            out = mpmath.quad(lambda x: k(x) / (k(x) + t) * dens(x), [a, b])
            if alpha > 1:
                out += (1 - 1 / alpha) * ms2 / (ms2 + t)
        return float(out)
    return brentq(lambda t: 1 - lam / t - alpha / psi * mean(t), lam * (1 + 1e-14), lam + 10, xtol=1e-15, rtol=1e-14)


def test_effective_ridge_matches_the_marchenko_pastur_density():
    rf = RandomFeatures("relu")
    mu1sq, ms2 = float(rf.mu1)**2, float(rf.mustar)**2
    g = _grid()
    got = effective_ridge(rf, g["alpha"], g["psi"], g["lam"])
    for k, (a, p, lam, _) in enumerate(POINTS[:2]):
        assert got[k] == pytest.approx(_lam_tilde_from_density(mu1sq, ms2, a, p, lam), rel=1e-9)
    # ridgeless: more features than samples -> 0; fewer -> the positive root
    lt = effective_ridge(rf, [1.0, 2.0], [2.0, 1.0], [0.0, 0.0])
    assert lt[0] == 0.0 and lt[1] > 0.1


def test_two_student_overlaps_equal_the_effective_ridge_shortcut():
    """Q_X and Q_Xε (same data, independent features) from the two-student replica equations
    against the shortcut (E_F f̂ = ridge on x at Jacot et al.'s effective ridge, the plain ridge
    theory solved at λ_e): equal to 1e-10.  Q_PX against 2Q(Δ) − Q(2Δ) (a second solve), Q_∅
    against m²/ρ (rotation invariance), the all-shared pair against the single student's Q."""
    g = _grid()
    d = decomposition("random-features", g)
    assert d["converged"].all()
    sc = shortcut_overlaps("random-features", g)
    assert sc["converged"].all()
    for k in ("Q_X", "Q_X_eps"):
        np.testing.assert_allclose(d[k], sc[k], rtol=1e-10, atol=1e-10, err_msg=k)
    np.testing.assert_allclose(sc["m_on_inputs"], d["m"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(d["Q_none"], d["m"]**2 / d["rho"], rtol=1e-9)
    twice = replica.solve("random-features", {**g, "delta": 2 * g["delta"]})
    np.testing.assert_allclose(d["Q_PX"], 2 * d["Q"] - twice["Q"], rtol=1e-9)
    model = replica.load_model("random-features")
    sol = replica.solve(model, g)
    same = pair_overlap(model, {**g, **{k: sol[k] for k in ("Q", "m", "chi", "m_hat", "chi_hat", "q_hat")},
                                "rho": d["rho"]}, same_features=True, same_data=True, same_noise=True)
    np.testing.assert_allclose(same, d["Q"], rtol=1e-9)
    for k in ("var_sampling", "var_init", "var_noise", "var_P", "var_PX", "var_X_eps", "var_PX_eps"):
        assert (d[k] > -1e-10).all(), k
    assert (d["ensemble_error"] <= d["generalization_error"] + 1e-12).all()


def test_ridge_on_inputs_against_the_isotropic_closed_form():
    """No features (the built-in ``ridge``): bias², var_sampling, var_noise from the two-student
    equations against Hastie et al.'s Marchenko–Pastur forms (tests/oracles, mpmath)."""
    pts = {"alpha": np.array([0.5, 1.5, 3.0, 1.0]), "lam": np.array([0.05, 0.01, 0.3, 0.1]),
           "delta": np.array([0.3, 0.1, 0.5, 0.2])}
    d = decomposition("ridge", pts)
    assert d["converged"].all()
    for k in range(4):
        ref = isotropic_ridge_terms(pts["alpha"][k], pts["lam"][k], 1.0, pts["delta"][k])
        for name in FIXED_TERMS + ("generalization_error",):
            assert d[name][k] == pytest.approx(ref[name], rel=1e-8, abs=1e-12), (k, name)


def test_covariate_model_decomposition_matches_its_direct_simulation():
    """A Gaussian covariate model from data matrices (digits through 128 ReLU features, fixed
    teacher θ): bias², var_sampling, var_noise against students trained on independent draws of
    the data and the noise from the matrices (sims.decomposition)."""
    prob = digits_problem(n_features=128)
    model = digits_model(prob)
    D = prob["u"].shape[1]
    point = {"alpha": 160 / D, "lam": 0.5, "delta": prob["delta"]}
    th = decomposition(model, point)
    assert bool(th["converged"])
    sim = measure_decomposition(model, point, teachers=12, data=3, noises=2)
    for k in ("generalization_error",) + FIXED_TERMS:
        mean, se = sim["mean"][k], sim["stderr"][k]
        print(f"{k}: {mean:.5f} ± {se:.5f} theory {float(th[k]):.5f}")
        assert abs(mean - float(th[k])) < 4 * se, (k, mean, se, float(th[k]))


def test_ensemble_of_k_students_matches_its_direct_measurement():
    """E_K = E_∞ + (E_1 − E_∞)/K from the decomposition against ensembles of K students with
    independent ReLU features on the same data, measured directly (D = 100)."""
    point = {"alpha": 1.5, "psi": 1.2, "lam": 0.01, "delta": 0.1}
    d = decomposition("random-features", point)
    Ks = np.array([1, 2, 5])
    th = ensemble_error(d, Ks)
    sim = measure_ensemble("random-features", point, n=100, teachers=24, K=Ks, test=1500)
    for k, K in enumerate(Ks):
        print(f"K={K}: {sim['mean'][k]:.4f} ± {sim['stderr'][k]:.4f} theory {th[k]:.4f}")
        assert abs(sim["mean"][k] - th[k]) < 4 * sim["stderr"][k], (K, sim["mean"][k], sim["stderr"][k], th[k])
    assert th[0] > th[1] > th[2] > float(d["ensemble_error"])


def test_decomposition_refuses_models_outside_its_reach():
    with pytest.raises(DecompositionError, match="random features"):
        ensemble_error({"generalization_error": np.ones(1)}, 2)
    with pytest.raises(DecompositionError, match="random features"):
        shortcut_overlaps("ridge")
    # the pair's equations: an affine proximal map (square loss), independent features only for RF
    with pytest.raises(PairError, match="affine"):
        pair_overlap(replica.load_model("random-features-logistic"), {}, same_features=True, same_data=True,
                     same_noise=False)
    with pytest.raises(PairError, match="random features only"):
        pair_overlap(replica.load_model("ridge"), {}, same_features=False, same_data=True, same_noise=False)
    with pytest.raises(DecompositionError, match="ridge regression"):
        decomposition("random-features-logistic")
    with pytest.raises(DecompositionError, match="unknown parameter"):
        decomposition("random-features", {"kappa": 1.0})


@pytest.mark.parametrize("psi", [0.75, 2.0])
def test_each_term_matches_its_direct_measurement_at_two_sizes(psi):
    point = {"alpha": 1.5, "psi": psi, "lam": 0.05, "delta": 0.3}
    th = decomposition("random-features", point)
    names = ("generalization_error",) + TERMS + SYMMETRIC
    for D, teachers in ((60, 16), (120, 12)):
        sim = measure_decomposition("random-features", point, n=D, teachers=teachers, test=1000, seed=3)
        for k in names:
            mean, se = sim["mean"][k], sim["stderr"][k]
            print(f"D={D} {k}: {mean:.4f} ± {se:.4f} theory {float(th[k]):.4f}")
            assert abs(mean - float(th[k])) < 4 * se, (D, k, mean, se, float(th[k]))


def test_phase_diagram_psi_by_lam_traces_the_interpolation_peak():
    """``replica.phase_diagram`` on random features (ψ × λ, small): the interpolation-peak line at
    each λ row is the maximum in ψ of Mei–Montanari's closed form (tests/oracles, scipy)."""
    from scipy import optimize
    from replica.phase import lines
    from tests.oracles.mei_montanari import mm_risk
    a, delta = 1.5, 0.1
    ds = replica.phase_diagram("random-features", ("psi", np.linspace(1.0, 2.0, 5)), ("lam", np.array([0.01])),
                               {"alpha": a, "delta": delta}, refine=0, nodes=96, rule="hermite")
    assert bool(np.all(ds["converged"].values))
    (line,) = [ln for ln in lines(ds) if ln["kind"] == "interpolation_peak"]
    assert line["y"] == [0.01]
    rf = RandomFeatures("relu")
    ms, zeta = float(rf.mustar), float(rf.mu1 / rf.mustar)
    for psi, lam in zip(line["x"], line["y"]):
        ref = optimize.minimize_scalar(lambda p: -mm_risk(zeta, p, a, lam / a / ms**2, 1, delta, dps=20)[0],
                                       bounds=(1.0, 2.0), method="bounded", options={"xatol": 1e-9})
        assert psi == pytest.approx(ref.x, abs=1e-4)


def test_replica_solve_reports_the_decomposition():
    """``replica solve random-features --json``: every point carries the terms, summing to its
    test error (in-process through click's runner)."""
    import json

    from click.testing import CliRunner

    from replica.cli import main
    res = CliRunner().invoke(main, ["solve", "random-features", "--sweep", "psi=0.5:3:2", "--set", "alpha=1.5",
                                    "--set", "lam=0.05", "--set", "delta=0.3", "--json"])
    assert res.exit_code == 0, res.output
    pts = json.loads(res.output)["points"]
    th = decomposition("random-features", {"alpha": 1.5, "psi": np.array([0.5, 3.0]), "lam": 0.05, "delta": 0.3})
    for k, p in enumerate(pts):
        assert sum(p[t] for t in TERMS[:4]) == pytest.approx(p["generalization_error"], rel=1e-9)
        for t in TERMS + SYMMETRIC:
            assert p[t] == pytest.approx(float(th[t][k]), rel=1e-7, abs=1e-12)
