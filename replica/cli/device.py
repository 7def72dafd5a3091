"""``--device``: where the generated code of ``solve``, ``transition`` and ``phase-diagram`` runs —
NumPy on the CPU, or the torch module on a CUDA device driven by the same solver
(:class:`replica.codegen.compiled.DeviceTheory`)."""
from __future__ import annotations

import click

from ._base import CLIInputError

__all__ = ["DEVICE", "check_device"]

#: where the generated code runs: NumPy on the CPU, or the torch module on a CUDA device
DEVICE = click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
                      help="Evaluate the generated code on this device (cuda: the torch backend on the GPU, "
                           "driven by the same solver).")


def check_device(device: str, model=None):
    """``--device cuda`` needs a CUDA device, and a model with a generated module (committee
    machines run their own NumPy state evolution)."""
    if device == "cpu":
        return
    import torch                            # start-up: torch only when a GPU is asked for
    if not torch.cuda.is_available():
        raise CLIInputError(f"--device {device}: no CUDA device is available")
    if model is not None and model.committee:
        raise CLIInputError(f"--device {device}: committee machines run on the CPU only")
