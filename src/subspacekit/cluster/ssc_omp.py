"""Sparse subspace clustering by orthogonal matching pursuit (You, Robinson & Vidal, CVPR 2016).

Each sample :math:`x_j` (rows of ``X``, scaled to unit length) is written greedily as a
combination of at most ``n_nonzero`` other samples:

.. math::

    c_j = \\arg\\min_c \\|x_j - \\textstyle\\sum_{i \\ne j} c_i x_i\\|_2
    \\quad \\text{s.t.} \\quad \\|c\\|_0 \\le k_{\\max},

by orthogonal matching pursuit: repeatedly add the sample most correlated with the
current residual, then re-fit by least squares on the selected set; stop at
``n_nonzero`` atoms or when the residual norm falls below ``tol``. Under broad
conditions (independent or sufficiently separated subspaces, enough samples) the
selected samples lie in :math:`x_j`'s own subspace (a *subspace-preserving*
representation), so :math:`W = |C| + |C|^\\top` has no edge between subspaces.

All samples of a batch are pursued together (one matrix product per greedy step), so
the cost is :math:`O(n^2 d\\, k_{\\max})` time in BLAS-3 and :math:`O(n k_{\\max})` memory
for the sparse representation.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((30, 3)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 3)) @ B.T for B in bases])
>>> y = np.repeat([0, 1, 2], 40)
>>> model = SSCOMP(n_clusters=3, n_nonzero=3, random_state=0).fit(X)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(y, model.labels_)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from subspacekit.cluster.spectral import SelfExpressiveClustering
from subspacekit.core.validation import check_in, check_n_components, check_positive

__all__ = ["SSCOMP", "omp_representation"]

# Working memory of one batch, in float64 entries (~80 MB).
_BATCH_ENTRIES = 10_000_000
# Up to this many samples the n x n Gram matrix (<= 200 MB) is precomputed.
_GRAM_MAX_N = 5000


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return X / norms


def omp_representation(
    X: np.ndarray, n_nonzero: int = 10, tol: float = 1e-6, *, batch_size: int | None = None
) -> sp.csr_matrix:
    """Sparse self-representation by batched orthogonal matching pursuit.

    The pursuit runs in "Gram space": with :math:`q_u` the orthonormalised selected
    samples and :math:`p_u = X q_u` (an ``n``-vector), the residual correlations are
    updated as :math:`X r \\leftarrow X r - (q_u^\\top x_j)\\, p_u` and
    :math:`p_u = (X x_{s_u} - \\sum_{t<u} p_t[s_u]\\, p_t)/\\|\\cdot\\|`, so a step costs
    :math:`O(n k)` per sample once the Gram rows :math:`X x_s` are known. They are read
    from the precomputed Gram matrix when ``n`` is moderate, computed on the fly
    otherwise (:math:`O(n d)` per step, no ``n x n`` memory).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Samples in rows (not normalised here).
    n_nonzero : int
        Largest number of samples used to represent each sample.
    tol : float
        Stop a sample's pursuit when its residual norm is at most ``tol * ||x_j||``.
    batch_size : int or None
        Samples pursued together; chosen from a ~80 MB working-memory budget if None.

    Returns
    -------
    C : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Row ``j`` holds the coefficients of sample ``j``; the diagonal is zero.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> np.round(omp_representation(X, 2).toarray(), 6)
    array([[ 0., -1.,  1.],
           [-1.,  0.,  1.],
           [ 1.,  1.,  0.]])
    """
    n, d = X.shape
    X = np.asarray(X, dtype=np.float64)
    k = min(int(n_nonzero), n - 1, d)
    if k < 1:
        return sp.csr_matrix((n, n))
    gram = X @ X.T if n <= _GRAM_MAX_N else None

    def gram_rows(index: np.ndarray) -> np.ndarray:
        return gram[index] if gram is not None else X[index] @ X.T

    if batch_size is None:
        batch_size = max(1, min(n, _BATCH_ENTRIES // ((k + 3) * n)))
    sq_norms = np.einsum("ij,ij->i", X, X)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(n, start + batch_size))
        b = idx.size
        local = np.arange(b)
        corr = gram_rows(idx).copy()  # X r for r = x_j (residual correlations)
        P = np.zeros((b, k, n))  # p_u = X q_u
        selected = np.full((b, k), -1, dtype=np.int64)
        res_sq = sq_norms[idx].copy()  # squared residual norms
        stop_at = (tol**2) * sq_norms[idx]
        active = res_sq > stop_at
        for step in range(k):
            act = np.flatnonzero(active)
            if act.size == 0:
                break
            score = np.abs(corr[act])
            score[np.arange(act.size), idx[act]] = -np.inf
            if step:
                score[np.arange(act.size)[:, None], selected[act, :step]] = -np.inf
            chosen = np.argmax(score, axis=1)
            p_new = gram_rows(chosen)  # X x_s
            if step:
                overlap = P[act[:, None], np.arange(step)[None, :], chosen[:, None]]
                p_new -= np.einsum("bt,btn->bn", overlap, P[act, :step])
                norm_sq = sq_norms[chosen] - np.einsum("bt,bt->b", overlap, overlap)
            else:
                norm_sq = sq_norms[chosen].copy()
            independent = norm_sq > 1e-20 * np.maximum(sq_norms[chosen], 1e-300)
            keep = act[independent]
            p_new = p_new[independent] / np.sqrt(norm_sq[independent])[:, None]
            P[keep, step] = p_new
            selected[keep, step] = chosen[independent]
            proj = p_new[np.arange(keep.size), idx[keep]]  # q_u . x_j
            corr[keep] -= proj[:, None] * p_new
            res_sq[keep] -= proj**2
            active[act[~independent]] = False
            active[keep] = res_sq[keep] > stop_at[keep]
        # least squares on the selected atoms through the pursuit's own QR:
        # x_{s_t} = sum_u R[t, u] q_u with R[t, u] = p_u[s_t] lower triangular
        pad = selected < 0
        safe = np.where(pad, 0, selected)
        tri = np.take_along_axis(P, safe[:, None, :], axis=2)  # [b, u, t] = p_u[s_t]
        tri = np.transpose(tri, (0, 2, 1))
        target = P[local, :, idx]  # [b, u] = p_u[j] = q_u . x_j
        tri = np.where(pad[:, :, None] | pad[:, None, :], 0.0, np.tril(tri))
        diag = np.einsum("btt->bt", tri)
        diag[pad] = 1.0
        target = np.where(pad, 0.0, target)
        coef = np.linalg.solve(np.transpose(tri, (0, 2, 1)), target[:, :, None])[:, :, 0]
        r, t = np.nonzero(~pad)
        rows_out.append(idx[r])
        cols_out.append(selected[r, t])
        vals_out.append(coef[r, t])
    C = sp.csr_matrix(
        (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
        shape=(n, n),
    )
    C.eliminate_zeros()
    return C


class SSCOMP(SelfExpressiveClustering):
    """Sparse subspace clustering by orthogonal matching pursuit (SSC-OMP).

    Parameters
    ----------
    n_clusters : int
        Number of clusters (subspaces).
    n_nonzero : int, default=10
        Largest number of samples used to represent each sample (:math:`k_{\\max}`);
        about the subspace dimension. You et al. used 10 for faces.
    tol : float, default=1e-6
        Relative residual at which a sample's pursuit stops.
    normalize : bool, default=True
        Scale every sample to unit l2 norm first (as in the paper).
    affinity : {"symmetrize", "max_normalized", "nearest_neighbors"}, default="symmetrize"
        How the affinity is built from the representation; see
        :func:`~subspacekit.cluster.spectral.affinity_from_representation`.
    n_neighbors : int, default=3
        Used only by ``affinity="nearest_neighbors"``.
    assign_labels : {"kmeans", "snem"}, default="kmeans"
    n_init : int, default=20
        k-means restarts in the spectral step.
    random_state : int, RandomState or None

    Attributes
    ----------
    representation_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
    affinity_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
    labels_ : ndarray of shape (n_samples,)
    n_connected_components_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [2, 0, 0], [0, 1, 0], [0, 3, 0]], dtype=float)
    >>> SSCOMP(n_clusters=2, n_nonzero=1, random_state=0).fit_predict(X).tolist()
    [1, 1, 0, 0]
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        n_nonzero: int = 10,
        tol: float = 1e-6,
        normalize: bool = True,
        affinity: str = "symmetrize",
        n_neighbors: int = 3,
        assign_labels: str = "kmeans",
        n_init: int = 20,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_nonzero = n_nonzero
        self.tol = tol
        self.normalize = normalize
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.assign_labels = assign_labels
        self.n_init = n_init
        self.random_state = random_state

    def _self_representation(self, X: np.ndarray) -> sp.csr_matrix:
        check_n_components(self.n_nonzero, max(1, X.shape[0] - 1), "n_nonzero")
        check_positive(self.tol, "tol", strict=False)
        check_in(self.normalize, [True, False], "normalize")
        data = _unit_rows(X) if self.normalize else X
        return omp_representation(data.astype(np.float64, copy=False), self.n_nonzero, self.tol)
