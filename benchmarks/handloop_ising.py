"""Reference: a hand-written vectorized damped loop of the ising-bayes saddle-point equations.

The Bayes-optimal binary perceptron (Rademacher prior, sign channel with label-flip
probability ``flip``; Barbier et al., PNAS 116, 5451 (2019)):

    q     = E_z tanh(q_hat + √q_hat z)
    q_hat = α (1 - 2 flip)² / (1 - q) · 2 E_ξ N(x)² / Z(x),   x = √(q / (1 - q)) ξ,
            Z(x) = flip + (1 - 2 flip) Φ(x),   N the standard normal density, Φ its cdf

with ``nodes``-point Gauss-Hermite expectations over the whole grid at once, written directly
in NumPy (no generated code, no solver bookkeeping): the floor the generated solver's cost per
point-iteration is measured against (benchmarks/bench_iteration.py).

    python benchmarks/handloop_ising.py [N_POINTS] [NODES]
"""
import sys
import time

import numpy as np
from scipy.special import log_ndtr

__all__ = ["solve"]


def solve(alpha, flip=0.0, nodes=64, tol=1e-10, damping=0.5, max_iter=5000):
    """(q, q_hat, iterations, seconds) from the uninformed start q = 0 (q_hat from the map),
    damped x' = (1 - damping) M(x) + damping x on every point until all residuals < tol."""
    alpha = np.asarray(alpha, float)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    X, W = x[:, None], w[:, None]
    c = (1 - 2 * flip) ** 2
    lf, l1 = np.log(flip) if flip > 0 else -np.inf, np.log1p(-2 * flip) if flip < 0.5 else -np.inf
    t = time.perf_counter()
    q = np.zeros_like(alpha)
    q_hat = np.zeros_like(alpha)
    for k in range(1, max_iter + 1):
        u = X * np.sqrt(q / (1 - q))
        logz = np.logaddexp(lf, l1 + log_ndtr(u))
        new_hat = 2 * alpha * c / (1 - q) * np.sum(W * np.exp(-u * u - np.log(2 * np.pi) - logz), axis=0)
        new_q = np.sum(W * np.tanh(new_hat + np.sqrt(new_hat) * X), axis=0)
        r = max(np.max(np.abs(new_q - q)), np.max(np.abs(new_hat - q_hat) / np.maximum(1, np.abs(q_hat))))
        q = damping * q + (1 - damping) * new_q
        q_hat = damping * q_hat + (1 - damping) * new_hat
        if r < tol:
            break
    return q, q_hat, k, time.perf_counter() - t


def main(n=20000, nodes=64):
    alpha = np.linspace(0.5, 1.2, n)
    q, q_hat, k, s = solve(alpha, nodes=nodes)
    print(f"hand loop: {n} points x {k} iterations, {s:.3f} s: {1e6 * s / (n * k):.2f} us per point-iteration")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
