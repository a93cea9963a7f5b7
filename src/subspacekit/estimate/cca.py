r"""Two-view subspaces: canonical correlation analysis (ridge) and PLS-SVD.

CCA finds directions :math:`w_x, w_y` maximising :math:`\operatorname{corr}(Xw_x, Yw_y)`.
With centred views and (regularised) covariances
:math:`C_{xx}^{(r)} = (1-r)C_{xx} + r\,\bar\lambda_x I` (:math:`\bar\lambda_x = \operatorname{tr}
C_{xx}/d_x`), the canonical correlations are the singular values of the whitened
cross-covariance :math:`K = (C_{xx}^{(r)})^{-1/2} C_{xy} (C_{yy}^{(r)})^{-1/2} = U \Sigma V^\top`,
and :math:`W_x = (C_{xx}^{(r)})^{-1/2} U`, :math:`W_y = (C_{yy}^{(r)})^{-1/2} V`.

Computed without ever forming or inverting a covariance: each view's thin SVD
:math:`\tilde X = P_x S_x Q_x^\top` gives :math:`C_{xx}^{(r)}` in closed form, and the
whitened cross-covariance is a small SVD — so there is no iteration that can fail to
converge (scikit-learn's NIPALS-based ``CCA`` can), and the accuracy is that of two
LAPACK SVDs. ``r = 0`` is classical CCA (refusing rank-deficient views, which have no
unique answer); ``r = 1`` is PLS on the covariance.

PLS-SVD is the SVD of the cross-covariance itself: :math:`C_{xy} = U\Sigma V^\top`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin

from subspacekit.core.linalg import n_components_for_variance, range_basis
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_fitted,
    check_n_components,
    check_pair,
    validate_features,
)
from subspacekit.errors import RankError, ValidationError

__all__ = ["CCA", "PLSSVD", "canonical_correlations", "centred_range_basis", "correlate_bases"]


# --------------------------------------------------------------------------- the kernel
def centred_range_basis(
    X: np.ndarray,
    *,
    n_components: int | None = None,
    variance_threshold: float | None = None,
    rtol: float | None = None,
    name: str = "X",
) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal basis (n x r) of the column space of centred ``X``, and its singular values.

    Directions below the numerical rank (:func:`~subspacekit.core.linalg.range_basis`,
    one tolerance rule) are always dropped, so a constant or duplicated column costs
    nothing; then ``n_components`` or ``variance_threshold`` (the rule of
    :func:`~subspacekit.core.linalg.n_components_for_variance`) truncates further.
    A view with no variance at all raises :class:`RankError`.

    Examples
    --------
    >>> X = np.c_[np.arange(5.0), np.ones(5), 2 * np.arange(5.0)]
    >>> centred_range_basis(X)[0].shape
    (5, 1)
    """
    Xc = X - X.mean(axis=0, dtype=np.float64)
    U, s = range_basis(Xc, rtol=rtol)
    rank = U.shape[1]
    if rank == 0:
        raise RankError(
            f"{name} has zero variance (every feature is constant); canonical correlations "
            "are undefined"
        )
    r = rank
    if n_components is not None:
        r = check_n_components(n_components, rank, "n_components")
    elif variance_threshold is not None:
        r = n_components_for_variance(s**2, variance_threshold)
    return U[:, :r], s[:r]


def correlate_bases(Ux: np.ndarray, Uy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical correlations of two orthonormal sample-space bases, and the directions.

    The singular values of ``Ux.T @ Uy`` (clipped to [0, 1]) and the left/right singular
    vectors, which express the canonical variates in each basis.
    """
    P, rho, Qt = np.linalg.svd(Ux.T @ Uy, full_matrices=False)
    k = min(Ux.shape[1], Uy.shape[1])
    return np.clip(rho[:k], 0.0, 1.0), P[:, :k], Qt[:k].T


def canonical_correlations(
    X: Any,
    Y: Any,
    *,
    n_components: int | tuple[int, int] | None = None,
    variance_threshold: float | None = None,
    rtol: float | None = None,
) -> np.ndarray:
    r"""Sample canonical correlations of two views of the same inputs, descending.

    Both views are centred, reduced to orthonormal bases :math:`Q_X, Q_Y` of their
    numerical column spaces (:func:`centred_range_basis`), and the correlations are the
    singular values of :math:`Q_X^\top Q_Y`. Rank-deficient views (a constant column,
    a low-dimensional signal embedded in many columns) are handled by the rank rule
    rather than refused; this is the one implementation that ``compare`` (SVCCA,
    PWCCA) and ``measure`` (Gaussian mutual information) use.

    Parameters
    ----------
    X : array-like of shape (n_samples, d1)
    Y : array-like of shape (n_samples, d2)
    n_components : int or (int, int), optional
        Keep the top singular directions of each view first (as in SVCCA).
    variance_threshold : float, optional
        Keep the fewest top directions explaining this fraction of each view's variance.
    rtol : float, optional
        Relative rank tolerance (default ``max(n, d) * eps``).

    Returns
    -------
    ndarray of shape (min(r_X, r_Y),)
        Correlations in [0, 1]; r is the retained rank of each view.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((500, 1))
    >>> canonical_correlations(x, 2 * x + 1).round(6)
    array([1.])
    >>> canonical_correlations(np.c_[x, np.ones(500)], 2 * x + 1).round(6)  # constant column
    array([1.])
    """
    A, B = check_pair(X, Y, min_samples=2)
    A, B = A.astype(np.float64, copy=False), B.astype(np.float64, copy=False)
    if isinstance(n_components, tuple | list):
        if len(n_components) != 2:
            raise ValidationError(
                f"n_components must be one value or a pair (for X, for Y); got {n_components!r}"
            )
        ncx, ncy = n_components
    else:
        ncx = ncy = n_components
    Ux, _ = centred_range_basis(
        A, n_components=ncx, variance_threshold=variance_threshold, rtol=rtol, name="X"
    )
    Uy, _ = centred_range_basis(
        B, n_components=ncy, variance_threshold=variance_threshold, rtol=rtol, name="Y"
    )
    return correlate_bases(Ux, Uy)[0]


def _validate_views(estimator: Any, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    A = validate_features(estimator, X, reset=True, min_samples=2)
    if Y is None:
        raise ValidationError(
            f"{type(estimator).__name__}.fit needs both views X and Y; got Y=None"
        )
    B = check_array(Y, "Y", min_samples=2)
    check_consistent_samples(A, B, names=["X", "Y"])
    return A.astype(np.float64, copy=False), B.astype(np.float64, copy=False)


def _check_n_components(n_components: Any, limit: int, what: str) -> int:
    if isinstance(n_components, bool) or not isinstance(n_components, int | np.integer):
        raise ValidationError(f"n_components must be an integer; got {n_components!r}")
    if not 1 <= n_components <= limit:
        raise RankError(f"n_components must lie in [1, {limit}] ({what}); got {n_components}")
    return int(n_components)


class _View:
    """Centred view, its thin SVD and the regularised inverse square root of its covariance."""

    def __init__(self, A: np.ndarray, regularization: float, name: str) -> None:
        n, d = A.shape
        self.mean = A.mean(axis=0)
        Ac = A - self.mean
        P, s, Qt = linalg.svd(Ac, full_matrices=False, check_finite=False)
        variances = s**2 / (n - 1)
        mean_variance = float((Ac**2).sum() / (n - 1) / d)
        tol = max(n, d) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
        rank = int((s > tol).sum())
        if regularization == 0.0 and rank < d:
            constant = int((np.ptp(A, axis=0) == 0).sum())
            why = f"; {constant} of its features are constant" if constant else ""
            raise RankError(
                f"{name} has {d} features but its centred data have rank {rank}{why}: unregularised "
                "CCA is not unique. Set regularization > 0, or reduce the view first (e.g. PCA)"
            )
        if mean_variance == 0.0:
            raise ValidationError(f"{name} has no variance (every feature is constant)")
        # Eigenvalues of C^(r) on span(Q): (1-r) s^2/(n-1) + r * mean_variance; on the
        # orthogonal complement (d > n) only the ridge r * mean_variance remains.
        self.reg_eigs = (1.0 - regularization) * variances + regularization * mean_variance
        self.ridge = regularization * mean_variance
        self.Q = Qt.T
        self.s = s
        self.P = P
        self.n = n

    def whitened_factor(self) -> np.ndarray:
        """Factor F with cross-covariance K = F_x^T F_y: F = P S / sqrt(n-1) * reg_eigs^{-1/2}."""
        return self.P * (self.s / np.sqrt(self.n - 1) / np.sqrt(self.reg_eigs))

    def weights(self, U: np.ndarray) -> np.ndarray:
        """(C^(r))^{-1/2} applied to a direction expressed in the whitened SVD basis."""
        return self.Q @ (U / np.sqrt(self.reg_eigs)[:, None])


class CCA(TransformerMixin, BaseEstimator):
    r"""Regularised canonical correlation analysis, computed by SVDs (no iteration).

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical pairs.
    regularization : float in [0, 1], default=0.0
        Shrinkage ``r`` of each covariance towards :math:`\bar\lambda I`; 0 is classical CCA.

    Attributes
    ----------
    x_weights_, y_weights_ : ndarray (d_x, k), (d_y, k)
        Canonical directions; the canonical variates :math:`(X-\mu_x)W_x` have unit
        (regularised) variance.
    x_loadings_, y_loadings_ : ndarray (d_x, k), (d_y, k)
        Covariances between each feature and the canonical variates; their span is
        where the shared signal lies in each view (``X = A s + noise`` gives span(A)),
        whereas the weights also cancel view-specific variance.
    canonical_correlations_ : ndarray (k,)
        Correlations of the training canonical variates (the singular values of the
        whitened cross-covariance when ``r = 0``).
    x_subspace_, y_subspace_ : Subspace
        Spans of the canonical directions in each view (through the view's mean).
    subspace_ : tuple of Subspace
        ``(x_subspace_, y_subspace_)``.
    x_mean_, y_mean_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((2000, 1))
    >>> X = np.hstack([z + 0.5 * rng.standard_normal((2000, 1)), rng.standard_normal((2000, 2))])
    >>> Y = np.hstack([rng.standard_normal((2000, 2)), z + 0.5 * rng.standard_normal((2000, 1))])
    >>> cca = CCA(n_components=1).fit(X, Y)
    >>> round(float(cca.canonical_correlations_[0]), 1)  # 1 / (1 + 0.25) = 0.8
    0.8
    """

    def __init__(self, n_components: int = 2, *, regularization: float = 0.0) -> None:
        self.n_components = n_components
        self.regularization = regularization

    def fit(self, X: Any, Y: Any = None) -> CCA:
        """Fit both views (rows are paired samples)."""
        r = self.regularization
        if (
            isinstance(r, bool)
            or not isinstance(r, int | float | np.floating)
            or not 0.0 <= r <= 1.0
        ):
            raise ValidationError(f"regularization must be a number in [0, 1]; got {r!r}")
        A, B = _validate_views(self, X, Y)
        vx = _View(A, float(r), "X")
        vy = _View(B, float(r), "Y")
        k = _check_n_components(
            self.n_components, min(vx.Q.shape[1], vy.Q.shape[1]), "limited by the views' shapes"
        )
        K = vx.whitened_factor().T @ vy.whitened_factor()
        U, _, Vt = linalg.svd(K, full_matrices=False, check_finite=False)
        Wx = vx.weights(U[:, :k])
        Wy = vy.weights(Vt[:k].T)
        # Fix the sign so that each x-direction's largest-magnitude entry is positive.
        flip = np.sign(Wx[np.argmax(np.abs(Wx), axis=0), np.arange(k)])
        flip[flip == 0] = 1.0
        Wx, Wy = Wx * flip, Wy * flip
        zx, zy = (A - vx.mean) @ Wx, (B - vy.mean) @ Wy
        zx -= zx.mean(axis=0)
        zy -= zy.mean(axis=0)
        denom = np.sqrt((zx**2).sum(axis=0) * (zy**2).sum(axis=0))
        self.canonical_correlations_ = np.where(
            denom > 0, (zx * zy).sum(axis=0) / np.where(denom > 0, denom, 1.0), 0.0
        )
        self.x_weights_, self.y_weights_ = Wx, Wy
        # Loadings Cov(X, Z_x): the data-space directions where the shared signal lives.
        self.x_loadings_ = (A - vx.mean).T @ zx / (A.shape[0] - 1)
        self.y_loadings_ = (B - vy.mean).T @ zy / (B.shape[0] - 1)
        self.x_mean_, self.y_mean_ = vx.mean, vy.mean
        self.n_features_y_ = B.shape[1]
        meta = {"method": "cca", "regularization": float(r)}
        self.x_subspace_ = Subspace.from_basis(Wx, mean=vx.mean, meta={**meta, "view": "x"})
        self.y_subspace_ = Subspace.from_basis(Wy, mean=vy.mean, meta={**meta, "view": "y"})
        return self

    @property
    def subspace_(self) -> tuple[Subspace, Subspace]:
        check_fitted(self, "x_subspace_")
        return self.x_subspace_, self.y_subspace_

    def transform(self, X: Any, Y: Any = None) -> Any:
        """Canonical variates of X (and of Y when given, returned as a pair)."""
        check_fitted(self, "x_weights_")
        A = validate_features(self, X, reset=False)
        zx = (A - self.x_mean_) @ self.x_weights_
        if Y is None:
            return zx
        B = check_array(Y, "Y")
        if B.shape[1] != self.n_features_y_:
            raise ValidationError(f"Y must have {self.n_features_y_} features; got {B.shape[1]}")
        return zx, (B - self.y_mean_) @ self.y_weights_

    def score(self, X: Any, Y: Any) -> float:
        """Mean correlation of the canonical variates on (held-out) paired data."""
        zx, zy = self.transform(X, Y)
        zx = zx - zx.mean(axis=0)
        zy = zy - zy.mean(axis=0)
        denom = np.sqrt((zx**2).sum(axis=0) * (zy**2).sum(axis=0))
        return float(np.mean((zx * zy).sum(axis=0) / np.where(denom > 0, denom, np.inf)))


class PLSSVD(TransformerMixin, BaseEstimator):
    r"""Partial least squares by the SVD of the cross-covariance :math:`C_{xy} = U\Sigma V^\top`.

    Parameters
    ----------
    n_components : int, default=2
    scale : bool, default=False
        Standardise each feature first (scikit-learn's default is ``True``).

    Attributes
    ----------
    x_weights_, y_weights_ : ndarray (d_x, k), (d_y, k)
        Orthonormal singular vectors.
    singular_values_ : ndarray (k,)
        Cross-covariances of the paired scores.
    x_subspace_, y_subspace_ : Subspace
    subspace_ : tuple of Subspace

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((500, 1))
    >>> X = z @ [[1.0, 1.0, 0.0]] + 0.1 * rng.standard_normal((500, 3))
    >>> Y = z @ [[0.0, 2.0]] + 0.1 * rng.standard_normal((500, 2))
    >>> PLSSVD(n_components=1).fit(X, Y).x_weights_.ravel().round(1)
    array([0.7, 0.7, 0. ])
    """

    def __init__(self, n_components: int = 2, *, scale: bool = False) -> None:
        self.n_components = n_components
        self.scale = scale

    def fit(self, X: Any, Y: Any = None) -> PLSSVD:
        """Fit both views."""
        A, B = _validate_views(self, X, Y)
        k = _check_n_components(self.n_components, min(A.shape[1], B.shape[1]), "min(d_x, d_y)")
        self.x_mean_, self.y_mean_ = A.mean(axis=0), B.mean(axis=0)
        self.x_std_, self.y_std_ = np.ones(A.shape[1]), np.ones(B.shape[1])
        if self.scale:
            for name, M, attr in (("X", A, "x_std_"), ("Y", B, "y_std_")):
                std = M.std(axis=0, ddof=1)
                if np.any(std == 0):
                    raise ValidationError(
                        f"scale=True needs non-constant features; {name} has "
                        f"{int((std == 0).sum())} constant ones"
                    )
                setattr(self, attr, std)
        Ac = (A - self.x_mean_) / self.x_std_
        Bc = (B - self.y_mean_) / self.y_std_
        C = Ac.T @ Bc / (A.shape[0] - 1)
        U, s, Vt = linalg.svd(C, full_matrices=False, check_finite=False)
        rank = int((s > max(C.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0)).sum())
        if k > rank:
            raise RankError(f"n_components={k} exceeds the rank {rank} of the cross-covariance")
        flip = np.sign(U[np.argmax(np.abs(U[:, :k]), axis=0), np.arange(k)])
        flip[flip == 0] = 1.0
        self.x_weights_ = U[:, :k] * flip
        self.y_weights_ = Vt[:k].T * flip
        self.singular_values_ = s[:k]
        self.n_features_y_ = B.shape[1]
        meta = {"method": "plssvd", "scale": bool(self.scale)}
        # The weights act on standardised features; in input coordinates the direction
        # is W / std (normalised by from_basis).
        self.x_subspace_ = Subspace.from_basis(
            self.x_weights_ / self.x_std_[:, None], mean=self.x_mean_, meta=meta
        )
        self.y_subspace_ = Subspace.from_basis(
            self.y_weights_ / self.y_std_[:, None], mean=self.y_mean_, meta=meta
        )
        return self

    @property
    def subspace_(self) -> tuple[Subspace, Subspace]:
        check_fitted(self, "x_subspace_")
        return self.x_subspace_, self.y_subspace_

    def transform(self, X: Any, Y: Any = None) -> Any:
        """Scores of X (and of Y when given)."""
        check_fitted(self, "x_weights_")
        A = validate_features(self, X, reset=False)
        zx = ((A - self.x_mean_) / self.x_std_) @ self.x_weights_
        if Y is None:
            return zx
        B = check_array(Y, "Y")
        if B.shape[1] != self.n_features_y_:
            raise ValidationError(f"Y must have {self.n_features_y_} features; got {B.shape[1]}")
        return zx, ((B - self.y_mean_) / self.y_std_) @ self.y_weights_
