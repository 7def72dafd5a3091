"""``replica dynamics`` and the dynamical branches of ``simulate`` / ``transition``.

References: the gradient-flow closed form [√(Δ_p² + 4(p−1)Δ_p) − Δ_p]/(2(p−1)) (Sarao Mannelli
et al. NeurIPS 2019) by hand; the information-theoretic threshold from mpmath's findroot on
Φ(m) = 0 = Φ'(m), Φ(m) = ½log(1 − m) + m/2 + m²/(4Δ₂) + m³/(6Δ_p) (Sarao Mannelli et al. PRX 2020)
written out here; AMP at Δ₂ = 1.
"""
import json
import math

import mpmath as mp
from click.testing import CliRunner

from replica.cli import main


def run(args):
    return CliRunner().invoke(main, args)


def test_dynamics_json_shape_dmft():
    r = run(["dynamics", "spiked-matrix-tensor", "--set", "delta2=0.4", "--t-max", "2", "--h", "0.1", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "spiked-matrix-tensor" and doc["parameters"]["delta2"] == 0.4
    assert len(doc["t"]) == 21 and set(doc["observables"]) >= {"m", "energy"}
    assert doc["observables"]["m"][0] == 0.01 and doc["observables"]["m"][-1] > 0.01


def test_dynamics_json_shape_sgd():
    r = run(["dynamics", "soft-committee-sgd", "--set", "K=2", "--set", "M=3", "--t-max", "3", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    eg = doc["observables"]["generalization_error"]
    assert len(eg) == len(doc["t"]) and eg[-1] < eg[0]
    assert "R_13" in doc["observables"]


def test_transition_spiked_matrix_tensor():
    dp = 0.5
    r = run(["transition", "spiked-matrix-tensor", "--along", "delta2", "--set", f"deltap={dp}", "--json"])
    assert r.exit_code == 0, r.output
    found = {t["kind"]: t["value"] for t in json.loads(r.stdout)["transitions"]}
    assert math.isclose(found["gradient_flow"], (math.sqrt(dp * dp + 8 * dp) - dp) / 4, rel_tol=1e-12)
    assert found["amp"] == 1.0
    phi = lambda m, d2: mp.log(1 - m) / 2 + m / 2 + m**2 / (4 * d2) + m**3 / (6 * dp)  # noqa: E731
    dphi = lambda m, d2: -1 / (2 * (1 - m)) + mp.mpf(1) / 2 + m / (2 * d2) + m**2 / (2 * dp)  # noqa: E731
    m_it, d2_it = mp.findroot(lambda m, d2: [phi(m, d2), dphi(m, d2)], (0.5, 1.17))
    assert 0 < m_it < 1
    assert abs(found["information_theoretic"] - float(d2_it)) < 1e-7


def test_transition_gradient_flow_measured_on_the_dmft():
    """--kind gradient_flow_dmft (replica.dynamics.dmft.gradient_flow_threshold_from_rates, horizon
    40) at Δ_p = 2 against the closed form [√(Δ_p² + 4(p−1)Δ_p) − Δ_p]/(2(p−1)) written out here:
    within 3 % (measured +2.1 %); with --kind only the kinds asked for are reported."""
    dp = 2.0
    r = run(["transition", "spiked-matrix-tensor", "--along", "delta2", "--set", f"deltap={dp}",
             "--kind", "gradient_flow_dmft", "--kind", "gradient_flow", "--json"])
    assert r.exit_code == 0, r.output
    found = {t["kind"]: t for t in json.loads(r.stdout)["transitions"]}
    assert set(found) == {"gradient_flow_dmft", "gradient_flow"}
    closed = (math.sqrt(dp * dp + 8 * dp) - dp) / 4
    assert abs(found["gradient_flow_dmft"]["value"] - closed) < 0.03 * closed, found
    assert found["gradient_flow_dmft"]["rates"][0] > found["gradient_flow_dmft"]["rates"][1] > 0


def test_bad_input_is_one_line_exit_2():
    for args in (["dynamics", "spiked-matrix-tensor", "--set", "delta2=-1", "--t-max", "2"],
                 ["dynamics", "spiked-matrix-tensor", "--set", "p=5", "--t-max", "2"],
                 ["dynamics", "soft-committee-sgd", "--set", "K=1.5", "--t-max", "2"],
                 ["dynamics", "spiked-matrix-tensor", "--t-max", "1000", "--h", "0.01"],
                 ["dynamics", "nonexistent", "--t-max", "2"],
                 ["dynamics", "spiked-matrix-tensor", "--t-max", "2", "--plot", "/nonexistent/dir/x.png"],
                 ["transition", "spiked-matrix-tensor", "--along", "deltap"],
                 ["transition", "spiked-matrix-tensor", "--along", "delta2", "--kind", "capacity"],
                 ["transition", "gardner", "--along", "alpha", "--kind", "gradient_flow_dmft"],
                 ["simulate", "spiked-matrix-tensor", "--algorithm", "online-sgd", "--t-max", "2"],
                 ["simulate", "spiked-matrix-tensor", "--n", "40"]):
        r = run(args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.startswith("replica: error: ") and r.stderr.count("\n") == 1, (args, r.stderr)


def test_list_shows_the_dynamical_builtins():
    """DESIGN.md's table: spiked-matrix-tensor (p (3), delta2, deltap, T (0)), soft-committee-sgd
    (K, M, eta)."""
    r = run(["list", "--json"])
    assert r.exit_code == 0, r.output
    models = {m["name"]: m for m in json.loads(r.stdout)["models"]}
    smt, sgd = models["spiked-matrix-tensor"], models["soft-committee-sgd"]
    assert list(smt["parameters"]) == ["p", "delta2", "deltap", "T"] and list(sgd["parameters"]) == ["K", "M", "eta"]
    assert smt["parameters"]["p"] == {"domain": "{3, 4}", "default": 3.0}
    assert smt["parameters"]["T"]["default"] == 0.0 and smt["kind"] == sgd["kind"] == "dynamical"
    text = run(["list"]).stdout
    assert "spiked-matrix-tensor: " in text and "soft-committee-sgd: " in text


def test_derive_prints_the_dynamical_equations():
    """The DMFT's m-equation at p = 3 without its memory integral is −μm + m/Δ₂ + m²/Δ_p (Q'(m) of
    Q(c) = c²/(2Δ₂) + c³/(3Δ_p), written out here); the derivation file is what derive prints."""
    import sympy as sp
    from pathlib import Path
    from replica.dynamics.equations import equations, render
    eqs = dict(equations("spiked-matrix-tensor"))
    p, d2, dp = sp.Symbol("p", integer=True, positive=True), *sp.symbols("Delta_2 Delta_p", positive=True)
    t = sp.Symbol("t", real=True)
    m, mu = sp.Function("m")(t), sp.Function("mu")(t)
    rhs = eqs["overlap with the signal"].rhs.subs(p, 3).replace(sp.Integral, lambda *a: 0)
    assert sp.simplify(rhs - (-mu * m + m / d2 + m**2 / dp)) == 0
    c = sp.Symbol("c", positive=True)
    assert sp.simplify(eqs["covariance of the noise field, Q(c)"].rhs.subs(p, 3) - (c**2 / (2 * d2) + c**3 / (3 * dp))) == 0
    for name in ("spiked-matrix-tensor", "soft-committee-sgd"):
        r = run(["derive", name])
        assert r.exit_code == 0, r.output
        assert r.stdout.count("\n") > 10
        doc = json.loads(run(["derive", name, "--json"]).stdout)
        assert doc["kind"] == "dynamical" and len(doc["equations"]) >= 5
        path = Path(__file__).resolve().parent.parent / "derivations" / f"{name}.md"
        assert path.read_text(encoding="utf-8") == render(name, "markdown")


def test_verify_soft_committee_sgd_agrees_and_exits_0(tmp_path):
    """ε_g(t) of online SGD (N = 250, 500, extrapolated in 1/N) against the ODEs: exit 0."""
    png = tmp_path / "v.png"
    r = run(["verify", "soft-committee-sgd", "--set", "K=2", "--set", "M=2", "--t-max", "3", "--n", "250",
             "--n", "500", "--seeds", "4", "--seed", "1", "--json", "--plot", str(png)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "agree" and doc["sizes"] == [250, 500] and png.stat().st_size > 0
    assert len(doc["points"]) == 5 and all(p["observable"] == "generalization_error" for p in doc["points"])
    assert doc["points"][-1]["theory"] < 0.5 * doc["points"][0]["theory"]     # it learned: the check has content


def test_verify_dynamical_bad_input_is_one_line_exit_2():
    for args in (["verify", "spiked-matrix-tensor", "--t-max", "100"],
                 ["verify", "spiked-matrix-tensor", "--t-max", "2", "--seeds", "1"],
                 ["verify", "spiked-matrix-tensor", "--t-max", "2", "--sweep", "delta2=0.1:0.2:2"],
                 ["verify", "spiked-matrix-tensor", "--t-max", "2", "--algorithm", "langevin"],
                 ["verify", "spiked-matrix-tensor", "--t-max", "2", "--n", "2000"],
                 ["verify", "spiked-matrix-tensor"],
                 ["verify", "soft-committee-sgd", "--t-max", "2", "--algorithm", "langevin"],
                 ["verify", "gardner", "--n", "10"]):
        r = run(args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.startswith("replica: error: ") and r.stderr.count("\n") == 1, (args, r.stderr)
