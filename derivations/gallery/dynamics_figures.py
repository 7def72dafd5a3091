"""The dynamics gallery (derivations/gallery/dynamics.md): run from the repository root,

    PYTHONPATH=. python derivations/gallery/dynamics_figures.py [OUTDIR]

writes saad-solla.png, spiked-phase.png, spiked-m.png, spiked-finite-n.png (from the saved runs in
data/) and spiked-aging.png (a few minutes on one core) and prints the numbers quoted in the note."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch

from replica.dynamics import (gradient_flow_threshold, gradient_flow_threshold_closed_form,
                              gradient_flow_threshold_from_rates, growth_rate, integrate_dmft, integrate_sgd,
                              static_thresholds)
from replica.plotting import legend_outside, styled
from sims.spiked import run_spiked, run_spiked_groups
from sims.twolayer import make_teacher, run_online_sgd

torch.set_num_threads(1)
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)


def _save(fig, name):
    fig.savefig(OUT / name, dpi=130)


def _label(ax, xlabel, ylabel, title=None, legend=True):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        legend_outside(ax)


def saad_solla():
    with styled(figsize=(7.6, 3.6)) as (fig, (ax,)):
        _saad_solla(ax)
        ax.set_yscale("log")
        _label(ax, r"training time $t$ = steps/$N$", r"generalization error $\varepsilon_g$",
               r"Online SGD of soft committees ($\eta$ = 0.5); dotted: the small-$\eta$ plateau")
    _save(fig, "saad-solla.png")


def _saad_solla(ax):
    for K, t_max, color in ((2, 60.0, "C0"), (3, 120.0, "C1")):
        N, S, eta = 200, 4, 0.5
        run = run_online_sgd(make_teacher(N, K, S, seed=3), K, eta, t_max, records=31, init_scale=0.1, n_test=2)
        ode = np.array([integrate_sgd(run.Q[s, 0], run.R[s, 0], run.T[s], eta, t_max, t_eval=run.alpha)
                        .generalization_error for s in range(S)])
        se = run.eg.std(0, ddof=1) / math.sqrt(S)
        ax.plot(run.alpha, ode.mean(0), color=color, label=f"ODE, K = M = {K}")
        ax.errorbar(run.alpha, run.eg.mean(0), yerr=se, fmt="o", ms=3, color=color,
                    label=f"SGD, K = M = {K}, N = {N}, {S} seeds")
        q, r = 1 / (2 * K - 1), 1 / math.sqrt(K * (2 * K - 1))
        asin = lambda c, a, b: math.asin(c / math.sqrt((1 + a) * (1 + b)))  # noqa: E731
        plateau = (K * K * asin(q, q, q) + K * asin(1, 1, 1) - 2 * K * K * asin(r, q, 1)) / math.pi
        ax.axhline(plateau, color=color, ls=":", lw=1)
        print(f"K = {K}: plateau eps_g = {plateau:.6f}")


def phase():
    dps = np.linspace(0.2, 4.0, 60)
    gf = [1 / gradient_flow_threshold_closed_form(d) for d in dps]
    it = [1 / static_thresholds(d)["information_theoretic"] for d in dps]
    with styled(figsize=(7.6, 3.6)) as (fig, (ax,)):
        _phase(ax, dps, gf, it)
        _label(ax, r"tensor noise $\Delta_p$", r"inverse matrix noise $1/\Delta_2$",
               "Spiked matrix-tensor, p = 3: recovery above each line")
    _save(fig, "spiked-phase.png")


def _phase(ax, dps, gf, it):
    ax.plot(dps, gf, label=r"gradient flow $1/\Delta_2^{GF}$ (closed form)")
    ax.plot(dps, [1.0] * len(dps), label="Bayes AMP ($\\Delta_2 = 1$)")
    ax.plot(dps, it, "--", label="information-theoretic")
    for dp in (0.5, 1.0, 2.0):
        c = gradient_flow_threshold_closed_form(dp)
        est = gradient_flow_threshold(dp, 3, m0=1e-3, t_max=40.0, h=0.1, tol=0.01 * c)
        print(f"deltap = {dp}: bisection, horizon 40: delta2_GF = {est['delta2']:.4f}, closed form {c:.4f}")
        ax.plot([dp], [1 / est["delta2"]], "v", color="k", ms=5,
                label="DMFT, m(0) = 1e-3 reaches 0.5 by t = 40" if dp == 0.5 else None)
        r = gradient_flow_threshold_from_rates(dp, 3, delta2s=(0.8 * c, 0.9 * c), t_max=40.0, h=0.1)
        print(f"deltap = {dp}: growth rate, horizon 40: delta2_GF = {r['delta2']:.4f} "
              f"({100 * (r['delta2'] - c) / c:+.2f} %), closed form {c:.4f}")
        ax.plot([dp], [1 / r["delta2"]], "s", color="C3", ms=5, mfc="none",
                label="DMFT, growth rate of m extrapolated (horizon 40)" if dp == 0.5 else None)


def growth():
    """λ(t) = d log m/dt at m(0) → 0⁺ (Richardson in h), Δ_p = 1, with the fits λ∞ + a t^(−γ)."""
    with styled(figsize=(8.2, 3.6)) as (fig, (ax,)):
        _growth(ax)
        ax.set_yscale("log")
        _label(ax, r"time $t$", r"$\lambda(t) = d \log m / dt$",
               r"Growth rate of m at m(0) $\to 0^+$, $\Delta_p$ = 1; dotted: fits on [20, 80], dashed: $\lambda_\infty$")
    _save(fig, "spiked-growth.png")


def _growth(ax):
    c = gradient_flow_threshold_closed_form(1.0)
    for f, color in ((0.8, "C0"), (0.9, "C1"), (1.0, "C2"), (1.1, "C3")):
        g = growth_rate(3, f * c, 1.0, t_max=80.0, h=0.1)
        t, lam = g["t"][10:], g["lambda"][10:]
        ax.plot(t, lam, color=color, label=f"$\\Delta_2$ = {f:.1f} $\\Delta_2^{{GF}}$: $\\lambda_\\infty$ = {g['rate']:.4f}, "
                f"$\\gamma$ = {g['gamma']:.2f}")
        tt = t[t >= 20]
        ax.plot(tt, g["fit"](tt), ":", color="k", lw=1)
        if g["rate"] > 0:            # a negative limit (no growth) has no place on the log axis
            ax.axhline(g["rate"], color=color, ls="--", lw=0.8)
        print(f"growth: delta2 = {f:.1f} x closed form: lambda_inf = {g['rate']:.5f}, gamma = {g['gamma']:.3f}")


def m_curves():
    with styled(1, 2, figsize=(9.4, 3.6)) as (fig, axes):
        _m_curves(axes)
        _label(axes[0], r"time $t$", r"teacher overlap $m(t)$", legend=False)
        _label(axes[1], r"time $t$", "energy per weight $e(t)$", legend=False)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", frameon=False)
        fig.suptitle(r"Gradient flow, $\Delta_p$ = 1 ($\Delta_2^{GF}$ = 0.5): DMFT lines, N = 200 simulations "
                     "(points: 4 × 16 runs)")
    _save(fig, "spiked-m.png")


def _m_curves(axes):
    for d2, color in ((0.3, "C0"), (0.45, "C1"), (0.55, "C2"), (0.9, "C3")):
        s = integrate_dmft(3, d2, 1.0, 0.0, m0=0.2, t_max=8.0, h=0.025)
        axes[0].plot(s.t, s.m, color=color, label=f"$\\Delta_2$ = {d2}")
        axes[1].plot(s.t, s.energy, color=color)
        if d2 in (0.3, 0.9):
            # 4 noise draws x 8 signals x 2 (antithetic): mean ± standard error over the draws
            r = run_spiked_groups(200, 4, 8, delta2=d2, deltap=1.0, m0=0.2, t_max=8.0, dt=0.1, records=9, seed=5)
            for ax, name in zip(axes, ("m", "energy")):
                mean, se = r.stats(name)
                ax.errorbar(r.t, mean, yerr=se, fmt="o", ms=3, color=color, capsize=2)
                print(f"m_curves: delta2 = {d2}, {name}: " + ", ".join(f"t={t:g}: {x:.3f} ± {e:.3f}"
                                                                      for t, x, e in zip(r.t, mean, se)))


DATA = Path(__file__).parent / "data"


def finite_n():
    """m(t) and the energy of gradient flow at Δ₂ = 0.9, Δ_p = 1, m(0) = 0.2 for N = 50–400
    against the DMFT, from the saved runs of benchmarks/finite_n_spiked.py (data/finite-n-*.npz:
    group means; the command is in dynamics.md)."""
    runs = {}
    for f in sorted(DATA.glob("finite-n-*.npz")):
        d = np.load(f)
        for n in d["sizes"]:
            runs[int(n)] = (d["times"], d[f"m_{n}"], d[f"energy_{n}"])
    s = integrate_dmft(3, 0.9, 1.0, 0.0, m0=0.2, t_max=8.0, h=0.0125)
    with styled(1, 2, figsize=(9.6, 3.8)) as (fig, axes):
        _finite_n(axes, s, runs)
        _label(axes[0], r"time $t$", r"teacher overlap $m(t)$", legend=False)
        _label(axes[1], r"$1/N$", "gap to the DMFT", legend=False)
        axes[1].axhline(0, color="k", lw=0.8)
        axes[1].set_xlim(0, None)
        axes[0].legend(loc="lower right", fontsize=8, frameon=False)
        axes[1].legend(loc="upper left", fontsize=8, frameon=False)
        fig.suptitle(r"Gradient flow at $\Delta_2$ = 0.9, $\Delta_p$ = 1 from m(0) = 0.2: finite N against the DMFT "
                     "(mean ± s.e. over groups)")
    _save(fig, "spiked-finite-n.png")


def _finite_n(axes, s, runs):
    axes[0].plot(s.t, s.m, color="k", label=r"DMFT ($N \to \infty$)")
    sizes = sorted(runs)
    gaps = {}
    for j, n in enumerate(sizes):
        t, m, e = runs[n]
        se = m.std(0, ddof=1) / math.sqrt(len(m))
        axes[0].errorbar(t[1:] * (1 + 0.03 * (j - 1.5)), m.mean(0)[1:], yerr=se[1:], fmt="o", ms=3, capsize=2,
                         color=f"C{j}", label=f"N = {n} ({len(m)} groups of 16)")
        idx = np.round(t / (s.t[1] - s.t[0])).astype(int)
        for name, x, th, sign in (("m", m, s.m[idx], 1), ("energy", e, s.energy[idx], -1)):
            for k, tk in enumerate(t):
                if tk in (2.0, 4.0, 8.0):
                    g = sign * (th[k] - x[:, k])
                    gaps.setdefault((name, tk), []).append((n, g.mean(), g.std(ddof=1) / math.sqrt(len(g))))
    styles = {("m", 2.0): ("C0", "o"), ("m", 4.0): ("C1", "o"), ("m", 8.0): ("C3", "o"), ("energy", 8.0): ("C3", "s")}
    for (name, tk), rows in gaps.items():
        n, g, e = map(np.array, zip(*rows))
        print(f"finite_n: {name}, t = {tk:g}: " + ", ".join(f"N={a}: {b:+.4f} ± {c:.4f}" for a, b, c in rows))
        if (name, tk) not in styles:
            continue
        color, marker = styles[(name, tk)]
        label = (f"m: DMFT − simulation, t = {tk:g}" if name == "m" else f"energy: simulation − DMFT, t = {tk:g}")
        axes[1].errorbar(1 / n, g, yerr=e, fmt=marker, ms=4, capsize=2, color=color,
                         mfc="none" if name == "energy" else color, label=label)
        if name == "m" and len(n) > 2:           # weighted straight line in 1/N through N >= 100
            keep = n >= 100
            a, b = np.polyfit(1 / n[keep], g[keep], 1, w=1 / e[keep])
            x = np.linspace(0, 1 / n[keep].min(), 20)
            axes[1].plot(x, a * x + b, ":", color=color, lw=1)
            print(f"finite_n: m, t = {tk:g}: gap = {b:+.4f} + {a:.2f}/N (N >= 100)")


def aging():
    """C(t_w + τ, t_w) at Δ₂ = 1.5, Δ_p = 1, m(0) = 0: DMFT lines (h = 0.05) and the saved runs of
    benchmarks/aging_dynamics.py at N = 100, 200, 400 (data/aging-*.npz: group means; the command
    is in dynamics.md)."""
    s = integrate_dmft(3, 1.5, 1.0, 0.0, m0=0.0, t_max=40.0, h=0.05)
    runs = {}
    for f in sorted(DATA.glob("aging-*.npz")):
        d = np.load(f)
        runs.update({int(k[2:]): (d["times"], d[k]) for k in d.files if k.startswith("C_")})
    with styled(figsize=(7.4, 3.8)) as (fig, (ax,)):
        _aging(ax, s, runs)
        ax.set_xscale("log")
        _label(ax, r"time difference $\tau$", r"correlation $C(t_w + \tau, t_w)$",
               r"Aging of gradient flow, $\Delta_2$ = 1.5, $\Delta_p$ = 1 (DMFT lines, finite N points)")
    _save(fig, "spiked-aging.png")


def _aging(ax, s, runs):
    markers = dict(zip(sorted(runs), ("^", "s", "o")))
    for j, t_w in enumerate((1.0, 2.0, 4.0, 8.0, 16.0)):
        tau, c = s.aging(t_w)
        ax.plot(tau[1:], c[1:], color=f"C{j}", label=f"$t_w$ = {t_w:g}")
        for n, (t, C) in runs.items():
            k = int(np.flatnonzero(np.isclose(t, t_w))[0]) if np.isclose(t, t_w).any() else None
            if k is None or t_w > 4:
                continue
            later = np.flatnonzero((t > t_w) & np.isclose(t, np.round(t)))
            cs = C[:, later, k]
            ax.errorbar(t[later] - t_w, cs.mean(0), yerr=cs.std(0, ddof=1) / math.sqrt(len(cs)), fmt=markers[n],
                        ms=3.5, color=f"C{j}", mfc="none" if n != max(runs) else f"C{j}", capsize=2,
                        label=f"N = {n} ({len(cs)} groups of 16)" if j == 0 else None)


if __name__ == "__main__":
    for f in (saad_solla, phase, growth, m_curves, finite_n, aging):
        f()
        print(f"{f.__name__}: done", flush=True)
