"""Benchmark subspacekit.cluster against scikit-learn on the same inputs, in the same run.

1. EnSC and SSC-OMP versus scikit-learn's ``SpectralClustering`` with a k-nearest-neighbour
   affinity (and ``KMeans``) on Extended Yale B (38 subjects, 2,414 faces) and COIL-20:
   accuracy, NMI, wall time (median of ``--repeats`` runs) and the time ratio.
2. S2CAG and M-S2CAG wall time on Cora, ACM and Wiki (authors' settings for ACM/Wiki,
   README defaults for Cora), implicit operator versus explicit ``Z``.

Peak memory is the largest traced allocation (``tracemalloc``, numpy included) of one
extra run, so tracing does not slow the timed runs.

Run: ``OMP_NUM_THREADS=2 python benchmarks/bench_cluster.py [--repeats 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.cluster import KMeans, SpectralClustering

from subspacekit.cluster import MS2CAG, S2CAG, SSCOMP, clustering_scores
from subspacekit.data import load
from subspacekit.reproduce.cluster import IMAGE_METHODS


def measure(run: Callable[[], Any], repeats: int) -> tuple[Any, float, float]:
    """Return (last result, median seconds, peak traced MB of one extra run)."""
    times = []
    result = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            start = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, statistics.median(times), peak / 2**20


def _image_runs(name: str, X: np.ndarray, k: int) -> dict[str, Callable[[], Any]]:
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    ensc_factory = IMAGE_METHODS[name]["EnSC"][0]
    return {
        "sklearn SpectralClustering 10-NN": lambda: SpectralClustering(
            k, affinity="nearest_neighbors", n_neighbors=10, random_state=0
        ).fit_predict(unit),
        "sklearn KMeans (10 inits)": lambda: KMeans(k, n_init=10, random_state=0).fit_predict(unit),
        "SSC-OMP (k_max=10)": lambda: SSCOMP(k, n_nonzero=10, random_state=0).fit_predict(X),
        "EnSC (ORGEN)": lambda: ensc_factory(k).fit_predict(X),
    }


def bench_images(repeats: int, quick: bool) -> None:
    print("\n== Subspace clustering vs scikit-learn (same input: unit-norm pixels) ==")
    header = f"{'data':<16}{'method':<30}{'ACC':>7}{'NMI':>7}{'time s':>9}{'x SC':>7}{'peak MB':>9}"
    print(header)
    print("-" * len(header))
    for name in ("extended_yale_b", "coil20"):
        data = load(name)
        X, y = data.data, data.target
        if quick:
            keep = y < 10
            X, y = X[keep], y[keep]
        runs = _image_runs(name, X, len(np.unique(y)))
        reference = None
        for method, run in runs.items():
            labels, seconds, peak = measure(run, repeats)
            if reference is None:
                reference = seconds
            scores = clustering_scores(y, labels)
            print(
                f"{name:<16}{method:<30}{scores['acc']:>7.3f}{scores['nmi']:>7.3f}"
                f"{seconds:>9.2f}{seconds / reference:>7.2f}{peak:>9.1f}"
            )


def bench_graphs(repeats: int) -> None:
    print("\n== S2CAG / M-S2CAG wall time (fit_predict, TF-IDF and operators included) ==")
    header = f"{'data':<8}{'method':<10}{'solver':<10}{'ACC':>7}{'time s':>9}{'peak MB':>9}"
    print(header)
    print("-" * len(header))
    for name, preset in (("cora", None), ("acm", "acm"), ("wiki", "wiki")):
        data = load(name)
        X, A, y = data.data, data.adjacency, data.target
        k = len(np.unique(y))
        for cls in (S2CAG, MS2CAG):
            for solver in ("implicit", "explicit"):
                model = cls(k, preset=preset, solver=solver)

                def run(m: Any = model, X: Any = X, A: Any = A) -> Any:
                    return m.fit_predict(X, adjacency=A)

                labels, seconds, peak = measure(run, repeats)
                acc = clustering_scores(y, labels)["acc"]
                print(
                    f"{name:<8}{cls.__name__:<10}{solver:<10}{acc:>7.3f}{seconds:>9.2f}{peak:>9.1f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 Yale B subjects only")
    args = parser.parse_args()
    bench_images(args.repeats, args.quick)
    bench_graphs(args.repeats)


if __name__ == "__main__":
    main()
