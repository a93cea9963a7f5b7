r"""Orthogonal Procrustes similarity between two representations.

After centring and scaling each representation to unit Frobenius norm, the best
orthogonal alignment of X onto Y (zero-padding the narrower one) leaves the residual

.. math::

    \min_{Q^\top Q = I} \|\hat X Q - \hat Y\|_F^2 = 2 - 2\,\|\hat X^\top \hat Y\|_*,

where :math:`\|\cdot\|_*` is the nuclear norm (Schönemann 1966). The similarity
:math:`\|X_c^\top Y_c\|_* / (\|X_c\|_F \|Y_c\|_F) \in [0, 1]` is 1 exactly when the two
representations differ by an orthogonal map and a scale, and its complement gives the
Procrustes shape distance used by Ding, Denain & Steinhardt (NeurIPS 2021) and Williams
et al. (NeurIPS 2021).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.result import Estimate
from subspacekit.core.validation import check_pair
from subspacekit.errors import ValidationError

__all__ = ["procrustes_similarity"]


def _procrustes(X: np.ndarray, Y: np.ndarray) -> float:
    Xc = X - X.mean(axis=0, dtype=np.float64)
    Yc = Y - Y.mean(axis=0, dtype=np.float64)
    nx, ny = np.linalg.norm(Xc), np.linalg.norm(Yc)
    if nx == 0.0 or ny == 0.0:
        return float("nan")
    if Xc.shape[0] < min(Xc.shape[1], Yc.shape[1]):
        # Xc = F_x V_x^T with orthonormal V_x: the singular values of Xc^T Yc are those of
        # the n x n matrix F_x^T F_y, cheaper than a d1 x d2 SVD when n < d.
        Ux, sx, _ = np.linalg.svd(Xc, full_matrices=False)
        Uy, sy, _ = np.linalg.svd(Yc, full_matrices=False)
        M = (Ux * sx).T @ (Uy * sy)
    else:
        M = Xc.T @ Yc
    s = np.linalg.svd(M, compute_uv=False)
    return float(min(s.sum() / (nx * ny), 1.0))


def procrustes_similarity(
    X: Any,
    Y: Any,
    *,
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    r"""Orthogonal Procrustes similarity :math:`\|X_c^\top Y_c\|_* / (\|X_c\|_F\|Y_c\|_F)`.

    Invariant to orthogonal maps and isotropic scaling of either representation; the
    Procrustes distance is :math:`\sqrt{2 - 2s}` for similarity :math:`s`.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Representations of the same inputs (converted to numpy).
    ci, permutations, n_resamples, random_state
        Bootstrap interval over inputs and permutation p-value (see
        :func:`~subspacekit.compare.cka`).

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 5))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> round(procrustes_similarity(X, 4.0 * X @ Q + 1.0), 6)
    1.0
    >>> round(procrustes_similarity(X, X @ np.diag([1.0, 1.0, 1.0, 1.0, 10.0])), 2)
    0.6
    """
    X, Y = check_pair(X, Y, min_samples=2)
    value = _procrustes(X, Y)
    if np.isnan(value):
        raise ValidationError("X or Y has zero variance (all rows equal); similarity undefined")
    return with_uncertainty(
        _procrustes,
        X,
        Y,
        value=value,
        ci=ci,
        permutations=permutations,
        n_resamples=n_resamples,
        random_state=random_state,
        method="orthogonal Procrustes",
    )
