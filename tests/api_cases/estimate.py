"""Bad-input cases of ``subspacekit.estimate`` (see ``tests/api_cases/__init__.py``).

Alignment, gradient subspaces and the structural probe are in ``estimate_extra.py``.
"""

from __future__ import annotations

import numpy as np

from api_cases import Case
from subspacekit.estimate import (
    CCA,
    INLP,
    LDA,
    PCA,
    PLSSVD,
    DiffMeans,
    LinearProbe,
    NearestSubspaceClassifier,
    RankKProbe,
    bbp_rank,
    chunk_stats,
    gavish_donoho_rank,
    merge_stats,
    mp_rank,
    parallel_analysis_rank,
    select_rank,
    spiked_components,
)


def _pca(X_fit, X_new):
    return PCA(n_components=1).fit(X_fit).transform(X_new)


def _pca_fraction(X):
    return PCA(n_components=0.9).fit(X).explained_variance_


def _pca_stream(X):
    return PCA(n_components=1).partial_fit(X).components_


def _two_view(cls):
    def call(X, Y):
        return cls(n_components=1).fit(X, Y).transform(X, Y)

    return call


def _labels_then_transform(cls, **kw):
    def call(X, y):
        est = cls(**kw).fit(X, y)
        return est.transform(X) if hasattr(est, "transform") else est.predict(X)

    return call


def _probe_score(cls, **kw):
    def call(X, y):
        est = cls(**kw).fit(X, y)
        return est.predict(X), est.score(X, y)

    return call


def _merged(X):
    half = max(1, len(X) // 2) if X is not None and np.ndim(X) >= 1 else 1
    a, b = chunk_stats(X[:half] if hasattr(X, "__getitem__") else X), chunk_stats(X)
    merged = merge_stats(a, b)
    return merged.mean, merged.covariance()


_STATS_IDENTICAL = (
    "sufficient statistics, not an estimate: the zero scatter of identical rows is the exact "
    "answer, and the estimators built on it warn"
)

CASES: list[Case] = [
    Case("estimate.PCA", _pca, kind="fit-transform"),
    Case("estimate.PCA", _pca_fraction, covers=()),
    Case("estimate.PCA", _pca_stream),
    Case("estimate.CCA", _two_view(CCA), kind="pair"),
    Case("estimate.PLSSVD", _two_view(PLSSVD), kind="pair"),
    Case("estimate.DiffMeans", _labels_then_transform(DiffMeans), kind="labels"),
    Case("estimate.LDA", _labels_then_transform(LDA), kind="labels"),
    Case("estimate.INLP", _labels_then_transform(INLP, n_components=2), kind="labels"),
    Case("estimate.LinearProbe", _probe_score(LinearProbe), kind="labels"),
    Case(
        "estimate.RankKProbe",
        _probe_score(RankKProbe, n_components=1),
        kind="labels",
        skip={
            "2-D labels": "RankKProbe is also a multi-output regression probe: 2-D targets are legal"
        },
    ),
    Case(
        "estimate.NearestSubspaceClassifier",
        _probe_score(NearestSubspaceClassifier, n_components=1),
        kind="labels",
    ),
    Case("estimate.mp_rank", mp_rank),
    Case("estimate.bbp_rank", bbp_rank),
    Case("estimate.gavish_donoho_rank", gavish_donoho_rank),
    Case(
        "estimate.parallel_analysis_rank",
        lambda X: parallel_analysis_rank(X, n_permutations=5, random_state=0),
    ),
    Case(
        "estimate.select_rank",
        lambda X: select_rank(X, "mp"),
    ),
    Case(
        "estimate.chunk_stats",
        lambda X: chunk_stats(X).covariance(),
        skip={"identical_rows": _STATS_IDENTICAL},
    ),
    Case("estimate.merge_stats", _merged, skip={"identical_rows": _STATS_IDENTICAL}),
    Case("estimate.spiked_components", lambda X: spiked_components(X).components),
]

ESTIMATORS: list = [
    CCA(n_components=1),
    PLSSVD(n_components=1),
    PCA(),
    DiffMeans(),
    LDA(),
    LinearProbe(),
    INLP(),
    RankKProbe(n_components=1),
    NearestSubspaceClassifier(n_components=1),
]

EXEMPT: dict[str, str] = {
    "RANK_RULES": "a constant: the names of the rank rules select_rank accepts",
    "ScatterStats": "the result type of chunk_stats/merge_stats; built from data by chunk_stats (covered)",
    "SpikedSpectrum": "the result type of spiked_components (covered), not fed user data",
    "estimate_noise_variance": (
        "takes a vector of covariance eigenvalues and the two sizes, not a data matrix; its "
        "input errors (NaN, 2-D, strings, empty) are tested in tests/test_estimate_rmt.py"
    ),
    "marchenko_pastur_edge": (
        "takes the sample and feature counts and a variance, no data array; its argument "
        "errors are tested in tests/test_estimate_rmt.py"
    ),
}
