"""The one validation contract: arrays, values, fitted state, seeds and parameters.

Every public function and estimator of subspacekit checks its input here, so the same
mistake gets the same exception everywhere:

* the wrong *type* (a string where a number belongs, an object or complex array, None
  for an array) raises :class:`~subspacekit.errors.DTypeError` (a ``TypeError``);
* the right type with an unusable *value* (NaN, a negative size, a level outside
  (0, 1), too few samples, mismatched shapes) raises a subclass of
  :class:`~subspacekit.errors.ValidationError` (a ``ValueError``).

Each message names the argument, what was expected and what came (shape, dtype, NaN
count, rank). Estimators declare their hyper-parameters once, in a class attribute
``_parameter_constraints`` (scikit-learn's table style), and call
:func:`validate_params` at the start of ``fit``.

The constraint types live in :mod:`subspacekit.core.constraints` and are re-exported
here, so ``from subspacekit.core.validation import Interval, Options, validate_params``
is the one import an estimator needs.

This module needs numpy only: ``import subspacekit`` must not load scikit-learn, so the
two places that talk to scikit-learn (:func:`check_fitted`'s exception and
:func:`validate_features`' feature-name bookkeeping) import it when they run, which is
only ever inside an estimator that already has.

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

from collections.abc import Sequence
from typing import Any

import numpy as np

from subspacekit.core.backend import is_torch_tensor, to_numpy
from subspacekit.core.constraints import (
    Interval,
    Options,
    describe,
    is_int,
    is_real,
    validate_params,
)
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
    "Interval",
    "Options",
    "check_array",
    "check_ci",
    "check_consistent_samples",
    "check_finite",
    "check_fitted",
    "check_in",
    "check_int",
    "check_labels",
    "check_n_components",
    "check_pair",
    "check_positive",
    "check_probability",
    "check_random_state",
    "check_same_dimension",
    "describe",
    "validate_features",
    "validate_params",
]

_FLOAT_DTYPES = (np.float64, np.float32)
# Rows checked for NaN/inf at a time: no n x d boolean temporary for large arrays.
_FINITE_BLOCK_ELEMENTS = 1 << 20


# --------------------------------------------------------------------------- arrays
def check_finite(X: np.ndarray, name: str = "X", *, context: str = "") -> np.ndarray:
    """Raise :class:`NonFiniteError` if ``X`` holds NaN or infinite values.

    The array is scanned in row blocks, so no n x d boolean temporary is made for large
    input; the message gives the number of NaN and infinite entries and the first
    position. ``context`` is appended to the message: use it when the array is an
    intermediate result (an overflowed scatter matrix, say) rather than user input.

    Examples
    --------
    >>> check_finite(np.zeros(3)).shape
    (3,)
    """
    if X.dtype.kind not in "fc" or X.size == 0:
        return X
    rows = max(1, _FINITE_BLOCK_ELEMENTS // max(1, X.size // max(1, X.shape[0])))
    for start in range(0, X.shape[0], rows):
        if np.isfinite(X[start : start + rows]).all():
            continue
        bad = ~np.isfinite(X)
        n_nan = int(np.isnan(X).sum())
        n_inf = int(bad.sum()) - n_nan
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first if len(first) > 1 else first[0]
        extra = f"; {context}" if context else ""
        raise NonFiniteError(
            f"{name} contains {n_nan} NaN and {n_inf} infinite values; "
            f"expected finite numbers (first at index {where}){extra}"
        )
    return X


def _as_numpy(X: Any, name: str) -> np.ndarray:
    if X is None:
        raise DTypeError(f"{name} must be an array; got None")
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        raise DTypeError(
            f"{name} must be a dense array; got the sparse {type(X).__name__}. "
            "Convert it with X.toarray() if it fits in memory."
        )
    try:
        arr = to_numpy(X)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{name} must be array-like; got {type(X).__name__}: {exc}") from exc
    if arr.dtype.kind == "O":
        # Object arrays of plain numbers (a DataFrame of mixed int/float columns, a
        # ragged list made regular) are converted; anything else is a type error.
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise DTypeError(
                f"{name} must hold real numbers; got an object array that does not convert "
                f"to float ({exc})"
            ) from exc
    return arr


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
        Input: a numpy array, a (nested) list, a pandas object or a torch tensor
        (detached and copied to the CPU). Sparse matrices raise :class:`DTypeError`.
    name : str
        Name used in error messages.
    ndim : int or tuple of int
        Allowed numbers of dimensions.
    dtype : {"float", None}
        ``"float"`` keeps float32 and float64 and converts integer, boolean and
        numeric object input to float64; complex, string and non-numeric object input
        raise :class:`DTypeError`. ``None`` keeps the dtype as it is.
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
    original = X
    arr = _as_numpy(X, name)
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        hint = " of shape (n_samples, n_features)" if allowed == (2,) else ""
        reshape = ""
        if allowed == (2,) and arr.ndim == 1:
            reshape = (
                "; reshape with array.reshape(-1, 1) for a single feature or "
                "array.reshape(1, -1) for a single sample"
            )
        raise ShapeError(f"{name} must be a {want} array{hint}; got {describe(original)}{reshape}")
    if dtype == "float":
        kind = arr.dtype.kind
        if kind in "iub":
            arr = arr.astype(np.float64)
        elif kind == "f":
            if arr.dtype not in _FLOAT_DTYPES:
                arr = arr.astype(np.float64)
        elif kind == "c":
            raise DTypeError(
                f"Complex data not supported: {name} must hold real numbers (float32 or "
                f"float64); got dtype {arr.dtype}"
            )
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
    if copy and not is_torch_tensor(original) and np.shares_memory(arr, np.asarray(original)):
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
    lengths = [int(a.shape[0]) if hasattr(a, "shape") else len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise DimensionMismatchError(
            f"{' and '.join(names)} must have the same number of samples; "
            f"got {' and '.join(map(str, lengths))}"
        )
    return lengths[0] if lengths else 0


def check_pair(
    X: Any, Y: Any, *, min_samples: int = 2, why: str = "", names: tuple[str, str] = ("X", "Y")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two arrays whose rows are the same inputs (paired samples).

    Both must be 2-D (a 1-D array is read as one feature), real, finite and have the
    same number of rows, at least ``min_samples`` (``why`` says in the message what
    needs that many). When one is float32 and the other float64, both become float64.

    Examples
    --------
    >>> X, Y = check_pair(np.zeros((3, 2), dtype=np.float32), np.ones((3, 4)))
    >>> X.dtype, Y.shape
    (dtype('float64'), (3, 4))
    """
    A = check_array(X, names[0], ndim=(1, 2), min_samples=0)
    B = check_array(Y, names[1], ndim=(1, 2), min_samples=0)
    A = A[:, None] if A.ndim == 1 else A
    B = B[:, None] if B.ndim == 1 else B
    n = check_consistent_samples(A, B, names=list(names))
    if n < min_samples:
        hint = f" ({why})" if why else ""
        raise TooFewSamplesError(
            f"{names[0]} and {names[1]} need at least {min_samples} samples (rows){hint}; got {n}"
        )
    if A.dtype != B.dtype:
        A, B = A.astype(np.float64, copy=False), B.astype(np.float64, copy=False)
    return A, B


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


def check_labels(
    labels: Any, name: str = "labels", *, n_samples: int | None = None, min_classes: int = 1
) -> np.ndarray:
    """Validate a 1-D array of class labels (ints, strings or other hashables).

    Float labels must be finite (a NaN label is an error, not a class of its own);
    ``n_samples`` checks the length against the data, ``min_classes`` the number of
    distinct labels.

    Examples
    --------
    >>> check_labels(["a", "b", "a"], min_classes=2)
    array(['a', 'b', 'a'], dtype='<U1')
    >>> check_labels([0.0, np.nan])
    Traceback (most recent call last):
    ...
    subspacekit.errors.NonFiniteError: labels contains 1 NaN and 0 infinite values; expected finite numbers (first at index 1)
    """
    if labels is None:
        raise DTypeError(f"{name} must be a 1-D array of labels; got None")
    y = to_numpy(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ShapeError(f"{name} must be a 1-D array of shape (n_samples,); got {describe(y)}")
    if y.dtype.kind == "c":
        raise DTypeError(f"{name} must hold class labels; got complex dtype {y.dtype}")
    check_finite(y, name)
    if n_samples is not None and y.shape[0] != n_samples:
        raise DimensionMismatchError(
            f"{name} must have one entry per sample ({n_samples}); got {y.shape[0]}"
        )
    if y.shape[0] == 0:
        raise TooFewSamplesError(f"{name} needs at least 1 sample; got 0")
    if min_classes > 1:
        n_classes = len(np.unique(y))
        if n_classes < min_classes:
            raise ValidationError(
                f"{name} must hold at least {min_classes} distinct classes; got {n_classes}"
            )
    return y


def validate_features(
    estimator: Any, X: Any, *, reset: bool, min_samples: int = 1, name: str = "X"
) -> np.ndarray:
    """Check ``X`` for an estimator and keep ``n_features_in_`` up to date.

    On top of :func:`check_array` (2-D, real, finite) it phrases the sample-count and
    feature-count errors as scikit-learn does, records ``n_features_in_`` and, for data
    frames, ``feature_names_in_`` when ``reset`` is true, and checks both against the
    fitted values otherwise.

    Examples
    --------
    >>> class Est:
    ...     pass
    >>> est = Est()
    >>> validate_features(est, np.zeros((3, 2)), reset=True).shape, est.n_features_in_
    ((3, 2), 2)
    >>> validate_features(est, np.zeros((3, 5)), reset=False)
    Traceback (most recent call last):
    ...
    subspacekit.errors.DimensionMismatchError: X has 5 features, but Est is expecting 2 features as input.
    """
    owner = type(estimator).__name__
    A = check_array(X, name, ndim=(1, 2), min_samples=0, min_features=0)
    if A.ndim == 1:
        raise ShapeError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got a 1-D array of "
            f"shape {A.shape}. Reshape your data either using array.reshape(-1, 1) if it has a "
            "single feature or array.reshape(1, -1) if it is a single sample."
        )
    if A.shape[1] == 0:
        raise ShapeError(
            f"{owner} got {name} with 0 feature(s) (shape={A.shape}) while a minimum of 1 is "
            "required."
        )
    if not reset:
        expected = getattr(estimator, "n_features_in_", None)
        if expected is not None and A.shape[1] != expected:
            raise DimensionMismatchError(
                f"X has {A.shape[1]} features, but {owner} is expecting {expected} "
                "features as input."
            )
    if hasattr(estimator, "get_params"):
        # scikit-learn's own bookkeeping of n_features_in_ and feature_names_in_
        # (including its warnings on renamed columns); only estimators reach here.
        from sklearn.utils.validation import validate_data

        validate_data(
            estimator, X if hasattr(X, "columns") else A, skip_check_array=True, reset=reset
        )
    elif reset:
        estimator.n_features_in_ = A.shape[1]
    n = A.shape[0]
    if n < min_samples:
        raise TooFewSamplesError(
            f"{owner} needs at least {min_samples} samples; got {n} sample(s) (n_samples={n})"
        )
    return A


def check_fitted(estimator: Any, attributes: str | Sequence[str] | None = None) -> None:
    """Raise :class:`~subspacekit.errors.NotFittedError` unless ``fit`` has run.

    ``attributes`` names what ``fit`` sets; by default any public attribute with a
    trailing underscore counts (scikit-learn's rule).

    Examples
    --------
    >>> class Est:
    ...     pass
    >>> check_fitted(Est())
    Traceback (most recent call last):
    ...
    subspacekit.errors.NotFittedError: This Est instance is not fitted yet; call fit first
    """
    if attributes is None:
        fitted = any(
            k.endswith("_") and not k.startswith("_") for k in getattr(estimator, "__dict__", {})
        )
    else:
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        fitted = all(hasattr(estimator, a) for a in names)
    if not fitted:
        from subspacekit.errors import NotFittedError

        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call fit first"
        )


# --------------------------------------------------------------------------- values
def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in ``[low, high]``.

    Examples
    --------
    >>> check_int(3, "n_neighbors", low=1)
    3
    >>> check_int(0, "n_neighbors", low=1)
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: n_neighbors must be an integer >= 1; got 0
    """
    bounds = " in " + f"[{low}, {high}]" if low is not None and high is not None else ""
    if not bounds:
        bounds = f" >= {low}" if low is not None else (f" <= {high}" if high is not None else "")
    if not is_int(value):
        raise DTypeError(f"{name} must be an integer{bounds}; got {describe(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValidationError(f"{name} must be an integer{bounds}; got {v}")
    return v


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
    n = check_int(n_components, name, low=0 if allow_zero else 1)
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
    if not is_real(value):
        raise DTypeError(f"{name} must be a real number; got {describe(value)}")
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
    if not is_real(value):
        raise DTypeError(f"{name} must be a real number; got {describe(value)}")
    v = float(value)
    ok = (0.0 < v < 1.0) if open_interval else (0.0 <= v <= 1.0)
    if not ok:
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValidationError(f"{name} must lie in {interval}; got {v}")
    return v


def check_ci(ci: Any, name: str = "ci") -> float | None:
    """A confidence level in (0, 1), or None for "no interval".

    Examples
    --------
    >>> check_ci(None) is None, check_ci(0.9)
    (True, 0.9)
    """
    if ci is None:
        return None
    return check_probability(ci, name)


def check_in(value: Any, allowed: Sequence[Any], name: str) -> Any:
    """Return ``value`` if it is one of ``allowed``.

    Examples
    --------
    >>> check_in("a", ["a", "b"], "mode")
    'a'
    """
    try:
        ok = value in allowed
    except TypeError:  # unhashable value against a set
        ok = False
    if not ok:
        raise ValidationError(f"{name} must be one of {list(allowed)}; got {value!r}")
    return value


def check_random_state(random_state: Any) -> np.random.RandomState:
    """The one seed converter: None, an int seed, a RandomState or a Generator.

    None gives numpy's global RandomState (so ``np.random.seed`` applies, as in
    scikit-learn); an int seeds a new one; a RandomState is used as it is; a
    ``numpy.random.Generator`` seeds a new RandomState from one draw, so passing the
    same generator twice gives two different streams.

    Examples
    --------
    >>> check_random_state(0).randint(10) == check_random_state(0).randint(10)
    True
    >>> check_random_state("0")
    Traceback (most recent call last):
    ...
    subspacekit.errors.DTypeError: random_state must be None, an int, a numpy RandomState or a Generator; got '0' (str)
    """
    if random_state is None or random_state is np.random:
        return np.random.mtrand._rand
    if is_int(random_state):
        if not 0 <= int(random_state) < 2**32:
            raise ValidationError(f"random_state must lie in [0, 2**32); got {random_state}")
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(2**32 - 1)))
    raise DTypeError(
        "random_state must be None, an int, a numpy RandomState or a Generator; "
        f"got {describe(random_state)}"
    )
