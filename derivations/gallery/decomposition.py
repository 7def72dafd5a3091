"""``decomposition.png``: the double-descent curve of ridge on ReLU random features (α = 1.5,
λ = 0.01, Δ = 0.1) and its decomposition against ψ = N/D — bias², the variances due to
sampling, initialization (the draw of F) and noise (d'Ascoli et al. 2020's order) and the error of
the infinite ensemble over F — theory (replica.features.decomposition, lines) against the direct
measurement (sims/decomposition.py, D = 100, students with shared/independent X, F, ε; points
with error bars).  Run in this folder: ``python decomposition.py``.
"""
from __future__ import annotations

import numpy as np
import torch

from replica.features.decomposition import decomposition
from replica.plotting import legend_outside, log_axes, styled
from sims.decomposition import measure_decomposition

FIXED = {"alpha": 1.5, "lam": 0.01, "delta": 0.1}
SHOW = [("generalization_error", "test error", "k"), ("bias2", "bias²", "C0"), ("var_sampling", "var. sampling", "C1"),
        ("var_init", "var. initialization", "C2"), ("var_noise", "var. noise", "C3"),
        ("ensemble_error", "ensemble (K → ∞)", "C4")]


def main(path="decomposition.png"):
    torch.set_num_threads(1)
    psi = np.geomspace(0.2, 8, 150)
    d = decomposition("random-features", {**FIXED, "psi": psi})
    with styled(figsize=(7.8, 4.2)) as (fig, (ax,)):
        for key, label, color in SHOW:
            ax.plot(psi, d[key], color=color, label=label, lw=1.6 if key == "generalization_error" else 1.2)
        for p in (0.4, 0.8, 2.5, 5.0):
            r = measure_decomposition("random-features", {**FIXED, "psi": p}, n=100, teachers=12, test=1500)
            for key, _, color in SHOW:
                ax.errorbar(p, r["mean"][key], yerr=r["stderr"][key], fmt="o", ms=3.5, color=color, capsize=2)
        ax.axvline(FIXED["alpha"], color="0.6", ls=":", lw=0.8)
        log_axes(ax, [0.2, 0.5, 1, 2, 5])
        ax.set_ylim(5e-3, 3)
        ax.set_xlabel("feature ratio ψ = N/D")
        ax.set_ylabel("error")
        ax.set_title("ReLU random features, ridge: α = 1.5, λ = 0.01, Δ = 0.1\nlines: theory; points: simulation, D = 100")
        legend_outside(ax)
    fig.savefig(path, dpi=130)


if __name__ == "__main__":
    main()
