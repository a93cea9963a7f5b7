r"""Aligning two views of the same items: Procrustes and subspace alignment, with retrieval metrics.

*Orthogonal Procrustes* solves :math:`\min_{R^\top R = I,\, s} \lVert s\tilde X R - \tilde Y\rVert_F`
for centred views: with :math:`\tilde X^\top \tilde Y = U\Sigma V^\top`, :math:`R = UV^\top`
and :math:`s = \operatorname{tr}\Sigma / \lVert\tilde X\rVert_F^2` (Schönemann 1966). When the
dimensions differ, :math:`R` is a partial isometry (orthonormal columns or rows).

*Subspace alignment* ("Escaping Plato's Cave", Hadgi et al. 2025): centre and
L2-normalise both views on the anchor pairs, project each onto a ``k``-dimensional
subspace (shared CCA directions, or each view's own PCA), then align the projections
(no map in the CCA space, Procrustes, or an affine least-squares map). Items are
retrieved by cosine similarity in the aligned space and scored by top-k accuracy and
mean reciprocal rank.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> s = rng.standard_normal((400, 4))
>>> X = s @ rng.standard_normal((4, 10)) + 0.05 * rng.standard_normal((400, 10))
>>> Y = s @ rng.standard_normal((4, 8)) + 0.05 * rng.standard_normal((400, 8))
>>> align = SubspaceAlignment(n_components=4).fit(X[:300], Y[:300])
>>> round(align.score(X[300:], Y[300:]), 2)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin

from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_fitted,
    check_in,
    validate_features,
)
from subspacekit.errors import ValidationError
from subspacekit.estimate.cca import CCA
from subspacekit.estimate.pca import PCA

__all__ = ["Procrustes", "SubspaceAlignment", "mean_reciprocal_rank", "top_k_accuracy"]


def _target_ranks(similarity: Any, targets: Any = None) -> np.ndarray:
    S = check_array(similarity, "similarity", min_samples=1)
    n = S.shape[0]
    t = np.arange(n) if targets is None else np.asarray(targets, dtype=int)
    if t.shape != (n,):
        raise ValidationError(f"targets must have shape ({n},); got {t.shape}")
    if targets is None and S.shape[1] < n:
        raise ValidationError(
            f"without targets, query i must match candidate i, so the similarity needs at least "
            f"{n} columns; got {S.shape[1]}"
        )
    if t.min(initial=0) < 0 or t.max(initial=0) >= S.shape[1]:
        raise ValidationError(f"targets must index the {S.shape[1]} candidates")
    target_sim = S[np.arange(n), t]
    # Ties count against the query (pessimistic), so a constant similarity scores chance, not 1.
    return (S >= target_sim[:, None]).sum(axis=1) - 1


def top_k_accuracy(similarity: Any, k: int = 1, targets: Any = None) -> float:
    """Fraction of queries (rows) whose target candidate is among the ``k`` most similar.

    The target of row ``i`` is column ``i`` unless ``targets`` is given. Ties are
    counted pessimistically.

    Examples
    --------
    >>> top_k_accuracy(np.array([[0.9, 0.1], [0.8, 0.2]]), k=1)
    0.5
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValidationError(f"k must be a positive integer; got {k!r}")
    return float(np.mean(_target_ranks(similarity, targets) < k))


def mean_reciprocal_rank(similarity: Any, targets: Any = None) -> float:
    """Mean of ``1 / rank`` of the target candidate (rank 1 = most similar).

    Examples
    --------
    >>> mean_reciprocal_rank(np.array([[0.9, 0.1], [0.8, 0.2]]))
    0.75
    """
    return float(np.mean(1.0 / (1.0 + _target_ranks(similarity, targets))))


def _cosine_similarity(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(A, axis=1, keepdims=True)
    nb = np.linalg.norm(B, axis=1, keepdims=True)
    return (A / np.where(na > 0, na, 1.0)) @ (B / np.where(nb > 0, nb, 1.0)).T


class Procrustes(TransformerMixin, BaseEstimator):
    r"""Orthogonal (optionally scaled) Procrustes map from view X onto view Y.

    Parameters
    ----------
    scale : bool, default=False
        Also fit a global scale :math:`s`.
    center : bool, default=True
        Fit a translation (centre both views).

    Attributes
    ----------
    rotation_ : ndarray (d_x, d_y)
        :math:`R` with orthonormal columns (``d_x >= d_y``) or rows.
    scale_ : float
    x_mean_, y_mean_ : ndarray
    residual_ : float
        Relative residual :math:`\lVert s\tilde XR - \tilde Y\rVert_F / \lVert\tilde Y\rVert_F`
        on the training pairs.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> R = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    >>> bool(np.allclose(Procrustes().fit(X, X @ R).rotation_, R))
    True
    """

    def __init__(self, *, scale: bool = False, center: bool = True) -> None:
        self.scale = scale
        self.center = center

    def fit(self, X: Any, Y: Any = None) -> Procrustes:
        """Fit the map on paired rows."""
        A = validate_features(self, X, reset=True, min_samples=2).astype(np.float64, copy=False)
        if Y is None:
            raise ValidationError("Procrustes.fit needs both views X and Y; got Y=None")
        B = check_array(Y, "Y", min_samples=2).astype(np.float64, copy=False)
        check_consistent_samples(A, B, names=["X", "Y"])
        self.x_mean_ = A.mean(axis=0) if self.center else np.zeros(A.shape[1])
        self.y_mean_ = B.mean(axis=0) if self.center else np.zeros(B.shape[1])
        Ac, Bc = A - self.x_mean_, B - self.y_mean_
        U, s, Vt = linalg.svd(Ac.T @ Bc, full_matrices=False, check_finite=False)
        self.rotation_ = U @ Vt
        norm_x = float((Ac**2).sum())
        if norm_x == 0:
            raise ValidationError("X has no variance; the Procrustes map is undefined")
        self.scale_ = float(s.sum() / norm_x) if self.scale else 1.0
        norm_y = float(np.sqrt((Bc**2).sum()))
        fit = self.scale_ * Ac @ self.rotation_ - Bc
        self.residual_ = float(np.sqrt((fit**2).sum()) / norm_y) if norm_y > 0 else 0.0
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Map rows of X into Y's coordinates: :math:`s(X-\\mu_x)R + \\mu_y`."""
        check_fitted(self, "rotation_")
        A = validate_features(self, X, reset=False)
        return self.scale_ * (A - self.x_mean_) @ self.rotation_ + self.y_mean_


class SubspaceAlignment(BaseEstimator):
    """Align two views through k-dimensional subspaces and retrieve across them.

    Parameters
    ----------
    n_components : int or None, default=16
        Dimension ``k`` of the subspaces (``None`` with ``subspace="none"``).
    subspace : {"cca", "pca", "none"}, default="cca"
        Shared canonical directions, each view's principal directions, or the full
        (preprocessed) spaces.
    mapping : {"none", "procrustes", "affine"}, default="none" for CCA, else "affine"
        Map from X's projection onto Y's; ``"none"`` needs the shared CCA space.
    regularization : float, default=0.01
        Ridge shrinkage of the CCA covariances (see :class:`~subspacekit.estimate.CCA`).
    normalize : bool, default=True
        Centre and L2-normalise the rows of each view before everything else.

    Attributes
    ----------
    x_subspace_, y_subspace_ : Subspace or None
        Subspaces in the (preprocessed) input spaces; ``None`` for ``subspace="none"``.
    map_ : ndarray (k_x + 1, k_y)
        Affine or orthogonal map (last row = offset) from X's to Y's latent coordinates.
    """

    x_subspace_: Subspace | None
    y_subspace_: Subspace | None

    def __init__(
        self,
        n_components: int | None = 16,
        *,
        subspace: str = "cca",
        mapping: str | None = None,
        regularization: float = 0.01,
        normalize: bool = True,
    ) -> None:
        self.n_components = n_components
        self.subspace = subspace
        self.mapping = mapping
        self.regularization = regularization
        self.normalize = normalize

    def _mapping(self) -> str:
        if self.mapping is None:
            return "none" if self.subspace == "cca" else "affine"
        return str(self.mapping)

    def _prep(self, A: np.ndarray, mean: np.ndarray) -> np.ndarray:
        if not self.normalize:
            return A
        Z = A - mean
        norms = np.linalg.norm(Z, axis=1, keepdims=True)
        return Z / np.where(norms > 0, norms, 1.0)

    def fit(self, X: Any, Y: Any) -> SubspaceAlignment:
        """Fit on anchor pairs (row i of X is paired with row i of Y)."""
        check_in(self.subspace, ("cca", "pca", "none"), "subspace")
        mapping = check_in(self._mapping(), ("none", "procrustes", "affine"), "mapping")
        if mapping == "none" and self.subspace != "cca":
            raise ValidationError(
                "mapping='none' compares coordinates directly, which needs the shared CCA space; "
                f"got subspace={self.subspace!r}"
            )
        A = validate_features(self, X, reset=True, min_samples=2).astype(np.float64, copy=False)
        B = check_array(Y, "Y", min_samples=2).astype(np.float64, copy=False)
        check_consistent_samples(A, B, names=["X", "Y"])
        self.x_mean_, self.y_mean_ = A.mean(axis=0), B.mean(axis=0)
        self.n_features_y_ = B.shape[1]
        Ap, Bp = self._prep(A, self.x_mean_), self._prep(B, self.y_mean_)
        if self.subspace == "cca":
            self._cca = CCA(int(self.n_components or 0), regularization=self.regularization).fit(
                Ap, Bp
            )
            self.x_subspace_, self.y_subspace_ = self._cca.x_subspace_, self._cca.y_subspace_
        elif self.subspace == "pca":
            self._pca_x = PCA(self.n_components, solver="full").fit(Ap)
            self._pca_y = PCA(self.n_components, solver="full").fit(Bp)
            self.x_subspace_, self.y_subspace_ = self._pca_x.subspace_, self._pca_y.subspace_
        else:
            self.x_subspace_ = self.y_subspace_ = None
        Zx, Zy = self._latent_x(Ap), self._latent_y(Bp)
        if mapping == "none":
            self.map_ = np.vstack([np.eye(Zx.shape[1]), np.zeros((1, Zx.shape[1]))])
        elif mapping == "procrustes":
            proc = Procrustes(center=True).fit(Zx, Zy)
            offset = proc.y_mean_ - proc.x_mean_ @ proc.rotation_
            self.map_ = np.vstack([proc.rotation_, offset[None]])
        else:
            design = np.hstack([Zx, np.ones((Zx.shape[0], 1))])
            self.map_ = linalg.lstsq(design, Zy, check_finite=False)[0]
        return self

    def _latent_x(self, Ap: np.ndarray) -> np.ndarray:
        if self.subspace == "cca":
            return self._cca.transform(Ap)
        if self.subspace == "pca":
            return self._pca_x.transform(Ap)
        return Ap

    def _latent_y(self, Bp: np.ndarray) -> np.ndarray:
        if self.subspace == "cca":
            return (Bp - self._cca.y_mean_) @ self._cca.y_weights_
        if self.subspace == "pca":
            return self._pca_y.transform(Bp)
        return Bp

    def transform_x(self, X: Any) -> np.ndarray:
        """X mapped into Y's latent coordinates."""
        check_fitted(self, "map_")
        A = validate_features(self, X, reset=False).astype(np.float64, copy=False)
        Z = self._latent_x(self._prep(A, self.x_mean_))
        return Z @ self.map_[:-1] + self.map_[-1]

    def transform_y(self, Y: Any) -> np.ndarray:
        """Y in its latent coordinates."""
        check_fitted(self, "map_")
        B = check_array(Y, "Y").astype(np.float64, copy=False)
        if B.shape[1] != self.n_features_y_:
            raise ValidationError(f"Y must have {self.n_features_y_} features; got {B.shape[1]}")
        return self._latent_y(self._prep(B, self.y_mean_))

    def similarity(self, X: Any, Y: Any) -> np.ndarray:
        """Cosine similarity between mapped X rows (queries) and Y rows (candidates)."""
        return _cosine_similarity(self.transform_x(X), self.transform_y(Y))

    def retrieval_metrics(self, X: Any, Y: Any, ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
        """Top-k accuracies and mean reciprocal rank of retrieving Y[i] from X[i]."""
        S = self.similarity(X, Y)
        out = {f"top{k}": top_k_accuracy(S, k) for k in ks}
        out["mrr"] = mean_reciprocal_rank(S)
        return out

    def score(self, X: Any, Y: Any) -> float:
        """Top-1 retrieval accuracy of Y[i] given X[i]."""
        return top_k_accuracy(self.similarity(X, Y), 1)
