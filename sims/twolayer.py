"""Gradient-descent training of two-layer (committee) networks, batched over instances.

Teacher–student setup (Saad & Solla 1995, PRL 74, 4337 and PRE 52, 4225; Biehl & Schwarze
1995, J. Phys. A 28, 643), in this project's conventions (DESIGN.md):

* inputs x ~ N(0, I_N); pre-activations λ_i = w_i·x/√N (student, i = 1..K) and
  λ*_n = w*_n·x/√N (teacher, n = 1..M);
* teacher output  σ*(x) = Σ_n v_n g*(λ*_n) (+ √Δ ζ label noise, ζ ~ N(0, 1)), v_n = 1;
* student output  σ(x) = Σ_i a_i g(λ_i), a_i = 1 (the committee) or trained;
* activations (:data:`ACTIVATIONS`): ``"erf"`` g(λ) = erf(λ/√2) (Saad & Solla's soft committee),
  ``"relu"`` max(0, λ), ``"sign"`` (teacher only: g' = 0 almost everywhere), ``"linear"``;
* teacher weights: ``"orthonormal"`` (w*_n·w*_m = N δ_nm, i.e. T = I exactly, Saad & Solla's
  choice) or ``"gaussian"`` (i.i.d. N(0, 1), T = I + O(1/√N)); student initial weights
  i.i.d. N(0, init_scale²), so Q_ii(0) ≈ init_scale².

Order parameters (Saad & Solla's Q, R, T in the normalization J = w/√N, i.e. x_i = J_i·ξ):

    Q_ik = w_i·w_k/N,   R_in = w_i·w*_n/N,   T_nm = w*_n·w*_m/N.

Generalization error ε_g = ½ E_x[(σ(x) − σ*(x))²] (noiseless teacher output).  The fields
(λ, λ*) are jointly Gaussian with covariance [[Q, R], [Rᵀ, T]], so

    ε_g = ½ [Σ_ik a_i a_k κ(g, g; Q_ik) + Σ_nm v_n v_m κ(g*, g*; T_nm) − 2 Σ_in a_i v_n κ(g, g*; R_in)]

with κ the pair kernel E[g1(u) g2(u')] of :func:`pair_kernel`; for erf units it is
(2/π) arcsin(C/√((1 + C_uu)(1 + C_u'u'))), which is Saad & Solla's formula
ε_g = (1/π)[Σ_ik arcsin(Q_ik/√((1+Q_ii)(1+Q_kk))) + Σ_nm arcsin(T_nm/√((1+T_nn)(1+T_mm)))
− 2 Σ_in arcsin(R_in/√((1+Q_ii)(1+T_nn)))].  :func:`generalization_error_mc` estimates the same
quantity on fresh inputs (a check independent of the overlaps).

Algorithms, each one (S, ...) tensor computation over S instances (float64, any device):

* :func:`run_online_sgd` — one fresh sample per step; with δ_i = a_i g'(λ_i)(y − σ(x)),

      w_i ← w_i + (η/√N) δ_i x        (Saad & Solla's J_i ← J_i + (η/N) δ_i ξ),
      a_i ← a_i + (η_a/N)(y − σ(x)) g(λ_i)   (only if the second layer is trained),

  time α = steps/N.  In the limit N → ∞ the overlaps follow Saad & Solla's ODEs.
* :func:`run_gd` — full-batch gradient descent on P = round(αN) fixed samples, objective

      E(W, a) = Σ_μ ½ (σ(x_μ) − y_μ)² + (ridge/2) Σ_i |w_i|²,

  step W ← W − lr ∇_W E (a ← a − (lr/N) ∇_a E when trained); default lr = 1/L per instance
  with L = ‖X/√N‖₂² Σ_i a_i² sup|g'|² + ridge, a bound on the Gauss–Newton curvature.  An
  instance stops (and is frozen) when its RMS gradient ‖∇_W E‖_F/√(KN) falls below ``tol``;
  ``converged`` says which did within ``max_steps``.

Every instance draws from its own generators, seeded from (seed, instance, stream)
(:func:`sims.data.generator`), so its trajectory does not depend on which other instances run
with it.  Online inputs are drawn ``chunk`` samples at a time: a trajectory depends on
``chunk`` (default set by N alone), not on the instance count or the recording schedule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from replica.params import NONNEGATIVE, POSITIVE, ParameterError

from .data import DTYPE, _device, generator

__all__ = ["Activation", "ACTIVATIONS", "Teacher", "TwoLayerRun", "make_teacher", "run_online_sgd", "run_gd",
           "order_parameters", "pair_kernel", "generalization_error_closed", "generalization_error_mc",
           "matched_overlaps"]

# generator streams of an instance (sims.data.generator(seed, instance, stream))
_TEACHER, _STUDENT, _TRAIN, _TEST = 10, 11, 12, 13
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


# ------------------------------------------------------------------------------------------
# activations
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Activation:
    """A hidden unit's activation g, its derivative (None: not trainable), sup |g'| and its
    Gaussian family for the closed-form kernels: ``("step", s)`` — g(u) = E_z sign(u + √s z),
    z ~ N(0, 1) (sign: s = 0; erf(u/√2) = 2Φ(u) − 1: s = 1) — ``("relu",)`` or ``("linear",)``."""
    name: str
    g: Callable[[torch.Tensor], torch.Tensor]
    dg: Callable[[torch.Tensor], torch.Tensor] | None
    sup_dg: float
    family: tuple


ACTIVATIONS = {
    "erf": Activation("erf", lambda u: torch.erf(u / math.sqrt(2.0)),
                      lambda u: _SQRT_2_PI * torch.exp(-0.5 * u * u), _SQRT_2_PI, ("step", 1.0)),
    "relu": Activation("relu", lambda u: torch.clamp(u, min=0.0), lambda u: (u > 0).to(u.dtype), 1.0, ("relu",)),
    "sign": Activation("sign", torch.sign, None, math.inf, ("step", 0.0)),
    "linear": Activation("linear", lambda u: u, torch.ones_like, 1.0, ("linear",)),
}


def _activation(name, trainable=False) -> Activation:
    if isinstance(name, Activation):
        act = name
    elif name in ACTIVATIONS:
        act = ACTIVATIONS[name]
    else:
        raise ParameterError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    if trainable and act.dg is None:
        raise ParameterError(f"activation {act.name!r} has g' = 0 almost everywhere: it cannot be trained by "
                             "gradient descent (use it for the teacher only)")
    return act


def pair_kernel(g1: Activation | str, g2: Activation | str, c11, c22, c12):
    """E[g1(u) g2(u')] for (u, u') ~ N(0, [[c11, c12], [c12, c22]]), elementwise over tensors.

    Closed forms (step family: g(u) = E_z sign(u + √s z), so s is added to the variance):

    * step(s1)–step(s2): (2/π) arcsin(c12/√((c11 + s1)(c22 + s2)))  (erf–erf: Saad & Solla);
    * step(s)–relu: c12/√(2π (c11 + s));  step(s)–linear: c12 √(2/(π (c11 + s)));
    * relu–relu: √(c11 c22)/(2π) (sin θ + (π − θ) cos θ), cos θ = c12/√(c11 c22)
      (Cho & Saul 2009, arc-cosine kernel of degree 1);
    * relu–linear: c12/2;  linear–linear: c12.

    The cross terms follow from Stein's lemma, E[u' f(u)] = c12 E[f'(u)].
    """
    g1, g2 = _activation(g1), _activation(g2)
    f1, f2 = g1.family[0], g2.family[0]
    order = ["step", "relu", "linear"]
    if order.index(f1) > order.index(f2):
        g1, g2, c11, c22 = g2, g1, c22, c11
        f1, f2 = f2, f1
    if f1 == "step":
        v1 = c11 + g1.family[1]
        if f2 == "step":
            return (2 / math.pi) * torch.asin(torch.clamp(_ratio(c12, torch.sqrt(v1 * (c22 + g2.family[1]))), -1, 1))
        if f2 == "relu":
            return _ratio(c12, torch.sqrt(2 * math.pi * v1))
        return _ratio(c12 * math.sqrt(2 / math.pi), torch.sqrt(v1))          # linear
    if f1 == "relu" and f2 == "relu":
        n = torch.sqrt(c11 * c22)
        cos = torch.clamp(_ratio(c12, n), -1.0, 1.0)
        th = torch.arccos(cos)
        return n / (2 * math.pi) * (torch.sin(th) + (math.pi - th) * cos)
    if f1 == "relu":                                                             # linear
        return c12 / 2
    return c12 + 0 * c11


def _ratio(num, den):
    """num/den, and 0 where den = 0 (a unit with zero weights: its field is 0, so is c12)."""
    return torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)


# ------------------------------------------------------------------------------------------
# teacher
# ------------------------------------------------------------------------------------------
@dataclass
class Teacher:
    """S teacher committees: ``W`` (S, M, N) first-layer weights, ``v`` (S, M) second layer,
    activation, label-noise variance ``noise`` (Δ), base ``seed``."""
    W: torch.Tensor
    v: torch.Tensor
    activation: Activation
    noise: float = 0.0
    seed: int = 0

    @property
    def shape(self):
        """(S, M, N)."""
        return tuple(self.W.shape)

    @property
    def T(self) -> torch.Tensor:
        """T_nm = w*_n·w*_m/N, shape (S, M, M)."""
        return self.W @ self.W.transpose(1, 2) / self.W.shape[-1]

    def output(self, Xs: torch.Tensor) -> torch.Tensor:
        """σ*(x) = Σ_n v_n g*(λ*_n) for inputs already divided by √N, Xs (S, P, N) -> (S, P)."""
        return (self.activation.g(Xs @ self.W.transpose(1, 2)) * self.v[:, None, :]).sum(-1)


def _check_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def make_teacher(n: int, M: int, seeds: int = 1, *, seed: int = 0, activation="erf", weights="orthonormal",
                 noise: float = 0.0, device="cpu") -> Teacher:
    """S = ``seeds`` teacher committees of M units on N = ``n`` inputs.

    ``weights="orthonormal"``: the rows of a Gaussian (M, N) matrix orthonormalized (QR) and
    scaled to |w*_n|² = N, so T = I exactly (needs M ≤ N); ``"gaussian"``: i.i.d. N(0, 1).
    ``noise`` is the variance Δ of Gaussian label noise added to the teacher's output.
    """
    n, M, seeds = _check_int("n", n), _check_int("M", M), _check_int("seeds", seeds)
    noise = NONNEGATIVE.check("noise", noise)
    act = _activation(activation)
    if weights not in ("orthonormal", "gaussian"):
        raise ParameterError(f"weights must be 'orthonormal' or 'gaussian', got {weights!r}")
    if weights == "orthonormal" and M > n:
        raise ParameterError(f"orthonormal teacher needs M <= N, got M = {M}, N = {n}")
    dev = _device(device)
    W = torch.empty((seeds, M, n), dtype=DTYPE, device=dev)
    for s in range(seeds):
        G = torch.randn((n, M), dtype=DTYPE, device=dev, generator=generator(seed, s, _TEACHER, dev))
        if weights == "orthonormal":
            q, r = torch.linalg.qr(G)
            G = q * torch.sign(torch.diagonal(r)) * math.sqrt(n)   # sign fix: the Haar-distributed frame
        W[s] = G.T
    return Teacher(W, torch.ones((seeds, M), dtype=DTYPE, device=dev), act, noise, int(seed))


# ------------------------------------------------------------------------------------------
# observables
# ------------------------------------------------------------------------------------------
def order_parameters(W: torch.Tensor, W_teacher: torch.Tensor):
    """(Q, R, T) = (W Wᵀ/N, W W*ᵀ/N, W* W*ᵀ/N) for W (S, K, N) and W* (S, M, N)."""
    N = W.shape[-1]
    return (W @ W.transpose(-1, -2) / N, W @ W_teacher.transpose(-1, -2) / N,
            W_teacher @ W_teacher.transpose(-1, -2) / N)


def generalization_error_closed(Q, R, T, student="erf", teacher="erf", a=None, v=None):
    """ε_g = ½ E[(σ − σ*)²] from the order parameters (module docstring), batched over leading
    dimensions: Q (..., K, K), R (..., K, M), T (..., M, M), a (..., K), v (..., M) (default 1)."""
    gs, gt = _activation(student), _activation(teacher)
    Q, R, T = (torch.as_tensor(x, dtype=DTYPE) for x in (Q, R, T))
    a = torch.ones(Q.shape[:-1], dtype=DTYPE, device=Q.device) if a is None else torch.as_tensor(a, dtype=DTYPE)
    v = torch.ones(T.shape[:-1], dtype=DTYPE, device=T.device) if v is None else torch.as_tensor(v, dtype=DTYPE)
    dq, dt = torch.diagonal(Q, dim1=-2, dim2=-1), torch.diagonal(T, dim1=-2, dim2=-1)
    kss = pair_kernel(gs, gs, dq[..., :, None], dq[..., None, :], Q)
    ktt = pair_kernel(gt, gt, dt[..., :, None], dt[..., None, :], T)
    kst = pair_kernel(gs, gt, dq[..., :, None], dt[..., None, :], R)
    quad = lambda x, k, y: (x[..., :, None] * k * y[..., None, :]).sum((-1, -2))  # noqa: E731
    return 0.5 * (quad(a, kss, a) + quad(v, ktt, v) - 2 * quad(a, kst, v))


def generalization_error_mc(W, a, student, teacher: Teacher, samples: int = 4000, generators=None, chunk=None):
    """Monte-Carlo ε_g on fresh inputs x ~ N(0, I_N): the mean of ½(σ(x) − σ*(x))² over
    ``samples`` inputs per instance, and its standard error; returns (mean, stderr), each (S,).
    ``generators``: one torch.Generator per instance (default: stream ``_TEST`` of the teacher's seed)."""
    gs = _activation(student)
    S, K, N = W.shape
    dev = W.device
    if generators is None:
        generators = [generator(teacher.seed, s, _TEST, dev) for s in range(S)]
    chunk = chunk or max(1, 2**16 // N)
    total = torch.zeros(S, dtype=DTYPE, device=dev)
    total2 = torch.zeros(S, dtype=DTYPE, device=dev)
    done = 0
    while done < samples:
        c = min(chunk, samples - done)
        Xs = _inputs(generators, c, N, dev)
        d = 0.5 * ((gs.g(Xs @ W.transpose(1, 2)) * a[:, None, :]).sum(-1) - teacher.output(Xs))**2
        total += d.sum(1)
        total2 += (d * d).sum(1)
        done += c
    mean = total / samples
    var = torch.clamp(total2 / samples - mean**2, min=0.0) * samples / max(samples - 1, 1)
    return mean, torch.sqrt(var / samples)


def matched_overlaps(R) -> np.ndarray:
    """The student–teacher overlaps R_{π(n) n} after matching each teacher unit n to a distinct
    student unit π(n), chosen to maximize Σ_n R_{π(n) n} (Hungarian algorithm,
    scipy.optimize.linear_sum_assignment); R (..., K, M) -> (..., min(K, M)) ordered by teacher unit."""
    from scipy.optimize import linear_sum_assignment
    R = np.asarray(R, dtype=float)
    flat = R.reshape(-1, *R.shape[-2:])
    out = np.empty((flat.shape[0], min(R.shape[-2:])))
    for j, r in enumerate(flat):
        rows, cols = linear_sum_assignment(r, maximize=True)
        order = np.argsort(cols)
        out[j] = r[rows[order], cols[order]]
    return out.reshape(*R.shape[:-2], out.shape[-1])


# ------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------
@dataclass
class TwoLayerRun:
    """Trajectories of S instances, recorded at ``steps`` (R,).

    Arrays (NumPy, instance first): ``Q`` (S, R, K, K), ``R`` (S, R, K, M), ``T`` (S, M, M),
    ``a`` (S, R, K), ``eg`` (S, R) closed-form ε_g, ``eg_mc`` and
    ``eg_mc_err`` (S, R) Monte-Carlo ε_g and its standard error, ``loss`` (S, R): online SGD —
    the mean of ½(y − σ)² over the samples seen since the previous record (NaN at step 0); GD —
    the training loss (1/P) Σ_μ ½(σ(x_μ) − y_μ)².  ``alpha``: online — steps/N (R,); GD — P/N.
    ``converged``, ``grad_norm`` (S,): GD only (None for online SGD); ``n_steps`` (S,) steps
    each instance took.  ``W`` (S, K, N) and ``a_final`` the final student (torch); ``X``, ``y``
    the GD training set (torch; None online); ``params`` the run's settings.
    """
    algorithm: str
    steps: np.ndarray
    alpha: np.ndarray | float
    Q: np.ndarray
    R: np.ndarray
    T: np.ndarray
    a: np.ndarray
    eg: np.ndarray
    eg_mc: np.ndarray
    eg_mc_err: np.ndarray
    loss: np.ndarray
    n_steps: np.ndarray
    converged: np.ndarray | None
    grad_norm: np.ndarray | None
    W: torch.Tensor
    a_final: torch.Tensor
    teacher: Teacher
    X: torch.Tensor | None = None
    y: torch.Tensor | None = None
    params: dict = field(default_factory=dict)

    def matched_R(self) -> np.ndarray:
        """:func:`matched_overlaps` of ``R`` at every record, (S, R, min(K, M))."""
        return matched_overlaps(self.R)

    def to_dataset(self):
        """The trajectories as an ``xarray.Dataset`` (dims instance, record, student, student2,
        teacher, teacher2)."""
        import xarray as xr
        dims = {"Q": ("instance", "record", "student", "student2"), "R": ("instance", "record", "student", "teacher"),
                "a": ("instance", "record", "student"), "eg": ("instance", "record"),
                "eg_mc": ("instance", "record"), "eg_mc_err": ("instance", "record"), "loss": ("instance", "record")}
        data = {k: (d, getattr(self, k)) for k, d in dims.items() if getattr(self, k) is not None}
        data["T"] = (("instance", "teacher", "teacher2"), self.T)
        data["n_steps"] = (("instance",), self.n_steps)
        if self.converged is not None:
            data["converged"] = (("instance",), self.converged)
            data["grad_norm"] = (("instance",), self.grad_norm)
        coords = {"steps": ("record", self.steps)}
        if np.ndim(self.alpha):
            coords["alpha"] = ("record", np.asarray(self.alpha))
        attrs = {k: v for k, v in self.params.items() if isinstance(v, (int, float, str, bool))}
        attrs["algorithm"] = self.algorithm
        return xr.Dataset(data, coords=coords, attrs=attrs)


class _Recorder:
    """Collects the observables of the current state at each record."""

    def __init__(self, student: Activation, teacher: Teacher, n_test: int):
        self.student, self.teacher, self.n_test = student, teacher, n_test
        S = teacher.W.shape[0]
        self.gens = [generator(teacher.seed, s, _TEST, teacher.W.device) for s in range(S)]
        self.rows = {k: [] for k in ("steps", "Q", "R", "a", "eg", "eg_mc", "eg_mc_err", "loss")}

    def __call__(self, step, W, a, loss):
        Q, R, T = order_parameters(W, self.teacher.W)
        r = self.rows
        r["steps"].append(step)
        r["Q"].append(Q)
        r["R"].append(R)
        r["a"].append(a.clone())
        r["eg"].append(generalization_error_closed(Q, R, T, self.student, self.teacher.activation, a, self.teacher.v))
        m, e = generalization_error_mc(W, a, self.student, self.teacher, self.n_test, self.gens)
        r["eg_mc"].append(m)
        r["eg_mc_err"].append(e)
        r["loss"].append(loss)

    def arrays(self):
        out = {"steps": np.asarray(self.rows["steps"], dtype=np.int64)}
        for k, v in self.rows.items():
            if k != "steps":
                out[k] = torch.stack(v, dim=1).cpu().numpy()
        return out


def _init_student(teacher: Teacher, K: int, init_scale: float, a0: float):
    S, _, N = teacher.W.shape
    dev = teacher.W.device
    W = torch.stack([torch.randn((K, N), dtype=DTYPE, device=dev, generator=generator(teacher.seed, s, _STUDENT, dev))
                     for s in range(S)]) * init_scale
    return W, torch.full((S, K), float(a0), dtype=DTYPE, device=dev)


def _inputs(gens, c, N, dev, out=None):
    """(S, c, N) fresh inputs divided by √N, one generator per instance, written into ``out``
    ((S, ≥c, N) buffer, reused across chunks: no allocation, no copy) when given."""
    X = torch.empty((len(gens), c, N), dtype=DTYPE, device=dev) if out is None else out[:, :c]
    for s, g in enumerate(gens):
        X[s].normal_(0.0, 1.0 / math.sqrt(N), generator=g)
    return X


def _labels(teacher: Teacher, Xs, gens):
    y = teacher.output(Xs)
    if teacher.noise > 0:
        y = y + math.sqrt(teacher.noise) * torch.stack(
            [torch.randn(Xs.shape[1], dtype=DTYPE, device=Xs.device, generator=g) for g in gens])
    return y


# ------------------------------------------------------------------------------------------
# online SGD
# ------------------------------------------------------------------------------------------
def run_online_sgd(teacher: Teacher, K: int, eta: float, alpha: float, *, activation=None, init_scale: float = 1e-3,
                   train_second_layer: bool = False, eta_second: float | None = None, a0: float = 1.0,
                   records=101, n_test: int = 4000, chunk: int | None = None) -> TwoLayerRun:
    """Online SGD of a K-unit student on ``teacher`` for ``alpha``·N steps (module docstring).

    Parameters
    ----------
    teacher : :class:`Teacher` (its instance count S, N, seed and device are used).
    K : student hidden units.  eta : learning rate η (Saad & Solla's: η/N per weight in J units).
    alpha : training time α = steps/N.
    activation : student activation (default: the teacher's); must be trainable.
    init_scale : initial weights i.i.d. N(0, init_scale²).  a0 : initial second layer.
    train_second_layer, eta_second : train a with rate eta_second/N (default eta).
    records : number of records evenly spaced in α (int, including 0 and alpha), or the α values.
    n_test : fresh inputs per instance for the Monte-Carlo ε_g at each record.
    chunk : inputs drawn per generator call (default max(16, 2^15 // N)).
    """
    K = _check_int("K", K)
    eta = POSITIVE.check("eta", eta)
    alpha = NONNEGATIVE.check("alpha", alpha)
    init_scale = NONNEGATIVE.check("init_scale", init_scale)
    n_test = _check_int("n_test", n_test, low=2)
    act = _activation(activation if activation is not None else teacher.activation, trainable=True)
    eta_a = eta if eta_second is None else POSITIVE.check("eta_second", eta_second)
    S, M, N = teacher.W.shape
    dev = teacher.W.device
    total = int(round(alpha * N))
    if np.ndim(records) == 0:
        rec_alpha = np.linspace(0.0, alpha, _check_int("records", records, low=2))
    else:
        rec_alpha = np.asarray(records, dtype=float)
        if rec_alpha.ndim != 1 or not len(rec_alpha) or np.any(rec_alpha < 0) or np.any(rec_alpha > alpha + 1e-12):
            raise ParameterError("records must be α values in [0, alpha]")
    rec_steps = np.unique(np.round(rec_alpha * N).astype(np.int64))
    chunk = _check_int("chunk", chunk) if chunk is not None else max(16, 2**15 // N)

    W, a = _init_student(teacher, K, init_scale, a0)
    train_gens = [generator(teacher.seed, s, _TRAIN, dev) for s in range(S)]
    rec = _Recorder(act, teacher, n_test)
    g, dg = act.g, act.dg
    step_w = eta                       # inputs are stored as x/√N: w += (η/√N) δ x = η δ (x/√N)
    step_a = eta_a / N
    loss_acc = torch.zeros(S, dtype=DTYPE, device=dev)
    nan = torch.full((S,), math.nan, dtype=DTYPE, device=dev)
    since, step, ri = 0, 0, 0
    if rec_steps[0] == 0:
        rec(0, W, a, nan)
        ri = 1
    buf = torch.empty((S, min(chunk, max(total, 1)), N), dtype=DTYPE, device=dev)
    while step < total:
        c = min(chunk, total - step)
        Xs = _inputs(train_gens, c, N, dev, buf)
        Y = _labels(teacher, Xs, train_gens)
        for t in range(c):
            x = Xs[:, t, None, :]                                  # (S, 1, N)
            lam = (W * x).sum(-1)                                  # (S, K); elementwise beats bmm at these shapes
            gl = g(lam)
            err = Y[:, t] - (a * gl).sum(-1)                       # (S,)
            delta = (a * dg(lam)) * err[:, None]                   # (S, K)
            W.addcmul_(delta[..., None], x, value=step_w)
            if train_second_layer:
                a.add_(gl * err[:, None], alpha=step_a)
            loss_acc.addcmul_(err, err, value=0.5)
            step += 1
            since += 1
            if ri < len(rec_steps) and step == rec_steps[ri]:
                rec(step, W, a, loss_acc / since)
                loss_acc.zero_()
                since, ri = 0, ri + 1
    out = rec.arrays()
    T = teacher.T.cpu().numpy()
    return TwoLayerRun("online-sgd", out["steps"], out["steps"] / N, out["Q"], out["R"], T, out["a"], out["eg"],
                       out["eg_mc"], out["eg_mc_err"], out["loss"], np.full(S, total), None, None, W, a, teacher,
                       params=dict(K=K, M=M, n=N, seeds=S, eta=eta, alpha=alpha, activation=act.name,
                                   teacher_activation=teacher.activation.name, init_scale=init_scale,
                                   train_second_layer=train_second_layer, eta_second=eta_a, noise=teacher.noise,
                                   seed=teacher.seed, chunk=chunk, n_test=n_test))


# ------------------------------------------------------------------------------------------
# full-batch gradient descent
# ------------------------------------------------------------------------------------------
def run_gd(teacher: Teacher, K: int, alpha: float, *, activation=None, lr=None, ridge: float = 0.0,
           tol: float = 1e-10, max_steps: int = 100_000, init_scale: float = 1e-3, train_second_layer: bool = False,
           a0: float = 1.0, record_every: int = 100, n_test: int = 4000, check_every: int = 16) -> TwoLayerRun:
    """Full-batch gradient descent on P = round(αN) samples of ``teacher`` (module docstring).

    Parameters
    ----------
    teacher : :class:`Teacher`.  K : student hidden units.  alpha : samples per input dimension.
    activation : student activation (default: the teacher's).
    lr : step size (number, or None for 1/L per instance, L computed with the initial a: pass lr
         explicitly when a is trained and may grow).  ridge : weight decay on W.
    tol : stop an instance when ‖∇_W E‖_F/√(KN) < tol.  max_steps : iteration cap.
    init_scale, a0, train_second_layer : as in :func:`run_online_sgd` (a's step is lr/N).
    record_every : record the observables every this many iterations (and at the end).
    check_every : test for "all instances converged" every this many iterations (host sync).
    """
    K = _check_int("K", K)
    alpha = POSITIVE.check("alpha", alpha)
    ridge = NONNEGATIVE.check("ridge", ridge)
    tol = POSITIVE.check("tol", tol)
    max_steps = _check_int("max_steps", max_steps, low=0)
    record_every = _check_int("record_every", record_every)
    check_every = _check_int("check_every", check_every)
    n_test = _check_int("n_test", n_test, low=2)
    init_scale = NONNEGATIVE.check("init_scale", init_scale)
    act = _activation(activation if activation is not None else teacher.activation, trainable=True)
    S, M, N = teacher.W.shape
    dev = teacher.W.device
    P = int(round(alpha * N))
    if P < 1:
        raise ParameterError(f"alpha * N must give at least one sample, got alpha = {alpha}, N = {N}")

    train_gens = [generator(teacher.seed, s, _TRAIN, dev) for s in range(S)]
    Xs = _inputs(train_gens, P, N, dev)                          # (S, P, N), x/√N
    y = _labels(teacher, Xs, train_gens)                         # (S, P)
    W, a = _init_student(teacher, K, init_scale, a0)
    if lr is None:
        L = torch.linalg.matrix_norm(Xs, ord=2)**2 * (a * a).sum(-1) * act.sup_dg**2 + ridge
        lr_t = 1.0 / L
    else:
        lr_t = torch.full((S,), POSITIVE.check("lr", lr), dtype=DTYPE, device=dev)
    g, dg = act.g, act.dg
    rec = _Recorder(act, teacher, n_test)

    def evaluate(W, a):
        lam = Xs @ W.transpose(1, 2)                             # (S, P, K)
        gl = g(lam)
        e = (gl * a[:, None, :]).sum(-1) - y                     # (S, P)
        G = torch.bmm((e[..., None] * dg(lam) * a[:, None, :]).transpose(1, 2), Xs) + ridge * W
        Ga = (e[..., None] * gl).sum(1)
        return 0.5 * (e * e).mean(-1), G, Ga

    active = torch.ones(S, dtype=torch.bool, device=dev)
    n_steps = torch.zeros(S, dtype=torch.int64, device=dev)
    step = 0
    while True:
        loss, G, Ga = evaluate(W, a)
        gnorm = torch.linalg.vector_norm(G, dim=(1, 2)) / math.sqrt(K * N)
        active &= ~(gnorm < tol)
        if step % record_every == 0:
            rec(step, W, a, loss)
        if step >= max_steps or (step % check_every == 0 and not bool(active.any())):
            break
        m = (lr_t * active)[:, None, None]
        W = W - m * G
        if train_second_layer:
            a = a - (m[..., 0] / N) * Ga
        n_steps += active
        step += 1
    if rec.rows["steps"][-1] != step:
        rec(step, W, a, loss)
    out = rec.arrays()
    return TwoLayerRun("gd", out["steps"], P / N, out["Q"], out["R"], teacher.T.cpu().numpy(), out["a"], out["eg"],
                       out["eg_mc"], out["eg_mc_err"], out["loss"], n_steps.cpu().numpy(), (~active).cpu().numpy(),
                       gnorm.cpu().numpy(), W, a, teacher, X=Xs * math.sqrt(N), y=y,
                       params=dict(K=K, M=M, n=N, seeds=S, alpha=P / N, P=P, ridge=ridge, tol=tol,
                                   max_steps=max_steps, activation=act.name,
                                   teacher_activation=teacher.activation.name, init_scale=init_scale,
                                   train_second_layer=train_second_layer, noise=teacher.noise, seed=teacher.seed,
                                   lr=lr if lr is not None else "1/L", n_test=n_test))
