"""Two-view methods: CCA against analytic correlations, PLS-SVD, Procrustes, subspace alignment."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSSVD as SklearnPLSSVD

from subspacekit.core import principal_angles
from subspacekit.errors import RankError, ValidationError
from subspacekit.estimate import (
    CCA,
    PLSSVD,
    Procrustes,
    SubspaceAlignment,
    mean_reciprocal_rank,
    top_k_accuracy,
)

RHO = np.array([0.9, 0.7, 0.5])


def _planted_cca(n: int, seed: int, dx: int = 20, dy: int = 15):
    """Views whose canonical correlations are exactly RHO (then mixed by invertible maps)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 3))
    u = z * np.sqrt(RHO) + rng.standard_normal((n, 3)) * np.sqrt(1 - RHO)
    v = z * np.sqrt(RHO) + rng.standard_normal((n, 3)) * np.sqrt(1 - RHO)
    # corr(u_i, v_i) = RHO_i; every other pair of coordinates is independent.
    X = np.hstack([u, rng.standard_normal((n, dx - 3))]) @ rng.standard_normal((dx, dx)) + 3.0
    Y = np.hstack([v, rng.standard_normal((n, dy - 3))]) @ rng.standard_normal((dy, dy)) - 1.0
    return X, Y


def test_cca_recovers_analytic_canonical_correlations():
    X, Y = _planted_cca(5000, seed=0)
    cca = CCA(n_components=3).fit(X, Y)
    assert np.all(np.abs(cca.canonical_correlations_ - RHO) <= 0.02), cca.canonical_correlations_
    # Canonical variates: unit variance, uncorrelated within a view.
    zx, zy = cca.transform(X, Y)
    assert np.allclose(np.cov(zx, rowvar=False), np.eye(3), atol=1e-10)
    assert np.allclose(np.cov(zy, rowvar=False), np.eye(3), atol=1e-10)


def test_canonical_correlations_are_cosines_of_principal_angles():
    # Bjorck & Golub: canonical correlations = cosines of the principal angles between
    # the column spaces of the centred views (an independent computation).
    X, Y = _planted_cca(400, seed=1, dx=6, dy=5)
    cca = CCA(n_components=5).fit(X, Y)
    cosines = np.cos(principal_angles(X - X.mean(0), Y - Y.mean(0)))
    assert np.allclose(cca.canonical_correlations_, cosines, atol=1e-10)


def test_full_regularization_gives_the_pls_directions():
    X, Y = _planted_cca(500, seed=2, dx=8, dy=6)
    ridge = CCA(n_components=3, regularization=1.0).fit(X, Y)
    pls = PLSSVD(n_components=3).fit(X, Y)
    assert np.degrees(principal_angles(ridge.x_weights_, pls.x_weights_).max()) < 1e-6
    assert np.degrees(principal_angles(ridge.y_weights_, pls.y_weights_).max()) < 1e-6


def test_loadings_span_the_shared_signal():
    rng = np.random.default_rng(3)
    n, dx, dy = 3000, 30, 25
    s = rng.standard_normal((n, 4))
    A = 2.0 * np.linalg.qr(rng.standard_normal((dx, 4)))[0]
    # View-specific structure (g) and noise; the loadings' sampling error grows with their
    # variance over sqrt(n), so they are kept moderate here.
    X = (
        s @ A.T
        + 0.5 * rng.standard_normal((n, 10)) @ rng.standard_normal((10, dx))
        + rng.standard_normal((n, dx))
    )
    Y = s @ rng.standard_normal((4, dy)) + rng.standard_normal((n, dy))
    cca = CCA(n_components=4).fit(X, Y)
    assert np.degrees(principal_angles(cca.x_loadings_, A).max()) < 10
    # The weights are not span(A): they also cancel the view-specific directions.
    assert np.degrees(principal_angles(cca.x_weights_, A).max()) > 10


def test_constant_feature_is_dropped_by_the_rank_rule():
    # One home for the rank rule: a constant column carries no variance, so CCA on the
    # view with it gives the same correlations as on the view without it.
    X, Y = _planted_cca(200, seed=4, dx=6, dy=5)
    X[:, 2] = 7.0
    without = np.delete(X, 2, axis=1)
    expected = CCA(2).fit(without, Y).canonical_correlations_
    assert np.allclose(CCA(2).fit(X, Y).canonical_correlations_, expected, atol=1e-10)
    # Only five directions remain in X: a sixth pair cannot exist.
    with pytest.raises(RankError, match="n_components=6 exceeds"):
        CCA(6).fit(X, Y)
    assert CCA(2, regularization=0.1).fit(X, Y).canonical_correlations_.shape == (2,)
    with pytest.raises(ValidationError, match="same number of samples"):
        CCA(2).fit(X, Y[:-1])


@pytest.mark.parametrize("scale", [False, True])
def test_plssvd_matches_sklearn(scale):
    X, Y = _planted_cca(300, seed=5, dx=7, dy=4)
    ours = PLSSVD(n_components=3, scale=scale).fit(X, Y)
    ref = SklearnPLSSVD(n_components=3, scale=scale).fit(X, Y)
    assert np.allclose(np.abs(ours.x_weights_), np.abs(ref.x_weights_), atol=1e-10)
    assert np.allclose(np.abs(ours.y_weights_), np.abs(ref.y_weights_), atol=1e-10)
    zx, _ = ours.transform(X, Y)
    assert np.allclose(np.abs(zx), np.abs(ref.transform(X)), atol=1e-8)


def test_procrustes_recovers_rotation_scale_and_translation():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((100, 5))
    R = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    Y = 2.5 * X @ R + np.arange(5.0)
    proc = Procrustes(scale=True).fit(X, Y)
    assert np.allclose(proc.rotation_, R) and proc.scale_ == pytest.approx(2.5)
    assert np.allclose(proc.transform(X), Y) and proc.residual_ < 1e-12
    # Different dimensions: R has orthonormal columns.
    wide = Procrustes().fit(X, Y[:, :3])
    assert np.allclose(wide.rotation_.T @ wide.rotation_, np.eye(3))


def test_retrieval_metrics_on_known_rankings():
    S = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.1], [0.2, 0.3, 0.1]])
    # Target ranks: 1, 2, 3.
    assert top_k_accuracy(S, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(S, 2) == pytest.approx(2 / 3)
    assert mean_reciprocal_rank(S) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert top_k_accuracy(np.ones((4, 4)), 1) == 0.0  # ties count against the query


def test_subspace_alignment_beats_full_space_alignment_on_a_shared_latent():
    # Escaping Plato's Cave, synthetic check: X = A s + B g_x + noise, Y = C s + D g_y + noise,
    # with a 16-d shared s and strong modality-specific g.
    rng = np.random.default_rng(7)
    n, k, dx, dy, dg = 3000, 16, 96, 80, 24
    s = rng.standard_normal((n, k))
    A, C = rng.standard_normal((k, dx)), rng.standard_normal((k, dy))
    X = (
        s @ A
        + 4.0 * rng.standard_normal((n, dg)) @ rng.standard_normal((dg, dx))
        + rng.standard_normal((n, dx))
    )
    Y = (
        s @ C
        + 4.0 * rng.standard_normal((n, dg)) @ rng.standard_normal((dg, dy))
        + rng.standard_normal((n, dy))
    )
    anchors, test = slice(0, 1000), slice(1000, 3000)
    top1 = {
        dim: SubspaceAlignment(n_components=dim).fit(X[anchors], Y[anchors]).score(X[test], Y[test])
        for dim in (8, 16, 24)
    }
    full = SubspaceAlignment(None, subspace="none", mapping="affine").fit(X[anchors], Y[anchors])
    full_top1 = full.score(X[test], Y[test])
    assert top1[16] >= max(top1[8], top1[24]), top1  # peaks at the shared dimension
    assert top1[16] >= full_top1 + 0.20, (top1, full_top1)
    cca = SubspaceAlignment(n_components=k).fit(X[anchors], Y[anchors])
    metrics = cca.retrieval_metrics(X[test], Y[test])
    assert metrics["top5"] >= metrics["top1"] and 0 < metrics["mrr"] <= 1
    with pytest.raises(ValidationError, match="shared CCA space"):
        SubspaceAlignment(8, subspace="pca", mapping="none").fit(X[anchors], Y[anchors])
