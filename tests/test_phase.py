"""replica.phase and ``replica phase-diagram``: lines traced by root finding land on the
published thresholds (each recomputed by an independent oracle in tests/oracles or a closed
form computed here with scipy), the same numbers in process and on a local Dask cluster,
NetCDF / JSON / plot outputs, honest failure, bad input."""
import functools
import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from scipy import integrate, stats

import replica as replica_api
from replica.cli import main
from replica.codegen.cache import model_key
from replica.metadata import model_from_attrs
from replica.model import load_model
from replica.phase import lines, load, phase_diagram, plot, save, to_json
from replica.phase.tracing import assemble, refine_rows
from replica.codegen.compiled import load_compiled
from replica.variables import cf_attrs
from oracles import classification as oc
from oracles import regression as orr

SAT, UNSAT = 5, 6


def replica(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "replica", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env=None if env is None else {**os.environ, **env})


@functools.lru_cache(maxsize=None)
def _oracle(fn, *args):
    return fn(*args)


def line_of(doc_lines, kind, branch=None):
    (line,) = [l for l in doc_lines if l["kind"] == kind and (branch is None or l.get("branch") == branch)]
    return dict(zip(line["y"], line["x"]))


# -- the command of the issue, through the CLI -----------------------------------------------

DONE = ["phase-diagram", "ising-bayes", "--x", "alpha=0.8:2.0:25", "--y", "flip=0:0.1:6",
        "--out", "pd.nc", "--plot", "pd.png", "--json"]


@pytest.fixture(scope="session")
def done_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("pd")
    r = replica(*DONE, cwd=d, env={"REPLICA_PROGRESS": "1"})       # progress lines on, though not a terminal
    assert r.returncode == 0, r.stderr
    return d, r


def test_cli_writes_both_files_and_only_json(done_run):
    d, r = done_run
    doc = json.loads(r.stdout)                          # --json: stdout holds the document only
    # progress bars on stderr, each with its total known when it starts (never grown)
    counts = {}
    for desc, n, total in re.findall(r"(ising-bayes: [^:\r]*rows): +\d+%\|[^|]*\| (\d+)/(\d+)", r.stderr):
        counts.setdefault(desc, set()).add(int(total))
        assert int(n) <= int(total)
    assert "ising-bayes: 6 flip rows" in counts and all(len(t) == 1 for t in counts.values()), counts
    assert doc["model"] == "ising-bayes" and doc["x"] == "alpha" and doc["y"] == "flip"
    assert (d / "pd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ds = load(d / "pd.nc")
    assert ds.attrs["model"] == "ising-bayes"
    assert len(ds.attrs["derivation_sha256"]) == 64 and len(ds.attrs["model_key"]) == 64
    assert "xarray" in json.loads(ds.attrs["versions_json"])
    assert lines(ds) == doc["lines"]
    assert ds["q"].dims == ("branch", "flip", "alpha") and ds.sizes == {**ds.sizes, "alpha": 25, "flip": 6}
    assert np.array_equal(ds["phase"].values, np.array(doc["phase"]))


def test_cli_lines_end_on_the_known_thresholds(done_run):
    """flip = 0: Györgyi 1990 alpha_IT = 1.245 (oracle crossing 1.2446839899) and Barbier et al.
    2019 alpha_alg = 1.493 (oracle saddle-node 1.4926318182)."""
    doc = json.loads(done_run[1].stdout)
    fo, sp = line_of(doc["lines"], "first_order"), line_of(doc["lines"], "spinodal", "uninformed")
    assert fo[0.0] == pytest.approx(1.2446839899, abs=1e-3)
    assert sp[0.0] == pytest.approx(1.4926318182, abs=1e-3)
    assert fo[0.0] == pytest.approx(_oracle(oc.ising_bayes_first_order, 0.0), abs=1e-7)
    assert sp[0.0] == pytest.approx(_oracle(oc.ising_bayes_spinodal, 0.0), abs=1e-7)
    for flip in (0.02, 0.04):                          # label noise: the independent oracle
        assert fo[flip] == pytest.approx(_oracle(oc.ising_bayes_first_order, flip), abs=1e-7)
    assert sp[0.02] == pytest.approx(_oracle(oc.ising_bayes_spinodal, 0.02), abs=1e-7)
    # lines are ordered in y, and followed between rows: rows were inserted
    assert sorted(fo) == list(fo) and len(fo) > 4


def test_phases_agree_with_the_lines(done_run):
    """Left of the first-order line the equilibrium is partial recovery; right of the spinodal
    perfect recovery with no metastable imperfect branch; in between perfect but hard."""
    d, r = done_run
    doc, ds = json.loads(r.stdout), load(d / "pd.nc")
    fo, sp = line_of(doc["lines"], "first_order"), line_of(doc["lines"], "spinodal", "uninformed")
    ph = ds["phase"].sel(flip=0.0).values
    a = ds["alpha"].values
    assert np.all(ph[a < fo[0.0]] == 2) and np.all(ph[(a > fo[0.0]) & (a < sp[0.0])] == 3)
    assert np.all(ph[a > sp[0.0]] == 4)
    for b in ds.branch.values:                          # never a number where not converged
        s = ds.sel(branch=b)
        assert np.all(np.isnan(s["q"].values[~s["converged"].values]))


# -- the same numbers on a local Dask cluster ------------------------------------------------

def test_local_dask_cluster_gives_the_same_lines(tmp_path):
    x, y = ("alpha", np.linspace(1.0, 2.0, 11)), ("flip", np.linspace(0.0, 0.04, 3))
    ds = phase_diagram("ising-bayes", x, y, refine=1)
    r = replica("phase-diagram", "ising-bayes", "--x", "alpha=1.0:2.0:11", "--y", "flip=0:0.04:3",
                "--refine", "1", "--workers", "2", "--out", "w.nc", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    mine, theirs = lines(ds), json.loads(r.stdout)["lines"]
    assert [(l["kind"], l["branch"], l["y"]) for l in mine] == [(l["kind"], l["branch"], l["y"]) for l in theirs]
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a["x"], b["x"], rtol=0, atol=1e-9)
    other = load(tmp_path / "w.nc")
    np.testing.assert_allclose(other["q"].values, ds["q"].values, rtol=0, atol=1e-9)
    assert np.array_equal(other["phase"].values, ds["phase"].values)


# -- the gallery's diagrams against their papers ---------------------------------------------

def gardner_alpha_c(kappa):
    """Gardner 1988: alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2 (scipy quad)."""
    val, _ = integrate.quad(lambda t: stats.norm.pdf(t) * (t + kappa) ** 2, -kappa, np.inf, epsabs=1e-13)
    return 1.0 / val


def test_gardner_capacity_line_and_sat_region():
    """Gardner 1988: alpha_c = 2, 0.96120505, 0.51957223 at kappa = 0, 0.5, 1."""
    ds = phase_diagram("gardner", ("alpha", np.linspace(0.2, 2.4, 12)), ("kappa", [0.0, 0.5, 1.0]),
                       kinds=["capacity"], refine=0)
    cap = line_of(lines(ds), "capacity")
    for k, published in ((0.0, 2.0), (0.5, 0.96120505), (1.0, 0.51957223)):
        assert cap[k] == pytest.approx(gardner_alpha_c(k), abs=1e-7)
        assert cap[k] == pytest.approx(published, abs=1e-7)
        a, ph = ds["alpha"].values, ds["phase"].sel(kappa=k).values
        assert np.all(ph[a < cap[k] - 0.05] == SAT) and np.all(ph[a > cap[k] + 0.05] == UNSAT)


def test_ising_storage_capacity_line():
    """Krauth & Mézard 1989: the RS entropy of ±1 weights vanishes at 0.8330786 (kappa = 0; the
    oracle at every kappa); Gardner & Derrida 1988: RS q -> 1 at 4/pi."""
    ds = phase_diagram("ising-storage", ("alpha", np.linspace(0.3, 1.5, 13)), ("kappa", [0.0, 0.5]),
                       kinds=["capacity"], refine=0)
    cap, q1 = line_of(lines(ds), "capacity"), line_of(lines(ds), "q_to_one")
    assert cap[0.0] == pytest.approx(0.8330786, abs=1e-6)
    for k in (0.0, 0.5):
        assert cap[k] == pytest.approx(_oracle(oc.ising_storage_entropy_zero_alpha, k), abs=1e-7)
        a, ph = ds["alpha"].values, ds["phase"].sel(kappa=k).values
        assert np.all(ph[a < cap[k] - 0.05] == SAT) and np.all(ph[a > cap[k] + 0.05] == UNSAT)
    assert q1[0.0] == pytest.approx(4 / math.pi, abs=1e-7)


def test_ising_gibbs_first_order_line():
    """Seung, Sompolinsky & Tishby 1992 (alpha, T) diagram: the first-order line to perfect
    generalization, against the oracle's free-entropy crossing at each temperature."""
    ds = phase_diagram("ising-gibbs", ("alpha", np.linspace(0.8, 2.4, 9)), ("T", [0.3, 0.5]),
                       kinds=["first_order"], refine=0)
    fo = line_of(lines(ds), "first_order")
    for T in (0.3, 0.5):
        assert fo[T] == pytest.approx(_oracle(oc.ising_gibbs_first_order, T), abs=1e-7)


def test_ridge_test_error_shows_double_descent():
    """Ridge regression (Hastie et al. 2019 closed form via the oracle): the test error on the
    grid, peaked at alpha = 1 for a small ridge and not for a large one."""
    alphas, lams = [0.5, 0.8, 1.0, 1.25, 2.0], [1e-3, 1.0]
    ds = phase_diagram("ridge", ("alpha", alphas), ("lam", lams), {"delta": 0.25}, kinds=[])
    err = ds["generalization_error"].sel(branch="equilibrium")
    for a in alphas:
        for lam in lams:
            ref = orr.ridge_regression(a, 0.25, lam)["test_error"]
            assert float(err.sel(alpha=a, lam=lam)) == pytest.approx(ref, rel=1e-6)
    small = err.sel(lam=1e-3).values
    assert np.argmax(small) == alphas.index(1.0)
    assert np.all(np.diff(err.sel(lam=1.0).values) < 0)
    assert set(np.unique(ds["phase"].values)) == {7} and lines(ds) == []


# -- lines from located points, plots --------------------------------------------------------

def _rec(kind, x, y, **kw):
    return {"kind": kind, "value": x, "y": y, **kw}


def test_assemble_joins_points_of_one_kind_and_keeps_unknown_kinds():
    rows = {0.0: [_rec("rs_instability", 1.0, 0.0), _rec("made_up", 5.0, 0.0)],
            0.1: [_rec("rs_instability", 1.1, 0.1), _rec("made_up", 5.0, 0.1),
                  _rec("spinodal", 3.0, 0.1, branch="informed")],
            0.2: [_rec("rs_instability", 1.2, 0.2), _rec("spinodal", 3.1, 0.2, branch="informed"),
                  _rec("first_order", None, 0.2, error="failed")]}
    got = {(l["kind"], l["branch"]): (l["x"], l["y"]) for l in assemble(rows, x_span=10.0)}
    assert got == {("rs_instability", None): ([1.0, 1.1, 1.2], [0.0, 0.1, 0.2]),
                   ("made_up", None): ([5.0, 5.0], [0.0, 0.1]),
                   ("spinodal", "informed"): ([3.0, 3.1], [0.1, 0.2])}
    # two lines of one kind on a row stay apart; a jump farther than max_jump starts a new line
    rows = {0.0: [_rec("k", 1.0, 0.0), _rec("k", 8.0, 0.0)], 0.1: [_rec("k", 1.1, 0.1), _rec("k", 7.9, 0.1)],
            0.2: [_rec("k", 5.0, 0.2)]}
    got = sorted((l["x"], l["y"]) for l in assemble(rows, x_span=10.0, max_jump=0.25))
    assert got == [([1.0, 1.1], [0.0, 0.1]), ([5.0], [0.2]), ([8.0, 7.9], [0.0, 0.1])]


def test_refine_rows_where_lines_are_steep_or_end():
    rows = {0.0: [_rec("a", 1.0, 0.0)], 1.0: [_rec("a", 1.5, 1.0)], 2.0: [_rec("a", 6.0, 2.0)], 3.0: []}
    assert refine_rows(rows, dx=1.0, dy=1.0, max_step=2.0) == [1.5, 2.5]


def test_plot_styles_every_kind_and_labels_axes(tmp_path):
    ds = phase_diagram("ridge", ("alpha", [0.5, 1.0, 2.0]), ("lam", [0.01, 0.1, 1.0]))
    ds.attrs["lines_json"] = json.dumps([{"kind": "made_up", "branch": None, "x": [0.6, 1.5], "y": [0.02, 0.5]},
                                         {"kind": "rs_instability", "branch": None, "x": [1.0, 1.2], "y": [0.01, 1.0]}])
    backend = matplotlib.get_backend()
    fig = plot(ds, tmp_path / "r.svg")
    assert matplotlib.get_backend() == backend          # library code leaves pyplot's backend alone
    ax = fig.axes[0]
    assert r"\alpha" in ax.get_xlabel() and r"\lambda" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "made up" in labels and "RS instability (AT)" in labels
    assert ax.get_yscale() == "log"                     # a geometric grid is drawn on a log axis
    assert (tmp_path / "r.svg").read_text().lstrip().startswith("<?xml")


def test_netcdf_round_trip(tmp_path):
    ds = phase_diagram("ising-bayes", ("alpha", [1.0, 1.4]), ("flip", [0.0]), kinds=["first_order"])
    save(ds, tmp_path / "a.nc")
    back = load(tmp_path / "a.nc")
    assert back["converged"].dtype == bool and back["label"].values.tolist() == ds["label"].values.tolist()
    assert to_json(back) == to_json(ds)
    src = load_compiled("ising-bayes").source
    assert back.attrs["derivation_sha256"] == hashlib.sha256(src.encode()).hexdigest()
    assert back["phase"].attrs["flag_meanings"].split()[3] == "perfect_recovery_hard_metastable_partial_branch"
    # CF attributes on every coordinate and variable; the model's statement, enough to rebuild it
    for name in list(back.coords) + list(back.data_vars):
        assert back[name].attrs.get("long_name"), name
    for name in ("alpha", "flip", "q", "free_entropy", "generalization_error", "residual", "line_x"):
        assert back[name].attrs["units"] == "1", name
        assert back[name].attrs["long_name"] == cf_attrs(name)["long_name"], name     # the one table
    assert "units" not in back["converged"].attrs and "units" not in back["phase"].attrs
    doc = (Path(__file__).parents[1] / "derivations" / "ising-bayes.md").read_text()   # kept current by test_derivations
    assert "\n\\Phi_{\\rm RS} = " + back.attrs["free_entropy_latex"] + "\n" in doc
    model = load_model("ising-bayes")
    assert back.attrs["model_teacher"] == repr(model.teacher) == "Sign(flip=flip)"
    assert back.attrs["replica_version"] == replica_api.__version__
    assert back.attrs["model_key"] == model_key(model, "numpy", "main")
    assert model_from_attrs(back.attrs).name == "ising-bayes"


# -- bad input ------------------------------------------------------------------------------

BAD = [
    (["--x", "alpha=0.5:1:3", "--y", "alpha=0:1:2"], "both"),
    (["--x", "alpha=0.5:1:3", "--y", "temperature=0:1:2"], "temperature"),
    (["--x", "alpha=1:0.5:3", "--y", "flip=0:0.1:2"], "reversed"),
    (["--x", "alpha=0.5:1:3", "--y", "flip=0:0.9:2"], "flip"),
    (["--x", "alpha=0.5:1:3", "--y", "flip=0:0.1:2", "--set", "alpha=1"], "alpha"),
    (["--x", "alpha=0.5:1:3", "--y", "flip=0:0.1:2", "--workers", "2", "--scheduler", "tcp://x:1"], "not both"),
    (["--x", "alpha=0.5:1:3", "--y", "flip=0:0.1:2", "--plot", "p.txt"], ".png"),
    (["--x", "alpha=0.5:1:3", "--y", "flip=0:0.1:2", "--kinds", "nonsense"], "nonsense"),
]


@pytest.mark.parametrize("args, fragment", BAD, ids=[b[1] for b in BAD])
def test_bad_input_is_one_line_and_exit_2(args, fragment, capsys):
    with pytest.raises(SystemExit) as e:
        main.main(["phase-diagram", "ising-bayes", *args, "--quiet"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("replica: error: ") and fragment in err[0], err


def test_committee_diagram_over_integer_K(tmp_path):
    """A committee's hidden units K as the y axis (integer: no rows are inserted between values;
    the plot draws one band per K).  K = 1 is the Ising perceptron: its first-order line at the
    oracle's α_IT = 1.2446839899 (Györgyi 1990: 1.245); K = 2 with binary weights: the
    first-order transition at ≈ 1.6 (Aubin et al. 2018, Fig. 2 right; VALIDATION.md), the
    unspecialized phase below it and perfect recovery, hard (AMP's start stays on the partially
    specialized branch) up to the spinodal."""
    from replica.params import ParameterError
    ds = phase_diagram("committee-ising-bayes", x=("alpha", np.linspace(1.0, 2.4, 8)), y=("K", [1.0, 2.0]),
                       nodes=96)
    assert list(ds["K"].values) == [1.0, 2.0] and ds.attrs["y_integer"] == 1
    fo = {y: x for ln in lines(ds) if ln["kind"] == "first_order" for x, y in zip(ln["x"], ln["y"])}
    assert fo[1.0] == pytest.approx(oc.ising_bayes_first_order(), abs=1e-6)
    assert fo[2.0] == pytest.approx(1.6, abs=0.1)
    ph = ds["phase"].sel(K=2.0).values
    assert ph[0] == 8 and ph[-1] == 4          # unspecialized at α = 1, perfect at α = 2.4
    assert 3 in ph                             # hard between the first-order line and the spinodal
    plot(ds, path=tmp_path / "k.png")
    assert (tmp_path / "k.png").stat().st_size > 10_000
    with pytest.raises(ParameterError, match="integer"):
        phase_diagram("committee-ising-bayes", x=("K", [1.0, 2.0]), y=("alpha", [1.0, 2.0]))
