r"""Neuron (unit) matching between two networks, as in "Convergent Learning".

Li, Yosinski, Clune, Lipson & Hopcroft (ICLR 2016) ask whether two networks trained
from different initialisations learn the same *units* or only the same *subspaces*.
With activations X (n x d1) and Y (n x d2) of one layer of each network on the same
inputs:

* :func:`unit_correlation`: :math:`C_{ij} = \mathrm{corr}(x_{\cdot i}, y_{\cdot j})`;
* :func:`match_units`: one-to-one matching maximising :math:`\sum_i C_{i\pi(i)}` (the
  Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`) or semi-matching
  :math:`j^*(i) = \arg\max_j C_{ij}` (many-to-one allowed), with the distribution of
  matched correlations; :func:`matched_correlation` is its mean with bootstrap interval
  and permutation p-value;
* :func:`sparse_prediction`: each unit of Y predicted from all units of X by an
  L1-regularised linear map along a path of penalties; the loss as a function of the
  number of non-zero weights separates a local code (one weight suffices) from a
  slightly distributed one (a few weights);
* :func:`cluster_units`: spectral clustering of the joint |correlation| matrix
  :math:`[[C^{XX}, C^{XY}], [C^{YX}, C^{YY}]]`; clusters holding units of both networks are
  shared subspaces expressed in different bases (many-to-many matching).

Units with zero variance on the inputs (dead ReLUs) have no defined correlation; they
are given correlation 0 with everything and counted in the results.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from subspacekit.core.resampling import with_uncertainty
from subspacekit.core.result import Estimate
from subspacekit.core.validation import check_in, check_pair, check_random_state
from subspacekit.errors import DTypeError, ValidationError

__all__ = [
    "SparsePrediction",
    "UnitClusters",
    "UnitMatching",
    "cluster_units",
    "match_units",
    "matched_correlation",
    "sparse_prediction",
    "unit_correlation",
]

METHODS = ("one_to_one", "semi")


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns centred and scaled to unit norm; constant columns become 0 (flagged)."""
    Xc = X - X.mean(axis=0, dtype=np.float64)
    norms = np.linalg.norm(Xc, axis=0)
    scale = np.max(np.abs(X), axis=0) * np.sqrt(X.shape[0])
    constant = norms <= 1e-12 * np.maximum(scale, np.finfo(np.float64).tiny)
    Z = Xc / np.where(constant, 1.0, norms)
    Z[:, constant] = 0.0
    return Z, constant


def _correlation(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Zx, cx = _standardise(X.astype(np.float64, copy=False))
    Zy, cy = _standardise(Y.astype(np.float64, copy=False))
    return np.clip(Zx.T @ Zy, -1.0, 1.0), cx, cy


def unit_correlation(X: Any, Y: Any) -> np.ndarray:
    """Pearson correlation of every unit of X with every unit of Y, shape (d1, d2).

    Constant units get correlation 0.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> unit_correlation(X, -X[:, :1])
    array([[-1.],
           [ 0.]])
    """
    X, Y = check_pair(X, Y, min_samples=2)
    return _correlation(X, Y)[0]


@dataclass(frozen=True)
class UnitMatching:
    """A matching of units of X to units of Y.

    Attributes
    ----------
    method : str
        ``"one_to_one"`` or ``"semi"``.
    units_x, units_y : ndarray of int
        Matched pairs ``(units_x[m], units_y[m])``.
    correlations : ndarray
        Correlation of each matched pair.
    n_constant_x, n_constant_y : int
        Units with zero variance (correlation set to 0).
    """

    method: str
    units_x: np.ndarray
    units_y: np.ndarray
    correlations: np.ndarray
    n_constant_x: int = 0
    n_constant_y: int = 0
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        """Mean matched correlation."""
        return float(np.mean(self.correlations))

    def summary(self) -> dict[str, float]:
        """Mean, median, quartiles, minimum and maximum of the matched correlations."""
        c = self.correlations
        q = np.quantile(c, [0.0, 0.25, 0.5, 0.75, 1.0])
        return {
            "mean": float(c.mean()),
            "min": float(q[0]),
            "q25": float(q[1]),
            "median": float(q[2]),
            "q75": float(q[3]),
            "max": float(q[4]),
            "n_pairs": int(c.size),
        }


def _match(C: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    if method == "semi":
        return np.arange(C.shape[0]), np.argmax(C, axis=1)
    rows, cols = linear_sum_assignment(C, maximize=True)
    return rows, cols


def match_units(X: Any, Y: Any, *, method: str = "one_to_one") -> UnitMatching:
    """Match the units of X to units of Y by activation correlation.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        One layer's activations of two networks on the same inputs (converted to numpy).
    method : {"one_to_one", "semi"}
        Hungarian matching maximising the total correlation (min(d1, d2) pairs), or
        each unit of X to its most correlated unit of Y (d1 pairs).

    Returns
    -------
    UnitMatching

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> m = match_units(X, X[:, [2, 0, 3, 1]] + rng.normal(size=(500, 4)))
    >>> m.units_y, round(m.mean, 1)
    (array([1, 3, 0, 2]), 0.7)
    """
    check_in(method, METHODS, "method")
    X, Y = check_pair(X, Y, min_samples=2)
    C, cx, cy = _correlation(X, Y)
    ux, uy = _match(C, method)
    return UnitMatching(
        method, ux, uy, C[ux, uy], int(cx.sum()), int(cy.sum()), details={"correlation_matrix": C}
    )


def matched_correlation(
    X: Any,
    Y: Any,
    *,
    method: str = "one_to_one",
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    """Mean correlation of matched units, with bootstrap interval and permutation p-value.

    Parameters
    ----------
    X, Y, method
        As in :func:`match_units`.
    ci, permutations, n_resamples, random_state
        See :func:`~subspacekit.compare.cka`; each replicate re-runs the matching.

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 3))
    >>> round(matched_correlation(X, X[:, ::-1] * 2.0 + 1.0), 6)
    1.0
    """
    check_in(method, METHODS, "method")
    X, Y = check_pair(X, Y, min_samples=2)

    def statistic(A: np.ndarray, B: np.ndarray) -> float:
        C = _correlation(A, B)[0]
        ux, uy = _match(C, method)
        return float(C[ux, uy].mean())

    return with_uncertainty(
        statistic,
        X,
        Y,
        value=statistic(X, Y),
        ci=ci,
        permutations=permutations,
        n_resamples=n_resamples,
        random_state=random_state,
        method=f"{method} matched correlation",
    )


@dataclass(frozen=True)
class SparsePrediction:
    """Sparse (L1) prediction of units of Y from all units of X.

    Attributes
    ----------
    loss_by_n_nonzero : ndarray of shape (max_nonzero,)
        Entry k-1: mean over predicted units of the lowest held-out loss
        :math:`1 - R^2` of a least-squares refit on a support of at most k units found
        along the Lasso path (1 when the path has no such support).
    lasso_loss_by_n_nonzero : ndarray of shape (max_nonzero,)
        The same for the (shrunk) Lasso fits themselves, at the knots of the path.
    per_unit_loss : ndarray of shape (n_units, max_nonzero)
        ``loss_by_n_nonzero`` before averaging over units.
    units_y : ndarray of int
        The units of Y that were predicted.
    """

    loss_by_n_nonzero: np.ndarray
    lasso_loss_by_n_nonzero: np.ndarray
    per_unit_loss: np.ndarray
    units_y: np.ndarray


def sparse_prediction(
    X: Any,
    Y: Any,
    *,
    max_nonzero: int = 10,
    max_units: int | None = None,
    test_fraction: float = 0.25,
    random_state: Any = None,
) -> SparsePrediction:
    r"""Predict each unit of Y from all units of X along the Lasso path (Li et al. 2016).

    Units are standardised on a random ``1 - test_fraction`` of the rows; for each
    target unit the exact Lasso path (LARS, :func:`sklearn.linear_model.lars_path`) is
    followed until more than ``max_nonzero`` units are active. At every knot the held-out
    loss :math:`1 - R^2` is recorded for the Lasso fit and for a least-squares refit on
    its support; the best loss with at most k units, for k = 1..max_nonzero, measures how
    local (k = 1 suffices) or distributed (a few are needed) the code is.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Converted to numpy float64.
    max_nonzero : int
        Largest support size followed.
    max_units : int, optional
        Predict a random subset of this many units of Y (all by default).
    test_fraction : float
        Fraction of rows held out for the loss.
    random_state : None, int or RandomState
        Seed of the split and of the unit subset.

    Returns
    -------
    SparsePrediction

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(400, 6))
    >>> Y = np.c_[X[:, 0], X[:, 1] + X[:, 2] + X[:, 3]]
    >>> sp = sparse_prediction(X, Y, max_nonzero=3, random_state=0)
    >>> np.round(sp.loss_by_n_nonzero, 2)  # unit 0 needs one weight, unit 1 three
    array([0.38, 0.19, 0.  ])
    """
    from sklearn.linear_model import lars_path

    X, Y = check_pair(X, Y, min_samples=8)
    X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
    if isinstance(max_nonzero, bool) or not isinstance(max_nonzero, numbers.Integral):
        raise DTypeError(f"max_nonzero must be an integer; got {type(max_nonzero).__name__}")
    if max_nonzero < 1:
        raise ValidationError(f"max_nonzero must be >= 1; got {max_nonzero}")
    if not 0.0 < test_fraction < 1.0:
        raise ValidationError(f"test_fraction must lie in (0, 1); got {test_fraction}")
    rng = check_random_state(random_state)
    n = X.shape[0]
    order = rng.permutation(n)
    n_test = max(2, round(test_fraction * n))
    te, tr = order[:n_test], order[n_test:]
    keep_x = ~_standardise(X[tr])[1]
    mx = X[tr][:, keep_x].mean(axis=0)
    sx = np.linalg.norm(X[tr][:, keep_x] - mx, axis=0)
    Zx, Zx_te = (X[tr][:, keep_x] - mx) / sx, (X[te][:, keep_x] - mx) / sx
    units = np.flatnonzero(~_standardise(Y[tr])[1])
    if max_units is not None and max_units < units.size:
        units = np.sort(rng.choice(units, size=int(max_units), replace=False))
    if units.size == 0:
        raise ValidationError("every unit of Y is constant on the training rows")
    gram = Zx.T @ Zx
    refit = np.ones((units.size, max_nonzero))
    shrunk = np.ones((units.size, max_nonzero))
    for row, j in enumerate(units):
        my = Y[tr, j].mean()
        sy = np.linalg.norm(Y[tr, j] - my)
        y, y_te = (Y[tr, j] - my) / sy, (Y[te, j] - my) / sy
        denom = float(np.sum((y_te - y_te.mean()) ** 2))
        xy = Zx.T @ y
        _, _, coefs = lars_path(Zx, y, Xy=xy, Gram=gram, method="lasso", max_iter=4 * max_nonzero)
        for step in range(coefs.shape[1]):
            support = np.flatnonzero(coefs[:, step])
            size = support.size
            if size == 0 or size > max_nonzero:
                continue
            lasso_loss = float(np.sum((y_te - Zx_te @ coefs[:, step]) ** 2)) / denom
            w = np.linalg.lstsq(gram[np.ix_(support, support)], xy[support], rcond=None)[0]
            refit_loss = float(np.sum((y_te - Zx_te[:, support] @ w) ** 2)) / denom
            shrunk[row, size - 1] = min(shrunk[row, size - 1], lasso_loss)
            refit[row, size - 1] = min(refit[row, size - 1], refit_loss)
    refit = np.minimum.accumulate(refit, axis=1)
    shrunk = np.minimum.accumulate(shrunk, axis=1)
    return SparsePrediction(refit.mean(axis=0), shrunk.mean(axis=0), refit, units)


@dataclass(frozen=True)
class UnitClusters:
    """Spectral clusters of the units of both networks.

    Attributes
    ----------
    labels_x, labels_y : ndarray of int
        Cluster of each unit (-1 for constant units, left out).
    counts : ndarray of shape (n_clusters, 2)
        Units of X and of Y in each cluster.
    shared_fraction : float
        Fraction of clusters holding units of both networks.
    """

    labels_x: np.ndarray
    labels_y: np.ndarray
    counts: np.ndarray
    shared_fraction: float


def cluster_units(X: Any, Y: Any, n_clusters: int, *, random_state: Any = None) -> UnitClusters:
    """Spectral clustering of the joint |correlation| matrix of the units of X and Y.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Converted to numpy float64.
    n_clusters : int
        Number of groups.
    random_state : None, int or RandomState
        Seed of the k-means step of spectral clustering.

    Returns
    -------
    UnitClusters

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(500, 2))
    >>> X = np.c_[Z[:, [0, 0]], Z[:, [1, 1]]] + 0.3 * rng.normal(size=(500, 4))
    >>> Y = np.c_[Z[:, [1, 0]]] + 0.3 * rng.normal(size=(500, 2))
    >>> cl = cluster_units(X, Y, 2, random_state=0)
    >>> cl.counts.tolist(), cl.shared_fraction
    ([[2, 1], [2, 1]], 1.0)
    """
    from sklearn.cluster import SpectralClustering

    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
        raise DTypeError(f"n_clusters must be an integer; got {type(n_clusters).__name__}")
    X, Y = check_pair(X, Y, min_samples=2)
    J = np.c_[X, Y].astype(np.float64, copy=False)
    Z, constant = _standardise(J)
    keep = np.flatnonzero(~constant)
    if not 2 <= n_clusters <= keep.size:
        raise ValidationError(
            "n_clusters must lie in [2, number of non-constant units = "
            f"{keep.size}]; got {n_clusters}"
        )
    affinity = np.abs(Z[:, keep].T @ Z[:, keep])
    rs = check_random_state(random_state).randint(2**31 - 1)
    labels_kept = SpectralClustering(
        n_clusters=int(n_clusters), affinity="precomputed", random_state=rs
    ).fit_predict(affinity)
    labels = np.full(J.shape[1], -1)
    labels[keep] = labels_kept
    d1 = X.shape[1]
    lx, ly = labels[:d1], labels[d1:]
    counts = np.array([[np.sum(lx == c), np.sum(ly == c)] for c in range(int(n_clusters))])
    shared = float(np.mean((counts[:, 0] > 0) & (counts[:, 1] > 0)))
    # Cluster ids are arbitrary; order them by their first unit so results are stable.
    first = [int(np.flatnonzero(labels == c)[0]) for c in range(int(n_clusters))]
    remap = np.empty(int(n_clusters), dtype=int)
    remap[np.argsort(first)] = np.arange(int(n_clusters))
    lx = np.where(lx >= 0, remap[np.maximum(lx, 0)], -1)
    ly = np.where(ly >= 0, remap[np.maximum(ly, 0)], -1)
    counts = counts[np.argsort(first)]
    return UnitClusters(lx, ly, counts, shared)
