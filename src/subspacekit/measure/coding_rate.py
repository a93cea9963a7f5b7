r"""Coding rate, rate reduction (MCR²) and the MMCR nuclear-norm objective.

With samples in rows, :math:`Z \in \mathbb{R}^{n\times d}`, the **coding rate** (Ma et al.
2007; Yu et al., "Learning diverse and discriminative representations via the principle
of maximal coding rate reduction", NeurIPS 2020) is the number of nats needed to code the
samples up to mean squared distortion :math:`\varepsilon^2`:

.. math:: R(Z, \varepsilon) = \tfrac12 \log\det\!\Big(I_d + \frac{d}{n\varepsilon^2} Z^\top Z\Big).

For a membership of the samples in groups — hard labels, or a soft matrix
:math:`\Pi \in [0,1]^{n\times k}` whose column ``j`` weights the samples of group ``j``
(e.g. the doubly stochastic :math:`\Gamma` of MLC, Ding et al. ICCV 2023) — the coding
rate of the groups coded separately is

.. math:: R_c(Z, \Pi) = \sum_j \frac{\mathrm{tr}\,\Pi_j}{2n}
          \log\det\!\Big(I_d + \frac{d}{\mathrm{tr}(\Pi_j)\,\varepsilon^2}
          Z^\top \mathrm{diag}(\Pi_j) Z\Big),

and the **rate reduction** :math:`\Delta R = R(Z) - R_c(Z, \Pi)` is large when the whole
is "big" and each group "small" (MCR²). Rates are in nats; every log-determinant is
taken on the smaller of the ``d x d`` and ``n x n`` Gram matrices (Sylvester's identity).

**MMCR** (Yerxa, Kuang, Simoncelli & Chung, NeurIPS 2023): with ``k`` views of each of
``B`` objects, L2-normalised, and :math:`C` the ``B x d`` matrix of per-object centroids,
the loss is :math:`-\|C\|_* + \lambda\frac1B\sum_b\|Z_b\|_*` (nuclear norms; the
reference default is :math:`\lambda = 0`). It reaches :math:`-B` when ``B <= d``
centroids are orthonormal and :math:`-\sqrt B` (one singular value, the Frobenius norm
of ``B`` unit rows) when all views of all objects coincide.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> labels = np.repeat([0, 1], 200)
>>> basis = np.eye(8)
>>> Z = np.where(labels[:, None] == 0, rng.standard_normal((400, 1)) * basis[0],
...              rng.standard_normal((400, 1)) * basis[1])
>>> round(rate_reduction(Z, labels, eps=0.5), 3) > 0
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from subspacekit.core.validation import check_array, check_consistent_samples, check_positive
from subspacekit.errors import DimensionMismatchError, ShapeError, ValidationError

__all__ = ["coding_rate", "coding_rate_by_group", "mmcr_loss", "rate_reduction"]


def _logdet_identity_plus(Z: np.ndarray, weights: np.ndarray | None, alpha: float) -> float:
    r""":math:`\log\det(I + \alpha Z^\top W Z)` via the smaller Gram matrix, by Cholesky."""
    if weights is not None:
        Z = Z * np.sqrt(weights)[:, None]
    n, d = Z.shape
    gram = Z.T @ Z if d <= n else Z @ Z.T
    gram *= alpha
    gram[np.diag_indices_from(gram)] += 1.0
    chol = np.linalg.cholesky(gram)
    return float(2.0 * np.log(np.diag(chol)).sum())


def coding_rate(Z: Any, eps: float = 0.5) -> float:
    r"""Coding rate :math:`R(Z,\varepsilon) = \frac12\log\det(I + \frac{d}{n\varepsilon^2}Z^\top Z)`, nats.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Features, samples in rows (not centred: the rate codes the raw vectors, as in
        MCR²).
    eps : float, default=0.5
        Distortion :math:`\varepsilon` (the formula uses :math:`\varepsilon^2`).

    Returns
    -------
    float

    Examples
    --------
    >>> Z = np.sqrt(2.0) * np.eye(2)          # n = d = 2, Z^T Z = 2 I
    >>> round(coding_rate(Z, eps=1.0), 6)      # 0.5 * log det(3 I) = log 3
    1.098612
    """
    Z = np.asarray(check_array(Z, "Z", min_samples=1), dtype=np.float64)
    eps = check_positive(eps, "eps")
    n, d = Z.shape
    return 0.5 * _logdet_identity_plus(Z, None, d / (n * eps**2))


def _membership(membership: Any, n: int) -> np.ndarray:
    """An (n, k) non-negative membership matrix from labels or a soft matrix."""
    arr = (
        np.asarray(membership)
        if not hasattr(membership, "detach")
        else membership.detach().cpu().numpy()
    )
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise DimensionMismatchError(
                f"labels must have one entry per sample ({n}); got {arr.shape[0]}"
            )
        _, codes = np.unique(arr, return_inverse=True)
        Pi = np.zeros((n, int(codes.max()) + 1))
        Pi[np.arange(n), codes] = 1.0
        return Pi
    if arr.ndim != 2:
        raise ShapeError(
            f"membership must be labels (n_samples,) or a matrix (n_samples, n_groups); "
            f"got shape {arr.shape}"
        )
    Pi = check_array(arr, "membership", min_samples=1)
    if Pi.shape[0] != n:
        raise DimensionMismatchError(
            f"membership must have one row per sample ({n}); got {Pi.shape[0]}"
        )
    if (Pi < 0).any():
        raise ValidationError("membership weights must be non-negative")
    return np.asarray(Pi, dtype=np.float64)


def coding_rate_by_group(Z: Any, membership: Any, eps: float = 0.5) -> float:
    r"""Coding rate :math:`R_c(Z, \Pi)` of the groups coded separately, nats.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    membership : array-like of shape (n_samples,) or (n_samples, n_groups)
        Hard labels, or soft non-negative weights (column ``j`` = group ``j``; MLC's
        doubly stochastic :math:`\Gamma` is the case ``n_groups = n_samples`` with unit
        column sums). Empty groups contribute nothing.
    eps : float, default=0.5

    Returns
    -------
    float

    Examples
    --------
    >>> Z = np.eye(4)
    >>> # each point alone: 4 * (1/8) * log(1 + 4 / 0.25) = 0.5 log 17
    >>> bool(np.isclose(coding_rate_by_group(Z, np.arange(4), eps=0.5), 0.5 * np.log(17)))
    True
    """
    Z = np.asarray(check_array(Z, "Z", min_samples=1), dtype=np.float64)
    eps = check_positive(eps, "eps")
    n, d = Z.shape
    Pi = _membership(membership, n)
    total = 0.0
    for j in range(Pi.shape[1]):
        weights = Pi[:, j]
        mass = float(weights.sum())
        if mass <= 0.0:
            continue
        rows = np.flatnonzero(weights)
        logdet = _logdet_identity_plus(Z[rows], weights[rows], d / (mass * eps**2))
        total += mass / (2.0 * n) * logdet
    return total


def rate_reduction(Z: Any, membership: Any, eps: float = 0.5) -> float:
    r"""MCR² rate reduction :math:`\Delta R = R(Z,\varepsilon) - R_c(Z,\Pi,\varepsilon)`, nats.

    Non-negative for hard labels (coding the groups separately never costs more, by
    concavity of log det); large when groups span different, near-orthogonal subspaces.

    Examples
    --------
    >>> Z = np.eye(4)
    >>> round(rate_reduction(Z, np.zeros(4, dtype=int)), 6)   # one group: R_c = R
    0.0
    """
    Z = np.asarray(check_array(Z, "Z", min_samples=1), dtype=np.float64)
    check_consistent_samples(Z, np.asarray(membership), names=["Z", "membership"])
    return coding_rate(Z, eps) - coding_rate_by_group(Z, membership, eps)


def mmcr_loss(Z: Any, lam: float = 0.0, *, normalize: bool = True) -> float:
    r"""MMCR objective :math:`-\|C\|_* + \lambda\,\frac1B\sum_b \|Z_b\|_*`.

    Parameters
    ----------
    Z : array-like of shape (n_objects, n_views, n_features)
        ``n_views`` embeddings (augmentations) of each of ``n_objects`` objects.
    lam : float, default=0.0
        Weight of the local (per-object) nuclear norms; 0 in the reference.
    normalize : bool, default=True
        Project every embedding on the unit sphere first, as the reference does.

    Returns
    -------
    float
        The loss (lower is better); :math:`-B` for ``B <= n_features`` orthonormal
        centroids, :math:`-\sqrt B` when all embeddings coincide.

    Examples
    --------
    >>> views = np.repeat(np.eye(3)[:, None, :], 4, axis=1)   # 3 objects, 4 identical views
    >>> round(mmcr_loss(views), 6)
    -3.0
    >>> round(mmcr_loss(np.ones((4, 2, 3))), 6)    # all coincide: rank one, -sqrt(B)
    -2.0
    """
    Z = np.asarray(check_array(Z, "Z", ndim=3, min_samples=1), dtype=np.float64)
    if lam < 0:
        raise ValidationError(f"lam must be non-negative; got {lam}")
    if normalize:
        norms = np.linalg.norm(Z, axis=2, keepdims=True)
        if (norms == 0).any():
            raise ValidationError("normalize=True needs non-zero embeddings; got a zero vector")
        Z = Z / norms
    centroids = Z.mean(axis=1)
    loss = -float(np.linalg.svd(centroids, compute_uv=False).sum())
    if lam > 0:
        local = np.linalg.svd(Z, compute_uv=False).sum(axis=1)
        loss += lam * float(local.mean())
    return loss
