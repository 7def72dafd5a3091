"""The equations of the dynamical built-ins as SymPy objects, for ``replica derive`` on them.

* ``spiked-matrix-tensor``: the DMFT of gradient flow / Langevin dynamics (Cugliandolo–Kurchan
  form, Sarao Mannelli, Krzakala, Urbani & Zdeborová, ICML 2019, eqs. for C, R, m̄ and μ), with the
  covariance Q(c) = c²/(2Δ₂) + c^p/(pΔ_p) of :func:`replica.dynamics.dmft.covariance` and its
  derivatives Q', Q'' taken by SymPy and substituted; the replica-symmetric free entropy Φ(m) of
  :func:`replica.dynamics.statics.free_entropy`; the gradient-flow threshold.
* ``soft-committee-sgd``: the online-SGD ODEs of Saad & Solla (1995) for Q_ik, R_in with the
  Gaussian averages I2, I3, I4 (:mod:`replica.dynamics.gaussian`), and ε_g.

Each entry is (label, SymPy equation, or a plain-text line); :func:`render` prints them as text, LaTeX
or Markdown, :func:`as_json` as LaTeX strings.
"""
from __future__ import annotations

import sympy as sp

from .models import DYNAMICAL, load_dynamical
from .statics import free_entropy

__all__ = ["equations", "render", "as_json"]

_t, _s, _tp = sp.symbols("t s t'", real=True)
_c, _d2, _dp, _T = sp.symbols("c Delta_2 Delta_p T", positive=True)
_p = sp.Symbol("p", integer=True, positive=True)
_C, _R, _m, _mu = (sp.Function(n) for n in ("C", "R", "m", "mu"))


def _spiked(p):
    """The DMFT (module docstring) with Q, Q', Q'' derived for exponent ``p`` (an int or the
    symbol p)."""
    Q = _c**2 / (2 * _d2) + _c**p / (p * _dp)
    d1 = sp.powsimp(sp.expand(sp.diff(Q, _c)), force=True)
    d2 = sp.collect(sp.powsimp(sp.expand(sp.diff(Q, _c, 2)), force=True), _c**(p - 2), sp.factor)

    def q1(x):
        return d1.subs(_c, x)

    def q2(x):
        return d2.subs(_c, x)

    Ct, Rt = _C(_t, _s), _R(_t, _s)
    eqs = [
        ("covariance of the noise field, Q(c)", sp.Eq(sp.Function("Q")(_c), Q)),
        ("correlation, t > t'", sp.Eq(sp.Derivative(_C(_t, _tp), _t),
                                      -_mu(_t) * _C(_t, _tp) + q1(_m(_t)) * _m(_tp)
                                      + sp.Integral(q2(Ct) * Rt * _C(_s, _tp), (_s, 0, _t))
                                      + sp.Integral(q1(Ct) * _R(_tp, _s), (_s, 0, _tp)))),
        ("response, t > t'", sp.Eq(sp.Derivative(_R(_t, _tp), _t),
                                   -_mu(_t) * _R(_t, _tp) + sp.Integral(q2(Ct) * Rt * _R(_s, _tp), (_s, _tp, _t)))),
        ("overlap with the signal", sp.Eq(sp.Derivative(_m(_t), _t),
                                          -_mu(_t) * _m(_t) + q1(_m(_t))
                                          + sp.Integral(q2(Ct) * Rt * _m(_s), (_s, 0, _t)))),
        ("spherical constraint (Lagrange multiplier)",
         sp.Eq(_mu(_t), _T + q1(_m(_t)) * _m(_t) + sp.Integral((q1(Ct) + q2(Ct) * Ct) * Rt, (_s, 0, _t)))),
        ("boundary conditions", "C(t, t) = 1,  R(t, t-) = 1,  m(0) = m0"),
        ("energy per coordinate", sp.Eq(sp.Function("e")(_t), -Q.subs(_c, _m(_t))
                                        - sp.Integral(q1(Ct) * Rt, (_s, 0, _t)))),
    ]
    if p == _p:
        mm = sp.Symbol("m")
        phi = free_entropy(3).subs(sp.Symbol("m", positive=True), mm)
        eqs.append(("RS free entropy (p = 3; the static thresholds)", sp.Eq(sp.Function("Phi")(mm), phi)))
        gf = (sp.sqrt(_dp**2 + 4 * (p - 1) * _dp) - _dp) / (2 * (p - 1))
        eqs.append(("gradient-flow threshold (closed form, Sarao Mannelli et al. NeurIPS 2019)",
                    sp.Eq(sp.Symbol("Delta_GF"), gf)))
    return eqs


def _sgd():
    """Saad & Solla's ODEs (module docstring of :mod:`replica.dynamics.sgd`)."""
    i, k, n = sp.symbols("i k n", integer=True)
    eta = sp.Symbol("eta", positive=True)
    Q, R = sp.Function("Q"), sp.Function("R")
    dlt = sp.Function("E_delta_h")
    dd = sp.Function("E_delta_delta")
    lam_k, lam_i, nu_n = sp.Symbol("lambda_k"), sp.Symbol("lambda_i"), sp.Symbol("nu_n")
    Cab, Caa, Cbb = sp.symbols("C_ab C_aa C_bb", real=True)
    return [
        ("teacher-student overlap", sp.Eq(sp.Derivative(R(i, n), _t), eta * dlt(i, nu_n))),
        ("student-student overlap", sp.Eq(sp.Derivative(Q(i, k), _t),
                                          eta * (dlt(i, lam_k) + dlt(k, lam_i)) + eta**2 * dd(i, k))),
        ("error signal of unit i; E[delta_i h_b] = sum_c s_c I3(i, b, c), E[delta_i delta_k] = "
         "sum_cd s_c s_d I4(i, k, c, d), s = -1 for a student field, +1 for a teacher field",
         sp.Eq(sp.Symbol("delta_i"), sp.Function("g'")(lam_i) * (sp.Symbol("y") - sp.Symbol("sigma(x)")))),
        ("I2 for erf units g(x) = erf(x/sqrt(2)) (Saad & Solla 1995)",
         sp.Eq(sp.Symbol("I2"), 2 / sp.pi * sp.asin(Cab / sp.sqrt((1 + Caa) * (1 + Cbb))))),
        ("generalization error", sp.Eq(sp.Symbol("epsilon_g"),
                                      sp.Rational(1, 2) * sp.Sum(sp.Symbol("s_c") * sp.Symbol("s_d")
                                                                 * sp.Function("I2")(sp.Symbol("c"), sp.Symbol("d")),
                                                                 (sp.Symbol("c"), 1, sp.Symbol("K+M")),
                                                                 (sp.Symbol("d"), 1, sp.Symbol("K+M"))))),
    ]


def equations(name: str) -> list:
    """[(label, SymPy object)] of the dynamical built-in ``name``."""
    model = load_dynamical(name)
    return _spiked(_p) if model.name == "spiked-matrix-tensor" else _sgd()


def _latex(e):
    return f"\\text{{{e}}}" if isinstance(e, str) else sp.latex(e)


def _text(e):
    return e if isinstance(e, str) else sp.pretty(e, use_unicode=True, wrap_line=False)


def _header(name):
    m = DYNAMICAL[name]
    return f"{name}: {m.description}"


def render(name: str, fmt: str = "text") -> str:
    """The equations of ``name`` as ``text`` (SymPy's pretty printer), ``latex`` or ``markdown``."""
    out = []
    if fmt == "latex":
        out.append(f"% {_header(name)}")
        for label, e in equations(name):
            out.append(f"% {label}\n\\[ {_latex(e)} \\]")
    elif fmt == "markdown":
        out.append(f"## {_header(name)}\n")
        for label, e in equations(name):
            out.append(f"{label}:\n\n$$ {_latex(e)} $$\n")
    else:
        out.append(_header(name))
        for label, e in equations(name):
            out.append(f"\n{label}:\n{_text(e)}")
    return "\n".join(out) + "\n"


def as_json(name: str) -> dict:
    """{"model", "kind": "dynamical", "description", "equations": [{"label", "latex"}]}."""
    return {"model": name, "kind": "dynamical", "description": DYNAMICAL[name].description,
            "equations": [{"label": label, "latex": _latex(e)} for label, e in equations(name)]}
