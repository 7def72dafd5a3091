"""Torch simulations of replica Models at finite N: data from the Model, students (ERM, Monte
Carlo, AMP, storage checks; committee AMP; two-layer networks by online SGD / GD), measurements
with error bars, and verification against theory."""
from .data import Data, fresh, sample
from .erm import run_erm
from .measure import extrapolate, generalization_error, overlaps, summarize, training_error
from .montecarlo import run_gibbs
from .storage import crossing, ising_capacities, spherical_sat
from .verify import figure, simulate, simulate_point, verify
from .amp import run_amp
from .committee import committee_observables, run_committee_amp, sample_committee
from .twolayer import (TwoLayerRun, generalization_error_closed, generalization_error_mc, make_teacher,
                       matched_overlaps, order_parameters, run_gd, run_online_sgd)

__all__ = ["Data", "sample", "fresh", "run_erm", "run_gibbs", "run_amp", "ising_capacities", "spherical_sat",
           "crossing", "overlaps", "generalization_error", "training_error", "summarize", "extrapolate",
           "simulate", "simulate_point", "verify", "figure", "sample_committee", "run_committee_amp", "committee_observables",
           "make_teacher", "run_online_sgd", "run_gd", "TwoLayerRun", "generalization_error_closed",
           "generalization_error_mc", "order_parameters", "matched_overlaps"]
