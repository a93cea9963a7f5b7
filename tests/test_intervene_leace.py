"""LEACE: agreement with EleutherAI concept-erasure, defining properties, streaming, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from concept_erasure import LeaceFitter
from sklearn.linear_model import LogisticRegression

from subspacekit.errors import DimensionMismatchError, NonFiniteError, ValidationError
from subspacekit.intervene import LEACE, linear_shrinkage


def _planted(n: int = 2000, d: int = 24, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    z = rng.integers(0, k, n)
    X = rng.standard_normal((n, d)) @ mixing + np.eye(k)[z] @ rng.standard_normal((k, d))
    return X, z


@pytest.mark.parametrize(
    "options",
    [{}, {"shrinkage": False}, {"method": "orth"}, {"affine": False}, {"svd_tol": 1e-6}],
)
def test_same_eraser_as_concept_erasure(options: dict) -> None:
    X, z = _planted()
    Z = np.eye(3)[z]
    ours = LEACE(**options).fit(X, z)
    theirs = LeaceFitter.fit(torch.tensor(X), torch.tensor(Z), **options).eraser
    np.testing.assert_allclose(ours.projection_, theirs.P.numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.transform(X), theirs(torch.tensor(X)).numpy(), atol=1e-6)


def test_erased_data_has_no_linear_correlation_with_the_concept() -> None:
    X, z = _planted(seed=1)
    Xe = LEACE().fit(X, z).transform(X)
    Z = np.eye(3)[z]
    cross = (Xe - Xe.mean(0)).T @ (Z - Z.mean(0)) / len(X)
    assert np.abs(cross).max() < 1e-10
    means = np.stack([Xe[z == c].mean(0) for c in range(3)])
    assert np.abs(means - means.mean(0)).max() < 1e-10  # equal class means
    np.testing.assert_allclose(Xe.mean(0), X.mean(0), atol=1e-10)  # affine: mean kept


def test_leace_moves_least_in_the_mahalanobis_norm() -> None:
    # Optimality (Belrose et al., Thm 4.3): among erasers with zero cross-covariance, the
    # whitened displacement is smallest; the orthogonal eraser is a competitor.
    X, z = _planted(seed=2)
    leace = LEACE(shrinkage=False).fit(X, z)
    orth = LEACE(method="orth", shrinkage=False).fit(X, z)
    sigma = np.cov(X.T)
    evals, evecs = np.linalg.eigh(sigma)
    whiten = evecs @ np.diag(evals**-0.5) @ evecs.T

    def cost(eraser: LEACE) -> float:
        moved = (eraser.transform(X) - X) @ whiten
        return float(np.mean(np.sum(moved**2, axis=1)))

    assert cost(leace) < cost(orth)
    # and LEACE's cost is the closed form: the erased whitened variance = rank
    np.testing.assert_allclose(cost(leace) * len(X) / (len(X) - 1), leace.rank_, rtol=1e-8)


def test_erasure_never_increases_total_variance() -> None:
    X, z = _planted(seed=3)
    eraser = LEACE().fit(X, z)
    sigma = eraser._sigma_xx()
    P = eraser.projection_
    U_part = eraser.proj_left_  # = Sigma^{1/2} U
    # tr(P S P^T) = tr S - tr(U^T S U) and U^T S U = (S^{1/2}U)^T (S^{1/2}U)
    np.testing.assert_allclose(
        np.trace(P @ sigma @ P.T), np.trace(sigma) - np.sum(U_part**2), rtol=1e-10
    )


def test_fresh_probe_falls_to_chance_on_held_out_data() -> None:
    X, z = _planted(n=4000, seed=4)
    train, test = slice(0, 2000), slice(2000, None)
    before = LogisticRegression(max_iter=2000).fit(X[train], z[train]).score(X[test], z[test])
    eraser = LEACE().fit(X[train], z[train])
    Xe = eraser.transform(X)
    after = LogisticRegression(max_iter=2000).fit(Xe[train], z[train]).score(Xe[test], z[test])
    majority = np.bincount(z[test]).max() / len(z[test])
    assert before > 0.9
    assert after < majority + 0.03


def test_streaming_equals_batch_and_dtypes_are_kept() -> None:
    X, z = _planted(n=1500, seed=5)
    X_before = X.copy()
    batch = LEACE().fit(X, z)
    np.testing.assert_array_equal(X, X_before)  # fitting never writes into the input
    stream = LEACE()
    for start in range(0, 1500, 200):
        stream.partial_fit(X[start : start + 200], z[start : start + 200], classes=[0, 1, 2])
    np.testing.assert_allclose(stream.projection_, batch.projection_, atol=1e-10)
    assert stream.n_samples_seen_ == 1500
    X32 = X.astype(np.float32)
    assert LEACE().fit(X32, z).transform(X32).dtype == np.float32
    out = batch.transform(torch.tensor(X32))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), batch.transform(X), atol=1e-4)


def test_continuous_concept_and_one_column_binary_agree() -> None:
    X, z = _planted(n=800, seed=6)
    binary = (z == 0).astype(int)
    as_labels = LEACE().fit(X, binary)
    as_float = LEACE().fit(X, binary.astype(float))
    assert as_labels.rank_ == as_float.rank_ == 1
    np.testing.assert_allclose(as_labels.projection_, as_float.projection_, atol=1e-10)


def test_linear_shrinkage_closed_form() -> None:
    S = np.diag([3.0, 1.0])
    # alpha = 1 - (tr^2/n) / (||S||^2 - tr^2/p) = 1 - 1.6/2 = 0.2; target tau I with tau = 2
    np.testing.assert_allclose(linear_shrinkage(S, 10), 0.2 * S + 0.8 * 2 * np.eye(2))
    # with very few samples the weight is clipped at 0: the isotropic target
    np.testing.assert_allclose(linear_shrinkage(S, 1), 2 * np.eye(2))


def test_bad_input_errors() -> None:
    X, z = _planted(n=100)
    with pytest.raises(ValidationError, match="at least 2 classes"):
        LEACE().fit(X, np.zeros(100, dtype=int))
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        LEACE().fit(Xn, z)
    eraser = LEACE().fit(X, z)
    with pytest.raises(DimensionMismatchError, match="24 features"):
        eraser.transform(X[:, :5])
    with pytest.raises(ValidationError, match="not among the classes"):
        LEACE().fit(X[:50], z[:50] % 2).partial_fit(X[50:], z[50:])


def test_parameters_and_degenerate_data() -> None:
    from subspacekit.errors import DTypeError, UntrustworthyEstimateWarning

    X, z = _planted(n=100)
    with pytest.raises(ValidationError, match="method"):
        LEACE(method="oblique").fit(X, z)
    with pytest.raises(ValidationError, match="svd_tol"):
        LEACE(svd_tol=0.0).fit(X, z)
    with pytest.raises(DTypeError, match="shrinkage"):
        LEACE(shrinkage="yes").fit(X, z)
    with pytest.raises(ValidationError, match="requires y"):
        LEACE().fit(X, None)
    # Every row the same: nothing to erase. The identity, with a warning saying why.
    same = np.tile(X[:1], (100, 1))
    with pytest.warns(UntrustworthyEstimateWarning, match="every row of X is the same"):
        eraser = LEACE().fit(same, z)
    assert eraser.rank_ == 0
    np.testing.assert_array_equal(eraser.transform(X), X)
    with pytest.raises(NonFiniteError, match="overflowed"):
        LEACE().fit(X * 1e160, z)


def test_linear_shrinkage_checks_its_input() -> None:
    from subspacekit.errors import ShapeError

    S = np.diag([3.0, 1.0])
    out32 = linear_shrinkage(S.astype(np.float32), 10)
    assert out32.dtype == np.float32  # float32 kept
    np.testing.assert_allclose(out32, linear_shrinkage(S, 10), rtol=1e-6)
    np.testing.assert_allclose(linear_shrinkage(S.tolist(), 10), linear_shrinkage(S, 10))
    with pytest.raises(ShapeError, match="square"):
        linear_shrinkage(np.ones((2, 3)), 10)
    with pytest.raises(ValidationError, match="n must be"):
        linear_shrinkage(S, 0)
    with pytest.raises(NonFiniteError):
        linear_shrinkage(np.array([[np.nan, 0.0], [0.0, 1.0]]), 10)
