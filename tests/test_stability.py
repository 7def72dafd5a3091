"""The replicon (de Almeida–Thouless) eigenvalue λ = α E[(∂²_ω log Z_out)²] E[(∂²_b log Z_w)²]
derived for every finite-temperature theory: closed forms, and the stability the literature
proves (the Nishimori line; Gardner's volume for κ ≥ 0).  The AT point of Gardner's volume at
negative margin is checked against a scipy oracle in test_cli_solve.py."""
import math

import numpy as np
import pytest

from replica.solve import rs_instability, solve


def test_linear_bayes_replicon_closed_form(theories):
    """Gaussian prior and channel: ∂²_ω log Z_out = -1/(Δ + 1 - q), ∂²_b log Z_w = 1/(1 + q̂) = 1 - q,
    so λ = α (1-q)²/(Δ + 1 - q)²; at α = 2, Δ = 1 (mmse √2 - 1) it is 3 - 2√2."""
    _, c = theories("linear-bayes")
    a = np.array([0.5, 2.0, 3.0])
    d = np.array([0.1, 1.0, 0.3])
    s = solve(c, {"alpha": a, "delta": d})
    mse = s["mse"]
    assert np.allclose(s["replicon"], a * mse**2 / (d + mse) ** 2, rtol=1e-10, atol=0)
    assert float(s["replicon"][1]) == pytest.approx(3 - 2 * math.sqrt(2), abs=1e-10)


@pytest.mark.parametrize("name, params", [
    ("ising-bayes", {"alpha": [0.5, 1.0, 1.4], "flip": 0.0}),
    ("ising-bayes", {"alpha": [1.0, 2.0], "flip": 0.1}),
    ("perceptron-bayes", {"alpha": [0.5, 2.0, 5.0], "flip": 0.05}),
])
def test_rs_is_stable_on_the_nishimori_line(theories, name, params):
    """Bayes-optimal inference is replica symmetric (Nishimori 1981; Zdeborová & Krzakala 2016,
    sec. 2.8): the replicon stays below 1 on every non-perfect branch."""
    _, c = theories(name)
    s = solve(c, {k: np.asarray(v) for k, v in params.items()}, "uninformed")
    ok = s.converged & (s.branch == "uninformed")
    assert ok.any()
    assert np.all(s["replicon"][ok] < 1) and np.all(s["replicon"][ok] > 0)
    assert rs_instability(c, "alpha", (0.3, 1.4), {k: v for k, v in params.items() if k != "alpha"}) == []


def test_gardner_volume_is_rs_stable_for_positive_margin(theories):
    """Gardner 1988, Gardner & Derrida 1988: for κ ≥ 0 the RS volume is locally stable up to the
    capacity; the replicon grows with α and stays below 1."""
    _, c = theories("gardner")
    for kappa in (0.0, 0.5):
        a = np.linspace(0.2, 0.9, 8) * (2.0 if kappa == 0 else 0.96120505)
        s = solve(c, {"alpha": a, "kappa": kappa}, rule="legendre", nodes=400)
        lam = s["replicon"]
        assert s.converged.all() and np.all(lam < 1) and np.all(np.diff(lam) > 0)


def _ising_storage_replicon(alpha):
    """Oracle: λ = α/(1-q)² E_t[(g(g - u))²] · E_z[(1 - tanh²(√q̂ z))²], u = -√q t/√(1-q), g = N/H
    (∂²_ω log H((κ - ω)/√(1-q)) = -g(g - u)/(1-q), ∂²_b log 2cosh b = 1 - tanh² b),
    at the RS storage solution of tests/oracles (Gardner & Derrida 1988), by scipy quad."""
    from scipy.integrate import quad
    from scipy.special import log_ndtr
    from oracles import classification as oc
    st = oc.ising_storage_rs(alpha)
    q, qh = st["q"], st["q_hat"]
    dens = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi)

    def out(t):
        u = -np.sqrt(q) * t / np.sqrt(1 - q)
        g = np.exp(-u * u / 2 - 0.5 * np.log(2 * np.pi) - log_ndtr(-u))
        return dens(t) * (g * (g - u)) ** 2
    prior = lambda z: dens(z) * (1 - np.tanh(np.sqrt(qh) * z) ** 2) ** 2
    E = lambda f: sum(quad(f, a, b, epsabs=1e-13, epsrel=1e-12, limit=400)[0]
                      for a, b in ((-np.inf, -4), (-4, 0), (0, 4), (4, np.inf)))
    return alpha / (1 - q) ** 2 * E(out) * E(prior)


def test_ising_storage_rs_stable_up_to_the_capacity(theories):
    """±1 weights storing random labels: the RS solution is locally stable up to the capacity
    0.833 where its entropy vanishes (Gardner & Derrida 1988; Huang & Kabashima, PRE 2014), and
    loses stability beyond it — at the α where the oracle's replicon reaches 1."""
    from scipy.optimize import brentq
    th, _ = theories("ising-storage")
    (rec,) = rs_instability(th, "alpha", (0.5, 1.2), {"kappa": 0.0}, rule="legendre", nodes=400)
    assert rec["value"] > 0.8330786 and rec["unstable"] == "above"
    ref = brentq(lambda a: _ising_storage_replicon(a) - 1, 0.9, 1.2, xtol=1e-12)
    assert rec["value"] == pytest.approx(ref, abs=1e-6)
