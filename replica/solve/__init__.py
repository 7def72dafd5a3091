"""Numerical solution of derived theories: fixed points over parameter grids, branches,
continuation and transitions (see the module docstrings for the maths)."""
from .fixed_point import solve
from .solution import Solution

__all__ = ["solve", "Solution"]
