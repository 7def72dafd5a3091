"""Replica-symmetric theory of Bayes-optimal committee machines, derived from the components.

Notation (Aubin, Maillard, Barbier, Krzakala, Macris & Zdeborová, NeurIPS 2018 and J. Stat.
Mech. 2019, eqs. (3)–(5)): teacher weights W* ∈ R^{N×K}, rows w ~ P₀^{⊗K} (the Model's prior,
independently per unit), hidden fields z = W*ᵀx/√N ∈ R^K, labels y = f(z).  The order
parameter is the K × K overlap q = Ŵᵀ W*/N (= the replica overlap on the Nishimori line),
its conjugate r̂ (named ``q_hat``), ρ = E[w wᵀ] = ρ₀ I.  The replica-symmetric free entropy is

    Φ(q, r̂) = ψ_P₀(r̂) + α Ψ_out(q) − ½ Tr(r̂ q),
    ψ_P₀(r̂) = E_{ξ ~ N(0,I_K), w₀ ~ P₀} log Z_w(r̂^{1/2} ξ + r̂ w₀, r̂),
              Z_w(b, A) = E_{w ~ P₀} exp(bᵀw − ½ wᵀA w),
    Ψ_out(q) = E_{ξ ~ N(0,I_K)} Σ_y Z_out(y; q^{1/2}ξ, ρ − q) log Z_out(y; q^{1/2}ξ, ρ − q),
              Z_out(y; ω, V) = E_{u ~ N(0,I_K)} P(y | ω + V^{1/2}u),

the K-dimensional version of the perceptron's (which is K = 1).  It is derived in
``replicas.py`` as the perceptron engine derives its own: the replicated G(n) with K × K
order parameters under the replica-symmetric ansatz, its n → 0 limit by ``sympy.series`` /
``sympy.limit`` (symbolic K), then the Nishimori identities (m = q, Q = ρ, m̂ = r̂) imposed;
here, from the components:

* **ansatz** (``PermSym``): q = q_d I + (q_a/K) J, r̂ = q_hat_d I + (q_hat_a/K) J; the
  coupling −½ Tr(r̂ q) = −½(K q_hat_d q_d + q_hat_d q_a + q_hat_a q_d + q_hat_a q_a) for
  general K by the algebra of I and J;
* **prior term**: for a rotation-invariant prior (Gaussian weights) ψ_P₀ is a sum over the
  eigen-directions of r̂ of the K = 1 potential, ψ = (K−1) ψ₁(q_hat_d) + ψ₁(q_hat_d + q_hat_a),
  ψ₁ derived by the perceptron machinery (closed form) and the overlap equations follow by
  SymPy differentiation of Φ; for a discrete prior Z_w is the sum over the atoms' K-tuples
  (a log-sum-exp), its b-gradient the posterior mean ŵ, and q = E[ŵ ŵᵀ] (Nishimori) — a
  K-dimensional Gaussian expectation by the tensor-product rule of ``quadrature``;
* **output term**: Z_out and ∇_ω Z_out are generated from the rule's sign table
  (``lower``: a common shift of the fields makes the units independent, per label a
  polynomial in the per-unit probabilities, differentiated by SymPy; K ≤ 2: the closed-form
  orthant probabilities of ``orthant``, a shortcut the tests prove equal); the conjugate r̂ = α E[g gᵀ], g = ∇_ω log Z_out (= 2α ∂Ψ_out/∂q on
  the Nishimori line), the outer expectation over ξ ∈ R^K by the product rule (sorted
  multi-indices for a permutation-symmetric rule);
* **projection** of the K × K expectations onto the ansatz by the means of their diagonal and
  off-diagonal entries.  ``q_d = 0`` is an invariant subspace (unspecialized).

Observables: ``mse`` = ρ₀ − q_kk (per weight, of the posterior mean); ``generalization_error``
= the error of the Bayes-optimal estimator ŷ(x) = argmax_y P(y | x, data), 1 − E_ξ max_y Z_out
(at K = 1 arccos(√(q/ρ₀))/π, the perceptron built-ins' convention); ``gibbs_error`` = the error
of a posterior sample, P(f(z) ≠ f(z')) with (z, z') ~ N(0, [[ρ, q], [q, ρ]]), 1 − E Σ_y Z_out²
(at K = 1 arccos(q/ρ₀)/π); ``quadratic_error`` = ½ E[(y − ŷ)²] of the Bayes-optimal estimator
for the square loss, ŷ = E[y | x] = Σ_y y Z_out — Aubin et al.'s generalization error (their
state-evolution code, ``gen_error``: ½(½ − E[y y′]) at K = 2, y′ a posterior sample's label, which
is the same number since ½ E[(y − ŷ)²] = ¼ E[(y − y′)²]); for ±1 labels it equals the Gibbs error;
``q_diag``, ``q_off`` = the entries of the K × K overlap.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import sympy as sp
from scipy.special import logsumexp, xlogy

from ..learning import BayesOptimal
from ..symbolic.derive import DerivationError
from ..symbolic.render import Rendered
from ..symbolic.gauss import gauss_expect
from ..symbolic.printing import Phrase
from ..symbols import alpha as ALPHA
from .ansatz import K_SYMBOL
from .layers import LAYER_PANELS, LAYER_WIDTH, layer_lines, layer_rule
from .lower import output_kernel
from .models import CommitteeRule
from .orthant import orthant, orthant_grad
from .quadrature import (REFINED_SLAB_PER_PANEL, SLAB_INNER, SLAB_OUTER, hermite, legendre, outer_rule,
                         product_rule, refined_nodes, slab_rule, slab_template)

__all__ = ["derive_committee", "CommitteeTheory", "Q_D", "Q_A", "QH_D", "QH_A"]

Q_D = sp.Symbol("q_d", nonnegative=True)
Q_A = sp.Symbol("q_a", real=True)
QH_D = sp.Symbol("q_hat_d", nonnegative=True)
QH_A = sp.Symbol("q_hat_a", real=True)
PSI_OUT = sp.Function("Psi_out")


def _psi1(prior):
    """ψ₁(r) = E_{w₀ ~ P₀, ξ} log Z_w(√r ξ + r w₀, r): the K = 1 prior potential, closed form."""
    r = sp.Symbol("r", positive=True)
    xi, w0 = sp.Dummy("xi", real=True), sp.Dummy("w0", real=True)
    b, A = sp.Dummy("b", real=True), sp.Dummy("A", positive=True)
    logZ = sp.expand_log(sp.log(sp.simplify(prior.partition(b, A))), force=True)
    inner = gauss_expect(sp.expand(logZ.subs({b: sp.sqrt(r) * xi + r * w0, A: r})), xi)
    psi = sp.simplify(prior.integrate(sp.expand(inner).subs(w0, prior.w)))
    return r, psi


def _rotation_invariant(prior) -> bool:
    """A centred Gaussian density without atoms: P₀^{⊗K} is invariant under rotations of R^K."""
    if prior.atoms or prior.density == 0:
        return False
    w = prior.w
    L = sp.expand(sp.log(prior.density), force=True)
    return L.is_polynomial(w) and sp.degree(L, w) == 2 and L.coeff(w, 1) == 0


#: per-dimension quadrature nodes by K (product rules have nodes^K points); ``nodes`` caps it
DEFAULT_NODES = {1: 96, 2: 24, 3: 14, 4: 10, 5: 8}

#: per-dimension nodes of a discrete prior's side (the posterior mean is tanh-like in the field:
#: at K = 2, 24 nodes leave errors ~4e-6 in the map at α = 1.95, 48 nodes ~4e-8)
DISCRETE_PRIOR_NODES = {2: 48, 3: 20, 4: 12}

#: what ``evaluate`` returns besides the maps
OBSERVABLES = ("free_entropy", "mse", "generalization_error", "gibbs_error", "quadratic_error", "q_diag",
               "q_off")


def default_nodes(K: int, nodes: int | None = None) -> int:
    """Gauss–Hermite nodes per dimension at K: the default for K, capped by ``nodes`` (the
    command line's ``--nodes``, meant for one-dimensional rules, only ever lowers it)."""
    n = DEFAULT_NODES.get(K, 8)
    return n if nodes is None else max(4, min(int(nodes), n))


@dataclass(repr=False)
class CommitteeTheory(Rendered):
    """What ``replica.derive`` returns for a committee machine (``derive_committee``).

    The symbolic side (rendered by ``replica derive``): ``free_entropy`` for general K (the
    symbol ``K``), ``equations`` (closed form where the prior allows), ``order_parameters``
    (q_d, q_a, q_hat_d, q_hat_a), ``observables``, ``limits`` (the steps taken).  The numeric
    side has the ``CompiledTheory`` interface (``compile()`` returns the theory itself):
    ``evaluate(nodes, rule, want, **values)`` -> ``map_<unknown>`` arrays and the observables
    at broadcast arrays of ``alpha``, ``K`` and the unknowns; ``unknowns``, ``fixed``,
    ``kind``, ``model``, ``parameter_names``, ``module.OUTPUTS``; ``solver`` (the committee
    state evolution, which ``replica.solve.solve``, ``solve_branches`` and
    ``find_transitions`` hand committees to).  ``K`` values other than the model's own are
    evaluated by the theory of that K (``at_K``, derived once and kept)."""

    model: object
    K: int
    free_entropy: sp.Expr
    coupling: sp.Expr
    coupling_general_K: sp.Expr
    prior_term: sp.Expr | None
    equations: list
    rho: float
    observables: dict = field(default_factory=dict)
    limits: list = field(default_factory=list)
    kind: str = "bayes-optimal"
    unknowns: list = field(default_factory=lambda: ["q_d", "q_a", "q_hat_d", "q_hat_a"])
    fixed: dict = field(default_factory=dict)
    potentials: dict = field(default_factory=dict)
    replicated: object = None
    capacity: object = None
    _prior_maps: object = None
    _rule: CommitteeRule = None
    _family: dict = field(default_factory=dict, repr=False)
    #: the derived RS free entropy on the Nishimori line (``replicas``): it depends on the prior
    #: only, so the theories of other K (``at_K``) reuse it
    _nishimori: object = field(default=None, repr=False)
    #: values of the parameters other than alpha and K this theory's numerics are bound to
    #: (the soft committee's noise ``delta``; ``at_point`` binds them)
    bound: dict = field(default_factory=dict)

    @property
    def point_parameters(self) -> list:
        """The parameters other than ``alpha`` that select a theory (``K``, and ``delta`` for
        the soft committee): points of a grid are grouped by them."""
        return [n for n in self.parameter_names if n != "alpha"]

    def at_point(self, **values) -> "CommitteeTheory":
        """The theory at the given K (default its own) with the other non-alpha parameters
        (``delta``) bound to the given values."""
        from dataclasses import replace
        th = self.at_K(values.pop("K", self.K))
        extra = {k: float(v) for k, v in values.items() if k != "alpha"}
        if not extra or extra == th.bound:
            return th
        key = (th.K, tuple(sorted(extra.items())))
        if key not in self._family:
            self._family[key] = replace(th, bound=extra, _family={})
        return self._family[key]

    # -- the Theory / CompiledTheory interface --------------------------------------------
    @property
    def order_parameters(self):
        return [Q_D, Q_A, QH_D, QH_A]

    @property
    def parameters(self):
        return self.model.parameters

    @property
    def parameter_names(self):
        return [s.name for s in self.model.parameters]

    @property
    def argnames(self):
        return self.parameter_names + self.unknowns

    @property
    def module(self):
        return SimpleNamespace(OUTPUTS=["map_" + u for u in self.unknowns] + list(OBSERVABLES))

    @property
    def solver(self):
        from .solve import CommitteeSolver
        return CommitteeSolver(self)

    def compile(self, backend="numpy", cache=True):
        if backend != "numpy":
            raise DerivationError(f"committee machines: only the NumPy backend exists (asked for {backend!r})")
        return self

    @property
    def source(self) -> str:
        """The derivation as text (what a phase diagram's ``derivation_sha256`` hashes; the
        perceptron theories hash their generated module)."""
        return self.text()

    def at_K(self, K) -> "CommitteeTheory":
        """The theory of the same committee with K hidden units (this one at its own K)."""
        from .models import with_hidden_units
        K = int(self.model.teacher.domains[K_SYMBOL].check("K", K))
        if K == self.K:
            return self
        if K not in self._family:
            self._family[K] = derive_committee(with_hidden_units(self.model, K), _nishimori=self._nishimori)
        return self._family[K]

    # -- numerics ------------------------------------------------------------------------
    def prior_side(self, qh_d, qh_a, nodes: int | None = None, refined: bool = False):
        """(q_d, q_a, ψ_P₀) at the conjugates (arrays of one shape); ``refined``: at the higher
        order of the accuracy estimate (``quadrature.refined_nodes``)."""
        n = default_nodes(self.K, nodes)
        if self.model.prior.density == 0 and self.model.prior.atoms:
            n = max(n, DISCRETE_PRIOR_NODES.get(self.K, n))
        return self._prior_maps(np.asarray(qh_d, float), np.asarray(qh_a, float), refined_nodes(n) if refined else n)

    def output_side(self, q_d, q_a, nodes: int | None = None, inner: int = 32, exact_bayes: bool = False,
                    refined: bool = False, bayes_accuracy: bool = False):
        """(G_d, G_a, Ψ_out, Gibbs error, Bayes error, quadratic error) at the overlaps: E[g gᵀ]
        projected on the ansatz, and the generalization errors (see ``_output_side``, and
        ``_soft_output_side`` for the soft committee).  ``refined``: every rule at its higher
        order (``quadrature.refined_nodes`` and finer panels), the accuracy estimate's reference."""
        if getattr(self._rule, "soft", False):
            noise = self._rule.noise
            if isinstance(noise, sp.Symbol):
                if noise.name not in self.bound:
                    raise ValueError(f"soft committee: the theory needs a value of {noise.name!r} (at_point)")
                delta = self.bound[noise.name]
            else:
                delta = float(noise)
            side = _soft_output_side(self._rule, self.K, self.rho, delta, np.asarray(q_d, float),
                                     np.asarray(q_a, float), nodes, refined)
            return side + (np.full_like(side[0], np.nan),) if bayes_accuracy else side
        n = default_nodes(self.K, nodes)
        return _output_side(self._rule, self.K, self.rho, np.asarray(q_d, float), np.asarray(q_a, float),
                            refined_nodes(n) if refined else n, inner, exact_bayes, refined, bayes_accuracy)

    def evaluate(self, nodes: int | None = None, rule: str = "hermite", want=None, **values) -> dict:
        """Every output at broadcastable arrays of ``alpha``, ``K`` (optional: the model's own
        by default; points are grouped by K) and the four unknowns: ``map_q_d``, ``map_q_a``
        (prior side, from the conjugates), ``map_q_hat_d``, ``map_q_hat_a`` (output side, from
        the overlaps), ``free_entropy``, ``mse``, ``generalization_error`` (Bayes estimator),
        ``gibbs_error`` (a posterior sample), ``q_diag``, ``q_off`` (entries of the K × K
        overlap).  ``nodes`` caps the Gauss–Hermite nodes per dimension (``DEFAULT_NODES``);
        ``rule`` is accepted for the interface (the committee picks its own rules); ``want``
        restricts the outputs (the maps only are cheaper: no free entropy)."""
        values = dict(values)
        values.setdefault("K", self.K)
        for k, v in self.bound.items():
            values.setdefault(k, v)
        missing = [a for a in self.argnames if a not in values]
        if missing:
            raise ValueError(f"missing values for {missing}")
        arrs = np.broadcast_arrays(*[np.asarray(values[a], float) for a in self.argnames])
        shape = arrs[0].shape
        flat = {a: v.reshape(-1) for a, v in zip(self.argnames, arrs)}
        keys = self.module.OUTPUTS if want is None else list(want)
        out = {k: np.full(flat["alpha"].size, np.nan) for k in keys}
        pp = self.point_parameters
        rows = np.stack([flat[a] for a in pp], -1)
        for row in np.unique(rows, axis=0):
            sel = np.all(rows == row, axis=1)
            th = self.at_point(**dict(zip(pp, row)))
            part = th._evaluate_one(nodes, keys, *(flat[a][sel] for a in ("alpha",) + tuple(self.unknowns)))
            for k in keys:
                out[k][sel] = part[k]
        return {k: v.reshape(shape) for k, v in out.items()}

    def _evaluate_one(self, nodes, keys, al, qd, qa, hd, ha) -> dict:
        """``evaluate`` at this theory's K (flat arrays)."""
        out = {}
        if {"map_q_d", "map_q_a", "free_entropy"} & set(keys):
            md, ma, psi = self.prior_side(hd, ha, nodes)
            out.update(map_q_d=md, map_q_a=ma)
        if {"map_q_hat_d", "map_q_hat_a", "free_entropy", "generalization_error", "gibbs_error",
                "quadratic_error"} & set(keys):
            exact = "generalization_error" in keys or "bayes_accuracy" in keys
            side = self.output_side(qd, qa, nodes, exact_bayes=exact, bayes_accuracy=exact)
            gd, ga, psi_out, gibbs, bayes, quad = side[:6]
            if exact:
                # a Bayes error whose estimate exceeds BAYES_ACCURACY_TOL is not reported
                with np.errstate(invalid="ignore"):
                    bayes = np.where(side[6] > BAYES_ACCURACY_TOL, np.nan, bayes)
                out["bayes_accuracy"] = side[6]
            out.update(map_q_hat_d=al * gd, map_q_hat_a=al * ga, generalization_error=bayes, gibbs_error=gibbs,
                       quadratic_error=quad)
        if "free_entropy" in keys:
            coupling = 0.5 * (self.K * hd * qd + hd * qa + ha * qd + ha * qa)
            out["free_entropy"] = psi + al * psi_out - coupling
        out.update(mse=self.rho - (qd + qa / self.K), q_diag=qd + qa / self.K, q_off=qa / self.K)
        return {k: np.asarray(out[k], float) for k in keys}


# -- output side --------------------------------------------------------------------------

#: the slab rule is used where the overlap's smaller eigenvalue is at least this fraction of ρ
#: (its density N(ω; 0, q) is then resolved by the axis-aligned panels)
SLAB_MIN_EIG = 0.25
#: slab half-width in units of √V_kk: beyond it Z_out is 0 or 1 to Φ(−10) ≈ 8e-24
SLAB_WIDTH = 10.0
#: the product rule is trusted while Z_out's layer width √V_kk is at least this fraction of the
#: spacing of its nodes in ω (below it, NaN: see ``_output_side``)
PRODUCT_MIN_LAYER = 0.5
#: the layer rule (K ≥ 3) is used where the layers' half-width 8√V_kk is at most this fraction of
#: the outer Gaussian's extent 8.5√q_kk (thinner layers than the product rule's nodes resolve
#: well); thicker layers keep the product rule, ~25× cheaper there
LAYER_MAX_FRACTION = 0.7
#: the largest K whose layer-rule Bayes error has its kinks located (``_bayes_error_layers``)
BAYES_LOCATED_MAX_K = 3
#: a Bayes error whose estimate (``bayes_accuracy``) exceeds this is reported NaN (null)
BAYES_ACCURACY_TOL = 1e-4
#: Gauss–Hermite nodes across the lines of ``_bayes_error_lines`` (converged to ~1e-9 at K = 2)
BAYES_TRANSVERSE = 96


def _tables(rule: CommitteeRule, K: int):
    """Sign patterns σ (S, K) and the label table T (L, S): T[l, j] = [f(σ_j) = y_l]."""
    sigmas = np.array(list(itertools.product((1, -1), repeat=K)), float)
    T = np.array([[1.0 if rule.table[tuple(int(v) for v in s)] == y else 0.0 for s in sigmas]
                  for y in rule.outputs])
    return sigmas, T


def _output_side(rule: CommitteeRule, K: int, rho: float, q_d, q_a, nodes: int, inner: int,
                 exact_bayes: bool = False, refined: bool = False, bayes_accuracy: bool = False):
    """Projected E[g gᵀ], Ψ_out and the two generalization errors over points (arrays (P,)).

    With ω = q^{1/2}ξ the mean of the teacher's fields given the data and V = ρI − q their
    posterior covariance, Z_out(y; ω, V) is the posterior predictive probability of the label y:

    * Gibbs (a posterior sample ŵ labels x): 1 − E_ξ Σ_y Z_out² (at K = 1, arccos(q/ρ)/π);
    * Bayes (the Bayes-optimal estimator, ŷ = argmax_y Z_out): 1 − E_ξ max_y Z_out (at K = 1,
      arccos(√(q/ρ))/π, the perceptron built-ins' ``generalization_error``).

    Quadrature of the outer expectation, per point: the graded line rule on the unspecialized
    subspace (q_d = 0, and K = 1: ω = t 1/√K); the slab rule in ω (``quadrature.slab_rule``)
    where q is well conditioned (smaller eigenvalue ≥ ``SLAB_MIN_EIG`` ρ: the specialized
    branch, where V = ρI − q can be small and Z_out has layers of width √V_kk at ω_k = 0) at
    K = 2, the layer rule (``layers.layer_rule``: the space cut by the set of units inside
    their layers, conditional orthant probabilities for the others) at K ≥ 3 where the layers
    are thin (``LAYER_MAX_FRACTION``); the
    Gauss–Hermite product rule in ξ elsewhere.  ``exact_bayes``: the Bayes error on the line
    and (K = 2) product rules by ``_bayes_error_lines``, its kinks located (the maps do not
    need it; the observables do); on the layer rule (K = 3) by ``_bayes_error_layers``, with an
    error estimate (a seventh entry, ``bayes_accuracy``: |located − tensor rule|; NaN elsewhere,
    where the located rules are converged to ~1e-9; at K ≥ 4 on the layer rule the Bayes error
    is NaN, not resolved)."""
    P = q_d.shape[0]
    bad = ~((rho - q_d > 1e-14) & (rho - q_d - q_a > 1e-14) & (q_d >= 0) & (q_d + q_a >= 0)
            & np.isfinite(q_d) & np.isfinite(q_a))
    out = np.full((7, P), np.nan)
    eig = np.minimum(q_d, q_d + q_a)
    line = ~bad & ((q_d == 0) | (K == 1))
    slab = ~bad & ~line & (K == 2) & (eig >= SLAB_MIN_EIG * rho)
    with np.errstate(invalid="ignore"):
        thin = LAYER_WIDTH * np.sqrt(rho - q_d - q_a / K) <= LAYER_MAX_FRACTION * 8.5 * np.sqrt(q_d + q_a / K)
    layer = ~bad & ~line & (K >= 3) & (eig >= SLAB_MIN_EIG * rho) & thin
    sym = rule.permutation_symmetric
    for p in np.flatnonzero(layer):
        # K ≥ 3 near q → ρI: the layer rule (``layers``), one state at a time
        pts = layer_rule(K, rho, q_d[p], q_a[p], sym, refined, rule.flip_symmetric)
        if pts is None:
            continue                                  # not resolved: NaN
        Vp = (rho - q_d[p]) * np.eye(K) - (q_a[p] / K) * np.ones((K, K))
        out[:6, p] = np.asarray(_integrate(rule, K, pts[0][None], Vp[None], pts[1][None], inner, refined))[:, 0]
        if exact_bayes:
            # the max's kinks located (K = 3); its error estimate the disagreement with the
            # tensor rule's value (which the kinks leave ~1e-6 off: the larger error of the two);
            # K ≥ 4: no located value (n^(K-1) lines), not resolved
            tensor = out[4, p]
            located = (_bayes_error_layers(rule, K, rho, q_d[p], q_a[p], Vp, inner, refined)
                       if K <= BAYES_LOCATED_MAX_K else np.nan)
            out[4, p], out[6, p] = located, abs(located - tensor)
    for mask, kind in ((line, "line"), (slab, "slab"), (~bad & ~line & ~slab & ~layer, "product")):
        i = np.flatnonzero(mask)
        if i.size == 0:
            continue
        qd, qa = q_d[i], q_a[i]
        V = (rho - qd)[:, None, None] * np.eye(K) + (-qa / K)[:, None, None] * np.ones((K, K))
        if kind == "slab":
            vkk = rho - qd - qa / K
            L = 8.5 * np.sqrt(qd + qa / K)
            c = np.minimum(SLAB_WIDTH * np.sqrt(vkk), 0.999 * L)
            omega, w = slab_rule(K, c, L, qd, qa, sym, rule.flip_symmetric,
                                 REFINED_SLAB_PER_PANEL if refined else 6)
        else:
            xi, wx = outer_rule(nodes, K, sym, kind == "line", refined)    # (M, K), (M,)
            with np.errstate(invalid="ignore"):
                s_perp, s_par = np.sqrt(qd), np.sqrt(qd + qa)
            # ω = q^{1/2} ξ = s_perp ξ + (s_par - s_perp) mean(ξ) 1
            omega = s_perp[:, None, None] * xi[None] + ((s_par - s_perp)[:, None] * xi.mean(1)[None])[..., None]
            w = np.broadcast_to(wx, (i.size, wx.size))
        out[:6, i] = _integrate(rule, K, omega, V, w, inner, refined)
        if kind == "product":
            # Z_out has layers of width √V_kk at ω_k = 0; Gauss–Hermite nodes in ξ are spaced
            # about π/√(2n) (times √q_kk in ω): a layer much thinner than that is not resolved,
            # and the integrals would come out as silent nonsense (G → 0 as q → ρI) — NaN instead
            vkk, qkk = rho - qd - qa / K, qd + qa / K
            spacing = np.sqrt(np.maximum(qkk, 0.0)) * np.pi / np.sqrt(2.0 * nodes)
            out[:, i[np.sqrt(np.maximum(vkk, 0.0)) < PRODUCT_MIN_LAYER * spacing]] = np.nan
        if exact_bayes and (kind == "line" or (kind == "product" and K == 2)):
            out[4, i] = _bayes_error_lines(rule, K, qd, qa, V, BAYES_TRANSVERSE, inner)
        elif exact_bayes and kind == "slab":
            out[4, i] = _bayes_error_slab(rule, K, qd, qa, V, c, L, inner)
    return tuple(out) if bayes_accuracy else tuple(out[:6])


def _max_error_on_lines(rule, K, V, base, a, tw, coarse, fixed, weight, inner,
                        per_segment: int = 10, max_kinks: int = 6):
    """Σ_lines tw ∫ (1 − max_y Z_out(y; base + a t, V)) weight(t) dt with the kinks of the max
    located: the argmax label is tabulated at the ``coarse`` points (P, n) of every line,
    every change bracketed and bisected (60 steps) on Z(y) − Z(y'), and the smooth pieces
    between the kinks and the ``fixed`` edges (P, E) — whose first and last are the ends —
    integrated by Gauss–Legendre (``per_segment`` nodes).  base, a: (P, Λ, K); tw: (P, Λ);
    weight(t (P, Λ, n)) -> (P, Λ, n)."""
    P, nlines = base.shape[:2]

    def probs(t):                                   # t (P, Λ, n) -> Z (P, Λ, n, L)
        om = base[:, :, None, :] + a[:, :, None, :] * t[..., None]
        Z, _ = _label_probs(rule, K, om.reshape(P, -1, K), V, inner, grad=False)
        return Z.reshape(P, nlines, t.shape[-1], -1)

    grid = np.broadcast_to(coarse[:, None, :], (P, nlines, coarse.shape[-1]))
    lab = probs(grid).argmax(-1)                                                         # (P, Λ, n)
    change = lab[..., 1:] != lab[..., :-1]
    # the first max_kinks brackets of every line (padded with unused ones)
    order = np.argsort(~change, axis=-1, kind="stable")[..., :max_kinks]
    used = np.take_along_axis(change, order, -1)                                         # (P, Λ, R)
    lo, hi = np.take_along_axis(grid, order, -1), np.take_along_axis(grid, order + 1, -1)
    ya, yb = np.take_along_axis(lab, order, -1), np.take_along_axis(lab, order + 1, -1)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        Z = probs(mid)
        d = np.take_along_axis(Z, ya[..., None], -1)[..., 0] - np.take_along_axis(Z, yb[..., None], -1)[..., 0]
        left = d >= 0                                                                     # still y_a's side
        lo, hi = np.where(left, mid, lo), np.where(left, hi, mid)
    end = fixed[:, -1][:, None, None]
    roots = np.where(used, 0.5 * (lo + hi), end)
    edges = np.sort(np.concatenate([np.broadcast_to(fixed[:, None, :], (P, nlines, fixed.shape[-1])), roots], -1), -1)
    gx, gw = legendre(per_segment)
    mid, half = (edges[..., 1:] + edges[..., :-1]) / 2, (edges[..., 1:] - edges[..., :-1]) / 2
    t = (mid[..., None] + half[..., None] * gx).reshape(P, nlines, -1)                   # (P, Λ, S·n)
    wt = (half[..., None] * gw).reshape(P, nlines, -1) * weight(t)
    return np.einsum("pln,pln,pl->p", 1.0 - probs(t).max(-1), wt, tw)


def _bayes_error_lines(rule: CommitteeRule, K: int, q_d, q_a, V, transverse: int, inner: int,
                       half_width: float = 8.5, grading: int = 14):
    """The Bayes-optimal error 1 − E_ξ max_y Z_out(y; q^{1/2}ξ, V) with the kinks of the max
    located (``_max_error_on_lines``): ξ_1 = t runs along lines, the other coordinates at
    Gauss–Hermite nodes (``transverse`` per dimension; none on the unspecialized subspace
    q_d = 0, where ω = √((q_d + q_a)/K) t 1), weight φ(t) on [−8.5, 8.5], fixed edges graded
    geometrically towards t = 0 (the layer of width √V on the unspecialized subspace, as in
    ``quadrature.line_rule``).  Product rules integrate the max with O(h²) kink errors (~1e-3
    at K = 2); this converges to ~1e-9.  Arrays (P,) -> (P,)."""
    P = q_d.shape[0]
    s_perp, s_par = np.sqrt(q_d), np.sqrt(q_d + q_a)
    c = s_par - s_perp
    if np.all(q_d == 0):
        a = np.repeat((s_par / np.sqrt(K))[:, None], K, axis=1)[:, None, :]            # (P, 1, K)
        base = np.zeros((P, 1, K))
        tw = np.ones((P, 1))
    else:
        x, wx = hermite(transverse)
        tau = np.array(list(itertools.product(x, repeat=K - 1))).reshape(-1, K - 1)     # (Λ, K-1)
        tw = np.prod(np.array(list(itertools.product(wx, repeat=K - 1))).reshape(-1, K - 1), axis=1)
        tw = np.broadcast_to(tw, (P, tw.size))
        xi0 = np.concatenate([np.zeros((tau.shape[0], 1)), tau], axis=1)                # (Λ, K)
        base = s_perp[:, None, None] * xi0[None] + (c[:, None] * xi0.mean(1)[None])[..., None]
        a = (s_perp[:, None] * np.eye(K)[0][None] + (c / K)[:, None])[:, None, :] * np.ones((1, tau.shape[0], 1))
    graded = half_width * 0.5 ** np.arange(grading)
    fixed = np.broadcast_to(np.concatenate([-graded, [0.0], graded[::-1]]), (P, 2 * grading + 1))
    coarse = np.broadcast_to(np.linspace(-half_width, half_width, 65), (P, 65))
    return _max_error_on_lines(rule, K, V, base, a, tw, coarse, fixed,
                               lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi), inner)


#: Gauss–Legendre nodes per smooth piece of the layer rule's lines (default, refined order)
BAYES_LAYER_SEGMENT, BAYES_LAYER_SEGMENT_REFINED = 8, 12


def _bayes_error_layers(rule: CommitteeRule, K: int, rho: float, q_d: float, q_a: float, V, inner: int,
                        refined: bool = False):
    """The Bayes-optimal error 1 − E max_y Z_out on the layer rule (K ≥ 3, one state) with the
    kinks of the max located: the layer rule's regions as lines (``layers.layer_lines``: along
    one active coordinate, the other active ones at the inner rule's nodes, the inactive ones at
    σ·∞ weighted by their conditional orthant probability), each line cut at the kinks of the
    argmax (``_max_error_on_lines``) and at the inner rule's panel edges.  On the tensor rule the
    max's kinks cross the panels and leave errors ~1e-5 at K = 3; here they are integrated
    exactly along the lines, and the transverse integrand (the line integrals) is continuous with
    a continuous derivative.  NaN where the layer rule is not resolved."""
    regions = layer_lines(K, rho, q_d, q_a, rule.permutation_symmetric, refined)
    if regions is None:
        return np.nan
    total = 0.0
    seg = BAYES_LAYER_SEGMENT_REFINED if refined else BAYES_LAYER_SEGMENT
    for reg in regions:
        c = reg["c"]
        edges = c * np.concatenate([-np.asarray(LAYER_PANELS)[:0:-1], LAYER_PANELS])
        lam = reg["base"].shape[0]
        total += float(_max_error_on_lines(
            rule, K, V[None], reg["base"][None], np.broadcast_to(reg["direction"], (1, lam, K)), reg["tw"][None],
            np.linspace(-c, c, 65)[None], edges[None], reg["weight"], inner, per_segment=seg)[0])
    return total


def _bayes_error_slab(rule: CommitteeRule, K: int, q_d, q_a, V, c, L, inner: int):
    """The Bayes-optimal error on the slab rule's region (K = 2): lines along ω_1 at the
    transverse nodes ω_2 of the slab rule's 1-D template (graded towards ω_2 = 0), weight
    N(ω; 0, q) along the line, fixed edges those of the template (graded towards ω_1 = 0),
    the kinks of the max located (``_max_error_on_lines``)."""
    sign, inner_nodes, u, w, _, _ = slab_template(K, False, False)
    c_, L_ = c[:, None], L[:, None]
    pos = sign * np.where(inner_nodes, u * c_, c_ + u * (L_ - c_))                       # (P, n)
    wt = w * np.where(inner_nodes, c_, L_ - c_)
    P, n = pos.shape
    base = np.stack([np.zeros_like(pos), pos], -1)                                       # (P, Λ=n, 2)
    a = np.broadcast_to(np.array([1.0, 0.0]), (P, n, 2))
    edges = np.concatenate([-(c_ + np.array(SLAB_OUTER[:0:-1]) * (L_ - c_)), -c_ * np.array(SLAB_INNER[:0:-1]),
                            np.zeros((P, 1)), c_ * np.array(SLAB_INNER[1:]), c_ + np.array(SLAB_OUTER[1:]) * (L_ - c_)], -1)
    aa, bb = q_d[:, None, None], (q_d + q_a)[:, None, None]
    w2 = pos[:, :, None]

    def density(t):
        S2 = (t + w2) ** 2 / K
        quad = (t * t + w2 * w2 - S2) / aa + S2 / bb
        return np.exp(-0.5 * quad - 0.5 * ((K - 1) * np.log(aa) + np.log(bb)) - 0.5 * K * np.log(2 * np.pi))
    return _max_error_on_lines(rule, K, V, base, a, wt, pos, edges, density, inner)


def _label_probs(rule: CommitteeRule, K: int, omega, V, inner: int, grad: bool = True, refined: bool = False):
    """Z_out(y; ω, V) for every label, shape (P, M, L), and (``grad``) ∇_ω Z_out, shape
    (P, M, L, K), at the points ω (P, M, K); V (P, K, K).  V of the ansatz's form aI + bJ (every
    theory evaluation) and K ≥ 3: the generated kernel (``lower.output_kernel``: a common shift
    makes the units independent).  K ≤ 2 and any other V (the AMP simulations' per-sample
    covariances): orthant probabilities (``orthant``) — at K ≤ 2 the closed forms Φ and Owen's T,
    a documented shortcut ~10× cheaper than the kernel's shift integral, which
    ``tests/test_committee_kernel.py`` proves equal to the generated kernel to 1e-10."""
    V = np.asarray(V, float)
    if K <= 2:
        return _orthant_label_probs(rule, K, omega, V, inner, grad)
    a = V[:, 0, 0] - (V[:, 0, 1] if K > 1 else 0.0)
    b = V[:, 0, 1] if K > 1 else np.zeros(V.shape[0])
    ansatz = a[:, None, None] * np.eye(K) + b[:, None, None] * np.ones((K, K))
    if np.array_equal(V, ansatz) or np.allclose(V, ansatz, rtol=1e-14, atol=1e-300):
        return output_kernel(rule)(omega, a, b, grad, refined=refined)
    return _orthant_label_probs(rule, K, omega, V, inner, grad)


def _orthant_label_probs(rule: CommitteeRule, K: int, omega, V, inner: int, grad: bool = True):
    """``_label_probs`` for a general covariance V, by orthant probabilities."""
    sigmas, T = _tables(rule, K)
    P, M = omega.shape[:2]
    nl = T.shape[0]
    Z = np.zeros((P, M, nl))
    dZ = np.zeros((P, M, nl, K)) if grad else None
    # the labels exhaust the orthants: the last label's potential is 1 - Σ the others'
    # (its orthants are not computed)
    last = T[-1].astype(bool) & (T[:-1].sum(0) == 0)
    for j, s in enumerate(sigmas):
        if last[j] and nl > 1:
            continue
        D = np.outer(s, s)
        mu = omega * s                                                     # (P, M, K)
        Sj = (V * D)[:, None]                                              # (P, 1, K, K)
        Z += orthant(mu, Sj, inner)[..., None] * T[:, j]
        if grad:
            dZ += (orthant_grad(mu, Sj, inner) * s)[..., None, :] * T[:, j][:, None]
    if nl > 1:
        Z[..., -1] = np.clip(1.0 - Z[..., :-1].sum(-1), 0.0, 1.0)
        if grad:
            dZ[..., -1, :] = -dZ[..., :-1, :].sum(-2)
    return Z, dZ


def _integrate(rule: CommitteeRule, K: int, omega, V, w, inner: int, refined: bool = False):
    """(G_d, G_a, Ψ_out, Gibbs error, Bayes error, quadratic error) from the points ω (P, M, K)
    with weights w (P, M), every integrand written to vanish where Z_out is 0 or 1 (Z log Z,
    Z g gᵀ, 1 − Σ Z², 1 − max Z, Σ y² Z − (Σ y Z)²), as the slab rule needs."""
    P = omega.shape[0]
    Z, dZ = _label_probs(rule, K, omega, V, inner, refined=refined)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(Z[..., None] > 1e-300, dZ / np.where(Z > 1e-300, Z, 1.0)[..., None], 0.0)
    G = np.einsum("pmlk,pmlj,pml,pm->pkj", ratio, ratio, Z, w)             # E Σ_y Z g gᵀ
    psi_out = np.einsum("pml,pm->p", xlogy(Z, Z), w)
    gibbs = np.einsum("pm,pm->p", 1.0 - (Z * Z).sum(-1), w)
    bayes = np.einsum("pm,pm->p", 1.0 - Z.max(-1), w)
    y = np.asarray(rule.outputs, float)
    quad = 0.5 * np.einsum("pm,pm->p", Z @ (y * y) - (Z @ y) ** 2, w)     # ½ E Var(y | x)
    diag = np.einsum("pkk->p", G) / K
    if K == 1:
        return np.zeros(P), diag, psi_out, gibbs, bayes, quad
    off = (G.sum(axis=(1, 2)) - diag * K) / (K * (K - 1))
    perp, par = _psd(diag - off, diag + (K - 1) * off)
    return perp, par - perp, psi_out, gibbs, bayes, quad


def _psd(perp, par):
    """The eigenvalues of a projected positive semi-definite matrix, rounding below zero (the
    unspecialized subspace gives perp = 0 up to ~1e-16) set to 0."""
    return np.maximum(perp, 0.0), np.maximum(par, 0.0)


# -- prior side ---------------------------------------------------------------------------

def _discrete_prior_maps(prior, K: int):
    """Nishimori maps of a discrete prior: Z_w(b, A) = Σ over K-tuples of atoms of
    Π p_i exp(bᵀa − ½ aᵀ A a) (a log-sum-exp), ŵ = ∇_b log Z_w, q = E[ŵ ŵᵀ]."""
    vals = np.array([float(a) for a, _ in prior.atoms])
    logp = np.log(np.array([float(p) for _, p in prior.atoms]))
    idx = np.array(list(itertools.product(range(len(vals)), repeat=K)))
    C = vals[idx]                                                          # (c, K) configurations
    lpC = logp[idx].sum(1)                                                 # (c,)
    sq, tot = (C * C).sum(1), C.sum(1)

    def maps(hd, ha, nodes):
        # summed over every teacher configuration the integrand's projections (trace, total
        # sum, ψ) are permutation symmetric in ξ: sorted multi-indices suffice
        xi, wx = outer_rule(nodes, K, True, bool(np.all(hd == 0)))         # (M, K)
        with np.errstate(invalid="ignore"):
            sp_, sl = np.sqrt(np.clip(hd, 0, None)), np.sqrt(np.clip(hd + ha, 0, None))
        # b = r̂^{1/2} ξ + r̂ w₀ for every teacher configuration w₀ = C[t]
        bx = sp_[:, None, None] * xi[None] + ((sl - sp_)[:, None] * xi.mean(1)[None])[..., None]   # (P, M, K)
        bw = hd[:, None, None] * C[None] + (ha / K)[:, None, None] * tot[None, :, None]              # (P, t, K)
        b = bx[:, :, None, :] + bw[:, None, :, :]                                                    # (P, M, t, K)
        quad = 0.5 * (hd[:, None] * sq[None] + (ha / K)[:, None] * tot[None] ** 2)                  # (P, c)
        E = np.einsum("pmtk,ck->pmtc", b, C) + (lpC[None] - quad)[:, None, None, :]
        lz = logsumexp(E, axis=-1)                                                                   # (P, M, t)
        pw = np.exp(E - lz[..., None])
        what = np.einsum("pmtc,ck->pmtk", pw, C)
        wt = wx[:, None] * np.exp(lpC)[None, :]                                                     # (M, t)
        psi = np.einsum("pmt,mt->p", lz, wt)
        Q = np.einsum("pmtk,pmtj,mt->pkj", what, what, wt)
        diag = np.einsum("pkk->p", Q) / K
        if K == 1:
            return np.zeros_like(diag), diag, psi
        off = (Q.sum(axis=(1, 2)) - diag * K) / (K * (K - 1))
        perp, par = _psd(diag - off, diag + (K - 1) * off)
        return perp, par - perp, psi
    return maps


def _rotation_invariant_maps(prior, K: int, phi):
    """Maps from the symbolic ψ = (K−1) ψ₁(q_hat_d) + ψ₁(q_hat_d + q_hat_a): q_d, q_a solve
    ∂Φ/∂q_hat_d = ∂Φ/∂q_hat_a = 0 (``phi`` the derived free entropy for general K, the symbol
    ``K``), then lambdified at this K.  Returns (maps, the equations for general K)."""
    r, psi1 = _psi1(prior)
    psi = (K_SYMBOL - 1) * psi1.subs(r, QH_D) + psi1.subs(r, QH_D + QH_A)
    sol = sp.solve([sp.diff(phi, QH_D), sp.diff(phi, QH_A)], [Q_D, Q_A], dict=True)[0]
    sol = {k: sp.simplify(v) for k, v in sol.items()}
    if K == 1:   # one unit: only q = q_d + q_a is defined; the unspecialized chart q_d = 0
        at = {Q_D: sp.S.Zero, Q_A: sp.simplify((sol[Q_D] + sol[Q_A]).subs({QH_D: 0, K_SYMBOL: 1}))}
    else:
        at = {k: v.subs(K_SYMBOL, K) for k, v in sol.items()}
    qd_f = sp.lambdify((QH_D, QH_A), at[Q_D], "numpy")
    qa_f = sp.lambdify((QH_D, QH_A), at[Q_A], "numpy")
    psi_f = sp.lambdify((QH_D, QH_A), psi.subs(K_SYMBOL, K), "numpy")

    def maps(hd, ha, nodes):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.asarray(qd_f(hd, ha), float) * np.ones_like(hd),
                    np.asarray(qa_f(hd, ha), float) * np.ones_like(hd),
                    np.asarray(psi_f(hd, ha), float) * np.ones_like(hd))
    return maps, [sp.Eq(Q_D, sol[Q_D]), sp.Eq(Q_A, sol[Q_A])]


#: placeholders of the rendered theory (defined in its ``limits`` items)
_G_DIAG, _G_OFF = sp.Function("G_diag"), sp.Function("G_off")
_W_DIAG, _W_OFF = sp.Function("W_diag"), sp.Function("W_off")
_EPS_BAYES, _EPS_GIBBS = sp.Function("epsilon_Bayes"), sp.Function("epsilon_Gibbs")

_STEPS = [
    Phrase.spelled(
        'Permutation-symmetric ansatz: $q = q_d I_K + (q_a/K) J_K$ and $\\hat r = \\hat q_d I_K + (\\hat '
        'q_a/K) J_K$ ($J_K$ the all-ones matrix); $q_d = 0$ is the unspecialized subspace, $q = \\rho '
        'I_K$ perfect recovery.',
        'q = q_d I_K + (q_a/K) J_K', 'r_hat = q_hat_d I_K + (q_hat_a/K) J_K', 'J_K', 'q_d = 0', 'q = rho I_K'),
    Phrase.spelled(
        'Prior term $\\psi_{P_0}(\\hat r) = \\mathbb{E}_{\\xi, w_0} \\log Z_w(\\hat r^{1/2}\\xi + \\hat r '
        'w_0, \\hat r)$ with $Z_w(b, A) = \\mathbb{E}_{w \\sim P_0^{\\otimes K}} e^{b^T w - w^T A w/2}$: '
        'for Gaussian weights a sum of the $K = 1$ potential $\\psi_1$ over the eigenvalues $\\hat q_d$ '
        '($K - 1$ times) and $\\hat q_d + \\hat q_a$; otherwise $W = \\mathbb{E}[\\hat w \\hat w^T]$ with '
        '$\\hat w = \\nabla_b \\log Z_w$, $W_{\\rm diag}$ and $W_{\\rm off}$ its entries.',
        'psi_P0(r_hat) = E_(xi, w_0)[log Z_w(r_hat**(1/2) xi + r_hat w_0, r_hat)]',
        'Z_w(b, A) = E_(w ~ P_0^(x K))[exp(b^T w - w^T A w/2)]', 'K = 1', 'psi_1', 'q_hat_d', 'K - 1',
        'q_hat_d + q_hat_a', 'W = E[w_hat w_hat^T]', 'w_hat = grad_b log Z_w', 'W_diag', 'W_off'),
    Phrase.spelled(
        'Output term $\\Psi_{\\rm out}(q) = \\mathbb{E}_\\xi \\sum_y Z_{\\rm out} \\log Z_{\\rm out}$, '
        '$Z_{\\rm out}(y; \\omega, V) = P(f(\\omega + V^{1/2} u) = y)$ with $\\omega = q^{1/2}\\xi$, $V = '
        '\\rho I_K - q$: a sum of orthant probabilities; $G = \\mathbb{E}_\\xi \\sum_y Z_{\\rm out}\\, g '
        'g^T$ with $g = \\nabla_\\omega \\log Z_{\\rm out}$, $G_{\\rm diag}$ and $G_{\\rm off}$ its '
        'entries.',
        'Psi_out(q) = E_xi[sum_y Z_out log Z_out]', 'Z_out(y; omega, V) = P(f(omega + V**(1/2) u) = y)',
        'omega = q**(1/2) xi', 'V = rho I_K - q', 'G = E_xi[sum_y Z_out g g^T]', 'g = grad_omega log Z_out',
        'G_diag', 'G_off'),
    Phrase.spelled(
        'Generalization errors: Bayes-optimal estimator $\\epsilon_{\\rm Bayes} = 1 - \\mathbb{E}_\\xi '
        '\\max_y Z_{\\rm out}$; a posterior sample $\\epsilon_{\\rm Gibbs} = 1 - \\mathbb{E}_\\xi \\sum_y '
        'Z_{\\rm out}^2$; quadratic $\\frac{1}{2}\\mathbb{E}[(y - \\mathbb{E}[y|x])^2] = '
        '\\frac{1}{2}\\mathbb{E}_\\xi[\\sum_y y^2 Z_{\\rm out} - (\\sum_y y Z_{\\rm out})^2]$ (Aubin et '
        "al.'s generalization error).",
        'epsilon_Bayes = 1 - E_xi[max_y Z_out]', 'epsilon_Gibbs = 1 - E_xi[sum_y Z_out**2]',
        'E[(y - E[y|x])**2]/2 = E_xi[sum_y y**2 Z_out - (sum_y y Z_out)**2]/2'),
]


def derive_committee(model, _nishimori=None) -> CommitteeTheory:
    """The replica-symmetric theory of a Bayes-optimal committee ``model`` (built by
    :func:`replica.committee.committee_model` or any Model whose teacher is a
    :class:`CommitteeRule`).  The free entropy and equations are stated for general K (the
    symbol ``K``); the numerics are this model's K."""
    rule = model.teacher
    soft = getattr(rule, "soft", False)
    if not (isinstance(rule, CommitteeRule) or soft):
        raise DerivationError("committee derivation needs a CommitteeRule teacher (replica.committee.committee_model)")
    if not isinstance(model.learning, BayesOptimal):
        raise DerivationError("committee machines: only Bayes-optimal learning is derived so far")
    if model.student_prior is not None:
        raise DerivationError("committee machines: the Bayes-optimal student uses the teacher's prior")
    K = rule.K
    from .models import MAX_K, MAX_SOFT_K
    if soft and K > MAX_SOFT_K:
        raise DerivationError(f"soft committee: K = {K} hidden units is beyond the numerics (a K-dimensional "
                              f"inner expectation on a grid finer than the noise, K <= {MAX_SOFT_K})")
    if K > MAX_K:
        raise DerivationError(f"committee machines: K = {K} hidden units is beyond the numerics (product "
                              f"quadrature over K dimensions, K <= {MAX_K}); the large-K theory is not "
                              "implemented yet")
    prior = model.prior
    rho = float(prior.second_moment())
    gaussian = _rotation_invariant(prior)
    if not (gaussian or (prior.density == 0 and prior.atoms)):
        raise DerivationError("committee machines: priors other than Gaussian or discrete are not derived yet")
    # the replicated system with K × K order parameters, its n -> 0 limit and the Nishimori
    # reduction (replicas.py): the free entropy, the prior term and the coupling −½ Tr(r̂ q)
    # for symbolic K
    from .replicas import rs_free_entropy
    ni = _nishimori if _nishimori is not None else rs_free_entropy(prior).nishimori()
    coupling_general = sp.expand(ni.coupling)
    coupling = coupling_general.subs(K_SYMBOL, K)
    if gaussian:
        maps, eqs = _rotation_invariant_maps(prior, K, ni.free_entropy)
    else:
        maps = _discrete_prior_maps(prior, K)
        eqs = [sp.Eq(Q_D, _W_DIAG(QH_D, QH_A) - _W_OFF(QH_D, QH_A)),
               sp.Eq(Q_A, K_SYMBOL * _W_OFF(QH_D, QH_A))]
    eqs += [sp.Eq(QH_D, ALPHA * (_G_DIAG(Q_D, Q_A) - _G_OFF(Q_D, Q_A))),
            sp.Eq(QH_A, ALPHA * K_SYMBOL * _G_OFF(Q_D, Q_A))]
    observables = {"mse": sp.nsimplify(rho) - Q_D - Q_A / K_SYMBOL,
                   "generalization_error": _EPS_BAYES(Q_D, Q_A),
                   "gibbs_error": _EPS_GIBBS(Q_D, Q_A)}
    steps = list(ni.steps) + _STEPS
    if soft:
        steps[-2:] = [
            Phrase.spelled(
                'Output term $\\Psi_{\\rm out}(q) = \\mathbb{E}_\\xi \\int dy\\, Z_{\\rm out} \\log Z_{\\rm '
                'out}$, $Z_{\\rm out}(y; \\omega, V) = \\mathbb{E}_u \\mathcal{N}(y; f(\\omega + V^{1/2} u), '
                '\\Delta)$ with $f(h) = \\sum_k \\mathrm{erf}(h_k/\\sqrt{2})$, $\\omega = q^{1/2}\\xi$, $V = '
                '\\rho I_K - q$; $G = \\mathbb{E}_\\xi \\int dy\\, Z_{\\rm out}\\, g g^T$ with $g = '
                '\\nabla_\\omega \\log Z_{\\rm out}$.',
                'Psi_out(q) = E_xi[Integral(Z_out log Z_out, y)]',
                'Z_out(y; omega, V) = E_u[N(y; f(omega + V**(1/2) u), Delta)]',
                'f(h) = sum_k erf(h_k/sqrt(2))', 'omega = q**(1/2) xi', 'V = rho I_K - q',
                'G = E_xi[Integral(Z_out g g^T, y)]', 'g = grad_omega log Z_out'),
            Phrase.spelled(
                'Errors: $\\epsilon_{\\rm Bayes} = \\mathbb{E}_\\xi \\mathrm{Var}(f(z) \\mid \\omega)$ (the Bayes '
                "estimator's mean squared error on the noiseless output), $\\epsilon_{\\rm Gibbs} = 2 "
                '\\epsilon_{\\rm Bayes}$, quadratic $\\frac{1}{2}\\epsilon_{\\rm Bayes}$.',
                'epsilon_Bayes = E_xi[Var(f(z) | omega)]', 'epsilon_Gibbs = 2 epsilon_Bayes',
                'epsilon_Bayes/2'),
        ]
    return CommitteeTheory(model=model, K=K, free_entropy=ni.free_entropy, coupling=coupling,
                           coupling_general_K=coupling_general, prior_term=ni.prior_term, equations=eqs,
                           rho=rho, observables=observables, limits=steps,
                           _prior_maps=maps, _rule=rule, _nishimori=ni)


# -- the soft committee: continuous labels ----------------------------------------------------

#: the y-grid spacing and the inner rule's spacing in units of the noise's standard deviation
_SOFT_HY, _SOFT_DU, _SOFT_U_MAX, _SOFT_DU_CAP = 1 / 6, 1.1, 5.5, 0.35
#: outer Gauss–Hermite nodes of the soft committee: on the unspecialized line, and per dimension
_SOFT_LINE_NODES, _SOFT_NODES = 48, {1: 48, 2: 14}


def soft_inner_rule(K: int, delta: float, rho: float):
    """Points u (M, K) and weights (M,) for E_{u ~ N(0, I_K)}: the trapezoidal rule on
    [−5.5, 5.5]^K with spacing δu = min(0.35, 1.1 √(Δ/ρ)).  Z_out(y; ω, V) is then a mixture
    of Gaussians N(y; f(h_i), Δ) whose centres are at most 1.1 √(2/π) √Δ < √Δ apart (the
    units' slope is at most √(2/π)), where the mixture's ripple is below e^{−2π²/0.77} ~ 1e-11
    (Poisson summation); the rule depends on Δ only, so the maps are smooth in q."""
    du = min(_SOFT_DU_CAP, _SOFT_DU * np.sqrt(delta / rho))
    n = int(np.ceil(_SOFT_U_MAX / du))
    x = np.linspace(-n * du, n * du, 2 * n + 1)
    w = np.exp(-x * x / 2)
    w /= w.sum()
    idx = np.array(list(itertools.product(range(x.size), repeat=K))).reshape(-1, K)
    return x[idx], np.prod(w[idx], axis=1)


def _soft_output_side(rule, K: int, rho: float, delta: float, q_d, q_a, nodes=None, refined: bool = False):
    """(G_d, G_a, Ψ_out, Gibbs error, Bayes error, quadratic error) of the soft committee
    y = Σ_k g(h_k) + √Δ η.

    For every outer point ω = q^{1/2} ξ (Gauss–Hermite; on the unspecialized subspace the line
    ω = √((q_d + q_a)/K) t 1), the teacher's outputs s_i = f(ω + V^{1/2} u_i) at the inner
    points (``soft_inner_rule``) are binned linearly onto a y-grid of spacing h = √Δ/6, as are
    the weights w_i ∂_k f(h_i), and convolved with N(0, Δ − h²/6) and its derivative (the
    linear binning adds h²/6 to each centre's variance on average): Z_out(y; ω, V) and
    ∇_ω Z_out on the grid.  Then Ψ_out = E_ω ∫dy Z log Z and G = E_ω ∫dy ∇Z ∇Zᵀ/Z by the
    trapezoidal rule in y.  Errors: ε_Bayes = E_ω Var(f(z) | ω) (the Bayes estimator's mean
    squared error on the noiseless output), ε_Gibbs = 2 ε_Bayes (a posterior sample's), the
    quadratic error ½ ε_Bayes."""
    from scipy.signal import fftconvolve
    q_d, q_a = np.atleast_1d(q_d), np.atleast_1d(q_a)
    P = q_d.size
    out = [np.full(P, np.nan) for _ in range(6)]
    u, wu = soft_inner_rule(K, delta, rho)
    sig = np.sqrt(delta)
    hy = _SOFT_HY * sig
    var = delta - hy * hy / 6
    m = int(np.ceil(9 * sig / hy))
    off = hy * np.arange(-m, m + 1)
    kern = np.exp(-off * off / (2 * var)) / np.sqrt(2 * np.pi * var) * 1.0
    dkern = off / var * kern
    y0 = -K - 12 * sig
    ny = int(np.ceil(2 * (K + 12 * sig) / hy)) + 2
    for p in range(P):
        qd, qa = float(q_d[p]), float(q_a[p])
        if not (np.isfinite(qd) and np.isfinite(qa)):
            continue
        if K == 1 or qd == 0.0:
            t, wo = hermite(refined_nodes(_SOFT_LINE_NODES) if refined else _SOFT_LINE_NODES)
            xi = np.repeat(t[:, None] / np.sqrt(K), K, axis=1)
        else:
            n = _SOFT_NODES.get(K, 10) if nodes is None else min(nodes, _SOFT_NODES.get(K, 10))
            xi, wo = product_rule(refined_nodes(n) if refined else n, K, True)
        sq_p, sq_l = np.sqrt(max(qd, 0.0)), np.sqrt(max(qd + qa, 0.0))
        omega = sq_p * xi + (sq_l - sq_p) * xi.mean(1, keepdims=True)                     # (M, K)
        vp, vl = np.sqrt(max(rho - qd, 0.0)), np.sqrt(max(rho - qd - qa, 0.0))
        du = vp * u + (vl - vp) * u.mean(1, keepdims=True)                                 # (U, K)
        h = omega[:, None, :] + du[None]                                                   # (M, U, K)
        s = rule.activation(h).sum(-1)                                                     # (M, U)
        fm = s @ wu
        bayes = (s * s) @ wu - fm * fm
        M = omega.shape[0]
        pos = (s - y0) / hy
        j = np.floor(pos).astype(np.int64)
        tt = pos - j
        idx = (np.arange(M)[:, None] * ny + j).ravel()

        def binned(weights):
            a = weights * (1 - tt)
            b = weights * tt
            return (np.bincount(idx, a.ravel(), M * ny) + np.bincount(idx + 1, b.ravel(), M * ny)).reshape(M, ny)
        Z = fftconvolve(binned(np.broadcast_to(wu, s.shape)), kern[None], mode="same", axes=1)
        gp = rule.activation_prime(h)                                                      # (M, U, K)
        dZ = np.stack([fftconvolve(binned(gp[..., k] * wu), dkern[None], mode="same", axes=1)
                       for k in range(K)], -1)                                            # (M, ny, K)
        Z = np.maximum(Z, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(Z > 1e-300, 1.0 / np.where(Z > 1e-300, Z, 1.0), 0.0)
        G = np.einsum("myk,myl,my,m->kl", dZ, dZ, inv, wo) * hy
        out[2][p] = np.einsum("my,m->", xlogy(Z, Z), wo) * hy
        out[4][p] = bayes @ wo
        out[3][p] = 2 * out[4][p]
        out[5][p] = 0.5 * out[4][p]
        diag = np.trace(G) / K
        if K == 1:
            out[0][p], out[1][p] = 0.0, diag
        else:
            offd = (G.sum() - diag * K) / (K * (K - 1))
            perp, par = _psd(np.array(diag - offd), np.array(diag + (K - 1) * offd))
            out[0][p], out[1][p] = float(perp), float(par - perp)
    return tuple(out)
