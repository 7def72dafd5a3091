"""Data from a Model (sims.data): shapes, reproducibility, and the sampled distributions against
closed forms (label-noise rates, noise variances, moments of custom priors and channels)."""
import math

import pytest
import sympy as sp
import torch

from replica import Model, channels, learning, priors
from sims.data import fresh, sample

Z3 = 4.0   # a 4-sigma band: these tests fail only when the sampler is wrong


def test_shapes_reproducible_per_instance():
    d = sample("ridge", {"delta": 0.1}, n=50, seeds=3, alpha=1.5, seed=7)
    assert d.X.shape == (3, 75, 50) and d.y.shape == (3, 75) and d.teacher.shape == (3, 50)
    assert d.X.dtype == torch.float64 and d.alpha == 1.5 and d.n == 50
    one = sample("ridge", {"delta": 0.1}, n=50, seeds=[2], alpha=1.5, seed=7)
    assert torch.equal(one.X[0], d.X[2]) and torch.equal(one.y[0], d.y[2])
    other = sample("ridge", {"delta": 0.1}, n=50, seeds=3, alpha=1.5, seed=8)
    assert not torch.equal(other.X, d.X)
    # fresh samples: same teachers, the clean pre-activation z = w*.x/sqrt(N)
    X, y, z = fresh(d, 200, seed=1)
    assert X.shape == (3, 200, 50)
    assert torch.allclose(z, (X @ d.teacher[..., None])[..., 0] / 50**0.5)


def test_sign_flip_rate_and_ising_teacher():
    d = sample("ising-bayes", {"flip": 0.1}, n=200, seeds=2, alpha=50.0)
    assert set(d.teacher.unique().tolist()) == {-1.0, 1.0}
    rate = float((d.y != torch.sign(d.z)).double().mean())
    k = d.y.numel()
    assert abs(rate - 0.1) < Z3 * math.sqrt(0.1 * 0.9 / k)


def test_linear_noise_and_sphere():
    d = sample("ridge", {"delta": 0.3}, n=100, seeds=2, alpha=100.0)
    r = (d.y - d.z).flatten()
    k = r.numel()
    assert abs(float(r.var()) - 0.3) < Z3 * 0.3 * math.sqrt(2 / k)
    g = sample("gardner", {}, n=40, seeds=3, alpha=200.0)
    assert torch.allclose((g.teacher**2).sum(-1), torch.full((3,), 40.0, dtype=torch.float64))
    frac = float((g.y > 0).double().mean())       # random labels: +-1 with probability 1/2
    assert abs(frac - 0.5) < Z3 * 0.5 / math.sqrt(g.y.numel())


def test_custom_prior_atoms_and_density():
    """p(w) = 1/4 delta(w) + 3/4 Laplace(1): P(w=0) = 1/4, E|w| = 3/4, E w^2 = 3/2."""
    w = sp.Symbol("w")
    pr = priors.Custom(sp.Rational(1, 4) * sp.DiracDelta(w) + sp.Rational(3, 4) * sp.exp(-sp.Abs(w)) / 2, w)
    m = Model(prior=pr, teacher=channels.Sign(), learning=learning.BayesOptimal())
    t = sample(m, {}, n=100000, seeds=1, alpha=0.0001).teacher[0]
    n = t.numel()
    assert abs(float((t == 0).double().mean()) - 0.25) < Z3 * math.sqrt(0.25 * 0.75 / n)
    assert abs(float(t.abs().mean()) - 0.75) < Z3 * math.sqrt(1.5 - 0.75**2) / math.sqrt(n)
    assert abs(float((t**2).mean()) - 1.5) < Z3 * math.sqrt(0.75 * 24 - 1.5**2) / math.sqrt(n)


def test_custom_channels_discrete_and_continuous():
    y, z, eps = sp.symbols("y z eps")
    # P(y|z) = (1 - eps) Theta(yz) + eps Theta(-yz), written by hand
    ch = channels.Custom((1 - eps) * sp.Heaviside(y * z) + eps * sp.Heaviside(-y * z), y, z,
                         params={"eps": (0, 0.5)})
    m = Model(prior=priors.Gaussian(), teacher=ch, learning=learning.BayesOptimal())
    d = sample(m, {"eps": 0.2}, n=100, seeds=2, alpha=40.0)
    rate = float((d.y != torch.sign(d.z)).double().mean())
    assert abs(rate - 0.2) < Z3 * math.sqrt(0.2 * 0.8 / d.y.numel())
    # a continuous channel with no Gaussian form: y = |z| + eta, p(eta) ∝ exp(-eta^4)
    ch = channels.Custom(sp.exp(-(y - sp.Abs(z))**4) / (2 * sp.gamma(sp.Rational(5, 4))), y, z, outputs="real")
    m = Model(prior=priors.Gaussian(), teacher=ch, learning=learning.BayesOptimal())
    d = sample(m, {}, n=50, seeds=2, alpha=40.0)
    r = (d.y - d.z.abs()).flatten()
    var = float(sp.gamma(sp.Rational(3, 4)) / sp.gamma(sp.Rational(1, 4)))   # E eta^2
    m4 = float(sp.gamma(sp.Rational(5, 4)) / sp.gamma(sp.Rational(1, 4)))    # E eta^4
    assert abs(float(r.mean())) < Z3 * math.sqrt(var / r.numel())
    assert abs(float((r**2).mean()) - var) < Z3 * math.sqrt((m4 - var**2) / r.numel())


def test_bad_input():
    from replica.params import ParameterError
    with pytest.raises(ParameterError):
        sample("ridge", {"delta": -1.0}, n=10)
    with pytest.raises(ParameterError):
        sample("ridge", {"nope": 1.0}, n=10)
    with pytest.raises(ValueError):
        sample("ridge", {}, n=10, seeds=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_cuda_data_and_erm():
    from sims.erm import run_erm
    d = sample("ridge", {"delta": 0.1, "lam": 0.1}, n=200, seeds=2, alpha=2.0, device="cuda")
    assert d.X.is_cuda
    r = run_erm(d)
    assert bool(r["converged"].all()) and r["w_hat"].is_cuda
