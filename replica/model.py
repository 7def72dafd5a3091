"""The Model: the single source of truth from which theory and simulations are generated."""
from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from ._component import ComponentError, check_values
from .channels import Channel
from .features import Features
from .learning import Learning
from .params import NONNEGATIVE, Domain
from .priors import Prior
from .symbols import alpha

__all__ = ["Model", "load_model", "ModelError"]


class ModelError(ValueError):
    """An unknown model name, or a file that defines no Model."""


@dataclass
class Model:
    """prior (teacher's, and student's unless ``student_prior``), teacher channel, learning setting.

    ``defaults`` maps parameter names to default values (used by the CLI and ``solve``)."""

    prior: Prior
    teacher: Channel
    learning: Learning
    hidden_units: int = 1
    student_prior: Prior | None = None
    name: str = "custom"
    defaults: dict = field(default_factory=dict)
    description: str = ""
    features: Features | None = None

    def __post_init__(self):
        for what, obj, typ in (("prior", self.prior, Prior), ("teacher", self.teacher, Channel),
                               ("learning", self.learning, Learning)):
            if not isinstance(obj, typ):
                raise ComponentError(f"Model: {what} must be a replica.{typ.__module__.split('.')[-1]} object, got {obj!r}")
        if self.student_prior is not None and not isinstance(self.student_prior, Prior):
            raise ComponentError("Model: student_prior must be a prior")
        if self.features is not None and not isinstance(self.features, Features):
            raise ComponentError("Model: features must be a replica.features object (RandomFeatures, GaussianCovariate)")
        if not isinstance(self.hidden_units, int) or self.hidden_units < 1:
            raise ComponentError("Model: hidden_units must be a positive integer")
        check_values(self.parameters, {k: v for k, v in self.defaults.items()})

    @property
    def parameters(self) -> dict[sp.Symbol, Domain]:
        """Every parameter with its domain; ``alpha`` first."""
        out = {alpha: NONNEGATIVE}
        for c in (self.prior, self.student_prior, self.teacher, self.learning, self.features):
            if c is not None:
                out.update(c.domains)
        return out

    @property
    def committee(self) -> bool:
        """A committee machine: K hidden units, or a teacher that is a committee rule
        (``replica.committee``: the theory, the CLI and the simulations dispatch on this)."""
        return self.hidden_units > 1 or bool(getattr(self.teacher, "committee", False))

    def parameter_names(self) -> list[str]:
        return [s.name for s in self.parameters]

    def check(self, values: dict) -> dict:
        """Validate numeric parameter values (name -> number); raises ParameterError."""
        return check_values(self.parameters, values)


def load_model(spec: str | Model) -> Model:
    """A built-in model by name, or ``path/to/file.py[:variable]`` defining a Model (default ``model``)."""
    if isinstance(spec, Model):
        return spec
    from .builtin import BUILTINS
    if spec in BUILTINS:
        return BUILTINS[spec]()
    path, _, var = spec.partition(":")
    var = var or "model"
    p = Path(path)
    if not p.suffix == ".py" or not p.exists():
        known = ", ".join(sorted(BUILTINS))
        raise ModelError(f"unknown model {spec!r}: not a built-in ({known}) nor an existing .py file")
    # named by the file's content (not hash(path), which changes per process): a component class
    # defined in the file has the same __module__ in every process, so its cache key is stable
    modname = f"_replica_user_{hashlib.sha256(p.read_bytes()).hexdigest()[:16]}"
    s = importlib.util.spec_from_file_location(modname, p)
    mod = importlib.util.module_from_spec(s)
    sys.modules[modname] = mod
    try:
        s.loader.exec_module(mod)
    except ComponentError:
        raise
    except SystemExit as e:  # sys.exit() / exit() in the user's file: not a way to end replica
        raise ModelError(f"{path}: the file called sys.exit({'' if e.code is None else repr(e.code)}) while "
                         "loading; a model file should only define a Model") from None
    except Exception as e:  # the user's file failed to run
        raise ModelError(f"{path}: error while loading: {type(e).__name__}: {e}") from e
    obj = getattr(mod, var, None)
    if not isinstance(obj, Model):
        raise ModelError(f"{path} defines no Model named {var!r}")
    if obj.name == "custom":
        obj.name = p.stem
    return obj
