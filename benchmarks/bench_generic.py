"""Issue 11's benchmark table: derive+compile time and per-point solve time of every custom model
of tests/generic_models/ (written only with the public component API) against the built-in of the
same shape, measured in the same run (ratios; absolute times depend on the machine and its load).

    REPLICA_CACHE_DIR=$(mktemp -d) PYTHONPATH=$PWD python benchmarks/bench_generic.py [a_laplace b_lad ...]

Prints one Markdown table: per model, derive+compile seconds (cold: the on-disk cache is
bypassed), milliseconds per solved point (``points`` points along α, uninformed start, the solver's
default rule and acceptance check), both as ratios to the built-in, and how many points converged.
Each built-in is measured once, before the first model that is compared with it.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import replica
from replica.solve import solve

MODELS = Path(__file__).resolve().parent.parent / "tests" / "generic_models"
RIDGE = {"alpha": 2.0, "delta": 0.5, "lam": 0.1}
#: model file -> (built-in of the same shape, parameters); the model's own defaults fill the rest
CASES = {
    "a_laplace": ("linear-bayes", {"alpha": 1.0, "delta": 0.5}),
    "a_uniform": ("linear-bayes", {"alpha": 1.0, "delta": 0.5}),
    "a_student": ("linear-bayes", {"alpha": 1.0, "delta": 0.5}),
    "a_ternary": ("linear-bayes", {"alpha": 1.0}),
    "a_gauss_bernoulli": ("linear-bayes", {"alpha": 0.5}),
    "a_relu": ("linear-bayes", {"alpha": 1.0, "delta": 0.1}),
    "a_abs": ("linear-bayes", {"alpha": 1.0, "delta": 0.05}),
    "a_sin": ("linear-bayes", {"alpha": 1.0}),
    "b_lad": ("ridge", RIDGE),
    "b_logcosh": ("ridge", RIDGE),
    "b_huber": ("ridge", RIDGE),
    "b_kinked_logcosh": ("ridge", RIDGE),
    "b_sbp": ("ising-storage", {"alpha": 0.5, "kappa": 0.8}),
    "b_spherical_band": ("gardner", {"alpha": 0.5, "kappa": 0.8}),
    "b_door": ("perceptron-bayes", {"alpha": 2.0, "kappa": 0.8}),
    "b_probit": ("perceptron-bayes", {"alpha": 1.5, "s": 0.5}),
    "b_logistic_teacher": ("perceptron-bayes", {"alpha": 1.5, "s": 0.5}),
    "b_gibbs": ("perceptron-gibbs", {"alpha": 2.0, "T": 0.5}),
}


def timed(spec, params, points=8):
    """(derive+compile seconds, seconds per solved point, converged points) of ``spec``."""
    t = time.perf_counter()
    model = replica.load_model(spec)
    c = replica.derive(model).compile(cache=False)
    build = time.perf_counter() - t
    names = set(c.parameter_names)
    grid = {k: v for k, v in {**model.defaults, **params}.items() if k in names}
    grid["alpha"] = np.linspace(0.8, 1.2, points) * grid["alpha"]
    t = time.perf_counter()
    sol = solve(c, grid, init="uninformed")
    ok = int(np.sum(sol.converged))
    return build, (time.perf_counter() - t) / points, ok


def main(names):
    base = {}
    print("| model | built-in | derive+compile s | ratio | solve ms/point | ratio | converged |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        builtin, params = CASES[name]
        if builtin not in base:
            base[builtin] = timed(builtin, {k: v for k, v in params.items() if k == "alpha"})
        b0, s0, _ = base[builtin]
        b1, s1, ok = timed(str(MODELS / f"{name}.py"), params)
        print(f"| {name} | {builtin} | {b1:.1f} | {b1 / b0:.1f}x | {1e3 * s1:.1f} | {s1 / s0:.1f}x | {ok}/8 |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
