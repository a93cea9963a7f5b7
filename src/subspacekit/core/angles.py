"""Principal angles between subspaces and the Grassmann distances built from them.

The principal angles ``theta_1 <= ... <= theta_k`` between span(A) and span(B) are
computed by the sine/cosine split of Knyazev & Argentati (2002), accurate for tiny
angles where ``arccos`` alone stops near 1e-8. Every Grassmann distance is a function of
them (Edelman, Arias & Smith 1998; Hamm & Lee 2008).

Functions take :class:`~subspacekit.core.Subspace` objects or d x k arrays whose
columns span the subspace (orthonormalised here); affine offsets are ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from subspacekit.core.linalg import as_basis
from subspacekit.core.validation import check_in
from subspacekit.errors import DimensionMismatchError

__all__ = ["METRICS", "basis_pair", "grassmann_distance", "principal_angles", "principal_vectors"]


def basis_pair(A: Any, B: Any) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal float64 bases of two subspaces of the same ambient dimension."""
    Qa, Qb = as_basis(A, "A"), as_basis(B, "B")
    if Qa.shape[0] != Qb.shape[0]:
        raise DimensionMismatchError(
            f"subspaces must live in the same ambient dimension; got d={Qa.shape[0]} and "
            f"d={Qb.shape[0]}"
        )
    return Qa, Qb


def _angles_from_bases(Qa: np.ndarray, Qb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ascending principal angles and the principal vectors in A and in B."""
    k = min(Qa.shape[1], Qb.shape[1])
    if k == 0:
        return np.zeros(0), Qa[:, :0], Qb[:, :0]
    M = Qa.T @ Qb
    U, cosines, Vt = np.linalg.svd(M, full_matrices=False)
    U, cosines, V = U[:, :k], np.minimum(cosines[:k], 1.0), Vt[:k].T
    # Sines from the residual of the smaller subspace against the larger one:
    # arccos(cos) loses all angles below ~1e-8 rad because cos = 1 - theta^2/2 rounds
    # to 1, while the residual norm keeps them (Knyazev & Argentati, SISC 2002).
    if Qa.shape[1] >= Qb.shape[1]:
        R = Qb - Qa @ M
        R -= Qa @ (Qa.T @ R)  # second Gram-Schmidt pass: residual accurate to eps
    else:
        R = Qa - Qb @ M.T
        R -= Qb @ (Qb.T @ R)
    sines = np.minimum(np.linalg.svd(R, compute_uv=False)[::-1], 1.0)
    small = cosines**2 >= 0.5  # angle <= pi/4: the sine is the well-conditioned one
    angles = np.where(small, np.arcsin(sines), np.arccos(cosines))
    return angles, Qa @ U, Qb @ V


def principal_angles(A: Any, B: Any) -> np.ndarray:
    r"""Principal angles between two subspaces, accurate for tiny and large angles.

    For orthonormal bases :math:`Q_A` (d x k_A) and :math:`Q_B` (d x k_B), the
    :math:`k = \min(k_A, k_B)` principal angles satisfy
    :math:`\cos\theta_i = \sigma_i(Q_A^\top Q_B)` and, with :math:`k_A \ge k_B`,
    :math:`\sin\theta_i = \sigma_{k+1-i}\big((I - Q_A Q_A^\top) Q_B\big)`. Angles up to
    :math:`\pi/4` are taken from the sines and larger ones from the cosines, so both
    ends keep full relative accuracy (Knyazev & Argentati 2002); ``arccos`` alone
    returns 0 for every angle below about 1e-8 rad.

    Parameters
    ----------
    A, B : Subspace or array of shape (d, k_A), (d, k_B)
        Subspaces, or matrices whose columns span them (need not be orthonormal).

    Returns
    -------
    ndarray of shape (min(k_A, k_B),)
        Angles in radians, ascending, in :math:`[0, \pi/2]`.

    Examples
    --------
    >>> e = np.eye(3)
    >>> np.round(principal_angles(e[:, :2], np.c_[e[:, 0], e[:, 1] + e[:, 2]]), 6)
    array([0.      , 0.785398])
    >>> t = 1e-10
    >>> float(principal_angles(e[:, :1], (np.cos(t) * e[:, 0] + np.sin(t) * e[:, 1])[:, None])[0])
    1e-10
    """
    Qa, Qb = basis_pair(A, B)
    return _angles_from_bases(Qa, Qb)[0]


def principal_vectors(A: Any, B: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal angles with the matching principal vectors.

    Returns
    -------
    angles : ndarray of shape (k,)
        Ascending principal angles.
    vectors_a, vectors_b : ndarray of shape (d, k)
        Orthonormal columns ``u_i`` in A and ``v_i`` in B with ``angle(u_i, v_i) = angles[i]``.

    Examples
    --------
    >>> e = np.eye(3)
    >>> angles, u, v = principal_vectors(e[:, :2], e[:, 1:])
    >>> np.round(angles, 6), np.round(np.abs(u[:, 0]), 6)
    (array([0.      , 1.570796]), array([0., 1., 0.]))
    """
    Qa, Qb = basis_pair(A, B)
    return _angles_from_bases(Qa, Qb)


def _log_cos_sum(angles: np.ndarray) -> float:
    # log(cos t) = log1p(-2 sin^2(t/2)) keeps full accuracy for tiny angles.
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log1p(-2.0 * np.sin(angles / 2.0) ** 2)))


def _geodesic(t: np.ndarray) -> float:
    return float(np.linalg.norm(t))


def _chordal(t: np.ndarray) -> float:
    return float(np.linalg.norm(np.sin(t)))


def _projection(t: np.ndarray) -> float:
    return float(np.max(np.sin(t), initial=0.0))


def _binet_cauchy(t: np.ndarray) -> float:
    return float(np.sqrt(-np.expm1(2.0 * _log_cos_sum(t))))


def _fubini_study(t: np.ndarray) -> float:
    return float(np.arctan2(_binet_cauchy(t), np.exp(_log_cos_sum(t))))


def _procrustes(t: np.ndarray) -> float:
    return float(2.0 * np.linalg.norm(np.sin(t / 2.0)))


#: Grassmann distances as functions of the principal angles (see :func:`grassmann_distance`).
METRICS = {
    "geodesic": _geodesic,
    "arc": _geodesic,
    "chordal": _chordal,
    "projection": _projection,
    "fubini-study": _fubini_study,
    "binet-cauchy": _binet_cauchy,
    "procrustes": _procrustes,
}


def grassmann_distance(A: Any, B: Any, metric: str = "geodesic") -> float:
    r"""Distance between two subspaces of equal dimension on the Grassmannian.

    With :math:`\theta_1, \dots, \theta_k` the principal angles:

    ============== ============================================================ ==========
    metric         formula                                                      range
    ============== ============================================================ ==========
    geodesic, arc  :math:`\|\theta\|_2` (arc length of the Riemannian geodesic)  [0, pi/2 sqrt k]
    chordal        :math:`\|\sin\theta\|_2 = \|P_A - P_B\|_F / \sqrt 2`           [0, sqrt k]
                   (Conway, Hardin & Sloane 1996)
    projection     :math:`\|\sin\theta\|_\infty = \|P_A - P_B\|_2`                [0, 1]
                   (Edelman et al. "projection 2-norm")
    fubini-study   :math:`\arccos \prod_i \cos\theta_i`                         [0, pi/2]
    binet-cauchy   :math:`\sqrt{1 - \prod_i \cos^2\theta_i}`                    [0, 1]
    procrustes     :math:`\|2 \sin(\theta/2)\|_2 = \min_{Q \in O(k)} \|Q_A - Q_B Q\|_F` [0, sqrt 2k]
    ============== ============================================================ ==========

    Conventions in the literature differ by factors (e.g. some authors call
    :math:`\|\sin\theta\|_2` the projection distance); the table is the one used here.
    Products of cosines are computed through ``log1p`` so that tiny distances keep
    their relative accuracy.

    Examples
    --------
    >>> e = np.eye(3)
    >>> A, B = e[:, :1], (e[:, 0] + e[:, 1])[:, None]
    >>> round(grassmann_distance(A, B), 6), round(grassmann_distance(A, B, "chordal"), 6)
    (0.785398, 0.707107)
    """
    check_in(metric, list(METRICS), "metric")
    Qa, Qb = basis_pair(A, B)
    if Qa.shape[1] != Qb.shape[1]:
        raise DimensionMismatchError(
            "Grassmann distances compare subspaces of equal dimension; got dimensions "
            f"{Qa.shape[1]} and {Qb.shape[1]} (use principal_angles for unequal dimensions)"
        )
    return METRICS[metric](_angles_from_bases(Qa, Qb)[0])
