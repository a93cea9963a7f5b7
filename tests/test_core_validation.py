"""The one validation contract, the rank / variance-fraction / constant-column rules,
the resampling wrapper, and the light import."""

from __future__ import annotations

import os
import subprocess
import sys
from numbers import Integral, Real

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.core.io import atomic_write, remove_stale_temporaries
from subspacekit.core.linalg import (
    constant_columns,
    n_components_for_variance,
    numerical_rank,
    range_basis,
)
from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.validation import (
    Interval,
    Options,
    check_array,
    check_fitted,
    check_labels,
    check_pair,
    check_random_state,
    validate_params,
)
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NonFiniteError,
    OverwriteError,
    ShapeError,
    ValidationError,
)


# --------------------------------------------------------------------------- import
def test_import_loads_neither_sklearn_nor_torch():
    code = (
        "import sys, subspacekit\n"
        "bad = [m for m in ('sklearn', 'torch', 'pandas', 'matplotlib') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_not_fitted_error_is_sklearns_and_ours():
    from sklearn.exceptions import NotFittedError as SklearnNotFitted

    from subspacekit.errors import NotFittedError, SubspaceKitError

    class Est:
        pass

    with pytest.raises(SklearnNotFitted) as info:
        check_fitted(Est())
    assert isinstance(info.value, SubspaceKitError) and isinstance(info.value, NotFittedError)


# --------------------------------------------------------------------------- arrays
def test_check_array_accepts_lists_frames_and_keeps_float32():
    pd = pytest.importorskip("pandas")
    X = np.arange(6.0).reshape(3, 2)
    assert check_array(X.tolist()).dtype == np.float64
    assert check_array(pd.DataFrame(X)).shape == (3, 2)
    assert check_array(X.astype(np.float32)).dtype == np.float32
    assert check_array(X.astype(object)).dtype == np.float64


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.array([[1 + 1j, 2]]), DTypeError),
        (np.array([["a", "b"]]), DTypeError),
        (np.array([[{"a": 1}, 2.0]], dtype=object), DTypeError),
        (np.zeros(3), ShapeError),
        (np.zeros((2, 2, 2)), ShapeError),
        (np.array([[np.inf, 0.0]]), NonFiniteError),
        (None, DTypeError),
    ],
)
def test_check_array_refuses_with_our_errors(bad, error):
    with pytest.raises(error):
        check_array(bad)


def test_dtype_error_is_a_value_error_too():
    with pytest.raises(ValueError, match="Complex data not supported"):
        check_array(np.ones((2, 2), dtype=complex))


def test_check_finite_reports_position_in_large_arrays():
    X = np.zeros((300_000, 8))
    X[299_999, 5] = np.nan
    with pytest.raises(NonFiniteError, match=r"1 NaN .* \(299999, 5\)"):
        check_array(X)


def test_check_pair_and_labels():
    X, Y = check_pair(np.zeros(4), np.ones((4, 2), dtype=np.float32))
    assert X.shape == (4, 1) and X.dtype == Y.dtype == np.float64
    with pytest.raises(DimensionMismatchError):
        check_pair(np.zeros((4, 2)), np.zeros((5, 2)))
    with pytest.raises(NonFiniteError):
        check_labels([0.0, np.nan, 1.0])
    with pytest.raises(ShapeError):
        check_labels(np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="2 distinct"):
        check_labels([1, 1, 1], min_classes=2)


# --------------------------------------------------------------------------- seeds
def test_check_random_state_conversions():
    a = check_random_state(3).randint(1000, size=5)
    assert np.array_equal(a, np.random.RandomState(3).randint(1000, size=5))
    rs = np.random.RandomState(0)
    assert check_random_state(rs) is rs
    gen = np.random.default_rng(0)
    assert isinstance(check_random_state(gen), np.random.RandomState)
    assert check_random_state(None) is check_random_state(None)  # the global stream
    with pytest.raises(DTypeError):
        check_random_state(1.5)
    with pytest.raises(ValidationError):
        check_random_state(-1)


# --------------------------------------------------------------------------- parameters
class _Est:
    _parameter_constraints = {
        "n": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="neither")],
        "mode": [Options("a", "b"), None],
        "flag": ["boolean"],
        "seed": ["random_state"],
        "fn": ["callable", None],
    }

    def __init__(self, n=1, mode="a", flag=False, seed=None, fn=None):
        self.n, self.mode, self.flag, self.seed, self.fn = n, mode, flag, seed, fn


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n": 0}, ValidationError),
        ({"n": -3}, ValidationError),
        ({"n": 1.5}, ValidationError),
        ({"n": "3"}, DTypeError),
        ({"n": True}, DTypeError),
        ({"n": float("nan")}, ValidationError),
        ({"mode": "c"}, ValidationError),
        ({"mode": 3}, DTypeError),
        ({"flag": 1}, DTypeError),
        ({"seed": "x"}, DTypeError),
        ({"seed": 2**40}, ValidationError),
        ({"fn": 3}, DTypeError),
    ],
)
def test_validate_params_type_versus_value(kwargs, error):
    with pytest.raises(error) as info:
        validate_params(_Est(**kwargs))
    name = next(iter(kwargs))
    assert f"_Est: {name} must be" in str(info.value)
    assert (
        not isinstance(info.value, error)
        or type(info.value) is error
        or issubclass(type(info.value), error)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"n": 5},
        {"n": 0.5},
        {"n": np.int64(2)},
        {"mode": None},
        {"flag": np.bool_(True)},
        {"seed": np.random.default_rng(0)},
        {"fn": len},
    ],
)
def test_validate_params_accepts_legal_values(kwargs):
    validate_params(_Est(**kwargs))


# --------------------------------------------------------------------------- rules
def test_variance_fraction_four_equal_variances():
    # The disagreement of the issue: every home must keep 2 here (at least f, not more than f).
    assert n_components_for_variance([2.0, 2.0, 2.0, 2.0], 0.5) == 2
    assert n_components_for_variance([0.1, 0.1, 0.1, 0.1], 0.75) == 3  # 0.1 sums round


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=30),
    st.floats(0.01, 1.0),
)
def test_variance_fraction_is_the_smallest_sufficient_k(variances, fraction):
    lam = np.sort(np.asarray(variances))[::-1]
    total = lam.sum()
    k = n_components_for_variance(variances, fraction)
    if total == 0:
        assert k == 0
        return
    slack = 1e-12
    assert lam[:k].sum() >= (fraction - slack) * total
    if k > 1:
        assert lam[: k - 1].sum() < fraction * total * (1 + 1e-9)


def test_numerical_rank_and_range_basis_agree_with_planted_rank():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 3)) @ rng.standard_normal((3, 8))
    Q, s = range_basis(A)
    assert Q.shape == (50, 3) and s.shape == (3,)
    assert np.allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    assert np.allclose(Q @ (Q.T @ A), A, atol=1e-10)
    sv = np.linalg.svd(A, compute_uv=False)
    assert numerical_rank(sv, A.shape) == 3
    assert numerical_rank(sv**2, A.shape, squared=True) == 3
    assert numerical_rank(np.zeros(4), (4, 4)) == 0


def test_constant_columns_is_relative():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    X[:, 1] = 7.0 + 1e-17 * rng.standard_normal(30)  # rounding noise on a constant column
    assert constant_columns(X).tolist() == [False, True, False]
    tiny = 1e-20 * rng.standard_normal((30, 2))  # small units, but genuinely varying
    assert not constant_columns(tiny).any()


# --------------------------------------------------------------------------- resampling
def test_with_uncertainty_covers_a_known_mean_and_detects_pairing():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 1))
    Y = X + 0.5 * rng.normal(size=(400, 1))

    def corr(A, B):
        return float(np.corrcoef(A[:, 0], B[:, 0])[0, 1])

    est = with_uncertainty(
        corr, X, Y, value=corr(X, Y), ci=0.95, permutations=199, random_state=0, method="r"
    )
    truth = 1 / np.sqrt(1.25)
    assert est.ci[0] < truth < est.ci[1]
    assert est.pvalue == pytest.approx(1 / 200)
    assert with_uncertainty(corr, X, Y, value=0.3, ci=None) == 0.3


# --------------------------------------------------------------------------- files
def test_atomic_write_refuses_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(ValidationError, match="directory"):
        atomic_write(tmp_path / "d", lambda t: t.write_text("x"), overwrite=True)


def test_a_killed_writer_leaves_nothing_behind_after_the_next_write(tmp_path):
    target = tmp_path / "basis.npz"
    # A writer killed mid-write (SIGKILL: its finally never ran) left its temporary.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    dead_pid = proc.pid
    proc.kill()
    proc.wait()
    stale = tmp_path / f".basis.npz.{dead_pid}.abcd.tmp"
    stale.write_bytes(b"half a file")
    live = tmp_path / f".basis.npz.{os.getpid()}.efgh.tmp"  # a live writer's: kept
    live.write_bytes(b"in progress")
    atomic_write(target, lambda t: t.write_text("done"))
    assert target.read_text() == "done"
    assert not stale.exists() and live.exists()
    assert remove_stale_temporaries(target) == []
    with pytest.raises(OverwriteError):
        atomic_write(target, lambda t: t.write_text("again"))
