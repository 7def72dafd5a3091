"""Generated vectorized solver against the per-point quad baseline, same process.

The Bayes-optimal binary perceptron (ising-bayes, flip = 0) on alpha in [0.5, 1.2]: the
baseline (benchmarks/baseline_quad.py: scipy.integrate.quad inside a damped loop, one point at
a time) on a few points; the generated solver on the whole sweep in one vectorized call.
Prints the time per point of each, their ratio, and the largest |q - q_baseline| on the
baseline's points.

    python benchmarks/bench_sweep.py [N_POINTS] [NODES]
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import baseline_quad  # noqa: E402

import replica  # noqa: E402
from replica.solve import solve  # noqa: E402


def main(n=20000, nodes=96):
    base_alphas = np.linspace(0.5, 1.2, 12)
    t = time.perf_counter()
    base = baseline_quad.sweep(base_alphas)
    t_base = (time.perf_counter() - t) / len(base_alphas)

    c = replica.derive("ising-bayes").compile()
    alphas = np.linspace(0.5, 1.2, n)
    t = time.perf_counter()
    sol = solve(c, {"alpha": alphas, "flip": 0.0}, init="uninformed", nodes=nodes)
    t_gen = (time.perf_counter() - t) / n
    assert sol.converged.all(), "some points did not converge"

    check = solve(c, {"alpha": base_alphas, "flip": 0.0}, init="uninformed", nodes=nodes)
    diff = max(abs(float(q) - b["q"]) for q, b in zip(check.values["q"], base))
    print(f"baseline (quad, per point): {1e3 * t_base:8.2f} ms/point  ({len(base_alphas)} points)")
    print(f"generated ({nodes} GH nodes): {1e6 * t_gen:8.1f} us/point  ({n} points, one call)")
    print(f"ratio: {t_base / t_gen:8.1f}x   max |q - q_baseline| = {diff:.1e}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
