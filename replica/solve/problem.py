"""A compiled theory bound to a flat grid of parameter points: the fixed-point map, its domain.

The saddle-point equations come as maps ``x = M(x)`` over the order parameters
x = (overlaps o, conjugates h): overlaps are functions of the conjugates (prior side),
conjugates functions of the overlaps (output side), so one evaluation of the generated code at
x gives M(x) = (M_o(h), M_h(o)), the residual

    r(x) = max_k |M_k(x) - x_k| / max(1, |x_k|)

(absolute for order parameters below 1, relative above), the free entropy and the observables
at x.  The solver works on a flat axis of P points; ``Problem`` broadcasts the user's
parameter arrays to that axis, evaluates any subset of it, and knows the physical domain of
the order parameters.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from ..params import ParameterError

__all__ = ["Problem", "relative_residual"]

#: slack on the closed ends of the domain (q <= cap, m^2 <= rho q) for rounding
_EDGE = 1e-12


def relative_residual(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """max_k |new_k - old_k| / max(1, |old_k|) over the leading (order-parameter) axis; NaN if
    anything is not finite."""
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.max(np.abs(new - old) / np.maximum(1.0, np.abs(old)), axis=0)
    return np.where(np.all(np.isfinite(new), axis=0) & np.all(np.isfinite(old), axis=0), r, np.nan)


_RHO: dict = {}


def _second_moment(prior):
    """ρ = E w*² of the teacher prior (1 for every built-in prior); cached per prior object."""
    key = id(prior)
    if key not in _RHO or _RHO[key][0] is not prior:
        _RHO[key] = (prior, prior.second_moment())
    return _RHO[key][1]


@functools.lru_cache(maxsize=256)
def _lambdified(expr):
    """(argument names, NumPy function) of a parameter expression, cached across solves."""
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    return [s.name for s in syms], sp.lambdify(syms, expr, "numpy")


#: nodes per Gaussian expectation when none are given
DEFAULT_NODES = {"hermite": 96, "legendre": 400, "adaptive": 400}


def quadrature(nodes, rule: str) -> tuple:
    """(nodes, rule) of a direct evaluation: ``'auto'`` evaluates with composite Gauss–Legendre
    (the accurate rule; ``solve`` first converges with Gauss–Hermite, see there)."""
    rule = "legendre" if rule == "auto" else rule
    if rule not in DEFAULT_NODES:
        raise ValueError(f"unknown quadrature rule {rule!r}; use 'auto', 'hermite', 'legendre' or 'adaptive'")
    return (DEFAULT_NODES[rule] if nodes is None else int(nodes)), rule


class Problem:
    """``compiled`` (a CompiledTheory) at the parameter values ``params`` (name -> array or float,
    broadcast together to ``shape``; missing ones taken from the model's defaults)."""

    def __init__(self, compiled, params: dict, nodes: int | None = None, rule: str = "auto"):
        self.compiled = compiled
        self.model = compiled.model
        self.kind = compiled.kind
        self.nodes, self.rule = quadrature(nodes, rule)
        self.names = list(compiled.unknowns)
        n = len(self.names) // 2
        self.overlaps, self.hats = self.names[:n], self.names[n:]
        self.params = self._check(params)
        self.shape = np.broadcast_shapes(*(np.shape(v) for v in self.params.values())) if self.params else ()
        self.size = int(np.prod(self.shape, dtype=int))
        self.flat = {k: np.broadcast_to(np.asarray(v, float), self.shape).reshape(-1).copy()
                     for k, v in self.params.items()}
        self.fixed = {str(k): self._numeric(v) for k, v in compiled.fixed.items()}
        rho = _second_moment(self.model.prior)
        features = getattr(self.model, "features", None)
        if features is not None:              # E λ*² = ρ θᵀΨθ/D with Gaussian covariates
            rho = rho * features.teacher_power
        self.rho = self._numeric(rho)
        self.storage = self.kind.startswith(("storage", "capacity"))

    # -- parameters --------------------------------------------------------------------
    def _check(self, params: dict) -> dict:
        """Every parameter present (defaults filled in), none unknown, all inside their domains."""
        names = list(self.compiled.parameter_names)
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {unknown} for model "
                                 f"{self.model.name!r}; its parameters are {names}")
        out = {}
        defaults = getattr(self.model, "defaults", {}) or {}
        domains = {s.name: d for s, d in self.model.parameters.items()}
        for name in names:
            dom = domains[name]
            if name in params:
                v = np.asarray(params[name], dtype=float)
            elif name in defaults:
                v = np.asarray(float(defaults[name]))
            else:
                raise ParameterError(f"parameter {name!r} needs a value (model {self.model.name!r} has no default)")
            lo_ok = (v > dom.lo) if dom.lo_open else (v >= dom.lo)
            hi_ok = (v < dom.hi) if dom.hi_open else (v <= dom.hi)
            bad = ~(lo_ok & hi_ok)
            if np.any(bad):
                raise ParameterError(f"parameter {name!r} = {float(v[bad].flat[0]) if v.ndim else float(v):g} "
                                     f"is outside its domain {dom}")
            out[name] = v
        return out

    def _numeric(self, expr) -> np.ndarray:
        """A SymPy expression of the model parameters as a flat array over the points."""
        expr = sp.sympify(expr)
        if not expr.free_symbols:            # a number (ρ = 1, Q = 1): no lambdify (start-up)
            return np.full(self.size, float(expr))
        syms, f = _lambdified(expr)
        val = f(*[self.flat[s] for s in syms])
        return np.broadcast_to(np.asarray(val, float), (self.size,)).copy()

    def param(self, idx) -> dict:
        return {k: v[idx] for k, v in self.flat.items()}

    # -- evaluation ----------------------------------------------------------------------
    def evaluate(self, x: np.ndarray, idx, want=None) -> dict:
        """The generated outputs (all, or those named in ``want``) at the states x (shape
        (d, len(idx))) of the points ``idx``."""
        state = {k: x[i] for i, k in enumerate(self.names)}
        extra = {} if want is None else {"want": want}
        return self.compiled.evaluate(nodes=self.nodes, rule=self.rule, **extra, **self.param(idx), **state)

    def maps(self, out: dict) -> np.ndarray:
        return np.stack([np.asarray(out["map_" + k], float) for k in self.names])

    def jacobi(self, x: np.ndarray, idx):
        """(M(x), outputs) at the states x of the points idx: both halves of the maps —
        overlaps from the conjugates, conjugates from the overlaps — in one evaluation."""
        out = self.evaluate(x, idx, want=["map_" + k for k in self.names])
        return self.maps(out), out

    # -- domain --------------------------------------------------------------------------
    def cap(self, x: np.ndarray, idx) -> np.ndarray:
        """Upper bound of the replica overlap q: Q (an unknown or held fixed), else ρ."""
        if "Q" in self.names:
            return x[self.names.index("Q")]
        if "Q" in self.fixed:
            return self.fixed["Q"][idx]
        return self.rho[idx]

    def admissible(self, x: np.ndarray, idx) -> np.ndarray:
        """Points whose state lies in the physical domain of the order parameters:
        0 <= q < Q (or ρ),  Q > 0,  chi > 0 (chi = lim β(Q - q)),  m² <= ρ q (m² <= ρ Q without q),
        q_hat >= 0 and chi_hat >= 0 (variances of effective Gaussian fields), all finite."""
        ok = np.all(np.isfinite(x), axis=0)
        v = {k: x[i] for i, k in enumerate(self.names)}
        rho = self.rho[idx]
        with np.errstate(invalid="ignore"):
            if "q" in v:
                ok &= (v["q"] >= 0) & (v["q"] < self.cap(x, idx))
            for k in ("Q", "chi"):
                if k in v:
                    ok &= v[k] > 0
            if "m" in v:
                base = v["q"] if "q" in v else self.cap(x, idx)
                ok &= v["m"] ** 2 <= rho * base * (1 + _EDGE)
            for k in ("q_hat", "chi_hat"):
                if k in v:
                    ok &= v[k] >= 0
        return ok

    def saturated(self, s: np.ndarray, idx) -> np.ndarray:
        """Points at the perfect-recovery limit q -> ρ, q_hat -> ∞: the overlaps q (and m) of
        the state s — the solver passes those implied by the conjugates, M_o(h) — within 1e-12
        of their bound.  The conjugate has then diverged on the prior side (q = ρ(1 - 1e-12)
        takes q_hat ≈ 2 log 1e12 ≈ 55 for ±1 weights, q_hat = 1e12 for Gaussian ones), while the
        output-side integrals, Gaussians of width √(1 - q/ρ) ≤ 1e-6, are beyond any quadrature
        and are not consulted.  For storage problems q -> 1 is the capacity: there the solver
        reports no solution rather than a perfect branch."""
        if "q" not in self.names:
            return np.zeros(len(idx), bool)
        ok = s[self.names.index("q")] >= self.cap(s, idx) * (1 - _EDGE)
        if "m" in self.names:
            ok &= s[self.names.index("m")] >= self.rho[idx] * (1 - _EDGE)
        return ok

    def perfect_state(self, idx, big: float = 1e4) -> np.ndarray:
        """The end point q = Q (fixed or ρ), m = Q = ρ, conjugates at ``big`` (the free entropy
        converges exponentially in q_hat for discrete priors; rounding there is ~ big · 1e-16);
        any other overlap NaN (no perfect-recovery value is known for it)."""
        rho = self.rho[idx]
        at = {"Q": rho, "m": rho, "q": self.fixed["Q"][idx] if "Q" in self.fixed else rho}
        x = np.full((len(self.names), len(idx)), big)
        for i, k in enumerate(self.names):
            if k in self.overlaps:
                x[i] = at.get(k, np.nan)
        return x
