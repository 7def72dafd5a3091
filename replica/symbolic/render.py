"""Rendering a Theory as LaTeX, Markdown or plain text.

One document, three printers: :func:`_document` lays out the model statement, the replicated
and replica-symmetric free entropies, the potentials' definitions, the saddle-point equations,
the observables, the limits taken, the capacity theory and references as a list of blocks;
:func:`theory_latex`, :func:`theory_markdown` and :func:`theory_text` print those blocks.

Output is deterministic: SymPy ``Dummy`` symbols (bound integration variables) carry
process-dependent indices, so every expression is printed with its dummies renamed to plain
symbols by order of first appearance (ξ, x, u, ...; a second dummy of the same name gets a
subscript), and nothing is iterated in hash order.
"""
from __future__ import annotations

import re
from functools import cached_property

import sympy as sp

from .. import symbols as S
from ..learning import ERM, BayesOptimal, Gibbs, Volume
from .derive import Derivation, DerivationError
from .moreau import Prox
from .paper import PaperForm, paper_form
from .printing import Math, Phrase, expr_latex, expr_text, plain, sym, symbol_tex

__all__ = ["theory_latex", "theory_markdown", "theory_text", "symbol_tex", "expr_latex",
           "expr_text", "REFERENCES"]

# -- references ----------------------------------------------------------------------------

_CITE = {
    "gardner88": "E. Gardner, *The space of interactions in neural network models*, J. Phys. A 21, 257 (1988).",
    "gardner-derrida88": "E. Gardner and B. Derrida, *Optimal storage properties of neural network models*, J. Phys. A 21, 271 (1988).",
    "krauth-mezard89": "W. Krauth and M. Mézard, *Storage capacity of memory networks with binary couplings*, J. Phys. France 50, 3057 (1989).",
    "gyorgyi-tishby90": "G. Györgyi and N. Tishby, *Statistical theory of learning a rule*, in Neural Networks and Spin Glasses, World Scientific (1990).",
    "gyorgyi90": "G. Györgyi, *First-order transition to perfect generalization in a neural network with binary synapses*, Phys. Rev. A 41, 7097 (1990).",
    "sst92": "H. S. Seung, H. Sompolinsky and N. Tishby, *Statistical mechanics of learning from examples*, Phys. Rev. A 45, 6056 (1992).",
    "opper-haussler91": "M. Opper and D. Haussler, *Generalization performance of Bayes optimal classification algorithm for learning a perceptron*, Phys. Rev. Lett. 66, 2677 (1991).",
    "barbier19": "J. Barbier, F. Krzakala, N. Macris, L. Miolane and L. Zdeborová, *Optimal errors and phase transitions in high-dimensional generalized linear models*, PNAS 116, 5451 (2019).",
    "aubin20": "B. Aubin, F. Krzakala, Y. M. Lu and L. Zdeborová, *Generalization error in high-dimensional perceptrons: approaching Bayes error with convex optimization*, NeurIPS 2020, arXiv:2006.06560.",
    "hastie19": "T. Hastie, A. Montanari, S. Rosset and R. J. Tibshirani, *Surprises in high-dimensional ridgeless least squares interpolation*, arXiv:1903.08560 (2019).",
    "engel01": "A. Engel and C. Van den Broeck, *Statistical Mechanics of Learning*, Cambridge University Press (2001).",
}

#: model name -> the references its theory follows (keys of the citation table).
REFERENCES = {
    "gardner": ["gardner88", "engel01"],
    "ising-storage": ["gardner-derrida88", "krauth-mezard89", "engel01"],
    "perceptron-gibbs": ["gyorgyi-tishby90", "sst92", "engel01"],
    "perceptron-bayes": ["opper-haussler91", "barbier19", "engel01"],
    "ising-gibbs": ["gyorgyi90", "sst92", "engel01"],
    "ising-bayes": ["gyorgyi90", "barbier19"],
    "linear-bayes": ["barbier19"],
    "ridge": ["hastie19", "aubin20"],
    "logistic": ["aubin20"],
    "hinge": ["aubin20"],
}


# -- the document ----------------------------------------------------------------------------
# Blocks: ("h", level, text) | ("p", text) | ("items", [text]) | ("math", [(tex, plain)])
#         | ("table", header, rows).  ``text`` uses a small markup: $inline LaTeX$, `code`, *emphasis*.

_N = sp.Symbol("N", positive=True)
_MEANING = {
    "m": Phrase.of("teacher-student overlap ", Math(r"w \cdot w^*/N", "w.w*/N")),
    "q": Phrase.of("overlap of two replicas ", Math(r"w^a \cdot w^b/N", "w^a.w^b/N")),
    "Q": Phrase.of("self-overlap ", Math(r"|w|^2/N", "|w|**2/N")),
    "chi": Phrase.of("response ", S.beta * (S.Q - S.q), " in the zero-temperature limit"),
}
_MEANING_ZERO_T = {  # conjugates under the zero-temperature scalings
    "chi_hat": Phrase.of("zero-temperature conjugate, ", sp.Eq(S.Q_hat + S.q_hat, S.beta * S.chi_hat, evaluate=False)),
    "q_hat": Phrase.of("conjugate of ", sym("q"), ", rescaled: ", S.q_hat / S.beta**2),
    "m_hat": Phrase.of("conjugate of ", sym("m"), ", rescaled: ", S.m_hat / S.beta),
}


def _meaning(name, zero):
    if zero and name in _MEANING_ZERO_T:
        return _MEANING_ZERO_T[name]
    if name.endswith("_hat"):
        return Phrase.of("conjugate of ", sym(name[:-4]))
    return _MEANING.get(name, "order parameter")


def _math(*exprs):
    return ("math", [(expr_latex(e), expr_text(e)) for e in exprs])


def _norm(value):
    """Q = |w|²/N = value."""
    return Math(r"Q = |w|^2/N = " + expr_latex(value), "Q = |w|**2/N = " + expr_text(value))
_LAMBDA_MU = Math(r"\lambda_\mu = w \cdot x_\mu/\sqrt{N}", "lambda_mu = w.x_mu/sqrt(N)")


def _eq(lhs_tex, lhs_text, expr):
    """A displayed definition ``lhs = expr``."""
    return (f"{lhs_tex} = {expr_latex(expr)}", f"{lhs_text} = {expr_text(expr)}")


def _fmt_default(v):
    return "—" if v is None else f"{float(v):g}"


def _model_blocks(th):
    model = th.model
    out = [("h", 2, "Model")]
    prior = model.prior
    dens = sum((p * sp.DiracDelta(S.w - a) for a, p in prior.atoms), sp.S.Zero) + prior.density
    out.append(("p", f"**Prior** (teacher weights, and the student's): `{prior!r}`."))
    out.append(("math", [_eq("P(w)", "P(w)", dens)]))
    sprior = model.student_prior or prior
    if model.student_prior is not None:
        out.append(("p", f"**Student prior**: `{model.student_prior!r}`."))
    if sprior._fixed_norm is not None:
        out.append(("p", Phrase.of("The student's norm is fixed, ", _norm(sprior.fixed_norm),
                                   ", by a Lagrange multiplier (spherical weights: log-volumes are fractions of the sphere).")))
    elif sprior.fixed_norm is not None:
        out.append(("p", Phrase.of("Every weight has ", sp.Eq(S.w**2, sprior.fixed_norm, evaluate=False), ", so ",
                                   _norm(sprior.fixed_norm), " exactly and its conjugate drops out.")))
    ch = model.teacher
    outs = ", ".join(str(o) for o in ch.outputs) if not ch.continuous else ""
    labels = (Math(r"y \in \mathbb{R}", "y real") if ch.continuous
              else Math(r"y \in \{%s\}" % outs, "y in {%s}" % outs))
    if ch.random_labels:
        out.append(("p", Phrase.of(f"**Teacher**: `{ch!r}` — labels independent of the inputs (a storage problem), ",
                                   labels, ".")))
        out.append(("math", [_eq("P(y)", "P(y)", ch.density)]))
    else:
        out.append(("p", Phrase.of(f"**Teacher**: `{ch!r}`, ", Math(r"z = w^* \cdot x/\sqrt{N}", "z = w*.x/sqrt(N)"),
                                   ", ", labels, ".")))
        out.append(("math", [_eq(r"P(y \mid z)", "P(y|z)", ch.density)]))
    L = model.learning
    out.append(("p", f"**Learning**: `{L!r}`."))
    if isinstance(L, BayesOptimal):
        out.append(("p", "The student samples the posterior with the teacher's own prior and channel."))
    elif isinstance(L, Gibbs):
        out.append(("p", Phrase.of("Gibbs measure ",
                                   Math(r"P(w \mid \mathcal{D}) \propto P(w)\, e^{-\sum_\mu \ell(y_\mu, \lambda_\mu)/T}",
                                        "P(w|D) ~ P(w) exp(-Sum_mu loss(y_mu, lambda_mu)/T)"), ", ", _LAMBDA_MU,
                                   ", at temperature ", sp.Eq(sp.Symbol("T"), L.temperature, evaluate=False),
                                   ", with the loss")))
        out.append(("math", [_eq(r"\ell(y, \lambda)", "loss(y, lambda)", L.loss.expr)]))
    elif isinstance(L, ERM):
        out.append(("p", Phrase.of("Empirical risk minimization, ",
                                   Math(r"\hat w = \mathrm{argmin}_w \sum_\mu \ell(y_\mu, \lambda_\mu) + \frac{%s}{2}|w|^2"
                                        % expr_latex(L.ridge),
                                        "w_hat = argmin_w Sum_mu loss(y_mu, lambda_mu) + (%s)/2 |w|**2" % expr_text(L.ridge)),
                                   " with ", _LAMBDA_MU, " and the loss")))
        out.append(("math", [_eq(r"\ell(y, \lambda)", "loss(y, lambda)", L.loss.expr)]))
    elif isinstance(L, Volume):
        out.append(("p", Phrase.of("Gardner volume: the prior mass of the weights that satisfy, for every example, "
                                   "the constraint on ", _LAMBDA_MU)))
        out.append(_math(L.constraint))
    rows = [[f"`{s.name}`", Phrase.of(sym(s.name)), f"`{d}`", _fmt_default(model.defaults.get(s.name))]
            for s, d in th.parameters.items()]
    out.append(("p", Phrase.of("**Parameters** (", Math(r"\alpha = P/N", "alpha = P/N"), " belongs to every model):")))
    out.append(("table", ["name", "symbol", "domain", "default"], rows))
    return out


def _order_blocks(th):
    out = [("p", f"**Kind**: {th.kind}. **Order parameters**:")]
    zero = th.kind == "zero-temperature" or th.kind.startswith("capacity")
    out.append(("items", [Phrase.of(sym(s.name), f" (`{s.name}`): ", _meaning(s.name, zero)) for s in th.order_parameters]))
    if th.fixed:
        out.append(("p", _held_fixed(th.fixed)))
    return out


def _held_fixed(fixed):
    parts = ["Held fixed: "]
    for i, (k, v) in enumerate(fixed.items()):
        parts += ([", "] if i else []) + [sp.Eq(k, v, evaluate=False)]
    return Phrase.of(*parts, ".")


_PHI_LIMIT = Math(r"\Phi_{\rm RS} = \lim_{n \to 0} G(n)/n", "Phi_RS = lim_{n->0} G(n)/n")


def _replicated_blocks(th):
    """The replicated free entropy G(n) whose n -> 0 limit is Φ_RS (the derivation's step 1)."""
    if th.replicated is None:
        return []
    ch = th.model.teacher
    labels = r"\int dy\," if ch.continuous else r"\sum_{y}"
    if ch.random_labels:
        tex = (r"G(n) = \frac{n}{2} Q \hat{Q} - \frac{n(n-1)}{2} q \hat{q}"
               r" + \log \mathbb{E}_{\xi}\left[Z_w\left(\sqrt{\hat{q}}\,\xi, \hat{Q} + \hat{q}\right)^n\right]"
               r" + \alpha \log %s P(y)\, \mathbb{E}_{\xi}\left[Z_{\rm out}\left(y, \sqrt{q}\,\xi, Q - q\right)^n\right]" % labels)
        plain = ("G(n) = n Q Q_hat/2 - n(n-1) q q_hat/2 + log E_xi[Zw(sqrt(q_hat) xi, Q_hat + q_hat)^n]"
                 " + alpha log sum_y P(y) E_xi[Zout(y, sqrt(q) xi, Q - q)^n]")
    else:
        tex = (r"G(n) = n\left(\frac{1}{2} Q \hat{Q} - m \hat{m}\right) - \frac{n(n-1)}{2} q \hat{q}"
               r" + \log \mathbb{E}_{w^* \sim P,\, \xi}\left[Z_w\left(\hat{m} w^* + \sqrt{\hat{q}}\,\xi, \hat{Q} + \hat{q}\right)^n\right]"
               r" + \alpha \log %s \mathbb{E}_{\xi}\left[Z^{*}_{\rm out}\left(y, \frac{m \xi}{\sqrt{q}}, \rho - \frac{m^2}{q}\right)"
               r" Z_{\rm out}\left(y, \sqrt{q}\,\xi, Q - q\right)^n\right]" % labels)
        plain = ("G(n) = n (Q Q_hat/2 - m m_hat) - n(n-1) q q_hat/2 + log E_{w*,xi}[Zw(m_hat w* + sqrt(q_hat) xi, Q_hat + q_hat)^n]"
                 " + alpha log sum_y E_xi[Zstar(y, m xi/sqrt(q), rho - m^2/q) Zout(y, sqrt(q) xi, Q - q)^n]")
    out = [("h", 2, "Replicated free entropy"),
           ("p", "Under the replica-symmetric ansatz, after introducing the overlaps and decoupling the sites, "
                 "the replicated free entropy per weight is"),
           ("math", [(tex, plain)])]
    if not ch.random_labels:
        rho = th.model.prior.second_moment()
        out.append(("p", Phrase.of("with ", Math(r"\rho = \mathbb{E}_P[w^2] = %s" % expr_latex(rho),
                                                 "rho = E_P[w**2] = %s" % expr_text(rho)),
                                   ", and ", _PHI_LIMIT, " is taken from its series in ", sym("n"), ".")))
    else:
        out.append(("p", Phrase.of("and ", _PHI_LIMIT, " is taken from its series in ", sym("n"), ".")))
    return out


_FAMILY_ORDER = ["Zw", "Zw0", "Zout", "Zstar"]


def _output_factor(model):
    """φ(y, λ), the student's output factor in Z_out, as the derivation builds it (None for ERM)."""
    try:
        return Derivation(model).output_factor()
    except DerivationError:
        return None


def _potential_blocks(th, heading=True):
    pots = th.potentials
    if not pots:
        return []
    out = [("h", 2, "Potentials")] if heading else []
    fams = [f for f in _FAMILY_ORDER if f in pots] + sorted(f for f in pots if f not in _FAMILY_ORDER)
    for fam in fams:
        slots, body = pots[fam]
        args_tex = ", ".join(expr_latex(s) for s in slots)
        args_txt = ", ".join(expr_text(s) for s in slots)
        if fam == "Zw":
            head, txt = r"Z_w", "Zw"
            out.append(("p", Phrase.of("Prior potential, ", Math(r"Z_w(b, A) = \int dP(w)\, e^{b w - A w^2/2}",
                                                                 "Zw(b, A) = Integral(exp(b*w - A*w**2/2), dP(w))"), ":")))
        elif fam == "Zw0":
            head, txt = r"Z^{0}_w", "Zw0"
            L = th.model.learning
            ridge = isinstance(L, ERM) and L.ridge != 0
            prec = r"(A + %s)" % expr_latex(L.ridge) if ridge else "A"
            prec_t = "(A + %s)" % expr_text(L.ridge) if ridge else "A"
            out.append(("p", Phrase.of("Zero-temperature prior potential (Laplace's method), ",
                                       Math(r"Z^0_w(b, A) = \max_{w \in \mathrm{supp}\, P} \left[b w - %s w^2/2\right]" % prec,
                                            "Zw0(b, A) = max_{w in supp P} [b*w - %s*w**2/2]" % prec_t), ":")))
        elif fam == "Zout":
            head, txt = r"Z_{\rm out}", "Zout"
            phi = _output_factor(th.model)
            zout = Math(r"Z_{\rm out}(y, \omega, V) = \mathbb{E}_u\, \varphi(y, \omega + \sqrt{V} u)",
                        "Zout(y, omega, V) = E_u phi(y, omega + sqrt(V)*u)")
            with_phi = ([" with ", Math(r"\varphi(y, \lambda) = " + expr_latex(phi), "phi(y, lambda) = " + expr_text(phi))]
                        if phi is not None else [])
            out.append(("p", Phrase.of("Output potential, ", zout, *with_phi, ":")))
        elif fam == "Zstar":
            head, txt = r"Z^{*}_{\rm out}", "Zstar"
            out.append(("p", Phrase.of("Teacher potential, ",
                                       Math(r"Z^*_{\rm out}(y, \omega, V) = \mathbb{E}_u\, P(y \mid \omega + \sqrt{V} u)",
                                            "Zstar(y, omega, V) = E_u P(y | omega + sqrt(V)*u)"), ":")))
        else:
            head, txt = symbol_tex(fam), fam
            out.append(("p", f"Potential `{fam}`:"))
        if isinstance(body, dict):
            y = slots[0]
            rows = []
            for label, e in body.items():
                a_tex = ", ".join(expr_latex(s) if s != y else expr_latex(sp.sympify(label)) for s in slots)
                a_txt = ", ".join(expr_text(s) if s != y else expr_text(sp.sympify(label)) for s in slots)
                rows.append(_eq(f"{head}\\left({a_tex}\\right)", f"{txt}({a_txt})", e))
            out.append(("math", rows))
        else:
            out.append(("math", [_eq(f"{head}\\left({args_tex}\\right)", f"{txt}({args_txt})", body)]))
    return out


def _prox_blocks(exprs):
    """The definition of every proximal map without closed form that appears in ``exprs``
    (one per label: the loss is specialized to the label before minimizing)."""
    seen = {}
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if isinstance(node, Prox) and type(node) not in seen:
                seen[type(node)] = node.args[0]
    if not seen:
        return []
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    rows = []
    for cls, label in seen.items():
        loss = cls.loss.xreplace({cls.x: x, cls.ysym: y})
        lab = y if cls.loss.has(cls.ysym) else label
        rows.append((r"\mathrm{prox}\left(%s, \omega, \chi\right) = \mathrm{argmin}_x \left[%s + \frac{(x - \omega)^2}{2\chi}\right]"
                     % (expr_latex(lab), expr_latex(loss)),
                     f"prox({expr_text(lab)}, omega, chi) = argmin_x [{expr_text(loss)} + (x - omega)**2/(2*chi)]"))
    return [("p", Phrase.of("Proximal map of the loss, ",
                            Math(r"\mathrm{prox}(y, \omega, \chi) = \mathrm{argmin}_x \left[\ell(y, x) + (x - \omega)^2/(2\chi)\right]",
                                 "prox(y, omega, chi) = argmin_x [loss(y, x) + (x - omega)**2/(2*chi)]"),
                            " (no closed form: a safeguarded Newton iteration in the generated code, "
                            "derivatives by the implicit-function theorem):")),
            ("math", rows)]


def _equation_blocks(th, title="Saddle-point equations"):
    out = [("h", 2, title)] if title else []
    out.append(("p", "Stationarity of the free entropy, in fixed-point form (overlaps from the prior side, "
                     "conjugates from the output side):"))
    out.append(_math(*th.equations))
    return out


def _paper_blocks(pf):
    """The free entropy and the equations in paper form (:mod:`replica.symbolic.paper`)."""
    elim = []
    for i, (k, v) in enumerate(pf.eliminated.items()):
        elim += ([", "] if i else [", the conjugates "]) + [sp.Eq(k, v, evaluate=False)]
    if elim:
        elim.append(" eliminated by their own equations")
    out = [("h", 2, "In paper form"),
           ("p", Phrase.of("The same free entropy and equations with the potentials written out: ",
                           Math(r"H(x) = \int_x^\infty Dz = \frac{1}{2}\mathrm{erfc}(x/\sqrt{2})",
                                "H(x) = Integral(Dz, (z, x, oo)) = erfc(x/sqrt(2))/2"), ", ",
                           Math(r"Dz = e^{-z^2/2} dz/\sqrt{2\pi}", "Dz = exp(-z**2/2) dz/sqrt(2*pi)"), *elim, ":")),
           ("math", [(r"\Phi_{\rm RS} = " + expr_latex(pf.free_entropy), "Phi_RS = " + expr_text(pf.free_entropy))]),
           _math(*pf.equations)]
    return out


def _document(th, paper=False):
    name = th.model.name
    blocks = [("h", 1, f"`{name}`: replica-symmetric theory"),
              ("p", f"Generated from the model by `replica derive {name}`; do not edit by hand.")]
    if th.model.description:
        blocks.append(("p", th.model.description[0].upper() + th.model.description[1:] + "."))
    blocks += _model_blocks(th)
    blocks += _order_blocks(th)
    blocks += _replicated_blocks(th)
    blocks += [("h", 2, "Replica-symmetric free entropy"),
               ("p", "The potentials are kept abstract; their definitions follow."),
               ("math", [(r"\Phi_{\rm RS} = " + expr_latex(th.free_entropy), "Phi_RS = " + expr_text(th.free_entropy))])]
    blocks += _potential_blocks(th)
    blocks += _prox_blocks([th.free_entropy] + [e.rhs for e in th.equations])
    blocks += _equation_blocks(th)
    if paper and th.paper_form() is not None:
        blocks += _paper_blocks(th.paper_form())
    if th.observables:
        blocks.append(("h", 2, "Observables"))
        for k, v in th.observables.items():
            blocks.append(("p", f"`{k}`:"))
            blocks.append(_math(v))
    if th.limits:
        blocks += [("h", 2, "Limits taken"), ("items", list(th.limits))]
    cap = th.capacity
    if cap is not None:
        blocks += [("h", 2, "Capacity"),
                   ("p", Phrase.of("The ", Math(r"q \to 1", "q -> 1"), " limit of the hard constraint: ",
                                   Math(r"\Phi \simeq \Phi_0/(1 - q)", "Phi ~ Phi_0/(1 - q)"), ". The capacity is the ",
                                   sym("alpha"), " where ", Math(r"\Phi_0", "Phi_0"), " vanishes at the fixed point.")),
                   ("math", [(r"\Phi_0 = " + expr_latex(cap.free_entropy), "Phi_0 = " + expr_text(cap.free_entropy))])]
        blocks += _potential_blocks(cap, heading=False)
        blocks += _equation_blocks(cap, title=None)
        if cap.fixed:
            blocks.append(("p", _held_fixed(cap.fixed)))
        if cap.limits:
            blocks += [("p", "Limits taken:"), ("items", list(cap.limits))]
    refs = REFERENCES.get(name, ["engel01"])
    blocks += [("h", 2, "References"), ("items", [_CITE[r] for r in refs])]
    return blocks


# -- printers ----------------------------------------------------------------------------------

_SPLIT = re.compile(r"(\$[^$]+\$|`[^`]+`|\*\*[^*]+\*\*|\*[^*]+\*)")


def _tex_escape(s):
    return (s.replace("\\", r"\textbackslash{}").replace("&", r"\&").replace("%", r"\%")
            .replace("#", r"\#").replace("_", r"\_").replace("{", r"\{").replace("}", r"\}")
            .replace("~", r"\textasciitilde{}").replace("^", r"\textasciicircum{}"))


def _inline_latex(text):
    out = []
    for part in _SPLIT.split(text):
        if part.startswith("$"):
            out.append(part)
        elif part.startswith("`"):
            out.append(r"\texttt{%s}" % _tex_escape(part[1:-1]))
        elif part.startswith("**"):
            out.append(r"\textbf{%s}" % _tex_escape(part[2:-2]))
        elif part.startswith("*") and len(part) > 1:
            out.append(r"\emph{%s}" % _tex_escape(part[1:-1]))
        else:
            out.append(_tex_escape(part))
    return "".join(out)


def theory_markdown(th, paper: bool = False) -> str:
    """The theory as Markdown with $$...$$ display math (the files in ``derivations/``);
    ``paper``: with the section "In paper form"."""
    lines = []
    for b in _document(th, paper):
        if b[0] == "h":
            lines += ["#" * b[1] + " " + b[2], ""]
        elif b[0] == "p":
            lines += [b[1], ""]
        elif b[0] == "items":
            lines += [f"- {it}" for it in b[1]] + [""]
        elif b[0] == "math":
            for tex, _ in b[1]:
                lines += ["$$", tex, "$$", ""]
        elif b[0] == "table":
            lines += ["| " + " | ".join(b[1]) + " |", "|" + " --- |" * len(b[1])]
            lines += ["| " + " | ".join(r) + " |" for r in b[2]] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def theory_latex(th, paper: bool = False) -> str:
    """The theory as a LaTeX fragment (sections, ``align*`` displays) to paste into a document;
    ``paper``: with the section "In paper form"."""
    cmd = {1: r"\section*", 2: r"\subsection*"}
    lines = []
    for b in _document(th, paper):
        if b[0] == "h":
            lines += [cmd.get(b[1], r"\paragraph") + "{" + _inline_latex(b[2]) + "}", ""]
        elif b[0] == "p":
            lines += [_inline_latex(b[1]), ""]
        elif b[0] == "items":
            lines += [r"\begin{itemize}"] + [r"  \item " + _inline_latex(it) for it in b[1]] + [r"\end{itemize}", ""]
        elif b[0] == "math":
            rows = [tex.replace(" = ", " &= ", 1) for tex, _ in b[1]]
            lines += [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}", ""]
        elif b[0] == "table":
            lines += [r"\begin{tabular}{" + "l" * len(b[1]) + "}", " & ".join(b[1]) + r" \\ \hline"]
            lines += [" & ".join(_inline_latex(c) for c in r) + r" \\" for r in b[2]]
            lines += [r"\end{tabular}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def theory_text(th, paper: bool = False) -> str:
    """The theory as plain text (SymPy's string form of every expression); ``paper``: with the
    section "In paper form"."""
    lines = []
    for b in _document(th, paper):
        if b[0] == "h":
            t = plain(b[2])
            lines += [t, ("=" if b[1] == 1 else "-") * len(t), ""]
        elif b[0] == "p":
            lines += [plain(b[1]), ""]
        elif b[0] == "items":
            lines += [f"  - {plain(it)}" for it in b[1]] + [""]
        elif b[0] == "math":
            lines += [f"    {plain}" for _, plain in b[1]] + [""]
        elif b[0] == "table":
            rows = [b[1]] + [[plain(c) for c in r] for r in b[2]]
            widths = [max(len(r[i]) for r in rows) for i in range(len(b[1]))]
            lines += ["  " + "  ".join(c.ljust(wd) for c, wd in zip(r, widths)).rstrip() for r in rows] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


class Rendered:
    """The rendering methods shared by every theory (``Theory``, ``CommitteeTheory``): the
    derivation as LaTeX, Markdown or plain text, its paper form, the notebook's displays and a
    one-line repr."""

    def latex(self, paper: bool = False) -> str:
        return theory_latex(self, paper)

    def markdown(self, paper: bool = False) -> str:
        return theory_markdown(self, paper)

    def text(self, paper: bool = False) -> str:
        return theory_text(self, paper)

    def free_entropy_latex(self) -> str:
        """Φ_RS as derived (potentials abstract), in LaTeX."""
        return expr_latex(self.free_entropy)

    def paper_form(self) -> PaperForm | None:
        """Φ and the saddle-point equations as papers write them (:func:`replica.symbolic.paper.paper_form`);
        None for committee machines and zero-temperature ERM, whose derived forms (overlap
        matrices; proximal maps, as in Aubin et al. 2020) are already the papers' forms."""
        return self._paper

    @cached_property
    def _paper(self):
        if not hasattr(self, "explicit") or self.kind == "zero-temperature":
            return None
        return paper_form(self)

    def _repr_markdown_(self):
        """Jupyter: the whole derivation (model, Φ, potentials, equations, the paper form,
        observables, limits, references)."""
        return theory_markdown(self, paper=True)

    def _repr_latex_(self):
        """Front ends without Markdown: Φ and the equations in paper form, else as derived."""
        pf = self.paper_form()
        phi, eqs = (pf.free_entropy, pf.equations) if pf is not None else (self.free_entropy, self.equations)
        rows = [r"\Phi_{\rm RS} &= " + expr_latex(phi)] + [expr_latex(e).replace(" = ", " &= ", 1) for e in eqs]
        return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$"

    def __repr__(self):
        names = lambda xs: ", ".join(s.name for s in xs)  # noqa: E731
        return (f"<{type(self).__name__} {self.model.name!r} ({self.kind}): order parameters "
                f"{names(self.order_parameters)}; parameters {names(self.parameters)}>")
