"""What the files replica writes say about themselves: CF attributes and the model's statement.

* :func:`annotate` gives every coordinate and variable of a Dataset a CF ``long_name`` (and
  ``units = "1"`` for the dimensionless quantities of these theories: overlaps, ratios, free
  entropies, errors; none for flags, labels and indices), keeping attributes already set.
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

__all__ = ["LONG_NAMES", "annotate", "model_statement", "model_from_attrs", "free_entropy_latex"]

#: name -> CF long_name of the parameters, order parameters, observables and bookkeeping
#: variables that replica writes
LONG_NAMES = {
    "alpha": "sample ratio alpha = P/N", "flip": "label-flip probability", "T": "temperature",
    "kappa": "margin kappa", "lam": "ridge penalty lambda", "delta": "label noise variance Delta",
    "K": "hidden units K", "beta": "inverse temperature",
    "q": "overlap of two replicas q = w^a.w^b/N", "m": "teacher-student overlap m = w.w*/N",
    "Q": "self-overlap Q = |w|^2/N", "chi": "response chi = beta (Q - q)",
    "q_hat": "conjugate of q", "m_hat": "conjugate of m", "Q_hat": "conjugate of Q", "chi_hat": "conjugate of chi",
    "q_d": "diagonal part q_d of the committee overlap q_d I + (q_a/K) J",
    "q_a": "all-ones part q_a of the committee overlap q_d I + (q_a/K) J",
    "q_hat_d": "conjugate of q_d", "q_hat_a": "conjugate of q_a",
    "free_entropy": "replica-symmetric free entropy Phi_RS per weight", "entropy": "entropy per weight",
    "replicon": "replicon eigenvalue (RS stability: below 1)", "generalization_error": "generalization error",
    "mse": "mean squared error of the weights |w - w*|^2/N", "training_error": "training error",
    "training_loss": "training loss per sample", "gibbs_error": "generalization error of a posterior sample",
    "bayes_error": "test error of the Bayes classifier argmax_y P(y|x, data)", "quadratic_error": "quadratic generalization error",
    "residual": "max_k |M_k(x) - x_k| / max(1, |x_k|) at the returned state",
    "converged": "converged (small residual, quadrature resolved)",
    "duplicate": "solution found by an earlier start", "equilibrium": "branch of largest free entropy",
    "metastable": "converged, distinct and not the equilibrium", "label": "branch label from the solver",
    "branch": "start of the solver (equilibrium: the branch of largest free entropy)",
    "phase": "phase of the equilibrium branch",
    "line_kind": "kind of transition line", "line_branch": "branch a line ends (spinodals)",
    "line_x": "x of a point on a transition line", "line_y": "y of a point on a transition line",
    "line_index": "index (along dim line) of the line this point is on",
    # two-layer trajectories (sims.twolayer)
    "instance": "instance (independent teacher and student)", "record": "record index along training",
    "student": "student hidden unit", "student2": "student hidden unit (second index)",
    "teacher": "teacher hidden unit", "teacher2": "teacher hidden unit (second index)",
    "steps": "SGD or GD steps taken", "eg": "generalization error (closed form)",
    "eg_mc": "generalization error (Monte Carlo)", "eg_mc_err": "standard error of eg_mc",
    "loss": "training loss", "R": "student-teacher overlap R_ik = w_i.v_k/N",
    "a": "second-layer weights of the student", "n_steps": "steps each instance took",
    "grad_norm": "RMS gradient at the end", "line": "transition line", "line_point": "point on a transition line",
}
#: names that carry no units (flags, labels, indices, counts)
_UNITLESS = {"converged", "duplicate", "equilibrium", "metastable", "label", "branch", "phase", "line_kind",
             "line_branch", "line_index", "instance", "record", "student", "student2", "teacher", "teacher2",
             "steps", "n_steps", "K", "line", "line_point"}


def _long_name(name: str) -> str:
    if name in LONG_NAMES:
        return LONG_NAMES[name]
    if name.endswith("_hat"):
        return f"conjugate of {name[:-4]}"
    return name.replace("_", " ")


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
        var.attrs.setdefault("long_name", _long_name(name))
        if name not in _UNITLESS and np.issubdtype(var.dtype, np.floating):
            var.attrs.setdefault("units", "1")
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
