"""Solution: order parameters, free entropy and observables on a parameter grid, per-point status.

A point that did not converge carries NaN in every array (``converged`` False); it is never
emitted as a number: :meth:`Solution.to_records` writes ``None`` there (JSON ``null``).
The last iterate of such a point is kept in ``last`` for diagnosis only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Solution"]


def _num(v):
    """A JSON-safe float: None for NaN and ±inf."""
    v = float(v)
    return v if math.isfinite(v) else None


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
                        pick(self.last, other.last))

    def take(self, index) -> "Solution":
        """The sub-grid ``index`` (anything that indexes a numpy array of ``shape``)."""
        def t(d):
            return {k: np.asarray(v)[index] for k, v in d.items()}
        return Solution(self.model, self.names, t(self.params), t(self.values), t(self.fixed),
                        t(self.outputs), self.converged[index], self.residual[index],
                        self.iterations[index], self.branch[index], t(self.last))

    def to_records(self) -> list:
        """The ``points`` list of DESIGN.md's ``solve`` JSON: one dict per grid point (C order)
        with the parameters, ``branch``, the order parameters (fixed ones included), the free
        entropy, ``converged``, ``residual`` and the observables.  Values of points that did not
        converge, and infinite conjugates, are ``None``."""
        flat = lambda d: {k: np.broadcast_to(v, self.shape).reshape(-1) for k, v in d.items()}
        params, values, fixed, outputs = flat(self.params), flat(self.values), flat(self.fixed), flat(self.outputs)
        conv = self.converged.reshape(-1)
        res = self.residual.reshape(-1)
        branch = np.broadcast_to(self.branch, self.shape).reshape(-1)
        out = []
        for i in range(conv.size):
            ok = bool(conv[i])
            rec = {k: float(v[i]) for k, v in params.items()}
            rec["branch"] = str(branch[i])
            for k, v in {**fixed, **values}.items():
                rec[k] = _num(v[i]) if ok else None
            rec["free_entropy"] = _num(outputs["free_entropy"][i]) if ok else None
            rec["converged"] = ok
            rec["residual"] = _num(res[i])
            for k, v in outputs.items():
                if k != "free_entropy":
                    rec[k] = _num(v[i]) if ok else None
            out.append(rec)
        return out
