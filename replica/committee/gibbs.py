"""Gibbs learning of a committee machine at temperature T (T = 0: the version space).

Teacher: a committee rule y = f(z), z = W*ᵀx/√N ∈ R^K, rows of W* from the Model's Gaussian prior
N(0, ρ₀).  Student: the same architecture and prior, sampled from the Gibbs measure

    P(W) ∝ P₀(W) exp(−Σ_μ ℓ(y_μ, f(λ_μ))/T),   λ = Wᵀx/√N,

ℓ the learning setting's loss evaluated on the labels (``energy_table``: ``Errors()`` gives
ℓ(y, y') = Θ(−y y') = [y' ≠ y] for ±1 labels, the training error of Schwarze & Hertz 1992, 1993;
Engel & Van den Broeck 2001, ch. 12).

**Free entropy** (replica symmetric, permutation-symmetric ansatz; every K × K order parameter
X = X_d I + (X_a/K) J, eigenvalues X_⊥ = X_d (K − 1 times) and X_∥ = X_d + X_a):
Q = WᵀW/N (a student's self-overlap), q = W¹ᵀW²/N (two students), m = WᵀW*/N (student–teacher,
Schwarze–Hertz's R).  :func:`replica.committee.replicas.rs_free_entropy` derives G(n) and its
n → 0 limit with the conjugates Q̂, q̂, m̂; here the conjugates are eliminated by SymPy
(stationarity of the coupling + prior terms; ``entropic_term``), which separates over the
eigen-directions:

    Φ = Σ_k μ_k s(Q_k, q_k, m_k) + α G_E(Q, q, m),   μ_⊥ = K − 1, μ_∥ = 1,
    s(Q, q, m) = −Q/(2ρ₀) + ½ log(Q − q) + (Q − m²/ρ₀)/(2(Q − q))            (ρ₀ = 1: Gardner's),
    G_E = E_ξ Σ_y Z*(y; m q^{−1/2} ξ, ρ − m q^{−1} m) log Z_T(y; q^{1/2} ξ, Q − q),
    Z_T(y; ω, V) = Σ_{y'} e^{−ℓ(y, y')/T} P(f(ω + V^{1/2} u) = y'),  ξ, u ~ N(0, I_K),

Z* and the label probabilities P(f(ω + V^{1/2}u) = y') both by the generated kernel
(:mod:`replica.committee.lower`, V = aI + bJ).  At K = 1 it is the perceptron's Gibbs free
entropy with Gaussian weights, which equals the spherical one (the sign rule is scale
invariant, so the radial and angular parts of the posterior factorize and Q = 1 at the saddle;
the same per unit at every K: Q_diag = 1).  The saddle point ∇Φ = 0 is solved by Newton's
method on the free coordinates with finite-difference derivatives of Φ (the quadrature nodes
fixed, so Φ is smooth in the order parameters).

**Charts.**  ``unspecialized``: q_d = m_d = 0 (every student unit has the same overlap with
every teacher unit; an invariant subspace: ∂s/∂q = ∂s/∂m = 0 at q = m = 0 and the output
term's ⊥ derivatives vanish by permutation symmetry), Q_⊥, Q_∥, q_∥, m_∥ free, the outer
expectation one-dimensional (ξ ∝ 1: ``quadrature.outer_rule`` on the diagonal);
``specialized``: all six free, the Gauss–Hermite product rule in ξ.

**Observables.**  ``generalization_error`` = P(f(λ) ≠ f(z)) of one Gibbs sample =
1 − E_ξ Σ_y Z*(y) P_y (at K = 1 arccos(m/√(Qρ₀))/π); ``training_error`` = the Gibbs average of
ℓ per example, E_ξ Σ_y Z*(y) Σ_{y'} ℓ(y, y') e^{−ℓ/T} P_{y'} / Z_T(y); ``mse`` = ρ₀ − 2 m_kk + q_kk
(the posterior mean's weight error); the entries ``Q_diag``, ``Q_off``, ``q_diag``, ``q_off``,
``m_diag``, ``m_off``.  Every point carries ``accuracy``: the change of ε_g and of ∇Φ at the
quadrature's higher order; a point is converged only where the residual and the accuracy are
both small.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import sympy as sp

from .. import learning, losses, priors
from ..model import Model
from ..params import ParameterError
from ..solve.branches import merge_branches
from ..solve.solution import Solution
from ..symbolic.derive import DerivationError
from ..symbolic.printing import Phrase
from ..symbolic.render import Rendered
from ..symbols import alpha as ALPHA, lam as LAM, y as Y
from .ansatz import K_SYMBOL
from .derive import DEFAULT_NODES, PRODUCT_MIN_LAYER, _rotation_invariant
from .lower import output_kernel
from .models import CommitteeRule, IntegerDomain
from .quadrature import hermite, outer_rule, refined_nodes
from .replicas import ORDER_PARAMETERS, rs_free_entropy
from .solve import CommitteeSolver

__all__ = ["committee_gibbs", "derive_gibbs_committee", "GibbsCommitteeTheory", "GibbsCommitteeSolver",
           "energy_table", "entropic_term", "solve_gibbs_committee", "MAX_GIBBS_K", "UNKNOWNS"]

#: the largest K of the Gibbs committee's numerics (a K-dimensional product rule, evaluated ~85
#: times per Newton step)
MAX_GIBBS_K = 3
#: the unknowns, (d, a) of Q, q, m (``replicas.ORDER_PARAMETERS``)
UNKNOWNS = ("Q_d", "Q_a", "q_d", "q_a", "m_d", "m_a")
#: the observables every point carries
OBSERVABLES = ("free_entropy", "generalization_error", "training_error", "mse", "Q_diag", "Q_off", "q_diag",
               "q_off", "m_diag", "m_off", "accuracy")
#: Gauss–Hermite nodes of the one-dimensional outer expectation (unspecialized chart, K = 1)
LINE_NODES = 96
#: a point is converged where |∇Φ| < tol and the accuracy estimate is below this
ACCURACY_TOL = 1e-6
#: finite-difference steps of the gradient and of the Hessian (relative to max(1, |x|))
H_GRAD, H_HESS = 1e-5, 1e-4

# eigen-coordinates of the six overlaps: index 0..5 = Q_⊥, Q_∥, q_⊥, q_∥, m_⊥, m_∥
_QP, _QL, _qP, _qL, _mP, _mL = range(6)
#: free coordinates of each chart (K ≥ 2); K = 1 has the ∥ ones only
_CHARTS = {"unspecialized": (_QP, _QL, _qL, _mL), "specialized": tuple(range(6))}
_K1 = (_QL, _qL, _mL)


def energy_table(rule, loss) -> np.ndarray:
    """ℓ(y, y') (L, L) for the teacher's label y and the student's output y' over the rule's labels,
    from the loss's SymPy expression ℓ(y, λ) at λ = y'.  Every entry must be a finite number
    (a step loss at its discontinuity, ``Errors`` at a tie label 0, is refused)."""
    out = np.empty((len(rule.outputs), len(rule.outputs)))
    for i, y in enumerate(rule.outputs):
        for j, yp in enumerate(rule.outputs):
            v = sp.simplify(loss.expr.xreplace({Y: sp.Integer(y) if float(y).is_integer() else sp.Float(y),
                                                LAM: sp.Integer(yp) if float(yp).is_integer() else sp.Float(yp)}))
            if v.free_symbols or not v.is_number or v.has(sp.Heaviside) or not v.is_finite:
                raise DerivationError(f"committee Gibbs learning: the loss {loss.expr} at y = {y}, output {yp} "
                                      f"is {v}, not a number")
            if isinstance(loss, losses.Errors) and float(v) not in (0.0, 1.0):
                raise DerivationError(f"committee Gibbs learning: the error count is ambiguous for the labels "
                                      f"{rule.outputs} (Θ(0) at a tie); use odd K or a tie rule of ±1")
            out[i, j] = float(v)
    return out


def boltzmann(E: np.ndarray, T) -> np.ndarray:
    """e^{−E/T} (P, L, L) at temperatures T (P,); T = 0: the limit [E = 0] (E ≥ 0 there)."""
    T = np.asarray(T, float).reshape(-1, 1, 1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        B = np.exp(-E[None] / np.where(T > 0, T, 1.0))
    return np.where(T > 0, B, (E[None] == 0).astype(float))


@dataclass(frozen=True)
class EntropicTerm:
    """Σ_k μ_k s(Q_k, q_k, m_k): ``s`` the per-direction function (SymPy, symbols ``Q``, ``q``, ``m``)
    and its NumPy form ``f(Q, q, m)``."""

    s: sp.Expr
    symbols: tuple
    conjugates: dict

    def numeric(self):
        return sp.lambdify(self.symbols, self.s, "numpy")


def entropic_term(prior, rs=None) -> EntropicTerm:
    """The conjugates eliminated from the derived coupling + prior terms of Φ_RS
    (``replicas.rs_free_entropy``): written on the eigen-directions (X_d = X_⊥, X_a = X_∥ − X_⊥),
    checked to be (K − 1) s(⊥) + s(∥) for symbolic K, and s made stationary in (Q̂, q̂, m̂) by
    ``sympy.solve`` (with A = 1 + ρ₀(Q̂ + q̂) for Q̂)."""
    rs = rs if rs is not None else rs_free_entropy(prior)
    ent = rs.coupling + rs.prior
    names = ("Q", "q", "m", "Q_hat", "q_hat", "m_hat")
    eig, sub = {}, {}
    for n in names:
        d, a = ORDER_PARAMETERS[n]
        p, l = sp.Symbol(n + "_perp", real=True), sp.Symbol(n + "_par", real=True)
        eig[n] = (p, l)
        sub[d], sub[a] = p, l - p
    e = sp.expand(ent.xreplace(sub))
    gen = {n: sp.Symbol(n, real=True) for n in names}
    per = [sp.expand(e.xreplace({eig[n][1 - i]: 0 for n in names})) for i in (0, 1)]
    s_perp = sp.simplify(per[0] / (K_SYMBOL - 1))
    s_par = sp.simplify(per[1])
    to_gen = lambda i: {eig[n][i]: gen[n] for n in names}  # noqa: E731
    if sp.simplify(s_perp.xreplace(to_gen(0)) - s_par.xreplace(to_gen(1))) != 0 or \
            sp.simplify(e - (K_SYMBOL - 1) * s_perp - s_par) != 0:
        raise DerivationError("committee Gibbs learning: the entropic term does not separate over the "
                              "eigen-directions of the ansatz")
    s = s_par.xreplace(to_gen(1))
    A = sp.Symbol("A", positive=True)
    rho0 = rs.replicated.rho0
    sA = s.xreplace({gen["Q_hat"]: (A - 1) / rho0 - gen["q_hat"]})
    sol = sp.solve([sp.diff(sA, v) for v in (A, gen["q_hat"], gen["m_hat"])], [A, gen["q_hat"], gen["m_hat"]],
                   dict=True)
    if len(sol) != 1:
        raise DerivationError(f"committee Gibbs learning: {len(sol)} stationary points of the entropic term")
    # simplified with V = Q − q > 0 (the domain), then written back in Q
    V = sp.Symbol("V", positive=True)
    out = sp.simplify(sp.expand_log(sp.simplify(sA.xreplace(sol[0]).xreplace({gen["Q"]: gen["q"] + V}))))
    out = out.xreplace({V: gen["Q"] - gen["q"]})
    conj = {gen["Q_hat"]: sp.simplify(((A - 1) / rho0 - gen["q_hat"]).xreplace(sol[0]).xreplace(sol[0])),
            gen["q_hat"]: sol[0][gen["q_hat"]], gen["m_hat"]: sol[0][gen["m_hat"]]}
    return EntropicTerm(out, (gen["Q"], gen["q"], gen["m"]), conj)


# -- the model -------------------------------------------------------------------------------

def committee_gibbs(K: int = 3, temperature="T", name: str = "committee-gibbs", alpha: float = 1.0,
                    T: float = 0.5) -> Model:
    """Built-in ``committee-gibbs``: a sign committee of K units (ties, for even K, to +1 so that
    labels are ±1) with Gaussian weights, learnt by a student of the same architecture at
    temperature ``T`` with the training-error energy (``losses.Errors()``); parameters
    ``alpha``, ``K`` (1 ≤ K ≤ ``MAX_GIBBS_K``, default 3), ``T`` (≥ 0)."""
    rule = CommitteeRule(K, "sign", tie=1)
    rule.domains[K_SYMBOL] = IntegerDomain(1, MAX_GIBBS_K)
    L = learning.Gibbs(temperature, losses.Errors())
    defaults = {"alpha": alpha, "K": K}
    if isinstance(L.temperature, sp.Symbol):
        defaults[L.temperature.name] = T
    return Model(prior=priors.Gaussian(1), teacher=rule, learning=L, hidden_units=K, name=name,
                 defaults=defaults,
                 description="committee machine of K sign units with Gaussian weights (ties to +1), learnt by a "
                             "committee student at temperature T with the training-error energy (Schwarze & "
                             "Hertz 1993)")


_STEPS = [
    Phrase.spelled(
        'Gibbs student: $P(W) \\propto P_0(W) e^{-\\sum_\\mu \\ell(y_\\mu, f(\\lambda_\\mu))/T}$, '
        '$\\ell(y, y\')$ the loss on the labels; $Z_T(y; \\omega, V) = \\sum_{y\'} e^{-\\ell(y, y\')/T} '
        'P(f(\\omega + V^{1/2}u) = y\')$ ($T = 0$: the version space).',
        "P(W) ~ P_0(W) exp(-sum_mu l(y_mu, f(lambda_mu))/T)", "l(y, y')",
        "Z_T(y; omega, V) = sum_y' exp(-l(y, y')/T) P(f(omega + V**(1/2) u) = y')", "T = 0"),
    Phrase.spelled(
        'Conjugates eliminated: on the eigen-directions of the ansatz ($\\perp$: $K - 1$ times, '
        '$\\parallel$: once) the coupling and prior terms are $\\sum_k \\mu_k s(Q_k, q_k, m_k)$, made '
        'stationary in $\\hat Q_k, \\hat q_k, \\hat m_k$.',
        "perp", "K - 1", "par", "sum_k mu_k s(Q_k, q_k, m_k)", "Q_hat_k, q_hat_k, m_hat_k"),
    Phrase.spelled(
        'Errors: $\\epsilon_g = 1 - \\mathbb{E}_\\xi \\sum_y Z^*(y) P(f(\\lambda) = y)$ (one Gibbs sample), '
        '$\\epsilon_t = \\mathbb{E}_\\xi \\sum_y Z^*(y) \\langle \\ell \\rangle_{Z_T}$.',
        "epsilon_g = 1 - E_xi[sum_y Z*(y) P(f(lambda) = y)]", "epsilon_t = E_xi[sum_y Z*(y) <l>_Z_T]"),
]

_PSI_E = sp.Function("G_E")
_EPS_G, _EPS_T = sp.Function("epsilon_g"), sp.Function("epsilon_t")


@dataclass(repr=False)
class GibbsCommitteeTheory(Rendered):
    """What ``replica.derive`` returns for a committee learnt by Gibbs sampling
    (``derive_gibbs_committee``): ``free_entropy`` (symbolic K; the output term G_E abstract),
    ``equations`` (∂Φ/∂X = 0 for the six overlaps), ``order_parameters``, ``observables``,
    ``limits``; numerics ``phi`` (batched Φ and observables), ``solver``."""

    model: object
    K: int
    free_entropy: sp.Expr
    equations: list
    rho: float
    entropic: EntropicTerm
    energies: np.ndarray
    observables: dict = field(default_factory=dict)
    limits: list = field(default_factory=list)
    kind: str = "finite-temperature"
    unknowns: list = field(default_factory=lambda: list(UNKNOWNS))
    fixed: dict = field(default_factory=dict)
    capacity: object = None
    replicated: object = None
    potentials: dict = field(default_factory=dict)
    _rule: CommitteeRule = None
    _rs: object = field(default=None, repr=False)
    _family: dict = field(default_factory=dict, repr=False)

    @property
    def order_parameters(self):
        return [s for n in ("Q", "q", "m") for s in ORDER_PARAMETERS[n]]

    @property
    def parameters(self):
        return self.model.parameters

    @property
    def parameter_names(self):
        return [s.name for s in self.model.parameters]

    @property
    def temperature_name(self):
        t = self.model.learning.temperature
        return t.name if isinstance(t, sp.Symbol) else None

    @property
    def point_parameters(self):
        return ["K"]

    @property
    def module(self):
        return SimpleNamespace(OUTPUTS=list(OBSERVABLES))

    @property
    def solver(self):
        return GibbsCommitteeSolver(self)

    def compile(self, backend="numpy", cache=True):
        if backend != "numpy":
            raise DerivationError(f"committee machines: only the NumPy backend exists (asked for {backend!r})")
        return self

    @property
    def source(self) -> str:
        return self.text()

    def at_point(self, **values) -> "GibbsCommitteeTheory":
        K = int(self.model.teacher.domains[K_SYMBOL].check("K", values.get("K", self.K)))
        if K == self.K:
            return self
        if K not in self._family:
            self._family[K] = derive_gibbs_committee(_with_units(self.model, K), _rs=self._rs)
        return self._family[K]

    # -- numerics ---------------------------------------------------------------------------
    def temperatures(self, T) -> np.ndarray:
        if self.temperature_name is None:
            return np.full(np.shape(T), float(self.model.learning.temperature))
        return np.asarray(T, float)

    def phi(self, X, alpha, T, chart: str, refined: bool = False, want_obs: bool = False):
        """Φ at the points X (P, 6) of eigen-coordinates (Q_⊥, Q_∥, q_⊥, q_∥, m_⊥, m_∥), with
        ``alpha``, ``T`` (P,); NaN outside the domain or where the product rule does not resolve
        the layers of Z_T and Z*.  ``want_obs``: also (ε_g, ε_t)."""
        X = np.array(X, float)
        P, K, rho = X.shape[0], self.K, self.rho
        if K == 1 or chart == "unspecialized":
            if K == 1:
                X[:, [_QP, _qP, _mP]] = X[:, [_QL, _qL, _mL]]
            else:
                X[:, _qP] = X[:, _mP] = 0.0
        Qp, Ql, qp, ql, mp, ml = X.T
        line = K == 1 or chart == "unspecialized"
        with np.errstate(divide="ignore", invalid="ignore"):
            tp = np.where(qp > 0, mp / np.sqrt(qp), 0.0)
            tl = ml / np.sqrt(ql)
            Vtp = np.where(qp > 0, rho - mp * mp / np.where(qp > 0, qp, 1.0), rho)
            Vtl = rho - ml * ml / ql
        Vp, Vl = Qp - qp, Ql - ql
        ok = ((Vp > 1e-12) & (Vl > 1e-12) & (Vtp > 1e-12) & (Vtl > 1e-12) & (qp >= 0) & (ql > 0)
              & np.all(np.isfinite(X), 1))
        out = np.full(P, np.nan)
        eg, et = np.full(P, np.nan), np.full(P, np.nan)
        i = np.flatnonzero(ok)
        if i.size:
            n = DEFAULT_NODES.get(K, 8)
            if line:
                # ξ = (t/√K) 1: Gauss–Hermite in t; the reference of the accuracy estimate is the
                # graded composite rule (``quadrature.outer_rule`` on the diagonal)
                if refined:
                    xi, wx = outer_rule(n, K, True, True)
                else:
                    t, wx = hermite(LINE_NODES)
                    xi = np.repeat(t[:, None] / np.sqrt(K), K, axis=1)
            else:
                xi, wx = outer_rule(refined_nodes(n) if refined else n, K, self._rule.permutation_symmetric, False)
            mean = xi.mean(1)
            sp_, sl = np.sqrt(qp[i]), np.sqrt(ql[i])
            omega = sp_[:, None, None] * xi[None] + ((sl - sp_)[:, None] * mean[None])[..., None]
            omt = tp[i, None, None] * xi[None] + ((tl[i] - tp[i])[:, None] * mean[None])[..., None]
            kern = output_kernel(self._rule)
            Zt, _ = kern(omt, Vtp[i], (Vtl[i] - Vtp[i]) / K, grad=False, refined=refined)
            Zs, _ = kern(omega, Vp[i], (Vl[i] - Vp[i]) / K, grad=False, refined=refined)
            B = boltzmann(self.energies, self.temperatures(T)[i])
            ZT = np.einsum("pyz,pmz->pmy", B, Zs)
            with np.errstate(divide="ignore", invalid="ignore"):
                logZ = np.log(np.where(ZT > 1e-300, ZT, 1e-300))
            # a label the student cannot output where the teacher gives it weight: Φ = −∞ (T = 0
            # outside the version space); underflow to 1e-300 with relevant weight: not resolved
            lost = np.einsum("pmy,m->p", Zt * (ZT <= 1e-300), wx)
            G = np.einsum("pmy,pmy,m->p", Zt, logZ, wx)
            G[lost > 1e-12] = np.nan
            prior = self.entropic_value(X[i])
            out[i] = prior + alpha[i] * G
            if not line:
                # layers of width √V_kk (student) and √V*_kk (teacher) across ω_k = 0: unresolved by
                # the product rule where much thinner than its node spacing (``derive``'s criterion)
                sp_kk = np.sqrt((K - 1) / K * qp[i] + ql[i] / K) * np.pi / np.sqrt(2.0 * n)
                st_kk = np.sqrt(np.maximum((K - 1) / K * tp[i] ** 2 + tl[i] ** 2 / K, 1e-300)) * np.pi / np.sqrt(2.0 * n)
                vs = np.sqrt((K - 1) / K * Vp[i] + Vl[i] / K)
                vt = np.sqrt((K - 1) / K * Vtp[i] + Vtl[i] / K)
                bad = (vs < PRODUCT_MIN_LAYER * sp_kk) | (vt < PRODUCT_MIN_LAYER * st_kk)
                out[i[bad]] = np.nan
            if want_obs:
                eg[i] = 1.0 - np.einsum("pmy,pmy,m->p", Zt, Zs, wx)
                with np.errstate(divide="ignore", invalid="ignore"):
                    avg = np.einsum("pyz,pmz->pmy", B * self.energies[None], Zs) / np.where(ZT > 0, ZT, 1.0)
                et[i] = np.einsum("pmy,pmy,m->p", Zt, avg, wx)
        return (out, eg, et) if want_obs else out

    def entropic_value(self, X) -> np.ndarray:
        """Σ_k μ_k s(Q_k, q_k, m_k) at eigen-coordinates X (P, 6)."""
        f = self._entropic_f
        with np.errstate(divide="ignore", invalid="ignore"):
            val = f(X[:, _QL], X[:, _qL], X[:, _mL])
            if self.K > 1:
                val = val + (self.K - 1) * f(X[:, _QP], X[:, _qP], X[:, _mP])
        return val

    @property
    def _entropic_f(self):
        if "_f" not in self._family:
            self._family["_f"] = self.entropic.numeric()
        return self._family["_f"]


def _with_units(model: Model, K: int) -> Model:
    """The same Gibbs committee with K hidden units."""
    K = int(model.teacher.domains[K_SYMBOL].check("K", K))
    L = model.learning
    out = committee_gibbs(K, L.temperature, name=model.name, alpha=float(model.defaults.get("alpha", 1.0)))
    out.defaults = {**model.defaults, "K": K}
    out.description = model.description
    return out


def derive_gibbs_committee(model, _rs=None) -> GibbsCommitteeTheory:
    """The replica-symmetric theory of a committee ``model`` whose learning is
    ``learning.Gibbs(T, loss)``: Gaussian weights (teacher and student), a sign-table rule."""
    rule = model.teacher
    if not isinstance(rule, CommitteeRule):
        raise DerivationError("committee Gibbs learning: the teacher must be a sign-table CommitteeRule "
                              "(replica.committee.committee_gibbs)")
    if not isinstance(model.learning, learning.Gibbs):
        raise DerivationError("committee Gibbs learning: the learning setting must be learning.Gibbs")
    if model.student_prior is not None:
        raise DerivationError("committee Gibbs learning: the student uses the teacher's prior")
    if not _rotation_invariant(model.prior):
        raise DerivationError("committee Gibbs learning: derived for Gaussian weights only so far")
    K = rule.K
    if K > MAX_GIBBS_K:
        raise DerivationError(f"committee Gibbs learning: K = {K} is beyond the numerics (K <= {MAX_GIBBS_K})")
    rs = _rs if _rs is not None else rs_free_entropy(model.prior)
    ent = entropic_term(model.prior, rs)
    E = energy_table(rule, model.learning.loss)
    Qs, qs, ms = ent.symbols
    eig = {}
    for n, sym in zip(("Q", "q", "m"), (Qs, qs, ms)):
        d, a = ORDER_PARAMETERS[n]
        eig[sym] = (d, d + a)
    s_perp = ent.s.xreplace({sym: v[0] for sym, v in eig.items()})
    s_par = ent.s.xreplace({sym: v[1] for sym, v in eig.items()})
    args = [s for n in ("Q", "q", "m") for s in ORDER_PARAMETERS[n]]
    phi = (K_SYMBOL - 1) * s_perp + s_par + ALPHA * _PSI_E(*args)
    eqs = [sp.Eq(sp.Derivative(sp.Function("Phi")(*args), x), 0) for x in args]
    rho = float(model.prior.second_moment())
    md, ma = ORDER_PARAMETERS["m"]
    qd, qa = ORDER_PARAMETERS["q"]
    obs = {"generalization_error": _EPS_G(*args), "training_error": _EPS_T(*args),
           "mse": sp.nsimplify(rho) - 2 * (md + ma / K_SYMBOL) + qd + qa / K_SYMBOL}
    kind = "zero-temperature" if model.learning.zero_temperature else "finite-temperature"
    return GibbsCommitteeTheory(model=model, K=K, free_entropy=phi, equations=eqs, rho=rho, entropic=ent,
                                energies=E, observables=obs, limits=list(rs.steps) + _STEPS, kind=kind,
                                _rule=rule, _rs=rs)


# -- the solver ---------------------------------------------------------------------------------

def _start(K: int, chart: str) -> np.ndarray:
    """Eigen-coordinates of the starts: near α = 0 (uninformed, q = m ≈ 0, Q = I) on the
    unspecialized chart; near the teacher (m = 0.9 I, q = 0.85 I) on the specialized one."""
    if chart == "unspecialized" or K == 1:
        return np.array([1.0, 1.0, 0.0, 0.05, 0.0, 0.1])
    return np.array([1.0, 1.0, 0.85, 0.85, 0.9, 0.9])


@dataclass
class _Point:
    x: np.ndarray
    converged: bool
    residual: float
    accuracy: float
    iterations: int


def _axis_points(x, free, h):
    """x + h_i e_i, x - h_i e_i for each free coordinate i, in that order."""
    pts = []
    for i in free:
        for s in (1, -1):
            p = x.copy()
            p[i] += s * h[i]
            pts.append(p)
    return pts


def _stencil(x, free, hg, hh):
    """Points of the finite-difference stencil: x, x ± hg e_i, x ± hh e_i, x ± hh e_i ± hh e_j."""
    pts = [x] + _axis_points(x, free, hg) + _axis_points(x, free, hh)
    for a, i in enumerate(free):
        for j in free[a + 1:]:
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                p = x.copy()
                p[i] += si * hh[i]
                p[j] += sj * hh[j]
                pts.append(p)
    return np.array(pts)


def _derivatives(v, free, hg, hh):
    """(gradient, Hessian) on the free coordinates from the stencil values ``v``."""
    n = len(free)
    g = np.array([(v[1 + 2 * k] - v[2 + 2 * k]) / (2 * hg[i]) for k, i in enumerate(free)])
    base = 1 + 2 * n
    H = np.empty((n, n))
    for k, i in enumerate(free):
        H[k, k] = (v[base + 2 * k] - 2 * v[0] + v[base + 2 * k + 1]) / hh[i] ** 2
    c = base + 2 * n
    for a, i in enumerate(free):
        for b in range(a + 1, n):
            j = free[b]
            pp, pm, mp, mm = v[c:c + 4]
            H[a, b] = H[b, a] = (pp - pm - mp + mm) / (4 * hh[i] * hh[j])
            c += 4
    return g, H


def _gradient(th, x, free, alpha, T, chart, refined=False):
    hg = H_GRAD * np.maximum(1.0, np.abs(x))
    pts = [x] + _axis_points(x, free, hg)
    v = th.phi(np.array(pts), np.full(len(pts), alpha), np.full(len(pts), T), chart, refined)
    return np.array([(v[1 + 2 * k] - v[2 + 2 * k]) / (2 * hg[i]) for k, i in enumerate(free)])


def _newton(th, x0, alpha: float, T: float, chart: str, tol: float, max_iter: int = 40) -> _Point:
    """∇Φ = 0 on the chart's free coordinates by Newton's method (finite-difference gradient and
    Hessian of Φ; steps halved while they leave the domain, at most 0.25 per coordinate)."""
    free = _K1 if th.K == 1 else _CHARTS[chart]
    x = np.array(x0, float)
    res = np.inf
    for it in range(1, max_iter + 1):
        hg = H_GRAD * np.maximum(1.0, np.abs(x))
        hh = H_HESS * np.maximum(1.0, np.abs(x))
        pts = _stencil(x, free, hg, hh)
        v = th.phi(pts, np.full(len(pts), alpha), np.full(len(pts), T), chart)
        if not np.all(np.isfinite(v)):
            return _Point(x, False, np.nan, np.nan, it)
        g, H = _derivatives(v, free, hg, hh)
        res = float(np.max(np.abs(g)))
        if res < tol:
            break
        try:
            step = np.linalg.solve(H, -g)
        except np.linalg.LinAlgError:
            return _Point(x, False, res, np.nan, it)
        step *= min(1.0, 0.25 / max(np.max(np.abs(step)), 1e-300))
        for _ in range(30):
            trial = x.copy()
            trial[list(free)] += step
            if np.isfinite(th.phi(trial[None], np.array([alpha]), np.array([T]), chart)[0]):
                break
            step /= 2
        else:
            return _Point(x, False, res, np.nan, it)
        x = trial
    else:
        return _Point(x, False, res, np.nan, max_iter)
    g_ref = _gradient(th, x, free, alpha, T, chart, refined=True)
    _, eg, _ = th.phi(x[None], np.array([alpha]), np.array([T]), chart, want_obs=True)
    _, eg_r, _ = th.phi(x[None], np.array([alpha]), np.array([T]), chart, refined=True, want_obs=True)
    acc = float(max(np.max(np.abs(g_ref)), abs(eg_r[0] - eg[0])))
    return _Point(x, bool(acc < ACCURACY_TOL), res, acc, it)



def _full(x, K, chart):
    """Eigen-coordinates with the chart's fixed ones filled in (K = 1: ⊥ = ∥; unspecialized: q_⊥ = m_⊥ = 0)."""
    x = np.array(x, float)
    if K == 1:
        x[[_QP, _qP, _mP]] = x[[_QL, _qL, _mL]]
    elif chart == "unspecialized":
        x[_qP] = x[_mP] = 0.0
    return x


#: the stages of the continuation in α from a cold start (fractions of the target α)
RAMP = (0.125, 0.25, 0.5, 0.75, 1.0)


def _ramp(th, x0, alpha: float, T: float, chart: str, tol: float) -> _Point:
    """Newton along α_k = f_k α (``RAMP``) from the start x0: a cold start far from the saddle
    (large α) reached by continuation."""
    x = x0
    for f in RAMP:
        pt = _newton(th, x, f * alpha, T, chart, tol)
        if not np.isfinite(pt.residual) or (pt.residual >= tol and f == 1.0):
            return pt
        x = _full(pt.x, th.K, chart)
    return pt


def solve_gibbs_committee(theory, alpha, T, chart: str = "unspecialized", *, tol: float = 1e-9, init=None):
    """Saddle points at the points (alpha, T) (arrays of one shape, flat), by continuation in α
    (sorted; each start the last converged point at the same T, else ``_start`` or ``init``, an
    array of eigen-coordinates).  Returns dict of arrays: the unknowns (d, a of Q, q, m), the
    observables, ``converged``, ``residual``."""
    alpha, T = np.atleast_1d(np.asarray(alpha, float)), np.atleast_1d(np.asarray(T, float))
    n = alpha.size
    out = {k: np.full(n, np.nan) for k in UNKNOWNS + OBSERVABLES}
    conv, res = np.zeros(n, bool), np.full(n, np.nan)
    K = theory.K
    last = {}
    for p in np.lexsort((alpha, T)):
        key = float(T[p])
        warm = key in last
        x0 = last.get(key, _start(K, chart) if init is None else np.asarray(init, float))
        pt = _newton(theory, _full(x0, K, chart), float(alpha[p]), float(T[p]), chart, tol)
        if not pt.converged and not warm:
            pt = _ramp(theory, _full(x0, K, chart), float(alpha[p]), float(T[p]), chart, tol)
        res[p] = pt.residual
        out["accuracy"][p] = pt.accuracy
        if not pt.converged:
            continue
        x = _full(pt.x, K, chart)
        last[key] = x
        conv[p] = True
        phi, eg, et = theory.phi(x[None], alpha[p:p + 1], T[p:p + 1], chart, want_obs=True)
        Qp, Ql, qp, ql, mp, ml = x
        for name, (perp, par) in (("Q", (Qp, Ql)), ("q", (qp, ql)), ("m", (mp, ml))):
            d, a = perp, par - perp
            if K == 1:
                d, a = 0.0, par
            out[name + "_d"][p], out[name + "_a"][p] = d, a
            out[name + "_diag"][p] = d + a / K
            out[name + "_off"][p] = a / K if K > 1 else np.nan
        out["free_entropy"][p], out["generalization_error"][p], out["training_error"][p] = phi[0], eg[0], et[0]
        out["mse"][p] = theory.rho - 2 * out["m_diag"][p] + out["q_diag"][p]
    return {**out, "converged": conv, "residual": res}


class GibbsCommitteeSolver:
    """The Gibbs committee behind ``replica.solve``'s public functions (``solve``,
    ``solve_branches``); starts ``'unspecialized'`` (default) and ``'specialized'``."""

    STARTS = ("unspecialized", "specialized")

    def __init__(self, theory):
        self.theory = theory

    #: (shape, {name: flat array}): defaults filled in, every value checked (the Bayes solver's)
    grid = CommitteeSolver.grid

    def solve(self, params=None, init=None, *, tol: float = 1e-9, branch=None, **_):
        """Saddle points on the grid from one chart (``init``: 'unspecialized' or 'specialized')."""
        chart = "unspecialized" if init in (None, "uninformed") else "specialized" if init == "informed" else init
        if chart not in self.STARTS:
            raise ParameterError(f"committee Gibbs learning: init must be one of {self.STARTS}, got {init!r}")
        shape, flat = self.grid(params)
        n = flat["alpha"].size
        tname = self.theory.temperature_name
        T = flat[tname] if tname else np.full(n, float(self.theory.model.learning.temperature))
        res = {k: np.full(n, np.nan) for k in UNKNOWNS + OBSERVABLES}
        conv, resid = np.zeros(n, bool), np.full(n, np.nan)
        for K in np.unique(flat["K"]):
            sel = np.flatnonzero(flat["K"] == K)
            th = self.theory.at_point(K=int(K))
            s = solve_gibbs_committee(th, flat["alpha"][sel], T[sel], chart, tol=max(tol, 1e-9))
            for k in res:
                res[k][sel] = s[k]
            conv[sel], resid[sel] = s["converged"], s["residual"]
        rs = lambda a: a.reshape(shape)  # noqa: E731
        lab = np.full(n, branch or chart, dtype=object)
        return Solution(model=self.theory.model.name, names=list(UNKNOWNS), params={k: rs(v) for k, v in flat.items()},
                        values={k: rs(res[k]) for k in UNKNOWNS}, fixed={},
                        outputs={k: rs(res[k]) for k in OBSERVABLES}, converged=rs(conv), residual=rs(resid),
                        iterations=rs(np.zeros(n, int)), branch=rs(lab), last={k: rs(res[k]) for k in UNKNOWNS})

    def solve_branches(self, params=None, init="all", *, merge_tol: float = 1e-6, **kw):
        # 'all': the unspecialized chart (the specialized one is reached with init='specialized'
        # or 'informed', where its product rule resolves the layers; see the module doc)
        starts = ("unspecialized",) if init in (None, "all") else (init,)
        return merge_branches({s: self.solve(params, s, branch=s, **kw) for s in starts}, merge_tol)

    def find_transitions(self, *a, **k):
        raise ParameterError("committee Gibbs learning: transitions are not searched yet (solve over a sweep)")
