"""Committee machines as Models: K hidden units, fully connected, an output rule of the K fields.

The teacher computes the K hidden pre-activations h_k = w*_k · x/√N and emits
y = f(h_1, ..., h_K), f a SymPy expression of the symbols ``hidden_fields(K)``:

* ``"sign"`` — the committee machine  y = sign(Σ_k sign h_k).  For even K the sum can vanish;
  the tie rule ``tie="zero"`` keeps sign(0) = 0 as a third label (y ∈ {-1, 0, 1}, the
  convention of Aubin et al. 2018 for K = 2), ``tie=+1`` / ``tie=-1`` sends ties to that label;
* ``"parity"`` — the parity machine  y = Π_k sign h_k;
* any SymPy expression of the fields (a custom rule goes through the same code path).

The per-unit prior (``Gaussian``, ``Ising`` or any :mod:`replica.priors` prior) is shared by
the K weight vectors, independently across units.

``K`` is a model parameter (``Model.parameters`` lists it after ``alpha``, with the domain
:class:`IntegerDomain`, default ``hidden_units``): the rule declares it.  A named rule
(``"sign"``, ``"parity"``) is rebuilt for any K by :func:`with_hidden_units`, so
``replica solve committee-bayes --set K=3`` solves the K = 3 theory; a custom expression is
written for its own K, whose domain is that single value.
"""
from __future__ import annotations

import itertools
import math

import sympy as sp

from .. import learning, priors
from .._component import ComponentError
from ..channels import Channel
from ..model import Model
from ..params import Domain, ParameterError
from ..symbols import y as Y
from .ansatz import K_SYMBOL

__all__ = ["hidden_fields", "CommitteeRule", "SoftCommitteeRule", "committee_model", "committee_bayes",
           "committee_ising_bayes", "parity_bayes", "soft_committee_model", "soft_committee_bayes",
           "IntegerDomain", "with_hidden_units", "MAX_K", "MAX_SOFT_K"]

#: the largest K the numerics handle (product quadrature over K dimensions: nodes^K points)
MAX_K = 5
#: the largest K of the soft committee (its output side is a K-dimensional inner expectation
#: on a fine grid inside a K-dimensional outer one)
MAX_SOFT_K = 2


class IntegerDomain(Domain):
    """Integers in [lo, hi] (``hi`` may be infinite): the domain of the number of hidden units."""

    integer = True

    def __init__(self, lo: int = 1, hi: float = math.inf):
        super().__init__(float(lo), float(hi), False, hi == math.inf)

    def __contains__(self, v) -> bool:
        return Domain.__contains__(self, v) and float(v).is_integer()

    def __str__(self) -> str:
        lo = int(self.lo)
        if self.hi == math.inf:
            return "{%d, %d, %d, ...}" % (lo, lo + 1, lo + 2)
        if self.hi == self.lo:
            return "{%d}" % lo
        return "{%d, ..., %d}" % (lo, int(self.hi))


def hidden_fields(K: int) -> tuple:
    """The symbols h_1, ..., h_K of the hidden pre-activations."""
    return sp.symbols(f"h1:{K + 1}", real=True)


def _sign_rule(K, tie):
    h = hidden_fields(K)
    s = sp.Add(*[sp.sign(x) for x in h])
    if tie in ("zero", 0):
        return sp.sign(s)
    if tie in (1, -1, "+1", "-1"):
        t = int(tie)
        return sp.Piecewise((sp.sign(s), sp.Ne(s, 0)), (t, True))
    raise ComponentError(f"committee: tie rule must be 'zero', +1 or -1, got {tie!r}")


class CommitteeRule(Channel):
    """The deterministic output rule y = f(h_1, ..., h_K) of a committee of K hidden units.

    ``rule``: ``"sign"``, ``"parity"`` or a SymPy expression of ``hidden_fields(K)``.
    The label set and, for rules that depend on the fields only through their signs, the
    table σ ∈ {±1}^K -> label are derived from the expression (``sign_table``)."""

    committee = True      # ``replica.derive`` sends models with this teacher to the committee theory

    def __init__(self, K: int, rule="sign", tie="zero"):
        super().__init__(density=None, outputs=())
        if not isinstance(K, int) or K < 1:
            raise ComponentError("committee: K (hidden_units) must be a positive integer")
        self.K = K
        self.spec = (rule, tie)
        self.fields = hidden_fields(K)
        if isinstance(rule, str):
            if rule == "sign":
                expr = _sign_rule(K, tie)
            elif rule == "parity":
                expr = sp.Mul(*[sp.sign(x) for x in self.fields])
            else:
                raise ComponentError(f"committee: unknown output rule {rule!r}; use 'sign', 'parity' or a SymPy expression")
        else:
            expr = sp.sympify(rule)
            extra = expr.free_symbols - set(self.fields)
            if extra:
                raise ComponentError(f"committee: the output rule may only use the fields {self.fields}, "
                                     f"it also has {sorted(s.name for s in extra)}")
        self.rule = expr
        self.name = rule if isinstance(rule, str) else "custom"
        self.table = self.sign_table()
        if self.table is None:
            raise ComponentError("committee: only output rules that depend on the hidden fields through "
                                 "their signs are derived so far (sign committee, parity, custom sign rules)")
        self.outputs = tuple(sorted(set(self.table.values())))
        # P(y | h) = [y = f(h)] (deterministic), for display; the numerics use the sign table
        self.density = sp.KroneckerDelta(Y, expr)
        # K is a parameter: any K for a named rule, only its own for a custom expression
        self.domains[K_SYMBOL] = IntegerDomain(1) if isinstance(rule, str) else IntegerDomain(K, K)

    def sign_table(self):
        """{σ: f(σ)} over σ ∈ {±1}^K when f depends on the fields only through their signs
        (checked: f(σ_k e^{t_k}) does not depend on the t_k), else None."""
        t = sp.symbols(f"t1:{self.K + 1}", real=True)
        table = {}
        for sigma in itertools.product((1, -1), repeat=self.K):
            scaled = self.rule.xreplace({h: s * sp.exp(tt) for h, s, tt in zip(self.fields, sigma, t)})
            val = sp.simplify(scaled)
            if val.free_symbols:
                return None
            if not val.is_number:
                return None
            table[sigma] = int(val) if float(val).is_integer() else float(val)
        return table

    @property
    def permutation_symmetric(self) -> bool:
        """f(h_π(1), ..., h_π(K)) = f(h) for every permutation π (checked on the sign table)."""
        return all(self.table[tuple(s[i] for i in p)] == v
                   for s, v in self.table.items() for p in itertools.permutations(range(self.K)))

    @property
    def flip_symmetric(self) -> bool:
        """Whether h -> -h only relabels: f(σ) = f(σ') exactly when f(-σ) = f(-σ') (the sign
        committee, parity).  Then Σ_y F(Z_out(y; ω)) is even in ω."""
        t = self.table
        neg = lambda s: tuple(-v for v in s)
        return all((t[a] == t[b]) == (t[neg(a)] == t[neg(b)]) for a in t for b in t)

    def _args_repr(self):
        return f"K={self.K}, rule={self.rule}"


class SoftCommitteeRule(Channel):
    """The soft committee: y = Σ_k erf(h_k/√2) + √Δ η, η ~ N(0, 1) (continuous labels).

    Normalization: each unit's output erf(h/√2) = 2Φ(h) − 1 lies in (−1, 1), unscaled (no 1/K
    or 1/√K in front of the sum), so y ranges over about (−K, K).  ``noise``: the variance Δ of
    the label noise, a number or the name of a parameter (default ``"delta"``, domain (0, ∞)).
    P(y | h) = N(y; Σ_k erf(h_k/√2), Δ) is the displayed density; the numerics use
    ``activation`` and its derivative (``replica.committee.derive``)."""

    committee = True
    soft = True
    classification = False

    def __init__(self, K: int, noise="delta"):
        super().__init__(density=None, outputs="real")
        if not isinstance(K, int) or K < 1:
            raise ComponentError("soft committee: K (hidden_units) must be a positive integer")
        from ..params import POSITIVE
        self.K = K
        self.spec = (noise,)
        self.fields = hidden_fields(K)
        self.noise = self._param("noise", noise, POSITIVE)
        self.rule = sp.Add(*[sp.erf(h / sp.sqrt(2)) for h in self.fields])
        self.name = "soft"
        self.density = sp.exp(-(Y - self.rule) ** 2 / (2 * self.noise)) / sp.sqrt(2 * sp.pi * self.noise)
        self.domains[K_SYMBOL] = IntegerDomain(1)
        # the unit's activation g(h) = erf(h/√2) and g'(h), lambdified from the expression
        h = sp.Symbol("h", real=True)
        g = sp.erf(h / sp.sqrt(2))
        self.activation = sp.lambdify(h, g, "scipy")
        self.activation_prime = sp.lambdify(h, sp.diff(g, h), "scipy")

    permutation_symmetric = True
    flip_symmetric = True

    def _args_repr(self):
        return f"K={self.K}, rule={self.rule}, noise={self.noise}"


def soft_committee_model(K: int = 2, prior="gaussian", noise="delta", name=None, alpha: float = 1.0,
                         delta: float = 0.01) -> Model:
    """A Bayes-optimal soft committee of K erf units with Gaussian label noise of variance
    ``noise`` (a parameter named ``delta`` by default, default value ``delta``)."""
    p = _prior(prior)
    rule = SoftCommitteeRule(K, noise)
    defaults = {"alpha": alpha, "K": K}
    if isinstance(rule.noise, sp.Symbol):
        defaults[rule.noise.name] = delta
    return Model(prior=p, teacher=rule, learning=learning.BayesOptimal(), hidden_units=K,
                 name=name or f"soft-committee-K{K}", defaults=defaults,
                 description=f"soft committee machine of K erf units with Gaussian label noise, prior {p!r}, "
                             "Bayes-optimal (Aubin et al. 2018)")


def soft_committee_bayes(K: int = 2) -> Model:
    """Built-in ``soft-committee-bayes``: Gaussian weights, y = Σ_k erf(h_k/√2) + √Δ η."""
    return soft_committee_model(K, "gaussian", "delta", name="soft-committee-bayes")


def _prior(prior):
    if isinstance(prior, priors.Prior):
        return prior
    if prior in ("gaussian", "Gaussian"):
        return priors.Gaussian(1)
    if prior in ("ising", "Ising", "binary"):
        return priors.Ising()
    raise ComponentError(f"committee: prior must be 'gaussian', 'ising' or a replica.priors prior, got {prior!r}")


def committee_model(K: int = 2, prior="gaussian", output="sign", tie="zero", name=None,
                    alpha: float = 1.0) -> Model:
    """A Bayes-optimal committee machine of K hidden units: per-unit ``prior``, output rule
    ``output`` ("sign", "parity" or a SymPy expression of ``hidden_fields(K)``)."""
    p = _prior(prior)
    rule = CommitteeRule(K, output, tie)
    nm = name or f"committee-{rule.name}-K{K}"
    return Model(prior=p, teacher=rule, learning=learning.BayesOptimal(), hidden_units=K,
                 name=nm, defaults={"alpha": alpha, "K": K},
                 description=f"committee machine of K hidden units, output {rule.name} rule, "
                             f"prior {p!r}, Bayes-optimal (Aubin et al. 2018)")


def with_hidden_units(model: Model, K) -> Model:
    """The same committee with ``K`` hidden units (the model itself when K is its own).  Raises
    ParameterError for a K outside the rule's domain (a custom rule keeps its own K)."""
    rule = model.teacher
    K = rule.domains[K_SYMBOL].check("K", K)
    K = int(K)
    if K == rule.K:
        return model
    if getattr(rule, "soft", False):
        out = soft_committee_model(K, model.prior, *rule.spec, name=model.name,
                                   alpha=float(model.defaults.get("alpha", 1.0)))
    else:
        out = committee_model(K, model.prior, *rule.spec, name=model.name,
                              alpha=float(model.defaults.get("alpha", 1.0)))
    out.defaults = {**model.defaults, "K": K}
    out.description = model.description
    return out


def committee_bayes(K: int = 2) -> Model:
    """Built-in ``committee-bayes``: Gaussian weights, sign of the sum of K signs."""
    return committee_model(K, "gaussian", "sign", name="committee-bayes")


def committee_ising_bayes(K: int = 2) -> Model:
    """Built-in ``committee-ising-bayes``: ±1 weights, sign of the sum of K signs."""
    return committee_model(K, "ising", "sign", name="committee-ising-bayes")


def parity_bayes(K: int = 2, prior="gaussian") -> Model:
    """The parity machine y = Π_k sign h_k, Bayes-optimal."""
    return committee_model(K, prior, "parity", name="parity-bayes")
