"""derivations/<name>.md is what the code derives now, for every built-in model."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import replica
from replica.builtin import BUILTINS
from replica.symbolic.render import theory_markdown

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"
REGENERATE = ("for m in $(replica list --names); do replica derive $m --format markdown "
              "> derivations/$m.md; done")


@pytest.mark.parametrize("name", list(BUILTINS))
def test_derivation_is_current(name):
    path = DERIVATIONS / f"{name}.md"
    assert path.exists(), f"derivations/{name}.md is missing; regenerate with: {REGENERATE}"
    fresh = theory_markdown(replica.derive(name))
    assert path.read_text(encoding="utf-8") == fresh, f"derivations/{name}.md is stale; regenerate with: {REGENERATE}"


def test_index_lists_every_builtin():
    index = (DERIVATIONS / "README.md").read_text(encoding="utf-8")
    for name in BUILTINS:
        assert f"[{name}.md]({name}.md)" in index
    assert REGENERATE in index


def test_markdown_is_the_same_in_fresh_processes_with_different_hash_seeds():
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = subprocess.run([sys.executable, "-m", "replica", "derive", "ising-gibbs", "--format", "markdown"],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]


_LATEX = ("\\", "$", "frac", "mathrm", "mathbb", "{hat}", "^{", "left(", "_{\\rm")


@pytest.mark.parametrize("name", [n for n in BUILTINS if "committee" in n and "sgd" not in n])
def test_committee_text_has_no_latex(name):
    """The committee derivation's steps are Phrases (Markdown and a plain spelling written beside
    it): the text format holds no LaTeX, the Markdown keeps its math."""
    th = replica.derive(name)
    text = th.text()
    for line in text.splitlines():
        assert not any(bad in line for bad in _LATEX), line
    assert "Tr(Q_hat^aa Q^aa)/2" in text and "Z*_out" in text        # the hand spelling, stars kept
    assert "\\mathrm{Tr}" in theory_markdown(th)
