"""Classical MI estimators: known values, agreement with scikit-learn on the same samples,
exact neighbour counting, bias properties and input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import digamma
from sklearn.feature_selection import mutual_info_regression

from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.measure.mi_samplers import (
    CorrelatedGaussian,
    Embedded,
    GaussianClasses,
    SmearedDiscrete,
)
from subspacekit.measure.mutual_information import (
    _count_sorted_1d,
    _neighbour_counts,
    _prepare_continuous,
    binned_mi,
    canonical_correlations,
    classifier_mi,
    gaussian_mi,
    gaussian_mi_from_covariance,
    ksg_mi,
    mixed_ksg_mi,
)

RHO_09 = -0.5 * math.log(1 - 0.81)  # 0.830 nats


def test_ksg_on_1d_gaussian_rho_09_within_003_at_n5000() -> None:
    X, Y = CorrelatedGaussian([0.9]).sample(5000, random_state=0)
    assert abs(ksg_mi(X, Y) - RHO_09) < 0.03
    assert abs(ksg_mi(X, Y, variant=2) - RHO_09) < 0.03


def test_ksg1_equals_sklearn_mutual_info_regression_on_the_same_samples() -> None:
    X, Y = CorrelatedGaussian([0.7]).sample(3000, random_state=4)
    ours = ksg_mi(X, Y, n_neighbors=3)
    theirs = mutual_info_regression(X, Y[:, 0], n_neighbors=3, random_state=0)[0]
    # Same estimator; only the 1e-10 tie-breaking noise differs.
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_ksg1_matches_a_direct_implementation_of_kraskov_eq8() -> None:
    X, Y = CorrelatedGaussian([0.6, 0.3], dim_x=2, dim_y=3).sample(300, random_state=2)
    Xs, Ys = _prepare_continuous(X, Y, True, 1e-10, 0)
    n, k = len(Xs), 4
    dx = np.abs(Xs[:, None, :] - Xs[None, :, :]).max(axis=2)
    dy = np.abs(Ys[:, None, :] - Ys[None, :, :]).max(axis=2)
    dz = np.maximum(dx, dy)
    np.fill_diagonal(dz, np.inf)
    eps = np.sort(dz, axis=1)[:, k - 1]
    nx = (dx < eps[:, None]).sum(axis=1) - 1
    ny = (dy < eps[:, None]).sum(axis=1) - 1
    direct = digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))
    assert ksg_mi(X, Y, n_neighbors=k) == pytest.approx(direct, abs=1e-12)


@pytest.mark.parametrize(("rule", "decimals"), [("ksg1", 1), ("mixed", 1), ("ksg2", 12)])
def test_tree_and_brute_force_neighbour_counts_agree(rule: str, decimals: int) -> None:
    # Rounding to one decimal creates many ties (KSG-2's neighbour *set* is ambiguous
    # under ties, so it is compared on tie-free data).
    rng = np.random.default_rng(0)
    X = np.round(rng.standard_normal((400, 2)), decimals)
    Y = X[:, :1] + np.round(rng.standard_normal((400, 1)), decimals)
    tree = _neighbour_counts(X, Y, 3, rule, "tree", 1)
    brute = _neighbour_counts(X, Y, 3, rule, "brute", 1)
    for a, b in zip(tree, brute, strict=True):
        assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-5, 5).map(lambda v: v / 4), min_size=2, max_size=40),
    radius=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 2.5]),
)
def test_sorted_counting_is_exact_with_ties_on_the_boundary(values, radius) -> None:
    v = np.array(values) + 0.1  # x.1 + 0.25 style sums round in float64
    r = np.full(v.size, radius)
    brute = (np.abs(v[:, None] - v[None, :]) <= r[:, None]).sum(axis=1)
    assert np.array_equal(_count_sorted_1d(v, r), brute)


def test_ksg_near_zero_for_independent_data_and_invariant_to_scaling() -> None:
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((3000, 2)), rng.standard_normal((3000, 1))
    assert abs(ksg_mi(X, Y)) < 0.035  # about 3 standard deviations at n = 3000
    X2, Y2 = CorrelatedGaussian([0.8]).sample(1000, random_state=3)
    assert ksg_mi(X2, Y2) == pytest.approx(ksg_mi(100 * X2 + 5, 0.01 * Y2), abs=1e-9)


def test_mixed_estimator_on_gao_discrete_continuous_example() -> None:
    task = SmearedDiscrete(5, 2)  # I = log 5 - 0.8 log 2 = 1.055 nats
    X, Y = task.sample(4000, random_state=0)
    assert abs(mixed_ksg_mi(X, Y) - task.mutual_information) < 0.03
    # KSG with jitter mistakes the atoms of X for fine structure and overshoots.
    with pytest.warns(UntrustworthyEstimateWarning):
        ksg_mi(X, Y, jitter=0.0)


def test_mixed_estimator_reduces_to_known_forms() -> None:
    # Continuous data: KSG-1 with ψ(N) replaced by log N.
    X, Y = CorrelatedGaussian([0.8]).sample(2000, random_state=0)
    shift = digamma(2000) - math.log(2000)
    assert mixed_ksg_mi(X, Y, n_neighbors=3) == pytest.approx(ksg_mi(X, Y) - shift, abs=1e-6)
    # Discrete data: close to the plug-in MI of the empirical table.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 5000)
    y = (x + (rng.random(5000) < 0.3) * rng.integers(1, 3, 5000)) % 3
    table = np.histogram2d(x, y, bins=[3, 3])[0] / 5000
    plug_in = np.sum(table * np.log(table / table.sum(1, keepdims=True) / table.sum(0)))
    assert mixed_ksg_mi(x, y) == pytest.approx(plug_in, abs=0.01)


def test_gaussian_closed_form_and_canonical_correlations() -> None:
    task = CorrelatedGaussian([0.8, 0.5], dim_x=3, dim_y=2, rotation_seed=0)
    X, Y = task.sample(20_000, random_state=0)
    assert abs(gaussian_mi(X, Y) - task.mutual_information) < 0.02
    rho = canonical_correlations(X, Y)
    assert np.allclose(rho, [0.8, 0.5], atol=0.01)
    # Invariance: invertible linear maps of X and of Y leave the canonical correlations.
    A = np.random.default_rng(1).standard_normal((3, 3))
    assert np.allclose(canonical_correlations(X @ A + 3.0, 2 * Y), rho, atol=1e-9)
    cov = task.covariance()
    assert gaussian_mi_from_covariance(cov, 3) == pytest.approx(task.mutual_information)


def test_gaussian_bias_correction_makes_small_sample_estimates_unbiased() -> None:
    rng = np.random.default_rng(0)
    corrected, plug_in = [], []
    for _ in range(300):
        X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 3))
        corrected.append(gaussian_mi(X, Y))
        plug_in.append(gaussian_mi(X, Y, bias_correction=False))
    # True MI is 0: the plug-in value is biased up by about d_x d_y / 2n = 0.11.
    assert np.mean(plug_in) > 0.08
    assert abs(np.mean(corrected)) < 3 * np.std(corrected) / math.sqrt(300)


def test_gaussian_handles_a_low_rank_embedding() -> None:
    task = Embedded(CorrelatedGaussian.from_mutual_information(1.0, 2), 50, 50, "linear")
    X, Y = task.sample(3000, random_state=0)
    assert abs(gaussian_mi(X, Y) - 1.0) < 0.05


def test_binned_estimate_and_its_bias_correction() -> None:
    X, Y = CorrelatedGaussian([0.9]).sample(20_000, random_state=0)
    assert abs(binned_mi(X, Y) - RHO_09) < 0.06
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(2000), rng.standard_normal(2000)
    raw = binned_mi(a, b, 10, correction=None)
    assert raw > 0.015  # plug-in bias ≈ (10 - 1)² / (2 · 2000)
    assert abs(binned_mi(a, b, 10)) < 0.01
    with pytest.warns(UntrustworthyEstimateWarning, match="joint dimensions"):
        binned_mi(rng.standard_normal((500, 3)), rng.standard_normal((500, 3)))


def test_classifier_estimate_for_discrete_labels() -> None:
    task = GaussianClasses(3, separation=2.0, dim=2)
    X, labels = task.sample(3000, random_state=0)
    estimate = classifier_mi(X, labels, random_state=0)
    assert abs(estimate - task.mutual_information) < 0.05
    # Labels of any type; permuted labels carry no information.
    names = np.array(["a", "b", "c"])[labels[:, 0].astype(int)]
    assert classifier_mi(X, names, random_state=0) == pytest.approx(estimate)
    shuffled = np.random.default_rng(0).permutation(names)
    assert classifier_mi(X, shuffled, random_state=0) < 0.01


def test_errors_name_what_was_expected() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((100, 2)), rng.standard_normal((100, 1))
    with pytest.raises(DimensionMismatchError, match="same number of samples"):
        ksg_mi(X, Y[:90])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match="1 NaN"):
        ksg_mi(bad, Y)
    const = X.copy()
    const[:, 1] = 2.0
    for estimator in (ksg_mi, mixed_ksg_mi, gaussian_mi, binned_mi):
        with pytest.raises(ValidationError, match=r"constant column.*\[1\]"):
            estimator(const, Y)
    with pytest.raises(TooFewSamplesError):
        ksg_mi(X[:4], Y[:4], n_neighbors=3)
    with pytest.raises(ValidationError, match="discrete class labels"):
        classifier_mi(X, Y[:, 0])
    with pytest.raises(ValidationError, match="variant"):
        ksg_mi(X, Y, variant=3)
