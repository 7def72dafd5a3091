"""Rendering: project symbol names, and bound variables printed without process-dependent indices."""
import pickle

import sympy as sp

from replica import symbols as S
from replica.symbolic.gauss import GaussE
from replica.symbolic.printing import Math, Phrase, plain
from replica.symbolic.render import expr_latex, expr_text, symbol_tex


def test_symbol_names():
    assert symbol_tex("q_hat") == r"\hat{q}"
    assert symbol_tex("chi_hat") == r"\hat{\chi}"
    assert symbol_tex("Q_hat") == r"\hat{Q}"
    assert symbol_tex("delta") == r"\Delta"
    assert symbol_tex("lam") == r"\lambda"
    assert symbol_tex("kappa") == r"\kappa"
    assert symbol_tex("sigma") == r"\sigma"
    assert symbol_tex("width") == r"\mathrm{width}"
    assert expr_latex(sp.Eq(S.q_hat, S.alpha * S.chi)) == r"\hat{q} = \alpha \chi"


def _node():
    xi = sp.Dummy("xi", real=True)
    return GaussE(sp.log(1 + sp.exp(sp.sqrt(S.q) * xi)), xi)


def test_dummies_print_the_same_whatever_their_index():
    a, b = _node(), _node()
    assert a != b                                   # distinct dummies ...
    assert expr_latex(a) == expr_latex(b)           # ... print identically
    assert expr_text(a) == expr_text(b) == "E_xi[log(exp(sqrt(q)*xi) + 1)]"


def test_distinct_dummies_of_one_name_stay_distinct():
    x1, x2 = sp.Dummy("x", real=True), sp.Dummy("x", real=True)
    e = GaussE(GaussE(x1 * x2 * S.q, x2), x1)
    assert expr_text(e) == "E_x[E_x_2[q*x*x_2]]"



def test_phrase_spells_math_twice():
    """Prose with inline math carries both spellings; the plain one is SymPy's string printer."""
    p = Phrase.of("conjugate **of** `q`, rescaled: ", S.q_hat / S.beta**2, " and ", Math(r"n \to 0", "n -> 0"))
    assert str(p) == r"conjugate **of** `q`, rescaled: $\frac{\hat{q}}{\beta^{2}}$ and $n \to 0$"
    assert p.text == "conjugate of q, rescaled: " + sp.sstr(S.q_hat / S.beta**2) + " and n -> 0"
    assert plain(p) == p.text and plain("a **b** `c*d`") == "a b c*d"
    back = pickle.loads(pickle.dumps(p))
    assert (str(back), back.text) == (str(p), p.text)
