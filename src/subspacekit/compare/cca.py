r"""CCA-based similarities: canonical correlations, SVCCA and PWCCA.

Canonical correlations between two representations of the same n inputs are the
cosines of the principal angles between the column spaces of the centred data matrices
in :math:`\mathbb{R}^n`: with orthonormal bases :math:`U_X, U_Y` of
:math:`\mathrm{span}(X_c)` and :math:`\mathrm{span}(Y_c)`,
:math:`\rho_i = \sigma_i(U_X^\top U_Y)` (Björck & Golub 1973). The bases come from a thin
SVD, which handles rank deficiency (dead units, duplicated units) without inverting a
covariance matrix. The correlations are invariant to any invertible linear map of either
representation.

* :func:`cca_similarity`: mean (or mean squared) canonical correlation over all
  directions of full numerical rank.
* :func:`svcca` (Raghu et al., NeurIPS 2017): keep the top singular directions of each
  representation explaining ``variance_threshold`` of its variance (99 % by default),
  then average the canonical correlations between the reduced representations. The
  truncation makes SVCCA invariant to orthogonal maps and isotropic scaling but not to
  general invertible maps (with ``variance_threshold=1`` it is plain CCA again).
* :func:`pwcca` (Morcos, Raghu & Bengio, NeurIPS 2018): canonical correlations weighted
  by how much of the representation each canonical variate accounts for,
  :math:`\alpha_i \propto \sum_j |\langle h_i, z_j\rangle|` over the centred units
  :math:`z_j`; as in the reference implementation the weights come from the
  representation with fewer retained directions.

Sample canonical correlations are biased upwards when the number of directions is not
small next to n; a warning is issued when the retained directions fill the sample
(``r_X + r_Y >= n``), where every correlation is trivially 1.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.result import Estimate
from subspacekit.core.validation import check_in, check_pair, check_probability
from subspacekit.errors import (
    DTypeError,
    RankError,
    UntrustworthyEstimateWarning,
    ValidationError,
)

__all__ = ["canonical_correlations", "cca_similarity", "pwcca", "svcca"]


def _pair_option(value: Any, name: str) -> tuple[Any, Any]:
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValidationError(
                f"{name} must be one value or a pair (for X, for Y); got {value!r}"
            )
        return value[0], value[1]
    return value, value


def _reduced_basis(
    X: np.ndarray, n_components: Any, variance_threshold: float | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal basis (n x r) of the retained column space of centred X.

    Returns the basis and the centred data. Directions below the numerical rank are
    always dropped; then ``n_components`` or ``variance_threshold`` truncates further.
    """
    Xc = X - X.mean(axis=0, dtype=np.float64)
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    if s.size == 0 or s[0] == 0.0:
        raise RankError(f"{name} has zero variance (all rows equal); CCA is undefined")
    tol = max(Xc.shape) * np.finfo(np.float64).eps * s[0]
    rank = int((s > tol).sum())
    r = rank
    if n_components is not None:
        if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
            raise DTypeError(f"n_components must be an integer; got {type(n_components).__name__}")
        n_components = int(n_components)
        if n_components < 1:
            raise ValidationError(f"n_components must be >= 1; got {n_components}")
        if n_components > rank:
            raise RankError(
                f"n_components={n_components} exceeds the numerical rank {rank} of centred {name}"
            )
        r = int(n_components)
    elif variance_threshold is not None:
        energy = np.cumsum(s[:rank] ** 2) / np.sum(s[:rank] ** 2)
        r = int(np.searchsorted(energy, variance_threshold - 1e-12) + 1)
        r = min(r, rank)
    return U[:, :r], Xc


def _correlations_from_bases(Ux: np.ndarray, Uy: np.ndarray) -> tuple[np.ndarray, Any]:
    M = Ux.T @ Uy
    P, rho, Qt = np.linalg.svd(M, full_matrices=False)
    k = min(Ux.shape[1], Uy.shape[1])
    return np.clip(rho[:k], 0.0, 1.0), (P[:, :k], Qt[:k].T)


def _warn_if_degenerate(n: int, rx: int, ry: int) -> None:
    if rx + ry >= n:
        warnings.warn(
            f"the retained directions fill the sample (r_X + r_Y = {rx} + {ry} >= n = {n}); "
            "canonical correlations are then trivially 1: use more samples or fewer directions",
            UntrustworthyEstimateWarning,
            stacklevel=3,
        )


def _canonical(
    X: np.ndarray, Y: np.ndarray, n_components: Any, variance_threshold: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ncx, ncy = _pair_option(n_components, "n_components")
    Ux, _ = _reduced_basis(X, ncx, variance_threshold, "X")
    Uy, _ = _reduced_basis(Y, ncy, variance_threshold, "Y")
    rho, _ = _correlations_from_bases(Ux, Uy)
    return rho, Ux, Uy


def canonical_correlations(
    X: Any,
    Y: Any,
    *,
    n_components: int | tuple[int, int] | None = None,
    variance_threshold: float | None = None,
) -> np.ndarray:
    r"""Canonical correlations between two representations, in descending order.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, d1)
    Y : array-like or torch.Tensor of shape (n_samples, d2)
        Representations of the same inputs (converted to numpy float64).
    n_components : int or (int, int), optional
        Keep the top singular directions of each representation first (as in SVCCA).
    variance_threshold : float, optional
        Keep the fewest top singular directions explaining this fraction of variance.

    Returns
    -------
    ndarray of shape (min(r_X, r_Y),)
        Correlations in [0, 1], descending; r is the retained rank of each side.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(1000, 2))
    >>> X = np.c_[Z, rng.normal(size=(1000, 2))]
    >>> Y = np.c_[Z @ rng.normal(size=(2, 2)), rng.normal(size=(1000, 1))]
    >>> np.round(canonical_correlations(X, Y), 2)
    array([1.  , 1.  , 0.09])
    """
    X, Y = check_pair(X, Y, min_samples=2)
    X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    if variance_threshold is not None:
        variance_threshold = check_probability(
            variance_threshold, "variance_threshold", open_interval=False
        )
    rho, Ux, Uy = _canonical(X, Y, n_components, variance_threshold)
    _warn_if_degenerate(X.shape[0], Ux.shape[1], Uy.shape[1])
    return rho


def _uncertain_cca(
    name: str,
    statistic: Any,
    X: Any,
    Y: Any,
    ci: float | None,
    permutations: int,
    n_resamples: int,
    random_state: Any,
) -> float | Estimate:
    X, Y = check_pair(X, Y, min_samples=2)
    X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    value, (rx, ry) = statistic(X, Y, return_ranks=True)
    _warn_if_degenerate(X.shape[0], rx, ry)

    def quiet(A: np.ndarray, B: np.ndarray) -> float:
        try:
            return float(statistic(A, B))
        except RankError:  # a resample can lose rank; it is dropped from the interval
            return float("nan")

    return with_uncertainty(
        quiet,
        X,
        Y,
        value=value,
        ci=ci,
        permutations=permutations,
        n_resamples=n_resamples,
        random_state=random_state,
        method=name,
    )


def cca_similarity(
    X: Any,
    Y: Any,
    *,
    statistic: str = "mean",
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    r"""Mean canonical correlation (or mean squared, Yanai's :math:`R^2_{CCA}`).

    Invariant to invertible linear maps of either representation.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Converted to numpy float64.
    statistic : {"mean", "mean_squared"}
        :math:`\bar\rho` or :math:`\overline{\rho^2}` over the min(r_X, r_Y) correlations.
    ci, permutations, n_resamples, random_state
        Bootstrap interval over inputs and permutation p-value, as in
        :func:`~subspacekit.compare.cka`.

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> round(cca_similarity(X, X @ rng.normal(size=(4, 4)) + 7.0), 6)
    1.0
    """
    check_in(statistic, ("mean", "mean_squared"), "statistic")
    power = 1 if statistic == "mean" else 2

    def stat(A: np.ndarray, B: np.ndarray, return_ranks: bool = False) -> Any:
        rho, Ua, Ub = _canonical(A, B, None, None)
        value = float(np.mean(rho**power))
        return (value, (Ua.shape[1], Ub.shape[1])) if return_ranks else value

    return _uncertain_cca(
        f"CCA ({statistic})", stat, X, Y, ci, permutations, n_resamples, random_state
    )


def svcca(
    X: Any,
    Y: Any,
    *,
    n_components: int | tuple[int, int] | None = None,
    variance_threshold: float = 0.99,
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    r"""SVCCA: mean canonical correlation between the top singular subspaces (Raghu et al. 2017).

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Converted to numpy float64.
    n_components : int or (int, int), optional
        Number of singular directions kept from X and from Y; overrides
        ``variance_threshold``.
    variance_threshold : float
        Keep the fewest top directions explaining this fraction of each representation's
        variance (0.99 in the paper; 1.0 keeps the full numerical rank, i.e. plain CCA).
    ci, permutations, n_resamples, random_state
        Bootstrap interval over inputs and permutation p-value (see
        :func:`~subspacekit.compare.cka`).

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 6)) @ np.diag([5, 4, 3, 2, 0.01, 0.01])
    >>> Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    >>> round(svcca(X, 2.0 * X @ Q), 6)
    1.0
    """
    variance_threshold = check_probability(
        variance_threshold, "variance_threshold", open_interval=False
    )
    if variance_threshold == 0.0:
        raise ValidationError("variance_threshold must be > 0; got 0.0")

    def stat(A: np.ndarray, B: np.ndarray, return_ranks: bool = False) -> Any:
        rho, Ua, Ub = _canonical(A, B, n_components, variance_threshold)
        value = float(np.mean(rho))
        return (value, (Ua.shape[1], Ub.shape[1])) if return_ranks else value

    return _uncertain_cca("SVCCA", stat, X, Y, ci, permutations, n_resamples, random_state)


def pwcca(
    X: Any,
    Y: Any,
    *,
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    r"""Projection-weighted CCA (Morcos, Raghu & Bengio 2018).

    With canonical variates :math:`h_i` (unit vectors in :math:`\mathbb{R}^n`) of the
    representation with fewer retained directions and its centred units :math:`z_j`,

    .. math::

        \mathrm{PWCCA} = \sum_i \alpha_i \rho_i, \qquad
        \alpha_i = \frac{\sum_j |\langle h_i, z_j\rangle|}
                        {\sum_{i'}\sum_j |\langle h_{i'}, z_j\rangle|}.

    Not symmetric in general and not invariant to invertible maps (the weights depend on
    the units), but invariant to permutations and sign flips of units.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Converted to numpy float64.
    ci, permutations, n_resamples, random_state
        Bootstrap interval over inputs and permutation p-value (see
        :func:`~subspacekit.compare.cka`).

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(2000, 2))
    >>> X = np.c_[10 * Z[:, :1], 0.1 * rng.normal(size=(2000, 1))]
    >>> Y = np.c_[Z[:, :1], rng.normal(size=(2000, 1))]
    >>> round(pwcca(X, Y), 2), round(svcca(X, Y, variance_threshold=1.0), 2)
    (0.99, 0.5)
    """

    def stat(A: np.ndarray, B: np.ndarray, return_ranks: bool = False) -> Any:
        Ua, Ac = _reduced_basis(A, None, None, "X")
        Ub, Bc = _reduced_basis(B, None, None, "Y")
        rho, (P, Q) = _correlations_from_bases(Ua, Ub)
        if Ua.shape[1] <= Ub.shape[1]:
            H, Z = Ua @ P, Ac
        else:
            H, Z = Ub @ Q, Bc
        alpha = np.abs(H.T @ Z).sum(axis=1)
        value = float(alpha @ rho / alpha.sum())
        return (value, (Ua.shape[1], Ub.shape[1])) if return_ranks else value

    return _uncertain_cca("PWCCA", stat, X, Y, ci, permutations, n_resamples, random_state)
