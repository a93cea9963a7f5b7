"""Coding rate, rate reduction, MMCR loss, von Neumann entropy and effective rank."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.errors import DimensionMismatchError, ValidationError
from subspacekit.measure.coding_rate import (
    coding_rate,
    coding_rate_by_group,
    mmcr_loss,
    rate_reduction,
)
from subspacekit.measure.matrix_entropy import effective_rank, von_neumann_entropy


def _orthonormal(rows: int, cols: int, seed: int) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((rows, cols)))[0]


def test_coding_rate_closed_form() -> None:
    # Z^T Z = s^2 I_k on a k-dim subspace of R^d: R = (k/2) log(1 + d s^2 / (n eps^2)).
    n, d, k, s, eps = 40, 10, 3, 2.0, 0.5
    Z = np.zeros((n, d))
    Z[:k, :k] = s * np.eye(k)
    Z = Z @ _orthonormal(d, d, 0)
    expected = 0.5 * k * math.log(1 + d * s**2 / (n * eps**2))
    assert coding_rate(Z, eps) == pytest.approx(expected, rel=1e-12)
    # Wide data (n < d) uses the n x n Gram matrix: same value.
    assert coding_rate(Z[:k], eps) == pytest.approx(
        0.5 * k * math.log(1 + d * s**2 / (k * eps**2)), rel=1e-12
    )


def test_group_rate_membership_forms() -> None:
    rng = np.random.default_rng(0)
    n, d, eps = 30, 5, 0.7
    Z = rng.standard_normal((n, d))
    labels = rng.integers(0, 3, n)
    one_hot = np.eye(3)[labels]
    assert coding_rate_by_group(Z, labels, eps) == pytest.approx(
        coding_rate_by_group(Z, one_hot, eps), rel=1e-12
    )
    # MLC's Gamma = 11^T / n (each column a copy of the uniform membership): R_c = R.
    uniform = np.full((n, n), 1.0 / n)
    assert coding_rate_by_group(Z, uniform, eps) == pytest.approx(coding_rate(Z, eps), rel=1e-10)
    # Gamma = I: every point coded alone, R_c = (1/2n) sum log(1 + d ||z||^2 / eps^2).
    alone = np.sum(np.log1p(d * np.sum(Z**2, axis=1) / eps**2)) / (2 * n)
    assert coding_rate_by_group(Z, np.eye(n), eps) == pytest.approx(alone, rel=1e-12)


def test_rate_reduction_prefers_orthogonal_groups() -> None:
    rng = np.random.default_rng(1)
    basis = _orthonormal(12, 4, 2)
    labels = np.repeat([0, 1], 200)
    same = rng.standard_normal((400, 2)) @ basis[:, :2].T
    orthogonal = np.where(
        labels[:, None] == 0,
        rng.standard_normal((400, 2)) @ basis[:, :2].T,
        rng.standard_normal((400, 2)) @ basis[:, 2:].T,
    )
    dr_same = rate_reduction(same, labels)
    dr_orth = rate_reduction(orthogonal, labels)
    assert dr_orth > dr_same + 0.5
    assert rate_reduction(same, np.zeros(400, dtype=int)) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), groups=st.integers(1, 5))
def test_rate_reduction_non_negative_for_labels(seed: int, groups: int) -> None:
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((int(rng.integers(5, 60)), int(rng.integers(1, 8))))
    labels = rng.integers(0, groups, Z.shape[0])
    assert rate_reduction(Z, labels, eps=float(rng.uniform(0.1, 2))) >= -1e-10


def test_mmcr_loss_extremes() -> None:
    B, k, D = 5, 3, 8
    centroids = _orthonormal(D, B, 0).T  # B orthonormal rows
    views = np.repeat(centroids[:, None, :], k, axis=1)
    assert mmcr_loss(views) == pytest.approx(-B, abs=1e-12)
    assert mmcr_loss(np.ones((B, k, D))) == pytest.approx(-math.sqrt(B), abs=1e-12)
    # lambda > 0 adds lam * mean_b ||Z_b||_*: for identical views ||Z_b||_* = sqrt(k).
    assert mmcr_loss(views, lam=0.5) == pytest.approx(-B + 0.5 * math.sqrt(k), abs=1e-12)
    # Spreading views within an object shrinks its centroid and raises the loss.
    rng = np.random.default_rng(0)
    spread = views + 0.5 * rng.standard_normal(views.shape)
    assert mmcr_loss(spread) > mmcr_loss(views)


def test_von_neumann_entropy_properties() -> None:
    assert von_neumann_entropy(np.eye(7)) == pytest.approx(math.log(7))
    P = _orthonormal(9, 3, 1)
    assert von_neumann_entropy(5.0 * P @ P.T, base=2) == pytest.approx(math.log2(3), abs=1e-9)
    rng = np.random.default_rng(2)
    A = rng.standard_normal((50, 6))
    C = A.T @ A
    assert von_neumann_entropy(C) == pytest.approx(von_neumann_entropy(3.0 * C))
    assert 0 <= von_neumann_entropy(C) <= math.log(6)
    with pytest.raises(ValidationError, match="symmetric"):
        von_neumann_entropy(np.triu(np.ones((3, 3))))
    with pytest.raises(ValidationError, match="positive semi-definite"):
        von_neumann_entropy(np.diag([1.0, -0.5]))


def test_effective_rank_properties() -> None:
    assert effective_rank(3.0 * np.eye(4)) == pytest.approx(4.0)
    assert effective_rank(np.outer([1.0, 2.0, 3.0], [1.0, -1.0])) == pytest.approx(1.0)
    # Singular values (2, 1): p = (2/3, 1/3).
    expected = math.exp(-(2 / 3) * math.log(2 / 3) - (1 / 3) * math.log(1 / 3))
    assert effective_rank(np.diag([2.0, 1.0, 0.0])) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 5)) @ rng.standard_normal((5, 9))
    assert 1.0 <= effective_rank(A) <= 5.0 + 1e-9
    with pytest.raises(ValidationError, match="zero matrix"):
        effective_rank(np.zeros((3, 3)))


def test_errors() -> None:
    Z = np.ones((5, 2))
    with pytest.raises(DimensionMismatchError):
        rate_reduction(Z, np.zeros(4, dtype=int))
    with pytest.raises(ValidationError, match="eps"):
        coding_rate(Z, eps=0.0)
    with pytest.raises(ValidationError, match="non-negative"):
        coding_rate_by_group(Z, -np.ones((5, 2)))
    with pytest.raises(ValidationError, match="zero vector"):
        mmcr_loss(np.zeros((2, 2, 3)))
