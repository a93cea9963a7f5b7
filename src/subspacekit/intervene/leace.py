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

Sums over samples are accumulated in float64 in chunks (pairwise-merged means and
co-moments), so ``partial_fit`` streams data and float32 input loses no accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg.blas import dsyrk
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from subspacekit.core.backend import import_optional, is_torch_tensor
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_consistent_samples, check_in
from subspacekit.errors import (
    DimensionMismatchError,
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = ["LEACE", "linear_shrinkage"]

_CHUNK = 8192


def linear_shrinkage(S: np.ndarray, n: int) -> np.ndarray:
    r"""Asymptotically optimal linear shrinkage of a sample covariance matrix.

    Returns :math:`\alpha S + (1-\alpha)\,\tau I` with :math:`\tau = \mathrm{tr}(S)/p`
    and

    .. math:: \alpha = 1 - \frac{\mathrm{tr}(S)^2 / n}{\|S\|_F^2 - \mathrm{tr}(S)^2/p},

    the Frobenius-optimal weight as p and n grow together (Bodnar, Gupta & Parolya,
    2014), which is also the formula ``concept-erasure`` uses. ``S`` is the biased
    sample covariance (divided by n). :math:`\alpha` is clipped to [0, 1]: with
    very few samples the raw weight turns negative and the result would not be a
    covariance matrix.

    Examples
    --------
    >>> S = np.diag([3.0, 1.0])
    >>> linear_shrinkage(S, n=10).round(3)  # alpha = 0.2, tau = 2
    array([[2.2, 0. ],
           [0. , 1.8]])
    """
    p = S.shape[0]
    trace = float(np.trace(S))
    spread = float(np.sum(S * S)) - trace * trace / p
    if spread <= 0.0:
        # Already isotropic (or zero): nothing to shrink.
        return S.copy()
    alpha = min(1.0, max(0.0, 1.0 - (trace * trace / n) / spread))
    out = alpha * S
    out[np.diag_indices(p)] += (1.0 - alpha) * trace / p
    return out


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
    svd_tol : float, default=0.01
        Singular values of :math:`W\Sigma_{xz}` at or below this are treated as zero.

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
        Class labels when ``z`` was given as a 1-D label vector (one-hot encoded).
    n_samples_seen_ : int

    Notes
    -----
    The guarantee holds up to floating-point rounding (about 1e-16 relative). A
    feature that is constant on the data receives rounding-level amounts of the
    concept, and a probe that standardises its features turns those into a
    perfect predictor. Drop (near-)constant features before standardising: the last
    blocks of all-MiniLM-L6-v2 have output features with variance ~1e-65 whose
    rounding carries the label even before any erasure. EleutherAI's
    ``concept-erasure`` behaves the same way.

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
    def fit(self, X: Any, z: Any, classes: Sequence[Any] | None = None) -> LEACE:
        """Fit the eraser on representations X (n, d) and concept z.

        Parameters
        ----------
        X : array-like or tensor, shape (n_samples, d)
        z : array-like, shape (n_samples,) or (n_samples, k)
            Integer, boolean or string labels (one-hot encoded; ``classes_`` is set),
            a float vector (one continuous concept), or an (n, k) matrix used as is.
        classes : sequence, optional
            All class labels, when ``z`` may miss some (as in ``partial_fit``).
        """
        for attr in ("n_samples_seen_", "classes_", "_moments", "_z_kind"):
            self.__dict__.pop(attr, None)
        return self.partial_fit(X, z, classes=classes)

    def partial_fit(self, X: Any, z: Any, classes: Sequence[Any] | None = None) -> LEACE:
        """Add a chunk of samples to the running moments and update the eraser.

        For class labels, pass ``classes`` on the first call unless the first chunk
        already holds every class.
        """
        check_in(self.method, ("leace", "orth"), "method")
        if not (isinstance(self.svd_tol, int | float) and self.svd_tol > 0):
            raise ValidationError(f"svd_tol must be a positive number; got {self.svd_tol!r}")
        X = check_array(X, "X")
        Z = self._encode(z, classes)
        check_consistent_samples(X, Z, names=["X", "z"])
        moments: dict[str, Any] | None = getattr(self, "_moments", None)
        if moments is not None and moments["mean_x"].shape[0] != X.shape[1]:
            raise DimensionMismatchError(
                f"X has {X.shape[1]} features; earlier chunks had {moments['mean_x'].shape[0]}"
            )
        for start in range(0, X.shape[0], _CHUNK):
            moments = _merge(moments, X[start : start + _CHUNK], Z[start : start + _CHUNK])
        assert moments is not None  # X has at least one row
        self._moments: dict[str, Any] = moments
        self.n_samples_seen_ = int(moments["n"])
        if self.n_samples_seen_ < 2:
            raise TooFewSamplesError(f"LEACE needs at least 2 samples; got {self.n_samples_seen_}")
        self._solve()
        return self

    def _encode(self, z: Any, classes: Sequence[Any] | None) -> np.ndarray:
        arr = z.detach().cpu().numpy() if is_torch_tensor(z) else np.asarray(z)
        if arr.ndim not in (1, 2):
            raise ShapeError(f"z must be 1-D labels or an (n, k) matrix; got shape {arr.shape}")
        if arr.ndim == 2:
            kind = "matrix"
        elif arr.dtype.kind == "f" and classes is None:
            kind = "continuous"
        else:
            kind = "labels"
        first = not hasattr(self, "_moments")
        if first:
            self._z_kind = kind
            self.classes_: np.ndarray | None = (
                np.unique(arr if classes is None else np.asarray(classes))
                if kind == "labels"
                else None
            )
        elif kind != self._z_kind and not (self._z_kind == "labels" and kind == "continuous"):
            raise ValidationError(f"z was given as {self._z_kind} before; got {kind} now")
        if self._z_kind == "matrix":
            return check_array(arr, "z").astype(np.float64)
        if self._z_kind == "continuous":
            return check_array(arr[:, None], "z").astype(np.float64)
        known = self.classes_
        assert known is not None  # labels were seen first
        if len(known) < 2 and first and classes is None:
            raise ValidationError(
                f"z must hold at least 2 classes to have something to erase; got {known.tolist()}"
            )
        index = np.clip(np.searchsorted(known, arr), 0, len(known) - 1)
        if not np.all(known[index] == arr):
            unseen = sorted(set(arr.tolist()) - set(known.tolist()))[:5]
            raise ValidationError(
                f"z holds labels {unseen} not among the classes {known.tolist()[:10]}; pass "
                "classes= with every label on the first call"
            )
        Z = np.zeros((arr.shape[0], len(known)))
        Z[np.arange(arr.shape[0]), index] = 1.0
        return Z

    def _sigma_xx(self) -> np.ndarray:
        m = self._moments
        n = m["n"]
        S = m["xx"]
        if self.shrinkage:
            return linear_shrinkage(S / n, n)
        return S / (n - 1)

    def _solve(self) -> None:
        m = self._moments
        n, d = m["n"], m["mean_x"].shape[0]
        sigma_xz = m["xz"] / (n - 1)
        if self.method == "leace":
            sigma = self._sigma_xx()
            evals, evecs = np.linalg.eigh(sigma)
            # Same cut-off as numpy/torch pinv: directions with no variance are left alone.
            keep = evals > evals[-1] * d * np.finfo(np.float64).eps
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
        self.mean_ = m["mean_x"].copy()
        self.bias_ = self.mean_ if self.affine else None
        self.proj_left_ = left
        self.proj_right_ = right
        self.rank_ = int(u.shape[1])
        self.subspace_ = _column_span(left, d, meta={"method": f"LEACE ({self.method})"})

    # ---------------------------------------------------------------- applying
    @property
    def projection_(self) -> np.ndarray:
        """The (d, d) eraser matrix :math:`P = I - LR` (so ``r(x) = mu + P (x - mu)``)."""
        check_is_fitted(self, "proj_left_")
        return np.eye(self.proj_left_.shape[0]) - self.proj_left_ @ self.proj_right_

    def transform(self, X: Any) -> Any:
        """Erase the concept from the rows of X (numpy in, numpy out; tensor in, tensor out).

        The output keeps the input's float dtype.
        """
        check_is_fitted(self, "proj_left_")
        d = self.proj_left_.shape[0]
        if is_torch_tensor(X):
            torch = import_optional("torch", "torch")
            if X.shape[-1] != d:
                raise DimensionMismatchError(f"X must have {d} features; got {X.shape[-1]}")
            kw = {"dtype": X.dtype if X.is_floating_point() else torch.float64, "device": X.device}
            Xt = X.to(**kw)
            left = torch.as_tensor(self.proj_left_, **kw)
            right = torch.as_tensor(self.proj_right_, **kw)
            centred = Xt - torch.as_tensor(self.bias_, **kw) if self.bias_ is not None else Xt
            return Xt - (centred @ right.T) @ left.T
        A = check_array(X, "X")
        if A.shape[1] != d:
            raise DimensionMismatchError(f"X must have {d} features; got {A.shape[1]}")
        centred = A - self.bias_ if self.bias_ is not None else A
        out = A - (centred @ self.proj_right_.T) @ self.proj_left_.T
        return out.astype(A.dtype, copy=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _chunk_moments(
    X: np.ndarray, Z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Means, scatter Xc^T Xc and cross-scatter Xc^T Zc of one chunk, in float64.

    torch (installed wherever hooks run) is used when present: its float64 GEMM and
    element-wise kernels are 2-3x faster than the OpenBLAS build numpy ships on
    AVX-512 machines. Without torch, BLAS syrk computes one triangle of the scatter
    (half the flops of a GEMM).
    """
    mean_z = Z.mean(axis=0)
    Zc = Z - mean_z
    try:
        import torch
    except ImportError:
        mean_x = X.mean(axis=0, dtype=np.float64)
        Xc = X.astype(np.float64) - mean_x
        upper = dsyrk(1.0, Xc.T, trans=0, lower=0)
        return mean_x, mean_z, np.triu(upper) + np.triu(upper, 1).T, Xc.T @ Zc
    T = torch.from_numpy(np.ascontiguousarray(X)).to(torch.float64)
    mean_x = T.mean(dim=0)
    T = T - mean_x  # not in place: for float64 input T shares memory with the caller's X
    xx = T.T @ T
    xz = T.T @ torch.from_numpy(Zc)
    return mean_x.numpy(), mean_z, xx.numpy(), xz.numpy()


def _merge(moments: dict[str, Any] | None, X: np.ndarray, Z: np.ndarray) -> dict[str, Any]:
    """Combine running means/co-moments with one chunk (Chan et al. pairwise update)."""
    n_b = X.shape[0]
    mean_x, mean_z, xx, xz = _chunk_moments(X, Z)
    if moments is None:
        return {"n": n_b, "mean_x": mean_x, "mean_z": mean_z, "xx": xx, "xz": xz}
    n_a = moments["n"]
    n = n_a + n_b
    dx = mean_x - moments["mean_x"]
    dz = mean_z - moments["mean_z"]
    weight = n_a * n_b / n
    return {
        "n": n,
        "mean_x": moments["mean_x"] + dx * (n_b / n),
        "mean_z": moments["mean_z"] + dz * (n_b / n),
        "xx": moments["xx"] + xx + weight * np.outer(dx, dx),
        "xz": moments["xz"] + xz + weight * np.outer(dx, dz),
    }


def _column_span(A: np.ndarray, d: int, meta: dict[str, Any]) -> Subspace:
    if A.shape[1] == 0:
        return Subspace.zero(d)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(np.float64).eps)) if s[0] > 0 else 0
    return Subspace.from_basis(U[:, :rank], meta=meta) if rank else Subspace.zero(d)
