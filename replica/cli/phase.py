"""``replica phase-diagram``: a 2-D grid solved from every start, transition lines traced,
NetCDF / JSON / plot output, in this process or on Dask."""
from __future__ import annotations

from collections import Counter

import click
import numpy as np

from .. import progress as P
from ..codegen.compiled import on_device
from ._base import (CLIInputError, _emit_json, _quiet, check_erm_minimizer, check_grid, check_hidden_units, check_memory,
                    check_output_path, main, model_values, parse_assignments, parse_grid_axis, solver_memory)
from .device import DEVICE, check_device
from .quadrature import check_quadrature, nodes_option, rule_nodes, rule_option


def _axis(text: str, option: str, scale: str) -> tuple:
    name, values = parse_grid_axis(text, option)
    if scale == "log" and values.size > 1:
        if values[0] <= 0:
            raise CLIInputError(f"{option} {name}: a log-spaced axis needs START > 0, got {values[0]:g}")
        values = np.geomspace(values[0], values[-1], values.size)
    return name, values


@main.command("phase-diagram")
@click.argument("model")
@click.option("--x", "x_text", required=True, metavar="NAME=LO:HI:NUM",
              help="Horizontal axis: NUM values of parameter NAME from LO to HI.")
@click.option("--y", "y_text", required=True, metavar="NAME=LO:HI:NUM", help="Vertical axis, likewise.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Fix another parameter (repeatable; the model's defaults otherwise).")
@click.option("--xscale", type=click.Choice(["linear", "log"]), default="linear", show_default=True,
              help="Spacing of the x values (log: geometric from LO to HI).")
@click.option("--yscale", type=click.Choice(["linear", "log"]), default="linear", show_default=True,
              help="Spacing of the y values.")
@click.option("--kinds", default=None, metavar="KIND,...",
              help="Transition kinds to trace, e.g. first_order,spinodal (default: all that apply).")
@click.option("--refine", type=click.IntRange(0, 8), default=2, show_default=True,
              help="Rounds of rows inserted where a line is steep or ends, to follow it.")
@nodes_option(lo=8, hi=20000)
@rule_option(default="legendre")
@click.option("--workers", type=click.IntRange(1, 4096), default=None,
              help="Run on a new local Dask cluster of N worker processes.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on an existing Dask cluster, e.g. tcp://10.0.0.1:8786.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="F.nc",
              help="Write the grid, branches, phases and lines as NetCDF.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, metavar="F.png|.pdf|.svg",
              help="Draw the diagram (phases as regions, lines with a legend).")
@click.option("--color", default=None, metavar="VARIABLE",
              help="In the plot, colour the grid by this variable (e.g. generalization_error) instead of phases.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@DEVICE
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (lines, grid, phases).")
def phase_diagram(model, x_text, y_text, sets, xscale, yscale, kinds, refine, nodes, rule, workers,
                  scheduler, out, plot_path, color, quiet, device, as_json):
    """Phase diagram of MODEL (a built-in name or FILE.py[:VARIABLE]) over two parameters.

    Every grid point is solved from every initial condition (equilibrium and metastable
    branches, phase labels); the transition lines (first-order, spinodal, capacity, weak
    recovery, ...) are located by root finding along x at each row and followed between rows.

    \b
    Example:
      replica phase-diagram ising-bayes --x alpha=0.8:2.0:25 --y flip=0:0.1:6 \\
          --out pd.nc --plot pd.png
    """
    from ..model import load_model
    from ..phase import phase_diagram as run, plot, save, to_json
    if workers is not None and scheduler is not None:
        raise CLIInputError("give --workers (a new local cluster) or --scheduler (an existing one), not both")
    if device != "cpu" and (workers is not None or scheduler is not None):
        raise CLIInputError(f"--device {device} runs in this process: not with --workers or --scheduler")
    check_device(device)
    if plot_path is not None and not plot_path.lower().endswith((".png", ".pdf", ".svg")):
        raise CLIInputError(f"--plot: the file name must end in .png, .pdf or .svg, got {plot_path!r}")
    check_quadrature(nodes, rule)
    nodes = rule_nodes(nodes, rule)
    check_output_path(out, "--out")
    check_output_path(plot_path, "--plot")
    xs = _axis(x_text, "--x", xscale)
    ys = _axis(y_text, "--y", yscale)
    points = xs[1].size * ys[1].size
    check_grid(points, "--x by --y")
    # every start (up to three branches), and the refined rows: a factor 4 over one solve
    check_memory(solver_memory(4 * points, nodes), f"a {xs[1].size} x {ys[1].size} phase diagram")
    kind_list = None if kinds is None else [k.strip() for k in kinds.split(",") if k.strip()]
    with _quiet(as_json), P.silenced(quiet):
        m = load_model(model)
        check_device(device, m)
        fixed = model_values(m, parse_assignments(sets), free=(xs[0], ys[0]))
        grid = {**fixed, xs[0]: xs[1][:, None], ys[0]: ys[1][None, :]}
        check_hidden_units(m, grid, theory=True)
        check_erm_minimizer(m, grid)
        if color is not None:
            _check_color(m, color)
        # compiled first, so that a cold compile says so on stderr (committees: nothing generated,
        # their numerics depend on K along the grid)
        target = (m if device == "cpu" and m.committee
                  else on_device(m, device))
        try:
            ds = run(m if device == "cpu" else target, xs, ys, fixed, kinds=kind_list, nodes=nodes, rule=rule, refine=refine,
                     workers=workers, scheduler=scheduler, progress=None)
        except ValueError as e:
            if "transition kind" in str(e):
                raise CLIInputError(str(e)) from None
            raise
        if out is not None:
            save(ds, out)
        if plot_path is not None:
            plot(ds, plot_path, color=color)
    doc = to_json(ds)
    doc.update(out=out, plot=plot_path)
    if as_json:
        _emit_json(doc)
    elif not quiet:
        _summary(doc, ds)


def _check_color(model, color: str) -> None:
    """``--color`` names a variable of the solution (an order parameter or an observable)."""
    from ..theory import load_compiled
    c = load_compiled(model)
    names = list(c.unknowns) + [str(k) for k in c.fixed] + [
        o for o in c.module.OUTPUTS if not o.startswith("map_")]
    if color not in names:
        raise CLIInputError(f"--color {color!r}: no such variable; choose from {', '.join(dict.fromkeys(names))}")


def _summary(doc, ds):
    from ..phase import PHASES
    x, y = doc["x"], doc["y"]
    gx, gy = doc["grid"][x], doc["grid"][y]
    click.echo(f"{doc['model']}: {len(gx)} x {len(gy)} grid, {x} in [{gx[0]:g}, {gx[-1]:g}], "
               f"{y} in [{gy[0]:g}, {gy[-1]:g}]" + (f", {doc['parameters']}" if doc["parameters"] else ""))
    counts = Counter(int(c) for row in doc["phase"] for c in row)
    click.echo("phases: " + ", ".join(f"{PHASES[c]} {n}" for c, n in sorted(counts.items())))
    conv = ds["converged"].sel(branch="equilibrium")
    if not bool(conv.all()):
        click.echo(f"not converged: {int((~conv).sum())} points")
    for line in doc["lines"]:
        name = line["kind"] + (f" ({line['branch']})" if line.get("branch") else "")
        click.echo(f"{name}: {len(line['x'])} points, from ({x}={line['x'][0]:.10g}, {y}={line['y'][0]:.6g}) "
                   f"to ({x}={line['x'][-1]:.10g}, {y}={line['y'][-1]:.6g})")
    for e in doc["errors"]:
        click.echo(f"warning: {e['kind']} at {y}={e[y]:g} not located: {e['error']}")
    for k in ("out", "plot"):
        if doc[k]:
            click.echo(f"wrote {doc[k]}")
