"""The memoized ``factor_terms`` of the code generator returns exactly SymPy's ``factor_terms``
(the oracle: SymPy itself), on the shapes the lowering meets: nested products of exponentials
and sums, common negatives, exp(-(x + 2)), repeated subtrees."""
import sympy as sp

from replica.symbolic.factoring import factor_terms
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


def test_factor_factors_is_sympys_factor():
    """The factor-by-factor factorization of a product is SymPy's factorization of the product."""
    x, y, s, d = sp.symbols("x y s delta", real=True)
    den = 4 * s**2 * sp.sqrt(sp.pi) * sp.exp(y**2 / (2 * s + 2 * d)) + 8 * s * d * sp.sqrt(sp.pi) * sp.exp(y**2 / (2 * s + 2 * d)) \
        + 4 * sp.sqrt(sp.pi) * d**2 * sp.exp(y**2 / (2 * s + 2 * d))
    for num in (sp.sqrt(2) * y**3 * sp.exp(2 * s * y / (2 * s + 2 * d)), -x * y, 3 * (y - s)**2):
        term = num / den
        assert _factor_factors(term) == sp.factor(term), term
