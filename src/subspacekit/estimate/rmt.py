r"""Rank selection by random-matrix theory, and EigenShield's causal/correlational split.

Model: the rows of ``X`` are :math:`x = \mu + \sum_{j\le r} \sqrt{\ell_j}\,\sigma z_j u_j
+ \sigma \varepsilon` with isotropic noise of variance :math:`\sigma^2` per feature.
Without signal the eigenvalues of the sample covariance (``d`` features, ``m``
degrees of freedom, aspect ratio :math:`\gamma = d/m`) fill the Marchenko–Pastur
bulk :math:`[\sigma^2(1-\sqrt\gamma)^2, \sigma^2(1+\sqrt\gamma)^2]`; a spike
:math:`\ell > \sqrt\gamma` (the BBP transition) pops out of it at
:math:`\sigma^2(1+\ell)(1+\gamma/\ell)`. The largest noise eigenvalue fluctuates on the
scale :math:`m^{-2/3}` with the Tracy–Widom law :math:`F_1`, which gives the rank tests
a false-positive rate ``alpha``.

Rules (all return an ``int``):

* :func:`mp_rank` — eigenvalues above the MP edge (plus a Tracy–Widom margin), noise
  level from the median eigenvalue matched to the MP median;
* :func:`gavish_donoho_rank` — the optimal hard threshold of Gavish & Donoho (2014) for
  singular values, with known or unknown noise;
* :func:`parallel_analysis_rank` — Horn's parallel analysis with column permutations
  (Buja & Eyuboglu 1992);
* :func:`bbp_rank` — sequential Tracy–Widom tests of the spiked model with the
  Kritchman & Nadler (2009) noise estimator, which corrects the noise level for the
  variance the detected spikes took from the bulk.

:func:`spiked_components` returns the spikes above the MP edge; EigenShield's causal
split of them lives with the detector, in :mod:`subspacekit.detect.eigenshield`.

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

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate, optimize, special

from subspacekit.core.validation import (
    check_array,
    check_in,
    check_positive,
    check_probability,
    check_random_state,
)
from subspacekit.errors import (
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = [
    "RANK_RULES",
    "SpikedSpectrum",
    "bbp_rank",
    "covariance_spectrum",
    "estimate_noise_variance",
    "gavish_donoho_rank",
    "gavish_donoho_threshold",
    "marchenko_pastur_edge",
    "marchenko_pastur_median",
    "mp_edge",
    "mp_rank",
    "parallel_analysis_rank",
    "select_rank",
    "spiked_components",
    "tracy_widom_quantile",
]

RANK_RULES = ("mp", "gavish-donoho", "parallel", "bbp")


# --------------------------------------------------------------------------- distributions
def marchenko_pastur_edge(n_samples: int, n_features: int, noise_variance: float = 1.0) -> float:
    r"""Upper edge of the Marchenko–Pastur bulk, :math:`\sigma^2 (1 + \sqrt{d/n})^2`.

    The largest eigenvalue of the sample covariance of ``n_samples`` isotropic noise
    vectors of dimension ``n_features`` and variance ``noise_variance`` converges to it.
    The formula is the same for ``d > n`` (the nonzero eigenvalues then fill the dual
    bulk, whose edge coincides).

    Parameters
    ----------
    n_samples : int
        Degrees of freedom of the covariance (``n - 1`` after centring).
    n_features : int
        Dimension ``d``.
    noise_variance : float
        :math:`\sigma^2`.

    Returns
    -------
    float

    Examples
    --------
    >>> marchenko_pastur_edge(1000, 250)
    2.25
    """
    n, d = _check_sizes(n_samples, n_features)
    s2 = check_positive(noise_variance, "noise_variance")
    return float(s2 * (1.0 + np.sqrt(d / n)) ** 2)


mp_edge = marchenko_pastur_edge


@functools.lru_cache(maxsize=256)
def marchenko_pastur_median(aspect_ratio: float) -> float:
    r"""Median of the Marchenko–Pastur law with ratio :math:`\beta \le 1` and unit variance.

    The density is :math:`\sqrt{(b-x)(x-a)}/(2\pi\beta x)` on
    :math:`[a, b] = [(1-\sqrt\beta)^2, (1+\sqrt\beta)^2]`; the median solves
    :math:`F(x) = 1/2`, computed by quadrature and root finding.

    Examples
    --------
    >>> round(marchenko_pastur_median(1.0), 4)  # Gavish & Donoho's mu_1
    0.6528
    """
    beta = float(aspect_ratio)
    if not 0.0 < beta <= 1.0:
        raise ValidationError(f"aspect_ratio must lie in (0, 1]; got {beta}")
    a, b = (1.0 - np.sqrt(beta)) ** 2, (1.0 + np.sqrt(beta)) ** 2

    def cdf(x: float) -> float:
        # Substituting x = a + (b - a) sin^2(t) removes the square-root end singularities.
        def integrand(t: float) -> float:
            xt = a + (b - a) * np.sin(t) ** 2
            jac = 2.0 * (b - a) * np.sin(t) * np.cos(t)
            return float(np.sqrt(max((b - xt) * (xt - a), 0.0)) / (2.0 * np.pi * beta * xt) * jac)

        upper = np.arcsin(np.sqrt(np.clip((x - a) / (b - a), 0.0, 1.0)))
        return float(integrate.quad(integrand, 0.0, upper, limit=200)[0])

    return float(optimize.brentq(lambda x: cdf(x) - 0.5, a, b, xtol=1e-12))


def _tracy_widom_cdf(s: float, n_nodes: int = 80) -> float:
    # Bornemann (2010): F1(s) = det(I - A_s) on L^2(0, inf) with A_s(u, v) = Ai(s + u + v),
    # discretised by Gauss-Legendre on [0, L]; Ai(s + L) < 1e-20 makes the truncation exact.
    length = max(16.0 - s, 8.0)
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    u = (x + 1.0) * length / 2.0
    sw = np.sqrt(w * length / 2.0)
    kernel = special.airy(s + u[:, None] + u[None, :])[0]
    return float(np.linalg.det(np.eye(n_nodes) - sw[:, None] * kernel * sw[None, :]))


@functools.lru_cache(maxsize=64)
def tracy_widom_quantile(q: float) -> float:
    r"""Quantile of the Tracy–Widom law :math:`F_1` (largest eigenvalue, real case).

    :math:`F_1` is evaluated as a Fredholm determinant (Bornemann 2010) and inverted by
    root finding; accurate to about 1e-8.

    Examples
    --------
    >>> round(tracy_widom_quantile(0.95), 4), round(tracy_widom_quantile(0.99), 4)
    (0.9793, 2.0234)
    """
    q = check_probability(q, "q")
    return float(optimize.brentq(lambda s: _tracy_widom_cdf(s) - q, -9.0, 9.0, xtol=1e-10))


def _tracy_widom_threshold(n_samples: int, n_features: int, alpha: float | None) -> float:
    """Noise-only largest-eigenvalue threshold in units of sigma^2 at level ``alpha``."""
    if alpha is None:
        return float((1.0 + np.sqrt(n_features / n_samples)) ** 2)
    alpha = check_probability(alpha, "alpha")
    # Johnstone's (2001) centring and scaling with the half-sample corrections that
    # make the Tracy-Widom approximation accurate already for tens of samples.
    sn, sd = np.sqrt(n_samples - 0.5), np.sqrt(n_features - 0.5)
    centre = (sn + sd) ** 2
    scale = (sn + sd) * (1.0 / sn + 1.0 / sd) ** (1.0 / 3.0)
    return float((centre + tracy_widom_quantile(1.0 - alpha) * scale) / n_samples)


# --------------------------------------------------------------------------- spectra
def _check_sizes(n_samples: Any, n_features: Any) -> tuple[int, int]:
    n, d = int(n_samples), int(n_features)
    if n < 1:
        raise TooFewSamplesError(f"n_samples must be >= 1; got {n_samples}")
    if d < 1:
        raise ShapeError(f"n_features must be >= 1; got {n_features}")
    return n, d


def _gram_eigh(A: np.ndarray, vectors: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Squared singular values of ``A`` (descending, min(n, d) of them) and right vectors.

    From the symmetric eigendecomposition of the smaller Gram matrix: one GEMM and a
    small ``eigh``, several times cheaper than an SVD of the data. Eigenvalues carry an
    absolute error of about ``d * eps * s_max^2``, far below any noise bulk.
    """
    n, d = A.shape
    if n >= d:
        G = A.T @ A
        if not vectors:
            return np.clip(np.linalg.eigvalsh(G)[::-1], 0.0, None), None
        w, V = np.linalg.eigh(G)
        return np.clip(w[::-1], 0.0, None), V[:, ::-1]
    G = A @ A.T
    if not vectors:
        return np.clip(np.linalg.eigvalsh(G)[::-1], 0.0, None), None
    w, U = np.linalg.eigh(G)
    w, U = np.clip(w[::-1], 0.0, None), U[:, ::-1]
    s = np.sqrt(w)
    V = A.T @ U
    nonzero = s > 0
    V[:, nonzero] /= s[nonzero]
    return w, V


def covariance_spectrum(X: Any, *, center: bool = True) -> tuple[np.ndarray, int]:
    r"""Eigenvalues (descending, length ``d``) of the sample covariance and its degrees of freedom.

    With ``center=True`` the covariance is :math:`\tilde X^\top \tilde X/(n-1)` and the
    degrees of freedom are ``n - 1``; otherwise :math:`X^\top X / n` and ``n``.
    Computed in float64 from the smaller Gram matrix of the (centred) data (absolute
    eigenvalue error about :math:`d\,\epsilon\,\lambda_{max}`).

    Examples
    --------
    >>> lam, dof = covariance_spectrum(np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]]))
    >>> lam.round(6).tolist(), dof
    ([4.0, 0.0], 2)
    """
    A = check_array(X, "X", min_samples=2 if center else 1).astype(np.float64, copy=False)
    n, d = A.shape
    if center:
        A = A - A.mean(axis=0)
    dof = n - 1 if center else n
    squares, _ = _gram_eigh(A, vectors=False)
    lam = np.zeros(d)
    lam[: squares.size] = squares / dof
    return lam, dof


def _spectrum_input(
    X_or_eigenvalues: Any, n_samples: int | None, center: bool
) -> tuple[np.ndarray, int, int]:
    """(descending eigenvalues of length d, degrees of freedom, d) from data or eigenvalues."""
    arr = check_array(X_or_eigenvalues, "X_or_eigenvalues", ndim=(1, 2))
    if arr.ndim == 2:
        if n_samples is not None:
            raise ValidationError(
                "n_samples is only used with a 1-D array of eigenvalues; got it with a 2-D X"
            )
        lam, dof = covariance_spectrum(arr, center=center)
        return lam, dof, arr.shape[1]
    if n_samples is None:
        raise ValidationError(
            "a 1-D array of covariance eigenvalues needs n_samples (its degrees of freedom)"
        )
    lam = np.sort(arr.astype(np.float64))[::-1]
    scale = max(float(np.abs(lam).max(initial=0.0)), 1e-300)
    if lam[-1] < -1e-8 * scale:
        raise ValidationError(
            f"covariance eigenvalues must be non-negative; got minimum {lam[-1]:.3g}"
        )
    n, d = _check_sizes(n_samples, lam.size)
    return np.clip(lam, 0.0, None), n, d


def _mp_bulk_median(n_samples: int, n_features: int) -> float:
    """Median of the nonzero noise eigenvalues in units of sigma^2."""
    if n_features <= n_samples:
        return marchenko_pastur_median(n_features / n_samples)
    # d > n: the n nonzero eigenvalues are (d/n) times an MP(n/d) sample.
    return n_features / n_samples * marchenko_pastur_median(n_samples / n_features)


def estimate_noise_variance(
    eigenvalues: Any, n_samples: int, n_features: int, *, max_iter: int = 20
) -> float:
    r"""Noise variance :math:`\sigma^2` from covariance eigenvalues by matching the MP median.

    The nonzero eigenvalues (at most :math:`\min(n, d)`) of pure noise have median
    :math:`\sigma^2 \cdot \mathrm{med}(MP)`. Spikes would bias that median upwards, so the
    estimate is iterated: eigenvalues above the current edge are set aside and the median
    of the remaining bulk is matched to the MP median of the reduced dimension.

    Parameters
    ----------
    eigenvalues : array-like of shape (n_features,) or (min(n_samples, n_features),)
        Sample-covariance eigenvalues, any order.
    n_samples : int
        Degrees of freedom of the covariance (``n - 1`` after centring).
    n_features : int
        Dimension ``d``.
    max_iter : int
        Maximum number of re-estimations.

    Returns
    -------
    float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> lam, dof = covariance_spectrum(2.0 * rng.standard_normal((2000, 100)))
    >>> round(estimate_noise_variance(lam, dof, 100), 1)
    4.0
    """
    n, d = _check_sizes(n_samples, n_features)
    lam = check_array(eigenvalues, "eigenvalues", ndim=1)
    lam = np.sort(lam.astype(np.float64))[::-1]
    n_nonzero = min(n, d)
    if lam.size < n_nonzero:
        raise ShapeError(
            f"eigenvalues must hold at least min(n_samples, n_features) = {n_nonzero} values; "
            f"got {lam.size}"
        )
    lam = lam[:n_nonzero]
    if lam[0] <= 0:
        raise ValidationError("all eigenvalues are zero: the data have no variance")
    n_spikes = 0
    sigma2 = float(np.median(lam)) / _mp_bulk_median(n, d)
    for _ in range(max_iter):
        edge = sigma2 * (1.0 + np.sqrt(d / n)) ** 2
        # Keep at least half of the spectrum in the bulk: beyond that the model is wrong anyway.
        new_spikes = min(int((lam > edge).sum()), n_nonzero // 2)
        if new_spikes == n_spikes:
            break
        n_spikes = new_spikes
        d_bulk = d - n_spikes
        sigma2 = float(np.median(lam[n_spikes:])) / _mp_bulk_median(n, d_bulk)
    if sigma2 <= 0:
        raise ValidationError(
            "the median eigenvalue is zero: the data are (numerically) low-rank, so no noise "
            "level can be estimated; pass noise_variance explicitly"
        )
    return sigma2


# --------------------------------------------------------------------------- rank rules
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
    Johnstone's Tracy–Widom centring and scaling for the largest noise eigenvalue, so a
    pure-noise matrix gives rank 0 with probability about ``1 - alpha``. ``alpha=None``
    uses the bare edge :math:`\hat\sigma^2(1+\sqrt{d/m})^2`.

    Parameters
    ----------
    X_or_eigenvalues : array-like of shape (n, d), or (d,) covariance eigenvalues
        Data (samples in rows) or the eigenvalues of its covariance.
    n_samples : int, optional
        Degrees of freedom of the covariance; required with eigenvalues.
    noise_variance : float, optional
        Known :math:`\sigma^2`; estimated with :func:`estimate_noise_variance` otherwise.
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
    lam, m, d = _spectrum_input(X_or_eigenvalues, n_samples, center)
    sigma2 = (
        estimate_noise_variance(lam, m, d)
        if noise_variance is None
        else check_positive(noise_variance, "noise_variance")
    )
    threshold = sigma2 * _tracy_widom_threshold(m, d, alpha)
    return int((lam > threshold).sum())


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
    beta = float(aspect_ratio)
    if not 0.0 < beta <= 1.0:
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
    lam, m, d = _spectrum_input(X, n_samples, center)
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
        sigma = check_positive(noise_sigma, "noise_sigma")
        tau = gavish_donoho_threshold(beta) * np.sqrt(large) * sigma
    return int((singular > tau).sum())


def _kritchman_nadler_noise(lam: np.ndarray, k: int, m: int, d: int, n_iter: int = 30) -> float:
    """Noise variance given k spikes, corrected for the variance the spikes took from the bulk."""
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
    by Kritchman & Nadler's (2009) estimator (which removes the bias that spikes put on
    the bulk's mean); the rank is the number of tests passed before the first failure.

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
    lam, m, d = _spectrum_input(X_or_eigenvalues, n_samples, center)
    threshold = _tracy_widom_threshold(m, d, alpha)
    limit = min(m, d) - 1
    for k in range(limit):
        sigma2 = (
            check_positive(noise_variance, "noise_variance")
            if noise_variance is not None
            else _kritchman_nadler_noise(lam, k, m, d)
        )
        if sigma2 <= 0 or lam[k] <= sigma2 * threshold:
            return k
    return limit


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
        Data, samples in rows.
    n_permutations : int
        Number of permuted copies.
    quantile : float
        Quantile of the permutation null (``1 - quantile`` is the false-positive rate of
        the first test).
    random_state : int, RandomState or None
        Seed of the permutations.
    standardize : bool
        Work with the correlation matrix instead of the covariance.

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
    if isinstance(n_permutations, bool) or int(n_permutations) < 1:
        raise ValidationError(f"n_permutations must be a positive integer; got {n_permutations}")
    quantile = check_probability(quantile, "quantile")
    rng = check_random_state(random_state)
    A -= A.mean(axis=0)
    if standardize:
        std = A.std(axis=0)
        if np.any(std == 0):
            raise ValidationError(
                f"standardize=True needs non-constant features; {int((std == 0).sum())} are constant"
            )
        A /= std
    observed = _gram_eigh(A, vectors=False)[0]
    null = np.empty((int(n_permutations), observed.size))
    permuted = np.empty_like(A)
    for b in range(int(n_permutations)):
        for j in range(A.shape[1]):
            permuted[:, j] = A[rng.permutation(A.shape[0]), j]
        null[b] = _gram_eigh(permuted, vectors=False)[0]
    limit = np.quantile(null, quantile, axis=0)
    above = observed > limit
    return int(above.size if above.all() else np.argmin(above))


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


# --------------------------------------------------------------------------- spikes
@dataclass(frozen=True)
class SpikedSpectrum:
    """Covariance eigenpairs split at the Marchenko–Pastur edge.

    Attributes
    ----------
    mean : ndarray (d,)
        Feature means (zeros when not centred).
    scale : ndarray (d,)
        Per-feature standard deviations used for standardisation (ones when not used).
    eigenvalues : ndarray (d,)
        All covariance eigenvalues, descending.
    components : ndarray (d, n_spikes)
        Eigenvectors of the spikes (columns), descending eigenvalue.
    noise_variance : float
        :math:`\\hat\\sigma^2`.
    edge : float
        Threshold used (bulk edge plus Tracy–Widom margin).
    n_samples : int
        Degrees of freedom.
    """

    mean: np.ndarray
    scale: np.ndarray
    eigenvalues: np.ndarray
    components: np.ndarray
    noise_variance: float
    edge: float
    n_samples: int

    @property
    def n_spikes(self) -> int:
        """Number of eigenvalues above the edge."""
        return int(self.components.shape[1])


def spiked_components(
    X: Any,
    *,
    noise_variance: float | None = None,
    alpha: float | None = 0.01,
    center: bool = True,
    standardize: bool = False,
) -> SpikedSpectrum:
    r"""Eigenvectors of the sample covariance whose eigenvalues exceed the MP edge.

    Same threshold as :func:`mp_rank`. With ``standardize=True`` the features are divided
    by their standard deviations first (the spectrum of the correlation matrix).

    Examples
    --------
    >>> rng = np.random.default_rng(6)
    >>> u = np.linalg.qr(rng.standard_normal((30, 2)))[0]
    >>> X = rng.standard_normal((600, 2)) * [4.0, 3.0] @ u.T + rng.standard_normal((600, 30))
    >>> sp = spiked_components(X)
    >>> sp.n_spikes, round(sp.noise_variance, 1)
    (2, 1.0)
    """
    A = check_array(X, "X", min_samples=3, min_features=1).astype(np.float64, copy=True)
    n, d = A.shape
    mean = A.mean(axis=0) if center else np.zeros(d)
    A -= mean
    scale = np.ones(d)
    if standardize:
        scale = np.sqrt((A**2).sum(axis=0) / (n - 1 if center else n))
        if np.any(scale == 0):
            raise ValidationError(
                f"standardize=True needs non-constant features; {int((scale == 0).sum())} are constant"
            )
        A /= scale
    dof = n - 1 if center else n
    squares, V = _gram_eigh(A, vectors=True)
    assert V is not None
    lam = np.zeros(d)
    lam[: squares.size] = squares / dof
    sigma2 = (
        estimate_noise_variance(lam, dof, d)
        if noise_variance is None
        else check_positive(noise_variance, "noise_variance")
    )
    edge = sigma2 * _tracy_widom_threshold(dof, d, alpha)
    k = int((lam > edge).sum())
    return SpikedSpectrum(
        mean, scale, lam, np.ascontiguousarray(V[:, :k]), sigma2, float(edge), dof
    )
