"""Canonical correlations, CCA similarity, SVCCA and PWCCA."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.compare import canonical_correlations, cca_similarity, pwcca, svcca
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    RankError,
    UntrustworthyEstimateWarning,
)


def _planted(seed: int, n: int = 4000, rhos=(0.9, 0.6, 0.3)):
    """X, Y whose population canonical correlations are ``rhos`` (then zeros)."""
    rng = np.random.RandomState(seed)
    k = len(rhos)
    Z = rng.normal(size=(n, k))
    rhos = np.asarray(rhos)
    # x_i = z_i + a e_i, y_i = z_i + a f_i gives corr = 1 / (1 + a^2) per pair.
    a = np.sqrt(1.0 / rhos - 1.0)
    X = np.c_[Z + a * rng.normal(size=(n, k)), rng.normal(size=(n, 2))]
    Y = np.c_[Z + a * rng.normal(size=(n, k)), rng.normal(size=(n, 1))]
    # Mix the units so no single unit carries one correlation.
    return X @ rng.normal(size=(k + 2, k + 2)), Y @ rng.normal(size=(k + 1, k + 1))


def test_planted_canonical_correlations_are_recovered():
    X, Y = _planted(0)
    rho = canonical_correlations(X, Y)
    assert rho.shape == (4,)
    # Sampling error of a canonical correlation ~ (1 - rho^2)/sqrt(n) plus O(d/n) bias.
    assert rho[:3] == pytest.approx([0.9, 0.6, 0.3], abs=0.03)
    assert rho[3] < 0.06
    assert np.all(np.diff(rho) <= 0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_cca_and_full_rank_svcca_are_invariant_to_invertible_maps(seed):
    X, Y = _planted(seed, n=300)
    rng = np.random.RandomState(seed + 1)
    A = rng.normal(size=(5, 5)) + 3 * np.eye(5)
    B = rng.normal(size=(4, 4)) + 3 * np.eye(4)
    moved_x, moved_y = X @ A + rng.normal(size=5), Y @ B - 2.0
    assert cca_similarity(moved_x, moved_y) == pytest.approx(cca_similarity(X, Y), abs=1e-9)
    assert cca_similarity(moved_x, moved_y, statistic="mean_squared") == pytest.approx(
        cca_similarity(X, Y, statistic="mean_squared"), abs=1e-9
    )
    assert svcca(moved_x, moved_y, variance_threshold=1.0) == pytest.approx(
        svcca(X, Y, variance_threshold=1.0), abs=1e-9
    )
    np.testing.assert_allclose(
        canonical_correlations(moved_x, moved_y), canonical_correlations(X, Y), atol=1e-9
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 10.0))
def test_truncated_svcca_is_invariant_to_orthogonal_maps_and_scaling(seed, scale):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(200, 8)) @ np.diag([9, 7, 5, 3, 1, 0.1, 0.05, 0.01])
    Y = X[:, :4] @ rng.normal(size=(4, 6)) + rng.normal(size=(200, 6))
    Q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    assert svcca(scale * X @ Q, Y) == pytest.approx(svcca(X, Y), abs=1e-9)
    assert pwcca(scale * X @ Q[:, np.r_[1:8, 0]], Y) == pytest.approx(
        pwcca(scale * X @ Q, Y), abs=1e-9
    )  # permuting units leaves PWCCA unchanged


def test_svcca_truncation_drops_noise_directions():
    rng = np.random.RandomState(1)
    Z = rng.normal(size=(2000, 3))
    X = np.c_[10 * Z, 0.01 * rng.normal(size=(2000, 20))]  # 3 signal + 20 tiny noise dims
    Y = np.c_[5 * Z @ rng.normal(size=(3, 3)), 0.01 * rng.normal(size=(2000, 10))]
    assert svcca(X, Y) == pytest.approx(1.0, abs=1e-6)  # 99 % of variance: only signal
    # Full CCA: 3 correlations of 1 and 10 noise pairs (small, biased up by d/n).
    assert 3 / 13 < svcca(X, Y, variance_threshold=1.0) < 0.35
    assert svcca(X, Y, n_components=(3, 3)) == pytest.approx(1.0, abs=1e-6)


def test_pwcca_weights_follow_the_variance_carried():
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(3000, 1))
    e = rng.normal(size=(3000, 1))
    shared_big = np.c_[10 * Z, 0.1 * e]  # same column space, different unit variances
    shared_small = np.c_[0.1 * Z, 10 * e]
    Y = np.c_[Z, rng.normal(size=(3000, 1))]
    # Same canonical correlations (one ~1, one ~0), different weights.
    np.testing.assert_allclose(
        canonical_correlations(shared_big, Y), canonical_correlations(shared_small, Y), atol=1e-9
    )
    assert pwcca(shared_big, Y) > 0.95
    assert pwcca(shared_small, Y) < 0.1


def test_uncertainty_and_errors():
    X, Y = _planted(2, n=300)
    est = svcca(X, Y, ci=0.9, permutations=49, n_resamples=60, random_state=0)
    assert est.ci[0] < est.value < est.ci[1]
    assert est.pvalue == pytest.approx(0.02)
    est = pwcca(X, Y, ci=0.9, n_resamples=40, random_state=0)
    assert est.ci[0] <= est.value <= est.ci[1]
    with pytest.raises(DimensionMismatchError):
        svcca(X, Y[:-1])
    with pytest.raises(NonFiniteError):
        cca_similarity(np.full((5, 2), np.inf), np.zeros((5, 2)))
    with pytest.raises(RankError, match="zero variance"):
        svcca(np.ones((10, 3)), Y[:10])
    with pytest.raises(RankError, match="exceeds"):
        svcca(X, Y, n_components=10)
    with pytest.warns(UntrustworthyEstimateWarning, match="trivially 1"):
        value = canonical_correlations(
            np.random.RandomState(0).normal(size=(6, 4)),
            np.random.RandomState(1).normal(size=(6, 4)),
        )
    assert value[0] == pytest.approx(1.0)


def test_dead_units_are_rank_deficiency_not_errors():
    X, Y = _planted(3, n=500)
    X_dead = np.c_[X, np.zeros((500, 3)), X[:, :1]]  # dead and duplicated units
    assert cca_similarity(X_dead, Y) == pytest.approx(cca_similarity(X, Y), abs=1e-9)
