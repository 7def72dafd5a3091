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
  log-evidence per weight; Phi(q = 0, qh = 0) = -alpha log 2 (labels fair coins),
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

import functools
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
    "ising_storage_entropy",
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
    "ising_gibbs_first_order",
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


def _log_softplus(x):
    """log(log(1 + e^x)), stable for x -> -inf (where it is ~ x)."""
    x = np.asarray(x, dtype=float)
    xs = np.where(x < -700.0, 0.0, x)
    return np.where(x < -700.0, x, np.log(np.logaddexp(0.0, xs)))


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


def _np_vs_logit_R(alpha):
    """Double-precision solution x = log(R/(1-R)) of the version-space equation (GL
    quadrature + brentq); only the starting point of the mpmath polish."""
    def F(x):
        R = 1.0 / (1.0 + math.exp(-x))
        omR = 1.0 / (1.0 + math.exp(x))
        sR = math.sqrt(R)
        I = _gexp(lambda t: np.exp(-0.5 * R * t * t - _logH(-sR * t)))
        return math.log(R) - 0.5 * math.log(omR) - math.log(alpha / math.pi * I)

    lo, hi = -5.0, 5.0
    while F(lo) > 0:
        lo -= 5.0
        if lo < -200:
            raise ConvergenceError("no bracket (low)")
    while F(hi) < 0:
        hi += 5.0
        if hi > 200:
            raise ConvergenceError("no bracket (high)")
    return optimize.brentq(F, lo, hi, xtol=1e-13, rtol=1e-15)


@functools.lru_cache(maxsize=64)
def _spherical_vs_R(alpha):
    """Root R of R/sqrt(1-R) = (alpha/pi) I(R), solved in x = log(R/(1-R)) with mpmath
    (secant from the double-precision root), residual checked at dps 30."""
    with mp.workdps(MP_DPS):
        a = mp.mpf(alpha)
        if a <= 0:
            return mp.mpf(0)

        def F(x):
            R = 1 / (1 + mp.exp(-x))
            omR = 1 / (1 + mp.exp(x))
            return mp.log(R / mp.sqrt(omR)) - mp.log(a / mp.pi * _mp_vs_integral(R))

        x0 = mp.mpf(_np_vs_logit_R(float(alpha)))
        x = mp.findroot(F, (x0, x0 + mp.mpf("1e-9")), solver="secant",
                        tol=mp.mpf(10) ** (-2 * MP_DPS + 8))
        if abs(F(x)) > mp.mpf(10) ** (-MP_DPS + 4) or abs(x - x0) > 1e-6:
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
    j2 = _gexp(lambda s: np.exp(sq * s + _log_softplus(-2.0 * sq * s)), feats)
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

    Result at flip = 0: alpha_sp = 1.4926318182 (curve; q = 0.89366 at the saddle-node);
    the iteration bisection gives 1.49263 (1.4926294 at tol 1e-5, 1.4926319 at tol 1e-6).
    So the fixed point gives 1.49263, consistent with Barbier et al.'s rounded 1.493; a
    value 1.4933 is NOT reproduced.  flip = 0.01, 0.05, 0.1: 1.655586, 2.198451, 3.011697.
    """
    if method == "curve":
        return float(_bo_first_local_max(flip)[1])
    if method != "iteration":
        raise ValueError(method)
    # bracket deliberately NOT centred on the curve value, so that no bisection midpoint
    # lands on the saddle-node itself (where the iteration converges only algebraically)
    a_sp = _bo_first_local_max(flip)[1]
    lo, hi = 0.93 * a_sp, 1.0537 * a_sp

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
    return float(0.5 * (lo + hi))


def ising_bayes_first_order(flip=0.0):
    """First-order (information-theoretic) transition of the Bayes-optimal Ising perceptron:
    the load at which the free entropy of the low-q branch equals that of the q = 1 solution,

        Phi_low(alpha) = Phi(q = 1) = -log 2 - alpha h(flip)

    (log-evidence normalisation, see ising_bayes_free_entropy).  Solved along the low branch of
    the curve parametrised by qh (brentq, xtol 1e-14), below the spinodal.

    Result at flip = 0: alpha_IT = 1.2446839899, i.e. Gyorgyi's 1.245 (PRA 41, 7097 (1990)),
    NOT the 1.249 quoted by Barbier, Krzakala, Macris, Miolane & Zdeborova (PNAS 2019).  The
    crossing is confirmed independently by thermodynamic integration,
    Phi_low(alpha) = int_0^alpha Psi_out(q(alpha')) d alpha' (envelope theorem; tested), which
    reaches -log 2 at the same alpha to ~1e-14.  flip = 0.01, 0.05, 0.1: 1.381748, 1.835011,
    2.513713.
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
    return float(_bo_curve(math.exp(lqh), flip)[0])


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


# ----------------------------------------------------------------------------------------
# 5. Gibbs learning at temperature T, "errors" energy, Ising or spherical weights
#    (Seung, Sompolinsky & Tishby, PRA 45, 6056 (1992); Gyorgyi & Tishby 1990)
# ----------------------------------------------------------------------------------------
#
# Energy E(w) = sum_mu Theta(-y_mu lambda_mu) (margin 0), Gibbs weight exp(-beta E), teacher
# labels y = sign(lambda*) flipped with probability f.  Replica-symmetric energetic term with
# the teacher as replica 0 (fields: student lambda^a = sqrt(q) xi + sqrt(1-q) z_a, teacher
# lambda* = (m/sqrt q) xi + sqrt(1 - m^2/q) z*):
#
#   G_E(m, q) = E_xi sum_y Z*(y, (m/sqrt q) xi, 1 - m^2/q) log Z_out(y, sqrt(q) xi, 1 - q),
#   Z*(y, w, V)    = f + (1-2f) H(-y w/sqrt V),
#   Z_out(y, w, V) = e^{-beta} + (1 - e^{-beta}) H(-y w/sqrt V).
#
# By the symmetry (y, xi) -> (-y, -xi):
#   G_E = 2 E_xi Zs(a xi) log Zo(s xi),  a = m/sqrt(q - m^2),  s = sqrt(q/(1-q)),
#   Zs(v) = f + (1-2f) H(-v),  Zo(v) = e^{-beta} + (1-e^{-beta}) H(-v),
# and, with dH(-v)/dv = N(v), da/dm = q/(q-m^2)^{3/2}, da/dq = -m/(2 (q-m^2)^{3/2}),
# ds/dq = 1/(2 s (1-q)^2):
#   dG_E/dm = 2 E_xi (1-2f) N(a xi) xi (da/dm) log Zo(s xi),
#   dG_E/dq = 2 E_xi [ (1-2f) N(a xi) xi (da/dq) log Zo(s xi)
#                      + Zs(a xi) (1-e^{-beta}) N(s xi) xi (ds/dq) / Zo(s xi) ].

def _beta(T):
    return math.inf if T == 0 else 1.0 / T


def gibbs_energetic_term(m, q, T, flip=0.0, derivatives=False):
    """G_E(m, q) above (Seung, Sompolinsky & Tishby 1992), and if derivatives=True the tuple
    (G_E, dG_E/dm, dG_E/dq).  T = 0 is allowed (Zo = H).  Requires q - m^2 > 0, 0 < q < 1."""
    if not (0.0 < q < 1.0) or q - m * m <= 0:
        raise ValueError(f"need 0 < q < 1 and q > m^2 (m={m}, q={q})")
    beta = _beta(T)
    emb = 0.0 if beta == math.inf else math.exp(-beta)
    l1m = math.log1p(-emb)
    qm = q - m * m
    a = m / math.sqrt(qm)
    s = math.sqrt(q / (1.0 - q))
    feats = ((0.0, 1.0 / max(abs(a), 1e-300)), (0.0, 1.0 / s))

    def logZo(xi):
        lh = _logH(-s * xi) + l1m
        return lh if emb == 0.0 else np.logaddexp(-beta, lh)

    def Zs(xi):
        return flip + (1.0 - 2.0 * flip) * _H(-a * xi)

    G = 2.0 * _gexp(lambda xi: Zs(xi) * logZo(xi), feats)
    if not derivatives:
        return G
    dadm = q / qm ** 1.5
    dadq = -m / (2.0 * qm ** 1.5)
    dsdq = 1.0 / (2.0 * s * (1.0 - q) ** 2)
    c12 = 1.0 - 2.0 * flip
    dGm = 2.0 * _gexp(lambda xi: c12 * np.exp(_logN(a * xi)) * xi * dadm * logZo(xi), feats)

    def fq(xi):
        lz = logZo(xi)
        r = np.exp(l1m + _logN(s * xi) - lz)
        return c12 * np.exp(_logN(a * xi)) * xi * dadq * lz + Zs(xi) * r * xi * dsdq

    dGq = 2.0 * _gexp(fq, feats)
    return G, dGm, dGq


def _ising_prior_tp(mh, qh):
    """(m, q, E log 2cosh h) with h = mh + sqrt(qh) z, m = E tanh h, q = E tanh^2 h."""
    sq = math.sqrt(qh)
    feats = ((-mh / sq, 1.0 / sq),) if sq > 0 else ()
    if sq == 0:
        t = math.tanh(mh)
        return t, t * t, abs(mh) + math.log1p(math.exp(-2 * abs(mh)))
    h = lambda z: mh + sq * z
    m = _gexp(lambda z: np.tanh(h(z)), feats)
    q = _gexp(lambda z: np.tanh(h(z)) ** 2, feats)
    lc = _gexp(lambda z: np.abs(h(z)) + _softplus(-2.0 * np.abs(h(z))), feats)
    return m, q, lc


def ising_gibbs_free_entropy(alpha, T, m, q, m_hat, q_hat, flip=0.0):
    """RS free entropy of Gibbs learning of an Ising student from an Ising sign teacher
    (Seung, Sompolinsky & Tishby, PRA 45, 6056 (1992)), counting measure (-beta f):

        f = -mh m - qh (1-q)/2 + E_z log 2cosh(mh + sqrt(qh) z) + alpha G_E(m, q)

    (G_E: gibbs_energetic_term).  Stationary in (m, q, mh, qh) at the RS fixed point."""
    _, _, lc = _ising_prior_tp(m_hat, q_hat)
    return -m_hat * m - 0.5 * q_hat * (1.0 - q) + lc + alpha * gibbs_energetic_term(m, q, T, flip)


def ising_gibbs(alpha, T, m0=0.3, q0=0.3, flip=0.0, damping=0.5, tol=1e-13, maxiter=20000,
                perfect_tol=1e-12):
    """RS Gibbs learning at temperature T (errors energy, margin 0) of an Ising student from
    an Ising sign teacher with label-flip probability flip (flip = 0: Seung, Sompolinsky &
    Tishby, PRA 45, 6056 (1992)).  Saddle point of ising_gibbs_free_entropy:

        mh = alpha dG_E/dm,     qh = -2 alpha dG_E/dq,
        m  = E_z tanh(mh + sqrt(qh) z),   q = E_z tanh^2(mh + sqrt(qh) z),

    damped iteration on (m, q) from (m0, q0) (q0 > m0^2) until max|Delta| < tol; raises
    ConvergenceError otherwise.  T = 0 allowed.  On the Nishimori line e^{-beta} = f/(1-f)
    (T = 0 for f = 0) the solution has m = q and coincides with ising_bayes_fixed_point.

    If the iteration runs into m, q -> 1 (1 - m, 1 - q < perfect_tol) the exact frozen state
    m = q = 1 is returned (branch 'perfect', free_entropy = -alpha beta flip).

    Returns dict(m, q, m_hat, q_hat, free_entropy (counting measure), eps = arccos(m)/pi,
    iterations, branch in {'rs', 'perfect'}).
    """
    if alpha <= 0:
        raise ValueError("alpha must be > 0")
    m, q = float(m0), float(q0)
    if not (q > m * m and 0 < q < 1):
        raise ValueError("need 0 < q0 < 1 and q0 > m0^2")
    for it in range(1, maxiter + 1):
        _, dGm, dGq = gibbs_energetic_term(m, q, T, flip, derivatives=True)
        mh, qh = alpha * dGm, -2.0 * alpha * dGq
        _check_finite(mh, qh)
        if qh <= 0:
            raise ConvergenceError("qh <= 0 during iteration")
        mn, qn, _ = _ising_prior_tp(mh, qh)
        mn = (1 - damping) * m + damping * mn
        qn = (1 - damping) * q + damping * qn
        d = max(abs(mn - m), abs(qn - q))
        if 1.0 - mn < perfect_tol and 1.0 - qn < perfect_tol and mn >= m:
            # the frozen state w = w* (m = q = 1, mh = qh = inf) is an exact, superstable RS
            # solution; its free entropy is alpha G_E(1, 1) = -alpha beta flip (0 if flip = 0)
            beta = _beta(T)
            fe = 0.0 if flip == 0 else -alpha * beta * flip
            return dict(m=1.0, q=1.0, m_hat=math.inf, q_hat=math.inf, free_entropy=fe, eps=0.0,
                        iterations=it, branch="perfect")
        m, q = mn, qn
        if not (0 < q < 1 and q > m * m):
            raise ConvergenceError(f"left the domain (m={m}, q={q})")
        if d < tol:
            break
    else:
        raise ConvergenceError(f"ising_gibbs: no convergence (alpha={alpha}, T={T})")
    _, dGm, dGq = gibbs_energetic_term(m, q, T, flip, derivatives=True)
    mh, qh = alpha * dGm, -2.0 * alpha * dGq
    fe = ising_gibbs_free_entropy(alpha, T, m, q, mh, qh, flip)
    return dict(m=m, q=q, m_hat=mh, q_hat=qh, free_entropy=fe,
                eps=math.acos(max(-1.0, min(1.0, m))) / math.pi, iterations=it, branch="rs")


def ising_gibbs_first_order(T, m0=0.2, q0=0.1):
    """First-order line of Gibbs learning of the Ising perceptron (noiseless teacher; Seung,
    Sompolinsky & Tishby 1992, Fig. of the (alpha, T) phase diagram): the alpha at which the
    RS free entropy of the poorly-generalising branch equals that of the frozen perfect state
    (free_entropy = 0, counting measure).  brentq in alpha (d free_entropy/d alpha = G_E < 0
    along the branch).  At T = 0 it equals ising_bayes_first_order(0) = 1.24468 (Gyorgyi)."""
    def f(a):
        r = ising_gibbs(a, T, m0, q0)
        return r["free_entropy"] if r["branch"] == "rs" else None

    lo, step = 0.5, 0.25
    if not (f(lo) or 0) > 0:
        raise ConvergenceError("free entropy not positive at alpha = 0.5")
    while True:
        hi = lo + step
        v = f(hi)
        if v is None:           # jumped past the spinodal: shrink the step
            step *= 0.5
            if step < 1e-9:
                raise ConvergenceError("no first-order point below the spinodal")
        elif v > 0:
            lo = hi
            if lo > 1e3:
                raise ConvergenceError("no first-order point found")
        else:
            break
    return optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-15)


def spherical_gibbs_free_entropy(alpha, T, m, q, flip=0.0):
    """RS free entropy of Gibbs learning of a spherical student from a spherical sign teacher
    (Seung, Sompolinsky & Tishby 1992; Engel & Van den Broeck 2001, ch. 4), normalised
    uniform measure on the sphere (0 at alpha = 0):

        f(m, q) = (1/2) log(1-q) + (q - m^2)/(2(1-q)) + alpha G_E(m, q)."""
    return 0.5 * math.log1p(-q) + (q - m * m) / (2.0 * (1.0 - q)) + alpha * gibbs_energetic_term(m, q, T, flip)


def spherical_gibbs(alpha, T, m0=0.5, q0=0.5, flip=0.0, damping=0.5, tol=1e-13, maxiter=20000):
    """RS Gibbs learning at temperature T (errors energy) of a spherical student from a
    spherical sign teacher (Q = 1 by a Lagrange multiplier, eliminated).  Stationarity of
    spherical_gibbs_free_entropy:

        d/dm:  m/(1-q)            = alpha dG_E/dm  =: mh,
        d/dq:  (q-m^2)/(1-q)^2    = -2 alpha dG_E/dq =: qh,

    iterated as (m, q) -> (mh, qh) -> (m, q) = (mh chi, 1 - chi) with chi = 1-q the positive
    root of (mh^2 + qh) chi^2 + chi - 1 = 0, damped, to max|Delta| < tol; then the
    stationarity residuals are checked; raises ConvergenceError otherwise.  At T -> 0 (version space) the solution is
    m = q = R of spherical_gibbs_T0.  Returns dict(m, q, free_entropy, eps = arccos(m)/pi,
    iterations).
    """
    if alpha <= 0:
        raise ValueError("alpha must be > 0")
    m, q = float(m0), float(q0)
    if not (q > m * m and 0 < q < 1):
        raise ValueError("need 0 < q0 < 1 and q0 > m0^2")
    for it in range(1, maxiter + 1):
        _, dGm, dGq = gibbs_energetic_term(m, q, T, flip, derivatives=True)
        mh, qh = alpha * dGm, -2.0 * alpha * dGq
        _check_finite(mh, qh)
        if qh <= 0:
            raise ConvergenceError("qh <= 0 during iteration")
        # entropic stationarity m/(1-q) = mh, (q-m^2)/(1-q)^2 = qh solved for (m, q):
        # chi = 1-q solves (mh^2 + qh) chi^2 + chi - 1 = 0
        k = mh * mh + qh
        chi = 2.0 / (1.0 + math.sqrt(1.0 + 4.0 * k))
        mn, qn = mh * chi, 1.0 - chi
        mn = (1 - damping) * m + damping * mn
        qn = (1 - damping) * q + damping * qn
        d = max(abs(mn - m), abs(qn - q))
        m, q = mn, qn
        if not (0 < q < 1 and q > m * m):
            raise ConvergenceError(f"left the domain (m={m}, q={q})")
        if d < tol:
            break
    else:
        raise ConvergenceError(f"spherical_gibbs: no convergence (alpha={alpha}, T={T})")
    _, dGm, dGq = gibbs_energetic_term(m, q, T, flip, derivatives=True)
    r1 = -m / (1.0 - q) + alpha * dGm
    r2 = (q - m * m) / (2.0 * (1.0 - q) ** 2) + alpha * dGq
    if max(abs(r1), abs(r2)) * (1.0 - q) ** 2 > 1e-10:
        raise ConvergenceError(f"spherical_gibbs residuals {r1}, {r2}")
    return dict(m=m, q=q, free_entropy=spherical_gibbs_free_entropy(alpha, T, m, q, flip),
                eps=math.acos(m) / math.pi, iterations=it)
