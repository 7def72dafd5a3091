"""``replica list`` and ``replica derive``: the built-in models, and a model's RS theory."""
from __future__ import annotations

import click

from ._base import _default_text, _emit_json, _parameters, _quiet, main


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--names", is_flag=True, help="Print only the model names, one per line.")
def list_(as_json, names):
    """The built-in models, their parameters (domain, default) and descriptions."""
    from ..builtin import BUILTINS
    from .dynamics import dynamical_listing
    dynamical = dynamical_listing()
    if names and not as_json:
        for name in [*BUILTINS, *(m["name"] for m in dynamical)]:
            click.echo(name)
        return
    models = [{"name": name, "description": make.description, "parameters": _parameters(make())}
              for name, make in BUILTINS.items()] + dynamical
    if as_json:
        _emit_json({"models": models})
        return
    for i, m in enumerate(models):
        if i:
            click.echo()
        click.echo(f"{m['name']}: {m['description']}")
        width = max(len(k) for k in m["parameters"])
        for k, p in m["parameters"].items():
            click.echo(f"  {k:<{width}}  in {p['domain']:<12} default {_default_text(p['default'])}")


@main.command()
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "markdown"]), default="text",
              show_default=True, help="How to print the theory.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (LaTeX free entropy and equations) instead.")
def derive(model, fmt, as_json):
    """Derive the replica-symmetric theory of MODEL (a built-in name or FILE.py[:VARIABLE])."""
    from .. import derive as derive_theory
    from ..model import load_model
    from ..symbolic.render import expr_latex, theory_latex, theory_markdown, theory_text
    from .dynamics import derive_dynamical, is_dynamical
    if is_dynamical(model):
        return derive_dynamical(model, fmt, as_json)
    with _quiet(as_json):
        th = derive_theory(load_model(model))
    if as_json:
        _emit_json({
            "model": th.model.name,
            "kind": th.kind,
            "order_parameters": [s.name for s in th.order_parameters],
            "free_entropy": expr_latex(th.free_entropy),
            "equations": [expr_latex(e) for e in th.equations],
            "parameters": _parameters(th.model),
            "fixed": {k.name: expr_latex(v) for k, v in th.fixed.items()},
            "observables": {k: expr_latex(v) for k, v in th.observables.items()},
            "capacity": None if th.capacity is None else {
                "free_entropy": expr_latex(th.capacity.free_entropy),
                "equations": [expr_latex(e) for e in th.capacity.equations]},
        })
        return
    render = {"text": theory_text, "latex": theory_latex, "markdown": theory_markdown}[fmt]
    click.echo(render(th), nl=False)
