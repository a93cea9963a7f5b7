"""Probes: closed forms, scikit-learn agreement, planted directions, planted syntax trees."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from subspacekit.core import principal_angles
from subspacekit.errors import RankError, UntrustworthyEstimateWarning, ValidationError
from subspacekit.estimate import (
    INLP,
    LDA,
    DiffMeans,
    LinearProbe,
    RankKProbe,
    StructuralProbe,
    tree_depths,
    tree_distances,
    undirected_attachment_score,
)


def _degrees(A, B) -> float:
    return float(np.degrees(principal_angles(A, B).max()))


def _two_classes(n=3000, d=20, shift=2.0, seed=0):
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((d, 1)))[0][:, 0]
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, d)) + np.outer(y * shift, u)
    return X, y, u


# ------------------------------------------------------------------ DiffMeans / LDA
def test_diffmeans_direction_is_the_mean_difference():
    X, y, u = _two_classes()
    probe = DiffMeans(random_state=0).fit(X, y)
    assert np.allclose(probe.direction_, X[y == 1].mean(0) - X[y == 0].mean(0))
    assert _degrees(probe.subspace_, u[:, None]) < 10
    assert probe.validation_score_ > 0.8
    multi = DiffMeans(random_state=0).fit(X, y + (X[:, 0] > 1))  # three classes
    assert multi.subspace_.dim == 2


@pytest.mark.parametrize("shrinkage", [None, 0.3])
def test_lda_matches_sklearn(shrinkage):
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 80)
    X = rng.standard_normal((240, 6)) @ rng.standard_normal((6, 6)) + np.eye(3, 6)[y] * 2.5
    ours = LDA(shrinkage=shrinkage, validation_fraction=0).fit(X, y)
    ref = LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage).fit(X, y)
    assert np.array_equal(ours.predict(X), ref.predict(X))
    assert np.allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-8, atol=1e-8)
    if shrinkage is None:
        # (With shrinkage scikit-learn also shrinks the total scatter, which changes its
        # between-class matrix; ours keeps the textbook S_b, so only the rule is shared.)
        assert _degrees(ours.scalings_, ref.scalings_[:, :2]) < 1e-6
    assert ours.subspace_.dim == 2


def test_lda_refuses_constant_features_without_shrinkage():
    X, y, _ = _two_classes(n=200, d=6)
    X[:, 4] = 3.0
    with pytest.raises(RankError, match="1 constant feature"):
        LDA().fit(X, y)
    assert LDA(shrinkage="auto", random_state=0).fit(X, y).validation_score_ > 0.7


# ------------------------------------------------------------------ LinearProbe / INLP
def test_linear_probes_find_the_planted_direction():
    X, y, u = _two_classes(shift=3.0)
    logistic = LinearProbe(random_state=0).fit(X, y)
    assert _degrees(logistic.subspace_, u[:, None]) < 10 and logistic.validation_score_ > 0.85
    target = X @ u * 2.0 + 0.1 * np.random.default_rng(2).standard_normal(len(X))
    ridge = LinearProbe("ridge", regularization=1e-6, random_state=0).fit(X, target)
    assert _degrees(ridge.subspace_, u[:, None]) < 1 and ridge.validation_score_ > 0.99


def test_inlp_removes_a_redundantly_encoded_concept():
    rng = np.random.default_rng(3)
    n, d = 1500, 30
    U = np.linalg.qr(rng.standard_normal((d, 3)))[0]
    y = rng.integers(0, 2, n)
    # The label is written along three directions, so removing one is not enough.
    X = rng.standard_normal((n, d)) + np.outer(2 * y - 1, U @ [1.2, 1.0, 0.8])
    inlp = INLP(n_components=10, random_state=0).fit(X, y)
    assert inlp.validation_score_ > 0.9  # Bayes accuracy: Phi(|U @ [1.2, 1, .8]|) = 0.96
    assert inlp.residual_accuracy_ < inlp.majority_rate_ + 0.06
    # The removed subspace contains the planted concept directions.
    assert _degrees(U @ np.array([[1.2], [1.0], [0.8]]), inlp.subspace_) < 15
    assert np.allclose(inlp.transform(X) @ inlp.subspace_.basis, 0.0, atol=1e-8)


def test_inlp_removes_nothing_from_labels_it_cannot_decode_and_says_so():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((400, 5)), rng.integers(0, 2, 400)
    with pytest.warns(UntrustworthyEstimateWarning, match="majority"):
        inlp = INLP(3, random_state=0).fit(X, y)
    assert inlp.subspace_.dim == 0
    assert np.array_equal(inlp.transform(X), X)


# ------------------------------------------------------------------ RankKProbe
def _knowledge_conditions(seed=5, d=384, per_condition=300):
    """Rank-2 knowledge split: h = a u_PK + b u_CK + noise with known (a, b) per condition."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((d, 2)))[0]
    ab = np.repeat(
        np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]]), per_condition, axis=0
    )
    H = ab @ U.T * 3.0 + rng.standard_normal((len(ab), d)) * 0.1
    return H, ab, U


def test_rank2_probe_recovers_the_knowledge_subspace():
    H, ab, U = _knowledge_conditions()
    # A strong ridge keeps the 382 noise directions (d / n = 0.32) out of the read-out.
    probe = RankKProbe(2, alpha=10.0, random_state=0).fit(H, ab)
    assert _degrees(probe.subspace_, U) < 5
    assert probe.validation_score_ > 0.95
    # Class labels: one-hot targets; three conditions whose means are affinely independent
    # in the plane are separated by the rank-2 read-out.
    labels = np.repeat(["pk", "ck", "supportive", "conflicting"], 300)
    keep = labels != "supportive"
    classifier = RankKProbe(2, alpha=10.0, random_state=0).fit(H[keep], labels[keep])
    assert classifier.validation_score_ > 0.95
    assert _degrees(classifier.subspace_, U) < 10
    with pytest.raises(RankError, match="rank"):
        RankKProbe(3).fit(H, ab)


# ------------------------------------------------------------------ StructuralProbe
def _planted_trees(n_sentences, U, rng):
    """Word vectors whose projection on span(U) is an exact squared-distance tree embedding."""
    d, m = U.shape
    sentences, distances, depths = [], [], []
    for _ in range(n_sentences):
        length = int(rng.integers(5, 10))
        parents = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, length)])
        # Node i -> indicator of the edges on its path to the root: squared Euclidean
        # distances between these vectors are tree distances (Hewitt & Manning's observation).
        paths = np.zeros((length, length - 1))
        for i in range(1, length):
            j = i
            while parents[j] >= 0:
                paths[i, j - 1] = 1.0
                j = parents[j]
        edges = np.linalg.qr(rng.standard_normal((m, length - 1)))[0]  # orthonormal edge vectors
        nuisance = 2.0 * rng.standard_normal((length, d)) @ (np.eye(d) - U @ U.T)
        sentences.append(paths @ edges.T @ U.T + nuisance + 0.05 * rng.standard_normal((length, d)))
        distances.append(tree_distances(parents))
        depths.append(tree_depths(parents))
    return sentences, distances, depths


def test_tree_utilities():
    assert tree_distances([-1, 0, 1, 1]).tolist() == [
        [0, 1, 2, 2],
        [1, 0, 1, 1],
        [2, 1, 0, 2],
        [2, 1, 2, 0],
    ]
    assert (
        undirected_attachment_score(tree_distances([-1, 0, 1]), tree_distances([-1, 0, 0])) == 0.5
    )
    with pytest.raises(ValidationError, match="root"):
        tree_distances([0, 1])


def test_structural_probe_recovers_planted_tree_distances():
    rng = np.random.default_rng(6)
    U = np.linalg.qr(rng.standard_normal((64, 8)))[0]
    train, train_d, _ = _planted_trees(250, U, rng)
    test, test_d, _ = _planted_trees(80, U, rng)
    probe = StructuralProbe(8, random_state=0).fit(train, train_d)
    assert probe.score(test, test_d) >= 0.9
    assert probe.validation_score_ >= 0.9
    assert _degrees(probe.subspace_, U) < 10
    uuas = np.mean(
        [
            undirected_attachment_score(p, g)
            for p, g in zip(probe.predict(test), test_d, strict=True)
        ]
    )
    assert uuas > 0.95


def test_depth_probe_and_gradient_of_the_objective():
    rng = np.random.default_rng(7)
    U = np.linalg.qr(rng.standard_normal((32, 8)))[0]
    sentences, distances, depths = _planted_trees(40, U, rng)
    for kind, targets in (("distance", distances), ("depth", depths)):
        probe = StructuralProbe(4, kind=kind, loss="l1", orthogonality=0.5)
        H, mask, T = probe._pad(sentences[:6], targets[:6], None)
        x = rng.standard_normal(32 * 4) * 0.2
        _, grad = probe._objective(x, H, mask, T)
        direction = rng.standard_normal(x.size)
        h = 1e-6
        numeric = (
            probe._objective(x + h * direction, H, mask, T)[0]
            - probe._objective(x - h * direction, H, mask, T)[0]
        ) / (2 * h)
        assert numeric == pytest.approx(grad @ direction, rel=1e-5)
    # The norm of the probe coordinates of the root-path indicators is the depth.
    depth_probe = StructuralProbe(8, kind="depth", random_state=0).fit(sentences, depths)
    assert depth_probe.validation_score_ > 0.9
