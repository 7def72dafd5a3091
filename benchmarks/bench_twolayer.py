"""Online-SGD throughput of two-layer committees: ``sims.twolayer.run_online_sgd`` (S instances as
one batched torch computation) against a plain NumPy loop over the instances, one at a time, run
in the same process on the same inputs.

Throughput = instances · steps / second (samples digested).  The NumPy baseline is the textbook
loop (Goldt's pyscm does the same): per step λ = W x/√N, δ = g'(λ)(y − Σ g(λ)), W += (η/√N) δ xᵀ.
For timing it draws its inputs with NumPy's default_rng (faster than torch's CPU sampler); a
short cross-check first feeds it the very inputs the torch run draws (sims.data.generator, same
chunks), and the final weights agree to rounding — printed as max|W_torch − W_numpy|.  Recording
is off in both (one record at the end).  Fresh inputs cost S·N Gaussian draws per step, the
same for both: at large N the CPU run is bound by sampling, and batching pays at small N or on a GPU.

    python benchmarks/bench_twolayer.py [--n 500] [--k 2] [--alpha 2] [--seeds 1,8,64] [--device cpu|cuda]
                                        [--threads 1] [--numpy-max-seeds 64]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from scipy.special import erf

from sims.data import generator
from sims.twolayer import _STUDENT, _TRAIN, make_teacher, run_online_sgd

SQRT_2_PI = math.sqrt(2 / math.pi)


def numpy_sgd(teacher_W, K, eta, steps, chunk, init_W, draw):
    """One instance at a time: erf committee, online SGD; ``draw(s, c, N)`` gives instance s's next
    c inputs divided by √N."""
    out = []
    for s, Wt in enumerate(teacher_W):
        N = Wt.shape[1]
        W = init_W[s].copy()
        done = 0
        while done < steps:
            c = min(chunk, steps - done)
            X = draw(s, c, N)
            Y = erf(X @ Wt.T / math.sqrt(2)).sum(1)
            for t in range(c):
                x = X[t]
                lam = W @ x
                err = Y[t] - erf(lam / math.sqrt(2)).sum()
                delta = SQRT_2_PI * np.exp(-0.5 * lam * lam) * err
                W += eta * np.outer(delta, x)
            done += c
        out.append(W)
    return np.array(out)


def numpy_draw(seed):
    """Plain NumPy inputs: one default_rng per instance (the baseline at its best)."""
    rngs = {}

    def draw(s, c, N):
        rng = rngs.setdefault(s, np.random.default_rng([seed, s]))
        return rng.standard_normal((c, N)) / math.sqrt(N)
    return draw


def torch_draw(seed):
    """The inputs run_online_sgd draws (same generators, same chunks), for the cross-check."""
    gens = {}

    def draw(s, c, N):
        g = gens.setdefault(s, generator(seed, s, _TRAIN))
        return torch.empty((c, N), dtype=torch.float64).normal_(0.0, 1.0 / math.sqrt(N), generator=g).numpy()
    return draw


def initial_weights(seed, S, K, N, init_scale=1e-3):
    return [torch.randn((K, N), dtype=torch.float64, generator=generator(seed, s, _STUDENT)).numpy() * init_scale
            for s in range(S)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=2.0)
    ap.add_argument("--eta", type=float, default=0.5)
    ap.add_argument("--seeds", default="1,8,64")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--numpy-max-seeds", type=int, default=64,
                    help="run the NumPy loop on at most this many instances and scale its time linearly")
    a = ap.parse_args()
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA not available: skipped")
        return
    torch.set_num_threads(a.threads)
    steps = int(round(a.alpha * a.n))
    # cross-check on the same inputs: a short run, two instances
    teacher = make_teacher(a.n, a.k, 2, seed=0, device=a.device)
    r = run_online_sgd(teacher, a.k, a.eta, 0.5, records=[0.5], n_test=2)
    W_np = numpy_sgd(teacher.W.cpu().numpy(), a.k, a.eta, int(round(0.5 * a.n)), r.params["chunk"],
                     initial_weights(0, 2, a.k, a.n), torch_draw(0))
    print(f"cross-check (same inputs, {int(round(0.5 * a.n))} steps): max|W_torch - W_numpy| = "
          f"{float(np.abs(r.W.cpu().numpy() - W_np).max()):.1e}")
    print(f"torch {torch.__version__}, device {a.device}, torch threads {torch.get_num_threads()}, N = {a.n}, "
          f"K = M = {a.k}, erf, eta = {a.eta}, {steps} steps per instance; NumPy baseline draws with default_rng")
    for S in (int(x) for x in a.seeds.split(",")):
        teacher = make_teacher(a.n, a.k, S, seed=0, device=a.device)
        run_online_sgd(teacher, a.k, a.eta, min(a.alpha, 0.2), records=2, n_test=2)       # warm-up
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        r = run_online_sgd(teacher, a.k, a.eta, a.alpha, records=[a.alpha], n_test=2)
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        t_torch = time.perf_counter() - t0
        Sn = min(S, a.numpy_max_seeds)
        Wt = teacher.W[:Sn].cpu().numpy()
        t0 = time.perf_counter()
        numpy_sgd(Wt, a.k, a.eta, steps, r.params["chunk"], initial_weights(0, Sn, a.k, a.n), numpy_draw(0))
        t_np = (time.perf_counter() - t0) * S / Sn
        print(f"S = {S:5d}  torch {S * steps / t_torch:10.3e} samples/s ({t_torch:7.3f} s, "
              f"{1e6 * t_torch / steps:7.1f} us/step)   numpy loop {S * steps / t_np:10.3e} samples/s "
              f"({t_np:7.3f} s{'' if Sn == S else f', scaled from {Sn} instances'})   ratio {t_np / t_torch:7.2f}x")

if __name__ == "__main__":
    main()
