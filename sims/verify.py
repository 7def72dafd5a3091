"""Simulate a Model at finite N and compare with its replica theory.

:func:`simulate_point` draws ``seeds`` instances at one parameter point and runs the student
the learning setting calls for — ERM (:mod:`sims.erm`), Gibbs sampling (:mod:`sims.montecarlo`),
AMP for Bayes-optimal models (``sims.amp``, imported when needed), or the storage checks
(:mod:`sims.storage`) — and returns per-instance observables.  Committee machines (a teacher
that is a ``CommitteeRule`` / ``SoftCommitteeRule``) go to the committee AMP of
:mod:`sims.committee` (observables ``q_d``, ``q_a``, ``q_diag``, ``q_off``, ``mse``,
``generalization_error``, ``gibbs_error``; the theory's names).  :func:`verify` adds the theory
(the equilibrium branch of ``replica.solve.solve_branches`` on the compiled theory, or the
capacity from ``find_transitions`` for storage) and judges each point.

Theory branch: ERM (convex) has one minimizer — the equilibrium; AMP and Monte Carlo start
without knowledge of the teacher and are compared with the branch reached from the
uninformed start (metastable inside a coexistence region: AMP stays there up to the
spinodal, e.g. α ≈ 1.49 for the Ising perceptron), where the solver converges from there.

Agreement rule (:mod:`sims.verdict`, stated in the JSON under ``"rule"``): the simulation at
every size N is extrapolated to N = ∞ by a fit a + b/N, and a point agrees when
|a − theory| ≤ t_ν(1 − (1 − level)/(2M))·se(a) (Bonferroni over the M points, level 0.99 by
default); the verdict is "agree", "disagree" or "inconclusive" (too few converged seeds, no
error bar, no theory, an observable that is not measured), with its power (the smallest
relative error of the theory detected 95 % of the time).  Storage problems: the theory of the
SAT fraction is the step 1[α < α_c]; a point within ``5/√N`` (smallest N) of α_c is inside the
finite-size window of the step and always agrees.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from replica import progress as P
from replica.learning import ERM, BayesOptimal, Gibbs, Volume
from replica.model import load_model
from replica.plotting import symbol, verify_figure
from replica.symbols import lam as LAM, y as Y

from .data import model_parameters, numeric, sample, to_torch
from .features import simulate_features_point
from .measure import estimator_observables, generalization_error, summarize
from .verdict import DEFAULT_LEVEL, DEFAULT_MIN_CONVERGED, judge, overall, summary

__all__ = ["simulate_point", "simulate", "simulate_samples", "compare", "theory_values", "verify", "ALGORITHMS",
           "default_algorithm", "DEFAULT_SIZES", "DEFAULT_SEEDS"]

ALGORITHMS = ("erm", "montecarlo", "amp", "storage")
STORAGE_WINDOW = 5.0
#: verify's default system sizes and seeds per size (a 5 % error of the theory detected on the
#: README's examples: benchmarks/power_verify.py)
DEFAULT_SIZES = (200, 800)
DEFAULT_SEEDS = 32


def default_algorithm(model) -> str:
    L = model.learning
    if isinstance(L, ERM):
        return "erm"
    if isinstance(L, Gibbs):
        return "montecarlo"
    if isinstance(L, BayesOptimal):
        return "amp"
    if isinstance(L, Volume):
        return "storage"
    raise ValueError(f"no simulation for learning setting {L!r}")


def simulate_point(model, params: dict, n: int, seeds, *, algorithm: str | None = None, device="cpu",
                   seed: int = 0, sweeps: int = 1000) -> dict:
    """Per-instance observables at one parameter point.

    Returns {"observables": name -> tensor (S,), "converged": bool tensor (S,), "info": dict}."""
    model = load_model(model)
    if model.committee:
        from .committee import simulate_committee_point
        return simulate_committee_point(model, params, n, seeds, algorithm=algorithm, device=device, seed=seed)
    if model.features is not None:
        return simulate_features_point(model, params, n, seeds, algorithm=algorithm, device=device, seed=seed)
    algorithm = algorithm or default_algorithm(model)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    data = sample(model, params, n, seeds, device=device, seed=seed)
    info = {"algorithm": algorithm, "p": data.p}
    if algorithm == "erm":
        from .erm import run_erm
        r = run_erm(data)
        obs = estimator_observables(r["w_hat"], data)
        conv = r["converged"]
        info["method"] = r["method"]
    elif algorithm == "montecarlo":
        from .montecarlo import run_gibbs
        r = run_gibbs(data, sweeps=sweeps, seed=seed + 1)
        obs = {k: r[k] for k in ("m", "q", "generalization_error")}
        obs["training_error"] = r["energy"]
        obs["mse"] = r["q"] - 2 * r["m"] + (data.teacher**2).sum(-1) / data.n
        # equilibrated: the half-window drift of m within 3 standard errors (+0.02) over instances
        drift = r["drift"]["m"]
        se = float(drift.std() / math.sqrt(len(drift))) if len(drift) > 1 else 0.0
        info["drift_m"] = float(drift.mean())
        info["equilibrated"] = abs(float(drift.mean())) <= 3 * se + 0.02
        info["acceptance"] = float(r["acceptance"].mean())
        conv = torch.ones(len(data), dtype=torch.bool)
    elif algorithm == "amp":
        try:
            from .amp import run_amp
        except ImportError as e:
            raise NotImplementedError(f"the AMP student (sims/amp.py) is not available: {e}") from e
        r = run_amp(data)
        conv = torch.as_tensor(r["converged"]).bool()
        w = r["w_hat"]
        obs = {"m": torch.as_tensor(r["m"]), "q": torch.as_tensor(r["q"]), "mse": torch.as_tensor(r["mse"]),
               "generalization_error": generalization_error(w, data)}
    else:
        obs = {"sat_fraction": _storage_sat(data)}
        conv = torch.ones(len(data), dtype=torch.bool)
    return {"observables": {k: torch.as_tensor(v).cpu() for k, v in obs.items()},
            "converged": conv.cpu(), "info": info}


def _storage_sat(data):
    """SAT (1.0) or not per instance: enumeration of ±1 weights under the model's own constraint
    (its Volume indicator, with the parameters substituted, > 0: ties count as stored); the
    linear program / hard-margin SVM for spherical weights under a margin y λ ≥ κ."""
    from .storage import ising_capacities, spherical_sat
    prior = data.model.student_prior or data.model.prior
    L = data.model.learning
    kappa = float(data.params.get("kappa", 0.0))
    if prior.density == 0:          # discrete weights: enumeration
        atoms = sorted(float(a) for a, _ in prior.atoms)
        if atoms != [-1.0, 1.0]:
            raise NotImplementedError("storage enumeration is built for ±1 weights")
        indicator = to_torch(L.indicator, [Y, LAM], data.params)
        return (ising_capacities(data.X, data.y, constraint=lambda yv, lam: indicator(yv, lam) > 0) >= data.p).double()
    if not hasattr(L, "margin"):
        raise NotImplementedError(f"storage simulation of spherical weights is built for a margin y*lam >= kappa, "
                                  f"not {L.constraint}")
    return spherical_sat(data, float(numeric(L.margin, data.params)))


def simulate(model, points: list[dict], n: int, seeds, *, algorithm=None, device="cpu", seed=0,
             sweeps=1000, observables=None, progress=False) -> list[dict]:
    """Records {<param>: value, ..., "observable", "mean", "stderr", "n", "seeds", "converged"} for
    every point and observable (means over the converged instances)."""
    model = load_model(model)
    out = []
    for pt in P.track(points, "simulate", show=progress):
        r = simulate_point(model, pt, n, seeds, algorithm=algorithm, device=device, seed=seed, sweeps=sweeps)
        full = model_parameters(model, pt)
        for name, v in r["observables"].items():
            if observables and name not in observables:
                continue
            mean, se, k = summarize(v, r["converged"])
            out.append({**full, "observable": name, "mean": _num(mean), "stderr": _num(se), "n": int(n),
                        "seeds": int(k), "converged_fraction": float(r["converged"].double().mean()),
                        **{k2: v2 for k2, v2 in r["info"].items() if k2 != "p"}})
    return out


def _num(v):
    return float(v) if v is not None and math.isfinite(v) else None


def theory_values(model, grid: dict, names, branch: str = "equilibrium") -> tuple[dict, np.ndarray]:
    """name -> array over the grid (NaN where not converged), and the branch label per point.

    ``branch="equilibrium"``: the branch of largest free entropy (``solve_branches``).
    ``branch="uninformed"``: the fixed point reached from the uninformed start — the one an
    algorithm started without knowledge of the teacher (AMP, Monte Carlo from random weights)
    follows, metastable in a coexistence region — where the solver converges from there, else
    the equilibrium.  Bayes-optimal theories report ``m`` as ``q`` (Nishimori: m = q)."""
    from replica.solve import solve, solve_branches
    from replica.codegen.compiled import load_compiled
    model = load_model(model)
    c = load_compiled(model)
    sol = solve_branches(c, grid, init="all").equilibrium_solution()
    use_u = None
    if branch == "uninformed":
        su = solve(c, grid, init="uninformed")
        use_u = np.asarray(su.converged)
    elif branch != "equilibrium":
        raise ValueError(f"branch must be 'equilibrium' or 'uninformed', got {branch!r}")

    def get(s, k):
        for key in (k, "q" if (k == "m" and c.kind == "bayes-optimal") else None):
            if key is None:
                continue
            try:
                return np.asarray(s[key], float) * np.ones(s.shape)
            except KeyError:
                pass
        return None
    out = {}
    for k in names:
        v = get(sol, k)
        if v is None:
            continue
        v = np.where(sol.converged, v, np.nan)
        if use_u is not None:
            vu = get(su, k)
            v = np.where(use_u, vu, v)
        out[k] = v
    labels = np.asarray(sol.branch, dtype=object).copy()
    if use_u is not None:
        labels = np.where(use_u, np.asarray(su.branch, dtype=object), labels)
    return out, labels


def _capacity(model, fixed, lo, hi):
    from replica.solve import find_transitions
    rec = [t for t in find_transitions(model, "alpha", range=(lo, hi), fixed=fixed, kinds=["capacity"])
           if t["kind"] == "capacity" and t.get("value") is not None]
    return rec[0]["value"] if rec else math.nan


#: instance seeds at the j-th system size are drawn with base seed ``seed + SIZE_SEED_STRIDE * j``
#: (independent instances at every N; j = 0 keeps ``seed``)
SIZE_SEED_STRIDE = 104729


def simulate_samples(model, points: list[dict], ns, seeds, *, algorithm=None, device="cpu", seed=0,
                     sweeps=1000, observables=None, progress=False) -> tuple[list, list]:
    """Per-instance values of every observable at every point and size: the input of
    :func:`sims.verdict.judge` (without the theory).

    Returns (samples, missing): samples [{"point": full parameters, "observable", "algorithm",
    "by_n": [{"n", "values" (the converged instances), "seeds"}]}]; missing, the names in
    ``observables`` the simulation does not measure (when none is measured, no further point
    is simulated)."""
    model = load_model(model)
    ns = [int(n) for n in np.atleast_1d(ns)]
    S = seeds if isinstance(seeds, int) else len(seeds)
    samples, missing = [], []
    for pt in P.track(points, "simulate", show=progress):
        full = model_parameters(model, pt)
        per_obs = {}
        for j, n in enumerate(ns):
            r = simulate_point(model, pt, n, seeds, algorithm=algorithm, device=device,
                               seed=seed + SIZE_SEED_STRIDE * j, sweeps=sweeps)
            conv = r["converged"].bool()
            for name, v in r["observables"].items():
                vals = torch.as_tensor(v, dtype=torch.float64)[conv].numpy()
                per_obs.setdefault(name, []).append({"n": n, "values": vals, "seeds": S})
            algo = r["info"]["algorithm"]
        if observables:
            missing = [o for o in observables if o not in per_obs]
            per_obs = {k: v for k, v in per_obs.items() if k in observables}
            if not per_obs:
                break
        samples += [{"point": full, "observable": k, "algorithm": algo, "by_n": v} for k, v in per_obs.items()]
    return samples, missing


def compare(model, sweep: tuple, samples: list, *, algorithm=None, theory=None, missing=(),
            level: float = DEFAULT_LEVEL, allowance: float | None = None,
            min_converged: float = DEFAULT_MIN_CONVERGED) -> dict:
    """The ``verify`` document for simulated ``samples`` (:func:`simulate_samples`) along
    ``sweep = (name, values)``.  ``theory``: a function ``grid -> (name -> array, branch
    labels)`` replacing :func:`theory_values` (e.g. a deliberately wrong theory, to measure the
    verdict's power); storage problems compare with the step at the capacity."""
    model = load_model(model)
    name, values = sweep[0], np.atleast_1d(np.asarray(sweep[1], float))
    storage = isinstance(model.learning, Volume)
    first = samples[0]["point"] if samples else model_parameters(model, {name: float(values[0])})
    grid_fixed = {k: v for k, v in first.items() if k != name}
    labels = None
    if storage:
        if name != "alpha":
            raise ValueError("storage verification sweeps alpha (the SAT fraction against the capacity)")
        ac = _capacity(model, {k: v for k, v in grid_fixed.items() if k != "alpha"}, 0.05, 4.0)
    elif samples:
        names = sorted({smp["observable"] for smp in samples})
        branch = "equilibrium" if (algorithm or default_algorithm(model)) == "erm" else "uninformed"
        th, labels = (theory or (lambda g: theory_values(model, g, names, branch)))({**grid_fixed, name: values})
    todo = []
    for smp in samples:
        i = int(np.argmin(np.abs(values - smp["point"][name])))
        if storage:
            t = (1.0 if smp["point"][name] < ac else 0.0) if math.isfinite(ac) else None
        else:
            v = th.get(smp["observable"], np.full(len(values), np.nan))[i]
            t = float(v) if np.isfinite(v) else None
        todo.append({**smp, "theory": t})
    doc = judge(todo, level=level, allowance=allowance, min_converged=min_converged, missing=list(missing))
    n_min = min((b["n"] for smp in samples for b in smp["by_n"]), default=1)
    for smp, r in zip(todo, doc["points"]):
        r["algorithm"] = smp.get("algorithm")
        if storage:
            r["capacity"] = _num(ac)
            if r["status"] == "disagree" and abs(r[name] - ac) <= STORAGE_WINDOW / math.sqrt(n_min):
                r.update(status="agree", agree=True, in_window=True)
        else:
            r["branch"] = str(labels[int(np.argmin(np.abs(values - r[name])))])
    if storage:
        doc["summary"], doc["verdict"] = summary(doc["points"]), overall(doc["points"], missing)
    sizes = sorted({b["n"] for smp in samples for b in smp["by_n"]})
    rule = ("|a - theory| <= t_nu(1 - (1 - level)/(2M)) * stderr(a) + allowance/sqrt(N) + 1e-8, a the 1/N "
            "extrapolation of the means over N = " + ", ".join(map(str, sizes)) if len(sizes) > 1 else
            "|mean - theory| <= t_{S-1}(1 - (1 - level)/(2M)) * stderr + allowance/sqrt(N) + 1e-8 (one N: no "
            "extrapolation)")
    return {"model": model.name, "parameters": {**grid_fixed, name: [float(v) for v in values]},
            "sweep": name, "sizes": sizes,
            "rule": {"tolerance": rule, "level": level, "comparisons (M)": doc["comparisons"],
                     "allowance": (0.1 if allowance is None and len(sizes) == 1 else allowance or 0.0),
                     **({"storage_window": f"|alpha - alpha_c| <= {STORAGE_WINDOW}/sqrt(N_min) agrees"}
                        if storage else {})},
            "verdict": doc["verdict"], "agree": doc["verdict"] == "agree", "power": doc["power"],
            "summary": doc["summary"], "missing_observables": doc["missing_observables"],
            "points": doc["points"]}


def verify(model, sweep: tuple, fixed: dict | None = None, n=DEFAULT_SIZES, seeds=DEFAULT_SEEDS, *,
           algorithm=None, device="cpu", seed=0, sweeps=1000, observables=None, allowance=None,
           level: float = DEFAULT_LEVEL, min_converged: float = DEFAULT_MIN_CONVERGED, progress=False,
           plot: str | None = None, theory_points: int = 60, theory=None) -> dict:
    """Simulate along ``sweep = (name, values)`` with ``fixed`` parameters at every size in
    ``n``; compare with the theory (:func:`compare`, rule in :mod:`sims.verdict`).

    Returns the ``verify`` JSON document (DESIGN.md): {"model", "parameters", "rule",
    "verdict" ("agree" | "disagree" | "inconclusive"), "power", "points": [{<param>...,
    "observable", "theory", "mean", "stderr", "n", "seeds", "agree", "by_n", "extrapolation",
    ...}], "agree"}."""
    model = load_model(model)
    fixed = dict(fixed or {})
    name, values = sweep[0], np.atleast_1d(np.asarray(sweep[1], float))
    points = [{**fixed, name: float(v)} for v in values]
    for pt in points:                       # bad names / domains fail before any simulation
        model_parameters(model, pt)
    samples, missing = simulate_samples(model, points, n, seeds, algorithm=algorithm, device=device, seed=seed,
                                        sweeps=sweeps, observables=observables, progress=progress)
    doc = compare(model, (name, values), samples, algorithm=algorithm, theory=theory, missing=missing,
                  level=level, allowance=allowance, min_converged=min_converged)
    if plot and doc["points"]:
        _plot(model, doc, plot, theory_points)
    return doc


def figure(model, doc: dict, theory_points: int = 60):
    """The ``verify`` document ``doc`` of ``model`` as a figure (:func:`replica.plotting.verify_figure`):
    one labelled panel per observable, the theory (the branch the simulations follow) drawn with
    gaps at its discontinuities, simulations with error bars, disagreements in the legend."""
    model = load_model(model)
    name = doc["sweep"]
    values = np.asarray(doc["parameters"][name], float)
    grid_fixed = {k: v for k, v in doc["parameters"].items() if k != name}
    names = sorted({r["observable"] for r in doc["points"]})
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) if hi > lo else 0.1 * max(abs(lo), 1.0)
    xs = np.linspace(lo - pad, hi + pad, theory_points)
    if name == "alpha":
        xs = xs[xs > 0]
    storage = isinstance(model.learning, Volume)
    curves = {}
    if storage:
        ac = next((r.get("capacity") for r in doc["points"] if r.get("capacity") is not None), None)
        if ac is not None:
            for obs in names:
                curves[obs] = (xs, (xs < ac).astype(float))
        kind = "storage"
    else:
        branch = "equilibrium" if doc["points"][0].get("algorithm") == "erm" else "uninformed"
        th, _ = theory_values(model, {**grid_fixed, name: xs}, names, branch)
        curves = {k: (xs, v) for k, v in th.items()}
        L = model.learning
        kind = ("bayes-optimal" if isinstance(L, BayesOptimal) else "finite-temperature" if isinstance(L, Gibbs)
                else "zero-temperature" if isinstance(L, ERM) else "")
    desc = model.description or doc["model"]
    fixed = ", ".join(f"{symbol(k)} = {v:g}" for k, v in grid_fixed.items())
    title = f"{desc[0].upper() + desc[1:]}" + (f" ({fixed})" if fixed else "") + f"\nsimulations {doc['verdict']}"
    return verify_figure(doc, curves, title=title, kind=kind)


def _plot(model, doc, path, theory_points):
    figure(model, doc, theory_points).savefig(path, dpi=150)
