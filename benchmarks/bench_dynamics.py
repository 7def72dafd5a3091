"""Cost of the dynamics: the DMFT two-time grid against the horizon, and the spiked matrix-tensor
simulation against N.

* DMFT (replica.dynamics.dmft.integrate_dmft, fixed step h): the grid holds n² values of C and R
  (memory ∝ t_max²), and each value C(t_i, t_j) needs its own memory integral over s ∈ [0, t_i]
  (O(n) terms), so the work is Θ(n³) ∝ t_max³ — for every scheme that integrates the two-time
  equations directly on a uniform grid (row i costs three matrix–vector products of size i, no
  loop beyond that; the t² of "two-time functions" is their storage, not the work).  Printed:
  seconds, the ratio to the shortest horizon next to (t/t₀)² and (t/t₀)³, and the local exponent
  log(time ratio)/log(horizon ratio) between consecutive horizons (→ 3 once the O(n²) per-row
  vector work and the O(n) Python overhead are negligible against the O(n³) products).
* Simulation (sims.spiked.run_spiked, p = 3, fixed number of steps): each gradient contracts the
  N³ noise tensor, so the time per step grows like N³ (memory-bandwidth bound on a CPU); printed:
  seconds per step and the ratio to the smallest N next to (N/N₀)³.

    python benchmarks/bench_dynamics.py [--horizons 20,40,80] [--h 0.1] [--sizes 50,100,150] [--seeds 4]
                                        [--steps 10] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import math
import time

import torch

from replica.dynamics.dmft import integrate_dmft
from sims.spiked import run_spiked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizons", default="20,40,80,160")
    ap.add_argument("--h", type=float, default=0.1)
    ap.add_argument("--sizes", default="50,100,150")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(1)
    hs = [float(x) for x in a.horizons.split(",")]
    base = prev = None
    print(f"DMFT, p = 3, delta2 = 0.7, deltap = 1, h = {a.h}")
    for t in hs:
        t0 = time.perf_counter()
        integrate_dmft(3, 0.7, 1.0, 0.0, m0=1e-3, t_max=t, h=a.h)
        dt = time.perf_counter() - t0
        base = base or (t, dt)
        r = t / base[0]
        local = "" if prev is None else f"   local exponent {math.log(dt / prev[1]) / math.log(t / prev[0]):5.2f}"
        prev = (t, dt)
        print(f"  t_max = {t:7.1f}  n = {int(round(t / a.h)):6d}  {dt:8.3f} s  ratio {dt / base[1]:7.2f}"
              f"   (t/t0)^2 = {r * r:6.1f}  (t/t0)^3 = {r ** 3:6.1f}{local}")
    base = None
    print(f"simulation, p = 3, {a.seeds} seeds, {a.steps} Heun steps, device {a.device}")
    for n in (int(x) for x in a.sizes.split(",")):
        cost = []
        for k in (a.steps, 2 * a.steps):           # the difference removes the set-up (drawing the N^3 tensor)
            t0 = time.perf_counter()
            run_spiked(n, a.seeds, t_max=k * 0.1, dt=0.1, records=2, device=a.device)
            cost.append(time.perf_counter() - t0)
        dt = max(cost[1] - cost[0], 1e-9) / a.steps
        base = base or (n, dt)
        r = n / base[0]
        print(f"  N = {n:5d}  {dt * 1e3:9.2f} ms/step  ratio {dt / base[1]:7.2f}   (N/N0)^3 = {r ** 3:6.1f}")


if __name__ == "__main__":
    main()
