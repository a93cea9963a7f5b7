r"""Diffusion spectral entropy and mutual information (DSE, DSMI; Liao, Liu et al. 2023).

Reference: arXiv 2312.04823 and the authors' package ``dse-dsmi`` (``dse_dsmi/dse.py``,
``dsmi.py``, ``diffusion.py``), whose defaults and conventions this module follows.

DSE of a point cloud :math:`Z \in \mathbb{R}^{N\times D}`:

1. Gaussian affinities :math:`G_{ij} = \exp(-\|z_i - z_j\|^2 / (2\sigma^2))` (the
   reference also divides by :math:`\sigma\sqrt{2\pi}`; the constant cancels below);
2. the symmetric diffusion matrix :math:`K = D^{-1/2} G D^{-1/2}`, :math:`D =
   \mathrm{diag}(G\mathbf 1)`, which has the spectrum of the random-walk matrix
   :math:`P = D^{-1}G`;
3. :math:`p_i = |\lambda_i|^t / \sum_j |\lambda_j|^t` over the eigenvalues of ``K``;
4. :math:`\mathrm{DSE} = -\sum_i p_i \log_2 p_i` (bits; machine epsilon is added to
   every :math:`p_i`, as in the reference), so :math:`0 \le \mathrm{DSE} \le \log_2 N`.

How ``sigma`` changes the answer: ``sigma`` is the diffusion length scale. As
:math:`\sigma \to 0` every point is its own island, :math:`K \to I` and DSE saturates at
:math:`\log_2 N` whatever the data; as :math:`\sigma \to \infty` all points merge,
``K`` tends to rank one and DSE to 0. In between, DSE counts (in bits) the effective
number of diffusion modes at scale ``sigma``, which grows with the intrinsic dimension
of the data. The reference default :math:`\sigma = 10` suits representations whose
typical pairwise distances are tens (e.g. 1000 points of N(0, I_d) with small ``d``);
for unit-scale data it saturates. ``sigma="median"`` sets ``sigma`` to the median
pairwise distance, a scale-free choice for a single data set; but because it rescales
with the spread of each data set, values at the median ``sigma`` are not comparable
across data sets (for d-dimensional Gaussians in R^100 plus noise 0.1, N = 1000, it gives
4.01, 3.50, 3.28, 3.25, 3.41, 3.66 bits for d = 1, 2, 4, 8, 16, 32, against the monotone
0.23, 0.31, 0.46, 0.77, 1.39, 2.62 at ``sigma = 10``). Compare DSE values only at the
same fixed ``sigma``, ``t`` and ``N`` (the value grows with ``N``).

``t`` powers the eigenvalues (``t`` diffusion steps): larger ``t`` suppresses the small,
noise-driven eigenvalues. The reference's rule of thumb is to pick ``t`` so that about
1 % of the :math:`\lambda^t` stay above 0.01.

Large N: like the reference, at most ``max_samples`` = 10,000 rows are used (a random
subset drawn with Python's ``random.Random(random_state).sample``, which reproduces the
reference's subset for the same seed). Above ``exact_max_samples`` = 5,000 rows the
default ``method="auto"`` switches from the exact :math:`O(N^3)` eigendecomposition to a
Nyström approximation (see :func:`diffusion_eigenvalues`).

DSMI (:func:`diffusion_spectral_mutual_information`) compares the DSE of each class
:math:`Z_{Y=c}` with the DSE of random subsets of ``Z`` of the same size,
:math:`\mathrm{DSMI} = \sum_c p(c)\,[\overline{\mathrm{DSE}(Z^*_c)} - \mathrm{DSE}(Z_{Y=c})]`,
so that the size dependence of DSE cancels.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> basis = np.linalg.qr(rng.standard_normal((100, 8)))[0]
>>> low = rng.standard_normal((500, 2)) @ basis[:, :2].T
>>> high = rng.standard_normal((500, 8)) @ basis.T
>>> h_low = diffusion_spectral_entropy(low, sigma=1.0)
>>> h_high = diffusion_spectral_entropy(high, sigma=1.0)
>>> bool(float(h_low) < float(h_high)), h_low.unit
(True, 'bits')
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
from scipy import linalg

from subspacekit.core.result import Estimate
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_in,
    check_positive,
)
from subspacekit.errors import ValidationError

__all__ = [
    "classic_shannon_entropy",
    "diffusion_eigenvalues",
    "diffusion_spectral_entropy",
    "diffusion_spectral_mutual_information",
    "median_heuristic_sigma",
]

_EPS = float(np.finfo(float).eps)
# Rows per block when forming kernel blocks (memory: block x n float64).
_ROW_BLOCK = 1024


# --------------------------------------------------------------------------- helpers
def _seed(random_state: Any) -> int | None:
    """An integer seed for Python's ``random`` (the reference's generator) or None."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValidationError(
        f"random_state must be None, an int, a RandomState or a Generator; got {random_state!r}"
    )


def _subsample(Z: np.ndarray, max_samples: int | None, seed: int | None) -> np.ndarray:
    if max_samples is None or Z.shape[0] <= max_samples:
        return Z
    # Python's random.sample with the same seed draws the reference's subset.
    rows = random.Random(seed).sample(range(Z.shape[0]), k=max_samples)
    return Z[np.asarray(rows)]


def _sq_distances(A: np.ndarray, B: np.ndarray, sq_a: np.ndarray, sq_b: np.ndarray) -> np.ndarray:
    sq = sq_a[:, None] + sq_b[None, :] - 2.0 * (A @ B.T)
    return np.maximum(sq, 0.0, out=sq)


def _resolve_sigma(Z: np.ndarray, sigma: float | str, seed: int | None) -> float:
    if isinstance(sigma, str):
        check_in(sigma, ("median",), "sigma")
        return median_heuristic_sigma(Z, random_state=seed)
    return check_positive(sigma, "sigma")


def _entropy_bits(eigenvalues: np.ndarray, t: float) -> float:
    powered = np.abs(eigenvalues) ** t
    total = powered.sum()
    if total <= 0.0:
        raise ValidationError("all diffusion eigenvalues are zero")
    prob = powered / total + _EPS
    return float(-np.sum(prob * np.log2(prob)))


def median_heuristic_sigma(Z: Any, *, max_samples: int = 2000, random_state: Any = 0) -> float:
    """Median pairwise Euclidean distance (over at most ``max_samples`` random rows).

    Examples
    --------
    >>> Z = np.array([[0.0], [1.0], [3.0]])
    >>> median_heuristic_sigma(Z)
    2.0
    """
    Z = np.asarray(check_array(Z, "Z", min_samples=2), dtype=np.float64)
    if Z.shape[0] > max_samples:
        rng = np.random.default_rng(_seed(random_state))
        Z = Z[rng.choice(Z.shape[0], size=max_samples, replace=False)]
    Z = Z - Z.mean(axis=0)
    sq = np.einsum("ij,ij->i", Z, Z)
    d2 = _sq_distances(Z, Z, sq, sq)
    upper = np.sqrt(d2[np.triu_indices(Z.shape[0], k=1)])
    value = float(np.median(upper))
    if value <= 0.0:
        raise ValidationError(
            "the median pairwise distance is zero (more than half of the pairs coincide); "
            "pass sigma explicitly"
        )
    return value


# --------------------------------------------------------------------------- eigenvalues
def diffusion_eigenvalues(
    Z: Any,
    sigma: float = 10.0,
    *,
    method: str = "exact",
    n_landmarks: int = 1000,
    random_state: Any = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    r"""Eigenvalues of the symmetric diffusion matrix :math:`K = D^{-1/2} G D^{-1/2}`.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    sigma : float
        Gaussian kernel width.
    method : {"exact", "nystrom"}
        ``"exact"``: dense ``K`` and :func:`scipy.linalg.eigvalsh`, :math:`O(N^2 D + N^3)`
        time and :math:`O(N^2)` memory. ``"nystrom"``: ``n_landmarks`` random columns
        :math:`C = G_{:,L}`, :math:`W = G_{L,L}`, the approximation
        :math:`G \approx C W^{+} C^\top` with *exact* degrees (computed block-wise), and the
        nonzero eigenvalues of :math:`D^{-1/2} C W^{+} C^\top D^{-1/2}` from an
        ``m x m`` problem. Since the Nyström matrix is below ``G`` in the PSD order, its
        eigenvalues underestimate the exact ones; the missing trace
        :math:`\mathrm{tr}K - \sum\hat\lambda` (:math:`\mathrm{tr}K = \sum_i 1/D_{ii}` is
        exact) is spread evenly over the remaining :math:`N - m` eigenvalues, which is
        the maximum-entropy completion. ``O(N^2 D)`` time for the degrees, ``O(N m)``
        memory.
    n_landmarks : int
        Landmarks of the Nyström method.
    random_state : int or None
        Seed of the landmark choice.

    Returns
    -------
    eigenvalues : ndarray of shape (n_samples,)
        Descending (the Nyström tail values included).
    info : dict
        ``"n_computed"`` (eigenvalues from the decomposition) and ``"tail_mass"`` (the
        trace spread over the tail, 0 for ``"exact"``).

    Examples
    --------
    >>> Z = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    >>> lam, _ = diffusion_eigenvalues(Z, sigma=1.0)
    >>> np.round(lam, 3).tolist()   # an isolated point adds an eigenvalue 1
    [1.0, 1.0, 0.245]
    """
    check_in(method, ("exact", "nystrom"), "method")
    Z = np.asarray(check_array(Z, "Z", min_samples=2), dtype=np.float64)
    sigma = check_positive(sigma, "sigma")
    Z = Z - Z.mean(axis=0)
    n = Z.shape[0]
    sq = np.einsum("ij,ij->i", Z, Z)
    scale = -0.5 / sigma**2
    if method == "exact" or n_landmarks >= n:
        G = _sq_distances(Z, Z, sq, sq)
        np.multiply(G, scale, out=G)
        np.exp(G, out=G)
        inv_sqrt_deg = 1.0 / np.sqrt(G.sum(axis=1))
        G *= inv_sqrt_deg[:, None]
        G *= inv_sqrt_deg[None, :]
        lam = linalg.eigvalsh(G, overwrite_a=True, check_finite=False)[::-1]
        return lam, {"n_computed": n, "tail_mass": 0.0}

    rng = np.random.default_rng(_seed(random_state))
    landmarks = np.sort(rng.choice(n, size=int(n_landmarks), replace=False))
    degrees = np.empty(n)
    C = np.empty((n, landmarks.size))
    for start in range(0, n, _ROW_BLOCK):
        stop = min(n, start + _ROW_BLOCK)
        block = _sq_distances(Z[start:stop], Z, sq[start:stop], sq)
        np.multiply(block, scale, out=block)
        np.exp(block, out=block)
        degrees[start:stop] = block.sum(axis=1)
        C[start:stop] = block[:, landmarks]
    W = C[landmarks]
    w_val, w_vec = linalg.eigh(W, check_finite=False)
    keep = w_val > w_val[-1] * 1e-10
    # B B^T = D^{-1/2} C W^+ C^T D^{-1/2}; its nonzero eigenvalues are those of B^T B.
    B = (C / np.sqrt(degrees)[:, None]) @ (w_vec[:, keep] / np.sqrt(w_val[keep]))
    top = np.clip(linalg.eigvalsh(B.T @ B, check_finite=False)[::-1], 0.0, None)
    trace = float(np.sum(1.0 / degrees))
    tail_mass = max(trace - float(top.sum()), 0.0)
    n_tail = n - top.size
    tail = np.full(n_tail, tail_mass / n_tail if n_tail else 0.0)
    lam = np.sort(np.concatenate([top, tail]))[::-1]
    return lam, {"n_computed": int(top.size), "tail_mass": tail_mass}


# --------------------------------------------------------------------------- DSE
def diffusion_spectral_entropy(
    Z: Any,
    *,
    sigma: float | str = 10.0,
    t: float = 1,
    max_samples: int | None = 10_000,
    method: str = "auto",
    exact_max_samples: int = 5000,
    n_landmarks: int = 1000,
    random_state: Any = 0,
) -> Estimate:
    r"""Diffusion spectral entropy of the rows of ``Z``, in bits.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Representations (float32/float64 arrays or torch tensors).
    sigma : float or "median", default=10
        Gaussian kernel width (the reference default); ``"median"`` uses
        :func:`median_heuristic_sigma`. See the module notes on how it changes the value.
    t : float, default=1
        Diffusion time: the power applied to the eigenvalues.
    max_samples : int or None, default=10000
        Rows used at most (random subset, as in the reference).
    method : {"auto", "exact", "nystrom"}, default="auto"
        ``"auto"``: exact up to ``exact_max_samples`` rows, Nyström above.
    exact_max_samples : int, default=5000
        Largest ``N`` for the exact method under ``"auto"``.
    n_landmarks : int, default=1000
        Landmarks of the Nyström method. Measured error against the exact value at
        N = 6,000 (d-dimensional Gaussians in R^100 plus noise 0.1, d = 2, 8, 32):
        +0.0002 to +0.036 bits at sigma = 10 and +0.05 to +0.08 bits (about 2 %) at the
        median sigma, where the spectrum is flatter (``benchmarks/bench_measure.py``,
        ``docs/results/issue-5.md``). The error grows as ``sigma`` shrinks relative to
        the distances (flat spectrum, DSE near :math:`\log_2 N`); raise
        ``n_landmarks`` or use ``method="exact"`` there.
    random_state : int or None, default=0
        Seed of the subsample and the landmarks (0 reproduces the reference's subset).

    Returns
    -------
    Estimate
        ``value`` in bits, ``n`` the rows used; ``details`` holds ``sigma``, ``t``,
        ``method``, ``max_entropy`` (:math:`\log_2 N`) and the eigenvalues.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Z = 20.0 * rng.standard_normal((300, 3))
    >>> est = diffusion_spectral_entropy(Z)
    >>> round(est.value, 2), est.n
    (6.72, 300)
    """
    check_in(method, ("auto", "exact", "nystrom"), "method")
    t = check_positive(t, "t")
    Z = check_array(Z, "Z", min_samples=2)
    seed = _seed(random_state)
    Z = _subsample(np.asarray(Z, dtype=np.float64), max_samples, seed)
    n = Z.shape[0]
    if np.ptp(Z, axis=0).max() == 0.0:
        raise ValidationError(
            f"all {n} points are identical; the diffusion spectrum is degenerate "
            "(DSE would be 0 for any sigma)"
        )
    sigma_value = _resolve_sigma(Z, sigma, seed)
    value, lam, info, use = _dse(Z, sigma_value, t, method, exact_max_samples, n_landmarks, seed)
    return Estimate(
        value,
        method=f"dse-{use}",
        n=n,
        unit="bits",
        details={
            "sigma": sigma_value,
            "t": t,
            "max_entropy": math.log2(n),
            "eigenvalues": lam,
            **info,
        },
    )


def _dse(
    Z: np.ndarray,
    sigma: float,
    t: float,
    method: str,
    exact_max_samples: int,
    n_landmarks: int,
    seed: int | None,
) -> tuple[float, np.ndarray, dict[str, Any], str]:
    """DSE of validated, subsampled rows; one row (or identical rows) gives ~0 as in the reference."""
    n = Z.shape[0]
    if n == 1:
        lam = np.ones(1)
        return _entropy_bits(lam, t), lam, {"n_computed": 1, "tail_mass": 0.0}, "exact"
    use = method if method != "auto" else ("exact" if n <= exact_max_samples else "nystrom")
    lam, info = diffusion_eigenvalues(
        Z, sigma, method=use, n_landmarks=n_landmarks, random_state=seed
    )
    return _entropy_bits(lam, t), lam, info, use


def classic_shannon_entropy(Z: Any, *, n_bins: int = 2) -> float:
    """Classic Shannon entropy baseline (CSE) of the reference, in bits.

    Every feature is min–max scaled and cut into ``n_bins`` equal bins; the entropy is
    that of the distinct binned rows. Constant features fall in one bin.

    Examples
    --------
    >>> classic_shannon_entropy(np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]))
    2.0
    """
    Z = np.asarray(check_array(Z, "Z", min_samples=1), dtype=np.float64)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValidationError(f"n_bins must be a positive integer; got {n_bins!r}")
    low, span = Z.min(axis=0), np.ptp(Z, axis=0)
    scaled = (Z - low) / np.where(span > 0, span, 1.0)
    binned = np.digitize(scaled, np.linspace(0.0, 1.0, n_bins + 1)[:-1])
    counts = np.unique(binned, axis=0, return_counts=True)[1]
    prob = counts / counts.sum() + _EPS
    return float(-np.sum(prob * np.log2(prob)))


# --------------------------------------------------------------------------- DSMI
def _discretise(
    Y: np.ndarray, discrete: bool | None, n_clusters: int, seed: int | None
) -> tuple[np.ndarray, str]:
    if Y.ndim == 1:
        Y = Y[:, None]
    if discrete is None:
        # The reference's rule: one column of integers is a label; anything else is not.
        discrete = Y.shape[1] == 1 and Y.dtype.kind in "iub"
    if discrete:
        if Y.shape[1] != 1:
            raise ValidationError(f"discrete Y must be one column of labels; got shape {Y.shape}")
        return Y[:, 0], "labels"
    Yf = np.asarray(check_array(Y, "Y", min_samples=1), dtype=np.float64)
    if Yf.shape[1] == 1:
        span = np.ptp(Yf)
        scaled = (Yf[:, 0] - Yf.min()) / (span if span > 0 else 1.0)
        return np.digitize(scaled, np.linspace(0.0, 1.0, n_clusters + 1)[:-1]), "bins"
    from sklearn.cluster import SpectralClustering

    labels = SpectralClustering(
        n_clusters=n_clusters,
        affinity="nearest_neighbors",
        assign_labels="cluster_qr",
        random_state=0 if seed is None else seed,
    ).fit_predict(Yf)
    return labels, "spectral clustering"


def diffusion_spectral_mutual_information(
    Z: Any,
    Y: Any,
    *,
    sigma: float | str = 10.0,
    t: float = 1,
    discrete: bool | None = None,
    n_clusters: int = 10,
    n_repeats: int = 5,
    max_samples: int | None = 10_000,
    method: str = "auto",
    exact_max_samples: int = 5000,
    n_landmarks: int = 1000,
    random_state: Any = 0,
) -> Estimate:
    r"""Diffusion spectral mutual information between ``Z`` and labels or another variable.

    :math:`\mathrm{DSMI}(Z;Y) = \sum_c p(c)\,[\overline{\mathrm{DSE}(Z^*_c)} -
    \mathrm{DSE}(Z_{Y=c})]`, where :math:`Z^*_c` are ``n_repeats`` random subsets of
    ``Z`` with :math:`|\{Y=c\}|` rows (drawn exactly as the reference does, with
    ``random.Random(random_state)`` reseeded per class).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_features_y)
        Integer labels are used as they are; a continuous scalar is cut into
        ``n_clusters`` equal-width bins; a vector variable is grouped by spectral
        clustering (``n_clusters``, k-NN affinity, ``cluster_qr``).
    sigma, t, max_samples, method, exact_max_samples, n_landmarks
        As in :func:`diffusion_spectral_entropy`, applied to every DSE.
    discrete : bool or None
        Force (True) or forbid (False) treating ``Y`` as labels; None infers it (one
        integer column).
    n_clusters : int, default=10
    n_repeats : int, default=5
        Random subsets per class.
    random_state : int or None, default=0

    Returns
    -------
    Estimate
        ``value`` in bits; ``stderr`` is the Monte-Carlo error of the subset average
        (standard deviation of the per-repetition DSMI over :math:`\sqrt{R}`), not a
        sampling error of the data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(np.arange(3), 100)
    >>> Z = rng.standard_normal((300, 5)) + 10.0 * labels[:, None]
    >>> round(diffusion_spectral_mutual_information(Z, labels, sigma=3.0).value, 2)
    1.39
    >>> shuffled = rng.permutation(labels)        # independent of Z
    >>> round(diffusion_spectral_mutual_information(Z, shuffled, sigma=3.0).value, 2)
    0.0
    """
    Z = np.asarray(check_array(Z, "Z", min_samples=2), dtype=np.float64)
    Y_arr = np.asarray(Y) if not hasattr(Y, "detach") else Y.detach().cpu().numpy()
    check_consistent_samples(Z, Y_arr, names=["Z", "Y"])
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise ValidationError(f"n_repeats must be a positive integer; got {n_repeats!r}")
    seed = _seed(random_state)
    labels, how = _discretise(Y_arr, discrete, n_clusters, seed)
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < 2:
        raise ValidationError(f"Y takes a single value; DSMI needs at least 2 groups ({how})")
    check_in(method, ("auto", "exact", "nystrom"), "method")
    t = check_positive(t, "t")
    sigma_value = _resolve_sigma(Z, sigma, seed)
    n = Z.shape[0]

    def dse(rows: np.ndarray) -> float:
        # Each DSE call of the reference subsamples with its default seed 0.
        sub = _subsample(Z[rows], max_samples, 0)
        return _dse(sub, sigma_value, t, method, exact_max_samples, n_landmarks, 0)[0]

    per_repeat = np.zeros(n_repeats)
    per_class = []
    for c, count in zip(classes, counts, strict=True):
        conditional = dse(np.flatnonzero(labels == c))
        generator = random.Random(seed)
        marginal = np.array(
            [dse(np.asarray(generator.sample(range(n), k=int(count)))) for _ in range(n_repeats)]
        )
        weight = count / n
        per_repeat += weight * (marginal - conditional)
        per_class.append((c, int(count), float(marginal.mean()), conditional))
    value = float(per_repeat.mean())
    stderr = float(per_repeat.std(ddof=1) / math.sqrt(n_repeats)) if n_repeats > 1 else None
    return Estimate(
        value,
        stderr=stderr,
        method="dsmi",
        n=n,
        unit="bits",
        details={
            "sigma": sigma_value,
            "t": t,
            "grouping": how,
            "per_class": per_class,
            "stderr": "Monte-Carlo error of the random-subset average",
        },
    )
