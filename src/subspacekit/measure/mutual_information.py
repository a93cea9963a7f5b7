"""Mutual information I(X;Y) with honest error bars.

Two layers:

* **Estimators** return a number in nats: :func:`gaussian_mi` (closed form through canonical
  correlations), :func:`ksg_mi` (Kraskov–Stögbauer–Grassberger 1 and 2),
  :func:`mixed_ksg_mi` (Gao et al. 2017, for discrete, continuous and mixed data),
  :func:`binned_mi` (plug-in with the Miller–Madow correction), :func:`classifier_mi`
  (held-out cross-entropy for a discrete Y) and the neural variational bounds of
  :mod:`subspacekit.measure.mi_neural` (InfoNCE, NWJ, MINE, SMILE, probabilistic critic).
* **The protocol** :func:`mutual_information` runs one estimator on nested subsamples of
  sizes n/8, n/4, n/2 and n, extrapolates the estimate linearly in 1/n (Abdelaleem,
  Martini & Nemenman 2025), attaches a confidence interval (delete-a-group jackknife,
  subsample scaling, held-out errors or bootstrap) and warns with
  :class:`~subspacekit.errors.UntrustworthyEstimateWarning` when the diagnostics say the
  number should not be trusted.

Units are nats (natural logarithm) unless ``units="bits"`` is asked for.

Examples
--------
>>> import numpy as np
>>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
>>> task = CorrelatedGaussian([0.9])
>>> X, Y = task.sample(2000, random_state=0)
>>> round(task.mutual_information, 3)
0.83
>>> round(ksg_mi(X, Y), 2)
0.83
>>> est = mutual_information(X, Y, method="ksg", random_state=0)
>>> est.covers(task.mutual_information)
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import cKDTree
from scipy.special import digamma

from subspacekit.core.resampling import bootstrap_interval
from subspacekit.core.result import Estimate
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_in,
    check_random_state,
)
from subspacekit.errors import (
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)

__all__ = [
    "METHODS",
    "binned_mi",
    "canonical_correlations",
    "classifier_mi",
    "gaussian_mi",
    "gaussian_mi_from_covariance",
    "ksg_mi",
    "mixed_ksg_mi",
    "mutual_information",
]

LOG2 = math.log(2.0)


# --------------------------------------------------------------------------- input checks


def _as_columns(A: Any, name: str, min_samples: int = 2) -> np.ndarray:
    """Validate ``A`` as finite float data, 1-D input becoming one column."""
    arr = check_array(A, name, ndim=(1, 2), min_samples=min_samples)
    arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    return np.asarray(arr, dtype=np.float64)


def _check_not_constant(A: np.ndarray, name: str) -> None:
    constant = np.flatnonzero(np.all(A == A[:1], axis=0))
    if constant.size:
        raise ValidationError(
            f"{name} has {constant.size} constant column(s) (indices {constant[:10].tolist()}); "
            "mutual information needs every column to vary; drop constant columns first"
        )


def _check_pair(X: Any, Y: Any, min_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    X = _as_columns(X, "X", min_samples)
    Y = _as_columns(Y, "Y", min_samples)
    check_consistent_samples(X, Y, names=["X", "Y"])
    _check_not_constant(X, "X")
    _check_not_constant(Y, "Y")
    return X, Y


def _check_labels(labels: Any, n: int) -> np.ndarray:
    """Class labels as integer codes 0..K-1 (any dtype accepted)."""
    arr = np.asarray(labels.detach().cpu().numpy() if hasattr(labels, "detach") else labels)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValidationError(
            f"labels must be a 1-D array (or one column) of class labels; got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise ValidationError(f"X has {n} samples but labels has {arr.shape[0]}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValidationError("labels contain NaN or infinite values")
        if not np.all(arr == np.round(arr)):
            raise ValidationError(
                "labels must be discrete class labels; got non-integer floats (use a "
                "continuous estimator such as method='ksg' for a continuous Y)"
            )
    _, codes, counts = np.unique(arr, return_inverse=True, return_counts=True)
    if counts.size < 2:
        raise ValidationError("labels are constant (one class); mutual information needs >= 2")
    return codes.astype(np.int64)


# --------------------------------------------------------------------------- Gaussian


def _orthonormal_range(A: np.ndarray, rtol: float | None) -> np.ndarray:
    U, s, _ = np.linalg.svd(A - A.mean(axis=0), full_matrices=False)
    tol = (max(A.shape) * np.finfo(float).eps if rtol is None else rtol) * (s[0] if s.size else 0)
    return U[:, s > tol]


def canonical_correlations(X: Any, Y: Any, *, rtol: float | None = None) -> np.ndarray:
    """Sample canonical correlations of X and Y, in decreasing order.

    Centre both, take orthonormal bases ``Q_X``, ``Q_Y`` of their column spaces (thin SVD,
    directions with singular value below ``rtol · s_max`` dropped, so rank-deficient data
    such as a low-dimensional signal embedded in many columns is handled), and return the
    singular values of ``Q_Xᵀ Q_Y``.

    Parameters
    ----------
    X : array of shape (n_samples, dim_x)
    Y : array of shape (n_samples, dim_y)
    rtol : float, optional
        Relative rank tolerance (default ``max(n, d) · machine epsilon``).

    Returns
    -------
    ndarray of shape (min(rank_x, rank_y),)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((500, 1))
    >>> canonical_correlations(x, 2 * x + 1).round(6)
    array([1.])
    """
    X, Y = _check_pair(X, Y, min_samples=3)
    Qx, Qy = _orthonormal_range(X, rtol), _orthonormal_range(Y, rtol)
    return np.clip(np.linalg.svd(Qx.T @ Qy, compute_uv=False), 0.0, 1.0)


def _logdet_bias(dim: int, n: int) -> float:
    # E[log det S] - log det Σ for the unbiased sample covariance S with n - 1 degrees of
    # freedom: Σ_{i=1}^{d} ψ((n - i) / 2) + d log(2 / (n - 1)).
    i = np.arange(1, dim + 1)
    return float(np.sum(digamma((n - i) / 2.0)) + dim * math.log(2.0 / (n - 1)))


def gaussian_mi(
    X: Any, Y: Any, *, bias_correction: bool = True, rtol: float | None = None
) -> float:
    """Mutual information of jointly Gaussian X and Y from canonical correlations.

    .. math:: \\hat I = -\\tfrac12 \\sum_i \\log(1 - \\hat\\rho_i^2)

    with ``ρ̂_i`` the sample canonical correlations. This equals
    ``½(log|S_XX| + log|S_YY| - log|S|)``; with ``bias_correction`` the exact expectation
    of each Wishart log-determinant, ``Σ_{i≤d} ψ((n-i)/2) + d log(2/(n-1))``, is
    subtracted (d the rank of the block), which removes the ``≈ d_x d_y / 2n`` upward bias
    of the plug-in value. For non-Gaussian data this is the MI of the Gaussian with the
    same covariance, a lower bound on the true MI (among distributions with that
    covariance, the Gaussian minimises MI).

    Parameters
    ----------
    X : array of shape (n_samples, dim_x)
    Y : array of shape (n_samples, dim_y)
    bias_correction : bool
        Remove the finite-sample bias (default True).
    rtol : float, optional
        Rank tolerance passed to :func:`canonical_correlations`.

    Returns
    -------
    float
        Estimate in nats (``inf`` when X and Y are exactly linearly related).

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
    >>> X, Y = CorrelatedGaussian([0.8, 0.5]).sample(5000, random_state=0)
    >>> round(gaussian_mi(X, Y), 2)  # truth 0.6547
    0.64
    """
    X, Y = _check_pair(X, Y, min_samples=3)
    n = X.shape[0]
    Qx, Qy = _orthonormal_range(X, rtol), _orthonormal_range(Y, rtol)
    rx, ry = Qx.shape[1], Qy.shape[1]
    if rx + ry >= n - 1:
        raise TooFewSamplesError(
            f"gaussian_mi needs more samples than rank(X) + rank(Y) + 1 = {rx + ry + 1}; got {n}"
        )
    rho = np.clip(np.linalg.svd(Qx.T @ Qy, compute_uv=False), 0.0, 1.0)
    if np.any(rho >= 1.0):
        return math.inf
    value = float(-0.5 * np.sum(np.log1p(-(rho**2))))
    if bias_correction:
        value -= 0.5 * (_logdet_bias(rx, n) + _logdet_bias(ry, n) - _logdet_bias(rx + ry, n))
    return value


def gaussian_mi_from_covariance(covariance: Any, dim_x: int) -> float:
    """I(X;Y) of a Gaussian with joint covariance ``covariance`` (X = first ``dim_x`` coords).

    .. math:: I = \\tfrac12 (\\log|\\Sigma_{XX}| + \\log|\\Sigma_{YY}| - \\log|\\Sigma|)

    Examples
    --------
    >>> round(gaussian_mi_from_covariance([[1.0, 0.9], [0.9, 1.0]], 1), 4)
    0.8304
    """
    cov = check_array(covariance, "covariance", min_samples=2, min_features=2)
    if cov.shape[0] != cov.shape[1] or not 0 < dim_x < cov.shape[0]:
        raise ValidationError(
            f"covariance must be square with 0 < dim_x < size; got shape {cov.shape}, dim_x={dim_x}"
        )
    signs_logdets = [
        np.linalg.slogdet(block) for block in (cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov)
    ]
    if any(sign <= 0 for sign, _ in signs_logdets):
        raise ValidationError("covariance (and its diagonal blocks) must be positive definite")
    (_, ld_x), (_, ld_y), (_, ld) = signs_logdets
    return float(0.5 * (ld_x + ld_y - ld))


# --------------------------------------------------------------------------- kNN counting


def _standardize(A: np.ndarray) -> np.ndarray:
    std = A.std(axis=0)
    # A column can be constant on a small subsample of discrete data; leave it unscaled.
    return (A - A.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _count_sorted_1d(values: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Count j with ``fl(|v_j - v_i|) <= radius_i`` (self included), in O(n log n).

    ``searchsorted`` on ``v_i ± r_i`` can misplace the boundary because ``fl(v_i + r_i)``
    is rounded, and the neighbour that defines a kNN radius sits exactly on that boundary.
    The ends are therefore corrected with the exact differences, which are monotone in
    ``v_j`` for a fixed ``v_i``; each correction step jumps over a whole run of equal
    values, so repeated values (atoms) are handled in one step.
    """
    n = values.size
    perm = np.argsort(values, kind="stable")
    order = values[perm]
    # Work in sorted order: the search keys are then nearly sorted, which keeps the
    # binary searches cache-friendly (several times faster than random keys).
    counts = np.empty(n, dtype=np.int64)
    counts[perm] = _count_sorted_centres(order, radius[perm])
    return counts


def _count_sorted_centres(order: np.ndarray, radius: np.ndarray) -> np.ndarray:
    n = order.size
    values = order
    lo = np.searchsorted(order, values - radius, side="left")
    hi = np.searchsorted(order, values + radius, side="right")
    for _ in range(8):  # values within a few ulps of the boundary: two passes suffice
        changed = False
        m = (hi > 0) & (order[np.maximum(hi - 1, 0)] - values > radius)
        if m.any():  # last counted value is outside: drop its whole run
            hi[m] = np.searchsorted(order, order[hi[m] - 1], side="left")
            changed = True
        m = (hi < n) & (order[np.minimum(hi, n - 1)] - values <= radius)
        if m.any():  # first uncounted value is inside: add its whole run
            hi[m] = np.searchsorted(order, order[hi[m]], side="right")
            changed = True
        m = (lo < n) & (values - order[np.minimum(lo, n - 1)] > radius)
        if m.any():
            lo[m] = np.searchsorted(order, order[lo[m]], side="right")
            changed = True
        m = (lo > 0) & (values - order[np.maximum(lo - 1, 0)] <= radius)
        if m.any():
            lo[m] = np.searchsorted(order, order[lo[m] - 1], side="left")
            changed = True
        if not changed:
            break
    return hi - lo


def _count_within(A: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Number of rows within max-norm distance ``<= radius_i`` of row i, itself included."""
    if A.shape[1] == 1:
        return _count_sorted_1d(A[:, 0], radius)
    from sklearn.neighbors import KDTree

    # scikit-learn's KDTree counts whole nodes that lie inside the ball without visiting
    # their points, which is several times faster than cKDTree's return_length here.
    tree = KDTree(A, metric="chebyshev")
    return np.asarray(tree.query_radius(A, radius, count_only=True), dtype=np.int64)


def _check_neighbors(n_neighbors: int, n: int) -> int:
    if int(n_neighbors) != n_neighbors or n_neighbors < 1:
        raise ValidationError(f"n_neighbors must be a positive integer; got {n_neighbors!r}")
    if n <= n_neighbors + 1:
        raise TooFewSamplesError(
            f"kNN estimation with n_neighbors={n_neighbors} needs more than "
            f"{n_neighbors + 1} samples; got {n}"
        )
    return int(n_neighbors)


def _duplicate_fraction(A: np.ndarray) -> float:
    if A.shape[1] == 1:
        s = np.sort(A[:, 0])
        return float(np.mean(s[1:] == s[:-1]))
    return 1.0 - np.unique(A, axis=0).shape[0] / A.shape[0]


def _use_brute_force(n: int, joint_dim: int) -> bool:
    # Measured on one core: k-d trees win up to ~10 joint dimensions at n = 5,000 and
    # break even at 16; chunked brute force (O(n² d)) wins from 8-10 dimensions at n ≤ 3,000.
    return joint_dim >= 16 or (joint_dim >= 10 and n <= 3000)


def _neighbour_counts(
    X: np.ndarray, Y: np.ndarray, k: int, rule: str, algorithm: str, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample (k̃, n_x, n_y), every count including the sample itself.

    ``rule`` selects the neighbourhoods (ε_i is the max-norm distance from z_i to its
    k-th nearest other sample):

    * ``"ksg1"``: n_x = #{j : ‖x_j - x_i‖ < ε_i} (strict), k̃ = k;
    * ``"ksg2"``: n_x = #{j : ‖x_j - x_i‖ ≤ ε_x(i)} with ε_x(i) the largest x-distance
      among the k neighbours, k̃ = k;
    * ``"mixed"``: as ``"ksg1"`` when ε_i > 0; when ε_i = 0, k̃, n_x, n_y count exact
      repeats of z_i, x_i, y_i.
    """
    if algorithm == "auto":
        algorithm = "brute" if _use_brute_force(X.shape[0], X.shape[1] + Y.shape[1]) else "tree"
    if algorithm == "brute":
        return _neighbour_counts_brute(X, Y, k, rule)
    n = X.shape[0]
    Z = np.hstack([X, Y])
    dist, idx = cKDTree(Z).query(Z, k=k + 1, p=np.inf, workers=workers)
    eps = dist[:, k]  # (k+1)-th smallest including self = k-th nearest other sample
    k_tilde = np.full(n, k, dtype=np.int64)
    if rule == "ksg2":
        is_self = idx == np.arange(n)[:, None]
        # Only with > k exact duplicates can self be missing: drop the farthest instead.
        is_self[~is_self.any(axis=1), k] = True
        neighbours = idx[~is_self].reshape(n, k)
        eps_x = np.abs(X[neighbours] - X[:, None, :]).max(axis=(1, 2))
        eps_y = np.abs(Y[neighbours] - Y[:, None, :]).max(axis=(1, 2))
        return k_tilde, _count_within(X, eps_x), _count_within(Y, eps_y)
    tied = eps == 0.0
    radius = np.where(tied, 0.0, np.nextafter(eps, 0.0))
    if rule == "mixed" and tied.any():
        k_tilde[tied] = _count_within(Z, np.zeros(n))[tied]
    return k_tilde, _count_within(X, radius), _count_within(Y, radius)


def _neighbour_counts_brute(
    X: np.ndarray, Y: np.ndarray, k: int, rule: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same as :func:`_neighbour_counts` from blocks of the Chebyshev distance matrices."""
    from scipy.spatial.distance import cdist

    n = X.shape[0]
    k_tilde = np.full(n, k, dtype=np.int64)
    nx = np.empty(n, dtype=np.int64)
    ny = np.empty(n, dtype=np.int64)
    block = max(1, (1 << 21) // n)  # about 16 MB per distance block
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        Dx = cdist(X[rows], X, "chebyshev")
        Dy = cdist(Y[rows], Y, "chebyshev")
        D = np.maximum(Dx, Dy)
        D[np.arange(rows.size), rows] = np.inf  # exclude self from the neighbour search
        if rule == "ksg2":
            nbrs = np.argpartition(D, k - 1, axis=1)[:, :k]
            eps_x = np.take_along_axis(Dx, nbrs, axis=1).max(axis=1)
            eps_y = np.take_along_axis(Dy, nbrs, axis=1).max(axis=1)
            nx[rows] = (Dx <= eps_x[:, None]).sum(axis=1)
            ny[rows] = (Dy <= eps_y[:, None]).sum(axis=1)
            continue
        eps = np.partition(D, k - 1, axis=1)[:, k - 1]
        tied = eps == 0.0
        nx[rows] = np.where(tied, (Dx == 0.0).sum(axis=1), (Dx < eps[:, None]).sum(axis=1))
        ny[rows] = np.where(tied, (Dy == 0.0).sum(axis=1), (Dy < eps[:, None]).sum(axis=1))
        if rule == "mixed" and tied.any():
            k_tilde[rows[tied]] = (D[tied] == 0.0).sum(axis=1) + 1
    return k_tilde, nx, ny


def _ksg_terms(
    X: np.ndarray, Y: np.ndarray, k: int, variant: int, algorithm: str, workers: int
) -> np.ndarray:
    """Per-sample KSG contributions; their mean is the estimate (constants included)."""
    n = X.shape[0]
    _, nx, ny = _neighbour_counts(X, Y, k, f"ksg{variant}", algorithm, workers)
    if variant == 1:
        # KSG eq. (8): I = ψ(k) + ψ(N) - <ψ(n_x + 1) + ψ(n_y + 1)>, n_x excluding i.
        return digamma(k) + digamma(n) - digamma(nx) - digamma(ny)
    # KSG eq. (9): I = ψ(k) - 1/k + ψ(N) - <ψ(n_x) + ψ(n_y)>, n_x excluding i.
    return digamma(k) - 1.0 / k + digamma(n) - digamma(nx - 1) - digamma(ny - 1)


def ksg_mi(
    X: Any,
    Y: Any,
    n_neighbors: int = 3,
    *,
    variant: int = 1,
    standardize: bool = True,
    jitter: float = 1e-10,
    random_state: Any = 0,
    algorithm: str = "auto",
    workers: int = 1,
) -> float:
    """Kraskov–Stögbauer–Grassberger estimate of I(X;Y) for continuous X and Y.

    With ε_i the distance from z_i = (x_i, y_i) to its k-th nearest neighbour in the
    max-norm ``‖z‖ = max(‖x‖_∞, ‖y‖_∞)``:

    * variant 1 (KSG eq. 8): n_x(i) = #{j ≠ i : ‖x_j - x_i‖ < ε_i}, likewise n_y, and
      ``Î = ψ(k) + ψ(N) - ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩``;
    * variant 2 (KSG eq. 9): ε_x(i), ε_y(i) are the largest x- and y-distances among the
      k neighbours, n_x(i) = #{j ≠ i : ‖x_j - x_i‖ ≤ ε_x(i)}, and
      ``Î = ψ(k) - 1/k + ψ(N) - ⟨ψ(n_x) + ψ(n_y)⟩``.

    Variant 1 with k = 3 is what ``sklearn.feature_selection.mutual_info_regression``
    computes for one feature; on the same (standardised, jittered) samples the two agree to
    rounding. Neighbour search uses a k-d tree in the max-norm; one-dimensional marginal
    counts use binary search on sorted values with an exact boundary correction.

    Parameters
    ----------
    X : array of shape (n_samples, dim_x) or (n_samples,)
    Y : array of shape (n_samples, dim_y) or (n_samples,)
    n_neighbors : int
        k (default 3, as in Kraskov et al. and scikit-learn).
    variant : {1, 2}
        KSG estimator 1 or 2.
    standardize : bool
        Scale every column to unit standard deviation first (default True): the max-norm
        is not invariant to per-column scale, and this makes the estimate invariant to it.
    jitter : float
        Standard deviation of Gaussian noise added to every (standardised) column to break
        ties, relative to the column's scale (default 1e-10, as scikit-learn). Ties make
        neighbour counts ambiguous; for data that is genuinely discrete or has atoms use
        :func:`mixed_ksg_mi` instead. Set 0 to disable.
    random_state : int, RandomState or None
        Seed of the jitter (default 0, so that the function is deterministic).
    algorithm : {"auto", "tree", "brute"}
        Neighbour search: k-d trees (fast in low dimension) or blocks of the exact
        Chebyshev distance matrix (O(N²) time, O(N) memory; faster from 16 joint
        dimensions, or from 10 when N ≤ 3,000); ``"auto"`` picks by that rule. Both give
        the same counts.
    workers : int
        Threads for the k-d tree kNN query (-1: all cores).

    Returns
    -------
    float
        Estimate in nats. It can be slightly negative when X and Y are independent
        (it is not clipped, so that averages over subsamples stay unbiased).

    References
    ----------
    A. Kraskov, H. Stögbauer, P. Grassberger, "Estimating mutual information",
    Phys. Rev. E 69, 066138 (2004).

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
    >>> X, Y = CorrelatedGaussian([0.9]).sample(5000, random_state=1)
    >>> round(ksg_mi(X, Y), 2), round(ksg_mi(X, Y, variant=2), 2)  # truth 0.830
    (0.83, 0.82)
    """
    X, Y = _check_pair(X, Y)
    k = _check_neighbors(n_neighbors, X.shape[0])
    check_in(variant, (1, 2), "variant")
    check_in(algorithm, ("auto", "tree", "brute"), "algorithm")
    X, Y = _prepare_continuous(X, Y, standardize, jitter, random_state)
    if _duplicate_fraction(X) > 0 or _duplicate_fraction(Y) > 0:
        warnings.warn(
            "X or Y has repeated rows even after jitter; KSG assumes continuous data "
            "(use mixed_ksg_mi for discrete or mixed data)",
            UntrustworthyEstimateWarning,
            stacklevel=2,
        )
    return float(np.mean(_ksg_terms(X, Y, k, variant, algorithm, workers)))


def _prepare_continuous(
    X: np.ndarray, Y: np.ndarray, standardize: bool, jitter: float, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    if standardize:
        X, Y = _standardize(X), _standardize(Y)
    if jitter < 0:
        raise ValidationError(f"jitter must be >= 0; got {jitter!r}")
    if jitter > 0:
        rng = check_random_state(random_state)
        scale_x = 1.0 if standardize else X.std(axis=0)
        scale_y = 1.0 if standardize else Y.std(axis=0)
        X = X + jitter * scale_x * rng.standard_normal(X.shape)
        Y = Y + jitter * scale_y * rng.standard_normal(Y.shape)
    return X, Y


def mixed_ksg_mi(
    X: Any,
    Y: Any,
    n_neighbors: int = 5,
    *,
    standardize: bool = True,
    algorithm: str = "auto",
    workers: int = 1,
) -> float:
    """Gao–Kannan–Oh–Viswanath (2017) estimator for discrete, continuous or mixed data.

    With ρ_i the max-norm distance from z_i to its k-th nearest neighbour:

    * if ρ_i > 0: k̃_i = k and n_x(i) = #{j : ‖x_j - x_i‖ < ρ_i} (i included), likewise n_y;
    * if ρ_i = 0 (z_i repeats at least k times): k̃_i, n_x(i), n_y(i) count the samples
      equal to z_i, x_i, y_i (i included);

    and ``Î = ⟨ψ(k̃_i) + log N - ψ(n_x(i)) - ψ(n_y(i))⟩``. On purely continuous data this
    is KSG-1 with ψ(N) replaced by log N; on purely discrete data it approaches the plug-in
    estimate. The counting convention follows the authors' reference implementation.
    No jitter is added: ties carry the information here.

    Parameters
    ----------
    X : array of shape (n_samples, dim_x) or (n_samples,)
    Y : array of shape (n_samples, dim_y) or (n_samples,)
    n_neighbors : int
        k (default 5, as in the paper's experiments).
    standardize : bool
        Scale columns to unit standard deviation (does not affect ties).
    algorithm : {"auto", "tree", "brute"}
        Neighbour search, as in :func:`ksg_mi`.
    workers : int
        Threads for the k-d tree kNN query.

    Returns
    -------
    float
        Estimate in nats.

    References
    ----------
    W. Gao, S. Kannan, S. Oh, P. Viswanath, "Estimating Mutual Information for
    Discrete-Continuous Mixtures", NeurIPS 2017.

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import SmearedDiscrete
    >>> task = SmearedDiscrete(5, 2)
    >>> X, Y = task.sample(4000, random_state=0)
    >>> round(mixed_ksg_mi(X, Y), 2), round(task.mutual_information, 2)
    (1.05, 1.05)
    """
    X, Y = _check_pair(X, Y)
    n = X.shape[0]
    k = _check_neighbors(n_neighbors, n)
    check_in(algorithm, ("auto", "tree", "brute"), "algorithm")
    if standardize:
        X, Y = _standardize(X), _standardize(Y)
    return float(np.mean(_mixed_terms(X, Y, k, algorithm, workers)))


def _mixed_terms(X: np.ndarray, Y: np.ndarray, k: int, algorithm: str, workers: int) -> np.ndarray:
    n = X.shape[0]
    k_tilde, nx, ny = _neighbour_counts(X, Y, k, "mixed", algorithm, workers)
    return digamma(k_tilde) + math.log(n) - digamma(nx) - digamma(ny)


# --------------------------------------------------------------------------- binned


def _discretize(A: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """One integer code per row: each column cut into ``n_bins`` bins, codes combined."""
    codes = np.empty(A.shape, dtype=np.int64)
    for j in range(A.shape[1]):
        col = A[:, j]
        if strategy == "quantile":
            edges = np.unique(np.quantile(col, np.linspace(0, 1, n_bins + 1)[1:-1]))
        else:
            edges = np.linspace(col.min(), col.max(), n_bins + 1)[1:-1]
        codes[:, j] = np.searchsorted(edges, col, side="right")
    return np.unique(codes, axis=0, return_inverse=True)[1].reshape(-1)


def _entropy_from_codes(codes: np.ndarray) -> tuple[float, int]:
    counts = np.bincount(codes)
    counts = counts[counts > 0]
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p))), int(counts.size)


def binned_mi(
    X: Any,
    Y: Any,
    n_bins: int | None = None,
    *,
    strategy: str = "quantile",
    correction: str | None = "miller-madow",
) -> float:
    """Plug-in mutual information of binned X and Y, for low dimension.

    Every column is cut into ``n_bins`` bins (equal-frequency by default; a column with
    fewer distinct values keeps them as categories), the cells of X, Y and (X, Y) are
    counted and ``Î = Ĥ(X) + Ĥ(Y) - Ĥ(X, Y)``. The Miller–Madow correction adds
    ``(m - 1) / 2N`` to each entropy, m the number of occupied cells, i.e.
    ``(m_X + m_Y - m_XY - 1) / 2N`` to the MI. Binned estimates need ``N`` well above the
    number of joint cells; beyond about four joint dimensions use a kNN estimator.

    Parameters
    ----------
    X : array of shape (n_samples, dim_x) or (n_samples,)
    Y : array of shape (n_samples, dim_y) or (n_samples,)
    n_bins : int, optional
        Bins per column (default ``max(2, floor((N / 5) ** (1 / (dim_x + dim_y))))``, about
        five samples per joint cell).
    strategy : {"quantile", "uniform"}
        Equal-frequency or equal-width bins.
    correction : {"miller-madow", None}
        Bias correction.

    Returns
    -------
    float
        Estimate in nats.

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
    >>> X, Y = CorrelatedGaussian([0.9]).sample(20000, random_state=0)
    >>> round(binned_mi(X, Y), 1)  # truth 0.83; binning loses a little
    0.8
    """
    X, Y = _check_pair(X, Y)
    check_in(strategy, ("quantile", "uniform"), "strategy")
    check_in(correction, ("miller-madow", None), "correction")
    n, d = X.shape[0], X.shape[1] + Y.shape[1]
    if n_bins is None:
        n_bins = max(2, math.floor((n / 5.0) ** (1.0 / d)))
    if int(n_bins) != n_bins or n_bins < 2:
        raise ValidationError(f"n_bins must be an integer >= 2; got {n_bins!r}")
    if d > 4:
        warnings.warn(
            f"binned_mi on {d} joint dimensions: most cells are empty or nearly so and the "
            "plug-in estimate is strongly biased; prefer method='ksg'",
            UntrustworthyEstimateWarning,
            stacklevel=2,
        )
    cx, cy = _discretize(X, int(n_bins), strategy), _discretize(Y, int(n_bins), strategy)
    cxy = np.unique(np.column_stack([cx, cy]), axis=0, return_inverse=True)[1].reshape(-1)
    (hx, mx), (hy, my), (hxy, mxy) = map(_entropy_from_codes, (cx, cy, cxy))
    value = hx + hy - hxy
    if correction == "miller-madow":
        value += (mx + my - mxy - 1) / (2.0 * n)
    return float(value)


# --------------------------------------------------------------------------- classifier


def _default_classifier() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _classifier_terms(
    X: np.ndarray, codes: np.ndarray, classifier: Any, cv: int, random_state: Any
) -> np.ndarray:
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    counts = np.bincount(codes)
    if counts.min() < cv:
        raise TooFewSamplesError(
            f"classifier_mi with cv={cv} needs at least {cv} samples of every class; the "
            f"smallest class has {counts.min()}"
        )
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    model = clone(_default_classifier() if classifier is None else classifier)
    proba = cross_val_predict(model, X, codes, cv=folds, method="predict_proba")
    log_q = np.log(np.clip(proba[np.arange(codes.size), codes], 1e-15, 1.0))
    log_prior = np.log(counts / counts.sum())
    return log_q - log_prior[codes]


def classifier_mi(
    X: Any,
    labels: Any,
    *,
    classifier: Any = None,
    cv: int = 5,
    random_state: Any = None,
) -> float:
    """I(X;Y) for a discrete Y from a classifier's held-out cross-entropy.

    .. math:: \\hat I = \\hat H(Y) - \\widehat{CE} =
              \\frac1N \\sum_i [\\log q(y_i \\mid x_i) - \\log \\hat p(y_i)]

    where ``q`` are out-of-fold predicted probabilities (stratified ``cv``-fold
    cross-validation) and ``p̂`` the class frequencies. Since the cross-entropy of any
    model upper-bounds H(Y|X), this is a lower bound on I(X;Y) up to sampling noise
    (the Barber–Agakov bound); it is tight when the classifier is well specified.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    labels : array of shape (n_samples,)
        Class labels (any dtype).
    classifier : scikit-learn classifier, optional
        Must implement ``predict_proba`` (default: standardisation + multinomial
        logistic regression).
    cv : int
        Number of folds.
    random_state : int, RandomState or None
        Seed of the fold split.

    Returns
    -------
    float
        Estimate in nats.

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import GaussianClasses
    >>> task = GaussianClasses(3, separation=2.0, dim=2)
    >>> X, y = task.sample(3000, random_state=0)
    >>> round(classifier_mi(X, y, random_state=0), 2), round(task.mutual_information, 2)
    (0.62, 0.62)
    """
    X = _as_columns(X, "X")
    codes = _check_labels(labels, X.shape[0])
    _check_not_constant(X, "X")
    if int(cv) != cv or cv < 2:
        raise ValidationError(f"cv must be an integer >= 2; got {cv!r}")
    return float(np.mean(_classifier_terms(X, codes, classifier, int(cv), random_state)))


# --------------------------------------------------------------------------- the protocol


@dataclass
class _LevelFit:
    """One estimate on one subsample: value, its own standard error if known, extras."""

    value: float
    stderr: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Method:
    fit: Callable[..., _LevelFit]
    deterministic: bool  # same data -> same value (so level n is computed once)
    discrete_y: bool = False
    bootstrap_ok: bool = False
    neural: bool = False
    min_chunk: int = 20
    options: tuple[str, ...] = ()


def _fit_ksg(variant: int) -> Callable[..., _LevelFit]:
    def fit(
        X: np.ndarray,
        Y: np.ndarray,
        seed: int,
        n_neighbors: int = 3,
        standardize: bool = True,
        jitter: float = 1e-10,
        algorithm: str = "auto",
        workers: int = 1,
    ) -> _LevelFit:
        k = _check_neighbors(n_neighbors, X.shape[0])
        Xp, Yp = _prepare_continuous(X, Y, standardize, jitter, seed)
        return _LevelFit(float(np.mean(_ksg_terms(Xp, Yp, k, variant, algorithm, workers))))

    return fit


def _fit_mixed(
    X: np.ndarray,
    Y: np.ndarray,
    seed: int,
    n_neighbors: int = 5,
    standardize: bool = True,
    algorithm: str = "auto",
    workers: int = 1,
) -> _LevelFit:
    k = _check_neighbors(n_neighbors, X.shape[0])
    if standardize:
        X, Y = _standardize(X), _standardize(Y)
    return _LevelFit(float(np.mean(_mixed_terms(X, Y, k, algorithm, workers))))


def _fit_gaussian(
    X: np.ndarray, Y: np.ndarray, seed: int, bias_correction: bool = True, rtol: Any = None
) -> _LevelFit:
    return _LevelFit(gaussian_mi(X, Y, bias_correction=bias_correction, rtol=rtol))


def _fit_binned(
    X: np.ndarray,
    Y: np.ndarray,
    seed: int,
    n_bins: int | None = None,
    strategy: str = "quantile",
    correction: str | None = "miller-madow",
) -> _LevelFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrustworthyEstimateWarning)
        return _LevelFit(binned_mi(X, Y, n_bins, strategy=strategy, correction=correction))


def _fit_classifier(
    X: np.ndarray, codes: np.ndarray, seed: int, classifier: Any = None, cv: int = 5
) -> _LevelFit:
    terms = _classifier_terms(X, codes, classifier, cv, seed)
    return _LevelFit(float(terms.mean()), float(terms.std(ddof=1) / math.sqrt(terms.size)))


def _fit_neural(bound: str, critic: str) -> Callable[..., _LevelFit]:
    def fit(X: np.ndarray, Y: np.ndarray, seed: int, **options: Any) -> _LevelFit:
        from subspacekit.measure.mi_neural import NeuralMIEstimator

        opts = {"bound": bound, "critic": critic, **options}
        est = NeuralMIEstimator(random_state=seed, **opts).fit(X, Y)
        return _LevelFit(est.mi_, est.stderr_, est.diagnostics_)

    return fit


_KSG_OPTIONS = ("n_neighbors", "standardize", "jitter", "algorithm", "workers")
_NEURAL_OPTIONS = (
    "critic",
    "hidden_sizes",
    "embedding_dim",
    "batch_size",
    "max_steps",
    "learning_rate",
    "validation_fraction",
    "test_fraction",
    "eval_every",
    "clip",
    "beta",
    "ema_rate",
    "max_eval_samples",
    "device",
    "verbose",
)

METHODS: dict[str, _Method] = {
    "ksg": _Method(_fit_ksg(1), True, options=_KSG_OPTIONS),
    "ksg1": _Method(_fit_ksg(1), True, options=_KSG_OPTIONS),
    "ksg2": _Method(_fit_ksg(2), True, options=_KSG_OPTIONS),
    "mixed": _Method(
        _fit_mixed, True, options=("n_neighbors", "standardize", "algorithm", "workers")
    ),
    "gaussian": _Method(
        _fit_gaussian, True, bootstrap_ok=True, options=("bias_correction", "rtol")
    ),
    "binned": _Method(
        _fit_binned, True, bootstrap_ok=True, options=("n_bins", "strategy", "correction")
    ),
    "classifier": _Method(
        _fit_classifier, False, discrete_y=True, min_chunk=50, options=("classifier", "cv")
    ),
    "infonce": _Method(
        _fit_neural("infonce", "separable"),
        False,
        neural=True,
        min_chunk=200,
        options=_NEURAL_OPTIONS,
    ),
    "nwj": _Method(
        _fit_neural("nwj", "separable"), False, neural=True, min_chunk=200, options=_NEURAL_OPTIONS
    ),
    "mine": _Method(
        _fit_neural("mine", "separable"), False, neural=True, min_chunk=200, options=_NEURAL_OPTIONS
    ),
    "smile": _Method(
        _fit_neural("smile", "separable"),
        False,
        neural=True,
        min_chunk=200,
        options=_NEURAL_OPTIONS,
    ),
    "probabilistic": _Method(
        _fit_neural("smile", "probabilistic"),
        False,
        neural=True,
        min_chunk=200,
        options=_NEURAL_OPTIONS,
    ),
}
"""Estimators available to :func:`mutual_information`, by name."""


def _check_levels(levels: Sequence[int], n: int, min_chunk: int) -> tuple[int, ...]:
    lv = sorted({int(v) for v in levels}, reverse=True)
    if not lv or lv[-1] != 1 or any(v < 1 for v in lv):
        raise ValidationError(
            f"levels must be positive integers including 1 (the full sample); got {levels!r}"
        )
    if n < min_chunk:
        raise TooFewSamplesError(f"this estimator needs at least {min_chunk} samples; got {n}")
    # Drop subsample levels whose chunks would be too small for the estimator.
    return tuple(v for v in lv if n // v >= min_chunk)


def mutual_information(
    X: Any,
    Y: Any,
    method: str = "ksg",
    *,
    ci: float | None = 0.95,
    units: str = "nats",
    random_state: Any = None,
    levels: Sequence[int] = (8, 4, 2, 1),
    n_repeats: int | None = None,
    bias_correction: bool = True,
    interval: str = "auto",
    jackknife_groups: int = 10,
    n_resamples: int = 200,
    warn: bool = True,
    verbose: bool = False,
    **options: Any,
) -> Estimate:
    """Estimate I(X;Y) with a confidence interval and consistency diagnostics.

    **Protocol** (after Abdelaleem, Martini & Nemenman 2025).

    1. *Nested subsamples.* A random permutation of the samples is cut into γ disjoint
       chunks of size N/γ for every γ in ``levels`` (8, 4, 2, 1: subsamples of N/8, N/4,
       N/2 and N), and the estimator is run on every chunk (``n_repeats`` permutations;
       classifier and neural estimators, which are expensive and random, use one chunk per
       level).
    2. *Extrapolation in 1/N.* Finite-sample bias behaves as a/s to first order. ``a`` is
       the weighted least-squares slope of the chunk estimates against 1/s (weights ∝ s,
       since Var Î(s) ∝ 1/s), and the reported value is ``Î(N) - a/N``
       (``bias_correction=True``): the line's intercept at 1/s = 0, anchored at the
       full-sample estimate.
    3. *Standard error.* ``interval="jackknife"`` (the default for the deterministic
       estimators: kNN, Gaussian, binned) deletes each of ``jackknife_groups`` random
       groups in turn and uses the delete-a-group jackknife variance, which measures the
       variance at (almost) the full sample size and errs on the large side (Efron–Stein).
       ``interval="subsampling"`` instead scales the spread of the chunk estimates,
       Var Î(N) ≈ (s/N) Var Î(s), pooled over levels (cheaper, but kNN variances shrink
       faster than 1/s at small s, so it runs a little narrow); classifier and neural
       estimators always use their held-out standard error. ``interval="bootstrap"`` is a
       percentile bootstrap of the full-sample estimate (only for ``"gaussian"`` and
       ``"binned"``: duplicated rows corrupt kNN counts, cross-validation folds and
       held-out splits).
    4. *Interval.* ``value ± q · se`` with ``se² = se_sampling² + Var(â)/N² + (a/N)²``: the
       1/N law is only a first-order model of the bias, so the correction's own size is
       counted as uncertainty. ``q`` is a Student-t quantile (jackknife: groups - 1 degrees
       of freedom; subsampling: the pooled degrees of freedom) or normal (held-out).
    5. *Warnings* (:class:`~subspacekit.errors.UntrustworthyEstimateWarning`, also listed in
       ``details["warnings"]``): the estimate has not settled (over the levels N/4, N/2, N
       it still changes per doubling of the sample size by more than twice its noise and
       more than 5 % or 0.02 nats); it exceeds log N,
       which kNN and contrastive estimators cannot resolve; an InfoNCE estimate sits at its
       log(batch) ceiling; a neural critic's training estimate runs away from its held-out
       estimate (overfitting).

    Parameters
    ----------
    X : array of shape (n_samples, dim_x) or (n_samples,)
        First variable (torch tensors accepted).
    Y : array of shape (n_samples, dim_y) or (n_samples,)
        Second variable; class labels for ``method="classifier"``.
    method : str
        One of ``METHODS``: ``"ksg"`` (= ``"ksg1"``), ``"ksg2"``, ``"mixed"`` (Gao et al.),
        ``"gaussian"``, ``"binned"``, ``"classifier"`` (discrete Y), and the neural bounds
        ``"infonce"``, ``"nwj"``, ``"mine"``, ``"smile"``, ``"probabilistic"`` (SMILE with
        a variational-information-bottleneck critic); neural methods need torch.
    ci : float or None
        Confidence level of the interval (default 0.95); None: point estimate only, no
        subsampling.
    units : {"nats", "bits"}
        Units of the result (nats: natural logarithm).
    random_state : int, RandomState or None
        Seed of the permutations, jitter, folds and network initialisations.
    levels : sequence of int
        Subsample denominators γ (must include 1). Levels whose chunks would fall below the
        estimator's minimum size are dropped (recorded in the details).
    n_repeats : int, optional
        Number of random permutations cutting the nested subsamples (default 1).
    bias_correction : bool
        Report the 1/N-extrapolated value (default) or the raw full-sample estimate.
    interval : {"auto", "jackknife", "subsampling", "bootstrap"}
        How the standard error is obtained (see above); ``"auto"``: jackknife for
        deterministic estimators, held-out errors for classifier and neural ones.
    jackknife_groups : int
        Number of delete-a-group jackknife groups (default 10).
    n_resamples : int
        Bootstrap resamples for ``interval="bootstrap"``.
    warn : bool
        Emit warnings (they are always recorded in ``details["warnings"]``).
    verbose : bool
        Show a progress bar over the fits.
    **options
        Passed to the estimator, e.g. ``n_neighbors`` for kNN methods, ``n_bins``,
        ``classifier``, ``cv``, or the :class:`~subspacekit.measure.mi_neural.NeuralMIEstimator`
        parameters (``hidden_sizes``, ``batch_size``, ``max_steps``, ...).

    Returns
    -------
    Estimate
        ``value`` (float() converts), ``ci``, ``stderr``, ``method``, ``n``, ``unit``; the
        ``details`` hold the raw full-sample estimate, the per-level estimates, the
        extrapolation slope and correction, the degrees of freedom, the diagnostics and the
        warnings.

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
    >>> X, Y = CorrelatedGaussian([0.8, 0.5]).sample(2000, random_state=0)
    >>> est = mutual_information(X, Y, method="ksg", random_state=0)
    >>> est.covers(0.6547), est.details["settled"]
    (True, True)
    >>> round(float(mutual_information(X, Y, "gaussian", ci=None, units="bits")), 2)
    0.97
    """
    check_in(method, tuple(METHODS), "method")
    spec = METHODS[method]
    check_in(units, ("nats", "bits"), "units")
    check_in(interval, ("auto", "jackknife", "subsampling", "bootstrap"), "interval")
    if ci is not None and not 0 < ci < 1:
        raise ValidationError(f"ci must be a level in (0, 1) or None; got {ci!r}")
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise ValidationError(
            f"unknown option(s) {unknown} for method={method!r}; allowed: {list(spec.options)}"
        )
    if interval == "auto":
        interval = "jackknife" if spec.deterministic else "subsampling"
    if interval == "bootstrap" and not spec.bootstrap_ok:
        raise ValidationError(
            f"interval='bootstrap' is not valid for method={method!r}: resampling with "
            "replacement duplicates rows, which corrupts neighbour counts, cross-validation "
            "folds and held-out splits; use interval='jackknife' or 'subsampling'"
        )
    if interval == "jackknife" and not spec.deterministic:
        raise ValidationError(
            f"interval='jackknife' is not available for method={method!r} (a random, costly "
            "fit per group); its held-out standard error is used with interval='subsampling'"
        )
    if int(jackknife_groups) != jackknife_groups or jackknife_groups < 3:
        raise ValidationError(f"jackknife_groups must be an integer >= 3; got {jackknife_groups!r}")

    X = _as_columns(X, "X")
    _check_not_constant(X, "X")
    if spec.discrete_y:
        Y = _check_labels(Y, X.shape[0])
    else:
        Y = _as_columns(Y, "Y")
        check_consistent_samples(X, Y, names=["X", "Y"])
        _check_not_constant(Y, "Y")
    n = X.shape[0]
    rng = check_random_state(random_state)
    scale = 1.0 if units == "nats" else 1.0 / LOG2

    def fit(rows: np.ndarray | None) -> _LevelFit:
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if rows is None:
            return spec.fit(X, Y, seed, **options)
        return spec.fit(X[rows], Y[rows], seed, **options)

    full = fit(None)
    messages: list[str] = []
    details: dict[str, Any] = {
        "raw_value": full.value * scale,
        "estimator_options": dict(options),
        "interval": interval if ci is not None else None,
    }
    details.update({k: v for k, v in full.info.items() if k != "warnings"})
    _collect_estimator_warnings(full, messages)

    if ci is None:
        value, lo_hi, se, dof = full.value, None, full.stderr, None
        details["settled"] = None
    else:
        used_levels = _check_levels(levels, n, spec.min_chunk)
        if len(used_levels) < 3:
            raise TooFewSamplesError(
                f"the consistency protocol needs at least 3 subsample levels with chunks of "
                f">= {spec.min_chunk} samples; with n={n} only {list(used_levels)} fit "
                "(use ci=None for a point estimate)"
            )
        repeats = 1 if n_repeats is None else int(n_repeats)
        if repeats < 1:
            raise ValidationError(f"n_repeats must be >= 1; got {n_repeats!r}")
        per_level_chunks = None if spec.deterministic else 1
        records = _run_levels(fit, full, n, used_levels, repeats, per_level_chunks, rng, verbose)
        sampling_se, dof = None, None
        if interval == "jackknife":
            sampling_se, dof = _jackknife_se(fit, n, int(jackknife_groups), rng, verbose)
        elif interval == "bootstrap":
            sampling_se, dof = _bootstrap_se(spec, X, Y, options, n_resamples, rng), None
        summary = _summarize(records, full, n, bias_correction, sampling_se, dof)
        value, se, dof = summary["value"], summary["stderr"], summary["dof"]
        q = stats.t.ppf(0.5 + ci / 2, dof) if dof is not None else stats.norm.ppf(0.5 + ci / 2)
        lo_hi = (value - q * se, value + q * se)
        details.update(
            {
                "levels": [
                    {**lv, "mean": lv["mean"] * scale, "values": [v * scale for v in lv["values"]]}
                    for lv in summary["levels"]
                ],
                "dropped_levels": sorted(set(levels) - set(used_levels), reverse=True),
                "n_repeats": repeats,
                "slope": summary["slope"] * scale,
                "bias_correction": summary["correction"] * scale,
                "sampling_stderr": summary["sampling_se"] * scale,
                "dof": dof,
                "change_per_doubling": summary["change_per_doubling"] * scale,
                "settled": summary["settled"],
            }
        )
        if not summary["settled"]:
            messages.append(summary["settle_message"])
        for _, _, rec in records[1:]:
            _collect_estimator_warnings(rec, messages)

    if value > math.log(n):
        messages.append(
            f"estimate {value:.3f} nats exceeds log(n) = {math.log(n):.3f}: with {n} samples, "
            "kNN and contrastive estimators cannot resolve mutual information this large"
        )
    messages = list(dict.fromkeys(messages))
    details["warnings"] = messages
    if warn:
        for msg in messages:
            warnings.warn(msg, UntrustworthyEstimateWarning, stacklevel=2)
    return Estimate(
        value=float(value) * scale,
        ci=None if lo_hi is None else (float(lo_hi[0]) * scale, float(lo_hi[1]) * scale),
        stderr=None if se is None else float(se) * scale,
        method=method,
        n=n,
        confidence=ci,
        unit=units,
        details=details,
    )


def _collect_estimator_warnings(fit: _LevelFit, messages: list[str]) -> None:
    for msg in fit.info.get("warnings", ()):
        messages.append(msg)


def _run_levels(
    fit: Callable[[np.ndarray | None], _LevelFit],
    full: _LevelFit,
    n: int,
    levels: tuple[int, ...],
    repeats: int,
    per_level_chunks: int | None,
    rng: np.random.RandomState,
    verbose: bool,
) -> list[tuple[int, int, _LevelFit]]:
    """Fit every chunk; returns (chunk size, repeat index, fit) records, full sample first."""
    from subspacekit.core.progress import progress

    jobs: list[tuple[int, np.ndarray]] = []
    for r in range(repeats):
        perm = rng.permutation(n)
        for gamma in levels:
            if gamma == 1:
                continue
            chunks = np.array_split(perm, gamma)
            jobs.extend((r, chunk) for chunk in chunks[: per_level_chunks or gamma])
    records: list[tuple[int, int, _LevelFit]] = [(n, -1, full)]
    for r, chunk in progress(jobs, verbose=verbose, desc="MI subsamples", total=len(jobs)):
        records.append((chunk.size, r, fit(np.sort(chunk))))
    return records


def _jackknife_se(
    fit: Callable[[np.ndarray | None], _LevelFit],
    n: int,
    groups: int,
    rng: np.random.RandomState,
    verbose: bool,
) -> tuple[float, int]:
    """Delete-a-group jackknife standard error: sqrt((G-1)/G Σ (θ_(g) - θ̄)²)."""
    from subspacekit.core.progress import progress

    parts = np.array_split(rng.permutation(n), groups)
    keep = np.ones(n, dtype=bool)
    values = []
    for part in progress(parts, verbose=verbose, desc="MI jackknife", total=groups):
        keep[part] = False
        values.append(fit(np.flatnonzero(keep)).value)
        keep[part] = True
    theta = np.asarray(values)
    if not np.all(np.isfinite(theta)):
        raise ValidationError("the estimator returned a non-finite value on a jackknife sample")
    return float(math.sqrt((groups - 1) / groups * np.sum((theta - theta.mean()) ** 2))), groups - 1


def _bootstrap_se(
    spec: _Method,
    X: np.ndarray,
    Y: np.ndarray,
    options: dict[str, Any],
    n_resamples: int,
    rng: np.random.RandomState,
) -> float:
    def statistic(rows: np.ndarray) -> float:
        try:
            return spec.fit(X[rows], Y[rows], 0, **options).value
        except ValidationError:  # a resample with a constant column
            return math.nan

    _, se, _ = bootstrap_interval(statistic, X.shape[0], n_resamples=n_resamples, random_state=rng)
    return se


def _summarize(
    records: list[tuple[int, int, _LevelFit]],
    full: _LevelFit,
    n: int,
    bias_correction: bool,
    sampling_se: float | None,
    sampling_dof: int | None,
) -> dict[str, Any]:
    sizes = np.array([s for s, _, _ in records], dtype=float)
    values = np.array([f.value for _, _, f in records], dtype=float)
    repeat = np.array([r for _, r, _ in records])
    if not np.all(np.isfinite(values)):
        raise ValidationError(
            "the estimator returned a non-finite value on a subsample (e.g. perfectly "
            "dependent data for method='gaussian'); use ci=None"
        )

    # Variance model Var Î(s) ≈ c / s, c pooled from the spread within each level, or
    # from each fit's own held-out standard error when there is one chunk per level.
    ss, pooled_dof = 0.0, 0
    for size in np.unique(sizes[repeat >= 0]):
        for r in np.unique(repeat[repeat >= 0]):
            group = (sizes == size) & (repeat == r)
            if group.sum() >= 2:
                v = values[group]
                ss += float(np.sum((v - v.mean()) ** 2) * sizes[group].mean())
                pooled_dof += int(group.sum()) - 1
    if pooled_dof > 0:
        variances = (ss / pooled_dof) / sizes
        dof: int | None = pooled_dof
    else:
        errs = np.array([f.stderr if f.stderr is not None else np.nan for _, _, f in records])
        if not np.all(np.isfinite(errs)):
            raise ValidationError("cannot estimate the sampling variance of this estimator")
        variances = np.maximum(errs**2, 1e-12)
        dof = None
    if sampling_se is not None:
        base_se, dof = float(sampling_se), sampling_dof
    else:
        base_se = math.sqrt(float(variances[0]))

    # Weighted least squares of Î on 1/s: Î = I_∞ + a / s. Chunks at different levels
    # share samples; treating them as independent overstates Var(â), i.e. errs wide.
    x = 1.0 / sizes
    w = 1.0 / variances
    xbar = np.sum(w * x) / np.sum(w)
    ybar = np.sum(w * values) / np.sum(w)
    sxx = float(np.sum(w * (x - xbar) ** 2))
    slope = float(np.sum(w * (x - xbar) * (values - ybar)) / sxx) if sxx > 0 else 0.0
    var_slope = 1.0 / sxx if sxx > 0 else 0.0
    correction = -slope / n if bias_correction else 0.0
    value = full.value + correction
    se = math.sqrt(base_se**2 + (var_slope / n**2 + correction**2 if bias_correction else 0.0))

    levels_out: list[dict[str, Any]] = []
    for size in sorted(np.unique(sizes)):
        sel = sizes == size
        levels_out.append(
            {
                "size": int(size),
                "n_chunks": int(sel.sum()),
                "mean": float(values[sel].mean()),
                "values": [float(v) for v in values[sel]],
            }
        )
    # Settledness: the change per doubling of the sample size over the top three levels
    # (N/4, N/2, N), i.e. the least-squares slope of the level means on log2(size).
    # Its noise is approximated by that of the N/4 level mean, halved (the levels share
    # samples, so their difference is less noisy than either).
    top = levels_out[-3:]
    log_sizes = np.log2([lv["size"] for lv in top])
    means = np.array([lv["mean"] for lv in top])
    per_doubling = float(np.polyfit(log_sizes, means, 1)[0]) if len(top) >= 2 else 0.0
    lowest = sizes == top[0]["size"]
    noise = 0.5 * math.sqrt(float(np.mean(variances[lowest])) / lowest.sum())
    tolerance = max(0.05 * abs(full.value), 0.02)
    settled, message = True, ""
    if abs(per_doubling) > 2 * noise and abs(per_doubling) > tolerance:
        settled = False
        message = (
            f"the estimate has not settled: it still changes by {per_doubling:+.3f} nats per "
            f"doubling of the sample size (tolerance {tolerance:.3f}, noise {noise:.3f}) and "
            "the 1/n extrapolation cannot be trusted to remove the bias; more samples, a "
            "lower-dimensional representation or another estimator are needed"
        )
    return {
        "value": value,
        "stderr": se,
        "sampling_se": base_se,
        "dof": dof,
        "slope": slope,
        "correction": correction,
        "levels": levels_out,
        "settled": settled,
        "settle_message": message,
        "change_per_doubling": per_doubling,
    }
