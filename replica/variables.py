"""What every variable replica writes is: one table of CF ``long_name`` strings, and which
names carry no units.  It feeds both :meth:`replica.solve.Solution.to_xarray` and the NetCDF
files (:func:`replica.metadata.annotate`: phase diagrams, ``twolayer --out``).

Every quantity of these theories (overlaps, ratios, free entropies, errors) is dimensionless,
CF ``units = "1"``; flags, labels, indices and counts carry no units.  CF conventions:
https://cfconventions.org (``long_name``, ``units``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["LONG_NAMES", "UNITLESS", "NONNEGATIVE", "long_name", "cf_attrs"]

#: observables that are probabilities or squared errors: never below 0 (a value within 1e-12 below
#: 0 at the q = rho end point is a rounding of 1 - sum of weights, written as 0)
NONNEGATIVE = frozenset({"mse", "bayes_error", "gibbs_error", "generalization_error", "training_error",
                         "quadratic_error"})

#: name -> CF long_name of the parameters, order parameters, observables and bookkeeping
#: variables that replica writes (a name not listed: see :func:`long_name`)
LONG_NAMES = {
    # parameters
    "alpha": "sample ratio alpha = P/N", "flip": "label-flip probability epsilon", "T": "temperature T",
    "kappa": "margin kappa", "lam": "ridge penalty lambda", "delta": "label noise variance Delta",
    "K": "number of hidden units K", "beta": "inverse temperature beta", "psi": "feature ratio psi = N/D",
    "rho": "sparsity rho",
    # order parameters
    "q": "overlap of two replicas q = w^a.w^b/N", "m": "teacher-student overlap m = w.w*/N",
    "Q": "self-overlap Q = |w|^2/N", "chi": "response chi = beta (Q - q)",
    "q_hat": "conjugate of q", "m_hat": "conjugate of m", "Q_hat": "conjugate of Q", "chi_hat": "conjugate of chi",
    "q_d": "diagonal part q_d of the committee overlap q_d I + (q_a/K) J (specialization)",
    "q_a": "all-ones part q_a of the committee overlap q_d I + (q_a/K) J",
    "q_hat_d": "conjugate of q_d", "q_hat_a": "conjugate of q_a",
    # free entropy and observables
    "free_entropy": "replica-symmetric free entropy Phi_RS per weight", "entropy": "entropy per weight",
    "replicon": "replicon eigenvalue (RS stable below 1)", "generalization_error": "generalization error",
    "gibbs_error": "generalization error of a posterior sample",
    "bayes_error": "test error of the Bayes classifier argmax_y P(y|x, data)",
    "mse": "mean squared error of the weights |w - w*|^2/N", "training_error": "training error",
    "training_loss": "training loss per example", "quadratic_error": "quadratic generalization error",
    # solver status
    "residual": "max_k |M_k(x) - x_k| / max(1, |x_k|) at the returned state",
    "converged": "converged (residual below tolerance and quadrature resolved)",
    "iterations": "iterations of the solver",
    "duplicate": "solution found by an earlier start", "equilibrium": "branch of largest free entropy",
    "metastable": "converged, distinct and not the equilibrium", "label": "branch label from the solver",
    "branch": "start of the solver (equilibrium: the branch of largest free entropy)",
    # phase diagrams
    "phase": "phase of the equilibrium branch",
    "line": "transition line", "line_point": "point on a transition line",
    "line_kind": "kind of transition line", "line_branch": "branch a line ends (spinodals)",
    "line_x": "x of a point on a transition line", "line_y": "y of a point on a transition line",
    "line_index": "index (along dim line) of the line this point is on",
    # two-layer trajectories (sims.twolayer, replica twolayer --out)
    "instance": "instance (independent teacher and student)", "record": "record index along training",
    "student": "student hidden unit", "student2": "student hidden unit (second index)",
    "teacher": "teacher hidden unit", "teacher2": "teacher hidden unit (second index)",
    "steps": "SGD or GD steps taken", "eg": "generalization error (closed form)",
    "eg_mc": "generalization error (Monte Carlo)", "eg_mc_err": "standard error of eg_mc",
    "loss": "training loss", "R": "student-teacher overlap R_ik = w_i.v_k/N",
    "a": "second-layer weights of the student", "n_steps": "steps each instance took",
    "grad_norm": "RMS gradient at the end",
}

#: names that carry no units (flags, labels, indices, counts)
UNITLESS = frozenset({
    "converged", "duplicate", "equilibrium", "metastable", "label", "branch", "phase", "iterations",
    "line", "line_point", "line_kind", "line_branch", "line_index",
    "instance", "record", "student", "student2", "teacher", "teacher2", "steps", "n_steps", "K"})


def long_name(name: str) -> str:
    """The CF long_name of ``name``: from :data:`LONG_NAMES`; ``X_hat`` the conjugate of X;
    else the name with spaces for underscores."""
    if name in LONG_NAMES:
        return LONG_NAMES[name]
    if name.endswith("_hat"):
        return f"conjugate of {name[:-4]}"
    return name.replace("_", " ")


def cf_attrs(name: str, dtype=None) -> dict:
    """CF attributes of a variable or coordinate: ``long_name``, and ``units = "1"`` unless the
    name is in :data:`UNITLESS` or ``dtype`` (when given) is not a floating type."""
    attrs = {"long_name": long_name(name)}
    if name not in UNITLESS and (dtype is None or np.issubdtype(np.dtype(dtype), np.floating)):
        attrs["units"] = "1"
    return attrs
