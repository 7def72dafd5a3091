"""Phase diagram of the Bayes-optimal binary perceptron with label noise (ising-bayes) on an
N x N grid, in this process and on a local Dask cluster of 2 workers, against the per-point
quad baseline (benchmarks/baseline_quad.py: scipy.integrate.quad inside a damped loop, the
uninformed start only) timed on a sample of the same grid points, in the same process.

The phase diagram does more per point than the baseline: two starts (uninformed, informed),
the equilibrium, and the transition lines (first-order and spinodal bracketed on the grid's own
branch data and located by root finding along x at every row, all rows' searches advanced
together — ``replica.phase.gridlines`` —, plus rows inserted to follow them).  Printed: seconds
in all, time per grid point, the baseline's time per point, and their ratios (the goal: the
whole diagram in at most 1000 baseline points' time, i.e. a ratio >= N*N/1000 = 10 at N = 100);
the lines' largest difference between the two runs; |q - q_baseline| on the sample.

    python benchmarks/bench_phase.py [N] [SAMPLE] [DASK]      (DASK=0: in process only)
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import baseline_quad  # noqa: E402

from replica.phase import lines, phase_diagram  # noqa: E402
from replica.codegen.compiled import load_compiled  # noqa: E402


def main(n=100, sample=6, dask=1):
    alphas, flips = np.linspace(0.8, 2.5, n), np.linspace(0.0, 0.1, n)
    load_compiled("ising-bayes")                       # derivation out of the timings
    rng = np.random.default_rng(0)
    pts = [(alphas[i], flips[j]) for i, j in zip(rng.integers(0, n, sample), rng.integers(0, n, sample))]
    t = time.perf_counter()
    base = [baseline_quad.solve_point(a, flip=f) for a, f in pts]
    t_base = (time.perf_counter() - t) / sample
    # the reference baseline: the same solver on the sweep of bench_cli_sweep (alpha in
    # [0.5, 1.2], flip = 0), where quad is fast (the diagram's sample holds points near q -> 1,
    # where it is slow: both ratios are printed)
    t, c = time.perf_counter(), time.process_time()
    baseline_quad.sweep(np.linspace(0.5, 1.2, sample))
    t_sweep = (time.perf_counter() - t) / sample
    c_sweep = (time.process_time() - c) / sample

    runs, cpu = {}, {}
    for label, kw in (("in process", {}), ("dask, 2 workers", {"workers": 2}))[:2 if dask else 1]:
        t, c = time.perf_counter(), time.process_time()
        ds = phase_diagram("ising-bayes", ("alpha", alphas), ("flip", flips), **kw)
        runs[label] = (time.perf_counter() - t, ds)
        cpu[label] = time.process_time() - c

    ds = runs["in process"][1]
    uni = ds.sel(branch="uninformed")
    dq = max(abs(float(uni["q"].sel(alpha=a, flip=f)) - b["q"]) for (a, f), b in zip(pts, base)
             if b["converged"] and uni["label"].sel(alpha=a, flip=f) == "uninformed")
    la = lines(runs["in process"][1])
    lb = lines(runs["dask, 2 workers"][1]) if dask else la
    same = [(l["kind"], l["y"]) for l in la] == [(l["kind"], l["y"]) for l in lb]
    dline = max((float(np.max(np.abs(np.subtract(a["x"], b["x"])))) for a, b in zip(la, lb)), default=0.0)
    print(f"grid {n} x {n} = {n * n} points, alpha in [0.8, 2.5], flip in [0, 0.1]; "
          f"{sum(len(l['x']) for l in la)} line points in {len(la)} lines")
    print(f"baseline (quad, per point, uninformed start only): {1e3 * t_base:9.2f} ms/point  ({sample} points of the grid)")
    print(f"baseline on the bench_cli_sweep grid (alpha 0.5-1.2, flip 0): {1e3 * t_sweep:9.2f} ms/point")
    for label, (secs, _) in runs.items():
        per = secs / (n * n)
        print(f"phase diagram, {label:>15}: {secs:7.1f} s = {1e3 * per:7.3f} ms/point   "
              f"ratio to baseline {t_base / per:7.1f}x;  whole diagram = {secs / t_base:7.0f} baseline points "
              f"of the grid = {secs / t_sweep:7.0f} baseline points of the sweep (goal <= 1000)")
    # CPU time of this process (the in-process run; Dask's workers are other processes): on a
    # shared, loaded machine less sensitive to the load than wall time
    print(f"CPU time: phase diagram in process {cpu['in process']:7.1f} s, baseline on the sweep grid "
          f"{1e3 * c_sweep:9.2f} ms/point: whole diagram = {cpu['in process'] / c_sweep:7.0f} baseline points")
    if dask:
        print(f"in process / dask time ratio: {runs['in process'][0] / runs['dask, 2 workers'][0]:.2f}")
        print(f"lines identical in kind and rows: {same}; max |x_inproc - x_dask| = {dline:.1e}")
    print(f"max |q - q_baseline| on the sample (uninformed branch): {dq:.1e}")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
