"""Model parameters: SymPy symbols with a declared domain (the numpyro ``arg_constraints`` habit).

A component's free symbols are its parameters; each carries a :class:`Domain` that is
checked once, with a clear message, whenever a value is supplied.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import sympy as sp

__all__ = ["Domain", "ParameterError", "parameter", "as_domain", "REAL", "POSITIVE", "NONNEGATIVE",
           "Limit", "LimitError", "LIMITS", "available_memory"]


class ParameterError(ValueError):
    """A parameter value outside its declared domain, or an unknown parameter."""


class LimitError(ParameterError):
    """A request beyond a size limit (grid points, memory, enumeration, hidden units)."""


def available_memory() -> float:
    """Bytes of memory available to a new allocation (``MemAvailable`` of /proc/meminfo, else
    the physical memory from ``os.sysconf``)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _fmt_amount(v: float, unit: str) -> str:
    if unit == "bytes":
        return f"{v / 2**30:.3g} GiB"
    return f"{v:,.0f}" if v >= 1e4 else f"{v:g}"


@dataclass(frozen=True)
class Limit:
    """A size limit, checked before any work starts; the environment variable ``env`` lifts it.

    ``default`` None means "the memory available now" (:func:`available_memory`, 80 %)."""

    what: str
    env: str
    default: float | None
    unit: str = ""

    def value(self) -> float:
        text = os.environ.get(self.env)
        if text:
            try:
                v = float(text) * (2**30 if self.unit == "bytes" else 1)
            except ValueError:
                raise LimitError(f"environment variable {self.env} must be a number, got {text!r}") from None
            if not v > 0:
                raise LimitError(f"environment variable {self.env} must be positive, got {text!r}")
            return v
        return 0.8 * available_memory() if self.default is None else float(self.default)

    def check(self, amount: float, context: str = "") -> None:
        """Raise :class:`LimitError` when ``amount`` exceeds the limit, saying how to lift it."""
        lim = self.value()
        if amount > lim:
            unit = " (in GiB)" if self.unit == "bytes" else ""
            raise LimitError(f"{context + ': ' if context else ''}{self.what} {_fmt_amount(amount, self.unit)} "
                             f"exceeds the limit {_fmt_amount(lim, self.unit)}; lift it with the "
                             f"environment variable {self.env}=VALUE{unit}")


#: every size limit of the command line and the library, by name
LIMITS = {
    "grid_points": Limit("grid size (points)", "REPLICA_MAX_POINTS", 1e7),
    "memory": Limit("estimated memory", "REPLICA_MAX_MEMORY_GB", None, "bytes"),
    "enumeration": Limit("enumeration size (configurations)", "REPLICA_MAX_ENUMERATION", 2.0**26),
    "hidden_units": Limit("number of hidden units K", "REPLICA_MAX_K", 8),
}


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
