"""The documents' code runs: every Python block of README.md and of the tutorial
(derivations/tutorial.md) is executed in order, headless, as notebook cells — one fresh
namespace per document, the value of a cell's last expression displayed as Jupyter would (a
Figure as PNG, an object through its ``_repr_markdown_``/``_repr_html_``/repr) and every
pyplot figure a cell leaves open rendered to PNG and closed, as the inline backend does."""
import ast
import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def python_blocks(path: Path) -> list:
    """The ```python blocks of a Markdown file, in order."""
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return buf.getvalue()


def _display(value) -> dict:
    if isinstance(value, Figure):
        return {"image/png": _png(value)}
    for meth, mime in (("_repr_markdown_", "text/markdown"), ("_repr_html_", "text/html")):
        f = getattr(value, meth, None)
        if callable(f):
            out = f()
            if out:
                return {mime: out}
    return {"text/plain": repr(value)}


def run_cells(cells: list, name: str) -> list:
    """Execute ``cells`` in one fresh namespace; the outputs of each cell (a list of dicts
    mime type -> data)."""
    ns = {"__name__": "__main__"}
    outputs = []
    plt.close("all")
    for i, src in enumerate(cells):
        tree = ast.parse(src, filename=f"{name}[{i}]")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"{name}[{i}]", "exec"), ns)
        out = []
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"{name}[{i}]", "eval"), ns)
            if value is not None:
                out.append(_display(value))
        for num in plt.get_fignums():                  # the inline backend: open figures shown, closed
            fig = plt.figure(num)
            if not any("image/png" in o and o["image/png"] == _png(fig) for o in out):
                out.append({"image/png": _png(fig)})
            plt.close(fig)
        outputs.append(out)
    return outputs


def test_readme_python_blocks_run():
    cells = python_blocks(ROOT / "README.md")
    assert len(cells) >= 4
    for i, cell in enumerate(cells):                   # each README block stands alone
        run_cells([cell], f"README.md block {i}")


def test_tutorial_runs_headless_with_inline_figures():
    cells = python_blocks(ROOT / "derivations" / "tutorial.md")
    outputs = run_cells(cells, "tutorial.md")
    shown = [o for out in outputs for o in out]
    images = [o["image/png"] for o in shown if "image/png" in o]
    assert len(images) >= 2                            # the phase diagram and the verify figure
    assert all(img.startswith(PNG) and len(img) > 5000 for img in images)
    derivation = outputs[0][0]["text/markdown"]        # the model's cell displays its derivation
    assert "## Saddle-point equations" in derivation and "$$" in derivation
