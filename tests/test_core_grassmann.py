"""Principal angles, Grassmann distances, exp/log, geodesics and Karcher means."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.core import (
    METRICS,
    Subspace,
    geodesic,
    grassmann_distance,
    grassmann_exp,
    grassmann_log,
    karcher_mean,
    principal_angles,
)
from subspacekit.errors import DimensionMismatchError, NonFiniteError, RankError, ValidationError


def planted_pair(d: int, angles: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two k-dim subspaces of R^d with exactly the given principal angles.

    A = span(e_1..e_k) rotated by a random orthogonal W; B rotates e_i towards
    e_{k+i} by angle_i. The sines and cosines are exact in floating point up to one
    rounding, so the planted angles are known to full relative accuracy.
    """
    k = len(angles)
    rng = np.random.default_rng(seed)
    W, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = W[:, :k]
    B = W[:, :k] * np.cos(angles) + W[:, k : 2 * k] * np.sin(angles)
    return A, B


seeds = st.integers(0, 2**31 - 1)
dims = st.tuples(st.integers(2, 12), st.integers(1, 5)).filter(lambda t: t[1] <= t[0])


@settings(max_examples=60, deadline=None)
@given(dims, seeds)
def test_angles_in_range_symmetric_and_basis_invariant(dk, seed):
    d, k = dk
    rng = np.random.default_rng(seed)
    A = Subspace.random(d, k, random_state=seed)
    B = Subspace.random(d, max(1, k - 1), random_state=seed + 1)
    ang = principal_angles(A, B)
    assert ang.shape == (min(A.dim, B.dim),)
    assert np.all(ang >= 0) and np.all(ang <= np.pi / 2 + 1e-12)
    assert np.all(np.diff(ang) >= -1e-12)
    np.testing.assert_allclose(principal_angles(B, A), ang, atol=1e-10)
    # Any invertible change of basis inside either subspace leaves the angles alone.
    G = rng.standard_normal((A.dim, A.dim)) + 3 * np.eye(A.dim)
    np.testing.assert_allclose(principal_angles(A.basis @ G, B), ang, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(dims, seeds)
def test_geodesic_triangle_inequality(dk, seed):
    d, k = dk
    A, B, C = (Subspace.random(d, k, random_state=seed + i) for i in range(3))
    for metric in ("geodesic", "chordal", "projection", "fubini-study", "procrustes"):
        ab, bc, ac = (grassmann_distance(x, y, metric) for x, y in ((A, B), (B, C), (A, C)))
        assert ac <= ab + bc + 1e-10, metric


@settings(max_examples=40, deadline=None)
@given(dims, seeds, st.floats(0.05, 1.4))
def test_log_then_exp_returns_target(dk, seed, radius):
    d, k = dk
    if 2 * k > d:
        k = d // 2
    A = Subspace.random(d, k, random_state=seed)
    # A target within the injectivity radius: every principal angle below pi/2.
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((d, k))
    H -= A.basis @ (A.basis.T @ H)
    H *= radius / np.linalg.norm(H, 2)
    target = grassmann_exp(A, H)
    back = grassmann_exp(A, grassmann_log(A, target))
    assert np.max(principal_angles(back, target)) < 1e-8
    # ||Log|| is the geodesic distance.
    assert np.isclose(np.linalg.norm(grassmann_log(A, target)), grassmann_distance(A, target))


def test_matches_scipy_at_moderate_angles():
    rng = np.random.default_rng(0)
    for d, ka, kb in [(20, 5, 5), (50, 3, 7), (30, 8, 2)]:
        A, B = rng.standard_normal((d, ka)), rng.standard_normal((d, kb))
        ours = principal_angles(A, B)
        ref = np.sort(scipy.linalg.subspace_angles(A, B))
        np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_planted_tiny_and_large_angles():
    planted = np.array([1e-10, 1e-5, 0.3])
    A, B = planted_pair(40, planted, seed=1)
    np.testing.assert_allclose(principal_angles(A, B), planted, rtol=1e-3)
    # The same subspaces given by non-orthonormal spanning sets.
    rng = np.random.default_rng(2)
    G = rng.standard_normal((3, 3)) + 2 * np.eye(3)
    np.testing.assert_allclose(principal_angles(A @ G, B), planted, rtol=1e-3)


def test_angles_near_pi_over_two():
    planted = np.array([np.pi / 2 - 1e-9, np.pi / 2])
    A, B = planted_pair(10, planted, seed=3)
    np.testing.assert_allclose(principal_angles(A, B), planted, atol=1e-12)


def test_metric_formulas_against_projectors():
    A, B = planted_pair(12, np.array([0.1, 0.4, 0.9]), seed=4)
    PA, PB = A @ A.T, B @ B.T
    theta = principal_angles(A, B)
    assert np.isclose(grassmann_distance(A, B, "chordal"), np.linalg.norm(PA - PB) / np.sqrt(2))
    assert np.isclose(grassmann_distance(A, B, "projection"), np.linalg.norm(PA - PB, 2))
    assert np.isclose(grassmann_distance(A, B, "geodesic"), np.linalg.norm(theta))
    # Procrustes: min over orthogonal Q of ||A - B Q||_F, solved by the polar factor.
    U, _, Vt = np.linalg.svd(B.T @ A)
    assert np.isclose(grassmann_distance(A, B, "procrustes"), np.linalg.norm(A - B @ (U @ Vt)))
    prod = np.prod(np.cos(theta))
    assert np.isclose(grassmann_distance(A, B, "fubini-study"), np.arccos(prod))
    assert np.isclose(grassmann_distance(A, B, "binet-cauchy"), np.sqrt(1 - prod**2))
    assert set(METRICS) >= {
        "geodesic",
        "chordal",
        "projection",
        "fubini-study",
        "binet-cauchy",
        "procrustes",
    }


def test_tiny_distances_keep_relative_accuracy():
    A, B = planted_pair(10, np.array([1e-9, 2e-9]), seed=5)
    true = np.linalg.norm([1e-9, 2e-9])
    assert np.isclose(grassmann_distance(A, B, "fubini-study"), true, rtol=1e-3)
    assert np.isclose(grassmann_distance(A, B, "binet-cauchy"), true, rtol=1e-3)


def test_karcher_mean_of_geodesic_endpoints_is_midpoint():
    rng = np.random.default_rng(6)
    A = Subspace.random(15, 3, random_state=6)
    H = rng.standard_normal((15, 3))
    H -= A.basis @ (A.basis.T @ H)
    H *= 0.4 / np.linalg.norm(H, 2)
    t = 1.0
    far = grassmann_exp(A, H, 2 * t)
    mid = grassmann_exp(A, H, t)
    mean = karcher_mean([A, far])
    assert np.max(principal_angles(mean, mid)) < 1e-8
    # geodesic() agrees, and a weighted mean walks along the geodesic.
    assert np.max(principal_angles(geodesic(A, far, 0.5), mid)) < 1e-8
    quarter = karcher_mean([A, far], weights=[3, 1])
    assert np.max(principal_angles(quarter, grassmann_exp(A, H, 0.5 * t))) < 1e-8


def test_karcher_mean_minimises_sum_of_squares():
    rng = np.random.default_rng(7)
    base = Subspace.random(10, 2, random_state=7)
    pts = []
    for _ in range(5):
        H = rng.standard_normal((10, 2))
        H -= base.basis @ (base.basis.T @ H)
        pts.append(grassmann_exp(base, 0.3 * H / np.linalg.norm(H, 2)))
    mean = karcher_mean(pts)
    cost = sum(grassmann_distance(mean, p) ** 2 for p in pts)
    for _ in range(10):
        H = rng.standard_normal((10, 2))
        H -= mean.basis @ (mean.basis.T @ H)
        moved = grassmann_exp(mean, 0.01 * H / np.linalg.norm(H))
        assert sum(grassmann_distance(moved, p) ** 2 for p in pts) >= cost - 1e-12


def test_bad_input():
    e = np.eye(4)
    with pytest.raises(NonFiniteError, match="1 NaN"):
        principal_angles(np.array([[np.nan], [0], [0], [1.0]]), e[:, :1])
    with pytest.raises(RankError, match="numerical rank is 1"):
        principal_angles(np.c_[e[:, 0], 2 * e[:, 0]], e[:, :2])
    with pytest.raises(DimensionMismatchError, match="d=4 and d=3"):
        principal_angles(e[:, :2], np.eye(3)[:, :2])
    with pytest.raises(DimensionMismatchError, match="equal dimension"):
        grassmann_distance(e[:, :2], e[:, :1])
    with pytest.raises(ValidationError, match="metric must be one of"):
        grassmann_distance(e[:, :1], e[:, 1:2], "euclid")
    with pytest.raises(ValidationError, match="not horizontal"):
        grassmann_exp(e[:, :1], e[:, :1])
    with pytest.raises(ValidationError, match="at least one"):
        karcher_mean([])
