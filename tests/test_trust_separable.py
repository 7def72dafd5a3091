"""ERM without a ridge on separable data fails fast and says why (issue 12): ``logistic --set
lam=0`` on noisy labels is refused below the separability threshold α_sep (Candès & Sur 2020,
Ann. Stat. 48, 27, Thm 1) before any solving — it used to iterate for minutes to "not
converged".  The threshold is checked against the independent oracle of tests/oracles (a
logistic teacher, Candès & Sur's h by scipy quad) and against an mpmath evaluation of the same
characterization for the flip teacher."""
import functools
import json
import time

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

import replica
from replica.cli import main
from replica.separability import no_minimizer, separability_threshold
from replica.symbols import y, z

from oracles import regression as orr


@functools.lru_cache(maxsize=None)
def _flip_threshold_mp(flip):
    """1/h, h = min_t 2∫_0^∞ φ(v)[(1 - ε) g(tv) + ε g(-tv)] dv, g(a) = (1 + a²)H(a) - aφ(a),
    g'(a) = 2(aH(a) - φ(a)): the root of h'(t) by mpmath (15 digits)."""
    H = lambda a: mp.erfc(a / mp.sqrt(2)) / 2                                         # noqa: E731
    g = lambda a: (1 + a * a) * H(a) - a * mp.npdf(a)                                 # noqa: E731
    dg = lambda a: 2 * (a * H(a) - mp.npdf(a))                                        # noqa: E731
    E = lambda f: 2 * mp.quad(lambda v: mp.npdf(v) * f(v), [0, mp.inf])              # noqa: E731
    t = mp.findroot(lambda t: E(lambda v: v * ((1 - flip) * dg(t * v) - flip * dg(-t * v))), 1.0)
    return float(1 / E(lambda v: (1 - flip) * g(t * v) + flip * g(-t * v)))


def test_threshold_against_candes_sur_and_mpmath():
    s = sp.Symbol("s", positive=True)
    for sv in (0.0, 5.0):                                   # logistic teacher: the oracle's model
        got = separability_threshold(1 / (1 + sp.exp(-y * s * z)), y, z, {"s": sv})
        assert got == pytest.approx(1 / orr.candes_sur_h(sv), rel=1e-9)
    dens = replica.load_model("logistic").teacher.density         # the built-in's sign teacher with flips
    assert separability_threshold(dens, y, z, {"flip": 0.1}) == pytest.approx(_flip_threshold_mp(0.1), rel=1e-8)
    assert separability_threshold(dens, y, z, {"flip": 0.5}) == pytest.approx(2.0, rel=1e-10)   # Cover 1965


def test_logistic_without_ridge_below_the_threshold_fails_fast():
    t = time.perf_counter()
    r = CliRunner().invoke(main, ["solve", "logistic", "--set", "lam=0", "--set", "flip=0.1",
                                  "--sweep", "alpha=0.5:2.9:50", "--json"], catch_exceptions=False)
    assert time.perf_counter() - t < 2.0
    assert r.exit_code == 2
    msg = json.loads(r.stdout)["error"]
    assert "separable for alpha < 2.99" in msg and "lam = 0" in msg
    assert r.stderr.strip() == "replica: error: " + msg


def test_python_api_reports_no_minimizer_at_once(theories):
    """``replica.solve`` on logistic without a ridge below α_sep: not converged without a single
    iteration (it used to iterate for minutes while Q and χ grew to 1e32 / 1e67), NaN values,
    and the reason on every such point, its threshold the mpmath one above."""
    _, c = theories("logistic")
    a_sep = _flip_threshold_mp(0.1)
    alphas = np.array([0.5, 1.5, 0.99 * a_sep])
    s = replica.solve(c, {"alpha": alphas, "lam": 0.0, "flip": 0.1})
    assert not s.converged.any() and (s.iterations == 0).all()
    assert np.isnan(s["Q"]).all() and np.isnan(s.free_entropy).all()
    for rec in s.to_records():
        assert "no minimizer" in rec["reason"] and f"alpha < {a_sep:.6g}" in rec["reason"]
    flat = replica.solve(c, {"alpha": 3.0, "lam": 0.0, "flip": 0.0})          # noiseless: every alpha
    assert not flat.converged.any() and "noiseless labels" in flat.to_records()[0]["reason"]


def test_no_minimizer_flags_only_ridgeless_separable_points():
    """The mask: ridge 0 and α < α_sep only (a positive ridge, or α above α_sep, has a minimizer);
    a loss that does not keep decreasing (square) is never flagged."""
    model = replica.load_model("logistic")
    a_sep = _flip_threshold_mp(0.1)
    mask, why = no_minimizer(model, {"alpha": np.array([[0.5], [1.01 * a_sep]]), "lam": np.array([0.0, 0.1]),
                                     "flip": 0.1})
    assert mask.tolist() == [True, False, False, False]
    assert why[1:] == [None, None, None] and "lam = 0" in why[0]
    ridge = replica.load_model("ridge")
    assert not no_minimizer(ridge, {"alpha": 0.5, "lam": 0.0, "delta": 0.1})[0].any()
