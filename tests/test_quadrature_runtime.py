"""The run-time quadrature helpers of the generated NumPy modules (``lower.RUNTIME_PRELUDE``), on their
own: the kink rule drops the pieces that are empty at every point (missing run-time roots all
sit at the line's end) and still integrates piecewise-smooth integrands to rounding; the
run-time roots of a non-linear kink argument are found where some points of a batch have them
and others not.  Closed forms as oracles: E|x - a| = 2φ(a) + a(2Φ(a) - 1), x ~ N(0, 1)."""
import numpy as np
from scipy.stats import norm

from replica.codegen import lower

RT: dict = {}
exec(compile(lower.RUNTIME_PRELUDE, "<replica numpy runtime>", "exec"), RT)


def _abs_moment(a):
    return 2 * norm.pdf(a) + a * (2 * norm.cdf(a) - 1)


def test_kink_rule_skips_pieces_empty_everywhere_and_stays_exact():
    a = np.array([-1.7, 0.3, 2.5])
    end = np.full(3, 12.0)                                   # two missing roots: empty pieces
    x, w = RT["_kink_rule"](384, [a, end, end], 1)
    P = -(-384 // (8 * 4))                                   # panels per piece, as for 4 pieces
    assert x.shape == (2 * P * 8, 3)                          # nodes on the two non-empty pieces only
    np.testing.assert_allclose(np.sum(w * np.abs(x - a), axis=0), _abs_moment(a), rtol=1e-13, atol=0)
    # a piece empty at one point and not at another is kept: both points exact
    b = np.array([0.4, 12.0])
    x, w = RT["_kink_rule"](384, [np.array([-0.8, -0.8]), b], 1)
    assert x.shape[0] == 3 * (-(-384 // 24)) * 8           # three pieces, none empty everywhere
    f = np.abs(x + 0.8) + np.abs(x - b)
    np.testing.assert_allclose(np.sum(w * f, axis=0), _abs_moment(-0.8) + _abs_moment(b), rtol=1e-13, atol=0)


def test_implicit_roots_where_only_some_points_have_them():
    c = np.array([0.5, 20.0, 2.0])                            # the middle point: no root in (-12, 12)
    roots = RT["_implicit_roots"](lambda x: (x - c) * (x + c), 1)
    assert len(roots) == RT["IMPLICIT_ROOTS"]
    r = np.array(roots)
    np.testing.assert_allclose(r[:2, [0, 2]], np.stack([-c[[0, 2]], c[[0, 2]]]), rtol=0, atol=1e-14)
    assert np.all(r[:, 1] == 12.0) and np.all(r[2:] == 12.0)
    # no point with a root at all: every row at the line's end
    assert np.all(np.array(RT["_implicit_roots"](lambda x: x * x + 1.0 + 0 * c, 1)) == 12.0)
