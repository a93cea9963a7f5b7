"""Geometry of the Grassmann manifold Gr(k, d) of k-dimensional subspaces of R^d.

Points are represented by orthonormal bases ``Y`` (d x k); a tangent vector at ``Y``
is a d x k matrix ``H`` with ``Y.T @ H = 0`` (the horizontal space of the quotient
St(d, k) / O(k)). Everything here is written in terms of the principal angles
``theta_1 <= ... <= theta_k`` between two subspaces, following Edelman, Arias &
Smith (1998), "The geometry of algorithms with orthogonality constraints".

Functions take :class:`~subspacekit.core.Subspace` objects or d x k arrays whose
columns span the subspace (orthonormalised here); affine offsets (``mean``) are
ignored: the geometry is that of the linear parts.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from subspacekit.core.angles import (
    METRICS,
    basis_pair,
    grassmann_distance,
    principal_angles,
    principal_vectors,
)
from subspacekit.core.linalg import as_basis, polar_factor
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array
from subspacekit.errors import (
    ConvergenceWarning,
    DimensionMismatchError,
    SubspaceKitWarning,
    ValidationError,
)

__all__ = [
    "METRICS",
    "geodesic",
    "grassmann_distance",
    "grassmann_exp",
    "grassmann_log",
    "karcher_mean",
    "principal_angles",
    "principal_vectors",
]


def _check_tangent(Y: np.ndarray, H: Any) -> np.ndarray:
    H = check_array(H, "tangent", min_samples=1, min_features=0).astype(np.float64, copy=False)
    if H.shape != Y.shape:
        raise DimensionMismatchError(f"tangent must have the basis shape {Y.shape}; got {H.shape}")
    off = np.linalg.norm(Y.T @ H)
    if off > 1e-8 * (1.0 + np.linalg.norm(H)):
        raise ValidationError(
            f"tangent is not horizontal at the base point: ||Y^T H|| = {off:.3g} (expected 0); "
            "project it with H - Y @ (Y.T @ H)"
        )
    return H


def _exp_basis(Y: np.ndarray, H: np.ndarray) -> np.ndarray:
    U, sigma, Vt = np.linalg.svd(H, full_matrices=False)
    X = (Y @ Vt.T) * np.cos(sigma) @ Vt + U * np.sin(sigma) @ Vt
    # X is orthonormal in exact arithmetic; its polar factor removes rounding drift
    # while moving X as little as possible.
    return polar_factor(X)


def grassmann_exp(base: Any, tangent: Any, t: float = 1.0) -> Subspace:
    r"""Riemannian exponential: follow the geodesic from ``base`` along ``tangent``.

    With the thin SVD :math:`tH = U \Sigma V^\top`,
    :math:`\mathrm{Exp}_Y(tH) = \mathrm{span}\big(Y V \cos\Sigma\, V^\top + U \sin\Sigma\, V^\top\big)`
    (Edelman, Arias & Smith 1998, Thm 2.3).

    Parameters
    ----------
    base : Subspace or array (d, k)
    tangent : array (d, k)
        Horizontal tangent vector (``base.T @ tangent = 0``).
    t : float
        Step; the geodesic distance travelled is ``t * ||tangent||_F``.

    Examples
    --------
    >>> e = np.eye(2)
    >>> X = grassmann_exp(e[:, :1], np.pi / 4 * e[:, 1:])
    >>> np.round(np.abs(X.basis.ravel()), 6)
    array([0.707107, 0.707107])
    """
    Y = as_basis(base, "base")
    H = _check_tangent(Y, tangent)
    return Subspace.from_orthonormal(_exp_basis(Y, t * H))


def _log_basis(Y: np.ndarray, X: np.ndarray) -> np.ndarray:
    M = Y.T @ X
    Q, S, Rt = np.linalg.svd(M)
    if S.size and S[-1] < 1e-12:
        warnings.warn(
            "the target is (numerically) on the cut locus of the base point (a principal "
            "angle equals pi/2): the logarithm is not unique; one of the geodesics is returned",
            SubspaceKitWarning,
            stacklevel=3,
        )
    Xs = X @ (Rt.T @ Q.T)  # Procrustes-aligned basis of the target: Y^T Xs = Q S Q^T
    D = Xs - Y @ (Y.T @ Xs)
    D -= Y @ (Y.T @ D)
    U, sines, Vt = np.linalg.svd(D, full_matrices=False)
    cosines = np.einsum("ij,jk,ik->i", Vt, (Q * S) @ Q.T, Vt)
    theta = np.arctan2(sines, cosines)
    return (U * theta) @ Vt


def grassmann_log(base: Any, target: Any) -> np.ndarray:
    r"""Riemannian logarithm: the tangent at ``base`` whose geodesic reaches ``target``.

    The target basis is first rotated by the orthogonal Procrustes solution so that
    :math:`Y^\top X` is symmetric positive semi-definite; then
    :math:`(I - YY^\top)X = U \sin\Theta\, V^\top` and :math:`\mathrm{Log}_Y(X) = U \Theta V^\top`,
    with :math:`\Theta` from ``arctan2(sin, cos)`` so that angles near 0 and near
    :math:`\pi/2` are both accurate (a stable form of Edelman et al.'s
    :math:`\arctan` formula, which needs :math:`(Y^\top X)^{-1}`).
    ``||Log_Y(X)||_F`` equals the geodesic distance.

    Examples
    --------
    >>> e = np.eye(2)
    >>> H = grassmann_log(e[:, :1], (e[:, 0] + e[:, 1])[:, None])
    >>> np.round(np.abs(H.ravel()), 6)
    array([0.      , 0.785398])
    """
    Y, X = basis_pair(base, target)
    if Y.shape[1] != X.shape[1]:
        raise DimensionMismatchError(
            f"base and target must have the same dimension; got {Y.shape[1]} and {X.shape[1]}"
        )
    return _log_basis(Y, X)


def geodesic(A: Any, B: Any, t: float = 0.5) -> Subspace:
    """Point at fraction ``t`` of the geodesic from ``A`` (t=0) to ``B`` (t=1).

    Examples
    --------
    >>> e = np.eye(2)
    >>> mid = geodesic(e[:, :1], (e[:, 0] + e[:, 1])[:, None], 0.5)
    >>> round(float(principal_angles(mid, e[:, :1])[0]), 6)  # pi / 8
    0.392699
    """
    Y = as_basis(A, "A")
    return grassmann_exp(Y, grassmann_log(Y, B), t)


def karcher_mean(
    subspaces: Sequence[Any],
    weights: Sequence[float] | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> Subspace:
    r"""Karcher (Fréchet) mean of subspaces under the geodesic distance.

    Minimises :math:`\sum_i w_i\, d_g(\mu, X_i)^2` by Riemannian gradient descent with
    unit step: :math:`\mu \leftarrow \mathrm{Exp}_\mu\big(\sum_i w_i \mathrm{Log}_\mu X_i\big)`,
    started at the first subspace. The minimiser is unique when the subspaces lie in a
    geodesic ball of radius below :math:`\pi/4` (Afsari 2011); beyond that the
    iteration still runs but may return a local mean.

    Parameters
    ----------
    subspaces : sequence of Subspace or arrays (d, k)
    weights : sequence of float, optional
        Non-negative weights (normalised to sum 1); equal by default.
    tol : float
        Stop when the Frobenius norm of the weighted mean tangent is below ``tol``.
    max_iter : int
        Iteration cap; a :class:`ConvergenceWarning` is issued when it is reached.

    Examples
    --------
    >>> e = np.eye(3)
    >>> m = karcher_mean([e[:, :1], e[:, 1:2] + e[:, :1]])
    >>> np.round(np.abs(m.basis.ravel()), 6)  # the direction at pi / 8
    array([0.92388 , 0.382683, 0.      ])
    """
    if len(subspaces) == 0:
        raise ValidationError("karcher_mean needs at least one subspace; got none")
    bases = [as_basis(S, f"subspaces[{i}]") for i, S in enumerate(subspaces)]
    d, k = bases[0].shape
    for i, Q in enumerate(bases):
        if Q.shape != (d, k):
            raise DimensionMismatchError(
                f"all subspaces must be {k}-dimensional in R^{d}; subspaces[{i}] is "
                f"{Q.shape[1]}-dimensional in R^{Q.shape[0]}"
            )
    w = np.full(len(bases), 1.0 / len(bases)) if weights is None else np.asarray(weights, float)
    if w.shape != (len(bases),) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValidationError(
            f"weights must be {len(bases)} non-negative finite numbers with a positive sum; got {w}"
        )
    w = w / w.sum()
    mu = bases[0]
    for _ in range(max_iter):
        step = sum(wi * _log_basis(mu, Q) for wi, Q in zip(w, bases, strict=True))
        if np.linalg.norm(step) < tol:
            break
        mu = _exp_basis(mu, step)
    else:
        warnings.warn(
            f"karcher_mean did not reach tol={tol} in {max_iter} iterations",
            ConvergenceWarning,
            stacklevel=2,
        )
    return Subspace.from_orthonormal(mu, meta={"method": "karcher_mean", "n_subspaces": len(bases)})
