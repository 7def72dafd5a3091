"""``ensemble.png``: ensembles of K ridge students on ReLU random features, each with its own draw
of F, all trained on the same data and labels (α = 1.5, λ = 0.01, Δ = 0.1).  Left: the test error
of the ensemble average against ψ = N/D for K = 1, 2, 5, 20 and K → ∞; right: against K at three
values of ψ, E_K = E_∞ + (E_1 − E_∞)/K.  Theory (lines): :func:`replica.features.decomposition.ensemble_error`
from the two-student overlaps (d'Ascoli et al. 2020: averaging over feature draws removes the
variance due to initialization, and with it the peak near ψ = α, but not the sampling and noise
parts); points: ensembles trained and averaged directly (:func:`sims.decomposition.measure_ensemble`,
D = 100, real ReLU features, error bars over 16 teachers and data sets).
Run in this folder: ``python ensemble.py``.
"""
from __future__ import annotations

import numpy as np
import torch

from replica.features.decomposition import decomposition, ensemble_error
from replica.plotting import legend_outside, log_axes, styled
from sims.decomposition import measure_ensemble

FIXED = {"alpha": 1.5, "lam": 0.01, "delta": 0.1}
KS = (1, 2, 5, 20)
COLORS = {1: "k", 2: "C0", 5: "C1", 20: "C2", np.inf: "C3"}


def main(path="ensemble.png"):
    torch.set_num_threads(1)
    psi = np.geomspace(0.2, 8, 150)
    d = decomposition("random-features", {**FIXED, "psi": psi})
    with styled(1, 2, figsize=(11, 4.4)) as (fig, (ax, bx)):
        for K in (*KS, np.inf):
            label = "K → ∞" if np.isinf(K) else f"K = {K}"
            ax.plot(psi, ensemble_error(d, K), color=COLORS[K], lw=1.4, label=label)
        sims = {}
        for p in (0.4, 1.0, 1.5, 3.0, 6.0):
            sims[p] = measure_ensemble("random-features", {**FIXED, "psi": p}, n=100, teachers=16, K=KS, test=1500)
            for k, K in enumerate(KS):
                ax.errorbar(p, sims[p]["mean"][k], yerr=sims[p]["stderr"][k], fmt="o", ms=3.5, color=COLORS[K], capsize=2)
        ax.axvline(FIXED["alpha"], color="0.6", ls=":", lw=0.8)
        log_axes(ax, [0.2, 0.5, 1, 2, 5])
        ax.set_xlabel("feature ratio ψ = N/D")
        ax.set_ylabel("test error of the ensemble")
        ax.legend(frameon=False)
        ax.set_title("against ψ")
        Kline = np.geomspace(1, 30, 100)
        for p, c in zip((0.4, 1.5, 6.0), ("C4", "C5", "C6")):
            dp = decomposition("random-features", {**FIXED, "psi": p})
            bx.plot(Kline, ensemble_error(dp, Kline), color=c, lw=1.4, label=f"ψ = {p}")
            bx.axhline(float(dp["ensemble_error"]), color=c, ls="--", lw=0.8)
            bx.errorbar(KS, sims[p]["mean"], yerr=sims[p]["stderr"], fmt="o", ms=3.5, color=c, capsize=2)
        log_axes(bx, [1, 2, 5, 10, 20])
        bx.set_xlabel("K (students averaged)")
        bx.set_title("against K (dashed: K → ∞)")
        legend_outside(bx)
        fig.suptitle("Ensembles over feature draws, ReLU random features, ridge: α = 1.5, λ = 0.01, Δ = 0.1\n"
                     "lines: theory (two-student overlaps); points: simulation, D = 100")
    fig.savefig(path, dpi=130)


if __name__ == "__main__":
    main()
