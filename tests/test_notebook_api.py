"""The notebook front door: top-level calls, concise reprs, displays, Solution.to_xarray/to_pandas."""
import subprocess
import sys

import numpy as np
import pytest

import replica
from replica.metadata import annotate
from replica.variables import cf_attrs


def test_top_level_calls_exist_with_examples():
    for name in ("derive", "solve", "transitions", "phase_diagram", "simulate", "verify"):
        fn = getattr(replica, name)
        assert callable(fn), name
        assert fn.__doc__ and len(fn.__doc__) > 60, name
    assert "Examples" in replica.solve.__doc__ and "Examples" in replica.transitions.__doc__
    assert {"simulate", "verify", "solve"} <= set(dir(replica))
    with pytest.raises(AttributeError):
        replica.no_such_name


def test_import_replica_does_not_import_torch_or_sims():
    code = "import sys, replica; print('torch' in sys.modules, 'sims' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def test_reprs_are_short_and_displays_hold_the_derivation():
    th = replica.derive("gardner")
    assert repr(th) == "<Theory 'gardner' (storage): order parameters q, q_hat; parameters alpha, kappa>"
    c = th.compile()
    assert repr(c).startswith("<CompiledTheory 'gardner' (storage): unknowns q, q_hat")
    md = th._repr_markdown_()
    for part in ("Replica-symmetric free entropy", "Saddle-point equations", "In paper form", "References"):
        assert part in md
    tex = th._repr_latex_()
    assert tex.startswith("$$\\begin{aligned}") and r"\int D\xi" in tex
    assert "q_{hat}" not in tex and r"\mathrm{ridge}" not in tex


def test_solution_to_xarray_and_pandas():
    alpha = np.array([0.5, 1.0, 1.5])
    sol = replica.solve("linear-bayes", {"alpha": alpha[:, None], "delta": np.array([0.1, 0.5])[None, :]})
    ds = sol.to_xarray()
    assert ds["q"].dims == ("alpha", "delta")
    np.testing.assert_array_equal(ds["alpha"].values, alpha)
    np.testing.assert_array_equal(ds["q"].values, sol["q"])            # same numbers, NaN kept
    for name in list(ds.data_vars) + list(ds.coords):
        assert "long_name" in ds[name].attrs, name
    assert ds["q"].attrs["units"] == "1"
    # the one table of descriptions (replica.variables) also annotates the NetCDF files
    assert ds["q"].attrs == annotate(ds[["q"]].assign_attrs())["q"].attrs == cf_attrs("q")
    assert "units" not in ds["converged"].attrs and "units" not in ds["iterations"].attrs
    df = sol.to_pandas()
    assert len(df) == 6 and list(df["alpha"]) == [0.5, 0.5, 1.0, 1.0, 1.5, 1.5]
    np.testing.assert_array_equal(df["q"].to_numpy(), sol["q"].reshape(-1))
    assert df["converged"].dtype == bool


def test_not_converged_points_stay_nan_in_xarray_and_pandas():
    sol = replica.solve("linear-bayes", {"alpha": [0.5, 1.0], "delta": 0.1}, max_iter=1, newton=False)
    assert not sol.converged.any()
    assert np.isnan(sol.to_xarray()["q"].values).all()
    assert sol.to_pandas()["q"].isna().all()
