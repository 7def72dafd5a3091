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

Agreement rule (documented in the JSON under ``"rule"``): a point agrees when

    |mean − theory| ≤ t_{S−1}(0.995) · stderr + c/√N,

t the two-sided 99% Student quantile for S instances (the error bar of a mean of S values),
c = ``allowance`` (default 0.1): finite-size corrections to the thermodynamic limit.
Storage problems: the theory of the SAT fraction is the step 1[α < α_c]; a point within
``5/√N`` of α_c is inside the finite-size window of the step and always agrees.  A point
whose theory did not converge, or whose simulation has no converged instance, does not agree.
The verdict is the conjunction over points.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from replica.learning import ERM, BayesOptimal, Gibbs, Volume
from replica.model import load_model

from .data import model_parameters, sample
from .measure import estimator_observables, generalization_error, summarize

__all__ = ["simulate_point", "simulate", "theory_values", "verify", "ALGORITHMS", "default_algorithm"]

ALGORITHMS = ("erm", "montecarlo", "amp", "storage")
STORAGE_WINDOW = 5.0


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
    from .storage import ising_capacities, spherical_sat
    prior = data.model.student_prior or data.model.prior
    kappa = float(data.params.get("kappa", 0.0))
    if prior.density == 0:          # discrete weights: enumeration
        atoms = sorted(float(a) for a, _ in prior.atoms)
        if atoms != [-1.0, 1.0]:
            raise NotImplementedError("storage enumeration is built for ±1 weights")
        return (ising_capacities(data.X, data.y, kappa) >= data.p).double()
    return spherical_sat(data, kappa)


def simulate(model, points: list[dict], n: int, seeds, *, algorithm=None, device="cpu", seed=0,
             sweeps=1000, observables=None, progress=False) -> list[dict]:
    """Records {<param>: value, ..., "observable", "mean", "stderr", "n", "seeds", "converged"} for
    every point and observable (means over the converged instances)."""
    from tqdm.auto import tqdm
    model = load_model(model)
    out = []
    for pt in tqdm(points, desc="simulate", disable=not progress, leave=False):
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


def verify(model, sweep: tuple, fixed: dict | None = None, n: int = 200, seeds=4, *, algorithm=None,
           device="cpu", seed=0, sweeps=1000, observables=None, allowance=0.1, progress=False,
           plot: str | None = None, theory_points: int = 60) -> dict:
    """Simulate along ``sweep = (name, values)`` with ``fixed`` parameters; compare with theory.

    Returns the ``verify`` JSON document (DESIGN.md): {"model", "parameters", "rule", "points":
    [{<param>..., "observable", "theory", "mean", "stderr", "n", "seeds", "agree", ...}], "agree"}."""
    from scipy.stats import t as student_t
    model = load_model(model)
    fixed = dict(fixed or {})
    name, values = sweep[0], np.atleast_1d(np.asarray(sweep[1], float))
    points = [{**fixed, name: float(v)} for v in values]
    for pt in points:                       # bad names / domains fail before any simulation
        model_parameters(model, pt)
    sims = simulate(model, points, n, seeds, algorithm=algorithm, device=device, seed=seed,
                    sweeps=sweeps, observables=observables, progress=progress)
    storage = isinstance(model.learning, Volume)
    grid_fixed = {k: v for k, v in model_parameters(model, points[0]).items() if k != name}
    if storage:
        if name != "alpha":
            raise ValueError("storage verification sweeps alpha (the SAT fraction against the capacity)")
        ac = _capacity(model, {k: v for k, v in grid_fixed.items() if k != "alpha"}, 0.05, 4.0)
    else:
        names = sorted({r["observable"] for r in sims})
        branch = "equilibrium" if (algorithm or default_algorithm(model)) == "erm" else "uninformed"
        th, labels = theory_values(model, {**grid_fixed, name: values}, names, branch)
    for r in sims:
        i = int(np.argmin(np.abs(values - r[name])))
        if storage:
            theory = (1.0 if r[name] < ac else 0.0) if math.isfinite(ac) else None
            r["capacity"] = _num(ac)
        else:
            v = th.get(r["observable"], np.full(len(values), np.nan))[i]
            theory = float(v) if np.isfinite(v) else None
            r["branch"] = str(labels[i])
        r["theory"] = theory
        S = r["seeds"]
        if theory is None or r["mean"] is None or S < 2:
            r["agree"], r["tolerance"] = False, None
            continue
        tol = float(student_t.ppf(0.995, S - 1)) * r["stderr"] + allowance / math.sqrt(n)
        r["tolerance"] = tol
        r["agree"] = bool(abs(r["mean"] - theory) <= tol)
        if storage and abs(r[name] - ac) <= STORAGE_WINDOW / math.sqrt(n):
            r["agree"], r["in_window"] = True, True
    doc = {"model": model.name, "parameters": {**grid_fixed, name: [float(v) for v in values]},
           "sweep": name, "rule": {"tolerance": "t_{S-1}(0.995) * stderr + allowance / sqrt(n)",
                                   "allowance": allowance,
                                   **({"storage_window": f"|alpha - alpha_c| <= {STORAGE_WINDOW}/sqrt(n) agrees"}
                                      if storage else {})},
           "points": sims, "agree": bool(sims) and all(r["agree"] for r in sims)}
    if plot:
        _plot(model, doc, name, values, grid_fixed, plot, theory_points, storage)
    return doc


def _plot(model, doc, name, values, grid_fixed, path, theory_points, storage):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = sorted({r["observable"] for r in doc["points"]})
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) if hi > lo else 0.1 * max(abs(lo), 1.0)
    xs = np.linspace(lo - pad, hi + pad, theory_points)
    if name == "alpha":
        xs = xs[xs > 0]
    if not storage:
        branch = "equilibrium" if doc["points"][0].get("algorithm") == "erm" else "uninformed"
        th, _ = theory_values(model, {**grid_fixed, name: xs}, names, branch)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, obs in zip(axes[0], names):
        pts = [r for r in doc["points"] if r["observable"] == obs]
        if storage:
            ac = pts[0].get("capacity")
            if ac is not None:
                ax.plot(xs, (xs < ac).astype(float), "-", color="C0", label=f"theory (α_c = {ac:.3f})")
        else:
            ax.plot(xs, th.get(obs, np.full(len(xs), np.nan)), "-", color="C0", label="theory (RS)")
        x = [r[name] for r in pts]
        y = [np.nan if r["mean"] is None else r["mean"] for r in pts]
        e = [0.0 if r["stderr"] is None else r["stderr"] for r in pts]
        colors = ["C2" if r["agree"] else "C3" for r in pts]
        ax.errorbar(x, y, yerr=e, fmt="none", ecolor="k", capsize=3)
        ax.scatter(x, y, c=colors, zorder=3, label=f"simulation, N = {pts[0]['n']}, {pts[0]['seeds']} seeds")
        ax.set_xlabel(name)
        ax.set_title(obs.replace("_", " "))
        ax.legend(fontsize=7)
    fig.suptitle(f"{doc['model']}: {'agree' if doc['agree'] else 'DISAGREE'}  "
                 + ", ".join(f"{k}={v:g}" for k, v in grid_fixed.items()), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
