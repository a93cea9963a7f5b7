"""Procrustes, RSA, mutual k-NN, linear predictivity, PCA principal angles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.compare import (
    linear_predictivity,
    mutual_knn,
    pca_principal_angles,
    pca_subspace_similarity,
    procrustes_similarity,
    rsa,
)
from subspacekit.core import principal_angles
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    RankError,
    TooFewSamplesError,
    ValidationError,
)


def _orthogonal(rng: np.random.RandomState, d: int) -> np.ndarray:
    return np.linalg.qr(rng.normal(size=(d, d)))[0]


# ---------------------------------------------------------------- Procrustes
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0))
def test_procrustes_invariances(seed, scale):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(40, 5))
    Y = X[:, :3] @ rng.normal(size=(3, 7)) + rng.normal(size=(40, 7))
    base = procrustes_similarity(X, Y)
    assert procrustes_similarity(scale * X @ _orthogonal(rng, 5) + 1, Y) == pytest.approx(
        base, abs=1e-9
    )
    assert procrustes_similarity(X, scale * Y @ _orthogonal(rng, 7)) == pytest.approx(
        base, abs=1e-9
    )


def test_procrustes_closed_form_and_wide_route():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3))
    Xc = X - X.mean(0)
    # Y = X D: nuclear norm of Xc^T Xc D over ||Xc|| ||Xc D||, computed directly.
    D = np.diag([1.0, 2.0, 5.0])
    expected = np.linalg.svd(Xc.T @ Xc @ D, compute_uv=False).sum() / (
        np.linalg.norm(Xc) * np.linalg.norm(Xc @ D)
    )
    assert procrustes_similarity(X, X @ D) == pytest.approx(expected, rel=1e-12)
    # n < d takes the n x n route; the value must match the d1 x d2 SVD.
    A, B = rng.normal(size=(10, 40)), rng.normal(size=(10, 30))
    Ac, Bc = A - A.mean(0), B - B.mean(0)
    direct = np.linalg.svd(Ac.T @ Bc, compute_uv=False).sum() / (
        np.linalg.norm(Ac) * np.linalg.norm(Bc)
    )
    assert procrustes_similarity(A, B) == pytest.approx(direct, rel=1e-10)
    with pytest.raises(ValidationError, match="zero variance"):
        procrustes_similarity(X, np.ones((50, 2)))


# ---------------------------------------------------------------- RSA
def test_rsa_invariances_and_closed_form():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 6))
    assert rsa(X, 3 * X @ _orthogonal(rng, 6) - 2, dissimilarity="euclidean") == pytest.approx(1.0)
    # Correlation RDMs ignore per-input affine changes of the activation pattern.
    per_input = X * rng.uniform(0.5, 2.0, size=(30, 1)) + rng.normal(size=(30, 1))
    assert rsa(X, per_input) == pytest.approx(1.0)
    # Pearson comparison of Euclidean RDMs equals numpy's correlation of pdist vectors.
    from scipy.spatial.distance import pdist

    Y = X[:, :2] + rng.normal(size=(30, 2))
    expected = np.corrcoef(pdist(X), pdist(Y))[0, 1]
    assert rsa(X, Y, dissimilarity="euclidean", comparison="pearson") == pytest.approx(expected)


def test_rsa_errors_and_permutation_test():
    rng = np.random.RandomState(2)
    with pytest.raises(ValidationError, match="undefined"):
        rsa(np.c_[np.ones(5), np.ones(5)], rng.normal(size=(5, 2)))
    with pytest.raises(TooFewSamplesError):
        rsa(np.zeros((2, 2)), np.zeros((2, 2)))
    null = rsa(rng.normal(size=(40, 4)), rng.normal(size=(40, 4)), permutations=99, random_state=0)
    assert null.pvalue > 0.05


# ---------------------------------------------------------------- mutual k-NN
def test_mutual_knn_closed_forms():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(200, 5))
    assert mutual_knn(X, 7 * X @ _orthogonal(rng, 5), metric="euclidean") == 1.0
    # Cosine neighbourhoods ignore per-input scaling.
    assert mutual_knn(X, X * rng.uniform(0.1, 10, size=(200, 1))) == 1.0
    # Unrelated representations share k/(n-1) of the neighbours on average.
    values = [
        mutual_knn(rng.normal(size=(200, 5)), rng.normal(size=(200, 5)), n_neighbors=10)
        for _ in range(10)
    ]
    assert np.mean(values) == pytest.approx(10 / 199, abs=0.015)


def test_mutual_knn_uncertainty_and_errors():
    rng = np.random.RandomState(4)
    X = rng.normal(size=(150, 4))
    Y = X + 0.7 * rng.normal(size=(150, 4))
    est = mutual_knn(X, Y, ci=0.9, permutations=49, random_state=0)
    assert est.ci[0] < est.value < est.ci[1]
    assert est.pvalue == pytest.approx(0.02)
    # The relabelled null equals a fresh neighbour search on shuffled Y.
    perm = np.random.RandomState(5).permutation(150)
    from subspacekit.compare.neighbors import _overlaps, knn_indices

    Nx, Ny = knn_indices(X, 10, "cosine"), knn_indices(Y, 10, "cosine")
    inverse = np.empty(150, dtype=int)
    inverse[perm] = np.arange(150)
    fresh = _overlaps(Nx, knn_indices(Y[perm], 10, "cosine")).mean()
    assert _overlaps(Nx, inverse[Ny[perm]]).mean() == pytest.approx(fresh)
    with pytest.raises(ValidationError, match="n_neighbors"):
        mutual_knn(X, Y, n_neighbors=150)
    with pytest.raises(ValidationError, match="zero vectors"):
        mutual_knn(np.zeros((5, 2)), Y[:5], n_neighbors=2)


# ---------------------------------------------------------------- linear predictivity
def test_linear_predictivity_planted():
    rng = np.random.RandomState(6)
    X = rng.normal(size=(600, 6))
    noise = 0.5
    Y = X[:, :2] @ np.array([[1.0, 0.0], [0.0, 1.0]]) + noise * rng.normal(size=(600, 2))
    r = linear_predictivity(X, Y, random_state=0)
    # Population R^2 of Y from X: 1 / (1 + noise^2) = 0.8.
    assert r.x_to_y == pytest.approx(1 / (1 + noise**2), abs=0.04)
    # Of X from Y: 2 of 6 unit-variance columns explained at 1/(1+noise^2): 0.8 * 2/6.
    assert r.y_to_x == pytest.approx(0.8 * 2 / 6, abs=0.04)
    assert r.mean == pytest.approx((r.x_to_y + r.y_to_x) / 2)
    # Rescaling X changes nothing (relative ridge penalty).
    r2 = linear_predictivity(1000 * X, Y, random_state=0)
    assert r2.x_to_y == pytest.approx(r.x_to_y, abs=1e-9)


def test_linear_predictivity_uncertainty_duplicates_and_errors():
    rng = np.random.RandomState(7)
    X = rng.normal(size=(120, 3))
    Y = X @ rng.normal(size=(3, 2)) + rng.normal(size=(120, 2))
    est = linear_predictivity(X, Y, ci=0.9, n_resamples=30, permutations=19, random_state=0)
    assert est.x_to_y.ci[0] < est.x_to_y.value < est.x_to_y.ci[1]
    assert est.x_to_y.pvalue == pytest.approx(0.05)
    # A perfectly memorisable duplicate never leaks across folds: duplicating every row
    # of pure noise must not create predictivity.
    noise_x, noise_y = rng.normal(size=(60, 20)), rng.normal(size=(60, 2))
    dup = linear_predictivity(
        np.r_[noise_x, noise_x], np.r_[noise_y, noise_y], alpha=1e-6, random_state=0
    )
    assert dup.x_to_y < 0.05
    with pytest.raises(TooFewSamplesError):
        linear_predictivity(X[:6], Y[:6])
    with pytest.raises(ValidationError):
        linear_predictivity(X, Y, n_splits=1)


# ---------------------------------------------------------------- PCA principal angles
def test_pca_angles_use_core_principal_angles_and_are_rotation_invariant():
    rng = np.random.RandomState(8)
    X = rng.normal(size=(300, 6)) @ np.diag([6, 5, 4, 3, 0.2, 0.1])
    Y = X[:, :4] @ rng.normal(size=(4, 9)) + 0.5 * rng.normal(size=(300, 9))
    angles = pca_principal_angles(X, Y, 3)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Ux = np.linalg.svd(Xc, full_matrices=False)[0][:, :3]
    Uy = np.linalg.svd(Yc, full_matrices=False)[0][:, :3]
    np.testing.assert_allclose(angles, principal_angles(Ux, Uy), atol=1e-12)
    rotated = pca_principal_angles(X @ _orthogonal(rng, 6), 4 * Y @ _orthogonal(rng, 9), 3)
    np.testing.assert_allclose(rotated, angles, atol=1e-9)
    assert np.all(np.diff(angles) >= 0)


def test_pca_angles_feature_space_and_similarity():
    rng = np.random.RandomState(9)
    basis = _orthogonal(rng, 10)[:, :2]
    X = rng.normal(size=(500, 2)) * [5, 4] @ basis.T + 0.1 * rng.normal(size=(500, 10))
    Y = rng.normal(size=(400, 2)) * [3, 6] @ basis.T + 0.1 * rng.normal(size=(400, 10))
    # Different inputs, same feature directions: feature-space angles are small.
    assert np.max(pca_principal_angles(X[:400], Y, 2, space="features")) < 0.05
    with pytest.raises(DimensionMismatchError):
        pca_principal_angles(X, X[:, :5], 2, space="features")
    with pytest.raises(RankError):
        pca_principal_angles(X[:, :2], X[:, :2], 3)
    # Random k-dim subspaces of R^n have mean cos^2 about k/n.
    sims = [
        pca_subspace_similarity(rng.normal(size=(100, 5)), rng.normal(size=(100, 5)), 5)
        for _ in range(20)
    ]
    assert np.mean(sims) == pytest.approx(5 / 100, abs=0.015)
    est = pca_subspace_similarity(
        X,
        X + rng.normal(size=(500, 10)),
        2,
        ci=0.9,
        permutations=19,
        n_resamples=30,
        random_state=0,
    )
    assert est.ci[0] < est.value < est.ci[1] and est.pvalue == pytest.approx(0.05)
    with pytest.raises(ValidationError, match="samples"):
        pca_subspace_similarity(X, X, 2, space="features", permutations=5)
    with pytest.raises(NonFiniteError):
        pca_principal_angles(np.full((5, 2), np.nan), X[:5], 1)
