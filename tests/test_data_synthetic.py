"""Ground-truth generators: the planted structure holds (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neighbors import NearestNeighbors

from subspacekit.data import (
    manifold,
    mixture_of_low_rank_gaussians,
    random_orthonormal,
    spiked_covariance,
    sprites,
    union_of_subspaces,
)
from subspacekit.errors import ShapeError, ValidationError


def _principal_angles(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    cosines = np.linalg.svd(A.T @ B, compute_uv=False)
    return np.arccos(np.clip(cosines, -1, 1))


@settings(max_examples=40, deadline=None)
@given(
    n_subspaces=st.integers(1, 4),
    dim=st.integers(1, 4),
    extra=st.integers(0, 12),
    n=st.integers(5, 30),
    seed=st.integers(0, 2**31 - 1),
)
def test_union_points_lie_in_their_subspace(n_subspaces, dim, extra, n, seed) -> None:
    ambient = dim + extra + 1
    X, labels, bases = union_of_subspaces(n_subspaces, dim, ambient, n, random_state=seed)
    assert X.shape == (n_subspaces * n, ambient)
    assert np.bincount(labels).tolist() == [n] * n_subspaces
    for j, B in enumerate(bases):
        np.testing.assert_allclose(B.T @ B, np.eye(dim), atol=1e-12)
        Xj = X[labels == j]
        residual = Xj - Xj @ B @ B.T
        assert np.abs(residual).max() < 1e-12 * max(1.0, np.abs(Xj).max())
        # the points fill their subspace (generic coefficients)
        assert np.linalg.matrix_rank(Xj) == min(dim, n)


@settings(max_examples=25, deadline=None)
@given(
    n_subspaces=st.integers(2, 4),
    dim=st.integers(1, 3),
    min_angle=st.floats(0.05, 1.2),
    seed=st.integers(0, 2**31 - 1),
)
def test_union_min_angle_respected(n_subspaces, dim, min_angle, seed) -> None:
    _, _, bases = union_of_subspaces(
        n_subspaces, dim, 12, 3, min_angle=min_angle, random_state=seed
    )
    for i in range(n_subspaces):
        for j in range(i + 1, n_subspaces):
            assert _principal_angles(bases[i], bases[j]).min() >= min_angle - 1e-12


def test_union_tight_min_angle_uses_the_orthogonal_complement() -> None:
    # four 3-dimensional subspaces at >= 1.5 rad (86 degrees) in R^12: random draws almost
    # never satisfy this, but the configuration exists (near-orthogonal blocks)
    _, _, bases = union_of_subspaces(4, 3, 12, 5, min_angle=1.5, random_state=0)
    for i in range(4):
        for j in range(i + 1, 4):
            assert _principal_angles(bases[i], bases[j]).min() >= 1.5 - 1e-12
        np.testing.assert_allclose(bases[i].T @ bases[i], np.eye(3), atol=1e-12)


def test_union_mixed_dimensions_outliers_noise_and_seed() -> None:
    X, y, B = union_of_subspaces(
        3, [1, 2, 3], 50, [40, 50, 60], noise=0.3, outlier_fraction=0.25, random_state=7
    )
    n_in = 150
    assert [b.shape for b in B] == [(50, 1), (50, 2), (50, 3)]
    assert np.sum(y == -1) == 50 and X.shape[0] == 200  # 50 / 200 = 0.25 of returned points
    assert np.all(y[n_in:] == -1) and np.all(y[:n_in] >= 0)
    # noise: E||e||^2 = noise^2; the out-of-subspace part of the noise has (d - k)/d of it
    resid = np.concatenate(
        [np.sum((X[y == j] - X[y == j] @ b @ b.T) ** 2, axis=1) for j, b in enumerate(B)]
    )
    expected = 0.3**2 * np.mean([(50 - 1) / 50] * 40 + [(50 - 2) / 50] * 50 + [47 / 50] * 60)
    assert abs(resid.mean() / expected - 1) < 0.1
    # outliers have the same expected squared norm (1) as noiseless inliers
    assert abs(np.mean(np.sum(X[y == -1] ** 2, axis=1)) - 1) < 0.15
    X2, *_ = union_of_subspaces(
        3, [1, 2, 3], 50, [40, 50, 60], noise=0.3, outlier_fraction=0.25, random_state=7
    )
    np.testing.assert_array_equal(X, X2)


def test_union_errors() -> None:
    with pytest.raises(ValidationError, match="must intersect"):
        union_of_subspaces(2, 4, 6, 5, min_angle=0.1, random_state=0)
    with pytest.raises(ValidationError, match="could not draw"):
        # more than 3 mutually orthogonal lines in R^3 cannot exist
        union_of_subspaces(4, 1, 3, 5, min_angle=np.pi / 2 - 1e-3, random_state=0)
    with pytest.raises(ShapeError):
        union_of_subspaces(2, 7, 5, 5)
    with pytest.raises(ValidationError, match="outlier_fraction"):
        union_of_subspaces(2, 1, 5, 5, outlier_fraction=1.0)


def test_mixture_of_low_rank_gaussians_planted_parameters() -> None:
    X, y, means, bases = mixture_of_low_rank_gaussians(
        3, [1, 2, 3], 10, 4000, mean_norm=5.0, random_state=0
    )
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 5.0)
    for j, B in enumerate(bases):
        centred = X[y == j] - means[j]
        assert np.abs(centred - centred @ B @ B.T).max() < 1e-10  # affine subspace, noise 0
        # covariance U U^T: sample estimate within sampling error (n = 4000)
        np.testing.assert_allclose(np.cov(centred.T), B @ B.T, atol=0.1)
        np.testing.assert_allclose(X[y == j].mean(axis=0), means[j], atol=0.1)
    Xn, *_ = mixture_of_low_rank_gaussians(1, 1, 10, 4000, noise=0.5, random_state=0)
    eig = np.linalg.eigvalsh(np.cov(Xn.T))
    np.testing.assert_allclose(eig[:-1], 0.25, atol=0.05)
    assert abs(eig[-1] - 1.25) < 0.15


def test_spiked_covariance_population_spectrum() -> None:
    spikes = [10.0, 4.0]
    X, U = spiked_covariance(20000, 8, spikes, noise_variance=0.5, random_state=0)
    np.testing.assert_allclose(U.T @ U, np.eye(2), atol=1e-12)
    evals, evecs = np.linalg.eigh(np.cov(X.T))
    np.testing.assert_allclose(evals[::-1][:2], [10.5, 4.5], rtol=0.05)
    np.testing.assert_allclose(evals[:-2], 0.5, rtol=0.1)
    assert _principal_angles(evecs[:, -2:], U).max() < 0.05
    with pytest.raises(ShapeError):
        spiked_covariance(10, 2, [1.0, 1.0, 1.0])


def _local_dimension(X: np.ndarray, k: int = 40, variance: float = 0.95) -> float:
    """Median over points of the number of local PCA components explaining `variance`."""
    nn = NearestNeighbors(n_neighbors=k).fit(X)
    _, idx = nn.kneighbors(X[::25])
    dims = []
    for rows in idx:
        s = np.linalg.svd(X[rows] - X[rows].mean(0), compute_uv=False) ** 2
        dims.append(np.searchsorted(np.cumsum(s) / s.sum(), variance) + 1)
    return float(np.median(dims))


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("sphere", {"dim": 2}, 2),
        ("sphere", {"dim": 4}, 4),
        ("swiss_roll", {}, 2),
        ("torus", {}, 2),
        ("helix", {}, 1),
        ("linear", {"dim": 3}, 3),
        ("curved", {"dim": 3}, 3),
    ],
)
def test_manifolds_have_the_stated_intrinsic_dimension(name, params, expected) -> None:
    X, k = manifold(name, 3000, ambient_dim=20, random_state=0, **params)
    assert k == expected and X.shape == (3000, 20)
    # independent check: local PCA on small neighbourhoods sees `expected` directions
    assert _local_dimension(X) == expected


def test_manifold_equations_and_isometric_embedding() -> None:
    S, _ = manifold("sphere", 500, dim=3, random_state=1)
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0)
    T, _ = manifold("torus", 500, random_state=1)
    np.testing.assert_allclose((np.hypot(T[:, 0], T[:, 1]) - 2.0) ** 2 + T[:, 2] ** 2, 1.0)
    native, _ = manifold("swiss_roll", 200, random_state=3)
    embedded, _ = manifold("swiss_roll", 200, ambient_dim=30, random_state=3)
    d_native = np.linalg.norm(native[:, None] - native[None], axis=-1)
    d_embedded = np.linalg.norm(embedded[:, None] - embedded[None], axis=-1)
    np.testing.assert_allclose(d_embedded, d_native, atol=1e-9)
    with pytest.raises(ValidationError, match="unknown manifold"):
        manifold("klein", 10)
    with pytest.raises(ShapeError):
        manifold("swiss_roll", 10, ambient_dim=2)
    with pytest.raises(ValidationError, match="unexpected parameters"):
        manifold("swiss_roll", 10, dim=3)


def test_random_orthonormal_is_haar_on_average() -> None:
    # E[P] = (k/d) I for the projector onto a Haar-random k-subspace
    P = np.mean([(B := random_orthonormal(4, 1, s)) @ B.T for s in range(4000)], axis=0)
    np.testing.assert_allclose(P, np.eye(4) / 4, atol=0.02)


def test_sprites_grid_and_factors() -> None:
    b = sprites(grid=True, size=32, n_scales=3, n_rotations=4, n_positions=3)
    assert b.data.shape == (3 * 3 * 4 * 3 * 3, 32 * 32)
    assert len({tuple(f) for f in b.factors}) == b.data.shape[0]
    images = b.data.reshape(-1, 32, 32)
    assert set(np.unique(images).tolist()) <= {0.0, 1.0}
    # every shape stays inside the image
    assert images[:, 0, :].sum() == images[:, -1, :].sum() == 0
    assert images[:, :, 0].sum() == images[:, :, -1].sum() == 0


def test_sprites_factors_act_as_stated() -> None:
    size = 64
    b = sprites(2000, size=size, random_state=0)
    images = b.data.reshape(-1, size, size)
    area = images.sum(axis=(1, 2))
    for s in range(3):
        small = area[(b.factors[:, 0] == s) & (b.factors[:, 1] == 0)].mean()
        large = area[(b.factors[:, 0] == s) & (b.factors[:, 1] == 5)].mean()
        assert abs(large / small - 4.0) < 0.4  # area grows as scale^2 (1 / 0.5)^2
    # the centroid of a square or an ellipse is its centre: x moves columns, y moves rows
    sym = b.factors[:, 0] < 2
    cols = (images[sym] * np.arange(size)[None, None, :]).sum(axis=(1, 2)) / area[sym]
    rows = (images[sym] * np.arange(size)[None, :, None]).sum(axis=(1, 2)) / area[sym]
    assert np.corrcoef(cols, b.latents[sym, 3])[0, 1] > 0.99
    assert np.corrcoef(rows, b.latents[sym, 4])[0, 1] > 0.99
    # a square rotated by 90 degrees is the same image
    one = sprites(grid=True, size=32, shapes=["square"], n_scales=1, n_rotations=4, n_positions=1)
    r = one.data.reshape(4, 32, 32)
    assert np.mean(r[0] != r[1]) < 0.01 and np.mean(r[0] != r[2]) < 0.01
    same = sprites(50, size=16, random_state=5).data
    np.testing.assert_array_equal(same, sprites(50, size=16, random_state=5).data)
    with pytest.raises(ValidationError, match="shapes"):
        sprites(5, shapes=["triangle"])
