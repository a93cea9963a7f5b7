"""The one bootstrap / permutation wrapper shared by ``compare`` and ``measure``.

A statistic of one or more arrays whose rows are the same n inputs (a similarity of two
representations, a mutual information of two variables, the dimension of one cloud)
becomes an :class:`~subspacekit.core.result.Estimate` by :func:`with_uncertainty`:

* ``ci=0.95``: percentile bootstrap over inputs, the same rows of every array drawn
  together with replacement, so the interval reflects which inputs were sampled;
* ``permutations=N``: the rows of the *last* array are shuffled N times (breaking the
  pairing of inputs) and the one-sided p-value ``(1 + #{null >= observed}) / (1 + N)``
  is reported.

Examples
--------
>>> import numpy as np
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(50, 1)); Y = X + 0.1 * rng.normal(size=(50, 1))
>>> corr = lambda A, B: float(np.corrcoef(A[:, 0], B[:, 0])[0, 1])
>>> est = with_uncertainty(corr, X, Y, value=corr(X, Y), ci=0.9, permutations=99,
...                        n_resamples=100, random_state=0, method="pearson")
>>> est.ci[0] < est.value < est.ci[1], est.pvalue
(True, 0.01)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from subspacekit.core.result import Estimate
from subspacekit.core.validation import check_ci, check_int, check_random_state
from subspacekit.errors import ValidationError

__all__ = ["bootstrap_interval", "permutation_pvalue", "with_uncertainty"]


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    n_resamples: int = 200,
    confidence: float = 0.95,
    random_state: Any = None,
) -> tuple[tuple[float, float], float, np.ndarray]:
    """Percentile bootstrap over sample indices.

    ``statistic(idx)`` must compute the statistic on the rows ``idx`` (drawn with
    replacement from ``range(n)``). Returns ``((low, high), stderr, replicates)``;
    non-finite replicates are dropped (and counted out of the interval).

    Examples
    --------
    >>> x = np.arange(100.0)
    >>> (low, high), se, reps = bootstrap_interval(lambda i: x[i].mean(), 100, random_state=0)
    >>> low < 49.5 < high
    True
    """
    rng = check_random_state(random_state)
    reps = np.array([statistic(rng.randint(0, n, size=n)) for _ in range(n_resamples)], dtype=float)
    good = reps[np.isfinite(reps)]
    if good.size < 2:
        return (math.nan, math.nan), math.nan, reps
    alpha = 1.0 - confidence
    low, high = np.quantile(good, [alpha / 2, 1 - alpha / 2])
    return (float(low), float(high)), float(good.std(ddof=1)), reps


def permutation_pvalue(observed: float, null_values: np.ndarray, *, greater: bool = True) -> float:
    """One-sided permutation p-value with the +1 correction, (1 + #{null >= obs}) / (1 + N).

    Examples
    --------
    >>> permutation_pvalue(5.0, np.zeros(99))
    0.01
    """
    null_values = np.asarray(null_values, dtype=float)
    extreme = (null_values >= observed) if greater else (null_values <= observed)
    return float((1 + extreme.sum()) / (1 + null_values.size))


def with_uncertainty(
    statistic: Callable[..., float],
    *arrays: np.ndarray,
    value: float,
    ci: float | None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
    method: str = "",
    greater: bool = True,
    details: dict[str, Any] | None = None,
) -> float | Estimate:
    """Return ``value``, or an :class:`Estimate` with a bootstrap interval and p-value.

    Parameters
    ----------
    statistic : callable
        ``statistic(*rows) -> float``; must give ``value`` on ``arrays``.
    *arrays : ndarray
        Validated arrays with the same number of rows (the inputs).
    value : float
        The statistic on the full data.
    ci : float or None
        Confidence level of the percentile bootstrap over inputs; None for no interval.
    permutations : int
        Number of shuffles of the rows of the last array for the permutation p-value;
        0 for none.
    n_resamples : int
        Number of bootstrap resamples (at least 2).
    random_state : None, int, RandomState or Generator
        Seed of the resampling and the shuffles.
    method : str
        Name recorded in the estimate.
    greater : bool
        One-sided direction of the test: large values mean association.

    Returns
    -------
    float or Estimate
        The plain value when neither ``ci`` nor ``permutations`` is asked for.
    """
    permutations = check_int(permutations, "permutations", low=0)
    ci = check_ci(ci)
    if ci is None and permutations == 0:
        return float(value)
    rng = check_random_state(random_state)
    n = arrays[0].shape[0]
    info: dict[str, Any] = dict(details or {})
    interval = stderr = None
    if ci is not None:
        n_resamples = check_int(n_resamples, "n_resamples", low=2)
        interval, stderr, reps = bootstrap_interval(
            lambda idx: statistic(*(a[idx] for a in arrays)),
            n,
            n_resamples=n_resamples,
            confidence=ci,
            random_state=rng,
        )
        info["bootstrap_replicates"] = reps
    pvalue = None
    if permutations:
        if len(arrays) < 2:
            raise ValidationError("a permutation test needs two arrays whose pairing it breaks")
        head, last = arrays[:-1], arrays[-1]
        null = np.array([statistic(*head, last[rng.permutation(n)]) for _ in range(permutations)])
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
