r"""LEACE: least-squares concept erasure in closed form (Belrose et al., NeurIPS 2023).

Given representations :math:`x \in R^d` and a concept :math:`z \in R^k` (one-hot
classes or continuous values), LEACE finds the affine map
:math:`r(x) = x - M(x - \mu_x)` that

1. makes :math:`\mathrm{Cov}(r(x), z) = 0`, which is equivalent to no linear
   classifier predicting :math:`z` from :math:`r(x)` better than a constant one, and
2. among all such maps moves :math:`x` the least in the Mahalanobis (whitened)
   norm :math:`E\|W(r(x) - x)\|^2`.

With the covariance :math:`\Sigma_{xx}`, its whitening matrix
:math:`W = \Sigma_{xx}^{-1/2}` and pseudo-inverse :math:`W^+ = \Sigma_{xx}^{1/2}`,
and :math:`U` an orthonormal basis of the column space of :math:`W\Sigma_{xz}`
(singular vectors with singular value above ``svd_tol``), the eraser is

.. math::  P = I - W^+ U U^\top W, \qquad r(x) = \mu_x + P (x - \mu_x),

an oblique projection: it zeroes the whitened coordinates that correlate with
:math:`z` and maps back. ``method="orth"`` uses :math:`W = I` instead (the
orthogonal projection off the span of :math:`\Sigma_{xz}`).

Numerical options follow EleutherAI's ``concept-erasure`` package so that the two
give the same eraser on the same data: the covariance is shrunk towards
:math:`(\mathrm{tr}\,S/d) I` with the asymptotically optimal linear weight, and
singular values up to ``svd_tol`` are dropped. Its ``constrain_cov_trace`` option
has no counterpart here because it can never act: with the same :math:`\Sigma`
used to whiten and to measure,
:math:`\mathrm{tr}(P\Sigma P^\top) = \mathrm{tr}\,\Sigma - \mathrm{tr}(U^\top\Sigma U)`,
so erasure never increases the total variance (tested).

Sums over samples are accumulated by :class:`subspacekit.estimate.covariance.Accumulator`,
the library's one streaming home of means and (cross-)covariances: X and the encoded
concept Z are added as paired chunks and the X-X and X-Z blocks of the float64
scatter matrix are read back with :meth:`~subspacekit.estimate.covariance.ScatterStats.blocks`,
so ``partial_fit`` streams data and float32 input loses no accuracy. The rank of the
covariance (which directions whitening may invert) is the core rank rule
:func:`subspacekit.core.linalg.numerical_rank`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from subspacekit.core.backend import import_optional, is_torch_tensor, to_numpy
from subspacekit.core.linalg import numerical_rank, range_basis, rank_tolerance
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Interval,
    Options,
    check_array,
    check_consistent_samples,
    check_fitted,
    check_int,
    check_labels,
    check_same_dimension,
    validate_features,
    validate_params,
)
from subspacekit.errors import (
    NonFiniteError,
    ShapeError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.estimate.covariance import Accumulator, ScatterStats

__all__ = ["LEACE", "linear_shrinkage"]

# Rows per accumulator update: bounds the float64 copy of a chunk of [X | Z].
_CHUNK = 8192


def linear_shrinkage(S: Any, n: int) -> np.ndarray:
    r"""Asymptotically optimal linear shrinkage of a sample covariance matrix.

    Returns :math:`\alpha S + (1-\alpha)\,\tau I` with :math:`\tau = \mathrm{tr}(S)/p`
    and

    .. math:: \alpha = 1 - \frac{\mathrm{tr}(S)^2 / n}{\|S\|_F^2 - \mathrm{tr}(S)^2/p},

    the Frobenius-optimal weight as p and n grow together (Bodnar, Gupta & Parolya,
    2014), which is also the formula ``concept-erasure`` uses. ``S`` is the biased
    sample covariance (divided by n). :math:`\alpha` is clipped to [0, 1]: with
    very few samples the raw weight turns negative and the result would not be a
    covariance matrix.

    Parameters
    ----------
    S : array-like of shape (p, p)
        Square, real and finite.
    n : int >= 1
        Number of samples behind ``S``.

    Examples
    --------
    >>> S = np.diag([3.0, 1.0])
    >>> linear_shrinkage(S, n=10).round(3)  # alpha = 0.2, tau = 2
    array([[2.2, 0. ],
           [0. , 1.8]])
    """
    given = check_array(S, "S")
    S = given.astype(np.float64)
    if S.shape[0] != S.shape[1]:
        raise ShapeError(f"S must be a square (p, p) covariance matrix; got shape {S.shape}")
    n = check_int(n, "n", low=1)
    p = S.shape[0]
    trace = float(np.trace(S))
    spread = float(np.sum(S * S)) - trace * trace / p
    if not np.isfinite(spread):
        raise NonFiniteError("the squared norm of S overflowed float64; rescale S")
    if spread <= 0.0:
        # Already isotropic (or zero): nothing to shrink.
        return S.astype(given.dtype)
    alpha = min(1.0, max(0.0, 1.0 - (trace * trace / n) / spread))
    out = alpha * S
    out[np.diag_indices(p)] += (1.0 - alpha) * trace / p
    return out.astype(given.dtype, copy=False)  # computed in float64, float32 kept


class LEACE(TransformerMixin, BaseEstimator):
    r"""Least-squares concept erasure (LEACE), fitted in closed form.

    Parameters
    ----------
    method : {"leace", "orth"}, default="leace"
        ``"leace"``: whitened oblique eraser (least damage in the Mahalanobis norm).
        ``"orth"``: orthogonal projection off the span of the cross-covariance.
    affine : bool, default=True
        Centre on the mean of X, so that the unconditional mean is unchanged.
    shrinkage : bool, default=True
        Shrink the covariance of X (see :func:`linear_shrinkage`); otherwise the
        unbiased sample covariance is used.
    svd_tol : float > 0, default=0.01
        Singular values of :math:`W\Sigma_{xz}` at or below this are treated as zero
        (an absolute threshold on whitened correlations, as in ``concept-erasure``).

    Attributes
    ----------
    mean_ : ndarray (d,)
        Mean of X.
    bias_ : ndarray (d,) or None
        Centre of the eraser (``mean_`` when ``affine``).
    proj_left_, proj_right_ : ndarray (d, m), (m, d)
        Low-rank factors with :math:`P = I - L R`.
    rank_ : int
        Number of whitened directions erased (rank of :math:`UU^\top`).
    subspace_ : Subspace
        Span of the directions the eraser moves (the column space of :math:`I-P`).
    classes_ : ndarray or None
        Class labels when ``y`` was given as a 1-D label vector (one-hot encoded).
    n_samples_seen_ : int
    n_features_in_ : int

    Notes
    -----
    The guarantee holds up to floating-point rounding (about 1e-16 relative). A
    feature that is constant on the data receives rounding-level amounts of the
    concept, and a probe that standardises its features turns those into a
    perfect predictor. Drop (near-)constant features before standardising: the last
    blocks of all-MiniLM-L6-v2 have output features with variance ~1e-65 whose
    rounding carries the label even before any erasure. EleutherAI's
    ``concept-erasure`` behaves the same way.

    Data with no variance at all (every row the same), or a concept that never
    changes, leaves nothing to erase: the eraser is the identity and an
    :class:`~subspacekit.errors.UntrustworthyEstimateWarning` says so.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 500)
    >>> X = rng.standard_normal((500, 4)) + 3.0 * z[:, None] * np.array([1.0, -1.0, 0.0, 0.0])
    >>> eraser = LEACE().fit(X, z)
    >>> Xe = eraser.transform(X)
    >>> float(np.abs(Xe[z == 1].mean(0) - Xe[z == 0].mean(0)).max()) < 1e-10
    True
    >>> eraser.rank_
    1
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "method": [Options("leace", "orth")],
        "affine": ["boolean"],
        "shrinkage": ["boolean"],
        "svd_tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        method: str = "leace",
        affine: bool = True,
        shrinkage: bool = True,
        svd_tol: float = 0.01,
    ) -> None:
        self.method = method
        self.affine = affine
        self.shrinkage = shrinkage
        self.svd_tol = svd_tol

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, classes: Sequence[Any] | None = None) -> LEACE:
        """Fit the eraser on representations X (n, d) and the concept y.

        Parameters
        ----------
        X : array-like or tensor, shape (n_samples, d)
        y : array-like, shape (n_samples,) or (n_samples, k)
            The concept z: integer, boolean or string labels (one-hot encoded;
            ``classes_`` is set), a float vector (one continuous concept), or an
            (n, k) matrix used as is.
        classes : sequence, optional
            All class labels, when ``y`` may miss some (as in ``partial_fit``).
        """
        for attr in ("n_samples_seen_", "classes_", "_accumulator", "_stats", "_z_kind"):
            self.__dict__.pop(attr, None)
        return self.partial_fit(X, y, classes=classes)

    def partial_fit(self, X: Any, y: Any, classes: Sequence[Any] | None = None) -> LEACE:
        """Add a chunk of samples to the running moments and update the eraser.

        For class labels, pass ``classes`` on the first call unless the first chunk
        already holds every class.
        """
        first = not hasattr(self, "_accumulator")
        if first:
            validate_params(self)
        A = validate_features(self, X, reset=first)
        Z = self._encode(y, classes, first, A.shape[0])
        accumulator: Accumulator = Accumulator() if first else self._accumulator
        for start in range(0, A.shape[0], _CHUNK):
            accumulator.add(A[start : start + _CHUNK], "X", y=Z[start : start + _CHUNK])
        self._accumulator = accumulator
        self._stats: ScatterStats = accumulator.result()
        self.n_samples_seen_ = int(self._stats.n_samples)
        n = self.n_samples_seen_
        if n < 2:
            raise TooFewSamplesError(
                f"LEACE needs at least 2 samples; got {n} sample(s) (n_samples={n})"
            )
        self._solve()
        return self

    def _encode(
        self, y: Any, classes: Sequence[Any] | None, first: bool, n_samples: int
    ) -> np.ndarray:
        """The concept as an (n, k) float matrix: one-hot labels, one column, or as given."""
        if y is None:
            raise ValidationError(
                "LEACE requires y to be passed, but the target y is None (y is the concept "
                "to erase)"
            )
        arr = to_numpy(y)
        if arr.ndim == 2 and arr.shape[1] > 1:
            kind = "matrix"
        elif arr.dtype.kind == "f" and classes is None:
            kind = "continuous"
        else:
            kind = "labels"
        if first:
            self._z_kind = kind
        elif kind != self._z_kind and not (self._z_kind == "labels" and kind == "continuous"):
            raise ValidationError(f"y was given as {self._z_kind} before; got {kind} now")
        if self._z_kind == "matrix":
            Z = check_array(arr, "y").astype(np.float64)
        elif self._z_kind == "continuous":
            Z = check_array(arr.reshape(arr.shape[0], -1) if arr.ndim else arr, "y")
            if Z.shape[1] != 1:
                raise ShapeError(f"a continuous concept y must be (n,) or (n, 1); got {Z.shape}")
            Z = Z.astype(np.float64)
        else:
            labels = check_labels(arr, "y", n_samples=n_samples)
            if first:
                known = np.unique(labels if classes is None else np.asarray(classes))
                if len(known) < 2 and classes is None:
                    raise ValidationError(
                        "y must hold at least 2 classes to have something to erase; got 1 "
                        f"class {known.tolist()}"
                    )
                self.classes_: np.ndarray | None = known
            known = self.classes_
            assert known is not None  # labels were seen first
            index = np.clip(np.searchsorted(known, labels), 0, len(known) - 1)
            if not np.all(known[index] == labels):
                unseen = sorted(set(labels.tolist()) - set(known.tolist()))[:5]
                raise ValidationError(
                    f"y holds labels {unseen} not among the classes {known.tolist()[:10]}; "
                    "pass classes= with every label on the first call"
                )
            Z = np.zeros((labels.shape[0], len(known)))
            Z[np.arange(labels.shape[0]), index] = 1.0
        if first and self._z_kind != "labels":
            self.classes_ = None
        check_consistent_samples(np.empty(n_samples), Z, names=["X", "y"])
        return Z

    def _sigma_xx(self) -> np.ndarray:
        """The covariance of X that whitening uses (shrunk, or the unbiased estimate)."""
        xx, _, _ = self._stats.blocks()
        n = self._stats.n_samples
        if self.shrinkage:
            return linear_shrinkage(xx / n, n)
        return xx / (n - 1)

    def _warn_if_nothing_varies(self) -> None:
        stats = self._stats
        xx, _, zz = stats.blocks()
        d = xx.shape[0]
        n = stats.n_samples
        # The relative rule of core.linalg.constant_columns on the pooled statistics: the
        # spread of the data is rounding next to its magnitude (the rows are identical).
        for part, block, mean, what in (
            ("X", xx, stats.mean[:d], "every row of X is the same"),
            ("y", zz, stats.mean[d:], "the concept y never changes"),
        ):
            spread = np.sqrt(max(float(np.trace(block)), 0.0) / n)
            scale = max(spread, float(np.max(np.abs(mean))) if mean.size else 0.0)
            if not spread > rank_tolerance((n, block.shape[0])) * scale:
                warnings.warn(
                    f"nothing to erase: {what} (no variance in {part}); the eraser is the identity",
                    UntrustworthyEstimateWarning,
                    stacklevel=4,
                )
                return

    def _solve(self) -> None:
        stats = self._stats
        n = stats.n_samples
        _, xz, _ = stats.blocks()
        d = xz.shape[0]
        sigma_xz = xz / (n - 1)
        if self.method == "leace":
            sigma = self._sigma_xx()
            evals, evecs = np.linalg.eigh(sigma)
            # sigma is symmetric PSD, so its eigenvalues are its singular values and the
            # core rank rule decides which directions whitening may invert (the others,
            # with no variance, are left alone, as numpy/torch pinv do).
            rank = numerical_rank(evals, sigma.shape)
            keep = np.arange(d) >= d - rank  # eigh sorts ascending: the top `rank` stay
            evals = np.clip(evals, 0.0, None)
            inv_sqrt = np.where(keep, 1.0 / np.sqrt(np.where(keep, evals, 1.0)), 0.0)
            whiten = (evecs * inv_sqrt) @ evecs.T
            unwhiten = (evecs * np.sqrt(evals) * keep) @ evecs.T
        else:
            whiten = unwhiten = np.eye(d)
        u, s, _ = np.linalg.svd(whiten @ sigma_xz, full_matrices=False)
        u = u[:, s > self.svd_tol]
        left = unwhiten @ u
        right = u.T @ whiten
        if not (np.isfinite(left).all() and np.isfinite(right).all()):
            raise NonFiniteError(
                "the eraser overflowed float64 while whitening; rescale X (its scale is "
                "beyond what float64 can square)"
            )
        self.mean_ = stats.mean[:d].copy()
        self.bias_ = self.mean_ if self.affine else None
        self.proj_left_ = left
        self.proj_right_ = right
        self.rank_ = int(u.shape[1])
        basis, _ = range_basis(left)
        meta = {"method": f"LEACE ({self.method})"}
        self.subspace_ = (
            Subspace.from_orthonormal(basis, meta=meta) if basis.shape[1] else Subspace.zero(d)
        )
        if self.rank_ == 0:
            self._warn_if_nothing_varies()

    # ---------------------------------------------------------------- applying
    @property
    def projection_(self) -> np.ndarray:
        """The (d, d) eraser matrix :math:`P = I - LR` (so ``r(x) = mu + P (x - mu)``)."""
        check_fitted(self, "proj_left_")
        return np.eye(self.proj_left_.shape[0]) - self.proj_left_ @ self.proj_right_

    def transform(self, X: Any) -> Any:
        """Erase the concept from the rows of X (numpy in, numpy out; tensor in, tensor out).

        The output keeps the input's float dtype.
        """
        check_fitted(self, "proj_left_")
        d = self.proj_left_.shape[0]
        if is_torch_tensor(X):
            torch = import_optional("torch", "torch")
            check_same_dimension(int(X.shape[-1]), d, "number of features (X vs the fit)")
            if X.is_complex():
                raise ValidationError(f"X must hold real numbers; got {X.dtype}")
            kw = {"dtype": X.dtype if X.is_floating_point() else torch.float64, "device": X.device}
            Xt = X.to(**kw)
            if not bool(torch.isfinite(Xt).all()):
                raise NonFiniteError("X contains NaN or infinite values; expected finite numbers")
            left = torch.as_tensor(self.proj_left_, **kw)
            right = torch.as_tensor(self.proj_right_, **kw)
            centred = Xt - torch.as_tensor(self.bias_, **kw) if self.bias_ is not None else Xt
            return Xt - (centred @ right.T) @ left.T
        A = validate_features(self, X, reset=False)
        centred = A - self.bias_ if self.bias_ is not None else A
        out = A - (centred @ self.proj_right_.T) @ self.proj_left_.T
        return out.astype(A.dtype, copy=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
