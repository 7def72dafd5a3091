"""Numerical solution of derived theories, vectorized over parameter grids.

* :func:`solve` — fixed points with adaptive damping, safeguarded Anderson acceleration and
  Newton polishing, per-point convergence status (``fixed_point``);
* :class:`Solution` — order parameters, free entropy, observables, ``to_records()`` for JSON;
* :func:`solve_branches` — several starts, coinciding branches merged, equilibrium by the
  largest free entropy (``branches``);
* :func:`sweep` — continuation along one parameter (``continuation``);
* :func:`find_transitions` and the individual locators (``transitions``).
"""
from .branches import Branches, solve_branches
from .continuation import sweep
from .fixed_point import solve
from .solution import Solution
from .transitions import (TransitionError, capacity, find_transitions, first_order, rs_instability,
                          spinodal, weak_recovery)

__all__ = ["solve", "Solution", "solve_branches", "Branches", "sweep", "find_transitions",
           "capacity", "first_order", "spinodal", "weak_recovery", "rs_instability", "TransitionError"]
