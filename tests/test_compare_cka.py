"""CKA / HSIC: closed forms, invariances, unbiasedness, accumulators, errors, uncertainty."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.compare import MiniBatchCKA, StreamingLinearCKA, cka, cka_from_gram, hsic
from subspacekit.core.result import Estimate
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    NotFittedError,
    TooFewSamplesError,
    ValidationError,
)


# ---------------------------------------------------------------- reference formulas
def _hsic_biased_by_definition(K: np.ndarray, L: np.ndarray) -> float:
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    return float(np.trace(K @ H @ L @ H)) / (n - 1) ** 2


def _hsic_unbiased_by_definition(K: np.ndarray, L: np.ndarray) -> float:
    # Song et al. (2012), eq. (5), written with explicit matrices.
    n = K.shape[0]
    Kt, Lt = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
    one = np.ones(n)
    return float(
        np.trace(Kt @ Lt)
        + (one @ Kt @ one) * (one @ Lt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ Kt @ Lt @ one)
    ) / (n * (n - 3))


def _hsic_u_statistic(K: np.ndarray, L: np.ndarray) -> float:
    """HSIC as the average of h over ordered 4-tuples of distinct indices (tiny n only)."""
    n = K.shape[0]
    total, count = 0.0, 0
    for i in range(n):
        for j in range(n):
            for q in range(n):
                for r in range(n):
                    if len({i, j, q, r}) < 4:
                        continue
                    total += K[i, j] * L[i, j] + K[i, j] * L[q, r] - 2 * K[i, j] * L[i, q]
                    count += 1
    return total / count


def _pair(seed: int, n: int = 80, d1: int = 6, d2: int = 4, noise: float = 1.0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d1)) + rng.normal(size=d1) * 5
    Y = X[:, : min(d1, d2)] @ rng.normal(size=(min(d1, d2), d2)) + noise * rng.normal(size=(n, d2))
    return X, Y


# ---------------------------------------------------------------- closed forms
@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_equals_gram_definition(debiased):
    X, Y = _pair(0)
    K, L = X @ X.T, Y @ Y.T
    ref = _hsic_unbiased_by_definition if debiased else _hsic_biased_by_definition
    expected = ref(K, L) / np.sqrt(ref(K, K) * ref(L, L))
    assert cka(X, Y, debiased=debiased) == pytest.approx(expected, rel=1e-10)
    assert hsic(X, Y, debiased=debiased) == pytest.approx(ref(K, L), rel=1e-10)
    assert cka_from_gram(K, L, debiased=debiased) == pytest.approx(expected, rel=1e-10)


def test_unbiased_hsic_formula_is_the_u_statistic():
    rng = np.random.RandomState(3)
    X, Y = rng.normal(size=(7, 2)), rng.normal(size=(7, 3))
    K, L = X @ X.T, Y @ Y.T
    assert hsic(X, Y, debiased=True) == pytest.approx(_hsic_u_statistic(K, L), rel=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
def test_rbf_cka_equals_gram_definition(debiased):
    X, Y = _pair(1, n=40)

    def rbf(A: np.ndarray) -> np.ndarray:
        D2 = ((A[:, None, :] - A[None, :, :]) ** 2).sum(-1)
        sigma = np.median(np.sqrt(D2[np.triu_indices(len(A), 1)]))
        return np.exp(-D2 / (2 * sigma**2))

    K, L = rbf(X), rbf(Y)
    ref = _hsic_unbiased_by_definition if debiased else _hsic_biased_by_definition
    expected = ref(K, L) / np.sqrt(ref(K, K) * ref(L, L))
    assert cka(X, Y, kernel="rbf", debiased=debiased) == pytest.approx(expected, rel=1e-10)


def test_cka_of_identical_and_of_orthogonal_column_spaces():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 5))
    assert cka(X, X) == pytest.approx(1.0, abs=1e-12)
    # Two blocks of an orthogonal matrix: centred columns with Xc^T Yc = 0 give CKA 0.
    A = rng.normal(size=(100, 10))
    Q, _ = np.linalg.qr(A - A.mean(0))  # orthonormal columns with zero mean
    assert cka(Q[:, :5], Q[:, 5:]) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------- invariances
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.01, 100.0),
    debiased=st.booleans(),
    kernel=st.sampled_from(["linear", "rbf"]),
)
def test_cka_invariant_to_orthogonal_maps_and_isotropic_scaling(seed, scale, debiased, kernel):
    X, Y = _pair(seed, n=50)
    rng = np.random.RandomState(seed + 1)
    Q1, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    Q2, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    base = cka(X, Y, debiased=debiased, kernel=kernel)
    moved = cka(scale * X @ Q1 + 3.0, Y @ Q2 / scale, debiased=debiased, kernel=kernel)
    assert moved == pytest.approx(base, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_linear_cka_changes_under_a_general_invertible_map(seed):
    X, Y = _pair(seed, n=60)
    rng = np.random.RandomState(seed + 7)
    # Strongly anisotropic scaling (condition number up to 1e4) plus a shear: a mild
    # scaling can leave CKA nearly unchanged for some draws.
    A = np.diag(10.0 ** rng.uniform(-2.0, 2.0, size=6))
    A[0, 1] = 3.0
    # Invariant maps change CKA by < 1e-9 (test above); a general map moves it far more.
    assert abs(cka(X @ A, Y) - cka(X, Y)) > 1e-4


def test_debiased_cka_of_independent_gaussians_averages_zero():
    values = np.array(
        [
            cka(
                np.random.RandomState(s).normal(size=(50, 10)),
                np.random.RandomState(10_000 + s).normal(size=(50, 10)),
                debiased=True,
            )
            for s in range(200)
        ]
    )
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean()) <= 3 * se
    # The biased estimator is far from 0 on the same data: the test can tell them apart.
    biased = np.mean(
        [
            cka(
                np.random.RandomState(s).normal(size=(50, 10)),
                np.random.RandomState(10_000 + s).normal(size=(50, 10)),
            )
            for s in range(20)
        ]
    )
    assert biased > 0.1


# ---------------------------------------------------------------- accumulators
@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("batch", [1, 7, 64, 500])
def test_streaming_linear_cka_is_exact_for_any_batching(debiased, batch):
    X, Y = _pair(4, n=300, d1=9, d2=5)
    X = X + 1e3  # a large common offset must not hurt (shifted accumulation)
    acc = StreamingLinearCKA(debiased=debiased)
    for start in range(0, 300, batch):
        acc.partial_fit(X[start : start + batch], Y[start : start + batch])
    assert acc.n_samples_ == 300
    assert acc.cka_ == pytest.approx(cka(X, Y, debiased=debiased), rel=1e-9)
    assert acc.hsic_xy_ == pytest.approx(hsic(X, Y, debiased=debiased), rel=1e-8)


def test_minibatch_hsic_equals_full_debiased_hsic_in_expectation():
    # A U-statistic on n points is the mean of the same U-statistic over its subsets, so
    # averaging batch HSIC_u over random batchings converges to the full-data HSIC_u.
    X, Y = _pair(5, n=120, d1=5, d2=3, noise=2.0)
    full = np.array(
        [hsic(X, Y, debiased=True), hsic(X, X, debiased=True), hsic(Y, Y, debiased=True)]
    )
    rng = np.random.RandomState(0)
    runs = []
    for _ in range(300):
        order = rng.permutation(120)
        acc = MiniBatchCKA()
        for start in range(0, 120, 20):
            idx = order[start : start + 20]
            acc.partial_fit(X[idx], Y[idx])
        runs.append([acc.hsic_xy_.mean(), acc.hsic_xx_.mean(), acc.hsic_yy_.mean()])
    runs = np.array(runs)
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - full) <= 4 * se)
    ratio = runs.mean(0)
    assert ratio[0] / np.sqrt(ratio[1] * ratio[2]) == pytest.approx(
        cka(X, Y, debiased=True), abs=0.02
    )


def test_minibatch_jackknife_interval_and_fit_reset():
    X, Y = _pair(6, n=400)
    acc = MiniBatchCKA().fit((X[i : i + 50], Y[i : i + 50]) for i in range(0, 400, 50))
    est = acc.estimate(0.9)
    assert est.n == 400 and est.details["n_batches"] == 8
    assert est.ci[0] < est.value < est.ci[1] and est.stderr > 0
    acc.fit([(X[:10], Y[:10])])
    assert acc.n_batches_ == 1 and acc.n_samples_ == 10


def test_accumulators_refuse_use_before_fit_and_changing_widths():
    with pytest.raises(NotFittedError):
        _ = MiniBatchCKA().cka_
    with pytest.raises(NotFittedError):
        _ = StreamingLinearCKA().cka_
    acc = StreamingLinearCKA().partial_fit(np.ones((3, 2)) * np.arange(3)[:, None], np.eye(3))
    with pytest.raises(DimensionMismatchError):
        acc.partial_fit(np.zeros((3, 4)), np.zeros((3, 3)))
    with pytest.raises(TooFewSamplesError):
        MiniBatchCKA().partial_fit(np.zeros((3, 2)), np.zeros((3, 2)))


# ---------------------------------------------------------------- dtypes and torch
def test_float32_input_is_centred_first_and_stays_accurate():
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(3000, 8))
    X = Z @ rng.normal(size=(8, 64)) + 0.5 * rng.normal(size=(3000, 64)) + 100.0
    Y = Z @ rng.normal(size=(8, 96)) + rng.normal(size=(3000, 96)) - 50.0
    ref = cka(X, Y)
    assert cka(X.astype(np.float32), Y.astype(np.float32)) == pytest.approx(ref, abs=1e-6)
    assert cka(X.astype(np.float32), Y.astype(np.float32), debiased=True) == pytest.approx(
        cka(X, Y, debiased=True), abs=1e-5
    )


def test_torch_tensors_give_the_numpy_value():
    torch = pytest.importorskip("torch")
    X, Y = _pair(8)
    for debiased in (False, True):
        ref = cka(X, Y, debiased=debiased)
        assert cka(torch.from_numpy(X), torch.from_numpy(Y), debiased=debiased) == pytest.approx(
            ref, rel=1e-12
        )
        assert cka(
            torch.from_numpy(X).float(), torch.from_numpy(Y).float(), debiased=debiased
        ) == pytest.approx(ref, abs=1e-5)
    mixed = cka(torch.from_numpy(X), Y)
    assert mixed == pytest.approx(cka(X, Y), rel=1e-12)
    with pytest.raises(NonFiniteError):
        cka(torch.full((5, 2), float("nan")), torch.zeros(5, 2))


# ---------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors():
    X = np.random.RandomState(0).normal(size=(10, 3))
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="1 NaN"):
        cka(bad, X)
    with pytest.raises(DimensionMismatchError, match="same number of samples"):
        cka(X, X[:9])
    with pytest.raises(TooFewSamplesError, match="debiased"):
        cka(X[:3], X[:3], debiased=True)
    with pytest.raises(ValidationError, match="zero variance"):
        cka(X, np.ones((10, 2)))
    with pytest.raises(ValidationError, match="kernel"):
        cka(X, X, kernel="poly")
    with pytest.raises(ValidationError, match="ci"):
        cka(X, X, ci=1.5)
    with pytest.raises(ValidationError, match="permutations"):
        cka(X, X, permutations=-1)


# ---------------------------------------------------------------- uncertainty
def test_bootstrap_interval_and_permutation_pvalue():
    X, Y = _pair(9, n=150, noise=3.0)
    est = cka(X, Y, ci=0.9, permutations=99, n_resamples=100, random_state=0)
    assert isinstance(est, Estimate)
    assert est.ci[0] < est.value < est.ci[1]
    assert est.pvalue == pytest.approx(0.01)  # related: no shuffle reaches the observed value
    assert est.n == 150 and est.confidence == 0.9
    again = cka(X, Y, ci=0.9, permutations=99, n_resamples=100, random_state=0)
    assert again.ci == est.ci and again.pvalue == est.pvalue  # same seed, same result


def test_permutation_pvalues_are_uniform_under_independence():
    pvalues = []
    for s in range(40):
        rng = np.random.RandomState(s)
        est = cka(
            rng.normal(size=(30, 3)),
            rng.normal(size=(30, 3)),
            debiased=True,
            permutations=19,
            random_state=s,
        )
        pvalues.append(est.pvalue)
    pvalues = np.array(pvalues)
    # Under the null P(p <= 0.1) = 0.1 (p takes values k/20); allow binomial noise.
    assert np.mean(pvalues <= 0.1) <= 0.25
    assert 0.3 <= np.mean(pvalues) <= 0.7


def test_bootstrap_interval_covers_the_population_cka():
    # Population linear CKA of x ~ N(0, I_2) and y = x + e, e ~ N(0, s^2 I_2), is
    # tr(S_xy S_yx) / sqrt(tr(S_xx^2) tr(S_yy^2)) = 2 / sqrt(2 * 2 (1 + s^2)^2) = 1/(1+s^2).
    s2 = 1.0
    covered = 0
    for seed in range(20):
        rng = np.random.RandomState(seed)
        X = rng.normal(size=(400, 2))
        Y = X + np.sqrt(s2) * rng.normal(size=(400, 2))
        est = cka(X, Y, debiased=True, ci=0.9, n_resamples=150, random_state=seed)
        covered += est.covers(1.0 / (1.0 + s2))
    assert covered >= 14  # nominal 18 of 20


@pytest.mark.parametrize("debiased", [False, True])
def test_wide_representations_take_the_gram_route_with_the_same_value(debiased):
    rng = np.random.RandomState(11)
    X, Y = rng.normal(size=(20, 30)) + 2.0, rng.normal(size=(20, 15))
    Y[:, :5] += X[:, :5]
    K, L = X @ X.T, Y @ Y.T
    ref = _hsic_unbiased_by_definition if debiased else _hsic_biased_by_definition
    expected = ref(K, L) / np.sqrt(ref(K, K) * ref(L, L))
    assert cka(X, Y, debiased=debiased) == pytest.approx(expected, rel=1e-10)
    torch = pytest.importorskip("torch")
    assert cka(torch.from_numpy(X), torch.from_numpy(Y), debiased=debiased) == pytest.approx(
        expected, rel=1e-10
    )
