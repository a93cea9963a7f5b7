r"""Gradient subspaces: the dominant subspace of a stream of matrices, exactly or sketched.

For a stream of gradient matrices :math:`G_t \in R^{m\times n}` the top-r *left* subspace
is spanned by the leading eigenvectors of :math:`\sum_t G_tG_t^\top` (GaLore and CoSO
project updates onto it). :class:`GradientSubspace` accumulates that m x m matrix
exactly, or keeps a Frequent Directions sketch of width :math:`\ell` when m is large.

*Frequent Directions* (Liberty 2013; Ghashami, Liberty, Phillips & Woodruff 2016)
sketches the rows of a stream :math:`A` (n x d) by :math:`B` (:math:`\ell` x d). Rows
are appended to a buffer of :math:`2\ell` rows; when it is full, its SVD is shrunk by
:math:`\delta = \sigma_{\ell+1}^2`, which keeps :math:`\ell` rows. The total shrinkage
:math:`\Delta = \sum\delta` certifies

.. math:: 0 \preceq A^\top A - B^\top B \preceq \Delta I, \qquad
          \Delta \le \frac{\lVert A - A_k\rVert_F^2}{\ell + 1 - k}\ \ (0 \le k \le \ell),

because every shrink removes at least :math:`(\ell+1)\delta` of squared Frobenius norm
(:attr:`FrequentDirections.error_bound_` is :math:`\Delta`).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> A = rng.standard_normal((500, 3)) @ rng.standard_normal((3, 40)) + 0.01 * rng.standard_normal((500, 40))
>>> fd = FrequentDirections(sketch_size=8).fit(A)
>>> err = np.linalg.norm(A.T @ A - fd.sketch_.T @ fd.sketch_, 2)
>>> bool(err <= fd.error_bound_), bool(fd.error_bound_ < 1e-2 * np.linalg.norm(A) ** 2)
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator

from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_fitted, check_in
from subspacekit.errors import DimensionMismatchError, NotFittedError, RankError, ValidationError

__all__ = ["FrequentDirections", "GradientSubspace"]


class FrequentDirections(BaseEstimator):
    r"""Frequent Directions sketch of a stream of rows, with its error certificate.

    Parameters
    ----------
    sketch_size : int
        Number of rows :math:`\ell` of the sketch.

    Attributes
    ----------
    sketch_ : ndarray (ell, d)
        :math:`B` with :math:`A^\top A - B^\top B` positive semi-definite and at most
        ``error_bound_`` in spectral norm.
    error_bound_ : float
        :math:`\Delta`, the accumulated shrinkage (a guaranteed bound).
    squared_norm_ : float
        :math:`\lVert A\rVert_F^2` of everything seen.
    n_rows_seen_ : int
    """

    def __init__(self, sketch_size: int = 32) -> None:
        self.sketch_size = sketch_size

    def _ell(self) -> int:
        ell = self.sketch_size
        if isinstance(ell, bool) or not isinstance(ell, int | np.integer) or ell < 1:
            raise ValidationError(f"sketch_size must be a positive integer; got {ell!r}")
        return int(ell)

    def fit(self, A: Any) -> FrequentDirections:
        """Sketch the rows of ``A`` from scratch."""
        for attr in ("_buffer", "n_rows_seen_"):
            self.__dict__.pop(attr, None)
        return self.partial_fit(A)

    def partial_fit(self, A: Any) -> FrequentDirections:
        """Add rows to the sketch."""
        ell = self._ell()
        X = check_array(A, "A", min_samples=0).astype(np.float64, copy=False)
        if not hasattr(self, "_buffer"):
            self.n_features_in_ = X.shape[1]
            self._buffer = np.zeros((2 * ell, X.shape[1]))
            self._filled = 0
            self.error_bound_ = 0.0
            self.squared_norm_ = 0.0
            self.n_rows_seen_ = 0
        elif X.shape[1] != self.n_features_in_:
            raise DimensionMismatchError(
                f"A has {X.shape[1]} features but the sketch was started with {self.n_features_in_}"
            )
        self.squared_norm_ += float((X**2).sum())
        self.n_rows_seen_ += X.shape[0]
        start = 0
        while start < X.shape[0]:
            room = 2 * ell - self._filled
            take = min(room, X.shape[0] - start)
            self._buffer[self._filled : self._filled + take] = X[start : start + take]
            self._filled += take
            start += take
            if self._filled == 2 * ell:
                self._shrink()
        return self

    def _shrink(self) -> None:
        ell = self._ell()
        _, s, Vt = linalg.svd(self._buffer[: self._filled], full_matrices=False, check_finite=False)
        delta = s[ell] ** 2 if s.size > ell else 0.0
        kept = np.sqrt(np.maximum(s[:ell] ** 2 - delta, 0.0))
        self._buffer[:] = 0.0
        self._buffer[: kept.size] = kept[:, None] * Vt[:ell]
        self._filled = min(ell, kept.size)
        self.error_bound_ += float(delta)

    @property
    def sketch_(self) -> np.ndarray:
        """The current :math:`\\ell`-row sketch (the buffer is compressed if needed)."""
        if not hasattr(self, "_buffer"):
            raise NotFittedError(
                "This FrequentDirections instance is not fitted yet; call fit first"
            )
        if self._filled > self._ell():
            self._shrink()
        return self._buffer[: self._ell()].copy()

    def a_priori_bound(self, k: int = 0) -> float:
        r"""The guarantee :math:`\lVert A - A_k\rVert_F^2/(\ell+1-k)` evaluated with :math:`\lVert A\rVert_F^2` for k = 0.

        For ``k > 0`` the tail :math:`\lVert A - A_k\rVert_F^2` is not known from the stream;
        it is bounded above by :math:`\lVert A\rVert_F^2 - \lVert B_k\rVert_F^2` using the
        sketch's own top-k energy, which never undercounts the tail.
        """
        check_fitted(self, "n_rows_seen_")
        ell = self._ell()
        if not 0 <= k <= ell:
            raise ValidationError(f"k must lie in [0, {ell}]; got {k}")
        B = self.sketch_
        top = float((linalg.svdvals(B)[:k] ** 2).sum()) if k else 0.0
        return (self.squared_norm_ - top) / (ell + 1 - k)


class GradientSubspace(BaseEstimator):
    r"""Top-r left subspace of a stream of gradient matrices.

    Parameters
    ----------
    n_components : int
        Rank ``r``.
    sketch_size : int or None, default=None
        ``None`` accumulates :math:`\sum_t G_tG_t^\top` exactly (m x m memory);
        an int keeps a Frequent Directions sketch of the columns of all :math:`G_t`
        (m x ell memory).
    side : {"left", "right"}, default="left"
        ``"right"`` uses :math:`G_t^\top` (the row space).

    Attributes
    ----------
    subspace_ : Subspace
        Span of the top-r eigenvectors, dimension ``n_components``.
    energy_ : ndarray (r,)
        Their eigenvalues (gradient energy captured per direction).
    explained_energy_ratio_ : float
        Share of the total energy :math:`\sum_t\lVert G_t\rVert_F^2` in the subspace.
    n_matrices_seen_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> U = np.linalg.qr(rng.standard_normal((20, 2)))[0]
    >>> stream = [U @ rng.standard_normal((2, 7)) for _ in range(30)]
    >>> gs = GradientSubspace(2)
    >>> for G in stream:
    ...     _ = gs.partial_fit(G)
    >>> round(float(gs.subspace_.angles(U).max()), 8), round(gs.explained_energy_ratio_, 6)
    (0.0, 1.0)
    """

    def __init__(
        self, n_components: int = 8, *, sketch_size: int | None = None, side: str = "left"
    ) -> None:
        self.n_components = n_components
        self.sketch_size = sketch_size
        self.side = side

    def fit(self, matrices: Any) -> GradientSubspace:
        """Fit on an iterable of matrices (or one 3-D array of them)."""
        for attr in ("_gram", "_fd", "n_matrices_seen_"):
            self.__dict__.pop(attr, None)
        for G in matrices:
            self.partial_fit(G)
        if not hasattr(self, "n_matrices_seen_"):
            raise ValidationError("the stream of gradient matrices was empty")
        return self

    def partial_fit(self, G: Any) -> GradientSubspace:
        """Add one gradient matrix."""
        check_in(self.side, ("left", "right"), "side")
        M = check_array(G, "G").astype(np.float64, copy=False)
        if self.side == "right":
            M = M.T
        m = M.shape[0]
        if not hasattr(self, "n_matrices_seen_"):
            self.n_features_in_ = m
            self.n_matrices_seen_ = 0
            self._energy = 0.0
            if self.sketch_size is None:
                self._gram = np.zeros((m, m))
            else:
                self._fd = FrequentDirections(self.sketch_size)
        elif m != self.n_features_in_:
            raise DimensionMismatchError(
                f"G has {m} rows on the {self.side} side but earlier matrices had {self.n_features_in_}"
            )
        if self.sketch_size is None:
            self._gram += M @ M.T
        else:
            # The columns of G are the rows streamed into the sketch: G G^T = sum of their outer products.
            self._fd.partial_fit(M.T)
        self._energy += float((M**2).sum())
        self.n_matrices_seen_ += 1
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        return self

    def _decompose(self) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "n_matrices_seen_"):
            raise NotFittedError(
                "This GradientSubspace instance is not fitted yet; call partial_fit first"
            )
        if getattr(self, "_cache", None) is None:
            if self.sketch_size is None:
                evals, evecs = linalg.eigh(self._gram, check_finite=False)
                order = np.argsort(evals)[::-1]
                self._cache = (np.clip(evals[order], 0.0, None), evecs[:, order])
            else:
                B = self._fd.sketch_
                _, s, Vt = linalg.svd(B, full_matrices=False, check_finite=False)
                self._cache = (s**2, Vt.T)
        assert self._cache is not None
        return self._cache

    @property
    def energy_(self) -> np.ndarray:
        evals, _ = self._decompose()
        return evals[: int(self.n_components)]

    @property
    def explained_energy_ratio_(self) -> float:
        return float(self.energy_.sum() / self._energy) if self._energy > 0 else 0.0

    @property
    def subspace_(self) -> Subspace:
        evals, evecs = self._decompose()
        r = int(self.n_components)
        limit = evecs.shape[1]
        if not 1 <= r <= limit:
            raise RankError(f"n_components must lie in [1, {limit}]; got {r}")
        tol = evals.size * np.finfo(float).eps * (evals[0] if evals.size else 0.0)
        rank = int((evals > tol).sum())
        if r > rank:
            raise RankError(
                f"n_components={r} exceeds the rank {rank} of the gradients seen so far"
            )
        return Subspace.from_basis(
            evecs[:, :r], meta={"method": "gradient-subspace", "side": self.side}
        )
