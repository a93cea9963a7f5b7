"""Rank-2 knowledge projection on a synthetic residual stream with planted PK/CK axes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from subspacekit.core import principal_angles
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NonFiniteError,
    RankError,
    ShapeError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.intervene import KnowledgeSubspace, assign_axes, knowledge_shares

D = 384


def _stream(seed: int = 0):
    """h = a u_PK + b u_CK + offset + noise, with u_PK, u_CK not orthogonal (60 degrees)."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((D, 2)))[0]
    u_pk = Q[:, 0]
    u_ck = 0.5 * Q[:, 0] + np.sqrt(0.75) * Q[:, 1]
    offset = 5.0 * rng.standard_normal(D)

    def runs(a: float, b: float, n: int = 300) -> np.ndarray:
        return offset + a * u_pk + b * u_ck + 0.05 * rng.standard_normal((n, D))

    return u_pk, u_ck, runs


def test_rank2_subspace_axes_and_signs_are_recovered() -> None:
    u_pk, u_ck, runs = _stream()
    ks = KnowledgeSubspace().fit(runs(1, 0), runs(0, 1), runs(0, 0))
    truth = np.stack([u_pk, u_ck], axis=1)
    assert np.degrees(principal_angles(ks.subspace_, truth)).max() < 5.0
    assert ks.contrast_angle_ == pytest.approx(60.0, abs=2.0)
    U = ks.subspace_.basis
    # the PK axis is the one closest to u_PK, with the right sign; likewise CK
    assert U[:, 0] @ u_pk > 0.9 and U[:, 1] @ u_ck > 0.9
    pk, ck = ks.transform(runs(1, 0)).mean(0)
    assert pk > 0.5 and abs(ck) < pk
    # assign_axes on the columns swapped and negated gives back the same basis
    swapped = -U[:, ::-1]
    fixed = assign_axes(
        swapped, ks.prior_mean_ - ks.reference_mean_, ks.context_mean_ - ks.reference_mean_
    )
    np.testing.assert_allclose(fixed, U, atol=1e-12)


def test_rank1_knob_cannot_separate_supportive_from_no_knowledge_rank2_can() -> None:
    _, _, runs = _stream(seed=1)
    ks = KnowledgeSubspace().fit(runs(1, 0), runs(0, 1), runs(0, 0))
    supportive, neither = runs(1, 1), runs(0, 0)
    y = np.r_[np.ones(len(supportive)), np.zeros(len(neither))]
    # (1, 1) and (0, 0) project to the same point on the mu_PK - mu_CK knob
    auc1 = roc_auc_score(y, ks.rank1_scores(np.vstack([supportive, neither])))
    assert abs(auc1 - 0.5) < 0.1
    total = np.abs(ks.transform(np.vstack([supportive, neither]))).sum(1)  # |pk| + |ck|
    assert roc_auc_score(y, total) > 0.95
    # five interaction types: rank 2 tells them apart, rank 1 cannot
    conditions = {
        "prior": runs(1, 0),
        "context": runs(0, 1),
        "supportive": runs(1, 1),
        "conflicting": runs(1, -1),
        "neither": runs(0, 0),
    }
    acc = ks.compare_ranks(conditions)
    assert acc["rank2"] >= 0.95
    assert acc["rank1"] <= 0.85
    assert acc["chance"] == pytest.approx(0.2)


def test_token_shares_follow_the_knowledge_source() -> None:
    _, _, runs = _stream(seed=2)
    # a 30-token trajectory: prior-driven, then context-driven, then both
    trajectory = np.vstack([runs(1, 0, 10), runs(0, 1, 10), runs(1, 1, 10)])
    fit = (runs(1, 0), runs(0, 1), runs(0, 0))
    # orthonormal axes (the paper's): the contrasts are 60 degrees apart, so the Löwdin
    # axes sit 15 degrees off each contrast and a pure-PK token has CK share
    # cos 75 / (cos 15 + cos 75) = 0.211
    ortho = KnowledgeSubspace().fit(*fit).shares(trajectory, window=None)
    expected = np.cos(np.radians(75)) / (np.cos(np.radians(15)) + np.cos(np.radians(75)))
    # (per-token noise has sd 0.05 along each axis, so compare segment means)
    assert ortho[:10].mean() == pytest.approx(expected, abs=0.03)
    assert ortho[10:20].mean() == pytest.approx(1 - expected, abs=0.03)
    # oblique coordinates recover (a, b) itself
    ks = KnowledgeSubspace(coordinates="oblique").fit(*fit)
    np.testing.assert_allclose(ks.transform(runs(0.5, -2.0)).mean(0), [0.5, -2.0], atol=0.03)
    raw = ks.shares(trajectory, window=None)
    assert raw[:10].mean() < 0.05 and raw[10:20].mean() > 0.95
    assert raw[20:].mean() == pytest.approx(0.5, abs=0.03)
    smooth = ks.shares(trajectory, window=7)
    # the window-7 average of a 0 -> 1 step ramps up in 7 steps of about 1/7
    assert np.all(np.diff(smooth[6:14]) > 0.07)
    assert smooth[0] < 0.2 and smooth[14] > 0.8


def test_knowledge_shares_window_and_errors() -> None:
    coords = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(knowledge_shares(coords, window=3), [0.5, 2 / 3, 5 / 6, 0.75])
    with pytest.raises(ShapeError):
        knowledge_shares(np.ones((3, 3)))
    u_pk, _, runs = _stream()
    reference = runs(0, 0)
    with pytest.raises(RankError, match="parallel"):
        KnowledgeSubspace().fit(reference + u_pk, reference + 2 * u_pk, reference)
    with pytest.warns(UntrustworthyEstimateWarning, match="degrees apart"):
        KnowledgeSubspace().fit(runs(1, 0), runs(2, 0.1), reference)


def test_fit_on_labelled_rows_equals_fit_on_three_arrays() -> None:
    # fit(X, y) is the scikit-learn form; y names the condition of each row.
    _, _, runs = _stream(seed=3)
    prior, context, reference = runs(1, 0), runs(0, 1), runs(0, 0)
    three = KnowledgeSubspace().fit(prior, context, reference)
    X = np.vstack([prior, context, reference])
    for y in (
        np.repeat(["prior", "context", "reference"], 300),
        np.repeat([1, 2, 0], 300),
    ):
        labelled = KnowledgeSubspace().fit(X, y)
        np.testing.assert_allclose(labelled.subspace_.basis, three.subspace_.basis, atol=1e-12)
        np.testing.assert_allclose(labelled.transform(X), three.transform(X), atol=1e-10)
    with pytest.raises(ValidationError, match=r"missing \['context'\]"):
        KnowledgeSubspace().fit(X, np.repeat([1, 0, 0], 300))
    with pytest.raises(ValidationError, match="name no condition"):
        KnowledgeSubspace().fit(X, np.repeat(["prior", "context", "other"], 300))
    with pytest.raises(ValidationError, match="coordinates"):
        KnowledgeSubspace(coordinates="polar").fit(X, np.repeat([1, 2, 0], 300))


def test_scale_does_not_change_the_axes_or_overflow() -> None:
    # Regression: the contrast angle and the oblique coordinates went through D^T D,
    # which overflows for data near 1e160.
    _, _, runs = _stream(seed=4)
    fit = (runs(1, 0), runs(0, 1), runs(0, 0))
    plain = KnowledgeSubspace(coordinates="oblique").fit(*fit)
    huge = KnowledgeSubspace(coordinates="oblique").fit(*(1e160 * a for a in fit))
    assert huge.contrast_angle_ == pytest.approx(plain.contrast_angle_, rel=1e-9)
    np.testing.assert_allclose(huge.transform(1e160 * fit[0]), plain.transform(fit[0]), rtol=1e-6)


def test_assign_axes_and_shares_check_their_inputs() -> None:
    B = np.eye(3)[:, :2]
    with pytest.raises(RankError, match="two independent columns"):
        assign_axes(np.ones((3, 2)), [1.0, 0, 0], [0, 1.0, 0])
    with pytest.raises(ValidationError, match="prior_mean is zero"):
        assign_axes(B, np.zeros(3), [0, 1.0, 0])
    with pytest.raises(ValidationError, match="orthogonal to the basis"):
        assign_axes(B, [0, 0, 1.0], [0, 1.0, 0])
    with pytest.raises(DimensionMismatchError):
        assign_axes(B, [1.0, 0], [0, 1.0, 0])
    with pytest.raises(ValidationError, match="window"):
        knowledge_shares(np.ones((4, 2)), window=0)
    with pytest.raises(DTypeError, match="window"):
        knowledge_shares(np.ones((4, 2)), window=2.5)
    with pytest.raises(NonFiniteError):
        knowledge_shares([[np.nan, 1.0]])
