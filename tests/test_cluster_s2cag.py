"""S2CAG / M-S2CAG: implicit operator = explicit matrix, SVD accuracy, planted graphs, errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from threadpoolctl import threadpool_limits

from subspacekit.cluster import (
    MS2CAG,
    PRESETS,
    S2CAG,
    attribute_normalization,
    clustering_accuracy,
    propagation_operator,
    randomized_left_singular_vectors,
    smoothed_representation,
    smoothed_representation_operator,
)
from subspacekit.core import principal_angles
from subspacekit.errors import DimensionMismatchError, NonFiniteError, ValidationError


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    # The shared 2-core test machine is oversubscribed: OpenBLAS threads then spin and
    # the many small LAPACK calls of these solvers ran up to 100x slower with 2 threads
    # (LRR: 131 s instead of 1.3 s). One BLAS thread changes only the speed.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def attributed_sbm(snr: float, seed: int, n_per: int = 60, k: int = 3) -> tuple:
    """Planted blocks with weak edges; word counts with block-specific topic words.

    Each block owns 20 of the 60 words; a node's counts are Poisson with rate
    0.2 + 0.5 * snr on its block's words and 0.2 elsewhere, so ``snr`` sets how
    informative the attributes are (0: not at all).
    """
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    n = y.size
    prob = np.where(y[:, None] == y[None, :], 0.08, 0.02)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    A = sp.csr_matrix((upper | upper.T).astype(float))
    topic = np.arange(20 * k) // 20
    rate = 0.2 + 0.5 * snr * (topic[None, :] == y[:, None])
    X = rng.poisson(rate).astype(float)
    return X, A, y


@pytest.fixture(scope="module")
def small_graph() -> tuple:
    return attributed_sbm(1.0, seed=0)


def test_propagation_operator_definition() -> None:
    A = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    A_loop = A.toarray() + np.eye(3)
    deg = A_loop.sum(axis=1)
    expected = A_loop / np.sqrt(np.outer(deg, deg)) + np.eye(3)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(propagation_operator(A).toarray(), expected)


def test_attribute_normalization_definition() -> None:
    rng = np.random.default_rng(0)
    counts = sp.csr_matrix(rng.poisson(0.5, size=(20, 15)).astype(float))
    Xt = TfidfTransformer(smooth_idf=True, norm="l2").fit_transform(counts).toarray()
    degree = Xt @ Xt.sum(axis=0)
    degree[degree == 0] = 1
    np.testing.assert_allclose(
        attribute_normalization(counts).toarray(), Xt / np.sqrt(degree)[:, None], atol=1e-12
    )


def test_smoothed_representation_is_the_stated_polynomial() -> None:
    rng = np.random.default_rng(1)
    P = rng.random((6, 6))
    P /= P.sum(axis=1, keepdims=True)
    X = rng.random((6, 4))
    T, alpha = 4, 1.3
    # c (alpha^T P^T + sum_{l<T} alpha^{l+1} P^l) X
    poly = alpha**T * np.linalg.matrix_power(P, T)
    poly += sum(alpha ** (l + 1) * np.linalg.matrix_power(P, l) for l in range(T))
    c = (1 - alpha) / (1 - alpha ** (T + 1))
    np.testing.assert_allclose(smoothed_representation(P, X, T, alpha), c * poly @ X)


def test_implicit_operator_equals_explicit_matrix(small_graph: tuple) -> None:
    X, A, _ = small_graph
    P = propagation_operator(A)
    Xhat = attribute_normalization(X)
    Z = smoothed_representation(P, Xhat, 7, 0.9)
    op = smoothed_representation_operator(P, Xhat, 7, 0.9)
    rng = np.random.default_rng(2)
    V = rng.standard_normal((Z.shape[1], 3))
    U = rng.standard_normal((Z.shape[0], 3))
    np.testing.assert_allclose(op @ V, Z @ V, atol=1e-12)
    np.testing.assert_allclose(op.T @ U, Z.T @ U, atol=1e-12)
    np.testing.assert_allclose(op.matvec(V[:, 0]), Z @ V[:, 0], atol=1e-12)


def test_implicit_svd_equals_explicit_svd_on_cora() -> None:
    from subspacekit.data import load

    cora = load("cora")
    P = propagation_operator(cora.adjacency)
    Xhat = attribute_normalization(cora.data)
    Z = smoothed_representation(P, Xhat, 10, 0.9)
    op = smoothed_representation_operator(P, Xhat, 10, 0.9)
    U_explicit, s_explicit = randomized_left_singular_vectors(Z, 8, n_iter=7, random_state=0)
    U_implicit, s_implicit = randomized_left_singular_vectors(op, 8, n_iter=7, random_state=0)
    assert principal_angles(U_explicit, U_implicit).max() < 1e-6
    np.testing.assert_allclose(s_explicit, s_implicit, rtol=1e-9)


def test_implicit_svd_equals_exact_svd(small_graph: tuple) -> None:
    X, A, _ = small_graph
    P = propagation_operator(A)
    Xhat = attribute_normalization(X)
    Z = smoothed_representation(P, Xhat, 6, 0.9)
    op = smoothed_representation_operator(P, Xhat, 6, 0.9)
    U_exact, s_exact, _ = np.linalg.svd(Z, full_matrices=False)
    U, s = randomized_left_singular_vectors(op, 4, n_iter=40, random_state=0)
    assert principal_angles(U, U_exact[:, :4]).max() < 1e-6
    np.testing.assert_allclose(s, s_exact[:4], rtol=1e-8)


def test_randomized_svd_matches_numpy_and_flips_signs() -> None:
    rng = np.random.default_rng(3)
    M = rng.standard_normal((80, 6)) @ np.diag([10, 8, 6, 4, 2, 1]) @ rng.standard_normal((6, 50))
    U, s = randomized_left_singular_vectors(M, 6, n_iter=4, random_state=1)
    U_ref, s_ref, _ = np.linalg.svd(M, full_matrices=False)
    np.testing.assert_allclose(s, s_ref[:6], rtol=1e-10)
    assert principal_angles(U, U_ref[:, :6]).max() < 1e-8
    pivots = np.argmax(np.abs(U), axis=0)
    assert np.all(U[pivots, np.arange(6)] > 0)


@pytest.mark.parametrize("cls", [S2CAG, MS2CAG])
def test_solvers_agree(cls: type, small_graph: tuple) -> None:
    X, A, _ = small_graph
    explicit = cls(3, solver="explicit").fit(X, adjacency=A)
    implicit = cls(3, solver="implicit").fit(X, adjacency=A)
    assert principal_angles(explicit.embedding_, implicit.embedding_).max() < 1e-6
    assert np.array_equal(explicit.labels_, implicit.labels_)


@pytest.mark.parametrize("cls", [S2CAG, MS2CAG])
def test_accuracy_rises_to_one_with_signal(cls: type) -> None:
    accs = []
    for snr in (0.0, 0.5, 1.0, 3.0):
        X, A, y = attributed_sbm(snr, seed=4)
        accs.append(clustering_accuracy(y, cls(3).fit_predict(X, adjacency=A)))
    assert accs[-1] == 1.0
    assert accs[0] < 0.9  # the graph alone is too weak to give the blocks
    assert accs[0] <= accs[1] <= accs[2] <= accs[3]


def test_presets_are_the_authors_settings() -> None:
    assert PRESETS["acm"]["MS2CAG"] == {"n_hops": 15, "alpha": 0.8, "n_iter": 50, "gamma": 1.0}
    assert PRESETS["wiki"]["S2CAG"] == {"n_hops": 6, "alpha": 1.7, "n_iter": 7}
    model = MS2CAG(6, preset="citeseer")
    assert model._setting("n_iter") == 100 and model._setting("gamma") == 0.9
    assert MS2CAG(6, preset="citeseer", n_iter=3)._setting("n_iter") == 3
    assert S2CAG(2)._setting("n_hops") == 10  # README default


def test_input_errors(small_graph: tuple) -> None:
    X, A, _ = small_graph
    with pytest.raises(ValidationError, match="adjacency=A"):
        MS2CAG(3).fit(X)
    with pytest.raises(DimensionMismatchError, match="180 nodes"):
        MS2CAG(3).fit(X[:10], adjacency=A)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError):
        S2CAG(3).fit(bad, adjacency=A)
    with pytest.raises(NonFiniteError):
        S2CAG(3).fit(sp.csr_matrix(bad), adjacency=A)
    with pytest.raises(ValidationError, match="preset"):
        S2CAG(3, preset="nope").fit(X, adjacency=A)
    with pytest.raises(ValidationError, match="n_clusters=500"):
        S2CAG(500).fit(X, adjacency=A)
