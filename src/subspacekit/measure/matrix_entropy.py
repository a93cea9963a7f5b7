r"""Spectral entropies of matrices: von Neumann entropy and Roy–Vetterli effective rank.

**Von Neumann entropy** of a positive semi-definite matrix :math:`\Sigma` (a covariance
or a Gram matrix): with :math:`\rho = \Sigma/\mathrm{tr}\,\Sigma` (a density matrix) and
eigenvalues :math:`\lambda_i` of :math:`\rho`,
:math:`S(\Sigma) = -\sum_i \lambda_i\log\lambda_i`; :math:`0 \le S \le \log d`, with the
maximum for an isotropic :math:`\Sigma`. Information Shapes Koopman (Cheng et al., ICLR
2026) uses it on the latent covariance with a ridge of :math:`10^{-8}`.

**Effective rank** (Roy & Vetterli, EUSIPCO 2007) of any matrix ``A``: with singular
values :math:`\sigma_i` and :math:`p_i = \sigma_i/\sum_j\sigma_j`,
:math:`\mathrm{erank}(A) = \exp(-\sum_i p_i\log p_i)`, between 1 and :math:`\mathrm{rank}(A)`.
(Note the singular values, not their squares: ``exp(von_neumann_entropy(A.T @ A))``
is a different, smaller number for a non-flat spectrum.)

Examples
--------
>>> import numpy as np
>>> bool(np.isclose(von_neumann_entropy(np.eye(4)), np.log(4)))
True
>>> round(effective_rank(np.diag([1.0, 1.0, 0.0])), 6)
2.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from subspacekit.core.validation import check_array, check_positive
from subspacekit.errors import ShapeError, ValidationError

__all__ = ["effective_rank", "von_neumann_entropy"]


def _entropy(prob: np.ndarray) -> float:
    prob = prob[prob > 0]
    return float(-np.sum(prob * np.log(prob)))


def von_neumann_entropy(
    matrix: Any, *, base: float = math.e, ridge: float = 0.0, rtol: float = 1e-8
) -> float:
    r"""Von Neumann entropy :math:`-\mathrm{tr}(\rho\log\rho)` of a PSD matrix, :math:`\rho = \Sigma/\mathrm{tr}\Sigma`.

    Parameters
    ----------
    matrix : array-like of shape (d, d)
        Symmetric positive semi-definite (covariance or Gram matrix).
    base : float, default=e
        Logarithm base (``e``: nats, 2: bits).
    ridge : float, default=0.0
        Added to the diagonal first (the Koopman reference uses ``1e-8``).
    rtol : float, default=1e-8
        Tolerance, relative to the largest eigenvalue, for asymmetry and negative
        eigenvalues (rounding); beyond it the input is rejected.

    Returns
    -------
    float

    Examples
    --------
    >>> round(von_neumann_entropy(np.diag([1.0, 1.0, 0.0, 0.0]), base=2), 6)
    1.0
    """
    S = np.asarray(check_array(matrix, "matrix", min_samples=1), dtype=np.float64)
    if S.shape[0] != S.shape[1]:
        raise ShapeError(f"matrix must be square (d, d); got shape {S.shape}")
    check_positive(base, "base")
    if base == 1.0:
        raise ValidationError("base must differ from 1")
    if ridge < 0:
        raise ValidationError(f"ridge must be non-negative; got {ridge}")
    scale = float(np.abs(S).max()) if S.size else 0.0
    if not np.allclose(S, S.T, rtol=0.0, atol=rtol * max(scale, 1e-300)):
        raise ValidationError("matrix must be symmetric (a covariance or Gram matrix)")
    S = 0.5 * (S + S.T)
    if ridge:
        S = S + ridge * np.eye(S.shape[0])
    lam = np.linalg.eigvalsh(S)
    top = float(lam.max()) if lam.size else 0.0
    if top <= 0.0:
        raise ValidationError("matrix is zero (or negative definite); its entropy is undefined")
    if lam.min() < -rtol * top * S.shape[0]:
        raise ValidationError(
            f"matrix must be positive semi-definite; smallest eigenvalue {lam.min():.3g} "
            f"(largest {top:.3g})"
        )
    lam = np.clip(lam, 0.0, None)
    return _entropy(lam / lam.sum()) / math.log(base)


def effective_rank(A: Any) -> float:
    r"""Roy–Vetterli effective rank :math:`\exp H(\sigma/\|\sigma\|_1)` of any matrix.

    Parameters
    ----------
    A : array-like of shape (m, n)

    Returns
    -------
    float
        Between 1 and the rank of ``A``; equals ``r`` for ``r`` equal nonzero singular
        values.

    Examples
    --------
    >>> round(effective_rank(np.eye(5)), 6)
    5.0
    >>> round(effective_rank(np.outer([1.0, 2.0], [3.0, 4.0])), 6)
    1.0
    """
    A = np.asarray(check_array(A, "A", min_samples=1), dtype=np.float64)
    sigma = np.linalg.svd(A, compute_uv=False)
    total = float(sigma.sum())
    if total <= 0.0:
        raise ValidationError("A is the zero matrix; its effective rank is undefined")
    return math.exp(_entropy(sigma / total))
