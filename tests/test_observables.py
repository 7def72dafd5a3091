"""Observables from the channel itself (issue 11, item 4): the Bayes classifier's error
1 - E max_y Z_out and the Gibbs error 1 - E Σ_y Z_out², the sign teacher's arccos shortcut proved
equal to them, and the label rule read off the channel.  The ERM regression error on a ReLU
teacher is checked in test_custom_models.py, the door and the real-label Bayes errors are checked against
nested-quadrature oracles in test_generic_losses_constraints.py and test_label_channels.py."""
import numpy as np
import pytest
import sympy as sp

from replica import channels
from replica.observables import label_rule


@pytest.mark.parametrize("flip", [0.0, 0.1, 0.3])
def test_sign_teacher_shortcut_equals_the_generic_bayes_error(theories, flip):
    """perceptron-bayes (spherical weights, ρ = 1): the Bayes classifier of a flipped sign
    teacher is sign(ω), so the generic 1 - E_ξ max_y Z_out = ε + (1 - 2ε) arccos(√q)/π
    (Engel & Van den Broeck 2001, ch. 5), and at ε = 0 it is the shortcut
    ``generalization_error`` = arccos(√q)/π itself; a posterior sample errs with
    1 - E Σ_y Z_out² = 2ε(1 - ε) + (1 - 2ε)² arccos(q)/π (two labels drawn by the noisy channel,
    from fields of correlation q: they differ if exactly one of the clean signs or one flip
    differs).  The adaptive rule with 96 nodes holds 5e-12."""
    _, c = theories("perceptron-bayes")
    q = np.array([0.05, 0.4, 0.8, 0.97])
    e = c.evaluate(alpha=1.0, flip=flip, q=q, q_hat=1.0, rule="adaptive", nodes=96)
    shortcut = np.arccos(np.sqrt(q)) / np.pi
    assert np.allclose(e["generalization_error"], shortcut, atol=1e-15)
    assert np.allclose(e["bayes_error"], flip + (1 - 2 * flip) * shortcut, atol=5e-12, rtol=0)
    gibbs = 2 * flip * (1 - flip) + (1 - 2 * flip)**2 * np.arccos(q) / np.pi
    assert np.allclose(e["gibbs_error"], gibbs, atol=5e-12, rtol=0)


def test_label_rule_read_off_the_channel():
    y, z = sp.symbols("y z", real=True)
    T = sp.Symbol("T", positive=True)
    logistic = channels.Custom(1 / (1 + sp.exp(-y * z / T)), y, z, outputs=(-1, 1))
    assert label_rule(channels.Sign(flip="flip")) == "sign"
    assert label_rule(channels.Probit()) == "sign"
    assert label_rule(logistic) == "sign"
    assert label_rule(channels.Door(width="kappa")) == "deterministic"
    assert label_rule(channels.Linear(noise="delta")) is None
    noisy_door = channels.Custom(sp.Rational(9, 10) * sp.Heaviside(y * (sp.Abs(z) - 1))
                                 + sp.Rational(1, 10) * sp.Heaviside(-y * (sp.Abs(z) - 1)), y, z, outputs=(-1, 1))
    assert label_rule(noisy_door) is None


def test_custom_channels_with_special_functions_are_checked_and_read():
    """A custom probit, P(y|z) = ½ erfc(−y z/√2), passes the density checks (they evaluate erfc on
    arrays) and is read as a sign rule (P(y|z) = P(−y|−z), larger for y = sign z at every z);
    its mirror image P(y|z) = ½ erfc(y z/√2) is not a sign rule, and a density that goes
    negative beyond |z| = 3 is refused."""
    y, z = sp.symbols("y z", real=True)
    probit = channels.Custom(sp.erfc(-y * z / sp.sqrt(2)) / 2, y, z, outputs=(-1, 1))
    assert label_rule(probit) == "sign"
    assert label_rule(channels.Custom(sp.erfc(y * z / sp.sqrt(2)) / 2, y, z, outputs=(-1, 1))) is None
    with pytest.raises(channels.ComponentError, match="negative"):
        channels.Custom(sp.erfc(-y * z / sp.sqrt(2)) / 2 + y * (sp.erf(z**2 - 9) + 1) / 4, y, z, outputs=(-1, 1))


def test_training_average_is_the_public_zero_temperature_interface():
    """Observables read a derivation through ``Derivation.training_average``, not its internals;
    it exists only once a zero-temperature derivation has set up the proximal maps."""
    from replica.model import load_model
    from replica.symbolic.derive import Derivation
    d = Derivation(load_model("ridge"))
    with pytest.raises(ValueError, match="zero-temperature"):
        d.training_average(lambda lam_hat, loss_hat, y: loss_hat)
    assert not any(hasattr(d, k) for k in ("out_avg", "proxes", "envelopes"))


def test_sign_student_error_on_the_door_teacher():
    """An ERM student predicting sign(λ̂) of the door teacher y = sign(|z| − κ): the generated
    generalization error is P(sign λ̂ ≠ y*(z)) for (z, λ̂) Gaussian with Var z = 1, Var λ̂ = Q,
    Cov = m, against mpmath (split at z = ±κ); m = 0 gives ½ (no correlation)."""
    import math

    import mpmath as mp

    import replica
    from replica import Model, channels, learning, losses, priors
    from replica.codegen.lower import generate_module
    y, z, lam = sp.symbols("y z lam", real=True)
    kappa = sp.Symbol("kappa", positive=True)
    door = channels.Custom(sp.Heaviside(y * (sp.Abs(z) - kappa)), y, z, outputs=(-1, 1), params={"kappa": "positive"})
    model = Model(prior=priors.Gaussian(1), teacher=door, name="door-square",
                  learning=learning.ERM(losses.Custom((y - lam)**2 / 2, y, lam), ridge="lam"))
    th = replica.derive(model)
    ns = {}
    exec(generate_module({"eg": th.explicit(th.observables["generalization_error"])}, th.arguments()), ns)
    names = [s.name for s in th.arguments()]

    def oracle(m, Q, k, rho=1.0):
        # z = √ρ u: y* = −1 for |u| < κ/√ρ; λ̂ | u ~ N(m u/√ρ, Q − m²/ρ)
        s, k = mp.sqrt(Q - m * m / rho), k / mp.sqrt(rho)
        mu = lambda u: m * u / mp.sqrt(rho)     # noqa: E731
        inside = mp.quad(lambda u: mp.npdf(u) * mp.ncdf(mu(u) / s), [-k, 0, k])         # y* = −1, λ̂ > 0
        outside = mp.quad(lambda u: mp.npdf(u) * mp.ncdf(-mu(u) / s), [-mp.inf, -k]) \
            + mp.quad(lambda u: mp.npdf(u) * mp.ncdf(-mu(u) / s), [k, mp.inf])             # y* = +1, λ̂ < 0
        return float(inside + outside)
    for m, Q, k in ((0.6, 1.3, 0.6745), (0.3, 0.5, 1.2), (0.0, 0.8, 0.6745)):
        vals = {"alpha": 1.0, "lam": 0.1, "kappa": k, "m": m, "Q": Q, "chi": 1.0, "Q_hat": 1.0, "q_hat": 1.0,
                "m_hat": 1.0, "chi_hat": 1.0}
        got = float(ns["evaluate"](*[vals[n] for n in names], nodes=400, rule="legendre")["eg"])
        assert got == pytest.approx(oracle(m, Q, k), abs=1e-9), (m, Q, k)
    assert math.isclose(oracle(0.0, 0.8, 0.6745), 0.5, abs_tol=1e-12)
    # the simulation's measure (sims.measure: the student's sign against fresh noiseless door
    # labels, 20000 samples) against the same probability at each instance's own overlaps
    import torch

    from sims.data import sample
    from sims.measure import generalization_error, overlaps
    d = sample(model, {"alpha": 1.0, "lam": 0.1, "kappa": 0.6745}, n=50, seeds=2)
    w_hat = d.teacher + torch.randn(d.teacher.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    eg, o = generalization_error(w_hat, d), overlaps(w_hat, d)
    for s in range(2):
        ref = oracle(float(o["m"][s]), float(o["Q"][s]), 0.6745, float(o["rho"][s]))
        assert abs(float(eg[s]) - ref) <= 4 * math.sqrt(ref * (1 - ref) / 20000), (float(eg[s]), ref)
