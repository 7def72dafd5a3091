"""Random-features figures of the gallery (and ``digits.png``: the digits learning curve, theory
against held-out ridge fits) (run in this folder: ``python features.py``).

* ``double-descent.png``: ridge on ReLU random features, test error against ψ = N/D at α = P/D = 1.5
  for several ridges, theory (the Gaussian covariate model, replica.features) with simulation
  points (sims/features.py, D = 200, 6 instances) at the smallest ridge;
* ``triple-descent.png``: the (ψ, α) map of the test error at small ridge and noise — the linear
  peak at α = 1 and the nonlinear one at ψ = α, for a nearly linear activation (d'Ascoli, Sagun & Biroli 2020).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

import replica
from replica import Model, channels, learning, losses, priors
from replica.features import RandomFeatures
from replica.plotting import legend_outside, styled
from replica.solve import solve
from sims.measure import summarize
from sims.realdata import digits_model, digits_problem, ridge_learning_curve
from sims.verify import simulate_point


def double_descent(path="double-descent.png"):
    c = replica.derive("random-features").compile()
    psi = np.geomspace(0.1, 10, 120)
    with styled(figsize=(7.8, 3.8)) as (fig, (ax,)):
        for lam in (1e-4, 1e-2, 1e-1):
            sol = solve(c, {"alpha": 1.5, "psi": psi, "lam": lam, "delta": 0.1})
            err = np.where(sol.converged, sol["generalization_error"], np.nan)
            ax.plot(psi, err, label=f"theory, λ = {lam:g}")
        pts = np.array([0.3, 0.7, 1.0, 2.0, 3.0, 6.0])
        means, ses = [], []
        for p in pts:
            r = simulate_point("random-features", {"alpha": 1.5, "psi": float(p), "lam": 1e-4, "delta": 0.1}, 200, 6)
            m, se, _ = summarize(r["observables"]["generalization_error"], r["converged"])
            means.append(m), ses.append(se)
        ax.errorbar(pts, means, yerr=ses, fmt="o", color="C0", label="simulation, λ = 1e-4 (D = 200)")
        ax.axvline(1.5, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log"), ax.set_yscale("log")
        ax.set_xlabel("feature ratio ψ = N/D"), ax.set_ylabel("test error E(ŷ − f*)²")
        ax.set_title("ReLU random features, ridge, α = 1.5, Δ = 0.1")
        legend_outside(ax)
    fig.savefig(path, dpi=130)


def triple_descent(path="triple-descent.png"):
    # a nearly linear activation (μ*/μ₁ = 0.1·√2): its small implicit ridge leaves the linear peak
    x = sp.Symbol("x")
    model = Model(prior=priors.Gaussian(1), teacher=channels.Linear(noise="delta"),
                  learning=learning.ERM(losses.Square(), ridge="lam"),
                  features=RandomFeatures(x + x**2 / 10), name="rf-quadratic")
    c = replica.derive(model).compile()
    psi = np.geomspace(0.1, 10, 90)
    alpha = np.geomspace(0.1, 10, 90)
    P, A = np.meshgrid(psi, alpha)
    sol = solve(c, {"alpha": A.ravel(), "psi": P.ravel(), "lam": 1e-4, "delta": 0.3})
    err = np.where(sol.converged, sol["generalization_error"], np.nan).reshape(P.shape)
    with styled(figsize=(5.2, 4.6)) as (fig, (ax,)):
        im = ax.pcolormesh(P, A, np.log10(err), shading="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label="log₁₀ test error")
        ax.plot(psi, psi, "--", color="C3", lw=0.8, label="ψ = α (nonlinear peak)")
        ax.axhline(1.0, color="C1", ls=":", lw=1.2, label="α = 1 (linear peak)")
        ax.set_xscale("log"), ax.set_yscale("log")
        ax.set_xlabel("ψ = N/D"), ax.set_ylabel("α = P/D")
        ax.set_title("features σ(x) = x + x²/10, λ = 1e-4, Δ = 0.3")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, frameon=False)
    fig.savefig(path, dpi=130)


def digits(path="digits.png"):
    prob = digits_problem(n_features=128)
    c = replica.derive(digits_model(prob)).compile()
    dim, lam = prob["u"].shape[1], 0.5
    grid = np.geomspace(10, 1200, 80)
    sol = solve(c, {"alpha": grid / dim, "lam": lam, "delta": prob["delta"]})
    sizes = np.array([20, 40, 80, 160, 320, 640, 1000])
    mean, se = ridge_learning_curve(prob, sizes, lam, draws=20)
    with styled(figsize=(7.8, 3.8)) as (fig, (ax,)):
        ax.plot(grid, sol["generalization_error"] + prob["delta"], label="Gaussian covariate model")
        ax.errorbar(sizes, mean, yerr=se, fmt="o", label="ridge on digits, held-out (20 draws)")
        ax.set_xscale("log")
        ax.set_xlabel("training images P"), ax.set_ylabel("held-out error E(ŷ − y)²")
        ax.set_title("digits (even/odd), 128 ReLU random features, λ = 0.5")
        legend_outside(ax)
    fig.savefig(path, dpi=130)


if __name__ == "__main__":
    double_descent()
    triple_descent()
    digits()
