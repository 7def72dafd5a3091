"""``phase_diagram``: a 2-D grid solved from every start, with its transition lines traced."""
from __future__ import annotations

import contextlib

import numpy as np

from .. import progress as P
from ..params import ParameterError
from . import dataset as D
from .distributed import executor
from .grid import TheoryRef, axis, solve_rows, transitions_row
from .gridlines import grid_kinds, locate_rows
from .tracing import assemble, refine_rows

__all__ = ["phase_diagram"]


def _check(model, x_name, xs, y_name, ys, fixed) -> tuple[dict, bool]:
    """The fixed parameters as floats, after checking every name and value against the model,
    and whether y takes integer values only."""
    names = model.parameter_names()
    if x_name == y_name:
        raise ParameterError(f"x and y are both {x_name!r}; choose two different parameters")
    for n in (x_name, y_name, *fixed):
        if n not in names:
            raise ParameterError(f"unknown parameter {n!r} for model {model.name!r}; "
                                 f"its parameters are {', '.join(names)}")
    for n in (x_name, y_name):
        if n in fixed:
            raise ParameterError(f"{n!r} is an axis of the diagram and cannot also be fixed")
    fixed = {k: float(v) for k, v in fixed.items()}
    doms = {s.name: d for s, d in model.parameters.items()}
    for n, vals in ((x_name, xs), (y_name, ys), *((k, [v]) for k, v in fixed.items())):
        for v in vals:
            doms[n].check(n, float(v))
    if _integer(doms[x_name]) and xs.size > 1:
        raise ParameterError(f"{x_name!r} takes integer values only: lines are located along x by root "
                             f"finding, so put {x_name!r} on the y axis")
    return fixed, _integer(doms[y_name])


def _integer(domain) -> bool:
    """An integer-valued parameter (the number of hidden units K of a committee)."""
    return bool(getattr(domain, "integer", False))


def phase_diagram(theory, x, y, fixed: dict | None = None, *, kinds=None, nodes: int = 400,
                  rule: str = "legendre", refine: int = 2, workers: int | None = None,
                  scheduler: str | None = None, progress: bool | None = False):
    """Phase diagram of ``theory`` over the grid ``x`` × ``y``.

    Parameters
    ----------
    theory : a built-in model name, ``"file.py[:variable]"``, a Model, Theory or CompiledTheory.
    x, y : ``(name, values)`` or ``{name: values}`` — the two axes (values strictly increasing).
    fixed : the other parameters (the model's defaults for those not given).
    kinds : transition kinds to trace (``find_transitions``'s; default: all that apply).
    nodes, rule : quadrature of the generated code (default composite Gauss–Legendre, 400
        nodes: it resolves the output integrands as q -> 1, where 96-node Gauss–Hermite
        does not).
    refine : rounds of row insertion that follow steep stretches and ends of lines
        (:func:`replica.phase.tracing.refine_rows`); 0 for grid rows only.
    workers, scheduler : run the rows on a new local Dask cluster of ``workers`` processes, or
        on the Dask scheduler at ``scheduler``; in this process when neither is given.  The
        numbers are the same either way (each row is one task, computed identically).
    progress : tqdm progress bars on stderr, one per pass with its total known when it starts
        (the grid's rows and line searches, then each refinement round); None: shown where
        :func:`replica.progress.enabled` says (stderr a terminal, or ``REPLICA_PROGRESS=1``).

    Returns
    -------
    xarray.Dataset — see :mod:`replica.phase.dataset`: order parameters, free entropy,
    observables, convergence and residual per branch (equilibrium and each start), the phase
    code per point, the traced lines (``replica.phase.lines(ds)``) and provenance attributes.

    Every point of a line is a transition located by root finding along x at that line's y, not
    a pixel edge: first-order, spinodal and RS-instability points bracketed on the grid's own
    rows and located for all rows at once (:mod:`replica.phase.gridlines`), the other kinds by
    :func:`replica.solve.find_transitions` row by row.
    """
    from ..solve.transitions import compiled_part
    compiled = compiled_part(theory)
    x_name, xs = axis(x, "x")
    y_name, ys = axis(y, "y")
    fixed, y_integer = _check(compiled.model, x_name, xs, y_name, ys, dict(fixed or {}))
    if compiled.kind == "storage":
        compiled_part(compiled, "capacity")          # derived and cached here, not in every worker
    opts = {"nodes": int(nodes), "rule": str(rule)}
    ref = TheoryRef(compiled)
    track = xs.size > 1
    x_range = (float(xs[0]), float(xs[-1]))
    dx = (xs[-1] - xs[0]) / max(xs.size - 1, 1)
    dy = (ys[-1] - ys[0]) / max(ys.size - 1, 1)

    here, rest = grid_kinds(compiled, kinds) if track else ([], kinds)
    per_row = rest is None or len(rest) > 0          # kinds searched row by row (find_transitions)

    def row_calls(values):
        """Tasks: blocks of rows solved as one vectorized grid each, then the per-row searches."""
        blocks = [b for b in np.array_split(np.asarray(values, float), _blocks(len(values), workers, scheduler)) if b.size]
        calls = [(solve_rows, (ref, x_name, xs, y_name, b, fixed, opts)) for b in blocks]
        if track and per_row:
            calls += [(transitions_row, (ref, x_name, x_range, y_name, float(v), fixed, rest, opts)) for v in values]
        return calls, len(blocks)

    def lines_of(values, rows, searched):
        """y -> records: the per-row searches' and those located from the rows' own data."""
        got = {float(v): list(r) for v, r in zip(values, searched)} if per_row else {float(v): [] for v in values}
        if here:
            for y, recs in locate_rows(compiled, x_name, xs, y_name, values, fixed, rows, here, opts).items():
                got[y] = sorted(got[y] + recs, key=lambda q: (q["value"] is None, q["value"] or 0.0))
        return got

    def run(values, desc):
        calls, nb = row_calls(values)
        with _bar(len(calls), desc, progress) as bar:
            results = ex.map(_call, calls, bar)
        return [r for block in results[:nb] for r in block], results[nb:]

    with executor(workers, scheduler) as ex:
        rows, searched = run(ys, f"{compiled.model.name}: {ys.size} {y_name} rows")
        found = lines_of(ys, rows, searched) if track else {}
        # rows between integer values of y do not exist: no refinement there
        for k in range(refine if track and ys.size > 1 and not y_integer else 0):
            new = [v for v in refine_rows(found, dx, dy) if v not in found]
            if not new:
                break
            more, searched = run(new, f"{compiled.model.name}: refining ({k + 1}/{refine}), {len(new)} rows")
            found.update(lines_of(new, more, searched))
    errors = [{"kind": r["kind"], y_name: r["y"], "error": r.get("error", "")}
              for recs in found.values() for r in recs if r.get("value") is None] if track else []
    line_list = assemble(found, x_range[1] - x_range[0]) if track else []
    ds = D.build_dataset(compiled, x_name, xs, y_name, ys, fixed, rows, line_list, opts=opts,
                         kinds=kinds, errors=errors)
    ds.attrs["y_integer"] = int(y_integer)
    return ds


@contextlib.contextmanager
def _bar(total, desc, show):
    """A progress bar of ``total`` tasks (its total known when it starts), closed after the block."""
    b = P.bar(total, desc, show=show)
    try:
        yield b
    finally:
        if b is not None:
            b.close()


#: rows per block of the grid solved as one vectorized grid in this process
_ROWS_PER_BLOCK = 10


def _blocks(n: int, workers, scheduler) -> int:
    """How many blocks ``n`` rows are solved in: blocks of about ``_ROWS_PER_BLOCK`` rows, and
    at least two per worker on a cluster (one per row at most)."""
    want = -(-n // _ROWS_PER_BLOCK)
    if workers is not None or scheduler is not None:
        want = max(want, 2 * int(workers or 1))
    return max(1, min(n, want))


def _call(fn, args):
    return fn(*args)
