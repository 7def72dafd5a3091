"""Cold derive+compile and warm (cached) load of every built-in model, each in a fresh process.

Baseline, run in the same command: a fresh process that only imports replica.  Printed:
seconds, and each time as a ratio to that baseline (the machines here are shared and noisy).

    python benchmarks/bench_derive.py [MODEL ...]
"""
import os
import subprocess
import sys
import tempfile
import time

from replica.builtin import BUILTINS

COLD = "import replica; replica.derive({m!r}).compile()"
WARM = "from replica.codegen.compiled import load_compiled; c = load_compiled({m!r}); assert c._theory is None"
BASE = "import replica"


def run(code, env):
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t


def main(models):
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "REPLICA_CACHE_DIR": d}
        base = min(run(BASE, env) for _ in range(3))
        print(f"baseline (python -c 'import replica'): {base:.2f} s")
        print(f"{'model':18s} {'cold s':>8s} {'cold/base':>10s} {'warm s':>8s} {'warm/base':>10s} {'warm-base s':>12s}")
        for m in models:
            cold = run(COLD.format(m=m), env)
            warm = min(run(WARM.format(m=m), env) for _ in range(3))
            print(f"{m:18s} {cold:8.2f} {cold / base:10.2f} {warm:8.2f} {warm / base:10.2f} {warm - base:12.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(BUILTINS))
