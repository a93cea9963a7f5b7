"""Principal angles at d=4096, k=64: subspacekit versus scipy.linalg.subspace_angles.

Both run on the same planted pair of subspaces in the same process, with two BLAS
threads; times are medians of repeated runs, memory is the tracemalloc peak of one
call. The planted angles span 1e-12 to 1.5 rad, so the accuracy columns show what
each method keeps of tiny angles. geomstats' Grassmannian distance is tried too.

Run: ``OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_core.py``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import statistics
import time
import tracemalloc

import numpy as np
import scipy
import scipy.linalg

import subspacekit
from subspacekit.core import grassmann_distance, principal_angles

D, K, REPEATS = 4096, 64, 7


def planted_pair(d: int, angles: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    k = len(angles)
    rng = np.random.default_rng(seed)
    W, _ = np.linalg.qr(rng.standard_normal((d, 2 * k)))
    return W[:, :k], W[:, :k] * np.cos(angles) + W[:, k:] * np.sin(angles)


def timed(fn, *args) -> tuple[float, float, np.ndarray]:
    fn(*args)  # warm-up
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20, np.sort(np.asarray(out))


def main() -> None:
    truth = np.sort(np.r_[np.logspace(-12, -1, K // 2), np.linspace(0.1, 1.5, K // 2)])
    A, B = planted_pair(D, truth)
    rows = []
    t_ours, m_ours, ours = timed(principal_angles, A, B)
    rows.append(("subspacekit.principal_angles", t_ours, m_ours, ours))
    t_sp, m_sp, sp = timed(scipy.linalg.subspace_angles, A, B)
    rows.append((f"scipy {scipy.__version__} subspace_angles", t_sp, m_sp, sp))
    tiny = truth < 1e-8
    print(
        f"principal angles, d={D}, k={K}, planted angles 1e-12 .. 1.5 rad, "
        f"median of {REPEATS} (subspacekit {subspacekit.__version__}, numpy {np.__version__})"
    )
    print(
        f"{'method':38s} {'time (ms)':>10s} {'t/ours':>7s} {'peak MiB':>9s} "
        f"{'max rel err':>12s} {'max rel err <1e-8':>18s}"
    )
    for name, t, mem, vals in rows:
        rel = np.abs(vals - truth) / truth
        print(
            f"{name:38s} {1e3 * t:10.2f} {t / t_ours:7.2f} {mem:9.1f} "
            f"{rel.max():12.2e} {rel[tiny].max():18.2e}"
        )
    try:
        from geomstats.geometry.grassmannian import Grassmannian  # noqa: F401
    except Exception as exc:  # geomstats is optional and often broken on new numpy
        print(f"geomstats: not run ({type(exc).__name__}: {exc})")
    else:  # pragma: no cover - depends on the environment
        print("geomstats: installed; distance comparison not implemented for this version")
    d_ours = grassmann_distance(A, B)
    print(f"geodesic distance: subspacekit {d_ours:.12f}, truth {np.linalg.norm(truth):.12f}")


if __name__ == "__main__":
    main()
