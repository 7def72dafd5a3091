"""Independent oracles for the generic-loss / two-sided-constraint models (tests/generic_models/b_*.py).

Plain scipy / mpmath implementations of the replica-symmetric formulas, written from the
papers, sharing no code with replica:

* ERM on a linear teacher y = z + √Δ η, Gaussian prior, ridge λ (Aubin, Krzakala, Lu &
  Zdeborová 2020, zero temperature): with ω = √Q ξ, y | ξ ~ N(m ξ/√Q, 1 - m²/Q + Δ),
      Φ = Q χ̂/2 - χ q̂/2 - m m̂ + (m̂² + q̂)/(2(χ̂ + λ)) - α E_{ξ,y} M(y, ω, χ),
  M the Moreau envelope min_x ℓ(y, x) + (x - ω)²/(2χ), its minimizer by bisection on the subgradient;
* interval masses P(|√q ξ + √(1-q) u| ≤ κ) and door free entropies by ``mpmath.quad`` at 30
  digits (no cancellation at that precision);
* the symmetric binary perceptron's first-moment capacity α_c = -log 2 / log erf(κ/√2)
  (Aubin, Perkins & Zdeborová 2019);
* Gibbs learning at temperature T with a Gaussian prior: the RS free entropy
      Φ = QQ̂/2 - m m̂ + q q̂/2 + (m̂² + q̂)/(2(Q̂ + q̂ + 1)) - ½ log(Q̂ + q̂ + 1)
          + α Σ_y E_ξ Z*(y, mξ/√q, 1 - m²/q) log E_u e^{-ℓ(y, √q ξ + √(Q-q) u)/T}
  (Engel & Van den Broeck 2001, ch. 3 with a general energy), by nested ``scipy.integrate.quad``.
"""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from scipy import integrate, special


# -- ERM, zero temperature ---------------------------------------------------------------------

def envelope(loss, dloss, y, omega, chi):
    """min_x loss(y, x) + (x - ω)²/(2χ) for arrays, the minimizer by bisection on the monotone
    subgradient dloss(y, x) + (x - ω)/χ (a convex loss; kinks are jumps of dloss)."""
    lo, hi = omega - 50 * (1 + chi), omega + 50 * (1 + chi)
    for _ in range(120):
        mid = (lo + hi) / 2
        up = dloss(y, mid) + (mid - omega) / chi > 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    x = (lo + hi) / 2
    return loss(y, x) + (x - omega)**2 / (2 * chi)


def erm_energy(loss, dloss, Q, m, chi, delta, kinks=(), nodes=80, panels=60):
    """E_{ξ,y} M(y, √Q ξ, χ), y = mξ/√Q + s u: Gauss–Hermite in ξ; in u composite 8-point
    Gauss–Legendre on [-12, 12] split at the points where y - ω hits one of ``kinks``."""
    s = math.sqrt(1 - m**2 / Q + delta)
    xs, ws = np.polynomial.hermite_e.hermegauss(nodes)
    ws = ws / math.sqrt(2 * math.pi)
    t, v = np.polynomial.legendre.leggauss(8)
    total = 0.0
    for xi, w in zip(xs, ws):
        om, mu = math.sqrt(Q) * xi, m * xi / math.sqrt(Q)
        pts = sorted((om + k - mu) / s for k in kinks)
        edges = [-12.0] + [p for p in pts if -12 < p < 12] + [12.0]
        us, uw = [], []
        for a, b in zip(edges[:-1], edges[1:]):
            e = np.linspace(a, b, panels + 1)
            mid, half = (e[1:] + e[:-1]) / 2, (e[1:] - e[:-1]) / 2
            us.append((mid[:, None] + half[:, None] * t).ravel())
            uw.append((half[:, None] * v).ravel())
        u, wu = np.concatenate(us), np.concatenate(uw)
        M = envelope(loss, dloss, mu + s * u, om, chi)
        total += w * np.sum(wu * M * np.exp(-u * u / 2)) / math.sqrt(2 * math.pi)
    return total


def erm_free_entropy(loss, dloss, alpha, lam, delta, Q, chi, m, chi_hat, q_hat, m_hat, kinks=()):
    return (Q * chi_hat / 2 - chi * q_hat / 2 - m * m_hat + (m_hat**2 + q_hat) / (2 * (chi_hat + lam))
            - alpha * erm_energy(loss, dloss, Q, m, chi, delta, kinks))


# -- two-sided constraints ------------------------------------------------------------------------

def interval_log_mass(q, kappa, xi):
    """log P(|√q ξ + √(1-q) u| ≤ κ) over u ~ N(0, 1), at 30 digits."""
    with mp.workdps(30):
        q, kappa, xi = mp.mpf(q), mp.mpf(kappa), mp.mpf(xi)
        s = mp.sqrt(2 * (1 - q))
        a, b = (kappa - mp.sqrt(q) * xi) / s, (kappa + mp.sqrt(q) * xi) / s
        lo, hi = min(a, b), max(a, b)
        mass = (mp.erf(lo) + mp.erf(hi)) / 2 if lo >= 0 else (mp.erfc(-lo) - mp.erfc(hi)) / 2
        return mp.log(mass)


def band_output_term(q, kappa):
    """E_ξ log P(|√q ξ + √(1-q) u| ≤ κ) (the output part of the Gardner volume of the band)."""
    with mp.workdps(30):
        f = lambda t: interval_log_mass(q, kappa, t) * mp.npdf(t)  # noqa: E731
        # split at the band's ends ±κ/√q, where the integrand bends within a few √(1-q)
        c, w = mp.mpf(kappa) / mp.sqrt(q), mp.sqrt(1 - mp.mpf(q))
        pts = [-12, -6, 0, 6, 12] + [s * c + k * w for s in (-1, 1) for k in (-8, -2, 0, 2, 8)]
        return float(mp.quad(f, sorted(p for p in pts if -12 <= p <= 12)))


def sbp_capacity(kappa):
    """α_c = -log 2 / log erf(κ/√2): the first-moment (RS at q = 0) capacity of the symmetric
    binary perceptron (Aubin, Perkins & Zdeborová 2019)."""
    return -math.log(2) / math.log(special.erf(kappa / math.sqrt(2)))


def door_output_term(q, kappa):
    """Σ_y E_ξ Z(y) log Z(y), Z(-1) = P(|√q ξ + √(1-q) u| < κ), Z(+1) = 1 - Z(-1), at 30 digits."""
    with mp.workdps(30):
        def f(t):
            lin = interval_log_mass(q, kappa, t)
            zin = mp.exp(lin)
            zout = 1 - zin
            return (zin * lin + (zout * mp.log(zout) if zout > 0 else 0)) * mp.npdf(t)
        return float(mp.quad(f, [-12, -6, -kappa, 0, kappa, 6, 12]))


def door_free_entropy(alpha, kappa, q, q_hat):
    """Bayes-optimal door with a N(0, 1) prior: -q q̂/2 + q̂/2 - ½ log(1 + q̂) + α Σ_y E Z log Z."""
    return -q * q_hat / 2 + q_hat / 2 - math.log1p(q_hat) / 2 + alpha * door_output_term(q, kappa)


# -- Gibbs learning at temperature T -----------------------------------------------------------

def gibbs_free_entropy(energy, alpha, T, Q, q, m, Q_hat, q_hat, m_hat):
    """The RS free entropy of Gibbs learning of a sign teacher (N(0, 1) weights) with ``energy``."""
    A = Q_hat + q_hat + 1
    prior = (m_hat**2 + q_hat) / (2 * A) - math.log(A) / 2
    V, sq = Q - q, math.sqrt(q)
    vstar = 1 - m**2 / q

    def zout(yv, om):
        g = lambda u: math.exp(-energy(yv, om + math.sqrt(V) * u) / T - u * u / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        u0 = -om / math.sqrt(V)          # the kink of the energy (λ = 0)
        return sum(integrate.quad(g, a, b, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
                   for a, b in ((-40, u0), (u0, 40)))

    out = 0.0
    for yv in (-1, 1):
        def f(xi):
            zs = 0.5 * special.erfc(-yv * (m * xi / sq) / math.sqrt(vstar) / math.sqrt(2))
            return zs * math.log(zout(yv, sq * xi)) * math.exp(-xi * xi / 2) / math.sqrt(2 * math.pi)
        out += integrate.quad(f, -12, 12, points=[0.0], epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    return Q * Q_hat / 2 - m * m_hat + q * q_hat / 2 + prior + alpha * out


# -- priors with heavy tails ----------------------------------------------------------------------

def _quad_line(f, points):
    """∫ f over the whole real line, split at ``points`` (the outer pieces by quad's own map of
    an infinite interval, so a tail decaying like a power is not cut off)."""
    edges = [-np.inf] + sorted(set(points)) + [np.inf]
    opts = dict(epsabs=1e-15, epsrel=1e-13, limit=400)
    return sum(integrate.quad(f, a, b, **opts)[0] for a, b in zip(edges[:-1], edges[1:]))


def overlap_whole_line(density, qhat):
    """q(q̂) = ∫ dy Z₁(y)²/Z₀(y), Z_k = ∫ dw w^k P(w) N(y - √q̂ w): the Bayes-optimal prior map of
    the scalar channel Y = √q̂ W + Z, with both integrals over the whole line (a Student-t prior
    has E[w²; |w| > 60] = 4e-5: a window [-60, 60] is not enough)."""
    s = math.sqrt(qhat)
    npdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731

    def ratio(y):
        pk = y / s
        pts = [0.0, pk, pk - 8 / s, pk + 8 / s, -30.0, 30.0]
        z0 = _quad_line(lambda w: density(w) * npdf(y - s * w), pts)
        z1 = _quad_line(lambda w: w * density(w) * npdf(y - s * w), pts)
        return z1 * z1 / z0 if z0 > 0 else 0.0

    span = 10 * math.sqrt(1 + qhat)
    return _quad_line(ratio, [-4 * span, -span, 0.0, span, 4 * span])


def door_bayes_error(q, kappa):
    """The Bayes-optimal door's test error 1 - E_ξ max_y Z(y) = E_ξ min(Z_in, 1 - Z_in), with
    Z_in(ξ) = P(|√q ξ + √(1-q) u| < κ) and a N(0, 1) prior (Barbier et al. 2019, PNAS: the Bayes
    classifier is argmax_y Z_out(y, √q ξ, 1 - q)); by ``mpmath.quad`` at 30 digits, split at
    the two points ±ξ₀ where Z_in = ½ (Z_in is even in ξ and falls with |ξ|)."""
    with mp.workdps(30):
        s = mp.sqrt(1 - mp.mpf(q))

        def zin(t):
            c = mp.sqrt(q) * t
            return (mp.erf((kappa - c) / (s * mp.sqrt(2))) + mp.erf((kappa + c) / (s * mp.sqrt(2)))) / 2

        pts = [-12, 0, 12]
        if zin(0) > mp.mpf(1) / 2:
            x0 = mp.findroot(lambda t: zin(t) - mp.mpf(1) / 2, (mp.mpf(0), mp.mpf(12)), solver="bisect")
            pts = [-12, -x0, 0, x0, 12]
        return float(mp.quad(lambda t: min(zin(t), 1 - zin(t)) * mp.npdf(t), pts))


def door_gibbs_error(q, kappa):
    """A posterior sample's error on the door, 1 - E_ξ Σ_y Z(y)² = 2 E_ξ Z_in (1 - Z_in) (Engel &
    Van den Broeck 2001, ch. 2: the Gibbs error), by ``mpmath.quad`` at 30 digits."""
    with mp.workdps(30):
        s = mp.sqrt(1 - mp.mpf(q))

        def f(t):
            c = mp.sqrt(q) * t
            z = (mp.erf((kappa - c) / (s * mp.sqrt(2))) + mp.erf((kappa + c) / (s * mp.sqrt(2)))) / 2
            return 2 * z * (1 - z) * mp.npdf(t)
        return float(mp.quad(f, [-12, -kappa, 0, kappa, 12]))


# -- Bayes-optimal ±1 labels from any smooth channel P(y|z) -------------------------------------

_GH_U, _GH_W = np.polynomial.hermite_e.hermegauss(160)
_GH_W = _GH_W / math.sqrt(2 * math.pi)


def _label_masses(prob, q, xi):
    """Z(y) = E_u P(y | √q ξ + √(1-q) u) for y = ±1 (160-node Gauss–Hermite in u: P smooth)."""
    z = math.sqrt(q) * xi + math.sqrt(1 - q) * _GH_U
    return {yv: float(np.dot(_GH_W, prob(yv, z))) for yv in (-1, 1)}


def smooth_channel_output_term(prob, q):
    """Σ_y E_ξ Z(y) log Z(y) by ``scipy.integrate.quad`` in ξ (split at 0)."""
    def f(xi):
        Z = _label_masses(prob, q, xi)
        return sum(v * math.log(v) for v in Z.values() if v > 0) * math.exp(-xi * xi / 2) / math.sqrt(2 * math.pi)
    return sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-13, limit=200)[0] for a, b in ((-14, 0), (0, 14)))


def smooth_channel_bayes_error(prob, q):
    """1 − E_ξ max_y Z(y): the Bayes classifier's error (the kink of the max at ξ = 0 for a
    symmetric channel is a split point)."""
    def f(xi):
        return max(_label_masses(prob, q, xi).values()) * math.exp(-xi * xi / 2) / math.sqrt(2 * math.pi)
    return 1 - sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-13, limit=200)[0] for a, b in ((-14, 0), (0, 14)))
