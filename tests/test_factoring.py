"""The memoized ``factor_terms`` and ``powsimp_exp`` of the code generator return exactly SymPy's
``factor_terms`` and ``powsimp(combine="exp")`` (the oracle: SymPy itself), on the shapes the lowering meets: nested products of exponentials
and sums, common negatives, exp(-(x + 2)), repeated subtrees."""
import sympy as sp

from replica.symbolic.factoring import factor_terms, powsimp_exp
from replica.symbolic.gauss import _factor_factors


def _cases():
    x, y, s, d = sp.symbols("x y s delta", real=True)
    z = sp.Dummy("z", positive=True)
    g = 4 * s**2 * sp.sqrt(sp.pi) * sp.exp(y**2 / (2 * s + 2 * d)) + 8 * s * d * sp.sqrt(sp.pi) * sp.exp(y**2 / (2 * s + 2 * d))
    inner = (2 * x * sp.exp(-x**2 / 2) + 4 * x * y * sp.exp(-(x + 2))) / (6 * s + 6 * d)
    return [
        x + x * (2 + 4 * y)**3,
        -x - y,
        -2 * x - 2 * y,
        x / 2 + 1,
        sp.exp(-(x + 2)) * (3 * x + 3 * y),
        sp.sqrt(2) * y**3 * sp.exp(2 * s * y / (2 * s + 2 * d)) / g,
        inner * sp.erfc(inner) + inner**2 * sp.exp(inner) - 3 * z * inner,
        sp.log(2 * x * sp.exp(z) + 4 * y * sp.exp(z)) * (2 * x + 2 * y * sp.exp(x)),
    ]


def test_factor_terms_is_sympys():
    for e in _cases():
        assert factor_terms(e) == sp.factor_terms(e), e


def test_powsimp_exp_is_sympys():
    x, y, s = sp.symbols("x y s", real=True)
    q = sp.Symbol("q", positive=True)
    more = [
        sp.exp(x) * sp.exp(y) * (sp.exp(-x) * s + q * sp.sqrt(q) * sp.exp(2 * y)),
        2**x / 4 * sp.exp(x)**2 * q**(-sp.Rational(1, 2)) * sp.sqrt(q),
        (sp.exp(x) * sp.exp(-y))**-1 + sp.exp(x) / sp.exp(y),
        sp.erfc(x * sp.exp(x) * sp.exp(y)) * sp.exp(s) * sp.exp(x) / (1 + sp.exp(x) * sp.exp(y)),
        (1 / q) * q**x * q**y * sp.exp(x)**y,
    ]
    for e in _cases() + more:
        for f in (e, factor_terms(e)):
            assert powsimp_exp(f) == sp.powsimp(f, combine="exp"), f


def test_factor_factors_is_sympys_factor():
    """The factor-by-factor factorization of a product is SymPy's factorization of the product."""
    x, y, s, d = sp.symbols("x y s delta", real=True)
    den = 4 * s**2 * sp.sqrt(sp.pi) * sp.exp(y**2 / (2 * s + 2 * d)) + 8 * s * d * sp.sqrt(sp.pi) * sp.exp(y**2 / (2 * s + 2 * d)) \
        + 4 * sp.sqrt(sp.pi) * d**2 * sp.exp(y**2 / (2 * s + 2 * d))
    for num in (sp.sqrt(2) * y**3 * sp.exp(2 * s * y / (2 * s + 2 * d)), -x * y, 3 * (y - s)**2):
        term = num / den
        assert _factor_factors(term) == sp.factor(term), term
