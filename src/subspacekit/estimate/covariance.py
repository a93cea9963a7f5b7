r"""Streaming mean and covariance in float64 with pairwise (Chan) merges.

A block of rows is summarised by :math:`(n, \bar x, M)` with the scatter matrix
:math:`M = \sum_i (x_i - \bar x)(x_i - \bar x)^\top`. Each block is centred by *its own*
mean before the float64 product (no cancellation between a large mean and a small
spread), and two summaries merge exactly (Chan, Golub & LeVeque 1979):

.. math::
    n = n_a + n_b,\quad \delta = \bar x_b - \bar x_a,\quad
    \bar x = \bar x_a + \delta\, n_b/n,\quad
    M = M_a + M_b + \delta\delta^\top n_a n_b / n.

The result does not depend on how the rows were chunked, up to float64 rounding.

Paired data (X, Y) -- representations of the same inputs, data and one-hot labels --
is accumulated as the concatenation ``[X | Y]``; the summary records the split, and
:meth:`ScatterStats.blocks` hands back the X-X, X-Y and Y-Y scatter blocks. This is
the one streaming home of means, covariances and cross-covariances: PCA, LEACE,
streaming CKA, SubspaceAD and CCA all accumulate through :class:`Accumulator`.
Data may come as an array, an iterator of chunks, a zarr array or a dask array; with
dask the per-block summaries are computed by the active scheduler (a
``dask.distributed`` client when one is running) and merged as a tree.

Examples
--------
>>> import numpy as np
>>> X = np.random.default_rng(0).standard_normal((100, 3))
>>> stats = ScatterStats.from_chunks(iter(np.array_split(X, 7)))
>>> bool(np.allclose(stats.covariance(), np.cov(X, rowvar=False)))
True
"""

from __future__ import annotations

import collections.abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import blas

from subspacekit.core.backend import is_torch_tensor
from subspacekit.core.progress import progress
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_finite,
    check_int,
    check_pair,
)
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = [
    "Accumulator",
    "ScatterStats",
    "chunk_stats",
    "is_dask_array",
    "is_stream",
    "is_zarr_array",
    "iter_chunks",
    "merge_stats",
]

DEFAULT_CHUNK_ROWS = 8192


@dataclass(frozen=True)
class ScatterStats:
    """Sample count, float64 mean and float64 scatter matrix of a set of rows.

    Attributes
    ----------
    n_samples : int
    mean : ndarray (d,)
    scatter : ndarray (d, d)
        :math:`\\sum_i (x_i - \\bar x)(x_i - \\bar x)^\\top`, symmetric.
    n_chunks : int
        Number of blocks merged (diagnostic).
    """

    n_samples: int
    mean: np.ndarray
    scatter: np.ndarray
    n_chunks: int = 1
    split: int | None = None

    def blocks(self, ddof: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The X-X, X-Y and Y-Y blocks of the scatter matrix of paired data.

        With ``ddof`` an integer, the blocks of the covariance ``scatter / (n - ddof)``
        instead.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> X, Y = rng.standard_normal((50, 2)), rng.standard_normal((50, 3))
        >>> xx, xy, yy = ScatterStats.from_data(X, Y=Y).blocks(ddof=1)
        >>> bool(np.allclose(xy, np.cov(X, Y, rowvar=False)[:2, 2:]))
        True
        """
        if self.split is None:
            raise ValidationError(
                "these statistics were accumulated from one array; pass Y= to get "
                "cross-covariance blocks"
            )
        M = self.scatter if ddof is None else self.covariance(ddof)
        k = self.split
        return M[:k, :k], M[:k, k:], M[k:, k:]

    @property
    def n_features(self) -> int:
        """Dimension d."""
        return int(self.mean.size)

    def covariance(self, ddof: int = 1) -> np.ndarray:
        """Sample covariance ``scatter / (n - ddof)``."""
        if self.n_samples - ddof <= 0:
            raise TooFewSamplesError(
                f"the covariance with ddof={ddof} needs more than {ddof} samples; "
                f"got {self.n_samples}"
            )
        return self.scatter / (self.n_samples - ddof)

    def merge(self, other: ScatterStats) -> ScatterStats:
        """Exact pairwise merge (Chan et al.)."""
        return merge_stats(self, other)

    @classmethod
    def from_chunks(
        cls, chunks: Iterable[Any], *, verbose: bool = False, total: int | None = None
    ) -> ScatterStats:
        """Accumulate over an iterable of 2-D chunks; NaN/inf in chunk ``i`` is an error naming ``i``."""
        acc = Accumulator()
        for i, chunk in enumerate(
            progress(chunks, verbose=verbose, desc="covariance", total=total)
        ):
            if isinstance(chunk, tuple):
                acc.add(chunk[0], name=f"chunk {i} of the stream", y=chunk[1])
            else:
                acc.add(chunk, name=f"chunk {i} of the stream")
        return acc.result()

    @classmethod
    def from_data(
        cls, X: Any, *, Y: Any = None, chunk_size: int | None = None, verbose: bool = False
    ) -> ScatterStats:
        """Statistics of an array, iterator of chunks, zarr array or dask array.

        With ``Y`` (an array with the same rows as ``X``), the statistics of ``[X | Y]``
        with the split recorded, for :meth:`blocks`. An iterator may also yield
        ``(x_chunk, y_chunk)`` pairs.
        """
        if Y is not None:
            X, Y = check_pair(X, Y, min_samples=1, names=("X", "Y"))
            rows = (
                DEFAULT_CHUNK_ROWS
                if chunk_size is None
                else check_int(chunk_size, "chunk_size", low=1)
            )
            pairs = ((X[i : i + rows], Y[i : i + rows]) for i in range(0, X.shape[0], rows))
            return cls.from_chunks(pairs, verbose=verbose)
        if is_dask_array(X):
            return _dask_stats(X)
        return cls.from_chunks(iter_chunks(X, chunk_size), verbose=verbose)


def chunk_stats(chunk: Any, name: str = "chunk") -> ScatterStats:
    """Summary of one block: centred by its own mean, scatter by a float64 SYRK.

    Examples
    --------
    >>> s = chunk_stats(np.array([[1.0, 0.0], [3.0, 2.0]]))
    >>> s.n_samples, s.mean.tolist(), s.scatter.tolist()
    (2, [2.0, 1.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    A = check_array(chunk, name, min_samples=0)
    if A.shape[0] == 0:
        d = A.shape[1]
        return ScatterStats(0, np.zeros(d), np.zeros((d, d)), 0)
    acc = Accumulator()
    acc.add(A, name=name)
    return acc.result()


def merge_stats(a: ScatterStats, b: ScatterStats) -> ScatterStats:
    """Merge two summaries exactly (Chan, Golub & LeVeque).

    Examples
    --------
    >>> X = np.arange(12.0).reshape(6, 2) ** 2
    >>> m = merge_stats(chunk_stats(X[:2]), chunk_stats(X[2:]))
    >>> bool(np.allclose(m.scatter, chunk_stats(X).scatter))
    True
    """
    if a.n_features != b.n_features:
        raise DimensionMismatchError(
            f"cannot merge statistics of {a.n_features} and {b.n_features} features"
        )
    if a.n_samples == 0:
        return b
    if b.n_samples == 0:
        return a
    n = a.n_samples + b.n_samples
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n_samples / n)
    if a.split != b.split:
        raise DimensionMismatchError(
            f"cannot merge paired statistics with splits {a.split} and {b.split}"
        )
    scatter = a.scatter + b.scatter + np.outer(delta, delta) * (a.n_samples * b.n_samples / n)
    return ScatterStats(n, mean, scatter, a.n_chunks + b.n_chunks, a.split)


class Accumulator:
    """In-place running summary: one d x d float64 buffer, updated by SYRK."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: np.ndarray | None = None
        self.scatter: np.ndarray | None = None  # upper triangle valid, Fortran order
        self.n_chunks = 0
        self.split: int | None = None

    @classmethod
    def from_stats(cls, stats: ScatterStats) -> Accumulator:
        """Start from existing statistics."""
        acc = cls()
        acc.n = stats.n_samples
        acc.mean = stats.mean.astype(np.float64, copy=True)
        acc.scatter = np.array(stats.scatter, dtype=np.float64, order="F", copy=True)
        acc.n_chunks = stats.n_chunks
        acc.split = stats.split
        return acc

    def add(self, chunk: Any, name: str = "chunk", *, y: Any = None) -> None:
        """Add a block of rows (and, for paired data, the matching rows ``y``)."""
        # NaN or inf anywhere makes the chunk mean non-finite, so the full scan (and its
        # detailed message) is only needed when the cheap d-vector check fails.
        A = check_array(chunk, name, min_samples=0, allow_nonfinite=True)
        split = None
        if y is not None:
            Yb = check_array(y, f"{name} (Y)", ndim=(1, 2), min_samples=0, allow_nonfinite=True)
            Yb = Yb[:, None] if Yb.ndim == 1 else Yb
            check_consistent_samples(A, Yb, names=[name, f"{name} (Y)"])
            split = A.shape[1]
            A = np.hstack([A.astype(np.float64, copy=False), Yb.astype(np.float64, copy=False)])
        if self.n_chunks and split != self.split:
            raise DimensionMismatchError(
                f"{name} is {'paired' if split is not None else 'unpaired'} data with "
                f"split {split}, but the earlier chunks had split {self.split}"
            )
        self.split = split
        if A.shape[0] == 0:
            return
        mean_b = A.mean(axis=0, dtype=np.float64)
        if not np.isfinite(mean_b).all():
            check_finite(A, name)
        d = A.shape[1]
        if self.mean is None:
            self.mean = np.zeros(d)
            self.scatter = np.zeros((d, d), order="F")
        elif d != self.mean.size:
            raise DimensionMismatchError(
                f"{name} has {d} features but the earlier chunks had {self.mean.size}"
            )
        B = np.subtract(A, mean_b, dtype=np.float64)  # one pass: float64 copy, centred
        nb = B.shape[0]
        # B.T is Fortran-contiguous, so SYRK reads B without a copy; only the upper
        # triangle is formed (half the flops of a GEMM).
        self.scatter = blas.dsyrk(1.0, B.T, beta=1.0, c=self.scatter, trans=0, overwrite_c=1)
        n = self.n + nb
        delta = mean_b - self.mean
        if self.n:
            _rank_one_upper(self.scatter, delta, self.n * nb / n)
        self.mean += delta * (nb / n)
        self.n = n
        self.n_chunks += 1

    def result(self) -> ScatterStats:
        if self.mean is None or self.scatter is None:
            raise TooFewSamplesError("the data stream was empty; expected at least one row")
        upper = np.triu(self.scatter)
        scatter = upper + np.triu(upper, 1).T
        if not np.isfinite(scatter).all():
            raise NonFiniteError(
                "the scatter matrix overflowed float64 (values around 1e154 or larger); "
                "rescale the data"
            )
        return ScatterStats(
            self.n, self.mean.copy(), np.ascontiguousarray(scatter), self.n_chunks, self.split
        )


def _rank_one_upper(C: np.ndarray, v: np.ndarray, alpha: float) -> None:
    # The full outer product is cheap next to the SYRK and keeps both triangles consistent.
    C += alpha * np.outer(v, v)


# --------------------------------------------------------------------------- inputs
def is_dask_array(X: Any) -> bool:
    """True for a ``dask.array.Array`` (checked without importing dask)."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "to_delayed")


def is_zarr_array(X: Any) -> bool:
    """True for a zarr array (checked without importing zarr)."""
    return type(X).__module__.startswith("zarr") and hasattr(X, "chunks") and hasattr(X, "shape")


def is_stream(X: Any) -> bool:
    """True when ``X`` is consumed chunk by chunk rather than held in memory.

    Iterators and generators of chunks, zarr arrays and dask arrays stream; numpy
    arrays, torch tensors and nested lists do not.
    """
    if isinstance(X, np.ndarray) or is_torch_tensor(X):
        return False
    return isinstance(X, collections.abc.Iterator) or is_zarr_array(X) or is_dask_array(X)


def iter_chunks(X: Any, chunk_size: int | None = None) -> Iterator[Any]:
    """Row blocks of an array, a zarr array or an iterator of chunks.

    Zarr arrays are read in whole storage chunks (``chunk_size`` rounded to a multiple
    of the zarr row-chunk) so every stored chunk is decompressed once.
    """
    rows = DEFAULT_CHUNK_ROWS if chunk_size is None else check_int(chunk_size, "chunk_size", low=1)
    if isinstance(X, collections.abc.Iterator):
        yield from X
        return
    if is_dask_array(X):
        raise ValidationError("dask arrays are reduced with ScatterStats.from_data, not iterated")
    if is_zarr_array(X):
        if len(X.shape) != 2:
            raise ValidationError(
                f"a zarr array must be 2-D (n_samples, n_features); got shape {X.shape}"
            )
        step = int(X.chunks[0])
        rows = max(step, (rows // step) * step)
        for start in range(0, int(X.shape[0]), rows):
            yield np.asarray(X[start : start + rows])
        return
    # Finiteness is checked chunk by chunk by the accumulator (through the chunk means).
    A = check_array(X, "X", min_samples=1, allow_nonfinite=True)
    for start in range(0, A.shape[0], rows):
        yield A[start : start + rows]


def _dask_stats(X: Any) -> ScatterStats:
    import dask

    if X.ndim != 2:
        raise ValidationError(
            f"a dask array must be 2-D (n_samples, n_features); got shape {X.shape}"
        )
    # One column block, so every block holds whole rows.
    blocks = X.rechunk({1: -1}).to_delayed().ravel()
    parts = [dask.delayed(chunk_stats)(block, f"dask block {i}") for i, block in enumerate(blocks)]
    # Pairwise tree of merges: depth log2(#blocks), and each merge is exact.
    while len(parts) > 1:
        merged = [
            dask.delayed(merge_stats)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)
        ]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    (result,) = dask.compute(parts[0])
    return result
