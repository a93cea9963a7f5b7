"""Claims about finding subspaces (issue 3): PCA, random-matrix ranks, CCA, probes, alignment."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from subspacekit.core import principal_angles


def reproduce_yale_nearest_subspace(quick: bool = False) -> dict[str, Any]:
    """Nearest 9-D subspace classification of Extended Yale B faces (Lee, Ho & Kriegman 2005).

    Each subject's training images (a random half of its images) give a 9-dimensional
    principal subspace through the origin; a test image goes to the subject with the
    smallest residual. Reported: mean test accuracy over random splits.
    """
    from subspacekit.data import load
    from subspacekit.estimate import NearestSubspaceClassifier

    faces = load("extended_yale_b")
    X, y = faces.data, faces.target
    accuracies = []
    for seed in range(3 if quick else 10):
        rng = np.random.default_rng(seed)
        train = np.zeros(len(y), dtype=bool)
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            train[rng.choice(idx, len(idx) // 2, replace=False)] = True
        clf = NearestSubspaceClassifier(n_components=9).fit(X[train], y[train])
        accuracies.append(float(clf.score(X[~train], y[~train])))
    mean = float(np.mean(accuracies))
    return {
        "published": "faces of one subject under varying light lie near a 9-D subspace; target >= 0.93",
        "measured": f"test accuracy {mean:.4f} (min {min(accuracies):.4f}, {len(accuracies)} splits)",
        "passed": mean >= 0.93,
        "tolerance": "mean accuracy >= 0.93",
        "details": {"accuracies": accuracies},
    }


def reproduce_eigenshield_spikes(quick: bool = False) -> dict[str, Any]:
    """EigenShield's RMT step: the MP edge finds 5 planted spikes in a d=200, n=1000 Wishart.

    Spikes of variance 2, 4, 6, 8, 10 (in units of the noise variance) are all above the
    BBP threshold sqrt(d/n). The claim checked (papers-1.md, section 7c): exactly 5
    spikes in at least 95% of seeds, and a false spike in pure noise in under 5%.
    """
    from subspacekit.estimate import rank_rules

    d, n = 200, 1000
    strengths = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    seeds = range(25 if quick else 100)
    exact = false_spike = 0
    for seed in seeds:
        rng = np.random.default_rng(seed)
        U = np.linalg.qr(rng.standard_normal((d, 5)))[0]
        noise = rng.standard_normal((n, d))
        X = noise + (rng.standard_normal((n, 5)) * np.sqrt(strengths)) @ U.T
        exact += rank_rules.mp_rank(X) == 5
        false_spike += rank_rules.mp_rank(noise) > 0
    total = len(seeds)
    return {
        "published": "exactly 5 spikes in >= 95% of seeds; false spike in < 5% (pure noise)",
        "measured": f"exact in {exact}/{total}; false spike in {false_spike}/{total}",
        "passed": exact >= 0.95 * total and false_spike < 0.05 * total,
        "tolerance": ">= 95% exact, < 5% false",
        "details": {"exact": int(exact), "false_spike": int(false_spike), "seeds": total},
    }


def reproduce_cca_planted(quick: bool = False) -> dict[str, Any]:
    """CCA recovers analytic canonical correlations (0.9, 0.7, 0.5) at n = 5000 within 0.02."""
    from subspacekit.estimate import CCA

    rho = np.array([0.9, 0.7, 0.5])
    errors = []
    for seed in range(3 if quick else 20):
        rng = np.random.default_rng(seed)
        n = 5000
        z = rng.standard_normal((n, 3))
        u = z * np.sqrt(rho) + rng.standard_normal((n, 3)) * np.sqrt(1 - rho)
        v = z * np.sqrt(rho) + rng.standard_normal((n, 3)) * np.sqrt(1 - rho)
        X = np.hstack([u, rng.standard_normal((n, 17))]) @ rng.standard_normal((20, 20))
        Y = np.hstack([v, rng.standard_normal((n, 12))]) @ rng.standard_normal((15, 15))
        errors.append(float(np.max(np.abs(CCA(3).fit(X, Y).canonical_correlations_ - rho))))
    within = int(np.sum(np.array(errors) <= 0.02))
    return {
        "published": "canonical correlations 0.9, 0.7, 0.5 (analytic)",
        "measured": f"max |error| per seed: median {np.median(errors):.4f}, worst {max(errors):.4f}; "
        f"{within}/{len(errors)} seeds within 0.02",
        "passed": float(np.median(errors)) <= 0.02 and within >= 0.8 * len(errors),
        "tolerance": "median max-error <= 0.02 and >= 80% of seeds within 0.02 (sampling sd ~0.01)",
        "details": {"errors": errors},
    }


def reproduce_streaming_pca(quick: bool = False) -> dict[str, Any]:
    """Streaming PCA is exact (float64, chunking-invariant) and faster than IncrementalPCA.

    200,000 x 384 float32 (20,000 in quick mode), 64 components; our chunked float64
    covariance with Chan merges against scikit-learn's IncrementalPCA (batches of 10,000)
    on the same array, median of 3 timings each. Quick mode times once and does not
    gate on the time ratio (the test suite makes no timing asserts); the full run does.
    """
    from sklearn.decomposition import IncrementalPCA

    from subspacekit.estimate import PCA

    n, d, k = (20_000 if quick else 200_000), 384, 64
    rng = np.random.default_rng(0)
    spectrum = (1.0 + np.arange(d)) ** -0.7
    spectrum[k:] *= 0.5
    X = (
        (rng.standard_normal((n, d)) * spectrum) @ np.linalg.qr(rng.standard_normal((d, d)))[0].T
        + 3.0
    ).astype(np.float32)

    def timed(fn: Any) -> tuple[float, Any]:
        times, out = [], None
        for _ in range(1 if quick else 3):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times)), out

    def stream() -> PCA:
        est = PCA(k)
        for start in range(0, n, 10_000):
            est.partial_fit(X[start : start + 10_000])
        _ = est.components_
        return est

    t_ours, ours = timed(stream)
    t_ipca, ipca = timed(lambda: IncrementalPCA(k, batch_size=10_000).fit(X))
    X64 = X.astype(np.float64)
    X64 -= X64.mean(axis=0)
    evals, evecs = np.linalg.eigh(X64.T @ X64 / (n - 1))
    reference = evecs[:, np.argsort(evals)[::-1][:k]]
    err_ours = float(np.sin(principal_angles(ours.components_.T, reference).max()))
    err_ipca = float(
        np.sin(principal_angles(ipca.components_.T.astype(np.float64), reference).max())
    )
    # Chunk invariance: 1,000 chunks against a single-chunk fit.
    many = PCA(k)
    for chunk in np.array_split(X[:20_000], 1000):
        many.partial_fit(chunk)
    single = PCA(k, solver="full").fit(X[:20_000])
    gap = float(np.abs(many.subspace_.projector() - single.subspace_.projector()).max())
    ratio = t_ipca / t_ours
    return {
        "published": "performance.md target: float64-accurate, >= 9x IncrementalPCA (issue goal >= 3x)",
        "measured": f"{ratio:.1f}x faster ({t_ours:.3f} s vs {t_ipca:.3f} s); subspace error "
        f"{err_ours:.1e} vs IncrementalPCA {err_ipca:.1e}; 1,000-chunk projector gap {gap:.1e}",
        "passed": (quick or ratio >= 3.0) and err_ours < 1e-6 and gap < 1e-8,
        "tolerance": "subspace error < 1e-6, chunking gap < 1e-8; full run also time ratio >= 3",
        "details": {
            "time_ours": t_ours,
            "time_ipca": t_ipca,
            "ratio": ratio,
            "error_ours": err_ours,
            "error_ipca": err_ipca,
            "chunk_gap": gap,
            "n_samples": n,
        },
    }


def reproduce_plato_subspace_alignment(quick: bool = False) -> dict[str, Any]:
    """Escaping Plato's Cave, synthetic: CCA-subspace alignment peaks at the shared dimension.

    X = A s + B g_x + noise, Y = C s + D g_y + noise with a 16-d shared s and strong
    modality-specific g; 1,000 anchors, 2,000 test pairs. Claim (papers-1.md, section
    20c): top-1 retrieval peaks at k ~ 16 and beats full-space affine by >= 20 points.
    """
    from subspacekit.estimate import SubspaceAlignment

    rng = np.random.default_rng(7)
    n, k, dx, dy, dg = 3000, 16, 96, 80, 24
    s = rng.standard_normal((n, k))
    X = s @ rng.standard_normal((k, dx)) + 4.0 * rng.standard_normal((n, dg)) @ rng.standard_normal(
        (dg, dx)
    )
    X += rng.standard_normal((n, dx))
    Y = s @ rng.standard_normal((k, dy)) + 4.0 * rng.standard_normal((n, dg)) @ rng.standard_normal(
        (dg, dy)
    )
    Y += rng.standard_normal((n, dy))
    anchors, test = slice(0, 1000), slice(1000, 3000)
    dims = (8, 16, 24) if quick else (4, 8, 12, 16, 20, 24, 32)
    top1 = {
        dim: SubspaceAlignment(dim).fit(X[anchors], Y[anchors]).score(X[test], Y[test])
        for dim in dims
    }
    full = SubspaceAlignment(None, subspace="none", mapping="affine").fit(X[anchors], Y[anchors])
    full_top1 = full.score(X[test], Y[test])
    best = max(top1, key=lambda dim: top1[dim])
    return {
        "published": "subspace alignment peaks at k ~ 16 and beats full-space affine by >= 20 points",
        "measured": f"best k = {best} (top-1 {top1[best]:.3f}); full-space affine top-1 {full_top1:.3f}",
        "passed": abs(best - 16) <= 4 and top1[best] >= full_top1 + 0.20,
        "tolerance": "|best k - 16| <= 4 and margin >= 0.20",
        "details": {
            "top1_by_k": {int(key): float(v) for key, v in top1.items()},
            "full_space_top1": full_top1,
        },
    }
