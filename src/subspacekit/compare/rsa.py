r"""Representational similarity analysis (Kriegeskorte, Mur & Bandettini 2008).

Each representation is summarised by its representational dissimilarity matrix (RDM),
the dissimilarities between all pairs of inputs; two representations are compared by
the rank (Spearman) or linear (Pearson) correlation of the upper triangles of their
RDMs. The default dissimilarity, one minus the Pearson correlation between the two
inputs' activation patterns, makes RSA invariant to per-input shifts and scalings;
with ``"euclidean"`` it is invariant to orthogonal maps, shifts and isotropic scaling.
Memory is :math:`O(n^2)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import rankdata

from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.result import Estimate
from subspacekit.core.validation import check_in, check_pair
from subspacekit.errors import ValidationError

__all__ = ["representational_dissimilarity", "rsa"]

DISSIMILARITIES = ("correlation", "euclidean", "sqeuclidean", "cosine")
COMPARISONS = ("spearman", "pearson")


def _rdm(X: np.ndarray, dissimilarity: str) -> np.ndarray:
    return pdist(X.astype(np.float64, copy=False), dissimilarity)


def representational_dissimilarity(X: Any, *, dissimilarity: str = "correlation") -> np.ndarray:
    """Condensed RDM (upper triangle, ``scipy.spatial.distance.pdist`` order) of X.

    Examples
    --------
    >>> representational_dissimilarity([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0]]).round(3)
    array([2., 0., 2.])
    """
    from subspacekit.core.validation import check_array

    check_in(dissimilarity, DISSIMILARITIES, "dissimilarity")
    X = check_array(X, "X", min_samples=2)
    D = _rdm(X, dissimilarity)
    if not np.all(np.isfinite(D)):
        raise ValidationError(
            f"the {dissimilarity!r} dissimilarity is undefined for {int((~np.isfinite(D)).sum())} "
            "pairs (constant or all-zero rows); use dissimilarity='euclidean'"
        )
    return D


def _correlate(a: np.ndarray, b: np.ndarray, comparison: str) -> float:
    if comparison == "spearman":
        a, b = rankdata(a), rankdata(b)
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denom) if denom > 0 else float("nan")


def rsa(
    X: Any,
    Y: Any,
    *,
    dissimilarity: str = "correlation",
    comparison: str = "spearman",
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    """Correlation between the representational dissimilarity matrices of X and Y.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Representations of the same inputs (converted to numpy), n >= 3.
    dissimilarity : {"correlation", "euclidean", "sqeuclidean", "cosine"}
        Dissimilarity between two inputs within one representation.
    comparison : {"spearman", "pearson"}
        How the two RDMs are correlated.
    ci, permutations, n_resamples, random_state
        Bootstrap interval over inputs and permutation p-value (the classical RSA test:
        relabel the inputs of one RDM); see :func:`~subspacekit.compare.cka`. Bootstrap
        resamples repeat inputs, whose zero self-dissimilarities agree in both RDMs; the
        effect is of order 1/n.

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 5))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> round(rsa(X, 2 * X @ Q + 1, dissimilarity="euclidean"), 6)
    1.0
    >>> est = rsa(X, X + rng.normal(size=(60, 5)), permutations=99, random_state=0)
    >>> est.pvalue
    0.01
    """
    check_in(dissimilarity, DISSIMILARITIES, "dissimilarity")
    check_in(comparison, COMPARISONS, "comparison")
    X, Y = check_pair(X, Y, min_samples=3, why="an RDM needs at least 3 pairs of inputs")
    Dx = representational_dissimilarity(X, dissimilarity=dissimilarity)
    Dy = representational_dissimilarity(Y, dissimilarity=dissimilarity)
    value = _correlate(Dx, Dy, comparison)
    if np.isnan(value):
        raise ValidationError("one RDM is constant (all inputs equally dissimilar); RSA undefined")

    def statistic(A: np.ndarray, B: np.ndarray) -> float:
        return _correlate(_rdm(A, dissimilarity), _rdm(B, dissimilarity), comparison)

    return with_uncertainty(
        statistic,
        X,
        Y,
        value=value,
        ci=ci,
        permutations=permutations,
        n_resamples=n_resamples,
        random_state=random_state,
        method=f"RSA ({dissimilarity} RDM, {comparison})",
    )
