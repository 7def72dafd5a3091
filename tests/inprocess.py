"""The command line run inside the test process: the ``main`` of ``python -m replica`` through
click's ``CliRunner``, returning what ``subprocess.run(..., capture_output=True, text=True)``
would (``returncode``, ``stdout``, ``stderr``).  A fresh interpreter costs seconds per call
(imports, loading the model again); tests about the process boundary itself (exit codes seen
by a shell, start-up, the cache across processes, ``test_cli.py``) keep ``subprocess``."""
import contextlib
import os
import subprocess

from click.testing import CliRunner

from replica.cli import main


def replica(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """``replica ARGS`` in this process (in folder ``cwd``, with ``env`` added to the environment)."""
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        r = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(["replica", *args], r.exit_code, r.stdout, r.stderr)
