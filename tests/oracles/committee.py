"""Independent oracles for committee machines (nothing imported from ``replica``).

* ``bvn_orthant_mp``: P(x1 > 0, x2 > 0) for a bivariate normal, by mpmath quadrature of the
  conditional form ∫_{x1>0} N(x1; μ1, s1²) P(x2 > 0 | x1) dx1 at 30 digits;
* ``gibbs_error_mc``: P(f(z) ≠ f(z')) for (z, z') ~ N(0, [[ρI, q], [q, ρI]]) by Monte Carlo
  (the generalization error of a posterior sample of a Bayes-optimal committee, Aubin et al.
  2018), with its standard error;
* ``psi_out_mc``: E_ξ Σ_y Z log Z with Z(y; ω) = P(f(z) = y | ω) estimated by nested Monte
  Carlo, for a committee output rule f given as a NumPy function of the (n, K) fields.
"""
from __future__ import annotations

import mpmath
import numpy as np


def bvn_orthant_mp(mu1, mu2, s11, s22, s12, dps=30):
    mpmath.mp.dps = dps
    s1, s2 = mpmath.sqrt(s11), mpmath.sqrt(s22)
    cs = mpmath.sqrt(s22 - s12**2 / s11)

    def f(x):
        dens = mpmath.npdf(x, mu1, s1)
        cm = mu2 + s12 / s11 * (x - mu1)
        return dens * mpmath.ncdf(cm / cs)
    return float(mpmath.quad(f, [0, mu1, mpmath.inf] if mu1 > 0 else [0, mpmath.inf]))


def sign_committee(z):
    return np.sign(np.sign(z).sum(axis=1))


def gibbs_error_mc(q, rho=1.0, rule=sign_committee, n=2_000_000, seed=0):
    """(estimate, standard error) of P(f(z) != f(z'))."""
    q = np.asarray(q, float)
    K = q.shape[0]
    C = np.block([[rho * np.eye(K), q], [q, rho * np.eye(K)]])
    L = np.linalg.cholesky(C + 1e-14 * np.eye(2 * K))
    x = np.random.default_rng(seed).standard_normal((n, 2 * K)) @ L.T
    d = rule(x[:, :K]) != rule(x[:, K:])
    return float(d.mean()), float(d.std() / np.sqrt(n))


def quadratic_error_mc(q, rho=1.0, rule=sign_committee, n=2_000_000, seed=2):
    """(estimate, standard error) of ¼ E[(f(z) − f(z'))²], (z, z') the fields of the teacher and
    of a posterior sample (joint Gaussian, cross-covariance q): the generalization error of
    Aubin et al.'s state-evolution code (``gen_error``)."""
    q = np.asarray(q, float)
    K = q.shape[0]
    C = np.block([[rho * np.eye(K), q], [q, rho * np.eye(K)]])
    L = np.linalg.cholesky(C + 1e-14 * np.eye(2 * K))
    x = np.random.default_rng(seed).standard_normal((n, 2 * K)) @ L.T
    d = 0.25 * (rule(x[:, :K]) - rule(x[:, K:])) ** 2
    return float(d.mean()), float(d.std() / np.sqrt(n))


def bayes_error_mc(q, rho=1.0, rule=sign_committee, n=200_000, seed=1):
    """(estimate, standard error) of the Bayes-optimal estimator's error 1 − E_ω max_y P(y | ω)
    with ω ~ N(0, q) the posterior mean of the teacher's fields and z | ω ~ N(ω, ρI − q):
    P(y | ω) = Σ_σ [f(σ) = y] P(σ ⊙ z > 0 | ω), each orthant probability by scipy's
    multivariate normal CDF (Genz's algorithm), P(σ ⊙ z > 0 | ω) = Φ_V'(σ ⊙ ω) with
    V' = D_σ V D_σ; Monte Carlo over ω."""
    import itertools

    from scipy.stats import multivariate_normal
    q = np.asarray(q, float)
    K = q.shape[0]
    V = rho * np.eye(K) - q
    omega = np.random.default_rng(seed).multivariate_normal(np.zeros(K), q, size=n)
    probs = {}
    for s in itertools.product((1, -1), repeat=K):
        s = np.array(s, float)
        label = float(rule(s[None])[0])
        p = multivariate_normal(mean=np.zeros(K), cov=V * np.outer(s, s)).cdf(omega * s)
        probs[label] = probs.get(label, 0.0) + np.atleast_1d(p)
    best = np.max(np.stack(list(probs.values())), axis=0)
    return float(1 - best.mean()), float(best.std() / np.sqrt(n))


def bayes_error_two_independent_units(qd, rho=1.0, n=2000):
    """The Bayes error of the K = 2 sign committee (labels sign(sign h1 + sign h2), 0 on a tie)
    when q = qd I: the two units are independent given the data, p_k = Φ(ω_k/√(ρ − qd)) and
    P(y = ±1 | ω), P(y = 0 | ω) are products of them.  1 − E max_y P(y | ω) over
    ω ~ N(0, qd I) by the midpoint rule on [−9√qd, 9√qd]² at n and 2n points per side,
    Richardson-extrapolated (the max is piecewise smooth: the midpoint rule's error is O(h²))."""
    from scipy.special import ndtr

    def midpoint(m):
        L = 9 * np.sqrt(qd)
        h = 2 * L / m
        x = -L + h * (np.arange(m) + 0.5)
        p = ndtr(x / np.sqrt(rho - qd))
        w = np.exp(-x * x / (2 * qd)) / np.sqrt(2 * np.pi * qd) * h
        p1, p2 = p[:, None], p[None, :]
        best = np.maximum(np.maximum(p1 * p2, (1 - p1) * (1 - p2)), p1 * (1 - p2) + (1 - p1) * p2)
        return float(np.sum((1 - best) * w[:, None] * w[None, :]))
    return (4 * midpoint(2 * n) - midpoint(n)) / 3


def soft_unit_bayes_fixed_point(alpha, delta, n_xi=48, n_z=400, tol=1e-11):
    """The K = 1 Bayes-optimal GLM with Gaussian prior (ρ = 1) and channel
    P(y | z) = N(y; erf(z/√2), Δ), written out from the textbook equations (Zdeborová &
    Krzakala 2016; Barbier et al. 2019): q = q̂/(1 + q̂), q̂ = α E_ξ ∫dy (∂_ω Z_out)²/Z_out,
    Z_out(y; ω, V) = ∫Dz N(y; erf((ω + √V z)/√2), Δ), ω = √q ξ, V = 1 − q, and
    Φ = (q̂ − log(1 + q̂))/2 − q q̂/2 + α E_ξ ∫dy Z_out log Z_out.  The z-integral by
    Gauss–Legendre on [−9, 9] (``n_z`` nodes, direct summation of the Gaussians), y by the
    trapezoidal rule at spacing √Δ/10, ξ by ``n_xi``-point Gauss–Hermite.  Returns (q, q̂, Φ)."""
    from scipy.special import erf, xlogy
    xg, wg = np.polynomial.legendre.leggauss(n_z)
    z, wz = 9 * xg, 9 * wg * np.exp(-(9 * xg) ** 2 / 2) / np.sqrt(2 * np.pi)
    xi, wxi = np.polynomial.hermite_e.hermegauss(n_xi)
    wxi = wxi / wxi.sum()
    hy = np.sqrt(delta) / 10
    y = np.arange(-1 - 10 * np.sqrt(delta), 1 + 10 * np.sqrt(delta) + hy, hy)

    def output(q):
        V = 1 - q
        h = np.sqrt(q) * xi[:, None] + np.sqrt(V) * z[None]                     # (ξ, z)
        f, fp = erf(h / np.sqrt(2)), np.sqrt(2 / np.pi) * np.exp(-h * h / 2)
        r = y[None, :, None] - f[:, None, :]                                     # (ξ, y, z)
        N = np.exp(-r * r / (2 * delta)) / np.sqrt(2 * np.pi * delta)
        Z = N @ wz
        dZ = (N * r / delta * fp[:, None, :]) @ wz
        G = np.sum(np.where(Z > 1e-300, dZ * dZ / np.where(Z > 1e-300, Z, 1), 0.0), 1) * hy @ wxi
        psi = np.sum(xlogy(Z, Z), 1) * hy @ wxi
        return G, psi
    q = 1e-3
    for _ in range(5000):
        qh = alpha * output(q)[0]
        new = qh / (1 + qh)
        if abs(new - q) < tol:
            q = new
            break
        q = new
    G, psi = output(q)
    qh = alpha * G
    return q, qh, (qh - np.log1p(qh)) / 2 - q * qh / 2 + alpha * psi


def label_probs_mvn(rule, omega, V, abseps=1e-11):
    """{label: P(f(z) = label)} for z ~ N(omega, V), ``rule`` a NumPy function of (n, K) fields
    that depends on their signs: Σ over sign patterns σ of the orthant probability
    P(σ ⊙ z > 0) = Φ_{D V D}(σ ⊙ omega) by scipy's multivariate normal CDF (Genz's algorithm,
    absolute error ``abseps``).  K = 1: Φ in closed form."""
    import itertools

    from scipy.special import ndtr
    from scipy.stats import multivariate_normal
    omega, V = np.asarray(omega, float), np.asarray(V, float)
    K = omega.size
    out = {}
    for s in itertools.product((1, -1), repeat=K):
        s = np.array(s, float)
        label = float(rule(s[None])[0])
        if K == 1:
            p = float(ndtr(s[0] * omega[0] / np.sqrt(V[0, 0])))
        else:
            p = float(multivariate_normal(mean=np.zeros(K), cov=V * np.outer(s, s), abseps=abseps,
                                          releps=0, maxpts=200_000).cdf(omega * s))
        out[label] = out.get(label, 0.0) + p
    return out


def label_probs_k3(rule, omega, V):
    """{label: P(f(z) = label)} for K = 3, z ~ N(omega, V), ``rule`` a NumPy function of the signs,
    by nested adaptive quadrature (no Genz randomization; ~1e-12): each orthant probability
    conditioned on its third coordinate, P(σ ⊙ z > 0) = ∫_0^∞ N(x₃; μ₃, v₃) Φ₂(h, k; r) dx₃, with
    the standard bivariate normal CDF Φ₂(h, k; r) = Φ(h)Φ(k) + (1/2π)∫_0^r e^{−(h²−2thk+k²)/(2(1−t²))}
    /√(1−t²) dt (Plackett's identity integrated in the correlation)."""
    import itertools

    from scipy.integrate import quad
    from scipy.special import ndtr
    omega, V = np.asarray(omega, float), np.asarray(V, float)

    def phi2(h, k, r):
        f = lambda t: np.exp(-(h * h - 2 * t * h * k + k * k) / (2 * (1 - t * t))) / np.sqrt(1 - t * t)
        return ndtr(h) * ndtr(k) + quad(f, 0.0, r, epsabs=1e-14, epsrel=1e-13)[0] / (2 * np.pi)

    out = {}
    for s in itertools.product((1, -1), repeat=3):
        s = np.array(s, float)
        M, mu = V * np.outer(s, s), omega * s
        m3, v3 = mu[2], M[2, 2]
        c = M[:2, 2]
        Sc = M[:2, :2] - np.outer(c, c) / v3
        sd = np.sqrt(np.diag(Sc))
        r = Sc[0, 1] / (sd[0] * sd[1])

        def g(x3):
            mc = mu[:2] + c * (x3 - m3) / v3
            return np.exp(-(x3 - m3) ** 2 / (2 * v3)) / np.sqrt(2 * np.pi * v3) * phi2(mc[0] / sd[0], mc[1] / sd[1], r)
        p = quad(g, 0.0, max(m3, 0.0), epsabs=1e-14, epsrel=1e-13)[0] + quad(g, max(m3, 0.0), np.inf, epsabs=1e-14, epsrel=1e-13)[0]
        label = float(rule(s[None])[0])
        out[label] = out.get(label, 0.0) + p
    return out




def gibbs_error_independent_units(q_d, K, rule=sign_committee, rho=1.0):
    """The error of a posterior sample, P(f(z) ≠ f(z')) with (z, z') ~ N(0, [[ρI, q_d I], [q_d I, ρI]]):
    the pairs (z_k, z'_k) are independent across units, each sign pair agreeing with
    probability p = 1 − arccos(q_d/ρ)/π (Sheppard's formula), so each of the four sign pairs
    has probability p/2 or (1 − p)/2; summed over the 4^K pairs of sign patterns with
    f(σ) = f(σ').  Closed form, no quadrature."""
    import itertools
    p = 1.0 - np.arccos(q_d / rho) / np.pi
    pats = [np.array(s, float) for s in itertools.product((1, -1), repeat=K)]
    agree = 0.0
    for s in pats:
        for t in pats:
            if float(rule(s[None])[0]) == float(rule(t[None])[0]):
                same = int((s == t).sum())
                agree += (p / 2) ** same * ((1 - p) / 2) ** (K - same)
    return 1.0 - agree


def bayes_error_three_independent_units(qd, rho=1.0, panels=150, per_panel=8):
    """The Bayes error of the K = 3 sign committee (majority of three signs) when q = qd I: the
    units are independent given the data, p_k = Φ(ω_k/√v) (v = ρ − qd) and P(y = +1 | ω) =
    a + b p_3 with a = p_1 p_2, b = p_1 + p_2 − 2 p_1 p_2 ≥ 0, so 1 − max_y P(y | ω) = min(a + b p_3,
    1 − a − b p_3) has its kink at p_3 = p* = (½ − a)/b, i.e. ω_3 = t* = √v Φ⁻¹(p*).  The ω_3
    integral is exact: with P = Φ(t*/√qd) and G(t) = E[p_3 1{ω_3 < t}] (a cumulative
    Gauss–Legendre table on [−12√qd, 12√qd] plus a 12-node rule from the last edge to t, no
    interpolation), the inner expectation is a P + b G + (1 − a)(1 − P) − b(½ − G); then (ω_1, ω_2)
    by composite Gauss–Legendre (``panels`` panels on [0, 6√v] and a third as many on [6√v,
    9√qd], mirrored; ``per_panel`` nodes each): an integrand with a continuous first derivative
    (its second is singular where p* leaves (0, 1), hence the fine panels; converged to ~1e-9).  No layer rule, no kink search."""
    from scipy.special import ndtr, ndtri
    d, v = float(qd), float(rho - qd)
    sd, sv = np.sqrt(d), np.sqrt(v)
    gx, gw = np.polynomial.legendre.leggauss(12)
    L = 12 * sd
    edges = np.linspace(-L, L, 4001)
    f = lambda x: ndtr(x / sv) * np.exp(-x * x / (2 * d)) / np.sqrt(2 * np.pi * d)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    cum = np.concatenate([[0.0], np.cumsum((f(mid[:, None] + half[:, None] * gx) * gw).sum(1) * half)])

    def G(t):
        t = np.clip(t, -L, L)
        j = np.clip(np.searchsorted(edges, t) - 1, 0, edges.size - 2)
        lo = edges[j]
        m, h = (lo + t) / 2, (t - lo) / 2
        return cum[j] + (f(m[..., None] + h[..., None] * gx) * gw).sum(-1) * h

    x, w = np.polynomial.legendre.leggauss(per_panel)
    inner_e = np.linspace(0.0, min(6 * sv, 9 * sd), panels + 1)
    outer_e = np.linspace(inner_e[-1], 9 * sd, panels // 3 + 2)[1:] if 6 * sv < 9 * sd else np.zeros(0)
    pos_e = np.concatenate([inner_e, outer_e])
    e = np.concatenate([-pos_e[:0:-1], pos_e])
    mid, half = (e[1:] + e[:-1]) / 2, (e[1:] - e[:-1]) / 2
    om = (mid[:, None] + half[:, None] * x).ravel()
    wo = (half[:, None] * w).ravel() * np.exp(-om * om / (2 * d)) / np.sqrt(2 * np.pi * d)
    p = ndtr(om / sv)
    total = 0.0
    for i in range(om.size):
        p1, p2 = p[i], p
        a = p1 * p2
        b = p1 + p2 - 2 * p1 * p2
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ps = (0.5 - a) / b
        inner = np.where(ps <= 0, 1 - a - b / 2, a + b / 2)
        mix = (ps > 0) & (ps < 1)
        t = sv * ndtri(ps[mix])
        P = ndtr(t / sd)
        Gt = G(t)
        am, bm = a[mix], b[mix]
        inner[mix] = am * P + bm * Gt + (1 - am) * (1 - P) - bm * (0.5 - Gt)
        total += wo[i] * float(inner @ wo)
    return total
