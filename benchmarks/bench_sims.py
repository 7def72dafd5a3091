"""ERM (and AMP) throughput of the torch simulations, as ratios to a plain NumPy baseline run in
the same process on the same data.

Throughput = instances · P · N / second (the size of the data an optimizer digests).
Baselines: ridge — ``numpy.linalg.solve`` of the normal equations, one instance at a time;
logistic — a textbook NumPy Newton iteration (same stopping rule), one instance at a time.

    python benchmarks/bench_sims.py [--n 400] [--seeds 8] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from sims.data import sample
from sims.erm import run_erm


def numpy_ridge(X, y, lam):
    out = []
    for Xs, ys in zip(X, y):
        N = Xs.shape[1]
        A = Xs / np.sqrt(N)
        out.append(np.linalg.solve(A.T @ A + lam * np.eye(N), A.T @ ys))
    return np.array(out)


def numpy_logistic(X, y, lam, tol=1e-9, max_iter=100):
    out = []
    for Xs, ys in zip(X, y):
        N = Xs.shape[1]
        A = Xs / np.sqrt(N)
        w = np.zeros(N)
        for _ in range(max_iter):
            m = ys * (A @ w)
            s = 1 / (1 + np.exp(m))                  # sigma(-y lam)
            g = -A.T @ (ys * s) + lam * w
            if np.linalg.norm(g) / np.sqrt(N) < tol:
                break
            H = (A.T * (s * (1 - s))) @ A + lam * np.eye(N)
            w = w - np.linalg.solve(H, g)
        out.append(w)
    return np.array(out)


def timed(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        r = fn()
        best = min(best, time.perf_counter() - t)
    return best, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    print(f"torch {torch.__version__}, device {a.device}, threads {torch.get_num_threads()}, N = {a.n}, {a.seeds} instances")
    for name, params, base in (("ridge", {"delta": 0.1, "lam": 0.1}, numpy_ridge),
                               ("logistic", {"flip": 0.0, "lam": 0.1}, numpy_logistic)):
        d = sample(name, params, n=a.n, seeds=a.seeds, alpha=2.0, device=a.device)
        size = a.seeds * d.p * a.n
        t_torch, r = timed(lambda: run_erm(d))
        X, y = d.X.cpu().numpy(), d.y.cpu().numpy()
        t_np, w_np = timed(lambda: base(X, y, params["lam"]))
        err = float(np.abs(r["w_hat"].cpu().numpy() - w_np).max())
        print(f"{name:9s} torch {size / t_torch:10.3e} samples*N/s ({t_torch:.3f} s)   numpy {size / t_np:10.3e} "
              f"({t_np:.3f} s)   ratio {t_np / t_torch:5.2f}x   max|w_torch - w_numpy| = {err:.1e}")
    try:
        from sims.amp import run_amp
    except ImportError:
        return
    d = sample("ising-bayes", {"flip": 0.0}, n=a.n * 2, seeds=a.seeds, alpha=1.0, device=a.device)
    t_amp, r = timed(lambda: run_amp(d), repeat=1)
    it = float(torch.as_tensor(r["iterations"]).double().mean())
    print(f"amp       torch {a.seeds * d.p * d.n * it / t_amp:10.3e} samples*N*iterations/s ({t_amp:.3f} s, "
          f"{it:.0f} iterations; no NumPy baseline)")


if __name__ == "__main__":
    main()
