"""Power study of ``replica verify`` (issue 12): does the verdict detect a theory that is 5 % off,
and accept the true one?

For each of the README's examples (ridge, ising-bayes) and each of ``--sets`` independent seed
sets (base seeds 1, 2, ...; instances of different sets never share a generator), the
simulation runs once at verify's default sizes and seeds (``sims.verify.DEFAULT_SIZES``,
``DEFAULT_SEEDS``) and is judged twice through the Python API (``sims.verify.compare``):

* against the true theory (the simulation at α, the theory at α) — it should agree;
* against a theory deliberately ``--error`` off (the simulation at α, the theory at
  (1 + error)·α) — it should disagree.

Target (issue 12): disagree in ≥ 95 % of 40 seed sets, agree in ≥ 95 %.  Each seed set's
outcome is appended to ``--log`` (JSON lines) as it finishes, so a partial run is readable.

    nice -n 19 python benchmarks/power_verify.py                  # 40 sets, 5 %, both models
    nice -n 19 python benchmarks/power_verify.py --sets 4 --models ridge
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sims.verify import DEFAULT_SEEDS, DEFAULT_SIZES, compare, simulate_samples, theory_values  # noqa: E402

#: the README's verify examples: (model, fixed parameters, swept alpha values, theory branch)
EXAMPLES = {
    "ridge": ({"delta": 0.1, "lam": 0.1}, (0.5, 1.75, 3.0), "equilibrium"),
    "ising-bayes": ({"flip": 0.0}, (0.5, 0.9, 1.3), "uninformed"),
}


def study(model: str, sets: int, error: float, sizes, seeds: int, log) -> dict:
    fixed, alphas, branch = EXAMPLES[model]
    alphas = np.array(alphas)
    points = [{**fixed, "alpha": float(a)} for a in alphas]
    names = None
    cache = {}

    def theory(scale):
        def at(grid):
            if scale not in cache:
                cache[scale] = theory_values(model, {**grid, "alpha": grid["alpha"] * scale}, names, branch)
            return cache[scale]
        return at

    tally = {"true_agree": 0, "wrong_disagree": 0, "true_inconclusive": 0, "wrong_inconclusive": 0}
    t0 = time.time()
    for k in range(sets):
        samples, _ = simulate_samples(model, points, sizes, seeds, seed=1 + k)
        names = sorted({s["observable"] for s in samples})
        true = compare(model, ("alpha", alphas), samples, theory=theory(1.0))
        wrong = compare(model, ("alpha", alphas), samples, theory=theory(1.0 + error))
        tally["true_agree"] += true["verdict"] == "agree"
        tally["true_inconclusive"] += true["verdict"] == "inconclusive"
        tally["wrong_disagree"] += wrong["verdict"] == "disagree"
        tally["wrong_inconclusive"] += wrong["verdict"] == "inconclusive"
        rec = {"model": model, "set": k, "true": true["verdict"], "wrong": wrong["verdict"],
               "power": true["power"]["relative_error"] if true["power"] else None,
               "true_disagreeing": [(p["alpha"], p["observable"]) for p in true["points"] if p["status"] == "disagree"],
               "wrong_detected_by": [(p["alpha"], p["observable"]) for p in wrong["points"]
                                     if p["status"] == "disagree"],
               "seconds": round(time.time() - t0, 1)}
        print(json.dumps(rec), file=log, flush=True)
        print(f"{model} set {k + 1}/{sets}: true theory -> {true['verdict']}, {error:.0%} off -> {wrong['verdict']}"
              f"  ({rec['seconds']} s)", flush=True)
    return {"model": model, "sets": sets, "error": error, "sizes": list(sizes), "seeds": seeds,
            "agree_with_true": tally["true_agree"] / sets, "disagree_with_wrong": tally["wrong_disagree"] / sets,
            **tally}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", type=int, default=40)
    ap.add_argument("--error", type=float, default=0.05, help="relative error of alpha in the wrong theory")
    ap.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    ap.add_argument("--models", nargs="+", default=list(EXAMPLES), choices=list(EXAMPLES))
    ap.add_argument("--log", default="power_verify.jsonl")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    with open(a.log, "a") as log:
        results = [study(m, a.sets, a.error, a.sizes, a.seeds, log) for m in a.models]
    for r in results:
        print(f"{r['model']}: {r['sets']} seed sets, sizes {r['sizes']}, {r['seeds']} seeds: agrees with the true "
              f"theory in {r['agree_with_true']:.0%}, disagrees with the {r['error']:.0%}-off theory in "
              f"{r['disagree_with_wrong']:.0%}  (inconclusive: {r['true_inconclusive']} / {r['wrong_inconclusive']})")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
