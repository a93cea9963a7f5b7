r"""Rank selection rules: how many principal directions stand out of the noise.

All rules take data (samples in rows) or the eigenvalues of its covariance and return
an ``int``; the random-matrix quantities they rest on (Marchenko–Pastur edge and median,
Tracy–Widom threshold, noise level) come from :mod:`subspacekit.estimate.rmt`.

* :func:`mp_rank` — eigenvalues above the MP edge (plus a Tracy–Widom margin), noise
  level from the median eigenvalue matched to the MP median;
* :func:`gavish_donoho_rank` — the optimal hard threshold of Gavish & Donoho (2014) for
  singular values, with known or unknown noise;
* :func:`parallel_analysis_rank` — Horn's parallel analysis with column permutations
  (Buja & Eyuboglu 1992);
* :func:`bbp_rank` — sequential Tracy–Widom tests of the spiked model with the
  Kritchman & Nadler (2009) noise estimator, which corrects the noise level for the
  variance the detected spikes took from the bulk.

Every rule is scale-free: data are brought to unit scale before their spectrum is
taken, so 1e-160 or 1e160 times a matrix has the matrix's rank.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> basis = np.linalg.qr(rng.standard_normal((50, 3)))[0]
>>> X = rng.standard_normal((400, 3)) * [3.0, 2.5, 2.0] @ basis.T + rng.standard_normal((400, 50))
>>> mp_rank(X), gavish_donoho_rank(X), bbp_rank(X), select_rank(X, "parallel", random_state=0)
(3, 3, 3, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from subspacekit.core.linalg import constant_columns, identical_rows
from subspacekit.core.validation import (
    check_array,
    check_in,
    check_int,
    check_positive,
    check_probability,
    check_random_state,
)
from subspacekit.errors import ValidationError
from subspacekit.estimate.rmt import (
    covariance_spectrum,
    estimate_noise_variance,
    gram_svd,
    marchenko_pastur_median,
    tracy_widom_threshold,
)

__all__ = [
    "RANK_RULES",
    "bbp_rank",
    "gavish_donoho_rank",
    "gavish_donoho_threshold",
    "kritchman_nadler_noise_variance",
    "mp_rank",
    "parallel_analysis_rank",
    "select_rank",
]

RANK_RULES = ("mp", "gavish-donoho", "parallel", "bbp")


def _spectrum_input(
    X_or_eigenvalues: Any, n_samples: int | None, center: bool
) -> tuple[np.ndarray, int, int, float]:
    """(descending eigenvalues of length d, degrees of freedom, d, unit) from data or eigenvalues.

    Data are divided by their largest magnitude ``unit`` first (the eigenvalues are then
    those of ``X / unit``; a noise level given in data units must be divided by ``unit``).
    """
    arr = check_array(X_or_eigenvalues, "X_or_eigenvalues", ndim=(1, 2))
    if arr.ndim == 2:
        if n_samples is not None:
            raise ValidationError(
                "n_samples is only used with a 1-D array of eigenvalues; got it with a 2-D X"
            )
        peak = float(np.max(np.abs(arr))) if arr.size else 0.0
        unit = peak if peak > 0 else 1.0
        lam, dof = covariance_spectrum(arr / unit, center=center)
        if center and identical_rows(arr, consequence="the covariance is zero (rank 0)"):
            # Centring leaves only rounding residue, which a relative rule would rank.
            lam = np.zeros_like(lam)
        return lam, dof, arr.shape[1], unit
    if n_samples is None:
        raise ValidationError(
            "a 1-D array of covariance eigenvalues needs n_samples (its degrees of freedom)"
        )
    lam = np.sort(arr.astype(np.float64))[::-1]
    scale = float(np.abs(lam).max(initial=0.0))
    if lam[-1] < -1e-8 * scale:
        raise ValidationError(
            f"covariance eigenvalues must be non-negative; got minimum {lam[-1]:.3g}"
        )
    n = check_int(n_samples, "n_samples", low=1)
    return np.clip(lam, 0.0, None), n, lam.size, 1.0


# --------------------------------------------------------------------------- MP edge
def mp_rank(
    X_or_eigenvalues: Any,
    n_samples: int | None = None,
    *,
    noise_variance: float | None = None,
    alpha: float | None = 0.01,
    center: bool = True,
) -> int:
    r"""Number of covariance eigenvalues above the Marchenko–Pastur bulk edge.

    The threshold is :math:`\hat\sigma^2 (\mu_{m,d} + s_{1-\alpha}\,\sigma_{m,d})/m`,
    Johnstone's Tracy–Widom centring and scaling for the largest noise eigenvalue
    (:func:`~subspacekit.estimate.rmt.tracy_widom_threshold`), so a pure-noise matrix
    gives rank 0 with probability about ``1 - alpha``. ``alpha=None`` uses the bare edge
    :math:`\hat\sigma^2(1+\sqrt{d/m})^2`.

    Parameters
    ----------
    X_or_eigenvalues : array-like of shape (n, d), or (d,) covariance eigenvalues
        Data (samples in rows) or the eigenvalues of its covariance.
    n_samples : int, optional
        Degrees of freedom of the covariance; required with eigenvalues.
    noise_variance : float, optional
        Known :math:`\sigma^2`; estimated with
        :func:`~subspacekit.estimate.rmt.estimate_noise_variance` otherwise.
    alpha : float or None
        False-positive rate of the Tracy–Widom margin.
    center : bool
        Centre the data before computing the covariance.

    Returns
    -------
    int

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> mp_rank(rng.standard_normal((500, 40)))
    0
    """
    lam, m, d, unit = _spectrum_input(X_or_eigenvalues, n_samples, center)
    sigma2 = (
        estimate_noise_variance(lam, m, d)
        if noise_variance is None
        else check_positive(noise_variance, "noise_variance") / unit / unit
    )
    threshold = sigma2 * tracy_widom_threshold(m, d, alpha)
    return int((lam > threshold).sum())


# --------------------------------------------------------------------------- Gavish-Donoho
def gavish_donoho_threshold(aspect_ratio: float, *, noise_known: bool = True) -> float:
    r"""Gavish–Donoho optimal hard-threshold coefficient.

    For an :math:`m \times N` matrix (:math:`\beta = m/N \le 1`) with noise of standard
    deviation :math:`\sigma` per entry, singular values above
    :math:`\lambda^*(\beta)\sqrt N \sigma` are kept, with
    :math:`\lambda^*(\beta) = \sqrt{2(\beta+1) + 8\beta/(\beta+1+\sqrt{\beta^2+14\beta+1})}`.
    With unknown noise the threshold is :math:`\omega(\beta)\, y_{med}` with
    :math:`\omega(\beta) = \lambda^*(\beta)/\sqrt{\mu_\beta}`, :math:`\mu_\beta` the MP median.

    Examples
    --------
    >>> round(gavish_donoho_threshold(1.0), 4)  # 4 / sqrt(3)
    2.3094
    >>> round(gavish_donoho_threshold(1.0, noise_known=False), 3)
    2.858
    """
    beta = check_positive(aspect_ratio, "aspect_ratio")
    if beta > 1.0:
        raise ValidationError(f"aspect_ratio must lie in (0, 1]; got {beta}")
    lam_star = np.sqrt(
        2.0 * (beta + 1.0) + 8.0 * beta / (beta + 1.0 + np.sqrt(beta**2 + 14 * beta + 1))
    )
    if noise_known:
        return float(lam_star)
    return float(lam_star / np.sqrt(marchenko_pastur_median(beta)))


def gavish_donoho_rank(
    X: Any,
    noise_sigma: float | None = None,
    *,
    n_samples: int | None = None,
    center: bool = True,
) -> int:
    r"""Rank from the Gavish–Donoho optimal hard threshold on singular values.

    The (centred) data matrix has :math:`m` effective rows (``n - 1`` after centring) and
    ``d`` columns; with :math:`\beta = \min(m, d)/\max(m, d)` the singular values kept are
    those above :math:`\lambda^*(\beta)\sqrt{\max(m, d)}\,\sigma` (known per-entry noise
    ``noise_sigma``) or above :math:`\omega(\beta)\,y_{med}` (unknown noise).

    Parameters
    ----------
    X : array-like of shape (n, d), or (d,) covariance eigenvalues
        Data, or eigenvalues together with ``n_samples`` (singular values are then
        :math:`\sqrt{m\lambda}`).
    noise_sigma : float, optional
        Standard deviation of the noise per entry.
    n_samples : int, optional
        Degrees of freedom when eigenvalues are given.
    center : bool
        Centre the data first.

    Returns
    -------
    int

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> gavish_donoho_rank(rng.standard_normal((300, 60)), noise_sigma=1.0)
    0
    """
    lam, m, d, unit = _spectrum_input(X, n_samples, center)
    small, large = min(m, d), max(m, d)
    beta = small / large
    singular = np.sqrt(lam[:small] * m)
    if noise_sigma is None:
        median = float(np.median(singular))
        if median <= 0:
            raise ValidationError(
                "the median singular value is zero, so the noise level cannot be estimated; "
                "pass noise_sigma"
            )
        tau = gavish_donoho_threshold(beta, noise_known=False) * median
    else:
        sigma = check_positive(noise_sigma, "noise_sigma") / unit
        tau = gavish_donoho_threshold(beta) * np.sqrt(large) * sigma
    return int((singular > tau).sum())


# --------------------------------------------------------------------------- BBP
def kritchman_nadler_noise_variance(
    eigenvalues: np.ndarray, n_spikes: int, n_samples: int, n_features: int, *, n_iter: int = 30
) -> float:
    r"""Noise variance given ``n_spikes`` spikes, corrected for the variance they took from the bulk.

    Kritchman & Nadler (2009): the mean of the bulk eigenvalues underestimates
    :math:`\sigma^2`, because each spike's sample eigenvalue :math:`\lambda_j` exceeds its
    population value :math:`\rho_j`, which solves
    :math:`\lambda_j = \rho_j\,(1 + \gamma\sigma^2/(\rho_j - \sigma^2))` with
    :math:`\gamma = (d-k)/m`. The estimate
    :math:`\sigma^2 = \big(\sum_{j>k}\lambda_j + \sum_{j\le k}(\lambda_j - \rho_j)\big)/(d-k)`
    adds that excess back to the bulk, iterated to a fixed point.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n_features,)
        Covariance eigenvalues, descending.
    n_spikes, n_samples, n_features : int
        ``k``, degrees of freedom ``m`` and dimension ``d``.

    Examples
    --------
    >>> kritchman_nadler_noise_variance(np.ones(10), 0, 100, 10)
    1.0
    """
    lam, k, m, d = eigenvalues, int(n_spikes), int(n_samples), int(n_features)
    sigma2 = float(lam[k:].mean()) if k < d else 0.0
    if k == 0 or sigma2 <= 0:
        return sigma2
    spikes = lam[:k]
    for _ in range(n_iter):
        b = spikes + sigma2 - sigma2 * (d - k) / m
        disc = np.maximum(b**2 - 4.0 * spikes * sigma2, 0.0)
        population = (b + np.sqrt(disc)) / 2.0
        new = float((lam[k:].sum() + (spikes - population).sum()) / (d - k))
        if abs(new - sigma2) <= 1e-10 * sigma2:
            return new
        sigma2 = max(new, 1e-300)
    return sigma2


def bbp_rank(
    X_or_eigenvalues: Any,
    n_samples: int | None = None,
    *,
    noise_variance: float | None = None,
    alpha: float = 0.01,
    center: bool = True,
) -> int:
    r"""Number of detectable spikes: sequential Tracy–Widom tests of the spiked model.

    A population spike :math:`\ell` (signal variance in units of :math:`\sigma^2`) is
    visible in the sample spectrum only above the BBP transition :math:`\ell > \sqrt\gamma`.
    For :math:`k = 1, 2, \dots` the ``k``-th eigenvalue is tested against the Tracy–Widom
    threshold at level ``alpha`` with the noise level re-estimated under ``k - 1`` spikes
    by Kritchman & Nadler's (2009) estimator (:func:`kritchman_nadler_noise_variance`,
    which removes the bias that spikes put on the bulk's mean); the rank is the number
    of tests passed before the first failure.

    Parameters
    ----------
    X_or_eigenvalues : array-like of shape (n, d), or (d,) covariance eigenvalues
        Data or covariance eigenvalues (then ``n_samples`` is required). Eigenvalue input
        must include the zero eigenvalues when ``d > n_samples``.
    n_samples : int, optional
        Degrees of freedom of the covariance.
    noise_variance : float, optional
        Known :math:`\sigma^2` (no re-estimation).
    alpha : float
        Level of each test.
    center : bool
        Centre the data first.

    Returns
    -------
    int

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> bbp_rank(rng.standard_normal((500, 40)))
    0
    """
    lam, m, d, unit = _spectrum_input(X_or_eigenvalues, n_samples, center)
    threshold = tracy_widom_threshold(m, d, alpha)
    known = None
    if noise_variance is not None:
        known = check_positive(noise_variance, "noise_variance") / unit / unit
    limit = min(m, d) - 1
    for k in range(limit):
        sigma2 = known if known is not None else kritchman_nadler_noise_variance(lam, k, m, d)
        if sigma2 <= 0 or lam[k] <= sigma2 * threshold:
            return k
    return max(limit, 0)


# --------------------------------------------------------------------------- permutations
def parallel_analysis_rank(
    X: Any,
    n_permutations: int = 20,
    quantile: float = 0.95,
    random_state: Any = None,
    *,
    standardize: bool = False,
) -> int:
    r"""Horn's parallel analysis with column permutations (Buja & Eyuboglu 1992).

    Permuting each column independently destroys the dependence between features while
    keeping each feature's distribution. The ``k``-th covariance eigenvalue of ``X`` is
    significant if it exceeds the ``quantile`` of the ``k``-th eigenvalue over
    ``n_permutations`` permuted copies; the rank is the number of leading significant
    eigenvalues.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Data, samples in rows (at least 3 rows and 2 columns).
    n_permutations : int
        Number of permuted copies.
    quantile : float
        Quantile of the permutation null (``1 - quantile`` is the false-positive rate of
        the first test).
    random_state : int, RandomState or None
        Seed of the permutations.
    standardize : bool
        Work with the correlation matrix instead of the covariance (constant features
        then raise :class:`~subspacekit.errors.ValidationError`).

    Returns
    -------
    int

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> parallel_analysis_rank(rng.standard_normal((300, 20)), random_state=0)
    0
    """
    A = check_array(X, "X", min_samples=3, min_features=2).astype(np.float64, copy=True)
    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    quantile = check_probability(quantile, "quantile")
    rng = check_random_state(random_state)
    if identical_rows(A, owner="parallel_analysis_rank", consequence="its rank is 0"):
        return 0
    constant = constant_columns(A)
    if standardize and constant.any():
        raise ValidationError(
            f"standardize=True needs non-constant features; {int(constant.sum())} of the "
            f"{A.shape[1]} are constant"
        )
    peak = float(np.max(np.abs(A)))
    if peak > 0:
        A /= peak  # the rank does not depend on the unit; the spectrum is accurate at unit scale
    A -= A.mean(axis=0)
    if standardize:
        A /= np.sqrt((A**2).sum(axis=0))
    observed = gram_svd(A, vectors=False)[0]
    null = np.empty((n_permutations, observed.size))
    permuted = np.empty_like(A)
    for b in range(n_permutations):
        for j in range(A.shape[1]):
            permuted[:, j] = A[rng.permutation(A.shape[0]), j]
        null[b] = gram_svd(permuted, vectors=False)[0]
    limit = np.quantile(null, quantile, axis=0)
    above = observed > limit
    return int(above.size if above.all() else np.argmin(above))


# --------------------------------------------------------------------------- dispatch
_RULES: dict[str, Callable[..., int]] = {
    "mp": mp_rank,
    "gavish-donoho": gavish_donoho_rank,
    "parallel": parallel_analysis_rank,
    "bbp": bbp_rank,
}


def select_rank(X: Any, rule: str, **kwargs: Any) -> int:
    """Rank of the signal in ``X`` by a named rule.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Data (1-D covariance eigenvalues with ``n_samples=...`` work for every rule but
        ``"parallel"``).
    rule : {"mp", "gavish-donoho", "parallel", "bbp"}
        :func:`mp_rank`, :func:`gavish_donoho_rank`, :func:`parallel_analysis_rank` or
        :func:`bbp_rank`.
    **kwargs
        Passed to the rule.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> select_rank(rng.standard_normal((400, 30)), "gavish-donoho")
    0
    """
    check_in(rule, RANK_RULES, "rule")
    return _RULES[rule](X, **kwargs)
