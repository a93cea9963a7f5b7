"""Linear-algebra kernels: orthonormal bases, numerical rank, variance fractions.

This is the one home of three rules that many modules need and must agree on:

* **numerical rank** — a singular value counts when it exceeds
  ``rtol * s_max`` with ``rtol = max(m, n) * eps`` by default (numpy's
  ``matrix_rank`` convention), see :func:`rank_tolerance`, :func:`numerical_rank`,
  :func:`range_basis`;
* **variance fraction** — "the smallest k explaining a fraction f" is the smallest k
  whose cumulative share reaches f up to rounding (:func:`n_components_for_variance`);
* **constant columns** — a column is constant when its spread is below
  ``max(n, d) * eps`` times the largest magnitude in the data, a relative rule that
  ignores 1e-17 rounding noise on a constant column (:func:`constant_columns`);
  all rows identical is every column constant (:func:`identical_rows`, which warns).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from subspacekit.core.validation import check_array, check_probability
from subspacekit.errors import RankError, ShapeError, UntrustworthyEstimateWarning

__all__ = [
    "as_basis",
    "constant_columns",
    "identical_rows",
    "matrix_rank",
    "n_components_for_variance",
    "numerical_rank",
    "orthogonal_complement",
    "orthonormalize",
    "polar_factor",
    "range_basis",
    "rank_tolerance",
]


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
    rtol = rank_tolerance(A.shape) if rtol is None else rtol
    peak = float(np.max(np.abs(A))) if A.size else 0.0
    if peak > 1e100 or 0.0 < peak < 1e-100:
        # The span does not depend on scale; the Gram matrix of such input would
        # overflow or underflow, so bring it to unit size first.
        A = A / peak
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
    rank = numerical_rank(s, A.shape, rtol=rtol)
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


def rank_tolerance(shape: tuple[int, ...], dtype: Any = np.float64) -> float:
    """The default relative rank tolerance ``max(shape) * eps(dtype)``.

    A singular value ``s_i`` is numerically non-zero when ``s_i > rtol * s_max``. This
    is numpy's ``matrix_rank`` rule; float32 data gets float32's epsilon.

    Examples
    --------
    >>> bool(rank_tolerance((100, 3)) == 100 * np.finfo(np.float64).eps)
    True
    """
    kind = np.dtype(dtype)
    eps = np.finfo(kind if kind.kind == "f" else np.float64).eps
    return float(max(shape) * eps) if len(shape) else float(eps)


def numerical_rank(
    singular_values: Any,
    shape: tuple[int, ...],
    *,
    rtol: float | None = None,
    dtype: Any = np.float64,
    squared: bool = False,
) -> int:
    """Number of singular values above the tolerance of :func:`rank_tolerance`.

    Parameters
    ----------
    singular_values : array-like
        Singular values in any order (or eigenvalues of a Gram/scatter matrix with
        ``squared=True``: the rule is then applied to their square roots).
    shape : tuple
        Shape of the matrix the values came from (sets the default tolerance).
    rtol : float, optional
        Relative tolerance; default ``max(shape) * eps(dtype)``.

    Examples
    --------
    >>> numerical_rank([3.0, 1.0, 1e-17], (10, 3))
    2
    >>> numerical_rank([9.0, 1.0, 1e-30], (10, 3), squared=True)
    2
    """
    s = np.asarray(singular_values, dtype=np.float64).ravel()
    if squared:
        s = np.sqrt(np.clip(s, 0.0, None))
    if s.size == 0:
        return 0
    top = float(np.max(s))
    if not top > 0:
        return 0
    tol = (rank_tolerance(shape, dtype) if rtol is None else rtol) * top
    return int(np.sum(s > tol))


def matrix_rank(A: Any, rtol: float | None = None) -> tuple[int, np.ndarray]:
    """Numerical rank of ``A`` and its singular values (descending).

    Examples
    --------
    >>> matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))[0]
    1
    """
    A = np.asarray(A)
    s = np.linalg.svd(A, compute_uv=False) if A.size else np.zeros(0)
    return numerical_rank(s, A.shape, rtol=rtol, dtype=A.dtype), s


def range_basis(
    A: Any, *, rtol: float | None = None, max_rank: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal basis of the numerical column range of ``A``, and its singular values.

    The left singular vectors whose singular values pass :func:`numerical_rank`, so a
    rank-deficient matrix (a constant column after centring, duplicated features) is
    handled by dropping the null directions rather than by failing.

    Parameters
    ----------
    A : array-like of shape (m, n)
    rtol : float, optional
        Relative tolerance, default ``max(m, n) * eps``.
    max_rank : int, optional
        Keep at most this many directions.

    Returns
    -------
    Q : ndarray of shape (m, r)
        Orthonormal columns spanning the numerical range (``r`` = numerical rank).
    s : ndarray of shape (r,)
        The kept singular values, descending.

    Examples
    --------
    >>> A = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    >>> Q, s = range_basis(A)
    >>> Q.shape, bool(np.allclose(Q @ (Q.T @ A), A))
    ((3, 1), True)
    """
    M = np.asarray(A, dtype=np.float64) if np.asarray(A).dtype.kind != "f" else np.asarray(A)
    if M.size == 0:
        return np.zeros((M.shape[0], 0), dtype=M.dtype), np.zeros(0)
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    r = numerical_rank(s, M.shape, rtol=rtol, dtype=M.dtype)
    if max_rank is not None:
        r = min(r, int(max_rank))
    return U[:, :r], s[:r]


def n_components_for_variance(variances: Any, fraction: float) -> int:
    r"""Smallest ``k`` whose top ``k`` variances explain at least ``fraction`` of the total.

    .. math:: k = \min\{k : \textstyle\sum_{i \le k} \lambda_i \ge f \sum_i \lambda_i\}

    with the variances sorted in decreasing order. The comparison allows a relative
    slack of ``n * eps`` so that a cumulative share that equals ``f`` exactly in real
    arithmetic (four equal variances and ``f = 0.5``) gives ``k = 2`` whatever the
    rounding. Note that scikit-learn's ``PCA(n_components=f)`` keeps the smallest k
    explaining *strictly more* than f (3 in that example).

    Parameters
    ----------
    variances : array-like
        Non-negative variances (eigenvalues, squared singular values), any order.
    fraction : float in (0, 1]

    Examples
    --------
    >>> n_components_for_variance([1.0, 1.0, 1.0, 1.0], 0.5)
    2
    >>> n_components_for_variance([5.0, 3.0, 2.0], 0.8)
    2
    """
    f = check_probability(fraction, "fraction", open_interval=False)
    lam = np.sort(np.clip(np.asarray(variances, dtype=np.float64).ravel(), 0.0, None))[::-1]
    total = float(lam.sum())
    if lam.size == 0 or not total > 0:
        return 0
    cumulative = np.cumsum(lam) / total
    slack = lam.size * np.finfo(np.float64).eps
    k = int(np.searchsorted(cumulative, f - slack, side="left")) + 1
    return min(k, lam.size)


def constant_columns(X: Any, *, rtol: float | None = None) -> np.ndarray:
    """Boolean mask of the columns of ``X`` that are numerically constant.

    A column counts as constant when its peak-to-peak range is at most
    ``rtol * max|X|`` (default ``rtol = max(n, d) * eps``): a relative rule, so a
    constant column carrying 1e-17 rounding noise is still constant, while a column
    whose values are all tiny but genuinely vary (data measured in small units) is not
    when the rest of the data is equally small.

    Examples
    --------
    >>> X = np.c_[np.arange(4.0), np.ones(4) + 1e-17 * np.arange(4)]
    >>> constant_columns(X)
    array([False,  True])
    """
    A = np.asarray(X)
    if A.ndim == 1:
        A = A[:, None]
    if A.shape[0] == 0:
        return np.zeros(A.shape[1], dtype=bool)
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    tol = (rank_tolerance(A.shape, A.dtype) if rtol is None else rtol) * scale
    spread = np.ptp(A, axis=0)
    return np.asarray(spread <= tol)


def identical_rows(X: Any, *, owner: str = "", consequence: str = "", warn: bool = True) -> bool:
    """Whether every row of ``X`` is (numerically) the same point, warning if so.

    All rows identical is legal input with nothing to estimate: there is no variance,
    no direction and no neighbourhood structure. Estimators call this once on their
    validated input so that the case is reported the same way everywhere (an
    :class:`~subspacekit.errors.UntrustworthyEstimateWarning` naming the owner and what
    its result means), instead of returning a confident-looking number. The rule is
    :func:`constant_columns` applied to every column (relative, so 1e-17 noise on a
    duplicated row still counts as identical).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated data (two or more rows; a single row is not flagged).
    owner : str
        Name used in the warning, e.g. ``"PCA"``.
    consequence : str
        What the caller returns in this case, appended to the warning.
    warn : bool
        Emit the warning (default) or only report.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     identical_rows(np.ones((5, 2)), owner="PCA")
    True
    >>> identical_rows(np.eye(3))
    False
    """
    A = np.asarray(X)
    if A.ndim == 1:
        A = A[:, None]
    if A.shape[0] < 2 or not bool(constant_columns(A).all()):
        return False
    if warn:
        who = f"{owner}: " if owner else ""
        tail = f"; {consequence}" if consequence else ""
        warnings.warn(
            f"{who}all {A.shape[0]} samples are identical, so there is no variance or "
            f"structure to estimate{tail}",
            UntrustworthyEstimateWarning,
            stacklevel=3,
        )
    return True
