r"""Random-matrix theory of sample covariances: Marchenko–Pastur, Tracy–Widom and spikes.

Model: the rows of ``X`` are :math:`x = \mu + \sum_{j\le r} \sqrt{\ell_j}\,\sigma z_j u_j
+ \sigma \varepsilon` with isotropic noise of variance :math:`\sigma^2` per feature.
Without signal the eigenvalues of the sample covariance (``d`` features, ``m``
degrees of freedom, aspect ratio :math:`\gamma = d/m`) fill the Marchenko–Pastur
bulk :math:`[\sigma^2(1-\sqrt\gamma)^2, \sigma^2(1+\sqrt\gamma)^2]`; a spike
:math:`\ell > \sqrt\gamma` (the BBP transition) pops out of it at
:math:`\sigma^2(1+\ell)(1+\gamma/\ell)`. The largest noise eigenvalue fluctuates on the
scale :math:`m^{-2/3}` with the Tracy–Widom law :math:`F_1`, which gives the rank tests
a false-positive rate ``alpha``.

This module holds the distributions (:func:`marchenko_pastur_edge`,
:func:`marchenko_pastur_median`, :func:`tracy_widom_quantile`,
:func:`tracy_widom_threshold`), the spectra (:func:`gram_svd`,
:func:`covariance_spectrum`), the noise level (:func:`estimate_noise_variance`) and
the spikes above the edge (:func:`spiked_components`). The rank-selection rules built
on them live in :mod:`subspacekit.estimate.rank_rules`; EigenShield's causal split of
the spikes lives with the detector, in :mod:`subspacekit.detect.eigenshield`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> basis = np.linalg.qr(rng.standard_normal((50, 3)))[0]
>>> X = rng.standard_normal((400, 3)) * [3.0, 2.5, 2.0] @ basis.T + rng.standard_normal((400, 50))
>>> spiked_components(X).n_spikes
3
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate, optimize, special

from subspacekit.core.linalg import constant_columns
from subspacekit.core.validation import (
    check_array,
    check_finite,
    check_int,
    check_positive,
    check_probability,
)
from subspacekit.errors import ShapeError, ValidationError

__all__ = [
    "SpikedSpectrum",
    "covariance_spectrum",
    "estimate_noise_variance",
    "gram_svd",
    "marchenko_pastur_edge",
    "marchenko_pastur_median",
    "mp_edge",
    "spiked_components",
    "tracy_widom_quantile",
    "tracy_widom_threshold",
]


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
    n = check_int(n_samples, "n_samples", low=1)
    d = check_int(n_features, "n_features", low=1)
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
    beta = check_positive(aspect_ratio, "aspect_ratio")
    if beta > 1.0:
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


def tracy_widom_threshold(n_samples: int, n_features: int, alpha: float | None) -> float:
    r"""Largest noise eigenvalue, in units of :math:`\sigma^2`, exceeded with probability ``alpha``.

    Johnstone's (2001) centring :math:`\mu = (\sqrt{m-1/2} + \sqrt{d-1/2})^2` and scaling
    :math:`\sigma = (\sqrt{m-1/2} + \sqrt{d-1/2})(1/\sqrt{m-1/2} + 1/\sqrt{d-1/2})^{1/3}`
    (the half-sample corrections make the Tracy–Widom approximation accurate already for
    tens of samples) give the threshold :math:`(\mu + s_{1-\alpha}\sigma)/m`;
    ``alpha=None`` gives the bare Marchenko–Pastur edge :math:`(1+\sqrt{d/m})^2`.

    Examples
    --------
    >>> tracy_widom_threshold(1000, 250, None)
    2.25
    >>> bool(tracy_widom_threshold(1000, 250, 0.01) > 2.25)
    True
    """
    m = check_int(n_samples, "n_samples", low=1)
    d = check_int(n_features, "n_features", low=1)
    if alpha is None:
        return float((1.0 + np.sqrt(d / m)) ** 2)
    alpha = check_probability(alpha, "alpha")
    sn, sd = np.sqrt(m - 0.5), np.sqrt(d - 0.5)
    centre = (sn + sd) ** 2
    scale = (sn + sd) * (1.0 / sn + 1.0 / sd) ** (1.0 / 3.0)
    return float((centre + tracy_widom_quantile(1.0 - alpha) * scale) / m)


# --------------------------------------------------------------------------- spectra
def gram_svd(A: np.ndarray, *, vectors: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Squared singular values of ``A`` (descending, ``min(n, d)`` of them) and right vectors.

    From the symmetric eigendecomposition of the smaller Gram matrix (:math:`A^\top A`
    or :math:`AA^\top`): one GEMM and a small ``eigh``, several times cheaper than an SVD
    of the data. Eigenvalues carry an absolute error of about :math:`d\,\epsilon\,s_{max}^2`,
    far below any noise bulk; right vectors of (numerically) zero singular values are
    returned as zero columns when ``n < d``. Data far from unit scale are brought to it
    first, so the Gram matrix neither overflows nor underflows; squared singular values
    beyond float64's range come back infinite (callers check).

    Parameters
    ----------
    A : ndarray of shape (n, d)
        Finite float data (not checked: this is a kernel for validated arrays).
    vectors : bool
        Also return the right singular vectors (d x min(n, d)).

    Returns
    -------
    squares : ndarray of shape (min(n, d),)
    V : ndarray of shape (d, min(n, d)) or None

    Examples
    --------
    >>> squares, V = gram_svd(np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]]))
    >>> squares.round(12).tolist(), np.abs(V).round(12).tolist()
    ([16.0, 9.0], [[0.0, 1.0], [1.0, 0.0]])
    """
    A = np.asarray(A, dtype=np.float64)
    n, d = A.shape
    if A.size == 0:
        return np.zeros(0), (np.zeros((d, 0)) if vectors else None)
    peak = float(np.max(np.abs(A)))
    unit = 1.0
    if peak > 1e100 or 0.0 < peak < 1e-100:
        # The Gram matrix of such data would overflow or lose all its digits.
        A, unit = A / peak, peak
    if n >= d:
        G = A.T @ A
        if not vectors:
            w = np.clip(np.linalg.eigvalsh(G)[::-1], 0.0, None)
            return w * unit * unit, None
        w, V = np.linalg.eigh(G)
        return np.clip(w[::-1], 0.0, None) * unit * unit, V[:, ::-1]
    G = A @ A.T
    if not vectors:
        return np.clip(np.linalg.eigvalsh(G)[::-1], 0.0, None) * unit * unit, None
    w, U = np.linalg.eigh(G)
    w, U = np.clip(w[::-1], 0.0, None), U[:, ::-1]
    s = np.sqrt(w)
    V = A.T @ U
    nonzero = s > 0
    V[:, nonzero] /= s[nonzero]
    V[:, ~nonzero] = 0.0
    return w * unit * unit, V


def covariance_spectrum(X: Any, *, center: bool = True) -> tuple[np.ndarray, int]:
    r"""Eigenvalues (descending, length ``d``) of the sample covariance and its degrees of freedom.

    With ``center=True`` the covariance is :math:`\tilde X^\top \tilde X/(n-1)` and the
    degrees of freedom are ``n - 1``; otherwise :math:`X^\top X / n` and ``n``.
    Computed in float64 from the smaller Gram matrix of the (centred) data
    (:func:`gram_svd`; absolute eigenvalue error about :math:`d\,\epsilon\,\lambda_{max}`).
    Eigenvalues beyond float64's range raise :class:`~subspacekit.errors.NonFiniteError`.

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
    squares, _ = gram_svd(A, vectors=False)
    lam = np.zeros(d)
    lam[: squares.size] = squares / dof
    check_finite(lam, "covariance eigenvalues", context="they overflow float64; rescale the data")
    return lam, dof


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
    n = check_int(n_samples, "n_samples", low=1)
    d = check_int(n_features, "n_features", low=1)
    max_iter = check_int(max_iter, "max_iter", low=0)
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

    The threshold is :math:`\hat\sigma^2` times :func:`tracy_widom_threshold` (the rule of
    :func:`~subspacekit.estimate.rank_rules.mp_rank`), with :math:`\hat\sigma^2` from
    :func:`estimate_noise_variance` unless ``noise_variance`` is given. With
    ``standardize=True`` the features are divided by their standard deviations first
    (the spectrum of the correlation matrix); constant features then raise
    :class:`~subspacekit.errors.ValidationError`.

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
    if standardize:
        constant = constant_columns(A)
        if constant.any():
            raise ValidationError(
                f"standardize=True needs non-constant features; {int(constant.sum())} of the "
                f"{d} are constant"
            )
    mean = A.mean(axis=0) if center else np.zeros(d)
    A -= mean
    scale = np.ones(d)
    if standardize:
        # Column norms taken at unit scale, so that huge data do not overflow the squares.
        column_peak = np.max(np.abs(A), axis=0)
        unit_norms = np.sqrt(((A / column_peak) ** 2).sum(axis=0) / (n - 1 if center else n))
        scale = column_peak * unit_norms
        A /= scale
    dof = n - 1 if center else n
    # The spike count does not depend on the unit of the data: decide it at unit scale,
    # where the spectrum is accurate whatever the magnitude of X.
    peak = float(np.max(np.abs(A)))
    unit = peak if peak > 0 else 1.0
    squares, V = gram_svd(A / unit, vectors=True)
    assert V is not None
    lam = np.zeros(d)
    lam[: squares.size] = squares / dof
    if noise_variance is None:
        sigma2 = estimate_noise_variance(lam, dof, d)
    else:
        sigma2 = check_positive(noise_variance, "noise_variance") / unit / unit
    edge = sigma2 * tracy_widom_threshold(dof, d, alpha)
    k = int((lam > edge).sum())
    lam, sigma2, edge = lam * unit * unit, sigma2 * unit * unit, edge * unit * unit
    check_finite(lam, "covariance eigenvalues", context="they overflow float64; rescale the data")
    return SpikedSpectrum(
        mean, scale, lam, np.ascontiguousarray(V[:, :k]), float(sigma2), float(edge), dof
    )
