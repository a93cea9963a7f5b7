"""Least squares regression subspace clustering, closed form (Lu et al., ECCV 2012).

Each sample is coded by the others with a ridge penalty:

.. math::

    \\min_{c_j}\\ \\|x_j - \\textstyle\\sum_i c_{ji} x_i\\|_2^2 + \\lambda \\|c_j\\|_2^2
    \\quad (\\text{and } c_{jj} = 0 \\text{ for LSR1}).

With :math:`G = X X^\\top` and :math:`D = (G + \\lambda I)^{-1}` the solutions are

.. math::

    \\text{LSR2: } C = I - \\lambda D = (G + \\lambda I)^{-1} G,
    \\qquad
    \\text{LSR1: } C = I - \\operatorname{diag}(D)^{-1} D,

(row :math:`j` of LSR1 is :math:`e_j - D_{j,:}/D_{jj}`: the Lagrange multiplier of
:math:`c_{jj} = 0` only rescales the unconstrained solution). :math:`D` is applied through
the thin SVD of ``X``, so the cost is :math:`O(n^2 r)` for rank ``r``; the representation
is dense (the ridge penalty does not sparsify), so memory is :math:`O(n^2)`.

LSR is block diagonal when the subspaces are independent (their dimensions add up to
at most the ambient dimension) but mixes subspaces otherwise; it is a fast baseline.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((30, 3)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 3)) @ B.T for B in bases])
>>> model = LSR(n_clusters=3, random_state=0).fit(X)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(np.repeat([0, 1, 2], 40), model.labels_)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from subspacekit.cluster.spectral import SelfExpressiveClustering
from subspacekit.core.validation import check_in, check_positive

__all__ = ["LSR", "lsr_representation"]


def lsr_representation(X: np.ndarray, lam: float = 0.01, *, zero_diagonal: bool = True) -> Any:
    """Closed-form least-squares self-representation of the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    lam : float
        Ridge weight :math:`\\lambda > 0`.
    zero_diagonal : bool
        LSR1 (``c_jj = 0``) if True, LSR2 otherwise.

    Returns
    -------
    C : ndarray of shape (n_samples, n_samples)
        Row ``j`` holds the code of sample ``j``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> np.round(lsr_representation(X, 0.1), 3) + 0.0  # + 0.0 turns -0. into 0.
    array([[0.   , 0.909, 0.   ],
           [0.909, 0.   , 0.   ],
           [0.   , 0.   , 0.   ]])
    """
    n = X.shape[0]
    P, s, _ = np.linalg.svd(np.asarray(X, dtype=np.float64), full_matrices=False)
    # D = (G + lam I)^{-1} = P diag(1/(s^2+lam) - 1/lam) P^T + I/lam
    D = (P * (1.0 / (s**2 + lam) - 1.0 / lam)) @ P.T
    D[np.diag_indices(n)] += 1.0 / lam
    if zero_diagonal:
        C = -D / np.diag(D)[:, None]
        C[np.diag_indices(n)] = 0.0
    else:
        C = -lam * D
        C[np.diag_indices(n)] += 1.0
    return C


class LSR(SelfExpressiveClustering):
    """Least squares regression (LSR) subspace clustering.

    Parameters
    ----------
    n_clusters : int
    lam : float, default=0.01
        Ridge weight.
    zero_diagonal : bool, default=True
        LSR1 (exclude each sample from its own code) or LSR2.
    normalize : bool, default=True
        Scale each sample to unit l2 norm first.
    affinity : {"symmetrize", "max_normalized", "nearest_neighbors"}, default="symmetrize"
    n_neighbors : int, default=3
    assign_labels : {"kmeans", "snem"}, default="kmeans"
    n_init : int, default=20
    random_state : int, RandomState or None

    Attributes
    ----------
    representation_ : ndarray of shape (n_samples, n_samples)
        Dense.
    affinity_ : ndarray
    labels_ : ndarray of shape (n_samples,)
    n_connected_components_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [2, 0.1, 0], [0, 1, 0], [0.1, 3, 0]], dtype=float)
    >>> LSR(n_clusters=2, random_state=0).fit_predict(X).tolist()
    [1, 1, 0, 0]
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        lam: float = 0.01,
        zero_diagonal: bool = True,
        normalize: bool = True,
        affinity: str = "symmetrize",
        n_neighbors: int = 3,
        assign_labels: str = "kmeans",
        n_init: int = 20,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.lam = lam
        self.zero_diagonal = zero_diagonal
        self.normalize = normalize
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.assign_labels = assign_labels
        self.n_init = n_init
        self.random_state = random_state

    def _self_representation(self, X: np.ndarray) -> np.ndarray:
        lam = check_positive(self.lam, "lam")
        check_in(self.zero_diagonal, [True, False], "zero_diagonal")
        if self.normalize:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            X = X / norms
        return lsr_representation(X, lam, zero_diagonal=self.zero_diagonal)
