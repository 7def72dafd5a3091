"""Start-up: ``derive`` memoized in process, and a cached model's Theory built without the
derivation (its SymPy parts derived on first access, equal to a fresh derivation)."""
import subprocess
import sys

import numpy as np
import pytest

import replica
from replica import theory as T
from replica.codegen.compiled import CompiledTheory, compile_theory

POINT = dict(alpha=1.3, kappa=0.4, q=0.35, q_hat=0.8)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_derive_is_memoized_per_model_and_cache_folder(cache_dir, tmp_path_factory, monkeypatch):
    made = []
    monkeypatch.setattr(T, "_derive_now", lambda model: made.append(model.name) or object())
    th = replica.derive("gardner")
    assert replica.derive("gardner") is th
    assert replica.derive(replica.load_model("gardner")) is th           # an equal Model object
    renamed = replica.load_model("gardner")
    renamed.name = "gardner-renamed"
    assert replica.derive(renamed) is not th
    other = replica.load_model("gardner")
    other.defaults = {**other.defaults, "alpha": 0.25}
    assert replica.derive(other) is not th
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path_factory.mktemp("other")))
    assert replica.derive("gardner") is not th
    assert made == ["gardner", "gardner-renamed", "gardner", "gardner"]


def test_cached_model_derives_nothing_until_asked(cache_dir, monkeypatch):
    full = T._derive_now(replica.load_model("gardner"))
    ref = full.compile().evaluate(**POINT)                                # writes the module
    T._MEMO.clear()

    def forbidden(model):
        raise AssertionError("derived although the module was cached")
    monkeypatch.setattr(T, "_derive_now", forbidden)
    th = replica.derive("gardner")
    assert th.kind == full.kind and th.model.name == "gardner"
    c = th.compile()
    assert isinstance(c, CompiledTheory) and c.theory is th
    out = c.evaluate(**POINT)
    for k, v in ref.items():
        assert float(out[k]) == float(v)
    with pytest.raises(AssertionError, match="derived although"):
        th.equations                                                      # first SymPy access derives
    monkeypatch.undo()
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(cache_dir))
    # the same derivation (its integration variables are fresh Dummies: compared as text)
    for part in ("equations", "free_entropy", "order_parameters", "observables", "fixed"):
        assert str(getattr(th, part)) == str(getattr(full, part)), part
    again = compile_theory(th, cache=False).evaluate(**POINT)             # generated from th's SymPy parts
    for k, v in ref.items():
        assert float(again[k]) == pytest.approx(float(v), rel=1e-13, abs=1e-15)
    assert (th.capacity is None) == (full.capacity is None)
    assert th.compile() is c and "_deferred" not in vars(th)
    with pytest.raises(AttributeError):
        th.no_such_attribute


def test_command_line_starts_without_matplotlib():
    """``replica solve`` (any command but those that plot) never loads matplotlib (~0.4 s of
    start-up): the figures' modules are imported where a figure is drawn."""
    code = "import sys, replica.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
