"""The progress line of a cold compile: on stderr, once, only when the model is not cached, never
on stdout, and not with ``--json`` (which writes the document only).  In process (click's
runner), with the notice's delay set to 0 so that the test does not depend on how long the
derivation takes."""
import json
import time

import pytest
from click.testing import CliRunner

from replica.cli import main
from replica.cli import notice as progress
from replica.model import load_model

LINE = "replica: deriving linear-bayes ... (first run; cached after)"


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(progress, "NOTICE_AFTER", 0.0)
    return tmp_path


def _solve(*extra):
    return CliRunner().invoke(main, ["solve", "linear-bayes", "--set", "alpha=1", "--set", "delta=0.1",
                                     "--init", "uninformed", "--rule", "hermite", *extra])


def test_cold_compile_says_so_on_stderr_and_a_cached_one_does_not(fresh_cache):
    cold = _solve()
    assert cold.exit_code == 0, cold.output
    assert cold.stderr.splitlines().count(LINE) == 1
    assert "replica: deriving" not in cold.stdout and "linear-bayes" in cold.stdout   # the table
    assert list(fresh_cache.glob("linear-bayes-main-*.py"))  # the module is now cached
    warm = _solve()
    assert warm.exit_code == 0, warm.output
    assert LINE not in warm.stderr
    assert warm.stdout == cold.stdout


def test_json_output_has_no_progress_line(monkeypatch):
    monkeypatch.setattr(progress, "NOTICE_AFTER", 0.0)
    monkeypatch.setattr(progress, "_cached", lambda *a: False)  # as if cold (the session's cache)
    r = _solve("--json")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    assert json.loads(r.stdout)["model"] == "linear-bayes"


def test_no_line_when_the_compile_is_faster_than_the_delay(fresh_cache, monkeypatch, capsys):
    monkeypatch.setattr(progress, "NOTICE_AFTER", 0.2)
    with progress.compiling(load_model("linear-bayes")):   # not cached here; the body returns at once
        pass
    time.sleep(0.4)                                        # past the delay: the timer was cancelled
    assert "replica: deriving" not in capsys.readouterr().err
    with progress.compiling(load_model("linear-bayes")):   # a body slower than the delay
        time.sleep(0.4)
    assert capsys.readouterr().err.splitlines() == [LINE]
