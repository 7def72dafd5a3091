"""Finite-N trend of m(t) in gradient flow of the spiked matrix-tensor model against the DMFT
(the N → ∞ theory): is a disagreement at N = 200 a finite-size effect?

Simulation: sims.spiked.run_spiked (tangent-space Heun, second order in dt) in chunks of at most
``--chunk`` instances; the instances of every size and chunk are independent draws (seed
``--seed`` + 1000·N + chunk: no instance is shared between sizes or between runs of this script
with different sizes).  With ``--antithetic`` each instance also runs with its noise negated
(run_spiked(antithetic=True): the same law) and the unit of the statistics is the pair mean, an
unbiased estimate of E m(t) from which the part odd in the noise cancels.  Printed per size: mean ±
standard error over the units (pairs or instances); then the least-squares intercepts in 1/N and
N^(−2/3) when there are several sizes, the inverse-variance pooled mean over the sizes with its
standard error, and its distance to the DMFT in standard errors.

Theory: the DMFT at h, h/2, h/4 (``--h``) and its Richardson extrapolation (4 m_{h/4} − m_{h/2})/3
(second-order scheme), so the step error of the theory is printed next to it.

    python benchmarks/finite_n_spiked.py [--delta2 0.9] [--deltap 1] [--m0 0.2] [--sizes 100,200]
        [--seeds 32,16] [--times 1,2] [--dt 0.05] [--antithetic] [--chunk 8] [--seed 7] [--no-tensor]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from replica.dynamics.dmft import integrate_dmft
from sims.spiked import run_spiked


def dmft_table(delta2, deltap, m0, times, h):
    """m(times) of the DMFT at steps h, h/2, h/4 and the Richardson value (4 m_{h/4} − m_{h/2})/3."""
    rows = []
    for hh in (h, h / 2, h / 4):
        d = integrate_dmft(3, delta2, deltap, 0.0, m0=m0, t_max=times[-1], h=hh)
        rows.append(d.m[np.round(times / hh).astype(int)])
    return rows + [(4 * rows[2] - rows[1]) / 3]


def units(n, count, a, times):
    """(count, len(times)) values of m: instances, or antithetic pair means."""
    out = []
    for c in range(math.ceil(count / a.chunk)):
        s = min(a.chunk, count - c * a.chunk)
        kw = dict(delta2=a.delta2, deltap=a.deltap, T=0.0, m0=a.m0, t_max=times[-1], dt=a.dt, records=times,
                  seed=a.seed + 1000 * n + c, tensor=not a.no_tensor)
        m = run_spiked(n, s, **kw).m
        if a.antithetic:
            m = 0.5 * (m + run_spiked(n, s, antithetic=True, **kw).m)
        out.append(m)
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delta2", type=float, default=0.9)
    ap.add_argument("--deltap", type=float, default=1.0)
    ap.add_argument("--m0", type=float, default=0.2)
    ap.add_argument("--sizes", default="100,200")
    ap.add_argument("--seeds", default="32,16", help="instances (pairs with --antithetic) per size")
    ap.add_argument("--times", default="1,2")
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--h", type=float, default=0.025, help="DMFT step (also h/2, h/4)")
    ap.add_argument("--antithetic", action="store_true")
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-tensor", action="store_true", help="the spiked matrix alone (deltap = infinity)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sizes = [int(x) for x in a.sizes.split(",")]
    seeds = [int(x) for x in a.seeds.split(",")]
    times = np.array([0.0] + [float(x) for x in a.times.split(",")])
    deltap = 1e12 if a.no_tensor else a.deltap
    th = dmft_table(a.delta2, deltap, a.m0, times, a.h)
    print(f"gradient flow, p = 3, delta2 = {a.delta2}, deltap = {'inf' if a.no_tensor else a.deltap}, "
          f"m(0) = {a.m0}, dt = {a.dt}, {'antithetic pairs' if a.antithetic else 'instances'}")
    stats = []
    for n, s in zip(sizes, seeds):
        t0 = time.perf_counter()
        v = units(n, s, a, times)
        stats.append((v.mean(0), v.std(0, ddof=1) / math.sqrt(len(v)), v.std(0, ddof=1)))
        print(f"  (N = {n}: {s} {'pairs' if a.antithetic else 'instances'}, {time.perf_counter() - t0:.0f} s)",
              flush=True)
    print("t".rjust(5) + "".join(f"{'N=' + str(n) + f' ({s})':>19}{'sd':>7}" for n, s in zip(sizes, seeds))
          + f"{'pooled':>17}{'fit 1/N':>9}{'fit N^-2/3':>11}"
          + "".join(f"{'DMFT h=' + format(hh, 'g'):>16}" for hh in (a.h, a.h / 2, a.h / 4)) + f"{'Richardson':>11}"
          + f"{'(pooled-DMFT)/se':>18}")
    for j, t in enumerate(times[1:], 1):
        m = np.array([mu[j] for mu, _, _ in stats])
        se = np.array([e[j] for _, e, _ in stats])
        w = 1 / se**2
        pooled, pooled_se = float((w * m).sum() / w.sum()), float(1 / math.sqrt(w.sum()))
        row = "".join(f"{mu[j]:>10.4f} ± {e[j]:<6.4f}{sd[j]:7.3f}" for mu, e, sd in stats)
        fits = ""
        if len(sizes) > 1:
            for x in (1.0 / np.array(sizes), np.array(sizes, float) ** (-2 / 3)):
                X = np.stack([np.ones_like(x), x], 1)
                fits += f"{np.linalg.lstsq(X, m, rcond=None)[0][0]:>{9 if not fits else 11}.4f}"
        else:
            fits = f"{'':>9}{'':>11}"
        print(f"{t:5.1f}{row}{pooled:>10.4f} ± {pooled_se:<5.4f}{fits}"
              + "".join(f"{r[j]:16.6f}" for r in th[:3]) + f"{th[3][j]:11.6f}"
              + f"{(pooled - th[3][j]) / pooled_se:18.2f}")


if __name__ == "__main__":
    main()
