"""The 20,000-point sweep of the solver issue, through the command line, against the per-point
quad baseline — both in this one command.

    replica solve ising-bayes --sweep alpha=0.5:1.2:20000 --set flip=0 --init uninformed --json

is run as a subprocess (wall time including start-up, the cached-module load, the solve and the
JSON output); the baseline (benchmarks/baseline_quad.py: scipy.integrate.quad in a damped loop,
one point at a time) solves a sample of the same grid's points in this process.  Prints the
time per point of each, the ratio, and the largest |q - q_baseline| on the sampled points; then
the same ratio in CPU time (user + system: less sensitive to the load of a shared machine).

The command runs with its default quadrature (``--rule auto``: 96-node Gauss-Hermite, then
400-node composite Gauss-Legendre, then the acceptance check with the feature-adapted rule):
what a user gets.  (Passing ``--nodes 96`` makes the Legendre stage 12 panels of width 2 on
[-12, 12]: its fixed point is off by ~6e-7 in q — the 5.8e-7 disagreement measured before —
and the acceptance check then rejects about half of the points, rightly.)

    python benchmarks/bench_cli_sweep.py [N_POINTS] [N_BASELINE]
"""
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import baseline_quad  # noqa: E402


def main(n=20000, n_base=12):
    grid = np.linspace(0.5, 1.2, n)
    pick = np.linspace(0, n - 1, n_base).round().astype(int)
    t, c = time.perf_counter(), time.process_time()
    base = baseline_quad.sweep(grid[pick])
    t_base = (time.perf_counter() - t) / n_base
    c_base = (time.process_time() - c) / n_base

    cmd = [sys.executable, "-m", "replica", "solve", "ising-bayes", "--sweep", f"alpha=0.5:1.2:{n}",
           "--set", "flip=0", "--init", "uninformed", "--json"]
    # the compiled module is cached on disk after the first use: time the warm command
    subprocess.run(cmd[:5] + ["--set", "alpha=1"], check=True, capture_output=True)
    t, c = time.perf_counter(), _children_cpu()
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    t_cli = (time.perf_counter() - t) / n
    c_cli = (_children_cpu() - c) / n
    pts = json.loads(r.stdout)["points"]
    assert len(pts) == n and all(p["converged"] for p in pts), "some points did not converge"
    diff = max(abs(pts[i]["q"] - b["q"]) for i, b in zip(pick, base))
    print(" ".join(cmd[1:]))
    print(f"baseline (quad, per point): {1e3 * t_base:8.2f} ms/point  ({n_base} points)")
    print(f"replica solve --json:       {1e6 * t_cli:8.1f} us/point  ({n} points, one command, wall time)")
    print(f"ratio: {t_base / t_cli:8.1f}x   max |q - q_baseline| = {diff:.1e}")
    # CPU time (user + system) of the baseline and of the command: on a shared, loaded machine
    # wall time depends on what else runs; CPU time much less
    print(f"CPU time: baseline {1e3 * c_base:8.2f} ms/point, command {1e6 * c_cli:8.1f} us/point, "
          f"ratio {c_base / c_cli:8.1f}x")


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
