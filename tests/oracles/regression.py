"""Independent reference oracles: linear regression and ERM on a sign teacher.

Hand-written from the literature; nothing here is produced by a symbolic engine and nothing
imports the toolkit (``replica``).  The toolkit's tests compare against these functions.

Conventions (those of /work/shared/VALIDATION.md)
-------------------------------------------------
* inputs x ~ N(0, I_N), pre-activation lambda = w.x/sqrt(N), alpha = P/N;
* teacher w* ~ N(0, 1) i.i.d., so rho = |w*|^2/N = 1;
* ERM minimises  sum_mu l(y_mu, lambda_mu) + (lam/2)|w|^2  (Aubin, Krzakala, Lu & Zdeborova,
  NeurIPS 2020, arXiv:2006.06560), with
  square   l = (y - x)^2 / 2,
  hinge    l = max(0, 1 - y x),
  logistic l = log(1 + exp(-y x));
* order parameters  m = w.w*/N,  q = |w|^2/N  (the ERM estimator's squared norm per site),
  V = lim_{beta->inf} beta (Q - q), the zero-temperature "chi"; equivalently
  V = (1/N) Tr[(sum_mu l''(y_mu, lambda_mu) x_mu x_mu^T / N + lam I)^{-1}] for smooth losses,
  for ridge regression V = (1/N) Tr[(X^T X / N + lam I)^{-1}];
* conjugate parameters mhat, qhat, Vhat with the signs of Aubin et al. 2020 (all >= 0);
* classification generalisation error  eps_gen = arccos(m / sqrt(q)) / pi  (probability that
  sign(lambda) differs from the teacher's *noiseless* label);
* regression test error  E[(yhat - w*.x/sqrt N)^2] = q - 2m + 1  (= weight mse |w - w*|^2/N);
* training loss = (1/P) sum_mu l(y_mu, lambda_mu) at the minimiser: a per-sample average over
  the training set, penalty EXCLUDED; training error = fraction of training samples with
  sign(lambda_mu) != y_mu (y_mu the possibly flipped label actually trained on).

Replica (state-evolution) equations used for ERM
------------------------------------------------
Aubin et al. 2020 (Thm 1 / App. of arXiv:2006.06560; same form in Gerace et al. 2020,
arXiv:2002.09339, and Loureiro et al. 2021, arXiv:2102.08127).  With xi ~ N(0,1),
omega = sqrt(q) xi  (student cavity field),  omega0 = (m/sqrt q) xi,  V0 = rho - m^2/q
(teacher field mean/variance given the student one),  Z0(y, omega0, V0) = P(y | omega0, V0),
prox p = argmin_x [ l(y, x) + (x - omega)^2 / (2V) ],  f = (p - omega)/V :

    mhat = alpha E_xi sum_y  d_{omega0} Z0(y) * f(y, omega, V)
    qhat = alpha E_xi sum_y  Z0(y) * f(y, omega, V)^2
    Vhat = alpha E_xi sum_y  Z0(y) * (1 - d_omega p(y, omega, V)) / V
    m = mhat/(lam + Vhat),   q = (rho mhat^2 + qhat)/(lam + Vhat)^2,   V = 1/(lam + Vhat).

For the sign teacher with label-flip probability f,
Z0(y) = (1-f) H(-y omega0/sqrt V0) + f H(y omega0/sqrt V0), H(x) = erfc(x/sqrt 2)/2.
The training pre-activations are distributed as p(y, omega, V), which gives the training loss
and training error.  The sum over y is reduced to y = +1 with a factor 2 by the symmetry
l(-y, -x) = l(y, x) of all three losses.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from scipy import integrate, optimize, special

__all__ = [
    "linear_bayes",
    "linear_bayes_mutual_information_rmt",
    "ridge_regression",
    "ridge_regression_rmt",
    "ridge_regression_replica",
    "ridgeless_risk",
    "mp_stieltjes",
    "erm_sign",
    "erm_sign_square_closed",
    "max_margin_sign",
    "max_margin_asymptotic",
    "bayes_sign_perceptron",
    "bayes_sign_perceptron_se",
    "bayes_asymptotic_constants",
    "candes_sur_h",
    "logistic_mle_exists",
    "ConvergenceError",
]


class ConvergenceError(RuntimeError):
    """Raised when an iterative oracle does not reach its tolerance."""


SQRT2 = math.sqrt(2.0)
SQRT2PI = math.sqrt(2.0 * math.pi)


def _H(x):
    """Gaussian tail H(x) = P(Z > x) = erfc(x/sqrt 2)/2 (numpy)."""
    return 0.5 * special.erfc(np.asarray(x) / SQRT2)


def _phi(x):
    x = np.asarray(x)
    return np.exp(-0.5 * x * x) / SQRT2PI


# ---------------------------------------------------------------------------------------------
# 1. Bayes-optimal linear regression with a Gaussian prior
# ---------------------------------------------------------------------------------------------

def linear_bayes(alpha, delta):
    """Bayes-optimal estimation of w* ~ N(0, I) from y = w*.x/sqrt(N) + sqrt(delta) eta.

    Replica-symmetric state evolution (exact here; Barbier, Krzakala, Macris, Miolane &
    Zdeborova 2019, PNAS 116, 5451, Gaussian prior and Gaussian channel):
        qhat = alpha / (delta + 1 - q),   q = qhat / (1 + qhat),   mmse = 1 - q.
    Eliminating qhat: q^2 - (1 + delta + alpha) q + alpha = 0, and q is the root in [0, 1):
        q = [(1 + delta + alpha) - sqrt((1 + delta + alpha)^2 - 4 alpha)] / 2.
    (alpha = 2, delta = 1: q = 2 - sqrt 2, mmse = sqrt 2 - 1.)

    Mutual information per variable, replica formula for the Gaussian linear model
    (Barbier, Dia, Macris & Krzakala 2016; Reeves & Pfister 2016; Barbier et al. 2019):
        i(alpha, delta) = min_E { I_scal(alpha/(delta + E)) + (alpha/2)[ln(1 + E/delta) - E/(delta + E)] },
        I_scal(r) = (1/2) ln(1 + r)   (Gaussian prior, scalar channel sqrt(r) w + z),
    whose minimiser is E = mmse.  Free entropy of the evidence density p(Y | X) per variable:
        phi = (1/N) E ln p(Y|X) = -i - (alpha/2) ln(2 pi e delta).
    (Here ln p(Y|X) = ln Z with Z the posterior normalisation including the (2 pi delta)^{-P/2}
    likelihood constant.)

    Returns dict(q, qhat, mmse, mi, free_entropy).
    """
    alpha = float(alpha)
    delta = float(delta)
    if alpha < 0 or delta <= 0:
        raise ValueError("need alpha >= 0 and delta > 0")
    s = 1.0 + delta + alpha
    disc = s * s - 4.0 * alpha
    # stable small root: q = 2 alpha / (s + sqrt(disc))
    q = 2.0 * alpha / (s + math.sqrt(disc))
    mmse = 1.0 - q
    qhat = alpha / (delta + mmse)
    mi = 0.5 * math.log1p(qhat) + 0.5 * alpha * (math.log1p(mmse / delta) - mmse / (delta + mmse))
    free_entropy = -mi - 0.5 * alpha * math.log(2.0 * math.pi * math.e * delta)
    return dict(q=q, qhat=qhat, mmse=mmse, mi=mi, free_entropy=free_entropy)


def mp_stieltjes(z, gamma):
    """Stieltjes transform s(z) = int dmu(x)/(x - z) of the Marchenko-Pastur law with aspect
    ratio gamma = p/n and unit variance (law of X^T X / n, X n x p with N(0,1) entries; for
    gamma > 1 it includes the atom 1 - 1/gamma at 0), for real z < 0.  It is the root of
        gamma z s^2 - (1 - gamma - z) s + 1 = 0      (Bai & Silverstein 2010, Ch. 3)
    that is positive for z < 0.  Returns (s, s') with s' = ds/dz by implicit differentiation.
    """
    z = float(z)
    g = float(gamma)
    if z >= 0:
        raise ValueError("z must be negative")
    lam = -z
    b = 1.0 - g + lam
    # s = [-(1-g+lam) + sqrt((1-g+lam)^2 + 4 g lam)] / (2 g lam), written without cancellation
    root = math.sqrt(b * b + 4.0 * g * lam)
    s = 2.0 / (b + root) if b >= 0 else (root - b) / (2.0 * g * lam)
    ds = -(g * s * s + s) / (2.0 * g * z * s - (1.0 - g - z))
    return s, ds


def linear_bayes_mutual_information_rmt(alpha, delta):
    """Exact mutual information per variable of the Gaussian linear model from random-matrix
    theory, an independent check of the replica formula in :func:`linear_bayes`:
        I(w*; Y | X)/N = (1/2N) ln det(I + X^T X/(N delta)) -> (1/2) int ln(1 + alpha x/delta) dMP_gamma(x),
    gamma = 1/alpha, X^T X/N = alpha (X^T X / P).  The Marchenko-Pastur density is integrated
    with mpmath (the atom at 0 for gamma > 1 contributes ln 1 = 0)."""
    g = mp.mpf(1) / alpha
    a, d = mp.mpf(alpha), mp.mpf(delta)
    lo, hi = (1 - mp.sqrt(g)) ** 2, (1 + mp.sqrt(g)) ** 2
    dens = lambda x: mp.sqrt((hi - x) * (x - lo)) / (2 * mp.pi * g * x)
    val = mp.quad(lambda x: dens(x) * mp.log(1 + a * x / d), [lo, (lo + hi) / 2, hi])
    return float(val / 2)


# ---------------------------------------------------------------------------------------------
# 2. Ridge regression on the linear teacher
# ---------------------------------------------------------------------------------------------

def ridge_regression_rmt(alpha, delta, lam):
    """Ridge ERM on y = w*.x/sqrt(N) + sqrt(delta) eta, objective
    sum_mu (y_mu - lambda_mu)^2/2 + (lam/2)|w|^2, by the random-matrix closed form of Hastie,
    Montanari, Rosset & Tibshirani 2019 (arXiv:1903.08560, isotropic ridge theorem).

    Conversion to their notation: beta = w/sqrt(N) so x.beta = lambda; n = P, p = N,
    gamma = p/n = 1/alpha, r^2 = |beta*|^2 = 1, sigma^2 = delta; dividing our objective by P/2
    gives (1/n)|y - X beta|^2 + lam_H |beta|^2 with  lam_H = lam/alpha = gamma lam.
    With s(z) the MP Stieltjes transform (ratio gamma) at z = -lam_H:
        risk  = q - 2m + 1 = r^2 lam_H^2 s'(-lam_H) + sigma^2 gamma [s(-lam_H) - lam_H s'(-lam_H)]
        m     = beta_hat . beta* = r^2 [1 - lam_H s(-lam_H)]
        V     = (1/N) Tr (X^T X/N + lam)^{-1} = gamma s(-lam_H)
    Training residual y - X beta_hat = lam_H (K + lam_H)^{-1} y, K = X X^T/n (n x n), whose
    Stieltjes transform is st(z) = gamma s(z) - (1 - gamma)/z; hence
        train_mse = (1/P)|y - X beta_hat|^2
                  = lam_H^2 [ (r^2/gamma)(st - lam_H st') + sigma^2 st' ]  at z = -lam_H.
    Returns dict(m, q, V, test_error, train_mse, train_loss = train_mse/2).
    """
    alpha, delta, lam = float(alpha), float(delta), float(lam)
    if lam <= 0:
        raise ValueError("lam must be > 0 (use ridgeless_risk for lam -> 0)")
    g = 1.0 / alpha
    lh = lam * g
    z = -lh
    s, ds = mp_stieltjes(z, g)
    r2, sig2 = 1.0, delta
    risk = r2 * lh * lh * ds + sig2 * g * (s - lh * ds)
    m = r2 * (1.0 - lh * s)
    q = risk + 2.0 * m - 1.0
    st = g * s - (1.0 - g) / z
    dst = g * ds + (1.0 - g) / (z * z)
    train_mse = lh * lh * ((r2 / g) * (st - lh * dst) + sig2 * dst)
    return dict(m=m, q=q, V=g * s, test_error=risk, train_mse=train_mse,
                train_loss=0.5 * train_mse)


def ridge_regression_replica(alpha, delta, lam, tol=1e-14, max_iter=200000, damping=0.0):
    """Same problem by the replica fixed point of Aubin et al. 2020 (arXiv:2006.06560) for the
    square loss.  The square-loss prox is p = (omega + V y)/(1 + V), f = (y - omega)/(1 + V),
    d_omega p = 1/(1+V), and for the linear channel E[(z - (m/q)omega) f]/V0 = 1/(1+V), so
        mhat = Vhat = alpha/(1 + V),   qhat = alpha (1 + delta - 2m + q)/(1 + V)^2,
        m = mhat/(lam + Vhat),  q = (mhat^2 + qhat)/(lam + Vhat)^2,  V = 1/(lam + Vhat).
    Solved by plain (optionally damped) iteration; raises ConvergenceError otherwise.
    Training pre-activations are p, so train_mse = E(y - p)^2 = (1 + delta - 2m + q)/(1+V)^2.
    Returns dict(m, q, V, mhat, qhat, Vhat, test_error, train_mse, train_loss, iterations).
    """
    alpha, delta, lam = float(alpha), float(delta), float(lam)
    m, q, V = 0.0, 1.0, 1.0
    for it in range(1, max_iter + 1):
        Vhat = alpha / (1.0 + V)
        mhat = Vhat
        qhat = alpha * (1.0 + delta - 2.0 * m + q) / (1.0 + V) ** 2
        Vn = 1.0 / (lam + Vhat)
        mn = mhat * Vn
        qn = (mhat * mhat + qhat) * Vn * Vn
        err = max(abs(mn - m), abs(qn - q) / max(1.0, abs(q)), abs(Vn - V) / max(1.0, abs(V)))
        m = damping * m + (1 - damping) * mn
        q = damping * q + (1 - damping) * qn
        V = damping * V + (1 - damping) * Vn
        if not np.isfinite(q):
            raise ConvergenceError("ridge replica iteration diverged")
        if err < tol:
            break
    else:
        raise ConvergenceError(f"ridge replica iteration: no convergence (err={err:.2e})")
    train_mse = (1.0 + delta - 2.0 * m + q) / (1.0 + V) ** 2
    return dict(m=m, q=q, V=V, mhat=mhat, qhat=qhat, Vhat=Vhat, test_error=q - 2.0 * m + 1.0,
                train_mse=train_mse, train_loss=0.5 * train_mse, iterations=it)


def ridge_regression(alpha, delta, lam):
    """Ridge regression (square loss, penalty (lam/2)|w|^2) on the noisy linear teacher,
    computed two independent ways -- random-matrix closed form (Hastie et al. 2019) and replica
    fixed point (Aubin et al. 2020) -- returning the RMT values plus the other method's under
    key 'replica'.  Keys: m, q, V, test_error (= q - 2m + 1), train_mse (mean over the training
    set of (y - lambda)^2), train_loss (= train_mse/2, the mean of the loss (y - lambda)^2/2,
    penalty excluded).  Raises ConvergenceError if the two methods disagree beyond 1e-8."""
    a = ridge_regression_rmt(alpha, delta, lam)
    b = ridge_regression_replica(alpha, delta, lam)
    for k in ("m", "q", "V", "test_error", "train_mse"):
        if abs(a[k] - b[k]) > 1e-8 * max(1.0, abs(a[k])):
            raise ConvergenceError(f"ridge: RMT and replica disagree on {k}: {a[k]} vs {b[k]}")
    out = dict(a)
    out["replica"] = b
    return out


def ridgeless_risk(alpha, delta):
    """Minimum-norm least squares (lam -> 0+), Hastie et al. 2019 Thm 1 with r^2 = 1,
    sigma^2 = delta, gamma = 1/alpha:
        risk = delta gamma/(1 - gamma)                 for gamma < 1,
        risk = (1 - 1/gamma) + delta/(gamma - 1)       for gamma > 1 (infinite at gamma = 1)."""
    g = 1.0 / float(alpha)
    if g < 1:
        return delta * g / (1.0 - g)
    if g > 1:
        return (1.0 - 1.0 / g) + delta / (g - 1.0)
    return math.inf


# ---------------------------------------------------------------------------------------------
# 3. ERM on a sign teacher
# ---------------------------------------------------------------------------------------------

_GL_CACHE = {}


def _gl(n):
    if n not in _GL_CACHE:
        _GL_CACHE[n] = np.polynomial.legendre.leggauss(n)
    return _GL_CACHE[n]


def _nodes(breaks, n, L=11.0, max_panel=0.5):
    """Composite Gauss-Legendre nodes/weights for int_{-L}^{L} phi(xi) g(xi) dxi, with panel
    boundaries at the given breakpoints (kinks, narrow peaks) and panels no longer than
    max_panel.  phi(11) ~ 2e-27, so the truncation is far below double precision."""
    pts = [-L, L] + [b for b in breaks if -L < b < L]
    pts = np.unique(np.asarray(pts, dtype=float))
    edges = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:]):
        k = max(1, int(math.ceil((b - a) / max_panel)))
        edges.extend(np.linspace(a, b, k + 1)[1:])
    edges = np.asarray(edges)
    x0, w0 = _gl(n)
    a, b = edges[:-1, None], edges[1:, None]
    xs = (0.5 * (b - a) * x0[None, :] + 0.5 * (b + a)).ravel()
    ws = (0.5 * (b - a) * w0[None, :]).ravel()
    return xs, ws * _phi(xs)


def _prox(loss, y, omega, V):
    """Proximal map p = argmin_x l(y, x) + (x - omega)^2/(2V) and its derivative dp/domega.
    y is +-1 (array or scalar), omega an array."""
    omega = np.asarray(omega, dtype=float)
    if loss == "square":
        p = (omega + V * y) / (1.0 + V)
        dp = np.full_like(omega, 1.0 / (1.0 + V))
        return p, dp
    if loss == "hinge":
        a = y * omega  # margin of the cavity field
        p = np.where(a >= 1.0, omega, np.where(a <= 1.0 - V, omega + V * y, y * np.ones_like(omega)))
        dp = np.where((a > 1.0 - V) & (a < 1.0), 0.0, 1.0)
        return p, dp
    if loss == "logistic":
        a = y * omega
        u = _logistic_prox_u(a, V)
        p = y * u
        l2 = special.expit(u) * special.expit(-u)
        dp = 1.0 / (1.0 + V * l2)
        return p, dp
    raise ValueError(f"unknown loss {loss!r}")


def _logistic_prox_u(a, V, tol=1e-14, max_iter=50):
    """Solve u = a + V sigma(-u) (u = y p, a = y omega), vectorised.
    g(u) = u - a - V sigma(-u) is increasing (g' = 1 + V sigma(u)sigma(-u) >= 1) and the root
    lies in [a, a + V]: 45 bisection steps shrink the bracket to 3e-14 V, then Newton (kept
    inside the bracket) polishes to tol * (1 + |a| + V), the rounding scale of g."""
    a = np.asarray(a, dtype=float)
    lo, hi = a.copy(), a + V
    for _ in range(45):
        mid = 0.5 * (lo + hi)
        g = mid - a - V * special.expit(-mid)
        lo = np.where(g < 0, mid, lo)
        hi = np.where(g < 0, hi, mid)
    u = 0.5 * (lo + hi)
    for _ in range(max_iter):
        sm = special.expit(-u)
        g = u - a - V * sm
        un = np.clip(u - g / (1.0 + V * sm * (1.0 - sm)), lo, hi)
        if np.all(np.abs(un - u) <= tol * (1.0 + np.abs(a) + V)):
            return un
        u = un
    raise ConvergenceError("logistic prox Newton did not converge")


def _loss_value(loss, y, p):
    if loss == "square":
        return 0.5 * (y - p) ** 2
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - y * p)
    if loss == "logistic":
        return np.logaddexp(0.0, -y * p)
    raise ValueError(loss)


def _channel_hats(loss, alpha, m, q, V, flip, n=24, extra=None):
    """(mhat, qhat, Vhat, train_loss, train_error) for the sign teacher at (m, q, V)."""
    sq = math.sqrt(q)
    R = m / sq  # rho = 1
    s0 = math.sqrt(max(1.0 - R * R, 1e-300))  # sqrt(V0)
    # breakpoints: the teacher kernel varies on scale s0/|R| around xi = 0
    w = s0 / max(abs(R), 1e-12)
    br = [0.0] + [k * w for k in (-6, -3, -1.5, -0.5, 0.5, 1.5, 3, 6)]
    if loss == "hinge":
        br += [(1.0 - V) / sq, 1.0 / sq]
    if extra:
        br += list(extra)
    xs, ws = _nodes(br, n)
    omega = sq * xs
    t = R * xs / s0
    Z0 = (1.0 - flip) * _H(-t) + flip * _H(t)
    dZ0 = (1.0 - 2.0 * flip) * _phi(t) / s0
    p, dp = _prox(loss, 1.0, omega, V)
    f = (p - omega) / V
    mhat = 2.0 * alpha * np.dot(ws, dZ0 * f)
    qhat = 2.0 * alpha * np.dot(ws, Z0 * f * f)
    Vhat = 2.0 * alpha * np.dot(ws, Z0 * (1.0 - dp)) / V
    # training set statistics (y = +1 branch, doubled, probability weight Z0 summing to 1/2)
    tl = 2.0 * np.dot(ws, Z0 * _loss_value(loss, 1.0, p))
    te = 2.0 * np.dot(ws, Z0 * (p < 0))
    return mhat, qhat, Vhat, tl, te


def _channel_hats_quad(loss, alpha, m, q, V, flip):
    """Same expectations by scipy.integrate.quad (tight tolerance, kinks given as points);
    used once at the end of erm_sign as an independent quadrature check."""
    sq = math.sqrt(q)
    R = m / sq
    s0 = math.sqrt(1.0 - R * R)

    def parts(x):
        x = np.atleast_1d(x)
        t = R * x / s0
        Z0 = (1.0 - flip) * _H(-t) + flip * _H(t)
        dZ0 = (1.0 - 2.0 * flip) * _phi(t) / s0
        p, dp = _prox(loss, 1.0, sq * x, V)
        f = (p - sq * x) / V
        return _phi(x), Z0, dZ0, f, dp

    pts = sorted(set([0.0] + ([(1.0 - V) / sq, 1.0 / sq] if loss == "hinge" else [])))
    pts = [p for p in pts if -12 < p < 12]

    def I(fun):
        val, _ = integrate.quad(lambda x: float(fun(x)[0]), -12.0, 12.0, points=pts,
                                epsabs=1e-13, epsrel=1e-12, limit=400)
        return val

    mhat = 2 * alpha * I(lambda x: (lambda ph, Z0, dZ0, f, dp: ph * dZ0 * f)(*parts(x)))
    qhat = 2 * alpha * I(lambda x: (lambda ph, Z0, dZ0, f, dp: ph * Z0 * f * f)(*parts(x)))
    Vhat = 2 * alpha * I(lambda x: (lambda ph, Z0, dZ0, f, dp: ph * Z0 * (1 - dp))(*parts(x))) / V
    return mhat, qhat, Vhat


def _anderson(T, x0, lam, tol, max_iter, mem=5, beta=0.5):
    """Anderson acceleration (type II, memory ``mem``, mixing ``beta``) of the fixed-point map
    T(m, q, V) -> (m, q, V), in the variables (m, log q, log V) and projected onto the domain
    |m| < sqrt(q), V <= 1/lam.  Converged when one application of T moves the point by less
    than tol (relative as in erm_sign); raises ConvergenceError otherwise."""
    def G(x):
        m, q, V = T(x[0], math.exp(x[1]), math.exp(x[2]))
        if not (np.isfinite(m) and q > 0 and V > 0 and np.isfinite(q) and np.isfinite(V)):
            raise ConvergenceError("Anderson: map left the domain")
        return np.array([m, math.log(q), math.log(V)])

    def proj(x):
        x = x.copy()
        x[1] = min(max(x[1], -60.0), 60.0)
        x[2] = min(x[2], -math.log(lam))
        sq = math.exp(0.5 * x[1])
        x[0] = max(min(x[0], (1 - 1e-12) * sq), -(1 - 1e-12) * sq)
        return x

    m0, q0, V0 = x0
    x = np.array([m0, math.log(q0), math.log(V0)])
    Xs, Gs = [], []
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for it in range(1, max_iter + 1):
            gx = G(x)
            nat, natn = (x[0], math.exp(x[1]), math.exp(x[2])), (gx[0], math.exp(gx[1]), math.exp(gx[2]))
            err = max(abs(natn[0] - nat[0]) / max(1.0, abs(nat[0])),
                      abs(natn[1] - nat[1]) / max(1.0, nat[1]),
                      abs(natn[2] - nat[2]) / max(1.0, nat[2]))
            if err < tol:
                return nat, it
            Xs.append(x)
            Gs.append(gx)
            Xs, Gs = Xs[-mem:], Gs[-mem:]
            f = gx - x
            if len(Xs) == 1:
                x = proj(x + beta * f)
                continue
            Xa, Ga = np.array(Xs), np.array(Gs)
            Fa = Ga - Xa
            dF, dX = (Fa[1:] - Fa[:-1]).T, (Xa[1:] - Xa[:-1]).T
            gamma = np.linalg.lstsq(dF, f, rcond=None)[0]
            x = proj(x + beta * f - (dX + beta * dF) @ gamma)
    raise ConvergenceError(f"Anderson: no convergence (err={err:.2e})")


def erm_sign(loss, alpha, lam, flip=0.0, tol=1e-12, max_iter=20000, check_quad=True, init=None,
             use_root=True):
    """ERM with ridge penalty (lam/2)|w|^2 on y = sign(w*.x/sqrt N), labels flipped with
    probability ``flip``; loss in {"square", "hinge", "logistic"}.  Replica fixed point of
    Aubin, Krzakala, Lu & Zdeborova 2020 (see the module docstring for the equations), with
    closed-form prox for square and hinge and a vectorised bracketed Newton prox for logistic.
    The 1-D Gaussian expectations use composite Gauss-Legendre with breakpoints at the hinge
    kinks and around the teacher kernel; at the fixed point the expectations are recomputed
    with twice the nodes and (if check_quad) by scipy quad, and a ConvergenceError is raised if
    they differ by more than 1e-9 (relative).  The fixed point is found by Anderson-accelerated
    iteration (if use_root); failing that, by plain iteration (damped if the error grows),
    polished after 300 steps by scipy's hybr root finder.  Any candidate is accepted only if one
    more application of the map moves it by less than tol; ConvergenceError otherwise.
    (Hinge at very small lam and large alpha, e.g. alpha = 50, lam = 1e-5, may not converge:
    use max_margin_sign, its exact lam -> 0 limit.)

    Returns dict(m, q, V, mhat, qhat, Vhat, eps_gen = arccos(m/sqrt q)/pi,
    train_loss = mean training loss per sample (penalty excluded),
    train_error = fraction of training labels (the flipped ones) misclassified, iterations).
    """
    if loss not in ("square", "hinge", "logistic"):
        raise ValueError(f"unknown loss {loss!r}")
    alpha, lam, flip = float(alpha), float(lam), float(flip)
    if lam <= 0:
        raise ValueError("lam must be > 0 (see max_margin_sign for the hinge lam -> 0 limit)")

    def T(m, q, V):
        mhat, qhat, Vhat, _, _ = _channel_hats(loss, alpha, m, q, V, flip)
        Vn = 1.0 / (lam + Vhat)
        return mhat * Vn, (mhat * mhat + qhat) * Vn * Vn, Vn

    def err_of(x, xn):
        return max(abs(xn[0] - x[0]) / max(1.0, abs(x[0])), abs(xn[1] - x[1]) / max(1.0, x[1]),
                   abs(xn[2] - x[2]) / max(1.0, x[2]))

    m, q, V = (0.5, 1.0, 1.0) if init is None else init
    converged = False
    err = math.inf
    it = 0
    if use_root:
        # 1) Anderson-accelerated iteration in (m, log q, log V), projected onto the domain
        #    |m| < sqrt q, V <= 1/lam; falls through to 2) on any failure.
        try:
            x, it = _anderson(T, (m, q, V), lam, tol, min(max_iter, 600))
            m, q, V = x
            converged = True
        except (ConvergenceError, ValueError, OverflowError, FloatingPointError):
            m, q, V = (0.5, 1.0, 1.0) if init is None else init
    damping = 0.0
    prev_err = math.inf
    n_plain = max_iter if not use_root else min(max_iter, 300)
    while not converged and it < max_iter:
        # 2) plain iteration, damped when the step error grows
        it += 1
        mn, qn, Vn = T(m, q, V)
        err = err_of((m, q, V), (mn, qn, Vn))
        if err > prev_err and damping < 0.9:
            damping = min(0.9, damping + 0.2)
        prev_err = err
        m = damping * m + (1 - damping) * mn
        q = damping * q + (1 - damping) * qn
        V = damping * V + (1 - damping) * Vn
        if not (np.isfinite(m) and np.isfinite(q) and np.isfinite(V)) or q <= 0 or V <= 0:
            raise ConvergenceError("erm_sign iteration left the domain")
        if err < tol:
            converged = True
            break
        if it == n_plain and use_root:
            # 3) slow linear convergence: polish with a quasi-Newton root finder in
            #    (m, log q, log V), accepted only if the map then moves it by < tol
            def F(x):
                a_, b_, c_ = T(x[0], math.exp(x[1]), math.exp(x[2]))
                return [a_ - x[0], math.log(b_) - x[1], math.log(c_) - x[2]]
            try:
                sol = optimize.root(F, [m, math.log(q), math.log(V)], method="hybr",
                                    options=dict(xtol=1e-14, maxfev=2000))
            except (ValueError, OverflowError, FloatingPointError):
                sol = None
            if sol is not None and sol.success and np.all(np.isfinite(sol.x)):
                m1, q1, V1 = sol.x[0], math.exp(sol.x[1]), math.exp(sol.x[2])
                if err_of((m1, q1, V1), T(m1, q1, V1)) < tol:
                    m, q, V = m1, q1, V1
                    converged = True
                    break
    if not converged:
        raise ConvergenceError(f"erm_sign({loss}, alpha={alpha}, lam={lam}): err={err:.2e}")
    mhat, qhat, Vhat, tl, te = _channel_hats(loss, alpha, m, q, V, flip)
    # quadrature self-checks at the fixed point
    chk = [_channel_hats(loss, alpha, m, q, V, flip, n=48)[:3]]
    if check_quad:
        chk.append(_channel_hats_quad(loss, alpha, m, q, V, flip))
    for c in chk:
        for a_, b_ in zip((mhat, qhat, Vhat), c):
            if abs(a_ - b_) > 1e-9 * max(1.0, abs(a_)):
                raise ConvergenceError(f"erm_sign quadrature check failed: {a_} vs {b_}")
    R = max(-1.0, min(1.0, m / math.sqrt(q)))
    return dict(m=float(m), q=float(q), V=float(V), mhat=float(mhat), qhat=float(qhat),
                Vhat=float(Vhat), eps_gen=math.acos(R) / math.pi, train_loss=float(tl),
                train_error=float(te), iterations=it)


def erm_sign_square_closed(alpha, lam, flip=0.0):
    """Square loss on the sign teacher, with the channel expectations done by hand:
    E[y z*] = (1 - 2 flip) sqrt(2/pi) for z* ~ N(0,1), hence (Aubin et al. 2020, ridge case)
        Vhat = alpha/(1 + V),  mhat = alpha (1 - 2 flip) sqrt(2/pi)/(1 + V),
        qhat = alpha (1 + q - 2 m (1 - 2 flip) sqrt(2/pi))/(1 + V)^2.
    This is ridge regression on a linear teacher of amplitude a = (1-2flip) sqrt(2/pi) with
    noise variance 1 - a^2, so V solves lam V^2 + (lam + alpha - 1) V - 1 = 0 and
        m = a alpha V/(1+V),  q [1 - alpha V^2/(1+V)^2] = m^2 + alpha V^2 (1 - 2 a m)/(1+V)^2.
    Returns dict(m, q, V, eps_gen)."""
    alpha, lam = float(alpha), float(lam)
    a = (1.0 - 2.0 * flip) * math.sqrt(2.0 / math.pi)
    b = lam + alpha - 1.0
    V = 2.0 / (b + math.sqrt(b * b + 4.0 * lam)) if b >= 0 else (-b + math.sqrt(b * b + 4.0 * lam)) / (2.0 * lam)
    k = alpha * V * V / (1.0 + V) ** 2
    m = a * alpha * V / (1.0 + V)
    q = (m * m + k * (1.0 - 2.0 * a * m)) / (1.0 - k)
    return dict(m=m, q=q, V=V, eps_gen=math.acos(m / math.sqrt(q)) / math.pi)


def max_margin_sign(alpha, tol=1e-13):
    """Hard-margin SVM (maximal stability perceptron) on the noiseless sign teacher: the
    lam -> 0+ limit of hinge ERM.  In that limit V -> infinity with lam V -> 1 - alpha P(sv)
    finite, the hinge prox becomes the projection p = y max(y omega, 1), and the fixed point
    reduces to (Gardner 1988 with a teacher; Opper, Kinzel, Kleinz & Nehl 1990, J. Phys. A 23,
    L581; Engel & Van den Broeck 2001, Ch. 4), with R = cos(th) = m/sqrt q, S = sin(th),
    kappa = 1/sqrt q the stability of the normalised student:
        R       = 2 alpha int_{-inf}^{kappa} Dt  phi(R t/S)/S (kappa - t)
                = alpha S sqrt(2/pi) G(kappa/S),        G(c) = c Phi(c) + phi(c),
        S^2     = 2 alpha int_{-inf}^{kappa} Dt  Phi(R t/S) (kappa - t)^2
    (m = alpha A, q - m^2 = alpha B in the ERM variables; with m = 0 the second is Gardner's
    1 = alpha int Dt (t + kappa)^2).  Consistency requires alpha * P(support vector) <= 1.
    Solved by nested brentq: kappa(th) from the first equation (G is increasing), then th.
    Returns dict(R, kappa, m, q, eps_gen = th/pi, frac_support = P(y omega < 1))."""
    alpha = float(alpha)
    s2pi = math.sqrt(2.0 / math.pi)

    def G(c):
        return c * special.ndtr(c) + math.exp(-0.5 * c * c) / SQRT2PI

    def kappa_of(th):
        R, S = math.cos(th), math.sin(th)
        target = R / (alpha * S * s2pi)
        lo, hi = -1.0, 1.0
        while G(lo) > target:
            lo *= 2.0
        while G(hi) < target:
            hi *= 2.0
        c = optimize.brentq(lambda c: G(c) - target, lo, hi, xtol=1e-15, rtol=1e-15)
        return c * S

    def quadk(fun, th, ka):
        S = math.sin(th)
        pts = [p for p in (-8 * S, -S, 0.0, S) if p < ka]
        val = 0.0
        edges = [-np.inf] + pts + [ka]
        for a_, b_ in zip(edges[:-1], edges[1:]):
            val += integrate.quad(fun, a_, b_, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
        return val

    def resid(th):
        R, S = math.cos(th), math.sin(th)
        ka = kappa_of(th)
        v = 2 * alpha * quadk(lambda t: _phi(t) * special.ndtr(R * t / S) * (ka - t) ** 2, th, ka)
        return v / (S * S) - 1.0

    # bracket th in (0, pi/2) by a log scan
    grid = np.geomspace(1e-7, math.pi / 2 - 1e-6, 60)
    vals = []
    for th in grid:
        try:
            vals.append(resid(th))
        except (ValueError, OverflowError):
            vals.append(np.nan)
    br = None
    for k in range(len(grid) - 1):
        if np.isfinite(vals[k]) and np.isfinite(vals[k + 1]) and vals[k] * vals[k + 1] < 0:
            br = (grid[k], grid[k + 1])
            break
    if br is None:
        raise ConvergenceError(f"max_margin_sign({alpha}): no bracket")
    th = optimize.brentq(resid, *br, xtol=1e-16, rtol=1e-14, maxiter=200)
    if abs(resid(th)) > 1e-9:
        raise ConvergenceError(f"max_margin_sign({alpha}): residual {resid(th)}")
    ka = kappa_of(th)
    R, S = math.cos(th), math.sin(th)
    frac = 2 * quadk(lambda t: _phi(t) * special.ndtr(R * t / S), th, ka)
    if alpha * frac > 1 + 1e-9:
        raise ConvergenceError("max-margin solution inconsistent (alpha*frac_support > 1)")
    q = 1.0 / ka ** 2
    return dict(R=R, kappa=ka, m=R * math.sqrt(q), q=q, eps_gen=th / math.pi,
                frac_support=frac)


def max_margin_asymptotic():
    """Large-alpha limit of :func:`max_margin_sign`: with theta = arccos R ~ 1/alpha and
    c = kappa/theta, both equations reduce (t -> theta u, R -> 1) to
        alpha theta = sqrt(2 pi)/(2 G(c)) = sqrt(2 pi)/(2 K(c)),
        G(c) = int_{-inf}^c phi(u)(c - u) du = c Phi(c) + phi(c),
        K(c) = int_{-inf}^c Phi(u)(c - u)^2 du = [(c^3 + 3c) Phi(c) + (c^2 + 2) phi(c)]/3,
    so G(c) = K(c) fixes c and alpha eps -> 1/(sqrt(2 pi) G(c)) = 0.5005 (Opper, Kinzel,
    Kleinz & Nehl 1990).  Returns dict(c, alpha_eps)."""
    mp.mp.dps = 30
    G = lambda c: c * mp.ncdf(c) + mp.npdf(c)
    K = lambda c: ((c ** 3 + 3 * c) * mp.ncdf(c) + (c ** 2 + 2) * mp.npdf(c)) / 3
    c = mp.findroot(lambda c: G(c) - K(c), mp.mpf("0.6"))
    return dict(c=float(c), alpha_eps=float(1 / (mp.sqrt(2 * mp.pi) * G(c))))


# ---------------------------------------------------------------------------------------------
# Bayes-optimal spherical perceptron (reference for the logistic test)
# ---------------------------------------------------------------------------------------------

def bayes_sign_perceptron(alpha):
    """Bayes-optimal (and Gibbs T=0) spherical perceptron with a sign teacher.  The Gibbs
    overlap R solves (Gyorgyi & Tishby 1990; Engel & Van den Broeck 2001, Ch. 2; Opper &
    Haussler 1991)
        R / sqrt(1 - R) = (alpha/pi) int Dt exp(-R t^2/2) / H(-sqrt(R) t),
    eps_Gibbs = arccos(R)/pi, eps_Bayes = arccos(sqrt R)/pi.  exp(-R t^2/2)/H(-sqrt R t) is
    evaluated as 2/erfcx(-sqrt(R) t/sqrt 2); the equation is solved by brentq in log(1 - R).
    Returns dict(R, eps_gibbs, eps_bayes)."""
    alpha = float(alpha)

    def rhs(R):
        sR = math.sqrt(R)
        f = lambda t: _phi(t) * 2.0 / special.erfcx(-sR * t / SQRT2)
        v = sum(integrate.quad(f, a_, b_, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                for a_, b_ in ((-np.inf, -5.0), (-5.0, 0.0), (0.0, 5.0), (5.0, np.inf)))
        return alpha / math.pi * v

    def g(lu):
        u = math.exp(lu)
        return (1.0 - u) / (math.sqrt(u) * rhs(1.0 - u)) - 1.0

    lu = optimize.brentq(g, math.log(1e-18), math.log1p(-1e-15), xtol=1e-15, rtol=1e-15,
                         maxiter=300)
    if abs(g(lu)) > 1e-12:
        raise ConvergenceError("bayes_sign_perceptron did not converge")
    u = math.exp(lu)
    R = 1.0 - u
    return dict(R=R, eps_gibbs=math.acos(R) / math.pi,
                eps_bayes=math.acos(math.sqrt(R)) / math.pi)


def bayes_asymptotic_constants():
    """alpha eps -> 1/C (Bayes) and sqrt(2)/C (Gibbs), C = int Dt exp(-t^2/2)/H(-t): the
    R -> 1 limit of the equation in bayes_sign_perceptron (1 - R ~ (pi/(alpha C))^2).
    Computed with mpmath; published 0.44170004 and 0.62465819 (VALIDATION.md)."""
    mp.mp.dps = 30
    C = mp.quad(lambda t: mp.npdf(t) * mp.exp(-t * t / 2) / mp.ncdf(t), [-mp.inf, 0, mp.inf])
    return dict(bayes=float(1 / C), gibbs=float(mp.sqrt(2) / C))


def bayes_sign_perceptron_se(alpha, tol=1e-13, max_iter=100000):
    """Same Bayes-optimal overlap by the generic GLM state evolution of Barbier et al. 2019
    (PNAS 116, 5451) with Gaussian prior and sign channel, an independent form:
        q = qhat/(1 + qhat),  qhat = alpha E_xi sum_y (d_w Zout)^2 / Zout,
        Zout(y, w, V) = H(-y w/sqrt V),  w = sqrt(q) xi,  V = 1 - q.
    Returns dict(q, eps_bayes = arccos(sqrt q)/pi).  q equals the R of bayes_sign_perceptron."""
    q = 0.5
    for _ in range(max_iter):
        sq, V = math.sqrt(q), 1.0 - q
        sV = math.sqrt(V)

        def integrand(x):
            t = sq * x / sV
            # sum over y = +-1 of phi(t)^2/(V H(-y t)); use erfcx for the small-H branch
            tot = 0.0
            for y in (1.0, -1.0):
                # phi(t)^2 / H(-y t) = phi(t) * sqrt(2/pi) / erfcx(-y t/sqrt2)
                tot += _phi(t) * math.sqrt(2.0 / math.pi) / special.erfcx(-y * t / SQRT2)
            return float(_phi(x) * tot / V)

        qhat = alpha * integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13,
                                      limit=200)[0]
        qn = qhat / (1.0 + qhat)
        if abs(qn - q) < tol:
            q = qn
            break
        q = qn
    else:
        raise ConvergenceError("bayes_sign_perceptron_se did not converge")
    return dict(q=q, eps_bayes=math.acos(math.sqrt(q)) / math.pi)


# ---------------------------------------------------------------------------------------------
# 4. Existence of the logistic MLE (Candes & Sur 2020; Cover 1965)
# ---------------------------------------------------------------------------------------------

def candes_sur_h(signal=0.0):
    """Separability threshold h(signal) of Candes & Sur 2020 (Ann. Stat. 48, 27, Thm 1) for
    the logistic model P(y = 1 | x) = sigmoid(signal * V), V = x.beta/|beta|-normalised ~ N(0,1):
        h = min_t E[(Z - t y V)_+^2],   Z ~ N(0,1) independent,
    with E_Z[(Z - a)_+^2] = (1 + a^2) H(a) - a phi(a).  The MLE exists (w.p. -> 1) iff
    N/P < h, i.e. alpha > 1/h.  h(0) = 1/2 is Cover's (1965) count: random labels are
    separable iff alpha < 2."""
    s = float(signal)

    def Ez(a):
        return (1.0 + a * a) * _H(a) - a * _phi(a)

    def obj(t):
        # y = +1 w.p. sigmoid(s v); y = -1 otherwise -> (Z - t y v)
        f = lambda v: float(_phi(v) * (special.expit(s * v) * Ez(t * v)
                                       + special.expit(-s * v) * Ez(-t * v)))
        return integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12)[0]

    if s == 0.0:
        return float(obj(0.0))  # = E[(Z)_+^2] = 1/2; t != 0 only increases it
    r = optimize.minimize_scalar(obj, bounds=(0.0, 50.0), method="bounded",
                                 options=dict(xatol=1e-10))
    return float(min(r.fun, obj(0.0)))


def logistic_mle_exists(alpha, signal=0.0):
    """True iff the logistic-regression MLE exists asymptotically: 1/alpha < h(signal)
    (Candes & Sur 2020).  signal = 0 gives Cover's alpha > 2."""
    return (1.0 / float(alpha)) < candes_sur_h(signal)
