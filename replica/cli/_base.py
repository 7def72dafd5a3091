"""The ``replica`` command line.

Every command takes ``--json`` and then prints exactly one JSON document on stdout.  Bad input
(an unknown model or parameter, a malformed component, a file that defines no Model) ends with
exit code 2 and one line ``replica: error: <message>`` on stderr, never a traceback: the
:class:`_Replica` group turns the library's input errors into that line, for every command.
"""
from __future__ import annotations

import contextlib
import json
import math
import sys

import click

from .._component import ComponentError
from ..model import ModelError
from ..params import ParameterError
from ..symbolic.derive import DerivationError

__all__ = ["main"]

#: the library's errors that mean "bad input", reported as one line with exit code 2
INPUT_ERRORS = (ModelError, ComponentError, ParameterError, DerivationError)


def _fail(message: str, code: int = 2):
    click.echo("replica: error: " + " ".join(str(message).split()), err=True)
    sys.exit(code)


class _Replica(click.Group):
    """The command group; one place where input errors become ``replica: error: ...``."""

    def main(self, args=None, prog_name="replica", **kwargs):
        try:
            code = super().main(args=args, prog_name=prog_name, standalone_mode=False, **kwargs)
        except click.ClickException as e:        # usage errors: unknown option, missing argument
            _fail(e.format_message(), e.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except INPUT_ERRORS as e:
            _fail(str(e))
        sys.exit(code or 0)


def _emit_json(doc):
    click.echo(json.dumps(doc, indent=2, allow_nan=False))


@contextlib.contextmanager
def _quiet(json_mode: bool):
    """With ``--json`` stdout carries the document only: anything a user's model file prints
    while loading or deriving goes to stderr."""
    if json_mode:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    else:
        yield


def _parameters(model) -> dict:
    """name -> {"domain": str, "default": float | None} for every parameter of ``model``."""
    out = {}
    for sym, dom in model.parameters.items():
        d = model.defaults.get(sym.name)
        out[sym.name] = {"domain": str(dom), "default": None if d is None else float(d)}
    return out


def _default_text(v):
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:g}"


@click.group(cls=_Replica, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replica", prog_name="replica")
def main():
    """Replica calculations for the statistical physics of learning: state a model, derive its
    replica-symmetric free entropy and saddle-point equations."""


