"""Model parameters: SymPy symbols with a declared domain (the numpyro ``arg_constraints`` habit).

A component's free symbols are its parameters; each carries a :class:`Domain` that is
checked once, with a clear message, whenever a value is supplied.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

__all__ = ["Domain", "ParameterError", "parameter", "as_domain", "REAL", "POSITIVE", "NONNEGATIVE"]


class ParameterError(ValueError):
    """A parameter value outside its declared domain, or an unknown parameter."""


@dataclass(frozen=True)
class Domain:
    """An interval of the real line, ends open or closed."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = True
    hi_open: bool = True

    def __contains__(self, v) -> bool:
        v = float(v)
        if math.isnan(v):
            return False
        lo_ok = v > self.lo if self.lo_open else v >= self.lo
        hi_ok = v < self.hi if self.hi_open else v <= self.hi
        return lo_ok and hi_ok

    def __str__(self) -> str:
        def fmt(x):
            return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"
        return f"{'(' if self.lo_open else '['}{fmt(self.lo)}, {fmt(self.hi)}{')' if self.hi_open else ']'}"

    def check(self, name: str, value) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {name!r} must be a number, got {value!r}") from None
        if v not in self:
            raise ParameterError(f"parameter {name!r} = {v:g} is outside its domain {self}")
        return v

    def assumptions(self) -> dict:
        if self.lo > 0 or (self.lo == 0 and self.lo_open):
            return {"positive": True}
        if self.lo >= 0:
            return {"nonnegative": True}
        return {"real": True}


REAL = Domain()
POSITIVE = Domain(0.0, math.inf, True, True)
NONNEGATIVE = Domain(0.0, math.inf, False, True)


def as_domain(d) -> Domain:
    """A Domain from a Domain, a (lo, hi) tuple (closed ends) or one of 'real', 'positive', 'nonnegative'."""
    if isinstance(d, Domain):
        return d
    if isinstance(d, str):
        try:
            return {"real": REAL, "positive": POSITIVE, "nonnegative": NONNEGATIVE}[d]
        except KeyError:
            raise ParameterError(f"unknown domain {d!r}; use 'real', 'positive', 'nonnegative' or (lo, hi)") from None
    lo, hi = d
    return Domain(float(lo), float(hi), lo == -math.inf, hi == math.inf)


def parameter(name: str, domain=REAL) -> sp.Symbol:
    """The SymPy symbol of a parameter, with assumptions matching its domain."""
    return sp.Symbol(name, **as_domain(domain).assumptions())
