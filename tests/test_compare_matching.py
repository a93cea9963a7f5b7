"""Neuron matching: correlation, Hungarian / semi matching, sparse prediction, clustering."""

from __future__ import annotations

import numpy as np
import pytest

from subspacekit.compare import (
    cka,
    cluster_units,
    match_units,
    matched_correlation,
    sparse_prediction,
    svcca,
    unit_correlation,
)
from subspacekit.errors import DimensionMismatchError, ValidationError


def _permuted_pair(seed: int, n: int = 800, d: int = 12, noise: float = 0.3):
    rng = np.random.RandomState(seed)
    X = rng.gamma(2.0, size=(n, d)) @ (np.eye(d) + 0.2 * rng.normal(size=(d, d)))
    perm = rng.permutation(d)
    Y = 3.0 * X[:, perm] + 1.0 + noise * rng.normal(size=(n, d))
    return X, Y, perm


def test_unit_correlation_equals_numpy_corrcoef():
    X, Y, _ = _permuted_pair(0, d=5)
    expected = np.corrcoef(X.T, Y.T)[:5, 5:]
    np.testing.assert_allclose(unit_correlation(X, Y), expected, atol=1e-12)


def test_planted_permutation_is_recovered_and_semi_dominates():
    X, Y, perm = _permuted_pair(1)
    m = match_units(X, Y)
    # Unit i of X is unit j of Y where perm[j] = i.
    inverse = np.argsort(perm)
    np.testing.assert_array_equal(m.units_y, inverse[m.units_x])
    semi = match_units(X, Y, method="semi")
    assert semi.mean >= m.mean
    s = m.summary()
    assert s["n_pairs"] == 12 and s["min"] <= s["median"] <= s["max"]


def test_rotation_keeps_subspace_similarity_and_breaks_unit_matching():
    # Sparse, nearly independent units: a rotation makes every unit a dense mixture.
    rng = np.random.RandomState(2)
    X = np.maximum(rng.normal(size=(2000, 20)), 0)
    Y = X + 0.1 * rng.normal(size=(2000, 20))
    R = np.linalg.qr(rng.normal(size=(20, 20)))[0]
    before, after = matched_correlation(X, Y), matched_correlation(X, Y @ R)
    assert before > 0.95 and after < 0.5
    assert cka(X, Y @ R) == pytest.approx(cka(X, Y), abs=1e-12)
    assert svcca(X, Y @ R) == pytest.approx(svcca(X, Y), abs=1e-10)


def test_dead_units_get_zero_correlation_and_are_counted():
    X, Y, _ = _permuted_pair(3, d=4)
    Xd = np.c_[X, np.zeros(len(X))]
    m = match_units(Xd, Y)
    assert m.n_constant_x == 1 and m.n_constant_y == 0
    assert np.all(unit_correlation(Xd, Y)[4] == 0.0)


def test_matched_correlation_uncertainty_and_errors():
    X, Y, _ = _permuted_pair(4, n=300, d=6, noise=3.0)
    est = matched_correlation(X, Y, ci=0.9, permutations=19, n_resamples=40, random_state=0)
    assert est.ci[0] < est.value < est.ci[1]
    assert est.pvalue == pytest.approx(0.05)
    with pytest.raises(ValidationError, match="method"):
        match_units(X, Y, method="greedy")
    with pytest.raises(DimensionMismatchError):
        match_units(X, Y[:-1])


def test_sparse_prediction_separates_local_and_distributed_codes():
    rng = np.random.RandomState(5)
    X = rng.normal(size=(1500, 15))
    local = X[:, [3]] + 0.05 * rng.normal(size=(1500, 1))
    distributed = X[:, 4:8].sum(axis=1, keepdims=True) + 0.05 * rng.normal(size=(1500, 1))
    sp_local = sparse_prediction(X, local, max_nonzero=6, random_state=0)
    sp_dist = sparse_prediction(X, distributed, max_nonzero=6, random_state=0)
    assert sp_local.loss_by_n_nonzero[0] < 0.01  # one weight suffices
    # Distributed over 4 units: with k of them, the loss is about (4 - k)/4.
    np.testing.assert_allclose(sp_dist.loss_by_n_nonzero[:4], [0.75, 0.5, 0.25, 0.0], atol=0.05)
    assert np.all(np.diff(sp_dist.loss_by_n_nonzero) <= 1e-12)
    # The Lasso's own fits are shrunk: worse than the refits while the support is partial.
    assert np.all(sp_dist.lasso_loss_by_n_nonzero[:3] > sp_dist.loss_by_n_nonzero[:3] + 0.1)


def test_cluster_units_finds_shared_groups():
    rng = np.random.RandomState(6)
    Z = rng.normal(size=(1000, 3))
    X = np.repeat(Z, 3, axis=1) + 0.3 * rng.normal(size=(1000, 9))  # 3 units per factor
    Y = np.repeat(Z[:, ::-1], 2, axis=1) + 0.3 * rng.normal(size=(1000, 6))
    cl = cluster_units(X, Y, 3, random_state=0)
    assert sorted(cl.counts.tolist()) == [[3, 2], [3, 2], [3, 2]]
    assert cl.shared_fraction == 1.0
    for c in range(3):
        x_units = np.flatnonzero(cl.labels_x == c)
        y_units = np.flatnonzero(cl.labels_y == c)
        factor = x_units[0] // 3
        assert np.all(x_units // 3 == factor) and np.all(2 - y_units // 2 == factor)
    with pytest.raises(ValidationError, match="n_clusters"):
        cluster_units(X, Y, 1)
