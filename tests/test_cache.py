"""The on-disk cache of generated modules: reuse, integrity, concurrency."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import replica
from replica.codegen import cache as C
from replica.codegen.compiled import load_compiled

POINT = dict(alpha=1.3, kappa=0.4, q=0.35, q_hat=0.8)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    return tmp_path


def _reference():
    th = replica.derive("gardner")
    return th.compile(cache=False).evaluate(**POINT)


def test_cache_is_written_and_reused(cache_dir):
    ref = _reference()
    c1 = replica.derive("gardner").compile()
    files = list(cache_dir.glob("gardner-main-*.py"))
    assert len(files) == 1
    head = files[0].read_text().splitlines()[0]
    assert head.startswith("# replica-generated key=") and " sha256=" in head
    c2 = load_compiled("gardner")          # from the file, no derivation
    assert c2._theory is None
    for k, v in ref.items():
        assert float(c2.evaluate(**POINT)[k]) == float(v) == float(c1.evaluate(**POINT)[k])


@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_damaged_cache_file_is_regenerated(cache_dir, damage):
    ref = _reference()
    replica.derive("gardner").compile()
    (f,) = cache_dir.glob("gardner-main-*.py")
    text = f.read_text()
    if damage == "truncate":
        f.write_text(text[: len(text) // 2])
    else:  # a plausible-looking edit that changes a number
        f.write_text(text.replace("numpy.sqrt(2)", "numpy.sqrt(3)", 1))
    c = load_compiled("gardner")
    assert c._theory is not None           # it had to derive again
    for k, v in ref.items():
        assert float(c.evaluate(**POINT)[k]) == float(v)
    assert C.load(C.model_key(replica.load_model("gardner"), "numpy"), "gardner-main") is not None


def test_two_processes_compiling_at_once_leave_a_correct_cache(cache_dir):
    ref = _reference()
    script = textwrap.dedent("""
        import replica
        c = replica.derive("gardner").compile()
        print(float(c.evaluate(alpha=1.3, kappa=0.4, q=0.35, q_hat=0.8)["map_q_hat"]))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**__import__("os").environ, "REPLICA_CACHE_DIR": str(cache_dir)})
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(float(o) == float(ref["map_q_hat"]) for o in outs)
    assert not list(cache_dir.glob("*.tmp"))
    c = load_compiled("gardner")
    assert c._theory is None
    assert float(c.evaluate(**POINT)["map_q_hat"]) == float(ref["map_q_hat"])


def test_a_second_compiler_waits_for_the_lock_and_loads(cache_dir, monkeypatch):
    """While one process holds a model's generation lock, another compile of it waits, then
    loads the file the holder wrote instead of generating it again (test workers compiling
    the same model at once)."""
    import threading
    from replica.codegen import compiled as CM

    th = replica.derive("gardner")
    key, name = C.model_key(th.model, "numpy"), "gardner-main"
    body = CM._generate(th, "numpy") + "\n# written by the holder of the lock\n"
    generated, out = [], []
    real = CM._generate
    monkeypatch.setattr(CM, "_generate", lambda *a: generated.append(a) or real(*a))
    with C.generating(key, name):
        t = threading.Thread(target=lambda: out.append(CM.compile_theory(th)))
        t.start()
        t.join(timeout=3.0)
        assert t.is_alive()                    # blocked on the lock, not generating
        C.store(key, name, body)
    t.join(timeout=60)
    assert not t.is_alive() and not generated
    assert out[0].source == body
