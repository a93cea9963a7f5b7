r"""SubspaceAD: anomaly detection by the residual of a principal subspace.

Fit PCA on normal data, keep the smallest number of components ``k`` whose
cumulative explained variance reaches a fraction (SubspaceAD uses 0.99), and score a
new point :math:`x` by two classical multivariate-control statistics:

* the squared prediction error (SPE, Jackson's Q statistic), the squared distance
  to the affine principal subspace,

  .. math:: Q(x) = \lVert (x-\mu) - C C^\top (x-\mu) \rVert^2
            = \sum_{j>k} \big(v_j^\top (x-\mu)\big)^2,

* Hotelling's :math:`T^2`, the Mahalanobis distance inside the subspace,

  .. math:: T^2(x) = \sum_{j \le k} \frac{\big(v_j^\top (x-\mu)\big)^2}{\lambda_j},

where :math:`\lambda_1 \ge \dots \ge \lambda_d` and :math:`v_j` are the eigenvalues
and eigenvectors of the sample covariance and :math:`C = [v_1, \dots, v_k]`.

Under a Gaussian model both statistics have known laws, which gives control limits
(thresholds at a chosen false-alarm rate ``alpha``) and p-values:

* Q: Jackson & Mudholkar (1979). With :math:`\theta_i = \sum_{j>k} \lambda_j^i` and
  :math:`h_0 = 1 - 2\theta_1\theta_3 / (3\theta_2^2)`,

  .. math:: Q_\alpha = \theta_1 \Big[\frac{z_{1-\alpha}\sqrt{2\theta_2 h_0^2}}{\theta_1}
            + 1 + \frac{\theta_2 h_0 (h_0 - 1)}{\theta_1^2}\Big]^{1/h_0}.

  (When :math:`h_0 \le 0`, which needs a very uneven residual spectrum, the
  approximation of Liu, Tang & Zhang (2009) is used instead: a shifted, scaled
  :math:`\chi^2_l` with :math:`l=\theta_2^3/\theta_3^2`, matching the mean
  :math:`\theta_1`, variance :math:`2\theta_2` and skewness of the SPE.)
* :math:`T^2` of a new observation, with mean and covariance estimated from
  :math:`n` samples: :math:`\frac{n(n-k)}{k(n-1)(n+1)}T^2 \sim F(k, n-k)`.

Because the retained and residual coordinates of a Gaussian vector are independent,
the two p-values combine by Fisher's method into one test,
:math:`-2(\log p_Q + \log p_{T^2}) \sim \chi^2_4`; this ``"combined"`` statistic sees
both a departure from the subspace and an unusual position inside it.

References: Jackson & Mudholkar, *Technometrics* 21 (1979); Tracy, Young & Mason,
*J. Quality Technology* 24 (1992); Lendering, Akdag & Bondarev, *SubspaceAD*, CVPR 2026.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import sparse, special, stats
from scipy.linalg import blas
from sklearn.base import BaseEstimator, OutlierMixin

from subspacekit.core import Subspace
from subspacekit.core.backend import is_torch_tensor
from subspacekit.core.validation import check_array, check_in, check_probability
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NotFittedError,
    RankError,
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = [
    "SubspaceAD",
    "spe_control_limit",
    "spe_log_pvalue",
    "t2_control_limit",
    "t2_log_pvalue",
]

STATISTICS = ("spe", "t2", "combined")
THRESHOLDS = ("control_limit", "empirical")

# Elements per block of rows when forming covariances and scores: bounds the extra
# memory at a few tens of MB whatever n and d are, while keeping each GEMM large
# enough to run at full speed.
_BLOCK_ELEMENTS = 1 << 21


# --------------------------------------------------------------------------- limits
def _chi2_logsf(x: Any, df: float) -> np.ndarray:
    """log P(chi2_df > x), finite far into the tail where the p-value underflows."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.asarray(np.log(special.chdtrc(df, np.clip(x, 0.0, None))), dtype=np.float64)
    far = ~np.isfinite(out)
    if far.any():
        # Leading term of the upper incomplete gamma: Γ(s, t) ~ t^(s-1) e^(-t).
        half, t = df / 2.0, x[far] / 2.0
        out[far] = (half - 1.0) * np.log(t) - t - special.gammaln(half)
    return out


def _f_logsf(x: Any, dfn: float, dfd: float) -> np.ndarray:
    """log P(F(dfn, dfd) > x), finite far into the tail where the p-value underflows."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.asarray(np.log(special.fdtrc(dfn, dfd, np.clip(x, 0.0, None))), dtype=np.float64)
    far = ~np.isfinite(out)
    if far.any():
        # sf = I_t(dfd/2, dfn/2) with t = dfd / (dfd + dfn x) -> 0, and
        # I_t(a, b) ~ t^a / (a B(a, b)).
        a, b = dfd / 2.0, dfn / 2.0
        log_t = np.log(dfd) - np.log(dfd + dfn * x[far])
        out[far] = a * log_t - np.log(a) - special.betaln(a, b)
    return out


def _residual_moments(residual_eigenvalues: Any) -> tuple[float, float, float]:
    lam = np.clip(np.asarray(residual_eigenvalues, dtype=np.float64).ravel(), 0.0, None)
    return float(lam.sum()), float((lam**2).sum()), float((lam**3).sum())


def _skewness_matched_dof(theta2: float, theta3: float) -> float:
    """Degrees of freedom of the chi-square with the skewness of sum_j lambda_j z_j^2."""
    # Liu, Tang & Zhang (2009) for a central quadratic form: match mean, variance and
    # skewness with a shifted, scaled chi-square of theta2^3 / theta3^2 degrees of freedom.
    return theta2**3 / theta3**2


def _jm_exponent(theta1: float, theta2: float, theta3: float) -> float:
    return 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)


def spe_control_limit(residual_eigenvalues: Any, alpha: float = 0.01) -> float:
    r"""Jackson–Mudholkar upper control limit of the SPE (Q) statistic.

    Parameters
    ----------
    residual_eigenvalues : array-like of shape (d - k,)
        Covariance eigenvalues of the discarded components,
        :math:`\lambda_{k+1}, \dots, \lambda_d`.
    alpha : float in (0, 1)
        False-alarm rate: a normal point exceeds the limit with probability ``alpha``.

    Returns
    -------
    float
        :math:`Q_\alpha` (see the module docstring); 0 when no residual variance is left.

    Examples
    --------
    >>> round(spe_control_limit([1.0, 1.0], alpha=0.05), 3)  # exact chi2(2) quantile: 5.991
    5.937
    """
    alpha = check_probability(alpha, "alpha")
    theta1, theta2, theta3 = _residual_moments(residual_eigenvalues)
    if theta1 <= 0.0:
        return 0.0
    h0 = _jm_exponent(theta1, theta2, theta3)
    if h0 <= 0.0:
        dof = _skewness_matched_dof(theta2, theta3)
        return float(theta1 + (stats.chi2.isf(alpha, dof) - dof) * np.sqrt(theta2 / dof))
    z = stats.norm.isf(alpha)
    base = z * np.sqrt(2.0 * theta2 * h0**2) / theta1 + 1.0 + theta2 * h0 * (h0 - 1.0) / theta1**2
    return float(theta1 * max(base, 0.0) ** (1.0 / h0))


def spe_log_pvalue(spe: Any, residual_eigenvalues: Any) -> np.ndarray:
    """Natural log of the upper-tail p-value of SPE values under the Jackson–Mudholkar law.

    Logs keep far outliers apart where the p-value itself would underflow to 0.

    Parameters
    ----------
    spe : array-like
        Observed SPE values.
    residual_eigenvalues : array-like
        Covariance eigenvalues of the discarded components.

    Returns
    -------
    numpy.ndarray
        ``log p`` with the shape of ``spe``; 0 (p = 1) everywhere when no residual
        variance is left.

    Examples
    --------
    >>> lim = spe_control_limit([2.0, 1.0, 0.5], alpha=0.01)
    >>> round(float(np.exp(spe_log_pvalue(lim, [2.0, 1.0, 0.5]))), 6)
    0.01
    """
    q = np.asarray(spe, dtype=np.float64)
    theta1, theta2, theta3 = _residual_moments(residual_eigenvalues)
    if theta1 <= 0.0:
        return np.zeros_like(q)
    h0 = _jm_exponent(theta1, theta2, theta3)
    if h0 <= 0.0:
        dof = _skewness_matched_dof(theta2, theta3)
        return _chi2_logsf(dof + (q - theta1) * np.sqrt(dof / theta2), dof)
    ratio = np.clip(q, 0.0, None) / theta1
    z = (
        (ratio**h0 - 1.0 - theta2 * h0 * (h0 - 1.0) / theta1**2)
        * theta1
        / np.sqrt(2.0 * theta2 * h0**2)
    )
    return np.asarray(special.log_ndtr(-z))


def _check_t2_sizes(n_components: int, n_samples: int) -> None:
    if n_samples <= n_components:
        raise TooFewSamplesError(
            f"the T^2 limit needs more training samples than components; got "
            f"n_samples={n_samples} and n_components={n_components}"
        )


def t2_control_limit(n_components: int, n_samples: int, alpha: float = 0.01) -> float:
    r"""F-distribution control limit of Hotelling's :math:`T^2` for a new observation.

    .. math:: T^2_\alpha = \frac{k(n-1)(n+1)}{n(n-k)} F_{1-\alpha}(k, n-k)

    with ``k = n_components`` and ``n = n_samples`` (the training set size).

    Examples
    --------
    >>> round(t2_control_limit(2, 10**6, alpha=0.05), 3)  # large n -> chi2(2) -> 5.991
    5.991
    """
    alpha = check_probability(alpha, "alpha")
    _check_t2_sizes(n_components, n_samples)
    k, n = n_components, n_samples
    factor = k * (n - 1) * (n + 1) / (n * (n - k))
    return float(factor * stats.f.isf(alpha, k, n - k))


def t2_log_pvalue(t2: Any, n_components: int, n_samples: int) -> np.ndarray:
    """Natural log of the upper-tail p-value of :math:`T^2` values (F law, new observation).

    Examples
    --------
    >>> lim = t2_control_limit(3, 200, alpha=0.01)
    >>> round(float(np.exp(t2_log_pvalue(lim, 3, 200))), 6)
    0.01
    """
    _check_t2_sizes(n_components, n_samples)
    k, n = n_components, n_samples
    factor = n * (n - k) / (k * (n - 1) * (n + 1))
    return _f_logsf(np.asarray(t2, dtype=np.float64) * factor, k, n - k)


# ------------------------------------------------------------------------- estimator
def _check_input(X: Any, owner: str) -> np.ndarray:
    """Dense 2-D finite float array, with the messages scikit-learn's checks look for."""
    if sparse.issparse(X):
        raise DTypeError(
            f"{owner} does not support sparse input; got {type(X).__name__}: densify it "
            "first (X.toarray())"
        )
    if not is_torch_tensor(X):
        X = np.asarray(X)
        if X.ndim == 1:
            raise ShapeError(
                f"X must be a 2-D array (n_samples, n_features); got a 1-D array of shape "
                f"{X.shape}. Reshape your data with X.reshape(1, -1) for a single sample."
            )
    X = check_array(X, "X", min_features=0)
    if X.shape[1] == 0:
        raise ShapeError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
            f"required by {owner}."
        )
    return X


def _row_blocks(n: int, block_rows: int) -> Iterator[slice]:
    for start in range(0, n, block_rows):
        yield slice(start, min(start + block_rows, n))


class SubspaceAD(OutlierMixin, BaseEstimator):
    r"""Outlier detector scoring points by their residual to a principal subspace.

    PCA is fitted on (mostly) normal data; a point is scored by its squared distance
    to the principal subspace (SPE / Q statistic), by Hotelling's :math:`T^2` inside
    it, or by both combined. Statistical control limits turn a false-alarm rate
    ``alpha`` into a threshold and every score into a p-value. The maths is in the
    module docstring (:mod:`subspacekit.detect.subspace_ad`).

    As in scikit-learn, :meth:`score_samples` is *higher for more normal* points
    (it is minus the statistic), :meth:`decision_function` is negative for outliers
    and :meth:`predict` returns -1 for outliers and +1 for inliers.

    Parameters
    ----------
    n_components : float in (0, 1) or int, default 0.99
        A float keeps the smallest number of components whose cumulative explained
        variance is at least that fraction (SubspaceAD's default 0.99); an int keeps
        that many.
    statistic : {"combined", "spe", "t2"}, default "combined"
        What :meth:`score_samples` and :meth:`predict` use: Fisher's combination of
        both p-values (``-2 log(p_spe p_t2)``, chi-square with 4 degrees of freedom
        under the Gaussian model), the SPE alone (the reconstruction residual, the
        paper's score for image patches, and :class:`PatchSubspaceAD`'s default), or
        Hotelling's :math:`T^2` alone. On the 20 ODDS tabular sets the SPE alone
        misses the outliers that sit inside the principal subspace (mean ROC-AUC about
        0.65 against 0.81 combined; see ``docs/results/issue-8.md``).
    alpha : float in (0, 1), default 0.01
        False-alarm rate used for the threshold behind :meth:`predict`.
    threshold : {"control_limit", "empirical"}, default "control_limit"
        ``"control_limit"`` uses the Gaussian-theory limits above; ``"empirical"`` uses
        the ``1 - alpha`` quantile of the training statistics (no distributional
        assumption, but biased low because the training points shaped the subspace).
    standardize : bool, default False
        Scale every feature to unit variance before PCA (PyOD's PCA does; SubspaceAD
        does not). Constant features keep scale 1.
    block_rows : int, optional
        Rows processed at a time; bounds the extra memory to ``O(block_rows * d + d^2)``.
        By default about 2 million numbers (16 MB in float64) per block.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Feature means of the training data.
    scale_ : ndarray of shape (n_features,)
        Feature scales (ones unless ``standardize=True``).
    components_ : ndarray of shape (n_components_, n_features)
        Principal axes, rows sorted by decreasing variance (scikit-learn's layout).
    explained_variance_ : ndarray of shape (n_components_,)
        Covariance eigenvalues of the kept components (unbiased, divided by n - 1).
    explained_variance_ratio_ : ndarray of shape (n_components_,)
        Their fractions of the total variance.
    residual_variance_ : ndarray
        Covariance eigenvalues of the discarded components (those within the rank of
        the data when ``n_samples < n_features``), used by the SPE limit.
    n_components_ : int
        Number of components kept.
    subspace_ : Subspace
        The affine principal subspace (basis ``components_.T``, offset ``mean_``,
        scales = the component standard deviations), in standardised units when
        ``standardize=True``.
    spe_limit_, t2_limit_ : float
        Control limits at ``alpha`` (``t2_limit_`` is NaN when ``n_samples <= k``).
    threshold_ : float
        Limit on the chosen statistic behind :meth:`predict`.
    offset_ : float
        ``-threshold_``, so that ``decision_function = score_samples - offset_``.
    n_samples_fit_, n_features_in_ : int
        Shape of the training data.

    Raises
    ------
    TooFewSamplesError
        Fewer than ``n_components + 1`` training samples for an integer
        ``n_components`` (or fewer than 2 samples).
    RankError
        ``n_components`` exceeds the number of features or the rank of the data.
    DimensionMismatchError
        Scoring data with a different number of features than the training data.
    NonFiniteError
        NaN or infinite values.

    See Also
    --------
    subspacekit.detect.PatchSubspaceAD : the few-shot image mode built on this detector.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> basis = np.linalg.qr(rng.standard_normal((10, 3)))[0]
    >>> normal = rng.standard_normal((2000, 3)) @ basis.T * 5 + 0.1 * rng.standard_normal((2000, 10))
    >>> det = SubspaceAD(n_components=3, alpha=0.01).fit(normal)
    >>> det.n_components_
    3
    >>> outlier = normal[:1] + 2.0 * np.linalg.qr(np.c_[basis, rng.standard_normal(10)])[0][:, 3]
    >>> det.predict(np.vstack([normal[:3], outlier]))
    array([ 1,  1,  1, -1])
    >>> bool(det.pvalues(outlier)[0] < 1e-6)
    True
    """

    def __init__(
        self,
        n_components: float | int = 0.99,
        *,
        statistic: str = "combined",
        alpha: float = 0.01,
        threshold: str = "control_limit",
        standardize: bool = False,
        block_rows: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.statistic = statistic
        self.alpha = alpha
        self.threshold = threshold
        self.standardize = standardize
        self.block_rows = block_rows

    # ----------------------------------------------------------------- fitting
    def _check_params(self) -> None:
        check_in(self.statistic, STATISTICS, "statistic")
        check_in(self.threshold, THRESHOLDS, "threshold")
        check_probability(self.alpha, "alpha")
        nc = self.n_components
        if isinstance(nc, bool) or not isinstance(nc, Real):
            raise DTypeError(
                f"n_components must be an int >= 1 or a float in (0, 1); got {type(nc).__name__}"
            )
        if isinstance(nc, Integral):
            if nc < 1:
                raise ValidationError(f"n_components must be >= 1; got {nc}")
        elif not 0.0 < float(nc) < 1.0:
            raise ValidationError(
                f"a float n_components is an explained-variance fraction in (0, 1); got {nc}"
            )
        if self.block_rows is not None and (
            isinstance(self.block_rows, bool)
            or not isinstance(self.block_rows, Integral)
            or self.block_rows < 1
        ):
            raise ValidationError(
                f"block_rows must be a positive int or None; got {self.block_rows!r}"
            )

    def _block_rows(self, n_features: int) -> int:
        if self.block_rows is not None:
            return int(self.block_rows)
        return max(256, _BLOCK_ELEMENTS // max(n_features, 1))

    def fit(self, X: Any, y: Any = None) -> SubspaceAD:
        """Fit the principal subspace and control limits on normal data ``X`` (n, d).

        ``y`` is ignored. Returns ``self``.
        """
        self._check_params()
        X = _check_input(X, type(self).__name__)
        n, d = X.shape
        if n < 2:
            raise TooFewSamplesError(
                f"{type(self).__name__} needs at least 2 samples to estimate a covariance; "
                f"got n_samples={n}"
            )
        if isinstance(self.n_components, Integral):
            k_req = int(self.n_components)
            if k_req > d:
                raise RankError(f"n_components={k_req} exceeds the number of features {d}")
            if k_req >= n:
                raise TooFewSamplesError(
                    f"n_components={k_req} needs at least {k_req + 1} normal samples; got {n}"
                )

        mean = X.mean(axis=0, dtype=np.float64)
        eigenvalues, eigenvectors, scale = self._principal_axes(X, mean)
        total = float(eigenvalues.sum())
        if not total > 0.0:
            raise RankError("X has zero variance in every feature; no subspace can be fitted")
        # Eigenvalues below this are rounding noise of a rank-deficient covariance.
        tiny = max(n, d) * np.finfo(np.float64).eps * eigenvalues[0]
        rank = int((eigenvalues > tiny).sum())
        if isinstance(self.n_components, Integral):
            k = int(self.n_components)
            if k > rank:
                raise RankError(
                    f"n_components={k} exceeds the rank {rank} of the training data "
                    f"(n_samples={n}, n_features={d})"
                )
        else:
            cumulative = np.cumsum(eigenvalues) / total
            k = int(np.searchsorted(cumulative, float(self.n_components)) + 1)
            k = min(k, rank)

        self.mean_ = mean
        self.scale_ = scale
        self.n_samples_fit_ = n
        self.n_features_in_ = d
        self.n_components_ = k
        self.components_ = np.ascontiguousarray(eigenvectors[:, :k].T)
        self.explained_variance_ = eigenvalues[:k].copy()
        self.explained_variance_ratio_ = self.explained_variance_ / total
        self.residual_variance_ = np.clip(eigenvalues[k:], 0.0, None)
        # With n >= d the eigenvectors span R^d, so the SPE can be read off the
        # discarded coordinates (one GEMM, no cancellation); otherwise the data span
        # is a proper subspace and the residual must be formed explicitly.
        self._axes = eigenvectors if eigenvectors.shape[1] == d else None
        self.spe_limit_ = spe_control_limit(self.residual_variance_, self.alpha)
        self.t2_limit_ = t2_control_limit(k, n, self.alpha) if n > k else float("nan")

        if self.threshold == "control_limit":
            if self.statistic == "spe":
                self.threshold_ = self.spe_limit_
            elif self.statistic == "t2":
                self.threshold_ = self.t2_limit_
            else:
                self.threshold_ = float(stats.chi2.isf(self.alpha, self._fisher_dof()))
        else:
            train_statistic = self._statistic(X)
            self.threshold_ = float(np.quantile(train_statistic, 1.0 - self.alpha))
        self.offset_ = -self.threshold_
        return self

    def _principal_axes(
        self, X: np.ndarray, mean: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Descending covariance eigenvalues, eigenvectors (columns) and feature scales."""
        n, d = X.shape
        if n >= d:
            # Two passes (mean, then centred scatter) in float64 and blocks: accurate
            # whatever the offset of the data, memory O(block_rows * d + d^2).
            scatter = np.zeros((d, d), order="F")
            for rows in _row_blocks(n, self._block_rows(d)):
                block = X[rows] - mean
                # SYRK forms only one triangle of block^T block: half the flops of a GEMM.
                # block.T is Fortran-ordered, so BLAS reads it without a copy.
                scatter = blas.dsyrk(1.0, block.T, beta=1.0, c=scatter, overwrite_c=True)
            scale = self._scale(np.sqrt(np.diag(scatter) / n), d)
            # Standardising rescales the scatter: no second pass over the data.
            covariance = scatter / np.outer(scale, scale) / (n - 1)
            eigenvalues, eigenvectors = np.linalg.eigh(covariance, UPLO="U")
            return eigenvalues[::-1].copy(), np.ascontiguousarray(eigenvectors[:, ::-1]), scale
        centred = X.astype(np.float64) - mean
        scale = self._scale(centred.std(axis=0), d)
        _, singular_values, vt = np.linalg.svd(centred / scale, full_matrices=False)
        return singular_values**2 / (n - 1), np.ascontiguousarray(vt.T), scale

    def _scale(self, std: np.ndarray, d: int) -> np.ndarray:
        if not self.standardize:
            return np.ones(d)
        scale = std.copy()
        # A constant feature carries no information; scale 1 leaves it at zero.
        scale[scale == 0.0] = 1.0
        return scale

    @property
    def subspace_(self) -> Subspace:
        """The fitted affine principal subspace (built on access so the detector pickles)."""
        self._check_fitted()
        return Subspace.from_orthonormal(
            self.components_.T,
            mean=None if self.standardize else self.mean_,
            scales=np.sqrt(self.explained_variance_),
            meta={
                "method": "SubspaceAD",
                "explained_variance_ratio": float(self.explained_variance_ratio_.sum()),
                "standardized": bool(self.standardize),
            },
        )

    # ----------------------------------------------------------------- scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X) first"
            )

    def _validate(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = _check_input(X, type(self).__name__)
        if X.shape[1] != self.n_features_in_:
            raise DimensionMismatchError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return X

    def _spe_t2(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = X.shape[0]
        k = self.n_components_
        spe = np.empty(n)
        t2 = np.empty(n)
        # float32 data are scored with float32 GEMMs (twice as fast, and the statistics
        # only need a few digits); the fit itself is always float64.
        dtype = X.dtype if X.dtype == np.float32 else np.float64
        mean = self.mean_.astype(dtype)
        scale = None if not self.standardize else self.scale_.astype(dtype)
        inverse_variance = (1.0 / self.explained_variance_).astype(dtype)
        # All d coordinates cost n d^2 flops, the explicit residual 2 n d k: take the
        # cheaper one (both are exact up to rounding).
        axes = self._axes
        use_axes = axes is not None and 2 * k >= self.n_features_in_
        if axes is not None and use_axes:
            # Whitened kept axes next to the discarded ones: T^2 and SPE are then plain
            # sums of squares of one GEMM's columns. The sums run in einsum's C loop:
            # skinny BLAS calls are slow when threads compete for the cores.
            projection = axes.copy()
            projection[:, :k] /= np.sqrt(self.explained_variance_)
            projection = projection.astype(dtype)
        components = self.components_.astype(dtype)
        for rows in _row_blocks(n, self._block_rows(self.n_features_in_)):
            centred = X[rows] - mean
            if scale is not None:
                centred /= scale
            if use_axes:
                coords = centred @ projection
                kept, discarded = coords[:, :k], coords[:, k:]
                t2[rows] = np.einsum("ij,ij->i", kept, kept, dtype=np.float64)
                spe[rows] = np.einsum("ij,ij->i", discarded, discarded, dtype=np.float64)
            else:
                inside = centred @ components.T
                residual = centred - inside @ components
                t2[rows] = np.einsum("ij,ij,j->i", inside, inside, inverse_variance)
                spe[rows] = np.einsum("ij,ij->i", residual, residual, dtype=np.float64)
        return spe, t2

    def _fisher_dof(self) -> int:
        # With no residual variance the SPE is identically 0 and carries no evidence.
        return 4 if self.residual_variance_.sum() > 0 else 2

    def _log_pvalues(self, spe: np.ndarray, t2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        log_p_spe = spe_log_pvalue(spe, self.residual_variance_)
        if self.n_samples_fit_ > self.n_components_:
            log_p_t2 = t2_log_pvalue(t2, self.n_components_, self.n_samples_fit_)
        else:
            # The F law needs n > k; fall back to the large-sample chi-square law.
            log_p_t2 = _chi2_logsf(t2, self.n_components_)
        return log_p_spe, log_p_t2

    def _statistic(self, X: np.ndarray) -> np.ndarray:
        spe, t2 = self._spe_t2(X)
        if self.statistic == "spe":
            return spe
        if self.statistic == "t2":
            return t2
        log_p_spe, log_p_t2 = self._log_pvalues(spe, t2)
        return -2.0 * (log_p_spe + log_p_t2)

    def spe(self, X: Any) -> np.ndarray:
        """Squared prediction error (Q statistic) of each row: squared residual to the subspace.

        Examples
        --------
        >>> det = SubspaceAD(n_components=1).fit([[-2.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> det.spe([[1.0, 3.0]])  # the axis is the first feature, so SPE = 3^2
        array([9.])
        """
        return self._spe_t2(self._validate(X))[0]

    def t2(self, X: Any) -> np.ndarray:
        """Hotelling's :math:`T^2` of each row inside the subspace (Mahalanobis, squared).

        Examples
        --------
        >>> det = SubspaceAD(n_components=1).fit([[-2.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> det.t2([[2.0, 5.0]])  # 2^2 / variance 8/3
        array([1.5])
        """
        return self._spe_t2(self._validate(X))[1]

    def statistic_values(self, X: Any) -> np.ndarray:
        """The chosen ``statistic`` for each row (higher = more anomalous)."""
        return self._statistic(self._validate(X))

    def pvalues(self, X: Any, statistic: str | None = None) -> np.ndarray:
        """p-value of each row under the Gaussian model of normal data.

        Parameters
        ----------
        X : array-like of shape (n, d)
        statistic : {"spe", "t2", "combined"}, optional
            Defaults to the detector's ``statistic``.

        Returns
        -------
        numpy.ndarray of shape (n,)
            Small values are evidence of an anomaly; for normal data the p-values are
            close to uniform, so ``p < alpha`` flags a fraction ``alpha`` of them.

        Examples
        --------
        >>> rng = np.random.default_rng(1)
        >>> det = SubspaceAD(n_components=2).fit(rng.standard_normal((5000, 4)))
        >>> p = det.pvalues(rng.standard_normal((20000, 4)))
        >>> round(float((p < 0.05).mean()), 2)
        0.05
        """
        statistic = self.statistic if statistic is None else statistic
        check_in(statistic, STATISTICS, "statistic")
        spe, t2 = self._spe_t2(self._validate(X))
        log_p_spe, log_p_t2 = self._log_pvalues(spe, t2)
        if statistic == "spe":
            return np.exp(log_p_spe)
        if statistic == "t2":
            return np.exp(log_p_t2)
        return np.asarray(stats.chi2.sf(-2.0 * (log_p_spe + log_p_t2), self._fisher_dof()))

    def control_limit(self, alpha: float, statistic: str | None = None) -> float:
        """Gaussian-theory threshold on ``statistic`` with false-alarm rate ``alpha``.

        Examples
        --------
        >>> rng = np.random.default_rng(2)
        >>> det = SubspaceAD(n_components=2).fit(rng.standard_normal((500, 5)))
        >>> det.control_limit(0.01, "spe") > det.control_limit(0.05, "spe")
        True
        """
        self._check_fitted()
        alpha = check_probability(alpha, "alpha")
        statistic = self.statistic if statistic is None else statistic
        check_in(statistic, STATISTICS, "statistic")
        if statistic == "spe":
            return spe_control_limit(self.residual_variance_, alpha)
        if statistic == "t2":
            return t2_control_limit(self.n_components_, self.n_samples_fit_, alpha)
        return float(stats.chi2.isf(alpha, self._fisher_dof()))

    def score_samples(self, X: Any) -> np.ndarray:
        """Minus the chosen statistic: higher means more normal (scikit-learn convention)."""
        return -self._statistic(self._validate(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """-1 for outliers (statistic above ``threshold_``), +1 for inliers."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """Fit on ``X`` and label its rows (-1 outlier, +1 inlier)."""
        return self.fit(X).predict(X)
