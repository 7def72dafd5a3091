"""Committee machines (issue 6): K hidden units, fully connected, Bayes-optimal.

The public paths are those of every model: the built-ins ``committee-bayes`` (Gaussian
weights) and ``committee-ising-bayes`` (±1 weights), label the sign of the sum of the K
signs, parameters ``alpha`` and ``K`` (an integer ≥ 1, default 2)::

    >>> import replica
    >>> from replica.solve import solve
    >>> th = replica.derive("committee-bayes")          # a CommitteeTheory (K = 2)
    >>> sol = solve(th.compile(), {"alpha": [1.0, 3.0], "K": 2})
    >>> sol["q_d"], sol["generalization_error"]

and on the command line ``replica solve committee-bayes --set K=3 --sweep alpha=1:4:7``,
``replica transition committee-ising-bayes --along alpha --set K=2``.  ``replica.derive``
sends a model whose teacher is a :class:`CommitteeRule` (or with ``hidden_units > 1``) here;
``replica.solve.solve``, ``solve_branches`` and ``find_transitions`` hand the theory to its
``solver`` (:class:`CommitteeSolver`); ``K`` other than the model's own is solved by the
theory of that K (``with_hidden_units``).  Custom rules::

    >>> from replica.committee import committee_model, hidden_fields
    >>> h = hidden_fields(2)
    >>> th = replica.derive(committee_model(2, "gaussian", sympy.sign(h[0]) * sympy.sign(h[1])))

Modules: ``models`` (CommitteeRule, constructors, the K domain), ``ansatz`` (the
permutation-symmetric algebra d I + (a/K) J), ``derive`` (free entropy and maps from the
components; output-side quadrature), ``lower`` (the generated output kernel: Z_out and ∇Z_out
from the rule for V = aI + bJ by a common shift), ``orthant`` (orthant probabilities: the K ≤ 2
closed forms and any covariance, for the simulations) and ``quadrature`` (K-dimensional Gaussian
expectations: product, graded line and slab rules, their lower orders for the accuracy
estimate), ``solve`` (state evolution, branches, transitions, the accuracy estimate of every
point, the shared-solver adapter).
"""
from ..learning import ERM, Gibbs
from ..symbolic.derive import DerivationError
from .derive import CommitteeTheory, derive_committee
from .gibbs import GibbsCommitteeTheory, committee_gibbs, derive_gibbs_committee
from .models import (CommitteeRule, IntegerDomain, committee_bayes, committee_ising_bayes,
                     committee_model, hidden_fields, parity_bayes, with_hidden_units)
from .largek import LargeKTheory, Subspace, count_labels, effective_overlap, large_k_theory
from .solve import (CommitteeSolution, CommitteeSolver, committee_transitions, solve_branches,
                    solve_committee, stability)

__all__ = ["derive_committee_model", "committee_gibbs", "derive_gibbs_committee", "GibbsCommitteeTheory",
           "committee_model", "committee_bayes", "committee_ising_bayes", "parity_bayes",
           "CommitteeRule", "IntegerDomain", "hidden_fields", "with_hidden_units", "derive_committee",
           "CommitteeTheory", "solve_committee", "solve_branches", "committee_transitions", "stability",
           "CommitteeSolution", "CommitteeSolver", "LargeKTheory", "Subspace", "large_k_theory",
           "count_labels", "effective_overlap"]


def derive_committee_model(model):
    """The theory of a committee ``model``: Gibbs learning (``learning.Gibbs``) by
    :func:`derive_gibbs_committee`, Bayes-optimal by :func:`derive_committee`; ERM is refused
    with the reason."""
    if isinstance(model.learning, Gibbs):
        return derive_gibbs_committee(model)
    if isinstance(model.learning, ERM):
        raise DerivationError(
            "committee machines: ERM is not derived — the committee's output f(λ) is not a pre-activation, "
            "so a loss on it is piecewise constant in the weights (its minimizers are the version space: "
            "learning.Gibbs(0, losses.Errors()) on committee_gibbs), and a convex loss on the K hidden fields "
            "makes a non-convex problem in W for which the RS zero-temperature limit is not derived")
    return derive_committee(model)
