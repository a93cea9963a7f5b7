r"""Linear probes that return the subspace they read from, with held-out diagnostics.

Every probe stores its subspace in ``subspace_`` and a held-out score in
``validation_score_`` (accuracy for labels, :math:`R^2` for real targets): a fraction
``validation_fraction`` of the rows is held out, the probe is fitted on the rest and
scored there, then refitted on all rows.

* :class:`DiffMeans` — difference of class means (binary: one direction; multi-class:
  the span of the class means around the grand mean).
* :class:`LDA` — Fisher discriminant directions, the generalised eigenvectors of
  :math:`S_b v = \lambda S_w v`, with optional shrinkage of :math:`S_w` towards
  :math:`\bar\lambda I` (Ledoit–Wolf ``"auto"`` or a fixed amount).
* :class:`LinearProbe` — logistic regression or ridge; the subspace is the row span
  of the weights.
* :class:`INLP` — iterative nullspace projection (Ravfogel et al. 2020): train a linear
  classifier, remove its directions, repeat; the removed directions span a rank-k
  concept subspace.
* :class:`RankKProbe` — reduced-rank ridge regression (Izenman 1975): the best rank-k
  linear read-out, whose input directions span the subspace (rank 2 for the
  parametric/contextual knowledge split).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.covariance import ledoit_wolf_shrinkage
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    check_consistent_samples,
    check_fitted,
    check_in,
    validate_features,
)
from subspacekit.errors import ConvergenceWarning, RankError, ValidationError

__all__ = ["INLP", "LDA", "DiffMeans", "LinearProbe", "RankKProbe"]


def _orthonormal_span(M: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis (d x r) of the column span of M, dropping numerically null directions."""
    if M.size == 0:
        return np.zeros((M.shape[0], 0))
    U, s, _ = linalg.svd(M, full_matrices=False, check_finite=False)
    keep = s > rtol * max(s[0], np.finfo(float).tiny) if s.size else np.zeros(0, bool)
    return U[:, keep]


class _Probe(BaseEstimator):
    """Held-out scoring shared by the probes: fit on a split, score, refit on everything."""

    _classifier = True

    def _validate(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        A = validate_features(self, X, reset=True, min_samples=2).astype(np.float64, copy=False)
        if y is None:
            raise ValidationError(f"{type(self).__name__} needs targets y; got None")
        target = np.asarray(y)
        check_consistent_samples(A, target, names=["X", "y"])
        return A, target

    def _fit_with_validation(self, A: np.ndarray, y: np.ndarray) -> None:
        fraction = self.validation_fraction
        if not isinstance(fraction, numbers.Real) or not 0.0 <= float(fraction) < 1.0:
            raise ValidationError(f"validation_fraction must lie in [0, 1); got {fraction!r}")
        self.validation_score_ = float("nan")
        if float(fraction) > 0:
            stratify = y if self._classifier else None
            try:
                A_tr, A_va, y_tr, y_va = train_test_split(
                    A,
                    y,
                    test_size=float(fraction),
                    random_state=self.random_state,
                    stratify=stratify,
                )
            except ValueError as exc:
                raise ValidationError(
                    f"cannot hold out {fraction:.0%} of the rows for validation ({exc}); "
                    "use more rows per class or validation_fraction=0"
                ) from exc
            self._fit_core(A_tr, y_tr)
            self.validation_score_ = float(self.score(A_va, y_va))
        self._fit_core(A, y)

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _class_labels(probe: Any, y: np.ndarray, *, min_classes: int = 2) -> np.ndarray:
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ValidationError(
            f"{type(probe).__name__} needs class labels (binary or multiclass); got {kind!r} targets"
        )
    classes, inverse = np.unique(y, return_inverse=True)
    if classes.size < min_classes:
        raise ValidationError(f"need at least {min_classes} classes; got {classes.size}")
    probe.classes_ = classes
    return inverse


# --------------------------------------------------------------------------- DiffMeans
class DiffMeans(ClassifierMixin, _Probe):
    r"""Difference-of-means probe.

    Binary: ``direction_`` :math:`= \mu_1 - \mu_0` (the mean of ``classes_[1]`` minus
    that of ``classes_[0]``) and a threshold halfway between the projected class means.
    Multi-class: the span of :math:`\mu_c - \bar\mu` and nearest projected class mean.

    Parameters
    ----------
    validation_fraction : float, default=0.2
    random_state : int or None

    Attributes
    ----------
    subspace_ : Subspace
        Linear span of the mean differences (dimension 1 for two classes).
    direction_ : ndarray (d,)
        Binary case only: :math:`\mu_1 - \mu_0`.
    means_ : ndarray (n_classes, d)
    validation_score_ : float
        Held-out accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5)); y = np.repeat([0, 1], 100); X[y == 1, 2] += 4.0
    >>> probe = DiffMeans(random_state=0).fit(X, y)
    >>> int(np.argmax(np.abs(probe.subspace_.basis[:, 0]))), probe.validation_score_ > 0.9
    (2, True)
    """

    def __init__(self, *, validation_fraction: float = 0.2, random_state: Any = None) -> None:
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> DiffMeans:
        """Fit the class means and the probe subspace."""
        A, target = self._validate(X, y)
        self._fit_with_validation(A, target)
        return self

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        inverse = _class_labels(self, y)
        means = np.stack([A[inverse == c].mean(axis=0) for c in range(self.classes_.size)])
        self.means_ = means
        if self.classes_.size == 2:
            self.direction_ = means[1] - means[0]
            basis = self.direction_[:, None]
        else:
            basis = _orthonormal_span((means - A.mean(axis=0)).T)
        if basis.shape[1] == 0 or not np.any(basis):
            raise RankError("the class means coincide, so there is no difference direction")
        self.subspace_ = Subspace.from_basis(basis, meta={"method": "diffmeans"})
        centers = means @ self.subspace_.basis
        self._centers = centers

    def decision_function(self, X: Any) -> np.ndarray:
        """Binary: signed position along the direction past the midpoint; else minus distances."""
        check_fitted(self, "subspace_")
        A = validate_features(self, X, reset=False)
        Z = A @ self.subspace_.basis
        if self.classes_.size == 2:
            mid = self._centers.mean(axis=0)
            sign = np.sign(self._centers[1, 0] - self._centers[0, 0]) or 1.0
            return sign * (Z[:, 0] - mid[0])
        return -((Z[:, None, :] - self._centers[None]) ** 2).sum(axis=2)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels."""
        scores = self.decision_function(X)
        if self.classes_.size == 2:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


# --------------------------------------------------------------------------- LDA
class LDA(ClassifierMixin, TransformerMixin, _Probe):
    r"""Fisher linear discriminant analysis with shrinkage, returning the discriminant subspace.

    With class means :math:`\mu_c`, priors :math:`\pi_c`, the within-class covariance
    :math:`S_w = \frac1n\sum_c\sum_{i\in c}(x_i-\mu_c)(x_i-\mu_c)^\top` (maximum
    likelihood, as scikit-learn) shrunk to :math:`(1-\alpha)S_w + \alpha\bar\lambda I`,
    and :math:`S_b = \sum_c \pi_c(\mu_c-\mu)(\mu_c-\mu)^\top`, the directions solve
    :math:`S_b v = \lambda S_w v` (at most ``n_classes - 1`` of them). Classification uses
    the shared-covariance Gaussian rule
    :math:`\delta_c(x) = x^\top S_w^{-1}\mu_c - \tfrac12\mu_c^\top S_w^{-1}\mu_c + \log\pi_c`.

    Parameters
    ----------
    n_components : int, optional
        Number of discriminant directions (default ``min(n_classes - 1, d)``).
    shrinkage : None, "auto" or float in [0, 1]
        Ledoit–Wolf (``"auto"``) or fixed shrinkage. Without shrinkage a singular
        :math:`S_w` (constant features, ``d >= n``) raises :class:`RankError`.
    validation_fraction : float, default=0.2
    random_state : int or None

    Attributes
    ----------
    scalings_ : ndarray (d, k)
        Discriminant directions, :math:`S_w`-orthonormal.
    subspace_ : Subspace
        Their span, through the grand mean.
    explained_variance_ratio_ : ndarray (k,)
        Share of the between-class variance (generalised eigenvalues).
    shrinkage_ : float
    validation_score_ : float
        Held-out accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4)); y = np.repeat([0, 1, 2], 100)
    >>> X[y == 1, 0] += 4.0; X[y == 2, 1] += 4.0
    >>> lda = LDA(shrinkage="auto", random_state=0).fit(X, y)
    >>> lda.subspace_.dim, lda.validation_score_ > 0.9
    (2, True)
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        shrinkage: float | str | None = None,
        validation_fraction: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LDA:
        """Fit the discriminant directions and the classifier."""
        A, target = self._validate(X, y)
        self._fit_with_validation(A, target)
        return self

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        inverse = _class_labels(self, y)
        n, d = A.shape
        C = self.classes_.size
        counts = np.bincount(inverse, minlength=C)
        self.priors_ = counts / n
        self.means_ = np.stack([A[inverse == c].mean(axis=0) for c in range(C)])
        within = A - self.means_[inverse]
        Sw = within.T @ within / n
        if self.shrinkage is None:
            alpha = 0.0
        elif isinstance(self.shrinkage, str):
            check_in(self.shrinkage, ("auto",), "shrinkage")
            alpha = float(ledoit_wolf_shrinkage(within, assume_centered=True))
        elif isinstance(self.shrinkage, numbers.Real) and 0.0 <= float(self.shrinkage) <= 1.0:
            alpha = float(self.shrinkage)
        else:
            raise ValidationError(
                f"shrinkage must be None, 'auto' or a float in [0, 1]; got {self.shrinkage!r}"
            )
        self.shrinkage_ = alpha
        mean_var = float(np.trace(Sw) / d)
        Sw = (1.0 - alpha) * Sw
        Sw[np.diag_indices(d)] += alpha * mean_var
        grand = self.priors_ @ self.means_
        D = (self.means_ - grand) * np.sqrt(self.priors_)[:, None]
        Sb = D.T @ D
        try:
            self._chol = linalg.cho_factor(Sw, lower=True, check_finite=False)
            evals, evecs = linalg.eigh(Sb, Sw, check_finite=False)
        except linalg.LinAlgError as exc:
            constant = int((np.ptp(A, axis=0) == 0).sum())
            why = (
                f" ({constant} constant feature{'s' if constant != 1 else ''})" if constant else ""
            )
            raise RankError(
                f"the within-class covariance is singular{why}, with {n} samples and {d} features; "
                "use shrinkage='auto' or a float shrinkage, or drop constant features"
            ) from exc
        order = np.argsort(evals)[::-1]
        evals, evecs = evals[order], evecs[:, order]
        limit = min(C - 1, d)
        k = limit if self.n_components is None else int(self.n_components)
        if not 1 <= k <= limit:
            raise RankError(f"n_components must lie in [1, {limit}] (n_classes - 1 and d); got {k}")
        self.scalings_ = evecs[:, :k]
        total = evals[:limit].clip(min=0).sum()
        self.explained_variance_ratio_ = evals[:k].clip(min=0) / total if total > 0 else np.zeros(k)
        self.xbar_ = grand
        self.subspace_ = Subspace.from_basis(
            self.scalings_, mean=grand, meta={"method": "lda", "shrinkage": alpha}
        )
        precision_means = linalg.cho_solve(self._chol, self.means_.T, check_finite=False)
        self.coef_ = precision_means.T
        self.intercept_ = -0.5 * (self.means_ * self.coef_).sum(axis=1) + np.log(self.priors_)

    def decision_function(self, X: Any) -> np.ndarray:
        """Linear discriminant scores, one column per class."""
        check_fitted(self, "coef_")
        A = validate_features(self, X, reset=False)
        return A @ self.coef_.T + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        """Class with the largest discriminant score."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def transform(self, X: Any) -> np.ndarray:
        """Coordinates along the discriminant directions, :math:`(X - \\bar\\mu)V`."""
        check_fitted(self, "scalings_")
        A = validate_features(self, X, reset=False)
        return (A - self.xbar_) @ self.scalings_


# --------------------------------------------------------------------------- LinearProbe
class LinearProbe(_Probe):
    """Logistic-regression or ridge probe; the subspace is the row span of its weights.

    Parameters
    ----------
    kind : {"logistic", "ridge"}, default="logistic"
        Classification (held-out accuracy) or regression (held-out :math:`R^2`).
    regularization : float, default=1.0
        Inverse of ``C`` for logistic regression, ``alpha`` for ridge.
    max_iter : int, default=1000
    validation_fraction : float, default=0.2
    random_state : int or None

    Attributes
    ----------
    coef_ : ndarray (n_outputs, d)
    intercept_ : ndarray (n_outputs,)
    subspace_ : Subspace
        Span of the rows of ``coef_``.
    validation_score_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 6)); y = 2.0 * X[:, 1] - X[:, 4] + 0.1 * rng.standard_normal(300)
    >>> probe = LinearProbe(kind="ridge", regularization=1e-3, random_state=0).fit(X, y)
    >>> probe.subspace_.dim, round(probe.validation_score_, 2)
    (1, 1.0)
    """

    def __init__(
        self,
        kind: str = "logistic",
        *,
        regularization: float = 1.0,
        max_iter: int = 1000,
        validation_fraction: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.kind = kind
        self.regularization = regularization
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LinearProbe:
        """Fit the probe."""
        check_in(self.kind, ("logistic", "ridge"), "kind")
        self._classifier = self.kind == "logistic"
        A, target = self._validate(X, y)
        self._fit_with_validation(A, target)
        return self

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        if self.kind == "logistic":
            _class_labels(self, y)
            model: Any = LogisticRegression(C=1.0 / self.regularization, max_iter=self.max_iter)
        else:
            model = Ridge(alpha=self.regularization)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SklearnConvergenceWarning)
            model.fit(A, y)
        if any(issubclass(w.category, SklearnConvergenceWarning) for w in caught):
            warnings.warn(
                f"the {self.kind} probe did not converge in max_iter={self.max_iter} iterations",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.model_ = model
        self.coef_ = np.atleast_2d(model.coef_)
        self.intercept_ = np.atleast_1d(model.intercept_)
        basis = _orthonormal_span(self.coef_.T)
        if basis.shape[1] == 0:
            raise RankError("the probe's weights are all zero; there is no direction to report")
        self.subspace_ = Subspace.from_basis(basis, meta={"method": f"linear-probe-{self.kind}"})

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels or values."""
        check_fitted(self, "model_")
        return self.model_.predict(validate_features(self, X, reset=False))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (logistic) or :math:`R^2` (ridge)."""
        check_fitted(self, "model_")
        return float(self.model_.score(validate_features(self, X, reset=False), y))


# --------------------------------------------------------------------------- INLP
class INLP(TransformerMixin, _Probe):
    r"""Iterative nullspace projection: the rank-k subspace a linear classifier can read.

    Repeat: fit a logistic-regression classifier on :math:`XP`, add its weight
    directions (orthogonalised) to the removed basis :math:`B`, set
    :math:`P = I - BB^\top`; stop after ``n_components`` directions or when the
    held-out accuracy falls to ``majority + tol``. ``transform`` erases the concept:
    :math:`X \mapsto XP`.

    Parameters
    ----------
    n_components : int, default=10
        Maximum rank of the removed subspace.
    regularization : float, default=1.0
        Inverse of the classifiers' ``C``.
    tol : float, default=0.01
        Stop when held-out accuracy is within ``tol`` of the majority-class rate.
    max_iter : int, default=1000
        Iterations of each classifier.
    validation_fraction : float, default=0.2
        Held-out rows used for the stopping rule and the diagnostics.
    random_state : int or None

    Attributes
    ----------
    subspace_ : Subspace
        The removed (concept) subspace, dimension ``n_components_``.
    projection_ : ndarray (d, d)
        Nullspace projector :math:`P`.
    accuracies_ : list of float
        Held-out accuracy of the classifier at each iteration (before its removal).
    validation_score_ : float
        Held-out accuracy of the first classifier (the probe's accuracy).
    residual_accuracy_ : float
        Held-out accuracy of a classifier trained after the final projection.
    majority_rate_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 8)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> inlp = INLP(n_components=3, random_state=0).fit(X, y)
    >>> inlp.validation_score_ > 0.9, inlp.residual_accuracy_ < 0.65
    (True, True)
    """

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

    def _classifier_accuracy(
        self, A_tr: np.ndarray, y_tr: np.ndarray, A_va: np.ndarray, y_va: np.ndarray
    ) -> tuple[float, np.ndarray]:
        model = LogisticRegression(C=1.0 / self.regularization, max_iter=self.max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SklearnConvergenceWarning)
            model.fit(A_tr, y_tr)
        return float(model.score(A_va, y_va)), np.atleast_2d(model.coef_)

    def fit(self, X: Any, y: Any) -> INLP:
        """Find the concept subspace by iterated classification and projection."""
        A, target = self._validate(X, y)
        _class_labels(self, target)
        k_max = int(self.n_components)
        if not 1 <= k_max <= A.shape[1]:
            raise RankError(f"n_components must lie in [1, {A.shape[1]}]; got {k_max}")
        fraction = float(self.validation_fraction)
        if not 0.0 < fraction < 1.0:
            raise ValidationError(
                f"INLP needs held-out rows for its stopping rule: validation_fraction in (0, 1); got {fraction}"
            )
        try:
            A_tr, A_va, y_tr, y_va = train_test_split(
                A, target, test_size=fraction, random_state=self.random_state, stratify=target
            )
        except ValueError as exc:
            raise ValidationError(
                f"cannot hold out {fraction:.0%} of the rows per class ({exc})"
            ) from exc
        _, counts = np.unique(y_va, return_counts=True)
        self.majority_rate_ = float(counts.max() / counts.sum())
        d = A.shape[1]
        basis = np.zeros((d, 0))
        accuracies: list[float] = []
        while basis.shape[1] < k_max:
            P = np.eye(d) - basis @ basis.T
            accuracy, W = self._classifier_accuracy(A_tr @ P, y_tr, A_va @ P, y_va)
            if accuracy <= self.majority_rate_ + self.tol:
                break
            accuracies.append(accuracy)
            directions = P @ W.T  # keep only what is new
            new = _orthonormal_span(directions - basis @ (basis.T @ directions), rtol=1e-8)
            new = new[:, : k_max - basis.shape[1]]
            if new.shape[1] == 0:
                break
            basis = np.hstack([basis, new])
        if basis.shape[1] == 0:
            raise RankError(
                "the first classifier is no better than the majority rate on held-out rows; "
                "there is no linearly decodable concept to remove"
            )
        self.accuracies_ = accuracies
        self.validation_score_ = accuracies[0]
        self.projection_ = np.eye(d) - basis @ basis.T
        self.residual_accuracy_, _ = self._classifier_accuracy(
            A_tr @ self.projection_, y_tr, A_va @ self.projection_, y_va
        )
        self.n_components_ = basis.shape[1]
        self.subspace_ = Subspace.from_basis(basis, meta={"method": "inlp"})
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Erase the concept subspace: :math:`XP`."""
        check_fitted(self, "projection_")
        return validate_features(self, X, reset=False) @ self.projection_


# --------------------------------------------------------------------------- RankKProbe
class RankKProbe(TransformerMixin, _Probe):
    r"""Low-rank linear probe by reduced-rank ridge regression.

    With centred data, the ridge solution :math:`\hat B = (X^\top X + \alpha I)^{-1}X^\top Y`
    and the top-k right singular vectors :math:`Q_k` of the fitted values
    :math:`X\hat B`, the rank-k read-out is :math:`\hat B Q_k Q_k^\top` (the
    least-squares optimum under the rank constraint for :math:`\alpha = 0`); its input
    directions :math:`\hat B Q_k` span the probe subspace. Class labels are one-hot
    encoded (prediction = largest score, score = accuracy); real targets are scored by
    :math:`R^2`.

    Parameters
    ----------
    n_components : int, default=2
        Rank ``k``.
    alpha : float, default=1.0
        Ridge penalty, relative to the mean nonzero eigenvalue of :math:`X^\top X`
        (must be > 0). Larger values bring the directions closer to the cross-covariance
        :math:`X^\top Y` (less noise from low-variance directions); smaller values
        predict better.
    validation_fraction : float, default=0.2
    random_state : int or None

    Attributes
    ----------
    subspace_ : Subspace
        Span of the k input directions, through the mean of X.
    coef_ : ndarray (d, n_outputs)
        Rank-k coefficients.
    validation_score_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> U = np.linalg.qr(rng.standard_normal((30, 2)))[0]
    >>> ab = rng.standard_normal((500, 2)); X = ab @ U.T + 0.05 * rng.standard_normal((500, 30))
    >>> probe = RankKProbe(2, random_state=0).fit(X, ab)
    >>> round(float(np.degrees(probe.subspace_.angles(U).max())), 0), round(probe.validation_score_, 2)
    (1.0, 0.99)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        alpha: float = 1.0,
        validation_fraction: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.alpha = alpha
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> RankKProbe:
        """Fit the rank-k read-out."""
        A, target = self._validate(X, y)
        kind = type_of_target(target)
        self._classifier = kind in ("binary", "multiclass") and target.dtype.kind not in "fc"
        self._fit_with_validation(A, target)
        return self

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if self._classifier:
            inverse = _class_labels(self, y)
            return np.eye(self.classes_.size)[inverse]
        Y = np.asarray(y, dtype=np.float64)
        return Y[:, None] if Y.ndim == 1 else Y

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        Y = self._targets(y)
        self.x_mean_, self.y_mean_ = A.mean(axis=0), Y.mean(axis=0)
        Xc, Yc = A - self.x_mean_, Y - self.y_mean_
        n, d = Xc.shape
        # alpha is relative to the mean nonzero eigenvalue of X^T X (scale-free).
        penalty = float(self.alpha) * float((Xc**2).sum()) / min(n, d)
        if penalty <= 0:
            raise ValidationError(f"alpha must be > 0 (and X must vary); got alpha={self.alpha!r}")
        # Primal or dual normal equations, whichever system is smaller (Cholesky).
        if n >= d:
            G = Xc.T @ Xc
            G[np.diag_indices(d)] += penalty
            ridge = linalg.cho_solve(linalg.cho_factor(G, check_finite=False), Xc.T @ Yc)
        else:
            K = Xc @ Xc.T
            K[np.diag_indices(n)] += penalty
            ridge = Xc.T @ linalg.cho_solve(linalg.cho_factor(K, check_finite=False), Yc)
        fitted = Xc @ ridge
        _, f, Qt = linalg.svd(fitted, full_matrices=False, check_finite=False)
        rank = int((f > max(fitted.shape) * np.finfo(float).eps * (f[0] if f.size else 0)).sum())
        k = int(self.n_components)
        if not 1 <= k <= rank:
            raise RankError(
                f"n_components={k} exceeds the rank {rank} of the fitted targets "
                "(at most the number of target columns, minus one for one-hot classes)"
            )
        Qk = Qt[:k].T
        directions = ridge @ Qk
        self.coef_ = directions @ Qk.T
        self.subspace_ = Subspace.from_basis(
            directions, mean=self.x_mean_, meta={"method": "rank-k-probe", "rank": k}
        )

    def _raw_predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "coef_")
        A = validate_features(self, X, reset=False)
        return (A - self.x_mean_) @ self.coef_ + self.y_mean_

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or target values."""
        out = self._raw_predict(X)
        if self._classifier:
            return self.classes_[np.argmax(out, axis=1)]
        return out[:, 0] if out.shape[1] == 1 else out

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (class labels) or :math:`R^2` averaged over target columns."""
        pred = self.predict(X)
        if self._classifier:
            return float(np.mean(pred == np.asarray(y)))
        return float(r2_score(np.asarray(y, dtype=np.float64), pred))

    def transform(self, X: Any) -> np.ndarray:
        """Coordinates in the probe subspace."""
        check_fitted(self, "subspace_")
        return self.subspace_.project(validate_features(self, X, reset=False))
