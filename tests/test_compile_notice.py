"""The progress line of a cold compile (replica.codegen.compiled.load_compiled through
replica.progress.working): on stderr, only while a model that is not cached is derived, never on
stdout, hidden by --quiet (progress.silenced) and by progress's rule (not a terminal, no
REPLICA_PROGRESS=1).  In process (click's runner), with the line's delay set to 0 so that the test
does not depend on how long the derivation takes."""
import json
import time

import pytest
from click.testing import CliRunner

from replica import progress as P
from replica.cli import main
from replica.codegen import compiled as compiled_module
from replica.model import load_model

LINE = "replica: deriving linear-bayes (first run; cached after): 00:"


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv(P.ENV, "1")
    monkeypatch.setattr(compiled_module, "COLD_LINE_AFTER", 0.0)
    return tmp_path


class _Stop(Exception):
    pass


def _slow_derivation(model):
    """Stands in for a cold derivation: takes a while, then stops the compile."""
    time.sleep(0.3)
    raise _Stop


def _solve(*extra):
    return CliRunner().invoke(main, ["solve", "linear-bayes", "--set", "alpha=1", "--set", "delta=0.1",
                                     "--init", "uninformed", "--rule", "hermite", *extra])


def test_cold_compile_says_so_on_stderr_and_a_cached_one_does_not(fresh_cache):
    cold = _solve("--json")
    assert cold.exit_code == 0, cold.output
    assert LINE in cold.stderr
    assert json.loads(cold.stdout)["model"] == "linear-bayes"      # stdout: the document only
    assert list(fresh_cache.glob("linear-bayes-main-*.py"))          # the module is now cached
    warm = _solve("--json")
    assert warm.exit_code == 0, warm.output
    assert "replica: deriving" not in warm.stderr
    assert json.loads(warm.stdout)["failed"] == json.loads(cold.stdout)["failed"] == 0


def test_the_rule_hides_the_line_off_a_terminal_and_with_quiet(fresh_cache, monkeypatch, capsys):
    monkeypatch.setenv(P.ENV, "")                          # pytest's stderr is not a terminal
    monkeypatch.setattr(compiled_module, "_derive", _slow_derivation)
    model = load_model("linear-bayes")
    with pytest.raises(_Stop):
        compiled_module.load_compiled(model)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(P.ENV, "1")
    with P.silenced(), pytest.raises(_Stop):            # a command's --quiet
        compiled_module.load_compiled(model)
    assert capsys.readouterr().err == ""
    with pytest.raises(_Stop):                          # shown: the rule, no --quiet
        compiled_module.load_compiled(model)
    assert "replica: deriving linear-bayes (first run; cached after)" in capsys.readouterr().err


def test_no_line_when_the_compile_is_faster_than_the_delay(fresh_cache, monkeypatch, capsys):
    monkeypatch.setattr(P, "_TICK", 0.05)
    with P.working("quick", delay=0.5):                   # returns at once: nothing drawn, nothing cleared
        pass
    time.sleep(0.2)
    assert capsys.readouterr().err == ""
    with P.working("slow", delay=0.2):                    # a body slower than the delay
        time.sleep(0.6)
    assert "slow: 00:00" in capsys.readouterr().err
