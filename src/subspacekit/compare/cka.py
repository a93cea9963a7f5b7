r"""Centered kernel alignment (CKA) and the Hilbert-Schmidt independence criterion (HSIC).

For two representations :math:`X` (n x d1) and :math:`Y` (n x d2) of the same n inputs,
with Gram matrices :math:`K = k(x_i, x_j)` and :math:`L = l(y_i, y_j)`,

.. math::

    \mathrm{CKA}(K, L) = \frac{\mathrm{HSIC}(K, L)}{\sqrt{\mathrm{HSIC}(K, K)\,\mathrm{HSIC}(L, L)}}

(Kornblith et al., ICML 2019). Two estimators of HSIC are offered:

* **biased** (Gretton et al. 2005): :math:`\mathrm{HSIC}_b = \mathrm{tr}(KHLH)/(n-1)^2`
  with :math:`H = I - \tfrac1n 11^\top`;
* **debiased** (Song et al., JMLR 2012; used for CKA by Nguyen, Raghu & Kornblith, ICLR
  2021): with :math:`\tilde K, \tilde L` the Gram matrices with zeroed diagonals,

  .. math::

      \mathrm{HSIC}_u = \frac{1}{n(n-3)}\Big[\mathrm{tr}(\tilde K \tilde L)
      + \frac{1^\top \tilde K 1 \; 1^\top \tilde L 1}{(n-1)(n-2)}
      - \frac{2}{n-2} 1^\top \tilde K \tilde L 1\Big],

  an unbiased U-statistic of the population HSIC (it needs n >= 4); debiased CKA of
  independent representations is 0 on average instead of a positive, n- and
  d-dependent value.

For the linear kernel :math:`K = X_c X_c^\top` everything is computed in feature space
(Kornblith et al., Sec. 3): :math:`\mathrm{tr}(K_c L_c) = \|X_c^\top Y_c\|_F^2`, and the
debiased terms need only the row norms :math:`k_i = \|x_i - \bar x\|^2`, because with
centred data :math:`\tilde K 1 = -k` and :math:`1^\top \tilde K 1 = -\sum_i k_i`. The
three cross-products come from one symmetric product :math:`Z^\top Z` of the centred
:math:`Z = [X_c, Y_c]`: :math:`O(n (d_1 + d_2)^2)` time and
:math:`O(n (d_1 + d_2) + (d_1 + d_2)^2)` memory, instead of :math:`O(n^2)` memory and up
to :math:`O(n^3)` time for the Gram route (used only when :math:`d_1 + d_2 > n`, where it
is cheaper).
The data are centred first (means in float64), which keeps float32 input accurate; sums
of squares are accumulated in float64. The U-statistic is exactly invariant to a shift
of either representation, so centring changes nothing but the rounding error.

For data that do not fit in memory, :class:`StreamingLinearCKA` accumulates sufficient
statistics and returns exactly the full-data linear CKA (biased or debiased), and
:class:`MiniBatchCKA` averages per-batch unbiased HSIC (Nguyen et al. 2021), which works
for any kernel.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy.spatial.distance import pdist, squareform

from subspacekit.core.backend import all_torch, is_torch_tensor
from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.result import Estimate
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_in,
    check_pair,
    check_positive,
    check_probability,
)
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    ShapeError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)

__all__ = ["MiniBatchCKA", "StreamingLinearCKA", "cka", "cka_from_gram", "hsic"]

KERNELS = ("linear", "rbf")


# --------------------------------------------------------------------------- kernels
def _sumsq(A: Any) -> float:
    """Sum of squares accumulated in float64 (numpy or torch)."""
    if is_torch_tensor(A):
        return float(A.double().square().sum())
    if A.dtype == np.float64:
        return float(np.einsum("ij,ij->", A, A))
    return float(np.square(A, dtype=np.float64).sum())


def _inner(A: Any, B: Any) -> float:
    """Frobenius inner product accumulated in float64 (numpy or torch)."""
    if is_torch_tensor(A):
        return float((A.double() * B.double()).sum())
    return float(np.einsum("ij,ij->", A, B, dtype=np.float64))


def _row_sumsq(A: Any) -> Any:
    if is_torch_tensor(A):
        return A.double().square().sum(1)
    return np.einsum("ij,ij->i", A, A, dtype=np.float64)


def _centred_concat(X: Any, Y: Any) -> Any:
    """``[X - mean(X), Y - mean(Y)]`` in one buffer; means in float64, dtype kept."""
    d1 = X.shape[1]
    if is_torch_tensor(X):
        Zt = X.new_empty((X.shape[0], d1 + Y.shape[1]))
        Zt[:, :d1] = X - X.double().mean(0).to(X.dtype)
        Zt[:, d1:] = Y - Y.double().mean(0).to(Y.dtype)
        return Zt
    Z = np.empty((X.shape[0], d1 + Y.shape[1]), dtype=X.dtype)
    np.subtract(X, X.mean(axis=0, dtype=np.float64).astype(X.dtype), out=Z[:, :d1])
    np.subtract(Y, Y.mean(axis=0, dtype=np.float64).astype(Y.dtype), out=Z[:, d1:])
    return Z


def _linear_hsic_terms(X: Any, Y: Any, debiased: bool) -> tuple[float, float, float]:
    """HSIC(X, Y), HSIC(X, X), HSIC(Y, Y) for the linear kernel, in feature space."""
    n, d1 = X.shape[0], X.shape[1]
    Z = _centred_concat(X, Y)
    Xc, Yc = Z[:, :d1], Z[:, d1:]
    if Z.shape[1] <= n:
        # One symmetric rank-n update Z^T Z gives Xc^T Xc, Xc^T Yc and Yc^T Yc in a single
        # BLAS call (syrk: half the flops of a general product, one thread sync).
        G = Z.T @ Z
        s_xy = _sumsq(G[:d1, d1:])
        s_xx = _sumsq(G[:d1, :d1])
        s_yy = _sumsq(G[d1:, d1:])
    else:
        # Wider than tall: the n x n Gram matrices are cheaper, with
        # ||Xc^T Yc||_F^2 = <Xc Xc^T, Yc Yc^T>_F.
        K, L = Xc @ Xc.T, Yc @ Yc.T
        s_xy, s_xx, s_yy = _inner(K, L), _sumsq(K), _sumsq(L)
    if not debiased:
        scale = (n - 1) ** 2
        return s_xy / scale, s_xx / scale, s_yy / scale
    k, l = _row_sumsq(Xc), _row_sumsq(Yc)
    kl, kk, ll = float(k @ l), float(k @ k), float(l @ l)
    sk, sl = float(k.sum()), float(l.sum())

    def unbiased(s_ab: float, ab: float, sa: float, sb: float) -> float:
        # tr(K~L~) = ||Xc^T Yc||^2 - k.l;  1'K~1 = -sum k;  1'K~L~1 = k.l (centred data)
        return (s_ab - ab + sa * sb / ((n - 1) * (n - 2)) - 2.0 * ab / (n - 2)) / (n * (n - 3))

    return unbiased(s_xy, kl, sk, sl), unbiased(s_xx, kk, sk, sk), unbiased(s_yy, ll, sl, sl)


def _median_bandwidth(sq_dists: np.ndarray, rbf_scale: float) -> float:
    med = float(np.median(np.sqrt(sq_dists)))
    return rbf_scale * med


def _rbf_gram(X: np.ndarray, rbf_scale: float) -> np.ndarray:
    """RBF Gram matrix with bandwidth ``rbf_scale`` x the median pairwise distance."""
    d2 = pdist(X.astype(np.float64, copy=False), "sqeuclidean")
    sigma = _median_bandwidth(d2, rbf_scale)
    if sigma == 0.0:
        return np.ones((X.shape[0], X.shape[0]))  # all inputs coincide: constant kernel
    K = squareform(np.exp(-d2 / (2.0 * sigma**2)))
    np.fill_diagonal(K, 1.0)
    return K


def _gram_hsic(K: np.ndarray, L: np.ndarray, debiased: bool) -> float:
    n = K.shape[0]
    if not debiased:
        Kc = K - K.mean(0)[None, :] - K.mean(1)[:, None] + K.mean()
        return float(np.vdot(Kc, L)) / (n - 1) ** 2
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0.0)
    np.fill_diagonal(Lt, 0.0)
    term1 = float(np.vdot(Kt, Lt))
    term2 = float(Kt.sum()) * float(Lt.sum()) / ((n - 1) * (n - 2))
    term3 = 2.0 * float(Kt.sum(1) @ Lt.sum(1)) / (n - 2)
    return (term1 + term2 - term3) / (n * (n - 3))


def _hsic_terms(
    X: Any, Y: Any, kernel: str, debiased: bool, rbf_scale: float
) -> tuple[float, float, float]:
    if kernel == "linear":
        return _linear_hsic_terms(X, Y, debiased)
    K, L = _rbf_gram(X, rbf_scale), _rbf_gram(Y, rbf_scale)
    return _gram_hsic(K, L, debiased), _gram_hsic(K, K, debiased), _gram_hsic(L, L, debiased)


def _ratio(h_xy: float, h_xx: float, h_yy: float) -> float:
    if not (h_xx > 0.0 and h_yy > 0.0):
        return math.nan
    return float(h_xy / math.sqrt(h_xx * h_yy))


# --------------------------------------------------------------------------- validation
def _check_options(kernel: str, debiased: bool, rbf_scale: float) -> tuple[str, bool, float]:
    check_in(kernel, KERNELS, "kernel")
    if not isinstance(debiased, bool | np.bool_):
        raise ValidationError(f"debiased must be True or False; got {debiased!r}")
    return kernel, bool(debiased), check_positive(rbf_scale, "rbf_scale")


def _min_samples(debiased: bool) -> tuple[int, str]:
    if debiased:
        return 4, "the debiased HSIC estimator divides by n(n-3)"
    return 2, "HSIC needs a centred sample"


def _check_torch_pair(X: Any, Y: Any, debiased: bool) -> tuple[Any, Any]:
    for name, T in (("X", X), ("Y", Y)):
        if T.ndim != 2:
            raise ShapeError(
                f"{name} must be a 2-D tensor of shape (n_samples, n_features); "
                f"got shape {tuple(T.shape)}"
            )
        if not T.is_floating_point():
            T = T.double()
        if not bool(T.isfinite().all()):
            n_nan = int(T.isnan().sum())
            n_inf = int((~T.isfinite()).sum()) - n_nan
            raise NonFiniteError(
                f"{name} contains {n_nan} NaN and {n_inf} infinite values; expected finite numbers"
            )
    check_consistent_samples(X, Y, names=["X", "Y"])
    min_n, why = _min_samples(debiased)
    if X.shape[0] < min_n:
        raise TooFewSamplesError(
            f"X and Y need at least {min_n} samples (rows) ({why}); got {X.shape[0]}"
        )
    X = X if X.is_floating_point() else X.double()
    Y = Y if Y.is_floating_point() else Y.double()
    if X.dtype != Y.dtype:
        X, Y = X.double(), Y.double()
    return X, Y


def _finish(h_xy: float, h_xx: float, h_yy: float, debiased: bool) -> float:
    if h_xx == 0.0 or h_yy == 0.0:
        which = "X" if h_xx == 0.0 else "Y"
        raise ValidationError(
            f"{which} has zero variance (all rows equal after centring); CKA is undefined"
        )
    value = _ratio(h_xy, h_xx, h_yy)
    if math.isnan(value) and debiased:
        warnings.warn(
            "the debiased self-HSIC of X or Y is negative (too few samples for this "
            f"kernel: HSIC(X,X)={h_xx:.3g}, HSIC(Y,Y)={h_yy:.3g}); CKA is returned as NaN",
            UntrustworthyEstimateWarning,
            stacklevel=3,
        )
    return value


# --------------------------------------------------------------------------- public API
def hsic(
    X: Any,
    Y: Any,
    *,
    kernel: str = "linear",
    debiased: bool = False,
    rbf_scale: float = 1.0,
) -> float:
    r"""Hilbert-Schmidt independence criterion between two representations.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, d1)
    Y : array-like or torch.Tensor of shape (n_samples, d2)
        Two representations of the same inputs (rows paired).
    kernel : {"linear", "rbf"}
        ``"rbf"`` uses :math:`\exp(-\|a-b\|^2 / 2\sigma^2)` with :math:`\sigma` equal to
        ``rbf_scale`` times the median pairwise distance of each representation.
    debiased : bool
        Unbiased estimator of Song et al. (2012) instead of :math:`\mathrm{tr}(KHLH)/(n-1)^2`.
    rbf_scale : float
        Bandwidth of the RBF kernel as a multiple of the median distance.

    Returns
    -------
    float

    Notes
    -----
    Linear kernel with two torch tensors: computed with torch on their device. Otherwise
    the inputs are converted to numpy.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> round(hsic(X, X @ np.diag([1.0, 2.0, 3.0])), 2) > 0
    True
    >>> abs(hsic(X, rng.normal(size=(200, 3)), debiased=True)) < 0.1
    True
    """
    kernel, debiased, rbf_scale = _check_options(kernel, debiased, rbf_scale)
    if kernel == "linear" and all_torch(X, Y):
        X, Y = _check_torch_pair(X, Y, debiased)
        return _linear_hsic_terms(X, Y, debiased)[0]
    min_n, why = _min_samples(debiased)
    X, Y = check_pair(X, Y, min_samples=min_n, why=why)
    if kernel == "linear":
        return _linear_hsic_terms(X, Y, debiased)[0]
    return _gram_hsic(_rbf_gram(X, rbf_scale), _rbf_gram(Y, rbf_scale), debiased)


def cka(
    X: Any,
    Y: Any,
    *,
    kernel: str = "linear",
    debiased: bool = False,
    rbf_scale: float = 1.0,
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    r"""Centered kernel alignment between two representations of the same inputs.

    :math:`\mathrm{CKA} = \mathrm{HSIC}(K, L) / \sqrt{\mathrm{HSIC}(K, K)\,\mathrm{HSIC}(L, L)}`;
    for the linear kernel and the biased estimator this is
    :math:`\|X_c^\top Y_c\|_F^2 / (\|X_c^\top X_c\|_F \|Y_c^\top Y_c\|_F)`. Linear CKA is
    invariant to orthogonal transforms and isotropic scaling of either representation,
    not to general invertible linear maps.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, d1)
    Y : array-like or torch.Tensor of shape (n_samples, d2)
        Representations of the same n inputs (row i of X and of Y belong to input i).
    kernel : {"linear", "rbf"}
        Linear CKA is computed in feature space in :math:`O(n d^2)`; RBF CKA builds the
        two n x n Gram matrices.
    debiased : bool
        Use the unbiased HSIC estimator (Song et al. 2012; Nguyen et al. 2021). It needs
        n >= 4, may be slightly negative for unrelated representations and averages 0
        for independent ones.
    rbf_scale : float
        RBF bandwidth as a multiple of each representation's median pairwise distance.
    ci : float, optional
        Confidence level (e.g. 0.95) of a percentile bootstrap over inputs.
    permutations : int
        Number of shuffles of the pairing for a one-sided permutation p-value.
    n_resamples : int
        Bootstrap resamples when ``ci`` is given.
    random_state : None, int or RandomState
        Seed of the bootstrap and the permutations.

    Returns
    -------
    float or Estimate
        A float, or an :class:`~subspacekit.core.result.Estimate` (value, interval,
        p-value) when ``ci`` or ``permutations`` is given.

    Raises
    ------
    DimensionMismatchError
        X and Y have different numbers of rows.
    NonFiniteError
        NaN or infinite entries.
    TooFewSamplesError
        n < 2 (n < 4 when ``debiased``).
    ValidationError
        A representation has zero variance.

    Notes
    -----
    With two torch tensors and the linear kernel, the value is computed with torch on
    their device (centring in float64, products in the input dtype, sums of squares in
    float64). The RBF kernel, the bootstrap and the permutation test convert to numpy.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 10))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    >>> round(cka(X, 3.0 * X @ Q), 6)  # orthogonal map and isotropic scaling
    1.0
    >>> round(cka(X, rng.normal(size=(500, 10)), debiased=True), 2)
    0.0
    >>> est = cka(X, X[:, :5], ci=0.95, n_resamples=50, random_state=0)
    >>> est.ci[0] <= est.value <= est.ci[1]
    True
    """
    kernel, debiased, rbf_scale = _check_options(kernel, debiased, rbf_scale)
    plain = ci is None and not permutations
    if plain and kernel == "linear" and all_torch(X, Y):
        X, Y = _check_torch_pair(X, Y, debiased)
        return _finish(*_linear_hsic_terms(X, Y, debiased), debiased)
    min_n, why = _min_samples(debiased)
    X, Y = check_pair(X, Y, min_samples=min_n, why=why)
    value = _finish(*_hsic_terms(X, Y, kernel, debiased, rbf_scale), debiased)

    def statistic(A: np.ndarray, B: np.ndarray) -> float:
        return _ratio(*_hsic_terms(A, B, kernel, debiased, rbf_scale))

    method = f"{'debiased ' if debiased else ''}{kernel} CKA"
    return with_uncertainty(
        statistic,
        X,
        Y,
        value=value,
        ci=ci,
        permutations=permutations,
        n_resamples=n_resamples,
        random_state=random_state,
        method=method,
    )


def cka_from_gram(K: Any, L: Any, *, debiased: bool = False) -> float:
    r"""CKA from two precomputed n x n Gram (kernel) matrices.

    Parameters
    ----------
    K, L : array-like of shape (n_samples, n_samples)
        Symmetric kernel matrices of the two representations on the same inputs.
    debiased : bool
        Unbiased HSIC estimator (needs n >= 4).

    Returns
    -------
    float

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 4)); Y = X @ rng.normal(size=(4, 6))
    >>> bool(np.isclose(cka_from_gram(X @ X.T, Y @ Y.T), cka(X, Y)))
    True
    """
    K = check_array(K, "K").astype(np.float64, copy=False)
    L = check_array(L, "L").astype(np.float64, copy=False)
    for name, G in (("K", K), ("L", L)):
        if G.shape[0] != G.shape[1]:
            raise ShapeError(f"{name} must be a square n x n Gram matrix; got shape {G.shape}")
    if K.shape != L.shape:
        raise DimensionMismatchError(
            f"K and L must be Gram matrices of the same n inputs; got {K.shape} and {L.shape}"
        )
    min_n, why = _min_samples(bool(debiased))
    if K.shape[0] < min_n:
        raise TooFewSamplesError(f"K and L need n >= {min_n} ({why}); got n={K.shape[0]}")
    terms = _gram_hsic(K, L, debiased), _gram_hsic(K, K, debiased), _gram_hsic(L, L, debiased)
    return _finish(*terms, bool(debiased))


# --------------------------------------------------------------------------- accumulators
def _as_batch(X: Any, Y: Any, min_n: int, why: str) -> tuple[np.ndarray, np.ndarray]:
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if not hasattr(Y, "shape"):
        Y = np.asarray(Y)
    return check_pair(X, Y, min_samples=min_n, why=why)


class MiniBatchCKA:
    r"""Mini-batch CKA: per-batch unbiased HSIC averaged over batches (Nguyen et al. 2021).

    For batches :math:`b = 1..B`,

    .. math::

        \mathrm{CKA}_{mb} = \frac{\tfrac1B\sum_b \mathrm{HSIC}_u(K_b, L_b)}
        {\sqrt{\tfrac1B\sum_b \mathrm{HSIC}_u(K_b, K_b)\;\tfrac1B\sum_b \mathrm{HSIC}_u(L_b, L_b)}}.

    Each batch term is an unbiased estimate of the population HSIC, so numerator and
    denominators are unbiased whatever the batch size; and because a U-statistic on n
    points is the average of the same U-statistic over all its sub-samples, the batch
    averages equal the full-data debiased HSIC in expectation over random batchings.
    Works for any kernel; memory is one batch. For the linear kernel,
    :class:`StreamingLinearCKA` gives the exact full-data value instead.

    Parameters
    ----------
    kernel : {"linear", "rbf"}
    debiased : bool
        Unbiased per-batch HSIC (default; needs batches of >= 4 rows). With the biased
        estimator the result depends on the batch size.
    rbf_scale : float
        RBF bandwidth as a multiple of the per-batch median pairwise distance.

    Attributes
    ----------
    hsic_xy_, hsic_xx_, hsic_yy_ : ndarray of shape (n_batches_,)
        Per-batch HSIC values.
    n_batches_ : int
    n_samples_ : int
    cka_ : float
        The mini-batch CKA over the batches seen so far.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(1000, 8)); Y = X @ rng.normal(size=(8, 5))
    >>> acc = MiniBatchCKA()
    >>> for start in range(0, 1000, 100):
    ...     _ = acc.partial_fit(X[start:start + 100], Y[start:start + 100])
    >>> acc.n_batches_, round(abs(acc.cka_ - cka(X, Y, debiased=True)), 1)
    (10, 0.0)
    """

    def __init__(self, kernel: str = "linear", debiased: bool = True, rbf_scale: float = 1.0):
        self.kernel = kernel
        self.debiased = debiased
        self.rbf_scale = rbf_scale

    def _reset(self) -> None:
        self._terms: list[tuple[float, float, float]] = []
        self.n_samples_ = 0

    def partial_fit(self, X: Any, Y: Any) -> MiniBatchCKA:
        """Add one batch (rows of X and Y paired); torch tensors are converted to numpy."""
        kernel, debiased, rbf_scale = _check_options(self.kernel, self.debiased, self.rbf_scale)
        if not hasattr(self, "_terms"):
            self._reset()
        min_n, why = _min_samples(debiased)
        X, Y = _as_batch(X, Y, min_n, why)
        self._terms.append(_hsic_terms(X, Y, kernel, debiased, rbf_scale))
        self.n_samples_ += X.shape[0]
        return self

    def fit(self, batches: Iterable[tuple[Any, Any]]) -> MiniBatchCKA:
        """Reset, then accumulate every ``(X_batch, Y_batch)`` pair of ``batches``."""
        self._reset()
        for X, Y in batches:
            self.partial_fit(X, Y)
        return self

    def _check_fitted(self) -> np.ndarray:
        if not getattr(self, "_terms", None):
            from subspacekit.errors import NotFittedError

            raise NotFittedError("MiniBatchCKA has seen no batch yet; call partial_fit first")
        return np.asarray(self._terms)

    @property
    def n_batches_(self) -> int:
        return len(self._check_fitted())

    @property
    def hsic_xy_(self) -> np.ndarray:
        return self._check_fitted()[:, 0]

    @property
    def hsic_xx_(self) -> np.ndarray:
        return self._check_fitted()[:, 1]

    @property
    def hsic_yy_(self) -> np.ndarray:
        return self._check_fitted()[:, 2]

    @property
    def cka_(self) -> float:
        return _ratio(*self._check_fitted().mean(axis=0))

    def estimate(self, confidence: float = 0.95) -> Estimate:
        """The mini-batch CKA with a delete-one-batch jackknife standard error.

        The interval is the normal one, value ± z * stderr; it needs >= 2 batches.

        Examples
        --------
        >>> rng = np.random.RandomState(1)
        >>> X = rng.normal(size=(400, 4)); Y = X + rng.normal(size=(400, 4))
        >>> acc = MiniBatchCKA().fit((X[i:i + 50], Y[i:i + 50]) for i in range(0, 400, 50))
        >>> est = acc.estimate()
        >>> est.ci[0] < est.value < est.ci[1]
        True
        """
        from scipy.stats import norm

        confidence = check_probability(confidence, "confidence")
        T = self._check_fitted()
        B = len(T)
        value = _ratio(*T.mean(axis=0))
        if B < 2:
            return Estimate(value, method="mini-batch CKA", n=self.n_samples_)
        loo = (T.sum(axis=0)[None, :] - T) / (B - 1)
        reps = np.array([_ratio(*row) for row in loo])
        stderr = float(np.sqrt((B - 1) / B * np.sum((reps - reps.mean()) ** 2)))
        z = float(norm.ppf(0.5 + confidence / 2))
        return Estimate(
            value,
            ci=(float(value - z * stderr), float(value + z * stderr)),
            stderr=stderr,
            method="mini-batch CKA (jackknife over batches)",
            n=self.n_samples_,
            confidence=confidence,
            details={"n_batches": B},
        )


class StreamingLinearCKA:
    r"""Exact linear CKA over data streamed in row batches, in :math:`O(d^2)` memory.

    Accumulates, in float64, :math:`\sum x_i y_i^\top`, :math:`\sum x_i x_i^\top`,
    :math:`\sum y_i y_i^\top`, the column sums and (for the debiased estimator) the
    sums of :math:`\|x_i\|^2 \|y_i\|^2`, :math:`\|x_i\|^2 y_i`, ... needed to expand the
    centred row norms :math:`k_i = \|x_i - \bar x\|^2` once the global mean is known. The
    result equals :func:`cka` on the concatenated data up to rounding, for any batching.
    Rows are shifted by the first batch's mean before accumulating, which keeps the
    sums well conditioned (HSIC and its U-statistic are shift invariant).

    Parameters
    ----------
    debiased : bool
        Unbiased HSIC estimator (needs n >= 4 in total, any batch size >= 1).

    Attributes
    ----------
    n_samples_ : int
    cka_ : float
    hsic_xy_, hsic_xx_, hsic_yy_ : float
        The full-data HSIC values.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(1000, 8)) + 5; Y = X @ rng.normal(size=(8, 5))
    >>> acc = StreamingLinearCKA(debiased=True)
    >>> for start in range(0, 1000, 300):
    ...     _ = acc.partial_fit(X[start:start + 300], Y[start:start + 300])
    >>> bool(np.isclose(acc.cka_, cka(X, Y, debiased=True), rtol=1e-10))
    True
    """

    def __init__(self, debiased: bool = False):
        self.debiased = debiased

    def partial_fit(self, X: Any, Y: Any) -> StreamingLinearCKA:
        """Add one batch of paired rows; torch tensors are converted to numpy."""
        X, Y = _as_batch(X, Y, 1, "")
        X = X.astype(np.float64, copy=False)
        Y = Y.astype(np.float64, copy=False)
        if not hasattr(self, "shift_x_"):
            self.shift_x_ = X.mean(axis=0)
            self.shift_y_ = Y.mean(axis=0)
            d1, d2 = X.shape[1], Y.shape[1]
            self.n_samples_ = 0
            self._s: dict[str, Any] = {
                "x": np.zeros(d1), "y": np.zeros(d2),
                "xy": np.zeros((d1, d2)), "xx": np.zeros((d1, d1)), "yy": np.zeros((d2, d2)),
                "px": 0.0, "py": 0.0, "pxpy": 0.0, "pxpx": 0.0, "pypy": 0.0,
                "px_x": np.zeros(d1), "px_y": np.zeros(d2),
                "py_x": np.zeros(d1), "py_y": np.zeros(d2),
            }  # fmt: skip
        if X.shape[1] != self.shift_x_.shape[0] or Y.shape[1] != self.shift_y_.shape[0]:
            raise DimensionMismatchError(
                f"batches must keep their widths ({self.shift_x_.shape[0]}, "
                f"{self.shift_y_.shape[0]}); got ({X.shape[1]}, {Y.shape[1]})"
            )
        A, B = X - self.shift_x_, Y - self.shift_y_
        s = self._s
        s["x"] += A.sum(0)
        s["y"] += B.sum(0)
        s["xy"] += A.T @ B
        s["xx"] += A.T @ A
        s["yy"] += B.T @ B
        p, q = _row_sumsq(A), _row_sumsq(B)
        s["px"] += p.sum()
        s["py"] += q.sum()
        s["pxpy"] += p @ q
        s["pxpx"] += p @ p
        s["pypy"] += q @ q
        s["px_x"] += p @ A
        s["px_y"] += p @ B
        s["py_x"] += q @ A
        s["py_y"] += q @ B
        self.n_samples_ += X.shape[0]
        return self

    def fit(self, batches: Iterable[tuple[Any, Any]]) -> StreamingLinearCKA:
        """Reset, then accumulate every ``(X_batch, Y_batch)`` pair of ``batches``."""
        for attr in ("shift_x_", "shift_y_", "_s"):
            if hasattr(self, attr):
                delattr(self, attr)
        for X, Y in batches:
            self.partial_fit(X, Y)
        return self

    def _terms(self) -> tuple[float, float, float]:
        if not hasattr(self, "_s"):
            from subspacekit.errors import NotFittedError

            raise NotFittedError("StreamingLinearCKA has seen no batch yet; call partial_fit")
        debiased = bool(self.debiased)
        n = self.n_samples_
        min_n, why = _min_samples(debiased)
        if n < min_n:
            raise TooFewSamplesError(f"need at least {min_n} samples in total ({why}); got {n}")
        s = self._s
        m = {"x": s["x"] / n, "y": s["y"] / n}
        cross = {
            "xy": s["xy"] - n * np.outer(m["x"], m["y"]),
            "xx": s["xx"] - n * np.outer(m["x"], m["x"]),
            "yy": s["yy"] - n * np.outer(m["y"], m["y"]),
        }
        frob = {key: float(np.vdot(C, C)) for key, C in cross.items()}
        if not debiased:
            scale = (n - 1) ** 2
            return frob["xy"] / scale, frob["xx"] / scale, frob["yy"] / scale
        mu = {a: float(m[a] @ m[a]) for a in "xy"}
        sum_k = {a: float(np.trace(cross[a + a])) for a in "xy"}

        def sum_kk(a: str, b: str) -> float:
            # sum_i k^a_i k^b_i with k^a_i = p^a_i - 2 a_i.m_a + |m_a|^2 expanded
            return (
                s["p" + a + "p" + b]
                - 2.0 * m[b] @ s["p" + a + "_" + b]
                + mu[b] * s["p" + a]
                - 2.0 * m[a] @ s["p" + b + "_" + a]
                + 4.0 * m[a] @ s[a + b] @ m[b]
                - 2.0 * mu[b] * m[a] @ s[a]
                + mu[a] * s["p" + b]
                - 2.0 * mu[a] * m[b] @ s[b]
                + n * mu[a] * mu[b]
            )

        def unbiased(frob_ab: float, kk: float, ka: float, kb: float) -> float:
            return (frob_ab - kk + ka * kb / ((n - 1) * (n - 2)) - 2.0 * kk / (n - 2)) / (
                n * (n - 3)
            )

        return (
            unbiased(frob["xy"], sum_kk("x", "y"), sum_k["x"], sum_k["y"]),
            unbiased(frob["xx"], sum_kk("x", "x"), sum_k["x"], sum_k["x"]),
            unbiased(frob["yy"], sum_kk("y", "y"), sum_k["y"], sum_k["y"]),
        )

    @property
    def hsic_xy_(self) -> float:
        return self._terms()[0]

    @property
    def hsic_xx_(self) -> float:
        return self._terms()[1]

    @property
    def hsic_yy_(self) -> float:
        return self._terms()[2]

    @property
    def cka_(self) -> float:
        return _finish(*self._terms(), bool(self.debiased))
