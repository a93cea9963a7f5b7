"""Input checks shared by the estimators of this package (scikit-learn compatible messages)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NotFittedError,
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)
from subspacekit.validation import check_array, check_finite


def validate_features(
    estimator: Any, X: Any, *, reset: bool, min_samples: int = 1, name: str = "X"
) -> np.ndarray:
    """Check ``X`` as :func:`check_array` does and keep ``n_features_in_`` up to date.

    On top of :func:`subspacekit.validation.check_array` it refuses sparse and complex
    input with a message saying so, converts object arrays of numbers, phrases the
    sample-count and feature-count errors as scikit-learn does, and records
    ``feature_names_in_`` for data frames.
    """
    owner = type(estimator).__name__
    if sparse.issparse(X):
        raise DTypeError(
            f"{owner} does not support sparse input; got a {type(X).__name__}. "
            "Convert it with X.toarray() if it fits in memory."
        )
    dtype = getattr(X, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", None) == "c":
        raise ValidationError(f"Complex data not supported: {name} has dtype {dtype}")
    if dtype is not None and getattr(dtype, "kind", None) == "O":
        # float() raises TypeError with Python's own message for non-numbers.
        X = np.asarray(X, dtype=np.float64)
    A = check_array(X, name, ndim=(1, 2), min_samples=0, min_features=0, allow_nonfinite=True)
    check_finite_blockwise(A, name)
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
    validate_data(estimator, X if hasattr(X, "columns") else A, skip_check_array=True, reset=reset)
    n = A.shape[0]
    if n < min_samples:
        raise TooFewSamplesError(
            f"{owner} needs at least {min_samples} samples; got {n} sample(s) (n_samples={n})"
        )
    return A


def check_finite_blockwise(A: np.ndarray, name: str = "X", block_elements: int = 1 << 20) -> None:
    """:func:`check_finite` in row blocks: no n x d boolean temporary for large arrays."""
    if A.dtype.kind not in "fc" or A.size == 0:
        return
    rows = max(1, block_elements // max(1, A.shape[-1])) if A.ndim == 2 else A.shape[0]
    for start in range(0, A.shape[0], rows):
        if not np.isfinite(A[start : start + rows]).all():
            check_finite(A, name)  # raises with the counts and the first position


def check_fitted(estimator: Any, attribute: str = "n_features_in_") -> None:
    """Raise :class:`NotFittedError` unless ``attribute`` has been set by ``fit``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call fit first"
        )
