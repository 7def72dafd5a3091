"""``replica simulate`` and ``replica verify``: the Model at finite N (torch), against its theory.

``simulate`` draws ``--seeds`` instances of size ``--n`` at each point (``--set``, and an
optional ``--sweep``) and runs the student the learning setting calls for (ERM, Monte Carlo
for Gibbs learning, AMP for Bayes-optimal models, SAT checks for storage problems; override
with ``--algorithm``; committee machines run the committee AMP of :mod:`sims.committee`,
``--set K=...`` picks the number of hidden units).  ``verify`` runs every size ``--n`` (default
200 and 800), extrapolates to N = ∞, adds the replica theory at every point and judges
agreement at a stated confidence level (rule in :mod:`sims.verdict`); it prints the verdict's
power and exits 0 (agree), 1 (disagree) or 3 (inconclusive).  ``--plot F.png`` draws theory
line and points with error bars.  A progress bar runs on stderr by :mod:`replica.progress`'s
rule (a terminal or ``REPLICA_PROGRESS=1``; never with ``--quiet``).  Sizes are checked before any work: estimated memory (``REPLICA_MAX_MEMORY_GB``),
the 2^N enumeration of discrete storage problems (``REPLICA_MAX_ENUMERATION``), the committee's
K (``REPLICA_MAX_K``).
"""
from __future__ import annotations

import math
import sys

import click
import numpy as np

from .. import progress as P
from ._base import (CLIInputError, INPUT_ERRORS, _emit_json, _quiet, check_erm_minimizer, check_hidden_units, check_memory,
                    check_output_path, main, model_values, parse_assignments, parse_sweep)
from ..params import LIMITS

_ALGORITHMS = ["erm", "montecarlo", "amp", "storage", "langevin", "gradient-flow", "online-sgd"]


def _common(f):
    opts = [
        click.argument("model"),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable)."),
        click.option("--seeds", type=click.IntRange(1, None), default=None, help="Independent instances per point "
                     "and size [default: 4 for simulate, 32 for verify]."),
        click.option("--seed", type=int, default=0, show_default=True, help="Base random seed."),
        click.option("--algorithm", type=click.Choice(_ALGORITHMS), default=None,
                     help="Student (default: from the learning setting)."),
        click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True),
        click.option("--sweeps", type=click.IntRange(2, None), default=1000, show_default=True,
                     help="Monte Carlo sweeps (half of them burn-in)."),
        click.option("--json", "json_mode", is_flag=True, help="Print one JSON document."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


#: bytes per instance and matrix entry while simulating: float64, the data X (P x N) and the
#: student's N x N workspace, each with one temporary copy
_SIM_BYTES_PER_ENTRY = 8 * 2


def _setup(model_spec, sets, sweep_text, device, ns, seeds, algorithm):
    """Model, values and sweep, with every size limit checked before any simulation."""
    from sims.data import model_parameters
    from sims.verify import default_algorithm
    from ..model import load_model
    import torch
    model = load_model(model_spec)
    values = parse_assignments(sets)
    sweep = parse_sweep(sweep_text) if sweep_text else None
    if sweep and sweep[0] in values:
        raise CLIInputError(f"{sweep[0]!r} is given both by --set and by --sweep")
    full = model_values(model, {**values, **({sweep[0]: sweep[1]} if sweep else {})})
    if device == "cuda" and not torch.cuda.is_available():
        raise CLIInputError("--device cuda: no CUDA device is available")
    check_hidden_units(model, full, theory=False)
    check_erm_minimizer(model, full)
    n_max = max(ns)
    alpha = float(np.max(full.get("alpha", 1.0)))
    nbytes = _SIM_BYTES_PER_ENTRY * seeds * n_max * n_max * (1.0 + alpha)
    check_memory(nbytes, f"simulating {seeds} instances at N = {n_max} (alpha = {alpha:g})")
    prior = model.student_prior or model.prior
    if (algorithm or _default(default_algorithm, model)) == "storage" and prior.density == 0:
        LIMITS["enumeration"].check(2.0**n_max, f"storage with discrete weights enumerates 2^N at N = {n_max}")
    return model, values, sweep, model_parameters


def _default(default_algorithm, model):
    try:
        return default_algorithm(model)
    except ValueError:
        return None


def _run(fn):
    """Library errors about the request (bad option combination, unsupported model) -> exit 2."""
    try:
        return fn()
    except (ValueError, NotImplementedError) as e:
        if isinstance(e, INPUT_ERRORS):
            raise
        raise CLIInputError(str(e)) from None


def _sizes(n, default):
    ns = sorted(set(n)) if n else list(default)
    if len(ns) != len(n or ns):
        raise CLIInputError("--n gives the same size twice")
    return ns


@main.command()
@_common
@click.option("--n", "n", type=click.IntRange(1, None), multiple=True,
              help="System size N (repeatable) [default: 200].")
@click.option("--sweep", "sweep_text", default=None, metavar="NAME=START:STOP:NUM", help="Sweep one parameter.")
@click.option("--t-max", "t_max", type=click.FloatRange(0, None, min_open=True), default=None,
              help="Dynamical models (replica dynamics): the time horizon.")
def simulate(model, sets, seeds, seed, algorithm, device, sweeps, json_mode, quiet, n, sweep_text, t_max):
    """Simulate MODEL at finite N: mean ± standard error of its observables over instances."""
    from sims.verify import simulate as run
    from .dynamics import is_dynamical, simulate_dynamical
    ns = _sizes(n, (200,))
    seeds = seeds or 4
    if is_dynamical(model):
        if sweep_text:
            raise CLIInputError(f"{model}: --sweep is not supported for dynamical models; use --t-max")
        if len(ns) != 1:
            raise CLIInputError(f"{model}: give one --n for a dynamical model")
        return simulate_dynamical(model, sets, ns[0], seeds, seed, algorithm, device, t_max, json_mode)
    with _quiet(json_mode), P.silenced(quiet):
        m, values, sweep, _ = _setup(model, sets, sweep_text, device, ns, seeds, algorithm)
        points = [{**values, sweep[0]: float(v)} for v in sweep[1]] if sweep else [values]
        recs = [r for size in ns for r in _run(lambda: run(m, points, size, seeds, algorithm=algorithm, device=device,
                                                            seed=seed, sweeps=sweeps,
                                                            progress=None))]
    doc = {"model": m.name, "points": recs}
    if json_mode:
        _emit_json(doc)
        return
    _table(recs, sweep[0] if sweep else None)


@main.command()
@_common
@click.option("--n", "n", type=click.IntRange(1, None), multiple=True,
              help="System sizes (repeatable): the simulation at each is extrapolated to N = infinity "
                   "[default: 200 and 800].")
@click.option("--sweep", "sweep_text", default=None, metavar="NAME=START:STOP:NUM",
              help="The parameter swept (required, except for the dynamical models).")
@click.option("--t-max", "t_max", type=click.FloatRange(0, None, min_open=True), default=None,
              help="Dynamical models (replica dynamics): compare the trajectories up to this time.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write theory and points to this PNG.")
@click.option("--observable", "observables", multiple=True, help="Compare only these observables (repeatable).")
@click.option("--level", type=click.FloatRange(0.5, 1, max_open=True), default=0.99, show_default=True,
              help="Confidence level of the verdict (all points together: Bonferroni).")
@click.option("--allowance", type=click.FloatRange(0, None), default=None,
              help="Finite-size allowance c: c/sqrt(N) is added to each point's tolerance [default: 0.1 with "
                   "one N, 0 with an extrapolation].")
def verify(model, sets, seeds, seed, algorithm, device, sweeps, json_mode, quiet, n, sweep_text, t_max, plot,
           observables, level, allowance):
    """Simulate MODEL along --sweep at every --n, extrapolate to N = infinity and compare with the
    replica theory (dynamical models: the trajectories up to --t-max).  Exit 0 agree, 1 disagree,
    3 inconclusive."""
    from sims.verdict import EXIT_CODES
    from sims.verify import DEFAULT_SEEDS, DEFAULT_SIZES, verify as run
    from .dynamics import is_dynamical, verify_dynamical
    check_output_path(plot, "--plot")
    if plot is not None and not plot.lower().endswith((".png", ".pdf", ".svg")):
        raise CLIInputError(f"--plot: the file name must end in .png, .pdf or .svg, got {plot!r}")
    if is_dynamical(model):
        if sweep_text or observables:
            raise CLIInputError(f"{model}: a dynamical model is verified along time: give --t-max, not --sweep "
                                "or --observable")
        return verify_dynamical(model, sets, _sizes(n, (100, 200)), seeds or 4, seed, algorithm, device, t_max,
                                json_mode, plot, level, allowance)
    if sweep_text is None:
        raise CLIInputError("verify needs --sweep NAME=START:STOP:NUM")
    if t_max is not None:
        raise CLIInputError("--t-max applies to the dynamical models only")
    ns = _sizes(n, DEFAULT_SIZES)
    seeds = seeds or DEFAULT_SEEDS
    with _quiet(json_mode), P.silenced(quiet):
        m, values, sweep, _ = _setup(model, sets, sweep_text, device, ns, seeds, algorithm)
        doc = _run(lambda: run(m, sweep, values, ns, seeds, algorithm=algorithm, device=device, seed=seed,
                               sweeps=sweeps, observables=list(observables) or None, allowance=allowance,
                               level=level, progress=None, plot=plot))
    if json_mode:
        _emit_json(doc)
    else:
        _verdict_text(doc, sweep[0], plot)
    sys.exit(EXIT_CODES[doc["verdict"]])


def _verdict_text(doc, name, plot):
    def f(v):
        return "—" if v is None else f"{v:.5g}"
    sizes = doc["sizes"]
    est = "N->inf" if len(sizes) > 1 else f"N={sizes[0]}" if sizes else "—"
    for r in doc["points"]:
        per_n = "  ".join(f"N={b['n']}: {f(b['mean'])} ± {f(b['stderr'])} ({b['converged']}/{b['seeds']})"
                          for b in r["by_n"])
        line = (f"{name}={r[name]:g}  {r['observable']:>22}: {per_n}  ->  {est}: {f(r['mean'])} ± {f(r['stderr'])}"
                f"  theory {f(r['theory'])}  {r['status'].upper() if r['status'] != 'agree' else 'ok'}")
        if r["failed_seeds"]:
            line += f"  ({r['failed_seeds']} seeds did not converge)"
        if r.get("reason"):
            line += f"  [{r['reason']}]"
        click.echo(line)
    if doc["missing_observables"]:
        click.echo("not measured by this simulation: " + ", ".join(doc["missing_observables"]))
    s = doc["summary"]
    click.echo(f"verdict: {doc['verdict'].upper() if doc['verdict'] != 'agree' else 'agree'}  "
               f"({s['agree']} agree, {s['disagree']} disagree, {s['inconclusive']} inconclusive; "
               f"confidence {doc['rule']['level']:.0%} over {doc['rule']['comparisons (M)']} comparisons)")
    p = doc["power"]
    if p:
        where = ", ".join(f"{k}={v:g}" for k, v in p["point"].items() if k == name)
        click.echo(f"power: a {p['relative_error']:.2%} error of the theory is detected 95% of the time "
                   f"({p['observable']} at {where}); rule: {doc['rule']['tolerance']}")
    if plot:
        click.echo(f"plot: {plot}")


def _table(recs, name):
    def f(v):
        return "—" if v is None else f"{v:.5g}"
    for r in recs:
        head = f"{name}={r[name]:g}  " if name else ""
        click.echo(f"{head}{r['observable']:>22}: {f(r['mean'])} ± {f(r['stderr'])}  (N={r['n']}, {r['seeds']} seeds)")
