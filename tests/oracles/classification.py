"""Independent reference oracles: perceptron classification (storage and teacher-student).

Hand-written from the literature.  Nothing here is produced by a symbolic engine and nothing
imports or mirrors the toolkit (``replica``); the toolkit's tests compare against these
functions.

Conventions (those of /work/shared/VALIDATION.md)
-------------------------------------------------
* inputs x ~ N(0, I_N), pre-activation lambda = w.x/sqrt(N), alpha = P/N;
* Dt the standard Gaussian measure, N(x) = exp(-x^2/2)/sqrt(2 pi) its density,
  H(x) = erfc(x/sqrt 2)/2 = int_x^inf Dt  (computed in log space: log H(x) = log_ndtr(-x));
* teacher weights w* from the same prior as the student (Ising: uniform on {-1,+1}^N;
  spherical: uniform on the sphere |w|^2 = N);
* sign teacher y = sign(w*.x/sqrt N), flipped independently with probability ``flip``;
* order parameters m = w.w*/N (teacher overlap), q = w^a.w^b/N (overlap of two replicas /
  two posterior samples), Q = |w|^2/N = 1 for both priors;
* generalisation error = probability that the student's label differs from the teacher's
  NOISELESS label = arccos(m/sqrt(Q rho))/pi = arccos(m)/pi here.

Normalisations of the free entropies (all per N, in nats)
---------------------------------------------------------
* Ising storage (Gardner & Derrida 1988): ``entropy`` = (1/N) E log #{w in {+-1}^N that store
  all P patterns with margin kappa}; it equals log 2 at alpha = 0 (COUNTING measure, no
  "- log 2").  The Krauth-Mezard capacity 0.833 is where this count vanishes, s = 0.
* Ising Bayes-optimal teacher-student (Barbier et al. 2019 normalisation): ``Phi`` =
  lim (1/N) E log P(y | X) with the UNIFORM PROBABILITY prior 2^{-N} on {+-1}^N, i.e. the
  log-evidence per weight; Phi = -alpha log 2 at alpha = 0 ... (labels are fair coins),
  Phi(q = 1) = -log 2 - alpha h(flip) (h the binary entropy in nats), and the mutual
  information is I(w*; y | X)/N = -Phi - alpha h(flip).
* Ising Gibbs learning at temperature T (Seung, Sompolinsky & Tishby 1992 normalisation):
  ``free_entropy`` = lim (1/N) E log sum_{w in {+-1}^N} exp(-beta E(w)) with E(w) the number
  of training errors (COUNTING measure: = log 2 at alpha = 0), i.e. -beta f in their notation.
  Relation to the Bayes one on the Nishimori line e^{-beta} = flip/(1-flip) (beta = inf for
  flip = 0):  Phi_Bayes = free_entropy_Gibbs - log 2 + alpha log(1 - flip).
* Spherical Gibbs learning: ``free_entropy`` = lim (1/N) E log [ int_{sphere} dmu(w)
  exp(-beta E(w)) ] with dmu the NORMALISED uniform measure on the sphere (so it is 0 at
  alpha = 0): entropic term (1/2) log(1-q) + (q - m^2)/(2(1-q)).

Numerics: one-dimensional Gaussian averages are done with composite Gauss-Legendre
quadrature (32 nodes per panel) on panels of length <= 1 on [-38, 38], refined around every
sharp feature (width ~ sqrt(1-q) etc.), with all Gaussian tails in log space; quantities with
1 - q tiny are computed from shifted integrals that give log(1 - q) directly.  The test-suite
checks this quadrature against mpmath.quad.  Closed forms (Gardner, the large-alpha constants,
the spherical version-space equation) are evaluated with mpmath at mp.dps >= 30.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from scipy import optimize, special

__all__ = [
    # 1. spherical storage
    "gardner_alpha_c",
    "gardner_kappa_max",
    # 2. Ising storage
    "ising_storage_rs",
    "ising_storage_entropy_zero_alpha",
    "ising_storage_q1_alpha",
    # 3. spherical teacher-student, version space / Bayes
    "spherical_gibbs_T0",
    "spherical_bayes",
    "spherical_gibbs_T0_asymptotic_constant",
    "spherical_bayes_asymptotic_constant",
    # 4. Ising teacher-student, Bayes-optimal
    "ising_bayes_fixed_point",
    "ising_bayes_free_entropy",
    "ising_bayes_spinodal",
    "ising_bayes_first_order",
    "ising_annealed_threshold",
    # 5. Gibbs learning at temperature T
    "ising_gibbs",
    "ising_gibbs_free_entropy",
    "spherical_gibbs",
    "spherical_gibbs_free_entropy",
    "gibbs_energetic_term",
    "ConvergenceError",
]

MP_DPS = 30
LOG2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class ConvergenceError(RuntimeError):
    """Raised whenever an oracle's iteration / root search does not converge."""


# ----------------------------------------------------------------------------------------
# Gaussian helpers (numpy, log space)
# ----------------------------------------------------------------------------------------

def _logN(x):
    return -0.5 * x * x - _LOG_SQRT_2PI


def _logH(x):
    """log H(x), H(x) = erfc(x/sqrt2)/2, accurate in both tails."""
    return special.log_ndtr(-x)


def _H(x):
    return special.ndtr(-x)


def _softplus(x):
    """log(1 + e^x), stable."""
    return np.logaddexp(0.0, x)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)
_OFFSETS = np.array([0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
_OFFSETS = np.concatenate([-_OFFSETS[1:], _OFFSETS])
_L = 38.0  # exp(-38^2/2) ~ 1e-314: the Gaussian weight is below double precision beyond


def _panels(lo, hi, features=(), step=1.0):
    """Break points on [lo, hi]: a uniform grid of spacing <= step plus, for every feature
    (centre, width), the points centre + width * (0, +-1/8, ..., +-64)."""
    pts = [np.linspace(lo, hi, int(math.ceil((hi - lo) / step)) + 1)]
    for c, w in features:
        if not (np.isfinite(c) and np.isfinite(w)) or w <= 0:
            continue
        pts.append(c + w * _OFFSETS)
    p = np.unique(np.clip(np.concatenate(pts), lo, hi))
    keep = np.concatenate([[True], np.diff(p) > 1e-14 * (1.0 + np.abs(p[1:]))])
    return p[keep]


def _integrate(fun, pts):
    """Composite 32-point Gauss-Legendre of a vectorised fun over the panels pts."""
    a = pts[:-1]
    b = pts[1:]
    half = 0.5 * (b - a)
    x = 0.5 * (a + b)[None, :] + half[None, :] * _GL_X[:, None]
    w = half[None, :] * _GL_W[:, None]
    return float(np.sum(fun(x) * w))


def _gexp(fun, features=()):
    """E_z fun(z), z ~ N(0,1): int_{-38}^{38} dz N(z) fun(z), fun vectorised."""
    pts = _panels(-_L, _L, ((0.0, 1.0),) + tuple(features))
    return _integrate(lambda z: np.exp(_logN(z)) * fun(z), pts)


def _check_finite(*vals):
    for v in vals:
        if not np.all(np.isfinite(v)):
            raise ConvergenceError(f"non-finite value {v!r}")


# ----------------------------------------------------------------------------------------
# 1. Spherical perceptron storage: Gardner 1988
# ----------------------------------------------------------------------------------------

def _mp_H(x):
    return mp.erfc(x / mp.sqrt(2)) / 2


def _mp_N(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def gardner_alpha_c(kappa):
    """Gardner capacity of the spherical perceptron with margin kappa (random labels).

        alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2
                       = 1 / [ (1 + kappa^2) H(-kappa) + kappa N(kappa) ].

    E. Gardner, J. Phys. A 21, 257 (1988), eq. (40).  mpmath, dps = 30; returns mpf.
    """
    with mp.workdps(MP_DPS):
        k = mp.mpf(kappa)
        return 1 / ((1 + k * k) * _mp_H(-k) + k * _mp_N(k))


def gardner_kappa_max(alpha):
    """Maximal stability kappa_max(alpha) of the spherical perceptron: the root of
    gardner_alpha_c(kappa) = alpha (Gardner 1988), alpha_c being strictly decreasing in kappa.
    mpmath findroot (Anderson on a bracket, then a Newton-type polish), dps = 30; returns mpf.
    """
    with mp.workdps(MP_DPS):
        a = mp.mpf(alpha)
        if a <= 0:
            raise ValueError("alpha must be > 0")
        f = lambda k: 1 / gardner_alpha_c(k) - 1 / a  # increasing in k
        lo, hi = mp.mpf(-1), mp.mpf(1)
        for _ in range(200):
            if f(lo) < 0:
                break
            lo *= 2
        for _ in range(200):
            if f(hi) > 0:
                break
            hi *= 2
        if not (f(lo) < 0 < f(hi)):
            raise ConvergenceError("no bracket for kappa_max")
        k = mp.findroot(f, (lo, hi), solver="anderson")
        k = mp.findroot(f, k, solver="secant", tol=mp.mpf(10) ** (-MP_DPS + 3))
        if abs(f(k)) > mp.mpf(10) ** (-MP_DPS + 5):
            raise ConvergenceError("kappa_max root not converged")
        return k


# ----------------------------------------------------------------------------------------
# 2. Ising perceptron storage, replica symmetric (Gardner & Derrida 1988; Krauth & Mezard 1989)
# ----------------------------------------------------------------------------------------
#
# s(q, qh) = -qh (1-q)/2 + E_z log(2 cosh(sqrt(qh) z)) + alpha E_t log H(u),
#     u = (kappa - sqrt(q) t)/sqrt(1-q).
# Stationarity: d/dqh -> q = E_z tanh^2(sqrt(qh) z);
#               d/dq  -> qh = alpha/(1-q) E_t [ (N(u)/H(u))^2 ].
# We parametrise the RS solution by qh: q(qh) from the first equation, then alpha(qh) =
# qh (1-q) / E_t[(N/H)^2]; alpha(qh) increases from 0 to the q -> 1 point.

def _ising_prior_storage(qh):
    """(q, 1-q, E log 2cosh(sqrt(qh) z)) for the Ising storage prior (no teacher field)."""
    if qh <= 0:
        return 0.0, 1.0, LOG2
    s = math.sqrt(qh)
    feats = ((0.0, 1.0 / s),)
    # sech^2 y = 4 e^{-2|y|}/(1+e^{-2|y|})^2
    def sech2(z):
        y = np.abs(s * z)
        return 4.0 * np.exp(-2.0 * y - 2.0 * _softplus(-2.0 * y))
    omq = _gexp(sech2, feats)
    # log 2cosh y = |y| + log(1 + e^{-2|y|})
    lc = _gexp(lambda z: np.abs(s * z) + _softplus(-2.0 * np.abs(s * z)), feats)
    return 1.0 - omq, omq, lc


def _storage_energetic(q, omq, kappa):
    """(E_t log H(u), E_t (N(u)/H(u))^2) with u = (kappa - sqrt(q) t)/sqrt(1-q)."""
    sq = math.sqrt(q)
    so = math.sqrt(omq)
    feats = ((kappa / sq, so / sq),) if sq > 0 else ()

    def u(t):
        return (kappa - sq * t) / so

    e_logH = _gexp(lambda t: _logH(u(t)), feats)
    e_r2 = _gexp(lambda t: np.exp(2.0 * (_logN(u(t)) - _logH(u(t)))), feats)
    return e_logH, e_r2


def _storage_state(qh, kappa):
    q, omq, lc = _ising_prior_storage(qh)
    e_logH, e_r2 = _storage_energetic(q, omq, kappa)
    alpha = qh * omq / e_r2
    s = -0.5 * qh * omq + lc + alpha * e_logH
    return dict(q=q, one_minus_q=omq, q_hat=qh, alpha=alpha, entropy=s)


def ising_storage_q1_alpha(kappa=0.0):
    """Load at which the RS solution of the Ising (+-1) perceptron storage problem reaches
    q -> 1 (Gardner & Derrida, J. Phys. A 21, 271 (1988); wrong as a capacity, RSB/entropy
    crossing occurs first).

    Derivation (q -> 1, eps = 1-q, qh -> inf): the prior gives
    eps = E sech^2(sqrt(qh) z) ~ 2 N(0)/sqrt(qh) = sqrt(2/pi)/sqrt(qh), i.e. qh = (2/pi)/eps^2;
    the output gives (N(u)/H(u))^2 ~ u^2 Theta(u) so qh ~ alpha I(kappa)/eps^2 with
    I(kappa) = int_{-inf}^{kappa} Dt (kappa - t)^2 = 1/gardner_alpha_c(kappa).  Hence

        alpha_{q->1}(kappa) = (2/pi) / I(kappa) = (2/pi) alpha_c^{Gardner}(kappa),

    = 4/pi at kappa = 0.  mpmath, dps = 30; returns mpf.
    """
    with mp.workdps(MP_DPS):
        return 2 / mp.pi * gardner_alpha_c(kappa)


def ising_storage_rs(alpha, kappa=0.0):
    """Replica-symmetric solution of the Ising perceptron storage problem with margin kappa
    (Gardner & Derrida, J. Phys. A 21, 271 (1988); Krauth & Mezard, J. Phys. France 50,
    3057 (1989)):

        q  = E_z tanh^2(sqrt(qh) z),
        qh = alpha/(1-q) E_t[(N(u)/H(u))^2],   u = (kappa - sqrt(q) t)/sqrt(1-q),
        s  = -qh(1-q)/2 + E_z log(2cosh(sqrt(qh) z)) + alpha E_t log H(u)

    with the COUNTING measure (s = log 2 at alpha = 0; s = (1/N) E log #solutions).  Solved by
    a bracketing root search on alpha(qh) (the curve is parametrised by qh), residuals of both
    equations re-checked.  Returns dict(q, q_hat, entropy).  Raises ConvergenceError if
    alpha >= ising_storage_q1_alpha(kappa) (no RS solution with q < 1) or on failure.
    """
    if alpha <= 0:
        return dict(q=0.0, q_hat=0.0, entropy=LOG2)
    a1 = float(ising_storage_q1_alpha(kappa))
    if alpha >= a1:
        raise ConvergenceError(f"alpha={alpha} beyond the RS q->1 point {a1}")
    g = lambda lqh: _storage_state(math.exp(lqh), kappa)["alpha"] - alpha
    lo, hi = -30.0, 0.0
    while g(hi) < 0:
        hi += 2.0
        if hi > 40:
            raise ConvergenceError("no bracket in ising_storage_rs")
    if g(lo) > 0:
        raise ConvergenceError("no bracket in ising_storage_rs (low side)")
    lqh = optimize.brentq(g, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
    st = _storage_state(math.exp(lqh), kappa)
    # residual checks of both RS equations
    q2, omq2, _ = _ising_prior_storage(st["q_hat"])
    _, e_r2 = _storage_energetic(st["q"], st["one_minus_q"], kappa)
    r1 = abs(q2 - st["q"])
    r2 = abs(st["q_hat"] - alpha / st["one_minus_q"] * e_r2) / max(1.0, st["q_hat"])
    if r1 > 1e-12 or r2 > 1e-10:
        raise ConvergenceError(f"RS storage residuals {r1}, {r2}")
    return dict(q=st["q"], q_hat=st["q_hat"], entropy=st["entropy"])


def ising_storage_entropy(q, q_hat, alpha, kappa=0.0):
    """The RS entropy functional s(q, qh) of ising_storage_rs at arbitrary (q, qh) (for
    finite-difference stationarity checks); counting measure."""
    _, _, lc = _ising_prior_storage(q_hat)
    e_logH, _ = _storage_energetic(q, 1.0 - q, kappa)
    return -0.5 * q_hat * (1.0 - q) + lc + alpha * e_logH


def ising_storage_entropy_zero_alpha(kappa=0.0):
    """Load at which the RS entropy (counting measure) of the Ising perceptron storage problem
    vanishes: the Krauth-Mezard capacity, 0.8330786... at kappa = 0 (Krauth & Mezard 1989,
    J. Phys. France 50, 3057; proved by Ding & Sun 2019).  Root in qh of s(qh) along the RS
    solution curve (brentq, xtol 1e-15 on log qh)."""
    f = lambda lqh: _storage_state(math.exp(lqh), kappa)["entropy"]
    lo, hi = -10.0, 0.0
    if f(lo) <= 0:
        raise ConvergenceError("entropy already negative at small qh")
    while f(hi) > 0:
        hi += 1.0
        if hi > 30:
            raise ConvergenceError("no entropy zero found")
    lqh = optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500)
    return _storage_state(math.exp(lqh), kappa)["alpha"]


# ----------------------------------------------------------------------------------------
# 3. Spherical teacher-student with a sign teacher: version space (Gibbs T=0) and Bayes
# ----------------------------------------------------------------------------------------

def _mp_vs_integral(R):
    """I(R) = int Dt exp(-R t^2/2) / H(-sqrt(R) t) (mpmath)."""
    sR = mp.sqrt(R)
    f = lambda t: mp.exp(-(1 + R) * t * t / 2) / (mp.sqrt(2 * mp.pi) * _mp_H(-sR * t))
    return mp.quad(f, [-mp.inf, -5, 0, 5, mp.inf])


def _spherical_vs_R(alpha):
    """Root R of R/sqrt(1-R) = (alpha/pi) I(R), solved in the variable x = log(R/(1-R))."""
    with mp.workdps(MP_DPS):
        a = mp.mpf(alpha)
        if a <= 0:
            return mp.mpf(0)

        def F(x):
            R = 1 / (1 + mp.exp(-x))
            omR = 1 / (1 + mp.exp(x))
            return mp.log(R / mp.sqrt(omR)) - mp.log(a / mp.pi * _mp_vs_integral(R))

        lo, hi = mp.mpf(-5), mp.mpf(5)
        while F(lo) > 0:
            lo -= 5
            if lo < -200:
                raise ConvergenceError("no bracket (low)")
        while F(hi) < 0:
            hi += 5
            if hi > 200:
                raise ConvergenceError("no bracket (high)")
        x = mp.findroot(F, (lo, hi), solver="anderson")
        x = mp.findroot(F, x, solver="secant", tol=mp.mpf(10) ** (-MP_DPS + 4))
        if abs(F(x)) > mp.mpf(10) ** (-MP_DPS + 8):
            raise ConvergenceError("version-space equation not converged")
        return 1 / (1 + mp.exp(-x))


def spherical_gibbs_T0(alpha):
    """Spherical student and teacher, noiseless sign teacher, Gibbs learning at T = 0
    (uniform sampling of the version space).  Gyorgyi & Tishby 1990; Engel & Van den Broeck,
    Statistical Mechanics of Learning (2001), ch. 2, eq. (2.42):

        R / sqrt(1 - R) = (alpha/pi) int Dt exp(-R t^2/2) / H(-sqrt(R) t),
        eps_Gibbs = arccos(R)/pi,

    with R = m = q (teacher overlap equals replica overlap, Nishimori).  mpmath, dps = 30.
    Returns dict(R, eps) of mpf.
    """
    with mp.workdps(MP_DPS):
        R = _spherical_vs_R(alpha)
        return dict(R=R, eps=mp.acos(R) / mp.pi)


def spherical_bayes(alpha):
    """Bayes-optimal spherical perceptron with a noiseless sign teacher (Opper & Haussler,
    PRL 66, 2677 (1991)): the Bayes student is the centre of mass of the version space; with
    q = R the version-space overlap of spherical_gibbs_T0 (same equation), its teacher overlap
    is R/sqrt(q) = sqrt(q), so

        eps_Bayes = arccos(sqrt(q))/pi.

    (Equivalently the Gaussian-prior BO equations q = qh/(1+qh), qh = (2 alpha/(1-q))
    E_xi N(u)^2/H(u), u = sqrt(q) xi/sqrt(1-q), reduce to the same equation.)  mpmath, dps 30.
    Returns dict(q, eps) of mpf.
    """
    with mp.workdps(MP_DPS):
        R = _spherical_vs_R(alpha)
        return dict(q=R, eps=mp.acos(mp.sqrt(R)) / mp.pi)


def _mp_C_asym():
    """C = int Dt exp(-t^2/2)/H(-t) = I(1)."""
    return _mp_vs_integral(mp.mpf(1))


def spherical_gibbs_T0_asymptotic_constant():
    """lim alpha eps_Gibbs for the spherical version space.  For alpha -> inf, R -> 1 and the
    integral tends to C = int Dt e^{-t^2/2}/H(-t) (convergent), so 1/sqrt(1-R) ~ alpha C/pi and
    eps_Gibbs = arccos(R)/pi ~ sqrt(2(1-R))/pi = sqrt(2)/(alpha C):  returns sqrt(2)/C
    (= 0.62465819..., Engel & Van den Broeck 2001 eq. (2.44), ~0.625/alpha)."""
    with mp.workdps(MP_DPS):
        return mp.sqrt(2) / _mp_C_asym()


def spherical_bayes_asymptotic_constant():
    """lim alpha eps_Bayes: eps_Bayes = arccos(sqrt R)/pi ~ sqrt(1-R)/pi = 1/(alpha C):
    returns 1/C (= 0.44170004..., Opper & Haussler 1991, ~0.442/alpha)."""
    with mp.workdps(MP_DPS):
        return 1 / _mp_C_asym()


# ----------------------------------------------------------------------------------------
# 4. Ising teacher and student, sign teacher with label flips, Bayes-optimal
#    (Gyorgyi 1990; Barbier, Krzakala, Macris, Miolane & Zdeborova 2019)
# ----------------------------------------------------------------------------------------
#
# RS potential (Barbier et al. 2019, PNAS 116, 5451, eqs. (3)-(5), rho = 1):
#
#   Phi(q, qh) = psi(qh) - q qh/2 + alpha Psi_out(q),
#   psi(qh)    = E_{z, w*} log E_{w uniform on +-1} exp(qh w* w + sqrt(qh) z w - qh w^2/2)
#              = -qh/2 + E_z log cosh(qh + sqrt(qh) z)                        (w* = +1 gauge)
#   Psi_out(q) = E_xi sum_{y=+-1} Z(y, sqrt(q) xi, 1-q) log Z(y, sqrt(q) xi, 1-q),
#   Z(y, omega, V) = flip + (1 - 2 flip) H(-y omega/sqrt V).
#
# With x = qh + sqrt(qh) z:  log cosh x = x - log 2 + softplus(-2x), so
#   psi(qh) - q qh/2 = qh (1-q)/2 - log 2 + E softplus(-2x),
# and shifting z = s - sqrt(qh) (x = sqrt(qh) s, N(z) = N(s) e^{sqrt(qh) s - qh/2}):
#   1 - E tanh x     = e^{-qh/2} E_s[ 2 exp(sqrt(qh) s - softplus(2 sqrt(qh) s)) ],
#   E softplus(-2x)  = e^{-qh/2} E_s[ exp(sqrt(qh) s) softplus(-2 sqrt(qh) s) ],
# which gives log(1-q) without cancellation for any qh.
#
# Stationarity:  d/dqh:  q = 2 E tanh - E tanh^2 = E tanh x  (Nishimori: E tanh = E tanh^2),
#                d/dq :  qh = 2 alpha Psi_out'(q) = alpha E_xi sum_y (d_omega Z)^2 / Z
#                            = alpha (1-2f)^2/(1-q) E_xi N(u)^2 [1/Z_+ + 1/Z_-],
#                u = sqrt(q) xi/sqrt(1-q), Z_+- = f + (1-2f) H(-+u).
# In the variable u (xi = c u, c = sqrt((1-q)/q)):
#   E_xi F(u) = int du c N(c u) F(u),  so  qh = alpha (1-2f)^2/sqrt(q(1-q)) int du N(cu) N(u)^2 [..]
# which is regular as q -> 1.  q = 1 (qh = inf) is always a fixed point, superstable:
# 1 - q' ~ exp(-const alpha/sqrt(1-q)).

def _bo_prior(qh):
    """(q, 1-q, log(1-q), E_z softplus(-2(qh + sqrt(qh) z))) for the BO Ising prior, from the
    shifted integrals (no cancellation when 1 - q is tiny)."""
    if qh <= 0:
        return 0.0, 1.0, 0.0, LOG2
    sq = math.sqrt(qh)
    feats = ((0.0, 1.0 / sq),)
    j1 = _gexp(lambda s: 2.0 * np.exp(sq * s - _softplus(2.0 * sq * s)), feats)
    j2 = _gexp(lambda s: np.exp(sq * s) * _softplus(-2.0 * sq * s), feats)
    log_omq = -0.5 * qh + math.log(j1)
    omq = math.exp(log_omq)
    return 1.0 - omq, omq, log_omq, math.exp(-0.5 * qh) * j2


def _bo_prior_tanh2(qh):
    """E tanh^2(qh + sqrt(qh) z) directly (for the Nishimori check q = E tanh = E tanh^2)."""
    sq = math.sqrt(qh)
    return _gexp(lambda z: np.tanh(qh + sq * z) ** 2, ((-sq, 1.0 / sq),))


def _u_expect(fun, omq):
    """E_xi fun(u), u = sqrt(q) xi/sqrt(1-q), xi ~ N(0,1); omq = 1 - q in (0, 1]."""
    q = 1.0 - omq
    if q <= 0:
        return float(fun(np.array([0.0]))[0])
    c = math.sqrt(omq / q)
    umax = min(_L, _L / c)
    pts = _panels(-umax, umax, ((0.0, 1.0), (0.0, 1.0 / c)), step=min(1.0, 1.0 / c))
    return _integrate(lambda u: c * np.exp(_logN(c * u)) * fun(u), pts)


def _bo_logZ(u, flip):
    """(log Z_+(u), log Z_-(u)), Z_+- = f + (1-2f) H(-+u)."""
    if flip == 0:
        return _logH(-u), _logH(u)
    lf, l12 = math.log(flip), math.log1p(-2.0 * flip)
    return np.logaddexp(lf, l12 + _logH(-u)), np.logaddexp(lf, l12 + _logH(u))


def _bo_g(omq, flip):
    """qh/alpha as a function of q (given as omq = 1-q > 0)."""
    q = 1.0 - omq

    def F(u):
        lp, lm = _bo_logZ(u, flip)
        ln2 = 2.0 * _logN(u)
        return np.exp(ln2 - lp) + np.exp(ln2 - lm)

    return (1.0 - 2.0 * flip) ** 2 / omq * _u_expect(F, omq) if q < 1 else math.inf


def _bo_psi_out(omq, flip):
    def F(u):
        lp, lm = _bo_logZ(u, flip)
        return np.exp(lp) * lp + np.exp(lm) * lm
    return _u_expect(F, omq)


def _binary_entropy(f):
    if f == 0:
        return 0.0
    return -(f * math.log(f) + (1 - f) * math.log1p(-f))


def _bo_phi_perfect(alpha, flip):
    return -LOG2 - alpha * _binary_entropy(flip)


def ising_bayes_free_entropy(alpha, flip, q, qhat=None, one_minus_q=None):
    """RS free entropy of the Bayes-optimal Ising perceptron (Gyorgyi, PRA 41, 7097 (1990);
    Barbier, Krzakala, Macris, Miolane & Zdeborova, PNAS 116, 5451 (2019)):

        Phi(q, qh) = -q qh/2 - qh/2 + E_z log cosh(qh + sqrt(qh) z)
                     + alpha E_xi sum_y Z(y) log Z(y),
        Z(y) = flip + (1-2 flip) H(-y sqrt(q) xi/sqrt(1-q)).

    Normalisation: Phi = lim (1/N) E log P(y | X) with the uniform probability prior on
    {+-1}^N (log-evidence per weight); Phi(alpha=0) = 0, Phi(q=0, qh=0) = -alpha log 2,
    Phi(q=1) = -log 2 - alpha h(flip); I(w*; y|X)/N = -Phi - alpha h(flip).
    (The brief's "log 2cosh" version is Phi + log 2, the counting-measure one.)

    If qhat is None the output update qh = alpha (1-2f)^2/(1-q) E_xi N(u)^2[1/Z_+ + 1/Z_-] is
    used.  Give one_minus_q instead of q when 1 - q is tiny.  q = 1 returns the closed form.
    """
    omq = (1.0 - q) if one_minus_q is None else one_minus_q
    if omq <= 0:
        return _bo_phi_perfect(alpha, flip)
    if qhat is None:
        qhat = alpha * _bo_g(omq, flip)
    # psi(qh) - q qh/2 = qh (1-q)/2 - log 2 + E softplus(-2(qh + sqrt(qh) z))
    e_sp = _bo_prior(qhat)[3]
    return 0.5 * qhat * omq - LOG2 + e_sp + alpha * _bo_psi_out(omq, flip)


def _bo_eps(q):
    q = min(max(q, -1.0), 1.0)
    return dict(eps_gibbs=math.acos(q) / math.pi, eps_bayes=math.acos(math.sqrt(max(q, 0.0))) / math.pi)


def ising_bayes_fixed_point(alpha, flip=0.0, q0=1e-6, damping=1.0, tol=1e-13,
                            maxiter=200000, perfect_tol=1e-15):
    """Damped fixed-point iteration of the RS equations of the Bayes-optimal Ising perceptron
    (see ising_bayes_free_entropy):

        qh <- alpha (1-2f)^2/(1-q) E_xi N(u)^2 [1/Z_+(u) + 1/Z_-(u)],  u = sqrt(q)xi/sqrt(1-q)
        q  <- (1-d) q + d E_z tanh(qh + sqrt(qh) z)

    iterated on delta = 1 - q in log-safe form until |dq| < tol.  q = 1 is an exact
    (superstable) fixed point: if 1 - q drops below perfect_tol the q = 1 solution is returned
    (branch 'perfect', qh = inf, Phi = -log 2 - alpha h(flip)).  Raises ConvergenceError after
    maxiter iterations.

    Returns dict(q, q_hat, one_minus_q, free_entropy (Phi, log-evidence normalisation), branch,
    iterations, eps_gibbs = arccos(q)/pi, eps_bayes = arccos(sqrt q)/pi).
    eps_gibbs is the error of a posterior sample (teacher overlap m = q by Nishimori, |w|^2 = N);
    eps_bayes that of the Bayes-optimal predictor: the posterior cavity field of a new input is
    Gaussian with mean w_hat.x/sqrt N and variance 1 - q, so the majority vote is
    sign(w_hat.x), w_hat the posterior mean, with overlap m/sqrt(q) = sqrt(q) to the teacher.
    """
    if not (0 <= flip < 0.5):
        raise ValueError("flip must be in [0, 1/2)")
    if alpha <= 0:
        return dict(q=0.0, q_hat=0.0, one_minus_q=1.0, free_entropy=0.0, branch="low",
                    iterations=0, **_bo_eps(0.0))
    omq = 1.0 - q0
    for it in range(1, maxiter + 1):
        qh = alpha * _bo_g(omq, flip)
        _, omq_new, _, _ = _bo_prior(qh)
        omq_new = (1.0 - damping) * omq + damping * omq_new
        _check_finite(qh, omq_new)
        if omq_new < perfect_tol and omq_new <= omq:
            return dict(q=1.0, q_hat=math.inf, one_minus_q=0.0,
                        free_entropy=_bo_phi_perfect(alpha, flip), branch="perfect",
                        iterations=it, **_bo_eps(1.0))
        d = abs(omq_new - omq)
        omq = omq_new
        if d < tol:
            break
    else:
        raise ConvergenceError(f"ising_bayes_fixed_point: no convergence (alpha={alpha})")
    qh = alpha * _bo_g(omq, flip)
    q = 1.0 - omq
    return dict(q=q, q_hat=qh, one_minus_q=omq,
                free_entropy=ising_bayes_free_entropy(alpha, flip, q, qh, one_minus_q=omq),
                branch="low" if q < 0.99 else "high", iterations=it, **_bo_eps(q))


def _bo_curve(qh, flip):
    """Point of the RS fixed-point curve parametrised by qh: (alpha, q, 1-q, Phi)."""
    q, omq, _, _ = _bo_prior(qh)
    alpha = qh / _bo_g(omq, flip)
    return alpha, q, omq


def _bo_first_local_max(flip):
    """(qh*, alpha*) at the first local maximum of alpha(qh) along the fixed-point curve."""
    grid = np.exp(np.linspace(math.log(1e-3), math.log(200.0), 400))
    al = np.array([_bo_curve(x, flip)[0] for x in grid])
    idx = None
    for i in range(1, len(grid) - 1):
        if al[i] >= al[i - 1] and al[i] > al[i + 1]:
            idx = i
            break
    if idx is None:
        raise ConvergenceError("alpha(qh) has no local maximum: no spinodal")
    lo, hi = math.log(grid[idx - 1]), math.log(grid[idx + 1])
    res = optimize.minimize_scalar(lambda l: -_bo_curve(math.exp(l), flip)[0],
                                   bounds=(lo, hi), method="bounded",
                                   options=dict(xatol=1e-10, maxiter=500))
    if not res.success:
        raise ConvergenceError("spinodal maximisation failed")
    return math.exp(res.x), -res.fun


def ising_bayes_spinodal(flip=0.0, method="curve", tol=1e-6, q0=1e-8):
    """Spinodal (algorithmic / AMP threshold) of the Bayes-optimal Ising perceptron: the load
    at which the low-q ("uninformative") RS branch reached by iteration from q ~ 0 ceases to
    exist, so that iteration jumps to q = 1.  Barbier et al. 2019 quote alpha_alg ~ 1.493.

    method='curve' (default): every fixed point in (0,1) lies on the curve
    qh -> (q(qh) = E tanh(qh + sqrt(qh) z), alpha(qh) = qh/g(q(qh))), g = qh/alpha of the output
    update; alpha(qh) rises from 0, has a maximum (the saddle-node) and decays to 0 as q -> 1.
    The spinodal is the first local maximum of alpha(qh) (bounded Brent, xatol 1e-10 in log qh;
    the value of the maximum is then exact to ~1e-15).
    method='iteration': bisection on alpha of "ising_bayes_fixed_point from q0 converges to a
    low branch vs reaches q = 1", to |Delta alpha| < tol (slow near the threshold: critical
    slowing down).

    Both give alpha_sp = 1.49257... at flip = 0 (the 1.4933 of a peer code is not
    reproduced; 1.493 of Barbier et al. is the rounded value).
    """
    if method == "curve":
        return _bo_first_local_max(flip)[1]
    if method != "iteration":
        raise ValueError(method)
    a_sp = _bo_first_local_max(flip)[1]
    lo, hi = a_sp - 0.05, a_sp + 0.05

    def reaches_one(a):
        r = ising_bayes_fixed_point(a, flip, q0=q0, maxiter=2000000)
        return r["branch"] != "low"

    if reaches_one(lo) or not reaches_one(hi):
        raise ConvergenceError("bisection bracket invalid")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if reaches_one(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def ising_bayes_first_order(flip=0.0):
    """First-order (information-theoretic) transition of the Bayes-optimal Ising perceptron:
    the load at which the free entropy of the low-q branch equals that of the q = 1 solution,

        Phi_low(alpha) = Phi(q = 1) = -log 2 - alpha h(flip)

    (log-evidence normalisation, see ising_bayes_free_entropy).  Solved along the low branch of
    the curve parametrised by qh (brentq, xtol 1e-14), below the spinodal.

    Result at flip = 0: alpha_IT = 1.24902..., i.e. the value 1.249 of Barbier, Krzakala, Macris,
    Miolane & Zdeborova (PNAS 2019), NOT Gyorgyi's 1.245 (PRA 41, 7097 (1990)); the RS
    free-entropy crossing of these equations is 1.2490 to all digits this oracle resolves.
    """
    qh_sp, a_sp = _bo_first_local_max(flip)

    def D(lqh):
        qh = math.exp(lqh)
        alpha, q, omq = _bo_curve(qh, flip)
        phi = ising_bayes_free_entropy(alpha, flip, q, qh, one_minus_q=omq)
        return phi - _bo_phi_perfect(alpha, flip)

    lo, hi = math.log(1e-4), math.log(qh_sp)
    if not (D(lo) > 0 and D(hi) < 0):
        raise ConvergenceError("no first-order crossing below the spinodal")
    lqh = optimize.brentq(D, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500)
    return _bo_curve(math.exp(lqh), flip)[0]


def ising_annealed_threshold():
    """Annealed (first-moment) perfect-learning threshold of the Ising perceptron with a
    noiseless Ising sign teacher (Lyuu & Rivin, Neural Comput. 4, 854 (1992)):
    E #{w != w* consistent} = sum_d C(N,d) (1 - arccos(1 - 2d/N)/pi)^P, so

        alpha_ann = max_{0<x<1} h(x) / (-log(1 - arccos(1 - 2x)/pi)),  h binary entropy (nats).

    mpmath, dps = 30."""
    with mp.workdps(MP_DPS):
        def r(x):
            h = -(x * mp.log(x) + (1 - x) * mp.log(1 - x))
            return h / (-mp.log(1 - mp.acos(1 - 2 * x) / mp.pi))
        dr = lambda x: mp.diff(r, x)
        xs = [mp.mpf(i) / 200 for i in range(1, 200)]
        i = max(range(len(xs)), key=lambda k: r(xs[k]))
        x = mp.findroot(dr, (xs[i - 1], xs[i + 1]), solver="anderson")
        return r(x)
