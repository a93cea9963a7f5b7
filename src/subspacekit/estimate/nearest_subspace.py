r"""Nearest-subspace classification: one PCA subspace per class, assign by smallest residual.

Each class :math:`c` is summarised by the span :math:`S_c` of the top ``n_components``
principal directions of its training rows (through the origin, or through the class
mean with ``affine=True``). A row is assigned to the class with the smallest residual
:math:`\lVert x - P_{S_c} x\rVert`. Under Lambertian reflectance the images of one face
under varying light lie near a 9-dimensional linear subspace (Basri & Jacobs 2003; Lee,
Ho & Kriegman 2005), which is what makes this classifier work on Extended Yale B.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((20, 2)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 2)) @ B.T for B in bases])
>>> y = np.repeat([0, 1, 2], 40)
>>> clf = NearestSubspaceClassifier(n_components=2).fit(X, y)
>>> clf.score(X + 0.01 * rng.standard_normal(X.shape), y)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_consistent_samples, check_fitted, validate_features
from subspacekit.errors import ValidationError
from subspacekit.estimate.pca import PCA
from subspacekit.estimate.rmt import _gram_eigh

__all__ = ["NearestSubspaceClassifier"]


class NearestSubspaceClassifier(ClassifierMixin, BaseEstimator):
    """Classify by the smallest residual to per-class principal subspaces.

    Parameters
    ----------
    n_components : int, default=9
        Dimension of each class subspace (at most the class's rank).
    affine : bool, default=False
        Subspaces through the class mean (affine) instead of the origin.

    Attributes
    ----------
    classes_ : ndarray
    subspaces_ : list of Subspace
        One subspace per class, in the order of ``classes_``.
    n_features_in_ : int
    """

    def __init__(self, n_components: int = 9, *, affine: bool = False) -> None:
        self.n_components = n_components
        self.affine = affine

    def fit(self, X: Any, y: Any) -> NearestSubspaceClassifier:
        """Fit one subspace per class."""
        A = validate_features(self, X, reset=True, min_samples=2)
        labels = np.asarray(y)
        check_consistent_samples(A, labels, names=["X", "y"])
        self.classes_, inverse = np.unique(labels, return_inverse=True)
        if self.classes_.size < 2:
            raise ValidationError(f"need at least 2 classes; got {self.classes_.size}")
        subspaces = []
        for c in range(self.classes_.size):
            rows = A[inverse == c]
            if self.affine:
                subspaces.append(PCA(self.n_components, solver="full").fit(rows).subspace_)
            else:
                # Uncentred PCA: leading right singular vectors of the raw rows.
                k = int(self.n_components)
                if k > min(rows.shape):
                    raise ValidationError(
                        f"class {self.classes_[c]!r} has {rows.shape[0]} rows, fewer than "
                        f"n_components={k}"
                    )
                # Right singular vectors from the small (rows x rows) Gram matrix.
                squares, V = _gram_eigh(rows.astype(np.float64), vectors=True)
                assert V is not None
                s = np.sqrt(squares)
                subspaces.append(
                    Subspace.from_basis(
                        V[:, :k],
                        scales=s[:k] / np.sqrt(rows.shape[0]),
                        meta={"method": "uncentred-pca", "class": str(self.classes_[c])},
                    )
                )
        self.subspaces_ = subspaces
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Negative residual distance to each class subspace, shape (n, n_classes)."""
        check_fitted(self, "subspaces_")
        A = validate_features(self, X, reset=False).astype(np.float64, copy=False)
        # ||x - mu||^2 - ||B^T (x - mu)||^2 for all classes with one product against the
        # stacked bases, instead of forming the n x d rejection for every class.
        bases = np.hstack([S.basis for S in self.subspaces_])
        means = np.stack(
            [
                np.zeros(A.shape[1]) if S.mean is None else np.asarray(S.mean)
                for S in self.subspaces_
            ]
        )
        k = self.subspaces_[0].dim
        coords = (A @ bases).reshape(A.shape[0], len(self.subspaces_), k)
        offsets = np.einsum(
            "cdk,cd->ck", bases.reshape(A.shape[1], -1, k).transpose(1, 0, 2), means
        )
        coords -= offsets[None]
        sq_norms = (A**2).sum(axis=1)[:, None] - 2.0 * A @ means.T + (means**2).sum(axis=1)[None]
        residual_sq = np.maximum(sq_norms - (coords**2).sum(axis=2), 0.0)
        return -np.sqrt(residual_sq)

    def predict(self, X: Any) -> np.ndarray:
        """Class whose subspace is nearest."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]
