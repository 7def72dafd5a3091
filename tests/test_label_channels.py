"""Real-label channels whose ∫dy Z_out log Z_out has no closed form (issue 11, part A): the
ReLU teacher and noisy phase retrieval y = |z| + √Δ η, Bayes-optimal, each a custom model file
under tests/generic_models/.  The lowering keeps the label integral as a graded Gauss-Legendre
rule on the range read from the channel (``replica.codegen.labels``); every number is checked
against the brute-force tensor-rule oracle of tests/oracles/generic_a.py (``noisy_channel``,
``weak_recovery_threshold``), which shares no code with the toolkit."""
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import replica
from replica import channels, learning, priors
from replica.codegen.lower import LoweringError
from replica.solve import solve
from oracles import generic_a as O

MODELS = Path(__file__).parent / "generic_models"

#: model file -> (teacher function f of y = f(z) + √Δ η, its kinks)
TEACHERS = {"a_relu": (lambda z: np.maximum(0.0, z), (0.0,)), "a_abs": (np.abs, (0.0,))}

#: the rule the label models are checked at: the Gaussian expectation over ξ of these channels
#: has a feature where the field crosses the teacher's kink (|z| + noise, Δ = 0.05, q = 0.8: the
#: q̂ map 2e-3 off with Gauss-Hermite-96, 1e-7 with Legendre-192, 3e-13 with Legendre-384); the
#: feature-adapted rule has it (the label quadrature's ``crossings``): 8e-11 with 96 nodes, so
#: the solver's default (Hermite, then the acceptance check and re-solve with that rule) holds
RULE = dict(rule="legendre", nodes=384)
#: the oracle's panels over ξ (16 nodes each): the |z| channel needs the finer rule, like RULE
XI_PANELS = {"a_relu": 8, "a_abs": 16}


@pytest.fixture(scope="session")
def compiled():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = replica.derive(replica.load_model(str(MODELS / f"{name}.py"))).compile()
        return cache[name]
    return get


@pytest.mark.parametrize("name,delta,alphas", [("a_relu", 0.1, (0.5, 2.0)), ("a_abs", 0.05, (0.8, 2.5))])
def test_solves_to_the_oracle_fixed_point(compiled, name, delta, alphas):
    """At two α the solved (q, q̂) — the solver's defaults — satisfy the oracle's equations: q = q̂/(1 + q̂) (Gaussian prior)
    and q̂ = α E_ξ ∫dy (∂_ω Z)²/Z to 1e-7 (relative where q̂ > 1: q̂ = 22.9 at |z| + noise,
    α = 2.5); the label part of the free entropy, Φ(α) - Φ(0) = α E_ξ ∫dy Z log Z, agrees with
    the oracle's likewise; so does the generalization error E[(f*(z) - ŷ)²] (Bayes: ŷ the
    posterior mean of f*(λ))."""
    c = compiled(name)
    f, kinks = TEACHERS[name]
    for a in alphas:
        rec = solve(c, {"alpha": a, "delta": delta}, init={"q": 0.5, "q_hat": 1.0}).to_records()[0]
        assert rec["converged"], (name, a)
        q, qh = rec["q"], rec["q_hat"]
        assert 0.05 < q < 0.99, (name, a, q)
        qhat_over_alpha, zlogz = O.noisy_channel(q, 1.0, delta, f, kinks, xi_panels=XI_PANELS[name])
        assert q == pytest.approx(qh / (1 + qh), abs=1e-9)
        assert qh == pytest.approx(a * qhat_over_alpha, rel=1e-7, abs=1e-7), (name, a)
        phi0 = float(c.evaluate(alpha=0.0, delta=delta, q=q, q_hat=qh, want=["free_entropy"], **RULE)["free_entropy"])
        assert rec["free_entropy"] - phi0 == pytest.approx(a * zlogz, rel=1e-7, abs=1e-7), (name, a)
        # E[(f(z) - ŷ)²] of the posterior-mean estimator, against nested quadrature
        assert rec["generalization_error"] == pytest.approx(O.regression_bayes_error(q, 1.0, f, kinks), abs=1e-8), (name, a)


def test_phase_retrieval_weak_recovery_threshold(compiled):
    """Noisy phase retrieval: q = 0 is a fixed point (the channel is even in z), unstable above
    α_c(Δ) = 1/E_y[(E[z²|y] - 1)²] (the linearization of q̂ = α E[(∂_ω log Z)²] at q = 0; → 1/2
    as Δ → 0, Mondelli & Montanari 2018).  The generated map's slope q̂/(α q) at small q,
    extrapolated to q = 0 from q = 1e-5 and 2e-5 (its error O(q²): the slope's curvature is
    ~100 here, so ~1e-8), locates α_c to 1e-5
    (relative) of the oracle's; at Δ = 0.01 that is 0.51, within 0.011 of the noiseless 1/2.
    The solver from an informed start lands on q = 0 below α_c and on q > 0.05 above."""
    c = compiled("a_abs")
    for delta in (0.01, 0.1):
        s1, s2 = (float(c.evaluate(alpha=1.0, delta=delta, q=q, q_hat=0.0, want=["map_q_hat"], **RULE)["map_q_hat"]) / q
                  for q in (1e-5, 2e-5))
        alpha_c = 1.0 / (2 * s1 - s2)
        ref = O.weak_recovery_threshold(delta, np.abs, (0.0,))
        assert alpha_c == pytest.approx(ref, rel=1e-5), delta
        if delta == 0.01:
            assert abs(alpha_c - 0.5) < 0.011
    ac = O.weak_recovery_threshold(0.01, np.abs, (0.0,))
    below = solve(c, {"alpha": 0.9 * ac, "delta": 0.01}, init={"q": 0.5, "q_hat": 1.0}, **RULE).to_records()[0]
    above = solve(c, {"alpha": 1.2 * ac, "delta": 0.01}, init={"q": 0.5, "q_hat": 1.0}, **RULE).to_records()[0]
    assert below["converged"] and below["q"] < 1e-6
    assert above["converged"] and above["q"] > 0.05


def test_channel_without_gaussian_noise_is_a_lowering_error():
    """A real-label channel with Laplace noise, y = max(0, z) + noise: its label integral has no
    closed form and no additive Gaussian noise to read a label range from — a LoweringError
    (exit 2 and one line from the CLI), not a traceback."""
    y, z = sp.symbols("y z", real=True)
    lap = channels.Custom(sp.exp(-sp.Abs(y - sp.Max(0, z))) / 2, y, z, outputs="real")
    th = replica.derive(replica.Model(priors.Gaussian(1), lap, learning.BayesOptimal(), name="relu-laplace-noise"))
    with pytest.raises(LoweringError, match="additive Gaussian noise"):
        th.explicit(th.equations[-1].rhs)


def _one_output(name, which):
    """(theory, the explicit expression of the map of ``which``) of a model file."""
    th = replica.derive(replica.load_model(str(MODELS / f"{name}.py")))
    return th, th.explicit(next(e for e in th.equations if e.lhs.name == which).rhs)


@pytest.mark.parametrize("name,which,grid", [
    ("a_laplace", "q", {"alpha": 1.0, "delta": 0.5, "q": 0.2, "q_hat": np.array([0.05, 0.7, 3.0, 20.0])}),
    ("a_relu", "q_hat", {"alpha": 1.0, "delta": np.array([0.02, 0.1, 0.5]), "q": np.array([[0.1], [0.5], [0.9]]),
                         "q_hat": 1.0}),
])
def test_torch_line_and_label_rules_agree_with_numpy(name, which, grid):
    """The torch backend's line rule (a Laplace prior: tilt peak, rational map, kink at 0) and
    label rule (the ReLU channel) are the NumPy runtime's: the generated map agrees to 1e-12
    on a grid (broadcast over every argument)."""
    from replica.codegen.lower import generate_module
    from replica.codegen.torch_backend import generate_torch_module, module_from_source
    th, e = _one_output(name, which)
    args = [grid[s.name] for s in th.arguments()]
    ns = {}
    exec(generate_module({"m": e}, th.arguments()), ns)
    ref = ns["evaluate"](*args)["m"]
    tm = module_from_source(generate_torch_module({"m": e}, th.arguments()))
    got = tm.evaluate(*args)["m"].numpy()
    assert np.all(np.isfinite(ref)) and ref.shape == got.shape
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


def test_sin_teacher_nested_quadrature_matches_oracle():
    """y = sin z + √Δ η: Z_out itself has no closed form (a Gaussian expectation inside the label
    quadrature, inside the one over ξ); the generated q̂ map (default rule) agrees with the
    oracle's to 1e-7 at q = 0.3, Δ = 0.1 (only this output is generated: a full solve of this
    model costs ~5 s per evaluation, see benchmarks/bench_generic.py)."""
    from replica.codegen.lower import generate_module
    th, e = _one_output("a_sin", "q_hat")
    ns = {}
    exec(generate_module({"m": e}, th.arguments()), ns)
    vals = {"alpha": 1.0, "delta": 0.1, "q": 0.3, "q_hat": 1.0}
    got = float(ns["evaluate"](*[vals[s.name] for s in th.arguments()])["m"])
    ref = O.noisy_channel(0.3, 1.0, 0.1, np.sin, (), xi_panels=8, y_panels=60)[0]
    assert got == pytest.approx(ref, abs=1e-7)
