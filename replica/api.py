"""The notebook front door: one call per step of the data flow, each taking a model in any form.

``model`` everywhere is a built-in name (``"ising-bayes"``), ``"path/to/file.py[:variable]"``,
a :class:`replica.Model`, a derived :class:`replica.Theory` or a compiled one.

>>> import replica
>>> th = replica.derive("gardner")                        # Φ_RS and the saddle point (SymPy)
>>> sol = replica.solve("gardner", {"alpha": [0.5, 1.0], "kappa": 0.0})
>>> sol.to_pandas()[["alpha", "q", "converged"]]          # doctest: +SKIP
>>> replica.transitions("gardner", "alpha", fixed={"kappa": 0.0})   # doctest: +SKIP
[{'kind': 'capacity', 'value': 2.0, ...}]

``replica.simulate`` and ``replica.verify`` (torch) are :func:`sims.simulate` and
:func:`sims.verify`, resolved on first use (see ``replica/__init__.py``).
"""
from __future__ import annotations

from .solve.fixed_point import solve as _solve
from .solve.solution import Solution
from .solve.transitions import compiled_part, find_transitions

__all__ = ["solve", "transitions", "compiled"]


def compiled(model, part: str = "main"):
    """The generated solver of ``model`` (a :class:`replica.theory.CompiledTheory`), from the
    on-disk cache when it is there; ``part="capacity"``: its q -> 1 capacity theory (storage
    problems with a hard constraint), ``None`` where there is none."""
    return compiled_part(model, part)


def solve(model, params: dict | None = None, init="uninformed", **options) -> Solution:
    """Solve the replica-symmetric saddle-point equations of ``model`` on a parameter grid.

    Parameters
    ----------
    model : a built-in name, ``"file.py[:variable]"``, a Model, a Theory or a compiled theory.
    params : parameter name -> number or array; arrays broadcast against each other (use
        ``numpy.meshgrid`` or shapes ``(n, 1)`` and ``(1, m)`` for a plane); parameters not given
        take the model's defaults.
    init : ``"uninformed"`` (q, m near 0), ``"informed"`` (near perfect recovery) or a dict of
        starting values such as ``Solution.state()``.
    **options : passed to :func:`replica.solve.solve` (``tol``, ``nodes``, ``rule``, ``damping``,
        ``max_iter``, ...).

    Returns
    -------
    Solution : order parameters, ``free_entropy`` and observables as arrays of the grid's shape,
        with ``converged`` and ``residual`` per point (NaN where a point did not converge —
        never a number); ``to_xarray()``, ``to_pandas()``, ``to_records()``.

    Examples
    --------
    >>> import numpy as np, replica
    >>> sol = replica.solve("ising-bayes", {"alpha": np.linspace(0.5, 1.2, 8), "flip": 0.0})
    >>> bool(sol.converged.all())
    True
    >>> df = sol.to_pandas()                               # one row per grid point
    """
    return _solve(compiled_part(model), params, init, **options)


def transitions(model, along: str = "alpha", range=None, fixed: dict | None = None, *, kinds=None,
                **options) -> list:
    """Every transition of ``model`` along the parameter ``along``, each located by root finding.

    Parameters
    ----------
    model : a built-in name, ``"file.py[:variable]"``, a Model, a Theory or a compiled theory.
    along : the parameter that varies (``"alpha"`` by default).
    range : ``(lo, hi)`` searched (default: the parameter's declared domain, clipped).
    fixed : the other parameters (the model's defaults for those not given).
    kinds : any of ``"capacity"``, ``"first_order"``, ``"spinodal"``, ``"weak_recovery"``,
        ``"rs_instability"`` (default: every kind that applies to the model).
    **options : ``nodes``, ``rule`` — the quadrature.

    Returns
    -------
    list of dicts ``{"kind", "value", ...}`` sorted by value; a kind that applies but could not be
    located has ``"value": None`` and an ``"error"``.

    Examples
    --------
    >>> import replica
    >>> [t["kind"] for t in replica.transitions("gardner", "alpha", fixed={"kappa": 0.0})]  # doctest: +SKIP
    ['capacity']
    >>> replica.transitions("ising-bayes", "alpha", range=(0.5, 2.0))   # doctest: +SKIP
    [{'kind': 'first_order', 'value': 1.24468, ...}, {'kind': 'spinodal', 'value': 1.49263, ...}]
    """
    return find_transitions(model, along, range, fixed, kinds=kinds, **options)
