"""Progress lines (replica.progress): on stderr only, shown on a terminal or with
REPLICA_PROGRESS=1, hidden with REPLICA_PROGRESS=0 or quiet; CLI stdout stays one JSON document."""
import json
import os
import subprocess
import sys
import time

import pytest

from replica import progress as P


@pytest.mark.parametrize("env, quiet, shown", [("1", False, True), ("0", False, False), ("1", True, False),
                                               ("", False, False)])   # "": pytest's stderr is not a terminal
def test_when_lines_are_shown(monkeypatch, env, quiet, shown):
    monkeypatch.setenv(P.ENV, env)
    assert P.enabled(quiet) is shown
    with P.silenced():                                     # a command's --quiet: nothing, whatever the rest
        assert P.enabled(quiet) is False
        with P.silenced(False):                            # an inner block cannot switch it back on
            assert P.enabled() is False
    assert P.enabled(quiet) is shown


def test_working_line_counts_seconds_on_stderr(monkeypatch, capsys):
    monkeypatch.setenv(P.ENV, "1")
    with P.working("deriving demo (first run)"):
        time.sleep(1.2)
    out, err = capsys.readouterr()
    assert out == "" and "deriving demo (first run): 00:01" in err
    b = P.bar(3, "rows")
    for _ in range(3):
        b.update(1)
    b.refresh()
    b.close()
    assert "rows: 100%" in capsys.readouterr().err
    assert list(P.track("abc", "points")) == ["a", "b", "c"]
    assert "points:   0%|          | 0/3" in capsys.readouterr().err   # a bar of 3, known up front
    monkeypatch.setenv(P.ENV, "0")
    assert P.bar(3, "rows") is None
    assert list(P.track("abc", "points")) == ["a", "b", "c"]
    with P.working("hidden"):
        pass
    assert capsys.readouterr() == ("", "")


def test_cli_json_stdout_is_the_document_with_progress_on():
    r = subprocess.run([sys.executable, "-m", "replica", "solve", "ising-bayes", "--set", "alpha=1", "--json"],
                       capture_output=True, text=True, timeout=300, env={**os.environ, P.ENV: "1"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model"] == "ising-bayes"
    assert "ising-bayes: solving 1 point" in r.stderr
