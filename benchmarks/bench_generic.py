"""Generic priors and real-label channels (issue 11, part A): derive+compile time and per-point
solve time of the model files in tests/generic_models/ against the built-in of the same shape
(``linear-bayes``: Gaussian prior, real labels, Bayes-optimal), measured in the same run.  The
label channels (a_relu, a_abs, a_sin: ∫dy Z_out log Z_out by the label quadrature) are in the
default list.

    PYTHONPATH=$PWD python benchmarks/bench_generic.py [a_laplace a_uniform ...]

Prints one line per model: derive+compile seconds, seconds per solved point (uninformed start,
the default 'auto' rule: Gauss-Hermite, then Gauss-Legendre), and both as ratios to the
built-in.  Compilation bypasses the on-disk cache, so the numbers are cold.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import replica
from replica.solve import solve

MODELS = Path(__file__).resolve().parent.parent / "tests" / "generic_models"
DEFAULT = ["a_laplace", "a_uniform", "a_ternary", "a_gauss_bernoulli", "a_relu", "a_abs", "a_sin"]


def measure(model, params):
    t0 = time.perf_counter()
    c = replica.derive(model).compile(cache=False)
    t1 = time.perf_counter()
    grid = {k: np.full(4, v) for k, v in params.items()}
    grid["alpha"] = np.linspace(0.5, 2.0, 4)
    sol = solve(c, grid)
    t2 = time.perf_counter()
    return t1 - t0, (t2 - t1) / 4, sol


def main(names):
    base_build, base_point, _ = measure(replica.load_model("linear-bayes"), {"delta": 0.5})
    print(f"{'linear-bayes':20s} derive+compile {base_build:7.2f} s   solve {base_point:7.3f} s/point   (baseline)")
    for name in names:
        m = replica.load_model(str(MODELS / f"{name}.py"))
        extra = {k: v for k, v in m.defaults.items() if k != "alpha"}
        build, point, sol = measure(m, extra)
        ok = sum(bool(r["converged"]) for r in sol.to_records())
        print(f"{name:20s} derive+compile {build:7.2f} s ({build / base_build:5.1f}x)   "
              f"solve {point:7.3f} s/point ({point / base_point:6.1f}x)   converged {ok}/4")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
