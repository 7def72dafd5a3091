"""Shared machinery of components: parameters with domains, validation of custom expressions."""
from __future__ import annotations

import sympy as sp

from .params import NONNEGATIVE, POSITIVE, REAL, Domain, ParameterError, as_domain, parameter

__all__ = ["Component", "ComponentError", "assumed_domain"]


def assumed_domain(s: sp.Symbol) -> Domain | None:
    """The domain a SymPy symbol's own assumptions state: ``positive`` -> (0, inf),
    ``nonnegative`` -> [0, inf), ``real`` -> (-inf, inf); None when it states none of them."""
    if s.is_positive:
        return POSITIVE
    if s.is_nonnegative:
        return NONNEGATIVE
    if s.is_real:
        return REAL
    return None


class ComponentError(ValueError):
    """A malformed component: an undeclared symbol, a density that is not one, a loss that ignores λ."""


class Component:
    """Base of priors, channels, losses and learning settings.

    A component holds SymPy expressions; its free symbols other than its own variables
    are its parameters, each with a declared :class:`~replica.params.Domain`.
    """

    def __init__(self):
        self.domains: dict[sp.Symbol, Domain] = {}

    def _param(self, name: str, value, domain) -> sp.Expr:
        """A parameter given as a number (checked now), a string or Symbol (a free parameter)."""
        domain = as_domain(domain)
        if isinstance(value, str):
            value = parameter(value, domain)
        if isinstance(value, sp.Symbol):
            sym = parameter(value.name, domain)
            self.domains[sym] = domain
            return sym
        if isinstance(value, sp.Expr) and not value.is_number:
            raise ComponentError(f"{type(self).__name__}: {name} must be a number or a symbol, got {value}")
        v = domain.check(name, value)
        return sp.nsimplify(v, rational=True) if v == v else sp.Float(v)

    def _declare(self, expr: sp.Expr, own: set, params: dict | None, what: str) -> sp.Expr:
        """Check a user expression: every free symbol is one of ``own`` or declared in ``params``."""
        if isinstance(expr, str):
            raise ComponentError(f"{what}: give a SymPy expression, not a string")
        expr = sp.sympify(expr)
        params = params or {}
        declared = {}
        for k, d in params.items():
            name = k.name if isinstance(k, sp.Symbol) else str(k)
            declared[name] = as_domain(d)
        reps = {}
        for s in expr.free_symbols:
            if s in own or s.name in {o.name for o in own}:
                continue
            domain = declared.get(s.name) or assumed_domain(s)
            if domain is None:
                raise ComponentError(
                    f"{what}: undeclared free symbol {s.name!r}; declare it with "
                    f"params={{'{s.name}': (lo, hi)}}, give the symbol an assumption "
                    f"(Symbol({s.name!r}, positive=True), nonnegative=True or real=True) "
                    f"or make it one of {sorted(o.name for o in own)}")
            sym = parameter(s.name, domain)
            self.domains[sym] = domain
            reps[s] = sym
        for o in own:  # unify assumptions of the component's own variables
            for s in expr.free_symbols:
                if s.name == o.name and s != o:
                    reps[s] = o
        return expr.xreplace(reps)

    @property
    def parameters(self) -> dict[sp.Symbol, Domain]:
        return dict(self.domains)

    def _args_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args_repr()})"


def check_values(domains: dict, values: dict) -> dict:
    """Check numeric values of parameters against their domains; unknown names are an error."""
    by_name = {s.name: d for s, d in domains.items()}
    out = {}
    for k, v in values.items():
        if k not in by_name:
            raise ParameterError(f"unknown parameter {k!r}; this model has {sorted(by_name)}")
        out[k] = by_name[k].check(k, v)
    return out
