"""The units of work of a phase diagram: one grid row solved from every start, one row searched
for transitions.

A phase diagram over (x, y) is cut into *rows*, one per y value: :func:`solve_row` solves the
row's x values from every initial condition (:func:`replica.solve.solve_branches`: equilibrium
and metastable branches), :func:`transitions_row` locates the transitions along x at that y by
root finding (:func:`replica.solve.find_transitions`).  The rows are the tasks whatever runs
them (in this process, a local Dask cluster or a remote one), so a result never depends on
how the grid was distributed: the same row is the same computation everywhere.

Tasks receive a *theory reference*: the CompiledTheory itself in this process, or
``(key, model)`` on a worker, where the generated module is loaded from the on-disk cache (the
parent derives and stores it first) and memoized per process.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["TheoryRef", "solve_row", "solve_rows", "transitions_row", "axis", "jsonable"]


class TheoryRef:
    """A picklable handle on a compiled theory: the model and its cache key.  Unpickled on a
    worker it loads the generated module once per process (``load_compiled``)."""

    _memo: dict = {}

    def __init__(self, compiled):
        from ..codegen.cache import model_key
        self.model = compiled.model
        self.key = model_key(compiled.model, "numpy", "main")
        self._compiled = compiled

    def __getstate__(self):
        return {"model": self.model, "key": self.key}

    def __setstate__(self, state):
        self.model, self.key, self._compiled = state["model"], state["key"], None

    @property
    def compiled(self):
        if self._compiled is None:
            if self.key not in TheoryRef._memo:
                from ..codegen.compiled import load_compiled
                TheoryRef._memo[self.key] = load_compiled(self.model)
            self._compiled = TheoryRef._memo[self.key]
        return self._compiled


def axis(spec, what: str) -> tuple:
    """(name, 1-d float array) from ``("alpha", values)`` or ``{"alpha": values}``: strictly
    increasing, finite, at least one value."""
    if isinstance(spec, dict):
        if len(spec) != 1:
            raise ValueError(f"{what} must name one parameter, got {list(spec)}")
        spec = next(iter(spec.items()))
    try:
        name, values = spec
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be (name, values) or {{name: values}}, got {spec!r}") from None
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.ndim != 1 or values.size < 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"{what} {name!r}: values must be a non-empty 1-d array of finite numbers")
    if values.size > 1 and not np.all(np.diff(values) > 0):
        raise ValueError(f"{what} {name!r}: values must be strictly increasing")
    return str(name), values


def solve_row(ref: TheoryRef, x_name: str, xs, y_name: str, y: float, fixed: dict, opts: dict) -> dict:
    """Every start at (x = xs, y) with ``fixed`` parameters: per start label the order parameters,
    free entropy, observables, convergence, residual, per-point branch label, duplicate and
    equilibrium masks; under ``"equilibrium"`` the equilibrium branch at every point."""
    return solve_rows(ref, x_name, xs, y_name, [y], fixed, opts)[0]


def solve_rows(ref: TheoryRef, x_name: str, xs, y_name: str, ys, fixed: dict, opts: dict) -> list:
    """:func:`solve_row` at every y of ``ys``, as one vectorized solve of the (ys, xs) block (the
    solver treats every point on its own: a row's numbers do not depend on its block)."""
    from ..solve import solve_branches
    c = ref.compiled
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if getattr(c, "solver", None) is not None and ys.size > 1:    # committees: y (K) one value at a time
        return [r for y in ys for r in solve_rows(ref, x_name, xs, y_name, [y], fixed, opts)]
    y = float(ys[0]) if ys.size == 1 else ys[:, None]
    b = solve_branches(c, {**fixed, y_name: y, x_name: xs[None, :] if ys.size > 1 else xs}, "all", **opts)
    eq = b.equilibrium_solution()
    block = {}
    for lab, s in [("equilibrium", eq), *b.solutions.items()]:
        shape = (ys.size, xs.size)
        rec = {k: np.broadcast_to(np.asarray(v, float), shape) for d in (s.values, s.fixed, s.outputs)
               for k, v in d.items()}
        rec.update(converged=np.asarray(s.converged, bool).reshape(shape),
                   residual=np.asarray(s.residual, float).reshape(shape), label=np.asarray(s.branch, str).reshape(shape))
        if lab == "equilibrium":
            rec.update(duplicate=np.zeros(shape, bool), equilibrium=np.asarray(eq.converged, bool).reshape(shape))
        else:
            rec.update(duplicate=np.asarray(b.duplicate[lab], bool).reshape(shape),
                       equilibrium=np.asarray(b.equilibrium[lab], bool).reshape(shape))
        block[lab] = rec
    return [{lab: {k: np.array(v[j]) for k, v in rec.items()} for lab, rec in block.items()}
            for j in range(ys.size)]


def jsonable(v):
    """A JSON-safe value: floats (None for NaN and ±inf), ints, bools, lists."""
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (list, tuple)):
        return [jsonable(w) for w in v]
    if isinstance(v, np.ndarray):
        return jsonable(v.tolist())
    return v


def transitions_row(ref: TheoryRef, x_name: str, x_range: tuple, y_name: str, y: float, fixed: dict,
                    kinds, opts: dict) -> list:
    """The transitions along x in ``x_range`` at this y (records of ``find_transitions`` with
    ``y`` added, JSON-safe; a record whose value could not be located keeps ``value: None`` and
    its ``error``)."""
    from ..solve import find_transitions
    recs = find_transitions(ref.compiled, x_name, tuple(map(float, x_range)),
                            {**fixed, y_name: float(y)}, kinds=kinds, **opts)
    return [{**{k: jsonable(v) for k, v in r.items()}, "y": float(y)} for r in recs]
