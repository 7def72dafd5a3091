"""The paper form of the classic models equals their textbook forms.

Each textbook form is typed in here from its source (an independent oracle, evaluated with
mpmath); the rendered expressions come out of ``replica.symbolic.paper.paper_form`` from the
derived theory.  Compared symbolically where SymPy decides it, else numerically at random points
(every ∫Dz by adaptive quadrature)."""
import random

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

import replica
from replica.symbolic.paper import Dz, H, numeric
from replica.symbolic.render import expr_latex, expr_text



def Hm(x):
    return special.erfc(x / np.sqrt(2)) / 2


def Dz_int(f):
    return integrate.quad(lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -12.0, 12.0,
                          epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def diff(f, x, h=1e-4):
    """Central difference (error O(h^4))."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


@pytest.fixture(scope="session")
def forms():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = replica.derive(name).paper_form()   # cached on the theory
        return cache[name]
    return get


def _eqs(pf):
    return {str(eq.lhs) if eq.lhs.is_Symbol else eq.lhs: eq for eq in pf.equations}


def _plain(e):
    """``e`` with its symbols stripped of assumptions (to compare with forms typed here)."""
    return e.xreplace({s: sp.Symbol(s.name) for s in e.free_symbols})


def _close(a, b, tol=1e-10):
    assert abs(complex(a) - complex(b)) <= tol * max(1.0, abs(complex(b))), (a, b)


def _points(names, n=1, seed=14):
    rng = random.Random(seed)
    return [{k: rng.uniform(*rg) for k, rg in names.items()} for _ in range(n)]


def test_ising_bayes_is_gyorgyi_barbier(forms):
    """Györgyi, PRA 41, 7097 (1990), eqs. (8)-(9) at flip = 0; Barbier et al., PNAS 116, 5451
    (2019), the sign channel with label noise ε:
    Φ = −q q̂/2 − q̂/2 + ∫Dz ln cosh(√q̂ z + q̂) + 2α ∫Dz Z ln Z,  Z = ε + (1 − 2ε) H(−√(q/(1−q)) z);
    q = ∫Dz tanh(√q̂ z + q̂);  q̂ = α(1−2ε)²/(π(1−q)) ∫Dz e^{−q z²/(1−q)} / (ε + (1−2ε)H(√(q/(1−q)) z))."""
    pf = forms("ising-bayes")
    eqs = _eqs(pf)
    assert pf.free_entropy.has(Dz, H) and not pf.free_entropy.has(sp.erfc)
    for v in _points({"q": (0.1, 0.8), "q_hat": (0.2, 2.0), "alpha": (0.5, 2.0), "flip": (0.0, 0.2)}):
        q, qh, a, e = (v[k] for k in ("q", "q_hat", "alpha", "flip"))
        s = np.sqrt(q / (1 - q))

        def Z(z):
            return e + (1 - 2 * e) * Hm(-s * z)
        phi = (-q * qh / 2 - qh / 2 + Dz_int(lambda z: np.log(np.cosh(np.sqrt(qh) * z + qh)))
               + 2 * a * Dz_int(lambda z: Z(z) * np.log(Z(z))))
        _close(numeric(pf.free_entropy, v), phi)
        # the rendered q-equation is 2E[tanh] - E[tanh^2]; equal to E[tanh] by the Nishimori identity
        _close(numeric(eqs["q"].rhs, v), Dz_int(lambda z: np.tanh(np.sqrt(qh) * z + qh)), 1e-9)
        qhat = a * (1 - 2 * e)**2 / (np.pi * (1 - q)) * Dz_int(
            lambda z: np.exp(-q * z**2 / (1 - q)) / (e + (1 - 2 * e) * Hm(s * z)))
        _close(numeric(eqs["q_hat"].rhs, v), qhat)


def test_gardner_is_gardner_1988(forms):
    """Gardner, J. Phys. A 21, 257 (1988), eqs. (27)-(28); Engel & Van den Broeck (2001), eq. (6.11):
    Φ = ½ ln(1−q) + q/(2(1−q)) + α ∫Dz ln H((κ − √q z)/√(1−q)), and its stationarity in q,
    q/(1−q)² = α/(2π(1−q)) ∫Dz e^{−x²} / H(x)², x = (κ − √q z)/√(1−q) — q̂ eliminated."""
    pf = forms("gardner")
    q, kappa, alpha = sp.symbols("q kappa alpha")
    closed, integral = pf.free_entropy.as_independent(Dz, as_Add=True)
    assert sp.simplify(_plain(closed) - (sp.log(1 - q) / 2 + q / (2 * (1 - q)))) == 0
    assert [str(s) for s in pf.eliminated] == ["q_hat"]
    (eq,) = pf.equations
    assert sp.simplify(_plain(eq.lhs) - q / (1 - q)**2) == 0
    assert not pf.free_entropy.has(sp.Symbol("q_hat"))
    for v in _points({"q": (0.1, 0.9), "kappa": (-1.0, 1.5), "alpha": (0.5, 2.0)}):
        qq, k, a = (v[n] for n in ("q", "kappa", "alpha"))

        def x(z):
            return (k - np.sqrt(qq) * z) / np.sqrt(1 - qq)
        _close(numeric(integral, v), a * Dz_int(lambda z: np.log(Hm(x(z)))))
        rhs = a / (2 * np.pi * (1 - qq)) * Dz_int(lambda z: np.exp(-x(z)**2) / Hm(x(z))**2)
        _close(numeric(eq.rhs, v), rhs)


def test_ising_storage_is_gardner_derrida(forms):
    """Gardner & Derrida, J. Phys. A 21, 271 (1988); Krauth & Mézard (1989):
    Φ + ln 2 = −q̂(1−q)/2 + ∫Dz ln 2cosh(√q̂ z) + α ∫Dz ln H(x)  (Φ counts the fraction of the 2^N
    configurations: README, Conventions), q = ∫Dz tanh²(√q̂ z), q̂ = α/(2π(1−q)) ∫Dz e^{−x²}/H(x)²."""
    pf = forms("ising-storage")
    eqs = _eqs(pf)
    q_rhs = eqs["q"].rhs
    assert isinstance(q_rhs, Dz)                       # q = ∫Dz tanh²(√q̂ z), symbolically
    f, x = q_rhs.args
    qh = next(s for s in f.free_symbols if s.name == "q_hat")
    assert sp.simplify(f - sp.tanh(sp.sqrt(qh) * x)**2) == 0
    for v in _points({"q": (0.1, 0.9), "q_hat": (0.2, 3.0), "kappa": (-0.5, 1.0), "alpha": (0.2, 1.0)}):
        q, qhat, k, a = (v[n] for n in ("q", "q_hat", "kappa", "alpha"))

        def xx(t):
            return (k - np.sqrt(q) * t) / np.sqrt(1 - q)
        phi = (-qhat * (1 - q) / 2 + Dz_int(lambda t: np.log(2 * np.cosh(np.sqrt(qhat) * t)))
               + a * Dz_int(lambda t: np.log(Hm(xx(t)))))
        _close(numeric(pf.free_entropy, v) + float(np.log(2)), phi)
        _close(numeric(eqs["q_hat"].rhs, v), a / (2 * np.pi * (1 - q)) * Dz_int(lambda t: np.exp(-xx(t)**2) / Hm(xx(t))**2))


def test_perceptron_gibbs_is_gyorgyi_tishby(forms):
    """Györgyi & Tishby (1990); Engel & Van den Broeck (2001), eqs. (4.7)-(4.8) at temperature T = 1/β:
    Φ = ½ ln(1−q) + (q − m²)/(2(1−q)) + 2α ∫Dt H(−m t/√(q−m²)) ln[e^{−β} + (1 − e^{−β}) H(−√(q/(1−q)) t)].
    With q̂, m̂ eliminated the equations read q̂ = (q − m²)/(1−q)² = −2 ∂_q G and m̂ = m/(1−q) = ∂_m G,
    G the energetic term above (its derivatives by central differences)."""
    pf = forms("perceptron-gibbs")
    q, m = sp.symbols("q m")
    assert sorted(str(s) for s in pf.eliminated) == ["m_hat", "q_hat"]
    closed, _ = pf.free_entropy.as_independent(Dz, as_Add=True)
    assert sp.simplify(_plain(closed) - (sp.log(1 - q) / 2 + (q - m**2) / (2 * (1 - q)))) == 0
    plain = {s: sp.Symbol(s.name) for eq in pf.equations for s in eq.lhs.free_symbols}
    eq_q = next(eq for eq in pf.equations if sp.simplify(eq.lhs.xreplace(plain) - (q - m**2) / (1 - q)**2) == 0)
    eq_m = next(eq for eq in pf.equations if sp.simplify(eq.lhs.xreplace(plain) - m / (1 - q)) == 0)

    def G(qq, mm, a, T):
        b = 1 / T
        return 2 * a * Dz_int(lambda t: Hm(-mm * t / np.sqrt(qq - mm**2)) * np.log(
            np.exp(-b) + (1 - np.exp(-b)) * Hm(-np.sqrt(qq / (1 - qq)) * t)))
    for v in _points({"q": (0.3, 0.8), "m": (0.1, 0.5), "alpha": (0.5, 2.0), "T": (0.3, 2.0)}, n=1):
        qq, mm, a, T = (v[n] for n in ("q", "m", "alpha", "T"))
        phi = np.log(1 - qq) / 2 + (qq - mm**2) / (2 * (1 - qq)) + G(qq, mm, a, T)
        _close(numeric(pf.free_entropy, v), phi)
        _close(numeric(eq_q.rhs, v), -2 * diff(lambda s: G(s, mm, a, T), qq), 1e-6)
        _close(numeric(eq_m.rhs, v), diff(lambda s: G(qq, s, a, T), mm), 1e-6)


def test_linear_bayes_is_barbier(forms):
    """Barbier et al., PNAS 116, 5451 (2019), Gaussian prior N(0, 1) and Gaussian channel of
    variance Δ: Φ = −q q̂/2 + ½(q̂ − ln(1 + q̂)) − (α/2)(ln 2π(Δ + 1 − q) + 1),
    q = q̂/(1 + q̂), q̂ = α/(Δ + 1 − q) — symbolically."""
    pf = forms("linear-bayes")
    q, qh, a, d = sp.symbols("q q_hat alpha delta")
    syms = {s.name: s for s in pf.free_entropy.free_symbols}
    phi = pf.free_entropy.xreplace({s: sp.Symbol(n) for n, s in syms.items()})
    book = -q * qh / 2 + (qh - sp.log(1 + qh)) / 2 - a / 2 * (sp.log(2 * sp.pi * (d + 1 - q)) + 1)
    assert sp.simplify(sp.expand_log(phi - book, force=True)) == 0
    eqs = _eqs(pf)
    plain = {s: sp.Symbol(s.name) for eq in pf.equations for s in eq.free_symbols}
    assert sp.simplify(eqs["q"].rhs.xreplace(plain) - qh / (1 + qh)) == 0
    assert sp.simplify(eqs["q_hat"].rhs.xreplace(plain) - a / (d + 1 - q)) == 0


def test_rendered_paper_form_prints_the_textbook_symbols(forms):
    pf = forms("gardner")
    tex = expr_latex(sp.Eq(pf.equations[0].lhs, pf.equations[0].rhs))
    assert r"\int D\xi" in tex and r"H^{2}\left(" in tex and r"\kappa" in tex
    text = expr_text(pf.free_entropy)
    assert "H(" in text and "\\" not in text and "erfc" not in text


_LATEX = ("\\", "$", "frac", "mathrm", "mathbb", "{hat}", "^{", "left(")


@pytest.mark.parametrize("name", ["ising-bayes", "perceptron-gibbs", "gardner", "ising-storage", "linear-bayes"])
def test_text_has_no_latex(forms, name):
    """The plain-text derivation is written by SymPy's string printer (prose carries its own
    plain spelling), not converted from LaTeX: no LaTeX left in it."""
    pf = forms(name)
    th = replica.derive(name)
    lines = th.text(paper=True).splitlines()
    for line in lines:
        words = line.replace("fractions", "")          # prose, not a LaTeX fraction
        assert not any(bad in words for bad in _LATEX), line
    for eq in th.equations + pf.equations:             # each equation as SymPy's string printer writes it
        assert "    " + expr_text(eq) in lines
    assert "    Phi_RS = " + expr_text(pf.free_entropy) in lines
