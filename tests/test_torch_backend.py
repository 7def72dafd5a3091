"""The torch backend prints the NumPy backend's lowered code for torch: both agree to 1e-10 on
every built-in perceptron model at random points (the NumPy backend is itself checked against the mpmath
oracle in test_backends.py); generated code runs on CUDA when there is one, and is
differentiable by autograd."""
import numpy as np
import pytest
import sympy as sp
import torch

from replica.builtin import BUILTINS
from replica.codegen.lower import LoweringError
from replica.codegen.torch_backend import generate_torch_module, module_from_source
from replica.codegen.compiled import TorchTheory, load_compiled

RANGES = {"q": (0.15, 0.6), "m": (0.05, 0.3), "Q": (0.9, 1.4), "chi": (0.4, 1.5),
          "q_hat": (0.3, 1.5), "m_hat": (0.2, 0.8), "Q_hat": (-0.5, 0.5), "chi_hat": (0.8, 2.0)}


def _points(th, name, k=3):
    """k random points (as arrays of length k): parameters at their defaults, alpha drawn."""
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    params = {n: np.full(k, float(v)) for n, v in th.model.defaults.items()}
    params["alpha"] = rng.uniform(0.5, 2.0, k)
    if "flip" in params:
        params["flip"] = rng.uniform(0.0, 0.2, k)
    return {**params, **{s.name: rng.uniform(*RANGES[s.name], k) for s in th.order_parameters}}


#: the perceptron built-ins (committee machines have their own NumPy-only solver)
PERCEPTRONS = sorted(n for n, make in BUILTINS.items() if not getattr(make, "committee", False))


@pytest.mark.parametrize("name", PERCEPTRONS)
def test_torch_agrees_with_numpy(theories, name):
    th, c = theories(name)
    t = th.compile("torch")
    assert isinstance(t, TorchTheory)
    point = _points(th, name)
    fast = c.evaluate(nodes=96, **point)
    out = t.evaluate(nodes=96, **point)
    assert set(out) == set(fast)
    for k, v in out.items():
        assert torch.is_tensor(v) and v.dtype == torch.float64 and v.shape == (3,)
        np.testing.assert_allclose(v.numpy(), fast[k], rtol=1e-10, atol=1e-10, err_msg=f"{name}: {k}")
    # the other rule (composite Gauss-Legendre) and the NumPy flag
    fast = c.evaluate(nodes=64, rule="legendre", **point)
    out = t.evaluate(nodes=64, rule="legendre", to_numpy=True, **point)
    for k, v in out.items():
        assert isinstance(v, np.ndarray)
        np.testing.assert_allclose(v, fast[k], rtol=1e-10, atol=1e-10, err_msg=f"{name}: {k} (legendre)")


def test_load_compiled_torch_from_cache(theories):
    th, _ = theories("ising-bayes")
    th.compile("torch")
    t = load_compiled("ising-bayes", backend="torch")
    assert isinstance(t, TorchTheory) and t._theory is None   # straight from the cache
    out = t.evaluate(alpha=1.0, flip=0.0, q=0.3, q_hat=0.8, want=["mse"])
    assert list(out) == ["mse"] and float(out["mse"]) == pytest.approx(0.7, abs=1e-15)


def test_autograd_stationarity(theories):
    """∂Φ/∂q̂ = 0 where q = map_q(q̂) (the equations are Φ's stationarity conditions), by autograd
    through the generated torch code (log_ndtr, log-sum-exp, xlogy).  300 Gauss-Hermite nodes:
    the map comes from Φ's derivative after Gaussian integration by parts, which quadrature
    satisfies only up to its own error (1e-8 with 96 nodes at q_hat = 2.5)."""
    th, _ = theories("ising-bayes")
    t = th.compile("torch")
    q_hat = torch.tensor([0.4, 1.1, 2.5], dtype=torch.float64, requires_grad=True)
    vals = dict(alpha=1.2, flip=0.1, q_hat=q_hat)
    q = t.evaluate(q=0.5, want=["map_q"], nodes=300, **vals)["map_q"].detach()
    phi = t.evaluate(q=q, want=["free_entropy"], nodes=300, **vals)["free_entropy"]
    (grad,) = torch.autograd.grad(phi.sum(), q_hat)
    np.testing.assert_allclose(grad.numpy(), 0.0, atol=1e-10)


def test_untranslatable_function_is_an_error():
    x = sp.Symbol("x", real=True)
    with pytest.raises(LoweringError, match="no counterpart"):
        generate_torch_module({"f": sp.besselj(0, x)}, [x])


def test_kink_rule_node_matches_closed_form():
    """A Gaussian expectation with a kink at a point that depends on the arguments, lowered by
    the kink-splitting rule: E|x - a| = 2φ(a) + a(2Φ(a) - 1)."""
    from replica.symbolic.gauss import GaussE
    x, a = sp.Symbol("x", real=True), sp.Symbol("a", real=True)
    mod = module_from_source(generate_torch_module({"f": GaussE(sp.Abs(x - a), x)}, [a]))
    av = torch.linspace(-3, 3, 7, dtype=torch.float64)
    got = mod.evaluate(av, nodes=96)["f"]
    from scipy.stats import norm
    exact = 2 * norm.pdf(av.numpy()) + av.numpy() * (2 * norm.cdf(av.numpy()) - 1)
    np.testing.assert_allclose(got.numpy(), exact, rtol=1e-12, atol=1e-13)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(theories):
    for name in ("ising-bayes", "hinge"):
        th, c = theories(name)
        t = th.compile("torch")
        point = _points(th, name)
        cpu = t.evaluate(**point)
        on_gpu = t.evaluate(device="cuda", **point)
        follows = t.evaluate(**{k: torch.as_tensor(v, device="cuda") for k, v in point.items()})
        for k in cpu:
            assert on_gpu[k].device.type == "cuda" and follows[k].device.type == "cuda"
            np.testing.assert_allclose(on_gpu[k].cpu().numpy(), cpu[k].numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(follows[k].cpu().numpy(), cpu[k].numpy(), rtol=1e-12, atol=1e-12)
