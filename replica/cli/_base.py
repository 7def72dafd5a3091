"""The ``replica`` command line.

Every command takes ``--json`` and then prints exactly one JSON document on stdout.  Bad input
(an unknown model or parameter, a malformed component, a file that defines no Model, a request
beyond a size limit, an unwritable output path) ends with exit code 2 and one line
``replica: error: <message>`` on stderr, never a traceback: the :class:`_Replica` group turns
every exception a command meets into that line (with ``--json`` also the document
``{"error": "<message>"}`` on stdout).  Limits (:data:`replica.params.LIMITS`) and output paths
are checked here, before any long computation.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path

import click
import numpy as np

from .._component import ComponentError
from ..model import ModelError
from ..params import LIMITS, ParameterError
from ..separability import no_minimizer
from ..symbolic.derive import DerivationError

__all__ = ["main", "CLIInputError", "parse_number", "parse_assignments", "parse_sweep",
           "parse_grid_axis", "parse_range", "model_values", "check_grid", "check_memory",
           "check_output_path", "check_hidden_units", "check_erm_minimizer", "solver_memory"]


class CLIInputError(ValueError):
    """A malformed command-line value (not a number, a reversed or empty sweep, ...)."""


#: the library's errors that mean "bad input", reported as one line with exit code 2
INPUT_ERRORS = (ModelError, ComponentError, ParameterError, DerivationError, CLIInputError)


#: the longest error line printed (a library's message can be a page long)
_MAX_MESSAGE = 600


def _message(e: BaseException) -> str:
    """One line for an exception: the library's input errors by their message, anything else
    with its type (an unexpected failure, still never a traceback)."""
    if isinstance(e, INPUT_ERRORS):
        text = str(e)
    elif isinstance(e, MemoryError):
        text = "out of memory" + (f": {e}" if str(e) else "") + " (ask for a smaller grid, N or number of seeds)"
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE - 3] + "..."


def _fail(message: str, code: int = 2, as_json: bool = False):
    """``replica: error: <message>`` on stderr (and ``{"error": ...}`` on stdout with --json); exit."""
    message = " ".join(str(message).split())
    if as_json:
        click.echo(json.dumps({"error": message}))
    click.echo("replica: error: " + message, err=True)
    sys.exit(code)


class _Replica(click.Group):
    """The command group; the one place where exceptions become ``replica: error: ...``."""

    def main(self, args=None, prog_name="replica", **kwargs):
        argv = list(sys.argv[1:] if args is None else args)
        as_json = "--json" in argv
        try:
            code = super().main(args=argv, prog_name=prog_name, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as e:       # --help, --version
            sys.exit(e.exit_code)
        except click.ClickException as e:        # usage errors: unknown option, missing argument
            _fail(e.format_message(), 2 if e.exit_code == 1 else e.exit_code, as_json)
        except (click.Abort, KeyboardInterrupt):
            _fail("aborted", 130, as_json)
        except Exception as e:                   # noqa: BLE001  the library's errors and any other
            _fail(_message(e), 2, as_json)
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
    LIMITS["grid_points"].check(num, f"{option} {name}")
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


# -- limits and output paths, checked before any work ---------------------------------------

#: bytes per grid point and quadrature node held by the generated solver at once (measured:
#: ising-bayes, 20 000 points, 400 Legendre nodes, peak 2.1 GB)
_SOLVER_BYTES_PER_NODE = 8 * 32


def check_grid(points: int, context: str = "grid") -> None:
    """The number of grid points against ``REPLICA_MAX_POINTS``."""
    LIMITS["grid_points"].check(points, context)


def solver_memory(points: int, nodes: int | None) -> float:
    """Estimated peak bytes of the solver on ``points`` grid points with ``nodes`` quadrature
    nodes (default: the 400-node Legendre polish)."""
    return float(points) * max(int(nodes or 400), 96) * _SOLVER_BYTES_PER_NODE + 3e8


def check_memory(nbytes: float, context: str) -> None:
    """Estimated memory against ``REPLICA_MAX_MEMORY_GB`` (default: 80 % of what is available)."""
    LIMITS["memory"].check(nbytes, context)


def check_output_path(path, option: str) -> None:
    """``path`` can be written: its folder exists and is writable, and it is not a folder.
    Checked before computing, so a long run does not end in a failed write."""
    if path is None:
        return
    p = Path(path)
    if not str(path).strip() or p.is_dir():
        raise CLIInputError(f"{option} {str(path)!r} is a folder, not a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise CLIInputError(f"{option} {str(path)!r}: the folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise CLIInputError(f"{option} {str(path)!r}: not writable")


def check_hidden_units(model, values: dict, *, theory: bool) -> None:
    """A committee's K within what the numerics do: the theory's product quadrature over K
    dimensions (``MAX_K``, ``MAX_SOFT_K`` of :mod:`replica.committee.models`), the
    simulation's 2^K sign patterns and K! unit matchings (``REPLICA_MAX_K``)."""
    if not model.committee or "K" not in values:
        return
    from ..committee.models import MAX_K, MAX_SOFT_K
    k_max = max(float(k) for k in np.atleast_1d(values["K"]).ravel())
    if theory:
        soft = bool(getattr(model.teacher, "soft", False))
        limit = MAX_SOFT_K if soft else MAX_K
        if k_max > limit:
            raise CLIInputError(f"K = {k_max:g} hidden units is beyond the committee theory's numerics "
                                f"(a product quadrature over K dimensions, K <= {limit}); "
                                "the large-K limit is `replica transition MODEL --along alpha --set K=inf`")
    else:
        LIMITS["hidden_units"].check(k_max, "committee simulation (2^K sign patterns, K! matchings)")


def check_erm_minimizer(model, values: dict) -> None:
    """ERM without a ridge on labels that a linear rule separates has no minimizer (|ŵ| → ∞, no
    solution of the saddle-point equations): refused up front rather than iterated to "not
    converged" — the first point that ``replica.separability.no_minimizer`` flags."""
    mask, reasons = no_minimizer(model, values)
    if mask.any():
        raise CLIInputError(f"{model.name}: {reasons[int(np.flatnonzero(mask)[0])]}")


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


