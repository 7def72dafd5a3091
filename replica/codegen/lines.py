"""Quadrature of integrals over the real line (priors' densities, continuous labels).

A :class:`~replica.symbolic.lines.LineIntegral` ∫ dx f(x) with centre μ and scale σ is
computed on the compactified variable t ∈ (-1, 1),

    x = μ + s t / (1 - t²),   dx = s (1 + t²) / (1 - t²)² dt,   s = 5σ,

(the spread 5σ keeps the bulk of a mass of scale σ in the middle of the t-interval, where
the map is nearly linear: 96 nodes integrate a kinked tilted Laplace density or a
Student-t moment to ~1e-13), which sends the tails to the ends of the interval (an integrand decaying like x^{-2} stays
bounded in t, a Gaussian one vanishes there), split at the images of the integrand's kinks
and jumps (the support's ends, atoms' neighbourhoods, |w| at 0), with composite 8-point
Gauss–Legendre panels on each piece: exact to rounding for each smooth piece once the
panels resolve it (Davis & Rabinowitz, *Methods of Numerical Integration*, 2nd ed., §3.9:
the rational map of an infinite interval).  The rule is vectorized like the Gaussian
expectations: nodes on a new leading axis, centre, scale and breaks per grid point.
"""
from __future__ import annotations

__all__ = ["LINE_NODES", "LINE_PRELUDE"]

#: nodes per line integral (independent of the Gaussian rule's ``nodes``: line integrals nest
#: inside Gaussian expectations, and their cost multiplies)
LINE_NODES = 96

#: the map's scale in units of the node's hint σ
SPREAD = 5.0

LINE_PRELUDE = f'''
_SPREAD = {SPREAD!r}

def _tilt_peak(c1, c2, lo, hi):
    """c1/(-2 c2) clipped into [lo, hi]; 0 where c1 = c2 = 0."""
    c1, c2 = numpy.asarray(c1, dtype=float), numpy.asarray(c2, dtype=float)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        p = numpy.where(c1 == 0, 0.0, c1 / (-2.0 * c2))
    return numpy.clip(p, lo, hi)

def _to_t(x, mu, sigma):
    """t in [-1, 1] with x = mu + sigma t/(1 - t²)."""
    s = (x - mu) / sigma
    with numpy.errstate(invalid="ignore", over="ignore"):
        t = numpy.where(numpy.isinf(s), numpy.sign(s), 2.0 * s / (1.0 + numpy.sqrt(1.0 + 4.0 * s * s)))
    return t


def _line_rule(n, mu, sigma, breaks, lo, hi, nd):
    """Nodes and weights of ∫_lo^hi dx f(x): x = mu + sigma t/(1 - t²), the t-interval
    [t(lo), t(hi)] split at the images of ``breaks`` and covered by composite 8-point
    Gauss-Legendre panels, about n nodes in all.  Shapes (M,) + (1,)*k + broadcast(mu, sigma,
    breaks, lo, hi) with nd dimensions after the first."""
    arrs = numpy.broadcast_arrays(*[numpy.asarray(a, dtype=float) for a in [mu, sigma, lo, hi] + list(breaks)])
    mu, sigma, lo, hi, bs = arrs[0], _SPREAD * arrs[1], arrs[2], arrs[3], arrs[4:]
    S = mu.shape
    t0, t1 = _to_t(lo, mu, sigma), _to_t(hi, mu, sigma)
    if bs:
        tb = numpy.sort(numpy.clip(_to_t(numpy.stack(bs), mu, sigma), t0, t1), axis=0)
        tb = numpy.where(numpy.isfinite(tb), tb, t0)
    else:
        tb = numpy.zeros((0,) + S)
    edges = numpy.concatenate([t0[None], tb, t1[None]])
    a, b = edges[:-1], edges[1:]
    K = a.shape[0]
    t, v = _GL8
    P = max(1, -(-n // (8 * K)))
    s0 = (numpy.arange(P) / P).reshape((1, P) + (1,) * len(S))
    h = ((b - a) / (2 * P))[:, None]
    mids = a[:, None] + (b - a)[:, None] * s0 + h
    tt = mids[:, :, None] + h[:, :, None] * t.reshape((1, 1, 8) + (1,) * len(S))
    wt = numpy.broadcast_to(h[:, :, None] * v.reshape((1, 1, 8) + (1,) * len(S)), tt.shape)
    tt, wt = tt.reshape((-1,) + S), wt.reshape((-1,) + S)
    d = 1.0 - tt * tt
    x = mu + sigma * tt / d
    w = wt * sigma * (1.0 + tt * tt) / (d * d)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + S), w.reshape((w.shape[0],) + pad + S)
'''
