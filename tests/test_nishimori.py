"""Bayes-optimal theories satisfy the Nishimori identities at their fixed points.

Method (Nishimori 1980; Iba 1999; Zdeborová & Krzakala 2016, Adv. Phys. 65, 453, sec. 1.2):
the Bayes-optimal posterior IS the Gibbs measure at temperature 1 whose energy is minus the
teacher's log-likelihood, with the student prior equal to the teacher's.  So we state the
same problem a second way, as a general mismatched teacher-student model

    Model(prior, teacher, learning.Gibbs(T, losses.Custom(-log P(y|lam), y, lam)))

whose derivation keeps all of (Q, q, m) and their conjugates, solve it from a generic
(non-Nishimori) start, and check that the fixed point lands on the Nishimori line
m = q, Q = rho, Q_hat = 0, m_hat = q_hat, with q (and the free entropy: both are the
log-evidence per weight) equal to those of the engine's Bayes-optimal theory of the same
model.  The Bayes-optimal values themselves are checked against the independent oracles of
tests/oracles (closed form for linear regression; Opper & Haussler 1991 for the spherical
perceptron; Györgyi 1990 / Barbier et al. 2019 for the Ising perceptron).
"""
import math

import numpy as np
import pytest
import sympy as sp

import replica
from replica import channels, learning, losses, priors
from conftest import fixed_point
from oracles import classification as oc
from oracles import regression as orr

Y, LAM = sp.symbols("y lam", real=True)
EPS, S, DELTA = sp.Symbol("eps"), sp.Symbol("s"), sp.Symbol("delta")

# -log P(y|lam) of each teacher, written by hand (SymPy handles the Heaviside form)
FLIP_NLL = -sp.log((1 - EPS) * sp.Heaviside(Y * LAM) + EPS * sp.Heaviside(-Y * LAM))
PROBIT_NLL = -sp.log(sp.erfc(-Y * LAM / (sp.sqrt(2) * S)) / 2)          # P = H(-y lam / s)
LINEAR_NLL = (Y - LAM)**2 / (2 * DELTA) + sp.log(2 * sp.pi * DELTA) / 2   # P = N(y; lam, delta)

# a generic start, far from the Nishimori line (m != q, Q != rho, Q_hat != 0, m_hat != q_hat)
GENERIC = {"Q": 1.3, "q": 0.2, "m": 0.5, "Q_hat": 0.4, "q_hat": 0.3, "m_hat": 1.0}
NODES = 96


def _flip_loss():
    return losses.Custom(FLIP_NLL, Y, LAM, params={"eps": (0, 0.5)})


CASES = {
    # name: (student = teacher prior, teacher channel, likelihood loss, Bayes-optimal spec,
    #        {Gibbs parameter name: Bayes parameter name}, parameter points)
    "sign-spherical": (priors.Spherical, lambda: channels.Sign(flip="eps"), _flip_loss,
                       "perceptron-bayes", {"eps": "flip"},
                       [{"alpha": 1.0, "eps": 0.1}, {"alpha": 2.0, "eps": 0.2}]),
    "sign-ising": (priors.Ising, lambda: channels.Sign(flip="eps"), _flip_loss,
                   "ising-bayes", {"eps": "flip"},
                   [{"alpha": 0.5, "eps": 0.1}, {"alpha": 1.0, "eps": 0.1}]),
    "probit-gaussian": (lambda: priors.Gaussian(1), lambda: channels.Probit(scale="s"),
                        lambda: losses.Custom(PROBIT_NLL, Y, LAM, params={"s": "positive"}),
                        None, {"s": "s"},
                        [{"alpha": 0.7, "s": 0.5}, {"alpha": 2.0, "s": 0.5}]),
}


@pytest.fixture(scope="session")
def pair(theories):
    """(Gibbs theory at symbolic T, compiled) and (Bayes-optimal compiled) per case, cached."""
    cache = {}

    def get(name):
        if name not in cache:
            prior, teacher, loss, bayes, _, _ = CASES[name]
            # temperature as a parameter set to 1 below: a numeric temperature=1 is
            # test_gibbs_numeric_temperature_derives (an engine bug at the time of writing)
            gibbs = replica.derive(replica.Model(prior(), teacher(), learning.Gibbs("T", loss())))
            if bayes is None:
                bayes = replica.Model(prior(), teacher(), learning.BayesOptimal())
                bo = replica.derive(bayes)
                cache[name] = (gibbs, gibbs.compile(), bo.compile())
            else:
                cache[name] = (gibbs, gibbs.compile(), theories(bayes)[1])
        return cache[name]
    return get


def _check_nishimori(gibbs, state, res, bstate, bres, rho):
    unknowns = [s.name for s in gibbs.order_parameters]
    assert {"q", "m", "q_hat", "m_hat"} <= set(unknowns)
    assert float(state["m"]) == pytest.approx(float(state["q"]), abs=1e-9)
    assert float(state["m_hat"]) == pytest.approx(float(state["q_hat"]), abs=1e-9)
    if "Q" in unknowns:
        assert float(state["Q"]) == pytest.approx(rho, abs=1e-9)
        assert float(state["Q_hat"]) == pytest.approx(0.0, abs=1e-9)
    else:   # norm held fixed by the prior: it must be the teacher's second moment
        Qsym = sp.Symbol("Q", positive=True)
        assert float(gibbs.fixed[Qsym]) == pytest.approx(rho, abs=1e-15)
    # the same q, q_hat as the Bayes-optimal theory, and the same log-evidence
    assert float(state["q"]) == pytest.approx(float(bstate["q"]), abs=1e-9)
    assert float(state["q_hat"]) == pytest.approx(float(bstate["q_hat"]), abs=1e-8)
    assert float(res["free_entropy"]) == pytest.approx(float(bres["free_entropy"]), abs=1e-9)
    # the posterior-mean error: rho - 2m + q (Gibbs) = rho - q (Bayes)
    assert float(res["mse"]) == pytest.approx(float(bres["mse"]), abs=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gibbs_with_the_likelihood_lands_on_the_nishimori_line(pair, name):
    gibbs, c, cb = pair(name)
    rename = CASES[name][4]
    for point in CASES[name][5]:
        init = {k: GENERIC[k] for k in c.unknowns}
        state, res = fixed_point(c, dict(point, T=1.0), init, damping=0.0, nodes=NODES)
        bparams = {rename.get(k, k): v for k, v in point.items()}
        bstate, bres = fixed_point(cb, bparams, {"q": 0.2, "q_hat": 0.3}, damping=0.0, nodes=NODES)
        _check_nishimori(gibbs, state, res, bstate, bres, rho=1.0)


def _linear_model(learning_setting):
    return replica.Model(priors.Gaussian(1), channels.Linear(noise="delta"), learning_setting)


def test_linear_gibbs_likelihood_nishimori(theories):
    """Linear channel, Gaussian prior, Gibbs at temperature 1 with the exact Gaussian
    likelihood as the loss (numeric temperature, as a user would write it)."""
    loss = losses.Custom(LINEAR_NLL, Y, LAM, params={"delta": "positive"})
    gibbs = replica.derive(_linear_model(learning.Gibbs(temperature=1, loss=loss)))
    c = gibbs.compile()
    _, cb = theories("linear-bayes")
    for a, d in ((2.0, 1.0), (0.5, 0.1)):
        state, res = fixed_point(c, {"alpha": a, "delta": d}, dict(GENERIC), nodes=NODES)
        bstate, bres = fixed_point(cb, {"alpha": a, "delta": d}, {"q": 0.2, "q_hat": 0.3}, nodes=NODES)
        _check_nishimori(gibbs, state, res, bstate, bres, rho=1.0)
        assert float(state["q"]) == pytest.approx(orr.linear_bayes(a, d)["q"], abs=1e-9)


def test_linear_gibbs_square_loss_at_temperature_delta(theories):
    """Gibbs learning with the square loss (y - lam)^2/2 at temperature T = delta is the
    posterior (the likelihood up to a constant), so its fixed point is on the Nishimori line
    with the Bayes-optimal q; the free entropies differ by the constant alpha/2 log(2 pi delta)."""
    gibbs = replica.derive(_linear_model(learning.Gibbs("T", losses.Square())))
    c = gibbs.compile()
    _, cb = theories("linear-bayes")
    a, d = 2.0, 1.0
    state, res = fixed_point(c, {"alpha": a, "delta": d, "T": d}, dict(GENERIC), nodes=NODES)
    assert float(state["m"]) == pytest.approx(float(state["q"]), abs=1e-9)
    assert float(state["Q"]) == pytest.approx(1.0, abs=1e-9)
    assert float(state["q"]) == pytest.approx(orr.linear_bayes(a, d)["q"], abs=1e-9)
    _, bres = fixed_point(cb, {"alpha": a, "delta": d}, {"q": 0.2, "q_hat": 0.3}, nodes=NODES)
    assert float(res["free_entropy"]) - a / 2 * math.log(2 * math.pi * d) == pytest.approx(
        float(bres["free_entropy"]), abs=1e-9)


def test_gibbs_numeric_temperature_derives(pair):
    """Gibbs(temperature=1, loss) — a number, not a symbol — derives and agrees with the
    same theory at a symbolic temperature set to 1 (minimal reproduction of an engine bug:
    the entropy observable differentiates with respect to the temperature)."""
    gibbs_T, cT, _ = pair("sign-spherical")
    th = replica.derive(replica.Model(priors.Spherical(), channels.Sign(flip="eps"),
                                      learning.Gibbs(temperature=1, loss=_flip_loss())))
    c = th.compile()
    vals = {"alpha": 1.3, "eps": 0.15, "q": 0.4, "m": 0.3, "q_hat": 0.7, "m_hat": 0.5}
    r1 = c.evaluate(nodes=NODES, **vals)
    r2 = cT.evaluate(nodes=NODES, T=1.0, **vals)
    for k in r1:
        assert float(r1[k]) == pytest.approx(float(r2[k]), abs=1e-12), k


# -- the Bayes-optimal theories against independent oracles ----------------------------------

@pytest.mark.parametrize("a, d", [(2.0, 1.0), (0.5, 0.1), (3.0, 0.3)])
def test_linear_bayes_against_closed_form(theories, a, d):
    """Barbier et al. 2019 (PNAS 116, 5451), Gaussian prior and channel: q solves
    q^2 - (1 + delta + alpha) q + alpha = 0; the free entropy is the oracle's replica formula."""
    _, c = theories("linear-bayes")
    state, res = fixed_point(c, {"alpha": a, "delta": d}, {"q": 0.7, "q_hat": 2.0}, nodes=NODES)
    ref = orr.linear_bayes(a, d)
    assert float(state["q"]) == pytest.approx(ref["q"], abs=1e-10)
    assert float(state["q_hat"]) == pytest.approx(ref["qhat"], abs=1e-9)
    assert float(res["mse"]) == pytest.approx(ref["mmse"], abs=1e-10)
    assert float(res["free_entropy"]) == pytest.approx(ref["free_entropy"], abs=1e-9)


@pytest.mark.parametrize("a", [1.0, 2.0])
def test_perceptron_bayes_against_opper_haussler(theories, a):
    """Opper & Haussler 1991 (PRL 66, 2677): noiseless spherical perceptron, q = R of the
    version-space equation, eps_Bayes = arccos(sqrt q)/pi (oracle in mpmath)."""
    _, c = theories("perceptron-bayes")
    state, res = fixed_point(c, {"alpha": a, "flip": 0.0}, {"q": 0.05, "q_hat": 0.1}, damping=0.0, nodes=NODES)
    ref = oc.spherical_bayes(a)
    assert float(state["q"]) == pytest.approx(float(ref["q"]), abs=1e-9)
    assert float(res["generalization_error"]) == pytest.approx(float(ref["eps"]), abs=1e-9)


@pytest.mark.parametrize("a", [0.5, 1.0])
@pytest.mark.parametrize("flip", [0.0, 0.1])
def test_ising_bayes_against_gyorgyi(theories, a, flip):
    """Györgyi 1990 (PRA 41, 7097); Barbier et al. 2019: RS fixed point of the Bayes-optimal
    Ising perceptron (low branch, below the first-order transition) and its log-evidence."""
    _, c = theories("ising-bayes")
    state, res = fixed_point(c, {"alpha": a, "flip": flip}, {"q": 0.01, "q_hat": 0.01}, nodes=NODES)
    ref = oc.ising_bayes_fixed_point(a, flip)
    assert ref["branch"] == "low"
    assert float(state["q"]) == pytest.approx(ref["q"], abs=1e-9)
    assert float(state["q_hat"]) == pytest.approx(ref["q_hat"], abs=1e-8)
    assert float(res["free_entropy"]) == pytest.approx(ref["free_entropy"], abs=1e-9)


@pytest.mark.parametrize("spec", ["perceptron-bayes", "ising-bayes"])
@pytest.mark.parametrize("flip", [0.0, 0.1])
@pytest.mark.parametrize("q", [0.3, 0.6, 0.9, 0.99])
def test_bayes_sign_output_map_against_oracle(theories, spec, flip, q):
    """The output-side map of the Bayes-optimal sign channel (rho = 1, either prior):
    q_hat = alpha (1-2f)^2/(1-q) E_xi N(u)^2 [1/Z_+ + 1/Z_-], u = sqrt(q) xi/sqrt(1-q),
    Z_(+/-) = f + (1-2f) H(-/+u) (Györgyi 1990; Barbier et al. 2019), evaluated by the oracle's
    composite Gauss-Legendre quadrature refined around the feature of width sqrt(1-q).
    Large q is where the learning curves go (alpha of a few units and more); the feature of
    width sqrt(1-q) needs the composite Gauss-Legendre rule (Gauss-Hermite's nodes are too sparse)."""
    _, c = theories(spec)
    a = 2.0
    res = c.evaluate(alpha=a, flip=flip, q=q, q_hat=1.0, rule="legendre", nodes=3200)
    ref = a * oc._bo_g(1.0 - q, flip)
    assert float(res["map_q_hat"]) == pytest.approx(ref, rel=1e-8)
