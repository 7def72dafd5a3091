"""``replica simulate`` and ``replica verify``: the Model at finite N (torch), against its theory.

``simulate`` draws ``--seeds`` instances of size ``--n`` at each point (``--set``, and an
optional ``--sweep``) and runs the student the learning setting calls for (ERM, Monte Carlo
for Gibbs learning, AMP for Bayes-optimal models, SAT checks for storage problems; override
with ``--algorithm``; committee machines run the committee AMP of :mod:`sims.committee`,
``--set K=...`` picks the number of hidden units).  ``verify`` adds the replica theory at every point, judges agreement
(rule in :mod:`sims.verify`: |mean − theory| ≤ t_{S−1}(0.995)·stderr + allowance/√N), can
plot theory line and points with error bars (``--plot F.png``), and exits 0 when every point
agrees, 1 otherwise.  A tqdm progress bar runs on stderr unless ``--json`` or ``--quiet``.
"""
from __future__ import annotations

import sys

import click

from ._base import CLIInputError, _emit_json, _fail, _quiet, main, model_values, parse_assignments, parse_sweep

_ALGORITHMS = ["erm", "montecarlo", "amp", "storage", "langevin", "gradient-flow", "online-sgd"]


def _common(f):
    opts = [
        click.argument("model"),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable)."),
        click.option("--n", "n", type=click.IntRange(1, None), default=200, show_default=True, help="System size N."),
        click.option("--seeds", type=click.IntRange(1, None), default=4, show_default=True,
                     help="Independent instances per point."),
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


def _setup(model_spec, sets, sweep_text, device):
    from sims.data import model_parameters
    from ..model import load_model
    import torch
    model = load_model(model_spec)
    values = parse_assignments(sets)
    sweep = parse_sweep(sweep_text) if sweep_text else None
    if sweep and sweep[0] in values:
        raise CLIInputError(f"{sweep[0]!r} is given both by --set and by --sweep")
    model_values(model, {**values, **({sweep[0]: sweep[1]} if sweep else {})})
    if device == "cuda" and not torch.cuda.is_available():
        raise CLIInputError("--device cuda: no CUDA device is available")
    return model, values, sweep, model_parameters


def _run(fn):
    """Library errors about the request (bad option combination, unsupported model) -> exit 2."""
    try:
        return fn()
    except (ValueError, NotImplementedError) as e:
        from ._base import INPUT_ERRORS
        if isinstance(e, INPUT_ERRORS):
            raise
        _fail(str(e))


@main.command()
@_common
@click.option("--sweep", "sweep_text", default=None, metavar="NAME=START:STOP:NUM", help="Sweep one parameter.")
@click.option("--t-max", "t_max", type=click.FloatRange(0, None, min_open=True), default=None,
              help="Dynamical models (replica dynamics): the time horizon.")
def simulate(model, sets, n, seeds, seed, algorithm, device, sweeps, json_mode, quiet, sweep_text, t_max):
    """Simulate MODEL at finite N: mean ± standard error of its observables over instances."""
    from sims.verify import simulate as run
    from .dynamics import is_dynamical, simulate_dynamical
    if is_dynamical(model):
        if sweep_text:
            raise CLIInputError(f"{model}: --sweep is not supported for dynamical models; use --t-max")
        return simulate_dynamical(model, sets, n, seeds, seed, algorithm, device, t_max, json_mode)
    with _quiet(json_mode):
        m, values, sweep, _ = _setup(model, sets, sweep_text, device)
        points = [{**values, sweep[0]: float(v)} for v in sweep[1]] if sweep else [values]
        recs = _run(lambda: run(m, points, n, seeds, algorithm=algorithm, device=device, seed=seed,
                                sweeps=sweeps, progress=not (json_mode or quiet)))
    doc = {"model": m.name, "points": recs}
    if json_mode:
        _emit_json(doc)
        return
    _table(recs, sweep[0] if sweep else None)


@main.command()
@_common
@click.option("--sweep", "sweep_text", required=True, metavar="NAME=START:STOP:NUM", help="The parameter swept.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write theory and points to this PNG.")
@click.option("--observable", "observables", multiple=True, help="Compare only these observables (repeatable).")
@click.option("--allowance", type=click.FloatRange(0, None), default=0.1, show_default=True,
              help="Finite-size allowance c: a point agrees when |mean - theory| <= t*stderr + c/sqrt(N).")
def verify(model, sets, n, seeds, seed, algorithm, device, sweeps, json_mode, quiet, sweep_text, plot,
           observables, allowance):
    """Simulate MODEL along --sweep and compare with the replica theory; exit 1 on disagreement."""
    from sims.verify import verify as run
    with _quiet(json_mode):
        m, values, sweep, _ = _setup(model, sets, sweep_text, device)
        doc = _run(lambda: run(m, sweep, values, n, seeds, algorithm=algorithm, device=device, seed=seed,
                               sweeps=sweeps, observables=list(observables) or None, allowance=allowance,
                               progress=not (json_mode or quiet), plot=plot))
    if json_mode:
        _emit_json(doc)
    else:
        _table(doc["points"], sweep[0], theory=True)
        click.echo(f"verdict: {'agree' if doc['agree'] else 'DISAGREE'}  (rule: {doc['rule']['tolerance']})")
        if plot:
            click.echo(f"plot: {plot}")
    sys.exit(0 if doc["agree"] else 1)


def _table(recs, name, theory=False):
    def f(v):
        return "—" if v is None else f"{v:.5g}"
    for r in recs:
        head = f"{name}={r[name]:g}  " if name else ""
        line = f"{head}{r['observable']:>22}: {f(r['mean'])} ± {f(r['stderr'])}  (N={r['n']}, {r['seeds']} seeds)"
        if theory:
            line += f"  theory {f(r['theory'])}  {'ok' if r['agree'] else 'DISAGREE'}"
        click.echo(line)
