"""``--rule`` and ``--nodes``: the quadrature options of ``solve``, ``transition`` and
``phase-diagram``, validated before any work.

Rules (``replica.solve.problem.DEFAULT_NODES``): ``auto`` converges with 96-node Gauss–Hermite
and polishes with composite Gauss–Legendre; ``hermite`` (at most 300 nodes: its weights
underflow beyond); ``legendre``, composite 8-point Gauss–Legendre on [-12, 12]; ``adaptive``,
the feature-adapted rule of ``replica.codegen.rules`` (panels graded from the width √(1 - q) of
each narrow feature, split at kinks).  Whatever the rule, each converged point is checked with
the adaptive rule (``replica.solve.acceptance``) and an unresolved one re-solved with it.
"""
from __future__ import annotations

import click

from ..solve.acceptance import check_rule
from ..solve.problem import quadrature
from ._base import CLIInputError

__all__ = ["RULES", "HERMITE_MAX", "rule_option", "nodes_option", "check_quadrature", "rule_nodes", "quadrature_doc"]

RULES = ("auto", "hermite", "legendre", "adaptive")
#: Gauss-Hermite weights underflow beyond this many nodes
HERMITE_MAX = 300

_RULE_HELP = ("Quadrature rule: 'auto' converges with Gauss-Hermite, then polishes with composite "
              "Gauss-Legendre (accurate to ~1e-10 where features are not narrower than its panels); "
              "'hermite' alone is fastest where integrands are smooth and broad; 'adaptive' grades "
              "its panels from the width sqrt(1 - q) of each narrow feature (q -> 1). Every "
              "converged point is checked with the adaptive rule and re-solved with it where the "
              "rule does not resolve it.")


def rule_option(default: str = "auto"):
    return click.option("--rule", type=click.Choice(RULES), default=default, show_default=True, help=_RULE_HELP)


def nodes_option(default: int | None = None, lo: int = 4, hi: int = 100000):
    return click.option("--nodes", type=click.IntRange(lo, hi), default=default, show_default=default is not None,
                        help="Quadrature nodes per Gaussian expectation [default: 96 Gauss-Hermite, 400 "
                             f"Gauss-Legendre or adaptive; Gauss-Hermite at most {HERMITE_MAX}].")


def check_quadrature(nodes, rule) -> None:
    """Refuse a rule outside ``RULES`` and Gauss-Hermite beyond ``HERMITE_MAX`` nodes."""
    if rule not in RULES:
        raise CLIInputError(f"--rule {rule!r}: use one of {', '.join(RULES)}")
    if rule == "hermite" and nodes is not None and nodes > HERMITE_MAX:
        raise CLIInputError(f"--nodes {nodes}: Gauss-Hermite weights overflow beyond {HERMITE_MAX} nodes; "
                            "use --rule legendre or adaptive for more")


def rule_nodes(nodes, rule) -> int:
    """The nodes a rule runs with: ``nodes``, or the rule's default (96 Gauss-Hermite, 400 else)."""
    return quadrature(nodes, rule)[0]


def quadrature_doc(nodes, rule) -> dict:
    """The JSON ``quadrature`` entry: the rule, its nodes, the stages of ``auto``, and the check
    (and re-solve) rule."""
    n, concrete = quadrature(nodes, rule)
    doc = {"rule": rule, "nodes": n}
    if rule == "auto":
        doc["stages"] = ["hermite 96", f"legendre {n}"]
    cn, cr = check_rule(n, concrete)
    doc["check"] = f"{cr} {cn}"
    return doc
