"""Observables of a derived theory under their fixed names, as SymPy expressions of the order
parameters, generated from the channel's own output potential Z_out (so they are lowered to
code by the same machinery as the free entropy).

Bayes-optimal, finite labels (the posterior of a new pre-activation is N(ω, V), ω = √q ξ,
V = ρ − q, and by Nishimori the teacher's label has the same law given ω; Engel & Van den
Broeck 2001 ch. 2-3; Barbier, Krzakala, Macris, Miolane & Zdeborová, PNAS 2019):

* ``bayes_error`` = 1 − E_ξ max_y Z_out(y, √q ξ, ρ − q), the test error of the Bayes
  classifier ŷ(x) = argmax_y P(y | x, data) against the teacher's label;
* ``gibbs_error`` = 1 − E_ξ Σ_y Z_out(y, √q ξ, ρ − q)², the error of a posterior sample;
* ``generalization_error`` (against the teacher's noiseless label): for a channel whose
  noiseless label is sign(z) with P(y|z) = P(−y|−z) the Bayes classifier is sign(ω) and the
  error is arccos(√(q/ρ))/π — a documented shortcut the tests prove equal to ``bayes_error``
  (at flip 0, and ``bayes_error`` = ε + (1 − 2ε) arccos(√(q/ρ))/π with flips ε); for a
  deterministic channel (P(y|z) ∈ {0, 1}, e.g. the door) it is ``bayes_error``; for other
  noisy channels it is not reported (only ``bayes_error`` and ``gibbs_error``).

Real labels with additive noise, y = f*(z) + √Δ η (``generalization_error`` = E[(f*(z) − ŷ(x))²]):

* Bayes-optimal, ŷ the posterior mean E[f*(λ) | x, data]:
  E_z f*(z)² − E_ξ (E_u f*(√q ξ + √(ρ − q) u))²  (ρ − q for f* = z);
* ERM / Gibbs, ŷ the estimator's pre-activation λ̂ (Var λ̂ = Q, Cov(z, λ̂) = m):
  E_z f*(z)² − 2 (m/ρ) E_z z f*(z) + Q  (ρ − 2m + Q for f* = z).

Classification by ERM / Gibbs, the student predicting sign(λ̂): arccos(m/√(Qρ))/π for sign-rule
teachers; for another deterministic ±1 rule (the door) P(sign λ̂ ≠ y*(z)) as a Gaussian
expectation over z (``_sign_student_error``).  Also ``mse``,
``training_loss``, ``training_error``, ``entropy`` and the ``replicon`` as before.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from . import symbols as S
from .density_checks import GRID, numeric
from .codegen.lower import explicit
from .learning import Gibbs
from .symbolic.derive import Zout
from .symbolic.gauss import GaussE, gauss_expect

__all__ = ["observables", "label_rule"]

#: pre-activations z > 0 at which a channel's label rule is probed (``label_rule``; midpoints
#: of the positive half of the density checks' grid, tails to z = 1000, each also at −z): off
#: the round numbers where a rule's kinks (|z| = κ) usually sit, where P(y|z) is ½ by convention
_POSITIVE = GRID[GRID >= 0]
_PROBE_Z = (_POSITIVE[:-1] + _POSITIVE[1:]) / 2


def _probe_values(domains) -> list[dict]:
    """Two admissible values of each parameter of a channel (inside its domain, off its ends)."""
    pts = []
    for frac in (0.31, 0.67):
        pt = {}
        for s, d in domains.items():
            lo = d.lo if math.isfinite(d.lo) else min(-2.0, d.hi - 2.0)
            hi = d.hi if math.isfinite(d.hi) else max(2.0, lo + 2.0)
            pt[s] = lo + (hi - lo) * frac
        pts.append(pt)
    return pts


def label_rule(channel) -> str | None:
    """How a two-or-more-label channel's noiseless label depends on z:

    ``"sign"`` — labels (−1, 1), P(y|z) = P(−y|−z) and P(sign z | z) > P(−sign z | z) at every
    probed z (then the Bayes classifier is sign(ω));  ``"deterministic"`` — P(y|z) ∈ {0, 1} at
    every probed z;  None otherwise.  Probed at ±``_PROBE_Z`` (values that are not finite there
    are skipped) and two values of each parameter."""
    if channel.continuous or channel.random_labels:
        return None
    try:
        return _probe_rule(channel)
    except (TypeError, ValueError, NameError):   # a density that does not evaluate to numbers there
        return None


def _probe_rule(channel) -> str | None:
    outs = tuple(channel.outputs)
    sign_rule = tuple(sorted(outs)) == (-1, 1)
    deterministic = True
    for pt in _probe_values(channel.domains):
        f = numeric((S.y, S.z), channel.density.subs(pt))
        with np.errstate(all="ignore"):
            p = {(o, s): np.asarray(f(o, s * _PROBE_Z), dtype=float) * np.ones_like(_PROBE_Z)
                 for o in outs for s in (1, -1)}
        for v in p.values():
            ok = np.isfinite(v)
            deterministic &= bool(np.all(np.minimum(np.abs(v[ok]), np.abs(v[ok] - 1)) < 1e-12))
        if sign_rule:
            for s in (1, -1):
                mine, mirror, other = p[(s, s)], p[(-s, -s)], p[(-s, s)]
                ok = np.isfinite(mine) & np.isfinite(mirror) & np.isfinite(other)
                sign_rule &= bool(np.all(np.abs(mine[ok] - mirror[ok]) < 1e-12) and np.all(mine[ok] > other[ok]))
    if sign_rule:
        return "sign"
    return "deterministic" if deterministic else None


def _bayes_classification(d, obs):
    """``bayes_error``, ``gibbs_error`` and ``generalization_error`` from Z_out (module docstring)."""
    xi, rho = d.xi, d.rho
    Z = [Zout(sp.sympify(o), sp.sqrt(S.q) * xi, rho - S.q) for o in d.channel.outputs]
    obs["bayes_error"] = 1 - GaussE(sp.Max(*Z), xi)
    obs["gibbs_error"] = 1 - sp.Add(*[gauss_expect(z**2, xi) for z in Z])
    rule = label_rule(d.channel)
    if rule == "sign":
        obs["generalization_error"] = sp.acos(sp.sqrt(S.q / rho)) / sp.pi
    elif rule == "deterministic":
        obs["generalization_error"] = obs["bayes_error"]


def _regression_error(d, Qs):
    """E[(f*(z) − ŷ)²] for y = f*(z) + noise (module docstring), or None without a noise form."""
    noise = d.channel.noise_form()
    if noise is None:
        return None
    f, rho, u = noise[0], d.rho, sp.Dummy("u", real=True)
    second = gauss_expect(f.subs(S.z, sp.sqrt(rho) * u)**2, u)
    if f == S.z:
        return rho - S.q if d.bayes else Qs - 2 * S.m + rho
    if d.bayes:
        # E_u f*(ω + √V u) with slots known to be real / positive (so that it closes), then
        # ω = √q ξ, V = ρ - q
        om, V = sp.Dummy("omega", real=True), sp.Dummy("V", positive=True)
        mean = gauss_expect(f.subs(S.z, om + sp.sqrt(V) * u), u).xreplace({om: sp.sqrt(S.q) * d.xi, V: rho - S.q})
        return second - gauss_expect(sp.expand(mean**2), d.xi)
    cross = gauss_expect(sp.sqrt(rho) * u * f.subs(S.z, sp.sqrt(rho) * u), u)
    return second - 2 * S.m / rho * cross + Qs


def _sign_student_error(d, Qs):
    """P(sign λ̂ ≠ y*(z)) for an ERM / Gibbs student predicting sign(λ̂) of a deterministic ±1
    teacher rule y*(z) (the door): (z, λ̂) is Gaussian with Var z = ρ, Var λ̂ = Q, Cov = m, so
    given z = √ρ u, λ̂ ~ N(m u/√ρ, Q − m²/ρ) and

        ε = E_u Σ_y P(y | √ρ u) · ½ erfc(y (m u/√ρ) / √(2 (Q − m²/ρ)))

    (Engel & Van den Broeck 2001, ch. 2, for the sign teacher, where it is arccos(m/√(Qρ))/π)."""
    u = sp.Dummy("u", real=True)
    rho = d.rho
    mean, var = S.m * u / sp.sqrt(rho), Qs - S.m**2 / rho
    terms = [d.channel.density.subs({S.y: o, S.z: sp.sqrt(rho) * u}) * sp.erfc(o * mean / sp.sqrt(2 * var)) / 2
             for o in d.channel.outputs]
    return gauss_expect(sp.Add(*terms), u)


def observables(d) -> dict:
    """Observables under their fixed names (module docstring), as expressions of the order
    parameters, for the derivation ``d`` (:func:`replica.symbolic.derive.derive_model`)."""
    L = d.learning
    rho = d.rho
    obs = {}
    Qs = d.fixed.get(S.Q, S.Q)
    classification = d.channel.classification
    if d.storage:
        pass
    elif d.bayes:
        obs["mse"] = rho - S.q
        if classification:
            _bayes_classification(d, obs)
        else:
            obs["generalization_error"] = _regression_error(d, Qs)
    else:
        obs["mse"] = (S.q if not d.zero else Qs) - 2 * S.m + rho
        if classification:
            rule = label_rule(d.channel)
            if rule == "sign":
                obs["generalization_error"] = sp.acos(S.m / sp.sqrt(Qs * rho)) / sp.pi
            elif rule == "deterministic" and tuple(sorted(d.channel.outputs)) == (-1, 1):
                obs["generalization_error"] = _sign_student_error(d, Qs)
        else:
            obs["generalization_error"] = _regression_error(d, Qs)
    if d.zero and not d.storage:
        # on a training example: the estimator's pre-activation λ̂ (the prox) and its loss
        obs["training_loss"] = d.training_average(lambda lam_hat, loss_hat, yy: loss_hat)
        if classification:
            obs["training_error"] = d.training_average(lambda lam_hat, loss_hat, yy: sp.Heaviside(-yy * lam_hat))
        else:
            obs["training_error"] = d.training_average(lambda lam_hat, loss_hat, yy: (yy - lam_hat)**2)
    if not d.bayes and not d.zero:
        ent = d.free_entropy
        if isinstance(L, Gibbs) and L.temperature != 0:
            # energy per weight e = -∂Φ/∂β = T² ∂Φ/∂T at fixed order parameters; s = Φ + β e
            T = d.temperature
            phi = explicit(d.free_entropy, d.potentials)
            energy = T**2 * sp.diff(phi, T)
            obs["training_error"] = energy / S.alpha
            ent = phi + energy / T
        obs["entropy"] = ent + d.sprior.shannon_entropy()
    if getattr(d, "replicon", None) is not None:
        # α E[(∂²_ω log Z_out)²] E[(∂²_b log Z_w)²]: RS locally stable below 1 (de Almeida &
        # Thouless 1978; Gardner & Derrida 1988 for perceptrons)
        obs["replicon"] = d.replicon
    return {k: sp.sympify(v).subs(d.fixed) for k, v in obs.items() if v is not None}
