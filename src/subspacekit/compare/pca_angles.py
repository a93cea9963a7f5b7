r"""Principal angles between the top-k PCA subspaces of two representations.

Two subspaces can be attached to each representation of n inputs:

* ``space="samples"`` (default): the span in :math:`\mathbb{R}^n` of the top-k principal
  component *scores*, i.e. the top-k left singular vectors of the centred data. It is
  defined for any widths d1, d2 and is unchanged by any orthogonal map or scaling of the
  units: it asks whether the two representations vary along the same directions *across
  inputs*. Its cosines are the SVCCA canonical correlations with k kept directions.
* ``space="features"``: the span in :math:`\mathbb{R}^d` of the top-k principal
  *directions* (right singular vectors); it needs d1 = d2 and the units of X and Y to be
  the same coordinates (e.g. one model's layer under two input distributions).

Angles come from :func:`subspacekit.core.principal_angles`, accurate for tiny angles.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from subspacekit.core import principal_angles
from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.result import Estimate
from subspacekit.core.validation import check_in, check_pair
from subspacekit.errors import DimensionMismatchError, DTypeError, RankError, ValidationError

__all__ = ["pca_principal_angles", "pca_subspace_similarity"]

SPACES = ("samples", "features")


def _top_basis(X: np.ndarray, k: int, space: str, name: str) -> np.ndarray:
    Xc = X - X.mean(axis=0, dtype=np.float64)
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    tol = max(Xc.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
    rank = int((s > tol).sum())
    if k > rank:
        raise RankError(f"n_components={k} exceeds the numerical rank {rank} of centred {name}")
    return U[:, :k] if space == "samples" else Vt[:k].T


def _check_k(n_components: Any) -> int:
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise DTypeError(f"n_components must be an integer; got {type(n_components).__name__}")
    if n_components < 1:
        raise ValidationError(f"n_components must be >= 1; got {n_components}")
    return int(n_components)


def _angles(X: np.ndarray, Y: np.ndarray, k: int, space: str) -> np.ndarray:
    return principal_angles(_top_basis(X, k, space, "X"), _top_basis(Y, k, space, "Y"))


def _prepare(X: Any, Y: Any, n_components: Any, space: str) -> tuple[np.ndarray, np.ndarray, int]:
    check_in(space, SPACES, "space")
    k = _check_k(n_components)
    X, Y = check_pair(X, Y, min_samples=2)
    X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    if space == "features" and X.shape[1] != Y.shape[1]:
        raise DimensionMismatchError(
            f"space='features' compares directions in one feature space and needs d1 == d2; "
            f"got {X.shape[1]} and {Y.shape[1]} (use space='samples')"
        )
    return X, Y, k


def pca_principal_angles(
    X: Any, Y: Any, n_components: int, *, space: str = "samples"
) -> np.ndarray:
    """Ascending principal angles (radians) between the top-k PCA subspaces of X and Y.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Converted to numpy float64.
    n_components : int
        k, at most the numerical rank of each centred representation.
    space : {"samples", "features"}
        Principal-component scores in R^n, or principal directions in R^d (d1 == d2).

    Returns
    -------
    ndarray of shape (n_components,)

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5)) @ np.diag([5.0, 4.0, 3.0, 0.1, 0.1])
    >>> Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> np.round(pca_principal_angles(X, X @ Q, 3), 8)
    array([0., 0., 0.])
    """
    X, Y, k = _prepare(X, Y, n_components, space)
    return _angles(X, Y, k, space)


def pca_subspace_similarity(
    X: Any,
    Y: Any,
    n_components: int,
    *,
    space: str = "samples",
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    r"""Mean squared cosine of the principal angles between top-k PCA subspaces.

    :math:`\frac1k\sum_i\cos^2\theta_i = \|U_X^\top U_Y\|_F^2 / k \in [0, 1]`; 1 for equal
    subspaces and about k/n (samples) or k/d (features) for random ones.

    Parameters
    ----------
    X, Y, n_components, space
        As in :func:`pca_principal_angles`.
    ci, permutations, n_resamples, random_state
        Bootstrap interval over inputs and permutation p-value (see
        :func:`~subspacekit.compare.cka`); permutations need ``space="samples"`` (in
        feature space the pairing of inputs does not enter).

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4)) @ np.diag([3.0, 2.0, 1.0, 0.1])
    >>> round(pca_subspace_similarity(X, X + 0.01 * rng.normal(size=(300, 4)), 3), 4)
    1.0
    """
    X, Y, k = _prepare(X, Y, n_components, space)
    if permutations and space == "features":
        raise ValidationError(
            "permutation tests need space='samples'; the feature-space "
            "PCA subspaces do not depend on the pairing of inputs"
        )

    def statistic(A: np.ndarray, B: np.ndarray) -> float:
        try:
            return float(np.mean(np.cos(_angles(A, B, k, space)) ** 2))
        except RankError:
            return float("nan")

    value = float(np.mean(np.cos(_angles(X, Y, k, space)) ** 2))
    return with_uncertainty(
        statistic,
        X,
        Y,
        value=value,
        ci=ci,
        permutations=permutations,
        n_resamples=n_resamples,
        random_state=random_state,
        method=f"PCA subspace similarity (k={k}, {space})",
    )
