"""Torch simulations of replica Models at finite N: data from the Model, students (ERM, Monte
Carlo, AMP, storage checks), measurements with error bars, and verification against theory."""
from .data import Data, fresh, sample
from .erm import run_erm
from .measure import extrapolate, generalization_error, overlaps, summarize, training_error
from .montecarlo import run_gibbs
from .storage import crossing, ising_capacities, spherical_sat
from .verify import simulate, simulate_point, verify
from .amp import run_amp

__all__ = ["Data", "sample", "fresh", "run_erm", "run_gibbs", "run_amp", "ising_capacities", "spherical_sat",
           "crossing", "overlaps", "generalization_error", "training_error", "summarize", "extrapolate",
           "simulate", "simulate_point", "verify"]
