"""The ``replica`` command line, run as a user runs it: ``python -m replica ...`` in a subprocess."""
import json
import subprocess
import sys
import textwrap

import pytest

from replica.builtin import BUILTINS
from replica.dynamics.models import DYNAMICAL

# DESIGN.md's table of built-in perceptron models (names and parameter names are the contract)
DESIGN_MODELS = {
    "gardner": {"alpha", "kappa"}, "ising-storage": {"alpha", "kappa"},
    "perceptron-gibbs": {"alpha", "T"}, "perceptron-bayes": {"alpha", "flip"},
    "ising-gibbs": {"alpha", "T"}, "ising-bayes": {"alpha", "flip"},
    "linear-bayes": {"alpha", "delta"}, "ridge": {"alpha", "delta", "lam"},
    "logistic": {"alpha", "flip", "lam"}, "hinge": {"alpha", "flip", "lam"},
    "committee-bayes": {"alpha", "K"}, "committee-ising-bayes": {"alpha", "K"},
    "soft-committee-bayes": {"alpha", "K", "delta"},
}


def replica(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "replica", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def assert_input_error(r, *fragments):
    """Exit code 2, exactly one line on stderr starting 'replica: error:', no traceback, no stdout."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip("\n").splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("replica: error: ")
    assert "Traceback" not in r.stderr
    # with --json the same message is also one document {"error": ...} on stdout (DESIGN.md)
    assert r.stdout == "" or json.loads(r.stdout) == {"error": lines[0][len("replica: error: "):]}
    for f in fragments:
        assert f in lines[0]


def test_list_json_has_every_design_model_with_its_parameters():
    r = replica("list", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    models = {m["name"]: m for m in doc["models"]}
    for name, params in DESIGN_MODELS.items():
        assert name in models
        m = models[name]
        assert isinstance(m["description"], str) and m["description"]
        assert set(m["parameters"]) == params
        for p in m["parameters"].values():
            assert isinstance(p["domain"], str)
            assert isinstance(p["default"], float)
    assert models["perceptron-bayes"]["parameters"]["flip"]["domain"] == "[0, 0.5]"
    assert models["gardner"]["parameters"]["alpha"]["domain"] == "[0, inf)"


def test_list_names_and_text():
    r = replica("list", "--names")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == list(BUILTINS) + list(DYNAMICAL)
    r = replica("list")
    assert r.returncode == 0, r.stderr
    for name in DESIGN_MODELS:
        assert f"{name}: " in r.stdout


@pytest.mark.parametrize("fmt, pieces", [
    ("text", ["Phi_RS = ", "q = ", "q_hat = ", "Capacity", "Gardner"]),
    ("latex", [r"\Phi_{\rm RS} = ", r"\begin{align*}", r"\hat{q} &= ", r"\section*{"]),
    ("markdown", ["$$\n\\Phi_{\\rm RS} = ", "## Saddle-point equations", "$$\n\\hat{q} = ", "## Capacity"]),
])
def test_derive_gardner_formats(fmt, pieces):
    r = replica("derive", "gardner", "--format", fmt)
    assert r.returncode == 0, r.stderr
    for p in pieces:
        assert p in r.stdout, p
    assert "_Dummy" not in r.stdout and "Dummy" not in r.stdout


def test_derive_gardner_json():
    r = replica("derive", "gardner", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)                     # exactly one JSON document on stdout
    assert doc["model"] == "gardner"
    assert doc["kind"] == "storage"
    assert doc["order_parameters"] == ["q", "q_hat"]
    assert [e.split(" = ")[0] for e in doc["equations"]] == ["q", r"\hat{q}"]
    assert r"\hat{q}" in doc["free_entropy"] and r"\alpha" in doc["free_entropy"]
    assert set(doc["parameters"]) == {"alpha", "kappa"}
    assert doc["parameters"]["kappa"] == {"domain": "(-inf, inf)", "default": 0.0}
    assert doc["fixed"] == {"Q": "1"}


def test_unknown_model():
    assert_input_error(replica("derive", "no-such-model"), "no-such-model")
    assert_input_error(replica("derive", "no-such-model", "--json"), "no-such-model")


def test_usage_error_is_one_line():
    assert_input_error(replica("derive", "gardner", "--format", "pdf"), "pdf")


def test_file_without_model(tmp_path):
    f = tmp_path / "nothing.py"
    f.write_text("x = 1\n")
    assert_input_error(replica("derive", str(f)), "defines no Model")
    assert_input_error(replica("derive", f"{f}:other", "--json"), "other")


def test_custom_channel_with_undeclared_symbol(tmp_path):
    f = tmp_path / "noisy.py"
    f.write_text(textwrap.dedent("""
        import sympy as sp
        import replica
        y, z, sigma = sp.symbols("y z sigma")
        density = sp.exp(-(y - z)**2 / (2 * sigma)) / sp.sqrt(2 * sp.pi * sigma)
        model = replica.Model(prior=replica.priors.Gaussian(),
                              teacher=replica.channels.Custom(density, y, z, outputs="real"),
                              learning=replica.learning.BayesOptimal())
    """))
    assert_input_error(replica("derive", str(f)), "sigma")


def test_custom_model_file_derives(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text(textwrap.dedent("""
        import replica
        print("loading")   # must not pollute --json output
        perceptron = replica.Model(prior=replica.priors.Ising(), teacher=replica.channels.RandomLabels(),
                                   learning=replica.learning.Volume(margin="kappa"))
    """))
    r = replica("derive", f"{f}:perceptron", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "mine"
    # ±1 weights fix Q = 1 (its conjugate drops out), so only q and its conjugate remain
    assert doc["order_parameters"] == ["q", "q_hat"]
