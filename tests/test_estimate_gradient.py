"""Gradient subspaces and the Frequent Directions guarantee on random streams."""

from __future__ import annotations

import numpy as np
import pytest

from subspacekit.core import principal_angles
from subspacekit.errors import DimensionMismatchError, RankError
from subspacekit.estimate import FrequentDirections, GradientSubspace


def _stream(seed: int, n: int = 700, d: int = 60, decay: float = 0.85) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spectrum = decay ** np.arange(d)
    return (rng.standard_normal((n, d)) * spectrum) @ np.linalg.qr(rng.standard_normal((d, d)))[0]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ell", [5, 12])
def test_frequent_directions_error_is_certified_and_within_the_bound(seed, ell):
    A = _stream(seed, decay=[0.7, 0.85, 0.95, 1.0][seed])
    fd = FrequentDirections(ell)
    for chunk in np.array_split(A, 9):  # stream in uneven pieces
        fd.partial_fit(chunk)
    B = fd.sketch_
    gap = A.T @ A - B.T @ B
    eigs = np.linalg.eigvalsh(gap)
    scale = np.linalg.norm(A, "fro") ** 2
    assert eigs.min() >= -1e-10 * scale  # B^T B never overshoots A^T A
    error = eigs.max()
    assert error <= fd.error_bound_ * (1 + 1e-10)
    # Ghashami et al.: error <= ||A - A_k||_F^2 / (ell + 1 - k) for every k <= ell, and the
    # CoSO paper's weaker form ||A||_F^2 / (ell - k) for k < ell.
    s = np.linalg.svd(A, compute_uv=False)
    for k in range(ell + 1):
        tail = float((s[k:] ** 2).sum())
        assert fd.error_bound_ <= tail / (ell + 1 - k) * (1 + 1e-10)
        assert fd.error_bound_ <= fd.a_priori_bound(k) * (1 + 1e-10)
        if k < ell:
            assert error <= scale / (ell - k)


def test_frequent_directions_is_exact_while_the_rank_fits():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((300, 3)) @ rng.standard_normal((3, 25))
    fd = FrequentDirections(4).fit(A)
    assert fd.error_bound_ == pytest.approx(0.0, abs=1e-9 * np.linalg.norm(A) ** 2)
    assert np.allclose(fd.sketch_.T @ fd.sketch_, A.T @ A, atol=1e-8 * np.linalg.norm(A) ** 2)


@pytest.mark.parametrize("sketch_size", [None, 16])
def test_gradient_subspace_recovers_the_dominant_subspace(sketch_size):
    rng = np.random.default_rng(10)
    m, n, r = 50, 30, 4
    U = np.linalg.qr(rng.standard_normal((m, r)))[0]
    stream = [
        U @ rng.standard_normal((r, n)) * 5.0 + 0.05 * rng.standard_normal((m, n))
        for _ in range(40)
    ]
    gs = GradientSubspace(r, sketch_size=sketch_size).fit(stream)
    assert np.degrees(principal_angles(gs.subspace_, U).max()) < 1.0
    assert gs.explained_energy_ratio_ > 0.99
    right = GradientSubspace(r, side="right").fit([G.T for G in stream])
    assert np.degrees(principal_angles(right.subspace_, U).max()) < 1.0


def test_gradient_subspace_errors():
    gs = GradientSubspace(3).partial_fit(np.outer(np.arange(5.0), np.ones(4)))
    with pytest.raises(RankError, match="rank 1"):
        _ = gs.subspace_
    with pytest.raises(DimensionMismatchError):
        gs.partial_fit(np.ones((6, 4)))
