"""Training dynamics in the high-dimensional limit.

* :mod:`.gaussian` — the Gaussian averages I2, I3, I4 of an activation (tensor Gauss–Hermite
  quadrature for any activation; Saad & Solla's closed forms for erf units);
* :mod:`.sgd` — online SGD of soft committee machines: the ODEs for the overlaps Q, R
  (Saad & Solla 1995; Goldt et al. 2019), integrated with an adaptive solver;
* :mod:`.dmft` — the dynamical mean-field theory of gradient flow and Langevin dynamics of the
  spherical spiked matrix-tensor model (Sarao Mannelli et al. 2019), on a two-time grid;
* :mod:`.models` — the dynamical built-ins ``soft-committee-sgd`` and ``spiked-matrix-tensor``.
"""
from .gaussian import Activation, activation
from .models import DYNAMICAL, DynamicalModel, load_dynamical
from .sgd import SGDTrajectory, integrate_sgd, plateau
from .dmft import (DMFTSolution, gradient_flow_threshold, gradient_flow_threshold_closed_form,
                   gradient_flow_threshold_from_rates, growth_rate, integrate_dmft)
from .statics import static_thresholds

__all__ = ["Activation", "activation", "SGDTrajectory", "integrate_sgd", "plateau", "DYNAMICAL", "DynamicalModel",
           "load_dynamical", "DMFTSolution", "integrate_dmft", "gradient_flow_threshold",
           "gradient_flow_threshold_closed_form", "gradient_flow_threshold_from_rates", "growth_rate", "static_thresholds"]
