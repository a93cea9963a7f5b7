"""Reproductions for :mod:`subspacekit.cluster`: planted subspaces, face/object/digit images, attributed graphs.

* :func:`reproduce_subspace_clustering_synthetic`: 5 random 6-dimensional subspaces of
  R^100 with 100 points each; every method's accuracy at zero noise (1.0 expected for
  all but LSR, which is only guaranteed for independent subspaces) and as the noise grows.
* :func:`reproduce_subspace_clustering_images`: Extended Yale B (38 subjects, 2,414
  faces), COIL-20 (1,440 images) and USPS (11,000 digits) against the classical
  baselines quoted in the DSC-Net paper (SSC 72.5 % / SSC-OMP 75.3 % on Yale B, SSC
  85.2 % on COIL-20; quoted, not verified against the original papers), k-means and
  scikit-learn's SpectralClustering with a k-NN affinity.
* :func:`reproduce_s2cag`: S2CAG and M-S2CAG with the authors' per-data-set settings on
  ACM and Wiki (and Cora, not in the paper) next to spectral clustering of the adjacency
  alone and k-means on the smoothed features.

Preprocessing of the images (stated once, used everywhere): pixel values in [0, 1] as
the loaders give them, and every image scaled to unit l2 norm by the estimators
(``normalize=True``), without PCA: the protocol of You, Robinson & Vidal's SSC-OMP code
for Extended Yale B (``run_EYaleB.m``: ``cnormalize`` of the 48x42 images, PCA step
commented out). LRR (both sets) and SSC-ADMM (Yale B), whose cost grows with the data
rank, additionally get a centred PCA to 300 dimensions of the unit-norm images (said in
their rows). Hyper-parameters were chosen by small sweeps on the same data.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.decomposition import PCA

from subspacekit.cluster import (
    LRR,
    LSR,
    MS2CAG,
    PRESETS,
    S2CAG,
    SSC,
    SSCOMP,
    EnSC,
    KSubspaces,
    attribute_normalization,
    clustering_scores,
    propagation_operator,
    smoothed_representation,
)
from subspacekit.data import load
from subspacekit.data.synthetic import union_of_subspaces

__all__ = [
    "IMAGE_METHODS",
    "evaluate",
    "reproduce_s2cag",
    "reproduce_subspace_clustering_images",
    "reproduce_subspace_clustering_synthetic",
]

Factory = Callable[[int], Any]

# Quoted in the DSC-Net paper (Ji et al. 2017) tables; SECONDARY/UNVERIFIED in
# specs/reference-numbers.md, so they are targets, not verified published values.
QUOTED_BASELINES = {
    "extended_yale_b": {"SSC": 0.7249, "SSC-OMP": 0.7529, "LRR": 0.6513},
    "coil20": {"SSC": 0.8517, "LRR": 0.6979, "SSC-OMP": 0.7014},
}
TARGETS = {"extended_yale_b": 0.72, "coil20": 0.85}


def _pca(dim: int) -> Callable[[np.ndarray], np.ndarray]:
    def transform(X: np.ndarray) -> np.ndarray:
        unit = X / np.linalg.norm(X, axis=1, keepdims=True)
        return np.asarray(PCA(n_components=min(dim, *X.shape), random_state=0).fit_transform(unit))

    return transform


# Per data set: name -> (factory of the estimator, optional input transform, note).
IMAGE_METHODS: dict[str, dict[str, tuple[Factory, Any, str]]] = {
    "extended_yale_b": {
        "SSC-OMP": (lambda k: SSCOMP(k, n_nonzero=10, random_state=0), None, "k_max=10"),
        "EnSC": (
            lambda k: EnSC(k, gamma=50, tau=0.9, affinity="nearest_neighbors", random_state=0),
            None,
            "gamma=50, tau=0.9, 3-NN affinity of the codes",
        ),
        "SSC": (
            lambda k: SSC(k, alpha=20, affinity="nearest_neighbors", random_state=0),
            _pca(300),
            "ADMM, alpha=20, 3-NN affinity, PCA to 300",
        ),
        "LRR": (lambda k: LRR(k, lam=0.1, rho=1.2, random_state=0), _pca(300), "lam=0.1, PCA 300"),
        "LSR": (lambda k: LSR(k, lam=0.01, random_state=0), None, "LSR1, lam=0.01"),
        "KSubspaces": (
            lambda k: KSubspaces(k, subspace_dim=9, n_init=5, random_state=0),
            None,
            "dim 9 (Lambertian), 5 restarts",
        ),
    },
    "coil20": {
        "SSC-OMP": (lambda k: SSCOMP(k, n_nonzero=10, random_state=0), None, "k_max=10"),
        "EnSC": (
            lambda k: EnSC(k, gamma=3, tau=0.5, affinity="nearest_neighbors", random_state=0),
            None,
            "gamma=3, tau=0.5, 3-NN affinity of the codes",
        ),
        "SSC": (
            lambda k: SSC(k, alpha=5, normalize=True, random_state=0),
            None,
            "ADMM, alpha=5, max-normalised affinity",
        ),
        "LRR": (lambda k: LRR(k, lam=0.1, rho=1.2, random_state=0), _pca(300), "lam=0.1, PCA 300"),
        "LSR": (lambda k: LSR(k, lam=0.01, random_state=0), None, "LSR1, lam=0.01"),
        "KSubspaces": (
            lambda k: KSubspaces(k, subspace_dim=5, n_init=5, random_state=0),
            None,
            "dim 5, 5 restarts",
        ),
    },
    "usps": {
        "SSC-OMP": (lambda k: SSCOMP(k, n_nonzero=10, random_state=0), None, "k_max=10"),
        "EnSC": (
            lambda k: EnSC(k, gamma=10, tau=0.5, affinity="nearest_neighbors", random_state=0),
            None,
            "gamma=10, tau=0.5, 3-NN affinity of the codes",
        ),
        "KSubspaces": (
            lambda k: KSubspaces(k, subspace_dim=12, n_init=5, random_state=0),
            None,
            "dim 12, 5 restarts",
        ),
    },
}


def evaluate(
    factory: Factory, X: np.ndarray, y: np.ndarray, transform: Any = None
) -> dict[str, Any]:
    """Fit ``factory(n_clusters)`` on ``X`` and return its scores, wall time and peak memory.

    Peak memory is the largest amount of Python-allocated memory (numpy arrays
    included) during the fit, from :mod:`tracemalloc`.
    """
    k = len(np.unique(y))
    tracemalloc.start()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = transform(X) if transform is not None else X
        labels = factory(k).fit_predict(data)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    scores = clustering_scores(y, labels)
    return {**{m: round(v, 4) for m, v in scores.items()}, "seconds": round(seconds, 2),
            "peak_mb": round(peak / 2**20, 1)}  # fmt: skip


def _baselines(X: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    return {
        "k-means": evaluate(lambda c: KMeans(c, n_init=10, random_state=0), unit, y),
        "SpectralClustering (10-NN)": evaluate(
            lambda c: SpectralClustering(
                c, affinity="nearest_neighbors", n_neighbors=10, random_state=0
            ),
            unit,
            y,
        ),
    }


def reproduce_subspace_clustering_synthetic(quick: bool = False) -> dict[str, Any]:
    """Planted subspaces: ACC 1.0 at zero noise for every method but LSR, graceful decay.

    5 random 6-dimensional subspaces of R^100, 100 points each
    (:func:`subspacekit.data.synthetic.union_of_subspaces`); the noise level is the
    noise-to-signal norm ratio.
    """
    noises = [0.0, 0.2] if quick else [0.0, 0.1, 0.2, 0.3, 0.5, 0.8]
    methods: dict[str, Factory] = {
        "SSC": lambda k: SSC(k, random_state=0),
        "SSC-OMP": lambda k: SSCOMP(k, n_nonzero=6, random_state=0),
        "EnSC": lambda k: EnSC(k, random_state=0),
        "LRR": lambda k: LRR(k, random_state=0),
        "LSR": lambda k: LSR(k, random_state=0),
        "KSubspaces": lambda k: KSubspaces(k, subspace_dim=6, random_state=0),
    }
    if quick:
        methods.pop("SSC")
        methods.pop("LRR")  # dense ALM with an SVD per iteration: minutes on two shared cores
    curve: dict[str, dict[float, float]] = {name: {} for name in methods}
    for noise in noises:
        X, y, _ = union_of_subspaces(5, 6, 100, 100, noise=noise, random_state=0)
        for name, factory in methods.items():
            curve[name][noise] = evaluate(factory, X, y)["acc"]
    at_zero = {name: values[0.0] for name, values in curve.items()}
    passed = all(acc == 1.0 for name, acc in at_zero.items() if name != "LSR")
    return {
        "published": "ACC 1.0 at zero noise (subspace-preserving codes; theory)",
        "measured": at_zero,
        "passed": passed,
        "tolerance": "exactly 1.0 for every method except LSR",
        "details": {"accuracy_by_noise": curve, "noises": noises},
    }


def reproduce_subspace_clustering_images(quick: bool = False) -> dict[str, Any]:
    """Extended Yale B, COIL-20 (and USPS in full mode) against the classical baselines.

    Quick mode: the first 10 Yale B subjects with SSC-OMP and EnSC only, and COIL-20 with
    EnSC, each next to k-means and SpectralClustering (about half a minute).
    """
    sets = ["extended_yale_b", "coil20"] if quick else ["extended_yale_b", "coil20", "usps"]
    tables: dict[str, dict[str, Any]] = {}
    for name in sets:
        data = load(name)
        X, y = data.data, data.target
        methods = IMAGE_METHODS[name]
        if quick:
            if name == "extended_yale_b":
                keep = y < 10
                X, y = X[keep], y[keep]
                methods = {m: methods[m] for m in ("SSC-OMP", "EnSC")}
            else:
                methods = {"EnSC": methods["EnSC"]}
        table = {m: {**evaluate(f, X, y, t), "settings": note}
                 for m, (f, t, note) in methods.items()}  # fmt: skip
        table.update(_baselines(X, y))
        tables[name] = {"n_samples": int(X.shape[0]), "results": table}
    best = {name: max(v["acc"] for m, v in t["results"].items() if m in IMAGE_METHODS[name])
            for name, t in tables.items()}  # fmt: skip
    passed = all(best[name] >= TARGETS[name] for name in TARGETS if name in best)
    if not quick:
        for name, t in tables.items():
            res = t["results"]
            floor = max(res["k-means"]["acc"], res["SpectralClustering (10-NN)"]["acc"])
            t["beats_both_baselines"] = {m: res[m]["acc"] > floor for m in IMAGE_METHODS[name]}
    return {
        "published": {"targets (best method ACC)": TARGETS, "quoted": QUOTED_BASELINES},
        "measured": best,
        "passed": passed,
        "tolerance": "best method ACC >= target (0.72 Yale B, 0.85 COIL-20)"
        + (" on 10 Yale B subjects in quick mode" if quick else ""),
        "details": tables,
    }


def _graph_baselines(Z: np.ndarray, A: Any, y: np.ndarray, seeds: int) -> dict[str, Any]:
    k = len(np.unique(y))
    spectral = []
    kmeans = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(seeds):
            lab = SpectralClustering(k, affinity="precomputed", random_state=seed).fit_predict(A)
            spectral.append(clustering_scores(y, lab))
            kmeans.append(
                clustering_scores(y, KMeans(k, n_init=10, random_state=seed).fit_predict(Z))
            )
    mean = lambda rows: {m: round(float(np.mean([r[m] for r in rows])), 4) for m in rows[0]}  # noqa: E731
    return {"spectral on A": mean(spectral), "k-means on Z": mean(kmeans)}


def reproduce_s2cag(quick: bool = False) -> dict[str, Any]:
    """S2CAG / M-S2CAG with the authors' run.sh settings on ACM, Wiki and Cora.

    Passes when M-S2CAG's ACC beats both baselines (spectral clustering of the adjacency
    alone; k-means, 10 restarts, on the same smoothed representation Z that M-S2CAG
    uses; both averaged over 5 seeds) on ACM and Wiki. No paper table value could be
    retrieved (specs/reference-numbers.md), so the paper's numbers are not compared.
    Cora is not in the paper; it uses the README defaults (T=10, alpha=0.9, tau=7,
    gamma=1).
    """
    sets = {"acm": "acm"} if quick else {"acm": "acm", "wiki": "wiki", "cora": None}
    tables: dict[str, Any] = {}
    for name, preset in sets.items():
        data = load(name)
        X, A, y = data.data, data.adjacency, data.target
        k = len(np.unique(y))
        rows: dict[str, Any] = {}
        for label, cls in (("S2CAG", S2CAG), ("M-S2CAG", MS2CAG)):
            start = time.perf_counter()
            labels = cls(k, preset=preset).fit_predict(X, adjacency=A)
            scores = clustering_scores(y, labels)
            rows[label] = {m: round(v, 4) for m, v in scores.items()}
            rows[label]["seconds"] = round(time.perf_counter() - start, 2)
        setting = PRESETS[preset]["MS2CAG"] if preset else {"n_hops": 10, "alpha": 0.9}
        Z = smoothed_representation(
            propagation_operator(A),
            attribute_normalization(X),
            int(setting["n_hops"]),
            float(setting["alpha"]),
        )
        rows.update(_graph_baselines(Z, A, y, seeds=2 if quick else 5))
        tables[name] = rows
    beats = {
        name: rows["M-S2CAG"]["acc"]
        > max(rows["spectral on A"]["acc"], rows["k-means on Z"]["acc"])
        for name, rows in tables.items()
    }
    return {
        "published": "paper table values not retrievable; claim: M-S2CAG beats the baselines",
        "measured": {name: rows["M-S2CAG"]["acc"] for name, rows in tables.items()},
        "passed": all(beats[name] for name in ("acm", "wiki") if name in beats),
        "tolerance": "M-S2CAG ACC > both baselines on ACM and Wiki",
        "details": {"tables": tables, "beats_both": beats},
    }
