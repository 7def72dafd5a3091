"""``--rule {auto,hermite,legendre,adaptive}`` on ``solve``, ``transition`` and ``phase-diagram``
(issue 12): validated before any work (exit 2, one line), and the adaptive rule gives the
oracle's fixed point (Györgyi's equations, tests/oracles) with its check rule in the JSON."""
import json

import pytest
from click.testing import CliRunner

from replica.cli import main

from oracles import classification as oc


def run(args):
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("command", [
    ["solve", "ising-bayes", "--set", "alpha=1.2"],
    ["transition", "ising-bayes", "--along", "alpha"],
    ["phase-diagram", "ising-bayes", "--x", "alpha=1:2:3", "--y", "flip=0:0.1:2"],
])
def test_rule_is_validated_before_work(command):
    code, out, err = run(command + ["--rule", "simpson"])
    assert code == 2 and out == ""
    assert err.strip().startswith("replica: error: ") and len(err.strip().splitlines()) == 1
    assert "adaptive" in err                                  # the choices are named
    code, out, err = run(command + ["--rule", "hermite", "--nodes", "400"])
    assert code == 2 and "300" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(command + ["--rule", "simpson", "--json"])
    assert code == 2 and "error" in json.loads(out)


def test_solve_with_the_adaptive_rule():
    code, out, err = run(["solve", "ising-bayes", "--set", "alpha=1.2", "--init", "uninformed", "--rule", "adaptive",
                          "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["quadrature"] == {"rule": "adaptive", "nodes": 400, "check": "adaptive 800"}
    (p,) = doc["points"]
    assert p["converged"]
    ref = oc.ising_bayes_fixed_point(1.2, 0.0)
    assert p["q"] == pytest.approx(ref["q"], abs=1e-9)
    assert p["free_entropy"] == pytest.approx(ref["free_entropy"], abs=1e-9)
