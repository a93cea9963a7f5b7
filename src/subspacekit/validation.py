"""Input validation shared by every module.

Each check raises a subclass of :class:`ValueError` or :class:`TypeError` from
:mod:`subspacekit.errors` whose message names the argument, what was expected and
what came (shape, dtype, NaN count, rank), so that no bad input turns silently into a
wrong number.

Examples
--------
>>> import numpy as np
>>> X = check_array(np.ones((4, 3), dtype=np.float32))
>>> X.dtype
dtype('float32')
>>> check_array(np.array([[1.0, np.nan]]))
Traceback (most recent call last):
...
subspacekit.errors.NonFiniteError: X contains 1 NaN and 0 infinite values; expected finite numbers (first at index (0, 1))
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state as _sk_check_random_state

from subspacekit.core.backend import is_torch_tensor, to_numpy
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NonFiniteError,
    RankError,
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = [
    "check_array",
    "check_consistent_samples",
    "check_finite",
    "check_in",
    "check_n_components",
    "check_positive",
    "check_probability",
    "check_random_state",
    "check_same_dimension",
    "matrix_rank",
]

_FLOAT_DTYPES = (np.float64, np.float32)


def _describe(x: Any) -> str:
    if is_torch_tensor(x):
        return f"a torch tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    arr = np.asarray(x) if not hasattr(x, "shape") else x
    shape = tuple(getattr(arr, "shape", ()))
    dtype = getattr(arr, "dtype", type(x).__name__)
    return f"a {len(shape)}-D array of shape {shape} and dtype {dtype}"


def check_finite(X: np.ndarray, name: str = "X") -> np.ndarray:
    """Raise :class:`NonFiniteError` if ``X`` holds NaN or infinite values.

    The message gives the number of NaN and infinite entries and the first position.

    Examples
    --------
    >>> check_finite(np.zeros(3)).shape
    (3,)
    """
    if X.dtype.kind in "fc" and X.size and not np.isfinite(X).all():
        bad = ~np.isfinite(X)
        n_nan = int(np.isnan(X).sum())
        n_inf = int(bad.sum()) - n_nan
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first if len(first) > 1 else first[0]
        raise NonFiniteError(
            f"{name} contains {n_nan} NaN and {n_inf} infinite values; "
            f"expected finite numbers (first at index {where})"
        )
    return X


def check_array(
    X: Any,
    name: str = "X",
    *,
    ndim: int | tuple[int, ...] = 2,
    dtype: str | None = "float",
    min_samples: int = 1,
    min_features: int = 1,
    allow_nonfinite: bool = False,
    copy: bool = False,
) -> np.ndarray:
    """Validate an array and return it as numpy.

    Parameters
    ----------
    X : array-like or torch.Tensor
        Input; torch tensors are detached and copied to the CPU.
    name : str
        Name used in error messages.
    ndim : int or tuple of int
        Allowed numbers of dimensions.
    dtype : {"float", None}
        ``"float"`` keeps float32 and float64 and converts integer and boolean input to
        float64; complex, object and string input raise :class:`DTypeError`. ``None``
        keeps the dtype as it is.
    min_samples, min_features : int
        Minimum size of the first and (for 2-D input) second axis.
    allow_nonfinite : bool
        Skip the NaN/inf check.
    copy : bool
        Return a copy even when no conversion was needed.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> check_array([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> check_array(np.zeros((1, 3)), min_samples=2)
    Traceback (most recent call last):
    ...
    subspacekit.errors.TooFewSamplesError: X needs at least 2 samples (rows); got 1
    """
    if X is None:
        raise DTypeError(f"{name} must be an array; got None")
    original = X
    try:
        arr = to_numpy(X)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{name} must be array-like; got {type(X).__name__}: {exc}") from exc
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        hint = " of shape (n_samples, n_features)" if allowed == (2,) else ""
        raise ShapeError(f"{name} must be a {want} array{hint}; got {_describe(original)}")
    if dtype == "float":
        kind = arr.dtype.kind
        if kind in "iub":
            arr = arr.astype(np.float64)
        elif kind == "f":
            if arr.dtype not in _FLOAT_DTYPES:
                arr = arr.astype(np.float64)
        else:
            raise DTypeError(
                f"{name} must hold real numbers (float32 or float64); got dtype {arr.dtype}"
            )
    elif dtype is not None:
        raise ValidationError(f"dtype must be 'float' or None; got {dtype!r}")
    if arr.ndim >= 1 and arr.shape[0] < min_samples:
        raise TooFewSamplesError(
            f"{name} needs at least {min_samples} samples (rows); got {arr.shape[0]}"
        )
    if arr.ndim >= 2 and arr.shape[1] < min_features:
        raise ShapeError(
            f"{name} needs at least {min_features} features (columns); got {arr.shape[1]}"
        )
    if not allow_nonfinite:
        check_finite(arr, name)
    if copy and np.shares_memory(arr, to_numpy(original)):
        arr = arr.copy()
    return arr


def check_consistent_samples(*arrays: Any, names: Sequence[str] | None = None) -> int:
    """Check that arrays share their first dimension and return it.

    Examples
    --------
    >>> check_consistent_samples(np.zeros((3, 2)), np.zeros(3))
    3
    >>> check_consistent_samples(np.zeros((3, 2)), np.zeros(4), names=["X", "y"])
    Traceback (most recent call last):
    ...
    subspacekit.errors.DimensionMismatchError: X and y must have the same number of samples; got 3 and 4
    """
    names = list(names) if names is not None else [f"array {i}" for i in range(len(arrays))]
    lengths = [int(np.shape(a)[0]) if not is_torch_tensor(a) else int(a.shape[0]) for a in arrays]
    if len(set(lengths)) > 1:
        raise DimensionMismatchError(
            f"{' and '.join(names)} must have the same number of samples; "
            f"got {' and '.join(map(str, lengths))}"
        )
    return lengths[0] if lengths else 0


def check_same_dimension(a: int, b: int, what: str = "ambient dimension") -> int:
    """Raise :class:`DimensionMismatchError` unless ``a == b``.

    Examples
    --------
    >>> check_same_dimension(3, 3)
    3
    """
    if a != b:
        raise DimensionMismatchError(f"objects must share their {what}; got {a} and {b}")
    return a


def matrix_rank(A: np.ndarray, rtol: float | None = None) -> tuple[int, np.ndarray]:
    """Numerical rank of ``A`` and its singular values.

    The tolerance is ``rtol * s_max`` with ``rtol = max(A.shape) * eps`` by default
    (the convention of :func:`numpy.linalg.matrix_rank`).

    Examples
    --------
    >>> matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))[0]
    1
    """
    s = np.linalg.svd(A, compute_uv=False) if A.size else np.zeros(0)
    if rtol is None:
        rtol = max(A.shape) * np.finfo(A.dtype if A.dtype.kind == "f" else float).eps
    tol = (s[0] if s.size else 0.0) * rtol
    return int((s > tol).sum()), s


def check_n_components(
    n_components: Any, max_components: int, name: str = "n_components", *, allow_zero: bool = False
) -> int:
    """Validate an integer number of components against the largest allowed value.

    Examples
    --------
    >>> check_n_components(3, 5)
    3
    >>> check_n_components(6, 5)
    Traceback (most recent call last):
    ...
    subspacekit.errors.RankError: n_components=6 exceeds the largest possible value 5 (limited by the rank or shape of the data)
    """
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise DTypeError(f"{name} must be an integer; got {type(n_components).__name__}")
    n = int(n_components)
    low = 0 if allow_zero else 1
    if n < low:
        raise ValidationError(f"{name} must be >= {low}; got {n}")
    if n > max_components:
        raise RankError(
            f"{name}={n} exceeds the largest possible value {max_components} "
            "(limited by the rank or shape of the data)"
        )
    return n


def check_positive(value: Any, name: str, *, strict: bool = True) -> float:
    """Return ``value`` as float if it is a finite positive (or non-negative) number.

    Examples
    --------
    >>> check_positive(0.5, "alpha")
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DTypeError(f"{name} must be a real number; got {type(value).__name__}")
    v = float(value)
    ok = np.isfinite(v) and (v > 0 if strict else v >= 0)
    if not ok:
        raise ValidationError(f"{name} must be {'> 0' if strict else '>= 0'} and finite; got {v}")
    return v


def check_probability(value: Any, name: str, *, open_interval: bool = True) -> float:
    """Return ``value`` as float if it lies in (0, 1) (or [0, 1]).

    Examples
    --------
    >>> check_probability(0.95, "ci")
    0.95
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DTypeError(f"{name} must be a real number; got {type(value).__name__}")
    v = float(value)
    ok = (0.0 < v < 1.0) if open_interval else (0.0 <= v <= 1.0)
    if not ok:
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValidationError(f"{name} must lie in {interval}; got {v}")
    return v


def check_in(value: Any, allowed: Sequence[Any], name: str) -> Any:
    """Return ``value`` if it is one of ``allowed``.

    Examples
    --------
    >>> check_in("a", ["a", "b"], "mode")
    'a'
    """
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {list(allowed)}; got {value!r}")
    return value


def check_random_state(random_state: Any) -> np.random.RandomState:
    """scikit-learn's ``check_random_state``: None, an int seed or a RandomState.

    Examples
    --------
    >>> check_random_state(0).randint(10) == check_random_state(0).randint(10)
    True
    """
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(random_state.integers(2**32 - 1))
    return _sk_check_random_state(random_state)
