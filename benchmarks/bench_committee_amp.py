"""Committee AMP throughput: the batched torch AMP (sims.committee.run_committee_amp) against a
plain NumPy loop of the same iteration written here by hand (one instance at a time), same
process, same data, same start, same number of iterations.

Both use the same output denoiser — Z_out and ∇Z_out by the orthant probabilities of
``replica.committee.derive._label_probs`` (NumPy; it is the bulk of an iteration at K = 2) with
A = −(1/N) Σ_μ ∂_ω g_out by forward differences — and the same prior denoiser in closed form
(Gaussian weights: (I + A)⁻¹; ±1 weights: the sum over {±1}^K).  The torch run has adaptive
damping, the symmetric-point check and the perfect-recovery stop switched off so that both do
exactly ``--iters`` plain iterations; the final iterates are compared.  Throughput is
S·P·N·iterations/time (sample·coordinate updates per second) and iterations per second.

    python benchmarks/bench_committee_amp.py [--model committee-bayes] [--alpha 2.0] [--K 2]
                                             [--n 1000] [--seeds 4] [--iters 20] [--device cpu|cuda]
                                             [--threads T]

NumPy's BLAS picks its own thread count (``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``, set
before the process starts); for a like-for-like comparison give both the same, e.g.
``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/bench_committee_amp.py --threads 1``.
"""
import argparse
import itertools
import os
import time

import numpy as np
import torch

from replica.committee.derive import _label_probs
from sims.committee import run_committee_amp, sample_committee


def numpy_committee_amp(X, y, a0, rule, K, prior, iters, rel=1e-5):
    """The committee GAMP for one instance, in NumPy: X (P, N), y (P,), a0 (N, K) the start."""
    P, N = X.shape
    labels = np.array(rule.outputs, float)
    yi = np.argmin(np.abs(y[:, None] - labels), -1)
    if prior == "gaussian":
        a, V = a0.copy(), np.eye(K)
    else:
        C = np.array(list(itertools.product((-1.0, 1.0), repeat=K)))
        a, V = a0.copy(), np.eye(K)
    g = np.zeros((P, K))

    def gout(om, Vm):
        Z, dZ = _label_probs(rule, K, om[None], Vm[None], 32, grad=True)
        Zy = Z[0, np.arange(P), yi]
        return dZ[0, np.arange(P), yi, :] / Zy[:, None]
    for _ in range(iters):
        omega = X @ a / np.sqrt(N) - g @ V
        g = gout(omega, V)
        J = np.empty((P, K, K))
        for j in range(K):
            h = rel * np.sqrt(V[j, j])
            e = np.zeros(K)
            e[j] = h
            J[:, :, j] = (gout(omega + e, V) - g) / h
        A = -((J + J.transpose(0, 2, 1)) / 2).sum(0) / N
        w, U = np.linalg.eigh((A + A.T) / 2)
        A = (U * np.clip(w, 0, None)) @ U.T
        b = X.T @ g / np.sqrt(N) + a @ A
        if prior == "gaussian":
            cov = np.linalg.inv(np.eye(K) + A)
            a, V = b @ cov, cov
        else:
            E = b @ C.T - 0.5 * np.einsum("ck,kl,cl->c", C, A, C)
            p = np.exp(E - E.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            a = p @ C
            V = np.einsum("nc,ck,cl->kl", p, C, C) / N - a.T @ a / N
    return a


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="committee-bayes", choices=["committee-bayes", "committee-ising-bayes"])
    ap.add_argument("--alpha", type=float, default=2.0)
    ap.add_argument("--K", type=int, default=2)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    d = sample_committee(args.model, {"alpha": args.alpha, "K": args.K}, n=args.n, seeds=args.seeds,
                         device=args.device, seed=0)
    S, P, N = d.X.shape
    g = torch.Generator(device=args.device).manual_seed(0)
    a0 = 0.03 * torch.randn(S, N, args.K, generator=g, dtype=torch.float64, device=args.device)
    opts = dict(max_iter=args.iters, tol=0.0, adaptive=False, check_symmetric=False, perfect_tol=0.0, init=a0)
    run_committee_amp(d, **{**opts, "max_iter": 2})                     # warm up
    work = S * P * N * args.iters

    def timed(f, repeat=2):
        best, out = np.inf, None
        for _ in range(repeat):
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t = time.perf_counter()
            out = f()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t)
        return best, out

    t_torch, r = timed(lambda: run_committee_amp(d, **opts))
    Xn, yn, an = d.X.cpu().numpy(), d.y.cpu().numpy(), a0.cpu().numpy()
    prior = "gaussian" if args.model == "committee-bayes" else "ising"
    t_np, a_np = timed(lambda: [numpy_committee_amp(Xn[s], yn[s], an[s], d.model.teacher, args.K, prior, args.iters)
                                for s in range(S)])
    diff = float(np.abs(r["W_last"].cpu().numpy() - np.stack(a_np)).max())
    print(f"{args.model} K={args.K} alpha={args.alpha} N={N} P={P} seeds={S} iterations={args.iters} "
          f"device={args.device} torch threads={torch.get_num_threads()} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"numpy loop over instances:   {t_np / args.iters * 1e3:9.2f} ms/iteration   "
          f"{work / t_np:10.3e} sample*coordinate updates/s")
    print(f"torch batched AMP:           {t_torch / args.iters * 1e3:9.2f} ms/iteration   "
          f"{work / t_torch:10.3e} sample*coordinate updates/s")
    print(f"speed-up torch / numpy: {t_np / t_torch:.2f}x   max |iterate difference| = {diff:.2e}")


if __name__ == "__main__":
    main()
