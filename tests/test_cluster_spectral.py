"""Shared spectral back end: embedding, rounding, affinities, warnings and errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from subspacekit.cluster import spectral
from subspacekit.cluster.metrics import clustering_accuracy
from subspacekit.cluster.spectral import (
    DisconnectedAffinityWarning,
    affinity_from_representation,
    check_affinity,
    normalized_spectral_embedding,
    snem_round,
    spectral_clustering,
)
from subspacekit.core import principal_angles
from subspacekit.errors import NonFiniteError, ShapeError, TooFewSamplesError, ValidationError


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    # The shared 2-core test machine is oversubscribed: OpenBLAS threads then spin and
    # the many small LAPACK calls of these solvers ran up to 100x slower with 2 threads
    # (LRR: 131 s instead of 1.3 s). One BLAS thread changes only the speed.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _planted_graph(n_blocks: int, size: int, p_in: float, p_out: float, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_blocks), size)
    prob = np.where(y[:, None] == y[None, :], p_in, p_out)
    upper = np.triu(rng.random(prob.shape) < prob, 1)
    W = (upper | upper.T).astype(float)
    return W, y


def test_disconnected_blocks_give_eigenvalue_one_with_multiplicity() -> None:
    W = np.kron(np.eye(3), np.ones((4, 4)))
    V, vals = normalized_spectral_embedding(W, 4)
    # three components: eigenvalue 1 three times, and 0 next (complete blocks)
    np.testing.assert_allclose(vals[:3], 1.0, atol=1e-12)
    assert vals[3] < 1e-12
    # the top-3 eigenvectors span the block indicators
    indicators = np.kron(np.eye(3), np.ones((4, 1)))
    assert principal_angles(V[:, :3], indicators).max() < 1e-8


@pytest.mark.parametrize("assign_labels", ["kmeans", "snem"])
def test_planted_partition_recovered(assign_labels: str) -> None:
    W, y = _planted_graph(4, 40, 0.5, 0.02, seed=0)
    labels = spectral_clustering(W, 4, assign_labels=assign_labels, random_state=0)
    assert clustering_accuracy(y, labels) == 1.0


def test_sparse_iterative_path_matches_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    W, _ = _planted_graph(3, 100, 0.2, 0.01, seed=1)
    dense_V, dense_vals = normalized_spectral_embedding(W, 3)
    monkeypatch.setattr(spectral, "_DENSE_EIGEN_MAX_N", 10)
    sparse_V, sparse_vals = normalized_spectral_embedding(sp.csr_matrix(W), 3, random_state=0)
    np.testing.assert_allclose(sparse_vals, dense_vals, atol=1e-9)
    assert principal_angles(dense_V, sparse_V).max() < 1e-6


def test_same_seed_same_labels() -> None:
    W, _ = _planted_graph(5, 30, 0.3, 0.05, seed=2)
    a = spectral_clustering(W, 5, random_state=3)
    b = spectral_clustering(W, 5, random_state=3)
    assert np.array_equal(a, b)


def test_snem_returns_a_fixed_point() -> None:
    rng = np.random.default_rng(0)
    V = np.linalg.qr(rng.standard_normal((60, 3)))[0]
    labels = snem_round(V, n_iter=1000)
    sizes = np.bincount(labels, minlength=3).astype(float)
    sizes[sizes == 0] = 1
    H = np.zeros((60, 3))
    H[np.arange(60), labels] = 1 / np.sqrt(sizes[labels])
    assert np.array_equal(np.argmax(V @ (V.T @ H), axis=1), labels)


def test_snem_recovers_separated_embedding() -> None:
    y = np.repeat([0, 1, 2], 10)
    V = np.eye(3)[y] / np.sqrt(10) + 0.01 * np.random.default_rng(1).standard_normal((30, 3))
    assert clustering_accuracy(y, snem_round(V)) == 1.0


def test_disconnected_affinity_warns_and_names_the_isolated_sample() -> None:
    W = np.kron(np.eye(2), np.ones((5, 5)))
    W = np.pad(W, ((0, 1), (0, 1)))  # sample 10 is isolated
    with pytest.warns(DisconnectedAffinityWarning, match=r"3 connected components.*samples 10"):
        spectral_clustering(W, 2, random_state=0)


def test_affinity_checks() -> None:
    with pytest.raises(ValidationError, match="non-negative"):
        check_affinity(-np.eye(2))
    with pytest.raises(ValidationError, match="symmetric"):
        check_affinity(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ShapeError, match="square"):
        check_affinity(np.ones((2, 3)))
    with pytest.raises(NonFiniteError):
        check_affinity(sp.csr_matrix(np.array([[0.0, np.nan], [np.nan, 0.0]])))
    with pytest.raises(TooFewSamplesError, match="n_clusters=3"):
        spectral_clustering(np.ones((2, 2)), 3)


def test_affinity_from_representation_kinds() -> None:
    C = np.array([[0.0, 2.0, -1.0], [0.5, 0.0, 0.0], [0.0, 4.0, 0.0]])
    np.testing.assert_allclose(affinity_from_representation(C), np.abs(C) + np.abs(C).T)
    scaled = np.abs(C) / np.abs(C).max(axis=1, keepdims=True)
    np.testing.assert_allclose(
        affinity_from_representation(sp.csr_matrix(C), "max_normalized").toarray(),
        scaled + scaled.T,
    )
    G = affinity_from_representation(C, "nearest_neighbors", n_neighbors=1).toarray()
    assert np.allclose(G, G.T) and np.all(np.diag(G) == 0)
    assert np.all((G > 0).sum(axis=1) >= 1)
