"""``replica twolayer``: train two-layer committee students on a committee teacher (sims.twolayer)."""
from __future__ import annotations

import sys

import click
import numpy as np

from .. import __version__
from .. import progress as P
from ..metadata import annotate
from ._base import CLIInputError, _emit_json, _quiet, check_memory, check_output_path, main


#: an instance has diverged when its generalization error leaves [0, DIVERGED * max(1, ε_g(0))]
#: or stops being finite (the student's weights blew up: learning rate too large)
DIVERGED = 1e6


def _diverged(r) -> np.ndarray:
    """Per instance: did training diverge (see :data:`DIVERGED`)?"""
    eg = np.asarray(r.eg, float)
    bound = DIVERGED * np.maximum(1.0, np.abs(eg[:, :1]))
    with np.errstate(invalid="ignore"):
        blown = ~np.isfinite(eg) | ~np.isfinite(np.asarray(r.eg_mc, float)) | (np.abs(eg) > bound)
    return blown.any(axis=1)


def _report_diverged(r, bad, json_mode):
    """A diverged run is reported as diverged, never as numbers."""
    eg = np.asarray(r.eg, float)
    with np.errstate(invalid="ignore"):
        first = [int(r.steps[np.argmax(~np.isfinite(row) | (np.abs(row) > DIVERGED * max(1.0, abs(row[0]))))])
                 for row in eg[bad]]
    doc = {"algorithm": r.algorithm, "params": r.params, "diverged": True,
           "diverged_instances": int(bad.sum()), "instances": int(len(bad)), "diverged_at_step": min(first),
           "records": None}
    if json_mode:
        _emit_json(doc)
        return
    click.echo(f"diverged: {doc['diverged_instances']} of {doc['instances']} instances (generalization error "
               f"beyond {DIVERGED:g} times its start or not finite, from step {doc['diverged_at_step']}); "
               "no numbers reported — lower the learning rate")


@main.command()
@click.option("--algorithm", type=click.Choice(["sgd", "gd"]), default="sgd", show_default=True,
              help="Online SGD (one fresh sample per step) or full-batch GD on alpha*N samples.")
@click.option("--k", "K", type=click.IntRange(1, None), default=2, show_default=True, help="Student hidden units.")
@click.option("--m", "M", type=click.IntRange(1, None), default=2, show_default=True, help="Teacher hidden units.")
@click.option("--n", type=click.IntRange(1, None), default=100, show_default=True, help="Input dimension N.")
@click.option("--seeds", type=click.IntRange(1, None), default=4, show_default=True, help="Instances (batched).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--alpha", type=click.FloatRange(0, None), required=True,
              help="SGD: training time steps/N; GD: samples per input dimension P/N.")
@click.option("--eta", type=click.FloatRange(0, None, min_open=True), default=0.5, show_default=True,
              help="SGD learning rate (Saad & Solla's eta).")
@click.option("--activation", type=click.Choice(["erf", "relu", "linear"]), default=None,
              help="Student activation (default: the teacher's).")
@click.option("--teacher-activation", type=click.Choice(["erf", "relu", "sign", "linear"]), default="erf",
              show_default=True)
@click.option("--teacher-weights", type=click.Choice(["orthonormal", "gaussian"]), default="orthonormal",
              show_default=True)
@click.option("--noise", type=click.FloatRange(0, None), default=0.0, show_default=True, help="Label-noise variance.")
@click.option("--ridge", type=click.FloatRange(0, None), default=0.0, show_default=True, help="GD weight decay.")
@click.option("--max-steps", type=click.IntRange(1, None), default=100_000, show_default=True, help="GD cap.")
@click.option("--tol", type=click.FloatRange(0, None, min_open=True), default=1e-10, show_default=True,
              help="GD stops an instance when its RMS gradient is below this.")
@click.option("--records", type=click.IntRange(2, None), default=51, show_default=True,
              help="SGD: records evenly spaced in alpha; GD: about this many records.")
@click.option("--train-second-layer", is_flag=True)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the trajectories (NetCDF).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, metavar="F.png|.pdf|.svg",
              help="Draw the generalization error and the matched overlaps along training.")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document.")
def twolayer(algorithm, K, M, n, seeds, seed, alpha, eta, activation, teacher_activation, teacher_weights, noise,
             ridge, max_steps, tol, records, train_second_layer, device, out, plot_path, json_mode):
    """Train K-unit committee students on an M-unit teacher: order parameters and generalization error."""
    import torch
    from sims.twolayer import make_teacher, run_gd, run_online_sgd
    if device == "cuda" and not torch.cuda.is_available():
        raise CLIInputError("--device cuda: no CUDA device is available")
    check_output_path(out, "--out")
    if plot_path is not None and not plot_path.lower().endswith((".png", ".pdf", ".svg")):
        raise CLIInputError(f"--plot: the file name must end in .png, .pdf or .svg, got {plot_path!r}")
    check_output_path(plot_path, "--plot")
    check_memory(8 * 4 * seeds * n * (max(K, M) + (alpha * n if algorithm == "gd" else 4000)),
                 f"training {seeds} instances at N = {n}")
    with _quiet(json_mode), P.working(f"twolayer: {algorithm}, {seeds} instances at N = {n}"):
        t = make_teacher(n, M, seeds, seed=seed, activation=teacher_activation, weights=teacher_weights,
                         noise=noise, device=device)
        if algorithm == "sgd":
            r = run_online_sgd(t, K, eta, alpha, activation=activation, records=records,
                               train_second_layer=train_second_layer)
        else:
            r = run_gd(t, K, alpha, activation=activation, ridge=ridge, tol=tol, max_steps=max_steps,
                       record_every=max(1, max_steps // (records - 1)), train_second_layer=train_second_layer)
    if out:
        ds = r.to_dataset()
        ds.attrs.update(title=f"replica twolayer: {r.algorithm} of a K = {K} committee student on an M = {M} teacher",
                        command="replica twolayer " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "",
                        replica_version=__version__,
                        **{k: int(v) for k, v in ds.attrs.items() if isinstance(v, bool)})  # NetCDF has no booleans
        annotate(ds).to_netcdf(out)
    bad = _diverged(r)
    if bad.any():
        return _report_diverged(r, bad, json_mode)
    if plot_path:
        from ..plotting import twolayer_figure      # start-up: matplotlib (~0.4 s) only when plotting
        twolayer_figure(r).savefig(plot_path, dpi=150)
    S = r.eg.shape[0]
    se = lambda x: float(np.std(x, ddof=1) / np.sqrt(S)) if S > 1 else None  # noqa: E731
    Rm = r.matched_R()
    rows = [{"step": int(st), **({"alpha": float(r.alpha[j])} if np.ndim(r.alpha) else {}),
             "eg": float(r.eg[:, j].mean()), "eg_stderr": se(r.eg[:, j]), "eg_mc": float(r.eg_mc[:, j].mean()),
             "loss": float(np.nanmean(r.loss[:, j])) if np.isfinite(r.loss[:, j]).any() else None,
             "R_matched": float(Rm[:, j].mean())} for j, st in enumerate(r.steps)]
    doc = {"algorithm": r.algorithm, "params": r.params, "diverged": False, "records": rows}
    if r.converged is not None:
        doc["converged"] = [bool(c) for c in r.converged]
        doc["n_steps"] = [int(c) for c in r.n_steps]
    if json_mode:
        _emit_json(doc)
        return
    for row in rows:
        head = f"alpha={row['alpha']:<8.4g}" if "alpha" in row else f"step={row['step']:<8d}"
        click.echo(f"{head} eg={row['eg']:.4e}  eg_mc={row['eg_mc']:.4e}  R_matched={row['R_matched']:.4f}")
    if r.converged is not None:
        click.echo(f"converged: {int(r.converged.sum())}/{S} instances (alpha = P/N = {r.alpha:g})")
