"""The ``replica`` command line.

``_base`` holds the command group, the one place where input errors become
``replica: error: <message>`` with exit code 2, and the parsing of ``--set`` / ``--sweep`` /
``--range`` values (numbers only: nothing from the command line is ever evaluated).  Each
further module registers its commands on :data:`main`.
"""
from ._base import main
from . import info  # noqa: F401  (list, derive)
from . import phase  # noqa: F401
from . import solving  # noqa: F401  (solve, transition)
from . import sims  # noqa: F401  (simulate, verify)
from . import twolayer  # noqa: F401  (twolayer: SGD / GD training of two-layer networks)
from . import dynamics  # noqa: F401  (dynamics: online-SGD ODEs, DMFT)

__all__ = ["main"]
