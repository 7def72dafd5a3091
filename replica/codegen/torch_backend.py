"""The torch backend: the NumPy backend's lowered code, printed for torch.

The lowering is :mod:`replica.codegen.lower`'s, unchanged — potentials made explicit with
Gaussian tails in log space (``logerfc`` through ``torch.special.log_ndtr``), ratios of tails
merged into single exponentials, logarithms of sums as log-sum-exp, ``Z log Z`` as
``torch.special.xlogy``, Piecewise as nested ``torch.where``, Gaussian expectations as
Gauss–Hermite (or kink-split Gauss–Legendre) sums over a new leading axis, proximal maps by a
safeguarded Newton iteration.  Only the printing differs:

* the NumPy printer's module names are mapped to torch (``numpy.exp`` → ``torch.exp``,
  ``scipy.special.xlogy`` → ``torch.special.xlogy``, ...) through one explicit table
  (:data:`TORCH_NAMES`); a function with no torch counterpart is a :class:`LoweringError` at
  generation time, not a failure at run time;
* numeric constants (√2, π, log 2, ...) are printed as float literals, so no torch function
  is ever called on a Python number;
* the run-time helpers (``_logerfc``, ``_lse``, ``_kink_rule``, ``_gauss_rule``, ...) are the
  functions of this module, imported by the generated code.

Generated modules compute in float64 on the device of their tensor inputs (or ``device=``),
CPU or CUDA, and are differentiable by autograd wherever the maths is.
"""
from __future__ import annotations

import math
import re
import types
from functools import lru_cache, reduce

import numpy as np
import sympy as sp
import torch

from ..symbolic.moreau import Prox
from . import lower
from .labels import LABEL_NODES
from .lines import SPREAD
from .lower import LoweringError, Emitter, lower_outputs

__all__ = ["generate_torch_module", "module_from_source", "TORCH_NAMES", "DTYPE"]

DTYPE = torch.float64

#: NumPy-printer names -> torch code (the only module-level names generated code may use)
TORCH_NAMES = {
    # elementwise functions
    "sqrt": "torch.sqrt", "exp": "torch.exp", "log": "_log", "log1p": "torch.log1p",
    "expm1": "torch.expm1", "log2": "torch.log2", "log10": "torch.log10",
    "sin": "torch.sin", "cos": "torch.cos", "tan": "torch.tan",
    "arcsin": "torch.arcsin", "arccos": "torch.arccos", "arctan": "torch.arctan",
    "arctan2": "torch.atan2", "sinh": "torch.sinh", "cosh": "torch.cosh", "tanh": "torch.tanh",
    "arcsinh": "torch.arcsinh", "arccosh": "torch.arccosh", "arctanh": "torch.arctanh",
    "abs": "torch.abs", "fabs": "torch.abs", "sign": "torch.sign", "floor": "torch.floor",
    "ceil": "torch.ceil", "erf": "torch.special.erf", "erfc": "torch.special.erfc",
    "erfcx": "torch.special.erfcx", "log_ndtr": "torch.special.log_ndtr", "ndtr": "torch.special.ndtr",
    "xlogy": "torch.special.xlogy", "lgamma": "torch.lgamma", "gammaln": "torch.lgamma",
    "heaviside": "_heaviside", "maximum": "_maximum", "minimum": "_minimum",
    # logic and selection
    "where": "torch.where", "less": "torch.less", "greater": "torch.greater",
    "less_equal": "torch.less_equal", "greater_equal": "torch.greater_equal",
    "equal": "torch.eq", "not_equal": "torch.ne", "logical_and": "torch.logical_and",
    "logical_or": "torch.logical_or", "logical_not": "torch.logical_not",
    # reductions (quadrature sums)
    "sum": "torch.sum",
    # constants
    "pi": repr(math.pi), "e": repr(math.e), "nan": "math.nan", "inf": "math.inf",
}

_QUALIFIED = re.compile(r"(?<![\w.])(numpy|scipy\.special|math)\.([A-Za-z_]\w*)(\.\w+)?")


def _translate(code: str) -> str:
    """NumPy-printed code -> torch code, name by name through :data:`TORCH_NAMES`."""
    def sub(m):
        name = m.group(2)
        if name not in TORCH_NAMES or m.group(3):
            raise LoweringError(f"the torch backend has no counterpart of {m.group(0)}")
        return TORCH_NAMES[name]
    return _QUALIFIED.sub(sub, code)


def _floats(e):
    """Irrational numeric constants (√2, π, log 2, e^{-1/2}, ...) as Floats: printed as literals,
    so that no torch function receives a Python number."""
    return e.replace(lambda a: a.is_number and not a.is_Rational and not a.is_Float
                     and a.is_finite is not False and a.is_real,
                     lambda a: sp.Float(float(a)))


class _TorchPrinter(lower.NumpyPrinter):
    """The NumPy backend's printer, its module names translated to torch."""

    def _print_Float(self, e):
        v = float(e)
        if math.isfinite(v):
            return repr(v)
        return "math.nan" if math.isnan(v) else ("math.inf" if v > 0 else "-math.inf")

    def _print(self, expr, **kwargs):
        # a numeric subexpression anywhere (also one a printing method builds, like log(2) in a
        # log-sum-exp) is a float literal: torch functions do not take Python numbers
        if isinstance(expr, sp.Expr) and not expr.is_Number and expr.is_number:
            v = complex(expr.evalf(20))
            if v.imag == 0:
                return self._print_Float(sp.Float(v.real))
        return super()._print(expr, **kwargs)

    def _print_Function(self, e):
        # a function the NumPy printer does not know would be printed as a bare name: an error
        # here, at generation time, rather than a NameError when the module runs
        if isinstance(e, Prox):           # SymPy skips _print_Prox for subclasses with other names
            return self._print_Prox(e)
        if type(e).__name__ in self.known_functions:
            return super()._print_Function(e)
        raise LoweringError(f"the torch backend has no counterpart of the function {type(e).__name__}")

    def _print_And(self, e):
        return reduce(lambda a, b: f"torch.logical_and({a}, {b})", [self._print(a) for a in e.args])

    def _print_Or(self, e):
        return reduce(lambda a, b: f"torch.logical_or({a}, {b})", [self._print(a) for a in e.args])

    def doprint(self, expr, assign_to=None):
        return _translate(super().doprint(_floats(sp.sympify(expr)), assign_to))


class _TorchEmitter(Emitter):
    """``lower.Emitter`` with the torch printer; expectation nodes summed with ``torch.sum``."""

    node_sum = "torch.sum({w} * ({body}), 0)"
    label_sum = "torch.nansum({w} * ({body}), 0)"
    kink_extra = ", _GHX"
    adaptive = False                      # rule='adaptive' is the NumPy backend's check rule

    def __init__(self):
        super().__init__()
        self.printer = _TorchPrinter({"fully_qualified_modules": True, "allow_unknown_functions": True})

    def cse(self, e):
        return super().cse(_floats(e))


# ------------------------------------------------------------------------------------------
# run-time helpers (imported by generated modules)
# ------------------------------------------------------------------------------------------
_SQRT2 = math.sqrt(2.0)
_LOG2 = math.log(2.0)


def _ref(xs):
    return next((x for x in xs if torch.is_tensor(x)), None)


def _tensors(xs, ref=None):
    """The arguments as float64 tensors on the device of the first tensor among them."""
    ref = _ref(xs) if ref is None else ref
    dev = ref.device if ref is not None else None
    return [x if torch.is_tensor(x) else torch.as_tensor(x, dtype=DTYPE, device=dev) for x in xs]


def _logerfc(u):
    """log erfc(u) for any real u: log_ndtr(-√2 u) + log 2."""
    return torch.special.log_ndtr(-_SQRT2 * u) + _LOG2


def _log(x):
    """log of a tensor, or of a number (a constant term of a log-sum-exp)."""
    if torch.is_tensor(x):
        return torch.log(x)
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _logerfcx(u):
    """log erfcx(u) = u² + log erfc(u) without cancelling the two: log(erfcx u) for u > 0,
    the sum for u ≤ 0 (where erfcx overflows and erfc is near 2)."""
    return torch.where(u > 0, torch.log(torch.special.erfcx(u)), _logerfc(u) + u * u)


def _lse(*xs):
    """log Σ e^{x_i}, pairwise by ``torch.logaddexp`` (−∞ terms drop out)."""
    xs = _tensors(xs)
    return reduce(torch.logaddexp, xs)


def _maximum(*xs):
    return reduce(torch.maximum, _tensors(xs))


def _xlogx(z):
    """z log z, 0 at z = 0 (z evaluated once)."""
    return torch.special.xlogy(z, z)


def _minimum(*xs):
    return reduce(torch.minimum, _tensors(xs))


def _heaviside(x, half=0.5):
    """Θ(x) with Θ(0) = ½."""
    (x,) = _tensors([x])
    return torch.heaviside(x, torch.tensor(half, dtype=x.dtype, device=x.device))


def _log1mexp(x):
    """log(1 - e^x) for x <= 0 (expm1 near 0, log1p far)."""
    return torch.where(x > -0.6931471805599453, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def _logerfsum(u, v):
    """log ½(erf u + erf v), u + v > 0: the twin of the NumPy runtime's (``replica.codegen.signed``)."""
    u, v = torch.broadcast_tensors(*_tensors([u, v]))
    lo, hi = torch.minimum(u, v), torch.maximum(u, v)
    near = torch.log((torch.special.erf(lo) + torch.special.erf(hi)) / 2)
    far = torch.log1p(-(torch.special.erfc(lo) + torch.special.erfc(hi)) / 2)
    la, lb = _logerfc(-lo), _logerfc(hi)
    diff = la + _log1mexp(torch.clamp(lb - la, max=0.0)) - _LOG2
    out = torch.where(lo >= 0.5, far, torch.where(lo >= 0, near, diff))
    return torch.where(lo + hi > 0, out, torch.full_like(out, -math.inf))


def _inputs(*xs, device=None):
    """Arguments as broadcast float64 tensors on ``device`` (default: that of the tensor inputs, else CPU)."""
    if device is None:
        ref = _ref(xs)
        device = ref.device if ref is not None else torch.device("cpu")
    ts = [torch.as_tensor(x, dtype=DTYPE, device=device) for x in xs]
    return torch.broadcast_tensors(*ts)


def _full(x, ref):
    """``x`` (tensor or number) broadcast to the shape of ``ref``."""
    return torch.as_tensor(x, dtype=DTYPE, device=ref.device).broadcast_to(ref.shape)


_NUMPY_RUNTIME: dict = {}


@lru_cache(maxsize=64)
def _gauss_rule(n, rule, device):
    """The NumPy backend's quadrature rule (``lower``'s ``_gauss_rule``), as tensors on ``device``."""
    if not _NUMPY_RUNTIME:
        exec(compile(lower.RUNTIME_PRELUDE, "<replica numpy runtime>", "exec"), _NUMPY_RUNTIME)
    x, w = _NUMPY_RUNTIME["_gauss_rule"](int(n), rule)
    return (torch.as_tensor(x, dtype=DTYPE, device=device), torch.as_tensor(w, dtype=DTYPE, device=device))


@lru_cache(maxsize=8)
def _legendre8(device):
    t, v = np.polynomial.legendre.leggauss(8)
    return torch.as_tensor(t, dtype=DTYPE, device=device), torch.as_tensor(v, dtype=DTYPE, device=device)


def _composite(edges, n, device):
    """Composite 8-point Gauss–Legendre on the pieces [edges[i], edges[i+1]] (edges: (K+1,) + S),
    each piece cut into the same number of equal panels, about n nodes in all; nodes and weights
    flattened to (M,) + S."""
    a, b = edges[:-1], edges[1:]
    S = tuple(a.shape[1:])
    t, v = _legendre8(device)
    P = max(1, -(-n // (8 * a.shape[0])))
    s0 = (torch.arange(P, dtype=DTYPE, device=device) / P).reshape((1, P) + (1,) * len(S))
    h = ((b - a) / (2 * P))[:, None]
    mids = a[:, None] + (b - a)[:, None] * s0 + h
    x = mids[:, :, None] + h[:, :, None] * t.reshape((1, 1, 8) + (1,) * len(S))
    w = (h[:, :, None] * v.reshape((1, 1, 8) + (1,) * len(S))).expand_as(x)
    return x.reshape((-1,) + S), w.reshape((-1,) + S)


def _kink_rule(n, breaks, nd, like):
    """E_x f(x) nodes and weights for f smooth between the points ``breaks`` — the torch twin of
    the NumPy runtime's ``_kink_rule``: the line (cut at ±12) split at the sorted points, each
    piece with composite 8-point Gauss–Legendre panels, about n nodes in all.  Shapes
    (M,) + (1,)*k + broadcast(breaks) with nd dimensions after the first."""
    L = 12.0
    bs = torch.broadcast_tensors(*_tensors(breaks, like))
    B = torch.clamp(torch.sort(torch.stack(bs), dim=0).values, -L, L)
    S = B.shape[1:]
    edges = torch.cat([torch.full((1,) + S, -L, dtype=DTYPE, device=like.device), B,
                       torch.full((1,) + S, L, dtype=DTYPE, device=like.device)])
    x, w = _composite(edges, n, like.device)
    w = w * torch.exp(-x**2 / 2) / math.sqrt(2.0 * math.pi)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + S), w.reshape((w.shape[0],) + pad + S)


def _implicit_roots(g, nd, like, k=4, m=385):
    """Up to k roots in (-12, 12) of g(x), the kinks of an integrand whose argument is not linear
    in x — the torch twin of the NumPy runtime's ``_implicit_roots``: sign changes of g on m
    equispaced points, each bracket refined by 55 bisections; 12.0 for each missing root."""
    L = 12.0
    s = torch.linspace(-L, L, m, dtype=DTYPE, device=like.device).reshape((-1,) + (1,) * nd)
    G = torch.as_tensor(g(s), dtype=DTYPE, device=like.device)
    G = G.broadcast_to(torch.broadcast_shapes(G.shape, s.shape))
    pos = G >= 0
    ch = pos[:-1] != pos[1:]
    idx = torch.argsort((~ch).to(torch.int8), dim=0, stable=True)[:k]
    found = torch.gather(ch, 0, idx)
    flat = s.reshape(-1)
    lo, hi = flat[idx], flat[idx + 1]
    plo = torch.gather(pos[:-1], 0, idx)
    for _ in range(55):
        mid = 0.5 * (lo + hi)
        same = (torch.as_tensor(g(mid), dtype=DTYPE, device=like.device) >= 0) == plo
        lo, hi = torch.where(same, mid, lo), torch.where(same, hi, mid)
    return list(torch.where(found, 0.5 * (lo + hi), torch.full_like(lo, L)))


def _tilt_peak(c1, c2, lo, hi):
    """c1/(-2 c2) clipped into [lo, hi]; 0 where c1 = c2 = 0 (the NumPy runtime's ``_tilt_peak``)."""
    c1, c2, lo, hi = torch.broadcast_tensors(*_tensors([c1, c2, lo, hi]))
    p = torch.where(c1 == 0, torch.zeros_like(c1), c1 / (-2.0 * c2))
    return torch.minimum(torch.maximum(p, lo), hi)


def _to_t(x, mu, sigma):
    """t in [-1, 1] with x = mu + sigma t/(1 - t²)."""
    s = (x - mu) / sigma
    with torch.no_grad():
        inf = torch.isinf(s)
    s_f = torch.where(inf, torch.zeros_like(s), s)
    return torch.where(inf, torch.sign(s), 2.0 * s_f / (1.0 + torch.sqrt(1.0 + 4.0 * s_f * s_f)))


def _line_rule(n, mu, sigma, breaks, lo, hi, nd, like):
    """∫_lo^hi dx f(x) nodes and weights — the torch twin of the NumPy runtime's ``_line_rule``
    (:mod:`replica.codegen.lines`): x = mu + 5 sigma t/(1 - t²), the t-interval split at the
    images of ``breaks``, composite 8-point Gauss-Legendre panels, about n nodes in all."""
    arrs = torch.broadcast_tensors(*_tensors([mu, sigma, lo, hi] + list(breaks), like))
    mu, sigma, lo, hi, bs = arrs[0], SPREAD * arrs[1], arrs[2], arrs[3], arrs[4:]
    S = mu.shape
    t0, t1 = _to_t(lo, mu, sigma), _to_t(hi, mu, sigma)
    if bs:
        tb = torch.sort(torch.minimum(torch.maximum(_to_t(torch.stack(bs), mu, sigma), t0), t1), dim=0).values
        tb = torch.where(torch.isfinite(tb), tb, t0.expand_as(tb))
    else:
        tb = torch.zeros((0,) + tuple(S), dtype=DTYPE, device=like.device)
    edges = torch.cat([t0[None], tb, t1[None]])
    tt, wt = _composite(edges, n, like.device)
    d = 1.0 - tt * tt
    x = mu + sigma * tt / d
    w = wt * sigma * (1.0 + tt * tt) / (d * d)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + tuple(S)), w.reshape((w.shape[0],) + pad + tuple(S))


def _label_rule(lo, hi, centres, width, nd, like):
    """∫_lo^hi dy f(y) nodes and weights — the torch twin of the NumPy runtime's ``_label_rule``
    (:mod:`replica.codegen.labels`): about LABEL_NODES uniform panel ends on [lo, hi] plus the
    centres and centre +- width * 2^k, composite 8-point Gauss-Legendre panels."""
    k = len(centres)
    arrs = torch.broadcast_tensors(*_tensors([lo, hi, width] + list(centres), like))
    lo, hi, W = arrs[0], arrs[1], arrs[2]
    S = tuple(lo.shape)
    panels = max(1, -(-LABEL_NODES // 8))
    grid = torch.linspace(0.0, 1.0, panels + 1, dtype=DTYPE, device=like.device).reshape((-1,) + (1,) * len(S))
    parts = [lo + (hi - lo) * grid]
    if k:
        C = torch.stack(arrs[3:])
        Wc = torch.where(torch.isfinite(W) & (W > 0), W, hi - lo)
        span = float(torch.max(hi - lo)) if (hi - lo).numel() else 1.0
        K = int(np.clip(math.ceil(math.log2(max(span, 1e-300) / max(float(torch.min(Wc)), 1e-300))) + 1, 1, 40)) if Wc.numel() else 1
        off = (Wc[None] * (2.0 ** torch.arange(K, dtype=DTYPE, device=like.device)).reshape((-1,) + (1,) * len(S)))[None]
        pts = torch.cat([C[:, None], C[:, None] - off, C[:, None] + off], dim=1).reshape((-1,) + S)
        parts.append(torch.minimum(torch.maximum(torch.nan_to_num(pts, nan=0.0), lo), hi))
    B = torch.sort(torch.cat(parts), dim=0).values
    a, b = B[:-1], B[1:]
    t, v = _legendre8(like.device)
    h = (b - a) / 2
    x = ((a + b) / 2)[:, None] + h[:, None] * t.reshape((1, 8) + (1,) * len(S))
    w = h[:, None] * v.reshape((1, 8) + (1,) * len(S))
    x, w = x.reshape((-1,) + S), w.reshape((-1,) + S)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + S), w.reshape((w.shape[0],) + pad + S)


_PRELUDE = '''
import math
import torch
from replica.codegen.torch_backend import (_log, _logerfc, _logerfcx, _logerfsum, _lse, _maximum, _minimum,
                                           _heaviside, _kink_rule, _gauss_rule, _inputs, _full, _tensors, _xlogx,
                                           _line_rule, _label_rule, _tilt_peak, _implicit_roots)
'''

_PROX_TEMPLATE = lower.prox_template("torch", "torch.broadcast_tensors(*_tensors([y, omega, chi]))")


def generate_torch_module(outputs: dict, arguments: list, header: str = "") -> str:
    """Python source of a torch module with ``evaluate(args..., nodes=96, rule='hermite',
    want=None, device=None) -> dict`` of float64 tensors: :func:`replica.codegen.lower.generate_module`'s
    lowering, printed for torch.

    ``outputs``: name -> SymPy expression (already explicit);  ``arguments``: symbols, in order."""
    src, argnames, body, blocks = lower_outputs(_TorchEmitter(), outputs, arguments, [header, _PRELUDE],
                                                _PROX_TEMPLATE)
    first = argnames[0]
    src.append(f"\n\ndef evaluate({', '.join(argnames)}, nodes=96, rule='hermite', want=None, device=None):")
    src.append(f'    """Evaluate {", ".join(outputs)} at broadcastable ({", ".join(argnames)}): float64 tensors '
               'on ``device``\n    (default: the device of the tensor inputs, else the CPU); ``want``: the names '
               'to compute (default all)."""')
    args = ", ".join(argnames)
    src.append(f"    {args}{',' if len(argnames) == 1 else ''} = _inputs({args}, device=device)")
    src.append(f"    _G = {first}.dim()")
    src.append(f"    _GHX, _GHW = _gauss_rule(nodes, rule, {first}.device)")
    src.append("    _out = {}")
    for name, code in body.items():
        # each output's own block of lines, run only when wanted (as in the NumPy backend)
        src.append(f"    if want is None or {name!r} in want:")
        src.extend(_translate(ln.replace("    ", "        ", 1)) for ln in blocks[name])
        src.append(f"        _out[{name!r}] = _full({code}, {first})")
    src.append("    return _out\n")
    return "\n".join(src)


def module_from_source(source: str, name: str = "replica_generated_torch") -> types.ModuleType:
    """Execute generated source as a fresh module."""
    mod = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), mod.__dict__)
    return mod

