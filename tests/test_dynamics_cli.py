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


def test_bad_input_is_one_line_exit_2():
    for args in (["dynamics", "spiked-matrix-tensor", "--set", "delta2=-1", "--t-max", "2"],
                 ["dynamics", "spiked-matrix-tensor", "--set", "p=5", "--t-max", "2"],
                 ["dynamics", "soft-committee-sgd", "--set", "K=1.5", "--t-max", "2"],
                 ["dynamics", "spiked-matrix-tensor", "--t-max", "1000", "--h", "0.01"],
                 ["dynamics", "nonexistent", "--t-max", "2"],
                 ["dynamics", "spiked-matrix-tensor", "--t-max", "2", "--plot", "/nonexistent/dir/x.png"],
                 ["transition", "spiked-matrix-tensor", "--along", "deltap"],
                 ["simulate", "spiked-matrix-tensor", "--algorithm", "online-sgd", "--t-max", "2"],
                 ["simulate", "spiked-matrix-tensor", "--n", "40"]):
        r = run(args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.startswith("replica: error: ") and r.stderr.count("\n") == 1, (args, r.stderr)
