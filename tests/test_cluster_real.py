"""Real data: Extended Yale B, COIL-20 and ACM against the targets and the baselines.

Settings and preprocessing are those of :mod:`subspacekit.reproduce.cluster` (pixels in
[0, 1], unit-norm images, no PCA; the authors' run.sh settings for ACM). Targets from
the issue: >= 0.72 ACC on all 38 Yale B subjects, >= 0.85 on COIL-20 (the classical
SSC / SSC-OMP figures quoted by the DSC-Net paper), and every method above k-means and
scikit-learn's SpectralClustering with a k-NN affinity.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans, SpectralClustering
from threadpoolctl import threadpool_limits

from subspacekit.cluster import (
    MS2CAG,
    PRESETS,
    attribute_normalization,
    clustering_accuracy,
    propagation_operator,
    smoothed_representation,
)
from subspacekit.data import load
from subspacekit.reproduce.cluster import IMAGE_METHODS


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    # The shared 2-core test machine is oversubscribed: OpenBLAS threads then spin and
    # the many small LAPACK calls of these solvers ran up to 100x slower with 2 threads
    # (LRR: 131 s instead of 1.3 s). One BLAS thread changes only the speed.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _baseline_accuracies(X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    k = len(np.unique(y))
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    km = KMeans(k, n_init=10, random_state=0).fit_predict(unit)
    sc = SpectralClustering(
        k, affinity="nearest_neighbors", n_neighbors=10, random_state=0
    ).fit_predict(unit)
    return clustering_accuracy(y, km), clustering_accuracy(y, sc)


def _accuracy(dataset: str, method: str, X: np.ndarray, y: np.ndarray) -> float:
    factory, transform, _ = IMAGE_METHODS[dataset][method]
    data = transform(X) if transform is not None else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = factory(len(np.unique(y))).fit_predict(data)
    return clustering_accuracy(y, labels)


@pytest.fixture(scope="module")
def yale(data_root: Path) -> tuple[np.ndarray, np.ndarray]:
    bunch = load("extended_yale_b", data_root)
    return bunch.data, bunch.target


def test_yale_b_ten_subjects_beat_baselines(yale: tuple) -> None:
    X, y = yale
    keep = y < 10
    X, y = X[keep], y[keep]
    kmeans_acc, spectral_acc = _baseline_accuracies(X, y)
    accuracy = {m: _accuracy("extended_yale_b", m, X, y) for m in ("SSC-OMP", "EnSC", "LSR")}
    for method, acc in accuracy.items():
        assert acc > max(kmeans_acc, spectral_acc), (method, acc, kmeans_acc, spectral_acc)
    assert accuracy["EnSC"] >= 0.85


@pytest.mark.slow
def test_yale_b_all_38_subjects_reach_classical_target(yale: tuple) -> None:
    X, y = yale
    assert X.shape == (2414, 2016)
    # SSC 72.5 % / SSC-OMP 75.3 % as quoted in the DSC-Net paper
    assert _accuracy("extended_yale_b", "SSC-OMP", X, y) >= 0.72


@pytest.mark.slow
def test_coil20_reaches_classical_target(data_root: Path) -> None:
    bunch = load("coil20", data_root)
    # SSC 85.2 % as quoted in the DSC-Net paper
    assert _accuracy("coil20", "EnSC", bunch.data, bunch.target) >= 0.85


def test_acm_ms2cag_beats_both_baselines(data_root: Path) -> None:
    acm = load("acm", data_root)
    X, A, y = acm.data, acm.adjacency, acm.target
    ours = clustering_accuracy(y, MS2CAG(3, preset="acm").fit_predict(X, adjacency=A))
    setting = PRESETS["acm"]["MS2CAG"]
    Z = smoothed_representation(
        propagation_operator(A), attribute_normalization(X), int(setting["n_hops"]),
        setting["alpha"],
    )  # fmt: skip
    kmeans_acc = clustering_accuracy(y, KMeans(3, n_init=10, random_state=0).fit_predict(Z))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ACM graph is not connected
        spectral = SpectralClustering(3, affinity="precomputed", random_state=0).fit_predict(A)
    assert ours > kmeans_acc > clustering_accuracy(y, spectral)
    assert ours >= 0.93  # measured 0.9365 with the run.sh settings (seed 0)
