"""A phase diagram as an :class:`xarray.Dataset`, its phases, NetCDF and JSON forms.

Layout (``x``, ``y`` stand for the two parameter names, e.g. ``alpha`` and ``flip``)::

    dims:   branch (equilibrium, uninformed, informed, ...), y, x, line, line_point
    <order parameter>, free_entropy, <observables>, residual   (branch, y, x)  float, NaN where
                                                                                not converged
    converged, duplicate, equilibrium, metastable               (branch, y, x)  bool
    label                                                       (branch, y, x)  the solver's
                                                                per-point branch ('perfect', ...)
    phase                                                       (y, x)  int code; ``phase_names``
    line_kind, line_branch                                      (line)
    line_x, line_y, line_index                                  (line_point) the traced lines,
                                                                concatenated (``line_index``
                                                                says which line a point is on)

``branch="equilibrium"`` holds, at every point, the branch of largest free entropy; the others
are the solutions from each initial condition (``duplicate`` where a start found a branch an
earlier one had; ``metastable`` where it is converged, distinct and not the equilibrium).
Every coordinate and variable has a CF ``long_name`` (and ``units`` where meaningful,
:func:`replica.metadata.annotate`).  Attributes: the model's statement
(:func:`replica.metadata.model_statement`: component reprs, defaults, Φ_RS in LaTeX, replica's
version, ``model_key`` — the cache key of the generated module —, a model file's text), theory
kind, ``derivation_sha256`` (the sha256 of the generated source), the fixed parameters, the
quadrature, package versions, and ``lines_json`` (the traced lines as JSON).
"""
from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from ..metadata import annotate, model_statement

__all__ = ["PHASES", "build_dataset", "phases", "lines", "to_json", "save", "load"]

#: phase code -> name (``phase`` variable; ``flag_values`` / ``flag_meanings`` in NetCDF)
PHASES = {
    0: "not converged",
    1: "uninformative",
    2: "partial recovery",
    3: "perfect recovery, hard (metastable partial branch)",
    4: "perfect recovery",
    5: "SAT",
    6: "UNSAT",
    7: "single branch",
    8: "unspecialized",
    9: "specialized",
}
_UNINFORMATIVE = 1e-6


def _stack(rows: list, label: str, key: str, fill):
    """(n_y, n_x) array of ``key`` of start ``label`` over the rows (``fill`` where absent)."""
    out = []
    for r in rows:
        rec = r.get(label, {})
        n = len(next(iter(r.values()))["converged"])
        out.append(rec[key] if key in rec else np.full(n, fill))
    return np.stack(out)


def phases(ds, kind: str, discrete_prior: bool) -> np.ndarray:
    """Phase code at every (y, x) from the equilibrium branch (see :data:`PHASES`).

    * storage: SAT where the equilibrium solution exists (for discrete weights: with a
      non-negative RS entropy, Krauth & Mézard 1989), UNSAT elsewhere — past the capacity the
      solution does not exist (q -> 1);
    * teacher-student theories with a replica overlap: perfect recovery where the equilibrium
      is the perfect branch (hard where a converged imperfect branch coexists, metastable: the
      algorithmic gap between the first-order line and the spinodal); uninformative where its
      overlap (m, else q) is below 1e-6; partial recovery otherwise; committee machines
      (overlap matrix q_d I + (q_a/K) J): unspecialized where q_d is below 1e-6 (every hidden
      unit alike), specialized otherwise;
    * theories with one branch (ERM, ...): 'single branch' where converged."""
    eq = ds.sel(branch="equilibrium")
    conv = eq["converged"].values
    code = np.zeros(conv.shape, np.int8)
    if kind == "storage":
        sat = conv.copy()
        if discrete_prior and "entropy" in eq:
            sat &= eq["entropy"].values >= 0
        return np.where(sat, 5, 6).astype(np.int8)
    starts = [b for b in ds.branch.values if b != "equilibrium"]
    if len(starts) < 2:
        return np.where(conv, 7, 0).astype(np.int8)
    perfect = conv & (eq["label"].values == "perfect")
    meta = np.zeros(conv.shape, bool)
    # hard: the algorithmic (uninformed) start stays on an imperfect branch; without that start,
    # any metastable imperfect branch (a committee's unspecialized fixed point beyond its
    # specialization instability is not one: AMP leaves it)
    if "uninformed" in starts:
        s = ds.sel(branch="uninformed")
        meta = s["converged"].values & (s["label"].values != "perfect")
    else:
        for b in starts:
            s = ds.sel(branch=b)
            meta |= s["metastable"].values & (s["label"].values != "perfect")
    with np.errstate(invalid="ignore"):
        if "q_d" in eq:
            code[conv & ~perfect] = 9
            code[conv & ~perfect & (np.abs(eq["q_d"].values) < _UNINFORMATIVE)] = 8
        else:
            ov = eq["m"].values if "m" in eq else eq["q"].values
            code[conv & ~perfect] = 2
            code[conv & ~perfect & (np.abs(ov) < _UNINFORMATIVE)] = 1
    code[perfect] = 4
    code[perfect & meta] = 3
    return code


def build_dataset(compiled, x_name, xs, y_name, ys, fixed, rows, line_list, *, opts, kinds,
                  errors=()) -> "xarray.Dataset":
    """The Dataset of a phase diagram from the per-row results of :func:`grid.solve_row`."""
    import xarray as xr
    labels = list(rows[0])
    keys = [k for k in rows[0][labels[0]] if k not in ("converged", "duplicate", "equilibrium", "label")]
    dims = ("branch", y_name, x_name)
    data = {}
    for k in keys:
        data[k] = (dims, np.stack([_stack(rows, lab, k, np.nan) for lab in labels]))
    for k in ("converged", "duplicate", "equilibrium"):
        data[k] = (dims, np.stack([_stack(rows, lab, k, False) for lab in labels]).astype(bool))
    data["label"] = (dims, np.stack([_stack(rows, lab, "label", "") for lab in labels]).astype(str))
    conv, dup, eqm = data["converged"][1], data["duplicate"][1], data["equilibrium"][1]
    meta = conv & ~dup & ~eqm
    meta[0] = False
    data["metastable"] = (dims, meta)
    ds = xr.Dataset(data, coords={"branch": labels, x_name: np.asarray(xs, float),
                                  y_name: np.asarray(ys, float)})
    discrete = bool(getattr(compiled.model.prior, "atoms", ())) and getattr(compiled.model.prior, "density", 1) == 0
    ds["phase"] = ((y_name, x_name), phases(ds, compiled.kind, discrete))
    present = sorted(set(np.unique(ds["phase"].values).tolist()))
    ds["phase"].attrs.update(
        flag_values=np.array(sorted(PHASES), np.int8),
        flag_meanings=" ".join(_flag(PHASES[k]) for k in sorted(PHASES)),
        present=", ".join(PHASES[k] for k in present))
    _add_lines(ds, line_list)
    ds.attrs.update(_attrs(compiled, x_name, y_name, fixed, opts, kinds, line_list, errors))
    ds.attrs.update(model_statement(compiled.model, compiled))
    return annotate(ds)


def _flag(name: str) -> str:
    """A phase name as a CF flag meaning: one word of letters, digits and underscores."""
    return "_".join("".join(ch if ch.isalnum() else " " for ch in name).split())


def _add_lines(ds, line_list):
    xs = [x for l in line_list for x in l["x"]]
    ys = [y for l in line_list for y in l["y"]]
    idx = [i for i, l in enumerate(line_list) for _ in l["x"]]
    ds["line_kind"] = ("line", np.array([l["kind"] for l in line_list], dtype=str))
    ds["line_branch"] = ("line", np.array([l.get("branch") or "" for l in line_list], dtype=str))
    ds["line_x"] = ("line_point", np.array(xs, float))
    ds["line_y"] = ("line_point", np.array(ys, float))
    ds["line_index"] = ("line_point", np.array(idx, np.int32))


def _versions() -> dict:
    import importlib.metadata as md
    out = {}
    for p in ("replica", "numpy", "scipy", "sympy", "xarray", "dask", "distributed", "matplotlib"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    return out


def _attrs(compiled, x_name, y_name, fixed, opts, kinds, line_list, errors) -> dict:
    return {
        "title": f"replica phase diagram of {compiled.model.name} over ({x_name}, {y_name})",
        "model": compiled.model.name,
        "description": getattr(compiled.model, "description", "") or "",
        "theory_kind": compiled.kind,
        "x": x_name, "y": y_name,
        "derivation_sha256": hashlib.sha256(compiled.source.encode()).hexdigest(),
        "parameters_json": json.dumps({k: float(v) for k, v in fixed.items()}),
        "quadrature_json": json.dumps(opts),
        "transition_kinds": "default" if kinds is None else ",".join(kinds),
        "versions_json": json.dumps(_versions()),
        "lines_json": json.dumps(line_list),
        "errors_json": json.dumps(list(errors)),
        "Conventions": "CF-1.8",
    }


def lines(ds) -> list:
    """The traced lines, ``[{"kind", "branch", "x": [...], "y": [...]}]``."""
    return json.loads(ds.attrs["lines_json"])


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def to_json(ds) -> dict:
    """The ``phase-diagram`` JSON document of DESIGN.md (extra keys: the grid, phases per point
    with their names, the fixed parameters, errors met while locating transitions)."""
    x, y = ds.attrs["x"], ds.attrs["y"]
    return {
        "model": ds.attrs["model"], "x": x, "y": y,
        "parameters": json.loads(ds.attrs["parameters_json"]),
        "lines": lines(ds),
        "grid": {x: [_num(v) for v in ds[x].values], y: [_num(v) for v in ds[y].values]},
        "phase_names": {str(k): v for k, v in PHASES.items()},
        "phase": ds["phase"].values.astype(int).tolist(),
        "converged_fraction": {str(b): float(ds["converged"].sel(branch=b).mean()) for b in ds.branch.values},
        "derivation_sha256": ds.attrs["derivation_sha256"],
        "errors": json.loads(ds.attrs["errors_json"]),
    }


def save(ds, path) -> None:
    """Write NetCDF (netCDF4 through h5netcdf or netCDF4 when installed, else NetCDF-3 with
    SciPy's writer; booleans and strings are encoded by xarray and decoded back by :func:`load`)."""
    engine = None
    for mod, eng in (("netCDF4", "netcdf4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(mod)
            engine = eng
            break
        except ImportError:
            continue
    ds.to_netcdf(path, engine=engine or "scipy")


def load(path) -> "xarray.Dataset":
    """Read a phase diagram written by :func:`save` (fully into memory)."""
    import xarray as xr
    with xr.open_dataset(path) as ds:
        return ds.load()
