r"""Two-view subspaces: canonical correlation analysis (ridge) and PLS-SVD.

CCA finds directions :math:`w_x, w_y` maximising :math:`\operatorname{corr}(Xw_x, Yw_y)`.
With centred views and (regularised) covariances
:math:`C_{xx}^{(r)} = (1-r)C_{xx} + r\,\bar\lambda_x I` (:math:`\bar\lambda_x = \operatorname{tr}
C_{xx}/d_x`), the canonical correlations are the singular values of the whitened
cross-covariance :math:`K = (C_{xx}^{(r)})^{-1/2} C_{xy} (C_{yy}^{(r)})^{-1/2} = U \Sigma V^\top`,
and :math:`W_x = (C_{xx}^{(r)})^{-1/2} U`, :math:`W_y = (C_{yy}^{(r)})^{-1/2} V`.

Computed without ever forming or inverting a covariance: each view's thin SVD
:math:`\tilde X = P_x S_x Q_x^\top`, truncated at its numerical rank
(:func:`centred_range_basis`), gives :math:`C_{xx}^{(r)}` in closed form, and the
whitened cross-covariance is a small SVD — so there is no iteration that can fail to
converge (scikit-learn's NIPALS-based ``CCA`` can), and the accuracy is that of two
LAPACK SVDs. Only the numerical range of each view carries covariance with the other,
so a rank-deficient view (a constant column, duplicated features, ``d > n``) loses
nothing: ``r = 0`` is classical CCA, whose correlations on the range are unique and are
those of :func:`canonical_correlations` (the weights are the minimum-norm ones, with no
component along directions of zero variance); ``r = 1`` is PLS on the covariance.

PLS-SVD is the SVD of the cross-covariance itself: :math:`C_{xy} = U\Sigma V^\top`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin

from subspacekit.core.linalg import (
    constant_columns,
    identical_rows,
    n_components_for_variance,
    numerical_rank,
    range_basis,
)
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Interval,
    check_array,
    check_consistent_samples,
    check_finite,
    check_fitted,
    check_n_components,
    check_pair,
    validate_features,
    validate_params,
)
from subspacekit.errors import DimensionMismatchError, RankError, ValidationError

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
    # A constant column leaves rounding residue after centring; judged relative to the
    # other centred columns it is dropped by the rank rule, but when every column is
    # constant (all rows identical) the residue is all there is. Constant columns are
    # therefore judged on the uncentred data (the one relative rule) and zeroed.
    Xc[:, constant_columns(X)] = 0.0
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


# --------------------------------------------------------------------------- estimators
class _TwoViewTransformer(TransformerMixin, BaseEstimator):
    """Input checks and the paired ``transform``/``fit_transform`` of CCA and PLS-SVD.

    As scikit-learn's cross-decomposition estimators, ``fit(X, Y)`` takes the two views
    (``Y`` may be 1-D: one feature), ``transform(X)`` returns X's scores and
    ``transform(X, Y)`` / ``fit_transform(X, Y)`` both views' scores as a pair.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

    def _validate_views(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        A = validate_features(self, X, reset=True, min_samples=2)
        if Y is None:
            raise ValidationError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                "fit needs both views X and Y"
            )
        A, B = check_pair(A, Y, min_samples=2, why="two paired views")
        owner = type(self).__name__
        for view in (A, B):
            # Warn here; the rank rule then refuses the view (no direction to correlate).
            identical_rows(view, owner=owner, consequence="the view has no direction to fit")
        self.n_features_y_ = B.shape[1]
        return A.astype(np.float64, copy=False), B.astype(np.float64, copy=False)

    def _validate_y(self, Y: Any, n_samples: int) -> np.ndarray:
        B = check_array(Y, "Y", ndim=(1, 2), min_samples=0)
        B = B[:, None] if B.ndim == 1 else B
        check_consistent_samples(np.empty((n_samples, 0)), B, names=["X", "Y"])
        if B.shape[1] != self.n_features_y_:
            raise DimensionMismatchError(
                f"Y has {B.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_y_} features as input."
            )
        return B

    def _scores(self, A: np.ndarray, which: str) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def transform(self, X: Any, Y: Any = None) -> Any:
        """Scores of X (and of Y when given, returned as a pair)."""
        check_fitted(self, "x_weights_")
        A = validate_features(self, X, reset=False)
        zx = self._scores(A, "x")
        if Y is None:
            return zx
        return zx, self._scores(self._validate_y(Y, A.shape[0]), "y")

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit both views and return both views' scores ``(z_x, z_y)``."""
        return self.fit(X, y, **fit_params).transform(X, y)

    @property
    def subspace_(self) -> tuple[Subspace, Subspace]:
        check_fitted(self, "x_subspace_")
        return self.x_subspace_, self.y_subspace_


def _unit(M: np.ndarray) -> float:
    """Largest magnitude of M (1 for a zero matrix): the unit at which it is computed."""
    peak = float(np.max(np.abs(M))) if M.size else 0.0
    return peak if peak > 0 else 1.0


class _View:
    """A centred view on its numerical range, and its regularised covariance there.

    The view is divided by its largest magnitude (the result does not depend on its
    unit, and the squares of 1e160-sized data would overflow); the thin SVD of the
    centred, scaled view ``P S Q^T`` is truncated at the numerical rank by
    :func:`centred_range_basis`, the kernel of :func:`canonical_correlations`.
    """

    def __init__(self, A: np.ndarray, regularization: float, name: str) -> None:
        n, d = A.shape
        self.unit = _unit(A)
        As = A / self.unit
        self.mean_scaled = As.mean(axis=0)
        self.P, self.s = centred_range_basis(As, name=name)
        # Right singular vectors of the kept directions: Ac^T P = Q S.
        self.Q = (As - self.mean_scaled).T @ self.P / self.s
        self.n = n
        self.regularization = regularization
        variances = self.s**2 / (n - 1)
        mean_variance = float(variances.sum() / d)
        # Eigenvalues of C^(r) on span(Q): (1-r) s^2/(n-1) + r * mean_variance. Off span(Q)
        # the view has no data, hence no covariance with the other view: those directions
        # never enter the answer.
        self.reg_eigs = (1.0 - regularization) * variances + regularization * mean_variance

    @property
    def rank(self) -> int:
        return int(self.s.size)

    @property
    def mean(self) -> np.ndarray:
        return self.mean_scaled * self.unit

    def whitened_basis(self) -> np.ndarray:
        """F with whitened cross-covariance K = F_x^T F_y; F = P exactly when r = 0."""
        if self.regularization == 0.0:
            return self.P
        return self.P * (self.s / np.sqrt(self.n - 1) / np.sqrt(self.reg_eigs))

    def weights(self, U: np.ndarray) -> np.ndarray:
        """(C^(r))^{-1/2} applied to directions U of the whitened basis, in data units."""
        return self.Q @ (U / np.sqrt(self.reg_eigs)[:, None]) / self.unit


class CCA(_TwoViewTransformer):
    r"""Regularised canonical correlation analysis, computed by SVDs (no iteration).

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical pairs, at most the smaller numerical rank of the two
        centred views.
    regularization : float in [0, 1], default=0.0
        Shrinkage ``r`` of each covariance towards :math:`\bar\lambda I`; 0 is classical
        CCA, whose correlations equal :func:`canonical_correlations` (also for
        rank-deficient views, e.g. with a constant column).

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
    >>> X1 = np.c_[X, np.ones(2000)]  # a constant column changes nothing
    >>> bool(np.allclose(CCA(1).fit(X1, Y).canonical_correlations_, cca.canonical_correlations_))
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, n_components: int = 2, *, regularization: float = 0.0) -> None:
        self.n_components = n_components
        self.regularization = regularization

    def fit(self, X: Any, Y: Any = None) -> CCA:
        """Fit both views (rows are paired samples; a 1-D ``Y`` is one feature)."""
        validate_params(self)
        r = float(self.regularization)
        A, B = self._validate_views(X, Y)
        vx, vy = _View(A, r, "X"), _View(B, r, "Y")
        k = check_n_components(self.n_components, min(vx.rank, vy.rank))
        _, U, V = correlate_bases(vx.whitened_basis(), vy.whitened_basis())
        Wx, Wy = vx.weights(U[:, :k]), vy.weights(V[:, :k])
        # Fix the sign so that each x-direction's largest-magnitude entry is positive.
        flip = np.sign(Wx[np.argmax(np.abs(Wx), axis=0), np.arange(k)])
        flip[flip == 0] = 1.0
        Wx, Wy = Wx * flip, Wy * flip
        # Variates from the scaled views (the weights' unit cancels the data's).
        zx = (A / vx.unit - vx.mean_scaled) @ (Wx * vx.unit)
        zy = (B / vy.unit - vy.mean_scaled) @ (Wy * vy.unit)
        zx -= zx.mean(axis=0)
        zy -= zy.mean(axis=0)
        denom = np.sqrt((zx**2).sum(axis=0) * (zy**2).sum(axis=0))
        self.canonical_correlations_ = np.clip(
            np.where(denom > 0, (zx * zy).sum(axis=0) / np.where(denom > 0, denom, 1.0), 0.0),
            -1.0,
            1.0,
        )
        self.x_weights_, self.y_weights_ = Wx, Wy
        # Loadings Cov(X, Z_x): the data-space directions where the shared signal lives.
        n = A.shape[0]
        self.x_loadings_ = (A / vx.unit - vx.mean_scaled).T @ zx / (n - 1) * vx.unit
        self.y_loadings_ = (B / vy.unit - vy.mean_scaled).T @ zy / (n - 1) * vy.unit
        self.x_mean_, self.y_mean_ = vx.mean, vy.mean
        meta = {"method": "cca", "regularization": r}
        self.x_subspace_ = Subspace.from_basis(Wx, mean=vx.mean, meta={**meta, "view": "x"})
        self.y_subspace_ = Subspace.from_basis(Wy, mean=vy.mean, meta={**meta, "view": "y"})
        return self

    def _scores(self, A: np.ndarray, which: str) -> np.ndarray:
        if which == "x":
            return (A - self.x_mean_) @ self.x_weights_
        return (A - self.y_mean_) @ self.y_weights_

    def score(self, X: Any, y: Any) -> float:
        """Mean correlation of the canonical variates on (held-out) paired data.

        ``y`` is the second view (named ``y`` as in every scikit-learn ``score``).
        """
        zx, zy = self.transform(X, y)
        zx = zx - zx.mean(axis=0)
        zy = zy - zy.mean(axis=0)
        denom = np.sqrt((zx**2).sum(axis=0) * (zy**2).sum(axis=0))
        return float(np.mean((zx * zy).sum(axis=0) / np.where(denom > 0, denom, np.inf)))


class PLSSVD(_TwoViewTransformer):
    r"""Partial least squares by the SVD of the cross-covariance :math:`C_{xy} = U\Sigma V^\top`.

    Parameters
    ----------
    n_components : int, default=2
        At most the numerical rank of :math:`C_{xy}` (itself at most ``min(d_x, d_y)``).
    scale : bool, default=False
        Standardise each feature first (scikit-learn's default is ``True``); a constant
        feature (:func:`~subspacekit.core.linalg.constant_columns`) keeps unit scale, as
        it has no covariance to scale.

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

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "scale": ["boolean"],
    }

    def __init__(self, n_components: int = 2, *, scale: bool = False) -> None:
        self.n_components = n_components
        self.scale = scale

    @staticmethod
    def _standardise(M: np.ndarray, scale: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit-free centred view, its mean and its per-feature scale (ones unless ``scale``).

        The view is divided by its largest magnitude first, so the result does not
        overflow for huge data; with ``scale`` it is then standardised (constant features,
        which carry no covariance, keep scale 1).
        """
        unit = _unit(M)
        Ms = M / unit
        mean_scaled = Ms.mean(axis=0)
        centred = Ms - mean_scaled
        std = np.ones(M.shape[1])
        if scale:
            std_scaled = centred.std(axis=0, ddof=1)
            constant = constant_columns(M)
            std_scaled[constant] = 1.0
            centred /= std_scaled
            std = std_scaled * unit
            std[constant] = 1.0
        return centred, mean_scaled * unit, std

    def fit(self, X: Any, Y: Any = None) -> PLSSVD:
        """Fit both views (rows are paired samples; a 1-D ``Y`` is one feature)."""
        validate_params(self)
        A, B = self._validate_views(X, Y)
        Ac, self.x_mean_, self.x_std_ = self._standardise(A, bool(self.scale))
        Bc, self.y_mean_, self.y_std_ = self._standardise(B, bool(self.scale))
        C = Ac.T @ Bc / (A.shape[0] - 1)
        U, s, Vt = linalg.svd(C, full_matrices=False, check_finite=False)
        k = check_n_components(self.n_components, numerical_rank(s, C.shape))
        flip = np.sign(U[np.argmax(np.abs(U[:, :k]), axis=0), np.arange(k)])
        flip[flip == 0] = 1.0
        self.x_weights_ = U[:, :k] * flip
        self.y_weights_ = Vt[:k].T * flip
        # The singular vectors do not depend on the views' units; the values do.
        units = 1.0 if self.scale else _unit(A) * _unit(B)
        self.singular_values_ = s[:k] * units
        check_finite(
            self.singular_values_,
            "the cross-covariance",
            context="it overflows float64; rescale the data",
        )
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

    def _scores(self, A: np.ndarray, which: str) -> np.ndarray:
        if which == "x":
            return ((A - self.x_mean_) / self.x_std_) @ self.x_weights_
        return ((A - self.y_mean_) / self.y_std_) @ self.y_weights_
