r"""Mutual k-nearest-neighbour alignment (Huh, Cheung, Wang & Isola, ICML 2024).

For each input i, let :math:`N_X(i)` and :math:`N_Y(i)` be its k nearest neighbours
(other inputs) in each representation. The alignment is the mean overlap

.. math::

    m_k(X, Y) = \frac{1}{n} \sum_i \frac{|N_X(i) \cap N_Y(i)|}{k} \in [0, 1],

which is about :math:`k/(n-1)` for unrelated representations. It sees only local
neighbourhoods, so it is invariant to any map that keeps every neighbourhood
(orthogonal maps, isotropic scaling, and for cosine distance per-input scaling).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from subspacekit.core.resampling import bootstrap_interval, permutation_pvalue
from subspacekit.core.result import Estimate
from subspacekit.core.validation import (
    check_in,
    check_int,
    check_pair,
    check_probability,
    check_random_state,
)
from subspacekit.errors import DTypeError, ValidationError

__all__ = ["knn_indices", "mutual_knn"]

METRICS = ("cosine", "euclidean")


def knn_indices(X: np.ndarray, n_neighbors: int, metric: str) -> np.ndarray:
    """Indices (n x k) of each row's k nearest other rows, nearest first."""
    X = X.astype(np.float64, copy=False)
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValidationError(
                f"{int((norms == 0).sum())} rows are zero vectors; cosine neighbours are "
                "undefined for them: use metric='euclidean'"
            )
        X = X / norms  # Euclidean neighbours of unit vectors are the cosine neighbours
    nn = NearestNeighbors(n_neighbors=n_neighbors).fit(X)
    return nn.kneighbors(return_distance=False)  # query=None leaves each point out


def _overlaps(Nx: np.ndarray, Ny: np.ndarray) -> np.ndarray:
    """Per-row fraction of shared neighbours."""
    shared = (Nx[:, :, None] == Ny[:, None, :]).any(axis=2).sum(axis=1)
    return shared / Nx.shape[1]


def mutual_knn(
    X: Any,
    Y: Any,
    *,
    n_neighbors: int = 10,
    metric: str = "cosine",
    ci: float | None = None,
    permutations: int = 0,
    n_resamples: int = 200,
    random_state: Any = None,
) -> float | Estimate:
    """Mean fraction of shared k-nearest neighbours of each input in X and in Y.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n_samples, d1), (n_samples, d2)
        Representations of the same inputs (converted to numpy).
    n_neighbors : int
        k, at most n - 1.
    metric : {"cosine", "euclidean"}
        Huh et al. use normalised features (cosine).
    ci : float, optional
        Bootstrap interval over the per-input overlaps (neighbourhoods are computed once
        on all inputs: re-running the search on a resample would make copies of an
        input each other's nearest neighbours).
    permutations : int
        Shuffles of the pairing; the shuffled neighbourhoods are relabelled, not searched
        again, so a test costs O(permutations n k^2).
    n_resamples, random_state
        Bootstrap resamples and seed.

    Returns
    -------
    float or Estimate

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 8))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> mutual_knn(X, 5 * X @ Q)
    1.0
    >>> est = mutual_knn(X, X + 0.5 * rng.normal(size=(300, 8)), permutations=99, random_state=0)
    >>> round(est.value, 2), est.pvalue
    (0.39, 0.01)
    """
    check_in(metric, METRICS, "metric")
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral):
        raise DTypeError(f"n_neighbors must be an integer; got {type(n_neighbors).__name__}")
    X, Y = check_pair(X, Y, min_samples=2)
    n = X.shape[0]
    if not 1 <= n_neighbors <= n - 1:
        raise ValidationError(
            f"n_neighbors must be in [1, n - 1] = [1, {n - 1}]; got {n_neighbors}"
        )
    permutations = check_int(permutations, "permutations", low=0)
    Nx = knn_indices(X, int(n_neighbors), metric)
    Ny = knn_indices(Y, int(n_neighbors), metric)
    scores = _overlaps(Nx, Ny)
    value = float(scores.mean())
    if ci is None and permutations == 0:
        return value
    rng = check_random_state(random_state)
    details: dict[str, Any] = {"per_input": scores}
    interval = stderr = None
    if ci is not None:
        ci = check_probability(ci, "ci")
        interval, stderr, reps = bootstrap_interval(
            lambda idx: float(scores[idx].mean()),
            n,
            n_resamples=n_resamples,
            confidence=ci,
            random_state=rng,
        )
        details["bootstrap_replicates"] = reps
    pvalue = None
    if permutations:
        null = np.empty(permutations)
        for b in range(permutations):
            perm = rng.permutation(n)  # Y'[i] = Y[perm[i]]
            inverse = np.empty(n, dtype=int)
            inverse[perm] = np.arange(n)
            null[b] = _overlaps(Nx, inverse[Ny[perm]]).mean()
        pvalue = permutation_pvalue(value, null)
        details["null_distribution"] = null
    return Estimate(
        value,
        ci=interval,
        stderr=stderr,
        pvalue=pvalue,
        method=f"mutual {n_neighbors}-NN ({metric})",
        n=n,
        confidence=ci,
        details=details,
    )
