"""benchmarks/bench_gpu.py: its CPU fallback here (torch on the CPU behind the NumPy solver agrees
with the NumPy module), and on a CUDA machine the GPU solve against the CPU."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_gpu  # noqa: E402


def test_cpu_fallback_agrees_with_numpy(capsys):
    r = bench_gpu.run(300, "cpu", sample=50)
    # the torch module and the NumPy module are printed separately from one derivation
    assert r["converged"] and r["dq"] < 1e-11 and r["dphi"] < 1e-11
    if not torch.cuda.is_available():
        assert bench_gpu.main(200) == 0
        out = capsys.readouterr().out
        assert "no CUDA device" in out and "200 points on cpu" in out


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (run benchmarks/bench_gpu.py on a GPU machine)")
def test_cuda_solve_agrees_with_cpu():
    r = bench_gpu.run(10**5, "cuda", sample=200)
    assert r["converged"] and r["dq"] < 1e-11 and r["dphi"] < 1e-11


@pytest.mark.skipif(torch.cuda.is_available(), reason="the error of a machine without CUDA")
@pytest.mark.parametrize("args", [["solve", "ising-bayes", "--set", "alpha=1"],
                                  ["transition", "ising-bayes", "--along", "alpha"],
                                  ["phase-diagram", "ising-bayes", "--x", "alpha=1:2:3", "--y", "flip=0:0.1:2"]])
def test_device_cuda_without_a_gpu_is_an_input_error(args):
    from click.testing import CliRunner
    from replica.cli import main
    r = CliRunner().invoke(main, args + ["--device", "cuda"])
    assert r.exit_code == 2 and r.stderr.strip() == "replica: error: --device cuda: no CUDA device is available"
