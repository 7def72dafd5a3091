"""Empirical risk minimization, batched over instances:

    ŵ = argmin_w  Σ_μ ℓ(y_μ, λ_μ) + (r/2)|w|²,   λ_μ = w·x_μ/√N,

with ℓ the Model's SymPy loss (any ``losses.Custom`` too) turned into torch code.  The loss is
classified once, symbolically:

* quadratic in λ, ℓ = (c(y)/2)λ² + b(y)λ + const with c > 0 (the square loss): the normal
  equations (Xᵀ diag(c) X/N + r I) w = −Xᵀb/√N, solved in closed form (r = 0: the
  minimum-norm weighted least-squares solution, the r → 0⁺ limit);
* smooth (no max, min, |·|): Newton's method with Armijo backtracking on the objective,
  gradient Xᵀℓ'/√N + r w and Hessian Xᵀ diag(ℓ'') X/N + r I from ℓ', ℓ'' derived by SymPy;
* piecewise smooth through max/min/|·| or a ``Piecewise`` (hinge, custom margins, Huber,
  piecewise-linear losses): the kinks smoothed, max(a, b) → b + ε softplus((a − b)/ε) ≥ max(a, b)
  (error at most ε log 2 per sample); a ``Piecewise((f₁, c₁), (f₂, c₂), ...)`` written as
  Σᵢ fᵢ Θ(cᵢ) Π_{j<i} (1 − Θ(c_j)) with each relational Θ(u) → σ(u/ε) (the logistic function),
  and Newton continued along ε = 10⁻¹, ..., 10⁻⁸ from the previous minimizer.  The result is
  certified by the KKT condition of the *non-smooth* problem: with g_μ the smoothed ℓ'(λ_μ),
  |r w + Xᵀg/√N|/√N ≤ max(tol, 10⁻⁷) (Newton's stopping rule; the smoothed Hessian, of order 1/ε,
  limits the attainable precision) and every g_μ lies in the subdifferential of the
  true loss up to a width τ, [ℓ'(λ_μ − τ), ℓ'(λ_μ + τ)] (ℓ' nondecreasing for a convex ℓ);
  ``kkt`` reports the largest violation (0 when certified).  For ℓ = max(0, a(y) − b(y)λ)
  (hinge, margins) the smoothing stops at ε = 10⁻² and the exact minimizer follows from the
  margin equations on the active sets (``_active_set``), certified by the signs;
* a loss with a step (Heaviside, sign) is not convex: ``ValueError``.

Convexity in λ is checked numerically on a grid for the labels present: second differences of
the loss (and, without a ``Piecewise``, of its ε = 10⁻³ smoothing) are ≥ 0 (a ``Piecewise``
that jumps fails here).  Every
instance reports ``converged`` (gradient norm below ``tol`` and, for kinks, the KKT
certificate) — a minimizer that does not exist (r = 0 on separable data) is reported as not
converged, never as a number.
"""
from __future__ import annotations

import sympy as sp
import torch

from replica.learning import ERM
from replica.symbols import lam as LAM, y as Y

from .data import DTYPE, Data, Sigmoid, Softplus, numeric, to_torch

__all__ = ["run_erm", "LossCode", "loss_code"]

_KINKS = (sp.Max, sp.Min, sp.Abs, sp.Piecewise)
_STEPS = (sp.Heaviside, sp.sign, sp.DiracDelta)
_EPS = sp.Symbol("epsilon_smooth", positive=True)


def _indicator(cond):
    """Θ(cond) for a condition built from relations with And/Or/Not, each relation u > 0 (or ≥)
    as Θ(u) — a SymPy Heaviside the smoothing turns into σ(u/ε); None for anything else."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if isinstance(cond, sp.And):
        parts = [_indicator(c) for c in cond.args]
        return None if None in parts else sp.Mul(*parts)
    if isinstance(cond, sp.Or):
        parts = [_indicator(c) for c in cond.args]
        return None if None in parts else 1 - sp.Mul(*[1 - p for p in parts])
    if isinstance(cond, sp.Not):
        inner = _indicator(cond.args[0])
        return None if inner is None else 1 - inner
    if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
        return sp.Heaviside(cond.lhs - cond.rhs)
    if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
        return sp.Heaviside(cond.rhs - cond.lhs)
    return None


def _piecewise_as_steps(expr):
    """Every Piecewise((f₁, c₁), (f₂, c₂), ...) as Σᵢ fᵢ Θ(cᵢ) Π_{j<i} (1 − Θ(c_j)); ValueError
    for a condition that is not built from relations (say, membership in a set)."""
    for pw in sorted(expr.atoms(sp.Piecewise), key=sp.count_ops, reverse=True):
        acc, remaining = sp.S.Zero, sp.S.One
        for f, cond in pw.args:
            ind = _indicator(cond)
            if ind is None:
                raise ValueError(f"ERM cannot smooth the Piecewise condition {cond} (relations only)")
            acc += f * remaining * ind
            remaining = remaining * (1 - ind)
            if cond is sp.true:
                break
        expr = expr.xreplace({pw: acc})
    return expr


def _smooth(expr):
    """max/min/|·| replaced by their softplus smoothings with width ``_EPS``; a Piecewise by its
    steps (:func:`_piecewise_as_steps`), each Θ(u) by σ(u/ε)."""
    def smax(*args):
        out = args[0]
        for b in args[1:]:
            out = b + _EPS * Softplus((out - b) / _EPS)
        return out

    def smin(*args):
        return -smax(*[-a for a in args])
    expr = _piecewise_as_steps(expr)
    expr = expr.replace(sp.Abs, lambda u: smax(u, -u)).replace(sp.Max, smax).replace(sp.Min, smin)
    return expr.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: Sigmoid(e.args[0] / _EPS))


class LossCode:
    """ℓ, ℓ', ℓ'' of one loss with the parameters substituted, as torch functions of (y, λ[, ε])."""

    def __init__(self, loss_expr, params: dict):
        e = numeric(loss_expr, params)
        if e.has(*_STEPS):
            raise ValueError(f"ERM needs a convex loss; {e} has a step (Heaviside/sign)")
        self.expr = e
        self.kind = "quadratic" if self._quadratic(e) else "kinked" if e.has(*_KINKS) else "smooth"
        self.value = to_torch(e, [Y, LAM])
        self.d1_true = to_torch(sp.diff(e, LAM), [Y, LAM])
        s = _smooth(e) if self.kind == "kinked" else e
        self.smooth = to_torch(s, [Y, LAM, _EPS])
        self.d1 = to_torch(sp.diff(s, LAM), [Y, LAM, _EPS])
        self.d2 = to_torch(sp.diff(s, LAM, 2), [Y, LAM, _EPS])
        if self.kind == "quadratic":
            poly = sp.Poly(sp.expand(e), LAM)
            self.c = to_torch(2 * poly.coeff_monomial(LAM**2), [Y])
            self.b = to_torch(poly.coeff_monomial(LAM), [Y])

    @staticmethod
    def _quadratic(e):
        try:
            poly = sp.Poly(sp.expand(e), LAM)
        except sp.PolynomialError:
            return False
        return poly.degree() == 2 and poly.coeff_monomial(LAM**2).free_symbols <= {Y}

    def check_convex(self, y: torch.Tensor):
        """ℓ''(y, λ) ≥ 0 on a λ-grid for (a sample of) the labels present; ValueError otherwise."""
        labels = torch.unique(y)
        if len(labels) > 16:
            labels = torch.quantile(y.flatten()[:100000], torch.linspace(0, 1, 16, dtype=DTYPE, device=y.device))
        grid = torch.linspace(-10, 10, 2001, dtype=DTYPE, device=y.device)
        curves = [self.value(labels[:, None], grid[None, :])]
        if not self.expr.has(sp.Piecewise):     # a σ-blend of pieces is convex only up to O(ε)
            curves.append(self.smooth(labels[:, None], grid[None, :], torch.tensor(1e-3, dtype=DTYPE, device=y.device)))
        for L in curves:
            second = L[:, 2:] - 2 * L[:, 1:-1] + L[:, :-2]
            if not bool(torch.isfinite(L).all()) or torch.any(second < -1e-9 * (1 + L[:, 1:-1].abs())):
                raise ValueError(f"ERM needs a loss convex in the prediction; {self.expr} is not")


def loss_code(model, params) -> tuple[LossCode, float]:
    """The ERM loss and ridge of ``model`` at ``params``."""
    L = model.learning
    if not isinstance(L, ERM):
        raise ValueError(f"model {model.name!r} is not an ERM model (learning = {L!r})")
    return LossCode(L.loss.expr, params), float(numeric(L.ridge, params))


def _objective(code, X, y, w, r, eps):
    lam = X @ w[..., None] / X.shape[-1]**0.5
    return code.smooth(y, lam[..., 0], eps).sum(-1) + 0.5 * r * (w * w).sum(-1)


def _newton(code, X, y, w, r, eps, tol, max_iter):
    """Batched damped Newton on Σ ℓ_ε + (r/2)|w|²; returns (w, converged, iterations, gradnorm)."""
    S, P, N = X.shape
    sq = N**0.5
    eye = torch.eye(N, dtype=DTYPE, device=X.device)
    eps_t = torch.tensor(eps, dtype=DTYPE, device=X.device)
    done = torch.zeros(S, dtype=torch.bool, device=X.device)
    its = torch.zeros(S, dtype=torch.long, device=X.device)
    gnorm = torch.full((S,), float("inf"), dtype=DTYPE, device=X.device)
    small = torch.zeros(S, dtype=torch.bool, device=X.device)
    obj = _objective(code, X, y, w, r, eps_t)
    for it in range(max_iter + 1):
        lam = (X @ w[..., None])[..., 0] / sq
        g1 = code.d1(y, lam, eps_t)
        grad = (X.transpose(1, 2) @ g1[..., None])[..., 0] / sq + r * w
        gnorm = grad.norm(dim=-1) / N**0.5
        g2 = code.d2(y, lam, eps_t).clamp_min(0)
        H = X.transpose(1, 2) @ (g2[..., None] * X) / N + r * eye
        H = H + 1e-14 * eye * H.diagonal(dim1=1, dim2=2).abs().amax(-1)[:, None, None]
        step = torch.linalg.solve(H, grad)
        # converged: gradient below tol and a Newton step small against |w| (on separable data
        # with r = 0 the gradient vanishes as |w| grows without bound, the step does not)
        small = step.norm(dim=-1) <= 1e-6 * (1 + w.norm(dim=-1))
        done = done | ((gnorm <= tol) & small)
        if bool(done.all()) or it == max_iter:
            break
        slope = (grad * step).sum(-1)
        t = torch.ones(S, dtype=DTYPE, device=X.device)
        accepted = done.clone()
        new_w = w.clone()
        for _ in range(40):
            cand = w - t[:, None] * step
            cobj = _objective(code, X, y, cand, r, eps_t)
            ok = ~accepted & (cobj <= obj - 1e-4 * t * slope + 1e-15 * obj.abs())
            new_w[ok] = cand[ok]
            obj = torch.where(ok, cobj, obj)
            accepted |= ok
            if bool(accepted.all()):
                break
            t = torch.where(accepted, t, t / 2)
        stuck = ~accepted
        its += (~done).long()
        w = new_w
        if bool(stuck.any()):     # no decrease possible: at the floor of float64 precision
            done = done | stuck
    return w, (gnorm <= tol) & small, its, gnorm


def _hinge_form(e):
    """(a(y), b(y)) when ℓ = max(0, a(y) − b(y) λ) (hinge, perceptron with a margin), else None."""
    if isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args:
        A = e.args[0] if e.args[1] == 0 else e.args[1]
        try:
            poly = sp.Poly(sp.expand(A), LAM)
        except sp.PolynomialError:
            return None
        if poly.degree() == 1:
            return to_torch(poly.coeff_monomial(1), [Y]), to_torch(-poly.coeff_monomial(LAM), [Y])
    return None


def _active_set(form, X, y, w, r, tol=1e-9, band=2e-3, rounds=30):
    """Exact minimizer of Σ max(0, a_μ − b_μ λ_μ) + (r/2)|w|² from an approximate one ``w``.

    With x̃ = x/√N and θ_μ ∈ ∂max(0, ·) (1 on errors E, 0 on inactive samples, free on the
    margin set M where a_μ = b_μ λ_μ), stationarity is r w = Σ θ_μ b_μ x̃_μ; the margin
    equations give θ_M = (B_MᵀB_M)⁻¹ (r a_M − B_Mᵀ c_E), B_M = [b_μ x̃_μ]_M, c_E = Σ_E b x̃.
    The sets start from w (|a − bλ| < ``band`` is the margin) and are corrected until the
    candidate is certified — θ_M ∈ [0, 1] and every other sample on its side: a margin sample
    with θ < 0 leaves for the inactive set, θ > 1 for E; a sample on the wrong side joins M.
    Returns (w, certified) per instance."""
    S, P, N = X.shape
    a, b = form[0](y), form[1](y)
    Xt = X / N**0.5
    out, ok = w.clone(), torch.zeros(S, dtype=torch.bool, device=X.device)
    for s in range(S):
        u = a[s] - b[s] * (Xt[s] @ w[s])
        M = u.abs() < band
        E = u >= band
        for _ in range(rounds):
            Bm = (b[s, M, None] * Xt[s, M]).T          # (N, |M|)
            cE = (b[s, E, None] * Xt[s, E]).sum(0)
            if Bm.shape[1] > N:
                break
            theta = torch.linalg.lstsq(Bm.T @ Bm, r * a[s, M] - Bm.T @ cE).solution if Bm.shape[1] else Bm.new_zeros(0)
            cand = (cE + Bm @ theta) / r
            u2 = a[s] - b[s] * (Xt[s] @ cand)
            inactive = ~E & ~M
            bad_lo, bad_hi = theta < -tol, theta > 1 + tol
            bad_E, bad_I = E & (u2 < -tol), inactive & (u2 > tol)
            if not (bad_lo.any() or bad_hi.any() or bad_E.any() or bad_I.any()) and bool((u2[M].abs() <= 1e-8).all()):
                out[s], ok[s] = cand, True
                break
            idx = torch.nonzero(M).flatten()
            M, E = M.clone(), E.clone()
            M[idx[bad_lo | bad_hi]] = False
            E[idx[bad_hi]] = True
            M |= bad_E | bad_I
            E &= ~bad_E
    return out, ok


def run_erm(data: Data, *, tol: float = 1e-9, max_iter: int = 100, loss=None, ridge=None) -> dict:
    """Minimize the Model's regularized empirical risk on every instance of ``data``.

    ``loss`` (a replica loss) and ``ridge`` override the model's.  Returns per-instance tensors:
    ``w_hat`` (S, N), ``converged`` (S,), ``iterations``, ``gradient`` (final gradient norm
    /√N), ``kkt`` (largest KKT violation for kinked losses, else 0), ``objective``, and
    ``method`` (str)."""
    if loss is None:
        code, r = loss_code(data.model, data.params)
    else:
        code = LossCode(loss.expr, data.params)
        r = float(numeric(data.model.learning.ridge, data.params)) if ridge is None else float(ridge)
    if ridge is not None:
        r = float(ridge)
    X, y = data.X, data.y
    S, P, N = X.shape
    code.check_convex(y)
    zero = torch.zeros((), dtype=DTYPE, device=X.device)
    if code.kind == "quadratic":
        c = code.c(y)                                   # curvature per sample, > 0 (convexity check)
        A = X / N**0.5 * c[..., None]**0.5
        target = -code.b(y) / c**0.5
        if r > 0:
            H = A.transpose(1, 2) @ A + r * torch.eye(N, dtype=DTYPE, device=X.device)
            w = torch.linalg.solve(H, (A.transpose(1, 2) @ target[..., None])[..., 0])
        else:
            w = (torch.linalg.pinv(A) @ target[..., None])[..., 0]
        lam = (X @ w[..., None])[..., 0] / N**0.5
        grad = (X.transpose(1, 2) @ code.d1(y, lam, zero)[..., None])[..., 0] / N**0.5 + r * w
        gnorm = grad.norm(dim=-1) / N**0.5
        conv = gnorm <= max(tol, 1e-8) * (1 + (X.abs().amax((1, 2)) * y.abs().amax(-1)))
        its = torch.ones(S, dtype=torch.long, device=X.device)
        kkt = torch.zeros(S, dtype=DTYPE, device=X.device)
        method = "closed form (normal equations)" if r > 0 else "minimum-norm least squares"
    elif code.kind == "smooth":
        w0 = torch.zeros(S, N, dtype=DTYPE, device=X.device)
        w, conv, its, gnorm = _newton(code, X, y, w0, r, 0.0, tol, max_iter)
        kkt = torch.zeros(S, dtype=DTYPE, device=X.device)
        method = "Newton"
    else:
        w = torch.zeros(S, N, dtype=DTYPE, device=X.device)
        its = torch.zeros(S, dtype=torch.long, device=X.device)
        form = _hinge_form(code.expr) if r > 0 else None
        if form is not None:
            for k in range(1, 3):
                w, conv, i, gnorm = _newton(code, X, y, w, r, 10.0**-k, 1e-6, max_iter)
                its += i
            w, conv = _active_set(form, X, y, w, r, band=0.05)
            lam = (X @ w[..., None])[..., 0] / N**0.5
            gnorm = torch.zeros(S, dtype=DTYPE, device=X.device)
            kkt = torch.where(conv, 0.0, float("inf")).to(DTYPE)
            method = "exact active set (margin equations) from a softplus-smoothed Newton start"
            return _finish(code, X, y, w, r, conv, its, gnorm, kkt, method)
        for k in range(1, 9):
            eps = 10.0**-k
            w, conv, i, gnorm = _newton(code, X, y, w, r, eps, max(tol, 1e-7), max_iter)
            its += i
        kkt = _kkt(code, X, y, w, r, 10.0**-8, tau=1e-5)
        conv = conv & (kkt <= 1e-8)
        method = "Newton on softplus-smoothed kinks, eps -> 1e-8, KKT-certified"
    return _finish(code, X, y, w, r, conv, its, gnorm, kkt, method)


def _finish(code, X, y, w, r, conv, its, gnorm, kkt, method):
    lam = (X @ w[..., None])[..., 0] / X.shape[-1]**0.5
    obj = code.value(y, lam).sum(-1) + 0.5 * r * (w * w).sum(-1)
    return {"w_hat": w, "converged": conv, "iterations": its, "gradient": gnorm, "kkt": kkt,
            "objective": obj, "method": method, "ridge": r}


def _kkt(code, X, y, w, r, eps, tau):
    """Largest distance of the smoothed ℓ'(λ_μ) from [ℓ'(λ_μ − τ), ℓ'(λ_μ + τ)], per instance."""
    N = X.shape[-1]
    lam = (X @ w[..., None])[..., 0] / N**0.5
    g = code.d1(y, lam, torch.tensor(eps, dtype=DTYPE, device=X.device))
    lo = code.d1_true(y, lam - tau)
    hi = code.d1_true(y, lam + tau)
    lo, hi = torch.minimum(lo, hi), torch.maximum(lo, hi)
    return torch.maximum(lo - g, g - hi).clamp_min(0).amax(-1)
