"""Never a wrong number (issue 12, numerics): a point is converged only where the quadrature
resolves its integrands; the replicon keeps its sign; transitions are re-checked; custom
components are checked for positivity on their whole domain.  Oracles: the mpmath backend
(tanh-sinh at 20+ digits), closed forms, and published values (α_alg = 1.49263 of the
Bayes-optimal binary perceptron: Barbier et al. PNAS 2019, table of the README)."""
import math

import numpy as np
import pytest

import replica
from replica.solve import solve
from replica.solve.transitions import compiled_part

ALPHA_ALG = 1.49263          # spinodal of the uninformed branch, ising-bayes at flip = 0
#: the uninformed points past the spinodal that 400-node Legendre took for fixed points
#: (q = 1 - 8e-6, q_hat = 20.7; the q_hat map is 401.3 there)
SPURIOUS = {"alpha": 1.5906090609060906, "flip": 0.0, "q": 0.9999918419072783, "q_hat": 20.744943724045164}
ISSUE_ALPHAS = [1.5906090609060906, 1.7403740374037404, 2.8314831483148315]


@pytest.fixture(scope="session")
def ising():
    th = replica.derive("ising-bayes")
    return th.compile(), th.compile("mpmath")


def test_adaptive_rule_resolves_the_q_to_1_feature(ising):
    """At q = 1 - 8e-6 the q_hat map has a feature of width √(1 - q) ≈ 3e-3 at ξ = 0: the
    feature-adapted rule gives mpmath's value to 1e-9, the fixed 400-node Legendre rule does not."""
    c, mp = ising
    ref = float(mp.evaluate(dps=20, want=["map_q_hat"], **SPURIOUS)["map_q_hat"])
    assert ref == pytest.approx(401.3, abs=0.05)                 # the issue's mpmath value
    got = float(c.evaluate(nodes=400, rule="adaptive", want=["map_q_hat"], **SPURIOUS)["map_q_hat"])
    assert got == pytest.approx(ref, rel=1e-9)
    fixed = float(c.evaluate(nodes=400, rule="legendre", want=["map_q_hat"], **SPURIOUS)["map_q_hat"])
    assert abs(fixed - ref) > 100                                 # what the check has to catch


def test_no_converged_uninformed_point_below_q_1_past_the_spinodal(ising):
    """From the uninformed start, past α_alg every point is the perfect end point (q = 1) or not
    converged — never a q < 1 "fixed point" of an unresolved quadrature (the issue's three α)."""
    c, _ = ising
    alphas = np.concatenate([ISSUE_ALPHAS, np.linspace(0.5, 3.0, 60)])
    s = solve(c, {"alpha": alphas, "flip": 0.0}, "uninformed")
    past = alphas > ALPHA_ALG
    assert not np.any(s.converged & past & (s["q"] < 1)), alphas[s.converged & past & (s["q"] < 1)]
    assert not np.any(s.converged[:3] & (s.branch[:3] != "perfect"))
    # below the spinodal the accepted points are fixed points of the exact maps (mpmath)
    before = np.flatnonzero(s.converged & (alphas < 1.4))
    assert before.size >= 15
    _, mp = ising
    for i in before[::12]:
        st = {"alpha": alphas[i], "flip": 0.0, "q": s["q"][i], "q_hat": s["q_hat"][i]}
        out = mp.evaluate(dps=20, want=["map_q", "map_q_hat"], **st)
        assert float(out["map_q"]) == pytest.approx(st["q"], abs=1e-9)
        assert float(out["map_q_hat"]) == pytest.approx(st["q_hat"], rel=1e-9)


def test_check_reports_the_refined_residual(ising):
    """A point the check refuses is reported with the residual under the refined rule (large),
    not the residual of the rule it converged with (7e-15 in the issue)."""
    c, _ = ising
    start = {"q": SPURIOUS["q"], "q_hat": SPURIOUS["q_hat"]}
    s = solve(c, {"alpha": SPURIOUS["alpha"], "flip": 0.0}, start, rule="legendre", local=True, refine=False)
    unchecked = solve(c, {"alpha": SPURIOUS["alpha"], "flip": 0.0}, start, rule="legendre", local=True, check=False)
    assert bool(unchecked.converged) and float(unchecked.residual) < 1e-10     # the bug, without the check
    assert not bool(s.converged)
    assert float(s.residual) > 1.0
    assert np.isnan(s["q"]) and np.isnan(s["free_entropy"])


# -- the replicon and RS-instability transitions -------------------------------------------------

@pytest.mark.parametrize("delta", [1e-10, 1e-6])
def test_linear_bayes_replicon_is_the_closed_form_at_tiny_noise(delta):
    """Gaussian prior and channel: ∂²_ω log Z_out = -1/(V + Δ) and ∂²_b log Z_w = 1/(1 + A), so
    λ = α (1 - q)² / (Δ + 1 - q)² (closed form), 0.5 at α = 0.5, Δ -> 0 (was -21604 at Δ = 1e-10:
    a 1/Δ in the exponent of Z_out cancelled in floating point)."""
    c = compiled_part("linear-bayes")          # from the on-disk cache when it is there
    s = solve(c, {"alpha": np.array([0.5, 0.2, 0.9]), "delta": delta})
    assert s.converged.all()
    mse = 1 - s["q"]
    ref = s.params["alpha"] * mse**2 / (delta + mse) ** 2
    assert np.allclose(s["replicon"], ref, rtol=1e-9, atol=0)
    assert float(s["replicon"][0]) == pytest.approx(0.5, abs=10 * delta)


def test_no_spurious_rs_instability_for_linear_bayes():
    """linear-bayes is RS-stable everywhere (Nishimori); at Δ = 1e-10 the replicon stays below 1
    on α ∈ [0.1, 0.9] (issue 12: 42 spurious transitions were reported)."""
    from replica.solve import find_transitions
    found = find_transitions("linear-bayes", "alpha", (0.1, 0.9), {"delta": 1e-10}, kinds=["rs_instability"])
    assert found == []


def test_crossing_confirmed_tells_a_crossing_from_a_jump_and_from_noise():
    from replica.solve.transitions import crossing_confirmed
    assert crossing_confirmed(lambda v: v - 0.3, 0.3, 0.0, 1.0)
    assert not crossing_confirmed(lambda v: 1.0 if v > 0.3 else -1.0, 0.3, 0.0, 1.0)   # a jump
    assert not crossing_confirmed(lambda v: 1e-9, 0.3, 0.0, 1.0)                        # no sign change
    assert not crossing_confirmed(lambda v: math.nan, 0.3, 0.0, 1.0)


# -- custom components: positivity on the whole domain -------------------------------------------

def test_custom_channel_negative_in_the_tails_is_refused():
    """Negative for |z| > 3 only: refused (the four-point probe at |z| ≤ 2.1 accepted it)."""
    import sympy as sp
    from replica import channels
    from replica._component import ComponentError
    y, z = sp.symbols("y z", real=True)
    with pytest.raises(ComponentError, match="negative probability"):
        channels.Custom((1 + y * z / 3) / 2, y, z)                           # rational: symbolic
    with pytest.raises(ComponentError, match="negative probability"):
        channels.Custom((1 + y * sp.tanh(z) * (1 + sp.Heaviside(sp.Abs(z) - 3))) / 2, y, z)   # grid
    ok = channels.Custom((1 + y * sp.tanh(z)) / 2, y, z)                       # a probability everywhere
    assert ok.density.has(sp.tanh)


def test_custom_prior_negative_beyond_six_is_refused():
    """ρ(w) = (1 - (w² - 1)/40) N(w) is normalized and negative for |w| > √41 ≈ 6.4 only."""
    import sympy as sp
    from replica import priors
    from replica._component import ComponentError
    w = sp.Symbol("w", real=True)
    gauss = sp.exp(-w**2 / 2) / sp.sqrt(2 * sp.pi)
    with pytest.raises(ComponentError, match="negative"):
        priors.Custom((1 - (w**2 - 1) / 40) * gauss, w)
    priors.Custom((1 + (w**2 - 1) / 40) * gauss, w)
