"""Finite-N trend of the aging correlation C(t_w + τ, t_w) of gradient flow in the spiked
matrix-tensor model against the DMFT (derivations/gallery/dynamics.md, spiked-aging.png): does the
gap between N = 150 points and the N → ∞ lines at τ ≈ 2–6 shrink with N?

Simulation: sims.spiked.run_spiked_groups (tangent-space Heun, step ``--dt``; per group one noise
draw shared by ``--signals`` signals, each with its antithetic twin; the unit of the statistics is
the group mean; seed ``--seed`` + 1000·N, so no instance is shared between sizes).  Theory: the
DMFT at h and h/2 and the Richardson value (4 C_{h/2} − C_h)/3 (second-order scheme).  Printed
per (t_w, τ): mean ± standard error per size, the weighted least-squares intercepts in 1/N and
1/√N with their χ², the DMFT, and (simulation − DMFT)/se per size.

    python benchmarks/aging_dynamics.py [--delta2 1.5] [--deltap 1] [--sizes 100,200,400]
        [--groups 4,4,4] [--signals 8] [--tws 1,2,4,8] [--taus 1,2,4,8] [--dt 0.1] [--h 0.05] [--seed 808]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from replica.dynamics.dmft import integrate_dmft
from sims.spiked import run_spiked_groups

from finite_n_spiked import fit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delta2", type=float, default=1.5)
    ap.add_argument("--deltap", type=float, default=1.0)
    ap.add_argument("--m0", type=float, default=0.0)
    ap.add_argument("--sizes", default="100,200,400")
    ap.add_argument("--groups", default="4,4,4")
    ap.add_argument("--signals", type=int, default=8)
    ap.add_argument("--tws", default="1,2,4,8")
    ap.add_argument("--taus", default="1,2,4,8")
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--h", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=808)
    ap.add_argument("--save", help="write the group means of C at the records (every integer time and the "
                                   "(t_w, t_w + τ)) per size to this .npz")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sizes = [int(x) for x in a.sizes.split(",")]
    groups = [int(x) for x in a.groups.split(",")]
    tws = [float(x) for x in a.tws.split(",")]
    taus = [float(x) for x in a.taus.split(",")]
    t_max = max(tws) + max(taus)
    times = np.array(sorted(set(np.arange(0.0, math.floor(t_max) + 1)) | set(tws) | {tw + tau for tw in tws
                                                                                       for tau in taus}))
    index = {round(t, 9): i for i, t in enumerate(times)}
    th = []
    for hh in (a.h, a.h / 2):
        d = integrate_dmft(3, a.delta2, a.deltap, 0.0, m0=a.m0, t_max=t_max, h=hh)
        th.append({(tw, tau): d.C[int(round((tw + tau) / hh)), int(round(tw / hh))] for tw in tws for tau in taus})
    rich = {k: (4 * th[1][k] - th[0][k]) / 3 for k in th[0]}
    print(f"gradient flow, p = 3, delta2 = {a.delta2}, deltap = {a.deltap}, m(0) = {a.m0}, dt = {a.dt}, "
          f"units: groups of {a.signals} signals x 2 (antithetic)")
    data = {}
    for n, g in zip(sizes, groups):
        t0 = time.perf_counter()
        r = run_spiked_groups(n, g, a.signals, delta2=a.delta2, deltap=a.deltap, m0=a.m0, t_max=t_max, dt=a.dt,
                              records=times, seed=a.seed + 1000 * n)
        k = r.params["group"]
        data[n] = r.C.reshape(g, k, len(times), len(times)).mean(1)          # group means (g, R, R)
        print(f"  (N = {n}: {g} groups, {time.perf_counter() - t0:.0f} s)", flush=True)
        if a.save:
            np.savez(a.save, times=times, **{f"C_{m}": v for m, v in data.items()})
    print("  t_w   tau" + "".join(f"{'N=' + str(n):>17}" for n in data)
          + (f"{'fit 1/N (chi2)':>24}{'fit 1/sqrtN (chi2)':>24}" if len(data) > 1 else "")
          + f"{'DMFT h':>10}{'h/2':>10}{'Richardson':>11}" + "".join(f"{'z N=' + str(n):>9}" for n in data))
    for tw in tws:
        for tau in taus:
            i, j = index[round(tw + tau, 9)], index[round(tw, 9)]
            v = {n: c[:, i, j] for n, c in data.items()}
            mu = np.array([x.mean() for x in v.values()])
            se = np.array([x.std(ddof=1) / math.sqrt(len(x)) for x in v.values()])
            fits = ""
            if len(data) > 1:
                for power in (1.0, 0.5):
                    x0, e0, _, chi2 = fit(list(data), mu, se, power)
                    fits += f"{x0:>12.4f} ± {e0:.4f} ({chi2:4.1f})"
            r0 = rich[(tw, tau)]
            print(f"{tw:5g} {tau:5g}" + "".join(f"{m:>9.4f} ± {e:.4f}" for m, e in zip(mu, se)) + fits
                  + f"{th[0][(tw, tau)]:10.4f}{th[1][(tw, tau)]:10.4f}{r0:11.4f}"
                  + "".join(f"{(m - r0) / e:9.1f}" for m, e in zip(mu, se)))


if __name__ == "__main__":
    main()
