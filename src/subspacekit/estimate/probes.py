r"""Linear read-out probes that return the subspace they read from, with held-out diagnostics.

Every probe stores its subspace in ``subspace_`` and a held-out score in
``validation_score_`` (accuracy for labels, :math:`R^2` for real targets): a fraction
``validation_fraction`` of the rows is held out, the probe is fitted on the rest and
scored there, then refitted on all rows. That protocol lives in :class:`HeldOutProbe`,
the base of every probe of :mod:`subspacekit.estimate`:

* :class:`LinearProbe` — logistic regression or ridge; the subspace is the row span
  of the weights.
* :class:`RankKProbe` — reduced-rank ridge regression (Izenman 1975): the best rank-k
  linear read-out, whose input directions span the subspace (rank 2 for the
  parametric/contextual knowledge split).
* :class:`~subspacekit.estimate.discriminant.DiffMeans` and
  :class:`~subspacekit.estimate.discriminant.LDA` — class-mean directions
  (:mod:`~subspacekit.estimate.discriminant`).
* :class:`~subspacekit.estimate.inlp.INLP` — iterative nullspace projection
  (:mod:`~subspacekit.estimate.inlp`).
"""

from __future__ import annotations

import abc
import warnings
from numbers import Integral, Real
from typing import Any, Self

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from subspacekit.core.linalg import numerical_rank, range_basis
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Interval,
    Options,
    check_array,
    check_consistent_samples,
    check_fitted,
    check_labels,
    check_n_components,
    validate_features,
    validate_params,
)
from subspacekit.errors import ConvergenceWarning, RankError, ValidationError

__all__ = ["HeldOutProbe", "LinearProbe", "RankKProbe", "class_labels"]


def class_labels(y: Any, n_samples: int, *, owner: str) -> np.ndarray:
    """The class labels of a classifier's ``y``: 1-D, one per row, binary or multiclass.

    The one target check of every classifier in ``estimate`` (the probes and the
    nearest-subspace classifier): a column vector is flattened with scikit-learn's
    ``DataConversionWarning``, NaN and mismatched lengths are refused by
    :func:`~subspacekit.core.validation.check_labels`, and real-valued (continuous)
    targets raise with scikit-learn's "Unknown label type" wording.

    Examples
    --------
    >>> class_labels([0, 1, 1], 3, owner="Probe")
    array([0, 1, 1])
    """
    if not isinstance(y, np.ndarray) and hasattr(y, "__array__"):
        y = np.asarray(y)  # array-likes that refuse numpy functions (np.ndim) directly
    if np.ndim(y) == 2 and np.shape(y)[1] == 1:
        y = column_or_1d(y, warn=True)
    labels = check_labels(y, "y", n_samples=n_samples)
    kind = type_of_target(labels)
    if kind not in ("binary", "multiclass"):
        raise ValidationError(
            f"Unknown label type: {kind!r}. {owner} needs class labels (binary or "
            f"multiclass); got {kind} targets"
        )
    return labels


class HeldOutProbe(BaseEstimator, abc.ABC):
    """Base of the probes: target checks, and fit on a split, score, refit on everything.

    Subclasses implement ``_fit_core(A, y)`` (fit on validated rows) and ``score``;
    ``fit`` calls :meth:`_fit_with_validation`, which sets ``validation_score_``
    (``nan`` when ``validation_fraction=0``).
    """

    _classifier = True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _validate(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Rows (float64, n_features_in_ recorded) and targets with one entry per row."""
        A = validate_features(self, X, reset=True, min_samples=2).astype(np.float64, copy=False)
        if y is None:
            raise ValidationError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        if self._classifier:
            target = self._class_targets(y, A.shape[0])
        else:
            target = check_array(y, "y", ndim=(1, 2), min_samples=0)
            check_consistent_samples(A, target, names=["X", "y"])
        return A, target

    def _class_targets(self, y: Any, n_samples: int) -> np.ndarray:
        return class_labels(y, n_samples, owner=type(self).__name__)

    def _encode_classes(self, y: np.ndarray, *, min_classes: int = 2) -> np.ndarray:
        """Set ``classes_`` and return each row's class index."""
        classes, inverse = np.unique(y, return_inverse=True)
        if classes.size < min_classes:
            raise ValidationError(
                f"{type(self).__name__} needs at least {min_classes} classes in y; "
                f"got {classes.size} class ({classes.tolist()!r})"
            )
        self.classes_ = classes
        return inverse

    def fit(self, X: Any, y: Any) -> Self:
        """Fit on a held-out split, score it (``validation_score_``), then refit on every row."""
        validate_params(self)
        A, target = self._validate(X, y)
        self._fit_with_validation(A, target)
        return self

    def _fit_with_validation(self, A: np.ndarray, y: np.ndarray) -> None:
        fraction = float(self.validation_fraction)
        self.validation_score_ = float("nan")
        if fraction > 0:
            stratify = y if self._classifier else None
            if self._classifier:
                self._encode_classes(y)  # refuse a single class before splitting
            try:
                A_tr, A_va, y_tr, y_va = train_test_split(
                    A, y, test_size=fraction, random_state=self.random_state, stratify=stratify
                )
            except ValueError as exc:
                raise ValidationError(
                    f"cannot hold out {fraction:.0%} of the {A.shape[0]} rows for validation "
                    f"({exc}); use more rows per class or validation_fraction=0"
                ) from exc
            self._fit_core(A_tr, y_tr)
            self.validation_score_ = float(self.score(A_va, y_va))
        self._fit_core(A, y)

    @abc.abstractmethod
    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        """Fit on validated rows ``A`` and targets ``y``."""

    @abc.abstractmethod
    def score(self, X: Any, y: Any) -> float:
        """Held-out quality: accuracy for labels, :math:`R^2` for real targets."""


# --------------------------------------------------------------------------- LinearProbe
class LinearProbe(HeldOutProbe):
    """Logistic-regression or ridge probe; the subspace is the row span of its weights.

    Parameters
    ----------
    kind : {"logistic", "ridge"}, default="logistic"
        Classification (held-out accuracy) or regression (held-out :math:`R^2`).
    regularization : float > 0, default=1.0
        Inverse of ``C`` for logistic regression, ``alpha`` for ridge.
    max_iter : int, default=1000
    validation_fraction : float in [0, 1), default=0.2
    random_state : int or None

    Attributes
    ----------
    n_iter_ : int
        Solver iterations of the logistic probe (absent for ``kind="ridge"``).
    coef_ : ndarray (n_outputs, d)
    intercept_ : ndarray (n_outputs,)
    subspace_ : Subspace
        Span of the rows of ``coef_``.
    classes_ : ndarray
        Logistic probes only.
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

    _parameter_constraints = {
        "kind": [Options("logistic", "ridge")],
        "regularization": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

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

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, RegressorTags

        tags = super().__sklearn_tags__()
        if self.kind == "ridge":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.multi_output = True
        else:
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        return tags

    @property
    def _classifier(self) -> bool:  # type: ignore[override]
        # Class labels for the logistic probe, real targets for ridge.
        return self.kind == "logistic"

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        if self.kind == "logistic":
            self._encode_classes(y)
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
        if self.kind == "logistic":
            # Iterations of the solver (the largest over one-vs-rest fits); ridge is solved
            # in closed form and has none.
            self.n_iter_ = int(np.max(model.n_iter_))
        self.coef_ = np.atleast_2d(model.coef_)
        self.intercept_ = np.atleast_1d(model.intercept_)
        basis, _ = range_basis(self.coef_.T)
        if basis.shape[1] == 0:
            raise RankError(
                "the probe's weights are all zero (the targets do not depend on X); there is "
                "no direction to report"
            )
        self.subspace_ = Subspace.from_orthonormal(
            basis, meta={"method": f"linear-probe-{self.kind}"}
        )

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels or values."""
        check_fitted(self, "model_")
        return self.model_.predict(validate_features(self, X, reset=False))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (logistic) or :math:`R^2` (ridge)."""
        check_fitted(self, "model_")
        return float(self.model_.score(validate_features(self, X, reset=False), y))


# --------------------------------------------------------------------------- RankKProbe
class RankKProbe(TransformerMixin, HeldOutProbe):
    r"""Low-rank linear probe by reduced-rank ridge regression.

    With centred data, the ridge solution :math:`\hat B = (X^\top X + \alpha I)^{-1}X^\top Y`
    and the top-k right singular vectors :math:`Q_k` of the fitted values
    :math:`X\hat B`, the rank-k read-out is :math:`\hat B Q_k Q_k^\top` (the
    least-squares optimum under the rank constraint for :math:`\alpha = 0`); its input
    directions :math:`\hat B Q_k` span the probe subspace. Class labels (integer or
    string, not float) are one-hot encoded (prediction = largest score, score =
    accuracy); real targets are scored by :math:`R^2`.

    Parameters
    ----------
    n_components : int, default=2
        Rank ``k``; at most the rank of the fitted targets (the number of target
        columns, or the number of classes minus one).
    alpha : float > 0, default=1.0
        Ridge penalty, relative to the mean nonzero eigenvalue of :math:`X^\top X`.
        Larger values bring the directions closer to the cross-covariance
        :math:`X^\top Y` (less noise from low-variance directions); smaller values
        predict better.
    validation_fraction : float in [0, 1), default=0.2
    random_state : int or None

    Attributes
    ----------
    subspace_ : Subspace
        Span of the k input directions, through the mean of X.
    coef_ : ndarray (d, n_outputs)
        Rank-k coefficients.
    classes_ : ndarray
        Class labels (classification only).
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

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any) -> RankKProbe:
        """Fit the rank-k read-out."""
        validate_params(self)
        if y is not None and not isinstance(y, np.ndarray) and hasattr(y, "__array__"):
            y = np.asarray(y)  # array-likes that refuse numpy functions (np.ndim) directly
        if y is not None and np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = np.asarray(y)[:, 0]  # one target column: the same problem as a 1-D target
        # Integer or string labels are classes; float targets (even 0.0/1.0) are values.
        self._classifier = (
            y is not None
            and np.ndim(y) == 1
            and np.asarray(y).dtype.kind not in "fc"
            and type_of_target(y) in ("binary", "multiclass")
        )
        A, target = self._validate(X, y)
        self._fit_with_validation(A, target)
        return self

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if self._classifier:
            inverse = self._encode_classes(y)
            return np.eye(self.classes_.size)[inverse]
        Y = np.asarray(y, dtype=np.float64)
        return Y[:, None] if Y.ndim == 1 else Y

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        Y = self._targets(y)
        self.x_mean_, self.y_mean_ = A.mean(axis=0), Y.mean(axis=0)
        Xc, Yc = A - self.x_mean_, Y - self.y_mean_
        n, d = Xc.shape
        # The read-out is scale-equivariant (B(cX) = B(X)/c with the relative penalty), so
        # it is computed at unit scale, where X^T X neither overflows nor underflows.
        peak = float(np.max(np.abs(Xc)))
        if not peak > 0:
            raise ValidationError(
                "X has no variance (every feature is constant, e.g. all rows identical); "
                "there is no read-out to fit"
            )
        Xs = Xc / peak
        # alpha is relative to the mean nonzero eigenvalue of X^T X (scale-free).
        penalty = float(self.alpha) * float((Xs**2).sum()) / min(n, d)
        # Primal or dual normal equations, whichever system is smaller (Cholesky).
        if n >= d:
            G = Xs.T @ Xs
            G[np.diag_indices(d)] += penalty
            ridge = linalg.cho_solve(linalg.cho_factor(G, check_finite=False), Xs.T @ Yc)
        else:
            K = Xs @ Xs.T
            K[np.diag_indices(n)] += penalty
            ridge = Xs.T @ linalg.cho_solve(linalg.cho_factor(K, check_finite=False), Yc)
        fitted = Xs @ ridge
        _, f, Qt = linalg.svd(fitted, full_matrices=False, check_finite=False)
        rank = numerical_rank(f, fitted.shape)
        if rank == 0:
            raise RankError(
                "the fitted targets have rank 0 (the targets are constant or do not depend on "
                "X); there is no read-out direction"
            )
        # At most the rank of the fitted targets: their number of columns, or the number
        # of classes minus one for one-hot labels.
        k = check_n_components(self.n_components, rank)
        Qk = Qt[:k].T
        directions = ridge @ Qk / peak
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
