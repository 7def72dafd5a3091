"""AMP with denoisers generated from the Model's symbolic components.

Checked against: mpmath evaluations of the denoisers' definitions (log-derivatives of the
partition functions, from their integrals); the exact finite-N posterior mean of the linear
model (ridge with λ = Δ, by linear algebra); the Bayes-optimal MSE of that model in closed
form; the replica theory of ising-bayes (solver) at α = 1, where AMP's state evolution ends at
the partial-recovery fixed point; perfect recovery above the algorithmic threshold
α_alg ≈ 1.493 (Barbier, Krzakala, Macris, Miolane & Zdeborová, PNAS 116, 5451 (2019), Fig. 2).
"""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch

from replica import channels, learning, priors
from replica.codegen.denoisers import DenoiserError, denoisers
from replica.model import Model
from sims import run_amp
from sims.data import sample


@pytest.fixture(scope="session")
def theory_ising():
    """ising-bayes at α = 1 (flip 0 and 0.1), the partial-recovery branch AMP reaches."""
    from replica.solve import solve
    from replica.codegen.compiled import load_compiled
    s = solve(load_compiled("ising-bayes"), {"alpha": 1.0, "flip": np.array([0.0, 0.1])}, init="uninformed")
    assert bool(np.all(s.converged))
    return {0.0: float(s["q"][0]), 0.1: float(s["q"][1])}


def _zcheck(values, target, z=4.0, max_stderr=0.02):
    """The seeds' mean agrees with ``target`` within ``z`` standard errors, and the standard error
    is small enough for that to mean something."""
    v = np.asarray(values, dtype=float)
    se = v.std(ddof=1) / math.sqrt(len(v))
    assert se < max_stderr, (v, se)
    assert abs(v.mean() - target) <= z * se + 2e-3, (v.mean(), target, se)


# -- denoisers against their definitions ----------------------------------------------------
def _mp_sign(y, omega, V, flip):
    """g_out and ∂_ω g_out of the sign channel with flips, by hand: Z = (1-ε)Φ(x) + εΦ(-x),
    x = yω/√V, so Z' = (1-2ε)φ(x) y/√V and Z'' = -(1-2ε) x φ(x)/V."""
    x = y * omega / mpmath.sqrt(V)
    Z = (1 - flip) * mpmath.ncdf(x) + flip * mpmath.ncdf(-x)
    Z1 = (1 - 2 * flip) * mpmath.npdf(x) * y / mpmath.sqrt(V)
    Z2 = -(1 - 2 * flip) * x * mpmath.npdf(x) / V
    return Z1 / Z, Z2 / Z - (Z1 / Z)**2


@pytest.mark.parametrize("flip", [0.0, 0.1])
def test_sign_channel_denoiser_matches_mpmath(flip):
    """Out to x = yω/√V = ±4000 standard deviations: g_out to 1e-9 (a Mills ratio, through erfcx),
    ∂g_out to 1e-7 (for flip = 0 it is -r(x + r)/V with r ≈ |x|: x² 2⁻⁵³ of relative error)."""
    D = denoisers("ising-bayes")
    om = torch.tensor([-40.0, -6.0, -0.7, 0.0, 0.3, 5.0, 40.0], dtype=torch.float64)
    for V in (1e-4, 0.3, 2.0):
        for y in (-1.0, 1.0):
            g, dg = D.channel(torch.full_like(om, y), om, torch.tensor(V, dtype=torch.float64), {"flip": flip})
            with mpmath.workdps(60):
                for k, w in enumerate(om.tolist()):
                    g_ref, dg_ref = _mp_sign(y, mpmath.mpf(w), mpmath.mpf(V), mpmath.mpf(flip))
                    assert float(g[k]) == pytest.approx(float(g_ref), rel=1e-9, abs=1e-300), (y, w, V)
                    assert float(dg[k]) == pytest.approx(float(dg_ref), rel=1e-7, abs=1e-300), (y, w, V)


def test_ising_prior_denoiser_is_tanh():
    """Z_w = cosh(b) e^{-A/2}: f_a = tanh b, f_v = 1 - tanh² b = 1/cosh² b, also where tanh b = 1 in floats."""
    D = denoisers("ising-bayes")
    b = torch.tensor([-400.0, -30.0, -1.0, 0.0, 0.5, 30.0, 400.0], dtype=torch.float64)
    fa, fv = D.prior(b, torch.tensor(2.0, dtype=torch.float64), {"flip": 0.0})
    np.testing.assert_allclose(fa.numpy(), np.tanh(b.numpy()), rtol=1e-14, atol=0)
    exact = [float(1 / mpmath.cosh(mpmath.mpf(x))**2) for x in b.tolist()]
    np.testing.assert_allclose(fv.numpy(), exact, rtol=1e-13, atol=0)


def test_gaussian_prior_linear_channel_denoisers():
    """Gaussian prior: f_a = b/(1+A), f_v = 1/(1+A); linear channel: g = (y-ω)/(Δ+V), ∂g = -1/(Δ+V)."""
    D = denoisers("linear-bayes")
    b, A = torch.tensor([-3.0, 0.2, 7.0], dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    fa, fv = D.prior(b, A, {"delta": 0.1})
    np.testing.assert_allclose(fa.numpy(), b.numpy() / 1.5, rtol=1e-15)
    np.testing.assert_allclose(fv.numpy(), 1 / 1.5, rtol=1e-15)
    y, om, V = (torch.tensor(v, dtype=torch.float64) for v in ([1.0, -2.0, 0.5], [0.3, 0.1, -4.0], 0.7))
    g, dg = D.channel(y, om, V, {"delta": 0.1})
    np.testing.assert_allclose(g.numpy(), (y - om).numpy() / 0.8, rtol=1e-14)
    np.testing.assert_allclose(dg.numpy(), -1 / 0.8, rtol=1e-14)


def test_no_denoiser_without_posterior():
    with pytest.raises(DenoiserError):
        denoisers("ridge")


# -- AMP ------------------------------------------------------------------------------------
def test_linear_amp_is_the_posterior_mean():
    """Gaussian prior and channel: AMP's fixed point is the exact posterior mean
    (XᵀX/N + Δ I)⁻¹ Xᵀy/√N at any N; its MSE matches the Bayes-optimal closed form
    mse = [-(Δ+α-1) + √((Δ+α-1)² + 4Δ)]/2 (e.g. Barbier et al. 2019) within statistical error."""
    alpha, delta, n = 1.5, 0.1, 800
    d = sample("linear-bayes", {"alpha": alpha, "delta": delta}, n=n, seeds=4, seed=3)
    r = run_amp(d, tol=1e-11, max_iter=500)
    assert bool(r["converged"].all())
    F = d.X / n**0.5
    H = F.transpose(1, 2) @ F + delta * torch.eye(n, dtype=torch.float64)
    post = torch.linalg.solve(H, (F.transpose(1, 2) @ d.y[..., None])[..., 0])
    assert float((r["w_hat"] - post).abs().max()) < 1e-8
    c = delta + alpha - 1
    _zcheck(r["mse"].numpy(), (-c + math.sqrt(c * c + 4 * delta)) / 2)


def test_ising_bayes_partial_recovery_matches_theory(theory_ising):
    """α = 1 < α_alg: AMP stops at the partial-recovery fixed point whose overlaps are the
    replica theory's, with m = q (Nishimori) at finite N up to fluctuations."""
    d = sample("ising-bayes", {"alpha": 1.0, "flip": 0.0}, n=2000, seeds=4, seed=11)
    r = run_amp(d)
    assert bool(r["converged"].all()) and int(r["iterations"].max()) < 200
    _zcheck(r["m"].numpy(), theory_ising[0.0])
    _zcheck(r["q"].numpy(), theory_ising[0.0])
    _zcheck((r["m"] - r["q"]).numpy(), 0.0, max_stderr=0.01)
    _zcheck(r["mse"].numpy(), 1 - theory_ising[0.0])


def test_ising_bayes_perfect_recovery_above_algorithmic_threshold():
    d = sample("ising-bayes", {"alpha": 1.7, "flip": 0.0}, n=1000, seeds=3, seed=5)
    r = run_amp(d)
    assert bool(r["converged"].all())
    assert float(r["mse"].max()) < 1e-10
    assert torch.equal(torch.sign(r["w_hat"]), d.teacher)


def test_damping_keeps_the_fixed_point():
    d = sample("ising-bayes", {"alpha": 1.0, "flip": 0.0}, n=500, seeds=2, seed=2)
    plain = run_amp(d, tol=1e-11, max_iter=500)
    damped = run_amp(d, tol=1e-11, max_iter=2000, damping=0.6)
    assert bool(plain["converged"].all() and damped["converged"].all())
    assert int(damped["iterations"].min()) > int(plain["iterations"].max())
    assert float((plain["w_hat"] - damped["w_hat"]).abs().max()) < 1e-8


def test_not_converged_is_not_a_number():
    d = sample("ising-bayes", {"alpha": 1.0, "flip": 0.0}, n=300, seeds=2, seed=4)
    r = run_amp(d, max_iter=3)
    assert not bool(r["converged"].any())
    assert bool(torch.isnan(r["m"]).all() and torch.isnan(r["w_hat"]).all())
    assert bool(torch.isfinite(r["w_last"]).all())


def test_bad_arguments():
    d = sample("ising-bayes", {"alpha": 1.0, "flip": 0.0}, n=50, seeds=1)
    with pytest.raises(ValueError):
        run_amp(d, init="warm")
    with pytest.raises(ValueError):
        run_amp(d, damping=1.0)


def test_gibbs_student_is_mismatched_inference():
    """A Gibbs student (posterior ∝ e^{-(errors)/T} on ±1 weights, not the teacher's channel):
    AMP's overlaps are the replica theory's of ising-gibbs (Seung, Sompolinsky & Tishby 1992),
    m ≠ q off the Nishimori line."""
    from replica.solve import solve
    from replica.codegen.compiled import load_compiled
    th = solve(load_compiled("ising-gibbs"), {"alpha": 1.0, "T": 0.5})
    assert bool(th.converged.all())
    d = sample("ising-gibbs", {"alpha": 1.0, "T": 0.5}, n=2000, seeds=4, seed=3)
    r = run_amp(d)
    assert bool(r["converged"].all())
    _zcheck(r["m"].numpy(), th["m"].item())
    _zcheck(r["q"].numpy(), th["q"].item())


def test_custom_channel_takes_the_same_path(theory_ising):
    """A sign channel with flips written by hand as a SymPy density: its generated denoisers
    give the built-in's iterates, and its overlaps the theory's (ising-bayes, flip = 0.1)."""
    y, z, eps = sp.symbols("y z eps", real=True)
    dens = (1 - eps) * sp.Heaviside(y * z) + eps * sp.Heaviside(-y * z)
    custom = Model(prior=priors.Ising(), learning=learning.BayesOptimal(), name="custom-sign-amp",
                   teacher=channels.Custom(dens, y, z, outputs=(-1, 1), params={"eps": (0, 0.5)}),
                   defaults={"alpha": 1.0, "eps": 0.1})
    d = sample(custom, {"alpha": 1.0, "eps": 0.1}, n=2000, seeds=4, seed=7)
    r = run_amp(d)
    assert bool(r["converged"].all())
    ref = run_amp(d, model="ising-bayes", params={"flip": 0.1})
    assert float((r["w_hat"] - ref["w_hat"]).abs().max()) < 1e-10
    _zcheck(r["m"].numpy(), theory_ising[0.1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    d = sample("ising-bayes", {"alpha": 1.0, "flip": 0.0}, n=1000, seeds=2, seed=1)
    cpu = run_amp(d, tol=1e-11, max_iter=500)
    d.X, d.y, d.teacher = d.X.cuda(), d.y.cuda(), d.teacher.cuda()
    gpu = run_amp(d, tol=1e-11, max_iter=500)
    assert gpu["w_hat"].device.type == "cuda"
    assert float((gpu["w_hat"].cpu() - cpu["w_hat"]).abs().max()) < 1e-8
