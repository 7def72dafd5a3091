"""AMP denoisers of a Model, derived from the same symbolic potentials as its replica theory and
printed by the torch backend.

Input side, from the student prior's partition function (``Prior.partition``)

    Z_w(b, A) = ∫ dP(w) e^{b w - A w²/2},
    f_a(b, A) = ∂_b log Z_w          (posterior mean of w under the field b, precision A),
    f_v(b, A) = ∂_b f_a = ∂²_b log Z_w  (its variance);

output side, from the output factor φ(y, λ) — the channel density P(y|λ) for Bayes-optimal
inference, e^{-ℓ(y, λ)/T} for Gibbs learning (mismatched inference) —

    Z_out(y, ω, V) = E_u φ(y, ω + √V u),
    g_out(y, ω, V) = ∂_ω log Z_out,     ∂_ω g_out = ∂²_ω log Z_out

(Rangan 2011; Zdeborová & Krzakala 2016, sec. 6; Barbier et al. PNAS 2019).  The potentials
are the ones the derivation defines (``Derivation.define_prior_potential`` /
``define_output_potentials``: closed forms by :mod:`replica.symbolic.gauss` where they exist,
quadrature nodes otherwise); the log-derivatives are taken by SymPy on the abstract potentials
and made explicit by :func:`replica.codegen.lower.explicit`, so Gaussian tails are in log space
— for the sign channel g_out = y N(x)/(√V H(x)) is printed as a single exponential of
``-x²/2 - log_ndtr(..)`` — and never underflow to 0/0.  For a finite label set each label gets
its own closed form (the signs of y are then known to SymPy); real labels keep y symbolic.

A built-in component and a user's ``Custom`` one go through exactly the same path.  The
generated modules are cached on disk like the theory's (:mod:`replica.codegen.cache`).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
import torch

from .. import symbols as S
from ..learning import BayesOptimal, Gibbs
from . import cache as C
from ..symbolic.special import LogSumExp
from .lower import exp_terms, explicit, logerfc, stabilize
from .torch_backend import DTYPE, generate_torch_module, module_from_source

__all__ = ["Denoisers", "denoisers", "denoiser_expressions", "DenoiserError"]


class DenoiserError(ValueError):
    """The model's learning setting has no AMP denoiser (zero temperature, a volume, committees)."""


def _derivation(model):
    from ..symbolic.derive import Derivation
    L = model.learning
    if model.hidden_units != 1:
        raise DenoiserError("AMP denoisers for committee machines (hidden_units > 1) are not derived yet")
    if not (isinstance(L, BayesOptimal) or (isinstance(L, Gibbs) and L.temperature != 0)):
        raise DenoiserError(f"AMP needs a posterior: Bayes-optimal or Gibbs learning at T > 0, not {L!r}")
    if model.teacher.random_labels:
        raise DenoiserError("AMP needs a teacher channel, not random labels")
    d = Derivation(model)
    d.define_output_potentials(d.output_factor())
    d.define_prior_potential()
    return d


class LogWeight(sp.Function):
    """log c of a weight c ≥ 0 kept inside its exponential: SymPy would pull e^{log c + L} apart
    into c·e^{L}, which is 0·∞ = NaN where c = 0 (a flip probability of 0) and L overflows."""

    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / self.args[0]

    def _eval_is_real(self):
        return None

    def _numpycode(self, printer):
        return "numpy.log(%s)" % printer._print(self.args[0])


def _log_sums(L):
    """log(Σ_i c_i e^{L_i}) -> LogSumExp(log c_i + L_i) (c_i not known negative): log-derivatives
    of such a sum are then softmax averages, and second ones softmax variances (no cancellation)."""
    def rule(a):
        terms = exp_terms(sp.powsimp(a.args[0], combine="exp"))
        if not terms:
            return a
        return LogSumExp(*[Li + (LogWeight(c) if c.free_symbols else sp.log(c)) for c, Li in terms])
    return L.replace(lambda a: isinstance(a, sp.log) and a.args[0].is_Add, rule)


def _d2(L, x):
    """∂²L/∂x², where each additive term c·LogSumExp(a_1, ..., a_n) (c free of x) contributes

        c [Σ_i π_i a_i'' + Σ_{i<j} π_i π_j (a_i' − a_j')²],   π_i = e^{a_i − LSE},

    the mean and variance of the log-derivatives under the softmax weights: positive terms only
    (e.g. 1 − tanh²b for ±1 weights as 4π₊π₋, not as a difference of numbers near 1)."""
    out = sp.S.Zero
    for t in sp.Add.make_args(sp.expand(L, deep=False)):
        c, rest = t.as_independent(x, as_Add=False)
        if isinstance(rest, LogSumExp):
            a = rest.args
            pi = [sp.exp(ai - rest) for ai in a]
            d1 = [sp.diff(ai, x) for ai in a]
            out += c * (sp.Add(*[p * sp.diff(ai, x, 2) for p, ai in zip(pi, a)])
                        + sp.Add(*[pi[i] * pi[j] * (d1[i] - d1[j])**2
                                   for i in range(len(a)) for j in range(i + 1, len(a))]))
        else:
            out += sp.diff(t, x, 2)
    return out


class LogErfcx(sp.Function):
    """log erfcx(u) = u² + log erfc(u) (printed as the torch runtime's ``_logerfcx``)."""

    nargs = 1

    def _numpycode(self, printer):
        return "_logerfcx(%s)" % printer._print(self.args[0])


def _mills_ratios(e):
    """e^{... - k u² - k log erfc(u)} -> e^{... - k log erfcx(u)}, and likewise with
    -k LSE(l_i + log erfc(±u)) in place of -k log erfc(u) (then LSE(l_i + log erfcx(±u))):
    a Mills ratio φ(x)/Φ(x) of a tail far out is then no longer the exponential of a difference
    of two numbers of size x²/2, which loses x²·2⁻⁵³ of relative accuracy."""
    def square(F):
        if isinstance(F, logerfc):
            return sp.expand(F.args[0]**2)
        if isinstance(F, LogSumExp):
            sq = set()
            for arg in F.args:
                tails = [a for a in sp.Add.make_args(arg) if isinstance(a, logerfc)]
                if len(tails) != 1:
                    return None
                sq.add(sp.expand(tails[0].args[0]**2))
            return sq.pop() if len(sq) == 1 else None
        return None

    def rule(ex):
        terms = list(sp.Add.make_args(sp.expand(ex.args[0])))
        for t in terms:
            c, F = t.as_coeff_Mul()
            s = square(F) if c.is_negative else None
            if s is None:
                continue
            drop = list(sp.Add.make_args(sp.expand(c * s)))
            if not all(d in terms for d in drop):
                continue
            rest = [u for u in terms if u is not t]
            for d in drop:
                rest.remove(d)
            swap = F.replace(lambda a: isinstance(a, logerfc), lambda a: LogErfcx(a.args[0]))
            return sp.exp(sp.Add(*rest) + c * swap)
        return ex
    return e.replace(lambda a: isinstance(a, sp.exp) and a.has(logerfc), rule)


def _log_potential(P, potentials):
    """log P made explicit (tails in log space), products split, log-sums as LogSumExp."""
    return _log_sums(sp.expand_log(explicit(sp.log(P), potentials), force=True))


def _tidy(e):
    """Rational results in lowest terms: (y − ω)/(V + Δ), not a difference over Δ(V + Δ)."""
    return sp.cancel(e) if e.is_rational_function() else e


def denoiser_expressions(model) -> dict:
    """The denoisers as explicit SymPy expressions.

    Returns ``{"prior": {"f_a": .., "f_v": ..}, "channel": {label: {"g_out": .., "dg_out": ..}},
    "labels": tuple | None, "arguments": {"prior": [...], "channel": [...]}}``; for real labels
    the single channel entry has key ``None`` and depends on the symbol ``y``."""
    from ..model import load_model
    from ..symbolic.derive import Zout, Zw
    model = load_model(model)
    d = _derivation(model)
    potentials = {k: v for k, v in d.potentials.items() if k in ("Zw", "Zout")}
    params = [s for s in model.parameters if s != S.alpha]
    logZw = _log_potential(Zw(S.b, S.A), potentials)
    prior = {"f_a": _tidy(d.restore(sp.diff(logZw, S.b))), "f_v": _tidy(d.restore(_d2(logZw, S.b)))}
    labels = None if model.teacher.continuous else tuple(model.teacher.outputs)
    channel = {}
    for o in (labels or (None,)):
        logZ = _log_potential(Zout(S.y if o is None else sp.sympify(o), S.omega, S.V), potentials)
        channel[o] = {"g_out": _tidy(d.restore(sp.diff(logZ, S.omega))),
                      "dg_out": _tidy(d.restore(_d2(logZ, S.omega)))}
    return {"prior": prior, "channel": channel, "labels": labels,
            "arguments": {"prior": params + [S.b, S.A],
                          "channel": params + ([S.y] if labels is None else []) + [S.omega, S.V]}}


def _key(o):
    return "" if o is None else f"[{o}]"


def _sources(model) -> dict:
    ex = denoiser_expressions(model)
    head = f'"""AMP denoisers generated by replica for model {model.name!r}, torch backend ({{}})."""'
    prior = generate_torch_module(ex["prior"], ex["arguments"]["prior"], header=head.format("input side"))
    outs = {f"{k}{_key(o)}": _mills_ratios(stabilize(v)) for o, fs in ex["channel"].items() for k, v in fs.items()}
    channel = generate_torch_module(outs, ex["arguments"]["channel"], header=head.format("output side"))
    return {"prior": prior, "channel": channel + f"\nLABELS = {ex['labels']!r}\n"}


@dataclass
class Denoisers:
    """Generated AMP denoisers of a model, evaluated on float64 tensors (CPU or CUDA)."""

    model: object
    prior_module: object
    channel_module: object
    sources: dict

    @property
    def labels(self):
        """The finite label set, or None for real labels."""
        return self.channel_module.LABELS

    @property
    def parameter_names(self) -> list[str]:
        return [a for a in self.prior_module.ARGUMENTS if a not in ("b", "A")]

    def _params(self, params: dict) -> list:
        missing = [n for n in self.parameter_names if n not in params]
        if missing:
            raise ValueError(f"the denoisers of {self.model.name!r} need values for {missing}")
        return [float(params[n]) for n in self.parameter_names]

    def prior(self, b: torch.Tensor, A, params: dict, nodes: int = 96):
        """(f_a, f_v) at fields ``b`` and precisions ``A`` (broadcast)."""
        out = self.prior_module.evaluate(*self._params(params), b, A, nodes=nodes, device=b.device)
        return out["f_a"], out["f_v"]

    def channel(self, y: torch.Tensor, omega: torch.Tensor, V, params: dict, nodes: int = 96):
        """(g_out, ∂_ω g_out) at labels ``y``, means ``omega`` and variances ``V`` (broadcast)."""
        p = self._params(params)
        if self.labels is None:
            out = self.channel_module.evaluate(*p, y, omega, V, nodes=nodes, device=omega.device)
            return out["g_out"], out["dg_out"]
        out = self.channel_module.evaluate(*p, omega, V, nodes=nodes, device=omega.device)
        g = torch.zeros(torch.broadcast_shapes(y.shape, out["g_out" + _key(self.labels[0])].shape),
                        dtype=DTYPE, device=omega.device)
        dg = torch.zeros_like(g)
        known = torch.zeros(g.shape, dtype=torch.bool, device=omega.device)
        for o in self.labels:
            here = y == float(o)
            g = torch.where(here, out["g_out" + _key(o)], g)
            dg = torch.where(here, out["dg_out" + _key(o)], dg)
            known |= here
        if not bool(torch.all(known)):
            bad = torch.unique(y[~known.broadcast_to(y.shape)])[:5].tolist()
            raise ValueError(f"labels {bad} are not among the channel's outputs {self.labels}")
        return g, dg


def denoisers(model, cache: bool = True) -> Denoisers:
    """The AMP denoisers of ``model`` (a Model or a built-in name), generated once and cached."""
    from ..model import load_model
    model = load_model(model)
    keys = {part: C.model_key(model, "torch", f"amp-{part}") for part in ("prior", "channel")}
    names = {part: f"{model.name}-amp-{part}" for part in keys}
    srcs = {part: C.load(keys[part], names[part]) for part in keys} if cache else {}
    if not cache or any(v is None for v in srcs.values()):
        srcs = _sources(model)
        if cache:
            for part in keys:
                C.store(keys[part], names[part], srcs[part])
    return Denoisers(model, module_from_source(srcs["prior"], "replica_amp_prior"),
                     module_from_source(srcs["channel"], "replica_amp_channel"), srcs)
