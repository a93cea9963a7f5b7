"""Shared input checks and the bootstrap / permutation wrapper of the compare layer.

Every similarity in :mod:`subspacekit.compare` is a statistic of two representations
``X`` (n x d1) and ``Y`` (n x d2) of the same n inputs. :func:`with_uncertainty` turns
such a statistic into an :class:`~subspacekit.core.result.Estimate`:

* ``ci=0.95``: percentile bootstrap over inputs, the same rows of X and Y drawn
  together with replacement, so the interval reflects which inputs were sampled;
* ``permutations=N``: the rows of Y are shuffled N times (breaking the pairing of
  inputs) and the one-sided p-value ``(1 + #{null >= observed}) / (1 + N)`` is
  reported.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from subspacekit.core.backend import is_torch_tensor
from subspacekit.core.result import Estimate, bootstrap_interval, permutation_pvalue
from subspacekit.errors import DTypeError, TooFewSamplesError, ValidationError
from subspacekit.validation import (
    check_array,
    check_consistent_samples,
    check_probability,
    check_random_state,
)

__all__ = ["check_pair", "check_permutations", "with_uncertainty"]

Statistic = Callable[[np.ndarray, np.ndarray], float]


def check_pair(
    X: Any, Y: Any, *, min_samples: int = 2, why: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two representations of the same inputs and return numpy arrays.

    Both must be 2-D, finite and have the same number of rows (at least
    ``min_samples``; ``why`` says in the error message what needs that many). When one
    is float32 and the other float64, both become float64.

    Examples
    --------
    >>> X, Y = check_pair(np.zeros((3, 2), dtype=np.float32), np.ones((3, 4)))
    >>> X.dtype, Y.shape
    (dtype('float64'), (3, 4))
    """
    X = check_array(X, "X")
    Y = check_array(Y, "Y")
    n = check_consistent_samples(X, Y, names=["X", "Y"])
    if n < min_samples:
        hint = f" ({why})" if why else ""
        raise TooFewSamplesError(
            f"X and Y need at least {min_samples} samples (rows){hint}; got {n}"
        )
    if X.dtype != Y.dtype:
        X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    return X, Y


def check_permutations(permutations: Any) -> int:
    """Validate the number of permutations (a non-negative integer)."""
    if isinstance(permutations, bool) or not isinstance(permutations, numbers.Integral):
        raise DTypeError(f"permutations must be an integer; got {type(permutations).__name__}")
    if permutations < 0:
        raise ValidationError(f"permutations must be >= 0; got {permutations}")
    return int(permutations)


def wants_torch(X: Any, Y: Any) -> bool:
    """True when both inputs are torch tensors (the torch code path is used)."""
    return is_torch_tensor(X) and is_torch_tensor(Y)


def with_uncertainty(
    statistic: Statistic,
    X: np.ndarray,
    Y: np.ndarray,
    value: float,
    *,
    ci: float | None,
    permutations: int,
    n_resamples: int,
    random_state: Any,
    method: str,
    greater: bool = True,
    details: dict[str, Any] | None = None,
) -> float | Estimate:
    """Return ``value``, or an :class:`Estimate` with a bootstrap interval and p-value.

    Parameters
    ----------
    statistic : callable
        ``statistic(X_rows, Y_rows) -> float``; must give ``value`` on ``(X, Y)``.
    X, Y : ndarray
        Validated representations with the same number of rows.
    value : float
        The statistic on the full data.
    ci : float or None
        Confidence level of the percentile bootstrap over inputs; None for no interval.
    permutations : int
        Number of shuffles of the rows of Y for the permutation p-value; 0 for none.
    n_resamples : int
        Number of bootstrap resamples.
    random_state : None, int or RandomState
        Seed of the resampling and the shuffles.
    method : str
        Name recorded in the estimate.
    greater : bool
        One-sided direction of the test: large values mean association.

    Returns
    -------
    float or Estimate
        The plain value when neither ``ci`` nor ``permutations`` is asked for.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 1)); Y = X + 0.1 * rng.normal(size=(50, 1))
    >>> corr = lambda A, B: float(np.corrcoef(A[:, 0], B[:, 0])[0, 1])
    >>> est = with_uncertainty(corr, X, Y, corr(X, Y), ci=0.9, permutations=99,
    ...                        n_resamples=100, random_state=0, method="pearson")
    >>> est.ci[0] < est.value < est.ci[1], est.pvalue
    (True, 0.01)
    """
    permutations = check_permutations(permutations)
    if ci is None and permutations == 0:
        return float(value)
    rng = check_random_state(random_state)
    n = X.shape[0]
    info: dict[str, Any] = dict(details or {})
    interval = stderr = None
    if ci is not None:
        ci = check_probability(ci, "ci")
        if isinstance(n_resamples, bool) or not isinstance(n_resamples, numbers.Integral):
            raise DTypeError(f"n_resamples must be an integer; got {type(n_resamples).__name__}")
        if n_resamples < 2:
            raise ValidationError(f"n_resamples must be >= 2; got {n_resamples}")
        interval, stderr, reps = bootstrap_interval(
            lambda idx: statistic(X[idx], Y[idx]),
            n,
            n_resamples=int(n_resamples),
            confidence=ci,
            random_state=rng,
        )
        info["bootstrap_replicates"] = reps
    pvalue = None
    if permutations:
        null = np.array([statistic(X, Y[rng.permutation(n)]) for _ in range(permutations)])
        pvalue = permutation_pvalue(value, null, greater=greater)
        info["null_distribution"] = null
    return Estimate(
        float(value),
        ci=interval,
        stderr=stderr,
        pvalue=pvalue,
        method=method,
        n=n,
        confidence=ci,
        details=info,
    )
