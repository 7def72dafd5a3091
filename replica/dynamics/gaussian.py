"""Gaussian averages of an activation for the online-SGD ODEs (Saad & Solla 1995, PRE 52, 4225).

For jointly Gaussian fields h ~ N(0, C) and an activation g (a SymPy expression of one symbol;
g' is its SymPy derivative), the ODEs need

    I2(c, d)       = E[f_c(h_c) f_d(h_d)],
    I3(a, b, c)    = E[g'(h_a) h_b f_c(h_c)],
    I4(a, b, c, d) = E[g'(h_a) g'(h_b) f_c(h_c) f_d(h_d)],

with f_c the activation of the unit that field c belongs to (student g or teacher g*).  They are
computed for any activation by tensor-product Gauss–Hermite quadrature on the 2-, 3- or
4-dimensional sub-covariance (h = V √Λ z, z ~ N(0, I), from the eigen-decomposition C = V Λ Vᵀ,
so repeated indices — a singular sub-covariance — are exact).  For erf units g(x) = erf(x/√2)
(student and teacher) the closed forms of Saad & Solla (1995, PRE 52, 4225, appendix) are used
instead, a shortcut that tests/test_dynamics_sgd.py proves equal to the quadrature:

    I2 = (2/π) asin(C_cd / √((1 + C_cc)(1 + C_dd))),
    I3 = (2/π) (C_bc(1 + C_aa) − C_ab C_ac) / ((1 + C_aa) √Λ3),   Λ3 = (1 + C_aa)(1 + C_cc) − C_ac²,
    I4 = (4/π²) asin(Λ0/√(Λ1 Λ2)) / √Λ4,   Λ4 = (1 + C_aa)(1 + C_bb) − C_ab²,
         Λ0 = Λ4 C_cd − C_bc C_bd (1 + C_aa) − C_ac C_ad (1 + C_bb) + C_ab C_ac C_bd + C_ab C_ad C_bc,
         Λ1 = Λ4 (1 + C_cc) − C_bc² (1 + C_aa) − C_ac² (1 + C_bb) + 2 C_ab C_ac C_bc,
         Λ2 = Λ4 (1 + C_dd) − C_bd² (1 + C_aa) − C_ad² (1 + C_bb) + 2 C_ab C_ad C_bd.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.special
import sympy as sp

from ..params import ParameterError

__all__ = ["Activation", "activation", "ACTIVATION_NAMES", "moments"]

_u = sp.Symbol("u", real=True)
_NAMED = {
    "erf": sp.erf(_u / sp.sqrt(2)),
    "relu": sp.Max(0, _u),
    "tanh": sp.tanh(_u),
    "linear": _u,
}
ACTIVATION_NAMES = tuple(_NAMED)
_MODULES = [{"erf": scipy.special.erf, "Heaviside": lambda x, h=0.5: np.heaviside(x, 0.5)}, "numpy"]


@dataclass(frozen=True)
class Activation:
    """An activation g(u) as a SymPy expression, with numeric g and g' (g' = dg/du by SymPy)."""
    name: str
    expr: sp.Expr
    g: Callable
    dg: Callable

    @property
    def is_erf(self) -> bool:
        """g(u) = erf(u/√2): the closed-form averages apply."""
        return sp.simplify(self.expr - _NAMED["erf"]) == 0


def activation(spec) -> Activation:
    """An :class:`Activation` from a name (``erf`` = erf(u/√2), ``relu``, ``tanh``, ``linear``),
    a SymPy expression of one symbol, or an Activation."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec not in _NAMED:
            raise ParameterError(f"unknown activation {spec!r}; choose from {', '.join(_NAMED)} or give a SymPy expression")
        name, expr = spec, _NAMED[spec]
    elif isinstance(spec, sp.Expr):
        free = sorted(spec.free_symbols, key=str)
        if len(free) != 1:
            raise ParameterError(f"an activation is a SymPy expression of exactly one symbol, got {spec}")
        name, expr = str(spec), spec.subs(free[0], _u)
    else:
        raise ParameterError(f"activation must be a name or a SymPy expression, got {spec!r}")
    d = sp.diff(expr, _u)
    if isinstance(expr, sp.Max) or expr.has(sp.Max):
        d = d.rewrite(sp.Heaviside)
    g = sp.lambdify(_u, expr, modules=_MODULES)
    dg = sp.lambdify(_u, d, modules=_MODULES)
    return Activation(name, expr, lambda x, f=g: np.broadcast_to(f(x), np.shape(x)).astype(float),
                      lambda x, f=dg: np.broadcast_to(f(x), np.shape(x)).astype(float))


# -- quadrature ---------------------------------------------------------------------------------

def _hermite(n):
    """Gauss–Hermite nodes and weights for the standard normal measure."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / w.sum()


@functools.lru_cache(maxsize=16)
def _tensor_nodes(d, n):
    """The n^d tensor-product nodes (n^d, d) and weights (n^d,)."""
    x, w = _hermite(n)
    Z = np.stack([a.ravel() for a in np.meshgrid(*[x] * d, indexing="ij")], axis=1)
    W = np.prod(np.stack([a.ravel() for a in np.meshgrid(*[w] * d, indexing="ij")], axis=1), axis=1)
    return Z, W


def moments(C: np.ndarray, K: int, g: Activation, gt: Activation, *, noise: float = 0.0, nodes: int = 10,
            closed_form: bool = True):
    """The averages the ODEs need, for h = (λ, ν) ~ N(0, C), C ((K+M) × (K+M), students first),
    e = Σ_n g*(ν_n) − Σ_i g(λ_i) (+ √Δ ζ):

    E_dh[i, b] = E[g'(λ_i) e h_b] = Σ_c s_c I3(i, b, c),
    E_dd[i, k] = E[g'(λ_i) g'(λ_k) e²] = Σ_cd s_c s_d I4(i, k, c, d) + Δ E[g'(λ_i) g'(λ_k)],
    eg = ½ E[(σ − σ*)²] = ½ Σ_cd s_c s_d I2(c, d)   (s_c = −1 student, +1 teacher).

    Closed forms (module docstring) when both activations are erf and ``closed_form``;
    otherwise tensor Gauss–Hermite quadrature on the joint (K+M)-dimensional Gaussian with
    ``nodes`` points per dimension (nodes^(K+M) evaluations of g, g')."""
    C = np.asarray(C, dtype=float)
    L = C.shape[0]
    s = np.concatenate([-np.ones(K), np.ones(L - K)])
    if closed_form and g.is_erf and gt.is_erf:
        J2, J3, J4, D2 = _erf_averages(C, K)
        return J3 @ s, np.einsum("ikcd,c,d->ik", J4, s, s) + noise * D2, 0.5 * float(s @ J2 @ s)
    if nodes ** L > 4_000_000:
        raise ParameterError(f"quadrature on {L} fields with {nodes} nodes each needs {nodes ** L:.3g} points; "
                             "use fewer nodes or fewer units")
    lam, V = np.linalg.eigh(C)
    A = V * np.sqrt(np.clip(lam, 0.0, None))[None, :]            # C = A Aᵀ
    Z, W = _tensor_nodes(L, nodes)
    H = A @ Z.T                                                   # (L, nodes^L)
    F = np.concatenate([g.g(H[:K]), gt.g(H[K:])])
    e = s @ F
    Gp = g.dg(H[:K])
    E_dh = (Gp * (e * W)) @ H.T
    E_dd = (Gp * (e * e * W)) @ Gp.T + noise * (Gp * W) @ Gp.T
    return E_dh, E_dd, 0.5 * float((e * e) @ W)


def _erf_averages(C, K):
    """Saad & Solla's closed forms (module docstring), vectorized over all index tuples."""
    d = 1.0 + np.diag(C)
    L = C.shape[0]
    J2 = (2 / np.pi) * np.arcsin(np.clip(C / np.sqrt(np.outer(d, d)), -1, 1))
    a = np.arange(K)[:, None, None]
    b = np.arange(L)[None, :, None]
    c = np.arange(L)[None, None, :]
    lam3 = d[a] * d[c] - C[a, c] ** 2
    J3 = (2 / np.pi) * (C[b, c] * d[a] - C[a, b] * C[a, c]) / (d[a] * np.sqrt(lam3))
    a = np.arange(K)[:, None, None, None]
    b = np.arange(K)[None, :, None, None]
    c = np.arange(L)[None, None, :, None]
    e = np.arange(L)[None, None, None, :]
    lam4 = d[a] * d[b] - C[a, b] ** 2
    lam0 = (lam4 * C[c, e] - C[b, c] * C[b, e] * d[a] - C[a, c] * C[a, e] * d[b]
            + C[a, b] * C[a, c] * C[b, e] + C[a, b] * C[a, e] * C[b, c])
    lam1 = lam4 * d[c] - C[b, c] ** 2 * d[a] - C[a, c] ** 2 * d[b] + 2 * C[a, b] * C[a, c] * C[b, c]
    lam2 = lam4 * d[e] - C[b, e] ** 2 * d[a] - C[a, e] ** 2 * d[b] + 2 * C[a, b] * C[a, e] * C[b, e]
    J4 = (4 / np.pi**2) * np.arcsin(np.clip(lam0 / np.sqrt(lam1 * lam2), -1, 1)) / np.sqrt(lam4)
    # E[g'(u)g'(v)] for g' = √(2/π) e^{-u²/2}: (2/π)/√((1 + C_aa)(1 + C_bb) − C_ab²)
    s = np.arange(K)
    D2 = (2 / np.pi) / np.sqrt(np.outer(d[s], d[s]) - C[np.ix_(s, s)] ** 2)
    return J2, J3, J4, D2
