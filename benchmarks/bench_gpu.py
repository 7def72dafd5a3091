"""The GPU path: the solver driving the torch module on a CUDA device, against NumPy on the CPU.

On a machine with CUDA this script

1. runs the GPU tests (``tests/test_torch_backend.py::test_cuda_matches_cpu`` and
   ``tests/test_bench_gpu.py``) in a subprocess and prints their outcome;
2. solves ising-bayes (flip = 0, α on [0.5, 1.2], 64-node Gauss-Hermite, uninformed start) on a
   10⁶-point grid with ``replica.solve`` over :class:`replica.codegen.compiled.DeviceTheory`
   on "cuda" and prints the wall time;
3. prints the CPU/GPU agreement: the largest |Δq| and |Δ free entropy| against the NumPy solve
   of a sample of the same points.

Without CUDA it says so and runs steps 2-3 on torch's CPU device with a small grid (the
fallback ``tests/test_bench_gpu.py`` runs).

    python benchmarks/bench_gpu.py [N_POINTS] [NODES]
"""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from replica.codegen.compiled import DeviceTheory, load_compiled
from replica.solve import solve

ROOT = Path(__file__).resolve().parents[1]
GPU_TESTS = ["tests/test_torch_backend.py::test_cuda_matches_cpu", "tests/test_bench_gpu.py"]


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def run(n: int, device: str, nodes: int = 64, sample: int = 200) -> dict:
    """Solve the n-point sweep on ``device``; compare a sample of points with the NumPy solver."""
    alpha = np.linspace(0.5, 1.2, n)
    on_dev = DeviceTheory(load_compiled("ising-bayes", "torch"), device)
    # both backends on the same fixed rule, without the acceptance check's refined rule (the torch
    # module has none): this measures the iteration and the backends' agreement, not the physics
    opts = dict(init="uninformed", rule="hermite", nodes=nodes, check=False)
    solve(on_dev, {"alpha": alpha[:16], "flip": 0.0}, **opts)                # warm-up (kernels, rules)
    _sync(device)
    t = time.perf_counter()
    sol = solve(on_dev, {"alpha": alpha, "flip": 0.0}, **opts)
    _sync(device)
    seconds = time.perf_counter() - t
    pick = np.unique(np.linspace(0, n - 1, min(sample, n)).round().astype(int))
    ref = solve(load_compiled("ising-bayes"), {"alpha": alpha[pick], "flip": 0.0}, **opts)
    return {"n": n, "device": str(device), "seconds": seconds, "converged": bool(sol.converged.all()),
            "iterations": float(np.mean(sol.iterations)),
            "dq": float(np.max(np.abs(sol.values["q"][pick] - ref.values["q"]))),
            "dphi": float(np.max(np.abs(sol.outputs["free_entropy"][pick] - ref.outputs["free_entropy"])))}


def report(r: dict) -> str:
    return (f"{r['n']} points on {r['device']}: {r['seconds']:.3f} s ({1e6 * r['seconds'] / r['n']:.2f} us/point, "
            f"{r['iterations']:.1f} iterations), all converged: {r['converged']}\n"
            f"agreement with NumPy on the CPU: max |dq| = {r['dq']:.1e}, max |d free_entropy| = {r['dphi']:.1e}")


def main(n: int | None = None, nodes: int = 64):
    if torch.cuda.is_available():
        print(f"CUDA device: {torch.cuda.get_device_name(0)}")
        tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *GPU_TESTS],
                               cwd=ROOT, capture_output=True, text=True)
        print("GPU tests:", tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-500:])
        print(report(run(n or 10**6, "cuda", nodes)))
        return 0
    print("no CUDA device: CPU fallback (torch on the CPU, small grid); no GPU figures")
    print(report(run(n or 2000, "cpu", nodes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*[int(a) for a in sys.argv[1:]]))
