"""Benchmark subspacekit.estimate against scikit-learn on the same data in the same run.

PCA on 200,000 x 384 float32 (64 components): full SVD, randomized SVD, and streaming
(scikit-learn's IncrementalPCA with batches of 10,000 rows versus our exact float64
covariance streaming). CCA versus ``sklearn.cross_decomposition.CCA`` on data with
known canonical correlations (accuracy, time, convergence warnings).

Every method runs in a fresh subprocess: one warm-up on a slice, then the median of
``--repeats`` timed fits, then one more fit under ``tracemalloc`` for the peak of
memory allocated during the fit (the input excluded). Accuracy is measured against a
float64 reference computed independently (numpy GEMM on the centred float64 data and
``numpy.linalg.eigh``).

Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_estimate.py [--quick] [--repeats 3]
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

N_SAMPLES, N_FEATURES, N_COMPONENTS, BATCH = 200_000, 384, 64, 10_000
RHO = np.array([0.9, 0.7, 0.5])
# "close": nearly equal canonical correlations, where power-iteration (NIPALS) CCA converges slowly.
CCA_CASES = {
    "small": (5000, 20, 15, RHO),
    "wide": (2000, 200, 150, RHO),
    "close": (5000, 20, 15, np.array([0.70, 0.69, 0.68])),
}


# ----------------------------------------------------------------------------- data
def pca_data(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    # Power-law spectrum with a factor-2 drop after the 64th component, so that the
    # top-64 subspace is well defined and its error measures the solver's precision.
    spectrum = (1.0 + np.arange(N_FEATURES)) ** -0.7
    spectrum[N_COMPONENTS:] *= 0.5
    basis = np.linalg.qr(rng.standard_normal((N_FEATURES, N_FEATURES)))[0]
    X = (rng.standard_normal((n, N_FEATURES)) * spectrum) @ basis.T + 3.0
    return X.astype(np.float32)


def cca_data(
    n: int, dx: int, dy: int, rho: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 3))
    u = z * np.sqrt(rho) + rng.standard_normal((n, 3)) * np.sqrt(1 - rho)
    v = z * np.sqrt(rho) + rng.standard_normal((n, 3)) * np.sqrt(1 - rho)
    X = np.hstack([u, rng.standard_normal((n, dx - 3))]) @ rng.standard_normal((dx, dx))
    Y = np.hstack([v, rng.standard_normal((n, dy - 3))]) @ rng.standard_normal((dy, dy))
    return X, Y


# ----------------------------------------------------------------------------- methods
def pca_method(name: str):
    from sklearn.decomposition import PCA as SkPCA
    from sklearn.decomposition import IncrementalPCA

    from subspacekit.estimate import PCA

    def components(est):
        return np.asarray(est.components_, dtype=np.float64), np.asarray(
            est.explained_variance_, dtype=np.float64
        )

    table = {
        "sklearn PCA full": lambda X: components(SkPCA(N_COMPONENTS, svd_solver="full").fit(X)),
        "ours PCA full": lambda X: components(PCA(N_COMPONENTS, solver="full").fit(X)),
        "sklearn PCA randomized": lambda X: components(
            SkPCA(N_COMPONENTS, svd_solver="randomized", random_state=0).fit(X)
        ),
        "ours PCA randomized": lambda X: components(
            PCA(N_COMPONENTS, solver="randomized", random_state=0).fit(X)
        ),
        "sklearn PCA covariance_eigh": lambda X: components(
            SkPCA(N_COMPONENTS, svd_solver="covariance_eigh").fit(X)
        ),
        "sklearn IncrementalPCA": lambda X: components(
            IncrementalPCA(N_COMPONENTS, batch_size=BATCH).fit(X)
        ),
        "ours streaming (partial_fit, 10k chunks)": lambda X: components(
            _stream(PCA(N_COMPONENTS), X)
        ),
        "ours streaming (fit on array)": lambda X: components(
            PCA(N_COMPONENTS, solver="covariance").fit(X)
        ),
    }
    return table[name]


def _stream(est, X):
    for start in range(0, len(X), BATCH):
        est.partial_fit(X[start : start + BATCH])
    _ = est.components_  # the eigendecomposition happens on first access
    return est


def cca_method(name: str):
    from sklearn.cross_decomposition import CCA as SkCCA

    from subspacekit.estimate import CCA

    def sk(X, Y):
        model = SkCCA(n_components=3, max_iter=500).fit(X, Y)
        zx, zy = model.transform(X, Y)
        return np.array([np.corrcoef(zx[:, i], zy[:, i])[0, 1] for i in range(3)])

    table = {
        "sklearn CCA": sk,
        "ours CCA": lambda X, Y: CCA(n_components=3).fit(X, Y).canonical_correlations_,
    }
    return table[name]


# ----------------------------------------------------------------------------- child
def run_one(group: str, name: str, repeats: int, quick: bool, case: str) -> dict:
    if group == "pca":
        n = 20_000 if quick else N_SAMPLES
        X = pca_data(n)
        fn = pca_method(name)
        fn(X[:5000])  # warm-up: imports, BLAS threads, caches
        args: tuple = (X,)
    else:
        n, dx, dy, rho = CCA_CASES[case]
        X, Y = cca_data(n, dx, dy, rho)
        fn = cca_method(name)
        fn(X[:500], Y[:500])
        args = (X, Y)
    times = []
    caught: list = []
    result = None
    for _ in range(repeats):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            result = fn(*args)
            times.append(time.perf_counter() - t0)
        caught.extend(str(x.category.__name__) for x in w)
    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = {
        "time": float(np.median(times)),
        "peak_mb": peak / 2**20,
        "warnings": sorted(set(caught)),
    }
    if group == "pca":
        comps, variances = result
        out["components"] = comps.tolist()
        out["variances"] = variances.tolist()
    else:
        out["correlations"] = np.asarray(result).tolist()
    return out


def child(argv: list[str]) -> None:
    group, name, repeats, quick, case = argv[0], argv[1], int(argv[2]), argv[3] == "1", argv[4]
    print(json.dumps(run_one(group, name, repeats, quick, case)))


def spawn(group: str, name: str, repeats: int, quick: bool, case: str = "") -> dict:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    env.setdefault("OPENBLAS_NUM_THREADS", env["OMP_NUM_THREADS"])
    cmd = [
        sys.executable,
        __file__,
        "--child",
        group,
        name,
        str(repeats),
        "1" if quick else "0",
        case or "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report
def reference_pca(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    X = pca_data(20_000 if quick else N_SAMPLES).astype(np.float64)
    X -= X.mean(axis=0)
    evals, evecs = np.linalg.eigh(X.T @ X / (len(X) - 1))
    order = np.argsort(evals)[::-1][:N_COMPONENTS]
    return evecs[:, order].T, evals[order]


def subspace_error(components: np.ndarray, reference: np.ndarray) -> float:
    """sin of the largest principal angle between the two row spans (spectral projector gap)."""
    Q = np.linalg.qr(components.T)[0]
    cosines = np.linalg.svd(Q.T @ reference.T, compute_uv=False)
    return float(np.sqrt(max(0.0, 1.0 - cosines.min() ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows instead of 200,000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    threads = os.environ.get("OMP_NUM_THREADS", "2")
    n = 20_000 if args.quick else N_SAMPLES
    print(
        f"# PCA, {n} x {N_FEATURES} float32, {N_COMPONENTS} components, OMP_NUM_THREADS={threads}, "
        f"median of {args.repeats}"
    )
    ref_components, ref_variances = reference_pca(args.quick)
    pairs = [
        ("sklearn PCA full", "ours PCA full"),
        ("sklearn PCA randomized", "ours PCA randomized"),
        ("sklearn IncrementalPCA", "ours streaming (partial_fit, 10k chunks)"),
        ("sklearn IncrementalPCA", "ours streaming (fit on array)"),
        ("sklearn PCA covariance_eigh", "ours streaming (fit on array)"),
    ]
    results: dict[str, dict] = {}
    for peer, ours in pairs:
        for name in (peer, ours):
            if name not in results:
                results[name] = spawn("pca", name, args.repeats, args.quick)
    header = f"{'method':44s} {'time s':>8s} {'peak MB':>8s} {'subspace err':>13s} {'max rel var err':>16s}"
    print(header)
    for name, r in results.items():
        comps, variances = np.array(r["components"]), np.array(r["variances"])
        err = subspace_error(comps, ref_components)
        var_err = float(np.max(np.abs(variances - ref_variances) / ref_variances))
        print(f"{name:44s} {r['time']:8.3f} {r['peak_mb']:8.1f} {err:13.2e} {var_err:16.2e}")
    print("\n# ratios (peer / ours): time and peak memory")
    for peer, ours in pairs:
        p, o = results[peer], results[ours]
        print(
            f"{peer:28s} vs {ours:40s} time x{p['time'] / o['time']:6.2f}  memory x{p['peak_mb'] / max(o['peak_mb'], 1e-9):6.2f}"
        )

    print("\n# CCA (3 components): error against the planted canonical correlations")
    for case, (n_cca, dx, dy, rho) in CCA_CASES.items():
        print(f"## case {case}: n={n_cca}, d_x={dx}, d_y={dy}, planted {rho.tolist()}")
        rows = {}
        for name in ("sklearn CCA", "ours CCA"):
            rows[name] = spawn("cca", name, args.repeats, args.quick, case)
            r = rows[name]
            err = float(np.max(np.abs(np.array(r["correlations"]) - rho)))
            print(
                f"{name:14s} time {r['time']:8.3f} s  peak {r['peak_mb']:7.1f} MB  corr {np.round(r['correlations'], 4).tolist()}  "
                f"max |err| {err:.4f}  warnings {r['warnings'] or 'none'}"
            )
        gap = np.max(
            np.abs(np.array(rows["sklearn CCA"]["correlations"]) - rows["ours CCA"]["correlations"])
        )
        print(
            f"time ratio sklearn/ours x{rows['sklearn CCA']['time'] / rows['ours CCA']['time']:.1f}; "
            f"max |sklearn - ours| = {gap:.2e}"
        )


if __name__ == "__main__":
    main()
