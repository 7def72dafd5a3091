"""Baseline: replica-symmetric (RS) saddle point of the Bayes-optimal binary
perceptron, solved ONE PARAMETER POINT AT A TIME with ``scipy.integrate.quad``
inside a damped fixed-point loop.

This is what practitioners typically do today and is the reference the
generated solver is benchmarked against. It is written to be reasonable (stable
special functions, sensible quadrature tolerances) but deliberately *not*
vectorised across parameter points or quadrature nodes.

Model
-----
Teacher and student weights w in {-1, +1}^N (Rademacher prior), inputs
x ~ N(0, I_N), labels y = sign(w* . x / sqrt(N)) flipped with probability
``flip``, alpha = P / N.  Bayes-optimal setting, so the Nishimori identities
hold and a single overlap q (with conjugate q_hat) describes the RS solution.

Channels (rho = E w^2 = 1, V = rho - q = 1 - q)
    Z_w(b, A)       = 1/2 sum_{w=+-1} exp(b w - A w^2 / 2) = exp(-A/2) cosh(b)
    Z_out(y, w, V)  = flip + (1 - 2 flip) H(-y w / sqrt(V)),
                      H(x) = erfc(x / sqrt 2) / 2  (so H(-x) = ndtr(x))
    d_w Z_out       = (1 - 2 flip) y N(w / sqrt V) / sqrt V,   N = std normal pdf

RS free entropy (Barbier et al., PNAS 2019, f_RS = psi_P0(q_hat)
+ alpha Psi_Pout(q) - q q_hat / 2), with X0 = 1 by symmetry:
    Phi(q, q_hat) = -q q_hat / 2
                    + int Dz log cosh(q_hat + sqrt(q_hat) z) - q_hat / 2
                    + alpha sum_y int Dxi Z_out log Z_out |_(omega = sqrt(q) xi, V = 1 - q)
(the 1/2 in the Ising prior cancels the 2 of 2cosh, hence log cosh).

Stationarity of Phi gives
    q     = int Dz tanh(q_hat + sqrt(q_hat) z)
    q_hat = alpha sum_y int Dxi Z_out (d_w log Z_out)^2
          = alpha (1 - 2 flip)^2 / (1 - q)
            * sum_y int Dxi N(x_y)^2 / Z_out(x_y),   x_y = y sqrt(q / (1 - q)) xi
The ratio N(x)/Z_out(x) is evaluated in log-safe form through erfcx:
    H(-x) / N(x) = sqrt(pi / 2) erfcx(-x / sqrt 2).

Sanity values: at q = 0 the q_hat equation gives q_hat = 2 alpha (1-2 flip)^2 / pi,
and Phi(q=0, q_hat=0) = alpha * sum_y Z ln Z = -alpha ln 2 (flip = 0).

Only numpy / scipy are used so that benchmarks can import this module.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
from scipy import integrate, special

__all__ = ["solve_point", "sweep"]

_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_PI_2 = math.sqrt(math.pi / 2.0)
_LOG2 = math.log(2.0)

# quad tolerances: tight enough that the fixed point is meaningful to ~1e-10
_QUAD_KW = dict(epsabs=1e-12, epsrel=1e-12, limit=200)


def _gauss(z: float) -> float:
    """Standard normal density N(z)."""
    return math.exp(-0.5 * z * z) / _SQRT_2PI


def _log_cosh(b: float) -> float:
    a = abs(b)
    return a + math.log1p(math.exp(-2.0 * a)) - _LOG2


def _n_over_zout(x: float, flip: float) -> float:
    """N(x) / Z_out with Z_out = flip + (1 - 2 flip) H(-x), stable for all x."""
    # H(-x)/N(x) = sqrt(pi/2) erfcx(-x/sqrt2); erfcx may overflow to inf -> ratio 0
    h_over_n = _SQRT_PI_2 * special.erfcx(-x / _SQRT2)
    denom = (1.0 - 2.0 * flip) * h_over_n
    if flip > 0.0:
        e = 0.5 * x * x
        denom += flip * (_SQRT_2PI * math.exp(e) if e < 700.0 else math.inf)
    return 1.0 / denom


def _log_zout(x: float, flip: float) -> float:
    if flip == 0.0:
        return float(special.log_ndtr(x))
    return math.log(flip + (1.0 - 2.0 * flip) * float(special.ndtr(x)))


def _q_from_qhat(q_hat: float) -> float:
    """q = int Dz tanh(q_hat + sqrt(q_hat) z)."""
    s = math.sqrt(q_hat)

    def f(z):
        return _gauss(z) * math.tanh(q_hat + s * z)

    return integrate.quad(f, -np.inf, np.inf, **_QUAD_KW)[0]


def _qhat_from_q(q: float, alpha: float, flip: float) -> float:
    """q_hat = alpha sum_y int Dxi Z_out (d_omega log Z_out)^2."""
    v = 1.0 - q
    k = math.sqrt(q / v)
    c = (1.0 - 2.0 * flip) ** 2 / v

    def f(xi):
        x = k * xi
        nx = _gauss(x)  # N(x) is even in x, same for y = +1 and y = -1
        tot = nx * (_n_over_zout(x, flip) + _n_over_zout(-x, flip))
        return _gauss(xi) * tot

    return alpha * c * integrate.quad(f, -np.inf, np.inf, **_QUAD_KW)[0]


def _free_entropy(q: float, q_hat: float, alpha: float, flip: float) -> float:
    s = math.sqrt(q_hat)

    def f_in(z):
        return _gauss(z) * _log_cosh(q_hat + s * z)

    psi_in = integrate.quad(f_in, -np.inf, np.inf, **_QUAD_KW)[0] - 0.5 * q_hat

    k = math.sqrt(q / (1.0 - q))

    def f_out(xi):
        x = k * xi
        tot = 0.0
        for y in (1.0, -1.0):
            lz = _log_zout(y * x, flip)
            tot += math.exp(lz) * lz
        return _gauss(xi) * tot

    psi_out = integrate.quad(f_out, -np.inf, np.inf, **_QUAD_KW)[0]
    return -0.5 * q * q_hat + psi_in + alpha * psi_out


def solve_point(alpha, flip=0.0, q0=1e-6, tol=1e-10, max_iter=2000, damping=0.5):
    """Solve the RS equations at one (alpha, flip) by damped iteration.

    Iteration: q_hat = F_out(q); q_new = (1-damping) * F_in(q_hat) + damping * q;
    stop when |q_new - q| < tol.  Returns dict(q, q_hat, free_entropy,
    converged, iterations) where q_hat is consistent with the returned q.
    """
    alpha = float(alpha)
    flip = float(flip)
    q = float(q0)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        q_hat = _qhat_from_q(q, alpha, flip)
        q_new = (1.0 - damping) * _q_from_qhat(q_hat) + damping * q
        # keep q strictly inside (0, 1) so V = 1 - q > 0
        q_new = min(max(q_new, 0.0), 1.0 - 1e-15)
        delta = abs(q_new - q)
        q = q_new
        if delta < tol:
            converged = True
            break
    q_hat = _qhat_from_q(q, alpha, flip)
    return dict(
        q=q,
        q_hat=q_hat,
        free_entropy=_free_entropy(q, q_hat, alpha, flip),
        converged=converged,
        iterations=it,
    )


def sweep(alphas, flip=0.0, **kw):
    """Baseline sweep: a plain Python loop, one parameter point at a time."""
    return [solve_point(a, flip=flip, **kw) for a in alphas]


def _main():
    alphas = np.linspace(0.5, 1.2, 20)
    # warm-up (imports, first-call overheads)
    solve_point(0.5)
    times, results = [], []
    for a in alphas:
        t0 = time.perf_counter()
        r = solve_point(a)
        times.append(time.perf_counter() - t0)
        results.append(r)
    print(f"{'alpha':>8} {'q':>16} {'q_hat':>16} {'free_entropy':>16} {'iters':>6} {'conv':>5} {'ms':>8}")
    for a, r, t in zip(alphas, results, times):
        print(
            f"{a:8.4f} {r['q']:16.10f} {r['q_hat']:16.10f} {r['free_entropy']:16.10f} "
            f"{r['iterations']:6d} {str(r['converged']):>5} {1e3 * t:8.2f}"
        )
    print(
        f"per-point time: median {1e3 * statistics.median(times):.2f} ms, "
        f"min {1e3 * min(times):.2f} ms, max {1e3 * max(times):.2f} ms "
        f"({len(alphas)} points, flip=0)"
    )
    print("reference points (flip=0):")
    for a in (0.5, 0.8, 1.0, 1.2):
        r = solve_point(a)
        print(
            f"  alpha={a:.1f}  q={r['q']:.10f}  q_hat={r['q_hat']:.10f}  "
            f"Phi={r['free_entropy']:.10f}  iters={r['iterations']}  converged={r['converged']}"
        )


if __name__ == "__main__":
    _main()
