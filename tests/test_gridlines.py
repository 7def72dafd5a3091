"""replica.phase.gridlines: the vectorized root search against closed forms, and a block of rows
solved as one grid against the rows solved one by one."""
import numpy as np
import pytest

from replica.codegen.compiled import load_compiled
from replica.phase.grid import TheoryRef, solve_row, solve_rows
from replica.phase.gridlines import illinois


def test_illinois_finds_every_root_of_a_batch():
    """x² = c on [0, 3]: the roots √c (closed form), each bracket on its own."""
    c = np.array([0.5, 2.0, 7.0, 1e-3])
    f = lambda x, k: x * x - c[k]
    r = illinois(f, np.zeros(4), np.full(4, 3.0), -c, 9.0 - c, 1e-13)
    np.testing.assert_allclose(r, np.sqrt(c), rtol=0, atol=1e-12)


def test_illinois_retries_nan_at_the_middle_and_gives_up_where_nan_persists():
    """f = x - 1 but NaN on (0.2, 0.6) (the false-position point of the first bracket) and
    everywhere inside the second bracket: the first root is found, the second is NaN."""
    def f(x, k):
        v = x - 1.0
        v = np.where((k == 0) & (x > 0.2) & (x < 0.6), np.nan, v)
        return np.where(k == 1, np.nan, v)
    r = illinois(f, np.array([0.0, 0.0]), np.array([1.5, 3.0]), np.array([-1.0, -1.0]), np.array([0.5, 2.0]), 1e-12)
    assert r[0] == pytest.approx(1.0, abs=1e-12) and np.isnan(r[1])


def test_a_block_of_rows_is_the_rows_one_by_one():
    """solve_rows on a (2 rows x 5 points) block gives each row's solve_row numbers (the solver
    treats every point on its own)."""
    ref = TheoryRef(load_compiled("ising-bayes"))
    xs, ys, opts = np.linspace(1.0, 2.0, 5), [0.0, 0.05], {"nodes": 400, "rule": "legendre"}
    block = solve_rows(ref, "alpha", xs, "flip", ys, {}, opts)
    for y, got in zip(ys, block):
        one = solve_row(ref, "alpha", xs, "flip", y, {}, opts)
        assert set(got) == set(one)
        for lab in one:
            for k, v in one[lab].items():
                if v.dtype.kind == "f":
                    np.testing.assert_allclose(got[lab][k], v, rtol=0, atol=1e-9, equal_nan=True)
                else:
                    assert np.array_equal(got[lab][k], v), (lab, k)
