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
import numpy as np

from .._component import ComponentError
from ..model import ModelError
from ..params import ParameterError
from ..symbolic.derive import DerivationError

__all__ = ["main", "CLIInputError", "parse_number", "parse_assignments", "parse_sweep",
           "parse_grid_axis", "parse_range", "model_values"]


class CLIInputError(ValueError):
    """A malformed command-line value (not a number, a reversed or empty sweep, ...)."""


#: the library's errors that mean "bad input", reported as one line with exit code 2
INPUT_ERRORS = (ModelError, ComponentError, ParameterError, DerivationError, CLIInputError)


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


# -- values from the command line: numbers only, never evaluated -------------------------------

def parse_number(text: str, what: str) -> float:
    """A finite float from ``text`` (``float()`` syntax only: no expressions are evaluated)."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise CLIInputError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise CLIInputError(f"{what} must be a finite number, got {text!r}")
    return v


def _split_assignment(text: str, option: str) -> tuple:
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq or not name or not value.strip():
        raise CLIInputError(f"{option} expects NAME=VALUE, got {text!r}")
    return name, value.strip()


def parse_assignments(items, option: str = "--set") -> dict:
    """``('flip=0.05', 'alpha=1')`` -> ``{'flip': 0.05, 'alpha': 1.0}``; a name given twice is an error."""
    out = {}
    for text in items or ():
        name, value = _split_assignment(text, option)
        if name in out:
            raise CLIInputError(f"{option} gives {name!r} twice")
        out[name] = parse_number(value, f"{option} {name}")
    return out


def parse_sweep(text: str, option: str = "--sweep") -> tuple:
    """``'alpha=0.5:1.2:8'`` -> ``('alpha', linspace(0.5, 1.2, 8))``; NUM ≥ 1, START < STOP
    when NUM > 1 (a reversed or empty sweep is an error)."""
    name, spec = _split_assignment(text, option)
    parts = spec.split(":")
    if len(parts) != 3:
        raise CLIInputError(f"{option} expects NAME=START:STOP:NUM, got {text!r}")
    start = parse_number(parts[0], f"{option} {name} start")
    stop = parse_number(parts[1], f"{option} {name} stop")
    try:
        num = int(parts[2])
    except ValueError:
        raise CLIInputError(f"{option} {name}: NUM must be a positive integer, got {parts[2]!r}") from None
    if num < 1:
        raise CLIInputError(f"{option} {name}: empty sweep (NUM = {num})")
    if num > 1 and not stop > start:
        raise CLIInputError(f"{option} {name}: reversed or empty sweep {start:g}:{stop:g} (START must be below STOP)")
    if num == 1 and stop != start:
        raise CLIInputError(f"{option} {name}: one point needs START = STOP, got {start:g}:{stop:g}")
    return name, np.linspace(start, stop, num)


#: the axes of a phase diagram have the sweep syntax
parse_grid_axis = parse_sweep


def parse_range(text: str, option: str = "--range") -> tuple:
    """``'0.5:2'`` -> ``(0.5, 2.0)`` with LO < HI."""
    parts = (text or "").split(":")
    if len(parts) != 2:
        raise CLIInputError(f"{option} expects LO:HI, got {text!r}")
    lo, hi = (parse_number(p, f"{option} {end}") for p, end in zip(parts, ("LO", "HI")))
    if not hi > lo:
        raise CLIInputError(f"{option}: empty or reversed range {lo:g}:{hi:g} (LO must be below HI)")
    return lo, hi


def model_values(model, values: dict, *, free=()) -> dict:
    """Every parameter of ``model`` with a value: ``values`` (numbers or arrays, checked against
    the declared domains, unknown names rejected) over the model's defaults.  Names in ``free``
    (e.g. the parameter a transition is searched along) need no value."""
    names = model.parameter_names()
    unknown = [k for k in values if k not in names]
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r} for model {model.name!r}; "
                             f"its parameters are {', '.join(names)}")
    domains = {s.name: d for s, d in model.parameters.items()}
    out = {}
    for k in names:
        if k in values:
            v = values[k]
            for x in np.atleast_1d(v).ravel():
                domains[k].check(k, float(x))
            out[k] = v
        elif k in free:
            continue
        else:
            d = model.defaults.get(k)
            if d is None or (isinstance(d, float) and math.isnan(d)):
                raise ParameterError(f"parameter {k!r} of model {model.name!r} has no default; "
                                     f"give it with --set {k}=VALUE")
            out[k] = float(d)
    return out


def _emit_json(doc):
    """One JSON document on stdout: indented when small, compact (C encoder) when large."""
    text = json.dumps(doc, allow_nan=False)
    if len(text) < 200_000:
        text = json.dumps(doc, indent=2, allow_nan=False)
    click.echo(text)


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


