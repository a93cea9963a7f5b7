"""Spectral subspace clustering for attributed graphs: S2CAG and M-S2CAG (Lin et al., KDD 2025).

Inputs are a sparse adjacency :math:`A` (``n x n``) and node attributes :math:`X`
(``n x d``). Following the authors' released code (HKBU-LAGAS/S2CAG):

1. **Attributes**: TF-IDF (smooth idf, :math:`\\ln\\frac{1+n}{1+\\mathrm{df}} + 1`) and
   unit-length rows, then :math:`\\hat X = \\operatorname{diag}(X X^\\top \\mathbf 1)^{-1/2} X`
   (degree normalisation in the attribute-similarity graph).
2. **Graph operator**: :math:`\\bar A = \\tilde D^{-1/2}(A + I)\\tilde D^{-1/2}` and
   :math:`P = \\operatorname{RowNormalize}(\\bar A + I)` (the self-loop is added twice).
3. **Smoothed representation**: :math:`Z = c\\, f_T` with :math:`f_0 = \\hat X`,
   :math:`f_{t+1} = \\alpha (P f_t + \\hat X)` and :math:`c = (1-\\alpha)/(1-\\alpha^{T+1})`,
   i.e. :math:`Z = c\\,(\\alpha^T P^T + \\sum_{l<T} \\alpha^{l+1} P^l)\\hat X`, a truncated
   personalised-PageRank smoothing (:math:`\\alpha` may exceed 1).
4. **S2CAG**: the self-expressive problem
   :math:`\\min_S \\|Z - SZ\\|_F^2 + \\|S\\|_* + \\|S^\\top S - I\\|_F^2` is solved by the top
   singular subspace of :math:`Z`; the embedding is the left singular vectors 2..k+1
   (the leading, trivial one is dropped), with the ``svd_flip`` sign convention,
   computed by randomized SVD (oversampling 10, ``n_iter`` power iterations).
5. **M-S2CAG**: with :math:`Z' = \\operatorname{diag}(\\sqrt{\\max(Z\\mathbf 1, 0)})\\,Z`,
   :math:`d = Z'Z'^\\top\\mathbf 1` and :math:`2m = \\mathbf 1^\\top d`, the embedding is the
   top-``k`` invariant subspace of the modularity-like matrix
   :math:`B = Z'Z'^\\top - \\gamma\\, d d^\\top / 2m`, found by ``n_iter`` steps of orthogonal
   iteration from a seeded Gaussian start.
6. **Rounding**: SNEM (:func:`~subspacekit.cluster.spectral.snem_round`).

:math:`Z` is either formed explicitly (``n x d``, dense) or, when that is dearer, only
applied as an implicit :class:`scipy.sparse.linalg.LinearOperator`: products with
:math:`Z` and :math:`Z^\\top` run the recurrence on blocks of ``k + 10`` vectors, so
the cost is :math:`O((\\mathrm{nnz}(A)\\,T + \\mathrm{nnz}(X))\\,k)` per power iteration,
linear in the number of edges. No ``n x n`` dense matrix is ever formed.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([0, 1, 2], 30)
>>> same = y[:, None] == y[None, :]
>>> A = sp.csr_matrix(np.triu(rng.random((90, 90)) < np.where(same, 0.3, 0.01), 1))
>>> A = A + A.T
>>> X = sp.csr_matrix((rng.random((90, 30)) < 0.05 + 0.25 * (np.arange(30) // 10 == y[:, None])))
>>> labels = MS2CAG(n_clusters=3).fit_predict(X, adjacency=A)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(y, labels) > 0.95
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.preprocessing import normalize

from subspacekit.cluster.spectral import check_n_clusters, snem_round
from subspacekit.core.validation import check_array, check_in, check_random_state
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    ShapeError,
    ValidationError,
)

__all__ = [
    "MS2CAG",
    "PRESETS",
    "S2CAG",
    "attribute_normalization",
    "propagation_operator",
    "randomized_left_singular_vectors",
    "smoothed_representation",
    "smoothed_representation_operator",
]

# (n_hops T, alpha, n_iter tau[, gamma]) from the authors' src/run.sh, per data set.
PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "citeseer": {
        "S2CAG": {"n_hops": 60, "alpha": 0.8, "n_iter": 7},
        "MS2CAG": {"n_hops": 40, "alpha": 0.8, "n_iter": 100, "gamma": 0.9},
    },
    "acm": {
        "S2CAG": {"n_hops": 15, "alpha": 0.8, "n_iter": 7},
        "MS2CAG": {"n_hops": 15, "alpha": 0.8, "n_iter": 50, "gamma": 1.0},
    },
    "wiki": {
        "S2CAG": {"n_hops": 6, "alpha": 1.7, "n_iter": 7},
        "MS2CAG": {"n_hops": 12, "alpha": 1.7, "n_iter": 50, "gamma": 0.9},
    },
    "pubmed": {
        "S2CAG": {"n_hops": 175, "alpha": 1.8, "n_iter": 7},
        "MS2CAG": {"n_hops": 175, "alpha": 1.8, "n_iter": 50, "gamma": 1.0},
    },
    "arxiv": {
        "S2CAG": {"n_hops": 30, "alpha": 1.4, "n_iter": 4},
        "MS2CAG": {"n_hops": 30, "alpha": 2.5, "n_iter": 50, "gamma": 1.0},
    },
    "corafull": {
        "S2CAG": {"n_hops": 20, "alpha": 0.9, "n_iter": 7},
        "MS2CAG": {"n_hops": 7, "alpha": 1.4, "n_iter": 100, "gamma": 1.0},
    },
    "amazon-photo": {
        "S2CAG": {"n_hops": 9, "alpha": 1.5, "n_iter": 7},
        "MS2CAG": {"n_hops": 9, "alpha": 1.5, "n_iter": 50, "gamma": 1.0},
    },
    "dblp": {
        "S2CAG": {"n_hops": 10, "alpha": 0.9, "n_iter": 7},
        "MS2CAG": {"n_hops": 10, "alpha": 0.9, "n_iter": 50, "gamma": 1.0},
    },
}
# The README's defaults, used when neither a preset nor a value is given.
_DEFAULTS = {"n_hops": 10, "alpha": 0.9, "n_iter": 7, "gamma": 1.0}
_OVERSAMPLES = 10


def propagation_operator(adjacency: Any) -> sp.csr_matrix:
    """Row-normalised propagation matrix :math:`P = \\mathrm{RowNorm}(\\tilde D^{-1/2}(A+I)\\tilde D^{-1/2} + I)`.

    Examples
    --------
    >>> A = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> propagation_operator(A).toarray()  # RowNorm([[1.5, .5], [.5, 1.5]])
    array([[0.75, 0.25],
           [0.25, 0.75]])
    """
    A = sp.csr_matrix(adjacency, dtype=np.float64)
    n = A.shape[0]
    eye = sp.identity(n, format="csr")
    A_loop = A + eye
    degree = np.asarray(A_loop.sum(axis=1)).ravel()
    inv_sqrt = np.zeros(n)
    inv_sqrt[degree > 0] = degree[degree > 0] ** -0.5
    sym = sp.diags(inv_sqrt) @ A_loop @ sp.diags(inv_sqrt) + eye
    row = np.asarray(sym.sum(axis=1)).ravel()
    inv_row = np.zeros(n)
    inv_row[row != 0] = 1.0 / row[row != 0]
    return (sp.diags(inv_row) @ sym).tocsr()


def attribute_normalization(features: Any, *, tfidf: bool = True) -> sp.csr_matrix:
    """TF-IDF and unit rows, then :math:`\\operatorname{diag}(XX^\\top\\mathbf 1)^{-1/2} X`.

    Without ``tfidf`` the rows are only scaled to unit length. Rows whose
    attribute-graph degree is zero are left unscaled.

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0]]))
    >>> np.round(attribute_normalization(X, tfidf=False).toarray(), 4)  # both degrees 1 + 1/sqrt(2)
    array([[0.7654, 0.    ],
           [0.5412, 0.5412]])
    """
    X = sp.csr_matrix(features, dtype=np.float64)
    if tfidf:
        X = sp.csr_matrix(TfidfTransformer(norm="l2", smooth_idf=True).fit_transform(X))
    else:
        X = sp.csr_matrix(normalize(X, norm="l2"))
    degree = X @ np.asarray(X.sum(axis=0)).ravel()
    degree[degree == 0] = 1.0
    # negative degrees cannot come from non-negative attributes; guard the square root
    degree = np.abs(degree)
    return (sp.diags(1.0 / np.sqrt(degree)) @ X).tocsr()


def _polynomial(P: Any, block: np.ndarray, n_hops: int, alpha: float) -> np.ndarray:
    # f_{t+1} = alpha (P f_t + f_0), T times, then the normalising factor
    f = block
    for _ in range(n_hops):
        f = alpha * (P @ f + block)
    factor = n_hops if alpha == 1.0 else (1.0 - alpha) / (1.0 - alpha ** (n_hops + 1))
    return factor * f


def smoothed_representation(
    propagation: Any, attributes: Any, n_hops: int, alpha: float
) -> np.ndarray:
    """The explicit ``n x d`` smoothed representation :math:`Z` (dense).

    Examples
    --------
    >>> P = sp.identity(2, format="csr")
    >>> smoothed_representation(P, np.eye(2), 1, 0.5)  # c = 0.5 / 0.75, f_1 = 0.5 (I + I)
    array([[0.66666667, 0.        ],
           [0.        , 0.66666667]])
    """
    X = attributes.toarray() if sp.issparse(attributes) else np.asarray(attributes, float)
    return _polynomial(propagation, X, int(n_hops), float(alpha))


def smoothed_representation_operator(
    propagation: Any, attributes: Any, n_hops: int, alpha: float
) -> LinearOperator:
    """:math:`Z = p(P)\\hat X` as an implicit ``n x d`` linear operator.

    ``Z @ V`` runs the recurrence on :math:`\\hat X V` (``n x k``); ``Z.T @ U`` runs it
    with :math:`P^\\top` on ``U`` and then applies :math:`\\hat X^\\top`. Nothing of size
    ``n x d`` or ``n x n`` is formed.

    Examples
    --------
    >>> P = sp.identity(2, format="csr")
    >>> Z = smoothed_representation_operator(P, sp.csr_matrix(np.eye(2)), 1, 0.5)
    >>> Z @ np.ones((2, 1))
    array([[1.],
           [1.]])
    """
    P = sp.csr_matrix(propagation)
    PT = P.T.tocsr()
    X = sp.csr_matrix(attributes)
    XT = X.T.tocsr()
    T, a = int(n_hops), float(alpha)

    def matmat(V: np.ndarray) -> np.ndarray:
        return _polynomial(P, np.asarray(X @ V), T, a)

    def rmatmat(U: np.ndarray) -> np.ndarray:
        return np.asarray(XT @ _polynomial(PT, np.asarray(U), T, a))

    return LinearOperator(
        shape=X.shape,
        matvec=lambda v: matmat(v.reshape(-1, 1)).ravel(),
        rmatvec=lambda u: rmatmat(u.reshape(-1, 1)).ravel(),
        matmat=matmat,
        rmatmat=rmatmat,
        dtype=np.float64,
    )


def randomized_left_singular_vectors(
    operator: Any,
    n_components: int,
    *,
    n_iter: int = 7,
    n_oversamples: int = _OVERSAMPLES,
    random_state: Any = 0,
    flip_sign: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Top left singular vectors of a matrix or linear operator (Halko, Martinsson & Tropp).

    A Gaussian block of ``n_components + n_oversamples`` columns is pushed through
    ``n_iter`` power iterations :math:`(MM^\\top)`, re-orthonormalised after each product
    for stability, and the small projected matrix is decomposed exactly.

    Returns
    -------
    U : ndarray of shape (n, n_components)
        With ``flip_sign``, each column's largest-magnitude entry is positive
        (``sklearn.utils.extmath.svd_flip``'s convention).
    s : ndarray of shape (n_components,)

    Examples
    --------
    >>> M = np.diag([3.0, 2.0, 1.0])
    >>> U, s = randomized_left_singular_vectors(M, 2, n_oversamples=1)
    >>> np.round(s, 6), np.round(np.abs(U), 6)
    (array([3., 2.]), array([[1., 0.],
           [0., 1.],
           [0., 0.]]))
    """
    n, d = operator.shape
    size = min(n_components + n_oversamples, min(n, d))
    rng = check_random_state(random_state)
    Q = operator @ rng.normal(size=(d, size))
    Q, _ = np.linalg.qr(Q)
    for _ in range(int(n_iter)):
        W, _ = np.linalg.qr(np.asarray(operator.T @ Q))
        Q, _ = np.linalg.qr(np.asarray(operator @ W))
    small = np.asarray(operator.T @ Q).T  # (size, d) = Q^T M
    U_small, s, _ = np.linalg.svd(small, full_matrices=False)
    U = Q @ U_small[:, :n_components]
    if flip_sign:
        pivot = np.argmax(np.abs(U), axis=0)
        U = U * np.sign(U[pivot, np.arange(U.shape[1])])
    return U, s[:n_components]


class _AttributedGraphClustering(ClusterMixin, BaseEstimator):
    """Shared parameter handling, input checks and operators of S2CAG and M-S2CAG."""

    _method = ""
    n_clusters: int
    preset: str | None
    n_hops: int | None
    alpha: float | None
    n_iter: int | None
    tfidf: bool
    solver: str
    random_state: Any

    def _setting(self, name: str) -> float:
        value = getattr(self, name)
        if value is not None:
            return float(value)
        if self.preset is not None:
            return float(PRESETS[self.preset][self._method].get(name, _DEFAULTS[name]))
        return float(_DEFAULTS[name])

    def _prepare(self, X: Any, adjacency: Any) -> tuple[Any, sp.csr_matrix, int]:
        if adjacency is None:
            raise ValidationError(
                f"{type(self).__name__} needs the graph: call fit(X, adjacency=A) with a "
                "sparse (n_nodes, n_nodes) adjacency matrix"
            )
        if self.preset is not None:
            check_in(self.preset, sorted(PRESETS), "preset")
        check_in(self.solver, ["auto", "implicit", "explicit"], "solver")
        if sp.issparse(X):
            features = sp.csr_matrix(X, dtype=np.float64)
            if features.data.size and not np.isfinite(features.data).all():
                bad = int((~np.isfinite(features.data)).sum())
                raise NonFiniteError(f"X contains {bad} NaN or infinite values; expected finite")
        else:
            features = sp.csr_matrix(check_array(X, "X"))
        A = sp.csr_matrix(adjacency, dtype=np.float64)
        if A.shape[0] != A.shape[1]:
            raise ShapeError(f"adjacency must be square (n_nodes, n_nodes); got {A.shape}")
        if A.shape[0] != features.shape[0]:
            raise DimensionMismatchError(
                f"adjacency has {A.shape[0]} nodes but X has {features.shape[0]} rows"
            )
        if A.data.size and not np.isfinite(A.data).all():
            raise NonFiniteError("adjacency contains NaN or infinite values; expected finite")
        if A.data.size and A.data.min() < 0:
            raise ValidationError(f"adjacency must be non-negative; got {A.data.min()}")
        k = check_n_clusters(self.n_clusters, features.shape[0])
        self.n_features_in_ = features.shape[1]
        return features, A, k

    def _operator(self, features: sp.csr_matrix, A: sp.csr_matrix, k: int) -> Any:
        n_hops = int(self._setting("n_hops"))
        alpha = self._setting("alpha")
        n_iter = int(self._setting("n_iter"))
        if n_hops < 0 or n_iter < 1:
            raise ValidationError(f"need n_hops >= 0 and n_iter >= 1; got {n_hops}, {n_iter}")
        P = propagation_operator(A)
        Xhat = attribute_normalization(features, tfidf=self.tfidf)
        n, d = Xhat.shape
        m = P.nnz
        width = k + _OVERSAMPLES
        # the authors' cost model: form Z once (m d T, then dense products) versus apply
        # it in every iteration (here with the sparse attribute matrix's nnz)
        explicit_cost = m * d * n_hops + 2 * (n_iter + 1) * n * d * width
        implicit_cost = 2 * (n_iter + 1) * (Xhat.nnz + m * n_hops) * width
        solver = self.solver
        if solver == "auto":
            solver = "explicit" if explicit_cost < implicit_cost else "implicit"
        self.solver_ = solver
        if solver == "explicit":
            return smoothed_representation(P, Xhat, n_hops, alpha)
        return smoothed_representation_operator(P, Xhat, n_hops, alpha)

    def fit(self, X: Any, y: Any = None, *, adjacency: Any = None) -> Any:
        """Cluster the nodes of an attributed graph.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_nodes, n_attributes)
            Node attributes (e.g. bag of words).
        y : ignored
        adjacency : sparse matrix of shape (n_nodes, n_nodes)
            Non-negative adjacency (self loops allowed).

        Returns
        -------
        self
        """
        features, A, k = self._prepare(X, adjacency)
        Z = self._operator(features, A, k)
        self.embedding_ = self._embed(Z, k)
        self.labels_ = snem_round(self.embedding_)
        return self

    def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """Fit and return the node labels (``adjacency`` is passed as a keyword)."""
        return self.fit(X, y, **kwargs).labels_

    def _embed(self, Z: Any, k: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class S2CAG(_AttributedGraphClustering):
    """S2CAG: spectral subspace clustering of an attributed graph (Lin et al., KDD 2025).

    Parameters
    ----------
    n_clusters : int
    preset : str or None, default=None
        Per-data-set settings from the authors' ``run.sh``: one of ``PRESETS``
        (``"acm"``, ``"wiki"``, ``"citeseer"``, ``"pubmed"``, ``"dblp"``, ``"arxiv"``,
        ``"corafull"``, ``"amazon-photo"``). Explicit arguments override it.
    n_hops : int or None
        Propagation order :math:`T` (README default 10).
    alpha : float or None
        Propagation weight :math:`\\alpha` (README default 0.9).
    n_iter : int or None
        Power iterations :math:`\\tau` of the randomized SVD (README default 7).
    tfidf : bool, default=True
        TF-IDF the attributes first (as the authors do for every data set).
    solver : {"auto", "explicit", "implicit"}, default="auto"
        Form :math:`Z` (``n x d``) or apply it implicitly; ``"auto"`` uses the authors'
        cost model.
    random_state : int, RandomState or None, default=0
        Seed of the randomized SVD (the authors use 0).

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
    embedding_ : ndarray of shape (n_nodes, n_clusters)
        Left singular vectors 2..k+1 of :math:`Z`.
    solver_ : str
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_matrix(np.kron(np.eye(2), np.ones((4, 4))) - np.eye(8))
    >>> X = np.kron(np.eye(2), np.ones((4, 3))) + 0.1
    >>> S2CAG(n_clusters=2).fit(X, adjacency=A).embedding_.shape
    (8, 2)
    """

    _method = "S2CAG"

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        preset: str | None = None,
        n_hops: int | None = None,
        alpha: float | None = None,
        n_iter: int | None = None,
        tfidf: bool = True,
        solver: str = "auto",
        random_state: Any = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.preset = preset
        self.n_hops = n_hops
        self.alpha = alpha
        self.n_iter = n_iter
        self.tfidf = tfidf
        self.solver = solver
        self.random_state = random_state

    def _embed(self, Z: Any, k: int) -> np.ndarray:
        n_components = min(k + 1, min(Z.shape))
        # k + 1 wanted vectors and k + 10 random probes in all, as in the authors' code
        U, self.singular_values_ = randomized_left_singular_vectors(
            Z,
            n_components,
            n_iter=int(self._setting("n_iter")),
            n_oversamples=_OVERSAMPLES - 1,
            random_state=self.random_state,
        )
        # the leading singular vector is (nearly) the degree direction: drop it
        embedding = U[:, 1 : k + 1]
        if embedding.shape[1] < k:
            raise ShapeError(
                f"S2CAG needs k + 1 = {k + 1} singular vectors but Z has shape {Z.shape}"
            )
        return embedding


class MS2CAG(_AttributedGraphClustering):
    """M-S2CAG: the modularity variant of S2CAG (Lin et al., KDD 2025).

    Parameters
    ----------
    n_clusters : int
    preset : str or None, default=None
        Per-data-set settings from the authors' ``run.sh`` (see :data:`PRESETS`).
    n_hops : int or None
        Propagation order :math:`T` (README default 10).
    alpha : float or None
        Propagation weight (README default 0.9).
    n_iter : int or None
        Orthogonal-iteration steps :math:`\\tau` (README default 7).
    gamma : float or None
        Weight of the null-model term (README default 1.0).
    tfidf : bool, default=True
    solver : {"auto", "explicit", "implicit"}, default="auto"
    random_state : int, RandomState or None, default=0
        Seed of the Gaussian start block (the authors use 0).

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
    embedding_ : ndarray of shape (n_nodes, n_clusters)
        Orthonormal basis of the top invariant subspace of :math:`B`.
    solver_ : str
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_matrix(np.kron(np.eye(2), np.ones((4, 4))) - np.eye(8))
    >>> X = np.kron(np.eye(2), np.ones((4, 3))) + 0.1
    >>> MS2CAG(n_clusters=2).fit_predict(X, adjacency=A).tolist()
    [1, 1, 1, 1, 0, 0, 0, 0]
    """

    _method = "MS2CAG"

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        preset: str | None = None,
        n_hops: int | None = None,
        alpha: float | None = None,
        n_iter: int | None = None,
        gamma: float | None = None,
        tfidf: bool = True,
        solver: str = "auto",
        random_state: Any = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.preset = preset
        self.n_hops = n_hops
        self.alpha = alpha
        self.n_iter = n_iter
        self.gamma = gamma
        self.tfidf = tfidf
        self.solver = solver
        self.random_state = random_state

    def _embed(self, Z: Any, k: int) -> np.ndarray:
        n = Z.shape[0]
        gamma = self._setting("gamma")
        ones = np.ones((Z.shape[1], 1))
        row_sums = np.asarray(Z @ ones).ravel()
        scale = np.sqrt(np.maximum(row_sums, 0.0))[:, None]

        def modularity_product(Q: np.ndarray) -> np.ndarray:
            # Z' = diag(scale) Z, so Z' Z'^T Q = scale * Z (Z^T (scale * Q))
            return scale * np.asarray(Z @ np.asarray(Z.T @ (scale * Q)))

        degree = modularity_product(np.ones((n, 1)))  # d = Z' Z'^T 1
        total = float(degree.sum())
        rng = check_random_state(self.random_state)
        Q, _ = np.linalg.qr(rng.normal(size=(n, k)))
        for _ in range(int(self._setting("n_iter"))):
            product = modularity_product(Q)
            if total != 0:
                product -= gamma * degree @ (degree.T @ Q) / total
            Q, _ = np.linalg.qr(product)
        return np.asarray(Q)
