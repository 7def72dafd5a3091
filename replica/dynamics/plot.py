"""Figures of the dynamics: trajectories (theory lines, simulation points with error bars)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plot_trajectories"]


def plot_trajectories(path, t, curves: dict, *, title="", points=None, xlabel="t"):
    """One panel per observable: ``curves`` name -> values on ``t``; ``points`` name ->
    (t, mean, stderr) simulation points drawn with error bars."""
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(t, curves[name], lw=1.8, label="theory")
        if points and name in points:
            tp, mean, se = points[name]
            ax.errorbar(tp, mean, yerr=se, fmt="o", ms=4, capsize=3, label="simulation")
            ax.legend(frameon=False)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
