"""Cost of the dynamics: the DMFT two-time grid against the horizon, and the spiked matrix-tensor
simulation against N.

* DMFT (replica.dynamics.dmft.integrate_dmft, fixed step h): n = t_max/h rows, each needing memory
  integrals over the O(n²) grid filled so far, so the time grows like t_max³ (memory like t_max²);
  printed: seconds and the ratio to the shortest horizon, next to (t/t₀)² and (t/t₀)³.
* Simulation (sims.spiked.run_spiked, p = 3, fixed number of steps): each gradient contracts the
  N³ noise tensor, so the time per step grows like N³ (memory-bandwidth bound on a CPU); printed:
  seconds per step and the ratio to the smallest N next to (N/N₀)³.

    python benchmarks/bench_dynamics.py [--horizons 20,40,80] [--h 0.1] [--sizes 50,100,150] [--seeds 4]
                                        [--steps 10] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import time

import torch

from replica.dynamics.dmft import integrate_dmft
from sims.spiked import run_spiked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizons", default="20,40,80")
    ap.add_argument("--h", type=float, default=0.1)
    ap.add_argument("--sizes", default="50,100,150")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(1)
    hs = [float(x) for x in a.horizons.split(",")]
    base = None
    print(f"DMFT, p = 3, delta2 = 0.7, deltap = 1, h = {a.h}")
    for t in hs:
        t0 = time.perf_counter()
        integrate_dmft(3, 0.7, 1.0, 0.0, m0=1e-3, t_max=t, h=a.h)
        dt = time.perf_counter() - t0
        base = base or (t, dt)
        r = t / base[0]
        print(f"  t_max = {t:7.1f}  n = {int(round(t / a.h)):6d}  {dt:8.3f} s  ratio {dt / base[1]:7.2f}"
              f"   (t/t0)^2 = {r * r:6.1f}  (t/t0)^3 = {r ** 3:6.1f}")
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
