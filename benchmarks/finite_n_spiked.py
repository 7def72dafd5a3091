"""Finite-N trend of m(t) in gradient flow of the spiked matrix-tensor model against the DMFT
(the N → ∞ theory): is a disagreement at N = 200 a finite-size effect?

For each N the torch simulation (sims.spiked.run_spiked, stochastic Heun, dt) gives the mean ±
standard error of m(t) over instances at the record times; the DMFT (step h) gives the
N = ∞ curve; the last columns fit m_N(t) = a + b/N and a + b/N^(2/3) (the spike's outlier
fluctuates by N^(−2/3) at the edge of the semicircle) over the sizes and print the intercept.

    python benchmarks/finite_n_spiked.py [--delta2 0.9] [--deltap 1] [--m0 0.2] [--sizes 100,200,400]
                                         [--seeds 8,8,3] [--times 1,2,4,8] [--dt 0.1] [--no-tensor]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from replica.dynamics.dmft import integrate_dmft
from sims.spiked import run_spiked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delta2", type=float, default=0.9)
    ap.add_argument("--deltap", type=float, default=1.0)
    ap.add_argument("--m0", type=float, default=0.2)
    ap.add_argument("--sizes", default="100,200,400")
    ap.add_argument("--seeds", default="8,8,3")
    ap.add_argument("--times", default="1,2,4,8")
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--no-tensor", action="store_true", help="the spiked matrix alone (deltap = infinity)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sizes = [int(x) for x in a.sizes.split(",")]
    seeds = [int(x) for x in a.seeds.split(",")]
    times = np.array([0.0] + [float(x) for x in a.times.split(",")])
    h = 0.025
    deltap = 1e12 if a.no_tensor else a.deltap
    d = integrate_dmft(3, a.delta2, deltap, 0.0, m0=a.m0, t_max=times[-1], h=h)
    theory = d.m[np.round(times / h).astype(int)]
    print(f"gradient flow, p = 3, delta2 = {a.delta2}, deltap = {'inf' if a.no_tensor else a.deltap}, "
          f"m(0) = {a.m0}, dt = {a.dt}")
    print("t".rjust(6) + "".join(f"{'N=' + str(n) + f' ({s})':>20}" for n, s in zip(sizes, seeds))
          + f"{'fit 1/N':>10}{'fit N^-2/3':>12}{'DMFT':>9}")
    means = []
    for n, s in zip(sizes, seeds):
        t0 = time.perf_counter()
        r = run_spiked(n, s, delta2=a.delta2, deltap=a.deltap, T=0.0, m0=a.m0, t_max=times[-1], dt=a.dt,
                       records=times, seed=7, tensor=not a.no_tensor)
        means.append(r.stats("m"))
        print(f"  (N = {n}: {time.perf_counter() - t0:.0f} s)", flush=True)
    for j, t in enumerate(times[1:], 1):
        m = np.array([mu[j] for mu, _ in means])
        row = "".join(f"{mu[j]:>11.4f} ± {se[j]:<6.4f}" for mu, se in means)
        fits = []
        for x in (1.0 / np.array(sizes), np.array(sizes, float) ** (-2 / 3)):
            X = np.stack([np.ones_like(x), x], 1)
            fits.append(np.linalg.lstsq(X, m, rcond=None)[0][0])
        print(f"{t:6.1f}{row}{fits[0]:10.4f}{fits[1]:12.4f}{theory[j]:9.4f}")


if __name__ == "__main__":
    main()
