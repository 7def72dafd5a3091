"""Printing expressions and prose in two spellings: LaTeX (Markdown, notebooks, papers) and plain text.

* :func:`expr_latex` / :func:`expr_text`: one SymPy expression through SymPy's own LaTeX and
  string printers, with the project's symbol names (``q_hat`` -> ``\\hat{q}``) and bound
  variables (``Dummy``) renamed deterministically.
* :class:`Phrase`: a sentence with inline math, built from text pieces and :class:`Math` pieces
  that carry both spellings, so the plain-text document never has to be recovered from LaTeX.
  Its ``str`` value is the Markdown markup (``$...$`` math, ```code```, ``**bold**``); ``.text``
  is the plain form, math spelled by SymPy's string printer (or by hand, next to the LaTeX, for
  notation that is not an expression).
"""
from __future__ import annotations

from typing import NamedTuple

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = ["symbol_tex", "expr_latex", "expr_text", "Math", "Phrase", "math", "sym", "plain"]

_TEX_NAMES = {
    "q_hat": r"\hat{q}", "m_hat": r"\hat{m}", "Q_hat": r"\hat{Q}", "chi_hat": r"\hat{\chi}",
    "chi": r"\chi", "alpha": r"\alpha", "kappa": r"\kappa", "delta": r"\Delta",
    "lam": r"\lambda", "lambda": r"\lambda", "omega": r"\omega", "xi": r"\xi", "beta": r"\beta",
    "w_star": r"w^{*}", "flip": r"\epsilon", "rho": r"\rho",
}


def symbol_tex(name: str) -> str:
    """LaTeX of a symbol by its name: ``q_hat`` -> ``\\hat{q}``, ``delta`` -> ``\\Delta``, ..."""
    if name in _TEX_NAMES:
        return _TEX_NAMES[name]
    if name.endswith("_hat") and len(name) > 4:
        return r"\hat{%s}" % symbol_tex(name[:-4])
    default = sp.latex(sp.Symbol(name))
    if len(name) > 1 and default == name:          # a word, not a product of letters
        return r"\mathrm{%s}" % name
    return default


def _canonical(expr):
    """``expr`` with its Dummy symbols replaced by plain symbols named after them, in order of
    first appearance; a name already taken gets a subscript (``xi_2``)."""
    expr = sp.sympify(expr)
    dummies = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Dummy) and node not in dummies:
            dummies.append(node)
    if not dummies:
        return expr
    taken = {s.name for s in expr.atoms(sp.Symbol) if not isinstance(s, sp.Dummy)}
    reps = {}
    for d in dummies:
        name, k = d.name, 2
        while name in taken:
            name, k = f"{d.name}_{k}", k + 1
        taken.add(name)
        reps[d] = sp.Symbol(name, **d.assumptions0)
    return expr.xreplace(reps)


class _LatexPrinter(LatexPrinter):
    def _print_Heaviside(self, e, exp=None):
        s = r"\Theta\left(%s\right)" % self._print(e.args[0])
        return s if exp is None else r"%s^{%s}" % (s, exp)


def expr_latex(expr) -> str:
    """LaTeX of an expression (or ``Eq``) with the project's symbol names, deterministically."""
    expr = _canonical(expr)
    names = {s: symbol_tex(s.name) for s in expr.atoms(sp.Symbol)}
    return _LatexPrinter({"symbol_names": names}).doprint(expr)


class _StrPrinter(StrPrinter):
    def _print_Prox(self, e):
        return "prox(%s)" % ", ".join(self._print(a) for a in e.args)


def expr_text(expr) -> str:
    """Plain-text form of an expression (``Eq`` as ``lhs = rhs``): SymPy's string printer,
    deterministically."""
    expr = _canonical(expr)
    p = _StrPrinter()
    if isinstance(expr, sp.Eq):
        return f"{p.doprint(expr.lhs)} = {p.doprint(expr.rhs)}"
    return p.doprint(expr)


# -- prose with inline math -------------------------------------------------------------------

class Math(NamedTuple):
    """Inline math in its two spellings."""
    tex: str
    text: str


def math(expr) -> Math:
    """Inline math of a SymPy expression (or ``Eq``), both spellings from SymPy's printers."""
    return Math(expr_latex(expr), expr_text(expr))


def sym(name: str) -> Math:
    """Inline math of a symbol by its project name: ``\\hat{q}`` / ``q_hat``."""
    return Math(symbol_tex(name), name)


def _unmark(s: str) -> str:
    """Markup without its marks: ```code``` kept verbatim (without backticks); ``**bold**`` and
    ``*emphasis*`` stars dropped outside code."""
    parts = s.split("`")
    return "".join(p if i % 2 else p.replace("*", "") for i, p in enumerate(parts))


class Phrase(str):
    """A sentence in two spellings: the ``str`` value is Markdown with ``$LaTeX$`` math; ``.text``
    the plain text.  Build with :meth:`of`."""

    def __new__(cls, markup: str, text: str | None = None):
        obj = super().__new__(cls, markup)
        obj.text = _unmark(markup) if text is None else text
        return obj

    def __getnewargs__(self):
        return (str(self), self.text)

    @classmethod
    def of(cls, *parts) -> "Phrase":
        """Join text pieces (markup: ```code```, ``**bold**``, ``*emphasis*``; no ``$``) and
        :class:`Math` pieces (or SymPy expressions, printed by :func:`math`)."""
        markup, text = [], []
        for p in parts:
            if isinstance(p, str):
                markup.append(str(p))
                text.append(p.text if isinstance(p, Phrase) else _unmark(p))
                continue
            m = p if isinstance(p, Math) else math(p)
            markup.append(f"${m.tex}$")
            text.append(m.text)
        return cls("".join(markup), "".join(text))

    @classmethod
    def spelled(cls, markup: str, *texts: str) -> "Phrase":
        """A Phrase from Markdown with ``$LaTeX$`` math and, in order, the plain spelling of each
        math piece, written by hand (notation that is not a SymPy expression: ``Tr``, ``E_xi``,
        matrices).  Nothing is converted from the LaTeX; a count that does not match raises."""
        pieces = markup.split("$")
        if len(pieces) != 2 * len(texts) + 1:
            raise ValueError(f"{(len(pieces) - 1) // 2} math pieces in {markup!r}, {len(texts)} plain spellings")
        return cls.of(*(Math(p, texts[i // 2]) if i % 2 else p for i, p in enumerate(pieces)))


def plain(s: str) -> str:
    """The plain text of a :class:`Phrase`; any other string is taken as markup without math
    and only loses its marks (a string holding ``$LaTeX$`` keeps it verbatim: there is no
    LaTeX-to-text conversion)."""
    return s.text if isinstance(s, Phrase) else _unmark(s)
