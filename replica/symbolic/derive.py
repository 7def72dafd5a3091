"""The replica-symmetric derivation, done by SymPy from the components.

Notation (Engel & Van den Broeck 2001; Zdeborová & Krzakala 2016): teacher w* ~ P₀,
labels y ~ P*(y|z), z = w*·x/√N; a student measure ∝ P_s(w) Π_μ φ(y_μ, λ_μ).  Order
parameters Q = w_a·w_a/N, q = w_a·w_b/N, m = w_a·w*/N; conjugates Q̂, q̂, m̂; ρ = E w*².

1. **Replicated free entropy under the RS ansatz.**  Introducing the overlaps by δ-functions
   and decoupling the sites (Hubbard–Stratonovich on the q̂ term),
       G(n) = n(½QQ̂ - m m̂) - ½ n(n-1) q q̂
              + log E_{w*,ξ}[Z_w(m̂ w* + √q̂ ξ, Q̂ + q̂)^n]
              + α log Σ_y E_ξ[Z*(y, mξ/√q, ρ - m²/q) Z_out(y, √q ξ, Q - q)^n].
2. **n → 0.**  Each E[X^n] is expanded as a series in n (``sympy.series``), averaged term by
   term, and Φ = lim_{n→0} G(n)/n is taken by ``sympy.limit``.
3. **Specializations.**  Bayes-optimal: the Nishimori line Q = ρ, Q̂ = 0, m = q, m̂ = q̂,
   Z_out = Z*.  Storage (labels independent of inputs): no teacher, m = m̂ = 0.  Fixed
   norm (spherical weights): Q = 1 and Q̂ eliminated by solving its stationarity condition.
4. **Saddle-point equations** by differentiation, with the heat identities of the potentials
   and Gaussian integration by parts, solved for each order parameter from its conjugate's
   condition (overlaps from the prior side, conjugates from the output side).
5. **Zero temperature** (ERM, Gibbs at T = 0 with a continuous loss, and the q → 1 limit of a
   hard constraint that gives capacities): scalings Q̂ + q̂ = β χ̂, q̂ → β² q̂, m̂ → β m̂,
   Q - q = χ/β; the coupling's limit by ``sympy.limit``, Laplace's method on both potentials
   (the prior's support maximum, the loss's Moreau envelope).
"""
from __future__ import annotations

import sympy as sp

from .. import symbols as S
from ..learning import ERM, BayesOptimal, Gibbs, Volume
from ..params import NONNEGATIVE, Domain
from .gauss import GaussE, H, gauss_expect, reclose, stein
from .lines import LineIntegral, reclose_lines
from .moreau import moreau, nonconvexity, projection_envelope
from .potentials import potential
from .printing import Math, Phrase, sym
from .spectral import SpectralMean

__all__ = ["derive_model", "DerivationError", "LabelIntegral"]


class DerivationError(ValueError):
    """The model is outside what the derivation handles (with the reason)."""


class LabelIntegral(sp.Function):
    """∫ dy f(y) over a continuous label (unevaluated; closed form or quadrature at lowering)."""

    nargs = 2

    @property
    def free_symbols(self):
        f, yy = self.args
        return f.free_symbols - {yy}

    def _eval_derivative(self, s):
        f, yy = self.args
        return LabelIntegral(sp.diff(f, s), yy)

    def _latex(self, printer):
        f, yy = self.args
        return r"\int d%s\, %s" % (printer._print(yy), printer._print(f))


# potentials (families); args (y, ω, V) or (b, A)
Zw = potential("Zw", r"Z_w", "prior")
Zout = potential("Zout", r"Z_{\rm out}", "out")
Zstar = potential("Zstar", r"Z^{*}_{\rm out}", "out")


def _label_sum(f, channel):
    """Σ_y f(y) over a finite label set, ∫ dy f(y) over real labels."""
    if channel.continuous:
        return LabelIntegral(f, S.y)
    return sp.Add(*[f.subs(S.y, o) for o in channel.outputs])


def _n_zero_limit(coupling_n, log_moments):
    """Φ = lim_{n→0} G(n)/n,  G(n) = coupling(n) + Σ_k c_k log E_k[X_k^n].

    ``log_moments``: list of (c_k, X_k, average_k) where average_k maps an integrand to its
    expectation.  E[X^n] is replaced by its series in n averaged term by term (E[1] = 1)."""
    n = S.n
    G = coupling_n
    opaque = {}
    for k, (c, X, average) in enumerate(log_moments):
        Xs = sp.Symbol(f"X{k}", positive=True)
        series = sp.series(Xs**n, n, 0, 2).removeO()          # 1 + n log X
        averaged = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(series)):
            coeff, rest = term.as_independent(Xs, as_Add=False)
            if rest == 1:
                averaged += coeff
            else:
                tag = sp.Symbol(f"E{k}_{len(opaque)}")
                opaque[tag] = average(rest.subs(Xs, X))
                averaged += coeff * tag
        G += c * sp.log(averaged)
    phi = sp.limit(sp.expand(G / n), n, 0)
    return phi.xreplace(opaque), G


class Derivation:
    """Collects what the Theory shows and compiles.

    Public interface (what :mod:`replica.theory` and :mod:`replica.observables` read):
    ``model``, ``prior``, ``sprior`` (the student's prior), ``channel``, ``learning``; the kind
    flags ``bayes``, ``storage`` and, after the derivation, ``zero`` (zero temperature);
    ``rho`` = E w*²; ``xi`` (the standard Gaussian variable of the ξ-averages); after the
    derivation ``free_entropy``, ``equations``, ``pairs``, ``fixed``, ``potentials``,
    ``limits``, ``replicon`` (or None) and ``temperature`` (the stand-in of a Gibbs T, or
    None); :meth:`restore`, and at zero temperature :meth:`training_average`.
    """

    temperature = None   # the positive stand-in for a Gibbs temperature, if any

    def restore(self, expr):
        """Put the model's own temperature (a symbol or a number) back in place of the stand-in."""
        if self.temperature is None:
            return expr
        T = self.learning.temperature
        if isinstance(expr, dict):
            return {k: self.restore(v) for k, v in expr.items()}
        if isinstance(expr, tuple):
            return tuple(self.restore(v) for v in expr)
        return sp.sympify(expr).xreplace({self.temperature: T})

    def __init__(self, model):
        self.model = model
        self.prior = model.prior
        self.sprior = model.student_prior or model.prior
        self.channel = model.teacher
        self.learning = model.learning
        self.storage = self.channel.random_labels
        self.bayes = isinstance(self.learning, BayesOptimal)
        self.rho = self.prior.second_moment()
        if model.features is not None:           # E λ*² with teacher covariance Ψ: ρ tr Ψ/D
            self.rho = self.rho * model.features.teacher_power
        self.limits: list[str] = []
        self.potentials: dict = {}
        self.xi = sp.Dummy("xi", real=True)
        self.wstar = sp.Dummy("w_star", real=True)

    # -- student output factor φ(y, λ) ----------------------------------------------
    def output_factor(self):
        L = self.learning
        lam = S.lam
        if self.bayes:
            return self.channel.density.subs(S.z, lam)
        if isinstance(L, Volume):
            return L.indicator
        if isinstance(L, Gibbs):
            g = L.loss.indicator()
            if L.temperature == 0:
                if g is None:
                    raise DerivationError("Gibbs at T = 0 with a continuous loss: use ERM(loss, ridge=0)")
                self.limits.append(Phrase.of("Gibbs learning at ", Math("T = 0", "T = 0"), ": ",
                                              Math(r"e^{-\ell/T} \to \Theta(-g)", "exp(-loss/T) -> Heaviside(-g)"),
                                              " (ground states, the version space)"))
                return sp.Heaviside(-g)
            # a positive stand-in for T during the derivation (T = 0 is a separate limit), so that
            # Gaussian exponents -ℓ/T are known to be negative; put back by ``restore``
            self.temperature = sp.Dummy("T", positive=True)
            return sp.exp(-L.loss.expr / self.temperature)
        raise DerivationError(f"no finite-temperature output factor for {L!r}")

    def hard_constraint(self):
        """The feasible-set indicator of a Volume problem or a zero-temperature count of errors, else None."""
        L = self.learning
        if isinstance(L, Volume):
            return L.indicator
        if isinstance(L, Gibbs) and L.loss.indicator() is not None:
            return sp.Heaviside(-L.loss.indicator())
        return None

    # -- potentials -------------------------------------------------------------------
    def output_potential(self, density, var):
        """E_u density(y, ω + √V u): per label for finite outputs (so signs of y are known)."""
        u = sp.Dummy("u", real=True)
        if self.channel.continuous:
            return _tidy(gauss_expect(density.subs(var, S.omega + sp.sqrt(S.V) * u), u))
        return {o: _tidy(gauss_expect(density.subs({S.y: o, var: S.omega + sp.sqrt(S.V) * u}), u))
                for o in self.channel.outputs}

    def define_output_potentials(self, phi):
        self.potentials["Zout"] = ((S.y, S.omega, S.V), self.output_potential(phi, S.lam))
        if not self.storage:
            self.define_teacher_potential()

    def define_prior_potential(self):
        self.potentials["Zw"] = ((S.b, S.A), _tidy(self.sprior.partition(S.b, S.A)))

    def teacher_average(self, f):
        """E_{w*~P₀} f(w*); symmetric pairs of atoms are merged when f(-w*, -ξ) = f(w*, ξ)."""
        P0 = self.prior
        if P0.density == 0 and len(P0.atoms) == 2:
            (a1, p1), (a2, p2) = P0.atoms
            if a1 == -a2 and p1 == p2:
                f1 = f.subs(self.wstar, a1)
                f2 = f.subs(self.wstar, a2).xreplace({self.xi: -self.xi})
                if sp.simplify(f1 - f2) == 0:
                    return f1
        return P0.integrate(f.subs(self.wstar, S.w))

    # -- finite temperature ---------------------------------------------------------------
    def finite_temperature(self):
        phi = self.output_factor()
        self.define_output_potentials(phi)
        self.define_prior_potential()
        xi = self.xi
        Qv, qv, mv = S.Q, S.q, S.m
        Qh, qh, mh = S.Q_hat, S.q_hat, S.m_hat
        teacher = not self.storage
        bfield = (mh * self.wstar if teacher else 0) + sp.sqrt(qh) * xi
        afield = Qh + qh
        omega, Vv = sp.sqrt(qv) * xi, Qv - qv
        n = S.n
        coupling = n * (Qv * Qh / 2 - (mv * mh if teacher else 0)) - n * (n - 1) / 2 * qv * qh

        def prior_avg(f):
            inner = gauss_expect(f, xi)
            return self.teacher_average(inner) if teacher else inner

        if teacher:
            ostar, vstar = mv * xi / sp.sqrt(qv), self.rho - mv**2 / qv

            def out_avg(f):
                return _label_sum(gauss_expect(Zstar(S.y, ostar, vstar) * f, xi), self.channel)
        else:
            def out_avg(f):
                return _label_sum(gauss_expect(self.channel.density * f, xi), self.channel)

        phi_rs, G = _n_zero_limit(coupling, [
            (1, Zw(bfield, afield), prior_avg),
            (S.alpha, Zout(S.y, omega, Vv), out_avg),
        ])
        self.replicated = G
        # replicon (de Almeida–Thouless) eigenvalue of the RS saddle point: the product of the
        # output and prior susceptibilities; RS is locally stable where it is below 1
        d2out = sp.diff(sp.log(Zout(S.y, S.omega, S.V)), S.omega, 2).subs({S.omega: omega, S.V: Vv})
        d2w = sp.diff(sp.log(Zw(S.b, S.A)), S.b, 2).subs({S.b: bfield, S.A: afield})
        # squares multiplied out: every term a monomial in the potentials, whose denominators
        # the code generator merges in log space (a square kept whole gets a density factor
        # pulled out of it, exp(log H) · (...)² · exp(-2 log H): 0 · inf where H underflows);
        # the terms' cancellation is mild once the potentials' exponents are factored (_tidy)
        replicon = S.alpha * out_avg(sp.expand(d2out**2)) * prior_avg(sp.expand(d2w**2))
        self.limits.append(Phrase.of(Math(r"n \to 0", "n -> 0"), ": ",
                                     Math(r"\Phi = \lim_{n\to 0} G(n)/n", "Phi = lim_{n->0} G(n)/n"), ", each ",
                                     Math(r"\mathbb{E}[X^n]", "E[X**n]"), " expanded in ", sym("n")))
        pairs = [(qv, qh)]
        if teacher:
            pairs.append((mv, mh))
        fixed = {}
        if self.bayes:
            sub = {Qv: self.rho, Qh: 0, mv: qv, mh: qh}
            phi_rs = phi_rs.subs(sub)
            phi_rs = phi_rs.replace(lambda e: isinstance(e, Zstar), lambda e: Zout(*e.args))
            replicon = replicon.subs(sub).replace(lambda e: isinstance(e, Zstar), lambda e: Zout(*e.args))
            self.potentials.pop("Zstar", None)
            pairs = [(qv, qh)]
            self.limits.append(Phrase.of("Bayes-optimal (Nishimori): ", sp.Eq(S.Q, sp.Symbol("rho"), evaluate=False), ", ",
                                         sp.Eq(S.Q_hat, 0, evaluate=False), ", ", sp.Eq(S.m, S.q, evaluate=False), ", ",
                                         sp.Eq(S.m_hat, S.q_hat, evaluate=False), ", ",
                                         Math(r"Z^*_{\rm out} = Z_{\rm out}", "Zstar = Zout")))
        elif self.sprior.fixed_norm is not None:
            fixed[Qv] = self.sprior.fixed_norm
            phi_rs = phi_rs.subs(Qv, self.sprior.fixed_norm)
            replicon = replicon.subs(Qv, self.sprior.fixed_norm)
            if phi_rs.has(Qh):
                phi_rs = self.eliminate(phi_rs, Qh, self.sprior.fixed_norm)
            replicon = replicon.subs(self.eliminated)
        else:
            pairs.insert(0, (Qv, Qh))
        self.replicon = replicon
        if self.storage:
            self.limits.append(Phrase.of("storage: labels independent of the inputs, no teacher (",
                                         Math(r"m = \hat{m} = 0", "m = m_hat = 0"), ")"))
        self.finish(phi_rs, pairs, fixed)
        return self

    def eliminate(self, phi, hat, norm):
        """Fixed norm Q = norm: solve ∂Φ/∂Q̂ = 0 for Q̂ (closed form of the prior potential needed)."""
        from .potentials import substitute_potentials
        rest, dep = sp.expand(phi, deep=False).as_independent(hat, as_Add=True)
        defs = {k: v for k, v in self.potentials.items() if k == "Zw"}
        explicit = sp.expand_log(substitute_potentials(dep, defs), force=True)
        explicit = reclose_lines(reclose(explicit, expand=True), expand=True)
        # w² constant on the support: Z_w(b, A) = e^{-A norm/2} Z_w(b, 0), so b-derivatives of
        # log Z_w (the replicon's) do not see the conjugate either
        self.eliminated = {hat: 0}
        if not explicit.has(hat):   # the norm is implied by the prior (±1 weights): nothing to solve
            self.limits.append(Phrase.of(sp.Eq(S.Q, norm, evaluate=False), " on the support of the prior: ",
                                         sym(hat.name), " drops out"))
            return rest + explicit
        cond = sp.together(sp.diff(explicit, hat))
        sols = sp.solve(sp.numer(cond), hat)
        good = []
        for s in sols:
            test = {S.q_hat: sp.Rational(7, 10), S.m_hat: sp.Rational(3, 10), S.chi_hat: 1}
            val = complex(s.subs(test).evalf())
            prec = complex((s + S.q_hat).subs(test).evalf()) if hat == S.Q_hat else val
            if abs(val.imag) < 1e-12 and prec.real > 0:
                good.append(s)
        if len(good) != 1:
            raise DerivationError(f"cannot eliminate {hat} for the fixed norm Q = {norm}: roots {sols}")
        self.eliminated = {hat: good[0]}
        self.limits.append(Phrase.of("spherical constraint ", sp.Eq(S.Q, norm, evaluate=False), ": ",
                                     sym(hat.name), " eliminated by its stationarity condition"))
        return rest + sp.simplify(explicit.subs(hat, good[0]))

    # -- zero temperature ----------------------------------------------------------------
    def zero_temperature(self, constraint=None):
        """ERM / ground states (``constraint`` None: the loss's Moreau envelope) or the q → 1
        limit of a hard constraint (``constraint`` = its indicator; χ is then a scale, set to 1)."""
        L = self.learning
        xi, beta = self.xi, S.beta
        Qv, mv, chiv = S.Q, S.m, S.chi
        qh, mh, ch = S.q_hat, S.m_hat, S.chi_hat
        teacher = not self.storage
        # coupling at finite β with the zero-temperature scalings, then its β → ∞ limit
        coupling = (Qv * (beta * ch - beta**2 * qh) / 2 - (mv * beta * mh if teacher else 0)
                    + (Qv - chiv / beta) * beta**2 * qh / 2)
        lead = sp.limit(sp.expand(coupling / beta), beta, sp.oo)
        ridge = L.ridge if isinstance(L, ERM) else 0
        bfield = (mh * self.wstar if teacher else 0) + sp.sqrt(qh) * xi
        prior_pot = self.sprior.laplace(S.b, S.A + ridge)
        self.potentials["Zw0"] = ((S.b, S.A), prior_pot)
        features = self.model.features
        if features is None:
            prior_term = gauss_expect(prior_pot.subs({S.b: bfield, S.A: ch}), xi)
        else:
            # one Gaussian channel per eigen-direction of the student covariance (precision ω_i,
            # teacher weight τ_i²), averaged over their joint spectrum (Loureiro et al. 2021)
            bdir = (mh * sp.sqrt(S.tau2) * self.wstar if teacher else 0) + sp.sqrt(qh * S.eig) * xi
            prior_term = gauss_expect(prior_pot.subs({S.b: bdir, S.A: ch * S.eig}), xi)
        if teacher:
            prior_term = self.teacher_average(prior_term)
        if features is not None:
            prior_term = SpectralMean.of(features)(sp.expand(prior_term))
            self.limits.append("features: the prior term averaged over the joint spectrum of the student "
                               "covariance and the teacher's weights on its eigen-directions")
        # output: Moreau envelope of the loss (or the distance to the feasible set)
        x = sp.Dummy("x", real=True)
        if constraint is not None:
            env = lambda yv: projection_envelope(constraint.subs({S.y: yv, S.lam: x}), x, yv, S.omega, S.chi)  # noqa: E731
        else:
            self.check_convex(L.loss)
            def env(yv):
                try:
                    return moreau(L.loss.expr.subs({S.y: yv, S.lam: x}), x, yv, S.omega, S.chi)
                except NotImplementedError as e:
                    raise DerivationError(f"cannot lower the proximal map of the loss {L.loss.expr}: {e}") from None
        if self.channel.continuous:
            Mfun, prox = env(S.y)
            Ms, proxs = {None: Mfun}, {None: prox}
        else:
            Ms, proxs = {}, {}
            for o in self.channel.outputs:
                Ms[o], proxs[o] = env(sp.sympify(o))
        self._envelopes, self._proxes = Ms, proxs
        omega = sp.sqrt(Qv) * xi

        def out_avg(fn):
            if teacher:
                ostar, vstar = mv * xi / sp.sqrt(Qv), self.rho - mv**2 / Qv
                self.define_teacher_potential()
                w_y = lambda yy: Zstar(yy, ostar, vstar)  # noqa: E731
            else:
                w_y = lambda yy: self.channel.density.subs(S.y, yy)  # noqa: E731
            if self.channel.continuous:
                return LabelIntegral(gauss_expect(w_y(S.y) * fn(None, S.y), xi), S.y)
            return sp.Add(*[gauss_expect(w_y(o) * fn(o, o), xi) for o in self.channel.outputs])

        energy = out_avg(lambda key, yy: Ms[key].subs({S.omega: omega, S.y: yy}))
        # α = P/D with features: P/N = α/ψ samples per student weight
        samples = S.alpha if features is None else S.alpha / features.ratio
        phi0 = lead + prior_term - samples * energy
        self._out_avg = out_avg
        self.limits.append(Phrase.of(
            "zero temperature: ", sp.Eq(S.Q_hat + S.q_hat, S.beta * S.chi_hat, evaluate=False), ", ",
            Math(r"\hat{q} \to \beta^2 \hat{q}", "q_hat -> beta**2*q_hat"), ", ",
            Math(r"\hat{m} \to \beta \hat{m}", "m_hat -> beta*m_hat"), ", ",
            sp.Eq(S.Q - S.q, S.chi / S.beta, evaluate=False), ", ", Math(r"\Phi/\beta", "Phi/beta"), " as ",
            Math(r"\beta \to \infty", "beta -> oo"), " (Laplace: prior maximum, loss Moreau envelope)"))
        pairs = [(chiv, qh)]
        if teacher:
            pairs.append((mv, mh))
        fixed = {}
        if self.sprior.fixed_norm is not None:
            fixed[Qv] = self.sprior.fixed_norm
            phi0 = phi0.subs(Qv, self.sprior.fixed_norm)
            if phi0.has(ch):
                phi0 = self.eliminate(phi0, ch, self.sprior.fixed_norm)
        else:
            pairs.insert(0, (Qv, ch))
        scale = {}
        if constraint is not None:
            scale[chiv] = sp.S.One
            self.limits.append(Phrase.of(Math(r"q \to 1", "q -> 1"), " limit of the hard constraint: ",
                                         Math(r"\Phi \simeq \Phi_0/(1-q)", "Phi ~ Phi_0/(1 - q)"), ", scale ",
                                         Math(r"\chi = 1", "chi = 1"), "; the capacity is where ",
                                         Math(r"\Phi_0 = 0", "Phi_0 = 0")))
        self.finish(phi0, pairs, fixed, zero=True, scale=scale)
        return self

    def training_average(self, f):
        """E over a training example of ``f(lam_hat, loss_hat, y)`` at zero temperature (ERM).

        The estimator's pre-activation on a training example with label y is the proximal map
        λ̂ = prox_{χℓ(y,·)}(ω) at ω = √Q ξ, and the loss there ℓ̂ = ℓ(y, λ̂) = M(y, ω, χ) −
        (λ̂ − ω)²/(2χ) with M the Moreau envelope (the envelope's own branches: no Piecewise loss
        evaluated at a Piecewise prox); y is drawn from the teacher given the student's field,
        Z*_out(y, m ξ/√Q, ρ − m²/Q) (the random labels' density for storage), summed over finite
        labels or ∫dy over real ones, then averaged over ξ (Aubin, Krzakala, Lu & Zdeborová,
        NeurIPS 2020, eqs. for the training loss and error)."""
        if not getattr(self, "zero", False) or not hasattr(self, "_out_avg"):
            raise ValueError("training_average is defined for a zero-temperature (ERM) derivation only")
        omega = sp.sqrt(S.Q) * self.xi

        def at(key, yy):
            lam_hat = self._proxes[key]
            loss_hat = self._envelopes[key] - (lam_hat - S.omega)**2 / (2 * S.chi)
            return f(lam_hat, loss_hat, S.y).subs({S.omega: omega, S.y: yy})
        return self._out_avg(at)

    def check_convex(self, loss):
        """Refuse a loss that is not convex in λ: the zero-temperature theory assumes it."""
        labels = [-2.3, -1.0, 0.0, 0.7, 1.0, 2.9] if self.channel.continuous else list(self.channel.outputs)
        bad = nonconvexity(loss.expr, S.lam, S.y, labels, loss.domains)
        if bad is not None:
            where = ", ".join(f"{k} = {v:g}" for k, v in bad.items())
            raise DerivationError(f"the loss {loss.expr} is not convex in lam (at {where}): "
                                  "zero-temperature learning (ERM) needs a convex loss")

    def define_teacher_potential(self):
        if "Zstar" not in self.potentials:
            self.potentials["Zstar"] = ((S.y, S.omega, S.V), self.output_potential(self.channel.density, S.z))

    # -- equations -----------------------------------------------------------------------
    def finish(self, phi, pairs, fixed, zero=False, scale=None):
        """Stationarity conditions in fixed-point form: each overlap from its conjugate's
        condition (prior side), each conjugate from its overlap's condition (output side).

        ``scale``: overlaps held at a value (χ = 1 in the q → 1 limit); their conjugates'
        equations are kept, their own are not."""
        scale = scale or {}
        eqs = []
        for ov, hat in pairs:
            if ov in scale:
                continue
            # ∂Φ/∂hat = 0 is affine in the overlap (the coupling is bilinear)
            cond = stein(sp.diff(phi, hat))
            eqs.append(sp.Eq(ov, _solve_affine(cond, ov)))
        for ov, hat in pairs:
            cond = stein(sp.diff(phi, ov))
            eqs.append(sp.Eq(hat, _solve_affine(cond, hat)))
        self.free_entropy = phi.subs(scale)
        self.equations = [sp.Eq(e.lhs, e.rhs.subs(scale)) for e in eqs]
        self.fixed = {**fixed, **scale}
        self.zero = zero
        self.pairs = pairs


def _solve_affine(cond, var):
    """var from  a·var + c = 0  where a does not depend on var."""
    cond = sp.expand(cond, deep=False)
    a = sp.diff(cond, var)
    if a.has(var) or a == 0:
        raise DerivationError(f"stationarity condition not affine in {var}: {cond}")
    c = cond.subs(var, 0)
    return sp.simplify(-c / a) if not c.has(GaussE, LabelIntegral, LineIntegral) else -c / a


def _tidy(e):
    """Light simplification of a closed-form potential (never of quadrature nodes)."""
    if e.has(GaussE):
        return e
    try:
        e = sp.simplify(sp.powsimp(e, combine="exp"))
        # exponents factored: (V(ω-y)² - (V+Δ)(ω-y)²)/(2Δ(V+Δ)) is -(ω-y)²/(2(V+Δ)), without
        # the 1/Δ whose cancellation loses every digit at Δ -> 0
        return e.replace(lambda a: isinstance(a, sp.exp), lambda a: sp.exp(sp.factor(a.args[0])))
    except Exception:  # pragma: no cover - simplification is cosmetic
        return e


def derive_model(model):
    """Run the derivation for ``model``; returns the finished :class:`Derivation` (and the
    q → 1 capacity derivation of storage problems with a hard constraint)."""
    L = model.learning
    d = Derivation(model)
    if model.hidden_units != 1:
        raise DerivationError("committee machines (hidden_units > 1) are not derived yet")
    if model.features is not None and not isinstance(L, ERM):
        raise DerivationError("features (random features, Gaussian covariates) are derived for ERM learning only")
    if isinstance(L, ERM) or (isinstance(L, Gibbs) and L.temperature == 0 and L.loss.indicator() is None):
        d.zero_temperature()      # ground states of a continuous loss: ERM without ridge
        return d, None
    if d.bayes and d.storage:
        raise DerivationError("Bayes-optimal learning needs a teacher channel, not random labels")
    d.finite_temperature()
    cap = None
    if d.storage and d.hard_constraint() is not None:
        cap = Derivation(model)
        cap.zero_temperature(constraint=d.hard_constraint())
    return d, cap
