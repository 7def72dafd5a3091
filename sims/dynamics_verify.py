"""``replica verify`` on the dynamical built-ins: finite-N trajectories against the N → ∞ theory
at a set of times, judged by :mod:`sims.verdict` (error bars over seeds, extrapolation in 1/N
over the sizes run, Bonferroni over the (time, observable) points; exit 0/1/3).

* ``spiked-matrix-tensor`` (gradient flow, or Langevin at T > 0): m(t) and the energy e(t) of
  :func:`sims.spiked.run_spiked` against the DMFT of :func:`replica.dynamics.dmft.integrate_dmft`
  from the same m(0) = ``m0``.
* ``soft-committee-sgd``: ε_g(t) of :func:`sims.twolayer.run_online_sgd` (orthonormal teacher,
  student weights i.i.d. N(0, init_scale²)) against the ODEs of
  :func:`replica.dynamics.sgd.integrate_sgd` started from the N → ∞ initial overlaps of that
  initialisation, Q = init_scale² I, R = 0, T = I (at finite N they fluctuate by O(N^(−1/2)),
  an O(1/N) effect on the mean of ε_g until the escape from the plateau amplifies it).

The theory is deterministic (one value per time); the simulation's instances give the error bar;
the times are ``records`` evenly spaced points of (0, t_max] (t = 0 is the shared initial
condition and is not judged).
"""
from __future__ import annotations

import math

import numpy as np

from replica.dynamics.dmft import integrate_dmft
from replica.dynamics.models import load_dynamical
from replica.dynamics.sgd import integrate_sgd
from replica.params import ParameterError

from .spiked import MAX_TENSOR_ENTRIES, run_spiked
from .twolayer import make_teacher, run_online_sgd
from .verdict import DEFAULT_LEVEL, judge

__all__ = ["verify_dynamics", "check_request", "dmft_grid", "MAX_DMFT_T"]

#: the DMFT reference is integrated with step ≤ 0.025 (second order; error < 1e-4 in m) and
#: at most 1600 steps (the two-time grid's work grows like steps³)
MAX_DMFT_T = 40.0
_H = 0.025


def dmft_grid(t_max: float, records: int) -> tuple[float, int]:
    """(h, n): a DMFT step h ≤ 0.025 with n = t_max/h a multiple of ``records`` − 1, so every
    record time lies on the grid."""
    per = max(1, math.ceil(t_max / (records - 1) / _H))
    n = per * (records - 1)
    return t_max / n, n


def check_request(name: str, values: dict, ns, seeds: int, t_max, algorithm: str | None = None,
                  records: int = 6) -> tuple[dict, str]:
    """Every check of :func:`verify_dynamics` that needs no computation (ParameterError on bad
    input): returns (the model's checked values, the algorithm)."""
    model = load_dynamical(name)
    v = model.values(values)
    algorithm = algorithm or model.algorithms[0]
    if algorithm not in model.algorithms:
        raise ParameterError(f"algorithm {algorithm!r} does not apply to {name}; use {' or '.join(model.algorithms)}")
    if t_max is None or not t_max > 0:
        raise ParameterError(f"{name}: give the time horizon t_max > 0 (--t-max)")
    if records < 2:
        raise ParameterError("records must be >= 2")
    if seeds < 2:
        raise ParameterError("seeds must be >= 2 (the error bar is over seeds)")
    if not ns or min(ns) < 2:
        raise ParameterError("sizes must be integers >= 2")
    if name == "spiked-matrix-tensor":
        if algorithm == "langevin" and v["T"] == 0:
            raise ParameterError("langevin needs T > 0 (T = 0 is gradient flow)")
        if t_max > MAX_DMFT_T:
            raise ParameterError(f"t_max = {t_max:g}: the DMFT reference allows at most {MAX_DMFT_T:g}")
        if seeds * max(ns) ** v["p"] > MAX_TENSOR_ENTRIES:
            raise ParameterError(f"seeds * N^p = {seeds * max(ns) ** v['p']:.3g} noise-tensor entries exceed "
                                 f"{MAX_TENSOR_ENTRIES:.0e} (memory); use a smaller N or fewer seeds")
    elif max(ns) < v["M"]:
        raise ParameterError(f"the orthonormal teacher needs N >= M = {v['M']}")
    return v, algorithm


def _spiked(v, ns, seeds, t_max, algorithm, records, seed, device, m0, dt_sim):
    T = v["T"] if algorithm == "langevin" else 0.0
    h, n = dmft_grid(t_max, records)
    d = integrate_dmft(v["p"], v["delta2"], v["deltap"], T, m0=m0, t_max=t_max, h=h)
    idx = np.arange(0, n + 1, n // (records - 1))
    times = d.t[idx]
    steps_per_record = max(1, math.ceil((t_max / (records - 1)) / dt_sim))
    dt = t_max / (records - 1) / steps_per_record
    runs = {N: run_spiked(N, seeds, p=v["p"], delta2=v["delta2"], deltap=v["deltap"], T=T, m0=m0, t_max=t_max,
                          dt=dt, records=times, seed=seed, device=device) for N in ns}
    samples = []
    for j in range(1, len(times)):
        for name in ("m", "energy"):
            samples.append({"point": {"t": float(times[j])}, "observable": name,
                            "theory": float(getattr(d, name)[idx[j]]),
                            "by_n": [{"n": N, "values": getattr(r, name)[:, j], "seeds": seeds} for N, r in runs.items()]})
    info = {"theory": f"DMFT, Heun + trapezoid, h = {h:.4g}", "simulation": f"tangent-space Heun, dt = {dt:.4g}",
            "m0": m0, "T": T}
    keep = np.unique(np.linspace(0, n, min(n + 1, 201)).astype(int))
    curve = {"t": d.t[keep].tolist(), "m": d.m[keep].tolist(), "energy": d.energy[keep].tolist()}
    return samples, info, curve


def _sgd(v, ns, seeds, t_max, records, seed, device, init_scale):
    K, M, eta = v["K"], v["M"], v["eta"]
    times = np.linspace(0.0, t_max, records)
    ode = integrate_sgd(init_scale**2 * np.eye(K), np.zeros((K, M)), np.eye(M), eta, t_max, t_eval=times)
    if not ode.success:
        raise ParameterError("the online-SGD ODEs did not integrate to t_max")
    runs = {N: run_online_sgd(make_teacher(N, M, seeds, seed=seed, device=device), K, eta, t_max, records=times,
                              init_scale=init_scale, n_test=2) for N in ns}
    samples = [{"point": {"t": float(times[j])}, "observable": "generalization_error",
                "theory": float(ode.generalization_error[j]),
                "by_n": [{"n": N, "values": r.eg[:, j], "seeds": seeds} for N, r in runs.items()]}
               for j in range(1, len(times))]
    info = {"theory": "online-SGD ODEs (Saad & Solla 1995) from Q = init_scale^2 I, R = 0, T = I, DOP853",
            "simulation": "online SGD, one fresh sample per step", "init_scale": init_scale}
    dense = integrate_sgd(init_scale**2 * np.eye(K), np.zeros((K, M)), np.eye(M), eta, t_max)
    curve = {"t": dense.t.tolist(), "generalization_error": dense.generalization_error.tolist()}
    return samples, info, curve


def verify_dynamics(name: str, values: dict, ns, seeds: int, t_max: float, *, algorithm: str | None = None,
                    records: int = 6, seed: int = 0, device="cpu", level: float = DEFAULT_LEVEL,
                    allowance: float | None = None, m0: float = 0.2, init_scale: float = 0.5,
                    dt: float = 0.05) -> dict:
    """Simulate the dynamical built-in ``name`` at every size in ``ns`` (``seeds`` instances
    each) up to ``t_max`` and judge it against the theory at ``records`` − 1 times (module
    docstring); ``dt`` the largest simulation step (spiked matrix-tensor).  Returns {"model",
    "algorithm", "parameters", "sizes", "t_max", "verdict", "agree", "level", "power", "points",
    "summary", "rule", "theory_curve", ...} (``points`` as in :func:`sims.verdict.judge`, each with
    its time ``t``; ``theory_curve`` the theory on ≤ 201 times, for plots)."""
    ns = sorted(int(n) for n in ns)
    v, algorithm = check_request(name, values, ns, seeds, t_max, algorithm, records)
    if name == "spiked-matrix-tensor":
        samples, info, curve = _spiked(v, ns, seeds, t_max, algorithm, records, seed, device, m0, dt)
    else:
        samples, info, curve = _sgd(v, ns, seeds, t_max, records, seed, device, init_scale)
    verdict = judge(samples, level=level, allowance=allowance)
    return {"model": name, "algorithm": algorithm, "parameters": v, "sizes": ns, "seeds": seeds, "t_max": t_max,
            **info, **verdict, "agree": verdict["verdict"] == "agree", "theory_curve": curve,
            "rule": ("each (t, observable): the simulation's mean over seeds (extrapolated in 1/N over the sizes, "
                     "least squares) within t_nu(1 - (1 - level)/(2M)) standard errors (+ allowance c/sqrt(N) "
                     "with one size) of the N -> infinity theory; sims.verdict")}
