r"""Class-mean probes: the difference of means and Fisher's linear discriminant.

* :class:`DiffMeans` — difference of class means (binary: one direction; multi-class:
  the span of the class means around the grand mean).
* :class:`LDA` — Fisher discriminant directions, the generalised eigenvectors of
  :math:`S_b v = \lambda S_w v`, with optional shrinkage of :math:`S_w` towards
  :math:`\bar\lambda I` (Ledoit–Wolf ``"auto"`` or a fixed amount).

Both are :class:`~subspacekit.estimate.probes.HeldOutProbe` s: ``validation_score_`` is
the accuracy on held-out rows.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.covariance import ledoit_wolf_shrinkage

from subspacekit.core.linalg import constant_columns, numerical_rank, range_basis, rank_tolerance
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Interval,
    Options,
    check_finite,
    check_fitted,
    check_n_components,
    validate_features,
)
from subspacekit.errors import RankError
from subspacekit.estimate.probes import HeldOutProbe

__all__ = ["LDA", "DiffMeans"]


def _constant_note(A: np.ndarray) -> str:
    constant = int(constant_columns(A).sum())
    return f" ({constant} constant feature{'s' if constant != 1 else ''})" if constant else ""


# --------------------------------------------------------------------------- DiffMeans
class DiffMeans(ClassifierMixin, HeldOutProbe):
    r"""Difference-of-means probe.

    Binary: ``direction_`` :math:`= \mu_1 - \mu_0` (the mean of ``classes_[1]`` minus
    that of ``classes_[0]``) and a threshold halfway between the projected class means.
    Multi-class: the span of :math:`\mu_c - \bar\mu` and nearest projected class mean.
    Class means that coincide (to rounding, relative to the data's magnitude) leave no
    direction and raise :class:`~subspacekit.errors.RankError`.

    Parameters
    ----------
    validation_fraction : float in [0, 1), default=0.2
    random_state : int or None

    Attributes
    ----------
    subspace_ : Subspace
        Linear span of the mean differences (dimension 1 for two classes).
    direction_ : ndarray (d,)
        Binary case only: :math:`\mu_1 - \mu_0`.
    means_ : ndarray (n_classes, d)
    classes_ : ndarray
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

    _parameter_constraints = {
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, validation_fraction: float = 0.2, random_state: Any = None) -> None:
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        inverse = self._encode_classes(y)
        means = np.stack([A[inverse == c].mean(axis=0) for c in range(self.classes_.size)])
        self.means_ = means
        spread = means - A.mean(axis=0)
        # Mean differences at the level of rounding of the data are no direction.
        negligible = rank_tolerance(A.shape) * float(np.max(np.abs(A)))
        if float(np.max(np.abs(spread))) <= negligible:
            raise RankError(
                "the class means coincide (up to rounding), so there is no difference direction"
            )
        if self.classes_.size == 2:
            self.direction_ = means[1] - means[0]
            basis = self.direction_[:, None] / np.linalg.norm(self.direction_)
        else:
            basis, _ = range_basis(spread.T)
        self.subspace_ = Subspace.from_orthonormal(basis, meta={"method": "diffmeans"})
        self._centers = means @ basis

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
class LDA(ClassifierMixin, TransformerMixin, HeldOutProbe):
    r"""Fisher linear discriminant analysis with shrinkage, returning the discriminant subspace.

    With class means :math:`\mu_c`, priors :math:`\pi_c`, the within-class covariance
    :math:`S_w = \frac1n\sum_c\sum_{i\in c}(x_i-\mu_c)(x_i-\mu_c)^\top` (maximum
    likelihood, as scikit-learn) shrunk to :math:`(1-\alpha)S_w + \alpha\bar\lambda I`,
    and :math:`S_b = \sum_c \pi_c(\mu_c-\mu)(\mu_c-\mu)^\top`, the directions solve
    :math:`S_b v = \lambda S_w v` (at most ``n_classes - 1`` of them). Classification uses
    the shared-covariance Gaussian rule
    :math:`\delta_c(x) = x^\top S_w^{-1}\mu_c - \tfrac12\mu_c^\top S_w^{-1}\mu_c + \log\pi_c`.
    Everything is computed at unit scale (the rule is scale-invariant), so data of any
    magnitude give the same directions and predictions.

    Parameters
    ----------
    n_components : int, optional
        Number of discriminant directions (default ``min(n_classes - 1, d)``).
    shrinkage : None, "auto" or float in [0, 1]
        Ledoit–Wolf (``"auto"``) or fixed shrinkage. Without shrinkage a singular
        :math:`S_w` (constant features, ``d >= n``; numerical rank by the rule of
        :func:`~subspacekit.core.linalg.numerical_rank`) raises :class:`RankError`.
    validation_fraction : float in [0, 1), default=0.2
    random_state : int or None

    Attributes
    ----------
    scalings_ : ndarray (d, k)
        Discriminant directions, :math:`S_w`-orthonormal.
    subspace_ : Subspace
        Their span, through the grand mean.
    explained_variance_ratio_ : ndarray (k,)
        Share of the between-class variance (generalised eigenvalues).
    coef_, intercept_ : ndarray
        The linear rule :math:`\delta_c`.
    classes_, priors_, means_ : ndarray
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

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "shrinkage": [Options("auto"), Interval(Real, 0, 1, closed="both"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

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

    def _fit_core(self, A: np.ndarray, y: np.ndarray) -> None:
        inverse = self._encode_classes(y)
        n, d = A.shape
        C = self.classes_.size
        # The directions, the rule and the priors are invariant to the unit of X; fit at
        # unit scale (no overflow of the scatter for huge data, no underflow for tiny)
        # and carry the unit back into the means and coefficients at the end.
        peak = float(np.max(np.abs(A)))
        unit = peak if peak > 0 else 1.0
        As = A / unit
        counts = np.bincount(inverse, minlength=C)
        self.priors_ = counts / n
        means = np.stack([As[inverse == c].mean(axis=0) for c in range(C)])
        within = As - means[inverse]
        Sw = within.T @ within / n
        check_finite(Sw, "the within-class covariance", context="rescale the data")
        if self.shrinkage is None:
            alpha = 0.0
        elif isinstance(self.shrinkage, str):
            alpha = float(ledoit_wolf_shrinkage(within, assume_centered=True))
        else:
            alpha = float(self.shrinkage)
        self.shrinkage_ = alpha
        mean_var = float(np.trace(Sw) / d)
        Sw = (1.0 - alpha) * Sw
        Sw[np.diag_indices(d)] += alpha * mean_var
        rank = numerical_rank(np.linalg.eigvalsh(Sw), Sw.shape)
        if rank < d:
            raise RankError(
                f"the within-class covariance has rank {rank} < {d} features"
                f"{_constant_note(A)}, with {n} samples; use shrinkage='auto' or a float "
                "shrinkage, or drop constant features"
            )
        grand = self.priors_ @ means
        D = (means - grand) * np.sqrt(self.priors_)[:, None]
        Sb = D.T @ D
        try:
            chol = linalg.cho_factor(Sw, lower=True, check_finite=False)
            evals, evecs = linalg.eigh(Sb, Sw, check_finite=False)
        except linalg.LinAlgError as exc:  # rank passed but not positive definite in LAPACK
            raise RankError(
                f"the within-class covariance is numerically singular{_constant_note(A)}; "
                "use shrinkage='auto' or a float shrinkage"
            ) from exc
        order = np.argsort(evals)[::-1]
        evals, evecs = evals[order], evecs[:, order]
        limit = min(C - 1, d)
        k = limit if self.n_components is None else check_n_components(self.n_components, limit)
        # S_w-orthonormal at unit scale; in data units S_w grows by unit^2.
        self.scalings_ = evecs[:, :k] / unit
        total = evals[:limit].clip(min=0).sum()
        self.explained_variance_ratio_ = evals[:k].clip(min=0) / total if total > 0 else np.zeros(k)
        self.means_ = means * unit
        self.xbar_ = grand * unit
        self.subspace_ = Subspace.from_basis(
            self.scalings_, mean=self.xbar_, meta={"method": "lda", "shrinkage": alpha}
        )
        precision_means = linalg.cho_solve(chol, means.T, check_finite=False)
        self.intercept_ = -0.5 * (means * precision_means.T).sum(axis=1) + np.log(self.priors_)
        self.coef_ = precision_means.T / unit

    def decision_function(self, X: Any) -> np.ndarray:
        """Linear discriminant scores: one column per class, or ``delta_1 - delta_0`` if binary."""
        check_fitted(self, "coef_")
        A = validate_features(self, X, reset=False)
        scores = A @ self.coef_.T + self.intercept_
        if self.classes_.size == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X: Any) -> np.ndarray:
        """Class with the largest discriminant score."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def transform(self, X: Any) -> np.ndarray:
        """Coordinates along the discriminant directions, :math:`(X - \\bar\\mu)V`."""
        check_fitted(self, "scalings_")
        A = validate_features(self, X, reset=False)
        return (A - self.xbar_) @ self.scalings_
