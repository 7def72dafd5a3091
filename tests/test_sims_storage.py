"""Storage problems at finite N: the spherical SAT fraction against Cover's exact count (1965),
its crossing near alpha_c(0) = 2 (Gardner 1988), and the Ising capacity by exhaustive
enumeration extrapolated in 1/N near 0.833 (Krauth & Mezard 1989; Krauth & Opper 1989)."""
import math

import torch
from scipy.special import comb

from sims.data import sample
from sims.measure import extrapolate
from sims.storage import crossing, ising_capacities, sat_fraction, spherical_sat


def cover_fraction(P, N):
    """P(P random points in general position in R^N, random labels, are linearly separable
    through the origin) = 2 sum_{k<N} binom(P-1, k) / 2^P  (Cover 1965)."""
    return 2 * sum(comb(P - 1, k, exact=True) for k in range(N)) / 2**P


def test_spherical_sat_fraction_is_covers_count_and_crosses_at_two():
    n, S = 30, 50
    alphas = [1.6, 1.8, 2.0, 2.2, 2.4]
    fr = []
    for a in alphas:
        d = sample("gardner", {"kappa": 0.0}, n=n, seeds=S, alpha=a, seed=3)
        f, se = sat_fraction(spherical_sat(d))
        exact = cover_fraction(d.p, n)
        assert abs(f - exact) <= 4 * math.sqrt(exact * (1 - exact) / S) + 1e-12, (a, f, exact)
        fr.append(f)
    assert abs(crossing(alphas, fr) - 2.0) < 0.25


def test_spherical_positive_margin():
    """kappa = 1: alpha_c = 0.5195... (Gardner 1988); far below it every instance is storable,
    far above none (N = 40)."""
    lo = sample("gardner", {"kappa": 1.0}, n=40, seeds=6, alpha=0.25)
    hi = sample("gardner", {"kappa": 1.0}, n=40, seeds=6, alpha=1.0)
    assert float(spherical_sat(lo).mean()) == 1.0
    assert float(spherical_sat(hi).mean()) == 0.0


def test_enumeration_matches_brute_force():
    d = sample("ising-storage", {}, n=7, seeds=5, alpha=2.0)
    pc = ising_capacities(d.X, d.y)
    W = torch.tensor([[1.0 if (i >> k) & 1 else -1.0 for k in range(7)] for i in range(128)], dtype=torch.float64)
    for s in range(5):
        ok = (d.y[s][None, :] * (W @ d.X[s].T) / 7**0.5) >= 0           # (128, P)
        run = torch.cumprod(ok.long(), 1).sum(1)                          # patterns stored in a row
        assert int(pc[s]) == int(run.max())
    # any constraint on (y, λ): the symmetric binary perceptron's |λ| ≤ κ
    band = ising_capacities(d.X, d.y, constraint=lambda yv, lam: lam.abs() <= 0.6)
    for s in range(5):
        ok = (W @ d.X[s].T / 7**0.5).abs() <= 0.6
        assert int(band[s]) == int(torch.cumprod(ok.long(), 1).sum(1).max())


def test_ising_capacity_extrapolates_near_0833():
    ns, means, ses = [11, 13, 15, 17], [], []
    for n in ns:
        d = sample("ising-storage", {}, n=n, seeds=400, alpha=2.0, seed=n)
        pc = ising_capacities(d.X, d.y).double()
        assert int(pc.max()) < d.p                                        # P_max large enough
        means.append(float(pc.mean()) / n)
        ses.append(float(pc.std()) / n / math.sqrt(len(pc)))
    fit = extrapolate(ns, means, ses)
    assert fit["stderr"] < 0.06
    assert abs(fit["value"] - 0.8331) <= 3 * fit["stderr"] + 0.02, fit
