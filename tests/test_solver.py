"""replica.solve: the defining property of its answers, honest failure, vectorization, and the
published values reproduced through the API, each compared with an independent oracle
(tests/oracles, hand-written from the literature)."""
import functools
import json
import math

import numpy as np
import pytest

import replica
from replica import channels, learning, losses, priors
from replica.solve import (capacity, find_transitions, first_order, solve, solve_branches,
                           spinodal, sweep)
from oracles import classification as oc
from oracles import regression as orr

TOL = 1e-10
#: composite Gauss-Legendre on [-12, 12]: resolves the output integrands, of width sqrt(1 - q),
#: as q -> 1 (96-node Gauss-Hermite puts the ising-bayes spinodal 2e-6 off, the flip = 0.05 low
#: branch's free entropy at alpha = 2 8e-9 off, and its outer nodes make N(u)^2/H(u) a 0/0 for
#: q > 0.83 at flip = 0)
FINE = dict(nodes=400, rule="legendre")


def jacobi_residual(c, sol, nodes=400, rule="legendre"):
    """max_k |M_k(x) - x_k| / max(1, |x_k|), recomputed from the generated maps at the answer
    (with the quadrature the solver ends with: the default 'auto' polishes with 400-node Legendre)."""
    out = c.evaluate(nodes=nodes, rule=rule, **sol.params, **sol.values)
    return max(np.max(np.abs(out["map_" + k] - sol.values[k]) / np.maximum(1.0, np.abs(sol.values[k])))
               for k in c.unknowns)


@pytest.fixture(scope="session")
def version_space():
    """Spherical student, noiseless sign teacher, Gibbs learning at T = 0."""
    m = replica.Model(priors.Spherical(), channels.Sign(), learning.Gibbs(0, losses.Errors()))
    return replica.derive(m).compile()


# -- the defining property -------------------------------------------------------------------

GRIDS = [
    ("ising-bayes", {"alpha": np.linspace(0.2, 1.4, 7), "flip": np.array([[0.0], [0.05]])}),
    ("perceptron-gibbs", {"alpha": np.array([0.5, 2.0, 5.0]), "T": np.array([[0.3], [1.0]])}),
    ("ising-gibbs", {"alpha": np.array([0.5, 1.0, 1.5]), "T": np.array([[0.5], [1.0]])}),
    ("ridge", {"alpha": np.array([0.5, 1.0, 2.0]), "delta": 0.1, "lam": np.array([[0.01], [1.0]])}),
    ("gardner", {"alpha": np.array([0.5, 0.9]), "kappa": np.array([[0.0], [0.5]])}),
]


@pytest.mark.parametrize("name, params", GRIDS, ids=[g[0] for g in GRIDS])
def test_returned_points_are_fixed_points(theories, name, params):
    _, c = theories(name)
    sol = solve(c, params, tol=TOL)
    assert sol.converged.all(), sol.last
    assert sol.shape == np.broadcast_shapes(*(np.shape(v) for v in params.values()))
    assert jacobi_residual(c, sol) < TOL
    assert np.all(sol.residual < TOL)
    assert np.all(np.isfinite(sol.free_entropy))


def test_non_convergence_is_reported_never_a_number(theories):
    _, c = theories("ising-bayes")
    sol = solve(c, {"alpha": [0.5, 1.0], "flip": 0.0}, max_iter=2, tol=1e-15, newton=False, anderson=0)
    assert not sol.converged.any()
    assert np.isnan(sol["q"]).all() and np.isnan(sol.free_entropy).all() and np.isnan(sol["mse"]).all()
    assert np.all(sol.residual > 1e-15)
    recs = sol.to_records()
    json.dumps(recs, allow_nan=False)
    for r in recs:
        assert r["converged"] is False
        assert r["q"] is None and r["q_hat"] is None and r["free_entropy"] is None
        assert r["mse"] is None and r["generalization_error"] is None
        assert isinstance(r["residual"], float)


def test_no_solution_beyond_the_gardner_capacity(theories):
    _, c = theories("gardner")
    sol = solve(c, {"alpha": [1.0, 2.5], "kappa": 0.0})
    assert sol.converged.tolist() == [True, False]
    assert np.isnan(sol["q"][1]) and sol.to_records()[1]["q"] is None


class _NaNAbove:
    """A compiled theory whose maps are NaN for alpha > 1 (a stand-in for a generated module
    that fails there)."""

    def __init__(self, c):
        self._c = c

    def __getattr__(self, name):
        return getattr(self._c, name)

    def evaluate(self, **kw):
        out = dict(self._c.evaluate(**kw))
        bad = np.asarray(kw["alpha"]) > 1
        for k in out:
            if k.startswith("map_"):
                out[k] = np.where(bad, np.nan, out[k])
        return out


def test_non_finite_maps_make_a_point_fail(theories):
    _, c = theories("ising-bayes")
    sol = solve(_NaNAbove(c), {"alpha": [0.5, 1.0, 1.2], "flip": 0.0})
    assert sol.converged.tolist() == [True, True, False]
    assert np.isnan(sol["q"][2]) and np.isfinite(sol["q"][:2]).all()


def test_grid_equals_point_by_point(theories):
    _, c = theories("ising-bayes")
    alpha, flip = np.array([0.3, 0.8, 1.2, 1.45]), np.array([0.0, 0.02, 0.1])
    grid = solve(c, {"alpha": alpha[:, None], "flip": flip[None, :]})
    assert grid.shape == (4, 3)
    for i, a in enumerate(alpha):
        for j, f in enumerate(flip):
            one = solve(c, {"alpha": a, "flip": f})
            assert bool(one.converged) == bool(grid.converged[i, j])
            for k in c.unknowns + ["free_entropy", "mse"]:      # NaN (not computable) on both sides too
                np.testing.assert_allclose(one[k], grid[k][i, j], rtol=0, atol=1e-12)


def test_follow_and_vectorized_sweeps_agree(theories):
    _, c = theories("ising-bayes")
    a = np.linspace(0.5, 2.0, 13)
    fol = sweep(c, "alpha", a, {"flip": 0.05}, mode="follow")
    vec = sweep(c, "alpha", a, {"flip": 0.05}, mode="vectorized")
    assert fol.converged.all() and vec.converged.all()
    np.testing.assert_allclose(fol["q"], vec["q"], rtol=0, atol=1e-9)
    assert list(fol["alpha"]) == list(a)


# -- branches, perfect recovery, equilibrium -------------------------------------------------

def _h(f):
    return -(f * math.log(f) + (1 - f) * math.log1p(-f)) if f else 0.0


def test_ising_bayes_branches_and_equilibrium(theories):
    """The informed start reaches q = 1 (q_hat -> inf), labelled 'perfect', with the free
    entropy -log 2 - alpha h(flip) of the oracle's normalisation; the low branch's free entropy
    equals the oracle's functional at the solution; the equilibrium is the larger one, so it
    switches at the first-order point 1.835 (flip = 0.05)."""
    _, c = theories("ising-bayes")
    flip, alpha = 0.05, np.array([1.0, 1.5, 2.0])
    b = solve_branches(c, {"alpha": alpha, "flip": flip}, **FINE)
    low, high = b.solutions["uninformed"], b.solutions["informed"]
    assert low.converged.all() and high.converged.all()
    assert list(high.branch) == ["perfect"] * 3 and np.all(high["q"] == 1) and np.all(np.isinf(high["q_hat"]))
    # evaluated at q = 1, q_hat = 1e4: exact up to rounding of q_hat * 1e-16
    np.testing.assert_allclose(high.free_entropy, -math.log(2) - alpha * _h(flip), rtol=0, atol=1e-11)
    for i, a in enumerate(alpha):
        ref = oc.ising_bayes_free_entropy(a, flip, float(low["q"][i]), float(low["q_hat"][i]))
        assert float(low.free_entropy[i]) == pytest.approx(ref, abs=1e-9)
    assert b.equilibrium["uninformed"].tolist() == [True, True, False]
    assert b.equilibrium["informed"].tolist() == [False, False, True]
    recs = b.to_records()
    json.dumps(recs, allow_nan=False)
    assert [r["branch"] for r in recs] == ["uninformed", "perfect"] * 3
    assert [r["equilibrium"] for r in recs] == [True, False, True, False, False, True]
    assert recs[1]["q_hat"] is None and recs[1]["q"] == 1.0


def test_coinciding_starts_merge(theories):
    _, c = theories("perceptron-gibbs")
    b = solve_branches(c, {"alpha": [0.5, 2.0], "T": 0.5})
    assert b.duplicate["informed"].all() and b.equilibrium["uninformed"].all()
    assert len(b.to_records()) == 2


# -- published values through the API, against the oracles -----------------------------------

@functools.lru_cache(maxsize=None)
def _oracle(fn, *args):
    return fn(*args)


@pytest.mark.parametrize("kappa, published", [(0.0, 2.0), (0.5, 0.96120505), (1.0, 0.51957223)])
def test_gardner_capacity(theories, kappa, published):
    """Gardner 1988: alpha_c(kappa) = 1/[(1 + kappa^2) H(-kappa) + kappa N(kappa)]."""
    th, _ = theories("gardner")
    (rec,) = capacity(th, "alpha", (0.2, 3.0), {"kappa": kappa})
    assert rec["kind"] == "capacity"
    assert rec["value"] == pytest.approx(float(oc.gardner_alpha_c(kappa)), abs=1e-8)
    assert rec["value"] == pytest.approx(published, abs=1e-8)


def test_ising_storage_capacity(theories):
    """Krauth & Mézard 1989: the RS entropy of ±1 weights vanishes at 0.8330786; the RS q -> 1
    point is 4/pi (Gardner & Derrida 1988)."""
    th, _ = theories("ising-storage")
    recs = {r["kind"]: r for r in capacity(th, "alpha", (0.3, 1.5), {"kappa": 0.0})}
    assert recs["capacity"]["value"] == pytest.approx(0.8330786, abs=1e-6)
    assert recs["capacity"]["value"] == pytest.approx(_oracle(oc.ising_storage_entropy_zero_alpha, 0.0), abs=1e-7)
    assert recs["q_to_one"]["value"] == pytest.approx(4 / math.pi, abs=1e-8)


def test_ising_bayes_spinodal(theories):
    """Algorithmic threshold of the Bayes-optimal binary perceptron: 1.493 (Barbier et al. 2019);
    the oracle's saddle-node of the RS curve: 1.4926318182."""
    th, _ = theories("ising-bayes")
    recs = spinodal(th, "alpha", (0.5, 2.0), {"flip": 0.0}, **FINE)
    assert [r["branch"] for r in recs] == ["uninformed"]
    assert recs[0]["value"] == pytest.approx(1.4926, abs=1e-4)
    assert recs[0]["value"] == pytest.approx(_oracle(oc.ising_bayes_spinodal, 0.0), abs=1e-8)


def test_ising_bayes_first_order_noiseless(theories):
    """Györgyi 1990: alpha_IT = 1.245; the oracle's free-entropy crossing 1.2446839899."""
    th, _ = theories("ising-bayes")
    (rec,) = first_order(th, "alpha", (0.5, 2.0), {"flip": 0.0}, **FINE)
    assert rec["value"] == pytest.approx(1.2447, abs=1e-4)
    assert rec["value"] == pytest.approx(_oracle(oc.ising_bayes_first_order, 0.0), abs=1e-8)


def test_ising_bayes_transitions_noisy(theories):
    """Label noise flip = 0.05: the crossing of the low branch with -log 2 - alpha h(flip), and
    the end of the low branch (oracle: 1.835011, 2.198451)."""
    th, _ = theories("ising-bayes")
    (rec,) = first_order(th, "alpha", (0.5, 2.5), {"flip": 0.05}, **FINE)
    assert rec["branches"] == ["uninformed", "perfect"]
    assert rec["value"] == pytest.approx(_oracle(oc.ising_bayes_first_order, 0.05), abs=1e-9)
    (rec,) = spinodal(th, "alpha", (0.5, 2.5), {"flip": 0.05}, **FINE)
    assert rec["value"] == pytest.approx(_oracle(oc.ising_bayes_spinodal, 0.05), abs=1e-8)


def test_ising_gibbs_first_order(theories):
    """Gibbs learning of ±1 weights at T = 0.5 (Seung, Sompolinsky & Tishby 1992): the poorly
    generalizing branch meets the frozen perfect state (oracle: brentq on its free entropy)."""
    th, _ = theories("ising-gibbs")
    (rec,) = first_order(th, "alpha", (1.0, 2.5), {"T": 0.5})
    assert rec["branches"] == ["uninformed", "perfect"]
    assert rec["value"] == pytest.approx(_oracle(oc.ising_gibbs_first_order, 0.5), abs=1e-8)


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0])
def test_spherical_bayes_and_version_space(theories, version_space, alpha):
    """Opper & Haussler 1991 (Bayes) and Györgyi & Tishby 1990 (version space, Gibbs T = 0)."""
    _, bayes = theories("perceptron-bayes")
    s = solve(bayes, {"alpha": alpha, "flip": 0.0}, **FINE)
    ref = _oracle(oc.spherical_bayes, alpha)
    assert float(s["generalization_error"]) == pytest.approx(float(ref["eps"]), abs=1e-7)
    assert float(s["q"]) == pytest.approx(float(ref["q"]), abs=1e-7)
    v = solve(version_space, {"alpha": alpha}, **FINE)
    ref = _oracle(oc.spherical_gibbs_T0, alpha)
    assert float(v["generalization_error"]) == pytest.approx(float(ref["eps"]), abs=1e-7)
    assert float(v["m"]) == pytest.approx(float(ref["R"]), abs=1e-7)
    assert float(v["q"]) == pytest.approx(float(ref["R"]), abs=1e-7)


def test_linear_bayes(theories):
    _, c = theories("linear-bayes")
    pts = [(0.5, 0.1), (1.0, 1.0), (2.0, 1.0), (3.0, 0.3)]
    a, d = map(np.array, zip(*pts))
    s = solve(c, {"alpha": a, "delta": d})
    for i, (ai, di) in enumerate(pts):
        ref = orr.linear_bayes(ai, di)
        assert float(s["mse"][i]) == pytest.approx(ref["mmse"], abs=1e-10)
        assert float(s.free_entropy[i]) == pytest.approx(ref["free_entropy"], abs=1e-10)
    assert float(s["mse"][2]) == pytest.approx(math.sqrt(2) - 1, abs=1e-10)


ALPHAS = [0.5, 1.0, 2.0]


def test_ridge(theories):
    """Ridge regression (Hastie et al. 2019 closed form, Aubin et al. 2020 replica): our Q is the
    oracle's q, our chi its V."""
    _, c = theories("ridge")
    s = solve(c, {"alpha": ALPHAS, "delta": 0.1, "lam": 0.1})
    assert s.converged.all()
    for i, a in enumerate(ALPHAS):
        ref = orr.ridge_regression(a, 0.1, 0.1)
        for ours, theirs in (("m", "m"), ("Q", "q"), ("chi", "V"), ("generalization_error", "test_error")):
            assert float(s[ours][i]) == pytest.approx(ref[theirs], abs=1e-6), ours


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_erm_on_a_sign_teacher(theories, loss):
    """Aubin, Krzakala, Lu & Zdeborová 2020, lam = 0.1, noiseless sign teacher."""
    _, c = theories(loss)
    s = solve(c, {"alpha": ALPHAS, "flip": 0.0, "lam": 0.1}, tol=1e-12)
    assert s.converged.all()
    for i, a in enumerate(ALPHAS):
        ref = _oracle(orr.erm_sign, loss, a, 0.1)
        for ours, theirs in (("m", "m"), ("Q", "q"), ("chi", "V"), ("generalization_error", "eps_gen")):
            assert float(s[ours][i]) == pytest.approx(ref[theirs], abs=1e-6), (ours, a)


class _Toy:
    """A compiled theory written by hand (no built-in model has q = 0 as a fixed point): Gaussian
    prior, q = q_hat/(1 + q_hat), and a symmetric-channel-like output map
    q_hat = alpha q / (2 (1 + delta - q)), so that q = 0 loses stability at alpha = 2 (1 + delta)."""

    unknowns, parameter_names, fixed, kind = ["q", "q_hat"], ["alpha", "delta"], {}, "bayes-optimal"
    module = None

    def __init__(self):
        self.model = replica.load_model("linear-bayes")

    def evaluate(self, nodes=96, rule="hermite", want=None, *, alpha, delta, q, q_hat):
        alpha, delta, q, q_hat = np.broadcast_arrays(alpha, delta, q, q_hat)
        return {"map_q": q_hat / (1 + q_hat), "map_q_hat": alpha * q / (2 * (1 + delta - q)),
                "free_entropy": 0 * q}


def test_weak_recovery_located_where_zero_overlap_turns_unstable():
    from replica.solve import weak_recovery
    (rec,) = weak_recovery(_Toy(), "alpha", (0.5, 5.0), {"delta": 0.5})
    assert rec["kind"] == "weak_recovery" and rec["value"] == pytest.approx(3.0, abs=1e-8)
    assert weak_recovery("ising-bayes", "alpha", (0.5, 2.0), {"flip": 0.1}) == []   # q_hat(q=0) > 0


def test_parameters_are_checked(theories):
    _, c = theories("ising-bayes")
    with pytest.raises(replica.ParameterError, match="flip"):
        solve(c, {"alpha": 1.0, "flip": 0.7})
    with pytest.raises(replica.ParameterError, match="unknown"):
        solve(c, {"alpha": 1.0, "temperature": 1.0})
    s = solve(c, {"alpha": 1.0})                                          # flip from the defaults
    assert float(s["flip"]) == 0.0 and bool(s.converged)


def test_find_transitions_by_model(theories):
    """Storage: capacity only; a single-branch model (Bayes-optimal linear regression): none."""
    recs = find_transitions("gardner", "alpha", (0.2, 3.0), {"kappa": 0.0})
    assert [r["kind"] for r in recs] == ["capacity"]
    assert find_transitions("linear-bayes", "alpha", (0.2, 3.0), {"delta": 0.5}) == []
