"""Benchmark subspacekit.detect.SubspaceAD against PyOD's PCA detector on the same data.

1. Speed and memory: fit on 1,000,000 x 64 float64 rows (1 % planted outliers) and score
   the same rows, for SubspaceAD (default: 99 % variance, Fisher-combined SPE + T^2;
   and with PyOD's standardisation), ``pyod.models.pca.PCA`` with its defaults
   (standardised, all components, weighted distances; its training scores
   ``decision_scores_`` are computed inside ``fit``) and scikit-learn ``PCA(0.9)`` plus the
   reconstruction residual. Each method runs in a fresh subprocess: one warm-up on a
   slice, the median of ``--repeats`` timed runs, then one run under ``tracemalloc``
   for the peak memory allocated during fit + score (the input excluded). ROC-AUC on
   the planted outliers is reported too.
2. ROC-AUC on every ODDS set with PyOD's 2019 protocol (60/40 splits, standardised,
   mean of 10 splits) for SubspaceAD's statistics, PyOD PCA (run here) and
   scikit-learn's IsolationForest, next to the published PyOD numbers.

Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_detect.py [--quick] [--repeats 3] [--no-odds | --odds-only]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np

N_SAMPLES, N_FEATURES = 1_000_000, 64


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Inliers near a 10-dimensional subspace (power-law spectrum) plus 1 % outliers."""
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((N_FEATURES, N_FEATURES)))[0]
    spectrum = np.r_[10.0 * (1.0 + np.arange(10)) ** -0.5, np.full(N_FEATURES - 10, 0.3)]
    X = (rng.standard_normal((n, N_FEATURES)) * spectrum) @ basis.T + 5.0
    y = np.zeros(n, dtype=int)
    outliers = rng.choice(n, n // 100, replace=False)
    y[outliers] = 1
    # Half leave the subspace (large SPE), half sit far out inside it (large T^2).
    half = len(outliers) // 2
    X[outliers[:half]] += 1.5 * rng.standard_normal((half, N_FEATURES - 10)) @ basis[:, 10:].T
    X[outliers[half:]] += (
        4.0 * rng.standard_normal((len(outliers) - half, 10)) * spectrum[:10] @ basis[:, :10].T
    )
    return X, y


def method(name: str):
    """A function X -> anomaly scores (higher = more anomalous), fitting on X."""
    if name.startswith("subspacead"):
        from subspacekit.detect import SubspaceAD

        params = {
            "subspacead": {},
            "subspacead-standardized": {"standardize": True},
            "subspacead-spe": {"statistic": "spe"},
        }[name]
        return lambda X: -SubspaceAD(**params).fit(X).score_samples(X)
    if name == "pyod-pca":
        from pyod.models.pca import PCA as PyodPCA

        return lambda X: PyodPCA().fit(X).decision_scores_
    if name == "sklearn-pca0.9-residual":
        from sklearn.decomposition import PCA

        def residual(X):
            pca = PCA(n_components=0.9).fit(X)
            return ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum(axis=1)

        return residual
    raise ValueError(name)


def run_one(name: str, repeats: int, n: int) -> dict:
    from sklearn.metrics import roc_auc_score

    X, y = make_data(n)
    fn = method(name)
    warnings.simplefilter("ignore")
    fn(X[: min(n, 20_000)])  # warm-up: imports, BLAS threads
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scores = fn(X)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    scores = np.nan_to_num(scores, posinf=np.finfo(float).max)
    return {
        "name": name,
        "seconds": float(np.median(times)),
        "all_seconds": times,
        "peak_mb": peak / 2**20,
        "roc_auc": float(roc_auc_score(y, scores)),
    }


def spawn(name: str, repeats: int, n: int) -> dict:
    cmd = [sys.executable, __file__, "--child", name, str(repeats), str(n)]
    env = dict(os.environ)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"name": name, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def odds_table(quick: bool) -> str:
    from pyod.models.pca import PCA as PyodPCA
    from sklearn.ensemble import IsolationForest

    from subspacekit.reproduce.detect import (
        PYOD_2019_IFOREST,
        PYOD_2019_PCA,
        _format_odds,
        odds_roc_auc,
        subspacead_scorer,
    )

    warnings.simplefilter("ignore")
    scorers = {
        "ours-combined": subspacead_scorer(),
        "ours-spe": subspacead_scorer(statistic="spe"),
        "ours-t2": subspacead_scorer(statistic="t2"),
        "pyod-pca-run": lambda tr, te: PyodPCA().fit(tr).decision_function(te),
        "iforest-run": lambda tr, te: -IsolationForest(random_state=0).fit(tr).score_samples(te),
    }
    start = time.perf_counter()
    table = odds_roc_auc(scorers, n_splits=3 if quick else 10)
    lines = [_format_odds(table), ""]
    common = sorted(PYOD_2019_PCA)
    for key in scorers:
        all_mean = np.mean([row[key] for row in table.values()])
        common_mean = np.mean([table[s][key] for s in common])
        lines.append(
            f"mean {key:14s} all 20 sets {all_mean:.4f}   PyOD-2019's 16 sets {common_mean:.4f}"
        )
    # The protocol standardises every set, so SubspaceAD(standardize=True) is the same
    # detector there; without the protocol's standardisation the two differ:
    raw = odds_roc_auc(
        {"raw": subspacead_scorer(), "standardize=True": subspacead_scorer(standardize=True)},
        n_splits=3 if quick else 10,
        standardize=False,
    )
    for key in ("raw", "standardize=True"):
        all_mean = np.mean([row[key] for row in raw.values()])
        common_mean = np.mean([raw[s][key] for s in common])
        lines.append(
            f"mean ours-combined, unstandardised protocol, {key:16s} all 20 sets {all_mean:.4f}"
            f"   PyOD-2019's 16 sets {common_mean:.4f}"
        )
    lines.append(
        f"published PyOD-2019 PCA mean (16 sets) {np.mean(list(PYOD_2019_PCA.values())):.4f}, "
        f"IForest {np.mean(list(PYOD_2019_IFOREST.values())):.4f}"
    )
    lines.append(f"({time.perf_counter() - start:.0f} s, {'3' if quick else '10'} splits per set)")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        name, repeats, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(run_one(name, repeats, n)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows and 3 ODDS splits")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-odds", action="store_true")
    parser.add_argument("--odds-only", action="store_true")
    args = parser.parse_args()
    if args.odds_only:
        print(odds_table(args.quick))
        return
    n = 100_000 if args.quick else N_SAMPLES
    print(
        f"fit + score on {n:,} x {N_FEATURES} float64, 1 % planted outliers; "
        f"median of {args.repeats} runs in fresh processes; OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    names = [
        "subspacead",
        "subspacead-standardized",
        "subspacead-spe",
        "pyod-pca",
        "sklearn-pca0.9-residual",
    ]
    results = {name: spawn(name, args.repeats, n) for name in names}
    base = results["pyod-pca"].get("seconds", float("nan"))
    print(f"{'method':26s} {'seconds':>9s} {'x vs PyOD':>10s} {'peak MB':>9s} {'ROC-AUC':>8s}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:26s} failed: {r['error']}")
            continue
        print(
            f"{name:26s} {r['seconds']:9.3f} {base / r['seconds']:10.2f} "
            f"{r['peak_mb']:9.1f} {r['roc_auc']:8.4f}   runs {np.round(r['all_seconds'], 3).tolist()}"
        )
    if not args.no_odds:
        print()
        print(odds_table(args.quick))


if __name__ == "__main__":
    main()
