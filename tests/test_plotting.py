"""One plotting style (replica.plotting, replica.phase.plot): regions bounded by the located
lines, gaps at jumps, verify panels with symbols and disagreements in the legend."""
import numpy as np

from replica.phase.plot import bands, regions
from replica.plotting import STYLE, break_at_jumps, trajectories_figure, verify_figure


def test_regions_follow_the_located_line_not_the_cells():
    X, Y = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.5, 1.0])
    codes = np.array([[1, 1, 4, 4]] * 3)
    line = {"kind": "first_order", "branch": None, "x": [1.3, 1.45, 1.7, 1.6], "y": [0.0, 0.25, 1.0, 0.5]}
    pieces = regions(X, Y, codes, [line])
    assert [p[0] for p in pieces] == [1, 4]
    (_, ys, left, right), (_, ys4, left4, right4) = pieces
    assert 0.25 in ys                                   # a refinement row of the line is a vertex too
    order = np.argsort(line["y"])
    expect = np.interp(ys, np.array(line["y"])[order], np.array(line["x"])[order])
    assert np.allclose(right, expect) and np.allclose(left4, expect)      # on the line, not at x = 1.5
    assert np.all(left == 0.0) and np.all(right4 == 3.0)


def test_regions_meet_half_way_where_no_line_was_traced():
    X, Y = np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0])
    codes = np.array([[1, 2, 2], [1, 1, 1]])
    pieces = regions(X, Y, codes, [])
    assert [(p[0], p[1].min(), p[1].max()) for p in pieces] == [(1, 0.0, 0.5), (2, 0.0, 0.5), (1, 0.5, 1.0)]
    assert np.allclose(pieces[0][3], 0.5) and np.allclose(pieces[1][2], 0.5) and np.allclose(pieces[2][3], 2.0)


def test_a_jump_is_a_gap():
    x = np.linspace(0, 1, 11)
    y = np.where(x < 0.55, 0.5 * x, 1.0)
    bx, by = break_at_jumps(x, y)
    gap = np.flatnonzero(np.isnan(by))
    assert len(gap) == 1 and np.isclose(bx[gap[0] - 1], 0.5) and np.isclose(bx[gap[0] + 1], 0.6)


def test_verify_panels_name_symbols_and_disagreements():
    pts = [{"alpha": a, "observable": o, "mean": m, "stderr": 0.01, "seeds": 4, "status": s, "agree": s == "agree"}
           for a, o, m, s in [(0.5, "q", 0.2, "agree"), (1.0, "q", 0.9, "disagree"),
                              (0.5, "generalization_error", 0.3, "agree"), (1.0, "generalization_error", 0.1, "agree")]]
    doc = {"model": "demo", "sweep": "alpha", "sizes": [200], "parameters": {"alpha": [0.5, 1.0], "flip": 0.0},
           "verdict": "disagree", "points": pts}
    fig = verify_figure(doc, {"q": (np.linspace(0.4, 1.1, 8), np.linspace(0.1, 1.0, 8))}, kind="bayes-optimal")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    assert {ax.get_xlabel() for ax in axes} == {r"sample ratio $\alpha$"}
    assert {ax.get_ylabel() for ax in axes} == {"overlap $q$", r"generalization error $\varepsilon_g$"}
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Bayes-optimal theory (RS)" in labels and any(lab.endswith(": disagree") for lab in labels)


def test_trajectories_panels_in_the_one_style():
    """The dynamics' figure (replica dynamics / verify --plot) comes from replica.plotting: one
    labelled panel per observable, the legend outside the panels, STYLE applied, pyplot untouched."""
    import matplotlib
    backend = matplotlib.get_backend()
    t = np.linspace(0, 2, 21)
    fig = trajectories_figure(t, {"m": t / 2, "energy": -t}, points={"m": (np.array([1.0]), np.array([0.5]),
                                                                            np.array([0.02]))},
                              simulation="gradient flow, N = 200, 4 seeds", title="demo")
    assert [ax.get_ylabel() for ax in fig.axes] == ["teacher overlap $m$", "energy per weight $e$"]
    assert {ax.get_xlabel() for ax in fig.axes} == {"time $t$"}
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["theory (N → ∞)", "gradient flow, N = 200, 4 seeds"]
    assert not fig.axes[0].spines["top"].get_visible() and fig.axes[0].lines[0].get_linewidth() == STYLE["lines.linewidth"]
    assert matplotlib.get_backend() == backend


def test_integer_bands_end_at_the_marks_of_their_row():
    X, Y = np.array([1.0, 1.1, 1.2, 1.3]), np.array([1.0, 2.0])
    codes = np.array([[1, 1, 3, 4], [8, 8, 8, 3]])
    marks = [{"kind": "first_order", "branch": None, "x": [1.13, 1.26], "y": [1.0, 2.0]},
             {"kind": "spinodal", "branch": "uninformed", "x": [1.21], "y": [1.0]}]
    assert bands(X, Y, codes, marks) == [(1, 1.0, 1.0, 1.13), (3, 1.0, 1.13, 1.21), (4, 1.0, 1.21, 1.3),
                                         (8, 2.0, 1.0, 1.26), (3, 2.0, 1.26, 1.3)]
