"""replica — symbolic-plus-numeric replica calculations for the statistical physics of learning.

State a model from components; ``derive`` gives its replica-symmetric free entropy and
saddle-point equations (SymPy), ``Theory.compile`` a vectorized NumPy (or torch) solver,
``replica.solve`` its fixed points, branches and transitions, ``phase_diagram`` whole planes.
"""
from . import channels, learning, losses, priors
from .model import Model, ModelError, load_model
from .params import Domain, ParameterError
from ._component import ComponentError
from .theory import Theory, derive
from .phase import phase_diagram

__version__ = "0.1.0"

__all__ = ["priors", "channels", "losses", "learning", "Model", "load_model", "derive", "Theory",
           "Domain", "ParameterError", "ComponentError", "ModelError", "phase_diagram"]
