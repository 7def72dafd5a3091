"""Quadrature adapted to the integrand: where its narrow features are, and the rule that resolves them.

A Gaussian expectation E_x f(x) of the RS equations has narrow smooth features where q -> 1:
the channel's tails H(-y √q x / √(1 - q)), the Gaussian bump exp(-q x² / (1 - q)) of its
log-derivative, the soft |u| of a log-sum-exp, the two ends of a Gaussian interval's log-mass log ½(erf u + erf v).  Each is located from the integrand's symbolic
form (``features``): an argument u = a x + b of erfc / log erfc gives the centre -b/a and the
width 1/|a|; a Gaussian factor exp(c₂ x² + c₁ x + ...) the centre -c₁/(2c₂) and the width
1/√(2|c₂|); a log-sum-exp LSE(u, v) with u - v = a x + b the centre -b/a, width 1/|a|.

``FEATURE_RULE_SOURCE`` is the run-time rule of the generated NumPy modules (``rule='adaptive'``):
composite 8-point Gauss–Legendre on [-12, 12] whose panel ends are the uniform ones of the
``'legendre'`` rule, the centres, and the points centre ± width·2^k (k = 0, 1, ... up to 24), so the
panels are graded geometrically from the width of each feature up to the uniform panel size;
kinks (``lower.kink_points``) are centres of width 0 (panel ends only).  On a panel [a, 2a] at
distance a from a feature of scale ≤ a, the 8-point rule converges like ρ^-16 with ρ = 3 + √8
(Trefethen, *Approximation Theory and Approximation Practice*, ch. 19), ~1e-12.
"""
from __future__ import annotations

import functools

import sympy as sp

from ..symbolic.gauss import GaussE
from ..symbolic.lines import LabelLine
from ..symbolic.moreau import Prox
from ..symbolic.special import LogSumExp

__all__ = ["features", "FEATURE_RULE_SOURCE", "MAX_FEATURES"]

#: at most this many features (distinct centres) per expectation node
MAX_FEATURES = 4


@functools.lru_cache(maxsize=4096)
def _simplified(c):
    """``sp.simplify(c)``, memoized: the nodes of one model share their features' centres."""
    return sp.simplify(c)


@functools.lru_cache(maxsize=4096)
def _linear(u, x):
    """(a, b) with u = a x + b, or None (memoized: the nodes of one model share their tails)."""
    if u.has(GaussE, Prox, sp.Piecewise) or not u.has(x):
        return None
    u = sp.expand(u)
    if not u.is_polynomial(x) or sp.degree(u, x) != 1:
        return None
    a, b = sp.Poly(u, x).all_coeffs()
    return a, b


@functools.lru_cache(maxsize=4096)
def _gaussian_part(u, x):
    """(c₂, c₁) of the terms of ``u`` polynomial in x, when they are of degree 2, or None
    (memoized: the nodes of one model share their exponents)."""
    if u.has(GaussE, Prox, sp.Piecewise):
        return None
    poly = sp.Add(*[t for t in sp.Add.make_args(sp.expand(u)) if t.has(x) and t.is_polynomial(x)])
    if poly == 0 or sp.degree(poly, x) != 2:
        return None
    c2, c1, _ = sp.Poly(poly, x).all_coeffs()
    return c2, c1


def features(f, x) -> list:
    """[(centre, width)] of the narrow smooth features of f(x) in x (SymPy expressions of the
    parameters and order parameters; see the module docstring), at most ``MAX_FEATURES``,
    those of nested expectation nodes left to those nodes; a label quadrature inside f adds the
    points where its teacher field crosses a kink of the teacher function (its ``crossings``:
    g = a x + b = 0, width s/|a|) and is otherwise left to itself."""
    found = []
    for n in f.atoms(LabelLine):
        for g, s in (n.args[6] if len(n.args) > 6 else ()):
            ab = _linear(g, x)
            if ab is not None and ab[0] != 0:
                found.append((-ab[1] / ab[0], s / sp.Abs(ab[0])))
    f = f.replace(lambda n: isinstance(n, LabelLine), lambda n: sp.Dummy("label_integral"))
    funcs = f.atoms(sp.Function)     # one walk of the (large) integrand, filtered below

    def of(kind):
        return {a for a in funcs if isinstance(a, kind)}
    from_args = [a.args[0] for a in of((sp.erfc, sp.erf))]
    from_args += [a.args[0] for a in funcs if type(a).__name__ == "logerfc"]
    # log ½(erf u + erf v), the log-mass of a Gaussian interval: a feature at each end
    from_args += [u for a in funcs if type(a).__name__ == "logerfsum" for u in a.args]
    for lse in of(LogSumExp):
        if len(lse.args) == 2:
            from_args.append(lse.args[0] - lse.args[1])
    for u in from_args:
        ab = _linear(u, x)
        if ab is not None and ab[0] != 0:
            a, b = ab
            found.append((-b / a, 1 / sp.Abs(a)))
    for e in of(sp.exp):
        cc = _gaussian_part(e.args[0], x)
        if cc is not None:
            c2, c1 = cc
            found.append((-c1 / (2 * c2), 1 / sp.sqrt(2 * sp.Abs(c2))))
    # a feature whose centre moves with the variable of a nested expectation (a kink at
    # x = -xi/sqrt(q_hat) seen from the outer x) is that nested node's: the outer rule is built
    # before the inner variable exists
    inner = {n.args[1] for n in f.atoms(GaussE)}
    by_centre = {}
    for c, w in found:
        c = _simplified(c)           # (widths as they are: Abs of a simplified square root can go complex)
        if c.has(x) or w.has(x) or c.has(*inner) or w.has(*inner):
            continue
        ws = by_centre.setdefault(c, [])
        if w not in ws:
            ws.append(w)
    # features at one centre: the narrowest width grades the panels for all of them
    out = [(c, ws[0] if len(ws) == 1 else sp.Min(*ws, evaluate=False)) for c, ws in by_centre.items()]
    return out[:MAX_FEATURES]


FEATURE_RULE_SOURCE = '''

def _feature_rule(n, centres, widths, nd):
    """E_x f(x) nodes and weights for f with narrow features at ``centres`` (arrays) of
    ``widths`` (arrays; 0 or not finite: a kink, a panel end only): composite 8-point
    Gauss-Legendre on [-12, 12] with the uniform panel ends of about n nodes, the centres and
    the points centre +- width * 2^k (k = 0, 1, ... up to the line's length) as panel ends, so
    that the panels grow geometrically from each feature's width.  Shapes as ``_kink_rule``'s."""
    L = 12.0
    k = len(centres)
    arrs = numpy.broadcast_arrays(*[numpy.asarray(c, dtype=float) for c in list(centres) + list(widths)])
    C, W = numpy.stack(arrs[:k]), numpy.stack(arrs[k:])
    S = C.shape[1:]
    C = numpy.clip(numpy.nan_to_num(C, nan=0.0), -L, L)
    W = numpy.where(numpy.isfinite(W) & (W > 0), W, 4 * L)
    # grades up to the line's length from the narrowest feature of the batch (at most 2^39)
    K = int(numpy.clip(numpy.ceil(numpy.log2(2 * L / max(W.min(), 1e-300))) + 1, 1, 40)) if W.size else 1
    g = (2.0 ** numpy.arange(K)).reshape((1, -1) + (1,) * len(S))
    off = W[:, None] * g
    pts = numpy.concatenate([C[:, None], C[:, None] - off, C[:, None] + off], axis=1).reshape((-1,) + S)
    panels = max(1, -(-n // 8))
    base = numpy.linspace(-L, L, panels + 1).reshape((-1,) + (1,) * len(S))
    B = numpy.sort(numpy.concatenate([numpy.broadcast_to(base, (panels + 1,) + S), numpy.clip(pts, -L, L)]), axis=0)
    a, b = B[:-1], B[1:]
    t, v = _GL8
    h = (b - a) / 2
    x = ((a + b) / 2)[:, None] + h[:, None] * t.reshape((1, 8) + (1,) * len(S))
    # a panel of length 0 (a centre on a uniform panel end, ends clipped at +-L) carries weight
    # 0: its nodes go to the line's end, not onto the centre where f may be 0 * inf at q = 1
    x = numpy.where(h[:, None] > 0, x, L)
    w = h[:, None] * v.reshape((1, 8) + (1,) * len(S))
    x, w = x.reshape((-1,) + S), w.reshape((-1,) + S)
    w = w * numpy.exp(-x**2 / 2) / numpy.sqrt(2.0 * numpy.pi)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + S), w.reshape((w.shape[0],) + pad + S)
'''
