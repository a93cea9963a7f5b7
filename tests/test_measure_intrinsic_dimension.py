"""Intrinsic dimension: neighbours, TwoNN, MLE, PCA rules, participation ratio."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial import cKDTree

from subspacekit.core.result import Estimate
from subspacekit.errors import (
    NonFiniteError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.measure._neighbors import kneighbors
from subspacekit.measure.intrinsic_dimension import (
    LevinaBickel,
    ParticipationRatio,
    PCADimension,
    TwoNN,
    _twonn_fit,
    intrinsic_dimension,
    local_intrinsic_dimension,
)


def _embedded_gaussian(n: int, d: int, ambient: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((ambient, d)))[0]
    return rng.standard_normal((n, d)) @ basis.T


# --------------------------------------------------------------------------- neighbours
@pytest.mark.parametrize(
    "name",
    ["gaussian-40d", "low-rank-far-from-origin", "sphere-10d-in-100d", "duplicates", "tiny"],
)
def test_brute_neighbours_equal_kdtree(name: str) -> None:
    rng = np.random.default_rng(1)
    if name == "gaussian-40d":
        X = rng.standard_normal((3000, 40))
    elif name == "low-rank-far-from-origin":
        # Large offset: the float32 score would lose the small distances without centring.
        X = rng.standard_normal((3000, 3)) @ rng.standard_normal((3, 50)) + 1e3
    elif name == "sphere-10d-in-100d":
        # Low intrinsic dimension: the truncated principal-axis screen is used.
        Z = rng.standard_normal((4000, 11))
        Z /= np.linalg.norm(Z, axis=1, keepdims=True)
        X = Z @ np.linalg.qr(rng.standard_normal((100, 11)))[0].T
        X += 1e-3 * rng.standard_normal(X.shape)
    elif name == "duplicates":
        X = np.repeat(rng.standard_normal((800, 20)), 3, axis=0)
    else:
        X = rng.standard_normal((7, 12))
    k = min(20, X.shape[0] - 1)
    dist, idx = kneighbors(X, k, algorithm="brute", n_jobs=2)
    ref_dist, _ = cKDTree(X).query(X, k + 1)
    np.testing.assert_allclose(dist, ref_dist[:, 1:], rtol=1e-9, atol=1e-9)
    # The indices point at points at those distances, never at the point itself.
    recomputed = np.linalg.norm(X[idx] - X[:, None, :], axis=2)
    np.testing.assert_allclose(recomputed, dist, rtol=1e-9, atol=1e-9)
    assert not (idx == np.arange(X.shape[0])[:, None]).any()


def test_kdtree_excludes_self_among_duplicates() -> None:
    X = np.repeat(np.arange(5.0)[:, None], 2, axis=0)
    dist, idx = kneighbors(X, 2, algorithm="kdtree")
    assert not (idx == np.arange(10)[:, None]).any()
    np.testing.assert_allclose(dist[:, 0], 0.0)


# --------------------------------------------------------------------------- TwoNN
def test_twonn_fit_recovers_pareto_shape() -> None:
    # mu ~ Pareto(d) exactly: log mu ~ Exponential(rate d).
    rng = np.random.default_rng(0)
    for d in (1.0, 4.0, 17.0):
        log_mu = np.sort(rng.exponential(1.0 / d, size=200_000))
        assert _twonn_fit(log_mu, None, 0.1, "linear") == pytest.approx(d, rel=0.02)
        assert _twonn_fit(log_mu, None, 0.1, "mle") == pytest.approx(d, rel=0.01)


def test_twonn_bootstrap_weights_equal_explicit_resample() -> None:
    rng = np.random.default_rng(0)
    log_mu = np.sort(rng.exponential(0.2, size=500))
    counts = np.bincount(rng.integers(0, 500, 500), minlength=500)
    explicit = np.repeat(log_mu, counts)
    for variant in ("linear", "mle"):
        assert _twonn_fit(log_mu, counts, 0.1, variant) == pytest.approx(
            _twonn_fit(explicit, None, 0.1, variant), rel=1e-12
        )


@pytest.mark.parametrize("d", [2, 5])
def test_twonn_interval_covers_planted_dimension(d: int) -> None:
    # Measured: 94/100 (d = 2), 93/100 (d = 5); the 95 % interval must cover in >= 90.
    covered = 0
    for seed in range(100):
        X = _embedded_gaussian(1000, d, 30, seed)
        covered += TwoNN(random_state=seed).fit(X).estimate_.covers(d)
    assert covered >= 90


def test_twonn_invariances_and_determinism() -> None:
    X = _embedded_gaussian(1500, 4, 12, 3)
    rng = np.random.default_rng(5)
    Q = np.linalg.qr(rng.standard_normal((12, 12)))[0]
    base = TwoNN(random_state=0).fit(X).estimate_
    moved = TwoNN(random_state=0).fit(3.0 * X @ Q + 7.0).estimate_
    assert moved.value == pytest.approx(base.value, rel=1e-9)
    assert base.ci == TwoNN(random_state=0).fit(X).estimate_.ci
    assert base.ci[0] < base.value < base.ci[1]
    assert isinstance(base, Estimate) and base.n == 1500


def test_twonn_drops_duplicates_with_warning() -> None:
    X = _embedded_gaussian(1000, 3, 10, 0)
    doubled = np.vstack([X, X[:300]])
    with pytest.warns(UntrustworthyEstimateWarning, match="300 duplicate"):
        est = TwoNN(ci=None).fit(doubled)
    assert est.n_duplicates_ == 300
    assert est.dimension_ == pytest.approx(TwoNN(ci=None).fit(X).dimension_, rel=1e-12)
    with pytest.raises(ValidationError, match="duplicate"):
        TwoNN(duplicates="raise").fit(doubled)


def test_matches_scikit_dimension_on_benchmark_manifolds() -> None:
    skdim = pytest.importorskip("skdim")
    pytest.importorskip("pandas")
    bench = skdim.datasets.BenchmarkManifolds(random_state=0)
    data = bench.generate(n=1000)
    names = ["M1_Sphere", "M2_Affine_3to5", "M4_Nonlinear", "M7_Roll", "M9_Affine", "M12_Norm"]
    errors: dict[str, list[float]] = {
        k: [] for k in ("ours_twonn", "skdim_twonn", "ours_mle", "skdim_mle")
    }
    for name in names:
        X = data[name]
        truth = float(bench.truth.loc[name, "Intrinsic Dimension"])
        ours_twonn = float(intrinsic_dimension(X, "twonn", ci=None))
        ours_mle = float(intrinsic_dimension(X, "mle", ci=None))
        ref_twonn = skdim.id.TwoNN().fit(X).dimension_
        ref_mle = skdim.id.MLE().fit(X).dimension_
        assert ours_twonn == pytest.approx(ref_twonn, rel=1e-9)
        assert ours_mle == pytest.approx(ref_mle, rel=1e-9)
        errors["ours_twonn"].append(abs(ours_twonn - truth))
        errors["skdim_twonn"].append(abs(ref_twonn - truth))
        errors["ours_mle"].append(abs(ours_mle - truth))
        errors["skdim_mle"].append(abs(ref_mle - truth))
    assert np.mean(errors["ours_twonn"]) <= np.mean(errors["skdim_twonn"]) + 1e-9
    assert np.mean(errors["ours_mle"]) <= np.mean(errors["skdim_mle"]) + 1e-9
    # Sanity of the ground truth itself: the 2-D Swiss roll is read as about 2.
    assert errors["ours_twonn"][3] < 0.3


def test_skdim_passthrough() -> None:
    pytest.importorskip("skdim")
    X = _embedded_gaussian(600, 3, 8, 1)
    ours = intrinsic_dimension(X, "twonn", ci=None)
    passed = intrinsic_dimension(X, "skdim:TwoNN", n_resamples=5, random_state=0)
    assert passed.value == pytest.approx(ours.value, rel=1e-9)
    assert passed.method == "skdim:TwoNN"
    assert passed.ci[0] < passed.value < passed.ci[1]
    with pytest.raises(ValidationError, match="no estimator"):
        intrinsic_dimension(X, "skdim:NoSuchThing")


# --------------------------------------------------------------------------- MLE
def test_mle_is_inverse_mean_of_local_inverses() -> None:
    X = _embedded_gaussian(800, 3, 9, 2)
    est = LevinaBickel(ci=None).fit(X)
    assert est.dimension_ == pytest.approx(1.0 / np.mean(1.0 / est.local_dimensions_))
    # MacKay-Ghahramani averaging is below the plain mean (Jensen) on noisy local values.
    assert est.dimension_ < np.mean(est.local_dimensions_)


def test_mle_local_estimate_closed_form() -> None:
    # T_j = j^(1/m) on a single point: sum_{j<k} log(T_k/T_j) = (1/m) sum log(k/j).
    from subspacekit.measure.intrinsic_dimension import _mle_inverse_local

    k, m = 10, 3.0
    T = np.arange(1, k + 1) ** (1.0 / m)
    expected = (np.log(k) * (k - 1) - np.log(np.arange(1, k)).sum()) / m / (k - 1)
    assert _mle_inverse_local(T[None, :])[0] == pytest.approx(expected)


def test_local_dimension_separates_pieces() -> None:
    rng = np.random.default_rng(0)
    low = rng.standard_normal((600, 2)) @ rng.standard_normal((2, 12))
    high = rng.standard_normal((600, 5)) @ rng.standard_normal((5, 12)) + 100.0
    for method in ("mle", "twonn"):
        local = local_intrinsic_dimension(np.vstack([low, high]), method)
        assert abs(np.median(local[:600]) - 2) < 0.4
        assert abs(np.median(local[600:]) - 5) < 1.2


def test_mle_interval_and_planted_dimension() -> None:
    est = intrinsic_dimension(_embedded_gaussian(3000, 4, 20, 0), "mle", random_state=0)
    assert abs(est.value - 4) < 0.3
    assert est.ci[0] < est.value < est.ci[1]


# --------------------------------------------------------------------------- spectral
def test_pca_variance_rule_exact_spectrum() -> None:
    # Centred, mutually orthogonal +-1 columns (Hadamard) scaled to variances 4, 3, 2, 1.
    from scipy.linalg import hadamard

    X = np.repeat(hadamard(8)[:, 1:5].astype(float), 25, axis=0) * np.sqrt([4.0, 3.0, 2.0, 1.0])
    for variance, expected in [(0.4, 1), (0.7, 2), (0.9, 3), (0.95, 4)]:
        assert PCADimension(variance=variance, ci=None).fit(X).dimension_ == expected


def test_pca_mp_rule_finds_planted_spikes() -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((60, 5)))[0]
    X = 4.0 * rng.standard_normal((1000, 5)) @ basis.T + rng.standard_normal((1000, 60))
    est = intrinsic_dimension(X, "pca", rule="mp", random_state=0, n_resamples=50)
    assert est.value == 5 and est.ci[0] <= 5 <= est.ci[1]


def test_participation_ratio_closed_form() -> None:
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((20000, 3))
    Z = (Z - Z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(Z.T))).T  # exact identity cov
    X = Z * np.sqrt([3.0, 2.0, 1.0])
    assert ParticipationRatio(ci=None).fit(X).dimension_ == pytest.approx(36 / 14, rel=1e-9)
    est = intrinsic_dimension(X, "pr", random_state=0, n_resamples=50)
    assert est.ci[0] <= 36 / 14 <= est.ci[1]


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("method", ["twonn", "mle", "pca", "pr"])
def test_errors(method: str) -> None:
    X = _embedded_gaussian(200, 3, 6, 0)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(NonFiniteError, match="1 NaN"):
        intrinsic_dimension(bad, method)
    with pytest.raises(TooFewSamplesError, match="identical"):
        intrinsic_dimension(np.ones((50, 4)), method, ci=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TooFewSamplesError):
            intrinsic_dimension(X[:1], method, ci=None)


def test_error_messages_for_parameters() -> None:
    X = _embedded_gaussian(100, 2, 4, 0)
    with pytest.raises(ValidationError, match="method"):
        intrinsic_dimension(X, "nope")
    with pytest.raises(ValidationError, match="unknown parameters"):
        intrinsic_dimension(X, "twonn", n_neighbors=5)
    with pytest.raises(TooFewSamplesError, match="at least 21"):
        intrinsic_dimension(X[:15], "mle")
    with pytest.raises(ValidationError, match="ci"):
        intrinsic_dimension(X, "twonn", ci=1.0)


def test_accepts_torch_and_float32() -> None:
    torch = pytest.importorskip("torch")
    X = _embedded_gaussian(500, 3, 8, 4)
    ref = float(intrinsic_dimension(X, "twonn", ci=None))
    assert float(intrinsic_dimension(torch.from_numpy(X), "twonn", ci=None)) == pytest.approx(ref)
    as32 = float(intrinsic_dimension(X.astype(np.float32), "twonn", ci=None))
    assert as32 == pytest.approx(ref, rel=1e-4)


def test_local_dimension_keeps_rows_with_duplicates() -> None:
    X = _embedded_gaussian(400, 2, 6, 0)
    doubled = np.vstack([X, X[:50]])
    with pytest.warns(UntrustworthyEstimateWarning):
        local = local_intrinsic_dimension(doubled, "mle")
    assert local.shape == (450,)
    np.testing.assert_allclose(local[400:], local[:50])
    np.testing.assert_allclose(local[:400], local_intrinsic_dimension(X, "mle"))
