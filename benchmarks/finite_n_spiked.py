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
from sims.spiked import run_spiked, run_spiked_groups


def dmft_table(delta2, deltap, m0, times, h, name="m"):
    """``name`` (m or energy) of the DMFT at the times, at steps h, h/2, h/4, and the Richardson
    value (4 x_{h/4} − x_{h/2})/3."""
    rows = []
    for hh in (h, h / 2, h / 4):
        d = integrate_dmft(3, delta2, deltap, 0.0, m0=m0, t_max=times[-1], h=hh)
        rows.append(getattr(d, name)[np.round(times / hh).astype(int)])
    return rows + [(4 * rows[2] - rows[1]) / 3]


def fit(sizes, values, errors, power):
    """Weighted least squares x(N) = x∞ + a N^(−power): (x∞, its standard error, a, χ²)."""
    X = np.stack([np.ones(len(sizes)), np.asarray(sizes, float) ** (-power)], 1)
    w = 1 / np.asarray(errors) ** 2
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * values)
    return beta[0], math.sqrt(cov[0, 0]), beta[1], float((w * (values - X @ beta) ** 2).sum())


def units(n, count, a, times):
    """{"m", "energy"}: (count, len(times)) values — instances, antithetic pair means, or with
    ``--signals J`` the means of run_spiked_groups' groups (one noise, J signals, each with its
    antithetic twin), then also "C": the group means of C(t, t') (count, R, R)."""
    if a.signals:
        r = run_spiked_groups(n, count, a.signals, delta2=a.delta2, deltap=a.deltap, m0=a.m0, t_max=times[-1],
                              dt=a.dt, records=times, seed=a.seed + 1000 * n,
                              tensor_dtype=torch.float64 if a.float64 else torch.float32)
        k = r.params["group"]
        return {"m": r.units("m"), "energy": r.units("energy"),
                "C": r.C.reshape(count, k, len(times), len(times)).mean(1)}
    out = {"m": [], "energy": []}
    for c in range(math.ceil(count / a.chunk)):
        s = min(a.chunk, count - c * a.chunk)
        kw = dict(delta2=a.delta2, deltap=a.deltap, T=0.0, m0=a.m0, t_max=times[-1], dt=a.dt, records=times,
                  seed=a.seed + 1000 * n + c, tensor=not a.no_tensor)
        r = run_spiked(n, s, **kw)
        twin = run_spiked(n, s, antithetic=True, **kw) if a.antithetic else r
        for k in out:
            out[k].append(0.5 * (getattr(r, k) + getattr(twin, k)))
    return {k: np.concatenate(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delta2", type=float, default=0.9)
    ap.add_argument("--deltap", type=float, default=1.0)
    ap.add_argument("--m0", type=float, default=0.2)
    ap.add_argument("--sizes", default="100,200")
    ap.add_argument("--seeds", default="32,16", help="instances (pairs with --antithetic, groups with --signals)")
    ap.add_argument("--times", default="1,2")
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--h", type=float, default=0.025, help="DMFT step (also h/2, h/4)")
    ap.add_argument("--antithetic", action="store_true")
    ap.add_argument("--signals", type=int, default=0,
                    help="run_spiked_groups: J signals per noise draw, each with its antithetic twin")
    ap.add_argument("--float64", action="store_true", help="with --signals: the tensor in float64")
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-tensor", action="store_true", help="the spiked matrix alone (deltap = infinity)")
    ap.add_argument("--save", help="write the units (per size, per observable) to this .npz")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sizes = [int(x) for x in a.sizes.split(",")]
    seeds = [int(x) for x in a.seeds.split(",")]
    times = np.array([0.0] + [float(x) for x in a.times.split(",")])
    deltap = 1e12 if a.no_tensor else a.deltap
    unit = (f"groups of {a.signals} signals x 2 (antithetic)" if a.signals else
            "antithetic pairs" if a.antithetic else "instances")
    print(f"gradient flow, p = 3, delta2 = {a.delta2}, deltap = {'inf' if a.no_tensor else a.deltap}, "
          f"m(0) = {a.m0}, dt = {a.dt}, units: {unit}")
    data = []
    for n, s in zip(sizes, seeds):
        t0 = time.perf_counter()
        data.append(units(n, s, a, times))
        print(f"  (N = {n}: {s} units, {time.perf_counter() - t0:.0f} s)", flush=True)
        if a.save:                                          # after every size: partial results survive
            np.savez(a.save, times=times, sizes=sizes[:len(data)],
                     **{f"{k}_{n}": d[k] for n, d in zip(sizes, data) for k in d})
    for name in ("m", "energy"):
        th = dmft_table(a.delta2, deltap, a.m0, times, a.h, name)
        stats = [(d[name].mean(0), d[name].std(0, ddof=1) / math.sqrt(len(d[name])), d[name].std(0, ddof=1))
                 for d in data]
        print(f"{name}:\n" + "t".rjust(5) + "".join(f"{'N=' + str(n) + f' ({s})':>19}{'sd':>7}"
                                                  for n, s in zip(sizes, seeds))
              + f"{'pooled':>17}" + (f"{'fit 1/N (chi2)':>24}{'fit 1/sqrtN (chi2)':>24}" if len(sizes) > 1 else "")
              + "".join(f"{'DMFT h=' + format(hh, 'g'):>16}" for hh in (a.h, a.h / 2, a.h / 4))
              + f"{'Richardson':>11}{'(pooled-DMFT)/se':>18}")
        for j, t in enumerate(times[1:], 1):
            x = np.array([mu[j] for mu, _, _ in stats])
            se = np.array([e[j] for _, e, _ in stats])
            w = 1 / se**2
            pooled, pooled_se = float((w * x).sum() / w.sum()), float(1 / math.sqrt(w.sum()))
            row = "".join(f"{mu[j]:>10.4f} ± {e[j]:<6.4f}{sd[j]:7.3f}" for mu, e, sd in stats)
            fits = ""
            if len(sizes) > 1:
                for power in (1.0, 0.5):
                    x0, e0, _, chi2 = fit(sizes, x, se, power)
                    fits += f"{x0:>12.4f} ± {e0:.4f} ({chi2:4.1f})"
            print(f"{t:5.1f}{row}{pooled:>10.4f} ± {pooled_se:<5.4f}{fits}"
                  + "".join(f"{r[j]:16.6f}" for r in th[:3]) + f"{th[3][j]:11.6f}"
                  + f"{(pooled - th[3][j]) / pooled_se:18.2f}")


if __name__ == "__main__":
    main()
