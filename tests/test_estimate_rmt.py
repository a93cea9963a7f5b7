"""Random-matrix rank selection: closed forms and planted spikes."""

from __future__ import annotations

import numpy as np
import pytest

from subspacekit.errors import (
    DTypeError,
    NonFiniteError,
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)
from subspacekit.estimate import rank_rules, rmt

D, N = 200, 1000
STRENGTHS = np.array(
    [2.0, 4.0, 6.0, 8.0, 10.0]
)  # spike variances in units of sigma^2; BBP needs > sqrt(0.2)


def _spiked(
    seed: int, strengths: np.ndarray = STRENGTHS, d: int = D, n: int = N, sigma: float = 1.0
):
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((d, strengths.size)))[0]
    noise = sigma * rng.standard_normal((n, d))
    signal = (rng.standard_normal((n, strengths.size)) * sigma * np.sqrt(strengths)) @ U.T
    return noise + signal, noise, U


# ------------------------------------------------------------------ distributions
def test_tracy_widom_quantiles_match_published_table():
    # Tracy-Widom F1 quantiles (e.g. Bejan 2005; Bornemann 2010): 0.90 -> 0.4501,
    # 0.95 -> 0.9793, 0.99 -> 2.0234.
    assert rmt.tracy_widom_quantile(0.90) == pytest.approx(0.4501, abs=2e-4)
    assert rmt.tracy_widom_quantile(0.95) == pytest.approx(0.9793, abs=2e-4)
    assert rmt.tracy_widom_quantile(0.99) == pytest.approx(2.0234, abs=2e-4)


def test_gavish_donoho_constants_match_the_paper():
    # Square matrices: lambda* = 4/sqrt(3) with known noise, omega(1) ~ 2.858 with unknown.
    assert rank_rules.gavish_donoho_threshold(1.0) == pytest.approx(4 / np.sqrt(3), rel=1e-12)
    assert rank_rules.gavish_donoho_threshold(1.0, noise_known=False) == pytest.approx(
        2.858, abs=1e-3
    )
    # Their cubic approximation omega(beta) ~ 0.56 b^3 - 0.95 b^2 + 1.82 b + 1.43 (error < 0.02).
    for beta in (0.1, 0.3, 0.6):
        approx = 0.56 * beta**3 - 0.95 * beta**2 + 1.82 * beta + 1.43
        assert rank_rules.gavish_donoho_threshold(beta, noise_known=False) == pytest.approx(
            approx, abs=0.02
        )


def test_marchenko_pastur_median_is_the_median_of_simulated_noise():
    rng = np.random.default_rng(0)
    lam, _ = rmt.covariance_spectrum(rng.standard_normal((2000, 500)), center=False)
    assert np.median(lam) == pytest.approx(rmt.marchenko_pastur_median(0.25), rel=0.01)


def test_largest_noise_eigenvalue_sits_at_the_edge():
    rng = np.random.default_rng(1)
    lam, dof = rmt.covariance_spectrum(3.0 * rng.standard_normal((2000, 500)))
    edge = rmt.marchenko_pastur_edge(dof, 500, noise_variance=9.0)
    assert lam[0] == pytest.approx(edge, rel=0.03)
    # d > n: the nonzero eigenvalues fill the dual bulk with the same edge formula.
    lam, dof = rmt.covariance_spectrum(rng.standard_normal((300, 900)))
    assert lam[0] == pytest.approx(rmt.marchenko_pastur_edge(dof, 900), rel=0.05)
    assert np.count_nonzero(lam > 1e-10) == dof


@pytest.mark.parametrize("shape", [(1000, 200), (150, 600)])
def test_noise_variance_estimate_is_robust_to_spikes(shape):
    n, d = shape
    X, _, _ = _spiked(2, d=d, n=n, sigma=2.0)
    lam, dof = rmt.covariance_spectrum(X)
    assert rmt.estimate_noise_variance(lam, dof, d) == pytest.approx(4.0, rel=0.03)


# ------------------------------------------------------------------ planted ranks
def test_planted_rank_five_is_found_and_pure_noise_gives_zero():
    exact = {"mp": 0, "gavish-donoho": 0, "bbp": 0}
    zero = {"mp": 0, "gavish-donoho": 0, "bbp": 0}
    for seed in range(100):
        X, noise, _ = _spiked(seed)
        spiked, dof = rmt.covariance_spectrum(X)
        null, _ = rmt.covariance_spectrum(noise)
        for rule in exact:
            exact[rule] += rank_rules.select_rank(spiked, rule, n_samples=dof) == 5
            zero[rule] += rank_rules.select_rank(null, rule, n_samples=dof) == 0
    for rule in exact:
        assert exact[rule] >= 95, (rule, exact)
        assert zero[rule] >= 95, (rule, zero)


def test_parallel_analysis_finds_planted_rank():
    hits, zeros = 0, 0
    for seed in range(8):
        X, noise, _ = _spiked(seed, d=60, n=400)
        hits += rank_rules.parallel_analysis_rank(X, n_permutations=19, random_state=seed) == 5
        zeros += rank_rules.parallel_analysis_rank(noise, n_permutations=19, random_state=seed) == 0
    assert hits >= 7 and zeros >= 7


def test_rules_on_data_and_on_eigenvalues_agree_and_known_noise_works():
    X, _, _ = _spiked(3)
    lam, dof = rmt.covariance_spectrum(X)
    for rule in ("mp", "gavish-donoho", "bbp"):
        assert (
            rank_rules.select_rank(X, rule) == rank_rules.select_rank(lam, rule, n_samples=dof) == 5
        )
    assert rank_rules.gavish_donoho_rank(X, noise_sigma=1.0) == 5
    assert rank_rules.mp_rank(X, noise_variance=1.0) == 5
    assert rank_rules.bbp_rank(X, noise_variance=1.0) == 5


def test_spikes_below_the_bbp_transition_are_invisible():
    # gamma = 0.2: sqrt(gamma) = 0.447; a spike of 0.3 sits inside the bulk, 1.5 pops out.
    found = [rank_rules.bbp_rank(_spiked(s, strengths=np.array([1.5, 0.3]))[0]) for s in range(5)]
    assert found == [1] * 5


def test_kritchman_nadler_corrects_the_bulk_bias():
    X, _, _ = _spiked(4, strengths=np.array([40.0, 30.0, 20.0, 10.0, 5.0]))
    lam, dof = rmt.covariance_spectrum(X)
    naive = lam[5:].mean()
    corrected = rank_rules.kritchman_nadler_noise_variance(lam, 5, dof, D)
    assert abs(corrected - 1.0) < abs(naive - 1.0)
    assert corrected == pytest.approx(1.0, rel=0.01)


def test_bad_input_is_refused():
    with pytest.raises(ValidationError, match="n_samples"):
        rank_rules.mp_rank(np.ones(5))
    with pytest.raises(ValidationError, match="one of"):
        rank_rules.select_rank(np.eye(5), "elbow")
    with pytest.raises(ValidationError, match="non-negative"):
        rank_rules.mp_rank(np.array([1.0, -1.0]), n_samples=10)
    with pytest.raises(TooFewSamplesError):
        rmt.covariance_spectrum(np.ones((1, 3)))
    with pytest.raises(ValidationError, match="constant"):
        rank_rules.parallel_analysis_rank(
            np.c_[np.random.default_rng(0).standard_normal((20, 3)), np.ones(20)], standardize=True
        )


@pytest.mark.parametrize(
    ("eigenvalues", "error", "match"),
    [
        ([np.nan, 1.0, 2.0], NonFiniteError, "NaN"),
        ([[1.0, 2.0]], ShapeError, "1-D"),
        (["a", "b"], DTypeError, "real numbers"),
        ([], TooFewSamplesError, "at least 1"),
    ],
)
def test_noise_variance_refuses_bad_eigenvalues(eigenvalues, error, match):
    with pytest.raises(error, match=match):
        rmt.estimate_noise_variance(eigenvalues, 40, 5)
