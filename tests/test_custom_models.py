"""Model files that define new components from SymPy expressions derive with no other code,
and agree with the built-in component where one exists (Done-when of the symbolic-engine issue).

Each file is written to tmp_path and loaded by ``replica.load_model(path[:variable])``; it
contains nothing but component statements.  Comparisons are made on the compiled outputs
(every fixed-point map, the free entropy and the observables) at random admissible points, or
against independent values (mpmath closed forms, the ridge-regression oracle)."""
import textwrap

import mpmath as mp
import numpy as np
import pytest
import scipy.optimize as so
import sympy as sp

import replica
from replica import channels, learning, losses, priors
from conftest import fixed_point
from oracles import regression as orr

RANGES = {"q": (0.15, 0.7), "m": (0.05, 0.3), "Q": (0.9, 1.4), "chi": (0.4, 1.5),
          "q_hat": (0.3, 1.5), "m_hat": (0.2, 0.8), "Q_hat": (-0.5, 0.5), "chi_hat": (0.8, 2.0),
          "alpha": (0.5, 2.5), "delta": (0.05, 1.0), "lam": (0.05, 1.0), "flip": (0.0, 0.4),
          "eps": (0.0, 0.4), "c": (0.5, 2.0)}


def _write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _random_points(names, seed, k=3):
    rng = np.random.default_rng(seed)
    return [{n: float(rng.uniform(*RANGES[n])) for n in names} for _ in range(k)]


def _assert_same_outputs(c1, c2, rename, seed, tol=1e-10):
    """Every output of c1 equals c2's at random points (c1's argument names mapped by ``rename``
    to c2's), and both define the same outputs."""
    assert set(c1.module.OUTPUTS) == set(c2.module.OUTPUTS)
    assert [rename.get(a, a) for a in c1.argnames] == c2.argnames
    for pt in _random_points(c1.argnames, seed):
        r1 = c1.evaluate(**pt)
        r2 = c2.evaluate(**{rename.get(k, k): v for k, v in pt.items()})
        for k in r1:
            assert np.isfinite(float(r1[k])), (k, pt)
            assert float(r1[k]) == pytest.approx(float(r2[k]), abs=tol, rel=tol), (k, pt)


def _canonical(e):
    """Bound dummies (integration variables) renamed to plain symbols, so that two derivations
    of the same model compare equal."""
    e = sp.sympify(e)
    return e.xreplace({d: sp.Symbol("_bound_" + d.name) for d in e.atoms(sp.Dummy)})


# -- (a) ReLU teacher with Gaussian noise, by hand -------------------------------------------

RELU_FILE = """
    import sympy as sp
    from replica import Model, priors, channels, learning, losses

    y, z = sp.symbols("y z", real=True)
    delta = sp.Symbol("delta", positive=True)
    teacher = channels.Custom(sp.exp(-(y - sp.Max(0, z))**2 / (2 * delta)) / sp.sqrt(2 * sp.pi * delta),
                              y, z, outputs="real", params={"delta": "positive"})
    model = Model(prior=priors.Gaussian(1), teacher=teacher,
                  learning=learning.ERM(losses.Square(), ridge="lam"))
"""


def _relu_builtin():
    return replica.Model(priors.Gaussian(1), channels.ReLU(noise="delta"),
                         learning.ERM(losses.Square(), ridge="lam"))


@pytest.fixture(scope="session")
def relu_pair(tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("relu"), "relu_teacher.py", RELU_FILE)
    model = replica.load_model(str(path))
    return replica.derive(model), replica.derive(_relu_builtin())


def test_relu_by_hand_derives_like_the_builtin(relu_pair):
    custom, builtin = relu_pair
    assert custom.model.parameter_names() == ["alpha", "delta", "lam"]
    assert custom.model.teacher.noise_form() == builtin.model.teacher.noise_form()
    assert [s.name for s in custom.order_parameters] == [s.name for s in builtin.order_parameters]
    assert sp.simplify(_canonical(custom.free_entropy) - _canonical(builtin.free_entropy)) == 0
    for e1, e2 in zip(custom.equations, builtin.equations):
        assert e1.lhs == e2.lhs
        assert sp.simplify(_canonical(e1.rhs) - _canonical(e2.rhs)) == 0, e1.lhs
    for k, (slots, body) in builtin.potentials.items():
        assert custom.potentials[k][0] == slots
        assert sp.simplify(custom.potentials[k][1] - body) == 0, k


def test_relu_by_hand_compiles_and_agrees_with_the_builtin(relu_pair):
    """Compiled maps, free entropy and observables agree at random points to 1e-10."""
    custom, builtin = relu_pair
    _assert_same_outputs(custom.compile(), builtin.compile(), {}, seed=1)


def test_erm_regression_error_on_a_relu_teacher(relu_pair):
    """Ridge regression of y = max(0, z) + √Δ η: the estimator's pre-activation λ̂ has
    Var λ̂ = Q, Cov(z, λ̂) = m, so E[(max(0, z) - λ̂)²] = E max(0,z)² - 2m E[z max(0,z)] + Q
    = ½ - m + Q (z ~ N(0, 1)); the same expression for the custom and the built-in teacher."""
    for th in relu_pair:
        obs = th.observables["generalization_error"]
        at = {s: {"Q": 0.7, "m": 0.4}[s.name] for s in obs.free_symbols}
        assert float(obs.subs(at)) == pytest.approx(0.5 - 0.4 + 0.7, abs=1e-14)


# -- (b) label-flip sign channel by hand, Bayes-optimal, spherical prior ----------------------

FLIP_FILE = """
    import sympy as sp
    from replica import Model, priors, channels, learning

    y, z, eps = sp.symbols("y z eps", real=True)
    teacher = channels.Custom((1 - eps) * sp.Heaviside(y * z) + eps * sp.Heaviside(-y * z), y, z,
                              outputs=(-1, 1), params={"eps": (0, 0.5)})
    bayes = Model(prior=priors.Spherical(), teacher=teacher, learning=learning.BayesOptimal())
"""


def test_flip_channel_by_hand_agrees_with_perceptron_bayes(tmp_path, theories):
    path = _write(tmp_path, "flip_channel.py", FLIP_FILE)
    model = replica.load_model(f"{path}:bayes")
    assert model.parameter_names() == ["alpha", "eps"]
    th = replica.derive(model)
    assert th.kind == "bayes-optimal"
    _, builtin = theories("perceptron-bayes")
    _assert_same_outputs(th.compile(), builtin, {"eps": "flip"}, seed=2)


def test_load_model_default_variable_is_model(tmp_path):
    path = _write(tmp_path, "flip_channel.py", textwrap.dedent(FLIP_FILE) + "\nmodel = bayes\n")
    model = replica.load_model(str(path))
    assert isinstance(model, replica.Model)
    assert model.parameter_names() == ["alpha", "eps"]


# -- (c) door constraint |lam| <= kappa in a Volume problem -----------------------------------

DOOR_FILE = """
    import sympy as sp
    from replica import Model, priors, channels, learning

    y, lam, kappa = sp.symbols("y lam kappa", real=True)
    model = Model(prior=priors.Spherical(), teacher=channels.RandomLabels(),
                  learning=learning.Volume(constraint=sp.Abs(lam) <= kappa, y=y, lam=lam,
                                           params={"kappa": "positive"}))
"""


def _door_alpha_c(kappa):
    """Gardner's argument for a convex constraint set C on the pre-activation (Gardner 1988;
    Engel & Van den Broeck 2001 ch. 6): alpha_c = 1/E_t[dist(t, C)^2]; for C = [-kappa, kappa]
    that is 1/(2 int_kappa^inf Dt (t - kappa)^2).  mpmath at 30 digits."""
    with mp.workdps(30):
        k = mp.mpf(kappa)
        integral = mp.quad(lambda t: mp.exp(-t * t / 2) / mp.sqrt(2 * mp.pi) * (t - k)**2, [k, k + 5, mp.inf])
        return float(1 / (2 * integral))


@pytest.fixture(scope="session")
def door(tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("door"), "door.py", DOOR_FILE)
    th = replica.derive(replica.load_model(str(path)))
    assert th.capacity is not None
    return th, th.capacity.compile()


@pytest.mark.parametrize("kappa", [0.5, 1.0])
def test_door_capacity_matches_the_convex_formula(door, kappa):
    """Root in alpha of the capacity theory's Phi_0 at its fixed point (as in
    test_reference_values.py for Gardner's capacity)."""
    _, cap = door

    def phi0(alpha):
        _, res = fixed_point(cap, {"alpha": alpha, "kappa": kappa}, {"q_hat": 1.0}, damping=0.0)
        return float(res["free_entropy"])

    alpha_c = so.brentq(phi0, 0.5, 20.0, xtol=1e-13)
    assert alpha_c == pytest.approx(_door_alpha_c(kappa), abs=1e-8)


def test_capacity_theory_broadcasts_over_parameters(door):
    """Every solver call broadcasts over its parameters: arrays of kappa give the scalar values."""
    _, cap = door
    kappas = np.array([0.5, 1.0])
    res = cap.evaluate(alpha=np.ones(2), kappa=kappas, q_hat=np.ones(2))
    for i, k in enumerate(kappas):
        one = cap.evaluate(alpha=1.0, kappa=k, q_hat=1.0)
        for name in one:
            assert float(np.asarray(res[name])[i]) == pytest.approx(float(one[name]), abs=1e-14), name


def test_capacity_theory_survives_many_quadrature_nodes(door):
    """The node count is an option: more Gauss-Hermite nodes than float64 supports is a clear
    error (never silent NaN), and the composite Gauss-Legendre rule takes any number."""
    _, cap = door
    with pytest.raises(ValueError, match="Gauss-Hermite with 400 nodes"):
        cap.evaluate(nodes=400, alpha=1.0, kappa=0.5, q_hat=1.0)
    res = cap.evaluate(nodes=4000, rule="legendre", alpha=1.0, kappa=0.5, q_hat=1.0)
    for k, v in res.items():
        assert np.isfinite(float(v)), k


# -- (d) custom losses with ERM agree with the built-ins -------------------------------------

SQUARE_FILE = """
    import sympy as sp
    from replica import Model, priors, channels, learning, losses

    y, lam, c = sp.symbols("y lam c", real=True)
    model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                  learning=learning.ERM(losses.Custom((y - lam)**2 / 2, y, lam), ridge="lam"))
    scaled = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                   learning=learning.ERM(losses.Custom(c * (y - lam)**2 / 2, y, lam, params={"c": "positive"}),
                                         ridge="lam"))
"""

LOGISTIC_FILE = """
    import sympy as sp
    from replica import Model, priors, channels, learning, losses

    y, lam = sp.symbols("y lam", real=True)
    model = Model(prior=priors.Gaussian(1), teacher=channels.Sign(flip="flip"),
                  learning=learning.ERM(losses.Custom(sp.log(1 + sp.exp(-y * lam)), y, lam), ridge="lam"))
"""


@pytest.fixture(scope="session")
def square_file(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("square"), "square_loss.py", SQUARE_FILE)


def test_custom_logistic_loss_agrees_with_logistic(tmp_path, theories):
    th = replica.derive(replica.load_model(str(_write(tmp_path, "logistic_loss.py", LOGISTIC_FILE))))
    _, builtin = theories("logistic")
    _assert_same_outputs(th.compile(), builtin, {}, seed=4)


def test_custom_square_loss_agrees_with_ridge(square_file, theories):
    """c (y - lam)^2/2 via losses.Custom, at c = 1, is the built-in ridge model point by point;
    and argmin c sum (y-lam)^2/2 + (c lam_r/2)|w|^2 = ridge with penalty lam_r, so at c = 2.5 its
    fixed point matches Hastie et al. 2019 (RMT) / Aubin et al. 2020 (oracle
    tests/oracles/regression.py) for Q = |w|^2/N, m and the test error."""
    assert replica.load_model(str(square_file)).parameter_names() == ["alpha", "delta", "lam"]
    th = replica.derive(replica.load_model(f"{square_file}:scaled"))
    assert set(th.model.parameter_names()) == {"alpha", "delta", "c", "lam"}
    comp = th.compile()
    _, builtin = theories("ridge")
    assert set(comp.module.OUTPUTS) == set(builtin.module.OUTPUTS)
    for pt in _random_points(builtin.argnames, seed=3):
        r1, r2 = comp.evaluate(c=1.0, **pt), builtin.evaluate(**pt)
        for k in r2:
            assert float(r1[k]) == pytest.approx(float(r2[k]), abs=1e-10, rel=1e-10), (k, pt)
    a, d, lam_r, c = 1.5, 0.3, 0.2, 2.5
    init = {"Q": 1.0, "chi": 1.0, "m": 0.5, "chi_hat": 1.0, "q_hat": 1.0, "m_hat": 1.0}
    state, res = fixed_point(comp, {"alpha": a, "delta": d, "c": c, "lam": c * lam_r}, init)
    ref = orr.ridge_regression(a, d, lam_r)
    assert float(state["Q"]) == pytest.approx(ref["q"], abs=1e-9)
    assert float(state["m"]) == pytest.approx(ref["m"], abs=1e-9)
    assert float(res["generalization_error"]) == pytest.approx(ref["test_error"], abs=1e-9)
