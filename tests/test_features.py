"""Random features and the Gaussian covariate model (replica.features): ridge regression on
random features against the Mei–Montanari closed form (tests/oracles/mei_montanari.py), the
Marchenko–Pastur averages and the Gaussian-equivalence coefficients against mpmath; the
decomposition of an identity-matrix covariate model against the isotropic closed form."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import replica
from replica import Model, channels, learning, losses, priors
from replica.features import GaussianCovariate, RandomFeatures
from replica.features.decomposition import decomposition
from replica.features.spectrum import mp_mean, mp_stieltjes, s
from replica.solve import solve
from tests.oracles.mei_montanari import mm_risk
from tests.oracles.ridge_isotropic import isotropic_ridge_terms

# (alpha, psi, lam, delta): psi from 0.5 to 5, lam from 1e-3 to 1, noise > 0
POINTS = [(1.5, 0.5, 1e-3, 0.1), (1.5, 0.8, 0.01, 0.2), (1.5, 1.2, 0.1, 0.1), (2.0, 2.0, 1e-3, 0.1),
          (0.7, 3.0, 0.3, 0.5), (3.0, 5.0, 1.0, 0.5), (1.0, 4.0, 0.05, 0.05), (2.5, 1.5, 0.02, 0.3)]


def _mp_density_mean(f, psi):
    """E f(s) under Marchenko-Pastur(psi) from its density (atom at 0 of mass 1 - 1/psi for psi > 1)."""
    a, b = (1 - math.sqrt(psi))**2, (1 + math.sqrt(psi))**2
    with mpmath.workdps(30):
        dens = lambda x: mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * psi * x)  # noqa: E731
        out = mpmath.quad(lambda x: f(x) * dens(x), [a, b])
        if psi > 1:
            out += (1 - 1 / psi) * f(0)
    return float(out)


@pytest.mark.parametrize("psi", [0.5, 3.0])
def test_marchenko_pastur_averages_match_the_density(psi):
    z = -0.37
    assert float(mp_stieltjes(z, psi)) == pytest.approx(_mp_density_mean(lambda x: 1 / (x - z), psi), abs=1e-12)
    f = (3 * s + 1) / (2 * s + 5)**2 + s**2
    ref = _mp_density_mean(lambda x: (3 * x + 1) / (2 * x + 5)**2 + x**2, psi)
    assert float(mp_mean(f, psi)) == pytest.approx(ref, abs=1e-12)


def test_gaussian_equivalence_coefficients():
    x = sp.Symbol("x")
    for act, sig in (("relu", lambda t: max(t, 0)), ("erf", mpmath.erf), ("tanh", mpmath.tanh)):
        rf = RandomFeatures(act)
        with mpmath.workdps(25):
            E = lambda g: mpmath.quad(lambda t: g(t) * mpmath.npdf(t), [-mpmath.inf, 0, mpmath.inf])  # noqa: E731
            m0, m1, m2 = E(sig), E(lambda t: t * sig(t)), E(lambda t: sig(t)**2)
        assert float(rf.mu0) == pytest.approx(float(m0), abs=1e-14)
        assert float(rf.mu1) == pytest.approx(float(m1), abs=1e-14)
        assert float(rf.mustar) == pytest.approx(math.sqrt(float(m2 - m0**2 - m1**2)), abs=1e-14)
    assert RandomFeatures(sp.sin(x)).mu1 != 0
    with pytest.raises(replica.ComponentError):
        RandomFeatures(sp.cos(x))          # μ₁ = 0: no linear signal
    with pytest.raises(replica.ComponentError):
        RandomFeatures("softsign")


def _ridge(act):
    if act == "relu":
        return replica.load_model("random-features")      # the built-in: ReLU features, ridge
    return Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                 learning=learning.ERM(losses.Square(), ridge="lam"), features=RandomFeatures(act),
                 name=f"rf-ridge-{act}")


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_ridge_on_random_features_matches_mei_montanari(act):
    model = _ridge(act)
    rf = model.features
    c = replica.derive(model).compile()
    a, psi, lam, delta = (np.array(v) for v in zip(*POINTS))
    sol = solve(c, {"alpha": a, "psi": psi, "lam": lam, "delta": delta})
    assert np.all(sol.converged)
    recs = sol.to_records()
    zeta = float(rf.mu1 / rf.mustar)
    for r, (al, ps, la, de) in zip(recs, POINTS):
        R, _, _ = mm_risk(zeta, ps, al, la / al / float(rf.mustar)**2, F1sq=1, tau2=de)
        assert r["generalization_error"] == pytest.approx(R, abs=1e-8, rel=1e-8), (act, al, ps, la, de)


def test_gaussian_covariate_with_identity_matrices_is_the_plain_perceptron():
    """Ω = Ψ = Φ = I: the covariate model is ridge regression on x itself (the ``ridge`` built-in)."""
    D = 6
    gcm = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                learning=learning.ERM(losses.Square(), ridge="lam"),
                features=GaussianCovariate(teacher=np.eye(D), student=np.eye(D), cross=np.eye(D)), name="gcm-eye")
    pts = {"alpha": np.array([0.5, 2.0]), "lam": np.array([0.1, 0.01]), "delta": np.array([0.2, 0.1])}
    got = solve(replica.derive(gcm).compile(), pts).to_records()
    ref = solve(replica.derive("ridge").compile(), pts).to_records()
    for g, r in zip(got, ref):
        assert g["generalization_error"] == pytest.approx(r["generalization_error"], abs=1e-10)
    # its decomposition (two-student overlaps on the covariate model's spectrum) against the
    # isotropic closed form (tests/oracles/ridge_isotropic.py, Hastie et al. 2019)
    d = decomposition(gcm, pts)
    for k in range(2):
        oracle = isotropic_ridge_terms(pts["alpha"][k], pts["lam"][k], 1.0, pts["delta"][k])
        for name in ("bias2", "var_sampling", "var_noise"):
            assert d[name][k] == pytest.approx(oracle[name], rel=1e-8, abs=1e-12), (k, name)


def test_features_refuse_what_is_not_derived():
    with pytest.raises(replica.ComponentError):
        GaussianCovariate(teacher=np.eye(3), student=np.eye(4), cross=np.eye(3))
    with pytest.raises(replica.ComponentError):
        Model(prior=priors.Gaussian(1), teacher=channels.Sign(), learning=learning.BayesOptimal(), features="relu")
    bayes = Model(prior=priors.Gaussian(1), teacher=channels.Sign(), learning=learning.BayesOptimal(),
                  features=RandomFeatures("relu"))
    with pytest.raises(ValueError, match="ERM"):
        replica.derive(bayes)


def test_interpolation_peak_along_psi_is_the_maximum_of_the_closed_form():
    """``find_transitions(..., along="psi")`` reports the double-descent peak (near ψ = α at small
    ridge); its location is the maximum in ψ of Mei–Montanari's risk (scipy on the oracle)."""
    from scipy import optimize
    from replica.solve.transitions import interpolation_peak
    a, lam, delta = 1.5, 1e-2, 0.1
    recs = interpolation_peak("random-features", "psi", range=(1.0, 2.0), fixed={"alpha": a, "lam": lam, "delta": delta},
                              grid=9)
    assert [r["kind"] for r in recs] == ["interpolation_peak"]
    rf = RandomFeatures("relu")
    ms, zeta = float(rf.mustar), float(rf.mu1 / rf.mustar)
    ref = optimize.minimize_scalar(lambda p: -mm_risk(zeta, p, a, lam / a / ms**2, 1, delta, dps=20)[0],
                                   bounds=(1.0, 2.0), method="bounded", options={"xatol": 1e-10})
    assert recs[0]["value"] == pytest.approx(ref.x, abs=1e-5)
    assert recs[0]["generalization_error"] == pytest.approx(-ref.fun, rel=1e-8)


def test_builtins_are_listed():
    from replica.builtin import BUILTINS
    for name, params in (("random-features", {"alpha", "psi", "lam", "delta"}),
                         ("random-features-logistic", {"alpha", "psi", "lam"})):
        assert set(BUILTINS[name]().parameter_names()) == params
