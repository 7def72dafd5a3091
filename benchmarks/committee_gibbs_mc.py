"""Monte Carlo of the Gibbs committee at finite N against the replica theory (committee-gibbs).

A K = 3 sign committee student with Gaussian weights sampled at temperature T from
P(W) ∝ N(W; 0, I) e^{−E(W)/T}, E the number of training errors, on P = αN examples labelled by a
teacher of the same architecture.  Moves: one weight at a time by a prior-invariant
Crank–Nicolson step w' = √(1 − ε²) w + ε ξ, accepted with min(1, e^{−ΔE/T}) (detailed balance
with respect to the Gibbs measure); S instances in parallel.  Measured after burn-in: the
generalization error on fresh inputs and the overlaps m_kk (unit k of the student with unit k of
the teacher, after matching units by the largest overlap).  Prints theory, mean and standard error.

    PYTHONPATH=$PWD python benchmarks/committee_gibbs_mc.py [N] [alpha] [T] [sweeps]
"""
import sys
import time

import numpy as np

from replica.committee.gibbs import committee_gibbs, derive_gibbs_committee, solve_gibbs_committee


def committee(h):
    return np.where(np.sign(h).sum(-1) >= 0, 1.0, -1.0)


def run(N=100, alpha=2.0, T=0.5, sweeps=600, S=8, K=3, eps=0.5, seed=0, n_test=20000):
    rng = np.random.default_rng(seed)
    P = int(round(alpha * N))
    X = rng.standard_normal((S, P, N))
    Wt = rng.standard_normal((S, K, N))
    y = committee(np.einsum("spn,skn->spk", X, Wt) / np.sqrt(N))
    W = rng.standard_normal((S, K, N))
    H = np.einsum("spn,skn->spk", X, W) / np.sqrt(N)
    E = (committee(H) != y).sum(1).astype(float)
    egs, ms = [], []
    Xt = rng.standard_normal((n_test, N))
    yt = committee(np.einsum("tn,skn->stk", Xt, Wt) / np.sqrt(N))
    s_idx = np.arange(S)
    for sw in range(sweeps):
        for _ in range(K * N):
            k = rng.integers(K, size=S)
            i = rng.integers(N, size=S)
            w = W[s_idx, k, i]
            w2 = np.sqrt(1 - eps * eps) * w + eps * rng.standard_normal(S)
            dH = X[s_idx, :, i] * ((w2 - w) / np.sqrt(N))[:, None]          # (S, P)
            H2 = H.copy()
            H2[s_idx, :, k] += dH
            E2 = (committee(H2) != y).sum(1).astype(float)
            acc = rng.random(S) < np.exp(-np.maximum(E2 - E, 0) / T) if T > 0 else E2 <= E
            W[s_idx[acc], k[acc], i[acc]] = w2[acc]
            H[acc] = H2[acc]
            E[acc] = E2[acc]
        if sw >= sweeps // 2 and sw % 10 == 0:
            ys = committee(np.einsum("tn,skn->stk", Xt, W) / np.sqrt(N))
            egs.append((ys != yt).mean(1))
            M = np.einsum("skn,sln->skl", W, Wt) / N
            ms.append(M.mean((1, 2)))
    eg = np.mean(egs, 0)
    return eg.mean(), eg.std(ddof=1) / np.sqrt(S), np.mean(ms)


if __name__ == "__main__":
    N, alpha, T, sweeps = (int(sys.argv[1]) if len(sys.argv) > 1 else 100, float(sys.argv[2]) if len(sys.argv) > 2 else 2.0,
                           float(sys.argv[3]) if len(sys.argv) > 3 else 0.5, int(sys.argv[4]) if len(sys.argv) > 4 else 600)
    th = derive_gibbs_committee(committee_gibbs(3))
    s = solve_gibbs_committee(th, [alpha], [T])
    t0 = time.time()
    eg, se, m = run(N, alpha, T, sweeps)
    print(f"K=3 alpha={alpha} T={T} N={N}: theory eps_g={s['generalization_error'][0]:.4f} mean m={(s['m_d'][0] + s['m_a'][0]) / 3:.4f}; "
          f"MC eps_g={eg:.4f} ± {se:.4f}, mean m={m:.4f} ({time.time() - t0:.0f} s)")
