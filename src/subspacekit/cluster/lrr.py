"""Low-rank representation by inexact ALM (Liu, Lin, Yan, Sun, Yu & Ma, TPAMI 2013).

With samples as the columns of :math:`Y = X^\\top`, LRR finds the lowest-rank
self-expression up to sample-specific corruptions:

.. math::

    \\min_{Z, E}\\ \\|Z\\|_* + \\lambda \\|E\\|_{2,1}
    \\quad \\text{s.t.} \\quad Y = Y Z + E,

where :math:`\\|E\\|_{2,1}` sums the norms of the columns of :math:`E` (one per sample,
so a few corrupted samples are absorbed). Because :math:`\\|QZ'\\|_* = \\|Z'\\|_*` for an
orthonormal :math:`Q`, the dictionary :math:`Y` is replaced by :math:`B = YQ` with
:math:`Q` (``n x r``) an orthonormal basis of the row space of :math:`Y`, and
:math:`Z = QZ'` at the end: every singular value thresholding then acts on an
``r x n`` matrix instead of ``n x n``.

The inexact augmented Lagrange multiplier method alternates (with :math:`J = Z'`):

.. math::

    J = \\mathcal D_{1/\\mu}(Z' + Y_2/\\mu), \\quad
    Z' = (I + B^\\top B)^{-1}\\big(B^\\top(Y - E) + J + (B^\\top Y_1 - Y_2)/\\mu\\big),

    E = \\mathcal S^{2,1}_{\\lambda/\\mu}(Y - BZ' + Y_1/\\mu), \\quad
    Y_1 \\mathrel{+}= \\mu(Y - BZ' - E),\\ Y_2 \\mathrel{+}= \\mu(Z' - J),\\ \\mu \\leftarrow
    \\min(\\rho\\mu, \\mu_{\\max}),

with :math:`\\mathcal D` singular value thresholding and :math:`\\mathcal S^{2,1}` column
shrinkage. Without corruption the solution is the shape-interaction matrix
:math:`V V^\\top` of the skinny SVD :math:`Y = U \\Sigma V^\\top`, which is block diagonal
for independent subspaces. Memory and time are dense: :math:`O(n^2)` and
:math:`O(r^2 n)` per iteration.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((30, 3)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 3)) @ B.T for B in bases])
>>> model = LRR(n_clusters=3, random_state=0).fit(X)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(np.repeat([0, 1, 2], 40), model.labels_)
1.0
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.linalg import svd

from subspacekit.cluster.spectral import SelfExpressiveClustering
from subspacekit.core.validation import check_positive
from subspacekit.errors import ConvergenceWarning, ValidationError

__all__ = ["LRR", "lrr_representation"]


def _singular_value_threshold(M: np.ndarray, threshold: float) -> np.ndarray:
    U, s, Vt = svd(M, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    keep = s > threshold
    if not keep.any():
        return np.zeros_like(M)
    return (U[:, keep] * (s[keep] - threshold)) @ Vt[keep]


def _column_shrink(M: np.ndarray, threshold: float) -> np.ndarray:
    norms = np.linalg.norm(M, axis=0)
    scale = np.where(norms > threshold, 1.0 - threshold / np.maximum(norms, 1e-300), 0.0)
    return M * scale


def lrr_representation(
    X: np.ndarray,
    lam: float = 0.1,
    *,
    rho: float = 1.1,
    mu: float = 1e-6,
    mu_max: float = 1e10,
    tol: float = 1e-7,
    max_iter: int = 1000,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Low-rank self-representation of the rows of ``X`` by inexact ALM.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    lam : float
        Weight of the column-sparse corruption term.
    rho, mu, mu_max : float
        Penalty growth factor, initial and largest penalty.
    tol : float
        Stop when both constraint residuals have largest entry below ``tol``.
    max_iter : int

    Returns
    -------
    Z : ndarray of shape (n_samples, n_samples)
        Row ``j`` holds the code of sample ``j`` (the transpose of the column form).
    E : ndarray of shape (n_samples, n_features)
        Sample-wise corruptions (row ``j`` belongs to sample ``j``).
    n_iter : int

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    >>> Z, E, _ = lrr_representation(X, lam=10.0)
    >>> np.round(Z, 3)  # shape interaction matrix V V^T
    array([[0.2, 0.4, 0. ],
           [0.4, 0.8, 0. ],
           [0. , 0. , 1. ]])
    """
    Y = np.asarray(X, dtype=np.float64).T  # (d, n): samples as columns
    d, n = Y.shape
    _, s, Vt = svd(Y, full_matrices=False, lapack_driver="gesdd")
    rank = int((s > s[0] * max(d, n) * np.finfo(np.float64).eps).sum()) if s.size else 0
    Q = Vt[:rank].T  # (n, r): orthonormal basis of the row space of Y
    B = Y @ Q  # (d, r)
    r = Q.shape[1]
    BtY = B.T @ Y
    inv_gram = np.linalg.inv(np.eye(r) + B.T @ B)
    Zp = np.zeros((r, n))
    J = np.zeros((r, n))
    E = np.zeros((d, n))
    Y1 = np.zeros((d, n))
    Y2 = np.zeros((r, n))
    it = 0
    converged = False
    while it < max_iter:
        it += 1
        J = _singular_value_threshold(Zp + Y2 / mu, 1.0 / mu)
        Zp = inv_gram @ (BtY - B.T @ E + J + (B.T @ Y1 - Y2) / mu)
        fit = Y - B @ Zp
        E = _column_shrink(fit + Y1 / mu, lam / mu)
        residual_data = fit - E
        residual_split = Zp - J
        err = max(np.abs(residual_data).max(), np.abs(residual_split).max())
        if err < tol:
            converged = True
            break
        Y1 += mu * residual_data
        Y2 += mu * residual_split
        mu = min(mu_max, mu * rho)
    if not converged:
        warnings.warn(
            f"LRR inexact ALM did not reach tol={tol} in max_iter={max_iter} iterations "
            f"(last residual {err:.2g})",
            ConvergenceWarning,
            stacklevel=2,
        )
    Z = Q @ Zp  # column form (n, n)
    return Z.T, E.T, it


class LRR(SelfExpressiveClustering):
    """Low-rank representation (LRR) subspace clustering.

    Parameters
    ----------
    n_clusters : int
    lam : float, default=0.1
        Weight of the sample-wise (l2,1) corruption term; larger means fewer samples
        are treated as corrupted.
    normalize : bool, default=True
        Scale each sample to unit l2 norm first.
    rho : float, default=1.1
        ALM penalty growth.
    tol : float, default=1e-7
    max_iter : int, default=1000
    affinity : {"symmetrize", "max_normalized", "nearest_neighbors"}, default="symmetrize"
    n_neighbors : int, default=3
    assign_labels : {"kmeans", "snem"}, default="kmeans"
    n_init : int, default=20
    random_state : int, RandomState or None

    Attributes
    ----------
    representation_ : ndarray of shape (n_samples, n_samples)
        Dense.
    corruption_ : ndarray of shape (n_samples, n_features)
        The fitted sample-wise corruption :math:`E`.
    affinity_ : ndarray
    labels_ : ndarray of shape (n_samples,)
    n_iter_ : int
    n_connected_components_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [2, 0, 0], [0, 1, 0], [0, 3, 0]], dtype=float)
    >>> LRR(n_clusters=2, random_state=0).fit_predict(X).tolist()
    [1, 1, 0, 0]
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        lam: float = 0.1,
        normalize: bool = True,
        rho: float = 1.1,
        tol: float = 1e-7,
        max_iter: int = 1000,
        affinity: str = "symmetrize",
        n_neighbors: int = 3,
        assign_labels: str = "kmeans",
        n_init: int = 20,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.lam = lam
        self.normalize = normalize
        self.rho = rho
        self.tol = tol
        self.max_iter = max_iter
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.assign_labels = assign_labels
        self.n_init = n_init
        self.random_state = random_state

    def _self_representation(self, X: np.ndarray) -> np.ndarray:
        lam = check_positive(self.lam, "lam")
        rho = check_positive(self.rho, "rho")
        if rho <= 1.0:
            raise ValidationError(f"rho must be > 1 so that the penalty grows; got {rho}")
        if self.normalize:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            X = X / norms
        Z, E, self.n_iter_ = lrr_representation(
            X, lam, rho=rho, tol=check_positive(self.tol, "tol"), max_iter=int(self.max_iter)
        )
        self.corruption_ = E
        return Z
