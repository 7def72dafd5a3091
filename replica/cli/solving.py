"""``replica solve`` and ``replica transition``: the generated solver from the shell.

Values on the command line are numbers only (``float()`` syntax); nothing is evaluated.  The
compiled theory comes from the on-disk cache when it is there (no derivation), so a warm
``replica solve`` spends its time solving.
"""
from __future__ import annotations

import math

import click
import numpy as np

from .. import progress as P
from ._base import (CLIInputError, _emit_json, _quiet, check_erm_minimizer, check_grid, check_hidden_units, check_memory, main,
                    model_values, parse_assignments, parse_range, parse_sweep, solver_memory)
from ..codegen.compiled import on_device
from .device import DEVICE, check_device
from .quadrature import check_quadrature, nodes_option, quadrature_doc, rule_option


def _quadrature(f):
    return nodes_option()(rule_option()(f))


def _load_model(spec, device: str = "cpu"):
    from ..model import load_model
    check_device(device)
    model = load_model(spec)
    check_device(device, model)
    return model


def _compiled(model, device: str = "cpu"):
    """The compiled model; a cold, slow compile says so on stderr (:mod:`replica.progress`)."""
    return on_device(model, device)


def _grid(sweeps: list, sets: dict) -> tuple:
    """The parameter grid: every ``--sweep`` an axis (outer product, in the order given)."""
    names = [n for n, _ in sweeps]
    for n in names:
        if names.count(n) > 1:
            raise CLIInputError(f"--sweep gives {n!r} twice")
        if n in sets:
            raise CLIInputError(f"{n!r} is given both by --set and by --sweep")
    axes = np.meshgrid(*[v for _, v in sweeps], indexing="ij") if sweeps else []
    return dict(zip(names, axes))


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)


def _table(records: list, columns: list) -> str:
    """The records as an aligned text table; a ``reason`` column (a sentence per point) is
    printed as footnote marks [1], [2], ... with each distinct sentence once below the table."""
    notes = []
    def cell(r, c):
        if c != "reason" or not r.get(c):
            return _fmt(r.get(c))
        if r[c] not in notes:
            notes.append(r[c])
        return f"[{notes.index(r[c]) + 1}]"
    rows = [[cell(r, c) for c in columns] for r in records]
    width = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    line = lambda cells: "  ".join(x.rjust(w) for x, w in zip(cells, width))
    foot = [f"[{i + 1}] {n}" for i, n in enumerate(notes)]
    return "\n".join([line(columns)] + [line(r) for r in rows] + foot)


@main.command()
@click.argument("model")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="A parameter value (repeatable); others take the model's defaults.")
@click.option("--sweep", "sweeps", multiple=True, metavar="NAME=START:STOP:NUM",
              help="Solve on NUM evenly spaced values (repeatable: an outer-product grid).")
@click.option("--init", type=click.Choice(["uninformed", "informed", "all"]), default="all",
              show_default=True,
              help="Initial condition; 'all' solves from every start, keeps the distinct branches "
                   "and marks the equilibrium (largest free entropy).")
@_quadrature
@click.option("--tol", type=click.FloatRange(1e-15, 1e-2), default=1e-10, show_default=True,
              help="Convergence threshold on the relative fixed-point residual.")
@DEVICE
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def solve(model, sets, sweeps, init, nodes, rule, tol, device, as_json):
    """Solve the saddle-point equations of MODEL (a built-in name or FILE.py[:VARIABLE]).

    Points that do not converge are reported with "converged": false and null values."""
    from ..solve import solve as solve_points
    from ..solve import solve_branches
    check_quadrature(nodes, rule)
    values = parse_assignments(sets)
    sweeps = [parse_sweep(s) for s in sweeps]
    points = math.prod(v.size for _, v in sweeps)
    check_grid(points, "--sweep")
    check_memory(solver_memory(points, nodes), f"solving {points} points")
    with _quiet(as_json):
        m = _load_model(model, device)
        grid = _grid(sweeps, values)
        params = model_values(m, {**values, **grid})
        check_hidden_units(m, params, theory=True)
        check_erm_minimizer(m, params)
        with P.working(f"{m.name}: theory"):
            c = _compiled(m, device)
        with P.working(f"{m.name}: solving {points} point{'s' if points > 1 else ''} from {init!r}"):
            if init == "all":
                records = solve_branches(c, params, "all", tol=tol, nodes=nodes, rule=rule).to_records()
            else:
                records = solve_points(c, params, init, tol=tol, nodes=nodes, rule=rule).to_records()
        from ..features import decomposition as bv            # ridge on random features: bias², variances
        if bv.applies(m) and len(records) == max(points, 1):  # one (convex) branch per point
            records = bv.add_to_records(records, m, params, tol=tol, nodes=nodes, rule=rule)
    failed = sum(not r["converged"] for r in records)
    doc = {
        "model": m.name,
        "parameters": {k: (float(v) if np.ndim(v) == 0 else None) for k, v in params.items()},
        "sweep": {n: {"start": float(v[0]), "stop": float(v[-1]), "num": int(v.size)} for n, v in sweeps},
        "init": init,
        "quadrature": quadrature_doc(nodes, rule),
        "tol": tol,
        "converged": len(records) - failed,
        "failed": failed,
        "points": records,
    }
    doc["parameters"] = {k: v for k, v in doc["parameters"].items() if v is not None}
    if as_json:
        _emit_json(doc)
    else:
        order = [s for s in c.unknowns] + [str(k) for k in c.fixed]
        cols = [n for n, _ in sweeps] + ["branch"] + (["equilibrium"] if init == "all" else [])
        seen = list(dict.fromkeys(k for r in records for k in r))    # every branch's keys, in order
        cols += order + ["free_entropy"] + [k for k in seen if k not in cols + order
                                          + ["free_entropy", "converged", "residual", *params]]
        cols += ["converged", "residual"]
        fixed = ", ".join(f"{k} = {v:g}" for k, v in doc["parameters"].items())
        click.echo(f"{m.name}  ({fixed})" if fixed else m.name)
        click.echo(_table(records, cols))
    if failed:
        click.echo(f"replica: warning: {failed} of {len(records)} solutions did not converge "
                   "(reported as not converged, values null)", err=True)


@main.command()
@click.argument("model")
@click.option("--along", required=True, metavar="NAME", help="The parameter to search along.")
@click.option("--range", "range_", metavar="LO:HI",
              help="Search interval (default: the parameter's declared domain, infinite ends cut at 10×).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Values of the other parameters (repeatable); others take the defaults.")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["capacity", "first_order", "spinodal", "weak_recovery", "rs_instability",
                                 "interpolation_peak", "gradient_flow", "gradient_flow_dmft", "amp",
                                 "information_theoretic"]),
              help="Only these kinds (repeatable; default: every kind that applies to the model; "
                   "gradient_flow_dmft: a dynamical model's gradient-flow threshold measured on the DMFT).")
@_quadrature
@DEVICE
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def transition(model, along, range_, sets, kinds, nodes, rule, device, as_json):
    """Locate the transitions of MODEL along one parameter: capacity, first-order, spinodal,
    weak recovery and RS instability, each by root finding."""
    from ..solve import find_transitions
    from ..solve.transitions import default_range
    from .dynamics import DYNAMICAL_KINDS, is_dynamical, transition_dynamical
    if is_dynamical(model):
        return transition_dynamical(model, along, sets, as_json, kinds)
    dynamical_only = sorted(set(kinds) & (set(DYNAMICAL_KINDS) - {"spinodal"}))
    if dynamical_only:
        raise CLIInputError(f"--kind {', '.join(dynamical_only)}: only for a dynamical model (spiked-matrix-tensor)")
    check_quadrature(nodes, rule)
    # K=inf (the only non-finite value accepted anywhere): a committee's large-K limit
    large_k = [t for t in sets if t.replace(" ", "").lower() in ("k=inf", "k=infinity")]
    values = parse_assignments([t for t in sets if t not in large_k])
    if along in values:
        raise CLIInputError(f"{along!r} is searched along; do not also --set it")
    rng = parse_range(range_) if range_ else None
    if large_k:
        return _large_k_transitions(model, along, rng, values, as_json)
    with _quiet(as_json):
        m = _load_model(model, device)
        if along not in m.parameter_names():
            model_values(m, {along: 0.0})          # raises the unknown-parameter error
        fixed = model_values(m, values, free=(along,))
        check_hidden_units(m, fixed, theory=True)
        check_erm_minimizer(m, fixed)
        with P.working(f"{m.name}: theory"):
            c = _compiled(m, device)
        if rng is not None:
            model_values(m, {along: np.array(rng)})  # both ends inside the domain
        else:
            rng = default_range(c, along)
        with P.working(f"{m.name}: transitions along {along}"):
            found = find_transitions(m if device == "cpu" else c, along, rng, fixed, kinds=list(kinds) or None,
                                     nodes=nodes, rule=rule)
    doc = {"model": m.name, "parameter": along, "range": list(rng),
           "parameters": {k: float(v) for k, v in fixed.items()},
           "quadrature": quadrature_doc(nodes, rule),
           "transitions": [{k: _json_value(v) for k, v in t.items()} for t in found]}
    if as_json:
        _emit_json(doc)
        return
    fixed_txt = ", ".join(f"{k} = {v:g}" for k, v in doc["parameters"].items())
    click.echo(f"{m.name}: transitions along {along} in [{rng[0]:g}, {rng[1]:g}]"
               + (f"  ({fixed_txt})" if fixed_txt else ""))
    if not found:
        click.echo("  none found")
    for t in found:
        extra = ", ".join(f"{k} = {_fmt(_json_value(v))}" for k, v in t.items() if k not in ("kind", "value"))
        val = "not located" if t["value"] is None else f"{t['value']:.10g}"
        click.echo(f"  {t['kind']:<15} {along} = {val}" + (f"   ({extra})" if extra else ""))


def _large_k_transitions(model, along, rng, values, as_json):
    """``--set K=inf`` on a committee: the K → ∞ theory (replica.committee.largek), with α read
    as α̃ = α/K (the scaling of Aubin et al. 2018); the unspecialized branch's instability is
    at α ≃ c K² (reported as ``alpha_over_K2``)."""
    from ..committee.largek import large_k_theory
    with _quiet(as_json):
        m = _load_model(model)
        if not m.committee:
            raise CLIInputError(f"K=inf is the large-K limit of a committee machine; {m.name!r} is not one")
        if along != "alpha":
            raise CLIInputError("with K=inf, transitions are searched along alpha (read as alpha/K)")
        extra = sorted(values)
        if extra:
            raise CLIInputError(f"with K=inf no other parameter is set (got {', '.join(extra)})")
        rng = rng or (0.5, 15.0)
        if not 0 < rng[0] < rng[1]:
            raise CLIInputError(f"--range {rng[0]:g}:{rng[1]:g}: alpha/K must be positive and increasing")
        found = large_k_theory(m).transitions(*rng)
    doc = {"model": m.name, "parameter": "alpha_over_K", "range": list(rng), "parameters": {"K": "inf"},
           "transitions": [{k: _json_value(v) for k, v in t.items()} for t in found]}
    if as_json:
        _emit_json(doc)
        return
    click.echo(f"{m.name}: K -> infinity, transitions along alpha/K in [{rng[0]:g}, {rng[1]:g}]")
    for t in found:
        rest = ", ".join(f"{k} = {_fmt(_json_value(v))}" for k, v in t.items() if k not in ("kind", "value"))
        val = "not at alpha = O(K)" if t["value"] is None else f"{t['value']:.10g}"
        click.echo(f"  {t['kind']:<15} alpha/K = {val}" + (f"   ({rest})" if rest else ""))


def _json_value(v):
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v
