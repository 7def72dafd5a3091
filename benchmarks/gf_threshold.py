"""The gradient-flow threshold of the spiked matrix-tensor model (p = 3) located from the
integrated DMFT (replica.dynamics.dmft.gradient_flow_threshold_from_rates: growth rate of m at
m(0) → 0⁺, Richardson in the step h, extrapolation in t^(−γ), √λ∞ extrapolated to zero from
Δ₂ = 0.8 and 0.9 × the closed form) against the closed form of Sarao Mannelli et al. (NeurIPS
2019), at three Δ_p and the horizons given.

    python benchmarks/gf_threshold.py [--horizons 40,80] [--deltap 0.5,1,2] [--h 0.1]
"""
from __future__ import annotations

import argparse
import time

from replica.dynamics.dmft import gradient_flow_threshold_closed_form, gradient_flow_threshold_from_rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizons", default="40,80")
    ap.add_argument("--deltap", default="0.5,1,2")
    ap.add_argument("--h", type=float, default=0.1)
    a = ap.parse_args()
    print(f"{'deltap':>7}{'closed form':>13}" + "".join(f"{'t_max=' + x:>22}" for x in a.horizons.split(",")))
    for dp in (float(x) for x in a.deltap.split(",")):
        c = gradient_flow_threshold_closed_form(dp)
        row, t0 = "", time.perf_counter()
        for tH in (float(x) for x in a.horizons.split(",")):
            r = gradient_flow_threshold_from_rates(dp, 3, delta2s=(0.8 * c, 0.9 * c), t_max=tH, h=a.h)
            row += f"{r['delta2']:>12.4f} ({100 * (r['delta2'] - c) / c:+5.2f} %)"
        print(f"{dp:7g}{c:13.4f}{row}   [{time.perf_counter() - t0:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
