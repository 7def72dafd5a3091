"""A progress line on stderr while a model is derived and compiled for the first time.

A model whose generated module is in the on-disk cache (:mod:`replica.codegen.cache`) loads in
milliseconds; a cold one runs the SymPy derivation and the code generator first, seconds to a
minute.  So that a command does not sit silent through that, :func:`compiling` prints

    replica: deriving perceptron-gibbs ... (first run; cached after)

on stderr once the cold compile has taken longer than :data:`NOTICE_AFTER` seconds (a timer:
nothing is printed for a compile that finishes sooner, nor for a cached model).  As the
progress bar of ``phase-diagram``, it is not printed with ``--json`` (nor ``--quiet``): such
runs write nothing but the document (and errors).
"""
from __future__ import annotations

import contextlib
import threading

import click

from ..codegen import cache as C
from ..codegen.compiled import on_device

__all__ = ["NOTICE_AFTER", "compiling", "compiled_with_notice"]

#: seconds of a cold compile after which the progress line is printed
NOTICE_AFTER = 1.0


def _cached(model, backend: str, part: str) -> bool:
    return C.load(C.model_key(model, backend, part), f"{model.name}-{part}") is not None


@contextlib.contextmanager
def compiling(model, device: str = "cpu", part: str = "main", notice: bool = True):
    """Run the body (which derives and compiles ``model`` for ``device``); if the model's module
    is not cached and the body is still running after :data:`NOTICE_AFTER` seconds, print the
    progress line on stderr.  Committee machines (no generated module) print nothing, nor does
    anything without ``notice``."""
    backend = "numpy" if str(device) == "cpu" else "torch"
    if not notice or getattr(model, "committee", False) or _cached(model, backend, part):
        yield
        return
    line = f"replica: deriving {model.name} ... (first run; cached after)"
    timer = threading.Timer(NOTICE_AFTER, lambda: click.echo(line, err=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def compiled_with_notice(model, device: str = "cpu", notice: bool = True):
    """``on_device(model, device)`` with the progress line of a cold compile (if ``notice``)."""
    with compiling(model, device, notice=notice):
        return on_device(model, device)
