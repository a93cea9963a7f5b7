r"""Linear predictivity: out-of-fold ridge :math:`R^2` of one representation from the other.

For targets :math:`Y` and predictions :math:`\hat Y` made by a ridge map fitted on the
other folds,

.. math::

    R^2_{X \to Y} = 1 - \frac{\sum_{\text{folds}} \|Y_{te} - \hat Y_{te}\|_F^2}
                             {\sum_{\text{folds}} \|Y_{te} - \bar Y_{tr}\|_F^2},

the variance-weighted :math:`R^2` over all target units. Unlike CKA or CCA it is
asymmetric: a wide representation can predict a narrow one without the converse, so
both directions are reported. The ridge penalty is ``alpha`` times the mean eigenvalue
of the training covariance (:math:`\lambda = \alpha\,\mathrm{tr}(X^\top X)/d`), which
makes it invariant to rescaling X. Folds are drawn over *distinct* inputs, so repeated
rows (bootstrap resamples, duplicated data) never sit on both sides of a split.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg

from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.validation import check_pair, check_positive, check_random_state
from subspacekit.errors import DTypeError, TooFewSamplesError, ValidationError

__all__ = ["LinearPredictivity", "linear_predictivity"]


class LinearPredictivity(NamedTuple):
    """Out-of-fold :math:`R^2` in both directions (floats or Estimates)."""

    x_to_y: Any
    y_to_x: Any

    @property
    def mean(self) -> float:
        """Average of the two directions."""
        return (float(self.x_to_y) + float(self.y_to_x)) / 2.0


def _ridge_predict(Xtr: np.ndarray, Ytr: np.ndarray, Xte: np.ndarray, alpha: float) -> np.ndarray:
    mx, my = Xtr.mean(axis=0), Ytr.mean(axis=0)
    A, B = Xtr - mx, Ytr - my
    n, d = A.shape
    lam = alpha * float(np.vdot(A, A)) / d
    lam = lam if lam > 0 else alpha
    if n >= d:
        G = A.T @ A
        G[np.diag_indices_from(G)] += lam
        W = scipy.linalg.solve(G, A.T @ B, assume_a="pos")
    else:  # dual form: W = A^T (A A^T + lam I)^-1 B
        G = A @ A.T
        G[np.diag_indices_from(G)] += lam
        W = A.T @ scipy.linalg.solve(G, B, assume_a="pos")
    return (Xte - mx) @ W + my


def _groups_of_rows(X: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(X, axis=0, return_inverse=True)
    return inverse.ravel()


def _r2_cv(X: np.ndarray, Y: np.ndarray, alpha: float, n_splits: int, seed: int) -> float:
    groups = _groups_of_rows(np.c_[X, Y])
    n_groups = int(groups.max()) + 1
    if n_groups < n_splits:
        return float("nan")
    fold_of_group = np.random.RandomState(seed).permutation(n_groups) % n_splits
    fold = fold_of_group[groups]
    res = tot = 0.0
    for f in range(n_splits):
        te, tr = fold == f, fold != f
        pred = _ridge_predict(X[tr], Y[tr], X[te], alpha)
        res += float(np.sum((Y[te] - pred) ** 2))
        tot += float(np.sum((Y[te] - Y[tr].mean(axis=0)) ** 2))
    return 1.0 - res / tot if tot > 0 else float("nan")


def linear_predictivity(
    X: Any,
    Y: Any,
    *,
    alpha: float = 1e-2,
    n_splits: int = 5,
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> LinearPredictivity:
    """Cross-validated ridge :math:`R^2` of Y from X and of X from Y.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Representations of the same inputs (converted to numpy float64).
    alpha : float
        Ridge penalty relative to the mean eigenvalue of the predictor covariance.
    n_splits : int
        Number of cross-validation folds (over distinct inputs).
    ci, permutations, n_resamples
        Bootstrap interval over inputs and permutation p-value for each direction (see
        :func:`~subspacekit.compare.cka`); every replicate refits all folds.
    random_state : None, int or RandomState
        Seed of the fold assignment, the bootstrap and the permutations.

    Returns
    -------
    LinearPredictivity
        ``(x_to_y, y_to_x)``, floats or :class:`~subspacekit.core.result.Estimate`.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(400, 6))
    >>> Y = X[:, :2] @ rng.normal(size=(2, 3))  # Y is a linear function of part of X
    >>> r = linear_predictivity(X, Y, random_state=0)
    >>> round(r.x_to_y, 3), round(r.y_to_x, 2)
    (1.0, 0.34)
    """
    alpha = check_positive(alpha, "alpha")
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
        raise DTypeError(f"n_splits must be an integer; got {type(n_splits).__name__}")
    if n_splits < 2:
        raise ValidationError(f"n_splits must be >= 2; got {n_splits}")
    X, Y = check_pair(X, Y, min_samples=2 * n_splits, why=f"{n_splits}-fold cross-validation")
    X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    rng = check_random_state(random_state)
    seed = int(rng.randint(2**31 - 1))
    n_distinct = int(_groups_of_rows(np.c_[X, Y]).max()) + 1
    if n_distinct < 2 * n_splits:
        raise TooFewSamplesError(
            f"need at least {2 * n_splits} distinct inputs for {n_splits}-fold "
            f"cross-validation; got {n_distinct}"
        )

    results = []
    for A, B, name in ((X, Y, "X -> Y"), (Y, X, "Y -> X")):

        def statistic(P: np.ndarray, T: np.ndarray) -> float:
            return _r2_cv(P, T, alpha, int(n_splits), seed)

        value = statistic(A, B)
        results.append(
            with_uncertainty(
                statistic,
                A,
                B,
                value=value,
                ci=ci,
                permutations=permutations,
                n_resamples=n_resamples,
                random_state=rng,
                method=f"ridge R^2 {name} ({n_splits}-fold)",
            )
        )
    return LinearPredictivity(*results)
