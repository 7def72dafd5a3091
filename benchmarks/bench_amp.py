"""AMP throughput: the generated torch AMP (sims.amp.run_amp) against a plain NumPy GAMP
written here by hand, same process, same data, same number of iterations.

Model: ising-bayes (±1 weights, sign teacher, flip 0) at α = 1 — the hand-written baseline
knows its denoisers in closed form, f_a = tanh b, f_v = 1/cosh² b, g_out = y r/√V and
∂_ω g_out = -r (x + r)/V with x = yω/√V, r = φ(x)/Φ(x) = e^{-x²/2 - log Φ(x)}/√(2π)
(scipy.special.log_ndtr).  Both run a fixed number of iterations (tol = 0) and are checked to
produce the same iterate.  Throughput is reported as sample·coordinate updates per second,
S·P·N·iterations/time (P = αN samples, N weights, S instances), and as iterations per second.

    python benchmarks/bench_amp.py [--n 2000] [--seeds 8] [--iters 30] [--device cpu|cuda]
                                   [--threads T]
"""
import argparse
import time

import numpy as np
import scipy.special as sc
import torch

from sims.amp import run_amp
from sims.data import sample


def numpy_amp(X, y, iters):
    """Plain NumPy GAMP for ±1 weights and a noiseless sign channel, batched over instances."""
    S, P, N = X.shape
    a, v, g = np.zeros((S, N)), np.ones((S, N)), np.zeros((S, P))
    for _ in range(iters):
        V = v.mean(1, keepdims=True)
        omega = np.matmul(X, a[..., None])[..., 0] / np.sqrt(N) - V * g
        x = y * omega / np.sqrt(V)
        r = np.exp(-x**2 / 2 - sc.log_ndtr(x)) / np.sqrt(2 * np.pi)
        g = y * r / np.sqrt(V)
        dg = -r * (x + r) / V
        A = -dg.sum(1, keepdims=True) / N
        b = np.matmul(g[:, None, :], X)[:, 0, :] / np.sqrt(N) + A * a
        a, v = np.tanh(b), 1 / np.cosh(b)**2
    return a


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    d = sample("ising-bayes", {"alpha": args.alpha, "flip": 0.0}, n=args.n, seeds=args.seeds,
               device=args.device, seed=0)
    S, P, N = d.X.shape
    work = S * P * N * args.iters
    run_amp(d, max_iter=2, tol=0.0)          # generate / load the denoisers, warm up

    def timed(f):
        best = np.inf
        for _ in range(3):
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t = time.perf_counter()
            out = f()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t)
        return best, out

    t_torch, r = timed(lambda: run_amp(d, max_iter=args.iters, tol=0.0))
    Xn, yn = d.X.cpu().numpy(), d.y.cpu().numpy()
    t_np, a_np = timed(lambda: numpy_amp(Xn, yn, args.iters))
    diff = float(np.abs(r["w_last"].cpu().numpy() - a_np).max())
    print(f"ising-bayes alpha={args.alpha} N={N} P={P} seeds={S} iterations={args.iters} "
          f"device={args.device} torch threads={torch.get_num_threads()}")
    print(f"numpy GAMP (hand-written):   {t_np / args.iters * 1e3:8.2f} ms/iteration   "
          f"{work / t_np:10.3e} sample*coordinate updates/s")
    print(f"generated torch AMP:         {t_torch / args.iters * 1e3:8.2f} ms/iteration   "
          f"{work / t_torch:10.3e} sample*coordinate updates/s")
    print(f"ratio (torch / numpy throughput): {t_np / t_torch:6.2f}x   max |a_torch - a_numpy| = {diff:.1e}")


if __name__ == "__main__":
    main()
