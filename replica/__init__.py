"""replica — symbolic-plus-numeric replica calculations for the statistical physics of learning.

State a model from components; ``derive`` gives its replica-symmetric free entropy and
saddle-point equations (SymPy), ``Theory.compile`` a vectorized NumPy (or torch) solver,
``solve`` its fixed points, ``transitions`` its transitions, ``phase_diagram`` whole planes,
``simulate`` and ``verify`` torch simulations of the same model against the theory.

>>> import replica
>>> th = replica.derive("ising-bayes")            # in Jupyter, ``th`` displays the derivation
>>> sol = replica.solve(th, {"alpha": [1.0, 1.5], "flip": 0.0})
>>> sol.to_pandas()                               # doctest: +SKIP

``simulate`` and ``verify`` live in the package ``sims`` (torch), which builds on this one; they
are looked up there on first use (PEP 562), so ``import replica`` neither imports torch nor
makes ``replica`` depend on ``sims`` at import time.
"""
import importlib

__version__ = "0.1.0"   # before the imports: modules of the package read it while it loads

from . import channels, learning, losses, priors
from .model import Model, ModelError, load_model
from .params import Domain, ParameterError
from ._component import ComponentError
from .theory import Theory, derive
from .phase import phase_diagram
from .api import compiled, solve, transitions

__all__ = ["priors", "channels", "losses", "learning", "Model", "load_model", "derive", "Theory",
           "Domain", "ParameterError", "ComponentError", "ModelError", "phase_diagram", "solve",
           "transitions", "compiled", "simulate", "verify"]

#: names served from ``sims`` (torch simulations), resolved on first access
_FROM_SIMS = ("simulate", "verify")


def __getattr__(name):
    if name in _FROM_SIMS:
        return getattr(importlib.import_module("sims"), name)
    raise AttributeError(f"module 'replica' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FROM_SIMS))
