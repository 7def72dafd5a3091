"""Committee machines at finite N: data from a committee Model, Bayes-optimal AMP, measurements.

Data (:func:`sample_committee`).  Teacher W* ∈ R^{N×K}, its K columns drawn independently from
the Model's per-unit prior (:func:`sims.data.sample_prior`), inputs x ~ N(0, I_N), P = round(αN)
samples, hidden fields z = W*ᵀx/√N ∈ R^K and labels y = f(z) from the teacher rule:

* :class:`~replica.committee.models.CommitteeRule` — the rule's sign table σ ∈ {±1}^K -> label
  (the table the theory is derived from; for even K the tie rule is in it, y = 0 by default);
* :class:`~replica.committee.models.SoftCommitteeRule` — y = Σ_k erf(z_k/√2) + √Δ η (the rule's
  SymPy expression lambdified to torch).

``K`` is ``params["K"]`` (default the model's); a model built for another K is rebuilt by
:func:`replica.committee.models.with_hidden_units`.  Instance ``s`` draws from its own generator
seeded by (seed, s) as in :mod:`sims.data`, so an instance does not depend on which others are
drawn with it.

AMP (:func:`run_committee_amp`).  The committee AMP of Aubin, Maillard, Barbier, Krzakala, Macris
& Zdeborová (NeurIPS 2018, arXiv:1806.05451, Appendix "AMP for the committee machine",
Algorithm 1), batched over instances in torch float64, with the K × K variances averaged over
the sites and samples (i.i.d. Gaussian inputs), as the perceptron GAMP of :mod:`sims.amp`:

    V^t   = (1/N) Σ_i Ĉ_i^t                               (K × K)
    ω_μ^t = Ŵᵀ x_μ/√N − V^t g_μ^{t−1}                       (K)
    g_μ^t = ∇_ω log Z_out(y_μ; ω_μ^t, V^t)                   (K)
    A^t   = −(1/N) Σ_μ ∂_ω g_out(y_μ; ω_μ^t, V^t)           (K × K; see ``onsager``)
    b_i^t = Σ_μ x_μi g_μ^t/√N + A^t Ŵ_i^t                   (K)
    Ŵ_i^{t+1}, Ĉ_i^{t+1} = mean and covariance of  P₀^{⊗K}(w) e^{b_iᵀw − wᵀA w/2}

Denoisers come from the same derivation as the theory (:mod:`replica.committee.derive`):

* output side: Z_out(y; ω, V) and ∇_ω Z_out by the orthant probabilities of the rule's sign
  table (``replica.committee.derive._label_probs``, general ω and V), g = ∇Z_out/Z_out at the
  observed label (the soft committee: the theory's inner rule ``soft_inner_rule``, in torch);
* prior side: from the prior component's own statement — a discrete prior (atoms) by the sum
  over the atoms' K-tuples (a softmax of bᵀc − cᵀAc/2 + log p_c), a Gaussian density
  (log-density quadratic in w, read off the SymPy expression) in closed form:
  mean (λ₀I + A)⁻¹(b + h₀1), covariance (λ₀I + A)⁻¹.

The Onsager matrix A.  ``onsager="derivative"`` (default; the authors' code computes ∂_ω g_out
too): −(1/N) Σ_μ ∂_ω g_out with ∂_ω g_out by forward differences of the exact g_out in ω
(K more evaluations of the orthant probabilities per iteration), projected on the positive
semi-definite cone (E[−∂g] = E[g gᵀ] ⪰ 0 on the Nishimori line; negative eigenvalues only
appear in transients or from differences at a collapsed variance).  ``onsager="nishimori"``:
A = (1/N) Σ_μ g gᵀ, equal on average at the Bayes-optimal fixed point (the identity behind
r̂ = α E[g gᵀ] in the theory's state evolution) and K times cheaper — it reaches the same
fixed points where the iteration is smooth (tests), but off the Nishimori line (transients) it
overestimates the precision: with ±1 weights on the way to perfect recovery it locks units
into confidently wrong states (α = 2.4, N = 1000, instances 0-7: generalization errors up to
0.38 with the Nishimori form, at most 0.03 with the derivative form).

Start (``init="uninformed"``): the prior's mean plus a small random perturbation
Ŵ_i = E[w] + √ε ξ_i, ξ_i ~ N(0, I_K) per site and unit (ε = ``init_scale``), Ĉ_i the prior
covariance, g = 0.  The perturbation breaks the symmetry between hidden units; it carries no
information about the teacher, so the units can only specialize through the data (cf. the
authors' code, which starts from random ω_μ: ``AMP_class.py`` of
benjaminaubin-zz/TheCommitteeMachine).  Where the unspecialized fixed point is unstable the
symmetric component decays during the transient (q small) and grows back only later, so an
instance that meets ``tol`` at a permutation-symmetric point is perturbed once more and iterated
on (``check_symmetric``).  ``init="informed"``: the teacher, covariance 10⁻⁶ × the prior's.

Convergence per instance: the RMS change of Ŵ, ‖ΔŴ‖/√(NK), below ``tol``, or perfect recovery
(the posterior's mean variance Tr Ĉ/K below ``perfect_tol``: the estimate is then that
posterior mean).  Per-instance adaptive damping (``adaptive``) raises an instance's damping when
its change stalls.  A non-converged instance reports NaN with ``converged=False``.  Each
instance is frozen once it has converged.

Measurements (:func:`committee_observables`): the K × K overlap m = Ŵᵀ W*/N is defined up to the
rule's symmetries — the permutations of the hidden units (and sign flips of units where the
rule and the prior allow them, e.g. pairs for the parity machine); the student's units are
matched to the teacher's by the symmetry that maximizes Tr m (enumerated: K ≤ 4), then
q_diag, q_off = the mean diagonal and off-diagonal entries of the matched m, and in the ansatz
q = q_d I + (q_a/K) J: q_d = q_diag − q_off, q_a = K q_off; ``mse`` = |Ŵ − W*|²/(NK) after
matching (ρ − q_diag on the Nishimori line, the theory's ``mse``).  Generalization errors on
fresh inputs, exactly in distribution and without drawing x ∈ R^N: for Gaussian x the fields
(z, ω) = (W*ᵀx, Ŵᵀx)/√N are jointly Gaussian with covariance the Gram matrix of [W*, Ŵ]/N, so
``test_samples`` pairs are drawn from it (generator (seed, instance, stream 1)).
``generalization_error``: the Bayes-optimal estimator ŷ = argmax_y Z_out(y; ω, V) against the
teacher's noiseless label f(z); ``gibbs_error``: a posterior sample's, E[1 − Z_out(f(z); ω, V)];
for the soft committee the Bayes estimator's E[(E[f(z)|ω] − f(z))²] (the theory's convention).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from replica.model import Model, load_model

from .data import DTYPE, Data, _device, _seed_list, generator, model_parameters, numeric, sample_prior, to_torch

__all__ = ["CommitteeData", "sample_committee", "run_committee_amp", "committee_observables",
           "match_units", "symmetries", "PriorDenoiser", "OutputDenoiser", "simulate_committee_point",
           "OBSERVABLES"]

#: the per-instance observables a committee simulation reports (all carried by the theory)
OBSERVABLES = ("q_d", "q_a", "q_diag", "q_off", "mse", "generalization_error", "gibbs_error")

#: the output channel sees V + V_FLOOR ρ₀ I (ρ₀ the prior's variance): a unit whose posterior
#: variance has collapsed (decided weights, ±1 priors on the way to perfect recovery) would
#: otherwise put 0/0 into the orthant probabilities and their finite differences
V_FLOOR = 1e-10

#: an observed label whose probability Z_out(y; ω, V) falls below this is numerically lost
#: (orthant probabilities are computed in linear space to ~1e-16 absolute): its g is set to 0
#: and the sample counted in ``tiny_z``
Z_FLOOR = 1e-13


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------
@dataclass
class CommitteeData(Data):
    """S instances of a committee teacher-student problem at size N.

    X : (S, P, N) inputs, y : (S, P) labels, teacher : (S, N, K) teacher weights W*,
    z : (S, P, K) hidden fields W*ᵀx/√N, model : the committee Model at this K, params : every
    model parameter (``K`` included), n : N, alpha : α (P = round(αN)), K, seeds : instance
    ids, seed : the base seed."""

    K: int = 1


def committee_parameters(model, params: dict | None = None, alpha=None) -> tuple[Model, dict, int]:
    """(the model at K, every parameter as a float, K) for ``params`` (``K`` default: the
    model's own; checked against the rule's domain)."""
    from replica.committee.models import with_hidden_units
    model = load_model(model)
    if not model.committee:
        raise ValueError(f"model {model.name!r} is not a committee machine")
    values = model_parameters(model, params, alpha)
    K = int(values.get("K", model.teacher.K))
    return with_hidden_units(model, K), values, K


def _label_table(rule) -> tuple[torch.Tensor, list]:
    """(labels over the sign patterns in ``itertools.product((1, -1), repeat=K)`` order, the
    sorted label set)."""
    pats = list(itertools.product((1, -1), repeat=rule.K))
    return torch.tensor([float(rule.table[s]) for s in pats], dtype=DTYPE), [float(o) for o in rule.outputs]


def _pattern_index(z: torch.Tensor) -> torch.Tensor:
    """Index of sign(z) (…, K) in ``itertools.product((1, -1), repeat=K)`` order (z = 0, of
    probability zero, counts as +)."""
    K = z.shape[-1]
    bits = (z < 0).long()
    weights = 2 ** torch.arange(K - 1, -1, -1, device=z.device)
    return (bits * weights).sum(-1)


def rule_output(rule, params: dict, z: torch.Tensor) -> torch.Tensor:
    """The teacher's noiseless output f(z) for fields z (…, K)."""
    if getattr(rule, "soft", False):
        f = to_torch(rule.rule, list(rule.fields), params)
        return f(*z.unbind(-1))
    table, _ = _label_table(rule)
    return table.to(z.device)[_pattern_index(z)]


def _labels(rule, params, z, gen):
    out = rule_output(rule, params, z)
    if getattr(rule, "soft", False):
        delta = float(numeric(rule.noise, params))
        out = out + delta ** 0.5 * torch.randn(z.shape[:-1], generator=gen, dtype=DTYPE, device=z.device)
    return out


def sample_committee(model, params: dict | None = None, n: int = 100, seeds=1, *, alpha=None, device="cpu",
                     seed: int = 0) -> CommitteeData:
    """Draw ``seeds`` instances (a count, or a list of instance ids) of the committee ``model``
    at size ``n`` (see the module docstring).  Instance ``s`` uses ``generator(seed, s, 0)``:
    the K teacher columns in order, then X, then the label noise (soft committee)."""
    model, values, K = committee_parameters(model, params, alpha)
    if int(n) < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    n = int(n)
    p = int(round(values["alpha"] * n))
    if p < 1:
        raise ValueError(f"alpha * n = {values['alpha'] * n:g} gives no samples")
    device = _device(device)
    ids = _seed_list(seeds)
    rule = model.teacher
    Xs, ys, ts, zs = [], [], [], []
    for s in ids:
        g = generator(seed, s, 0, device)
        W = torch.stack([sample_prior(model.prior, values, n, g, device) for _ in range(K)], -1)   # (N, K)
        X = torch.randn(p, n, generator=g, dtype=DTYPE, device=device)
        z = X @ W / n ** 0.5
        Xs.append(X), ts.append(W), zs.append(z), ys.append(_labels(rule, values, z, g))
    return CommitteeData(X=torch.stack(Xs), y=torch.stack(ys), teacher=torch.stack(ts), z=torch.stack(zs),
                         model=model, params=values, n=n, alpha=values["alpha"], K=K, seeds=ids, seed=int(seed))


# ------------------------------------------------------------------------------------------
# denoisers
# ------------------------------------------------------------------------------------------
class PriorDenoiser:
    """Mean and covariance of w ∈ R^K under P₀^{⊗K}(w) e^{bᵀw − wᵀAw/2}, from the prior component.

    ``__call__(b (S, N, K), A (S, K, K))`` -> (mean (S, N, K), the covariance averaged over the
    sites (S, K, K)).  Discrete priors (atoms only): the sum over the atoms' K-tuples; Gaussian
    densities (log-density a quadratic polynomial in w): closed form.  Anything else raises
    NotImplementedError."""

    def __init__(self, prior, params: dict, K: int):
        self.K = K
        if prior.density == 0 and prior.atoms:
            vals = [float(numeric(a, params)) for a, _ in prior.atoms]
            probs = [float(numeric(p, params)) for _, p in prior.atoms]
            idx = list(itertools.product(range(len(vals)), repeat=K))
            self.kind = "discrete"
            self.C = torch.tensor([[vals[i] for i in t] for t in idx], dtype=DTYPE)               # (c, K)
            self.logp = torch.tensor([sum(math.log(probs[i]) for i in t) for t in idx], dtype=DTYPE)
            self.CC = self.C[:, :, None] * self.C[:, None, :]                                     # (c, K, K)
            return
        if not prior.atoms and prior.density != 0:
            w = prior.w
            L = sp.expand(sp.expand_log(sp.log(numeric(prior.density, params)), force=True))
            if L.free_symbols <= {w} and L.is_polynomial(w) and sp.degree(L, w) == 2:
                lam = -2 * float(L.coeff(w, 2))
                if lam > 0:
                    self.kind = "gaussian"
                    self.lam, self.h = lam, float(L.coeff(w, 1))
                    return
        raise NotImplementedError(f"committee AMP: prior {prior!r} is neither discrete (atoms only) nor Gaussian")

    def __call__(self, b: torch.Tensor, A: torch.Tensor):
        S, N, K = b.shape
        if self.kind == "gaussian":
            M = self.lam * torch.eye(K, dtype=DTYPE, device=b.device) + A
            cov = torch.linalg.inv(M)
            cov = (cov + cov.transpose(-1, -2)) / 2
            mean = (b + self.h) @ cov
            return mean, cov
        C, logp, CC = self.C.to(b.device), self.logp.to(b.device), self.CC.to(b.device)
        quad = 0.5 * torch.einsum("ck,skl,cl->sc", C, A, C)
        E = b @ C.T - quad[:, None, :] + logp
        p = torch.softmax(E, -1)                                                                  # (S, N, c)
        mean = p @ C
        second = torch.einsum("sc,ckl->skl", p.sum(1), CC) / N
        cov = second - mean.transpose(1, 2) @ mean / N
        return mean, cov


class OutputDenoiser:
    """g_out(y; ω, V) = ∇_ω log Z_out and the Bayes / Gibbs predictions of a committee rule.

    Sign-table rules: Z_out and ∇_ω Z_out of every label by ``replica.committee.derive._label_probs``
    (NumPy, orthant probabilities); the soft committee: the theory's inner rule
    (``replica.committee.derive.soft_inner_rule``) in torch."""

    def __init__(self, model, params: dict, K: int, inner: int = 32):
        self.rule, self.K, self.inner, self.params = model.teacher, K, inner, params
        self.soft = bool(getattr(self.rule, "soft", False))
        if self.soft:
            from replica.committee.derive import soft_inner_rule
            self.delta = float(numeric(self.rule.noise, params))
            rho = float(model.prior.second_moment())
            u, wu = soft_inner_rule(K, self.delta, rho)
            self.u, self.wu = torch.as_tensor(u, dtype=DTYPE), torch.as_tensor(wu, dtype=DTYPE)
            h = list(self.rule.fields)
            self.f = to_torch(self.rule.rule, h, params)
            self.fprime = [to_torch(sp.diff(self.rule.rule, hk), h, params) for hk in h]
        else:
            _, self.outputs = _label_table(self.rule)

    # -- sign-table rules -----------------------------------------------------------------
    def label_index(self, y: torch.Tensor) -> np.ndarray:
        """Index of every label in the rule's sorted label set."""
        out = torch.tensor(self.outputs, dtype=DTYPE, device=y.device)
        idx = torch.argmin((y[..., None] - out).abs(), -1)
        return idx.cpu().numpy()

    def probs(self, omega: torch.Tensor, V: torch.Tensor, grad: bool):
        """(Z (S, M, L), ∇Z (S, M, L, K) or None) as NumPy arrays (NaN where V is not positive
        definite: a frozen instance's state, left out by the caller)."""
        from replica.committee.derive import _label_probs
        with np.errstate(all="ignore"):
            return _label_probs(self.rule, self.K, omega.detach().cpu().numpy(), V.detach().cpu().numpy(),
                                self.inner, grad=grad)

    def g(self, y, omega: torch.Tensor, V: torch.Tensor, yidx=None):
        """(g (S, P, K), per instance the number of samples whose label probability fell below
        ``Z_FLOOR`` (their g is 0))."""
        if self.soft:
            return self._soft_g(y, omega, V)
        Z, dZ = self.probs(omega, V, grad=True)
        idx = self.label_index(y) if yidx is None else yidx
        Zy = np.take_along_axis(Z, idx[..., None], -1)[..., 0]
        dZy = np.take_along_axis(dZ, idx[..., None, None], 2)[:, :, 0, :]
        tiny = Zy < Z_FLOOR
        g = np.where(tiny[..., None], 0.0, dZy / np.where(tiny, 1.0, Zy)[..., None])
        return (torch.as_tensor(g, dtype=DTYPE, device=omega.device),
                torch.as_tensor(tiny.sum(1), device=omega.device))

    # -- the soft committee ---------------------------------------------------------------
    def _soft_fields(self, V):
        """V^{1/2} u at the inner points, (S, U, K) (Cholesky factor of V)."""
        L = torch.linalg.cholesky(V)
        return self.u.to(V.device) @ L.transpose(-1, -2)

    def _soft_g(self, y, omega, V, chunk: int = 256):
        S, P, K = omega.shape
        du = self._soft_fields(V)
        wu = self.wu.to(omega.device)
        g = torch.empty_like(omega)
        for a in range(0, P, chunk):
            h = omega[:, a:a + chunk, None, :] + du[:, None]                                        # (S, c, U, K)
            hs = h.unbind(-1)
            s = self.f(*hs)
            r = (y[:, a:a + chunk, None] - s) / self.delta
            logw = -0.5 * r * r * self.delta + torch.log(wu)
            m = logw.amax(-1, keepdim=True)
            e = torch.exp(logw - m)                                                                 # ∝ N(y; s, Δ) w_u
            Z = e.sum(-1)
            grads = torch.stack([(e * r * fp(*hs)).sum(-1) for fp in self.fprime], -1)
            g[:, a:a + chunk] = grads / Z[..., None]
        return g, torch.zeros(S, dtype=torch.long, device=omega.device)

    def soft_mean(self, omega, V, chunk: int = 256):
        """E[f(z) | ω] and E[f(z)² | ω] for z ~ N(ω, V), (S, M) each."""
        S, M, K = omega.shape
        du = self._soft_fields(V)
        wu = self.wu.to(omega.device)
        m1, m2 = torch.empty(S, M, dtype=DTYPE, device=omega.device), torch.empty(S, M, dtype=DTYPE, device=omega.device)
        for a in range(0, M, chunk):
            s = self.f(*(omega[:, a:a + chunk, None, :] + du[:, None]).unbind(-1))
            m1[:, a:a + chunk], m2[:, a:a + chunk] = s @ wu, (s * s) @ wu
        return m1, m2


def _dg_finite_differences(out: OutputDenoiser, y, omega, V, yidx, g0=None, rel: float = 1e-5):
    """∂_ω g_out (S, P, K, K) by forward differences (step rel · √V_jj in ω_j; K more
    evaluations of g_out, or 2K central ones when ``g0`` is None), symmetrized."""
    K = omega.shape[-1]
    cols = []
    for j in range(K):
        h = rel * torch.sqrt(V[:, j, j]).clamp_min(1e-12)[:, None, None]                          # (S, 1, 1)
        e = torch.zeros_like(omega)
        e[..., j] = 1.0
        gp, _ = out.g(y, omega + h * e, V, yidx)
        if g0 is None:
            gm, _ = out.g(y, omega - h * e, V, yidx)
            cols.append((gp - gm) / (2 * h))
        else:
            cols.append((gp - g0) / h)
    J = torch.stack(cols, -1)                                                                      # ∂g_k/∂ω_j
    return (J + J.transpose(-1, -2)) / 2


# ------------------------------------------------------------------------------------------
# AMP
# ------------------------------------------------------------------------------------------
def run_committee_amp(data: CommitteeData, *, max_iter: int = 500, tol: float = 1e-5, damping: float = 0.0,
                      adaptive: bool = True, patience: int = 20, max_damping: float = 0.75,
                      perfect_tol: float = 1e-4, check_symmetric: bool = True, symmetric_tol: float = 1e-3,
                      init="uninformed", init_scale: float = 1e-3, onsager: str = "derivative", inner: int = 32,
                      init_seed: int | None = None) -> dict:
    """Run the committee AMP on every instance of ``data`` (see the module docstring).

    Parameters
    ----------
    max_iter : iterations at most.
    tol : an instance has converged when the RMS change of Ŵ in one iteration, ‖ΔŴ‖/√(NK),
        falls below ``tol``.
    damping : the starting damping d in [0, 1): new = (1 − d)·update + d·old for g, Ŵ and the
        variances.
    adaptive : per-instance adaptive damping: when an instance's RMS change has not reached a
        new minimum for ``patience`` iterations, its damping goes to 1 − (1 − d)/2 (at most
        ``max_damping``).  At finite N the committee AMP can oscillate between nearby states
        (with ±1 weights near the partially specialized fixed point: the authors' own AMP
        never settles either, see the tests), which a fixed point iteration with more damping
        does not; the damping does not move a fixed point.
    perfect_tol : perfect recovery — an instance whose mean posterior variance Tr V/K falls
        below ``perfect_tol`` has converged (the zero-variance fixed point, on which a finite
        sample cannot iterate: once no sample lies within √V of a decision boundary the
        fields g vanish and the iteration falls apart).
    check_symmetric : for a rule symmetric under permutations of the hidden units: an instance
        that meets ``tol`` at a permutation-symmetric point (every unit's estimate within
        ``symmetric_tol`` (relative RMS) of the units' mean — the unspecialized fixed point, an
        invariant subspace of the iteration) is perturbed once more antisymmetrically (variance
        ``init_scale``, generator stream 3) and iterated on: it has converged when it comes back
        (stable: the unspecialized phase) or when it settles elsewhere (the specialized branch
        the theory's uninformed start reaches where the unspecialized point is unstable).
        Without it, an instance whose symmetry-breaking component decayed during the transient
        (while q is small the unspecialized point is stable) can meet ``tol`` before the
        instability has grown back.
    init : ``"uninformed"``, ``"informed"``, or a tensor (S, N, K) of means.
    init_scale : ε, the variance of the uninformed start's symmetry-breaking perturbation.
    onsager : ``"nishimori"`` (A = (1/N) Σ g gᵀ) or ``"derivative"`` (A = −(1/N) Σ ∂_ω g_out,
        finite differences).
    inner : Gauss–Legendre nodes of the orthant probabilities for K ≥ 3.
    init_seed : seed of the uninformed perturbation (default: the data's seed); instance s
        uses ``generator(init_seed, s, 2)``.

    Returns
    -------
    dict of per-instance tensors: ``W_hat`` (S, N, K; NaN where not converged), ``W_last`` (the
    last iterate), ``V`` (S, K, K: the averaged posterior covariance), ``A`` (S, K, K),
    ``converged``, ``perfect`` (converged by ``perfect_tol``), ``checked`` (perturbed at a
    symmetric point), ``iterations``, ``damping``
    (the final damping), ``tiny_z`` (samples whose label probability fell below ``Z_FLOOR``
    at the last iteration), ``change`` (the last RMS change).
    """
    if not 0.0 <= damping < 1.0 or not 0.0 <= max_damping < 1.0:
        raise ValueError(f"damping and max_damping must be in [0, 1), got {damping}, {max_damping}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be positive, got {max_iter}")
    if onsager not in ("nishimori", "derivative"):
        raise ValueError(f"onsager must be 'nishimori' or 'derivative', got {onsager!r}")
    model, K = data.model, data.K
    prior = PriorDenoiser(model.prior, data.params, K)
    out = OutputDenoiser(model, data.params, K, inner)
    X, y, W_star = data.X.to(DTYPE), data.y.to(DTYPE), data.teacher.to(DTYPE)
    S, P, N = X.shape
    dev = X.device
    scale = N ** -0.5
    zeroA = torch.zeros((S, K, K), dtype=DTYPE, device=dev)
    m0, c0 = prior(torch.zeros((S, 1, K), dtype=DTYPE, device=dev), zeroA)                       # prior mean, cov
    base = data.seed if init_seed is None else int(init_seed)
    if isinstance(init, str) and init == "uninformed":
        eps = float(init_scale)
        xi = torch.stack([torch.randn(N, K, generator=generator(base, s, 2, dev), dtype=DTYPE, device=dev)
                          for s in data.seeds])
        a, V = m0 + eps ** 0.5 * xi, c0.clone()
    elif isinstance(init, str) and init == "informed":
        a, V = W_star.clone(), 1e-6 * c0
    elif isinstance(init, str):
        raise ValueError(f"init must be 'uninformed', 'informed' or a tensor (S, N, K), got {init!r}")
    else:
        a = torch.as_tensor(init, dtype=DTYPE, device=dev).expand(S, N, K).clone()
        V = c0.clone()
    yidx = None if out.soft else out.label_index(y)
    check = bool(check_symmetric) and K > 1 and bool(getattr(model.teacher, "permutation_symmetric", False))
    checked = torch.zeros(S, dtype=torch.bool, device=dev)
    g = torch.zeros((S, P, K), dtype=DTYPE, device=dev)
    A = zeroA.clone()
    active = torch.ones(S, dtype=torch.bool, device=dev)
    converged = torch.zeros(S, dtype=torch.bool, device=dev)
    perfect = torch.zeros(S, dtype=torch.bool, device=dev)
    iterations = torch.zeros(S, dtype=torch.long, device=dev)
    change = torch.full((S,), math.inf, dtype=DTYPE, device=dev)
    best = torch.full((S,), math.inf, dtype=DTYPE, device=dev)
    stall = torch.zeros(S, dtype=torch.long, device=dev)
    tiny = torch.zeros(S, dtype=torch.long, device=dev)
    keep = torch.full((S,), float(damping), dtype=DTYPE, device=dev)
    floor = V_FLOOR * float(torch.diagonal(c0, dim1=-2, dim2=-1).mean()) * torch.eye(K, dtype=DTYPE, device=dev)
    for _ in range(max_iter):
        omega = (X @ a) * scale - g @ V                                                          # (S, P, K)
        Vo = V + floor
        g_new, t_now = out.g(y, omega, Vo, yidx)
        if onsager == "nishimori":
            A_new = torch.einsum("spk,spl->skl", g_new, g_new) / N
        else:
            A_new = -_dg_finite_differences(out, y, omega, Vo, yidx, g_new).sum(1) / N
        if onsager == "derivative":
            # E[−∂g] = E[g gᵀ] ⪰ 0 on the Nishimori line; negative eigenvalues only come from
            # transients far off it or from finite differences at a collapsed variance
            ev, U = torch.linalg.eigh((A_new + A_new.transpose(-1, -2)) / 2)
            A_new = (U * ev.clamp_min(0)[:, None, :]) @ U.transpose(-1, -2)
        k3 = keep[:, None, None]
        g_new = (1 - k3) * g_new + k3 * g
        b = (g_new.transpose(1, 2) @ X).transpose(1, 2) * scale + a @ A_new                     # (S, N, K)
        a_post, V_post = prior(b, A_new)
        # perfect recovery: the posterior (undamped) has collapsed onto a point; it is the estimate
        done_perfect = torch.diagonal(V_post, dim1=-2, dim2=-1).mean(-1) < perfect_tol
        dp = done_perfect[:, None, None]
        a_new = torch.where(dp, a_post, (1 - k3) * a_post + k3 * a)
        V_new = torch.where(dp, V_post, (1 - k3) * V_post + k3 * V)
        ch = ((a_new - a) ** 2).mean((1, 2)).sqrt()
        finite = (torch.isfinite(a_new).flatten(1).all(1) & torch.isfinite(V_new).flatten(1).all(1)
                  & torch.isfinite(g_new).flatten(1).all(1))
        step = active & finite
        iterations += step.long()
        u3 = step[:, None, None]
        a, g = torch.where(u3, a_new, a), torch.where(u3, g_new, g)
        V, A = torch.where(u3, V_new, V), torch.where(u3, A_new, A)
        change = torch.where(step, ch, change)
        tiny = torch.where(step, t_now, tiny)
        done_perfect = step & done_perfect
        perfect |= done_perfect
        met = step & ((ch < tol) | done_perfect)
        if check:
            spread = ((a - a.mean(2, keepdim=True)) ** 2).mean((1, 2)).sqrt()
            sym = met & ~done_perfect & ~checked & (spread <= symmetric_tol * (a ** 2).mean((1, 2)).sqrt())
            if bool(sym.any()):
                xi = torch.stack([torch.randn(N, K, generator=generator(base, s_, 3, dev), dtype=DTYPE, device=dev)
                                  for s_ in data.seeds])
                a = torch.where(sym[:, None, None], a + float(init_scale) ** 0.5 * (xi - xi.mean(2, keepdim=True)), a)
                checked |= sym
                best = torch.where(sym, torch.full_like(best, math.inf), best)
                stall = torch.where(sym, torch.zeros_like(stall), stall)
                keep = torch.where(sym, torch.full_like(keep, float(damping)), keep)
                met &= ~sym
        converged |= met
        active &= finite & ~converged
        if adaptive:
            better = ch < best
            best = torch.where(step & better, ch, best)
            stall = torch.where(step & ~better, stall + 1, torch.where(step, torch.zeros_like(stall), stall))
            raise_ = step & (stall >= patience)
            keep = torch.where(raise_, torch.clamp(1 - (1 - keep) / 2, max=max_damping), keep)
            stall = torch.where(raise_, torch.zeros_like(stall), stall)
        if not bool(active.any()):
            break
    nan = torch.tensor(float("nan"), dtype=DTYPE, device=dev)
    W_hat = torch.where(converged[:, None, None], a, nan)
    return {"W_hat": W_hat, "W_last": a, "V": V, "A": A, "converged": converged, "perfect": perfect,
            "checked": checked, "iterations": iterations, "damping": keep, "tiny_z": tiny, "change": change}


# ------------------------------------------------------------------------------------------
# measurements
# ------------------------------------------------------------------------------------------
def _prior_symmetric(prior) -> bool:
    """Whether P₀(−w) = P₀(w) (then a unit's sign flip maps the teacher's prior onto itself)."""
    w = prior.w
    atoms = {(sp.nsimplify(a), sp.nsimplify(p)) for a, p in prior.atoms}
    if atoms != {(-a, p) for a, p in atoms}:
        return False
    return prior.density == 0 or sp.simplify(prior.density - prior.density.subs(w, -w)) == 0


def symmetries(model) -> list[tuple[tuple, tuple]]:
    """The rule's symmetries among the signed permutations of the hidden units: (π, s) with
    f(s_1 σ_π(1), ..., s_K σ_π(K)) = f(σ) for every sign pattern σ (sign flips only where the
    prior is even).  The soft committee: every permutation (its units are alike, and
    erf is odd but the sum of outputs is not invariant under a flip)."""
    rule = model.teacher
    K = rule.K
    perms = list(itertools.permutations(range(K)))
    if getattr(rule, "soft", False):
        return [(p, (1,) * K) for p in perms]
    flips = list(itertools.product((1, -1), repeat=K)) if _prior_symmetric(model.prior) else [(1,) * K]
    t = rule.table
    out = []
    for p in perms:
        for s in flips:
            if all(t[tuple(s[k] * sig[p[k]] for k in range(K))] == v for sig, v in t.items()):
                out.append((p, s))
    return out


def match_units(M: torch.Tensor, group) -> tuple[torch.Tensor, torch.Tensor]:
    """For overlaps M (S, K, K), M[k, l] = ŵ_k·w*_l/N, the symmetry (π, s) of ``group`` per
    instance that maximizes Σ_l s_l M[π(l), l]: returns (the student's unit order (S, K) —
    student unit π(l) is matched to teacher unit l —, the signs (S, K))."""
    S, K, _ = M.shape
    perms = torch.tensor([p for p, _ in group], dtype=torch.long, device=M.device)                # (G, K)
    signs = torch.tensor([s for _, s in group], dtype=M.dtype, device=M.device)                   # (G, K)
    ar = torch.arange(K, device=M.device)
    score = (M[:, perms, ar] * signs).sum(-1)                                                     # (S, G)
    best = torch.nan_to_num(score, nan=-math.inf).argmax(-1)
    return perms[best], signs[best]


def matched_weights(W_hat: torch.Tensor, W_star: torch.Tensor, group) -> torch.Tensor:
    """Ŵ with its units reordered (and flipped) onto the teacher's (``match_units``)."""
    N = W_hat.shape[1]
    M = W_hat.transpose(1, 2) @ W_star / N
    order, signs = match_units(M, group)
    return torch.gather(W_hat, 2, order[:, None, :].expand_as(W_hat)) * signs[:, None, :]


def _gram_fields(W_star, W_hat, n_test, gens):
    """(z, ω) pairs (S, n, K) each, from N(0, Gram([W*, Ŵ])/N) (exactly the fields of fresh
    Gaussian inputs)."""
    S, N, K = W_star.shape
    B = torch.cat([W_star, W_hat], -1)
    G = B.transpose(1, 2) @ B / N                                                                 # (S, 2K, 2K)
    ev, U = torch.linalg.eigh(G)
    R = U * ev.clamp_min(0).sqrt()[:, None, :]                                                    # G = R Rᵀ
    u = torch.stack([torch.randn(n_test, 2 * K, generator=g, dtype=DTYPE, device=W_star.device) for g in gens])
    f = u @ R.transpose(1, 2)
    return f[..., :K], f[..., K:]


def committee_observables(result: dict, data: CommitteeData, *, test_samples: int = 20000,
                          test_seed: int | None = None, inner: int = 32) -> dict:
    """Per-instance observables (S,) of an AMP result: ``q_d``, ``q_a``, ``q_diag``, ``q_off``,
    ``mse`` (after matching the units), ``generalization_error``, ``gibbs_error`` (fresh
    samples); plus ``overlap`` (S, K, K, matched) and ``self_overlap`` (S, K, K) = ŴᵀŴ/N.
    NaN where the instance did not converge."""
    model, K, N = data.model, data.K, data.n
    W_star = data.teacher.to(DTYPE)
    conv = result["converged"]
    W = torch.where(conv[:, None, None], result["W_last"], torch.zeros_like(result["W_last"]))
    W = matched_weights(W, W_star, symmetries(model))
    M = W.transpose(1, 2) @ W_star / N
    Q = W.transpose(1, 2) @ W / N
    eye = torch.eye(K, dtype=torch.bool, device=W.device)
    diag = torch.diagonal(M, dim1=-2, dim2=-1).mean(-1)
    off = (M.sum((1, 2)) - torch.diagonal(M, dim1=-2, dim2=-1).sum(-1)) / (K * (K - 1)) if K > 1 else torch.zeros_like(diag)
    mse = ((W - W_star) ** 2).sum((1, 2)) / (N * K)
    base = data.seed if test_seed is None else int(test_seed)
    gens = [generator(base, s, 1, W.device) for s in data.seeds]
    z, omega = _gram_fields(W_star, W, int(test_samples), gens)
    V = result["V"] + V_FLOOR * float(model.prior.second_moment()) * torch.eye(K, dtype=DTYPE, device=W.device)
    out = OutputDenoiser(model, data.params, K, inner)
    if out.soft:
        m1, m2 = out.soft_mean(omega, V)
        err = ((m1 - rule_output(model.teacher, data.params, z)) ** 2).mean(-1)
        gibbs = err + (m2 - m1 * m1).mean(-1)           # a posterior sample z' ~ N(ω, V): E (f(z') − f(z))²
    else:
        Z, _ = out.probs(omega, V, grad=False)
        truth = out.label_index(rule_output(model.teacher, data.params, z))
        err = torch.as_tensor((Z.argmax(-1) != truth).mean(-1), dtype=DTYPE)
        gibbs = torch.as_tensor((1.0 - np.take_along_axis(Z, truth[..., None], -1)[..., 0]).mean(-1), dtype=DTYPE)
    nan = torch.tensor(float("nan"), dtype=DTYPE, device=W.device)
    obs = {"q_d": diag - off, "q_a": K * off, "q_diag": diag, "q_off": off, "mse": mse,
           "generalization_error": err.to(W.device), "gibbs_error": gibbs.to(W.device)}
    obs = {k: torch.where(conv, v, nan) for k, v in obs.items()}
    obs["overlap"] = torch.where(conv[:, None, None], M, nan)
    obs["self_overlap"] = torch.where(conv[:, None, None], Q, nan)
    return obs


# ------------------------------------------------------------------------------------------
# the simulate / verify entry point
# ------------------------------------------------------------------------------------------
def simulate_committee_point(model, params: dict, n: int, seeds, *, algorithm: str | None = None,
                             device="cpu", seed: int = 0, **amp_options) -> dict:
    """Per-instance observables of committee AMP at one parameter point, in the shape of
    :func:`sims.verify.simulate_point`: {"observables": name -> tensor (S,), "converged",
    "info"}."""
    if algorithm not in (None, "amp"):
        raise ValueError(f"committee machines are simulated by AMP only (asked for {algorithm!r})")
    data = sample_committee(model, params, n, seeds, device=device, seed=seed)
    r = run_committee_amp(data, **amp_options)
    obs = committee_observables(r, data)
    info = {"algorithm": "amp", "p": data.p, "K": data.K,
            "iterations_mean": float(r["iterations"].double().mean()),
            "tiny_z": int(r["tiny_z"].sum())}
    return {"observables": {k: obs[k].cpu() for k in OBSERVABLES}, "converged": r["converged"].cpu(),
            "info": info}
