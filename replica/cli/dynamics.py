"""``replica dynamics``: the high-dimensional training dynamics of a dynamical built-in
(``soft-committee-sgd``: the online-SGD ODEs; ``spiked-matrix-tensor``: the DMFT of gradient
flow / Langevin), and the dynamical branches of ``replica simulate`` and ``replica transition``
(called from :mod:`.sims` and :mod:`.solving` when MODEL is a dynamical built-in)."""
from __future__ import annotations

import math

import click
import numpy as np

from ._base import CLIInputError, _emit_json, _quiet, main, parse_assignments

__all__ = ["is_dynamical", "simulate_dynamical", "transition_dynamical", "dynamical_listing", "derive_dynamical",
           "verify_dynamical", "DYNAMICAL_KINDS"]

#: the two-time grid costs O(n³) work and O(n²) memory for n = t_max/h steps
_MAX_DMFT_STEPS = 4000


def is_dynamical(name: str) -> bool:
    from ..dynamics.models import DYNAMICAL
    return name in DYNAMICAL


def _domain_text(model, name):
    dom = model.parameters[name]
    if name not in model.integers:
        return str(dom)
    lo, hi = int(dom.lo), int(dom.hi)
    return "{" + ", ".join(str(k) for k in range(lo, hi + 1)) + "}" if hi - lo < 4 else f"{{{lo}, {lo + 1}, ..., {hi}}}"


def dynamical_listing() -> list:
    """``replica list`` entries of the dynamical built-ins: [{"name", "description", "kind":
    "dynamical", "algorithms", "parameters": {name: {"domain", "default"}}}]."""
    from ..dynamics.models import DYNAMICAL
    return [{"name": name, "description": m.description, "kind": "dynamical", "algorithms": list(m.algorithms),
             "parameters": {k: {"domain": _domain_text(m, k), "default": float(m.defaults[k])} for k in m.parameters}}
            for name, m in DYNAMICAL.items()]


def derive_dynamical(model, fmt, as_json):
    """``replica derive`` on a dynamical built-in: its equations (:mod:`replica.dynamics.equations`)."""
    from ..dynamics.equations import as_json as doc, render
    if as_json:
        _emit_json({**doc(model), "parameters": next(e["parameters"] for e in dynamical_listing()
                                                     if e["name"] == model)})
        return
    click.echo(render(model, fmt), nl=False)


def _values(model, sets):
    from ..dynamics.models import load_dynamical
    m = load_dynamical(model)
    return m, m.values(parse_assignments(sets))


def _none(x):
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(x, dtype=float)]


def _run_theory(m, v, t_max, h, m0, init_scale, n_init, seed):
    if m.name == "soft-committee-sgd":
        from sims.twolayer import make_teacher, order_parameters
        import torch
        from ..dynamics.sgd import integrate_sgd
        K, M = v["K"], v["M"]
        t = make_teacher(n_init, M, 1, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        W = torch.randn((1, K, n_init), dtype=torch.float64, generator=gen) * init_scale
        Q0, R0, T = (x[0].numpy() for x in order_parameters(W, t.W))
        tr = integrate_sgd(Q0, R0, T, v["eta"], t_max, t_eval=np.linspace(0, t_max, 201))
        return tr.t, tr.observables(), {"method": "online-SGD ODEs (Saad & Solla 1995), DOP853 rtol 1e-9",
                                        "success": tr.success, "initial": {"Q": Q0.tolist(), "R": R0.tolist()}}
    from ..dynamics.dmft import integrate_dmft
    if t_max / h > _MAX_DMFT_STEPS:
        raise CLIInputError(f"--t-max/--h = {t_max / h:.0f} steps: the two-time grid allows at most "
                            f"{_MAX_DMFT_STEPS} (O(n^3) work); use a larger --h or a shorter --t-max")
    s = integrate_dmft(v["p"], v["delta2"], v["deltap"], v["T"], m0=m0, t_max=t_max, h=h, check=True)
    return s.t, s.observables(), {"method": "DMFT on a two-time grid, Heun + trapezoid (second order)",
                                  "h": h, "m0": m0, "m_error_step_halving": _none([s.m_error])[0],
                                  "success": s.finite}


@main.command()
@click.argument("model")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable).")
@click.option("--t-max", "t_max", type=click.FloatRange(0, None, min_open=True), required=True,
              help="Time horizon (SGD: steps/N; gradient flow / Langevin: continuous time).")
@click.option("--h", type=click.FloatRange(0, None, min_open=True), default=0.05, show_default=True,
              help="DMFT time step.")
@click.option("--m0", type=click.FloatRange(-1, 1), default=0.01, show_default=True,
              help="DMFT: initial overlap with the signal.")
@click.option("--init-scale", type=click.FloatRange(0, None, min_open=True), default=0.1, show_default=True,
              help="SGD: initial student weights i.i.d. N(0, init_scale^2).")
@click.option("--n-init", type=click.IntRange(2, 100000), default=1000, show_default=True,
              help="SGD: the initial overlaps are those of one instance of this size.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write the trajectories to this PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def dynamics(model, sets, t_max, h, m0, init_scale, n_init, seed, plot, as_json):
    """The N -> infinity training dynamics of MODEL (soft-committee-sgd, spiked-matrix-tensor)."""
    with _quiet(as_json):
        m, v = _values(model, sets)
        if plot:
            _check_writable(plot)
        t, obs, info = _run_theory(m, v, t_max, h, m0, init_scale, n_init, seed)
    doc = {"model": m.name, "parameters": v, "t": [float(x) for x in t],
           "observables": {k: _none(x) for k, x in obs.items()}, **info}
    if plot:
        from ..plotting import symbol, trajectories_figure    # start-up: matplotlib only when plotting
        keep = ["generalization_error"] if m.name == "soft-committee-sgd" else ["m", "energy"]
        fixed = ", ".join(f"{symbol(k)} = {x:g}" for k, x in v.items())
        trajectories_figure(t, {k: obs[k] for k in keep},
                            title=f"{m.name}: {fixed}").savefig(plot, dpi=130)
    if as_json:
        _emit_json(doc)
        return
    names = list(doc["observables"])[:6]
    click.echo(f"{m.name}: " + ", ".join(f"{k} = {x:g}" for k, x in v.items()) + f"  ({info['method']})")
    click.echo("t".rjust(10) + "".join(n.rjust(22) for n in names))
    for j in np.linspace(0, len(t) - 1, 11).astype(int):
        row = [doc["observables"][n][j] for n in names]
        click.echo(f"{t[j]:10.4g}" + "".join(("—" if x is None else f"{x:.6g}").rjust(22) for x in row))
    if plot:
        click.echo(f"plot: {plot}")


def _check_writable(path):
    import os
    d = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(d) or not os.access(d, os.W_OK):
        raise CLIInputError(f"cannot write {path!r}: directory {d!r} is missing or not writable")


def simulate_dynamical(model, sets, n, seeds, seed, algorithm, device, t_max, json_mode):
    """``replica simulate`` on a dynamical built-in: finite-N trajectories against the theory."""
    m, v = _values(model, sets)
    allowed = {"soft-committee-sgd": ("online-sgd",), "spiked-matrix-tensor": ("gradient-flow", "langevin")}[m.name]
    algorithm = algorithm or allowed[0]
    if algorithm not in allowed:
        raise CLIInputError(f"--algorithm {algorithm} does not apply to {m.name}; use {' or '.join(allowed)}")
    if t_max is None:
        raise CLIInputError(f"{m.name}: give the time horizon with --t-max")
    points = []
    if m.name == "spiked-matrix-tensor":
        from sims.spiked import run_spiked
        from ..dynamics.dmft import integrate_dmft
        T = v["T"] if algorithm == "langevin" else 0.0
        if algorithm == "langevin" and T == 0:
            raise CLIInputError("--algorithm langevin needs --set T=... > 0 (T = 0 is gradient flow)")
        if t_max / 0.025 > _MAX_DMFT_STEPS:
            raise CLIInputError(f"--t-max {t_max:g}: at most {_MAX_DMFT_STEPS * 0.025:g} for the DMFT comparison")
        with _quiet(json_mode):
            r = run_spiked(n, seeds, p=v["p"], delta2=v["delta2"], deltap=v["deltap"], T=T, m0=0.2, t_max=t_max,
                           dt=0.05, records=11, seed=seed, device=device)
            d = integrate_dmft(v["p"], v["delta2"], v["deltap"], T, m0=0.2, t_max=t_max, h=0.025)
        idx = np.round(r.t / 0.025).astype(int)
        for name in ("m", "energy"):
            mean, se = r.stats(name)
            theory = getattr(d, name)[idx]
            points += [{**v, "t": float(tt), "observable": name, "theory": _none([th])[0], "mean": float(mu),
                        "stderr": _none([s])[0], "n": n, "seeds": seeds}
                       for tt, th, mu, s in zip(r.t, theory, mean, se)]
    else:
        from sims.twolayer import make_teacher, run_online_sgd
        from ..dynamics.sgd import integrate_sgd
        with _quiet(json_mode):
            run = run_online_sgd(make_teacher(n, v["M"], seeds, seed=seed, device=device), v["K"], v["eta"], t_max,
                                 records=11, init_scale=0.5, n_test=2)
            ode = np.array([integrate_sgd(run.Q[s, 0], run.R[s, 0], run.T[s], v["eta"], t_max,
                                          t_eval=run.alpha).generalization_error for s in range(seeds)])
        se = run.eg.std(0, ddof=1) / math.sqrt(seeds) if seeds > 1 else np.full(run.eg.shape[1], math.nan)
        points = [{**v, "t": float(tt), "observable": "generalization_error", "theory": float(th), "mean": float(mu),
                   "stderr": _none([s])[0], "n": n, "seeds": seeds}
                  for tt, th, mu, s in zip(run.alpha, ode.mean(0), run.eg.mean(0), se)]
    doc = {"model": m.name, "algorithm": algorithm, "points": points}
    if json_mode:
        _emit_json(doc)
        return
    for p in points:
        se = "—" if p["stderr"] is None else f"{p['stderr']:.3g}"
        click.echo(f"t={p['t']:<8.4g} {p['observable']:>22}: {p['mean']:.5g} ± {se}  theory {p['theory']:.5g}"
                   f"  (N={n}, {seeds} seeds)")


def verify_dynamical(model, sets, ns, seeds, seed, algorithm, device, t_max, json_mode, plot, level, allowance):
    """``replica verify`` on a dynamical built-in (:mod:`sims.dynamics_verify`): exits 0 agree,
    1 disagree, 3 inconclusive."""
    import sys
    from sims.dynamics_verify import check_request, verify_dynamics
    from sims.verdict import EXIT_CODES
    from ..params import ParameterError
    values = parse_assignments(sets)
    try:
        check_request(model, values, ns, seeds, t_max, algorithm)
    except ParameterError as e:
        raise CLIInputError(str(e)) from None
    if device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise CLIInputError("--device cuda: no CUDA device is available")
    with _quiet(json_mode):
        doc = verify_dynamics(model, values, ns, seeds, t_max, algorithm=algorithm, seed=seed, device=device,
                              level=level, allowance=allowance)
    if plot:
        from ..plotting import trajectories_figure          # start-up: matplotlib only when plotting
        curve = doc["theory_curve"]
        names = [k for k in curve if k != "t"]
        pts = {k: tuple(np.array([(r["t"], r["mean"], r["stderr"] or 0.0) for r in doc["points"]
                                  if r["observable"] == k and r["mean"] is not None]).T) for k in names}
        est = f"N → ∞ from N = {', '.join(map(str, ns))}" if len(ns) > 1 else f"N = {ns[0]}"
        trajectories_figure(curve["t"], {k: curve[k] for k in names}, points=pts,
                            simulation=f"{doc['algorithm']}, {est}, {seeds} seeds",
                            title=f"{model}: simulations {doc['verdict']} with the theory").savefig(plot, dpi=130)
    if json_mode:
        _emit_json(doc)
    else:
        def f(x):
            return "—" if x is None else f"{x:.5g}"
        click.echo(f"{model} ({doc['algorithm']}): " + ", ".join(f"{k} = {x:g}" for k, x in doc["parameters"].items())
                   + f";  theory: {doc['theory']};  N = {', '.join(map(str, ns))}, {seeds} seeds")
        for r in doc["points"]:
            per_n = "  ".join(f"N={b['n']}: {f(b['mean'])} ± {f(b['stderr'])}" for b in r["by_n"])
            click.echo(f"t={r['t']:<7.4g} {r['observable']:>20}: {per_n}  ->  {f(r['mean'])} ± {f(r['stderr'])}"
                       f"  theory {f(r['theory'])}  {'ok' if r['status'] == 'agree' else r['status'].upper()}")
        s = doc["summary"]
        click.echo(f"verdict: {doc['verdict']} ({s['agree']} agree, {s['disagree']} disagree, "
                   f"{s['inconclusive']} inconclusive; level {level:g})")
        if plot:
            click.echo(f"plot: {plot}")
    sys.exit(EXIT_CODES[doc["verdict"]])


#: the transition kinds of a dynamical model (``replica transition --kind``); the others are static
DYNAMICAL_KINDS = ("gradient_flow", "gradient_flow_dmft", "amp", "information_theoretic", "spinodal")
#: the Δ₂ points (fractions of the closed form) and the horizon of ``--kind gradient_flow_dmft``
_DMFT_POINTS, _DMFT_T_MAX, _DMFT_H = (0.8, 0.9), 40.0, 0.1


def _gradient_flow_dmft(deltap, p, closed):
    """The gradient-flow threshold measured on the integrated DMFT
    (:func:`replica.dynamics.dmft.gradient_flow_threshold_from_rates`: √λ∞ of the growth rate of m
    at m(0) → 0⁺ at 0.8 and 0.9 × the closed form, extrapolated to zero; horizon 40, step 0.1
    Richardson-extrapolated; within 3 % of the closed form at Δ_p = 0.5, 1, 2, p = 3)."""
    from ..dynamics.dmft import gradient_flow_threshold_from_rates
    pts = [f * closed for f in _DMFT_POINTS]
    r = gradient_flow_threshold_from_rates(deltap, p, delta2s=pts, t_max=_DMFT_T_MAX, h=_DMFT_H)
    return {"kind": "gradient_flow_dmft", "value": r["delta2"],
            "source": f"DMFT: growth rate of m at m(0) -> 0+, sqrt(rate) at delta2 = "
                      f"{', '.join(f'{x:.4g}' for x in pts)} extrapolated to zero (t_max = {_DMFT_T_MAX:g}, "
                      f"h = {_DMFT_H:g} and h/2, Richardson)",
            "rates": r["rates"]}


def transition_dynamical(model, along, sets, as_json, kinds=()):
    """``replica transition spiked-matrix-tensor --along delta2 --set deltap=...``: the
    gradient-flow (closed form), AMP and information-theoretic thresholds (and the spinodal where
    it differs from AMP); ``kinds`` (:data:`DYNAMICAL_KINDS`) selects, and ``gradient_flow_dmft``
    adds the threshold measured on the integrated DMFT (:func:`_gradient_flow_dmft`, seconds)."""
    from ..dynamics.dmft import gradient_flow_threshold_closed_form
    from ..dynamics.statics import static_thresholds
    m, v = _values(model, sets)
    if m.name != "spiked-matrix-tensor":
        raise CLIInputError(f"{m.name} has no transitions to locate; use replica dynamics")
    if along != "delta2":
        raise CLIInputError("spiked-matrix-tensor: transitions are located along delta2 (--along delta2)")
    if along in parse_assignments(sets):
        raise CLIInputError("delta2 is searched along; do not also --set it")
    other = sorted(set(kinds) - set(DYNAMICAL_KINDS))
    if other:
        raise CLIInputError(f"spiked-matrix-tensor has no {', '.join(other)} transition; kinds: "
                            + ", ".join(DYNAMICAL_KINDS))
    st = static_thresholds(v["deltap"], v["p"])
    closed = gradient_flow_threshold_closed_form(v["deltap"], v["p"])
    found = [{"kind": "gradient_flow", "value": closed,
              "source": "closed form, Sarao Mannelli et al. NeurIPS 2019 (BBP of the threshold states)"},
             {"kind": "amp", "value": st["amp"], "source": "Phi''(0) = 0"},
             {"kind": "information_theoretic", "value": st["information_theoretic"], "source": "Phi(m*) = Phi(0)"}]
    if st["spinodal"] > st["amp"] + 1e-6:
        found.append({"kind": "spinodal", "value": st["spinodal"], "source": "informative branch ends"})
    if kinds:
        found = [t for t in found if t["kind"] in kinds]
        if "gradient_flow_dmft" in kinds:
            found.insert(0, _gradient_flow_dmft(v["deltap"], v["p"], closed))
    params = {k: x for k, x in v.items() if k != "delta2"}
    doc = {"model": m.name, "parameter": "delta2", "parameters": params,
           "transitions": [{**t, "value": _none([t["value"]])[0]} for t in found]}
    if as_json:
        _emit_json(doc)
        return
    click.echo(f"{m.name}: transitions along delta2  (" + ", ".join(f"{k} = {x:g}" for k, x in params.items()) + ")")
    for t in doc["transitions"]:
        click.echo(f"  {t['kind']:<22} delta2 = {t['value']:.10g}   ({t['source']})")

