"""Cost per point-iteration of the generated solver against a hand-written loop, same process.

ising-bayes, flip = 0, α on [0.5, 1.2], 64-node Gauss-Hermite, uninformed start: the hand loop
(benchmarks/handloop_ising.py: the two maps written directly in NumPy, damped) and
``replica.solve(..., rule="hermite", nodes=64)`` (generated module, adaptive damping, Anderson,
Newton with a finite-difference Jacobian of the generated maps, per-point bookkeeping;
``check=False``: the acceptance
check of the quadrature, one evaluation per point with the feature-adapted rule after the
iteration, is not part of the iteration — and 64-node Gauss-Hermite does not pass it at 1e-8
on this grid, so with the check the points would be reported not converged).  Prints the seconds per point and
per point-iteration of each, their ratio (goal: within 3x), and the largest |q - q_hand|.

    python benchmarks/bench_iteration.py [N_POINTS] [NODES]
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import handloop_ising  # noqa: E402

from replica.codegen.compiled import load_compiled  # noqa: E402
from replica.solve import solve  # noqa: E402


def main(n=20000, nodes=64):
    alpha = np.linspace(0.5, 1.2, n)
    c = load_compiled("ising-bayes")
    kw = dict(init="uninformed", rule="hermite", nodes=nodes, check=False)
    solve(c, {"alpha": alpha[:10], "flip": 0.0}, **kw)   # warm-up
    q_h, _, k, s_hand = handloop_ising.solve(alpha, nodes=nodes)
    t = time.perf_counter()
    sol = solve(c, {"alpha": alpha, "flip": 0.0}, **kw)
    s_gen = time.perf_counter() - t
    assert sol.converged.all(), "some points did not converge"
    its = float(np.sum(sol.iterations)) + n            # + the evaluation at the start
    hand_pi, gen_pi = s_hand / (n * k), s_gen / its
    print(f"hand loop:  {1e6 * s_hand / n:8.1f} us/point, {k} iterations, {1e6 * hand_pi:6.2f} us per point-iteration")
    print(f"generated:  {1e6 * s_gen / n:8.1f} us/point, {its / n:.1f} iterations, {1e6 * gen_pi:6.2f} us per point-iteration")
    # the hand loop writes the q map as E tanh, the derivation as E[tanh - tanh²/2]·2 (equal on the
    # Nishimori line): the two agree to the quadrature error of 64 nodes, not to the tolerance
    print(f"per point-iteration: generated / hand = {gen_pi / hand_pi:.2f}x;  per point: hand / generated = "
          f"{s_hand / s_gen:.2f}x;  max |q - q_hand| = {np.max(np.abs(sol.values['q'] - q_h)):.1e}")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
