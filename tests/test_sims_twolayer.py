"""Two-layer (committee) networks trained by online SGD and full-batch GD (sims/twolayer.py).

Every asserted number comes from outside the code under test:

* Saad & Solla, PRL 74, 4337 (1995): soft committee (g = erf(x/√2), K = M, orthonormal
  teacher T = I, noiseless, small η, small random initial weights), online rule
  J_i ← J_i + (η/N) δ_i ξ, ε_g = ½⟨(Σ_i g(x_i) − Σ_n g(y_n))²⟩.  Their symmetric fixed point
  (the plateau): Q_ii = Q_ik = 1/(2K − 1), R_in = 1/√(K(2K − 1)) for all i, n (Q = C, R = S in
  their notation; VALIDATION.md), the small-η limit.  Its ε_g is their formula
  ε_g = (1/π)[Σ_ik asin(Q_ik/√((1+Q_ii)(1+Q_kk))) + Σ_nm asin(T_nm/√((1+T_nn)(1+T_mm)))
  − 2 Σ_in asin(R_in/√((1+Q_ii)(1+T_nn)))] evaluated at that point — written out by hand here.
  After the plateau the student specializes: R → permutation of the identity, ε_g → 0.
* linear student and teacher, online SGD w ← w + (η/√N)(y − λ)x: with d = w* − w,
  E|d'|² = |d|²(1 − 2η/N + η²(N + 2)/N²) exactly (E(d·x)² = |d|², E(d·x)²|x|² = (N + 2)|d|²),
  so E ε_g after t steps is ε_g(0) ρ^t — an exact finite-N oracle for the time scale.
* full-batch GD with square loss, linear K = 1, ridge r: the minimizer solves
  (XᵀX/N + rI) w = Xᵀy/√N (numpy.linalg.solve).
* pair kernels and ε_g: Monte Carlo in NumPy on Gaussian samples, with a 5-standard-error tolerance.
"""
import math

import numpy as np
import pytest
import torch
import xarray as xr
from scipy.special import erf

import replica
from replica.params import ParameterError
from replica.variables import cf_attrs
from sims.twolayer import (generalization_error_closed, generalization_error_mc, make_teacher, matched_overlaps,
                           pair_kernel, run_gd, run_online_sgd)


# ------------------------------------------------------------------------------------------
# closed forms against Monte Carlo
# ------------------------------------------------------------------------------------------
_NP_ACT = {"erf": lambda u: erf(u / math.sqrt(2)), "relu": lambda u: np.maximum(u, 0.0), "sign": np.sign,
           "linear": lambda u: u}


@pytest.mark.parametrize("g1", ["erf", "relu", "sign", "linear"])
@pytest.mark.parametrize("g2", ["erf", "relu", "sign", "linear"])
def test_pair_kernel_matches_numpy_monte_carlo(g1, g2):
    rng = np.random.default_rng(7)
    c11, c22, c12 = 0.7, 1.9, -0.6
    L = np.linalg.cholesky([[c11, c12], [c12, c22]])
    u = rng.standard_normal((400_000, 2)) @ L.T
    f = _NP_ACT[g1](u[:, 0]) * _NP_ACT[g2](u[:, 1])
    mc, se = f.mean(), f.std() / math.sqrt(len(f))
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    val = float(pair_kernel(g1, g2, t(c11), t(c22), t(c12)))
    assert abs(val - mc) < 5 * se + 1e-12, (g1, g2, val, mc, se)


@pytest.mark.parametrize("student,teacher", [("erf", "erf"), ("relu", "sign"), ("linear", "relu"), ("erf", "relu")])
def test_generalization_error_closed_form_matches_fresh_inputs(student, teacher):
    """Arbitrary (non-committee) weights and second layers: the closed form against ½(σ − σ*)²
    averaged over fresh inputs x ~ N(0, I_N) drawn in NumPy (not the module's sampler)."""
    rng = np.random.default_rng(3)
    S, K, M, N = 2, 3, 2, 40
    W = rng.standard_normal((S, K, N)) * 0.8
    Wt = rng.standard_normal((S, M, N))
    a = rng.uniform(0.3, 1.5, (S, K))
    v = rng.uniform(0.5, 1.2, (S, M))
    Q, R, T = W @ W.transpose(0, 2, 1) / N, W @ Wt.transpose(0, 2, 1) / N, Wt @ Wt.transpose(0, 2, 1) / N
    closed = generalization_error_closed(Q, R, T, student, teacher, a, v).numpy()
    X = rng.standard_normal((200_000, N)) / math.sqrt(N)
    for s in range(S):
        d = 0.5 * ((_NP_ACT[student](X @ W[s].T) * a[s]).sum(1) - (_NP_ACT[teacher](X @ Wt[s].T) * v[s]).sum(1))**2
        assert abs(closed[s] - d.mean()) < 5 * d.std() / math.sqrt(len(d)), (s, closed[s], d.mean())


def test_saad_solla_formula_written_out():
    """The erf–erf case is Saad & Solla's arcsin formula, checked term by term on random overlaps."""
    rng = np.random.default_rng(11)
    K, M, N = 3, 2, 30
    W, Wt = rng.standard_normal((K, N)), rng.standard_normal((M, N))
    Q, R, T = W @ W.T / N, W @ Wt.T / N, Wt @ Wt.T / N
    ss = sum(math.asin(Q[i, k] / math.sqrt((1 + Q[i, i]) * (1 + Q[k, k]))) for i in range(K) for k in range(K))
    tt = sum(math.asin(T[n, m] / math.sqrt((1 + T[n, n]) * (1 + T[m, m]))) for n in range(M) for m in range(M))
    st = sum(math.asin(R[i, n] / math.sqrt((1 + Q[i, i]) * (1 + T[n, n]))) for i in range(K) for n in range(M))
    assert float(generalization_error_closed(Q, R, T)) == pytest.approx((ss + tt - 2 * st) / math.pi, rel=1e-13)


def test_mc_estimator_of_the_module_agrees_with_closed_form():
    t = make_teacher(60, 2, 3, seed=4, activation="sign", weights="gaussian")
    g = torch.Generator().manual_seed(0)
    W = torch.randn((3, 4, 60), dtype=torch.float64, generator=g)
    a = torch.full((3, 4), 0.5, dtype=torch.float64)
    Q = W @ W.transpose(1, 2) / 60
    R = W @ t.W.transpose(1, 2) / 60
    closed = generalization_error_closed(Q, R, t.T, "relu", "sign", a)
    mc, se = generalization_error_mc(W, a, "relu", t, samples=40_000)
    assert torch.all((closed - mc).abs() < 5 * se), (closed, mc, se)


# ------------------------------------------------------------------------------------------
# online SGD
# ------------------------------------------------------------------------------------------
def test_linear_online_sgd_exact_decay():
    """Linear K = M = 1, ε_g(0) = ½ (w = 0, T = 1): E ε_g(t) = ½ ρ^t, ρ = 1 − 2η/N + η²(N+2)/N²."""
    N, eta, S = 100, 0.5, 24
    t = make_teacher(N, 1, S, seed=2, activation="linear")
    r = run_online_sgd(t, 1, eta, 4.0, init_scale=0.0, records=[0.0, 1.0, 2.0, 4.0], n_test=100)
    rho = 1 - 2 * eta / N + eta**2 * (N + 2) / N**2
    for j, steps in enumerate(r.steps):
        exact = 0.5 * rho**steps
        mean, se = r.eg[:, j].mean(), r.eg[:, j].std(ddof=1) / math.sqrt(S)
        assert abs(mean - exact) <= 4 * se + 1e-14, (steps, mean, exact, se)
    assert np.all(np.isnan(r.loss[:, 0]))          # no samples seen before the first record


def _plateau_window(r, eta, spread=0.05):
    """Per instance: the records from α = 10/η (after the initial transient, time scale 1/η) up to
    the first record where the student–teacher overlaps R_in stop being all equal (max − min > spread)."""
    out = []
    for s in range(r.R.shape[0]):
        Rs = r.R[s].reshape(len(r.steps), -1)
        broken = np.nonzero(np.ptp(Rs, axis=1) > spread)[0]
        end = broken[0] if len(broken) else len(r.steps)
        out.append(np.nonzero((r.alpha >= 10 / eta) & (np.arange(len(r.steps)) < end))[0])
    return out


def _plateau_values(K):
    q = 1 / (2 * K - 1)                                     # Q = C (Saad & Solla 1995)
    R = 1 / math.sqrt(K * (2 * K - 1))                      # R = S
    # their ε_g at that point, T = I: K² asin(q/(1+q)) + K asin(1/2) − 2K² asin(R/√(2(1+q))), over π
    eg = (K * K * math.asin(q / (1 + q)) + K * math.asin(0.5)
          - 2 * K * K * math.asin(R / math.sqrt(2 * (1 + q)))) / math.pi
    return q, R, eg


def _check_plateau(r, K, eta, tol, min_length):
    q, Rp, _ = _plateau_values(K)
    iu = np.triu_indices(K, 1)
    for s, idx in enumerate(_plateau_window(r, eta)):
        assert r.alpha[idx[-1]] - r.alpha[idx[0]] >= min_length, (s, r.alpha[idx])
        Q, R = r.Q[s, idx], r.R[s, idx]
        diag = np.diagonal(Q, axis1=1, axis2=2).mean(0)     # time average of Q_ii over the plateau
        off = Q[:, iu[0], iu[1]].mean(0)                    # C
        Rm = R.mean(0)                                      # R_in, R and S alike
        assert np.all(np.abs(diag - q) < tol) and np.all(np.abs(off - q) < tol), (s, diag, off, q)
        assert np.all(np.abs(Rm - Rp) < tol), (s, Rm, Rp)
    return [r.eg[s, idx].mean() for s, idx in enumerate(_plateau_window(r, eta))]


@pytest.mark.parametrize("K,eta,alpha,tol", [(2, 0.1, 250.0, 0.006), (3, 0.2, 150.0, 0.012)])
def test_saad_solla_plateau_small_eta(K, eta, alpha, tol):
    """Small η: the overlaps sit at Saad & Solla's symmetric fixed point.  Tolerance: their values
    are the η → 0, N → ∞ limit; at η ≤ 0.2, N = 100 the plateau is shifted by O(η) (measured:
    +0.002 in Q at K = 2, η = 0.1; +0.005 at K = 3, η = 0.2) and fluctuates by O(1/√N)."""
    t = make_teacher(100, K, 4, seed=0)
    r = run_online_sgd(t, K, eta, alpha, records=51, n_test=2000)
    egs = _check_plateau(r, K, eta, tol, min_length=alpha - 10 / eta - 10)
    if K == 2:
        # ε_g on the plateau against their formula at the fixed point: + O(η) (measured +4 % at η = 0.1)
        assert np.allclose(egs, _plateau_values(2)[2], rtol=0.1), egs
    # the Monte-Carlo ε_g on fresh inputs agrees with the closed form along the whole run
    z = (r.eg - r.eg_mc) / r.eg_mc_err
    assert np.all(np.abs(z[:, 1:]) < 5), np.abs(z).max()


def test_saad_solla_plateau_then_specialization():
    """K = M = 2, η = 0.5: a plateau of length ≥ 50 in α at the symmetric fixed point (tolerance
    0.015: the O(η) shift, measured +0.008 in Q), then escape and specialization: each teacher
    unit taken by one student unit (matched R_ii → 1, C → 0) and ε_g → 0 (noiseless data)."""
    K, eta = 2, 0.5
    t = make_teacher(100, K, 4, seed=0)
    r = run_online_sgd(t, K, eta, 500.0, records=101, n_test=1000)
    _check_plateau(r, K, eta, 0.015, min_length=50)
    final = matched_overlaps(r.R[:, -1])
    assert np.all(final > 0.98), final
    assert np.all(np.abs(r.Q[:, -1, 0, 1]) < 0.02), r.Q[:, -1, 0, 1]
    assert np.all(r.eg[:, -1] < 1e-4), r.eg[:, -1]
    assert np.all(r.eg_mc[:, -1] < 1e-4)
    # online loss (½(y − σ)² on the samples seen) tracks ε_g: in the last window both are ~0
    assert np.all(r.loss[:, -1] < 1e-3)


def test_instances_do_not_depend_on_the_batch():
    t1 = make_teacher(30, 2, 1, seed=5)
    t3 = make_teacher(30, 2, 3, seed=5)
    assert torch.equal(t1.W[0], t3.W[0])
    r1 = run_online_sgd(t1, 2, 0.5, 3.0, records=4, n_test=50)
    r3 = run_online_sgd(t3, 2, 0.5, 3.0, records=4, n_test=50)
    np.testing.assert_allclose(r1.Q[0], r3.Q[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r1.eg_mc[0], r3.eg_mc[0], rtol=1e-12)


def test_trained_second_layer_learns_scaled_teacher():
    """One erf unit with second-layer weight 2: out of reach of the committee a = 1 (|σ| < 1),
    learned when a is trained — a → 2, w → w* (R → 1) and ε_g → 0."""
    t = make_teacher(50, 1, 2, seed=1)
    t.v *= 2.0
    r = run_online_sgd(t, 1, 0.5, 150.0, init_scale=0.1, train_second_layer=True, records=3, n_test=200)
    assert np.all(np.abs(r.a[:, -1, 0] - 2) < 0.05), r.a[:, -1]
    assert np.all(np.abs(r.R[:, -1, 0, 0] - 1) < 0.05), r.R[:, -1]
    assert np.all(r.eg[:, -1] < 1e-4), r.eg[:, -1]
    assert np.all(r.eg[:, 0] > 0.5)                  # ½ E[(a g − 2 g*)²] at the start: far from it


# ------------------------------------------------------------------------------------------
# full-batch GD
# ------------------------------------------------------------------------------------------
def test_gd_linear_ridge_fixed_point_matches_numpy_solve():
    N, alpha, lam = 50, 3.0, 0.1
    t = make_teacher(N, 1, 3, seed=8, activation="linear", weights="gaussian", noise=0.25)
    r = run_gd(t, 1, alpha, ridge=lam, tol=1e-12, max_steps=20_000, init_scale=0.5, record_every=50, n_test=100)
    assert r.converged.all() and np.all(r.grad_norm < 1e-12)
    X, y = r.X.numpy(), r.y.numpy()
    for s in range(3):
        A = X[s] / math.sqrt(N)
        w = np.linalg.solve(A.T @ A + lam * np.eye(N), A.T @ y[s])
        assert np.max(np.abs(r.W[s, 0].numpy() - w)) < 1e-8
        # training loss reported = (1/P) Σ ½(λ − y)² at the minimizer
        assert r.loss[s, -1] == pytest.approx(0.5 * np.mean((A @ w - y[s])**2), rel=1e-9)


def test_gd_soft_committee_recovers_teacher():
    """K = M = 2 erf, α = 20, noiseless: GD from small weights passes the symmetric plateau and
    converges to the teacher (specialized: matched R_ii → 1, ε_g → 0); along the way the
    closed-form ε_g agrees with the Monte-Carlo estimate on fresh inputs."""
    t = make_teacher(50, 2, 4, seed=1)
    r = run_gd(t, 2, 20.0, tol=1e-9, max_steps=20_000, record_every=25, n_test=2000)
    assert r.converged.all(), r.grad_norm
    assert np.all(matched_overlaps(r.R[:, -1]) > 0.999)
    assert np.all(r.eg[:, -1] < 1e-10) and np.all(r.loss[:, -1] < 1e-10)
    z = (r.eg - r.eg_mc) / np.maximum(r.eg_mc_err, 1e-300)
    informative = r.eg_mc_err > 1e-8
    assert informative.sum() > 8 and np.all(np.abs(z[informative]) < 5)
    # the plateau is visited on the way (Saad & Solla's symmetric point, also a saddle of GD)
    q, Rp, _ = _plateau_values(2)
    near = np.all(np.abs(r.R - Rp) < 0.02, axis=(2, 3)) & np.all(np.abs(r.Q - q) < 0.02, axis=(2, 3))
    assert near.any(axis=1).all()


def test_gd_reports_non_convergence():
    t = make_teacher(40, 2, 2, seed=3)
    r = run_gd(t, 2, 10.0, tol=1e-12, max_steps=30, record_every=10, n_test=100)
    assert not r.converged.any() and np.all(r.n_steps == 30) and np.all(r.grad_norm > 1e-12)
    assert list(r.steps) == [0, 10, 20, 30]
    ds = r.to_dataset()
    assert ds["Q"].shape == (2, 4, 2, 2) and not bool(ds["converged"].any())


# ------------------------------------------------------------------------------------------
# errors, devices
# ------------------------------------------------------------------------------------------
def test_bad_input():
    t = make_teacher(20, 2, 1, activation="sign")
    with pytest.raises(ParameterError, match="cannot be trained"):
        run_online_sgd(t, 2, 0.1, 1.0)                       # student defaults to the teacher's sign
    with pytest.raises(ParameterError, match="unknown activation"):
        make_teacher(20, 2, activation="tanhh")
    with pytest.raises(ParameterError, match="M <= N"):
        make_teacher(3, 5)
    with pytest.raises(ParameterError, match="K must be"):
        run_gd(t, 0, 1.0, activation="erf")
    with pytest.raises(ParameterError, match="eta"):
        run_online_sgd(t, 2, -1.0, 1.0, activation="erf")
    with pytest.raises(ParameterError, match="records"):
        run_online_sgd(t, 2, 0.1, 1.0, activation="erf", records=[0.5, 2.0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_cuda_ridge_and_sgd():
    N, lam = 64, 0.2
    t = make_teacher(N, 1, 2, seed=8, activation="linear", weights="gaussian", noise=0.25, device="cuda")
    r = run_gd(t, 1, 2.0, ridge=lam, tol=1e-12, max_steps=20_000, record_every=1000, n_test=100)
    assert r.converged.all() and r.W.device.type == "cuda"
    X, y = r.X.cpu().numpy(), r.y.cpu().numpy()
    for s in range(2):
        A = X[s] / math.sqrt(N)
        w = np.linalg.solve(A.T @ A + lam * np.eye(N), A.T @ y[s])
        assert np.max(np.abs(r.W[s, 0].cpu().numpy() - w)) < 1e-8
    tc = make_teacher(100, 2, 8, seed=0, device="cuda")
    rc = run_online_sgd(tc, 2, 0.1, 200.0, records=41, n_test=1000)
    _check_plateau(rc, 2, 0.1, 0.006, min_length=80)


def test_cli_twolayer_json_and_bad_input(tmp_path):
    """``replica twolayer``: online SGD of K = 2 erf units on an orthonormal K = 2 teacher.  At
    α = 0 (students of tiny weights, g(0) = 0) ε_g = ½ E[(Σ_n g(x_n))²] = (2/π) arcsin(½) = 1/3
    (closed form); by α = 40 the run sits on the Saad–Solla plateau, R = S = 1/√(K(2K − 1)) =
    1/√6 (PRL 74, 4337, 1995; VALIDATION.md).  A sign student is refused with exit 2."""
    import json
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "replica", "twolayer", "--alpha", "40", "--eta", "0.5", "--n", "100",
                        "--seeds", "4", "--records", "3", "--json", "--out", str(tmp_path / "t.nc"),
                        "--plot", str(tmp_path / "t.png")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    with xr.open_dataset(tmp_path / "t.nc") as ds:       # CF attributes, a coordinate on every dimension
        assert set(ds.dims) <= set(ds.coords)
        assert all(ds[v].attrs.get("long_name") for v in list(ds.coords) + list(ds.data_vars))
        assert ds["eg"].attrs["units"] == "1" and ds.attrs["replica_version"] == replica.__version__
        assert ds["R"].attrs == cf_attrs("R") and "units" not in ds["instance"].attrs   # the one table
        assert ds["eg"].values.mean(axis=0)[0] == pytest.approx(doc["records"][0]["eg"])
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert doc["algorithm"] == "online-sgd" and len(doc["records"]) == 3
    assert doc["records"][0]["eg"] == pytest.approx(1 / 3, abs=2e-3)
    assert doc["records"][-1]["R_matched"] == pytest.approx(1 / math.sqrt(6), abs=0.03)
    r = subprocess.run([sys.executable, "-m", "replica", "twolayer", "--alpha", "1", "--activation", "sign"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
