"""K-subspaces: alternate between assigning samples and refitting subspaces (with restarts).

K-subspaces (Bradley & Mangasarian 2000; Tseng 2000) minimises the total squared
distance of the samples to their nearest of ``k`` linear (or affine) subspaces:

.. math::

    \\min_{\\{S_j\\},\\,\\ell}\\ \\sum_i \\operatorname{dist}(x_i, S_{\\ell_i})^2
    = \\sum_i \\big(\\|x_i - \\mu_{\\ell_i}\\|^2 - \\|U_{\\ell_i}^\\top (x_i - \\mu_{\\ell_i})\\|^2\\big).

Given the labels, the best subspace of a cluster is spanned by its top principal
directions (its SVD); given the subspaces, each sample goes to the nearest one. Each
step cannot increase the objective, so the alternation converges, but only to a local
minimum, hence the restarts (``n_init``) from which the lowest objective is kept.

Seeding matters most. ``init="neighbors"`` seeds like k-means++ on subspaces: a seed
sample is drawn with probability proportional to its squared distance to the subspaces
chosen so far, and its first subspace is fitted to it and its nearest neighbours in
angle (largest :math:`|\\cos|`), which on a union of subspaces mostly lie on the seed's
own subspace.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((30, 3)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 3)) @ B.T for B in bases])
>>> model = KSubspaces(n_clusters=3, subspace_dim=3, random_state=0).fit(X)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(np.repeat([0, 1, 2], 40), model.labels_)
1.0
>>> [s.dim for s in model.subspaces_]
[3, 3, 3]
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from subspacekit.cluster.spectral import check_n_clusters
from subspacekit.core import Subspace
from subspacekit.core.validation import check_array, check_in, check_random_state
from subspacekit.errors import DTypeError, NotFittedError, RankError, ValidationError

__all__ = ["KSubspaces"]


def _fit_subspace(points: np.ndarray, dim: int, affine: bool) -> tuple[np.ndarray, np.ndarray]:
    mean = points.mean(axis=0) if affine else np.zeros(points.shape[1])
    centred = points - mean
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    basis = Vt[:dim].T
    if basis.shape[1] < dim:  # fewer points than dimensions: pad with random directions
        extra = np.random.RandomState(basis.shape[1]).standard_normal((points.shape[1], dim))
        full = np.linalg.qr(np.hstack([basis, extra]))[0]
        basis = full[:, :dim]
    return basis, mean


def _squared_distances(X: np.ndarray, bases: list[np.ndarray], means: list[np.ndarray]) -> Any:
    sq_norms = np.einsum("ij,ij->i", X, X)
    if not any(mu.any() for mu in means):
        # linear subspaces: one product with all bases side by side
        coords = X @ np.hstack(bases)
        bounds = np.cumsum([0] + [U.shape[1] for U in bases])
        out = np.column_stack(
            [np.sum(coords[:, a:b] ** 2, axis=1) for a, b in itertools.pairwise(bounds)]
        )
        return np.maximum(sq_norms[:, None] - out, 0.0)
    out = np.empty((X.shape[0], len(bases)))
    for j, (U, mu) in enumerate(zip(bases, means, strict=True)):
        centred = X - mu
        out[:, j] = np.einsum("ij,ij->i", centred, centred) - np.sum((centred @ U) ** 2, axis=1)
    return np.maximum(out, 0.0)


class KSubspaces(ClusterMixin, BaseEstimator):
    """K-subspaces clustering with restarts.

    Parameters
    ----------
    n_clusters : int
    subspace_dim : int or sequence of int, default=1
        Dimension of every subspace, or one per cluster.
    affine : bool, default=False
        Fit affine subspaces (a mean per cluster) instead of linear ones.
    init : {"neighbors", "random"}, default="neighbors"
        ``"neighbors"``: k-means++-style seeding described in the module docstring;
        ``"random"``: random labels.
    n_init : int, default=10
        Restarts; the run with the lowest objective is kept.
    max_iter : int, default=100
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    subspaces_ : list of :class:`~subspacekit.core.Subspace`
        The fitted subspaces (with ``mean`` when ``affine``).
    inertia_ : float
        Sum of squared distances of the samples to their subspaces.
    n_iter_ : int
        Iterations of the kept run.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [2, 0, 0], [-1, 0, 0], [0, 1, 0], [0, 3, 0], [0, -2, 0]])
    >>> KSubspaces(n_clusters=2, subspace_dim=1, random_state=0).fit_predict(X).tolist()
    [1, 1, 1, 0, 0, 0]
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        subspace_dim: int | Sequence[int] = 1,
        affine: bool = False,
        init: str = "neighbors",
        n_init: int = 10,
        max_iter: int = 100,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.subspace_dim = subspace_dim
        self.affine = affine
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _dims(self, k: int, d: int) -> list[int]:
        dims = self.subspace_dim
        if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
            values = [int(dims)] * k
        elif isinstance(dims, Sequence) and not isinstance(dims, str):
            values = [int(v) for v in dims]
            if len(values) != k:
                raise ValidationError(
                    f"subspace_dim has {len(values)} entries for n_clusters={k}; expected {k}"
                )
        else:
            raise DTypeError(
                f"subspace_dim must be an int or a sequence of int; got {type(dims).__name__}"
            )
        if min(values) < 1:
            raise ValidationError(f"subspace_dim must be >= 1; got {values}")
        if max(values) >= d:
            raise RankError(
                f"subspace_dim {max(values)} must be below the ambient dimension {d} "
                "(a subspace of full dimension contains every sample)"
            )
        return values

    def _seed(
        self, X: np.ndarray, unit: np.ndarray, dims: list[int], rng: np.random.RandomState
    ) -> np.ndarray:
        n = X.shape[0]
        k = len(dims)
        if self.init == "random":
            labels = np.asarray(rng.randint(k, size=n))
            labels[rng.permutation(n)[:k]] = np.arange(k)
            return labels
        bases: list[np.ndarray] = []
        means: list[np.ndarray] = []
        distance = np.full(n, np.inf)
        for j, dim in enumerate(dims):
            if j == 0:
                seed = rng.randint(n)
            else:
                weights = distance / distance.sum() if distance.sum() > 0 else None
                seed = rng.choice(n, p=weights)
            # the seed and its nearest neighbours in angle (|cos|) define the subspace
            n_points = min(n, max(dim + 1, 2 * dim))
            closeness = np.abs(unit @ unit[seed])
            neighbours = np.argsort(-closeness)[:n_points]
            basis, mean = _fit_subspace(X[neighbours], dim, bool(self.affine))
            bases.append(basis)
            means.append(mean)
            distance = np.minimum(distance, _squared_distances(X, [basis], [mean])[:, 0])
        return np.argmin(_squared_distances(X, bases, means), axis=1)

    def _run(
        self, X: np.ndarray, labels: np.ndarray, dims: list[int], rng: np.random.RandomState
    ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray], float, int]:
        n = X.shape[0]
        k = len(dims)
        bases: list[np.ndarray] = []
        means: list[np.ndarray] = []
        it = 0
        while it < int(self.max_iter):
            it += 1
            bases, means = [], []
            for j in range(k):
                members = X[labels == j]
                if members.shape[0] == 0:  # empty cluster: re-seed it at a random sample
                    members = X[rng.randint(n)][None, :]
                basis, mean = _fit_subspace(members, dims[j], bool(self.affine))
                bases.append(basis)
                means.append(mean)
            distances = _squared_distances(X, bases, means)
            new_labels = np.argmin(distances, axis=1)
            if np.array_equal(new_labels, labels):
                break
            labels = new_labels
        distances = _squared_distances(X, bases, means)
        inertia = float(distances[np.arange(n), labels].sum())
        return labels, bases, means, inertia, it

    def fit(self, X: Any, y: Any = None) -> KSubspaces:
        """Cluster the rows of ``X`` into ``n_clusters`` subspaces.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        X = check_array(X, "X", min_samples=2)
        X = X.astype(np.float64, copy=False)
        n, d = X.shape
        k = check_n_clusters(self.n_clusters, n)
        dims = self._dims(k, d)
        check_in(self.init, ["neighbors", "random"], "init")
        if int(self.n_init) < 1:
            raise ValidationError(f"n_init must be >= 1; got {self.n_init}")
        rng = check_random_state(self.random_state)
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        unit = X / np.where(norms == 0, 1.0, norms)
        best = None
        for _ in range(int(self.n_init)):
            labels = self._seed(X, unit, dims, rng)
            result = self._run(X, labels, dims, rng)
            if best is None or result[3] < best[3]:
                best = result
        assert best is not None
        labels, bases, means, inertia, n_iter = best
        self.labels_ = labels.astype(np.int64)
        self.subspaces_ = [
            Subspace.from_basis(
                U,
                mean=mu if self.affine else None,
                meta={"method": "KSubspaces", "cluster": j},
            )
            for j, (U, mu) in enumerate(zip(bases, means, strict=True))
        ]
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Assign new samples to their nearest fitted subspace.

        Examples
        --------
        >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
        >>> model = KSubspaces(2, random_state=0).fit(X)
        >>> bool(model.predict([[5.0, 0.1]])[0] == model.labels_[0])
        True
        """
        if not hasattr(self, "subspaces_"):
            raise NotFittedError("KSubspaces is not fitted yet; call fit first")
        X = check_array(X, "X")
        if X.shape[1] != self.subspaces_[0].ambient_dim:
            raise ValidationError(
                f"X has {X.shape[1]} features; the model was fitted on "
                f"{self.subspaces_[0].ambient_dim}"
            )
        distances = np.column_stack([s.residual(X, squared=True) for s in self.subspaces_])
        return np.argmin(distances, axis=1)
