"""Issue 12, the CLI half: every probe that used to run away or end in a traceback is refused
before any work with exit code 2 and one line ``replica: error: ...`` (with ``--json`` also one
``{"error": ...}`` document on stdout), and a property-based test throws random values, grids and
malformed strings at every command and finds no traceback."""
import json
import textwrap

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replica.cli import main
from replica.committee.models import MAX_K


def run(args, env=None):
    r = CliRunner().invoke(main, args, catch_exceptions=False, env=env)
    return r.exit_code, r.stdout, r.stderr


def refused(args, *words, env=None):
    """Exit 2, nothing on stdout, one stderr line containing every word; with --json the same
    message as one JSON document on stdout."""
    code, out, err = run(args, env)
    assert code == 2 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("replica: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    code, out, err_json = run(args + ["--json"], env)
    assert code == 2 and json.loads(out) == {"error": lines[0][len("replica: error: "):]}
    return lines[0]


def test_grid_size_is_refused_before_allocating():
    refused(["solve", "ising-bayes", "--sweep", "alpha=1:2:1000000000000"], "grid size", "REPLICA_MAX_POINTS")
    refused(["solve", "ising-bayes", "--sweep", "alpha=1:2:1000000000"], "REPLICA_MAX_POINTS")
    # two axes of 10^4 each: 10^8 points together
    refused(["solve", "ising-bayes", "--sweep", "alpha=1:2:10000", "--sweep", "flip=0:0.1:10000"], "REPLICA_MAX_POINTS")
    refused(["phase-diagram", "ising-bayes", "--x", "alpha=1:2:100000", "--y", "flip=0:0.1:1000"], "REPLICA_MAX_POINTS")


def test_estimated_memory_is_refused_and_the_limit_can_be_moved():
    env = {"REPLICA_MAX_MEMORY_GB": "0.01"}
    refused(["solve", "ising-bayes", "--sweep", "alpha=1:2:1000"], "estimated memory", "REPLICA_MAX_MEMORY_GB", env=env)
    refused(["solve", "ising-bayes", "--set", "alpha=1"], "REPLICA_MAX_MEMORY_GB", env={"REPLICA_MAX_MEMORY_GB": "nope"})


def test_simulation_sizes_are_refused():
    refused(["simulate", "ridge", "--n", "10000000"], "estimated memory", "REPLICA_MAX_MEMORY_GB")
    refused(["simulate", "ising-storage", "--algorithm", "storage", "--n", "30"], "2^N", "REPLICA_MAX_ENUMERATION")
    refused(["verify", "ising-storage", "--sweep", "alpha=0.5:1:2", "--n", "30"], "REPLICA_MAX_ENUMERATION")


def test_committee_hidden_units_are_refused():
    refused(["solve", "committee-bayes", "--set", "K=1000000"], f"K <= {MAX_K}", "K=inf")
    refused(["transition", "committee-bayes", "--along", "alpha", "--set", "K=1000000"], f"K <= {MAX_K}")
    refused(["simulate", "committee-bayes", "--set", "K=1000000", "--n", "10"], "REPLICA_MAX_K")


def test_output_paths_are_checked_before_computing(tmp_path):
    missing = str(tmp_path / "nope" / "pd.nc")
    refused(["phase-diagram", "ising-bayes", "--x", "alpha=1:2:3", "--y", "flip=0:0.1:2", "--out", missing],
            "does not exist")
    refused(["phase-diagram", "ising-bayes", "--x", "alpha=1:2:3", "--y", "flip=0:0.1:2",
             "--plot", str(tmp_path / "nope" / "pd.png")], "does not exist")
    refused(["verify", "ridge", "--sweep", "alpha=1:2:2", "--plot", str(tmp_path / "nope" / "v.png")],
            "does not exist")
    refused(["verify", "ridge", "--sweep", "alpha=1:2:2", "--plot", str(tmp_path)], "is a directory")
    refused(["twolayer", "--alpha", "1", "--out", str(tmp_path / "nope" / "t.nc")], "does not exist")


def test_unknown_color_variable_is_refused_before_the_diagram():
    msg = refused(["phase-diagram", "ising-bayes", "--x", "alpha=1:2:3", "--y", "flip=0:0.1:2", "--color", "nope"],
                  "--color 'nope'")
    assert "generalization_error" in msg and "q_hat" in msg


def test_unusable_cache_folder_falls_back_with_a_warning(tmp_path, monkeypatch, capsys):
    from replica.codegen import cache as C
    a_file = tmp_path / "cache-is-a-file"
    a_file.write_text("not a folder")
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(a_file))
    d = C.cache_dir()
    assert d.is_dir() and d != a_file
    err = capsys.readouterr().err
    assert err.startswith("replica: warning:") and "cache-is-a-file" in err
    C.store("k" * 64, "probe", "x = 1\n")                  # the fallback stores and loads
    assert C.load("k" * 64, "probe") == "x = 1\n"
    assert C.cache_dir() == d and capsys.readouterr().err == ""   # one warning, one folder per run


def test_model_file_that_exits_is_an_error(tmp_path):
    f = tmp_path / "exits.py"
    f.write_text("import sys\nsys.exit(0)\n")
    refused(["solve", str(f)], "sys.exit(0)")
    refused(["derive", str(f)], "sys.exit(0)")


def test_erm_without_ridge_on_separable_labels_is_refused_at_once():
    refused(["solve", "logistic", "--set", "lam=0"], "no minimizer", "lam = 0")
    refused(["simulate", "logistic", "--set", "lam=0", "--n", "50"], "no minimizer")
    refused(["solve", "logistic", "--sweep", "lam=0:1:3"], "no minimizer")


def test_diverging_twolayer_run_reports_diverged_not_numbers():
    args = ["twolayer", "--alpha", "5", "--eta", "50", "--n", "50", "--seeds", "2", "--records", "3",
            "--activation", "relu", "--teacher-activation", "relu"]
    code, out, _ = run(args + ["--json"])
    doc = json.loads(out)
    assert code == 0 and doc["diverged"] is True and doc["records"] is None and doc["diverged_instances"] == 2
    code, out, _ = run(args)
    assert code == 0 and out.startswith("diverged: 2 of 2 instances") and "eg=" not in out


def test_any_exception_is_one_line_and_a_json_error(monkeypatch):
    from replica.cli import solving

    def boom(*args, **kwargs):
        raise RuntimeError("something\nunexpected")
    monkeypatch.setattr(solving, "_load_model", boom)
    refused(["solve", "ising-bayes"], "RuntimeError: something unexpected")


# -- property-based: nothing thrown at the CLI gives a traceback --------------------------------

class _Reached(Exception):
    """Raised by the patched work functions: validation let the request through."""


_WORK = [("replica.solve", "solve"), ("replica.solve", "solve_branches"), ("replica.solve", "find_transitions"),
         ("replica.phase", "phase_diagram"), ("replica", "derive"), ("replica.theory", "load_compiled"),
         ("sims.verify", "simulate"), ("sims.verify", "verify"), ("sims.twolayer", "make_teacher"),
         ("replica.committee.largek", "large_k_theory")]

_NAMES = st.sampled_from(["alpha", "flip", "delta", "lam", "K", "kappa", "T", "nope", "", "=", "alpha=", "__import__"])
_NUMS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**15, 10**15).map(str),
                  st.sampled_from(["inf", "-inf", "nan", "1e400", "1/2", "os.system('x')", "", "0x10", "1_0", " "]),
                  st.text(max_size=8))
_ASSIGN = st.builds(lambda n, v: f"{n}={v}", _NAMES, _NUMS) | st.text(max_size=12)
_SWEEP = st.builds(lambda n, a, b, k: f"{n}={a}:{b}:{k}", _NAMES, _NUMS, _NUMS,
                   st.one_of(st.integers(-5, 10**13).map(str), _NUMS)) | st.text(max_size=12)
_MODEL = st.sampled_from(["ising-bayes", "ridge", "logistic", "committee-bayes", "gardner", "ising-storage",
                          "nosuch", "", "../x.py", "x.py:model", "-"])


@st.composite
def _command(draw):
    cmd = draw(st.sampled_from(["list", "derive", "solve", "transition", "phase-diagram", "simulate", "verify",
                                "twolayer", "nosuchcommand"]))
    args = [cmd]
    if cmd not in ("list", "twolayer", "nosuchcommand"):
        args.append(draw(_MODEL))
    for _ in range(draw(st.integers(0, 3))):
        args += ["--set", draw(_ASSIGN)]
    if cmd in ("solve", "simulate", "verify") and draw(st.booleans()):
        args += ["--sweep", draw(_SWEEP)]
    if cmd == "phase-diagram":
        args += ["--x", draw(_SWEEP), "--y", draw(_SWEEP), "--color", draw(_NAMES)]
    if cmd == "transition":
        args += ["--along", draw(_NAMES), "--range", draw(st.builds(lambda a, b: f"{a}:{b}", _NUMS, _NUMS))]
    if cmd in ("simulate", "verify", "twolayer"):
        args += ["--n", draw(st.one_of(st.integers(-3, 10**9).map(str), _NUMS)),
                 "--seeds", draw(st.one_of(st.integers(-3, 10**6).map(str), _NUMS))]
    if cmd == "twolayer":
        args += ["--alpha", draw(_NUMS), "--eta", draw(_NUMS)]
    if cmd in ("solve", "transition"):
        args += ["--nodes", draw(st.one_of(st.integers(-5, 10**6).map(str), _NUMS))]
    if draw(st.booleans()):
        args.append("--json")
    return args


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=_command())
def test_fuzzed_command_lines_never_give_a_traceback(args):
    import importlib
    with pytest.MonkeyPatch.context() as mp:
        for mod, name in _WORK:
            def reached(*a, **k):
                raise _Reached("reached the work")
            mp.setattr(importlib.import_module(mod), name, reached)
        r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code in (0, 2), (args, r.exit_code, r.stderr)
    assert "Traceback" not in r.stdout + r.stderr, args
    if r.exit_code == 2:
        lines = r.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("replica: error: "), (args, r.stderr)
        if "--json" in args and not r.stdout.startswith("Usage"):
            assert "error" in json.loads(r.stdout.strip().splitlines()[-1]), args
