"""Generated output-side kernels of committee machines: Z_out(y; ω, V) and ∇_ω Z_out for V = aI + bJ.

The teacher's label is y = f(z), f a rule of the signs of the K hidden fields (its sign table
σ ↦ f(σ) is derived from the rule's SymPy expression by ``models.CommitteeRule``), and given the
data the fields are z ~ N(ω, V) with V = aI + bJ in the permutation-symmetric ansatz
(a = ρ − q_d > 0, b = −q_a/K of either sign, a + Kb > 0).

**Common shift.**  Write z_k = ω_k + √a e_k + c with e ~ N(0, I_K) and a common shift
c = √b s, s ~ N(0, 1): for b ≥ 0 this is the real Gaussian c ~ N(0, b); for b < 0, c = i√|b| s
is imaginary — E_s F(√b s) is an entire function of b (the Gaussian average of the entire
c ↦ E_e F(c + e)), so it continues analytically to b < 0 and converges while a + Kb > 0
(Aubin et al. 2018, appendix; ``largek`` uses the same construction on the unspecialized
subspace).  Given c the units are independent, P(sign z_k = σ_k | c) = Φ(σ_k x_k) with
x_k = (ω_k + c)/√a, so

    Z_out(y; ω, V) = E_s Σ_{σ: f(σ) = y} Π_k Φ(σ_k x_k),                              (1)
    ∂Z_out/∂ω_k = a^{-1/2} E_s ∂/∂x_k [Σ_σ ...],   ∂Φ(x)/∂x = φ(x)                       (2)

— a Poisson-binomial sum for a rule of the number of positive units, the multilinear polynomial
of the sign table in general.

**Generation.**  Per label, (1) is built as a SymPy polynomial in the unit factors
A_k = Φ(x_k) w^{1/K}, B_k = Φ(−x_k) w^{1/K} (w = the s-rule's weight, folded in so that no
factor overflows when Φ grows like e^{|b| s²/2a} at imaginary arguments), (2) by SymPy
differentiation with ∂A_k/∂x_k = −∂B_k/∂x_k = D_k = φ(x_k) w^{1/K} (checked symbolically from
Φ(x) = erfc(−x/√2)/2 when the kernel is built), and printed as one NumPy function per rule
(common subexpressions eliminated) — no per-rule NumPy; ``OutputKernel.source`` is the
generated text.  The unit factors themselves are one fixed numeric primitive
(``unit_factors``: ``ndtr`` for real x, Faddeeva's w for complex x).

**s-rule** (``OutputKernel.s_rule``).  Gauss–Hermite (31 nodes) where the integrand is smooth
on the Gaussian's scale — b > 0 with √(a/b) ≥ 1.5, or b < 0 with a + Kb ≥ 0.4a, then scaled by
σ² = a/(a + Kb) to the envelope e^{−s²/2}|Φ|^K and taken over s ≥ 0 only (the integrand at −s
is the complex conjugate); composite Gauss–Legendre otherwise, panels of width
min(2, √(a/|b|)) out to where the envelope is below e^{−42}.  Against the orthant
probabilities (Owen's T, nested Gauss–Legendre) the kernel agrees to ~1e-13 for V's smaller
eigenvalue down to 1e-3 a, and to ~1e-11 at 1e-4 a; a point that would need more than
``S_MAX_PANELS`` panels is NaN (not resolved).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp
from scipy.special import log_ndtr, ndtr, wofz
from sympy.printing.numpy import NumPyPrinter

from .quadrature import hermite, legendre

__all__ = ["unit_factors", "OutputKernel", "output_kernel", "kernel_expressions", "S_PER_PANEL"]

#: Gauss–Legendre nodes per panel of the common-shift integral (``OutputKernel.s_rule``)
S_PER_PANEL = 8
#: Gauss–Hermite (odd: a node at 0) where Φ((ω + √b s)/√a) varies on scales ≥ S_GH_SCALE in s (b > 0) or
#: V's smaller eigenvalue is at least S_GH_EIG a (b < 0); composite Gauss–Legendre otherwise
S_GH_NODES, S_GH_SCALE, S_GH_EIG = 31, 1.5, 0.4
#: (per_panel, Gauss–Hermite nodes) of the higher order of the accuracy estimate
S_REFINED = (12, 41)
#: the widest panel of the s-rule (in units of s)
S_PANEL = 2.0
#: at most this many panels; a point that needs more is not resolved (NaN, never a number)
S_MAX_PANELS = 2000
#: the s-integral stops where the integrand's envelope is below e^{-_ENV_CUT}; b >= 0: |s| <= _GAUSS_CUT
_ENV_CUT, _GAUSS_CUT = 42.0, 9.5
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_2PI, _SQRT2 = math.sqrt(2 * math.pi), math.sqrt(2.0)
#: entries of an (points × s-nodes) block per call of the generated function
_CHUNK = 400_000


def unit_factors(x, lwk):
    """(Φ(x) e^{lwk}, Φ(−x) e^{lwk}, φ(x) e^{lwk}) for real or complex x (lwk = log w / K ≤ 0).

    Real x: ``ndtr`` (relative accuracy in both tails).  Complex x (the imaginary shift):
    Faddeeva's w, Φ(u) = ½ e^{−u²/2} w(−iu/√2) on the side Re u ≤ 0 where w is bounded (the
    weight folded into the exponent, so that |Φ| ~ e^{(Im x)²/2} never overflows), the other
    factor e^{lwk} minus it."""
    e = np.exp(lwk)
    if not np.iscomplexobj(x):
        return ndtr(x) * e, ndtr(-x) * e, np.exp(lwk - 0.5 * x * x) / _SQRT_2PI
    neg = x.real < 0
    u = np.where(neg, x, -x)
    g = np.exp(lwk - 0.5 * u * u)
    t = 0.5 * g * wofz(-1j * u / _SQRT2)
    return np.where(neg, t, e - t), np.where(neg, e - t, t), g / _SQRT_2PI


def _check_unit_derivative():
    """∂Φ/∂x = φ, Φ(x) = erfc(−x/√2)/2: the rule for D_k used by the generated gradient."""
    x = sp.Symbol("x", real=True)
    d = sp.diff(sp.erfc(-x / sp.sqrt(2)) / 2, x) - sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi)
    if sp.simplify(d) != 0:                                   # pragma: no cover - a SymPy regression
        raise AssertionError("committee kernel: dPhi/dx is not phi")


def kernel_expressions(table: dict, outputs: tuple, K: int):
    """((A, B, D), Z, dZ): the unit-factor symbols, and per label y of ``outputs`` the summand of
    (1) as a polynomial Z[y] in A_k = Φ(x_k) w^{1/K}, B_k = Φ(−x_k) w^{1/K}, and its x-gradient
    dZ[y][k] (2) with ∂A_k/∂x_k = −∂B_k/∂x_k = D_k = φ(x_k) w^{1/K}, from the sign table
    {σ: f(σ)}."""
    _check_unit_derivative()
    A = sp.symbols(f"A1:{K + 1}")
    B = sp.symbols(f"B1:{K + 1}")
    D = sp.symbols(f"D1:{K + 1}")
    polys = []
    for y in outputs:
        terms = [sp.Mul(*[A[k] if s[k] > 0 else B[k] for k in range(K)]) for s, v in table.items() if v == y]
        polys.append(sp.Add(*terms))
    # chain rule: x_k enters through A_k (∂ = D_k) and B_k (∂ = −D_k)
    grads = [[sp.expand(sp.diff(p, A[k]) * D[k] - sp.diff(p, B[k]) * D[k]) for k in range(K)] for p in polys]
    return (A, B, D), polys, grads


def _emit(name: str, args, exprs) -> str:
    """NumPy source of ``def name(*args): return exprs`` with common subexpressions eliminated."""
    repl, red = sp.cse(exprs, symbols=sp.numbered_symbols("_t"), optimizations="basic")
    pr = NumPyPrinter({"fully_qualified_modules": False, "inline": True})
    lines = [f"def {name}({', '.join(str(a) for a in args)}):"]
    lines += [f"    {s} = {pr.doprint(e)}" for s, e in repl]
    lines.append("    return (" + ", ".join(pr.doprint(e) for e in red) + ",)")
    return "\n".join(lines) + "\n"


class OutputKernel:
    """Z_out and ∇_ω Z_out of a sign-table committee rule for V = aI + bJ, generated (module doc).

    ``kernel(omega, a, b, grad=True, s_nodes=S_NODES)``: ω (P, M, K), a and b (P,) ->
    Z (P, M, L) and (``grad``) ∇_ω Z (P, M, L, K), L = len(outputs)."""

    def __init__(self, table: dict, outputs: tuple, K: int):
        self.K, self.outputs = K, tuple(outputs)
        (A, B, D), Z, dZ = kernel_expressions(table, self.outputs, K)
        flat = Z + [g for row in dZ for g in row]
        self.source = (_emit("z_out", list(A) + list(B), Z) + "\n"
                       + _emit("z_out_grad", list(A) + list(B) + list(D), flat))
        ns = {}
        exec(compile(self.source, f"<committee kernel K={K}>", "exec"), ns)
        self._z, self._zg = ns["z_out"], ns["z_out_grad"]

    def s_rule(self, a: float, b: float, per_panel: int = S_PER_PANEL, gh_nodes: int = None):
        """(c (S,) complex, lw (S,)): common shifts c = √b s and log weights of E_{s ~ N(0,1)} at one
        point: composite Gauss–Legendre, panels of width h = min(1, √(a/|b|)) (the scale on which
        Φ((ω + √b s)/√a) varies) out to where the integrand's envelope e^{−s²/2}|Φ|^K at ω = 0 is
        below e^{−42} (the extent grows like (a/(a + Kb))^{1/2} as V's smaller eigenvalue
        vanishes; at most ``S_MAX_PANELS`` panels).  For b < 0 only s ≥ 0 (the integrand at −s is
        the complex conjugate: 2 Re), for b ≥ 0 both signs.  None where more panels would be
        needed (V nearly singular)."""
        if b == 0:                                     # no common shift: independent units
            return np.zeros(1, complex), np.zeros(1)
        if (b > 0 and a >= S_GH_SCALE ** 2 * b) or (b < 0 and a + self.K * b >= S_GH_EIG * a):
            # smooth on the scale of the Gaussian: Gauss–Hermite, scaled for b < 0 by
            # σ² = a/(a + Kb) to the envelope e^{−s²/2}|Φ|^K; b < 0: s ≥ 0 only (2 Re)
            t, wt = hermite(gh_nodes or S_GH_NODES)
            sig = 1.0 if b > 0 else math.sqrt(a / (a + self.K * b))
            lw = np.log(wt) + math.log(sig) - 0.5 * (sig * sig - 1.0) * t * t
            if b < 0:
                keep = t >= 0
                t, lw = t[keep], lw[keep] + np.where(t[keep] > 0, math.log(2.0), 0.0)
            s = sig * t
            return (math.sqrt(b) * s if b > 0 else 1j * math.sqrt(-b) * s), lw
        x, w = legendre(int(per_panel))
        h = min(S_PANEL, math.sqrt(a / abs(b)))
        if b < 0:
            r = math.sqrt(-b / a)
            sg = np.arange(1.0, S_MAX_PANELS + 1.0) * h
            c0 = 1j * r * sg
            env = -sg * sg / 2 + self.K * np.logaddexp(log_ndtr(c0).real, log_ndtr(-c0).real)
            small = np.flatnonzero(env < -_ENV_CUT)
            if not small.size:
                return None
            n = int(small[0]) + 1
            edges = np.arange(n + 1) * h
        else:
            n = int(math.ceil(_GAUSS_CUT / h))
            if n > S_MAX_PANELS:
                return None
            edges = np.linspace(-n * h, n * h, 2 * n + 1)
        mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
        s = (mid[:, None] + half[:, None] * x[None]).ravel()
        lw = np.log((half[:, None] * w[None]).ravel()) - s * s / 2 - _LOG_SQRT_2PI
        if b < 0:
            lw = lw + math.log(2.0)
        c = math.sqrt(b) * s if b > 0 else 1j * math.sqrt(-b) * s
        return c, lw

    def __call__(self, omega, a, b, grad: bool = True, per_panel: int = S_PER_PANEL, refined: bool = False):
        """Z (P, M, L) and ∇_ω Z (P, M, L, K) (None unless ``grad``); ``refined``: the s-rule at
        its higher order (``S_REFINED``), the accuracy estimate's reference."""
        omega = np.asarray(omega, float)
        P, M, K = omega.shape
        if K != self.K:
            raise ValueError(f"committee kernel: built for K = {self.K}, got fields of K = {K}")
        a, b = np.broadcast_to(np.asarray(a, float), (P,)), np.broadcast_to(np.asarray(b, float), (P,))
        L = len(self.outputs)
        Z = np.empty((P, M, L))
        dZ = np.empty((P, M, L, K)) if grad else None
        for p in range(P):
            rule = (self.s_rule(float(a[p]), float(b[p]), *(S_REFINED if refined else (per_panel, S_GH_NODES)))
                    if a[p] > 0 else None)
            if rule is None:                              # not resolved: NaN, never a number
                Z[p] = np.nan
                if grad:
                    dZ[p] = np.nan
                continue
            c, lw = rule
            sa = math.sqrt(a[p])
            step = max(1, _CHUNK // c.size)
            for m0 in range(0, M, step):
                om = omega[p, m0:m0 + step]                                 # (m, K)
                lwk = lw[None] / K
                grid, inv = np.unique(om, return_inverse=True)
                inv = inv.reshape(om.shape)
                if (om == om[:, :1]).all():               # equal fields (the unspecialized line): one unit
                    units = [unit_factors((om[:, 0, None] + c[None]) / sa, lwk)] * K
                elif 4 * grid.size <= om.size:            # fields on a grid (the layer rule): factors per value
                    tab = unit_factors((grid[:, None] + c[None]) / sa, lwk)
                    units = [tuple(f[inv[:, k]] for f in tab) for k in range(K)]
                else:
                    units = [unit_factors((om[:, k, None] + c[None]) / sa, lwk) for k in range(K)]
                args = [u[0] for u in units] + [u[1] for u in units]
                vals = self._zg(*args, *[u[2] for u in units]) if grad else self._z(*args)
                shape = units[0][0].shape
                arr = np.stack([np.broadcast_to(v, shape).sum(-1).real for v in vals], -1)
                Z[p, m0:m0 + step] = arr[:, :L]
                if grad:
                    dZ[p, m0:m0 + step] = arr[:, L:].reshape(-1, L, K) / sa
        return np.maximum(Z, 0.0), dZ


@functools.lru_cache(maxsize=32)
def _cached(items: tuple, outputs: tuple, K: int) -> OutputKernel:
    return OutputKernel(dict(items), outputs, K)


def output_kernel(rule) -> OutputKernel:
    """The generated kernel of a ``CommitteeRule`` (built once per sign table)."""
    return _cached(tuple(sorted(rule.table.items())), tuple(rule.outputs), rule.K)
