"""PCA: agreement with independent SVDs and scikit-learn, exact streaming, dask, zarr, real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.utils.estimator_checks import check_estimator

from subspacekit.core import Subspace
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    NotFittedError,
    RankError,
    ValidationError,
)
from subspacekit.estimate import PCA, NearestSubspaceClassifier, ScatterStats, chunk_stats


def _data(n=600, d=12, seed=0, offset=5.0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(3.0, 0.2, d)
    return (rng.standard_normal((n, d)) * scales) @ np.linalg.qr(rng.standard_normal((d, d)))[
        0
    ] + offset


def _projector_gap(a: Subspace, b: Subspace) -> float:
    return float(np.abs(a.projector() - b.projector()).max())


# ------------------------------------------------------------------ agreement
@pytest.mark.parametrize("solver", ["full", "covariance", "randomized"])
def test_solvers_match_an_independent_svd_and_sklearn(solver):
    X = _data()
    pca = PCA(4, solver=solver, random_state=0).fit(X)
    Xc = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    # Same axes up to sign, same variances (denominator n - 1).
    assert np.allclose(np.abs(pca.components_ @ vt[:4].T), np.eye(4), atol=1e-10)
    assert np.allclose(pca.explained_variance_, s[:4] ** 2 / (len(X) - 1), rtol=1e-10)
    assert np.allclose(pca.singular_values_, s[:4], rtol=1e-10)
    ref = SklearnPCA(4, svd_solver="full").fit(X)
    assert pca.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-10)
    assert np.allclose(pca.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-10)
    assert np.allclose(pca.score_samples(X[:20]), ref.score_samples(X[:20]), rtol=1e-10)
    assert np.allclose(np.abs(pca.transform(X[:5])), np.abs(ref.transform(X[:5])), atol=1e-9)


def test_subspace_attribute_is_the_principal_subspace():
    X = _data()
    pca = PCA(3).fit(X)
    S = pca.subspace_
    assert isinstance(S, Subspace) and S.dim == 3
    assert np.allclose(S.basis, pca.components_.T)
    assert np.allclose(S.mean, X.mean(axis=0))
    assert np.allclose(S.scales**2, pca.explained_variance_)
    assert np.allclose(S.project(X), pca.transform(X))


def test_whitening_and_inverse_transform():
    X = _data()
    pca = PCA(12, whiten=True).fit(X)
    Z = pca.transform(X)
    assert np.allclose(np.cov(Z, rowvar=False), np.eye(12), atol=1e-10)
    assert np.allclose(pca.inverse_transform(Z), X, atol=1e-10)


def test_float32_input_stays_float32_and_torch_round_trips():
    torch = pytest.importorskip("torch")
    X = _data().astype(np.float32)
    pca = PCA(3).fit(X)
    assert pca.transform(X).dtype == np.float32
    Zt = pca.transform(torch.from_numpy(X))
    assert isinstance(Zt, torch.Tensor)
    assert np.allclose(Zt.numpy(), pca.transform(X), atol=1e-4)


@pytest.mark.parametrize(
    "estimator",
    [PCA(), PCA(2, solver="randomized", random_state=0), PCA(solver="covariance"), PCA(0.9)],
    ids=["default", "randomized", "covariance", "fraction"],
)
def test_sklearn_estimator_checks(estimator):
    expected = {}
    if estimator.solver == "randomized":
        # By design: a randomized fit keeps no covariance, so partial_fit refuses to
        # continue it (instead of silently restarting); the check calls fit then partial_fit.
        expected["check_fit_score_takes_y"] = "partial_fit cannot continue a randomized fit"
    check_estimator(estimator, expected_failed_checks=expected)


# ------------------------------------------------------------------ n_components rules
def test_variance_fraction_picks_the_smallest_sufficient_rank():
    X = _data()
    pca = PCA(0.8).fit(X)
    full = PCA().fit(X)
    cumulative = np.cumsum(full.explained_variance_ratio_)
    assert cumulative[pca.n_components_ - 1] >= 0.8 > cumulative[pca.n_components_ - 2]


@pytest.mark.parametrize("rule", ["mp", "gavish-donoho", "bbp", "parallel"])
def test_rank_rules_find_the_planted_rank(rule):
    rng = np.random.default_rng(1)
    U = np.linalg.qr(rng.standard_normal((80, 5)))[0]
    X = (
        rng.standard_normal((800, 80))
        + (rng.standard_normal((800, 5)) * [3, 2.5, 2, 1.8, 1.6]) @ U.T
    )
    pca = PCA(rule, random_state=0).fit(X)
    assert pca.n_components_ == 5
    assert np.degrees(pca.subspace_.angles(U).max()) < 15


def test_streams_support_the_rmt_rules_but_not_permutations():
    X = _data(n=2000, d=10)
    assert PCA("mp").fit(iter(np.array_split(X, 4))).n_components_ == PCA("mp").fit(X).n_components_
    with pytest.raises(ValidationError, match="in-memory"):
        PCA("parallel").fit(iter(np.array_split(X, 4)))


# ------------------------------------------------------------------ streaming
def test_streaming_over_a_thousand_chunks_equals_full_pca():
    X = _data(n=20_000, d=16, offset=1e4)  # a large mean: naive sums of squares would cancel
    full = PCA(5, solver="full").fit(X)
    stream = PCA(5)
    for chunk in np.array_split(X, 1000):
        stream.partial_fit(chunk)
    assert stream.n_samples_seen_ == len(X)
    assert _projector_gap(stream.subspace_, full.subspace_) < 1e-8
    assert np.allclose(stream.explained_variance_, full.explained_variance_, rtol=1e-8)
    assert np.allclose(stream.mean_, full.mean_, rtol=1e-12)


def test_result_does_not_depend_on_the_chunking():
    X = _data(n=3000, d=20).astype(np.float32)
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, 3000), size=37, replace=False))
    ragged = PCA(6).fit(iter(np.split(X, cuts)))
    even = PCA(6, solver="covariance", chunk_size=512).fit(X)
    exact = PCA(6, solver="full").fit(X.astype(np.float64))
    for est in (ragged, even):
        assert _projector_gap(est.subspace_, exact.subspace_) < 1e-8
        assert np.allclose(est.explained_variance_, exact.explained_variance_, rtol=1e-8)


def test_partial_fit_continues_a_fit_on_an_array():
    X = _data(n=900, d=8)
    for solver in ("full", "covariance"):
        continued = PCA(3, solver=solver).fit(X[:500]).partial_fit(X[500:])
        assert continued.n_samples_seen_ == 900
        assert _projector_gap(continued.subspace_, PCA(3, solver="full").fit(X).subspace_) < 1e-10
    with pytest.raises(ValidationError, match="randomized"):
        PCA(3, solver="randomized", random_state=0).fit(X[:500]).partial_fit(X[500:])


def test_chan_merge_is_exact():
    X = _data(n=500, d=7)
    merged = chunk_stats(X[:123]).merge(chunk_stats(X[123:]))
    assert np.allclose(merged.covariance(), np.cov(X, rowvar=False), rtol=1e-12)
    assert ScatterStats.from_chunks([X[:1], X[1:]]).n_chunks == 2


def test_zarr_array_gives_the_numpy_answer():
    zarr = pytest.importorskip("zarr")
    X = _data(n=5000, d=15)
    z = zarr.create_array(
        store=zarr.storage.MemoryStore(), shape=X.shape, chunks=(700, 15), dtype="f8"
    )
    z[:] = X
    ref = PCA(4, solver="full").fit(X)
    assert _projector_gap(PCA(4).fit(z).subspace_, ref.subspace_) < 1e-8


def test_dask_on_a_distributed_local_cluster_gives_the_numpy_answer():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("dask.distributed")
    X = _data(n=8000, d=20)
    ref = PCA(5, solver="full").fit(X)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        addresses = set(client.scheduler_info()["workers"])
        with distributed.get_task_stream(client) as tasks:
            pca = PCA(5).fit(da.from_array(X, chunks=(1000, 10)))
        workers = {t["worker"] for t in tasks.data}
    # The per-block statistics ran as tasks on the cluster's two loopback workers.
    assert len(addresses) == 2 and all(a.startswith("tcp://127.0.0.1") for a in addresses)
    assert len(tasks.data) >= 8 and workers and workers <= addresses
    assert _projector_gap(pca.subspace_, ref.subspace_) < 1e-8
    assert np.allclose(pca.explained_variance_, ref.explained_variance_, rtol=1e-8)


# ------------------------------------------------------------------ bad input
def test_more_components_than_rank_names_the_constant_features():
    X = _data(n=100, d=10)
    X[:, 3:6] = 1.0
    with pytest.raises(RankError, match="3 constant features"):
        PCA(8, solver="full").fit(X)
    with pytest.raises(RankError, match="rank 7"):
        PCA(8, solver="covariance").fit(X)
    assert PCA(7).fit(X).n_components_ == 7


def test_nan_chunk_in_a_stream_is_named():
    X = _data(n=300, d=5)
    chunks = np.array_split(X, 6)
    chunks[4] = chunks[4].copy()
    chunks[4][2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="chunk 4"):
        PCA(2).fit(iter(chunks))
    stream = PCA(2).partial_fit(chunks[0])
    with pytest.raises(NonFiniteError, match="NaN"):
        stream.partial_fit(chunks[4])
    with pytest.raises(DimensionMismatchError, match="features"):
        stream.partial_fit(np.ones((3, 4)))


def test_parameter_errors_are_clear():
    X = _data(n=50, d=5)
    # A fraction outside (0, 1) is neither a count nor a variance fraction.
    with pytest.raises(ValidationError, match=r"n_components must be .*float in \(0, 1\)"):
        PCA(1.5).fit(X)
    with pytest.raises(ValidationError, match="integer n_components"):
        PCA(0.5, solver="randomized").fit(X)
    with pytest.raises(ValidationError, match="whole array"):
        PCA(2, solver="full").fit(iter([X]))
    with pytest.raises(NotFittedError):
        PCA(2).transform(X)


# ------------------------------------------------------------------ real data
def test_extended_yale_b_nearest_subspace_classifier(data_root):
    from subspacekit.data import load

    faces = load("extended_yale_b", root=data_root)
    X, y = faces.data, faces.target
    accuracies = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        train = np.zeros(len(y), dtype=bool)
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            train[rng.choice(idx, len(idx) // 2, replace=False)] = True
        clf = NearestSubspaceClassifier(n_components=9).fit(X[train], y[train])
        accuracies.append(clf.score(X[~train], y[~train]))
    assert np.mean(accuracies) >= 0.93, accuracies
