"""The committee machine with many hidden units: any K on the unspecialized subspace, and K → ∞.

Model: Aubin, Maillard, Barbier, Krzakala, Macris & Zdeborová, NeurIPS 2018 (arXiv:1806.05451)
and J. Stat. Mech. 2019 124023: y = f(z), f a permutation-symmetric rule of the signs of the
K hidden fields z = W*ᵀx/√N (the built-ins: y = sign(Σ_k sign z_k)), Bayes-optimal learning,
permutation-symmetric overlap q = q_d I + (q_a/K) J (notation of ``derive``).  Two regimes:

**1. The unspecialized subspace q_d = 0, exactly, for any K** (:class:`Subspace`).  There the
student knows only the mean direction: ω = √(q_a/K) T 1 (T ~ N(0, 1)) and V = I − (q_a/K) J.
The K-dimensional output expectation reduces to one-dimensional integrals.  Writing
V = I + (i√(q_a/K))² J, the fields are z_k = c + e_k with e_k iid N(0, 1) and a *common
imaginary* shift c = √(q_a/K)(T − i v), v ~ N(0, 1) (the Gaussian average of the entire
function c ↦ E_e[F(c + e)]; it converges because q_a < 1).  Given c the units are independent,
so the number n of positive units has

    P(n | T) = C(K, n) E_v[Φ(c)^n Φ(−c)^{K−n}]                                     (1)

and the rule's labels are sums over n (``count_labels``).  The per-unit truncated moments
(E[e 1{e > −c}] = N(c), E[e² 1{e > −c}] = Φ(c) − c N(c), ...) give, in the same integral,
∂_T P(y|T) and E[‖P_⊥ z‖² 1{y} | T] (P_⊥ the projector orthogonal to 1).  From them:

* the parallel (mean-direction) channel: Ψ_out = E_T Σ_y P log P and the conjugate
  q̂_a = α G_∥ with G_∥ = E_T Σ_y (∂_T P)² / (q_a P) — a scalar GLM whose prior is that of the
  mean weight M/√K (M = Σ_k w_k): Gaussian for Gaussian weights (the K = 1 map of ``derive``),
  the K-fold convolution of the atoms for a discrete prior (enumerated by multisets);
* the stability of q_d = 0 (Bayes-optimal state evolution linearised in the K − 1 directions
  orthogonal to 1):

      λ(α) = ∂M_d/∂q_d |_{q_d=0} = α χ S_⊥,   S_⊥ = E_T Σ_y h_y² / P(y|T),
      h_y(T) = (E[‖P_⊥ z‖² 1{y} | T] − (K − 1) P(y|T)) / (K − 1),                    (2)

  h_y the orthogonal eigenvalue of ∇²_ω P(y | ω) (second-order Stein) and χ = E[c(B)²] the
  prior's orthogonal susceptibility, c(B) = E[‖P_⊥ w‖² | B]/(K − 1) the posterior variance per
  orthogonal direction given the mean-direction observation B (χ = ρ² for Gaussian weights).
  This is what ``solve.stability`` differentiates numerically; here it is exact for any K.

By the scale invariance of a sign rule (z → τ z leaves y unchanged),
E[‖P_⊥ z‖² 1{y} | s̄] = (K − 1) P_y(s̄) − s̄ P_y'(s̄) with s̄ = Σ_k z_k/√K: h_y = O(1/K), so
λ = Θ(α/K²) and the unspecialized fixed point — where AMP started without information stays —
is linearly stable up to α = Θ(K²) (:meth:`Subspace.instability`).

**2. K → ∞ with α = α̃ K** (:class:`LargeKTheory`, the large-K scaling of Aubin et al.).
By the central limit theorem Σ_k sign(z_k)/√K and its student replica are jointly
Gaussian with covariance given by the arcsin law E[sign z sign z'] = (2/π) arcsin(corr):
the output side is the K = 1 sign perceptron's at the effective overlap

    Q = (2/π) (1/K) Σ_{kl} arcsin q_kl = (2/π)[arcsin(q_d + q_a/K) + (K − 1) arcsin(q_a/K)]
      → (2/π)(arcsin q_d + q_a)     (K → ∞, by SymPy),                                (3)

and at α = Θ(K) the mean direction is learned (q̂_a = Θ(K), q_d + q_a = 1 − O(1/K)), so
q_a = 1 − q_d.  The free entropy per weight becomes a function of q_d alone,

    φ(q_d; α̃) = extr_{q̂_d} [ψ₁(q̂_d) − ½ q̂_d q_d] + α̃ Ψ₁(Q(q_d)),   Q = (2/π)(arcsin q_d + 1 − q_d),

ψ₁ and Ψ₁ the K = 1 prior and output potentials of the same components (``derive``),
q̂_d = α̃ G₁(Q) dQ/dq_d.  Since dQ/dq_d = (2/π)(1/√(1 − q_d²) − 1) vanishes at q_d = 0
(what the specialization gains in arcsin q_d the mean direction loses in q_a), q̂_d = O(q_d²)
there: q_d = 0 is a fixed point stable at every α̃ (λ = Θ(α̃/K) by (2)), and specialization is
a first-order transition.  Measured (``transitions``): Gaussian weights, the specialized branch
appears at α̃ = 7.1692 (q_d = 0.821) and wins at α̃ = 7.6802 (q_d = 0.936, Bayes error
0.206 → 0.143); ±1 weights, perfect recovery (φ = −log 2) wins at α̃ = log 2 / (−Ψ₁(2/π))
= 1.6176, no stable intermediate branch; both: the unspecialized branch is unstable only
beyond α ≃ 3.270 K² (:class:`Subspace`, K → ∞).  This is the picture of Schwarze & Hertz
(1993, first-order transitions at α ∝ K for both kinds of weights) and of Ahr, Biehl &
Schwarze (1998, soft committee: an unspecialized metastable state up to α = O(K²)).

Equation (3) is a documented shortcut (the CLT is not re-derived symbolically), as is
q_a = ρ − q_d; ``tests/test_committee_largek.py`` checks them against exact finite-K output
potentials and the exact subspace at α = α̃ K, and (1)-(2) against the K-dimensional
machinery of ``derive`` at K = 2, 3, 4.
"""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln, log_ndtr, logsumexp, xlogy

from .. import priors
from ..params import ParameterError
from .quadrature import hermite, legendre, line_rule

__all__ = ["count_labels", "effective_overlap", "Subspace", "LargeKTheory", "large_k_theory"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# -- the rule as a function of the number of positive units -------------------------------------

@functools.lru_cache(maxsize=64)
def count_labels(K: int, rule: str = "sign", tie="zero"):
    """(labels (K+1,), outputs): the label of a sign pattern with n positive units, n = 0..K,
    for a permutation-symmetric rule (``"sign"``: sign of the sum of the signs, ties by ``tie``
    as in ``models``; ``"parity"``), evaluated from the rule's SymPy expression (the one
    ``models.CommitteeRule`` uses) at one pattern per n; ``outputs`` the sorted label set."""
    from .models import _sign_rule, hidden_fields
    K = int(K)
    if K < 1:
        raise ParameterError("K (the number of hidden units) must be an integer >= 1")
    h = hidden_fields(K)
    if rule == "sign":
        expr = _sign_rule(K, tie)
    elif rule == "parity":
        expr = sp.Mul(*[sp.sign(x) for x in h])
    else:
        raise ParameterError(f"large K: only the permutation-symmetric rules 'sign' and 'parity' "
                             f"are reduced, got {rule!r}")
    f = sp.lambdify(h, expr, "numpy")
    pats = np.where(np.arange(K)[None, :] < np.arange(K + 1)[:, None], 1.0, -1.0)   # row n: n plus signs
    labels = np.array([float(f(*row)) for row in pats])
    return labels, tuple(sorted(set(labels.tolist())))


# -- exact evaluation on the unspecialized subspace ----------------------------------------------

#: Gauss–Legendre panels of the v-integral of (1): unit width, this many nodes each
_V_PER_PANEL = 16
#: the v-integral stops where the integrand's envelope is below e^{-_V_CUT} (or at _V_MAX)
_V_CUT, _V_MAX = 42.0, 2000.0
#: T rule: Gauss–Legendre panels on [0, _T_HALF] mirrored (a node edge at T = 0, where the
#: Bayes estimator's max has its kink for flip-symmetric rules)
_T_HALF, _T_PANELS, _T_PER_PANEL = 10.0, 12, 8


@functools.lru_cache(maxsize=8)
def _t_rule():
    """(nodes, weights) for E_{T ~ N(0,1)}: composite Gauss–Legendre on [−10, 10], split at 0."""
    x, w = legendre(_T_PER_PANEL)
    edges = np.linspace(0.0, _T_HALF, _T_PANELS + 1)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    t = (mid[:, None] + half[:, None] * x[None]).ravel()
    wt = (half[:, None] * w[None]).ravel() * np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    return np.concatenate([-t[::-1], t]), np.concatenate([wt[::-1], wt])


def _v_extent(K: int, q_a: float) -> float:
    """Where the integrand of (1) has decayed below e^{-42} for every n and T: its envelope is
    N(v) (|Φ(c)| + |Φ(−c)|)^K at T = 0, c = −i v √(q_a/K) (growth e^{q_a v²/2} against the
    Gaussian weight, and a power v^{-K} at q_a → 1)."""
    v = np.arange(1.0, _V_MAX + 1.0)
    c = -1j * v * math.sqrt(q_a / K)
    if q_a < 1.0 and math.sqrt(2 * _V_CUT / (1 - q_a)) < v[0]:
        return v[0]
    env = -v * v / 2 + K * np.logaddexp(log_ndtr(c).real, log_ndtr(-c).real)
    small = np.flatnonzero(env < -_V_CUT)
    return float(v[small[0]]) if small.size else _V_MAX


#: entries (T points × v nodes × counts) per chunk of ``count_probabilities``
_CHUNK = 2_000_000
#: an overlap this close to 1 is evaluated at q_a = 1 (the mean field known: T = s̄)
_ONE = 1e-13


def count_probabilities(K: int, T, q_a: float, moments: bool = True):
    """(P, dP, H) at the points ``T`` (array) of the unspecialized subspace with overlap
    q_a ∈ (0, 1]: P[i, n] = P(n units positive | T_i) by (1), dP = ∂_T P and
    H[i, n] = E[‖P_⊥ z‖² 1{n} | T_i] − (K − 1) P[i, n] (``moments``; else None, None).
    The v-integral: Gauss–Legendre on unit panels of [0, V] (both signs of v by the real part),
    V where the integrand's envelope is below e^{-42} (``_v_extent``; at q_a = 1 and small K the
    decay is only the power v^{-K}, and V grows: K ≥ 2 needed there)."""
    T = np.atleast_1d(np.asarray(T, float))
    q_a = float(q_a)
    if not 0.0 < q_a <= 1.0 or (q_a == 1.0 and K < 2):
        raise ParameterError(f"q_a must lie in (0, 1] (K >= 2 at 1) on the unspecialized subspace, got {q_a}")
    s = math.sqrt(q_a / K)
    x, w = legendre(_V_PER_PANEL)
    edges = np.arange(0.0, _v_extent(K, q_a) + 1.0)
    v = ((edges[1:] + edges[:-1])[:, None] / 2 + x[None] / 2).ravel()
    wv = np.tile(w / 2, edges.size - 1) * 2 / math.sqrt(2 * math.pi)                 # both signs of v
    n = np.arange(K + 1)
    m = K - n
    logC = gammaln(K + 1) - gammaln(n + 1) - gammaln(m + 1)
    out = [np.empty((T.size, K + 1)) for _ in range(3 if moments else 1)]
    step = max(1, _CHUNK // (v.size * (K + 1)))
    for i in range(0, T.size, step):
        c = s * (T[i:i + step, None] - 1j * v[None, :])                               # (nT, nv)
        lp, lm = log_ndtr(c), log_ndtr(-c)
        # C(K, n) Φ(c)^n Φ(−c)^{K−n} e^{−v²/2} in log space (each factor grows like e^{q_a v²/2K})
        base = np.exp(logC + n * lp[..., None] + m * lm[..., None] - (v * v / 2)[None, :, None])
        out[0][i:i + step] = np.einsum("tvn,v->tn", base, wv).real
        if not moments:
            continue
        lN = -c * c / 2 - _LOG_SQRT_2PI
        r, u = np.exp(lN - lp)[..., None], np.exp(lN - lm)[..., None]                 # N/Φ(c), N/Φ(−c)
        out[1][i:i + step] = s * np.einsum("tvn,v->tn", base * (n * r - m * u), wv).real
        cc = c[..., None]
        sq = n * (1 - cc * r) + m * (1 + cc * u)                                       # E[Σ e²; n]/base
        cross = n * (n - 1) * r * r - 2 * n * m * r * u + m * (m - 1) * u * u          # E[Σ_{k≠l} e_k e_l; n]/base
        perp = (1 - 1 / K) * sq - cross / K                                            # E[‖P⊥e‖²; n]/base
        out[2][i:i + step] = np.einsum("tvn,v->tn", base * perp, wv).real
    if not moments:
        return out[0], None, None
    P, dP, H = out
    return P, dP, H - (K - 1) * P


def _increasing_root(f, u0: float = 0.0, lo: float = -30.0, hi: float = 60.0) -> float:
    """The u where an increasing function f crosses 0: brentq, the bracket grown from u0 in
    steps of 2 within [lo, hi]."""
    a, b = u0, u0
    fa = fb = f(u0)
    while fa > 0 and a > lo:
        b, fb, a = a, fa, max(lo, a - 2.0)
        fa = f(a)
    while fb < 0 and b < hi:
        a, fa, b = b, fb, min(hi, b + 2.0)
        fb = f(b)
    if not fa <= 0 <= fb:
        raise ValueError(f"no root in [{lo}, {hi}]")
    return brentq(f, a, b, xtol=1e-12)


@dataclass
class Subspace:
    """The committee of K hidden units on its unspecialized subspace q_d = 0, exactly (module
    docstring, (1)-(2)).  ``prior``: a ``replica.priors`` prior or ``"gaussian"`` /
    ``"ising"``; ``rule`` / ``tie`` as in ``models.committee_model``.  ``K = math.inf`` is
    the limit: the mean weight is Gaussian (CLT) and the channel of the mean field s̄ is the
    noisy perceptron P(y | s̄) = Φ(y κ s̄), κ² = (2/π)/(1 − 2/π) (the K = 1 sign channel at
    overlap (2/π) q_a), and S_⊥ K² → ``perp_kernel`` (λ = α χ S_⊥ → 0 at fixed α)."""

    K: float
    prior: object = "gaussian"
    rule: str = "sign"
    tie: object = "zero"

    def __post_init__(self):
        from .derive import _rotation_invariant, derive_committee
        from .models import _prior, committee_model
        self.prior = _prior(self.prior)
        if self.K != math.inf:
            if float(self.K) != int(self.K) or self.K < 1:
                raise ParameterError(f"K must be an integer >= 1 or math.inf, got {self.K}")
            self.K = int(self.K)
            self.labels, self.outputs = count_labels(self.K, self.rule, self.tie)
            self.table = np.array([[1.0 if lab == y else 0.0 for lab in self.labels] for y in self.outputs])
        elif self.rule != "sign":
            raise ParameterError("K = inf: only the sign committee's limit is derived")
        self.gaussian = _rotation_invariant(self.prior)
        if not self.gaussian and not (self.prior.density == 0 and self.prior.atoms):
            raise ParameterError("unspecialized subspace: Gaussian or discrete priors only")
        self.rho = float(self.prior.second_moment())
        self._gauss = derive_committee(committee_model(1, priors.Gaussian(self.rho) if not self.gaussian
                                                       else self.prior))
        if not self.gaussian and self.K != math.inf:
            self._multisets()

    # -- output side -----------------------------------------------------------------------
    def output_side(self, q_a: float) -> dict:
        """At overlap q_a: ``G`` (G_∥: q̂_a = α G), ``psi_out``, ``gibbs_error``,
        ``generalization_error`` (the Bayes estimator's: the T rule has a node edge at T = 0,
        the kink of a flip-symmetric rule; the extra kinks of a tie label, even K, are not
        located: ~1e-4 at K = 2), ``S`` (S_⊥ of (2); for K = inf the limit ``perp_kernel`` =
        lim K² S_⊥).  The T-expectation by ``_t_rule``, the v-integral of (1) per T."""
        q_a = float(q_a)
        if self.K == math.inf:
            Q = 2 / math.pi * q_a
            g, psi, gibbs, bayes = (a[0] for a in self._gauss.output_side(np.array([0.0]), np.array([Q * self.rho]),
                                                                       exact_bayes=True)[1:5])
            return dict(G=2 / math.pi * g, psi_out=psi, gibbs_error=gibbs, generalization_error=bayes,
                        S=0.0, perp_kernel=self.perp_kernel(q_a))
        t, wt = _t_rule()
        P, dP, H = count_probabilities(self.K, t, q_a)
        Py, dPy, Hy = np.clip(P @ self.table.T, 0.0, 1.0), dP @ self.table.T, H @ self.table.T   # (nT, L)
        safe = np.where(Py > 1e-300, Py, 1.0)
        G = np.einsum("tl,t->", np.where(Py > 1e-300, dPy * dPy / safe, 0.0), wt) / q_a
        S = (np.einsum("tl,t->", np.where(Py > 1e-300, Hy * Hy / safe, 0.0), wt) / (self.K - 1) ** 2
             if self.K > 1 else 0.0)
        return dict(G=float(G), psi_out=float(np.einsum("tl,t->", xlogy(Py, Py), wt)),
                    gibbs_error=float(1 - np.einsum("tl,t->", Py * Py, wt)),
                    generalization_error=float(1 - Py.max(1) @ wt), S=float(S))

    @staticmethod
    def perp_kernel(q_a: float) -> float:
        """lim_{K→∞} K² S_⊥ at q_a: E_T Σ_y (E_{s̄|T}[s̄ P_y'(s̄)])² / P(y|T) with the noisy
        perceptron P_+(s̄) = Φ(κ s̄), s̄ | T ~ N(√q_a T, 1 − q_a) (h_y = −E[s̄ P_y'|T]/(K − 1)
        by the scale invariance of the rule).  Gaussian integrals in closed form, T by the
        composite rule ``quadrature.line_rule``."""
        k2 = 2 / (math.pi - 2)
        t, wt = line_rule()
        m, v = math.sqrt(q_a) * t, 1.0 - q_a
        tau = v + 1 / k2
        num = np.exp(-m * m / (2 * tau)) / np.sqrt(2 * math.pi * tau) * m / (1 + k2 * v)   # E[s̄ P_+'(s̄) | T]
        arg = math.sqrt(k2) * m / math.sqrt(1 + k2 * v)
        lP = np.stack([log_ndtr(arg), log_ndtr(-arg)])
        return float(np.sum(wt * num * num * np.exp(-lP).sum(0)))

    # -- prior side: the mean weight M/√K and the orthogonal susceptibility ------------------
    def _multisets(self):
        vals = np.array([float(a) for a, _ in self.prior.atoms])
        logp = np.log(np.array([float(p) for _, p in self.prior.atoms]))
        L, K = vals.size, self.K
        counts = np.array([c for c in itertools.product(range(K + 1), repeat=L - 1) if sum(c) <= K], int)
        counts = np.concatenate([counts, K - counts.sum(1, keepdims=True)], 1)           # (C, L)
        self._x = counts @ vals / math.sqrt(K)                                            # M/√K
        self._perp = (counts @ (vals * vals) - (counts @ vals) ** 2 / K) / (K - 1) if K > 1 else np.zeros(len(counts))
        self._logw = gammaln(K + 1) - gammaln(counts + 1).sum(1) + counts @ logp

    def prior_side(self, q_hat: float, nodes: int = 200) -> dict:
        """At the conjugate q̂ of the mean direction: ``q`` (= q_a on the subspace), ``psi``
        (ψ_P0, its q̂-dependent part), ``chi`` (χ of (2))."""
        q_hat = float(q_hat)
        if self.gaussian or self.K == math.inf:
            # rotation invariance (Gaussian weights) or the CLT (K = inf): the mean weight is
            # N(0, ρ), and so is every orthogonal direction: the K = 1 map of ``derive`` for
            # N(0, ρ) weights, χ its slope at 0 (= ρ²)
            _, q, psi = self._gauss.prior_side(np.array([0.0]), np.array([q_hat]))
            h = 1e-5             # slope at 0 by a one-sided difference, Richardson-extrapolated
            f1, f2 = self._gauss.prior_side(np.zeros(2), np.array([h, 2 * h]))[1]
            chi = float(2 * f1 / h - f2 / (2 * h))
            return dict(q=float(q[0]), psi=float(psi[0]), chi=chi)
        xi, wx = hermite(nodes)
        B = math.sqrt(q_hat) * xi[:, None] + q_hat * self._x[None, :]                   # (ξ, teacher config)
        E = B[..., None] * self._x + (self._logw - q_hat * self._x ** 2 / 2)            # (ξ, t, config)
        lz = logsumexp(E, axis=-1)
        post = np.exp(E - lz[..., None])
        xhat, c = post @ self._x, post @ self._perp
        wt = wx[:, None] * np.exp(self._logw)[None, :]
        return dict(q=float(np.sum(wt * xhat * xhat)), psi=float(np.sum(wt * lz)), chi=float(np.sum(wt * c * c)))

    # -- state evolution on the subspace, parametrised by u = log q̂ ------------------------------
    def point(self, q_hat: float) -> dict:
        """The unspecialized fixed point whose conjugate is q̂: q_a = prior map(q̂) (taken as 1
        within 1e-13, a discrete prior's mean weight determined), the α that makes it a fixed
        point, α = q̂ / G_∥(q_a), λ = α χ S_⊥ ((2)), the free entropy Φ = ψ_P0(q̂) − ½ q̂ q_a
        + α Ψ_out(q_a) (not per weight: the committee's Φ of ``derive``) and the outputs of
        :meth:`output_side`."""
        pr = self.prior_side(q_hat)
        qa = 1.0 if pr["q"] > 1.0 - _ONE else pr["q"]
        out = self.output_side(qa)
        a = q_hat / out["G"]
        # Φ = ψ_P0 − ½ Tr(r̂ q) + α Ψ_out on the subspace (q_d = q̂_d = 0: −½ q̂_a q_a)
        phi = pr["psi"] - q_hat * qa / 2 + a * out["psi_out"]
        return dict(alpha=a, q_a=qa, q_hat_a=float(q_hat), chi=pr["chi"], free_entropy=phi,
                    stability=a * pr["chi"] * out["S"], **out)

    def solve(self, alpha) -> dict:
        """The unspecialized fixed point at every ``alpha`` (array, > 0): ``q_a``, ``q_hat_a``,
        ``chi``, ``stability`` λ, ``free_entropy`` and the outputs of :meth:`output_side` (for
        K = inf, λ = 0 at fixed α and ``perp_kernel`` = lim K² S_⊥).  α(q̂) = q̂/G_∥ increases
        along the line: brentq in log q̂."""
        alpha = np.atleast_1d(np.asarray(alpha, float))
        if np.any(alpha <= 0) or not np.all(np.isfinite(alpha)):
            raise ParameterError("alpha must be finite and > 0")
        rows = []
        for a in alpha:
            u = _increasing_root(lambda u: math.log(self.point(math.exp(u))["alpha"] / a))
            rows.append(self.point(math.exp(u)))
        return {k: np.array([r[k] for r in rows]) for k in rows[0]}

    def stability(self, alpha) -> np.ndarray:
        """λ(α) = ∂M_d/∂q_d at the unspecialized fixed point ((2); ``solve.stability``)."""
        return self.solve(alpha)["stability"]

    def instability(self) -> dict:
        """Where the unspecialized fixed point loses stability, λ = 1: {"alpha", "q_a",
        "q_hat_a", "alpha_over_K2"} (brentq in log q̂; λ grows along the line).  K = inf:
        {"alpha_over_K2": 1/(χ perp_kernel(1))}, since λ = α χ S_⊥ with K² S_⊥ → perp_kernel
        and q_a → 1 at α = Θ(K²)."""
        if self.K == 1:
            raise ValueError("K = 1 has no directions orthogonal to the mean: nothing to specialize")
        if self.K == math.inf:
            chi = self.prior_side(0.0)["chi"]
            return dict(alpha=math.inf, q_a=1.0, q_hat_a=math.inf,
                        alpha_over_K2=1 / (chi * self.perp_kernel(1.0)))
        u = _increasing_root(lambda u: math.log(self.point(math.exp(u))["stability"]))
        pt = self.point(math.exp(u))
        return dict(alpha=pt["alpha"], q_a=pt["q_a"], q_hat_a=pt["q_hat_a"], alpha_over_K2=pt["alpha"] / self.K ** 2)


# -- K → ∞ at α = α̃ K ---------------------------------------------------------------------------

def effective_overlap(K=None) -> sp.Expr:
    """Q(q_d, q_a) of (3): the overlap of the normalised sums of signs of the teacher and a
    posterior sample, (1/K) Σ_{kl} (2/π) arcsin(q_kl) for q = q_d I + (q_a/K) J with unit
    diagonal scale (pass q/ρ), by the arcsin law of each pair of units; ``K`` an integer, the
    symbol ``K`` (default) or ``sympy.oo`` (the limit, taken by SymPy)."""
    from .ansatz import K_SYMBOL
    from .derive import Q_A, Q_D
    k = K_SYMBOL if K is None or K is sp.oo else sp.Integer(K)
    expr = 2 / sp.pi * (sp.asin(Q_D + Q_A / k) + (k - 1) * sp.asin(Q_A / k))
    return sp.limit(expr, K_SYMBOL, sp.oo) if K is sp.oo else expr


@dataclass
class LargeKTheory:
    """The Bayes-optimal sign committee at K → ∞ with α = α̃ K (module docstring, part 2): the
    free entropy per weight φ(q_d, q̂_d; α̃) = ψ₁(q̂_d) − ½ q̂_d q_d + α̃ Ψ₁(Q(q_d)), ψ₁ and Ψ₁
    the K = 1 committee theory of the same prior (``derive``), Q(q_d) the K → ∞ limit of
    ``effective_overlap`` at q_a = ρ − q_d.  ``prior``: a ``replica.priors`` prior (zero mean)
    or ``"gaussian"`` / ``"ising"``.

    The numeric side mirrors ``CommitteeTheory``: ``evaluate(alpha_tilde, q_d, q_hat_d)``,
    ``prior_side``, ``output_side``, ``solve`` (state evolution q_d ↦ prior map(α̃ G(q_d)),
    starts ``unspecialized`` / ``uninformed`` / ``informed``), ``solve_branches``,
    ``transitions`` (first-order specialization, spinodal of the specialized branch, and the
    unspecialized branch's stability, which at K = ∞ holds at every α̃: α = Θ(K²) from
    :class:`Subspace`)."""

    prior: object = "gaussian"
    unknowns: tuple = ("q_d", "q_hat_d")
    parameter_names: tuple = ("alpha_tilde",)

    def __post_init__(self):
        from .derive import Q_A, Q_D, derive_committee
        from .models import _prior, committee_model
        self.prior = _prior(self.prior)
        self.rho = float(self.prior.second_moment())
        self._one = derive_committee(committee_model(1, self.prior))
        x = sp.Symbol("x", nonnegative=True)                      # q_d / ρ
        self.overlap = effective_overlap(sp.oo).subs({Q_D: x, Q_A: 1 - x})
        self._Q = sp.lambdify(x, self.overlap, "numpy")
        self._dQ = sp.lambdify(x, sp.diff(self.overlap, x), "numpy")
        self.discrete = self.prior.density == 0 and bool(self.prior.atoms)
        self.entropy = float(self.prior.shannon_entropy()) if self.discrete else None

    # -- the two sides -----------------------------------------------------------------------
    def prior_side(self, q_hat_d):
        """(q_d, ψ₁) at the conjugates (array): the K = 1 prior map of ``derive``."""
        h = np.atleast_1d(np.asarray(q_hat_d, float))
        _, q, psi = self._one.prior_side(np.zeros_like(h), h)
        return q, psi

    def output_side(self, q_d, exact_bayes: bool = False):
        """(G, Ψ_out, Gibbs error, Bayes error) at q_d (array): q̂_d = α̃ G with
        G = G₁(Q) dQ/dq_d (= 2 ∂Ψ₁(Q(q_d))/∂q_d), Ψ_out = Ψ₁(Q), the errors of the effective
        perceptron at Q; NaN outside [0, ρ)."""
        q = np.atleast_1d(np.asarray(q_d, float))
        out = [np.full(q.shape, np.nan) for _ in range(4)]
        ok = (q >= 0) & (q < self.rho * (1 - 1e-12))
        if ok.any():
            x = q[ok] / self.rho
            Q = np.asarray(self._Q(x), float) * np.ones_like(x)
            g, psi, gibbs, bayes = self._one.output_side(np.zeros_like(Q), self.rho * Q, exact_bayes=exact_bayes)[1:5]
            for o, v in zip(out, (g * np.asarray(self._dQ(x), float), psi, gibbs, bayes)):
                o[ok] = v
        return tuple(out)

    def evaluate(self, alpha_tilde, q_d, q_hat_d, want=None) -> dict:
        """``map_q_d``, ``map_q_hat_d``, ``free_entropy`` (per weight), ``mse`` (= ρ − q_d),
        ``generalization_error`` (Bayes estimator), ``gibbs_error``, ``q_diag`` (= q_d),
        ``q_off`` (= 0 at K = ∞) at broadcast arrays."""
        a, qd, qh = np.broadcast_arrays(*(np.asarray(v, float) for v in (alpha_tilde, q_d, q_hat_d)))
        shape = a.shape
        a, qd, qh = a.ravel(), qd.ravel(), qh.ravel()
        md, psi = self.prior_side(qh)
        g, psi_out, gibbs, bayes = self.output_side(qd, exact_bayes=want is None or "generalization_error" in want)
        out = dict(map_q_d=md, map_q_hat_d=a * g, free_entropy=psi - qh * qd / 2 + a * psi_out,
                   mse=self.rho - qd, generalization_error=bayes, gibbs_error=gibbs, q_diag=qd,
                   q_off=np.zeros_like(qd))
        return {k: v.reshape(shape) for k, v in out.items() if want is None or k in want}

    # -- the reduced potential and the fixed-point line ---------------------------------------
    def conjugate(self, q_d):
        """q̂_d whose prior map gives q_d (array; the map increases): brentq in log q̂."""
        q = np.atleast_1d(np.asarray(q_d, float))
        out = np.zeros(q.shape)
        for i, v in enumerate(q):
            if v > 0:
                out[i] = math.exp(brentq(lambda u: self.prior_side(math.exp(u))[0][0] - v, -40.0, 60.0, xtol=1e-13))
        return out

    def potential(self, alpha_tilde, q_d):
        """φ(q_d; α̃) = extr_{q̂} [ψ₁(q̂) − ½ q̂ q_d] + α̃ Ψ₁(Q(q_d)): the free entropy per
        weight as a function of q_d alone (its stationary points are the fixed points)."""
        a, q = np.broadcast_arrays(np.asarray(alpha_tilde, float), np.asarray(q_d, float))
        qh = self.conjugate(q.ravel())
        return self.evaluate(a.ravel(), q.ravel(), qh, want=("free_entropy",))["free_entropy"].reshape(a.shape)

    def alpha_of(self, q_d):
        """The α̃ at which q_d ∈ (0, ρ) is a fixed point: q̂(q_d) / G(q_d).  The fixed points
        where it increases with q_d are stable; its interior minima are spinodals."""
        q = np.atleast_1d(np.asarray(q_d, float))
        return self.conjugate(q) / self.output_side(q)[0]

    # -- state evolution ------------------------------------------------------------------------
    def solve(self, alpha_tilde, init="uninformed", *, tol: float = 1e-10, max_iter: int = 4000):
        """Fixed points of q_d ↦ prior map(α̃ G(q_d)) at every α̃ (array), from ``init``
        (``'unspecialized'``: q_d = 0, a fixed point at every α̃; ``'uninformed'``: q_d = 1e-6 ρ;
        ``'informed'``: q_d = ρ(1 − 1e-4); or a dict with ``q_d``).  Plain iteration, then
        secant steps on M(q) − q once the residual is below 1e-4.  A discrete prior can reach
        perfect recovery (branch ``'perfect'``: q_d = ρ, free entropy −H(P₀), zero errors).
        Returns a ``solve.CommitteeSolution`` (its ``alpha`` holds α̃)."""
        from .solve import CommitteeSolution
        a = np.atleast_1d(np.asarray(alpha_tilde, float)).ravel()
        if np.any(a < 0) or not np.all(np.isfinite(a)):
            raise ParameterError("parameter 'alpha_tilde' must be finite and >= 0")
        starts = dict(unspecialized=0.0, uninformed=1e-6 * self.rho, informed=self.rho * (1 - 1e-4))
        if isinstance(init, dict):
            q = np.broadcast_to(np.asarray(init["q_d"], float), a.shape).copy()
        elif init in starts:
            q = np.full(a.shape, starts[init])
        else:
            raise ValueError(f"unknown start {init!r}; use 'unspecialized', 'uninformed', 'informed' or a dict")
        n = a.size
        conv, perfect, res = np.zeros(n, bool), np.zeros(n, bool), np.full(n, np.inf)
        prev = np.full(n, np.nan)
        fprev = np.full(n, np.nan)
        edge = self.rho * (1 - 1e-9)
        for _ in range(max_iter):
            act = np.flatnonzero(~conv & ~perfect & np.isfinite(q))
            if act.size == 0:
                break
            m = self.prior_side(a[act] * self.output_side(q[act])[0])[0]
            f = m - q[act]
            res[act] = np.abs(f)
            conv[act] = res[act] < tol
            hit = (m >= edge) & ~conv[act]
            if self.discrete:
                perfect[act[hit]] = True
            step = act[~conv[act] & ~perfect[act]]
            fs = f[np.isin(act, step)]
            new = q[step] + fs
            # secant on f(q) = M(q) − q near a fixed point (the plain map crawls at a spinodal)
            near = (np.abs(fs) < 1e-4) & np.isfinite(prev[step]) & (fprev[step] != fs)
            with np.errstate(all="ignore"):
                sec = q[step] - fs * (q[step] - prev[step]) / (fs - fprev[step])
            new = np.where(near & (sec > 0) & (sec < self.rho), sec, new)
            prev[step], fprev[step] = q[step], fs
            q[step] = np.clip(new, 0.0, edge)
        q = np.where(conv & (q < tol * self.rho), 0.0, q)
        vals = {k: np.full(n, np.nan) for k in ("q_d", "q_hat_d")}
        outs = {k: np.full(n, np.nan) for k in ("free_entropy", "mse", "generalization_error", "gibbs_error",
                                               "q_diag", "q_off")}
        c = np.flatnonzero(conv)
        if c.size:
            qh = a[c] * self.output_side(q[c])[0]
            ev = self.evaluate(a[c], q[c], qh)
            vals["q_d"][c], vals["q_hat_d"][c] = q[c], qh
            for k in outs:
                outs[k][c] = ev[k]
        p = np.flatnonzero(perfect)
        if p.size:
            vals["q_d"][p], vals["q_hat_d"][p] = self.rho, np.inf
            outs["free_entropy"][p] = -self.entropy
            outs["mse"][p] = outs["generalization_error"][p] = outs["gibbs_error"][p] = outs["q_off"][p] = 0.0
            outs["q_diag"][p] = self.rho
            res[p] = 0.0
        label = init if isinstance(init, str) else "user"
        branch = np.where(perfect, "perfect", label).astype(object)
        return CommitteeSolution(alpha=a, values=vals, outputs=outs, converged=conv | perfect,
                                 residual=np.where(conv | perfect, res, np.nan), branch=branch)

    def solve_branches(self, alpha_tilde, inits=("unspecialized", "uninformed", "informed"), **kw):
        """Every start's branch and the equilibrium start per α̃ (largest free entropy)."""
        sols = {s: self.solve(alpha_tilde, s, **kw) for s in inits}
        phi = np.stack([np.where(sols[s].converged, sols[s]["free_entropy"], -np.inf) for s in inits])
        return sols, np.array(inits, dtype=object)[np.argmax(phi, axis=0)]

    def transitions(self, lo: float = 0.5, hi: float = 15.0, num: int = 30, xtol: float = 1e-8) -> list:
        """Transitions in α̃ ∈ [lo, hi], each a dict {"kind", "value", ...}:

        * ``spinodal`` of the specialized branch (``"branch": "specialized"``): where it
          appears, an interior minimum of the fixed-point line α̃(q_d) (refined by bounded
          minimisation);
        * ``first_order``: where the free entropy of the informed branch (specialized, or
          perfect recovery) crosses the unspecialized one's, α̃ Ψ₁(2/π) (brentq);
        * ``spinodal`` of the unspecialized branch: at K = ∞ it is stable at every α̃ (λ is
          Θ(α̃/K)); it goes at α ≃ c K² (``value`` None, ``alpha_over_K2`` = c from
          :meth:`Subspace.instability` at K = inf) — AMP from no information stays there."""
        out = []
        grid = np.linspace(1e-3, 1 - 1e-3, 200) * self.rho
        line = self.alpha_of(grid)
        for i in range(1, grid.size - 1):
            if line[i] < line[i - 1] and line[i] <= line[i + 1]:
                r = minimize_scalar(lambda q: self.alpha_of(q)[0], bounds=(grid[i - 1], grid[i + 1]),
                                    method="bounded", options={"xatol": 1e-10})
                if lo <= r.fun <= hi:
                    out.append({"kind": "spinodal", "value": float(r.fun), "branch": "specialized",
                                "q_d": float(r.x), "criterion": "minimum of the fixed-point line alpha_tilde(q_d)"})
        # the scan includes the points just past each spinodal, where the branch first exists
        extra = [t["value"] * (1 + 1e-9) for t in out if t["value"] < hi]
        aa = np.unique(np.concatenate([np.linspace(lo, hi, num), extra]))
        num = aa.size

        def gap(x):
            s = self.solve(np.atleast_1d(x), "informed")
            un = self.evaluate(np.atleast_1d(x), 0.0, 0.0, want=("free_entropy",))["free_entropy"]
            spec = s.converged & (s["q_d"] > 1e-3 * self.rho)
            return np.where(spec, s["free_entropy"] - un, np.nan)
        d = gap(aa)
        for i in range(num - 1):
            if np.isfinite(d[i]) and np.isfinite(d[i + 1]) and d[i] * d[i + 1] < 0:
                v = brentq(lambda x: float(gap(x)[0]), aa[i], aa[i + 1], xtol=xtol)
                out.append({"kind": "first_order", "value": float(v), "criterion": "free entropies cross"})
        c = Subspace(math.inf, self.prior).instability()["alpha_over_K2"]
        out.append({"kind": "spinodal", "value": None, "branch": "unspecialized", "alpha_over_K2": c,
                    "criterion": "lambda = 1 at alpha = Theta(K^2): stable at every alpha_tilde"})
        return sorted(out, key=lambda t: math.inf if t["value"] is None else t["value"])


def large_k_theory(model_or_prior="gaussian") -> LargeKTheory:
    """The K → ∞ theory of a committee model (its prior; the rule must be the sign committee)
    or of a prior (a ``replica.priors`` prior, ``"gaussian"``, ``"ising"``)."""
    teacher = getattr(model_or_prior, "teacher", None)
    if teacher is not None:
        if getattr(teacher, "spec", (None,))[0] != "sign":
            raise ParameterError("the large-K limit is derived for the sign committee only")
        return LargeKTheory(model_or_prior.prior)
    return LargeKTheory(model_or_prior)
