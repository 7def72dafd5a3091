"""What the files replica writes say about themselves: CF attributes and the model's statement.

* :func:`annotate` gives every coordinate and variable of a Dataset its CF ``long_name`` and
  ``units`` from the one table of :mod:`replica.variables`, keeping attributes already set.
* :func:`model_statement` is the model as attributes: each component's repr, the defaults,
  Φ_RS in LaTeX, the package version, the cache key of the generated module, and, for a model
  read from a file, that file's text — enough to rebuild it (:func:`model_from_attrs`).

CF conventions: https://cfconventions.org (``long_name``, ``units``, ``flag_values``/``flag_meanings``).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import __version__
from .codegen.cache import model_key
from .model import Model, load_model
from .variables import cf_attrs

__all__ = ["annotate", "model_statement", "model_from_attrs", "free_entropy_latex"]

def annotate(ds):
    """``ds`` with an index coordinate (0, 1, ...) on every dimension that has none, and every
    coordinate and variable given a ``long_name`` (and ``units = "1"`` where a number is a
    dimensionless quantity), attributes already there kept; ``Conventions = CF-1.8``."""
    bare = {d: np.arange(n) for d, n in ds.sizes.items() if d not in ds.coords}
    if bare:
        ds = ds.assign_coords(bare)
    ds.attrs.setdefault("Conventions", "CF-1.8")
    for name in list(ds.coords) + list(ds.data_vars):
        var = ds[name]
        for k, v in cf_attrs(name, var.dtype).items():
            var.attrs.setdefault(k, v)
    return ds


def free_entropy_latex(compiled) -> str:
    """Φ_RS of a compiled theory in LaTeX: stored in its generated module, else from its Theory."""
    if hasattr(compiled, "free_entropy_latex"):           # a theory that is its own compiled form (committees)
        return compiled.free_entropy_latex()
    tex = getattr(compiled.module, "FREE_ENTROPY_LATEX", None)
    return tex if tex is not None else compiled.theory.free_entropy_latex()


def _model_file(model: Model) -> tuple[str, str] | None:
    """(the file's text, the variable) for a model read from a file by ``load_model``."""
    for name, mod in list(sys.modules.items()):
        if not name.startswith("_replica_user_"):
            continue
        for var, obj in vars(mod).items():
            if obj is model and getattr(mod, "__file__", None):
                return Path(mod.__file__).read_text(), var
    return None


def model_statement(model: Model, compiled=None) -> dict:
    """The model as NetCDF attributes (strings): components, defaults, Φ_RS in LaTeX (from
    ``compiled``, when given), replica's version, the model key, a model file's text."""
    out = {
        "model": model.name,
        "model_description": model.description or "",
        "model_prior": repr(model.prior),
        "model_student_prior": repr(model.student_prior) if model.student_prior is not None else "",
        "model_teacher": repr(model.teacher),
        "model_learning": repr(model.learning),
        "model_features": repr(model.features) if model.features is not None else "",
        "model_hidden_units": int(model.hidden_units),
        "model_defaults_json": json.dumps({k: float(v) for k, v in model.defaults.items()}),
        "replica_version": __version__,
    }
    if not model.committee:
        out["model_key"] = model_key(model, "numpy", "main")
    if compiled is not None:
        out["free_entropy_latex"] = free_entropy_latex(compiled)
    found = _model_file(model)
    if found is not None:
        out["model_source"], out["model_variable"] = found
    return out


def model_from_attrs(attrs: dict) -> Model:
    """Rebuild the model a file was made from: its stored model file, else the built-in of that
    name (checked against the stored components)."""
    if attrs.get("model_source"):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"{attrs['model']}.py"
            path.write_text(attrs["model_source"])
            model = load_model(f"{path}:{attrs.get('model_variable', 'model')}")
    else:
        model = load_model(attrs["model"])
    for k in ("prior", "teacher", "learning"):
        if f"model_{k}" in attrs and repr(getattr(model, k)) != attrs[f"model_{k}"]:
            raise ValueError(f"the rebuilt model's {k} {getattr(model, k)!r} is not the stored {attrs[f'model_{k}']}")
    return model
