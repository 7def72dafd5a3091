"""The replicated committee machine and its n → 0 limit, derived with K × K order parameters.

``derive_committee`` starts from the replica-symmetric free entropy of Aubin, Maillard,
Barbier, Krzakala, Macris & Zdeborová (NeurIPS 2018, arXiv:1806.05451, eqs. 3–5) on the
Nishimori line.  This module derives that statement the way the perceptron engine
(:mod:`replica.symbolic.derive`) derives its own: it builds the replicated free entropy G(n)
under the replica-symmetric ansatz, with every order parameter a K × K matrix of the
permutation-symmetric form d I_K + (a/K) J_K (:class:`PermSym`, K a symbol), takes
Φ = lim_{n→0} G(n)/n with ``sympy.series`` and ``sympy.limit`` (the engine's
``_n_zero_limit``), and then imposes the Nishimori identities.

**The replicated system.**  Teacher W⁰ ∈ R^{N×K} (replica a = 0) and n students W^a, rows
w^a ∈ R^K drawn from P₀^{⊗K} (the Model's prior, independently per unit); fields
λ^a = W^aᵀx/√N ∈ R^K; E Z^n = E ∫ Π_a dP(W^a) Π_μ ∫dy P*(y|λ⁰_μ) Π_{a≥1} φ(y|λ^a_μ).  The
overlaps Q^{ab} = W^aᵀW^b/N (K × K, a, b = 0..n) are introduced by δ-functions with
conjugates Q̂^{ab}; the replica-symmetric ansatz is

    Q^{00} = ρ = ρ₀ I_K,  Q^{aa} = Q,  Q^{ab} = q (a ≠ b ≥ 1),  Q^{0a} = m,
    Q̂^{aa} = Q̂,  Q̂^{ab} = q̂,  Q̂^{0a} = m̂,

each of them d I_K + (a/K) J_K.  With the convention of the perceptron engine (which it is at
K = 1), G(n) = coupling + prior + α output:

1. **coupling** (the δ-functions' exponents)
       Σ_{a=1}^n ½ Tr(Q̂^{aa}Q^{aa}) − Σ_{0≤a<b≤n} Tr(Q̂^{ab}Q^{ab})
     = n(½ Tr Q̂Q − Tr m̂m) − ½ n(n−1) Tr q̂q,
   the numbers of pairs of each kind counted by ``sympy.summation`` and the traces by the
   algebra of I and J (Tr XY = K x_d y_d + x_d y_a + x_a y_d + x_a y_a);
2. **prior** (entropic) term: log E_{w⁰..wⁿ} exp(−½ Σ_a w^aᵀQ̂w^a + Σ_a w⁰ᵀm̂w^a
   + Σ_{a<b} w^aᵀq̂w^b).
   *Gaussian weights* P₀ = N(0, ρ₀): a Gaussian integral over the (n+1)K-dimensional
   replicated weight, −½ log det(I + ρ₀M) with M the block matrix of the exponent
   (M^{00} = 0, M^{0a} = −m̂, M^{aa} = Q̂, M^{ab} = −q̂).  The teacher block is I_K; its
   Schur complement leaves I_n ⊗ A + J_n ⊗ B with A = I_K + ρ₀(Q̂ + q̂), B = −ρ₀q̂ − ρ₀²m̂ᵀm̂,
   whose simultaneous eigen-decomposition (replica space: A_k, n − 1 times, and A_k + nB_k;
   unit space: the eigenvalues d, K − 1 times, and d + a) gives
       log det = (n − 1)[(K−1) log A_⊥ + log A_∥] + (K−1) log(A_⊥ + nB_⊥) + log(A_∥ + nB_∥).
   *Any prior*: Σ_{a<b} w^aᵀq̂w^b = ½(Σw^a)ᵀq̂(Σw^a) − ½Σ w^aᵀq̂w^a and a Hubbard–Stratonovich
   field ξ ~ N(0, I_K) decouple the replicas:  log E_{w⁰,ξ} Z_w(m̂ᵀw⁰ + q̂^{1/2}ξ, Q̂ + q̂)^n,
   Z_w(b, A) = E_{w ~ P₀^{⊗K}} exp(bᵀw − ½wᵀAw) kept abstract (as the engine keeps its Z_w);
3. **output** (energetic) term: the fields (λ⁰, …, λⁿ) are Gaussian with the covariance of
   the overlaps; λ^a = q^{1/2}ξ + (Q − q)^{1/2}u^a and λ⁰ = m q^{−1/2}ξ + (ρ − m q^{−1}m)^{1/2}u⁰
   (ξ, u^a ~ N(0, I_K) independent) reproduce it, so
       log E_ξ ∫dy Z*(y; m q^{−1/2}ξ, ρ − m q^{−1}m) Z_out(y; q^{1/2}ξ, Q − q)^n,
   Z_out(y; ω, V) = E_u φ(y | ω + V^{1/2}u), Z* the same of P*; K-dimensional ω, K × K V.

**n → 0.**  Each E[X^n] is replaced by its series in n averaged term by term, and
Φ = lim_{n→0} G(n)/n by ``sympy.limit`` — for the log-determinant with symbolic K and symbolic
eigenvalues:

    Φ_RS = ½ Tr Q̂Q − Tr m̂m + ½ Tr q̂q + Φ_prior + α E_ξ ∫dy Z* log Z_out,
    Φ_prior = −½ Σ_k μ_k [log A_k + B_k/A_k]   (Gaussian; μ_⊥ = K − 1, μ_∥ = 1)
            = E_{w⁰,ξ} log Z_w(m̂ᵀw⁰ + q̂^{1/2}ξ, Q̂ + q̂)   (any prior),

the matrix version of the perceptron's RS free entropy (and equal to it at K = 1).  For a
rotation-invariant prior the abstract form is also a sum over the eigen-directions of the
K = 1 potential (:func:`prior_by_eigendirections`), which the tests check equals the
log-determinant.

**Nishimori line** (Bayes-optimal: Q = ρ, Q̂ = 0, m = q, m̂ = q̂, Z* = Z_out): the coupling
becomes −½ Tr q̂q, the output term α Ψ_out(q), Ψ_out(q) = E_ξ ∫dy Z_out log Z_out
(y; q^{1/2}ξ, ρ − q), and the prior term ψ_P₀(q̂) = E log Z_w(q̂w⁰ + q̂^{1/2}ξ, q̂) — for
Gaussian weights Σ_k μ_k [ρ₀ q̂_k/2 − ½ log(1 + ρ₀ q̂_k)]: exactly ``derive_committee``'s
Φ = ψ_P₀(r̂) + α Ψ_out(q) − ½ Tr(r̂ q) with r̂ = q̂ (:meth:`RSFreeEntropy.nishimori`).

Public API: :func:`replicated_committee` (G(n) and its parts), :func:`rs_free_entropy`
(the limit, :class:`RSFreeEntropy`), :meth:`RSFreeEntropy.nishimori`
(:class:`NishimoriFreeEntropy`), :func:`prior_by_eigendirections`; the abstract nodes
:class:`ZoutK`, :class:`ZstarK`, :class:`ZwK`, :class:`VectorE`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .. import symbols as S
from ..symbolic.derive import DerivationError, LabelIntegral, _n_zero_limit
from ..symbolic.gauss import gauss_expect
from ..symbolic.printing import Phrase
from .ansatz import K_SYMBOL, PermSym
from .derive import Q_A, Q_D, QH_A, QH_D, _rotation_invariant

__all__ = ["replicated_committee", "rs_free_entropy", "ReplicatedCommittee", "RSFreeEntropy",
           "NishimoriFreeEntropy", "prior_by_eigendirections", "ZoutK", "ZstarK", "ZwK", "VectorE",
           "ORDER_PARAMETERS", "PSI_OUT", "PSI_P0"]

#: the number of replicas (the engine's symbol)
N = S.n

# -- order parameters: each a K × K matrix d I_K + (a/K) J_K -----------------------------------
QS_D, QS_A = sp.Symbol("Q_d", real=True), sp.Symbol("Q_a", real=True)            # Q = Q^{aa}
M_D, M_A = sp.Symbol("m_d", real=True), sp.Symbol("m_a", real=True)              # m = Q^{0a}
QSH_D, QSH_A = sp.Symbol("Q_hat_d", real=True), sp.Symbol("Q_hat_a", real=True)  # Q̂
MH_D, MH_A = sp.Symbol("m_hat_d", real=True), sp.Symbol("m_hat_a", real=True)    # m̂

#: name -> (d, a) symbols of the replica-symmetric order parameters (q, q̂ are
#: ``derive_committee``'s q_d, q_a, q_hat_d, q_hat_a)
ORDER_PARAMETERS = {"Q": (QS_D, QS_A), "q": (Q_D, Q_A), "m": (M_D, M_A),
                    "Q_hat": (QSH_D, QSH_A), "q_hat": (QH_D, QH_A), "m_hat": (MH_D, MH_A)}

#: derive_committee's names of the Nishimori-line potentials
PSI_OUT = sp.Function("Psi_out")
PSI_P0 = sp.Function("psi_P0")

#: the K-dimensional random vectors: ξ ~ N(0, I_K) (Hubbard–Stratonovich / decoupling field)
#: and w⁰ ~ P₀^{⊗K} (a row of the teacher's weights)
XI = sp.Symbol("xi", real=True)
W0 = sp.Symbol("w0", real=True)


def _perm(name) -> PermSym:
    d, a = ORDER_PARAMETERS[name]
    return PermSym(d, a, K_SYMBOL)


def _canon(P: PermSym) -> PermSym:
    """The same matrix with both eigenvalues simplified (a canonical form for comparisons)."""
    perp, par = sp.simplify(P.perp), sp.simplify(P.parallel)
    return PermSym(perp, par - perp, P.K)


def _mat_str(d, a, pr) -> str:
    wrap = lambda e: f"({pr(e)})" if isinstance(e, sp.Add) else pr(e)  # noqa: E731
    return f"({wrap(d)}*I + {wrap(a)}*J/K)"


def _mat_latex(d, a, pr) -> str:
    wrap = lambda e: r"\left(%s\right)" % pr(e) if isinstance(e, sp.Add) else pr(e)  # noqa: E731
    return r"\left(%s I_K + \frac{%s}{K} J_K\right)" % (wrap(d), pr(a))


# -- abstract nodes --------------------------------------------------------------------------

class VectorE(sp.Function):
    """E over K-vectors: ``VectorE(f, xi)`` with ξ ~ N(0, I_K), ``VectorE(f, xi, w0)`` also over
    the teacher's row w⁰ ~ P₀^{⊗K}.  The bound symbols are not free symbols."""

    @property
    def free_symbols(self):
        f, *bound = self.args
        return f.free_symbols - set(bound)

    def _sympystr(self, printer):
        f, *bound = self.args
        return "E_{%s}[%s]" % (",".join(printer._print(b) for b in bound), printer._print(f))

    def _latex(self, printer):
        f, *bound = self.args
        names = {XI: r"\xi", W0: "w^0"}
        return r"\mathbb{E}_{%s}\left[%s\right]" % (",".join(names.get(b, printer._print(b)) for b in bound),
                                                   printer._print(f))


class _OutK(sp.Function):
    """Z(y; ω, V) with ω = (L_d I + (L_a/K) J) ξ and V = V_d I + (V_a/K) J:
    args (y, ξ, L_d, L_a, V_d, V_a)."""

    nargs = 6
    tex = "Z"

    @property
    def omega(self) -> PermSym:
        """The matrix L with ω = L ξ."""
        return PermSym(self.args[2], self.args[3], K_SYMBOL)

    @property
    def V(self) -> PermSym:
        return PermSym(self.args[4], self.args[5], K_SYMBOL)

    def _sympystr(self, printer):
        y, xi, ld, la, vd, va = self.args
        pr = printer._print
        return f"{type(self).__name__}({pr(y)}, {_mat_str(ld, la, pr)}*{pr(xi)}, {_mat_str(vd, va, pr)})"

    def _latex(self, printer, exp=None):
        y, xi, ld, la, vd, va = self.args
        pr = printer._print
        s = r"%s\left(%s; %s \xi, %s\right)" % (self.tex, pr(y), _mat_latex(ld, la, pr), _mat_latex(vd, va, pr))
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


class ZoutK(_OutK):
    """The student's output potential Z_out(y; ω, V) = E_{u ~ N(0, I_K)} φ(y | ω + V^{1/2}u)."""

    tex = r"Z_{\rm out}"


class ZstarK(_OutK):
    """The teacher's output potential Z*(y; ω, V) = E_u P*(y | ω + V^{1/2}u)."""

    tex = r"Z^{*}_{\rm out}"


class ZwK(sp.Function):
    """Z_w(b, A) = E_{w ~ P₀^{⊗K}} exp(bᵀw − ½ wᵀAw) at b = M w⁰ + S ξ, every matrix
    d I + (a/K) J: args (w⁰, ξ, M_d, M_a, S_d, S_a, A_d, A_a)."""

    nargs = 8

    @property
    def teacher_field(self) -> PermSym:
        return PermSym(self.args[2], self.args[3], K_SYMBOL)

    @property
    def noise_field(self) -> PermSym:
        return PermSym(self.args[4], self.args[5], K_SYMBOL)

    @property
    def precision(self) -> PermSym:
        return PermSym(self.args[6], self.args[7], K_SYMBOL)

    def _sympystr(self, printer):
        w0, xi, md, ma, sd, sa, ad, aa = self.args
        pr = printer._print
        return (f"Zw({_mat_str(md, ma, pr)}*{pr(w0)} + {_mat_str(sd, sa, pr)}*{pr(xi)}, "
                f"{_mat_str(ad, aa, pr)})")

    def _latex(self, printer, exp=None):
        w0, xi, md, ma, sd, sa, ad, aa = self.args
        pr = printer._print
        s = r"Z_w\left(%s w^0 + %s \xi, %s\right)" % (_mat_latex(md, ma, pr), _mat_latex(sd, sa, pr),
                                                    _mat_latex(ad, aa, pr))
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


def _zout(cls, L: PermSym, V: PermSym):
    return cls(S.y, XI, L.d, L.a, V.d, V.a)


def _zw(M: PermSym, Sg: PermSym, A: PermSym):
    return ZwK(W0, XI, M.d, M.a, Sg.d, Sg.a, A.d, A.a)


# -- linear algebra of the ansatz ---------------------------------------------------------------

def _eigen(P: PermSym):
    """[(eigenvalue, multiplicity)] of d I + (a/K) J: d (K − 1 times, ⊥ 1), d + a (along 1)."""
    return [(P.perp, P.K - 1), (P.parallel, sp.S.One)]


def kron_logdet(A: PermSym, B: PermSym, n=N) -> sp.Expr:
    """log det(I_n ⊗ A + J_n ⊗ B) for commuting K × K matrices A, B of the ansatz, by the
    simultaneous eigen-decomposition: I_n ⊗ A + J_n ⊗ B is itself d I_n + (a/n) J_n in replica
    space with d = A, a = nB, so its eigenvalues are A_k + r B_k for every unit-space eigenvalue
    k of (A, B) (multiplicities K − 1, 1) and replica-space r ∈ {0 (n − 1 times), n (once)}."""
    replica_space = _eigen(PermSym(sp.S.Zero, n, n))          # eigenvalues of J_n: 0, n
    total = sp.S.Zero
    for (a_k, mu_k), (b_k, _) in zip(_eigen(A), _eigen(B)):
        for r, mu_r in replica_space:
            total += mu_k * mu_r * sp.log(a_k + r * b_k)
    return total


def pair_counts(n=N) -> dict:
    """How many replica pairs of each kind the coupling sums over, by ``sympy.summation``:
    students' diagonal a = b ≥ 1, teacher–student (0, a), student–student a < b."""
    a, b = sp.symbols("a b", integer=True, positive=True)
    return {"Q": sp.summation(1, (a, 1, n)),
            "m": sp.summation(1, (a, 1, n)),
            "q": sp.factor(sp.summation(sp.summation(1, (b, a + 1, n)), (a, 1, n)))}


# -- the replicated system ------------------------------------------------------------------------

@dataclass
class ReplicatedCommittee:
    """G(n) of the committee under the replica-symmetric ansatz (symbolic K and n).

    ``coupling``, ``prior``, ``output``: the three parts as expressions of n (``output``
    without its factor α; ``prior`` the log-determinant for Gaussian weights, else
    log E[Z_w^n]); ``replicated`` = coupling + prior + α output.  The decoupled arguments
    are kept as :class:`PermSym` matrices: ``teacher_mean`` (m q^{−1/2}, ω* = it ξ),
    ``teacher_var`` (ρ − m q^{−1}m), ``student_mean`` (q^{1/2}), ``student_var`` (Q − q);
    ``field_teacher`` (m̂ᵀ), ``field_noise`` (q̂^{1/2}), ``precision`` (Q̂ + q̂), and for
    Gaussian weights the blocks ``A``, ``B`` of the Schur complement I_n ⊗ A + J_n ⊗ B."""

    prior_component: object
    rho0: sp.Expr
    gaussian: bool
    coupling: sp.Expr
    prior: sp.Expr
    output: sp.Expr
    teacher_mean: PermSym
    teacher_var: PermSym
    student_mean: PermSym
    student_var: PermSym
    field_teacher: PermSym
    field_noise: PermSym
    precision: PermSym
    A: PermSym | None = None
    B: PermSym | None = None
    counts: dict = field(default_factory=dict)

    @property
    def replicated(self) -> sp.Expr:
        return self.coupling + self.prior + S.alpha * self.output

    def output_moment(self):
        """(X, average) of the output term log E[X^n] for ``_n_zero_limit``."""
        zstar = _zout(ZstarK, self.teacher_mean, self.teacher_var)
        return _zout(ZoutK, self.student_mean, self.student_var), \
            (lambda f: LabelIntegral(VectorE(zstar * f, XI), S.y))

    def prior_moment(self):
        """(X, average) of the prior term log E[X^n] after the Hubbard–Stratonovich step."""
        return _zw(self.field_teacher, self.field_noise, self.precision), (lambda f: VectorE(f, XI, W0))


def replicated_committee(prior, gaussian_logdet: bool = True) -> ReplicatedCommittee:
    """The replicated free entropy G(n) of a committee with per-unit ``prior`` (a
    :mod:`replica.priors` prior: the teacher's and the students'), RS ansatz, symbolic K and n.

    ``gaussian_logdet``: for a centred Gaussian prior write the prior term as the
    log-determinant of the replicated Gaussian integral (default); otherwise (and for every
    other prior) as log E[Z_w(b, A)^n] with Z_w abstract."""
    n = N
    rho0 = sp.nsimplify(prior.second_moment())
    rho = PermSym(rho0, sp.S.Zero, K_SYMBOL)
    Q, q, m = _perm("Q"), _perm("q"), _perm("m")
    Qh, qh, mh = _perm("Q_hat"), _perm("q_hat"), _perm("m_hat")
    counts = pair_counts(n)
    coupling = sp.expand(counts["Q"] * (Qh * Q).trace() / 2 - counts["m"] * (mh * m).trace()
                         - counts["q"] * (qh * q).trace())
    # output: the decoupled fields
    q_half = q.apply(sp.sqrt)
    q_mhalf = q.apply(lambda x: 1 / sp.sqrt(x))
    q_inv = q.apply(lambda x: 1 / x)
    t_mean, t_var = _canon(m * q_mhalf), _canon(rho - m * q_inv * m)
    s_mean, s_var = _canon(q_half), Q - q
    # prior: b = m̂ᵀw⁰ + q̂^{1/2}ξ, A = Q̂ + q̂ (m̂ symmetric in the ansatz)
    f_teacher, f_noise, prec = mh, _canon(qh.apply(sp.sqrt)), Qh + qh
    gaussian = gaussian_logdet and _rotation_invariant(prior)
    rc = ReplicatedCommittee(prior, rho0, gaussian, coupling, sp.S.Zero, sp.S.Zero, t_mean, t_var, s_mean, s_var,
                             f_teacher, f_noise, prec, counts=counts)
    X, average = rc.output_moment()
    rc.output = sp.log(average(X**n))
    if gaussian:
        # I + ρ₀M: teacher block I_K, teacher–student −ρ₀m̂,
        # students I_n ⊗ (I + ρ₀(Q̂ + q̂)) − J_n ⊗ ρ₀q̂;
        # the Schur complement of the teacher block adds −ρ₀² m̂ᵀm̂ to the J_n part
        I = PermSym(sp.S.One, sp.S.Zero, K_SYMBOL)
        rc.A = I + prec.scale(rho0)
        rc.B = (qh.scale(-rho0) - (mh * mh).scale(rho0**2))
        rc.prior = -kron_logdet(rc.A, rc.B, n) / 2
    else:
        Xw, avg_w = rc.prior_moment()
        rc.prior = sp.log(avg_w(Xw**n))
    return rc


# -- the n → 0 limit ------------------------------------------------------------------------------

def _gaussian_prior_limit(A: PermSym, B: PermSym):
    """lim −½ log det(I_n ⊗ A + J_n ⊗ B)/n with symbolic eigenvalues (then substituted)."""
    ap, al = sp.symbols("A_perp A_par", positive=True)
    bp, bl = sp.symbols("B_perp B_par", real=True)
    phi, _ = _n_zero_limit(-kron_logdet(PermSym(ap, al - ap, K_SYMBOL), PermSym(bp, bl - bp, K_SYMBOL)) / 2, [])
    phi = sp.collect(sp.expand(phi), K_SYMBOL)
    return phi, phi.xreplace({ap: A.perp, al: A.parallel, bp: B.perp, bl: B.parallel})


#: steps of the derivation, for a theory's ``limits``: Markdown with the plain spelling of each
#: math piece (:meth:`replica.symbolic.printing.Phrase.spelled`)
STEPS = [
    Phrase.spelled(
        'Replicated system: teacher $W^0$ (replica $0$) and $n$ students $W^a \\in \\mathbb{R}^{N \\times '
        'K}$ with i.i.d. rows from $P_0^{\\otimes K}$; $K \\times K$ overlaps $Q^{ab} = W^{aT} W^b/N$ '
        '($a, b = 0..n$) with conjugates $\\hat Q^{ab}$; replica-symmetric ansatz $Q^{00} = \\rho = '
        '\\rho_0 I_K$, $Q^{aa} = Q$, $Q^{ab} = q$, $Q^{0a} = m$ (and $\\hat Q$, $\\hat q$, $\\hat m$), '
        'each $d I_K + (a/K) J_K$.',
        'W^0', '0', 'n', 'W^a in R^(N x K)', 'P_0^(x K)', 'K x K', 'Q^ab = W^aT W^b/N', 'a, b = 0..n',
        'Q_hat^ab', 'Q^00 = rho = rho_0 I_K', 'Q^aa = Q', 'Q^ab = q', 'Q^0a = m', 'Q_hat', 'q_hat', 'm_hat',
        'd I_K + (a/K) J_K'),
    Phrase.spelled(
        'Coupling $\\sum_a \\frac12 \\mathrm{Tr}\\,\\hat Q^{aa} Q^{aa} - \\sum_{a<b} \\mathrm{Tr}\\,\\hat '
        'Q^{ab} Q^{ab} = n(\\frac12 \\mathrm{Tr}\\,\\hat Q Q - \\mathrm{Tr}\\,\\hat m m) - '
        '\\frac{n(n-1)}{2} \\mathrm{Tr}\\,\\hat q q$ (pairs counted by summation, traces by the algebra '
        'of $I$ and $J$).',
        'sum_a Tr(Q_hat^aa Q^aa)/2 - sum_(a<b) Tr(Q_hat^ab Q^ab) = n (Tr(Q_hat Q)/2 - Tr(m_hat m)) - n (n - 1)/2 Tr(q_hat q)',
        'I', 'J'),
    Phrase.spelled(
        'Prior term: Gaussian weights, $-\\frac12 \\log\\det(I + \\rho_0 M)$ over the '
        '$(n+1)K$-dimensional replicated weight; Schur complement of the teacher block $I_n \\otimes A + '
        'J_n \\otimes B$, $A = I + \\rho_0(\\hat Q + \\hat q)$, $B = -\\rho_0 \\hat q - \\rho_0^2 \\hat '
        'm^2$, eigenvalues $A_k$ ($n - 1$ times), $A_k + n B_k$, unit-space multiplicities $K - 1$, $1$; '
        'any prior, Hubbard–Stratonovich: $\\log \\mathbb{E}_{w^0,\\xi} Z_w(\\hat m w^0 + \\hat '
        'q^{1/2}\\xi, \\hat Q + \\hat q)^n$.',
        '-log det(I + rho_0 M)/2', '(n + 1) K', 'I_n x A + J_n x B', 'A = I + rho_0 (Q_hat + q_hat)',
        'B = -rho_0 q_hat - rho_0**2 m_hat**2', 'A_k', 'n - 1', 'A_k + n B_k', 'K - 1', '1',
        'log E_(w^0, xi)[Z_w(m_hat w^0 + q_hat**(1/2) xi, Q_hat + q_hat)**n]'),
    Phrase.spelled(
        'Output term $\\log \\mathbb{E}_\\xi \\int dy\\, Z^*_{\\rm out}(y; m q^{-1/2}\\xi, \\rho - m '
        'q^{-1} m)\\, Z_{\\rm out}(y; q^{1/2}\\xi, Q - q)^n$ (decoupled Gaussian fields, $\\xi \\sim '
        '\\mathcal{N}(0, I_K)$).',
        'log E_xi[Integral(Z*_out(y; m q**(-1/2) xi, rho - m q**(-1) m) Z_out(y; q**(1/2) xi, Q - q)**n, y)]',
        'xi ~ N(0, I_K)'),
    Phrase.spelled(
        '$n \\to 0$: $\\Phi = \\lim_{n\\to 0} G(n)/n$, each $\\mathbb{E}[X^n]$ expanded in $n$, the '
        "log-determinant's limit taken with symbolic $K$ and eigenvalues.",
        'n -> 0', 'Phi = lim_(n -> 0) G(n)/n', 'E[X**n]', 'n', 'K'),
    Phrase.spelled(
        'Bayes-optimal (Nishimori): $Q = \\rho$, $\\hat Q = 0$, $m = q$, $\\hat m = \\hat q$ ($= \\hat '
        'r$), $Z^*_{\\rm out} = Z_{\\rm out}$: $\\Phi = \\psi_{P_0}(\\hat r) + \\alpha \\Psi_{\\rm '
        'out}(q) - \\frac12 \\mathrm{Tr}(\\hat r q)$.',
        'Q = rho', 'Q_hat = 0', 'm = q', 'm_hat = q_hat', '= r_hat', 'Z*_out = Z_out',
        'Phi = psi_P0(r_hat) + alpha Psi_out(q) - Tr(r_hat q)/2'),
]


@dataclass
class RSFreeEntropy:
    """Φ_RS = lim_{n→0} G(n)/n: ``coupling`` + ``prior`` + α ``output`` (= ``free_entropy``),
    each part the limit of its own G(n) part; ``replicated`` the system it came from."""

    replicated: ReplicatedCommittee
    coupling: sp.Expr
    prior: sp.Expr
    output: sp.Expr
    prior_eigen: sp.Expr | None = None   # Gaussian: the limit in the symbolic eigenvalues A_k, B_k
    steps: list = field(default_factory=lambda: list(STEPS[:-1]))

    @property
    def free_entropy(self) -> sp.Expr:
        return self.coupling + self.prior + S.alpha * self.output

    def nishimori(self) -> "NishimoriFreeEntropy":
        """The Bayes-optimal free entropy: Q = ρ I, Q̂ = 0, m = q, m̂ = q̂; then Z* = Z_out
        (checked: their arguments coincide), the output term folded into Ψ_out(q_d, q_a) and,
        for a prior without closed form, the prior term into ψ_P₀(q̂_d, q̂_a) (checked: the
        expressions are exactly their definitions ``psi_out_definition``,
        ``psi_p0_definition``)."""
        rc = self.replicated
        sub = {QS_D: rc.rho0, QS_A: 0, M_D: Q_D, M_A: Q_A, QSH_D: 0, QSH_A: 0, MH_D: QH_D, MH_A: QH_A}
        coupling = sp.expand(self.coupling.subs(sub))
        prior = self.prior.subs(sub)
        if rc.gaussian:
            prior = sp.simplify(prior)
        else:
            prior = prior.replace(lambda e: isinstance(e, ZwK), _canon_w)
            prior = _fold(prior, psi_p0_definition(), PSI_P0(QH_D, QH_A), "prior")
        output = self.output.subs(sub).replace(lambda e: isinstance(e, _OutK), _canon_out)
        teacher = {z.args[1:] for z in output.atoms(ZstarK)}
        student = {z.args[1:] for z in output.atoms(ZoutK)}
        if teacher != student:
            raise DerivationError("Nishimori reduction: Z* and Z_out differ on the Nishimori line: "
                                  f"{teacher} {student}")
        output = output.replace(lambda e: isinstance(e, ZstarK), lambda z: ZoutK(*z.args))
        output = _fold(output, psi_out_definition(rc.rho0), PSI_OUT(Q_D, Q_A), "output")
        return NishimoriFreeEntropy(self, coupling, prior, output, steps=self.steps + [STEPS[-1]])


def _canon_out(z):
    """An output potential with its matrix arguments in canonical form (``_canon``)."""
    L, V = _canon(z.omega), _canon(z.V)
    return type(z)(*z.args[:2], L.d, L.a, V.d, V.a)


def _canon_w(z):
    """A prior potential with its matrix arguments in canonical form (``_canon``)."""
    return _zw(_canon(z.teacher_field), _canon(z.noise_field), _canon(z.precision))


def _fold(expr, definition, name, what):
    """``expr`` with ``definition`` replaced by the named function; an error if it is not there."""
    out = expr.xreplace({definition: name})
    if out.has(ZoutK, ZstarK, ZwK):
        raise DerivationError(f"Nishimori reduction: the {what} term {expr} is not its definition {definition}")
    return out


def psi_out_definition(rho0=1) -> sp.Expr:
    """Ψ_out(q) = ∫dy E_ξ Z_out log Z_out at (y; q^{1/2}ξ, ρ₀I − q) (derive_committee's Ψ_out)."""
    q = PermSym(Q_D, Q_A, K_SYMBOL)
    z = _zout(ZoutK, _canon(q.apply(sp.sqrt)), _canon(PermSym(rho0, 0, K_SYMBOL) - q))
    return LabelIntegral(VectorE(z * sp.log(z), XI), S.y)


def psi_p0_definition() -> sp.Expr:
    """ψ_P₀(r̂) = E_{w⁰,ξ} log Z_w(r̂w⁰ + r̂^{1/2}ξ, r̂) (derive_committee's psi_P0)."""
    r = PermSym(QH_D, QH_A, K_SYMBOL)
    return VectorE(sp.log(_zw(_canon(r), _canon(r.apply(sp.sqrt)), _canon(r))), XI, W0)


@dataclass
class NishimoriFreeEntropy:
    """The RS free entropy on the Nishimori line in derive_committee's variables (q_d, q_a,
    q_hat_d, q_hat_a, the symbol K): ``free_entropy`` = ``prior_term`` + α Ψ_out(q_d, q_a) +
    ``coupling`` (= −½ Tr(q̂ q))."""

    rs: RSFreeEntropy
    coupling: sp.Expr
    prior_term: sp.Expr
    output: sp.Expr
    steps: list = field(default_factory=list)

    @property
    def free_entropy(self) -> sp.Expr:
        return self.prior_term + S.alpha * self.output + self.coupling


def rs_free_entropy(prior, gaussian_logdet: bool = True) -> RSFreeEntropy:
    """Φ_RS = lim_{n→0} G(n)/n of :func:`replicated_committee` (symbolic K), part by part.

    >>> from replica import priors
    >>> phi = rs_free_entropy(priors.Gaussian(1))
    >>> phi.nishimori().free_entropy      # derive_committee's free entropy of committee-bayes
    """
    rc = replicated_committee(prior, gaussian_logdet)
    coupling, _ = _n_zero_limit(rc.coupling, [])
    output, _ = _n_zero_limit(sp.S.Zero, [(1, *rc.output_moment())])
    if rc.gaussian:
        eig, prior_lim = _gaussian_prior_limit(rc.A, rc.B)
    else:
        eig = None
        prior_lim, _ = _n_zero_limit(sp.S.Zero, [(1, *rc.prior_moment())])
    return RSFreeEntropy(rc, sp.expand(coupling), prior_lim, output, prior_eigen=eig)


def _scalar_prior_potential(prior):
    """ψ₁(μ, s, A) = E_{w⁰ ~ P₀, ξ ~ N(0,1)} log z_w(μ w⁰ + √s ξ, A), z_w the K = 1 partition
    of the prior (closed form where the engine finds one)."""
    mu, s = sp.symbols("mu s", real=True)
    A = sp.Symbol("A", positive=True)
    xi, w0 = sp.Dummy("xi", real=True), sp.Dummy("w0", real=True)
    b, a = sp.Dummy("b", real=True), sp.Dummy("a", positive=True)
    logz = sp.expand_log(sp.log(sp.simplify(prior.partition(b, a))), force=True)
    inner = gauss_expect(sp.expand(logz.subs({b: mu * w0 + sp.sqrt(s) * xi, a: A})), xi)
    return (mu, s, A), sp.simplify(prior.integrate(sp.expand(inner).subs(w0, prior.w)))


def prior_by_eigendirections(prior) -> sp.Expr:
    """E_{w⁰,ξ} log Z_w(m̂w⁰ + q̂^{1/2}ξ, Q̂ + q̂) for a rotation-invariant prior (Gaussian
    weights), symbolic K: the prior P₀^{⊗K} and ξ's law are invariant under the rotation O that
    diagonalizes every matrix of the ansatz, so Z_w factorizes over the eigen-directions and
    the expectation is Σ_k μ_k ψ₁(m̂_k, q̂_k, Q̂_k + q̂_k), ψ₁ the K = 1 potential of the prior
    (:func:`_scalar_prior_potential`), μ_⊥ = K − 1, μ_∥ = 1."""
    if not _rotation_invariant(prior):
        raise DerivationError("prior_by_eigendirections: the prior is not rotation invariant (a centred Gaussian)")
    (mu, s, A), psi1 = _scalar_prior_potential(prior)
    mh, qh, Qh = _perm("m_hat"), _perm("q_hat"), _perm("Q_hat")
    total = sp.S.Zero
    for (m_k, w_k), (q_k, _), (a_k, _) in zip(_eigen(mh), _eigen(qh), _eigen(Qh + qh)):
        total += w_k * psi1.subs({mu: m_k, s: q_k, A: a_k})
    return total
