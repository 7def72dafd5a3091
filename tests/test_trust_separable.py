"""ERM without a ridge on separable data fails fast and says why (issue 12): ``logistic --set
lam=0`` on noisy labels is refused below the separability threshold α_sep (Candès & Sur 2020,
Ann. Stat. 48, 27, Thm 1) before any solving — it used to iterate for minutes to "not
converged".  The threshold is checked against the independent oracle of tests/oracles (a
logistic teacher, Candès & Sur's h by scipy quad) and against an mpmath evaluation of the same
characterization for the flip teacher."""
import json
import time

import mpmath as mp
import pytest
import sympy as sp
from click.testing import CliRunner

import replica
from replica.cli import main
from replica.separability import separability_threshold
from replica.symbols import y, z

from oracles import regression as orr


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
