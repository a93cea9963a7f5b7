"""Shared spectral back end: normalised-Laplacian embedding, k-means and SNEM rounding.

Every self-expressive method in :mod:`subspacekit.cluster` ends the same way. From the
representation :math:`C` (row :math:`i` expresses sample :math:`i` through the others)
an affinity :math:`W = |C| + |C|^\\top` is built, and the graph is cut by spectral
clustering with the symmetric normalised Laplacian (Ng, Jordan & Weiss 2001):

.. math::

    L = I - D^{-1/2} W D^{-1/2}, \\qquad D = \\operatorname{diag}(W \\mathbf 1).

The ``k`` eigenvectors of :math:`D^{-1/2} W D^{-1/2}` with the largest eigenvalues (the
``k`` smallest of :math:`L`) form an ``n x k`` embedding :math:`V`, and the labels come
from rounding :math:`V`: k-means with restarts on the row-normalised embedding, or
SNEM rounding (Lin et al., KDD 2025), a fixed-point iteration

.. math::

    H \\leftarrow \\operatorname{onehot}(\\ell) \\operatorname{diag}(|\\text{cluster}|)^{-1/2},
    \\qquad \\ell_i \\leftarrow \\arg\\max_j \\,[V (V^\\top H)]_{ij},

started from :math:`\\ell_i = \\arg\\max_j V_{ij}`.

Examples
--------
>>> import numpy as np
>>> W = np.kron(np.eye(2), np.ones((3, 3)))        # two disjoint triangles with self-loops
>>> labels = spectral_clustering(W, 2, random_state=0)
>>> bool(labels[0] == labels[2] != labels[3] == labels[5])
True
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from sklearn import config_context
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from subspacekit.core.validation import check_array, check_in, check_random_state
from subspacekit.errors import (
    DTypeError,
    NonFiniteError,
    ShapeError,
    SubspaceKitWarning,
    TooFewSamplesError,
    ValidationError,
)

__all__ = [
    "DisconnectedAffinityWarning",
    "SelfExpressiveClustering",
    "affinity_from_representation",
    "check_affinity",
    "check_n_clusters",
    "normalized_spectral_embedding",
    "snem_round",
    "spectral_clustering",
]

# Dense eigendecomposition is faster than ARPACK below this size and never fails to converge.
_DENSE_EIGEN_MAX_N = 1500


class DisconnectedAffinityWarning(SubspaceKitWarning):
    """The affinity graph has more connected components than clusters were asked for."""


def check_n_clusters(n_clusters: Any, n_samples: int) -> int:
    """Validate ``n_clusters``: an integer in ``[1, n_samples]``.

    Examples
    --------
    >>> check_n_clusters(3, 10)
    3
    >>> check_n_clusters(12, 10)
    Traceback (most recent call last):
    ...
    subspacekit.errors.TooFewSamplesError: n_clusters=12 needs at least 12 samples; got 10
    """
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
        raise DTypeError(f"n_clusters must be an integer; got {type(n_clusters).__name__}")
    k = int(n_clusters)
    if k < 1:
        raise ValidationError(f"n_clusters must be >= 1; got {k}")
    if k > n_samples:
        raise TooFewSamplesError(f"n_clusters={k} needs at least {k} samples; got {n_samples}")
    return k


def check_affinity(affinity: Any, name: str = "affinity") -> np.ndarray | sp.csr_matrix:
    """Validate a square, symmetric, non-negative, finite affinity (dense or sparse).

    Sparse input is returned as CSR, dense input as a float array.

    Examples
    --------
    >>> check_affinity(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: affinity must be non-negative; got minimum -1.0
    """
    if sp.issparse(affinity):
        W: np.ndarray | sp.csr_matrix = sp.csr_matrix(affinity, dtype=np.float64)
        values = np.asarray(W.data)
    else:
        W = check_array(affinity, name, allow_nonfinite=True)
        values = W
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(f"{name} must be a square (n_samples, n_samples) matrix; got {W.shape}")
    if values.size and not np.isfinite(values).all():
        n_bad = int((~np.isfinite(values)).sum())
        raise NonFiniteError(f"{name} contains {n_bad} NaN or infinite values; expected finite")
    if values.size and values.min() < 0:
        raise ValidationError(f"{name} must be non-negative; got minimum {values.min()}")
    asym = abs(W - W.T)
    asym_max = float(asym.max()) if asym.shape[0] else 0.0
    scale = float(abs(W).max()) if W.shape[0] else 0.0
    if asym_max > 1e-8 * max(scale, 1e-300):
        raise ValidationError(
            f"{name} must be symmetric; got max |W - W^T| = {asym_max:.3g} "
            f"(max |W| = {scale:.3g}); symmetrise it, e.g. (W + W.T) / 2"
        )
    return W


def _warn_if_disconnected(W: np.ndarray | sp.csr_matrix, n_clusters: int) -> int:
    n_comp, comp = connected_components(sp.csr_matrix(W), directed=False)
    if n_comp > n_clusters:
        sizes = np.bincount(comp)
        order = np.argsort(sizes, kind="stable")
        small = order[: n_comp - n_clusters]
        described = []
        for c in small[:5]:
            members = np.flatnonzero(comp == c)
            shown = ", ".join(map(str, members[:5])) + (", ..." if members.size > 5 else "")
            described.append(f"component {c} (size {sizes[c]}: samples {shown})")
        more = f" and {small.size - 5} more" if small.size > 5 else ""
        warnings.warn(
            f"the affinity graph has {n_comp} connected components for {n_clusters} clusters "
            f"(sizes {sorted(sizes.tolist(), reverse=True)[:10]}{'...' if n_comp > 10 else ''}); "
            f"the smallest are {'; '.join(described)}{more}. Components cannot be split "
            "sensibly by spectral clustering; isolated samples usually mean duplicated or "
            "zero rows, or a too strong sparsity setting.",
            DisconnectedAffinityWarning,
            stacklevel=3,
        )
    return int(n_comp)


def normalized_spectral_embedding(
    affinity: Any, n_components: int, *, random_state: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Leading eigenvectors of :math:`D^{-1/2} W D^{-1/2}` (bottom of the normalised Laplacian).

    Samples with zero degree get a zero row (they are not connected to anything).

    Parameters
    ----------
    affinity : array or sparse matrix of shape (n, n)
        Symmetric non-negative affinity.
    n_components : int
        Number of eigenvectors.
    random_state : int, RandomState or None
        Seeds ARPACK's start vector for large graphs (same seed, same result).

    Returns
    -------
    embedding : ndarray of shape (n, n_components)
        Orthonormal columns, eigenvalues in decreasing order.
    eigenvalues : ndarray of shape (n_components,)
        Eigenvalues of the normalised affinity (``1 - `` those of the Laplacian).

    Examples
    --------
    >>> W = np.kron(np.eye(2), np.ones((3, 3)))
    >>> V, vals = normalized_spectral_embedding(W, 2)
    >>> np.round(vals, 6)
    array([1., 1.])
    """
    W = check_affinity(affinity)
    n = W.shape[0]
    k = check_n_clusters(n_components, n)
    degree = np.asarray(W.sum(axis=1)).ravel()
    inv_sqrt = np.zeros(n)
    positive = degree > 0
    inv_sqrt[positive] = 1.0 / np.sqrt(degree[positive])
    if sp.issparse(W):
        scaling = sp.diags(inv_sqrt)
        N = (scaling @ W @ scaling).tocsr()
    else:
        N = W * inv_sqrt[:, None] * inv_sqrt[None, :]
    if n <= _DENSE_EIGEN_MAX_N or k >= n - 1:
        dense = N.toarray() if sp.issparse(N) else N
        vals, vecs = eigh(dense, subset_by_index=[n - k, n - 1])
    else:
        rng = check_random_state(random_state)
        v0 = rng.uniform(-1.0, 1.0, size=n)
        # Shift by +I so that the wanted end of the spectrum ([0, 2] after the shift) is
        # the algebraically largest one and well separated from the negative part.
        if sp.issparse(N):
            shifted = N + sp.identity(n, format="csr")
        else:
            shifted = N + np.eye(n)
        vals, vecs = eigsh(shifted, k=k, which="LA", v0=v0, tol=1e-10, maxiter=max(1000, 10 * n))
        vals = vals - 1.0
    order = np.argsort(vals)[::-1]
    return vecs[:, order], vals[order]


def snem_round(embedding: Any, n_iter: int = 100) -> np.ndarray:
    """SNEM rounding of a spectral embedding into hard labels (Lin et al., KDD 2025).

    Starts from the row-wise argmax of ``embedding`` and repeats ``n_iter`` times
    :math:`\\ell_i \\leftarrow \\arg\\max_j [V V^\\top H]_{ij}` with :math:`H` the one-hot
    label matrix whose columns are scaled by :math:`1/\\sqrt{|\\text{cluster}|}`, i.e. it
    moves each sample to the cluster whose normalised indicator it is most aligned with
    in the embedding. Deterministic; usable on any spectral embedding whose columns
    have meaningful signs (e.g. after ``svd_flip``).

    Parameters
    ----------
    embedding : array of shape (n_samples, k)
    n_iter : int
        Number of fixed-point iterations (the paper's code uses 100); stops early at a
        fixed point.

    Returns
    -------
    labels : ndarray of shape (n_samples,), values in ``0..k-1``

    Examples
    --------
    >>> V = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.2, 0.8]])
    >>> snem_round(V)
    array([0, 0, 1, 1])
    """
    V = check_array(embedding, "embedding")
    n, k = V.shape
    labels = np.argmax(V, axis=1)
    rows = np.arange(n)
    for _ in range(int(n_iter)):
        sizes = np.bincount(labels, minlength=k).astype(np.float64)
        sizes[sizes == 0] = 1.0
        H = sp.csr_matrix((1.0 / np.sqrt(sizes[labels]), (rows, labels)), shape=(n, k))
        projected = V @ np.asarray((H.T @ V).T)
        new_labels = np.argmax(projected, axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return labels


def _kmeans_round(embedding: np.ndarray, n_clusters: int, n_init: int, random_state: Any) -> Any:
    norms = np.linalg.norm(embedding, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state)
    return km.fit_predict(embedding / norms)


def spectral_clustering(
    affinity: Any,
    n_clusters: int,
    *,
    assign_labels: str = "kmeans",
    n_init: int = 20,
    random_state: Any = None,
) -> np.ndarray:
    """Normalised spectral clustering of an affinity graph.

    Parameters
    ----------
    affinity : array or sparse matrix of shape (n, n)
        Symmetric non-negative affinity.
    n_clusters : int
    assign_labels : {"kmeans", "snem"}
        Rounding of the embedding: k-means with ``n_init`` restarts on the row-normalised
        embedding (Ng, Jordan & Weiss), or deterministic SNEM rounding.
    n_init : int
        k-means restarts.
    random_state : int, RandomState or None

    Returns
    -------
    labels : ndarray of shape (n,)

    Warns
    -----
    DisconnectedAffinityWarning
        When the graph has more connected components than ``n_clusters``; the message
        names the smallest components and their samples.

    Examples
    --------
    >>> W = np.kron(np.eye(3), np.ones((2, 2)))
    >>> len(set(spectral_clustering(W, 3, random_state=0)))
    3
    """
    W = check_affinity(affinity)
    k = check_n_clusters(n_clusters, W.shape[0])
    check_in(assign_labels, ["kmeans", "snem"], "assign_labels")
    _warn_if_disconnected(W, k)
    if k == 1:
        return np.zeros(W.shape[0], dtype=np.int64)
    rng = check_random_state(random_state)
    embedding, _ = normalized_spectral_embedding(W, k, random_state=rng)
    if assign_labels == "snem":
        # Eigenvectors have arbitrary signs; SNEM starts from an argmax, so fix the sign
        # by making each column's largest-magnitude entry positive (svd_flip convention).
        pivot = np.argmax(np.abs(embedding), axis=0)
        embedding = embedding * np.sign(embedding[pivot, np.arange(k)])
        return snem_round(embedding)
    return np.asarray(_kmeans_round(embedding, k, n_init, rng), dtype=np.int64)


def affinity_from_representation(
    representation: Any, kind: str = "symmetrize", *, n_neighbors: int = 3
) -> np.ndarray | sp.csr_matrix:
    """Affinity graph from a self-expressive representation ``C`` (row ``i`` codes sample ``i``).

    Parameters
    ----------
    representation : array or sparse matrix of shape (n, n)
    kind : {"symmetrize", "max_normalized", "nearest_neighbors"}
        ``"symmetrize"``: :math:`W = |C| + |C|^\\top`.
        ``"max_normalized"``: each row of :math:`|C|` is first divided by its largest
        entry (Elhamifar & Vidal's post-processing), then symmetrised.
        ``"nearest_neighbors"``: rows of :math:`C` are l2-normalised and each sample is
        linked to its ``n_neighbors`` nearest rows (You et al.'s choice for large data);
        the 0/1 graph is symmetrised as :math:`(G + G^\\top)/2`.
    n_neighbors : int
        Only for ``"nearest_neighbors"``.

    Returns
    -------
    Sparse CSR for sparse input or ``"nearest_neighbors"``, dense otherwise.

    Examples
    --------
    >>> C = np.array([[0.0, 2.0], [1.0, 0.0]])
    >>> affinity_from_representation(C)
    array([[0., 3.],
           [3., 0.]])
    """
    check_in(kind, ["symmetrize", "max_normalized", "nearest_neighbors"], "affinity")
    C = sp.csr_matrix(representation) if sp.issparse(representation) else np.asarray(representation)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ShapeError(f"representation must be square (n_samples, n_samples); got {C.shape}")
    absC = abs(C)
    if kind == "nearest_neighbors":
        n = C.shape[0]
        k = min(int(n_neighbors), n - 1)
        norms = np.sqrt(
            np.asarray(absC.multiply(absC).sum(axis=1) if sp.issparse(C) else (absC**2).sum(axis=1))
        ).ravel()
        norms[norms == 0] = 1.0
        rows = sp.diags(1.0 / norms) @ C if sp.issparse(C) else C / norms[:, None]
        # bound scikit-learn's chunked distance computation (default 1 GB per chunk) so
        # the k-NN graph of a large sparse representation stays within ~64 MB
        with config_context(working_memory=64):
            nn = NearestNeighbors(n_neighbors=k + 1).fit(rows)
            _, idx = nn.kneighbors(rows)
        # Drop each sample itself (it is its own nearest neighbour unless duplicated).
        neighbours = [r[r != i][:k] for i, r in enumerate(idx)]
        row_ind = np.repeat(np.arange(n), [len(r) for r in neighbours])
        col_ind = np.concatenate(neighbours)
        G = sp.csr_matrix((np.ones(row_ind.size), (row_ind, col_ind)), shape=(n, n))
        return ((G + G.T) * 0.5).tocsr()
    if kind == "max_normalized":
        if sp.issparse(absC):
            peak = np.asarray(absC.max(axis=1).todense()).ravel()
            peak[peak == 0] = 1.0
            absC = sp.diags(1.0 / peak) @ absC
        else:
            peak = absC.max(axis=1)
            peak[peak == 0] = 1.0
            absC = absC / peak[:, None]
    W = absC + absC.T
    return W.tocsr() if sp.issparse(W) else W


class SelfExpressiveClustering(ClusterMixin, BaseEstimator):
    """Base class: self-expressive representation, affinity, then spectral clustering.

    Subclasses implement ``_self_representation(X) -> C`` (an ``(n, n)`` dense array or
    sparse matrix, row ``i`` = coefficients of sample ``i``, zero diagonal) and define
    in ``__init__`` at least ``n_clusters``, ``affinity``, ``assign_labels``, ``n_init``
    and ``random_state``.

    Fitted attributes: ``representation_``, ``affinity_``, ``labels_``,
    ``n_connected_components_``.
    """

    n_clusters: int
    affinity: str
    assign_labels: str
    n_init: int
    random_state: Any

    def _self_representation(self, X: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate_data_for_fit(self, X: Any) -> np.ndarray:
        X = check_array(X, "X", min_samples=2)
        check_n_clusters(self.n_clusters, X.shape[0])
        return X

    def fit(self, X: Any, y: Any = None) -> SelfExpressiveClustering:
        """Compute the representation, the affinity and the cluster labels of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        X = self._validate_data_for_fit(X)
        C = self._self_representation(X)
        self.representation_ = C
        self.affinity_ = affinity_from_representation(
            C, getattr(self, "affinity", "symmetrize"), n_neighbors=getattr(self, "n_neighbors", 3)
        )
        W = check_affinity(self.affinity_)
        self.n_connected_components_ = connected_components(sp.csr_matrix(W), directed=False)[0]
        self.labels_ = spectral_clustering(
            W,
            self.n_clusters,
            assign_labels=self.assign_labels,
            n_init=self.n_init,
            random_state=self.random_state,
        )
        return self
