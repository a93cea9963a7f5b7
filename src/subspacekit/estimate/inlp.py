r"""Iterative nullspace projection (Ravfogel et al. 2020): the subspace a linear classifier reads.

Train a linear classifier, remove its weight directions from the data, repeat; the
removed directions span a rank-k *concept* subspace, and projecting onto its orthogonal
complement erases what a linear classifier can read of the concept.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from subspacekit.core.linalg import range_basis
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Interval,
    check_fitted,
    validate_features,
    validate_params,
)
from subspacekit.errors import UntrustworthyEstimateWarning, ValidationError
from subspacekit.estimate.probes import HeldOutProbe

__all__ = ["INLP"]


def _new_directions(basis: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Orthonormal directions of span(directions) outside span(basis) (numerical-rank rule)."""
    size = float(np.linalg.norm(directions, 2)) if directions.size else 0.0
    if not size > 0:
        return np.zeros((basis.shape[0], 0))
    # The rank of [basis | directions] (both at unit scale) says how many directions are
    # new; a classifier that only re-found removed directions adds none.
    Q, _ = range_basis(np.hstack([basis, directions / size]))
    n_new = Q.shape[1] - basis.shape[1]
    if n_new <= 0:
        return np.zeros((basis.shape[0], 0))
    outside = Q - basis @ (basis.T @ Q)
    new, _ = range_basis(outside, max_rank=n_new)
    return new


class INLP(TransformerMixin, HeldOutProbe):
    r"""Iterative nullspace projection: the rank-k subspace a linear classifier can read.

    Repeat: fit a logistic-regression classifier on :math:`XP`, add its weight
    directions (orthogonalised) to the removed basis :math:`B`, set
    :math:`P = I - BB^\top`; stop after ``n_components`` directions or when the
    held-out accuracy falls to ``majority + tol``. ``transform`` erases the concept:
    :math:`X \mapsto XP`. When even the first classifier is no better than the majority
    rate, nothing is removed (``subspace_`` has dimension 0, ``transform`` is the
    identity) and an :class:`~subspacekit.errors.UntrustworthyEstimateWarning` says so.

    Parameters
    ----------
    n_components : int, default=10
        Maximum rank of the removed subspace (capped at the number of features).
    regularization : float > 0, default=1.0
        Inverse of the classifiers' ``C``.
    tol : float >= 0, default=0.01
        Stop when held-out accuracy is within ``tol`` of the majority-class rate.
    max_iter : int, default=1000
        Iterations of each classifier.
    validation_fraction : float in (0, 1), default=0.2
        Held-out rows used for the stopping rule and the diagnostics.
    random_state : int or None

    Attributes
    ----------
    subspace_ : Subspace
        The removed (concept) subspace, dimension ``n_components_``.
    projection_ : ndarray (d, d)
        Nullspace projector :math:`P`.
    accuracies_ : list of float
        Held-out accuracy of each removed classifier (before its removal).
    validation_score_ : float
        Held-out accuracy of the first classifier (the probe's accuracy).
    residual_accuracy_ : float
        Held-out accuracy of a classifier trained after the final projection.
    majority_rate_ : float
    classes_ : ndarray
    n_iter_ : int
        Largest number of solver iterations over the logistic fits.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 8)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> inlp = INLP(n_components=3, random_state=0).fit(X, y)
    >>> inlp.validation_score_ > 0.9, inlp.residual_accuracy_ < 0.65
    (True, True)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components: int = 10,
        *,
        regularization: float = 1.0,
        tol: float = 0.01,
        max_iter: int = 1000,
        validation_fraction: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.regularization = regularization
        self.tol = tol
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _classifier(
        self, A_tr: np.ndarray, y_tr: np.ndarray, A_va: np.ndarray, y_va: np.ndarray
    ) -> tuple[LogisticRegression, float]:
        """A logistic regression fitted on the training rows, and its held-out accuracy."""
        model = LogisticRegression(C=1.0 / self.regularization, max_iter=self.max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SklearnConvergenceWarning)
            model.fit(A_tr, y_tr)
        self.n_iter_ = max(getattr(self, "n_iter_", 0), int(np.max(model.n_iter_)))
        return model, float(model.score(A_va, y_va))

    def fit(self, X: Any, y: Any) -> INLP:
        """Find the concept subspace by iterated classification and projection."""
        validate_params(self)
        A, target = self._validate(X, y)
        self._fit_core(A, target)
        return self

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        # The held-out split drives the stopping rule, so INLP does not refit on all rows.
        self._encode_classes(y)
        self.n_iter_ = 0
        # Classifiers are fitted at unit scale: the directions do not depend on the unit
        # of X, and logistic regression on 1e160-sized features would overflow.
        peak = float(np.max(np.abs(A)))
        self._unit = peak if peak > 0 else 1.0
        As = A / self._unit
        k_max = min(int(self.n_components), A.shape[1])
        fraction = float(self.validation_fraction)
        try:
            A_tr, A_va, y_tr, y_va = train_test_split(
                As, y, test_size=fraction, random_state=self.random_state, stratify=y
            )
        except ValueError as exc:
            raise ValidationError(
                f"cannot hold out {fraction:.0%} of the {A.shape[0]} rows per class ({exc}); "
                "use more rows per class"
            ) from exc
        _, counts = np.unique(y_va, return_counts=True)
        self.majority_rate_ = float(counts.max() / counts.sum())
        d = A.shape[1]
        basis = np.zeros((d, 0))
        accuracies: list[float] = []
        while basis.shape[1] < k_max:
            P = np.eye(d) - basis @ basis.T
            model, accuracy = self._classifier(A_tr @ P, y_tr, A_va @ P, y_va)
            if basis.shape[1] == 0:
                self.classifier_ = model  # the probe itself: the first classifier
                self.validation_score_ = accuracy
            if accuracy <= self.majority_rate_ + self.tol:
                break
            new = _new_directions(basis, P @ np.atleast_2d(model.coef_).T)
            new = new[:, : k_max - basis.shape[1]]
            if new.shape[1] == 0:
                break
            accuracies.append(accuracy)
            basis = np.hstack([basis, new])
        if basis.shape[1] == 0:
            warnings.warn(
                f"the first classifier's held-out accuracy ({self.validation_score_:.3f}) is "
                f"no better than the majority rate ({self.majority_rate_:.3f}) + tol: there "
                "is no linearly decodable concept, so nothing is removed",
                UntrustworthyEstimateWarning,
                stacklevel=3,
            )
        self.accuracies_ = accuracies
        self.projection_ = np.eye(d) - basis @ basis.T
        self.residual_accuracy_ = self.validation_score_
        if basis.shape[1]:
            _, self.residual_accuracy_ = self._classifier(
                A_tr @ self.projection_, y_tr, A_va @ self.projection_, y_va
            )
        self.n_components_ = basis.shape[1]
        self.subspace_ = Subspace.from_orthonormal(basis, meta={"method": "inlp"})

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of the first classifier (the probe, before any removal) on ``(X, y)``."""
        check_fitted(self, "classifier_")
        A = validate_features(self, X, reset=False)
        return float(self.classifier_.score(A / self._unit, y))

    def transform(self, X: Any) -> np.ndarray:
        """Erase the concept subspace: :math:`XP`."""
        check_fitted(self, "projection_")
        return validate_features(self, X, reset=False) @ self.projection_
