"""The verdict of ``replica verify``: simulation against theory, with a stated confidence level
and a stated power.  Pure statistics (NumPy / SciPy); no simulation, no theory, no plotting.

For each parameter point and observable the simulation gives, at every size N it ran, the
values of the S_N instances that converged: mean m_N and standard error s_N = sd_N/√S_N.

* **Extrapolation to N = ∞** (finite-size corrections are O(1/N) for these replica-symmetric
  observables): ordinary least squares of m_N on x = 1/N, m_N ≈ a + b/N.  The intercept is a
  fixed linear combination a = Σ_N c_N m_N (c = the first row of (XᵀX)⁻¹Xᵀ, X = [1, 1/N]; for
  two sizes a = (N₂m₂ − N₁m₁)/(N₂ − N₁)), so its standard error is exactly
  se_a = √(Σ c_N² s_N²), with ν = se_a⁴ / Σ_N (c_N² s_N²)²/(S_N − 1) degrees of freedom
  (Welch–Satterthwaite).  With one size, a = m_N, se_a = s_N, ν = S_N − 1 and no extrapolation.
* **Test** at confidence ``level`` for the whole verdict (Bonferroni over the M judged
  points): a point agrees when

      |a − theory| ≤ t_ν(1 − (1 − level)/(2M)) · se_a + allowance + 1e-8,

  ``allowance`` a finite-size allowance c/√N used only when there is one size (default
  c = 0.1 then, 0 with an extrapolation), 1e-8 the round-off of theory and simulation.
* **Power**: the smallest error of the theory detected with probability 0.95 at that point,
  δ₉₅ = (t_crit + t_ν(0.95)) · se_a + allowance (a one-sided normal-theory approximation).
  The verdict's power is the smallest δ₉₅/|theory| over the points (the relative error of the
  theory that the verdict detects 95 % of the time, at its most sensitive point).
* **Inconclusive** points: fewer than 2 converged instances at some N (no error bar), fewer
  than ``min_converged`` of the instances converged (the mean of the survivors is biased), or
  no theory value.  The verdict is "disagree" when a conclusive point disagrees, else
  "inconclusive" when a point is inconclusive or there is no point, else "agree".

Exit codes of ``replica verify``: :data:`EXIT_CODES`.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import t as student_t

__all__ = ["judge", "overall", "summary", "extrapolation_weights", "EXIT_CODES", "DEFAULT_LEVEL", "DEFAULT_MIN_CONVERGED",
           "ROUND_OFF"]

#: ``replica verify``'s exit code per verdict
EXIT_CODES = {"agree": 0, "disagree": 1, "inconclusive": 3}
DEFAULT_LEVEL = 0.99
DEFAULT_MIN_CONVERGED = 0.5
#: absolute tolerance for round-off (a simulation and a theory that agree exactly, e.g. q = 1)
ROUND_OFF = 1e-8


def extrapolation_weights(ns) -> np.ndarray:
    """c with a = Σ c_N m_N the least-squares intercept of m_N ≈ a + b/N (one size: c = [1])."""
    x = 1.0 / np.asarray(ns, float)
    if x.size == 1:
        return np.ones(1)
    X = np.stack([np.ones_like(x), x], 1)
    return np.linalg.solve(X.T @ X, X.T)[0]


def _estimate(by_n: list) -> dict:
    """The judged estimate from [{"n", "values", "seeds"}, ...] (values: the converged ones)."""
    ns = [b["n"] for b in by_n]
    k = np.array([len(b["values"]) for b in by_n])
    means = np.array([float(np.mean(b["values"])) if len(b["values"]) else math.nan for b in by_n])
    ses = np.array([float(np.std(b["values"], ddof=1) / math.sqrt(len(b["values"])))
                    if len(b["values"]) > 1 else math.nan for b in by_n])
    c = extrapolation_weights(ns)
    a = float(c @ means)
    parts = c**2 * ses**2
    se = float(math.sqrt(parts.sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = float(np.sum(parts**2 / np.maximum(k - 1, 1)))
        dof = se**4 / denom if denom > 0 else math.nan
    if not math.isfinite(dof):
        dof = float(max(int(k.min()) - 1, 1))
    return {"value": a, "stderr": se, "dof": float(max(dof, 1.0)), "means": means, "stderrs": ses, "counts": k}


def judge(samples: list, *, level: float = DEFAULT_LEVEL, allowance: float | None = None,
          min_converged: float = DEFAULT_MIN_CONVERGED, missing: list | None = None) -> dict:
    """Judge every sample against its theory.

    ``samples``: [{"point": {param: value}, "observable": str, "theory": float | None,
    "by_n": [{"n": int, "values": array of the converged instances' values, "seeds": int
    (instances run)}]}].  ``missing``: observables asked for that the simulation does not
    measure (each makes the verdict inconclusive).  Returns {"verdict", "level", "power",
    "points": [...], "summary": {...}} (see the module docstring)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    recs, judged = [], 0
    for smp in samples:
        by_n = sorted(({**b, "values": _finite(b["values"])} for b in smp["by_n"]), key=lambda b: b["n"])
        est = _estimate(by_n)
        theory = smp.get("theory")
        theory = float(theory) if theory is not None and math.isfinite(theory) else None
        n_max = max(b["n"] for b in by_n)
        seeds = max(b["seeds"] for b in by_n)
        conv = [int(len(b["values"])) for b in by_n]
        reason = None
        if theory is None:
            reason = "the theory did not converge"
        elif min(conv) < 2:
            reason = "fewer than 2 converged seeds at some N (no error bar)"
        elif any(k < min_converged * b["seeds"] for k, b in zip(conv, by_n)):
            reason = f"fewer than {min_converged:.0%} of the seeds converged at some N"
        judged += reason is None
        one = len(by_n) == 1
        c = (0.1 if allowance is None else allowance) if one else (allowance or 0.0)
        allow = c / math.sqrt(n_max)
        recs.append({
            **smp["point"], "observable": smp["observable"], "theory": theory,
            "mean": _num(est["value"]), "stderr": _num(est["stderr"]), "n": int(n_max), "seeds": int(seeds),
            "converged_seeds": min(conv), "failed_seeds": int(sum(b["seeds"] - k for k, b in zip(conv, by_n))),
            "by_n": [{"n": int(b["n"]), "mean": _num(m), "stderr": _num(s), "seeds": int(b["seeds"]),
                      "converged": int(k)} for b, m, s, k in zip(by_n, est["means"], est["stderrs"], conv)],
            "extrapolation": None if one else {"value": _num(est["value"]), "stderr": _num(est["stderr"]),
                                               "dof": est["dof"], "sizes": [int(b["n"]) for b in by_n]},
            "_dof": est["dof"], "_allow": allow, "reason": reason,
        })
    M = max(judged, 1)
    p_one = (1 - level) / (2 * M)
    for r in recs:
        dof, allow = r.pop("_dof"), r.pop("_allow")
        t_crit = float(student_t.ppf(1 - p_one, dof))
        se = r["stderr"]
        if r["reason"] is not None or se is None or r["mean"] is None:
            r.update(status="inconclusive", agree=False, tolerance=None, detectable=None)
            if r["reason"] is None:
                r["reason"] = "no finite simulation estimate"
            continue
        tol = t_crit * se + allow + ROUND_OFF
        ok = abs(r["mean"] - r["theory"]) <= tol
        r.update(status="agree" if ok else "disagree", agree=bool(ok), tolerance=tol,
                 detectable=(t_crit + float(student_t.ppf(0.95, dof))) * se + allow + ROUND_OFF)
        del r["reason"]
    rel = [(r["detectable"] / abs(r["theory"]), r) for r in recs
           if r.get("detectable") is not None and r["theory"] not in (None, 0.0)]
    best = min(rel, key=lambda t: t[0]) if rel else None
    return {
        "verdict": overall(recs, missing), "level": level, "comparisons": judged,
        "power": None if best is None else {
            "relative_error": best[0], "observable": best[1]["observable"],
            "point": {k: v for k, v in best[1].items() if k in samples[0]["point"]},
            "detection_probability": 0.95},
        "points": recs,
        "summary": summary(recs),
        "missing_observables": list(missing or []),
    }


def summary(points: list) -> dict:
    """How many points agree, disagree, are inconclusive."""
    statuses = [r["status"] for r in points]
    return {s: statuses.count(s) for s in ("agree", "disagree", "inconclusive")}


def overall(points: list, missing=()) -> str:
    """"disagree" when a conclusive point disagrees; else "inconclusive" when a point is
    inconclusive, there is no point, or an asked-for observable is missing; else "agree"."""
    statuses = [r["status"] for r in points]
    if "disagree" in statuses:
        return "disagree"
    if not statuses or "inconclusive" in statuses or missing:
        return "inconclusive"
    return "agree"


def _finite(values) -> np.ndarray:
    v = np.asarray(values, float).ravel()
    return v[np.isfinite(v)]


def _num(v):
    return float(v) if v is not None and math.isfinite(v) else None
