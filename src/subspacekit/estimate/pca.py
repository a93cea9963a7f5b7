r"""Principal component analysis at every scale, returning a :class:`~subspacekit.core.Subspace`.

With centred data :math:`\tilde X = X - 1\mu^\top` (n x d) the principal axes are the
eigenvectors of :math:`C = \tilde X^\top \tilde X/(n-1)`, equivalently the right singular
vectors of :math:`\tilde X = U S V^\top`, with variances :math:`\lambda_i = s_i^2/(n-1)`.

Solvers:

* ``"full"`` — float64 Householder QR of the centred data and an SVD of its triangular
  factor (LAPACK; the most accurate small eigenvalues);
* ``"covariance"`` — float64 scatter matrix accumulated in chunks (each chunk centred
  by its own mean, SYRK product, Chan merges; see :mod:`.covariance`) and a symmetric
  eigendecomposition: the fast exact path for ``n >> d``;
* ``"randomized"`` — Halko–Martinsson–Tropp range finder with power iterations, in the
  input's precision, and a float64 SVD of the small projected matrix;
* ``"auto"`` — ``"covariance"`` when ``n >= 10 d``, ``"randomized"`` for a small integer
  ``n_components`` on large data, ``"full"`` otherwise.

Streaming: :meth:`PCA.partial_fit` merges chunk statistics exactly, and :meth:`PCA.fit`
accepts an iterator of chunks, a zarr array or a dask array (reduced by the active
dask scheduler, e.g. a ``dask.distributed`` cluster). The fitted subspace does not
depend on the chunking.

``n_components`` is an int, a fraction of variance in (0, 1) (the smallest number of
components explaining at least that fraction, by the one rule of
:func:`~subspacekit.core.linalg.n_components_for_variance`), ``None`` (all), or the name
of a random-matrix rank rule from :mod:`.rank_rules` (``"mp"``, ``"gavish-donoho"``,
``"bbp"``, ``"parallel"``). Ranks follow :func:`~subspacekit.core.linalg.numerical_rank`.
"""

from __future__ import annotations

import numbers
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin

from subspacekit.core.backend import is_torch_tensor
from subspacekit.core.linalg import (
    constant_columns,
    identical_rows,
    n_components_for_variance,
    numerical_rank,
    rank_tolerance,
)
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Interval,
    Options,
    check_array,
    check_fitted,
    check_random_state,
    validate_features,
    validate_params,
)
from subspacekit.errors import (
    NonFiniteError,
    NotFittedError,
    RankError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.estimate import rank_rules
from subspacekit.estimate.covariance import (
    Accumulator,
    ScatterStats,
    is_dask_array,
    is_stream,
    iter_chunks,
)

__all__ = ["PCA"]

SOLVERS = ("auto", "full", "covariance", "randomized")


def _sign_convention(components: np.ndarray) -> np.ndarray:
    """Flip each row so that its largest-magnitude entry is positive (deterministic output)."""
    if components.size == 0:
        return components
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), idx])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _variances(s: np.ndarray, n: int) -> np.ndarray:
    """Variances ``s**2 / (n - 1)`` of singular values, refusing float64 overflow."""
    with np.errstate(over="ignore"):
        squares = s**2
    if not np.isfinite(squares).all():
        # The singular values are representable but their squares are not: data
        # around 1e154 or larger.
        raise NonFiniteError(
            "the variances of X overflow float64 (values around 1e154 or larger; largest "
            f"singular value {float(np.max(s)):.3g}); rescale the data"
        )
    return squares / (n - 1)


class PCA(TransformerMixin, BaseEstimator):
    r"""Principal component analysis with exact streaming and random-matrix rank selection.

    Parameters
    ----------
    n_components : int, float, str or None, default=None
        Number of components (int >= 1), smallest number explaining at least this
        fraction of the variance (float in (0, 1); four equal variances and 0.5 keep 2),
        a rank rule (``"mp"``, ``"gavish-donoho"``, ``"bbp"``, ``"parallel"``, see
        :mod:`subspacekit.estimate.rank_rules`),
        or ``None`` for ``min(n_samples, n_features)`` (as scikit-learn; directions beyond
        the numerical rank then have zero variance). An int larger than the numerical
        rank of the centred data raises :class:`~subspacekit.errors.RankError`.
    solver : {"auto", "full", "covariance", "randomized"}, default="auto"
        See the module docstring. Streams always use ``"covariance"``.
    whiten : bool, default=False
        Divide the transformed coordinates by their standard deviations.
    chunk_size : int, optional
        Rows per block for the covariance solver (default 8192).
    n_oversamples, n_iter : int
        Extra random vectors and power iterations of the randomized solver.
    rank_options : dict, optional
        Keyword arguments of the rank rule (e.g. ``{"alpha": 0.05}``).
    random_state : int, RandomState or None
        Seed of the randomized solver and of parallel analysis.
    verbose : bool, default=False
        Progress bar while streaming.

    Attributes
    ----------
    subspace_ : Subspace
        Principal subspace: basis ``components_.T``, mean ``mean_``, scales
        :math:`\sqrt{\lambda_i}`.
    components_ : ndarray (n_components_, n_features)
        Principal axes (rows), largest variance first; the largest-magnitude entry of
        each row is positive.
    explained_variance_ : ndarray (n_components_,)
        :math:`\lambda_i` (denominator ``n - 1``).
    explained_variance_ratio_ : ndarray (n_components_,)
    singular_values_ : ndarray (n_components_,)
    noise_variance_ : float
        Mean of the discarded eigenvalues (the probabilistic-PCA noise level).
    n_components_ : int
    mean_ : ndarray (n_features,)
    n_samples_seen_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 2)) @ [[3.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]]
    >>> X = X + 0.1 * rng.standard_normal((500, 4))
    >>> pca = PCA(n_components="mp").fit(X)
    >>> pca.n_components_, pca.explained_variance_ratio_.round(2).tolist()
    (2, [0.7, 0.3])
    >>> stream = PCA(n_components=2)
    >>> for chunk in np.array_split(X, 10):
    ...     _ = stream.partial_fit(chunk)
    >>> bool(np.allclose(stream.components_, pca.components_))
    True
    """

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
            Options(*rank_rules.RANK_RULES),
            None,
        ],
        "solver": [Options(*SOLVERS)],
        "whiten": ["boolean"],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_oversamples": [Interval(Integral, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "rank_options": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["boolean"],
    }

    _spectral: dict[str, Any] | None  # cached spectral attributes (None: stale after partial_fit)
    _stats: ScatterStats | None  # mean and scatter (None: to be read from the accumulator)

    def __init__(
        self,
        n_components: int | float | str | None = None,
        *,
        solver: str = "auto",
        whiten: bool = False,
        chunk_size: int | None = None,
        n_oversamples: int = 10,
        n_iter: int = 4,
        rank_options: dict[str, Any] | None = None,
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.n_components = n_components
        self.solver = solver
        self.whiten = whiten
        self.chunk_size = chunk_size
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.rank_options = rank_options
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit on an array, an iterator of chunks, a zarr array or a dask array.

        Parameters
        ----------
        X : array-like (n_samples, n_features), iterator of such chunks, zarr or dask array
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        for attr in ("_stats", "_accumulator", "_spectral", "n_samples_seen_", "mean_"):
            self.__dict__.pop(attr, None)
        if is_stream(X):
            self._fit_stream(X)
            return self
        A = validate_features(self, X, reset=True, min_samples=2)
        solver = self._choose_solver(*A.shape)
        if solver == "covariance":
            stats = ScatterStats.from_chunks(iter_chunks(A, self.chunk_size))
            self._set_stats(stats)
            self._spectral = self._spectral_from_stats(stats, data=A)
        elif solver == "full":
            self._fit_full(A)
        else:
            self._fit_randomized(A)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> PCA:
        """Add a chunk of rows; statistics merge exactly in float64 (Chan et al.).

        The spectral attributes are recomputed lazily, when first read after the update.
        """
        first = not hasattr(self, "n_samples_seen_")
        if first:
            self._validate_params()
            self._accumulator = Accumulator()
        elif "_accumulator" not in self.__dict__:
            # Continue from a fit on an array: its statistics seed the running sums.
            seed = self.__dict__.get("_stats")
            if seed is None:
                raise ValidationError(
                    "partial_fit cannot continue a fit made with solver='randomized' (it keeps no "
                    "covariance); refit with solver='covariance' or 'full', or start a new PCA"
                )
            self._accumulator = Accumulator.from_stats(seed)
        A = validate_features(self, X, reset=first, min_samples=1)
        acc = self._accumulator
        # One in-place SYRK update per chunk (no d x d temporaries).
        acc.add(A, name=f"chunk {acc.n_chunks} of the stream")
        self.n_samples_seen_ = acc.n
        assert acc.mean is not None  # validate_features refused an empty chunk
        self.mean_ = acc.mean.copy()
        self._stats = None
        self._spectral = None
        return self

    def _fit_stream(self, X: Any) -> None:
        if self.solver not in ("auto", "covariance"):
            raise ValidationError(
                f"solver={self.solver!r} needs the whole array in memory; streams (iterators, "
                "zarr and dask arrays) are fitted with solver='covariance' or 'auto'"
            )
        if is_dask_array(X) or hasattr(X, "shape"):
            if len(X.shape) != 2:
                raise ValidationError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
        stats = ScatterStats.from_data(X, chunk_size=self.chunk_size, verbose=self.verbose)
        if stats.n_samples < 2:
            raise ValidationError(f"PCA needs at least 2 samples; got {stats.n_samples} sample(s)")
        self.n_features_in_ = stats.n_features
        self._set_stats(stats)
        self._spectral = self._spectral_from_stats(stats, data=None)

    def _get_stats(self) -> ScatterStats:
        stats = self.__dict__.get("_stats")
        if stats is None:
            stats = self._stats = self._accumulator.result()
        return stats

    def _set_stats(self, stats: ScatterStats) -> None:
        self._stats = stats
        self.n_samples_seen_ = stats.n_samples
        self.mean_ = stats.mean

    def _validate_params(self) -> None:
        validate_params(self)
        nc = self.n_components
        # Rules that the table cannot express: they tie two parameters together.
        if self.solver == "randomized":
            if isinstance(nc, str):
                raise ValidationError(
                    f"n_components={nc!r} needs the whole spectrum; use solver 'full', "
                    "'covariance' or 'auto' instead of 'randomized'"
                )
            if not isinstance(nc, numbers.Integral):
                raise ValidationError(
                    f"solver='randomized' needs an integer n_components; got {nc!r}"
                )

    def _choose_solver(self, n: int, d: int) -> str:
        if self.solver != "auto":
            return str(self.solver)
        nc = self.n_components
        if n >= 10 * d:
            return "covariance"
        if (
            isinstance(nc, numbers.Integral)
            and not isinstance(nc, bool)
            and max(n, d) > 500
            and nc < 0.8 * min(n, d)
        ):
            return "randomized"
        return "full"

    # ------------------------------------------------------------------ solvers
    def _fit_full(self, A: np.ndarray) -> None:
        n, d = A.shape
        mean = A.mean(axis=0, dtype=np.float64)
        if n >= d:
            # Householder QR in place (LAPACK geqrf on a Fortran-ordered float64 copy), then
            # the SVD of the d x d triangular factor: the same singular values and right
            # vectors as the SVD of Xc, without forming the n x d left factor.
            Xc = np.empty((n, d), order="F")
            np.subtract(A, mean, out=Xc)
            geqrf = linalg.get_lapack_funcs("geqrf", (Xc,))
            factored, _, _, info = geqrf(Xc, overwrite_a=True)
            if info != 0:
                raise ValidationError(f"LAPACK geqrf failed with info={info}")
            R = np.triu(factored[:d])
            del Xc, factored
            _, s, vt = linalg.svd(R, full_matrices=False, check_finite=False)
        else:
            Xc = np.subtract(A, mean, dtype=np.float64)
            _, s, vt = linalg.svd(Xc, full_matrices=False, check_finite=False)
        eigenvalues = np.zeros(d)
        eigenvalues[: s.size] = _variances(s, n)
        self.n_samples_seen_ = n
        self.mean_ = mean
        # Exact scatter from the SVD, so that partial_fit can continue this fit.
        self._stats = ScatterStats(n, mean, (vt.T * s**2) @ vt)
        rank = numerical_rank(s, (n, d))
        self._spectral = self._finish(vt, eigenvalues, n, d, rank, data=A)

    def _fit_randomized(self, A: np.ndarray) -> None:
        n, d = A.shape
        k = int(self.n_components)  # type: ignore[arg-type]  # an int, checked in _check_params
        if k > min(n, d):
            raise RankError(f"n_components={k} exceeds min(n_samples, n_features) = {min(n, d)}")
        rng = check_random_state(self.random_state)
        mean = A.mean(axis=0, dtype=np.float64)
        Xc = A - mean.astype(A.dtype)  # centred copy in the input's precision
        width = min(k + int(self.n_oversamples), min(n, d))
        Q = Xc @ rng.standard_normal((d, width)).astype(A.dtype)
        for _ in range(int(self.n_iter)):
            # Renormalising between products keeps the small singular directions from
            # being lost to rounding (Halko et al., Alg. 4.4); a pivoted LU does it at a
            # fraction of the cost of a QR, which is only needed once, at the end.
            Q = linalg.lu(Q, permute_l=True, check_finite=False)[0]
            Q = linalg.lu(Xc.T @ Q, permute_l=True, check_finite=False)[0]
            Q = Xc @ Q
        Q = linalg.qr(Q, mode="economic", check_finite=False)[0]
        B = (Q.T @ Xc).astype(np.float64)
        _, s, vt = linalg.svd(B, full_matrices=False, check_finite=False)
        # Total variance in float64, block by block (no float64 copy of the data).
        total = sum(
            float(np.square(Xc[i : i + 8192], dtype=np.float64).sum()) for i in range(0, n, 8192)
        ) / (n - 1)
        eigenvalues = _variances(s, n)
        self.n_samples_seen_ = n
        self.mean_ = mean
        rank = numerical_rank(s, (n, d), dtype=A.dtype)
        if k > rank:
            raise RankError(self._rank_message(k, rank, A))
        keep = min(n, d)
        noise = (total - eigenvalues[:k].sum()) / (keep - k) if keep > k else 0.0
        self._spectral = {
            "components": _sign_convention(vt[:k]),
            "explained_variance": eigenvalues[:k],
            "explained_variance_ratio": eigenvalues[:k] / total if total > 0 else np.zeros(k),
            "singular_values": s[:k],
            "noise_variance": max(float(noise), 0.0),
        }

    def _spectral_from_stats(self, stats: ScatterStats, data: np.ndarray | None) -> dict[str, Any]:
        n, d = stats.n_samples, stats.n_features
        if n < 2:
            raise ValidationError(f"PCA needs at least 2 samples; got {n} sample(s)")
        evals, evecs = linalg.eigh(stats.scatter, check_finite=False)
        order = np.argsort(evals)[::-1]
        scatter_eigs = np.clip(evals[order], 0.0, None)
        vt = evecs[:, order].T
        eigenvalues = scatter_eigs / (n - 1)
        # Eigenvalues of a formed float64 scatter matrix carry an absolute error of about
        # d * eps * lambda_1, so the rank rule applies to them as they are (as singular
        # values of the scatter matrix), not to their square roots, whose rounding floor
        # would be sqrt(eps) and count noise as rank.
        rank = numerical_rank(scatter_eigs, (n, d))
        return self._finish(vt, eigenvalues, n, d, rank, data=data)

    def _finish(
        self,
        vt: np.ndarray,
        eigenvalues: np.ndarray,
        n: int,
        d: int,
        rank: int,
        data: np.ndarray | None,
    ) -> dict[str, Any]:
        """Choose the number of components and assemble the spectral attributes."""
        keep = min(n, d)
        total = float(eigenvalues.sum())
        # All rows identical leaves only rounding residue after centring, which the
        # relative rank rule would count as structure: the check is on the data (or, for
        # a stream, on the variance relative to the mean's magnitude).
        if data is not None:
            degenerate = identical_rows(data, warn=False)
        else:
            scale = float(np.max(np.abs(self.mean_), initial=0.0))
            degenerate = not total > d * (rank_tolerance((n, d)) * scale) ** 2
        if degenerate:
            rank, total = 0, 0.0
        k = self._resolve_n_components(eigenvalues, n, d, rank, total, data)
        if degenerate and k > 0:
            warnings.warn(
                "PCA: all samples are identical, so X has no variance: every direction "
                "explains 0 of it and the components are arbitrary",
                UntrustworthyEstimateWarning,
                stacklevel=4,
            )
        ratio = eigenvalues[:k] / total if total > 0 else np.zeros(k)
        noise = float(eigenvalues[k:keep].mean()) if keep > k else 0.0
        return {
            "components": _sign_convention(np.ascontiguousarray(vt[:k])),
            "explained_variance": eigenvalues[:k].copy(),
            "explained_variance_ratio": ratio,
            "singular_values": np.sqrt(eigenvalues[:k] * (n - 1)),
            "noise_variance": noise,
        }

    def _resolve_n_components(
        self,
        eigenvalues: np.ndarray,
        n: int,
        d: int,
        rank: int,
        total: float,
        data: np.ndarray | None,
    ) -> int:
        nc = self.n_components
        keep = min(n, d)
        if nc is None:
            return keep
        if isinstance(nc, str):
            options = dict(self.rank_options or {})
            if nc == "parallel":
                if data is None:
                    raise ValidationError(
                        "n_components='parallel' permutes the data, so it needs an in-memory "
                        "array; streams only support 'mp', 'gavish-donoho' and 'bbp'"
                    )
                options.setdefault("random_state", self.random_state)
                k = rank_rules.parallel_analysis_rank(data, **options)
            else:
                k = rank_rules.select_rank(eigenvalues, nc, n_samples=n - 1, **options)
            return min(int(k), rank)
        if isinstance(nc, numbers.Integral):
            if nc > keep:
                raise RankError(f"n_components={nc} exceeds min(n_samples, n_features) = {keep}")
            if nc > rank:
                raise RankError(self._rank_message(int(nc), rank, data))
            return int(nc)
        if total <= 0:
            raise RankError("X has no variance (every feature is constant); no component to keep")
        return min(n_components_for_variance(eigenvalues, float(nc)), keep)

    def _rank_message(self, k: int, rank: int, data: np.ndarray | None) -> str:
        msg = (
            f"n_components={k} exceeds the numerical rank {rank} of the centred data; "
            "the extra components would be arbitrary directions of zero variance"
        )
        if data is not None:
            constant = int(constant_columns(data).sum())
            if constant:
                msg += f" (X has {constant} constant feature{'s' if constant > 1 else ''})"
        elif "_stats" in self.__dict__ or "_accumulator" in self.__dict__:
            # No rows at hand: a feature is constant when its variance is at the rounding
            # level of the largest one (the rank tolerance of the scatter matrix).
            variances = np.diag(self._get_stats().scatter)
            floor = rank_tolerance(variances.shape * 2) * float(variances.max(initial=0.0))
            constant = int((variances <= floor).sum())
            if constant:
                msg += f" (X has {constant} constant feature{'s' if constant > 1 else ''})"
        return msg

    # ------------------------------------------------------------------ fitted attributes
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_samples_seen_")

    def _get_spectral(self) -> dict[str, Any]:
        if not hasattr(self, "n_samples_seen_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit first"
            )
        spectral = self.__dict__.get("_spectral")
        if spectral is None:
            spectral = self._spectral = self._spectral_from_stats(self._get_stats(), data=None)
        return spectral

    @property
    def components_(self) -> np.ndarray:
        return self._get_spectral()["components"]

    @property
    def explained_variance_(self) -> np.ndarray:
        return self._get_spectral()["explained_variance"]

    @property
    def explained_variance_ratio_(self) -> np.ndarray:
        return self._get_spectral()["explained_variance_ratio"]

    @property
    def singular_values_(self) -> np.ndarray:
        return self._get_spectral()["singular_values"]

    @property
    def noise_variance_(self) -> float:
        return float(self._get_spectral()["noise_variance"])

    @property
    def n_components_(self) -> int:
        return int(self._get_spectral()["components"].shape[0])

    @property
    def subspace_(self) -> Subspace:
        spectral = self._get_spectral()
        if "subspace" not in spectral:
            spectral["subspace"] = Subspace.from_orthonormal(
                spectral["components"].T,
                mean=self.mean_,
                scales=np.sqrt(spectral["explained_variance"]),
                meta={
                    "method": "pca",
                    "solver": self.solver,
                    "n_samples": int(self.n_samples_seen_),
                    "n_components": self.n_components
                    if isinstance(self.n_components, str | None)
                    else float(self.n_components),
                },
            )
        return spectral["subspace"]

    # ------------------------------------------------------------------ transforms
    def transform(self, X: Any) -> Any:
        """Coordinates :math:`(X - \\mu) V_k` (divided by :math:`\\sqrt{\\lambda}` if ``whiten``).

        torch tensors are accepted and returned as tensors; float32 arrays stay float32.
        """
        check_fitted(self, "n_samples_seen_")
        if is_torch_tensor(X):
            if X.ndim != 2:
                raise ValidationError(
                    f"X must be 2-D (n_samples, n_features); got shape {tuple(X.shape)}"
                )
            return self.subspace_.project(X, whiten=self.whiten)
        A = validate_features(self, X, reset=False)
        Z = (A - self.mean_.astype(A.dtype)) @ self.components_.T.astype(A.dtype)
        if self.whiten:
            Z /= self._whitening_scales().astype(A.dtype)
        return Z

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Map coordinates back to the input space: :math:`\\mu + Z V_k^\\top`."""
        check_fitted(self, "n_samples_seen_")
        C = check_array(Z, "Z", min_samples=0, min_features=0)
        if C.shape[1] != self.n_components_:
            raise ValidationError(
                f"Z must have {self.n_components_} columns (n_components_); got {C.shape[1]}"
            )
        if self.whiten:
            C = C * self._whitening_scales()
        return C @ self.components_.astype(C.dtype) + self.mean_.astype(C.dtype)

    def _whitening_scales(self) -> np.ndarray:
        scales = np.sqrt(self.explained_variance_)
        if np.any(scales == 0):
            raise ValidationError("whiten=True with a zero-variance component would divide by zero")
        return scales

    # ------------------------------------------------------------------ probabilistic PCA
    def get_covariance(self) -> np.ndarray:
        r"""Model covariance of probabilistic PCA, :math:`V(\Lambda - \sigma^2)V^\top + \sigma^2 I`."""
        check_fitted(self, "n_samples_seen_")
        V = self.components_.T
        s2 = self.noise_variance_
        cov = (V * (self.explained_variance_ - s2)) @ V.T
        cov[np.diag_indices_from(cov)] += s2
        return cov

    def score_samples(self, X: Any) -> np.ndarray:
        r"""Log-likelihood of each row under the probabilistic-PCA model (Tipping & Bishop).

        With coordinates :math:`z = V^\top(x-\mu)`,
        :math:`\log p(x) = -\tfrac12\big(d\log 2\pi + \sum_i \log\lambda_i + (d-k)\log\sigma^2
        + \sum_i z_i^2/\lambda_i + (\lVert x-\mu\rVert^2 - \lVert z\rVert^2)/\sigma^2\big)`.
        """
        check_fitted(self, "n_samples_seen_")
        A = validate_features(self, X, reset=False).astype(np.float64, copy=False)
        d = A.shape[1]
        k = self.n_components_
        lam = self.explained_variance_
        s2 = self.noise_variance_
        if np.any(lam <= 0) or (k < d and s2 <= 0):
            raise ValidationError(
                "the probabilistic-PCA covariance is singular (zero variance); no likelihood"
            )
        Xc = A - self.mean_
        Z = Xc @ self.components_.T
        maha = (Z**2 / lam).sum(axis=1)
        logdet = float(np.log(lam).sum())
        if k < d:
            maha += ((Xc**2).sum(axis=1) - (Z**2).sum(axis=1)) / s2
            logdet += (d - k) * np.log(s2)
        return -0.5 * (d * np.log(2 * np.pi) + logdet + maha)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the rows of ``X`` (see :meth:`score_samples`)."""
        return float(np.mean(self.score_samples(X)))
