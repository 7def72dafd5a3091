"""Derive+compile time and per-point solve time of the issue-11B models (tests/generic_models/b_*.py)
against built-ins of the same shape, in one run (ratios; absolute times depend on the machine).

    REPLICA_CACHE_DIR=$(mktemp -d) python benchmarks/bench_generic_b.py
"""
import time
from pathlib import Path

import numpy as np

import replica
from replica.solve import solve

MODELS = Path(__file__).resolve().parent.parent / "tests" / "generic_models"
CASES = [  # (model, built-in of the same shape, parameters)
    ("b_lad.py", "ridge", {"alpha": 2.0, "delta": 0.5, "lam": 0.1}),
    ("b_logcosh.py", "ridge", {"alpha": 2.0, "delta": 0.5, "lam": 0.1}),
    ("b_huber.py", "ridge", {"alpha": 2.0, "delta": 0.5, "lam": 0.1}),
    ("b_kinked_logcosh.py", "ridge", {"alpha": 2.0, "delta": 0.5, "lam": 0.1}),
    ("b_sbp.py", "ising-storage", {"alpha": 0.5, "kappa": 0.8}),
    ("b_door.py", "perceptron-bayes", {"alpha": 2.0, "kappa": 0.8}),
    ("b_gibbs.py", "perceptron-gibbs", {"alpha": 2.0, "T": 0.5}),
]


def timed(spec, params, points=16):
    t = time.perf_counter()
    c = replica.derive(spec).compile(cache=False)
    build = time.perf_counter() - t
    names = set(c.parameter_names)
    grid = {k: (np.full(points, v) if k == "alpha" else v) for k, v in params.items() if k in names}
    grid["alpha"] = np.linspace(0.8, 1.2, points) * params["alpha"]
    t = time.perf_counter()
    solve(c, grid, init="uninformed")
    return build, (time.perf_counter() - t) / points


for model, builtin, params in CASES:
    b1, s1 = timed(str(MODELS / model), params)
    b0, s0 = timed(builtin, {k: v for k, v in params.items() if k == "alpha"})
    print(f"{model:14s} derive+compile {b1:7.2f} s ({b1 / b0:5.1f}x {builtin})   "
          f"solve/point {1e3 * s1:7.2f} ms ({s1 / s0:5.1f}x)", flush=True)
