r"""Exact k-nearest-neighbour distances for the intrinsic-dimension estimators.

Two engines, both exact:

* ``"kdtree"`` — :class:`scipy.spatial.cKDTree` with ``workers`` threads; fastest when the
  ambient dimension is small (up to about 10).
* ``"brute"`` — tiles of float32 scores from matrix products, a cheap per-row threshold
  selection, and an exact float64 re-ranking of the few survivors. Trees degrade to
  worse than brute force once the data have more than about ten intrinsic dimensions.

Why the brute engine is exact although it multiplies in float32: each row keeps
``n_keep`` candidates ranked by float32 scores, then recomputes their distances in
float64. A point outside the candidate set has a score at least the largest candidate
score; a float32 score is off by at most :math:`(p + 6)\,u_{32}\,\max_j\|x_j\|^2`
(standard dot-product error bound, :math:`u_{32} = 2^{-24}`). Rows whose k-th exact
distance is not separated from the excluded points by twice that bound are searched
again on all coordinates, then, if still unsure, row by row in float64 — so the answer is
the exact k nearest neighbours, up to ties.

Cheaper products for low-dimensional data: in the principal-axis frame, the top ``p``
coordinates plus the norm of the rest give distances that bound the true ones from
below; a planner prices each ``p`` on a sample of rows (product cost plus the candidates
the bound needs) and keeps the cheapest, all ``d`` coordinates for full-rank data.

The per-row selection avoids an ``argpartition`` of every distance row (which costs more
than the product itself): the ``n_keep``-th smallest score over a random eighth of the
columns, computed first, bounds the row's ``n_keep``-th smallest score from above, so
only the entries under it are collected and sorted.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.spatial import cKDTree

from subspacekit.core.validation import check_in

__all__ = ["default_n_jobs", "kneighbors"]

_U32 = float(np.finfo(np.float32).eps) / 2.0
# Score tiles of _ROW_BLOCK x _COL_TILE float32 (8 MB): small enough that the selection
# passes run in cache, large enough that the product runs near the BLAS peak.
_ROW_BLOCK = 256
_COL_TILE = 8192


def default_n_jobs() -> int:
    """Threads to use when ``n_jobs`` is None: the BLAS thread count, else the usable CPUs.

    Following the BLAS setting means ``OMP_NUM_THREADS=1`` also limits these threads.
    """
    try:
        from threadpoolctl import threadpool_info

        counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
        if counts:
            return max(1, int(max(counts)))
    except Exception:  # pragma: no cover - threadpoolctl is a scikit-learn dependency
        pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def kneighbors(
    X: np.ndarray,
    n_neighbors: int,
    *,
    algorithm: str = "auto",
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of each row's ``n_neighbors`` nearest other rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated, finite data.
    n_neighbors : int
        Neighbours per point, the point itself excluded; must be below ``n_samples``.
    algorithm : {"auto", "kdtree", "brute"}
        ``"auto"`` uses the k-d tree for ``n_features <= 10`` and brute force otherwise.
    n_jobs : int, optional
        Worker threads (default: :func:`default_n_jobs`).

    Returns
    -------
    distances : ndarray of shape (n_samples, n_neighbors), float64, ascending per row
    indices : ndarray of shape (n_samples, n_neighbors), int64

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> dist, idx = kneighbors(X, 2)
    >>> dist.tolist(), idx.tolist()
    ([[1.0, 3.0], [1.0, 2.0], [2.0, 3.0], [4.0, 6.0]], [[1, 2], [0, 2], [1, 0], [2, 1]])
    """
    check_in(algorithm, ("auto", "kdtree", "brute"), "algorithm")
    n, d = X.shape
    if not 1 <= n_neighbors < n:
        raise ValueError(f"n_neighbors must be in [1, n_samples - 1 = {n - 1}]; got {n_neighbors}")
    workers = default_n_jobs() if n_jobs is None else max(1, int(n_jobs))
    if algorithm == "auto":
        algorithm = "kdtree" if d <= 10 else "brute"
    if algorithm == "kdtree":
        return _kdtree_kneighbors(np.asarray(X, dtype=np.float64), n_neighbors, workers)
    return _brute_kneighbors(np.asarray(X, dtype=np.float64), n_neighbors, workers)


def _kdtree_kneighbors(X: np.ndarray, k: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    n = X.shape[0]
    dist, idx = cKDTree(X).query(X, k + 1, workers=workers)
    # With duplicate points the query point need not come first among its zero-distance
    # ties, so drop the column holding the point itself (or the last one if it is absent).
    is_self = idx == np.arange(n)[:, None]
    has_self = is_self.any(axis=1)
    is_self[~has_self, -1] = True
    keep = ~is_self
    return dist[keep].reshape(n, k), idx[keep].reshape(n, k).astype(np.int64)


def _brute_kneighbors(X: np.ndarray, k: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    n = X.shape[0]
    # Centring shrinks the norms, hence the float32 rounding error, without moving distances.
    centred = X - X.mean(axis=0)
    sq_norms = np.einsum("ij,ij->i", centred, centred)
    n_keep = min(k + max(4, k // 2), n - 1)
    rows = np.arange(n)
    screen, n_keep_screen = _screening_coordinates(centred, sq_norms, k, n_keep)
    distances, indices, unsure = _screen(screen, centred, sq_norms, rows, k, n_keep_screen, workers)
    if unsure.size and screen.shape[1] != centred.shape[1]:
        # Rows the truncated screen could not certify: screen them again on all coordinates.
        again = _screen(centred, centred, sq_norms, unsure, k, n_keep, workers)
        distances[unsure], indices[unsure] = again[0], again[1]
        unsure = unsure[again[2]]
    for i in unsure:
        distances[i], indices[i] = _exact_row(centred, int(i), k)
    return distances, indices


def _screening_coordinates(
    centred: np.ndarray, sq_norms: np.ndarray, k: int, n_keep: int
) -> tuple[np.ndarray, int]:
    r"""Coordinates whose distances bound the true ones from below, and the candidates needed.

    In the principal-axis frame write :math:`x = (t, r)` with ``t`` the top ``p``
    coordinates and :math:`\rho = \|r\|`. The point :math:`a = (t, \rho)` has the same norm
    as ``x`` and :math:`\|a_i - a_j\|^2 \le \|x_i - x_j\|^2`, so ranking by ``a`` and
    re-ranking the best candidates exactly is exact once certified, and costs ``p + 1``
    instead of ``d`` flops per pair. On a sample of rows with exact distances, each ``p``
    is priced as its product plus the candidates it needs (the 97th percentile of the
    number of points whose bound falls below the k-th true distance); the cheapest wins.
    Data that fill all ``d`` dimensions keep ``x``. Returns (coordinates, candidates).
    """
    n, d = centred.shape
    if d <= 24 or n < 2000 or d > n // 2:
        return centred, n_keep
    _, vectors = np.linalg.eigh(centred.T @ centred)
    rotated = centred @ vectors[:, ::-1]
    rng = np.random.default_rng(1)
    sample = rng.choice(n, size=min(64, n), replace=False)
    rows = np.arange(sample.size)
    exact_sq = centred[sample] @ centred.T
    exact_sq *= -2.0
    exact_sq += sq_norms[None, :]
    exact_sq += sq_norms[sample][:, None]
    exact_sq[rows, sample] = np.inf
    kth = np.partition(exact_sq, k - 1, axis=1)[:, k - 1]
    best = (_cost_per_row(n, d, d, n_keep), d, n_keep)
    # Squared distances over the leading p coordinates, grown block by block (in place:
    # these sample-by-n arrays are the planner's whole cost).
    partial = np.zeros_like(exact_sq)
    top_sq = np.zeros(n)
    done = 0
    for p in (4, 8, 12, 16, 24, 32, 48, 64):
        if p >= 0.6 * d:
            break
        block = rotated[:, done:p]
        block_sq = np.einsum("ij,ij->i", block, block)
        gram = block[sample] @ block.T
        gram *= -2.0
        gram += block_sq[None, :]
        gram += block_sq[sample][:, None]
        partial += gram
        top_sq += block_sq
        done = p
        rho = np.sqrt(np.maximum(sq_norms - top_sq, 0.0))
        lower = np.subtract.outer(rho[sample], rho)
        np.square(lower, out=lower)
        lower += partial
        lower[rows, sample] = np.inf
        needed = int(np.quantile((lower <= kth[:, None]).sum(axis=1), 0.97)) + max(4, k // 2)
        needed = min(needed, n - 1)
        cost = _cost_per_row(n, d, p + 1, needed)
        if cost < best[0]:
            best = (cost, p, needed)
        if needed <= n_keep:
            break  # more coordinates cannot reduce the candidates further
    _, p, needed = best
    if p == d:
        return centred, n_keep
    top = rotated[:, :p]
    rho = np.sqrt(np.maximum(sq_norms - np.einsum("ij,ij->i", top, top), 0.0))
    return np.column_stack([top, rho]), needed


def _cost_per_row(n: int, d: int, width: int, n_keep: int) -> float:
    """Rough nanoseconds per query row (measured on the 2-core reference machine).

    Per pair: the float32 product (about 0.012 ns per multiply-add) and the selection
    passes (about 0.5 ns). Per kept candidate: about 8 entries to extract and sort
    (25 ns each) and a ``d``-long float64 re-ranking (about 1 ns per coordinate).
    """
    return n * (0.012 * width + 0.5) + n_keep * (200.0 + d)


def _screen(
    screen: np.ndarray,
    centred: np.ndarray,
    sq_norms: np.ndarray,
    query_rows: np.ndarray,
    k: int,
    n_keep: int,
    workers: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k nearest neighbours of ``query_rows``; returns (distances, indices, unsure rows)."""
    n, p = screen.shape
    # Columns in a random order, so that the first n_sample of them are a random sample.
    perm = np.random.default_rng(0).permutation(n)
    position = np.empty(n, dtype=np.int64)
    position[perm] = np.arange(n)
    # Scores 0.5||x_j||^2 - a_i.a_j come straight out of one product with augmented rows.
    database = np.empty((n, p + 1), dtype=np.float32)
    database[:, :p] = -screen[perm]
    database[:, p] = 0.5 * sq_norms[perm]
    queries = np.ones((query_rows.size, p + 1), dtype=np.float32)
    queries[:, :p] = screen[query_rows]
    # Worst-case float32 error of a score, doubled into squared-distance units, times 2.
    error_bound = 4.0 * (p + 6) * _U32 * float(sq_norms.max())
    n_sample = min(n, max(8 * (n_keep + 1), n // 8))

    n_query = query_rows.size
    starts = list(range(0, n_query, _ROW_BLOCK))
    distances = np.empty((n_query, k), dtype=np.float64)
    indices = np.empty((n_query, k), dtype=np.int64)
    unsure = np.zeros(n_query, dtype=bool)

    def run_block(start: int) -> None:
        stop = min(n_query, start + _ROW_BLOCK)
        rows = query_rows[start:stop]
        n_rows = stop - start
        q = queries[start:stop]
        self_col = position[rows]
        # Tiles of about 8 MB keep the selection passes in cache and let every tile of
        # the database be reused by all rows of the block.
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        threshold = np.empty(0, dtype=np.float32)
        # Reused buffers: fresh multi-megabyte arrays cost page faults on every tile.
        tile_buffer = np.empty(n_rows * max(n_sample, _COL_TILE), dtype=np.float32)
        mask_buffer = np.empty(tile_buffer.size, dtype=bool)
        for c0 in [0, *range(n_sample, n, _COL_TILE)]:
            c1 = n_sample if c0 == 0 else min(n, c0 + _COL_TILE)
            width = c1 - c0
            tile = tile_buffer[: n_rows * width].reshape(n_rows, width)
            np.matmul(q, database[c0:c1].T, out=tile)
            mine = np.flatnonzero((self_col >= c0) & (self_col < c1))
            tile[mine, self_col[mine] - c0] = np.inf
            if c0 == 0:
                # The first tile is the random sample: its n_keep-th smallest score bounds
                # the row's n_keep-th smallest from above.
                threshold = np.partition(tile, n_keep - 1, axis=1)[:, n_keep - 1]
            mask = mask_buffer[: n_rows * width].reshape(n_rows, width)
            np.less_equal(tile, threshold[:, None], out=mask)
            flat = np.flatnonzero(mask)
            r = flat // width
            found.append((r, flat - r * width + c0, tile.ravel()[flat]))
        cand, bound_score = _select_smallest(
            np.concatenate([f[0] for f in found]),
            np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found]),
            n_rows,
            n_keep,
        )
        cand = perm[cand]
        exact_sq = _exact_sq_distances(centred, sq_norms, rows, cand)
        order = np.argsort(exact_sq, axis=1, kind="stable")[:, :k]
        best_sq = np.take_along_axis(exact_sq, order, axis=1)
        # Every excluded point has squared distance >= 2*bound + ||x_i||^2 - error.
        floor = 2.0 * bound_score + sq_norms[rows] - error_bound
        distances[start:stop] = np.sqrt(best_sq)
        indices[start:stop] = np.take_along_axis(cand, order, axis=1)
        unsure[start:stop] = best_sq[:, -1] > floor - error_bound

    # One BLAS thread per worker: the tile products are small, so BLAS threads would only
    # add synchronisation; parallelism comes from the workers (numpy releases the GIL).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        if workers <= 1 or len(starts) == 1:
            for start in starts:
                run_block(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run_block, starts))
    if n_keep >= n - 1:
        unsure[:] = False  # every other point was a candidate
    return distances, indices, query_rows[unsure]


def _select_smallest(
    row: np.ndarray, col: np.ndarray, values: np.ndarray, n_rows: int, n_keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the columns of the ``n_keep`` smallest candidate values and the largest of them."""
    order = np.argsort(row, kind="stable")
    row, col, values = row[order], col[order], values[order]
    counts = np.bincount(row, minlength=n_rows)
    first = np.zeros(n_rows, dtype=np.int64)
    first[1:] = np.cumsum(counts)[:-1]
    slot = np.arange(row.size) - first[row]
    width = int(counts.max())
    padded = np.full((n_rows, width), np.inf, dtype=values.dtype)
    padded_cols = np.zeros((n_rows, width), dtype=np.int64)
    padded[row, slot] = values
    padded_cols[row, slot] = col
    pick = np.argpartition(padded, n_keep - 1, axis=1)[:, :n_keep]
    picked = np.take_along_axis(padded, pick, axis=1)
    return np.take_along_axis(padded_cols, pick, axis=1), picked.max(axis=1).astype(np.float64)


def _exact_sq_distances(
    centred: np.ndarray, sq_norms: np.ndarray, rows: np.ndarray, cand: np.ndarray
) -> np.ndarray:
    """Float64 squared distances of ``rows`` to their candidates.

    The norm expansion (one batched product) is accurate to about
    ``1e-16 * (||x||^2 + ||y||^2)``; pairs closer than ``1e-6`` of that scale are
    recomputed from differences, so every value keeps about 10 correct digits.
    """
    gathered = centred[cand]
    dots = np.matmul(gathered, centred[rows][:, :, None])[..., 0]
    scale = sq_norms[cand] + sq_norms[rows][:, None]
    sq = np.maximum(scale - 2.0 * dots, 0.0)
    close = sq < 1e-6 * scale
    if close.any():
        i, j = np.nonzero(close)
        diff = gathered[i, j] - centred[rows[i]]
        sq[i, j] = np.einsum("ij,ij->i", diff, diff)
    return sq


def _exact_row(centred: np.ndarray, i: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    diff = centred - centred[i]
    sq = np.einsum("ij,ij->i", diff, diff)
    sq[i] = np.inf
    idx = np.argpartition(sq, k - 1)[:k]
    idx = idx[np.argsort(sq[idx], kind="stable")]
    return np.sqrt(sq[idx]), idx
