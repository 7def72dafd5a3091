"""Model files: their own component classes hit the generated-module cache across processes;
a parameter's domain read from the SymPy symbol's assumptions (DESIGN.md, Contract)."""
import json
import os
import subprocess
import sys
import textwrap

import sympy as sp

from replica import losses
from replica.metadata import model_from_attrs, model_statement
from replica.model import load_model
from replica.params import NONNEGATIVE, POSITIVE, REAL

MODEL_FILE = textwrap.dedent("""
    from replica import Model, priors, channels, learning

    class MyNoisyLinear(channels.Linear):
        '''A component class of the user's own (its __module__ is the file's module).'''

    model = Model(prior=priors.Gaussian(), teacher=MyNoisyLinear(noise="delta"),
                  learning=learning.BayesOptimal())
""")


def test_two_cli_runs_of_a_model_file_leave_one_cache_file(tmp_path):
    path = tmp_path / "mymodel.py"
    path.write_text(MODEL_FILE)
    cache = tmp_path / "cache"
    env = dict(os.environ, REPLICA_CACHE_DIR=str(cache))
    outs = []
    for seed in ("1", "2"):                      # different hash seeds: hash(path) would differ
        r = subprocess.run([sys.executable, "-m", "replica", "solve", str(path), "--set", "alpha=1",
                            "--set", "delta=0.5", "--json"], capture_output=True, text=True, timeout=300,
                           env={**env, "PYTHONHASHSEED": seed})
        assert r.returncode == 0, r.stderr
        outs.append(json.loads(r.stdout)["points"][0]["q"])
    assert outs[0] == outs[1]
    files = sorted(p.name for p in cache.glob("*.py"))
    assert len(files) == 1, files


def test_domains_from_sympy_assumptions():
    y, lam = sp.symbols("y lam", real=True)
    flip = sp.Symbol("flip", nonnegative=True)
    loss = losses.Custom((y - lam)**2 + flip * lam**2, y, lam)          # no params needed
    assert {s.name: d for s, d in loss.parameters.items()} == {"flip": NONNEGATIVE}
    a, b = sp.Symbol("a", positive=True), sp.Symbol("b", real=True)
    loss = losses.Custom(a * (y - lam)**2 + b * lam, y, lam)
    assert {s.name: d for s, d in loss.parameters.items()} == {"a": POSITIVE, "b": REAL}
    declared = losses.Custom(a * (y - lam)**2, y, lam, params={"a": (1, 2)})   # params still win
    assert str(next(iter(declared.parameters.values()))) == "[1, 2]"


def test_statement_of_a_model_file_rebuilds_it(tmp_path):
    """A file's model statement (NetCDF attributes) holds the file, so the model comes back."""
    path = tmp_path / "mymodel.py"
    path.write_text(MODEL_FILE)
    model = load_model(str(path))
    attrs = model_statement(model)
    assert attrs["model_source"] == MODEL_FILE and attrs["model_variable"] == "model"
    assert attrs["model_teacher"] == "MyNoisyLinear(noise=delta)"
    path.unlink()                                  # rebuilt from the attributes alone
    back = model_from_attrs(attrs)
    assert type(back.teacher).__name__ == "MyNoisyLinear" and back.name == "mymodel"
    assert repr(back.prior) == repr(model.prior) and back.parameter_names() == model.parameter_names()
