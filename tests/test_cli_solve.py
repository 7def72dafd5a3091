"""``replica solve`` and ``replica transition`` run as a user runs them (``python -m replica`` in a
subprocess), each published value compared with the paper and with an independent oracle from
tests/oracles (hand-written from the literature with mpmath / scipy)."""
import functools
import json
import math
import textwrap

import numpy as np
import pytest

from oracles import classification as oc
from oracles import regression as orr
from inprocess import replica as replica_in_process
from test_cli import assert_input_error, replica

FINE = ("--rule", "legendre", "--nodes", "400")


@functools.lru_cache(maxsize=None)
def _oracle(fn, *args):
    return fn(*args)


def run_json(*args):
    r = replica_in_process(*args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def transitions(*args):
    doc = run_json("transition", *args)
    return {t["kind"]: t for t in doc["transitions"]}, doc


# -- transition ------------------------------------------------------------------------------

@pytest.mark.parametrize("kappa, published", [(0.0, 2.0), (0.5, 0.96120505), (1.0, 0.51957223)])
def test_gardner_capacity(kappa, published):
    """Gardner 1988: α_c(κ) = 1/[(1 + κ²) H(-κ) + κ N(κ)], to 1e-8."""
    found, doc = transitions("gardner", "--along", "alpha", "--range", "0.2:3", "--set", f"kappa={kappa}",
                             "--kind", "capacity")
    assert doc["model"] == "gardner" and doc["parameter"] == "alpha"
    assert found["capacity"]["value"] == pytest.approx(float(oc.gardner_alpha_c(kappa)), abs=1e-8)
    assert found["capacity"]["value"] == pytest.approx(published, abs=1e-8)


def test_ising_storage_capacity():
    """Krauth & Mézard 1989: the RS entropy of ±1 weights vanishes at 0.833 (oracle 0.8330786)."""
    found, _ = transitions("ising-storage", "--along", "alpha", "--range", "0.3:1.5", "--kind", "capacity")
    assert found["capacity"]["value"] == pytest.approx(0.833, abs=5e-4)
    assert found["capacity"]["value"] == pytest.approx(_oracle(oc.ising_storage_entropy_zero_alpha, 0.0), abs=1e-7)
    assert found["q_to_one"]["value"] == pytest.approx(4 / math.pi, abs=1e-8)   # Gardner & Derrida 1988


def test_ising_bayes_thresholds():
    """Bayes-optimal binary perceptron: first-order α_IT = 1.245 (Györgyi 1990), algorithmic
    (spinodal) 1.493 (Barbier et al., PNAS 2019); oracles 1.2446839899 and 1.4926318182."""
    found, doc = transitions("ising-bayes", "--along", "alpha", "--range", "0.5:2", "--set", "flip=0", *FINE)
    assert {"first_order", "spinodal"} <= set(found)
    assert found["first_order"]["value"] == pytest.approx(1.2447, abs=1e-4)
    assert found["first_order"]["value"] == pytest.approx(_oracle(oc.ising_bayes_first_order, 0.0), abs=1e-7)
    assert found["spinodal"]["value"] == pytest.approx(1.4926, abs=1e-4)
    assert found["spinodal"]["value"] == pytest.approx(_oracle(oc.ising_bayes_spinodal, 0.0), abs=1e-7)
    assert "rs_instability" not in found          # Nishimori: the replicon stays below 1
    assert doc["parameters"] == {"flip": 0.0}


def _mills(x):
    """g(x) = N(x)/H(x) in log space."""
    from scipy.special import log_ndtr
    return np.exp(-x * x / 2 - 0.5 * np.log(2 * np.pi) - log_ndtr(-x))


def _gauss_avg(f):
    from scipy.integrate import quad
    w = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi) * f(t)
    return sum(quad(w, a, b, epsabs=1e-13, epsrel=1e-12, limit=400)[0]
               for a, b in ((-np.inf, -5), (-5, 0), (0, 5), (5, np.inf)))


def _gardner_rs_q(alpha, kappa):
    """Oracle: Gardner's RS overlap, the root in q of ∂Φ/∂q with
    Φ(q) = ½ log(1-q) + ½ q/(1-q) + α ∫Dt log H(x),  x = (κ - √q t)/√(1-q)  (Gardner 1988):
    q/(2(1-q)²) = α ∫Dt g(x) ∂x/∂q, g = N/H; scipy quad and brentq."""
    from scipy.optimize import brentq

    def dphi(q):
        x = lambda t: (kappa - np.sqrt(q) * t) / np.sqrt(1 - q)
        dx = lambda t: -t / (2 * np.sqrt(q * (1 - q))) + (kappa - np.sqrt(q) * t) / (2 * (1 - q) ** 1.5)
        return q / (2 * (1 - q) ** 2) - alpha * _gauss_avg(lambda t: _mills(x(t)) * dx(t))
    return brentq(dphi, 1e-6, 1 - 1e-6, xtol=1e-15)


def _gardner_replicon(alpha, kappa):
    """Oracle: α (1-q)² ∫Dt [∂²_ω log H((κ - ω)/√(1-q))]² at ω = √q t (Gardner & Derrida 1988),
    with ∂²_ω log H = -g(g - x)/(1-q): λ = α ∫Dt [g(x)(g(x) - x)]²."""
    q = _gardner_rs_q(alpha, kappa)
    x = lambda t: (kappa - np.sqrt(q) * t) / np.sqrt(1 - q)
    return alpha * _gauss_avg(lambda t: (_mills(x(t)) * (_mills(x(t)) - x(t))) ** 2)


def test_gardner_rs_instability_for_negative_margin():
    """Negative margin: RS breaks down before the capacity (Gardner & Derrida 1988).  The AT point
    against a scipy oracle (replicon of Gardner's RS solution equal to 1)."""
    from scipy.optimize import brentq
    found, _ = transitions("gardner", "--along", "alpha", "--range", "0.5:8", "--set", "kappa=-0.5", *FINE)
    at, cap = found["rs_instability"]["value"], found["capacity"]["value"]
    assert at < cap and found["rs_instability"]["unstable"] == "above"
    assert cap == pytest.approx(float(oc.gardner_alpha_c(-0.5)), abs=1e-8)
    ref = brentq(lambda a: _gardner_replicon(a, -0.5) - 1, 3.5, 4.5, xtol=1e-12)
    assert at == pytest.approx(ref, abs=1e-7)


# -- solve -----------------------------------------------------------------------------------

def test_solve_shapes_and_a_gibbs_curve(tmp_path):
    """Version space (Gibbs learning at T = 0) of the spherical perceptron from a model file:
    Györgyi & Tishby 1990, ε = arccos(R)/π with R/√(1-R) = (α/π)∫Dt e^{-Rt²/2}/H(-√R t)."""
    f = tmp_path / "version_space.py"
    f.write_text(textwrap.dedent("""
        from replica import Model, channels, learning, losses, priors
        model = Model(priors.Spherical(), channels.Sign(), learning.Gibbs(0, losses.Errors()))
    """))
    doc = run_json("solve", str(f), "--sweep", "alpha=1:3:3", *FINE)
    assert doc["model"] == "version_space"
    pts = doc["points"]
    assert [p["alpha"] for p in pts] == [1.0, 2.0, 3.0]
    for p in pts:
        ref = _oracle(oc.spherical_gibbs_T0, p["alpha"])
        assert p["converged"] and p["branch"] == "uninformed" and p["equilibrium"]
        assert p["generalization_error"] == pytest.approx(float(ref["eps"]), abs=1e-7)
        assert p["m"] == pytest.approx(float(ref["R"]), abs=1e-7)
        for key in ("q", "m", "q_hat", "m_hat", "Q", "free_entropy", "residual", "entropy", "replicon"):
            assert isinstance(p[key], float), key
        assert p["replicon"] < 1


def test_solve_bayes_curve():
    """Opper & Haussler 1991: Bayes-optimal spherical perceptron, ε = arccos(√q)/π."""
    doc = run_json("solve", "perceptron-bayes", "--sweep", "alpha=1:3:3", "--set", "flip=0", *FINE)
    assert doc["parameters"] == {"flip": 0.0} and doc["sweep"]["alpha"]["num"] == 3
    for p in doc["points"]:
        ref = _oracle(oc.spherical_bayes, p["alpha"])
        assert p["generalization_error"] == pytest.approx(float(ref["eps"]), abs=1e-7)
        assert p["q"] == pytest.approx(float(ref["q"]), abs=1e-7)


def test_solve_linear_bayes():
    """mmse = √2 - 1 at α = 2, Δ = 1 (closed form), and the oracle elsewhere."""
    doc = run_json("solve", "linear-bayes", "--sweep", "alpha=1:2:2", "--set", "delta=1")
    mse = {p["alpha"]: p["mse"] for p in doc["points"]}
    assert mse[2.0] == pytest.approx(math.sqrt(2) - 1, abs=1e-10)
    assert mse[1.0] == pytest.approx(orr.linear_bayes(1.0, 1.0)["mmse"], abs=1e-10)


def test_solve_erm_curves():
    """Aubin, Krzakala, Lu & Zdeborová 2020: ridge (also Hastie et al. 2019 in closed form),
    hinge and logistic at λ = 0.1, against the oracles."""
    doc = run_json("solve", "ridge", "--sweep", "alpha=0.5:2:2", "--set", "delta=0.1", "--set", "lam=0.1")
    for p in doc["points"]:
        ref = orr.ridge_regression(p["alpha"], 0.1, 0.1)
        assert p["generalization_error"] == pytest.approx(ref["test_error"], abs=1e-6)
        assert p["training_loss"] == pytest.approx(ref["train_loss"], abs=1e-6)
    for loss in ("hinge", "logistic"):
        doc = run_json("solve", loss, "--sweep", "alpha=1:2:2", "--set", "lam=0.1", "--tol", "1e-12")
        for p in doc["points"]:
            ref = _oracle(orr.erm_sign, loss, p["alpha"], 0.1)
            assert p["generalization_error"] == pytest.approx(ref["eps_gen"], abs=1e-6), (loss, p["alpha"])
            assert p["m"] == pytest.approx(ref["m"], abs=1e-6)


def test_branches_and_non_convergence_reported():
    """Above the spinodal the perfect branch is the equilibrium; asked to start uninformed on the
    poorly-resolved q -> 1 march, a point either converges or says so, never a bare number."""
    doc = run_json("solve", "ising-bayes", "--sweep", "alpha=1:1.4:2", "--set", "flip=0")
    eq = {p["alpha"]: p["branch"] for p in doc["points"] if p["equilibrium"]}
    assert eq == {1.0: "uninformed", 1.4: "perfect"}       # α_IT = 1.2447 lies between
    for p in doc["points"]:
        if p["converged"]:
            assert p["replicon"] is None or p["replicon"] < 1
        if p["branch"] == "perfect":      # q = 1, noiseless sign teacher: every error is exactly 0
            assert p["mse"] == p["bayes_error"] == p["gibbs_error"] == p["generalization_error"] == 0
    # the text table: the perfect points' reason once, as a footnote, not a column of sentences
    text = replica("solve", "ising-bayes", "--sweep", "alpha=1:1.4:2", "--set", "flip=0").stdout.splitlines()
    marked = [ln for ln in text if ln.rstrip().endswith("0") and " [1] " in ln]
    notes = [ln for ln in text if ln.startswith("[1] ")]
    assert len(marked) == 2 and len(notes) == 1 and "perfect end point" in notes[0]
    r = replica("solve", "ising-bayes", "--set", "alpha=1.6", "--init", "uninformed", "--nodes", "16", "--json")
    assert r.returncode == 0
    (p,) = json.loads(r.stdout)["points"]
    if not p["converged"]:
        assert p["q"] is None and p["free_entropy"] is None and p["mse"] is None
        assert "did not converge" in r.stderr


def test_text_output_reads():
    r = replica("solve", "ridge", "--set", "alpha=2")
    assert r.returncode == 0, r.stderr
    head, cols = r.stdout.splitlines()[:2]
    assert head.startswith("ridge") and "lam = 0.1" in head
    assert cols.split()[:2] == ["branch", "equilibrium"] and "generalization_error" in cols
    r = replica("transition", "gardner", "--along", "alpha", "--range", "0.2:3", "--kind", "capacity")
    assert r.returncode == 0 and "capacity" in r.stdout and "alpha = 2" in r.stdout


# -- bad input -------------------------------------------------------------------------------

BAD_INPUT = [
    (("solve", "ising-bayes", "--set", "temperature=1"), ("unknown parameter", "temperature")),
    (("solve", "ising-bayes", "--set", "flip=0.7"), ("flip", "outside its domain")),
    (("solve", "ising-bayes", "--set", "flip=__import__('os')"), ("must be a number",)),
    (("solve", "ising-bayes", "--set", "flip"), ("NAME=VALUE",)),
    (("solve", "ising-bayes", "--sweep", "alpha=2:1:5"), ("reversed",)),
    (("solve", "ising-bayes", "--sweep", "alpha=1:2:0"), ("empty",)),
    (("solve", "ising-bayes", "--sweep", "alpha=1:2"), ("START:STOP:NUM",)),
    (("solve", "ising-bayes", "--sweep", "alpha=-1:2:3"), ("alpha", "outside its domain")),
    (("solve", "ising-bayes", "--sweep", "alpha=1:2:3", "--set", "alpha=1"), ("both",)),
    (("solve", "no-such-model"), ("unknown model",)),
    (("transition", "gardner", "--along", "beta"), ("unknown parameter", "beta")),
    (("transition", "gardner", "--along", "alpha", "--range", "3:1"), ("reversed",)),
    (("transition", "gardner", "--along", "alpha", "--range", "nan:1"), ("finite",)),
    (("transition", "gardner", "--along", "alpha", "--set", "alpha=1"), ("searched along",)),
    (("transition", "gardner", "--along", "kappa", "--range", "-1:1", "--set", "alpha=-2"), ("alpha", "outside")),
]
#: the first case of each command runs in a fresh process (exit code and stderr as a shell sees
#: them, warnings at start-up included); the others in this one (the same ``main``)
IN_A_PROCESS = {BAD_INPUT[0][0], BAD_INPUT[10][0]}


@pytest.mark.parametrize("args, fragments", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(args, fragments):
    run = replica if args in IN_A_PROCESS else replica_in_process
    assert_input_error(run(*args), *fragments)


def test_file_without_a_model(tmp_path):
    f = tmp_path / "empty.py"
    f.write_text("x = 1\n")
    assert_input_error(replica("solve", str(f)), "defines no Model")
