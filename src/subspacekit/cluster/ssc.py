"""Sparse subspace clustering by ADMM (Elhamifar & Vidal, TPAMI 2013).

With samples as the columns of :math:`Y = X^\\top` (``d x n``), SSC finds the sparsest
self-expression :math:`Y \\approx Y C`, :math:`\\operatorname{diag}(C) = 0`:

.. math::

    \\text{noisy (default):}\\quad
    \\min_C \\|C\\|_1 + \\frac{\\lambda}{2}\\|Y - YC\\|_F^2
    \\qquad
    \\text{noise-free:}\\quad \\min_C \\|C\\|_1 \\ \\text{s.t.}\\ Y = YC,

optionally with the affine constraint :math:`\\mathbf 1^\\top C = \\mathbf 1^\\top` (for
affine subspaces). Following the paper, :math:`\\lambda = \\alpha / \\mu` with
:math:`\\mu = \\min_j \\max_{i \\ne j} |y_i^\\top y_j|`, the smallest value at which every
column's solution would be zero, so :math:`\\alpha > 1` is a multiple of that threshold.

ADMM splits :math:`C` into an unconstrained :math:`A` and a sparse :math:`C` with
:math:`A = C`:

.. math::

    (\\lambda Y^\\top Y + \\rho I + \\rho\\mathbf 1\\mathbf 1^\\top) A
        = \\lambda Y^\\top Y + \\rho C - \\Delta + \\mathbf 1(\\rho \\mathbf 1 - \\delta)^\\top,
    \\quad C = \\mathcal S_{1/\\rho}(A + \\Delta/\\rho) \\text{ with zero diagonal},
    \\quad \\Delta \\mathrel{+}= \\rho(A - C),\\ \\delta \\mathrel{+}= \\rho(A^\\top\\mathbf 1 - \\mathbf 1)

(the :math:`\\mathbf 1` terms only in the affine case). The columns are independent
problems, so they are solved in batches, and a column leaves the working set as soon as
it meets the tolerance: memory is :math:`O(n\\,b)` for a batch of :math:`b` columns plus
the thin SVD of :math:`X`, and the representation is stored sparse. The system matrix
is inverted once through that SVD (Woodbury).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((30, 3)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 3)) @ B.T for B in bases])
>>> X += 0.05 * rng.standard_normal(X.shape)
>>> model = SSC(n_clusters=3, random_state=0).fit(X)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(np.repeat([0, 1, 2], 40), model.labels_)
1.0
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from subspacekit.cluster.spectral import SelfExpressiveClustering
from subspacekit.core.validation import check_in, check_positive
from subspacekit.errors import ConvergenceWarning, ValidationError

__all__ = ["SSC", "ssc_admm_representation"]

_BATCH_ENTRIES = 10_000_000


def _soft_threshold(Z: np.ndarray, threshold: float) -> np.ndarray:
    return np.sign(Z) * np.maximum(np.abs(Z) - threshold, 0.0)


class _ShiftedGramInverse:
    """Applies :math:`(a X X^\\top + \\rho I + c\\,\\mathbf 1 \\mathbf 1^\\top)^{-1}` to blocks of columns.

    Uses the thin SVD :math:`X = P S Q^\\top`: :math:`(aXX^\\top + \\rho I)^{-1} =
    P\\,\\mathrm{diag}(1/(a s^2 + \\rho) - 1/\\rho)\\,P^\\top + I/\\rho`, and Sherman-Morrison for
    the rank-one affine term. When the rank is more than half of ``n`` (and ``n`` is
    moderate) the inverse is formed explicitly, which halves the work per product.
    """

    def __init__(self, X: np.ndarray, a: float, rho: float, affine_weight: float) -> None:
        n = X.shape[0]
        P, s, _ = np.linalg.svd(X, full_matrices=False)
        keep = s > s[0] * max(X.shape) * np.finfo(np.float64).eps if s.size else s > 0
        P, s = P[:, keep], s[keep]
        self.rho = rho
        self.weights = 1.0 / (a * s**2 + rho) - 1.0 / rho
        self.explicit: np.ndarray | None = None
        if P.shape[1] > n // 2 and n <= 6000:
            self.explicit = (P * self.weights) @ P.T
            self.explicit[np.diag_indices(n)] += 1.0 / rho
            self.P = None
        else:
            self.P = P
        self.affine_weight = affine_weight
        if affine_weight:
            ones = np.ones((n, 1))
            self.k1 = self._apply_base(ones)[:, 0]
            self.sm_denominator = 1.0 + affine_weight * float(self.k1.sum())

    def _apply_base(self, B: np.ndarray) -> np.ndarray:
        if self.explicit is not None:
            return self.explicit @ B
        assert self.P is not None
        return self.P @ (self.weights[:, None] * (self.P.T @ B)) + B / self.rho

    def __call__(self, B: np.ndarray) -> np.ndarray:
        out = self._apply_base(B)
        if self.affine_weight:
            out -= np.outer(self.k1, (self.affine_weight / self.sm_denominator) * (self.k1 @ B))
        return out


def ssc_admm_representation(
    X: np.ndarray,
    *,
    alpha: float = 20.0,
    rho: float | None = None,
    noise: bool = True,
    affine: bool = False,
    max_iter: int = 200,
    tol: float = 2e-4,
    batch_size: int | None = None,
) -> tuple[sp.csr_matrix, int]:
    """Sparse self-representation of the rows of ``X`` by ADMM (see the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    alpha : float
        :math:`\\lambda = \\alpha/\\mu`; must exceed 1 for non-zero solutions.
    rho : float or None
        ADMM penalty; ``alpha`` if None (the reference code's choice).
    noise : bool
        Lasso data term (True) or exact equality :math:`Y = YC` (False).
    affine : bool
        Add :math:`\\mathbf 1^\\top C = \\mathbf 1^\\top`.
    max_iter, tol : int, float
        ADMM stops when the largest entry of :math:`|A - C|`, of the change of
        :math:`A` (and of the affine and equality residuals) is below ``tol``.
    batch_size : int or None
        Columns solved together.

    Returns
    -------
    C : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Row ``j`` holds the coefficients of sample ``j``; zero diagonal.
    n_iter : int
        Largest number of ADMM iterations used by a batch.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    >>> C, _ = ssc_admm_representation(X, alpha=50, max_iter=500, tol=1e-8)
    >>> bool(C[0, 2] == C[0, 3] == C[2, 0] == C[2, 1] == 0)
    True
    """
    n, d = X.shape
    X = np.asarray(X, dtype=np.float64)
    # mu = min_j max_{i != j} |<x_i, x_j>|: the regularisation at which some column's
    # lasso solution becomes zero.
    if batch_size is None:
        batch_size = max(1, min(n, _BATCH_ENTRIES // (8 * n + 8 * d)))
    coherence_max = np.empty(n)
    for start in range(0, n, batch_size):
        J = np.arange(start, min(n, start + batch_size))
        block = np.abs(X @ X[J].T)
        block[J, np.arange(J.size)] = 0.0
        coherence_max[J] = block.max(axis=0)
    mu = float(coherence_max.min())
    if mu <= 0:
        raise ValidationError(
            "a sample is orthogonal to every other sample (or zero), so it cannot be "
            "expressed by the others; remove zero or isolated samples before SSC"
        )
    a = alpha / mu if noise else alpha
    rho_ = float(alpha if rho is None else rho)
    inverse = _ShiftedGramInverse(X, a, rho_, rho_ if affine else 0.0)
    rows_out, cols_out, vals_out = [], [], []
    worst_iter = 0
    unconverged = 0
    for start in range(0, n, batch_size):
        J = np.arange(start, min(n, start + batch_size))
        gram_block = X @ X[J].T  # (n, b): columns of X X^T
        C_final = np.zeros((n, J.size))
        # The columns are independent problems: each one leaves the working set as soon
        # as it meets the tolerance, so easy samples stop costing work.
        live = np.arange(J.size)
        C = np.zeros((n, J.size))
        A = np.zeros((n, J.size))
        Delta = np.zeros((n, J.size))
        delta = np.zeros(J.size)
        multiplier = np.zeros((d, J.size)) if not noise else None
        it = 0
        while it < max_iter:
            it += 1
            Jl = J[live]
            rhs = a * gram_block[:, live] + rho_ * C - Delta
            if multiplier is not None:
                rhs += X @ multiplier
            if affine:
                rhs += (rho_ - delta)[None, :]
            A_new = inverse(rhs)
            C = _soft_threshold(A_new + Delta / rho_, 1.0 / rho_)
            C[Jl, np.arange(Jl.size)] = 0.0
            primal = A_new - C
            Delta += rho_ * primal
            err = np.maximum(np.abs(primal).max(axis=0), np.abs(A_new - A).max(axis=0))
            if affine:
                affine_residual = A_new.sum(axis=0) - 1.0
                delta += rho_ * affine_residual
                err = np.maximum(err, np.abs(affine_residual))
            if multiplier is not None:
                equality_residual = X[Jl].T - X.T @ A_new
                multiplier += a * equality_residual
                err = np.maximum(err, np.abs(equality_residual).max(axis=0))
            A = A_new
            finished = err < tol
            if finished.any():
                C_final[:, live[finished]] = C[:, finished]
                keep = ~finished
                live = live[keep]
                C, A, Delta, delta = C[:, keep], A[:, keep], Delta[:, keep], delta[keep]
                if multiplier is not None:
                    multiplier = multiplier[:, keep]
            if live.size == 0:
                break
        worst_iter = max(worst_iter, it)
        if live.size:
            unconverged += live.size
            C_final[:, live] = C
        r, c = np.nonzero(C_final)
        rows_out.append(J[c])
        cols_out.append(r)
        vals_out.append(C_final[r, c])
    if unconverged:
        warnings.warn(
            f"SSC-ADMM did not reach tol={tol} within max_iter={max_iter} for "
            f"{unconverged} of {n} samples; the representation is approximate "
            "(raise max_iter or tol)",
            ConvergenceWarning,
            stacklevel=2,
        )
    rep = sp.csr_matrix(
        (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
        shape=(n, n),
    )
    return rep, worst_iter


class SSC(SelfExpressiveClustering):
    """Sparse subspace clustering (SSC) solved by ADMM (Elhamifar & Vidal 2013).

    Parameters
    ----------
    n_clusters : int
    alpha : float, default=20
        Data-term weight as a multiple of the smallest weight giving non-zero codes
        (:math:`\\lambda = \\alpha/\\mu`); the paper uses 20 for faces, larger (hundreds)
        for clean data.
    rho : float or None, default=None
        ADMM penalty (``alpha`` if None).
    noise : bool, default=True
        Lasso data term (noisy data) instead of the exact constraint :math:`Y = YC`.
    affine : bool, default=False
        Affine-subspace variant (:math:`\\mathbf 1^\\top C = \\mathbf 1^\\top`).
    normalize : bool, default=False
        Scale each sample to unit l2 norm first.
    max_iter : int, default=200
    tol : float, default=2e-4
    affinity : {"max_normalized", "symmetrize", "nearest_neighbors"}, default="max_normalized"
        Elhamifar & Vidal normalise each code by its largest entry before symmetrising.
    n_neighbors : int, default=3
    assign_labels : {"kmeans", "snem"}, default="kmeans"
    n_init : int, default=20
    random_state : int, RandomState or None

    Attributes
    ----------
    representation_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
    affinity_ : scipy.sparse.csr_matrix
    labels_ : ndarray of shape (n_samples,)
    n_iter_ : int
        Largest number of ADMM iterations over the column batches.
    n_connected_components_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [2, 0.1, 0], [0, 1, 0], [0.1, 3, 0]], dtype=float)
    >>> SSC(n_clusters=2, random_state=0).fit_predict(X).tolist()
    [1, 1, 0, 0]
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        alpha: float = 20.0,
        rho: float | None = None,
        noise: bool = True,
        affine: bool = False,
        normalize: bool = False,
        max_iter: int = 200,
        tol: float = 2e-4,
        affinity: str = "max_normalized",
        n_neighbors: int = 3,
        assign_labels: str = "kmeans",
        n_init: int = 20,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.rho = rho
        self.noise = noise
        self.affine = affine
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.assign_labels = assign_labels
        self.n_init = n_init
        self.random_state = random_state

    def _self_representation(self, X: np.ndarray) -> sp.csr_matrix:
        check_positive(self.alpha, "alpha")
        if self.rho is not None:
            check_positive(self.rho, "rho")
        check_in(self.noise, [True, False], "noise")
        check_in(self.affine, [True, False], "affine")
        check_positive(self.tol, "tol")
        if self.normalize:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            X = X / norms
        C, self.n_iter_ = ssc_admm_representation(
            X,
            alpha=self.alpha,
            rho=self.rho,
            noise=self.noise,
            affine=self.affine,
            max_iter=int(self.max_iter),
            tol=self.tol,
        )
        return C
