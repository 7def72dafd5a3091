"""Data from a Model: teacher weights from the prior, Gaussian inputs, labels from the channel.

Conventions (DESIGN.md): inputs x ~ N(0, I_N), teacher pre-activation z = w*·x/√N, P = round(αN)
samples, a leading batch dimension over independent instances ("seeds").  Everything is read
off the Model's SymPy components with the model parameters substituted by name — a custom
prior or channel takes the same path as a built-in one:

* prior: ±1 (Ising), N(0, var), Gauss–Bernoulli and the sphere |w|² = N sampled exactly;
  any other prior (``priors.Custom``) as its atoms plus its continuous density, the latter by
  inverse-CDF sampling on a fine grid (trapezoid CDF, linear interpolation).  A prior with a
  declared ``fixed_norm`` Q is rescaled to |w|² = N Q.
* channel: a finite label tuple → categorical sampling from P(y|z) evaluated at every label
  (the density lambdified to torch); real labels → y = f(z) + √Δ η when the density is
  Gaussian in y (``Channel.noise_form``), else inverse-CDF sampling in y on a grid.

Every instance has its own ``torch.Generator`` seeded from ``(seed, instance id)``, so an
instance's data does not depend on which other instances are drawn with it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
import torch
from sympy.printing.pytorch import TorchPrinter

from replica.model import Model, load_model
from replica.params import ParameterError
from replica.priors import GaussBernoulli, Gaussian, Ising, Prior, Spherical
from replica.symbols import y as Y, z as Z

__all__ = ["Data", "sample", "fresh", "model_parameters", "to_torch", "numeric",
           "sample_prior", "sample_labels", "clean_output", "generator"]

DTYPE = torch.float64


# ------------------------------------------------------------------------------------------
# SymPy -> torch
# ------------------------------------------------------------------------------------------
class Softplus(sp.Function):
    """log(1 + e^x), evaluated stably (torch.nn.functional.softplus)."""

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])


class Sigmoid(sp.Function):
    """1/(1 + e^{-x})."""

    def fdiff(self, argindex=1):
        s = Sigmoid(self.args[0])
        return s * (1 - s)


class _TMax(sp.Function):
    pass


class _TMin(sp.Function):
    pass


class _TStep(sp.Function):
    pass


class _TSign(sp.Function):
    pass


def _as(x, like):
    return x if torch.is_tensor(x) else torch.as_tensor(x, dtype=DTYPE, device=like.device)


def _reduce(op, *args):
    ref = next((a for a in args if torch.is_tensor(a)), None)
    if ref is None:
        return functools.reduce(lambda a, b: op(torch.as_tensor(a), torch.as_tensor(b)), args)
    return functools.reduce(lambda a, b: op(_as(a, ref), _as(b, ref)), args)


def _step(x):
    x = torch.as_tensor(x, dtype=DTYPE)
    return torch.heaviside(x, torch.tensor(0.5, dtype=x.dtype, device=x.device))


_TORCH_NS = {
    "_TMax": lambda *a: _reduce(torch.maximum, *a),
    "_TMin": lambda *a: _reduce(torch.minimum, *a),
    "_TStep": _step,
    "_TSign": lambda x: torch.sign(torch.as_tensor(x, dtype=DTYPE)),
    "Softplus": lambda x: torch.nn.functional.softplus(torch.as_tensor(x, dtype=DTYPE)),
    "Sigmoid": lambda x: torch.sigmoid(torch.as_tensor(x, dtype=DTYPE)),
}


class _Printer(TorchPrinter):
    """SymPy's torch printer, printing our helper functions by name (looked up in _TORCH_NS)."""

    def _print_Function(self, expr):
        if type(expr).__name__ in _TORCH_NS:
            return f"{type(expr).__name__}({', '.join(self._print(a) for a in expr.args)})"
        return super()._print_Function(expr)


def _torch_ready(expr: sp.Expr) -> sp.Expr:
    """Rewrite the functions the SymPy torch printer mishandles with Python-number arguments
    (Max, Min, Heaviside with H(0) = ½, sign) and log(1 + e^u) as a stable softplus."""
    a = sp.Wild("a")
    expr = expr.replace(sp.log(1 + sp.exp(a)), Softplus(a))
    expr = expr.replace(sp.Max, _TMax).replace(sp.Min, _TMin).replace(
        lambda e: isinstance(e, sp.Heaviside), lambda e: _TStep(e.args[0])).replace(sp.sign, _TSign)
    # constants (gamma(5/4), sqrt(2 pi), ...) as floats: torch has no gamma of a number
    return expr.replace(lambda e: e.is_number and not e.is_Number and not e.is_NumberSymbol,
                        lambda e: sp.Float(e.evalf(17)))


def numeric(expr, params: dict) -> sp.Expr:
    """``expr`` with every free symbol named in ``params`` replaced by its value."""
    expr = sp.sympify(expr)
    reps = {s: sp.Float(params[s.name]) for s in expr.free_symbols if s.name in params}
    return expr.xreplace(reps)


def to_torch(expr, args, params: dict | None = None):
    """A torch function of ``args`` (SymPy symbols) computing ``expr`` with ``params`` substituted.

    The result is broadcast to the arguments' shape (a constant expression gives a full tensor).
    Raises ParameterError naming any free symbol left without a value."""
    expr = numeric(expr, params or {})
    left = expr.free_symbols - set(args)
    if left:
        raise ParameterError(f"no value for parameter(s) {sorted(s.name for s in left)} in {expr}")
    printer = _Printer({"fully_qualified_modules": False, "inline": True,
                        "allow_unknown_functions": True, "user_functions": {}})
    f = sp.lambdify(list(args), _torch_ready(expr), modules=[_TORCH_NS, "torch"], printer=printer)

    def call(*xs):
        out = f(*xs)
        ref = torch.broadcast_tensors(*[x for x in xs if torch.is_tensor(x)])[0]
        return _as(out, ref).to(DTYPE) + torch.zeros_like(ref)
    return call


# ------------------------------------------------------------------------------------------
# parameters and generators
# ------------------------------------------------------------------------------------------
def model_parameters(model: Model, params: dict | None = None, alpha=None) -> dict[str, float]:
    """Every parameter of ``model`` as a float: the model's defaults overridden by ``params``
    (and ``alpha``), checked against the declared domains."""
    values = {k: float(v) for k, v in model.defaults.items()}
    values.update({k: float(v) for k, v in (params or {}).items()})
    if alpha is not None:
        values["alpha"] = float(alpha)
    values = model.check(values)
    missing = [n for n in model.parameter_names() if n not in values]
    if missing:
        raise ParameterError(f"model {model.name!r} needs a value for {missing}")
    return values


def generator(seed: int, instance: int, stream: int = 0, device="cpu") -> torch.Generator:
    """The generator of one instance: seeded from (seed, instance, stream) by NumPy's SeedSequence."""
    g = torch.Generator(device=device)
    g.manual_seed(int(np.random.SeedSequence([int(seed), int(instance), int(stream)]).generate_state(1, np.uint64)[0] >> 1))
    return g


def _device(device) -> torch.device:
    d = torch.device(device)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch.cuda.is_available() is False")
    return d


# ------------------------------------------------------------------------------------------
# priors
# ------------------------------------------------------------------------------------------
def _inverse_cdf_grid(density, params, device):
    """(grid, cdf) of the continuous part of a density in w, normalized to 1, on a grid that
    covers its support."""
    f = to_torch(density, [Prior.w], params)
    coarse = torch.linspace(-200.0, 200.0, 400001, dtype=DTYPE)
    v = f(coarse)
    if not torch.all(torch.isfinite(v)) or torch.any(v < -1e-14):
        raise ParameterError("the prior's density is not finite and non-negative on the real line")
    big = torch.nonzero(v > v.max() * 1e-17).flatten()
    lo, hi = coarse[big[0]] - 0.002, coarse[big[-1]] + 0.002
    grid = torch.linspace(float(lo), float(hi), 2**18 + 1, dtype=DTYPE)
    v = f(grid).clamp_min(0)
    cdf = torch.cat([torch.zeros(1, dtype=DTYPE), torch.cumsum((v[1:] + v[:-1]) / 2 * (grid[1] - grid[0]), 0)])
    return grid.to(device), (cdf / cdf[-1]).to(device)


def _interp(u, cdf, grid):
    """Linear interpolation of the inverse CDF at uniform variates u."""
    i = torch.searchsorted(cdf, u).clamp(1, len(cdf) - 1)
    c0, c1 = cdf[i - 1], cdf[i]
    t = torch.where(c1 > c0, (u - c0) / (c1 - c0).clamp_min(1e-300), torch.zeros_like(u))
    return grid[i - 1] + t * (grid[i] - grid[i - 1])


def sample_prior(prior: Prior, params: dict, n: int, gen: torch.Generator, device="cpu") -> torch.Tensor:
    """n weights from ``prior`` (i.i.d. per site; the sphere |w|² = N for ``Spherical``)."""
    device = _device(device)
    if isinstance(prior, Ising):
        return torch.randint(0, 2, (n,), generator=gen, device=device).to(DTYPE) * 2 - 1
    if isinstance(prior, Spherical):
        w = torch.randn(n, generator=gen, dtype=DTYPE, device=device)
        return w * (n**0.5 / w.norm())
    if isinstance(prior, Gaussian):
        return torch.randn(n, generator=gen, dtype=DTYPE, device=device) * float(numeric(prior.var, params))**0.5
    if isinstance(prior, GaussBernoulli):
        rho = float(numeric(prior.rho, params))
        keep = torch.rand(n, generator=gen, dtype=DTYPE, device=device) < rho
        return torch.randn(n, generator=gen, dtype=DTYPE, device=device) * keep
    # generic: atoms plus a continuous part
    vals = [float(numeric(a, params)) for a, _ in prior.atoms]
    probs = [float(numeric(p, params)) for _, p in prior.atoms]
    cont = 1.0 - sum(probs) if prior.density != 0 else 0.0
    weights = torch.tensor(probs + ([max(cont, 0.0)] if prior.density != 0 else []), dtype=DTYPE)
    which = torch.multinomial(weights / weights.sum(), n, replacement=True,
                              generator=_cpu_twin(gen)).to(device)
    w = torch.zeros(n, dtype=DTYPE, device=device)
    for k, a in enumerate(vals):
        w[which == k] = a
    if prior.density != 0:
        grid, cdf = _cached_grid(prior, params, device)
        u = torch.rand(n, generator=gen, dtype=DTYPE, device=device)
        c = which == len(vals)
        w = torch.where(c, _interp(u, cdf, grid), w)
    if prior.fixed_norm is not None:
        w = w * (float(numeric(prior.fixed_norm, params)) * n)**0.5 / w.norm()
    return w


def _cpu_twin(gen: torch.Generator) -> torch.Generator:
    """A CPU generator derived from ``gen`` (torch.multinomial wants one on the CPU)."""
    if gen.device.type == "cpu":
        return gen
    g = torch.Generator()
    g.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device)))
    return g


_GRIDS: dict = {}


def _cached_grid(prior, params, device):
    key = (id(prior), str(prior.density), tuple(sorted(params.items())), str(device))
    if key not in _GRIDS:
        _GRIDS.clear() if len(_GRIDS) > 16 else None
        _GRIDS[key] = _inverse_cdf_grid(prior.density, params, device)
    return _GRIDS[key]


# ------------------------------------------------------------------------------------------
# channels
# ------------------------------------------------------------------------------------------
def clean_output(channel, params: dict):
    """f*(z), the teacher's noiseless output (``Channel.clean_output``), as a torch function."""
    return to_torch(channel.clean_output(), [Z], params)


def sample_labels(channel, params: dict, z: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Labels y ~ P(y|z) for every entry of ``z``."""
    if not channel.continuous:
        outs = torch.tensor([float(o) for o in channel.outputs], dtype=DTYPE, device=z.device)
        p = torch.stack([to_torch(channel.density.subs(Y, o), [Z], params)(z) for o in channel.outputs], -1)
        p = p / p.sum(-1, keepdim=True)
        u = torch.rand(z.shape + (1,), generator=gen, dtype=DTYPE, device=z.device)
        k = (torch.cumsum(p, -1) < u).sum(-1).clamp_max(len(channel.outputs) - 1)
        return outs[k]
    gauss = _gaussian_labels(channel, params)
    if gauss is not None:
        f, sd = gauss
        eta = torch.randn(z.shape, generator=gen, dtype=DTYPE, device=z.device)
        return f(z) + sd * eta
    return _inverse_cdf_labels(channel, params, z, gen)


_NOISE: dict = {}


def _gaussian_labels(channel, params: dict):
    """(f as a torch function, √Δ) when P(y|z) = N(y; f(z), Δ) (``Channel.noise_form``), else
    None; kept per (channel density, parameters), since ``noise_form`` is symbolic and
    ``sample`` draws the labels of every instance separately."""
    key = (type(channel), channel.density, tuple(sorted(params.items())))
    if key not in _NOISE:
        _NOISE.clear() if len(_NOISE) > 64 else None
        nf = channel.noise_form()
        _NOISE[key] = None if nf is None else (to_torch(nf[0], [Z], params), float(numeric(nf[1], params))**0.5)
    return _NOISE[key]


def _inverse_cdf_labels(channel, params, z, gen, points=4097, chunk=4096):
    """y ~ P(y|z) by inverse-CDF sampling on a y-grid covering the support at the observed z."""
    dens = to_torch(channel.density, [Y, Z], params)
    zs = torch.linspace(float(z.min()), float(z.max()), 9, dtype=DTYPE, device=z.device)
    coarse = torch.linspace(-200.0, 200.0, 40001, dtype=DTYPE, device=z.device)
    v = dens(coarse[None, :], zs[:, None]).amax(0)
    big = torch.nonzero(v > v.max() * 1e-15).flatten()
    lo, hi = float(coarse[big[0]]) - 0.02, float(coarse[big[-1]]) + 0.02
    grid = torch.linspace(lo, hi, points, dtype=DTYPE, device=z.device)
    flat = z.reshape(-1)
    u = torch.rand(flat.shape, generator=gen, dtype=DTYPE, device=z.device)
    out = torch.empty_like(flat)
    for s in range(0, len(flat), chunk):
        d = dens(grid[None, :], flat[s:s + chunk, None]).clamp_min(0)
        c = torch.cat([torch.zeros(d.shape[0], 1, dtype=DTYPE, device=z.device),
                       torch.cumsum((d[:, 1:] + d[:, :-1]) / 2, 1)], 1)
        c = c / c[:, -1:]
        uu = u[s:s + chunk, None]
        i = torch.searchsorted(c, uu).clamp(1, points - 1)
        c0, c1 = c.gather(1, i - 1), c.gather(1, i)
        t = (uu - c0) / (c1 - c0).clamp_min(1e-300)
        out[s:s + chunk] = (grid[i - 1] + t * (grid[1] - grid[0])).squeeze(1)
    return out.reshape(z.shape)


# ------------------------------------------------------------------------------------------
# data sets
# ------------------------------------------------------------------------------------------
@dataclass
class Data:
    """S instances of a teacher-student (or storage) problem at size N.

    X : (S, P, N) inputs, y : (S, P) labels, teacher : (S, N) teacher weights w*,
    z : (S, P) clean teacher pre-activations w*·x/√N, params: every model parameter,
    n: N, alpha: α = P/N as requested (P = round(αN)), seeds: the instance ids, seed: the base seed.
    """

    X: torch.Tensor
    y: torch.Tensor
    teacher: torch.Tensor
    model: Model
    params: dict
    n: int
    alpha: float
    z: torch.Tensor | None = None
    seeds: list = field(default_factory=list)
    seed: int = 0

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def device(self):
        return self.X.device

    def __len__(self):
        return self.X.shape[0]


def _draw(model, params, n, p, teacher, gen, device):
    X = torch.randn(p, n, generator=gen, dtype=DTYPE, device=device)
    z = X @ teacher / n**0.5
    y = sample_labels(model.teacher, params, z, gen)
    return X, y, z


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError("seeds must be a positive count or a list of instance ids")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds: empty list")
    return out


def sample(model, params: dict | None = None, n: int = 100, seeds: int | list[int] = 1, *,
           alpha=None, device="cpu", seed: int = 0) -> Data:
    """Draw ``seeds`` instances (a count, or a list of instance ids) of ``model`` at size ``n``.

    ``alpha`` defaults to ``params["alpha"]`` (then the model's default); P = round(αN).
    Instance ``s`` is drawn from its own generator seeded by (seed, s)."""
    model = load_model(model)
    if model.committee:
        from .committee import sample_committee      # K hidden units: a CommitteeData (a Data)
        return sample_committee(model, params, n, seeds, alpha=alpha, device=device, seed=seed)
    if int(n) < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    n = int(n)
    values = model_parameters(model, params, alpha)
    a = values["alpha"]
    p = int(round(a * n))
    device = _device(device)
    ids = _seed_list(seeds)
    Xs, ys, ts, zs = [], [], [], []
    for s in ids:
        g = generator(seed, s, 0, device)
        t = sample_prior(model.prior, values, n, g, device)
        X, y, z = _draw(model, values, n, p, t, g, device)
        Xs.append(X), ys.append(y), ts.append(t), zs.append(z)
    return Data(torch.stack(Xs), torch.stack(ys), torch.stack(ts), model, values, n, a,
                torch.stack(zs), ids, int(seed))


def fresh(data: Data, p: int, seed) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``p`` fresh samples per instance from the same teachers: (X_test (S,p,N), y_test (S,p),
    z_test (S,p) the clean pre-activations).  Reproducible from ``seed``."""
    Xs, ys, zs = [], [], []
    for s, t in zip(data.seeds, data.teacher):
        g = generator(seed, s, 1, data.device)
        X, y, z = _draw(data.model, data.params, data.n, int(p), t, g, data.device)
        Xs.append(X), ys.append(y), zs.append(z)
    return torch.stack(Xs), torch.stack(ys), torch.stack(zs)
