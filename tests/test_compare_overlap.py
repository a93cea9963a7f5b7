"""Subspace overlap (MSO), update subspaces and update projections."""

from __future__ import annotations

import numpy as np
import pytest

from subspacekit.compare import (
    energy_rank,
    expected_overlap,
    project_update,
    projection_energy,
    subspace_overlap,
    update_subspace,
)
from subspacekit.core import Subspace
from subspacekit.errors import DimensionMismatchError, RankError, ValidationError


def test_overlap_of_random_subspaces_matches_the_baseline():
    d, k = 60, 6
    values = [
        subspace_overlap(Subspace.random(d, k, s), Subspace.random(d, k, 1000 + s))
        for s in range(100)
    ]
    assert np.mean(values) == pytest.approx(k / d, rel=0.05)
    assert expected_overlap(k, k, d) == pytest.approx(k / d)
    raw = [
        subspace_overlap(Subspace.random(d, 4, s), Subspace.random(d, 9, 500 + s), normalized=False)
        for s in range(100)
    ]
    assert np.mean(raw) == pytest.approx(expected_overlap(4, 9, d, normalized=False), rel=0.05)


def test_overlap_closed_forms():
    Q = Subspace.random(20, 4, 0)
    assert subspace_overlap(Q, Q) == pytest.approx(1.0)
    assert subspace_overlap(Q, Q.complement()) == pytest.approx(0.0, abs=1e-12)
    # Overlap equals the mean squared cosine of the principal angles.
    R = Subspace.random(20, 3, 1)
    assert subspace_overlap(Q, R) == pytest.approx(np.mean(np.cos(Q.angles(R)) ** 2))
    # A non-orthonormal spanning matrix gives the same value.
    assert subspace_overlap(
        Q.basis @ np.array([[2.0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, 1]]), R
    ) == pytest.approx(subspace_overlap(Q, R))
    est = subspace_overlap(Q, R, permutations=50, random_state=0)
    assert est.details["expected"] == pytest.approx(4 / 20)
    assert 0.0 < est.pvalue <= 1.0
    assert np.mean(est.details["null_distribution"]) == pytest.approx(4 / 20, abs=0.05)
    with pytest.raises(DimensionMismatchError):
        subspace_overlap(Q, Subspace.random(21, 3, 0))


def test_update_subspace_recovers_a_planted_low_rank_update():
    rng = np.random.RandomState(0)
    W0 = rng.normal(size=(30, 20))
    U_true = np.linalg.qr(rng.normal(size=(30, 3)))[0]
    delta = U_true @ np.diag([10.0, 5.0, 2.0]) @ rng.normal(size=(3, 20)) / np.sqrt(20)
    W1 = W0 + delta + 1e-6 * rng.normal(size=(30, 20))
    S = update_subspace(W0, W1, energy=0.999)
    assert S.dim == 3
    assert np.max(S.angles(Subspace.from_basis(U_true))) < 1e-5
    assert S.meta["energy"] >= 0.999
    assert update_subspace(W0, W1, 2).dim == 2
    with pytest.raises(ValidationError, match="exactly one"):
        update_subspace(W0, W1)
    with pytest.raises(RankError, match="zero"):
        update_subspace(W0, W0, 1)
    with pytest.raises(DimensionMismatchError):
        update_subspace(W0, W1[:, :5], 1)


def test_energy_rank_and_projection_identities():
    rng = np.random.RandomState(1)
    V = rng.normal(size=(25, 15))  # "alignment" update
    U = rng.normal(size=(25, 15))  # fine-tuning update
    assert energy_rank(np.diag([3.0, 2.0, 1.0]), 9 / 14) == 1
    assert energy_rank(np.diag([3.0, 2.0, 1.0]), 9 / 14 + 1e-6) == 2
    energies = []
    for frac in (0.01, 0.25, 0.5, 0.75, 0.99):
        k = max(1, round(frac * 15))
        L = update_subspace(np.zeros_like(V), V, k)
        par, orth = project_update(U, L, mode="same"), project_update(U, L, mode="orth")
        np.testing.assert_allclose(par + orth, U, atol=1e-12)
        np.testing.assert_allclose(project_update(U, L, mode="opp"), -par)
        assert np.sum(par * orth) == pytest.approx(0.0, abs=1e-9)
        energies.append(projection_energy(U, L))
    assert np.all(np.diff(energies) > 0)  # energy kept is monotone in frac
    # frac -> 1: the full column space of a full-rank update keeps U entirely.
    full = update_subspace(np.zeros((15, 15)), rng.normal(size=(15, 15)), 15)
    np.testing.assert_allclose(project_update(U[:15], full), U[:15], atol=1e-10)
    # 1-D updates (biases) are projected as columns.
    assert project_update(np.array([3.0, 4.0]), np.array([[1.0], [0.0]])).tolist() == [3.0, 0.0]
