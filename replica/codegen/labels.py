"""Integrals over a continuous label: against a Gaussian density in the label (closed or a
Gaussian expectation), else by quadrature over a range read from the channel.

For a teacher with additive Gaussian noise, y = f(z) + √Δ η, every label integral of a
zero-temperature (ERM) or Gibbs theory has the form

    ∫ dy  c · e^{-(y - μ)²/(2s²)} · g(y)  =  c · √(2π) s · E_t[ g(μ + s t) ],   t ~ N(0, 1),

with g anything the loss produces (a Moreau envelope with kinks, a proximal map without closed
form).  The density's exponent is read off the integrand (the factors that are exponentials
of a quadratic in y with a negative leading coefficient); the rest becomes a Gaussian
expectation node, closed where SymPy can, else quadrature (split at its kinks) at lowering.

Where the integrand is not of that form — ∫ dy Z_out log Z_out of a Bayes-optimal theory with a
teacher y = f(z) + √Δ η whose Z_out(y, ω, V) = E_u N(y; f(ω + √V u), Δ) is not Gaussian in y
(ReLU, |z|, sin z) — :func:`label_line` keeps it as a :class:`~replica.symbolic.lines.LabelLine`:
composite 8-point Gauss–Legendre on the label range

    [min f - 10√Δ, max f + 10√Δ],  f over z ∈ [ω - 8√V, ω + 8√V] (its ends, kinks and turning points),

outside which the density of y is below e^{-50} (the Gaussian noise) or carries a teacher field
beyond 8 standard deviations (mass < 1e-15); panel ends at the images f(z_k) of the teacher's
kinks and turning points and at f(ω), where Z_out has features of width √Δ (the smoothed atom
of the ReLU at 0, the folds of |z| at 0 and of sin z at ±1), graded geometrically from √Δ up to
the range like the feature rule of :mod:`replica.codegen.rules` (on a panel [a, 2a] at distance
a from a feature of scale ≤ a the 8-point rule converges like ρ^-16, ρ = 3 + √8: Trefethen,
*Approximation Theory and Approximation Practice*, ch. 19).  Z_out itself is its closed form
(tails in log space) or a nested Gaussian expectation; the label rule is vectorized over the
grid and the outer nodes like every other node.
"""
from __future__ import annotations

import sympy as sp

from .. import symbols as S
from ..symbolic.gauss import gauss_expect
from ..symbolic.lines import LabelLine, breakpoints
from ..symbolic.potentials import Potential
from .signed import absorb_into_sums

__all__ = ["gaussian_label_integral", "label_line", "absorb_density", "LABEL_NODES", "LABEL_PRELUDE", "TEACHER_SPAN", "NOISE_SPAN"]

#: uniform base nodes of a label rule (the graded panels at the features come on top)
LABEL_NODES = 64
#: the teacher's field z = ω + √V u is followed to |u| ≤ TEACHER_SPAN (mass beyond: 1.2e-15)
TEACHER_SPAN = 8
#: the label range extends NOISE_SPAN noise deviations beyond the teacher's outputs (e^{-50})
NOISE_SPAN = 10
#: at most this many turning points of the teacher function are used as feature centres
_MAX_TURNS = 4


def _split(term, y):
    """(exponent, rest) with term = e^{exponent} · rest, the exponent a quadratic in y collected
    from the exponential factors; None when there is none."""
    expo, rest = sp.S.Zero, []
    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.exp) and f.has(y):
            expo += f.args[0]
        elif f.is_Pow and isinstance(f.base, sp.exp) and f.has(y) and not f.exp.has(y):
            expo += f.base.args[0] * f.exp
        else:
            rest.append(f)
    expo = sp.expand(expo)
    if expo == 0 or not expo.is_polynomial(y) or sp.degree(expo, y) != 2:
        return None
    return expo, sp.Mul(*rest)


def gaussian_label_integral(f, y):
    """∫ dy f(y) as c √(2π) s E_t[g(μ + s t)] term by term (see the module docstring), or None
    when a term has no Gaussian factor in y with a leading coefficient known to be negative."""
    f = sp.powsimp(sp.sympify(f), combine="exp")
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(f, deep=False, power_exp=False)):
        split = _split(sp.powsimp(term, combine="exp"), y)
        if split is None:
            return None
        expo, rest = split
        c2, c1, c0 = (expo.coeff(y, k) for k in (2, 1, 0))
        if not (-c2).is_positive:
            return None
        s2 = -1 / (2 * c2)
        mu = c1 * s2
        t = sp.Dummy("t", real=True)
        s = sp.sqrt(s2)
        pref = sp.exp(c0 + mu**2 / (2 * s2)) * s * sp.sqrt(2 * sp.pi)
        total += pref * gauss_expect(rest.xreplace({y: mu + s * t}), t)
    return total


def _turning_points(f, z):
    """Real roots of f'(z) (at most ``_MAX_TURNS``; none where SymPy finds no finite list)."""
    try:
        roots = sp.solve(sp.diff(f, z), z)
    except (NotImplementedError, TypeError, ValueError):
        return []
    return [r for r in roots if not r.has(z) and r.is_real is not False][:_MAX_TURNS]


def label_line(f, y, noise, teacher=None):
    """∫ dy f(y) as a :class:`LabelLine` (see the module docstring).

    ``noise``: (f(z), Δ) of the teacher channel y = f(z) + √Δ η (``Channel.noise_form``), or None
    (no additive Gaussian noise: the range cannot be read off, a ``ValueError``); ``teacher``:
    the family of the potential whose label density weights f (``"Zstar"``, else every output
    potential of y in f)."""
    if noise is None:
        raise ValueError("an integral over continuous labels has no closed form and the channel has no "
                         "additive Gaussian noise y = f(z) + sqrt(Delta) eta, from which its label range is read")
    fz, delta = noise
    z = S.z
    pots = [p for p in f.atoms(Potential) if p.kind == "out" and p.args[0] == y]
    pick = [p for p in pots if p.family == teacher] or pots
    fields = list(dict.fromkeys((p.args[1], p.args[2]) for p in pick))
    if not fields:
        raise ValueError("an integral over continuous labels without a label density (Z_out) in it")
    special = breakpoints(fz, z) + _turning_points(fz, z)
    width = sp.sqrt(delta)
    values, centres = [], []
    for om, V in fields:
        ends = [om - TEACHER_SPAN * sp.sqrt(V), om + TEACHER_SPAN * sp.sqrt(V)]
        values += [fz.subs(z, e) for e in ends + special]
        centres += [fz.subs(z, e) for e in special + [om]]
    lo = sp.Min(*values, evaluate=False) - NOISE_SPAN * width
    hi = sp.Max(*values, evaluate=False) + NOISE_SPAN * width
    # where a field crosses a kink of the teacher the label density bends over √V in ω: a feature
    # of the enclosing expectation (``rules.features``)
    crossings = [sp.Tuple(om - k, sp.sqrt(V)) for om, V in fields for k in breakpoints(fz, z)]
    return LabelLine(f, y, lo, hi, width, sp.Tuple(*dict.fromkeys(centres)), sp.Tuple(*dict.fromkeys(crossings)))


def absorb_density(f):
    """(Σ c_i e^{A_i}) · e^{E} -> Σ c_i e^{A_i + E} in every product of ``f`` with one exponential
    and a sum of exponentials: a label density Z_out = e^{-y²/2Δ} (c₁ e^{A₁} + c₂ e^{A₂}) whose
    bracket grows like e^{V y²/(2Δ(V+Δ))} (ReLU teacher) overflows at the far labels where the
    product is ~0; with the Gaussian moved in, each exponent is computed once, and the log of
    the sum is printed as a log-sum-exp."""
    return absorb_into_sums(f, lambda g: (g, 1) if g.is_Add else None)


LABEL_PRELUDE = f'''

_LABEL_NODES = {LABEL_NODES!r}

def _label_rule(lo, hi, centres, width, nd):
    """Nodes and weights of ∫_lo^hi dy f(y): composite 8-point Gauss-Legendre with about
    _LABEL_NODES uniform panel ends on [lo, hi], plus the centres and the points
    centre +- width * 2^k (k = 0, 1, ... up to the range) as panel ends, so that the panels grow
    geometrically from each feature's width.  Shapes (M,) + (1,)*k + broadcast(lo, hi,
    width, centres) with nd dimensions after the first."""
    k = len(centres)
    arrs = numpy.broadcast_arrays(*[numpy.asarray(a, dtype=float) for a in [lo, hi, width] + list(centres)])
    lo, hi, W = arrs[0], arrs[1], arrs[2]
    S = lo.shape
    panels = max(1, -(-_LABEL_NODES // 8))
    base = lo + (hi - lo) * numpy.linspace(0.0, 1.0, panels + 1).reshape((-1,) + (1,) * len(S))
    parts = [base]
    if k:
        C = numpy.stack(arrs[3:])
        Wc = numpy.where(numpy.isfinite(W) & (W > 0), W, hi - lo)
        span = numpy.nanmax(hi - lo) if (hi - lo).size else 1.0
        K = int(numpy.clip(numpy.ceil(numpy.log2(max(span, 1e-300) / max(numpy.nanmin(Wc), 1e-300))) + 1, 1, 40)) if Wc.size else 1
        off = (Wc[None] * (2.0 ** numpy.arange(K)).reshape((-1,) + (1,) * len(S)))[None]
        pts = numpy.concatenate([C[:, None], C[:, None] - off, C[:, None] + off], axis=1).reshape((-1,) + S)
        parts.append(numpy.clip(numpy.nan_to_num(pts, nan=0.0), lo, hi))
    B = numpy.sort(numpy.concatenate(parts), axis=0)
    a, b = B[:-1], B[1:]
    t, v = _GL8
    h = (b - a) / 2
    x = ((a + b) / 2)[:, None] + h[:, None] * t.reshape((1, 8) + (1,) * len(S))
    w = h[:, None] * v.reshape((1, 8) + (1,) * len(S))
    x, w = x.reshape((-1,) + S), w.reshape((-1,) + S)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + S), w.reshape((w.shape[0],) + pad + S)
'''
