"""Small linear-algebra kernels used by the Subspace type and the Grassmann geometry."""

from __future__ import annotations

from typing import Any

import numpy as np

from subspacekit.errors import RankError, ShapeError
from subspacekit.validation import check_array

__all__ = ["as_basis", "orthogonal_complement", "orthonormalize"]


def orthonormalize(B: Any, *, rtol: float | None = None, name: str = "basis") -> np.ndarray:
    """Orthonormal basis of the column span of ``B``, refusing rank-deficient input.

    The basis returned is the orthonormal factor of the polar decomposition
    ``B = Q H`` (``Q = U V^T`` from the thin SVD ``B = U S V^T``): the d x k matrix
    with orthonormal columns closest to ``B`` in Frobenius norm, so an orthonormal
    input comes back unchanged (to rounding) and a nearly orthonormal one moves as
    little as possible. The same SVD gives the rank check: a singular value below
    ``rtol * s_max`` (default ``rtol = max(d, k) * eps``) means the columns are
    linearly dependent and :class:`RankError` is raised with the numerical rank.
    Well-conditioned input takes a faster route with the same result: the polar
    factor from the k x k Gram matrix, applied twice (see the comments).

    Parameters
    ----------
    B : array-like of shape (d, k)
        Columns spanning the subspace.
    rtol : float, optional
        Relative tolerance of the rank check.
    name : str
        Name used in error messages.

    Returns
    -------
    ndarray of shape (d, k), float64
        ``Q`` with ``Q.T @ Q = I`` and ``span(Q) = span(B)``.

    Examples
    --------
    >>> Q = orthonormalize(np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]))
    >>> np.allclose(Q.T @ Q, np.eye(2))
    True
    >>> orthonormalize(np.array([[1.0, 2.0], [2.0, 4.0]]))
    Traceback (most recent call last):
    ...
    subspacekit.errors.RankError: basis must have full column rank 2; its numerical rank is 1 (singular values: [5., 0.])
    """
    A = check_array(B, name, min_samples=1, min_features=0).astype(np.float64, copy=False)
    d, k = A.shape
    if k > d:
        raise ShapeError(
            f"{name} must have at most as many columns as rows (d x k, k <= d); got {A.shape}"
        )
    if k == 0:
        return np.zeros((d, 0))
    if rtol is None:
        rtol = max(d, k) * np.finfo(np.float64).eps
    gram = A.T @ A
    scale = float(np.max(np.diag(gram)))
    if scale > 0 and np.max(np.abs(gram - scale * np.eye(k))) <= 1e-14 * scale:
        # Already orthonormal up to a common scale: keep the caller's basis.
        return A / np.sqrt(scale)
    lam, V = np.linalg.eigh(gram)
    if lam[0] > 1e-12 * lam[-1]:
        # Well conditioned (cond < 1e6): full rank for any sensible rtol, and the polar
        # factor A (A^T A)^{-1/2} from the Gram matrix costs two GEMMs. Its
        # orthogonality error is about eps * cond^2, which one more pass (on a matrix
        # whose condition number is now ~1) brings down to eps — as in Cholesky-QR2.
        Q = (A @ V) / np.sqrt(lam) @ V.T
        lam2, V2 = np.linalg.eigh(Q.T @ Q)
        return (Q @ V2) / np.sqrt(lam2) @ V2.T
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    rank = int((s > rtol * s[0]).sum()) if s[0] > 0 else 0
    if rank < k:
        shown = np.array2string(s[: min(k, 6)], precision=3, separator=", ", suppress_small=True)
        raise RankError(
            f"{name} must have full column rank {k}; its numerical rank is {rank} "
            f"(singular values: {shown})"
        )
    return U @ Vt


def polar_factor(A: np.ndarray) -> np.ndarray:
    """Orthonormal polar factor ``U V^T`` of a full-rank d x k matrix (no checks).

    Examples
    --------
    >>> Q = polar_factor(np.array([[2.0, 0.0], [0.0, 3.0], [0.0, 0.0]]))
    >>> Q
    array([[1., 0.],
           [0., 1.],
           [0., 0.]])
    """
    if A.shape[1] == 0:
        return np.zeros_like(A)
    U, _, Vt = np.linalg.svd(A, full_matrices=False)
    return U @ Vt


def orthogonal_complement(Q: np.ndarray) -> np.ndarray:
    """Orthonormal basis (d x (d-k)) of the orthogonal complement of orthonormal ``Q``.

    Examples
    --------
    >>> C = orthogonal_complement(np.eye(3)[:, :1])
    >>> C.shape, bool(np.allclose(np.eye(3)[:, :1].T @ C, 0))
    ((3, 2), True)
    """
    d, k = Q.shape
    if k == 0:
        return np.eye(d)
    full, _ = np.linalg.qr(Q, mode="complete")
    C = full[:, k:]
    # One projection pass removes the O(eps) leakage of the complete QR into span(Q).
    C = C - Q @ (Q.T @ C)
    C, _ = np.linalg.qr(C)
    return C


def as_basis(A: Any, name: str = "A") -> np.ndarray:
    """Orthonormal float64 basis from a Subspace or a d x k array of spanning columns."""
    basis = getattr(A, "_basis64", None)
    if basis is not None:
        return np.asarray(basis)
    return orthonormalize(A, name=name)
