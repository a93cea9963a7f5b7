"""Ground-truth generators: data whose subspaces, clusters and dimensions are known.

Every generator takes ``random_state`` (same seed, same data) and returns the planted
truth next to the samples, so that estimators can be checked against it:

* :func:`union_of_subspaces`: points on ``K`` linear subspaces (with optional noise,
  outliers and a minimum principal angle between subspaces);
* :func:`mixture_of_low_rank_gaussians`: Gaussians whose covariance is low rank plus
  isotropic noise, around distinct means;
* :func:`manifold`: manifolds of known intrinsic dimension (sphere, swiss roll, torus,
  helix, linear, curved), optionally isometrically embedded in a larger space;
* :func:`spiked_covariance`: the spiked covariance model
  :math:`\\Sigma = \\sum_i \\lambda_i u_i u_i^\\top + \\sigma^2 I`;
* :func:`sprites`: a procedural dSprites-like image set (re-exported from
  :mod:`subspacekit.data.sprites`).

Examples
--------
>>> X, labels, bases = union_of_subspaces(3, 2, 10, 20, random_state=0)
>>> X.shape, labels[:3], bases[0].shape
((60, 10), array([0, 0, 0]), (10, 2))
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from subspacekit.core.validation import check_positive, check_random_state
from subspacekit.data.sprites import sprites
from subspacekit.errors import ShapeError, ValidationError

__all__ = [
    "MANIFOLDS",
    "manifold",
    "mixture_of_low_rank_gaussians",
    "random_orthonormal",
    "spiked_covariance",
    "sprites",
    "union_of_subspaces",
]


def random_orthonormal(ambient_dim: int, dim: int, random_state: Any = None) -> np.ndarray:
    """A ``(ambient_dim, dim)`` orthonormal basis drawn uniformly (Haar) from the Grassmannian.

    QR of a Gaussian matrix with the signs of ``R``'s diagonal moved into ``Q`` gives a
    Haar-distributed frame.

    Examples
    --------
    >>> B = random_orthonormal(5, 2, random_state=0)
    >>> np.allclose(B.T @ B, np.eye(2))
    True
    """
    if dim > ambient_dim:
        raise ShapeError(
            f"a {dim}-dimensional subspace does not fit in ambient dimension {ambient_dim}"
        )
    rng = check_random_state(random_state)
    Q, R = np.linalg.qr(rng.standard_normal((ambient_dim, dim)))
    return Q * np.sign(np.where(np.diag(R) == 0, 1.0, np.diag(R)))


def _smallest_angle(A: np.ndarray, B: np.ndarray) -> float:
    cosines = np.linalg.svd(A.T @ B, compute_uv=False)
    return float(np.arccos(np.clip(cosines.max(), -1.0, 1.0)))


def _satisfies(candidate: np.ndarray, others: list[np.ndarray], min_angle: float | None) -> bool:
    return min_angle is None or all(_smallest_angle(candidate, o) >= min_angle for o in others)


def _draw_separated(
    ambient_dim: int,
    dim: int,
    others: list[np.ndarray],
    min_angle: float | None,
    rng: np.random.RandomState,
    index: int,
    max_tries: int = 200,
) -> np.ndarray:
    """A random ``dim``-subspace at principal angles >= ``min_angle`` from ``others``.

    First Haar draws are tried; when the constraint is too tight for them, the draw is
    tilted towards a random subspace of the orthogonal complement of ``others`` (where
    every principal angle is pi/2), by the smallest tilt on a grid that satisfies it.
    """
    for _ in range(max_tries):
        candidate = random_orthonormal(ambient_dim, dim, rng)
        if _satisfies(candidate, others, min_angle):
            return candidate
    occupied = np.hstack(others)
    U, sv, _ = np.linalg.svd(occupied, full_matrices=True)
    rank = int(np.sum(sv > 1e-10 * sv.max()))
    complement = U[:, rank:]
    if complement.shape[1] < dim:
        raise ValidationError(
            f"could not draw subspace {index} with smallest principal angle >= {min_angle} "
            f"rad to the others: {max_tries} random draws failed and the orthogonal complement "
            f"of the others has dimension {complement.shape[1]} < {dim}; lower min_angle or "
            "raise ambient_dim"
        )
    inside = complement @ random_orthonormal(complement.shape[1], dim, rng)
    for tilt in np.linspace(0.05, 1.0, 20):
        mixed = (1.0 - tilt) * candidate + tilt * inside
        candidate_tilted = np.linalg.qr(mixed)[0]
        if _satisfies(candidate_tilted, others, min_angle):
            return candidate_tilted
    return inside  # unreachable in exact arithmetic: at tilt 1 every angle is pi/2


def _per_group(value: int | Sequence[int], n_groups: int, name: str) -> list[int]:
    if isinstance(value, numbers.Integral):
        values = [int(value)] * n_groups
    else:
        values = [int(v) for v in value]
        if len(values) != n_groups:
            raise ShapeError(f"{name} must be an int or {n_groups} ints; got {len(values)} values")
    if min(values) < 1:
        raise ValidationError(f"{name} must be >= 1; got {values}")
    return values


def union_of_subspaces(
    n_subspaces: int = 5,
    subspace_dim: int | Sequence[int] = 6,
    ambient_dim: int = 100,
    n_per_subspace: int | Sequence[int] = 100,
    noise: float = 0.0,
    outlier_fraction: float = 0.0,
    min_angle: float | None = None,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Points drawn from a union of linear subspaces, with planted labels and bases.

    Subspace :math:`S_j` has a Haar-random orthonormal basis :math:`U_j \\in
    \\mathbb{R}^{d \\times k_j}`. A point of :math:`S_j` is :math:`x = U_j c + e` with
    :math:`c \\sim \\mathcal N(0, I_{k_j}/k_j)` (so :math:`\\mathbb E\\|U_j c\\|^2 = 1`) and
    :math:`e \\sim \\mathcal N(0, (\\text{noise}^2/d) I_d)` (so :math:`\\mathbb E\\|e\\|^2 =
    \\text{noise}^2`: ``noise`` is the noise-to-signal norm ratio). Outliers are
    :math:`\\mathcal N(0, I_d/d)` points, of the same expected norm as the inliers.

    Parameters
    ----------
    n_subspaces : int
    subspace_dim : int or sequence of int
        Dimension of each subspace.
    ambient_dim : int
    n_per_subspace : int or sequence of int
        Inliers per subspace.
    noise : float, default 0
        Norm ratio of the additive Gaussian noise (see above).
    outlier_fraction : float in [0, 1), default 0
        Fraction of the *returned* points that are outliers (label ``-1``); they are
        appended after the inliers.
    min_angle : float, optional
        Smallest principal angle (radians) allowed between any two subspaces. Bases are
        redrawn until it holds; if 200 Haar draws fail, the draw is tilted towards the
        orthogonal complement of the earlier subspaces just enough to satisfy it. An
        error when it cannot hold (e.g. two subspaces whose dimensions add up to more
        than ``ambient_dim`` must intersect).
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, ambient_dim)
    labels : ndarray of int of shape (n_samples,)
        Subspace index of each point, ``-1`` for outliers. Inliers come first, grouped by
        subspace.
    bases : list of ndarray of shape (ambient_dim, subspace_dim[j])
        Orthonormal basis of each subspace.

    Examples
    --------
    >>> X, y, B = union_of_subspaces(2, 3, 8, 50, outlier_fraction=0.2, random_state=1)
    >>> X.shape, int(np.sum(y == -1))
    ((125, 8), 25)
    >>> round(float(np.abs(X[y == 0] - X[y == 0] @ B[0] @ B[0].T).max()), 12)
    0.0
    """
    if n_subspaces < 1:
        raise ValidationError(f"n_subspaces must be >= 1; got {n_subspaces}")
    dims = _per_group(subspace_dim, n_subspaces, "subspace_dim")
    counts = _per_group(n_per_subspace, n_subspaces, "n_per_subspace")
    if max(dims) > ambient_dim:
        raise ShapeError(
            f"subspace_dim {max(dims)} exceeds ambient_dim {ambient_dim}; expected <= it"
        )
    check_positive(noise, "noise", strict=False)
    if not 0.0 <= outlier_fraction < 1.0:
        raise ValidationError(f"outlier_fraction must be in [0, 1); got {outlier_fraction}")
    rng = check_random_state(random_state)

    if min_angle is not None:
        if not 0.0 <= min_angle <= np.pi / 2:
            raise ValidationError(f"min_angle must be in [0, pi/2] radians; got {min_angle}")
        if min_angle > 0:
            for i in range(n_subspaces):
                for j in range(i + 1, n_subspaces):
                    if dims[i] + dims[j] > ambient_dim:
                        raise ValidationError(
                            f"subspaces {i} and {j} (dimensions {dims[i]} + {dims[j]} > "
                            f"ambient_dim {ambient_dim}) must intersect, so min_angle="
                            f"{min_angle} > 0 is impossible"
                        )
    bases: list[np.ndarray] = []
    for j, k in enumerate(dims):
        bases.append(_draw_separated(ambient_dim, k, bases, min_angle, rng, j))

    blocks = []
    for basis, k, n in zip(bases, dims, counts, strict=True):
        coefficients = rng.standard_normal((n, k)) / np.sqrt(k)
        blocks.append(coefficients @ basis.T)
    X = np.vstack(blocks)
    labels = np.repeat(np.arange(n_subspaces), counts)
    if noise > 0:
        X = X + rng.standard_normal(X.shape) * (noise / np.sqrt(ambient_dim))
    n_inliers = X.shape[0]
    n_outliers = round(outlier_fraction * n_inliers / (1.0 - outlier_fraction))
    if n_outliers:
        outliers = rng.standard_normal((n_outliers, ambient_dim)) / np.sqrt(ambient_dim)
        X = np.vstack([X, outliers])
        labels = np.concatenate([labels, np.full(n_outliers, -1)])
    return X, labels.astype(np.int64), bases


def mixture_of_low_rank_gaussians(
    n_components: int = 3,
    rank: int | Sequence[int] = 2,
    ambient_dim: int = 20,
    n_per_component: int | Sequence[int] = 100,
    noise: float = 0.0,
    mean_norm: float = 5.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Samples of a mixture of Gaussians with low-rank covariances.

    Component :math:`j` is :math:`\\mathcal N(\\mu_j, U_j U_j^\\top + \\text{noise}^2 I_d)`
    with :math:`U_j` a Haar-random ``(d, r_j)`` orthonormal basis and :math:`\\mu_j` a
    random direction scaled to norm ``mean_norm``. At ``noise=0`` each component lies
    exactly in the affine subspace :math:`\\mu_j + \\operatorname{span}(U_j)`.

    Returns
    -------
    X : ndarray of shape (n_samples, ambient_dim)
    labels : ndarray of int of shape (n_samples,)
    means : ndarray of shape (n_components, ambient_dim)
    bases : list of ndarray of shape (ambient_dim, rank[j])

    Examples
    --------
    >>> X, y, means, bases = mixture_of_low_rank_gaussians(2, 1, 5, 10, random_state=0)
    >>> X.shape, means.shape, bases[1].shape
    ((20, 5), (2, 5), (5, 1))
    """
    if n_components < 1:
        raise ValidationError(f"n_components must be >= 1; got {n_components}")
    ranks = _per_group(rank, n_components, "rank")
    counts = _per_group(n_per_component, n_components, "n_per_component")
    if max(ranks) > ambient_dim:
        raise ShapeError(f"rank {max(ranks)} exceeds ambient_dim {ambient_dim}")
    check_positive(noise, "noise", strict=False)
    check_positive(mean_norm, "mean_norm", strict=False)
    rng = check_random_state(random_state)
    means = rng.standard_normal((n_components, ambient_dim))
    means *= mean_norm / np.linalg.norm(means, axis=1, keepdims=True)
    bases = [random_orthonormal(ambient_dim, r, rng) for r in ranks]
    blocks = [
        mu + rng.standard_normal((n, r)) @ basis.T
        for mu, basis, r, n in zip(means, bases, ranks, counts, strict=True)
    ]
    X = np.vstack(blocks)
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    labels = np.repeat(np.arange(n_components), counts).astype(np.int64)
    return X, labels, means, bases


def spiked_covariance(
    n: int,
    d: int,
    spikes: Sequence[float] | np.ndarray,
    noise_variance: float = 1.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian samples from the spiked covariance model.

    .. math:: x \\sim \\mathcal N\\Big(0,\\; \\sum_{i=1}^{k} \\lambda_i u_i u_i^\\top
              + \\sigma^2 I_d\\Big)

    with :math:`\\lambda_i` = ``spikes[i]`` and :math:`\\sigma^2` = ``noise_variance``;
    the population eigenvalues are :math:`\\lambda_i + \\sigma^2` (``k`` of them) and
    :math:`\\sigma^2` (the other ``d - k``). In the proportional limit :math:`d/n \\to
    \\gamma`, a spike is detectable by PCA only above the BBP threshold
    :math:`\\lambda_i > \\sigma^2 \\sqrt{\\gamma}`.

    Returns
    -------
    X : ndarray of shape (n, d)
    basis : ndarray of shape (d, k)
        The orthonormal spike directions :math:`u_i`, in the order of ``spikes``.

    Examples
    --------
    >>> X, U = spiked_covariance(2000, 10, [20.0], noise_variance=1.0, random_state=0)
    >>> top = np.linalg.eigh(np.cov(X.T))[1][:, -1]
    >>> round(abs(float(top @ U[:, 0])), 2)
    1.0
    """
    spikes_arr = np.atleast_1d(np.asarray(spikes, dtype=np.float64))
    if spikes_arr.ndim != 1 or spikes_arr.size > d:
        raise ShapeError(f"spikes must be a 1-D sequence of at most d={d} values; got {spikes}")
    if np.any(spikes_arr < 0):
        raise ValidationError(f"spikes must be >= 0; got {spikes_arr.tolist()}")
    check_positive(noise_variance, "noise_variance", strict=False)
    rng = check_random_state(random_state)
    basis = random_orthonormal(d, spikes_arr.size, rng)
    signal = (rng.standard_normal((n, spikes_arr.size)) * np.sqrt(spikes_arr)) @ basis.T
    X = signal + np.sqrt(noise_variance) * rng.standard_normal((n, d))
    return X, basis


# ----------------------------------------------------------------------------- manifolds
def _sphere(n: int, rng: np.random.RandomState, dim: int = 2) -> np.ndarray:
    G = rng.standard_normal((n, dim + 1))
    return G / np.linalg.norm(G, axis=1, keepdims=True)


def _swiss_roll(n: int, rng: np.random.RandomState) -> np.ndarray:
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=n))
    height = 21.0 * rng.uniform(size=n)
    return np.column_stack([t * np.cos(t), height, t * np.sin(t)])


def _torus(
    n: int, rng: np.random.RandomState, major: float = 2.0, minor: float = 1.0
) -> np.ndarray:
    u, v = 2 * np.pi * rng.uniform(size=(2, n))
    return np.column_stack(
        [
            (major + minor * np.cos(v)) * np.cos(u),
            (major + minor * np.cos(v)) * np.sin(u),
            minor * np.sin(v),
        ]
    )


def _helix(n: int, rng: np.random.RandomState, turns: float = 3.0) -> np.ndarray:
    t = 2 * np.pi * turns * rng.uniform(size=n)
    return np.column_stack([np.cos(t), np.sin(t), t / (2 * np.pi)])


def _linear(n: int, rng: np.random.RandomState, dim: int = 2) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=(n, dim))


def _curved(n: int, rng: np.random.RandomState, dim: int = 2) -> np.ndarray:
    # each latent coordinate traces a planar arc in its own 2 extra coordinates, so the
    # embedding is smooth, injective and curved in every direction, with intrinsic dim `dim`
    u = rng.uniform(-1.0, 1.0, size=(n, dim))
    return np.hstack([u, np.sin(2.0 * u), np.cos(2.0 * u)])


# name -> (generator, intrinsic dimension given the generator's keyword arguments)
MANIFOLDS: dict[str, tuple[Any, Any]] = {
    "sphere": (_sphere, lambda dim=2: dim),
    "swiss_roll": (_swiss_roll, lambda: 2),
    "torus": (_torus, lambda major=2.0, minor=1.0: 2),
    "helix": (_helix, lambda turns=3.0: 1),
    "linear": (_linear, lambda dim=2: dim),
    "curved": (_curved, lambda dim=2: dim),
}


def manifold(
    name: str,
    n: int,
    *,
    ambient_dim: int | None = None,
    noise: float = 0.0,
    random_state: Any = None,
    **params: Any,
) -> tuple[np.ndarray, int]:
    """Samples of a manifold of known intrinsic dimension.

    ================  ==============================================  =========  ========
    name              definition                                      intrinsic  native
    ================  ==============================================  =========  ========
    ``sphere``        uniform on :math:`S^{k}`, ``dim=k`` (default 2)  k          k + 1
    ``swiss_roll``    :math:`(t\\cos t, h, t\\sin t)`,                 2          3
                      :math:`t \\in [1.5\\pi, 4.5\\pi]`, :math:`h \\in [0, 21]`
    ``torus``         ring torus, radii ``major=2``, ``minor=1``       2          3
    ``helix``         :math:`(\\cos t, \\sin t, t/2\\pi)`, ``turns=3``  1          3
    ``linear``        uniform in :math:`[-1, 1]^k`, ``dim=k``          k          k
    ``curved``        :math:`(u, \\sin 2u, \\cos 2u)`,                 k          3k
                      :math:`u \\in [-1, 1]^k`, ``dim=k``
    ================  ==============================================  =========  ========

    When ``ambient_dim`` exceeds the native dimension, the points are mapped into
    :math:`\\mathbb R^{D}` by a random isometry (orthonormal columns), which keeps all
    distances. ``noise`` adds :math:`\\mathcal N(0, \\text{noise}^2 I_D)` in the ambient space.

    Returns
    -------
    X : ndarray of shape (n, ambient_dim or native dimension)
    intrinsic_dim : int

    Examples
    --------
    >>> X, k = manifold("sphere", 100, dim=3, ambient_dim=10, random_state=0)
    >>> X.shape, k, bool(np.allclose(np.linalg.norm(X, axis=1), 1.0))
    ((100, 10), 3, True)
    """
    if name not in MANIFOLDS:
        raise ValidationError(f"unknown manifold {name!r}; expected one of {sorted(MANIFOLDS)}")
    generator, intrinsic = MANIFOLDS[name]
    try:
        intrinsic_dim = int(intrinsic(**params))
    except TypeError as exc:
        raise ValidationError(f"unexpected parameters for manifold {name!r}: {params}") from exc
    if intrinsic_dim < 1:
        raise ValidationError(f"manifold dimension must be >= 1; got {intrinsic_dim}")
    check_positive(noise, "noise", strict=False)
    rng = check_random_state(random_state)
    X = generator(n, rng, **params)
    native = X.shape[1]
    if ambient_dim is not None and ambient_dim != native:
        if ambient_dim < native:
            raise ShapeError(
                f"ambient_dim {ambient_dim} is smaller than the native dimension {native} of "
                f"{name!r}; expected >= {native}"
            )
        X = X @ random_orthonormal(ambient_dim, native, rng).T
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X, intrinsic_dim
