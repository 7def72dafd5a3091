"""Publication plots of a phase diagram (matplotlib, mathtext: no LaTeX installation needed).

Phases are filled regions bounded by the located transition lines (:func:`regions`: the per-point
phase code of the equilibrium branch says which phase lies between two lines; the boundary is the
root-found line, not the grid's cells) — or, with ``color=<variable>`` or for theories with a
single branch, a heat map of an observable — and each traced transition line is drawn on top in
the style of its kind.  Titles come from the model's description; the legend sits right of the
axes, outside the data.
"""
from __future__ import annotations


import re
import textwrap

import numpy as np

from .dataset import PHASES, lines as _lines

__all__ = ["plot", "regions", "bands", "SYMBOLS", "LINE_STYLES", "PHASE_COLORS"]

#: axis labels of the usual parameters (mathtext); others are typeset as the name in italics
SYMBOLS = {
    "alpha": r"sample ratio $\alpha = P/N$",
    "flip": r"label-flip probability $\epsilon$",
    "T": r"temperature $T$",
    "kappa": r"margin $\kappa$",
    "lam": r"ridge $\lambda$",
    "delta": r"noise variance $\Delta$",
    "K": r"hidden units $K$",
}

#: variable name -> label for colour bars
QUANTITIES = {
    "generalization_error": r"generalization error $\varepsilon_g$",
    "mse": r"MSE $\frac{1}{N}\|\hat w - w^*\|^2$",
    "free_entropy": r"free entropy $\Phi$",
    "entropy": r"entropy $s$",
    "training_error": r"training error $\varepsilon_t$",
    "training_loss": "training loss",
    "q": r"overlap $q$",
    "m": r"overlap $m$",
    "q_diag": r"overlap $q_{kk}$",
    "quadratic_error": r"$\frac{1}{2}\mathbb{E}(y-\hat y)^2$",
}

#: line style of each kind (kinds not listed get the next style of ``_EXTRA``)
LINE_STYLES = {
    "first_order": dict(color="black", ls="-", lw=2.0, label="first-order transition"),
    "spinodal": dict(color="#b2182b", ls="--", lw=1.8, label="spinodal (end of the uninformed branch)"),
    "weak_recovery": dict(color="#2166ac", ls="-.", lw=1.8, label="weak recovery"),
    "capacity": dict(color="black", ls="-", lw=2.2, label=r"capacity $\alpha_c$"),
    "q_to_one": dict(color="0.45", ls=":", lw=1.6, label=r"RS $q \to 1$ (not the capacity)"),
    "rs_instability": dict(color="#1b7837", ls=":", lw=2.0, label="RS instability (AT)"),
    "specialization": dict(color="#762a83", ls="-.", lw=2.0, label="specialization"),
}
_EXTRA = [dict(color=c, ls=s, lw=1.8) for c, s in zip(
    ["#762a83", "#e08214", "#35978f", "#8c510a"], ["-", "--", "-.", ":"])]

_SPINODALS = [dict(color="#e08214", ls=(0, (1.5, 1.5)), lw=2.0), dict(color="#35978f", ls=(0, (6, 2, 1, 2)), lw=1.8),
              dict(color="#8c510a", ls=(0, (3, 3)), lw=1.8)]

#: fill colour of each phase code
PHASE_COLORS = {
    0: "#ffffff",
    1: "#d9d9d9",
    2: "#fddbc7",
    3: "#fee08b",
    4: "#d1e5f0",
    5: "#d9f0d3",
    6: "#f4cccc",
    7: "#eeeeee",
    8: "#f6e8c3",
    9: "#c7eae5",
}


def axis_label(name: str) -> str:
    if name in SYMBOLS:
        return SYMBOLS[name]
    import sympy as sp
    return f"${sp.latex(sp.Symbol(name))}$"


def _style(kind: str, branch, extra: dict) -> dict:
    if kind in LINE_STYLES:
        st = dict(LINE_STYLES[kind])
    else:
        if kind not in extra:
            extra[kind] = dict(_EXTRA[len(extra) % len(_EXTRA)], label=kind.replace("_", " "))
        st = dict(extra[kind])
    if branch and kind == "spinodal" and branch != "uninformed":
        key = f"spinodal:{branch}"             # one style per branch: two spinodals never look alike
        if key not in extra:
            n = sum(k.startswith("spinodal:") for k in extra)
            extra[key] = dict(_SPINODALS[n % len(_SPINODALS)], label=f"spinodal (end of the {branch} branch)")
        st = dict(extra[key])
    return st


def plot(ds, path=None, *, ax=None, color: str | None = None, log_x=None, log_y=None, log_color=None,
         title: str | None = None, legend_loc="outside"):
    """Draw the phase diagram ``ds`` (from :func:`replica.phase_diagram` or ``load``).

    color : None — phases as regions when the theory has several phases, else a heat map of
        ``generalization_error`` (or the free entropy); a variable name — its equilibrium value
        as a heat map.
    log_x, log_y, log_color : logarithmic axes / colour scale (default: log when the grid is
        geometric and positive).
    path : save the figure there (``.png`` at 200 dpi, ``.pdf``, ``.svg``).
    Returns the matplotlib Figure: with ``path`` and no ``ax`` a bare ``Figure`` saved with
    ``Figure.savefig`` (pyplot and its backend untouched, so inline notebook figures keep
    working); without ``path`` a pyplot figure, displayed inline in a notebook."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    xn, yn = ds.attrs["x"], ds.attrs["y"]
    X, Y = ds[xn].values, ds[yn].values
    if ax is None and path is not None:
        fig = Figure(figsize=(8.4, 4.4), layout="constrained")
        ax = fig.add_subplot()
    elif ax is None:
        fig, ax = plt.subplots(figsize=(8.4, 4.4), layout="constrained")
    else:
        fig = ax.figure
    # an integer y (the hidden units K of a committee): one band per value, transitions as marks
    y_int = bool(int(ds.attrs.get("y_integer", 0)))
    log_x = _geometric(X) if log_x is None else log_x
    log_y = (_geometric(Y) and not y_int) if log_y is None else log_y
    codes = ds["phase"].values
    if y_int and yn == "K" and np.any(Y == 1):        # one hidden unit: nothing to specialize
        codes = codes.copy()
        k1 = np.asarray(Y) == 1
        codes[k1] = np.where(np.isin(codes[k1], (8, 9)), 2, codes[k1])
    present = [c for c in sorted(PHASES) if np.any(codes == c)]
    handles = []
    heat = color is not None or set(present) <= {0, 7}
    if heat:
        eq = ds.sel(branch="equilibrium")
        name = color or ("generalization_error" if "generalization_error" in eq else "free_entropy")
        if name not in eq:
            raise ValueError(f"no variable {name!r} to colour by; have {sorted(eq.data_vars)}")
        Z = np.where(eq["converged"].values, eq[name].values, np.nan)
        positive = np.nanmin(Z) > 0 if np.isfinite(Z).any() else False
        use_log = positive and (np.nanmax(Z) / np.nanmin(Z) > 20) if log_color is None else log_color
        norm = LogNorm(np.nanmin(Z), np.nanmax(Z)) if use_log else None
        smooth = X.size > 1 and Y.size > 1 and not y_int     # a field: shaded between the grid points, no cells
        mesh = ax.pcolormesh(X, Y, Z, shading="gouraud" if smooth else "nearest", cmap="viridis", norm=norm,
                             rasterized=True)
        fig.colorbar(mesh, ax=ax, label=QUANTITIES.get(name, name.replace("_", " ")))
        if np.any(codes == 0) and not set(present) <= {0}:
            handles.append(Patch(facecolor="white", edgecolor="0.5", label="not converged"))
    elif y_int and X.size > 1:           # one band per integer y, filled between the marks of its row
        for code, y, left, right in bands(X, Y, codes, _lines(ds)):
            ax.fill_between([left, right], y - 0.5, y + 0.5, facecolor=PHASE_COLORS[code],
                            edgecolor=PHASE_COLORS[code], lw=0.4, zorder=1)
        handles += [Patch(facecolor=PHASE_COLORS[c], edgecolor="0.6", label=_phase_name(c, ds)) for c in present]
    elif y_int or Y.size < 2 or X.size < 2:
        cmap = ListedColormap([PHASE_COLORS[c] for c in sorted(PHASES)])
        norm = BoundaryNorm(np.arange(len(PHASES) + 1) - 0.5, cmap.N)
        ax.pcolormesh(X, Y, codes, shading="nearest", cmap=cmap, norm=norm, rasterized=True)
        handles += [Patch(facecolor=PHASE_COLORS[c], edgecolor="0.6", label=_phase_name(c, ds)) for c in present]
    else:
        for code, ys_, left, right in regions(X, Y, codes, _lines(ds)):
            # edges in the face colour: no hairline seam where two pieces of one region meet
            ax.fill_betweenx(ys_, left, right, facecolor=PHASE_COLORS[code], edgecolor=PHASE_COLORS[code], lw=0.4,
                             zorder=1)
        handles += [Patch(facecolor=PHASE_COLORS[c], edgecolor="0.6", label=_phase_name(c, ds)) for c in present]
    extra, seen = {}, set()
    for line in _lines(ds):
        st = _style(line["kind"], line.get("branch"), extra)
        label = st.pop("label")
        x, y = np.asarray(line["x"]), np.asarray(line["y"])
        if y_int:
            for xi, yi in zip(x, y):
                ax.plot([xi, xi], [yi - 0.42, yi + 0.42], **st, zorder=3)
        else:
            ax.plot(x, y, **st, marker="o" if len(x) == 1 else None, ms=4, zorder=3)
        if label not in seen:
            seen.add(label)
            handles.append(Line2D([], [], **st, label=label))
    ax.set_xlim(X[0], X[-1]) if X.size > 1 else None
    if y_int:
        ax.set_ylim(Y[0] - 0.5, Y[-1] + 0.5)
        ax.set_yticks(Y)
    elif Y.size > 1:
        ax.set_ylim(Y[0], Y[-1])
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(axis_label(xn))
    ax.set_ylabel(axis_label(yn))
    fixed = {k: v for k, v in _params(ds).items()}
    sub = ", ".join(f"{axis_label(k).split(' ')[-1] if k in SYMBOLS else k} = {v:g}" for k, v in fixed.items())
    if title is None:
        desc = ds.attrs.get("description") or ds.attrs["model"]
        title = _greek(desc[0].upper() + desc[1:]) + (f" ({sub})" if sub else "")
    ax.set_title(textwrap.fill(title, 70), fontsize=10)
    if handles:
        if legend_loc == "outside":          # right of the axes: never over the data
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                      fontsize=8, frameon=False)
        else:
            ax.legend(handles=handles, loc=legend_loc, fontsize=8, framealpha=0.9)
    if path is not None:
        fig.savefig(path, dpi=200)
    return fig



#: words of a model's description written as their symbols in a title
_GREEK = {"alpha": "α", "kappa": "κ", "lambda": "λ", "Delta": "Δ", "delta": "Δ", "epsilon": "ε", "rho": "ρ"}


def _greek(text: str) -> str:
    """``text`` with the spelled-out Greek parameter names as letters (``margin kappa`` -> ``margin κ``)."""
    return re.sub(r"\b(%s)\b" % "|".join(_GREEK), lambda m: _GREEK[m.group(1)], text)

def _phase_name(code: int, ds) -> str:
    """A phase's legend entry in the words of the model's learning setting."""
    kind = ds.attrs.get("theory_kind", "")
    if kind == "finite-temperature" and code in (2, 3, 4):
        return {2: "poor generalization (q < 1)", 3: "perfect generalization, metastable q < 1 branch",
                4: "perfect generalization (q = 1)"}[code]
    return PHASES[code]


def _edges(X, row, at_y, line_list):
    """Cell edges along x of one row of phase codes: the x of a located line crossing between
    two cells of different phase (the nearest point of a line at this y), else the midpoint."""
    xs_lines = [np.interp(at_y, *_sorted(l)) for l in line_list
                if len(l["y"]) and min(l["y"]) - 1e-12 <= at_y <= max(l["y"]) + 1e-12]
    segs, start = [], 0
    edges = [X[0]]
    for i in range(len(row) - 1):
        if row[i] != row[i + 1]:
            inside = [x for x in xs_lines if X[i] <= x <= X[i + 1]]
            edges.append(min(inside, key=lambda x: abs(x - (X[i] + X[i + 1]) / 2)) if inside else (X[i] + X[i + 1]) / 2)
            segs.append(int(row[start]))
            start = i + 1
    segs.append(int(row[start]))
    edges.append(X[-1])
    return segs, edges


def bands(X, Y, codes, line_list):
    """The phases of an integer y (one band per value) as (code, y, left, right) pieces: along
    each row, a boundary at the located transition between two cells of different phase (its
    mark at that y), else half-way between them."""
    out = []
    for j, y in enumerate(Y):
        segs, edges = _edges(X, codes[j], y, line_list)
        out += [(code, y, left, right) for code, left, right in zip(segs, edges[:-1], edges[1:])]
    return out


def regions(X, Y, codes, line_list):
    """The phase regions as (code, y, left(y), right(y)) pieces for ``fill_betweenx``: rows with
    the same sequence of phases along x are joined, each boundary following the located line
    that separates the two phases there (at every y it was located, refinement rows included)
    rather than the grid's cells; where the sequence changes from one row to the next, the
    regions meet half-way between the rows."""
    rows = [_edges(X, codes[j], Y[j], line_list) for j in range(len(Y))]
    out, j = [], 0
    while j < len(Y):
        k = j
        while k + 1 < len(Y) and rows[k + 1][0] == rows[j][0]:
            k += 1
        lo = Y[0] if j == 0 else (Y[j - 1] + Y[j]) / 2
        hi = Y[-1] if k == len(Y) - 1 else (Y[k] + Y[k + 1]) / 2
        ys_rows = np.asarray(Y[j:k + 1], float)
        extra = sorted({y for l in line_list for y in l["y"] if lo < y < hi})
        ys_ = np.unique(np.concatenate([[lo, hi], ys_rows, extra]))
        segs = rows[j][0]
        for s, code in enumerate(segs):
            left = _boundary(ys_, ys_rows, [rows[r][1][s] for r in range(j, k + 1)], line_list, s == 0, X[0])
            right = _boundary(ys_, ys_rows, [rows[r][1][s + 1] for r in range(j, k + 1)], line_list,
                              s == len(segs) - 1, X[-1])
            out.append((code, ys_, left, right))
        j = k + 1
    return out


def _boundary(ys_, ys_rows, xs_rows, line_list, edge, x_edge):
    """One boundary over ``ys_``: the axis edge, the located line it lies on (the same line at
    every row), else the per-row positions interpolated."""
    if edge:
        return np.full(ys_.shape, x_edge)
    for l in line_list:
        ly, lx = _sorted(l)
        if ly.size < 2:
            continue
        if ly[0] <= ys_rows[0] + 1e-12 and ly[-1] >= ys_rows[-1] - 1e-12 and np.allclose(
                np.interp(ys_rows, ly, lx), xs_rows, rtol=0, atol=1e-12):
            return np.interp(ys_, ly, lx)
    return np.interp(ys_, ys_rows, xs_rows)


def _sorted(line):
    """A line's (y, x) points in increasing y."""
    ly, lx = np.asarray(line["y"], float), np.asarray(line["x"], float)
    order = np.argsort(ly, kind="stable")
    return ly[order], lx[order]


def _params(ds) -> dict:
    import json
    return json.loads(ds.attrs.get("parameters_json", "{}"))


def _geometric(v) -> bool:
    """Whether v (increasing, > 2 points) is a geometric progression of positive numbers."""
    v = np.asarray(v, float)
    if v.size < 3 or np.any(v <= 0):
        return False
    r = v[1:] / v[:-1]
    return bool(np.allclose(r, r[0], rtol=1e-9) and not np.isclose(r[0], 1.0))
