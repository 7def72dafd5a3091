"""``replica simulate`` / ``replica verify``: JSON shapes, the verdict in the exit code, bad input,
and a custom-channel model file that simulates and verifies with no other code."""
import json
import math
import textwrap

from click.testing import CliRunner

from oracles.regression import ridge_regression
from replica.cli import main


def run(args):
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_verify_ridge_agrees_with_theory_and_oracle(tmp_path):
    png = tmp_path / "ridge.png"
    code, out, _ = run(["verify", "ridge", "--sweep", "alpha=0.5:3.0:3", "--set", "delta=0.1", "--set", "lam=0.1",
                        "--n", "400", "--seeds", "4", "--json", "--plot", str(png)])
    doc = json.loads(out)
    assert code == 0 and doc["agree"] is True and doc["model"] == "ridge"
    assert png.exists() and png.stat().st_size > 10000
    pts = [p for p in doc["points"] if p["observable"] == "generalization_error"]
    assert [p["alpha"] for p in pts] == [0.5, 1.75, 3.0]
    for p in pts:
        assert set(p) >= {"alpha", "delta", "lam", "observable", "theory", "mean", "stderr", "n", "seeds", "agree"}
        # the theory column is the independent random-matrix value too
        assert abs(p["theory"] - ridge_regression(p["alpha"], 0.1, 0.1)["test_error"]) < 1e-7


def test_verify_detects_disagreement(monkeypatch):
    """A theory shifted by 0.05 (far outside the error bars at N = 400) must be rejected, with
    exit code 1 and agree = false in the JSON."""
    import importlib
    V = importlib.import_module("sims.verify")     # the module (sims.verify is also the function)
    true_theory = V.theory_values

    def shifted(*a, **k):
        out, labels = true_theory(*a, **k)
        return {name: v + 0.05 for name, v in out.items()}, labels
    monkeypatch.setattr(V, "theory_values", shifted)
    code, out, _ = run(["verify", "ridge", "--sweep", "alpha=2.0:2.0:1", "--set", "delta=0.1", "--set", "lam=0.1",
                        "--n", "400", "--seeds", "4", "--json", "--observable", "generalization_error"])
    doc = json.loads(out)
    assert code == 1 and doc["agree"] is False and doc["points"][0]["agree"] is False


def test_simulate_json_and_bad_input():
    code, out, _ = run(["simulate", "hinge", "--set", "alpha=1.0", "--set", "lam=0.5", "--n", "50", "--seeds", "2", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["model"] == "hinge"
    assert {p["observable"] for p in doc["points"]} >= {"generalization_error", "training_error", "m"}
    assert all("agree" not in p for p in doc["points"])
    for bad in (["simulate", "ridge", "--set", "delta=-1", "--n", "10"],
                ["simulate", "ridge", "--set", "nope=1", "--n", "10"],
                ["verify", "ridge", "--sweep", "alpha=2:1:3"],
                ["simulate", "nosuchmodel"]):
        code, out, err = run(bad)
        assert code == 2 and out == "" and err.startswith("replica: error:") and len(err.strip().splitlines()) == 1


def test_custom_channel_model_file_verifies(tmp_path):
    f = tmp_path / "noisy_sign_hinge.py"
    f.write_text(textwrap.dedent('''
        import sympy as sp
        from replica import Model, priors, channels, learning, losses
        y, z, eps = sp.symbols("y z eps")
        teacher = channels.Custom((1 - eps) * sp.Heaviside(y * z) + eps * sp.Heaviside(-y * z), y, z,
                                  params={"eps": (0, 0.5)})
        model = Model(prior=priors.Gaussian(), teacher=teacher,
                      learning=learning.ERM(losses.Hinge(), ridge="lam"),
                      defaults={"alpha": 1.0, "eps": 0.1, "lam": 0.5})
    '''))
    code, out, _ = run(["verify", str(f), "--sweep", "alpha=1.0:2.0:2", "--n", "200", "--seeds", "4", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["agree"] is True, [(p["observable"], p["mean"], p["theory"]) for p in doc["points"]]
    assert doc["model"] == "noisy_sign_hinge" and math.isclose(doc["points"][0]["eps"], 0.1)
