"""Solution: order parameters, free entropy and observables on a parameter grid, per-point status.

A point that did not converge carries NaN in every array (``converged`` False); it is never
emitted as a number: :meth:`Solution.to_records` writes ``None`` there (JSON ``null``).
The last iterate of such a point is kept in ``last`` for diagnosis only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..variables import cf_attrs

__all__ = ["Solution"]


def _num(v):
    """A JSON-safe float: None for NaN and ±inf."""
    v = float(v)
    return v if math.isfinite(v) else None


def _column(v, keep=None) -> list:
    """A flat array as a list of JSON-safe floats: None for NaN, ±inf, and where ``keep`` is
    False (the same values as :func:`_num`, element by element)."""
    a = np.asarray(v, dtype=float).reshape(-1)
    bad = ~np.isfinite(a) if keep is None else ~(np.isfinite(a) & keep)
    col = a.tolist()
    for i in np.flatnonzero(bad).tolist():
        col[i] = None
    return col


@dataclass
class Solution:
    """The solver's answer on a grid of shape ``shape``.

    Attributes
    ----------
    names : the unknowns (``CompiledTheory.unknowns``).
    params : parameter name -> array of ``shape`` (the grid, broadcast).
    values : order parameter -> array (NaN where not converged; ``+inf`` for conjugates that
        diverge on the perfect-recovery branch).
    fixed : order parameters held at a value (Q = 1 for spherical weights) -> array.
    outputs : ``free_entropy`` and the observables -> array (NaN where not converged).
    converged, residual, iterations : per point; residual = max_k |M_k(x) - x_k| / max(1, |x_k|).
    branch : per-point label (``'uninformed'``, ``'informed'``, ``'perfect'``, ...).
    last : last iterate of every point (also of the points that failed), for diagnosis.
    reason : per point, why it is not converged where the solver knows it without iterating
        (e.g. ERM without a ridge on separable data: no minimizer, |w| → ∞), or why a value
        of a converged point is null (the replicon at the perfect end point), else None;
        ``None`` for the whole grid when no point has one.
    """

    model: str
    names: list
    params: dict
    values: dict
    fixed: dict
    outputs: dict
    converged: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    branch: np.ndarray
    last: dict = field(default_factory=dict, repr=False)
    reason: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self):
        return self.converged.shape

    @property
    def free_entropy(self) -> np.ndarray:
        return self.outputs["free_entropy"]

    @property
    def observables(self) -> list:
        return [k for k in self.outputs if k != "free_entropy"]

    def __getitem__(self, name):
        for d in (self.values, self.outputs, self.fixed, self.params):
            if name in d:
                return d[name]
        raise KeyError(name)

    def state(self) -> dict:
        """Order parameters as an ``init`` for another solve (warm start)."""
        return {k: v.copy() for k, v in self.values.items()}

    def where(self, mask, other: "Solution") -> "Solution":
        """This solution with the points of ``mask`` taken from ``other`` (same grid)."""
        m = np.broadcast_to(mask, self.shape)
        pick = lambda a, b: {k: np.where(m, b[k], v) for k, v in a.items()}  # noqa: E731
        return Solution(self.model, self.names, dict(self.params), pick(self.values, other.values),
                        dict(self.fixed), pick(self.outputs, other.outputs),
                        np.where(m, other.converged, self.converged), np.where(m, other.residual, self.residual),
                        np.where(m, other.iterations, self.iterations), np.where(m, other.branch, self.branch),
                        pick(self.last, other.last),
                        None if self.reason is None and other.reason is None else
                        np.where(m, other.reasons(), self.reasons()))

    def reasons(self) -> np.ndarray:
        """``reason`` as an object array of the grid's shape (None where a point has none)."""
        if self.reason is None:
            return np.full(self.shape, None, dtype=object)
        return np.broadcast_to(np.asarray(self.reason, dtype=object), self.shape)

    def take(self, index) -> "Solution":
        """The sub-grid ``index`` (anything that indexes a numpy array of ``shape``)."""
        def t(d):
            return {k: np.asarray(v)[index] for k, v in d.items()}
        return Solution(self.model, self.names, t(self.params), t(self.values), t(self.fixed),
                        t(self.outputs), self.converged[index], self.residual[index],
                        self.iterations[index], self.branch[index], t(self.last),
                        None if self.reason is None else self.reasons()[index])

    def to_records(self) -> list:
        """The ``points`` list of DESIGN.md's ``solve`` JSON: one dict per grid point (C order)
        with the parameters, ``branch``, the order parameters (fixed ones included), the free
        entropy, ``converged``, ``residual`` and the observables, and ``reason`` (a sentence, or
        None) when some point has one.  Values of points that did not converge, and infinite
        conjugates, are ``None``."""
        flat = lambda d: {k: np.broadcast_to(v, self.shape).reshape(-1) for k, v in d.items()}
        params, values, fixed, outputs = flat(self.params), flat(self.values), flat(self.fixed), flat(self.outputs)
        conv = self.converged.reshape(-1).astype(bool)
        # column by column (tolist: Python floats in one C pass), then zipped into records
        cols = {k: np.asarray(v, dtype=float).tolist() for k, v in params.items()}
        cols["branch"] = [str(b) for b in np.broadcast_to(self.branch, self.shape).reshape(-1)]
        for k, v in {**fixed, **values}.items():
            cols[k] = _column(v, conv)
        if "free_entropy" in outputs:
            cols["free_entropy"] = _column(outputs["free_entropy"], conv)
        cols["converged"] = conv.tolist()
        cols["residual"] = _column(self.residual.reshape(-1))
        for k, v in outputs.items():
            if k != "free_entropy":
                cols[k] = _column(v, conv)
        if self.reason is not None:
            cols["reason"] = [None if r is None else str(r) for r in self.reasons().reshape(-1)]
        names = list(cols)
        return [dict(zip(names, row)) for row in zip(*cols.values())]

    def _dims(self) -> tuple[list, dict]:
        """Dimension names and coordinates: a parameter that varies along one grid axis only
        names that axis (its values the coordinate); one constant on the grid is a scalar
        coordinate; one that varies along several axes a coordinate over all of them."""
        shape = self.shape
        dims = [f"dim_{i}" for i in range(len(shape))]
        grids = {k: np.broadcast_to(np.asarray(v, float), shape) for k, v in self.params.items()}
        axes = {}
        for k, a in grids.items():
            varying = [i for i in range(a.ndim) if not np.all(a == a.take([0], axis=i))]
            if len(varying) == 1 and varying[0] not in axes.values():
                axes[k] = varying[0]
                dims[varying[0]] = k
        coords = {}
        for k, a in grids.items():
            if k in axes:
                i = axes[k]
                coords[k] = (k, a[tuple(slice(None) if j == i else 0 for j in range(a.ndim))].copy(), cf_attrs(k))
            elif np.all(a == a.reshape(-1)[0]) if a.size else True:
                coords[k] = ((), float(a.reshape(-1)[0]) if a.size else np.nan, cf_attrs(k))
            else:
                coords[k] = (tuple(dims), a.copy(), cf_attrs(k))
        return dims, coords

    def to_xarray(self):
        """The solution as an :class:`xarray.Dataset`: one dimension per grid axis, named by the
        parameter that varies along it; the order parameters (fixed ones included), the free
        entropy, the observables, ``converged``, ``residual``, ``iterations`` and ``branch`` as
        variables (NaN where a point did not converge), CF ``long_name``/``units`` on each."""
        import xarray as xr                # xarray only when asked for (start-up time)
        dims, coords = self._dims()
        shape = self.shape

        def var(k, v, dtype=float):
            return (dims, np.broadcast_to(np.asarray(v, dtype), shape).copy(), cf_attrs(k, dtype))
        data = {k: var(k, v) for k, v in {**self.fixed, **self.values, **self.outputs}.items()}
        data["converged"] = var("converged", self.converged, bool)
        data["residual"] = var("residual", self.residual)
        data["iterations"] = var("iterations", self.iterations, int)
        data["branch"] = var("branch", self.branch, str)
        return xr.Dataset(data, coords=coords, attrs={"model": self.model, "unknowns": ", ".join(self.names)})

    def to_pandas(self):
        """The solution as a :class:`pandas.DataFrame`, one row per grid point (C order) with the
        parameters, ``branch``, the order parameters, the free entropy, ``converged``,
        ``residual`` and the observables (NaN where a point did not converge)."""
        import pandas as pd                # pandas only when asked for (start-up time)
        flat = lambda d, dt=float: {k: np.broadcast_to(np.asarray(v, dt), self.shape).reshape(-1)  # noqa: E731
                                    for k, v in d.items()}
        cols = {**flat(self.params), "branch": np.broadcast_to(self.branch, self.shape).reshape(-1),
                **flat(self.fixed), **flat(self.values), **flat(self.outputs),
                "converged": self.converged.reshape(-1), "residual": self.residual.reshape(-1),
                "iterations": np.asarray(self.iterations).reshape(-1)}
        return pd.DataFrame(cols)
