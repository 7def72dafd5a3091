"""Monte Carlo Gibbs learning at finite N against the independent RS oracle of Seung, Sompolinsky
& Tishby 1992 (tests/oracles/classification.py: ising_gibbs) and the compiled theory."""
import math

from scipy.stats import t as student_t

from oracles.classification import ising_gibbs
from sims.data import sample
from sims.measure import summarize
from sims.montecarlo import run_gibbs


def _agree(values, theory, n, c=0.1):
    mean, se, k = summarize(values)
    tol = student_t.ppf(0.995, k - 1) * se + c / math.sqrt(n)
    assert abs(mean - theory) <= tol, (mean, se, theory, tol)


def test_ising_gibbs_metropolis_at_finite_temperature():
    n, alpha, T = 64, 1.0, 0.5
    d = sample("ising-gibbs", {"T": T}, n=n, seeds=12, alpha=alpha)
    r = run_gibbs(d, sweeps=400)
    ref = ising_gibbs(alpha, T)
    _agree(r["m"], ref["m"], n)
    _agree(r["q"], ref["q"], n)
    _agree(r["generalization_error"], ref["eps"], n)
    # equilibration diagnostic: no drift between the halves of the measurement window
    drift, se, _ = summarize(r["drift"]["m"])
    assert abs(drift) <= 4 * se + 0.02
    # training error: the energy per sample, T^2 dPhi/dT / alpha of the compiled theory
    from replica.solve import solve
    from replica.codegen.compiled import load_compiled
    sol = solve(load_compiled("ising-gibbs"), {"alpha": alpha, "T": T})
    _agree(r["energy"], float(sol["training_error"]), n)
