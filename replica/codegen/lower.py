"""Lowering of derived expressions to vectorized NumPy source.

* Potentials are replaced by their closed forms (differentiated as needed); expectations
  are closed again where the substitution made that possible.
* Gaussian tails are carried in log space: every ``erfc(u)`` becomes ``exp(logerfc(u))``
  with ``logerfc`` evaluated by ``scipy.special.log_ndtr``, so ratios such as
  N(x)/H(x) become single exponentials, and logarithms of sums of such terms are printed
  as log-sum-exp.  Nothing underflows silently.
* Each remaining Gaussian expectation becomes a Gauss–Hermite sum over a new leading array
  axis: a node nested d deep evaluates its integrand on shape (n, [outer nodes], *grid)
  and sums the first axis away.  Every generated function therefore broadcasts over
  whole parameter grids.
* Proximal maps without closed form are solved by a vectorized safeguarded Newton iteration.
"""
from __future__ import annotations

import cmath
import functools
import hashlib
import itertools
import random

import mpmath
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .. import symbols as S
from ..symbolic.derive import LabelIntegral
from ..symbolic.factoring import factor_terms, powsimp_exp
from ..symbolic.gauss import GaussE, lebesgue_integral, reclose
from ..symbolic.lines import LabelLine, LineIntegral, breakpoints, kink_arguments, reclose_lines, tilt_lines, without_hints
from ..symbolic.moreau import Envelope, Prox
from ..symbolic.potentials import Potential, substitute_potentials
from ..symbolic.special import LogSumExp, XLogX
from ..symbolic.spectral import SpectralMean
from .rules import FEATURE_RULE_SOURCE, features
from .lines import LINE_NODES, LINE_PRELUDE
from .labels import LABEL_PRELUDE, absorb_density, gaussian_label_integral, label_line
from .signed import NUMPY_HELPERS, absorb_exponentials, logerfsum, signed_tails

__all__ = ["logerfc", "explicit", "stabilize", "generate_module", "LoweringError", "Emitter", "NumpyPrinter",
           "RUNTIME_PRELUDE", "kink_points", "exp_terms", "hide_labels", "implicit_kink_arguments"]


class LoweringError(ValueError):
    pass


class logerfc(sp.Function):
    """log erfc(u), evaluated stably for any u."""

    nargs = 1

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -2 / sp.sqrt(sp.pi) * sp.exp(-u**2 - logerfc(u))

    def _latex(self, printer, exp=None):
        return r"\log\operatorname{erfc}\left(%s\right)" % printer._print(self.args[0])


def _fubini(e):
    """∫dy E_ξ[f] = E_ξ[∫dy f]: label integrals go inside the expectations, where they close."""
    def rule(node):
        f, yy = node.args
        out = sp.S.Zero
        for term in sp.Add.make_args(sp.expand_mul(f)):
            c, rest = term.as_independent(yy, as_Add=False)
            if isinstance(rest, GaussE):
                g, x = rest.args
                out += c * GaussE(LabelIntegral(g, yy), x)
            else:
                out += c * LabelIntegral(rest, yy)
        return out
    return e.replace(lambda n: isinstance(n, LabelIntegral) and n.args[0].has(GaussE), rule)


def _label_integrals(e, potentials, labels=None):
    """Close ∫dy over continuous labels with the potentials' slots as fresh symbols (so the
    variances are known to be positive), then put the actual arguments back; where no closed
    form exists, a label quadrature over the range of the channel ``labels`` = (f(z), Δ)
    (:func:`replica.codegen.labels.label_line`), its potentials substituted with the others."""
    def rule(node):
        f, yy = node.args
        slots = {}
        for p in f.atoms(Potential):
            for k, a in enumerate(p.args[1:]):
                if a not in slots:
                    slots[a] = sp.Dummy("s", positive=True) if k == 1 else sp.Dummy("s", real=True)
        g = substitute_potentials(f.xreplace(slots), potentials)
        c = None if _open_in_labels(g, yy) else lebesgue_integral(sp.expand(sp.expand_log(g, force=True)), yy)
        if c is None and (_linear_teacher(labels) or not _open_in_labels(g, yy)):
            # a Gaussian label density (linear teacher): a Gaussian expectation in the label
            c = gaussian_label_integral(g, yy)
        if c is None:
            try:
                return label_line(f, yy, labels, teacher="Zstar")
            except ValueError as err:
                raise LoweringError(str(err)) from None
        return c.xreplace({v: k for k, v in slots.items()})
    return e.replace(lambda n: isinstance(n, LabelIntegral), rule)


def _linear_teacher(labels) -> bool:
    """Whether the channel y = f(z) + √Δ η has f affine in z (its label density is Gaussian in
    y), or is unknown (``labels`` None)."""
    if labels is None:
        return True
    f = sp.expand(labels[0])
    return f.is_polynomial(S.z) and sp.degree(f, S.z) <= 1


def _open_in_labels(g, y) -> bool:
    """Whether ∫ dy g(y) certainly has no closed form here: a sum depending on y inside a log
    or in a denominator (Z_out log Z_out, (∂Z_out)²/Z_out of a label density that is a sum of
    terms), whose expansion the closure would attempt at length and in vain."""
    def is_open_sum(a):
        return any(t.is_Add and t.has(y) for t in sp.Mul.make_args(a))
    for n in sp.preorder_traversal(sp.expand_log(g, force=True)):
        if isinstance(n, sp.log) and is_open_sum(n.args[0]):
            return True
        if n.is_Pow and n.exp.is_negative and is_open_sum(n.base):
            return True
    return False


def _log_tails(e):
    """Tails in log space: complements first (1 - erfc(u)/2 = erfc(-u)/2), then erfc -> exp(logerfc)."""
    e = _complement_tails(signed_tails(e))
    return e.replace(lambda a: isinstance(a, sp.erfc), lambda a: sp.exp(logerfc(a.args[0])))


def explicit(expr, potentials, close: bool = True, labels=None):
    """Substitute the potentials' definitions (tails already in log space) and re-close the
    expectations (``close``: try their closed forms again; off for quantities, like the
    replicon, whose squared log-derivatives have none, where the attempt only costs time).
    ``labels``: (f(z), Δ) of a real-label channel y = f(z) + √Δ η, whose range bounds the
    label integrals without a closed form."""
    e = _label_integrals(_fubini(expr), potentials, labels)
    if e.has(LabelLine):
        # the label density inside a label quadrature: tails grouped by their exponential, so
        # that e^{E}(2 - erfc(u)) is e^{E} erfc(-u) (the |z| teacher's Z_out) and no term
        # overflows where the sum is finite
        inner = {k: (slots, _log_tails(_tails_by_exponential(body)))
                 for k, (slots, body) in potentials.items() if not isinstance(body, dict)}
        e = e.replace(lambda n: isinstance(n, LabelLine),
                      lambda n: LabelLine(substitute_potentials(n.args[0], inner), *n.args[1:]))
    potentials = {k: (slots, {o: _log_tails(v) for o, v in body.items()} if isinstance(body, dict)
                      else _log_tails(body)) for k, (slots, body) in potentials.items()}
    e = tilt_lines(substitute_potentials(e, potentials))
    e = e.replace(lambda a: isinstance(a, (Envelope, SpectralMean)), lambda a: a.value())
    e = _xlogx(e)
    return fold_mirrors(_reclose_outside_labels(e) if close else e)


def _reclose_outside_labels(e):
    """``reclose`` and ``reclose_lines`` on every node except those holding a label quadrature
    (no closed form there: the attempt only costs time), which are set aside meanwhile."""
    held = {}

    def hold(n):
        held[n] = sp.Dummy("held")
        return held[n]
    e = e.replace(lambda n: isinstance(n, (GaussE, LineIntegral)) and n.has(LabelLine), hold)
    return reclose_lines(reclose(e)).xreplace({v: k for k, v in held.items()})


def _numeric_form(e):
    """``e`` with the code generator's own functions written with SymPy's (for evalf)."""
    return e.replace(lambda a: isinstance(a, logerfc), lambda a: sp.log(sp.erfc(a.args[0]))) \
            .replace(lambda a: isinstance(a, XLogX), lambda a: a.args[0] * sp.log(a.args[0])) \
            .replace(lambda a: isinstance(a, logerfsum), lambda a: sp.log((sp.erf(a.args[0]) + sp.erf(a.args[1])) / 2)) \
            .replace(lambda a: isinstance(a, LogSumExp), lambda a: sp.log(sp.Add(*[sp.exp(t) for t in a.args])))


#: integrands larger than this are not checked for mirror symmetry (printing them costs more
#: than the folding saves: piecewise integrands of kinked losses)
_MIRROR_MAX_OPS = 1000


def _mirror_equal(f, g, x, trials=3) -> bool:
    """Whether g(-x) = f(x) identically, checked at random points to 25 digits (a sum over the
    labels y = ±1, or over the atoms w* = ±1, of a symmetric channel or prior)."""
    if f.has(GaussE, Prox, LineIntegral, LabelLine) or g.has(GaussE, Prox, LineIntegral, LabelLine) or sp.count_ops(f) > _MIRROR_MAX_OPS:
        return False
    f, g = _numeric_form(f), _numeric_form(g).xreplace({x: -x})
    syms = sorted((f.free_symbols | g.free_symbols) - {x}, key=str)
    rng = random.Random(20261127)
    try:
        fl, gl = (sp.lambdify(syms + [x], h, modules="mpmath") for h in (f, g))
    except Exception:                              # pragma: no cover - not printable: no folding
        return False
    with mpmath.workdps(30):
        for _ in range(trials):
            vals = [rng.uniform(0.9, 1.2) if s.name == "Q" else rng.uniform(0.1, 0.4) for s in syms]
            vals.append(rng.uniform(-2.0, 2.0))
            try:
                a, b = complex(fl(*map(mpmath.mpf, vals))), complex(gl(*map(mpmath.mpf, vals)))
            except (TypeError, ValueError, ZeroDivisionError):
                return False
            if not (cmath.isfinite(a) and cmath.isfinite(b)) or abs(a.imag) > 1e-20 or abs(b.imag) > 1e-20:
                return False
            if abs(a - b) > 1e-18 * max(1.0, abs(a)):
                return False
    return True


def fold_mirrors(e):
    """E_x[f] + E_x[g] -> 2 E_x[f] where g(-x) = f(x): the two labels of a symmetric channel, or
    the two atoms ±1 of a symmetric prior, give mirror images of one integrand.  Exact for
    the quadrature too (its nodes are symmetric), at half the cost."""
    def rule(a):
        terms = list(a.args)
        done = False
        for i in range(len(terms)):
            ci, ni = terms[i].as_independent(GaussE, as_Add=False)
            if not isinstance(ni, GaussE):
                continue
            for j in range(i + 1, len(terms)):
                cj, nj = terms[j].as_independent(GaussE, as_Add=False)
                if isinstance(nj, GaussE) and ci == cj and ni.args[1] == nj.args[1] \
                        and _mirror_equal(ni.args[0], nj.args[0], ni.args[1]):
                    terms[i], terms[j] = 2 * ci * ni, sp.S.Zero
                    done = True
                    break
        return sp.Add(*terms) if done else a
    return e.replace(lambda a: a.is_Add and sum(isinstance(t.as_independent(GaussE, as_Add=False)[1], GaussE)
                                                for t in a.args) >= 2, rule)


def _xlogx(e):
    """Z log Z -> XLogX(Z): 0 where Z underflows, instead of 0 * (-inf)."""
    def rule(m):
        facs = sp.Mul.make_args(m)
        for f in facs:
            if isinstance(f, sp.log) and f.args[0] in facs:
                rest = [g for g in facs if g is not f]
                rest.remove(f.args[0])
                return sp.Mul(*rest) * XLogX(f.args[0])
        return m
    return e.replace(lambda a: a.is_Mul and a.has(sp.log), rule)


def _tails_by_exponential(body):
    """``body`` as Σ_g e^{E_g} c_g, the terms multiplied out and grouped by their exponential
    factor, each c_g with its tails in complement form (``_complement_tails``)."""
    if body.has(GaussE, LineIntegral):
        return body
    groups = {}
    for t in sp.Add.make_args(sp.expand(body)):
        facs = sp.Mul.make_args(t)
        E = sp.expand(sp.Add(*[f.args[0] for f in facs if isinstance(f, sp.exp)]))
        groups[E] = groups.get(E, sp.S.Zero) + sp.Mul(*[f for f in facs if not isinstance(f, sp.exp)])
    return sp.Add(*[sp.exp(E) * _complement_tails(c) for E, c in groups.items()])


def _complement_tails(e):
    """C + k erfc(u)  ->  (k + C/2) erfc(u) + (C/2) erfc(-u), with erfc(±u) as exp(logerfc(±u)).

    SymPy rewrites erfc(-u) as 2 - erfc(u), so a sum of Gaussian tails with positive weights
    (e.g. (1-ε)H(x) + εH(-x)) comes out as a constant plus a signed tail, which cancels
    catastrophically and underflows to 0 in ratios.  Splitting the constant with
    erfc(u) + erfc(-u) = 2 restores the positive form."""
    def rule(a):
        tails, rest = {}, []
        for t in a.args:
            facs = sp.Mul.make_args(t)
            erfcs = [f for f in facs if isinstance(f, sp.erfc)]
            if len(erfcs) == 1 and not sp.Mul(*[f for f in facs if f is not erfcs[0]]).has(sp.erfc):
                k = sp.Mul(*[f for f in facs if f is not erfcs[0]])
                tails[erfcs[0].args[0]] = tails.get(erfcs[0].args[0], 0) + k
            elif t.has(sp.erfc):
                return a
            else:
                rest.append(t)
        if len(tails) != 1 or not rest:
            return a
        (u, k), = tails.items()
        C = sp.Add(*rest)
        return (k + C / 2) * sp.exp(logerfc(u)) + (C / 2) * sp.exp(logerfc(-u))
    return e.replace(lambda a: a.is_Add and a.has(sp.erfc), rule)


def exp_terms(d):
    """[(c, L)] with d = Σ c e^{L} (c free of exponentials), or None."""
    out = []
    for t in sp.Add.make_args(d):
        facs = sp.Mul.make_args(t)
        exps = [f for f in facs if isinstance(f, sp.exp)]
        if not exps and not t.has(sp.exp):
            out.append((t, sp.S.Zero))      # a plain term is t·e^0
            continue
        if len(exps) != 1:
            return None
        c = sp.Mul(*[f for f in facs if f is not exps[0]])
        if c.has(sp.exp):
            return None
        out.append((c, exps[0].args[0]))
    if all(L == 0 for _, L in out) or any(c.is_negative or (c.is_number and c < 0) for c, _ in out):
        return None     # no exponential to tame, or a term that may be negative (no log of it)
    return out


def _log_denominators(m):
    """A product with a factor (Σ c_i e^{L_i})^{-k}: the factor becomes e^{-k LSE(log c_i + L_i)},
    so that it merges with the numerator's exponentials (no 0/0 when both underflow)."""
    reps = {}
    for f in sp.Mul.make_args(m):
        if f.is_Pow and f.exp.is_negative and f.base.is_Add:
            terms = exp_terms(f.base)
            if terms:
                reps[f] = sp.exp(f.exp * LogSumExp(*[sp.log(c) + L for c, L in terms]))
    return m.xreplace(reps) if reps else m


def _replace_once(e, query, value):
    """``e.replace(query, value)`` (bottom-up, simultaneous: SymPy's own walk, step for step),
    each distinct subexpression rewritten once: SymPy's walk visits a subtree as often as it
    occurs, and the derived expressions repeat large subtrees many times."""
    memo = {}

    def walk(node):
        hit = memo.get(node)
        if hit is not None:
            return hit
        out = node
        if node.args:
            newargs = tuple([walk(a) for a in node.args])
            if newargs != node.args:
                out = node.func(*newargs)
                # as SymPy: a rebuilt node equal to one of its rewritten arguments is kept as is
                if any(out == a and a != b for a, b in zip(node.args, newargs)):
                    memo[node] = out
                    return out
        if query(out):
            v = value(out)
            if v is not None and v != out:
                out = v
        memo[node] = out
        return out

    return walk(e)


@functools.lru_cache(maxsize=4096)
def _merge_exps(m):
    """A product's exponentials merged (denominators of exponential sums in log space first)."""
    return powsimp_exp(_log_denominators(factor_terms(m)))


@functools.lru_cache(maxsize=4096)
def _expand_log(a):
    return sp.expand_log(a, force=True)


def stabilize(e):
    """Gaussian tails in log space: erfc(u) -> exp(logerfc(u)), exponentials merged."""
    e = _log_tails(e)
    e = _replace_once(e, lambda a: a.is_Mul and a.has(sp.exp), _merge_exps)
    e = absorb_exponentials(e)
    e = _replace_once(e, lambda a: isinstance(a, sp.log), _expand_log)
    return e


class NumpyPrinter(NumPyPrinter):
    def _print_logerfc(self, e):
        return "_logerfc(%s)" % self._print(e.args[0])

    def _print_logerfsum(self, e):
        return "_logerfsum(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_log(self, e):
        arg = e.args[0]
        signed = any(t.as_independent(sp.exp, as_Add=False)[0].is_negative for t in arg.args) if arg.is_Add else False
        if arg.is_Add and any(t.has(sp.exp) for t in arg.args) and not signed:
            # a log-sum-exp only of terms known to be positive; a signed sum is computed directly
            logs = []
            for t in arg.args:
                k, rest = t.as_independent(sp.exp, as_Add=False)
                if isinstance(rest, sp.exp):
                    logs.append(self._print(rest.args[0] + sp.log(k)) if k != 1 else self._print(rest.args[0]))
                else:
                    logs.append("numpy.log(%s)" % self._print(t))
            return "_lse(%s)" % ", ".join(logs)
        return "numpy.log(%s)" % self._print(arg)

    def _print_Piecewise(self, e):
        out = "numpy.nan"
        for expr, cond in reversed(e.args):
            if cond is sp.true:
                out = self._print(expr)
            else:
                out = "numpy.where(%s, %s, %s)" % (self._print(cond), self._print(expr), out)
        return out

    def _print_exp(self, e):
        # e^{log erfc u} alone is erfc u, which underflows exactly where e^{log erfc u} does
        # (scipy's erfc keeps full relative precision in the tail) and costs a third of log_ndtr
        if isinstance(e.args[0], logerfc):
            return "scipy.special.erfc(%s)" % self._print(e.args[0].args[0])
        return "numpy.exp(%s)" % self._print(e.args[0])

    def _print_LogSumExp(self, e):
        return "_lse(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_XLogX(self, e):
        # the argument printed once (``_xlogx``), not twice as xlogy(z, z): it is a sum of tails
        return "_xlogx(%s)" % self._print(e.args[0])

    def _print_Max(self, e):
        return "_maximum(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_TiltPeak(self, e):
        c1, c2, lo, hi = e.args
        ends = [_end(a) if a.is_infinite else self._print(a) for a in (lo, hi)]
        return "_tilt_peak(%s, %s, %s, %s)" % (self._print(c1), self._print(c2), *ends)

    def _print_Min(self, e):
        return "_minimum(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_Heaviside(self, e):
        return "numpy.heaviside(%s, 0.5)" % self._print(e.args[0])

    def _print_Prox(self, e):
        return "%s(%s)" % (type(e).__name__, ", ".join(self._print(a) for a in e.args))

    def _print_Symbol(self, e):
        return _name(e)

    def _print_Dummy(self, e):
        return _name(e)


def _name(s):
    if isinstance(s, sp.Dummy):
        return f"_{s.name}_{s.dummy_index}"
    return s.name


class Emitter:
    #: how a backend sums a quadrature node (weights w, integrand body) and what it passes on
    #: to its ``_kink_rule``
    node_sum = "numpy.sum({w} * ({body}), axis=0)"
    #: a label quadrature's sum: a 0/0 where the label density and its derivatives all underflow
    #: (labels far outside the density's mass, at a far outer node) counts as the 0 it tends to
    label_sum = "numpy.nansum({w} * ({body}), axis=0)"
    kink_extra = ""
    #: whether the backend has the feature-graded ``rule='adaptive'`` (``rules._feature_rule``)
    adaptive = True
    #: whether the backend locates, at run time, the kinks whose argument is not linear in the
    #: variable (``_implicit_roots``; e.g. max_y Z_out(y, √q ξ, V) of a Bayes error)
    implicit = True

    def __init__(self):
        self.lines: list[str] = []
        self.printer = NumpyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": True})
        self.counter = itertools.count()
        self.prox = {}

    def expr(self, e, depth):
        """Emit the nodes inside ``e`` (innermost first) and return the code of ``e``."""
        reps = {}
        for node in _top_nodes(e):
            reps[node] = sp.Symbol(self.node(node, depth))
        for p in e.atoms(Prox):
            self.prox[type(p).__name__] = type(p)
        e = e.xreplace(reps)
        return self.cse(e)

    def cse(self, e):
        subs, (red,) = sp.cse([e], symbols=(sp.Symbol(f"_c{next(self.counter)}") for _ in itertools.count()),
                              order="none")
        for s, v in subs:
            self.lines.append(f"    {s} = {self.printer.doprint(v)}")
        return self.printer.doprint(red)

    def node(self, node, depth):
        if isinstance(node, LineIntegral):
            return self.line_node(node, depth)
        if isinstance(node, LabelLine):
            return self.label_node(node, depth)
        f, x = node.args
        name = f"_E{next(self.counter)}"
        xs = _name(x)
        kinks = [self.cse(k) for k in kink_points(f, x)] + (self.implicit_kinks(f, x, depth) if self.implicit else [])
        feats = features(f, x) if self.adaptive else []
        if feats or (kinks and self.adaptive):
            # rule='adaptive': panels graded from each feature's width, split at the kinks
            cs = kinks + [self.cse(c) for c, _ in feats]
            # a kink has width 0 (``*_R``: the run-time roots of a non-linear one, as many zeros)
            ws = [f"*[0.0] * len({k[1:]})" if k.startswith("*") else "0.0" for k in kinks] + [self.cse(w) for _, w in feats]
            wname = f"_W{next(self.counter)}"
            self.lines.append("    if rule == 'adaptive':")
            self.lines.append(f"        {xs}, {wname} = _feature_rule(nodes, [{', '.join(cs)}], [{', '.join(ws)}], {depth} + _G)")
            self.lines.append("    else:")
            if kinks:
                self.lines.append(f"        {xs}, {wname} = _kink_rule(4 * nodes, [{', '.join(cs[:len(kinks)])}], {depth} + _G{self.kink_extra})")
            else:
                self.lines.append(f"        {xs} = _GHX.reshape((-1,) + (1,) * ({depth} + _G))")
                self.lines.append(f"        {wname} = _GHW.reshape((-1,) + (1,) * ({depth} + _G))")
        elif kinks:
            # piecewise-smooth integrand: split the line at its kinks (per grid point), then
            # composite Gauss-Legendre on each piece — exact to rounding for each smooth piece
            codes = kinks
            wname = f"_W{next(self.counter)}"
            self.lines.append(f"    {xs}, {wname} = _kink_rule(4 * nodes, [{', '.join(codes)}], {depth} + _G{self.kink_extra})")
        else:
            wname = f"_GHW.reshape((-1,) + (1,) * ({depth} + _G))"
            self.lines.append(f"    {xs} = _GHX.reshape((-1,) + (1,) * ({depth} + _G))")
        body = self.expr(f, depth + 1)
        self.lines.append(f"    {name} = " + self.node_sum.format(w=wname, body=body))
        return name


    def implicit_kinks(self, f, x, depth) -> list:
        """Code of the kinks of f(x) whose argument g(x) is not linear in x (a max of two
        potentials, a Heaviside of a difference of them): g is emitted as a local function and
        its roots found at run time by ``_implicit_roots`` (up to ``IMPLICIT_ROOTS`` of each);
        arguments as ``implicit_kink_arguments``."""
        out = []
        for g in implicit_kink_arguments(f, x):
            sub = type(self)()
            sub.counter = self.counter
            code = sub.expr(g, depth + 1)
            fname, rname = f"_K{next(self.counter)}", f"_R{next(self.counter)}"
            self.lines.append(f"    def {fname}({_name(x)}):")
            self.lines.extend("    " + ln for ln in sub.lines)
            self.lines.append(f"        return {code}")
            self.lines.append(f"    {rname} = _implicit_roots({fname}, {depth} + _G{self.kink_extra})")
            out.append(f"*{rname}")
        return out

    def line_node(self, node, depth):
        """∫ dx f(x) over the line: the rational-map rule of :mod:`replica.codegen.lines`,
        centred and scaled by the node's hints, split at the integrand's kinks."""
        f, x, mu, sigma, lo, hi = node.args
        name, wname, xs = f"_E{next(self.counter)}", f"_W{next(self.counter)}", _name(x)
        codes = [self.cse(k) for k in breakpoints(f, x)]
        ends = ", ".join(_end(e) if e.is_infinite else self.cse(e) for e in (lo, hi))
        self.lines.append(f"    {xs}, {wname} = _line_rule({LINE_NODES}, {self.cse(mu)}, {self.cse(sigma)}, "
                          f"[{', '.join(codes)}], {ends}, {depth} + _G{self.kink_extra})")
        body = self.expr(f, depth + 1)
        self.lines.append(f"    {name} = " + self.node_sum.format(w=wname, body=body))
        return name


    def label_node(self, node, depth):
        """∫ dy f(y) over a continuous label: the graded rule of :mod:`replica.codegen.labels`
        on the label range, panel ends at the features of the label density."""
        f, y, lo, hi, width, centres = node.args[:6]
        name, wname, ys = f"_E{next(self.counter)}", f"_W{next(self.counter)}", _name(y)
        cs = ", ".join(self.cse(c) for c in centres)
        self.lines.append(f"    {ys}, {wname} = _label_rule({self.cse(lo)}, {self.cse(hi)}, [{cs}], "
                          f"{self.cse(width)}, {depth} + _G{self.kink_extra})")
        body = self.expr(absorb_density(f), depth + 1)
        self.lines.append(f"    {name} = " + self.label_sum.format(w=wname, body=body))
        return name


def hide_labels(f):
    """``f`` with each label quadrature replaced by a symbol: its integrand's kinks and features
    and its range's ends are not those of an enclosing expectation."""
    return f.replace(lambda n: isinstance(n, LabelLine), lambda n: sp.Dummy("label_integral"))


@functools.lru_cache(maxsize=1024)
def _kink_candidates(f, x) -> tuple:
    """(``kink_arguments`` of f, the variables bound by f's nested nodes, x excluded: a kink of
    an inner integrand is that node's own), label quadratures and rule hints set aside; shared
    by ``kink_points`` and ``implicit_kink_arguments`` (two walks of a large integrand saved)."""
    f = without_hints(hide_labels(f))
    return tuple(kink_arguments(f)), frozenset({n.args[1] for n in f.atoms(GaussE, LineIntegral)} - {x})


def implicit_kink_arguments(f, x) -> list:
    """Arguments g(x) of the kinks of f (``kink_arguments``) that are not linear in x, whose roots
    are found at run time; those holding a nested expectation, a label integral, a proximal map,
    a Piecewise or a variable of a nested node are left out."""
    args, bound = _kink_candidates(f, x)
    out = []
    for g in args:
        if g in out or not g.has(x) or g.free_symbols & bound or g.has(GaussE, LineIntegral, LabelLine, Prox, sp.Piecewise):
            continue
        e = sp.expand(g)
        if not (e.is_polynomial(x) and sp.degree(e, x) <= 1):      # a linear root: ``kink_points`` has it
            out.append(g)
    return out


def _end(e):
    """An infinite end of an integration interval, as code."""
    return "numpy.inf" if e == sp.oo else "-numpy.inf"


def kink_points(f, x):
    """Points where the integrand f(x) has a kink or a jump: roots, linear in x, of the arguments of
    Heaviside, |.|, sign, of max/min differences and of Piecewise conditions (innermost node only)."""
    args, bound = _kink_candidates(f, x)
    args = list(args)
    # a kink inside a piecewise or implicit argument (e.g. Θ(-y prox)): try each branch, and
    # invert a proximal map at its root, prox = p0  <=>  ω = p0 + χ ℓ'(p0)
    more = []
    for g in args:
        for pw in g.atoms(sp.Piecewise):
            more.extend(g.xreplace({pw: e}) for e, _ in pw.args)
        for P in g.atoms(Prox):
            p0 = sp.solve(g.xreplace({P: sp.Symbol("_p")}), sp.Symbol("_p"))
            yv, om, ch = P.args
            for r in p0 if len(p0) == 1 else []:
                l1 = sp.diff(P.loss, P.x).xreplace({P.x: r, P.ysym: yv})
                more.append(om - (r + ch * l1))
    args = args + more
    roots = []
    for g in args:
        if g.free_symbols & bound:
            continue
        if not g.has(x) or any(n.has(x) for n in g.atoms(GaussE)) or g.has(sp.Piecewise, Prox):
            continue
        g = sp.expand(g)
        if not g.is_polynomial(x) or sp.degree(g, x) != 1:
            continue
        a, b = sp.Poly(g, x).all_coeffs()
        r = sp.simplify(-b / a)
        if r.has(x) or r in roots:
            continue
        roots.append(r)
    return roots


def _top_nodes(e):
    """Gaussian-expectation nodes of ``e`` not nested in another node."""
    out = []

    def walk(a):
        if isinstance(a, (GaussE, LineIntegral, LabelLine)):
            out.append(a)
            return
        for arg in a.args:
            walk(arg)
    walk(e)
    return list(dict.fromkeys(out))


RUNTIME_PRELUDE = '''
import numpy
import scipy.special
from functools import lru_cache, reduce

_SQRT2 = numpy.sqrt(2.0)
#: 8-point Gauss-Legendre nodes and weights on [-1, 1], the panels of every composite rule
#: (computed once: ``leggauss`` solves an eigenproblem, 10% of a phase diagram's time per call)
_GL8 = numpy.polynomial.legendre.leggauss(8)
#: roots of each non-linear kink argument located at run time (``_implicit_roots``)
IMPLICIT_ROOTS = 4


def _logerfc(u):
    """log erfc(u) for any real u: the log of erfc, which keeps full relative precision in its
    tail, up to u = 26 where it would underflow; log_ndtr beyond (3.5x slower)."""
    u = numpy.asarray(u, dtype=float)
    out = numpy.log(scipy.special.erfc(numpy.minimum(u, 26.0)))
    far = u > 26.0
    if far.any():
        out = numpy.where(far, scipy.special.log_ndtr(-_SQRT2 * u) + numpy.log(2.0), out)
    return out


def _lse(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = numpy.logaddexp(out, x)
    return out


def _maximum(*xs):
    return reduce(numpy.maximum, xs)


def _xlogx(z):
    """z log z, 0 at z = 0 (z evaluated once)."""
    return scipy.special.xlogy(z, z)


def _minimum(*xs):
    return reduce(numpy.minimum, xs)


def _nonempty_pieces(a, b):
    """The pieces [a, b] (rows) of a split line that are not empty at every point: the missing
    run-time roots of ``_implicit_roots`` all sit at the line's end and make empty pieces,
    whose nodes carry weight 0 (dropping them leaves every sum unchanged; the other pieces
    keep their panels)."""
    keep = numpy.any(b > a, axis=tuple(range(1, b.ndim)))
    if keep.any() and not keep.all():
        return a[keep], b[keep]
    return a, b


def _kink_rule(n, breaks, nd):
    """E_x f(x) nodes and weights for f smooth between the points ``breaks`` (arrays): the line
    (cut at ±12) is split at the sorted points and each piece gets composite 8-point
    Gauss-Legendre panels, about n nodes in all.  Shapes (M,) + (1,)*k + broadcast(breaks) with
    nd dimensions after the first."""
    L = 12.0
    bs = numpy.broadcast_arrays(*[numpy.asarray(b, dtype=float) for b in breaks])
    B = numpy.clip(numpy.sort(numpy.stack(bs), axis=0), -L, L)
    S = B.shape[1:]
    edges = numpy.concatenate([numpy.full((1,) + S, -L), B, numpy.full((1,) + S, L)])
    a, b = edges[:-1], edges[1:]
    K = a.shape[0]
    t, v = _GL8
    P = max(1, -(-n // (8 * K)))
    a, b = _nonempty_pieces(a, b)
    s0 = (numpy.arange(P) / P).reshape((1, P) + (1,) * len(S))
    h = ((b - a) / (2 * P))[:, None]
    mids = a[:, None] + (b - a)[:, None] * s0 + h
    tt = t.reshape((1, 1, 8) + (1,) * len(S))
    x = mids[:, :, None] + h[:, :, None] * tt
    w = numpy.broadcast_to(h[:, :, None] * v.reshape((1, 1, 8) + (1,) * len(S)), x.shape).reshape((-1,) + S)
    x = x.reshape((-1,) + S)
    w = w * numpy.exp(-x**2 / 2) / numpy.sqrt(2.0 * numpy.pi)
    pad = (1,) * (nd - len(S))
    return x.reshape((x.shape[0],) + pad + S), w.reshape((w.shape[0],) + pad + S)


def _implicit_roots(g, nd, k=IMPLICIT_ROOTS, m=385):
    """Up to k roots in (-12, 12) of g(x) (vectorized over the grid), the kinks of an
    integrand whose argument is not linear in x: the sign changes of g on m equispaced points
    (two roots closer than 24/(m - 1) in one interval are not seen), each bracket refined by 55
    bisections (to ~1e-15); the line's end 12.0 (an empty piece) for each missing root.
    Shapes as ``_kink_rule``'s breaks."""
    L = 12.0
    s = numpy.linspace(-L, L, m).reshape((-1,) + (1,) * nd)
    G = numpy.asarray(g(s), dtype=float)
    G = numpy.broadcast_to(G, (m,) + G.shape[1:])
    pos = G >= 0
    ch = pos[:-1] != pos[1:]
    idx = numpy.argsort(~ch, axis=0, kind="stable")[:k]
    found = numpy.take_along_axis(ch, idx, axis=0)
    lo, hi = s.reshape(-1)[idx], s.reshape(-1)[idx + 1]
    plo = numpy.take_along_axis(pos[:-1], idx, axis=0)
    # the brackets found come first at every point: only the leading rows that hold one
    # somewhere in the batch are refined (the others are 12.0 wherever they are)
    j = int(numpy.count_nonzero(found.reshape(found.shape[0], -1).any(axis=1)))
    lo, hi, plo = lo[:j], hi[:j], plo[:j]
    for _ in range(55 if j else 0):
        mid = 0.5 * (lo + hi)
        same = (numpy.asarray(g(mid), dtype=float) >= 0) == plo
        lo, hi = numpy.where(same, mid, lo), numpy.where(same, hi, mid)
    r = numpy.concatenate([numpy.where(found[:j], 0.5 * (lo + hi), L), numpy.full_like(found[j:], L, dtype=float)])
    return list(r)


@lru_cache(maxsize=32)
def _gauss_rule(n, rule):
    """Nodes and weights of E_x f(x), x ~ N(0, 1).

    "hermite": n-point Gauss-Hermite (exact for polynomials of degree 2n-1; n <= 300, beyond
    which the weights overflow).  "legendre": composite 8-point Gauss-Legendre on [-12, 12]
    with about n nodes, times the Gaussian density (mass outside < 1e-32): for integrands
    with kinks or features much narrower than 1.  "adaptive": the same where the integrand
    has no narrow feature (elsewhere ``_feature_rule``)."""
    if rule == "hermite":
        if n > 300:
            raise ValueError(f"Gauss-Hermite with {n} nodes overflows; use at most 300 or rule='legendre'")
        x, w = numpy.polynomial.hermite_e.hermegauss(n)
        return x, w / numpy.sqrt(2.0 * numpy.pi)
    if rule in ("legendre", "adaptive"):
        t, v = _GL8
        panels = max(1, -(-n // 8))
        edges = numpy.linspace(-12.0, 12.0, panels + 1)
        mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
        x = (mid[:, None] + half[:, None] * t[None, :]).ravel()
        w = (half[:, None] * v[None, :]).ravel() * numpy.exp(-x**2 / 2) / numpy.sqrt(2.0 * numpy.pi)
        return x, w
    raise ValueError(f"unknown quadrature rule {rule!r}; use 'hermite', 'legendre' or 'adaptive'")
''' + FEATURE_RULE_SOURCE + LINE_PRELUDE + LABEL_PRELUDE

_PROX_GENERIC = '''

def {name}(y, omega, chi):
    """argmin_x loss(y, x) + (x - omega)^2 / (2 chi): safeguarded Newton (bracketed by bisection)."""
    y, omega, chi = {broadcast}
    def g(x):
        return {d1} + (x - omega) / chi
    def dg(x):
        return {d2} + 1.0 / chi
    lo = omega - 1.0
    hi = omega + 1.0
    for _ in range(200):
        bad = g(lo) > 0
        if not {xp}.any(bad):
            break
        lo = {xp}.where(bad, omega - 2.0 * (omega - lo), lo)
    for _ in range(200):
        bad = g(hi) < 0
        if not {xp}.any(bad):
            break
        hi = {xp}.where(bad, omega + 2.0 * (hi - omega), hi)
    x = 0.5 * (lo + hi)
    for _ in range(100):
        gx = g(x)
        lo = {xp}.where(gx < 0, x, lo)
        hi = {xp}.where(gx > 0, x, hi)
        step = x - gx / dg(x)
        inside = (step > lo) & (step < hi)
        x_new = {xp}.where(inside, step, 0.5 * (lo + hi))
        if {xp}.all({xp}.abs(x_new - x) <= 1e-15 * (1.0 + {xp}.abs(x))):
            x = x_new
            break
        x = x_new
    return x
'''


def prox_template(xp: str, broadcast: str) -> str:
    """The proximal map's safeguarded Newton, the same iteration for every backend: ``xp`` the
    array module (``numpy``, ``torch``: ``where``, ``any``, ``all``, ``abs``), ``broadcast`` the
    expression that broadcasts ``(y, omega, chi)`` to float arrays of one shape.  The result
    still has the ``{name}``, ``{d1}``, ``{d2}`` fields of one loss."""
    return _PROX_GENERIC.replace("{xp}", xp).replace("{broadcast}", broadcast)


_PROX_TEMPLATE = prox_template(
    "numpy", "numpy.broadcast_arrays(*(numpy.asarray(a, dtype=float) for a in (y, omega, chi)))")


def lower_outputs(em, outputs: dict, arguments: list, src: list, prox_template: str) -> tuple:
    """What every backend's module shares: each output lowered by the emitter ``em`` into its
    own block of lines (so that a module can compute only the outputs asked for), the
    arguments checked, the proximal maps' Newton solvers appended to ``src`` from
    ``prox_template``, and the ARGUMENTS / OUTPUTS constants.

    Returns (src, argument names, name -> code of the output, name -> its block of lines)."""
    body, blocks = {}, {}
    for name, e in outputs.items():
        start = len(em.lines)
        body[name] = em.expr(stabilize(sp.sympify(e)), 0)
        blocks[name] = em.lines[start:]
    argnames = [_name(a) for a in arguments]
    missing = set().union(*[sp.sympify(e).free_symbols for e in outputs.values()]) - set(arguments)
    missing = {s for s in missing if not isinstance(s, sp.Dummy)}
    if missing:
        raise LoweringError(f"symbols {sorted(map(str, missing))} are not among the arguments {argnames}")
    for name, cls in em.prox.items():
        d1 = sp.diff(cls.loss, cls.x).xreplace({cls.x: sp.Symbol("x"), cls.ysym: sp.Symbol("y")})
        d2 = sp.diff(cls.loss, cls.x, 2).xreplace({cls.x: sp.Symbol("x"), cls.ysym: sp.Symbol("y")})
        src.append(prox_template.format(name=name, d1=em.printer.doprint(stabilize(d1)),
                                        d2=em.printer.doprint(stabilize(d2))))
    src.append("\n\nARGUMENTS = %r\nOUTPUTS = %r\n" % (argnames, list(outputs)))
    return src, argnames, body, blocks


def generate_module(outputs: dict, arguments: list, header: str = "") -> str:
    """Python source of a module with ``evaluate(args..., nodes=96) -> dict`` computing ``outputs``.

    ``outputs``: name -> SymPy expression (already explicit);  ``arguments``: symbols, in order."""
    src, argnames, body, blocks = lower_outputs(Emitter(), outputs, arguments, [header, RUNTIME_PRELUDE, NUMPY_HELPERS],
                                                _PROX_TEMPLATE)
    src.append(f"\n\ndef evaluate({', '.join(argnames)}, nodes=96, rule='hermite', want=None):")
    src.append(f'    """Evaluate {", ".join(outputs)} at broadcastable arrays of ({", ".join(argnames)});'
               '\n    ``want``: the names to compute (default all)."""')
    src.append(f"    {', '.join(argnames)}{',' if len(argnames) == 1 else ''} = numpy.broadcast_arrays("
               + ", ".join(f"numpy.asarray({a}, dtype=float)" for a in argnames) + ")")
    src.append(f"    _G = numpy.ndim({argnames[0]})")
    src.append("    _GHX, _GHW = _gauss_rule(nodes, rule)")
    src.append("    with numpy.errstate(divide='ignore', invalid='ignore', over='ignore', under='ignore'):")
    src.append("        _out = {}")
    for name, code in body.items():
        # each output's own block of lines (no sharing between outputs), run only when wanted
        src.append(f"        if want is None or {name!r} in want:")
        src.extend(ln.replace("    ", "            ", 1) for ln in blocks[name])
        src.append(f"            _out[{name!r}] = numpy.broadcast_to({code}, numpy.shape({argnames[0]}))")
    src.append("    return _out\n")
    return "\n".join(src)


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
