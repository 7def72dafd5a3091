"""One style for replica's figures: symbols for names, legends outside the data, distinct line
styles, wording per learning setting; the ``verify`` figure as a grid of labelled panels; the
trajectories of the dynamics (``replica dynamics --plot``, ``verify --plot`` of a dynamical
model); :func:`styled` and :func:`legend_outside` for figures made elsewhere (the gallery).

Figures are bare :class:`matplotlib.figure.Figure` objects (pyplot and its backend are left
alone, so inline notebook figures keep working); Jupyter displays a returned Figure inline, and
``Figure.savefig`` writes it.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
from matplotlib import rc_context
from matplotlib.ticker import NullFormatter, ScalarFormatter
from matplotlib.figure import Figure

__all__ = ["STYLE", "symbol", "axis_label", "styled", "legend_outside", "log_axes", "verify_figure", "break_at_jumps",
           "setting_words", "twolayer_figure", "trajectories_figure"]

#: rcParams of every replica figure (applied per figure, never globally)
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
         "lines.linewidth": 1.6, "errorbar.capsize": 2.5}

#: name -> mathtext symbol (parameters, order parameters, observables)
_SYMBOLS = {
    "alpha": r"\alpha", "flip": r"\epsilon", "T": "T", "kappa": r"\kappa", "lam": r"\lambda", "delta": r"\Delta",
    "K": "K", "q": "q", "m": "m", "Q": "Q", "chi": r"\chi", "q_hat": r"\hat q", "m_hat": r"\hat m",
    "q_d": "q_d", "q_a": "q_a", "generalization_error": r"\varepsilon_g", "training_error": r"\varepsilon_t",
    "training_loss": r"\ell_t", "free_entropy": r"\Phi", "entropy": "s", "mse": r"\mathrm{MSE}",
    "quadratic_error": r"\varepsilon_2", "capacity": r"\alpha_c", "sat": r"P_{\rm SAT}",
    "energy": "e", "t": "t", "delta2": r"\Delta_2", "deltap": r"\Delta_p",
}
#: name -> words in front of the symbol on an axis
_WORDS = {
    "alpha": "sample ratio", "flip": "label-flip probability", "T": "temperature", "kappa": "margin",
    "lam": "ridge", "delta": "noise variance", "K": "hidden units", "q": "overlap", "m": "teacher overlap",
    "Q": "norm", "generalization_error": "generalization error", "training_error": "training error",
    "training_loss": "training loss", "free_entropy": "free entropy", "entropy": "entropy", "mse": "weight error",
    "quadratic_error": "quadratic error", "sat": "fraction SAT", "energy": "energy per weight", "t": "time",
    "delta2": "matrix noise", "deltap": "tensor noise",
}


def symbol(name: str) -> str:
    """Mathtext of a name: ``alpha`` -> ``$\\alpha$``, ``generalization_error`` -> ``$\\varepsilon_g$``."""
    if name in _SYMBOLS:
        return f"${_SYMBOLS[name]}$"
    return name.replace("_", " ")


def axis_label(name: str) -> str:
    """Words and symbol: ``sample ratio $\\alpha$``."""
    words = _WORDS.get(name)
    return f"{words} {symbol(name)}" if words and name in _SYMBOLS else symbol(name)


@contextlib.contextmanager
def styled(nrows: int = 1, ncols: int = 1, figsize=(5.5, 3.6)):
    """``(fig, axes)``: a :class:`Figure` in :data:`STYLE` (constrained layout) and its axes as a
    flat array; draw inside the block, where the style applies to the artists made."""
    with rc_context(STYLE):
        fig = Figure(figsize=figsize, layout="constrained")
        yield fig, np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()


def legend_outside(ax, **kw) -> None:
    """The axes' legend to the right of its data (nothing when no artist is labelled)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, **kw)


def log_axes(ax, xticks=None) -> None:
    """Both axes of ``ax`` logarithmic; ``xticks`` (when given) written as plain numbers
    (0.5, 1, 2, ...), without minor labels."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    if xticks is not None:
        ax.set_xticks(list(xticks))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())


def setting_words(learning_kind: str) -> dict:
    """Wording of a learning setting for legends: what the theory curve and the student are."""
    return {
        "bayes-optimal": {"theory": "Bayes-optimal theory (RS)", "student": "AMP"},
        "finite-temperature": {"theory": "Gibbs learning, RS theory", "student": "Monte Carlo"},
        "zero-temperature": {"theory": "ERM, RS theory", "student": "ERM"},
        "storage": {"theory": "capacity (RS)", "student": "solver"},
    }.get(learning_kind, {"theory": "RS theory", "student": "simulation"})


def break_at_jumps(x, y, factor: float = 8.0, share: float = 0.05):
    """(x, y) with NaN inserted where the curve jumps: a step more than ``factor`` times the
    median of its nonzero steps and more than ``share`` of its range (a discontinuity, such as
    the first-order jump of an overlap, is drawn as a gap, not as a steep line)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 3:
        return x, y
    dy = np.abs(np.diff(y))
    moving = dy[np.isfinite(dy) & (dy > 1e-12)]
    if moving.size == 0:
        return x, y
    span = np.nanmax(y) - np.nanmin(y)
    cut = np.isfinite(dy) & (dy > factor * np.median(moving)) & (dy > share * span)
    idx = np.flatnonzero(cut) + 1
    return np.insert(x, idx, np.nan), np.insert(y, idx, np.nan)


def verify_figure(doc: dict, curves: dict | None = None, *, title: str | None = None,
                  kind: str | None = None, ncols: int | None = None) -> Figure:
    """The ``verify`` document as a grid of panels, one per observable: the theory as a line
    (``curves``: observable -> (x, y), gaps at discontinuities), the simulations as
    points with error bars, disagreements marked and named in the legend (below the panels)."""
    from matplotlib.lines import Line2D
    sweep = doc["sweep"]
    names = sorted({r["observable"] for r in doc["points"]})
    words = setting_words(kind or "")
    cols = max(1, min(ncols or (2 if len(names) == 4 else 3), len(names)))
    rows = math.ceil(len(names) / cols)
    with rc_context(STYLE):
        fig = Figure(figsize=(3.3 * cols, 2.6 * rows + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        sizes = doc.get("sizes") or []
        sim_label = (f"{words['student']}, N → ∞ from N = {', '.join(str(n) for n in sizes)}" if len(sizes) > 1
                     else f"{words['student']}, N = {sizes[0] if sizes else '?'}")
        handles = {}
        for ax, obs in zip(axes, names):
            pts = [r for r in doc["points"] if r["observable"] == obs]
            if curves and obs in curves:
                bx, by = break_at_jumps(*curves[obs])
                (h,) = ax.plot(bx, by, "-", color="C0", zorder=2)
                handles.setdefault(words["theory"], h)
            for status, style in (("agree", dict(fmt="o", color="C2")), ("disagree", dict(fmt="X", color="C3", ms=8)),
                                  ("inconclusive", dict(fmt="s", color="0.5", mfc="none"))):
                sel = [r for r in pts if _status(r) == status and r["mean"] is not None]
                if not sel:
                    continue
                h = ax.errorbar([r[sweep] for r in sel], [r["mean"] for r in sel],
                                yerr=[0.0 if r["stderr"] is None else r["stderr"] for r in sel],
                                zorder=3, **style)
                seeds = sel[0].get("seeds")
                handles.setdefault(f"{sim_label}, {seeds} seeds: {status}" if status != "agree"
                                   else f"{sim_label}, {seeds} seeds", h)
            ax.set_xlabel(axis_label(sweep))
            ax.set_ylabel(axis_label(obs))
        for ax in axes[len(names):]:
            ax.set_visible(False)
        fixed = ", ".join(f"{symbol(k)} = {v:g}" for k, v in doc["parameters"].items()
                          if k != sweep and not isinstance(v, list))
        verdict = doc.get("verdict", "agree" if doc.get("agree") else "disagree")
        fig.suptitle(title or f"{doc['model']}: simulations {verdict} with the theory" + (f" ({fixed})" if fixed else ""))
        fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
                   ncols=min(3, len(handles)), frameon=False)
        if not handles:
            fig.legend([Line2D([], [])], ["no points"], loc="outside lower center")
    return fig


def _status(r) -> str:
    s = r.get("status")
    if s in ("agree", "disagree", "inconclusive"):
        return s
    return "agree" if r.get("agree") else "disagree"


def twolayer_figure(run) -> Figure:
    """A two-layer run (:class:`sims.twolayer.TwoLayerRun`) in two labelled panels: the
    generalization error (closed form, mean over instances with its standard error as a band,
    log scale) and the matched student-teacher overlaps R, against α (online SGD: steps/N) or
    the steps taken (GD)."""
    eg = np.asarray(run.eg, float)
    online = np.ndim(run.alpha) > 0
    x = np.asarray(run.alpha, float) if online else np.asarray(run.steps, float)
    S = eg.shape[0]
    p = run.params
    K, M = p.get("K", run.Q.shape[-1]), p.get("M", run.T.shape[-1])
    with rc_context(STYLE):
        fig = Figure(figsize=(8.2, 3.4), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        mean = eg.mean(axis=0)
        se = eg.std(axis=0, ddof=1) / np.sqrt(S) if S > 1 else np.zeros_like(mean)
        a1.plot(x, mean, color="C0", label=f"mean of {S} instances")
        a1.fill_between(x, np.clip(mean - se, 1e-300, None), mean + se, color="C0", alpha=0.25, lw=0,
                        label="± standard error")
        a1.set_yscale("log")
        a1.set_ylabel(axis_label("generalization_error"))
        Rm = np.asarray(run.matched_R(), float)
        styles = ["-", "--", "-.", ":"]
        for k in range(Rm.shape[-1]):
            a2.plot(x, Rm[:, :, k].mean(axis=0), styles[k % 4], color=f"C{k}", label=f"$R_{{{k + 1}}}$ (matched unit {k + 1})")
        a2.set_ylabel("student-teacher overlap $R$")
        xlabel = r"training time $\alpha$ = steps/$N$" if online else "GD steps"
        for ax in (a1, a2):
            ax.set_xlabel(xlabel)
            legend_outside(ax)
        what = "online SGD" if online else f"full-batch GD, $\\alpha$ = {float(run.alpha):g}"
        eta = f", $\\eta$ = {p['eta']:g}" if online and "eta" in p else ""
        fig.suptitle(f"Committee student (K = {K}) learning a committee teacher (M = {M}): {what}{eta}, "
                     f"N = {p.get('n', '?')}")
    return fig


def trajectories_figure(t, curves: dict, *, points: dict | None = None, title: str = "",
                        simulation: str = "simulation") -> Figure:
    """The dynamics: one labelled panel per observable, ``curves`` name -> theory values on ``t``
    (a line), ``points`` name -> (t, mean, stderr) simulation points with error bars (labelled
    ``simulation``); the legend below the panels."""
    names = list(curves)
    with styled(1, len(names), figsize=(max(6.4, 3.6 * len(names) + 0.4), 3.4)) as (fig, axes):
        handles = {}
        for ax, name in zip(axes, names):
            (handles["theory (N → ∞)"],) = ax.plot(t, curves[name], color="C0", zorder=2)
            if points and name in points and len(points[name]) and len(points[name][0]):
                tp, mean, se = points[name]
                handles[simulation] = ax.errorbar(tp, mean, yerr=se, fmt="o", color="C1", ms=4, zorder=3)
            ax.set_xlabel(axis_label("t"))
            ax.set_ylabel(axis_label(name))
        fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncols=len(handles) if len(names) > 1 else 1, frameon=False)
        if title:
            fig.suptitle(title)
    return fig
