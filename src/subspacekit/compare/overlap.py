r"""Subspace overlap and weight-update subspaces ("Safety Subspaces are Not Distinct").

Ponkshe et al. (ICLR 2026, arXiv 2505.14185) compare the subspaces spanned by two
weight updates (or two sets of activations) through the mode subspace overlap

.. math::

    \mathrm{MSO}(Q_A, Q_B) = \frac{\|Q_A^\top Q_B\|_F^2}{\min(k_A, k_B)}
    = \frac{1}{\min(k_A, k_B)} \sum_i \cos^2\theta_i \in [0, 1],

for orthonormal bases :math:`Q_A` (d x k_A) and :math:`Q_B` (d x k_B) and principal
angles :math:`\theta_i`. For independent uniformly random subspaces,
:math:`E\|Q_A^\top Q_B\|_F^2 = k_A k_B / d` (each of the :math:`k_A k_B` entries has
variance 1/d), so the normalised baseline is :math:`\max(k_A, k_B)/d`.

The subspace of an update :math:`\Delta W = W_{after} - W_{before}` (m x n) is the span
of its top-k left singular vectors, with k given or chosen as the smallest rank whose
singular values capture a fraction ``energy`` of :math:`\|\Delta W\|_F^2`. Another update
U is split into :math:`U_\parallel = Q Q^\top U` and :math:`U_\perp = U - U_\parallel`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from subspacekit.core import Subspace
from subspacekit.core.linalg import as_basis
from subspacekit.core.resampling import permutation_pvalue
from subspacekit.core.result import Estimate
from subspacekit.core.validation import (
    check_array,
    check_in,
    check_int,
    check_probability,
    check_random_state,
)
from subspacekit.errors import DimensionMismatchError, DTypeError, RankError, ValidationError

__all__ = [
    "energy_rank",
    "expected_overlap",
    "project_update",
    "projection_energy",
    "subspace_overlap",
    "update_subspace",
]


def _dim(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DTypeError(f"{name} must be an integer; got {type(value).__name__}")
    return int(value)


def expected_overlap(dim_a: int, dim_b: int, ambient_dim: int, *, normalized: bool = True) -> float:
    r"""Expected overlap of two independent uniformly random subspaces.

    :math:`E\|Q_A^\top Q_B\|_F^2 = k_A k_B / d`; divided by :math:`\min(k_A, k_B)` when
    ``normalized`` (the MSO baseline :math:`\max(k_A, k_B)/d`).

    Examples
    --------
    >>> expected_overlap(10, 20, 100, normalized=False), expected_overlap(10, 20, 100)
    (2.0, 0.2)
    """
    ka, kb, d = _dim(dim_a, "dim_a"), _dim(dim_b, "dim_b"), _dim(ambient_dim, "ambient_dim")
    if d < 1 or not (1 <= ka <= d and 1 <= kb <= d):
        raise ValidationError(f"need 1 <= dim_a, dim_b <= ambient_dim; got {ka}, {kb}, {d}")
    raw = ka * kb / d
    return raw / min(ka, kb) if normalized else raw


def _overlap(Qa: np.ndarray, Qb: np.ndarray, normalized: bool) -> float:
    raw = float(np.sum((Qa.T @ Qb) ** 2))
    return raw / min(Qa.shape[1], Qb.shape[1]) if normalized else raw


def subspace_overlap(
    A: Any,
    B: Any,
    *,
    normalized: bool = True,
    permutations: int = 0,
    random_state: Any = None,
) -> float | Estimate:
    """Mode subspace overlap ``||Q_A^T Q_B||_F^2 / min(k_A, k_B)`` of two subspaces.

    Parameters
    ----------
    A, B : Subspace or array of shape (d, k_A), (d, k_B)
        Subspaces of the same R^d, or matrices whose columns span them.
    normalized : bool
        Divide by ``min(k_A, k_B)`` (MSO in [0, 1]); otherwise the raw
        ``||Q_A^T Q_B||_F^2`` (expected ``k_A k_B / d`` for random subspaces).
    permutations : int
        When > 0, a Monte Carlo test against uniformly random subspaces: B is replaced by
        that many Haar-random subspaces of the same dimension and the one-sided p-value
        of the observed overlap is returned, with the random baseline in ``details``.
    random_state : None, int or RandomState
        Seed of the random subspaces.

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> e = np.eye(4)
    >>> subspace_overlap(e[:, :2], e[:, 1:3])
    0.5
    >>> est = subspace_overlap(e[:, :2], e[:, :2], permutations=99, random_state=0)
    >>> est.value, est.pvalue, est.details["expected"]
    (1.0, 0.01, 0.5)
    """
    Qa, Qb = as_basis(A, "A"), as_basis(B, "B")
    if Qa.shape[0] != Qb.shape[0]:
        raise DimensionMismatchError(
            f"A and B must live in the same ambient dimension; got {Qa.shape[0]} and {Qb.shape[0]}"
        )
    if Qa.shape[1] == 0 or Qb.shape[1] == 0:
        raise RankError("A and B must have dimension >= 1; got the zero subspace")
    permutations = check_int(permutations, "permutations", low=0)
    value = _overlap(Qa, Qb, bool(normalized))
    if not permutations:
        return value
    rng = check_random_state(random_state)
    d, kb = Qb.shape
    null = np.array(
        [
            _overlap(Qa, Subspace.random(d, kb, rng).basis, bool(normalized))
            for _ in range(permutations)
        ]
    )
    expected = expected_overlap(Qa.shape[1], kb, d, normalized=bool(normalized))
    return Estimate(
        value,
        pvalue=permutation_pvalue(value, null),
        method="subspace overlap",
        details={"expected": expected, "null_distribution": null},
    )


def energy_rank(M: Any, energy: float) -> int:
    r"""Smallest k whose top-k singular values carry a fraction ``energy`` of :math:`\|M\|_F^2`.

    Examples
    --------
    >>> energy_rank(np.diag([3.0, 2.0, 1.0]), 0.9)  # 9/14 < 0.9 <= 13/14
    2
    """
    energy = check_probability(energy, "energy", open_interval=False)
    M = check_array(M, "M", ndim=(1, 2)).astype(np.float64, copy=False)
    M = M[:, None] if M.ndim == 1 else M
    s = np.linalg.svd(M, compute_uv=False)
    total = float(np.sum(s**2))
    if total == 0.0:
        raise RankError("M is zero; no subspace carries its energy")
    cum = np.cumsum(s**2) / total
    return min(int(np.searchsorted(cum, energy - 1e-12)) + 1, int(s.size))


def update_subspace(
    W_before: Any,
    W_after: Any,
    n_components: int | None = None,
    *,
    energy: float | None = None,
) -> Subspace:
    r"""Subspace of a weight update: top left singular vectors of :math:`W_{after} - W_{before}`.

    Parameters
    ----------
    W_before, W_after : array-like or torch.Tensor of shape (m, n) or (m,)
        Weights before and after the update (1-D biases are treated as m x 1).
    n_components : int, optional
        k; give it or ``energy``.
    energy : float, optional
        Choose k with :func:`energy_rank` on the update.

    Returns
    -------
    Subspace
        k-dimensional subspace of R^m with ``scales`` = the top singular values and
        ``meta`` recording k and the captured energy fraction.

    Examples
    --------
    >>> W0 = np.zeros((4, 3)); W1 = np.outer([1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    >>> S = update_subspace(W0, W1, energy=0.99)
    >>> S.dim, np.round(np.abs(S.basis[:, 0]), 4)
    (1, array([0.7071, 0.7071, 0.    , 0.    ]))
    """
    Wb = check_array(W_before, "W_before", ndim=(1, 2)).astype(np.float64, copy=False)
    Wa = check_array(W_after, "W_after", ndim=(1, 2)).astype(np.float64, copy=False)
    if Wb.shape != Wa.shape:
        raise DimensionMismatchError(
            f"W_before and W_after must have the same shape; got {Wb.shape} and {Wa.shape}"
        )
    delta = Wa - Wb
    delta = delta[:, None] if delta.ndim == 1 else delta
    if (n_components is None) == (energy is None):
        raise ValidationError("give exactly one of n_components or energy")
    U, s, _ = np.linalg.svd(delta, full_matrices=False)
    total = float(np.sum(s**2))
    if total == 0.0:
        raise RankError("the update W_after - W_before is zero; it spans no subspace")
    rank = int((s > max(delta.shape) * np.finfo(np.float64).eps * s[0]).sum())
    if energy is not None:
        k = energy_rank(delta, energy)
    else:
        k = _dim(n_components, "n_components")
        if not 1 <= k <= rank:
            raise RankError(f"n_components={k} must lie in [1, rank of the update = {rank}]")
    captured = float(np.sum(s[:k] ** 2) / total)
    return Subspace.from_basis(
        U[:, :k],
        scales=s[:k],
        meta={"method": "update_subspace", "n_components": k, "energy": captured},
    )


def _update_and_basis(update: Any, subspace: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    U = check_array(update, "update", ndim=(1, 2)).astype(np.float64, copy=False)
    vector = U.ndim == 1
    U = U[:, None] if vector else U
    Q = as_basis(subspace, "subspace")
    if Q.shape[0] != U.shape[0]:
        raise DimensionMismatchError(
            f"the subspace lives in R^{Q.shape[0]} but the update has {U.shape[0]} rows"
        )
    return U, Q, vector


def project_update(update: Any, subspace: Any, *, mode: str = "same") -> np.ndarray:
    r"""Project an update's columns onto a subspace of its row space R^m, or away from it.

    ``"same"``: :math:`U_\parallel = QQ^\top U`; ``"orth"``: :math:`U - U_\parallel`;
    ``"opp"``: :math:`-U_\parallel` (the three interventions of Ponkshe et al.).

    Parameters
    ----------
    update : array-like of shape (m, n) or (m,)
    subspace : Subspace or array of shape (m, k)
    mode : {"same", "orth", "opp"}

    Returns
    -------
    ndarray of the update's shape

    Examples
    --------
    >>> U = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> project_update(U, np.array([[1.0], [0.0]]))
    array([[1., 2.],
           [0., 0.]])
    >>> project_update(U, np.array([[1.0], [0.0]]), mode="orth")
    array([[0., 0.],
           [3., 4.]])
    """
    check_in(mode, ("same", "orth", "opp"), "mode")
    U, Q, vector = _update_and_basis(update, subspace)
    parallel = Q @ (Q.T @ U)
    out = {"same": parallel, "orth": U - parallel, "opp": -parallel}[mode]
    return out[:, 0] if vector else out


def projection_energy(update: Any, subspace: Any) -> float:
    r"""Fraction of an update's energy inside a subspace, :math:`\|QQ^\top U\|_F^2 / \|U\|_F^2`.

    Examples
    --------
    >>> projection_energy(np.array([[3.0], [4.0]]), np.array([[1.0], [0.0]]))
    0.36
    """
    U, Q, _ = _update_and_basis(update, subspace)
    total = float(np.sum(U**2))
    if total == 0.0:
        raise ValidationError("the update is zero; its energy fraction is undefined")
    return float(np.sum((Q.T @ U) ** 2)) / total
