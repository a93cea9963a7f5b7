"""KSG mutual information: subspacekit versus scikit-learn's mutual_info_regression.

1-D: X and Y standard normal with correlation 0.9 (I = 0.8304 nats), n = 10,000, the
same samples for both; KSG-1 with k = 3 (scikit-learn's estimator). Times are medians of
repeated calls after a warm-up, in one process, one thread; peak extra memory is the rise
of the resident set size's high-water mark (VmHWM, reset just before the call) in a fresh
subprocess over its size before the call (tracemalloc misses k-d trees' C++ allocations).

Multivariate (which scikit-learn lacks): 5 x 5 Gaussians with five correlated pairs at
n = 2,000 and 5,000, timed against benchmark-mi's KSG (``KSGEnsembleFirstEstimator`` with
k = 3 and the max-norm: the same estimator) on the same samples. benchmark-mi pins
numpy < 2 and an old jax, so it runs in its own environment: set
``SUBSPACEKIT_BMI_PYTHON`` to that environment's python (it is timed in a subprocess,
median of 3 after a warm-up that includes jax compilation, XLA restricted to one thread).
The full protocol (nested subsamples + jackknife) is timed for reference.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_mi.py [--coverage]``
(``--coverage`` adds the interval coverage over 100 seeds at n = 500, 1,000, 2,000.)
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_selection import mutual_info_regression

import subspacekit
from subspacekit.measure.mi_samplers import CorrelatedGaussian
from subspacekit.measure.mutual_information import ksg_mi, mutual_information

REPEATS = 7

_MEMORY_SCRIPT = """
import sys, numpy as np
X = np.load(sys.argv[2]); Y = np.load(sys.argv[3])
if sys.argv[1] == "subspacekit":
    from subspacekit.measure.mutual_information import ksg_mi as f
    call = lambda: f(X, Y, n_neighbors=3)
else:
    from sklearn.feature_selection import mutual_info_regression as f
    call = lambda: f(X, Y[:, 0], n_neighbors=3, random_state=0)
call()  # warm-up: lazy imports and first-call allocations are not the method's memory
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
before = status("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
call()
print((status("VmHWM:") - before) / 1024)
"""


def timed(fn) -> tuple[float, float, float]:
    """Median time, value and tracemalloc peak (MiB) of ``fn()``."""
    value = fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), float(np.ravel(value)[0]), peak


def peak_extra_mib(which: str, X: np.ndarray, Y: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        px, py = Path(tmp, "x.npy"), Path(tmp, "y.npy")
        np.save(px, X)
        np.save(py, Y)
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_SCRIPT, which, str(px), str(py)],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(out.stdout.strip())


def one_dimensional() -> None:
    n = 10_000
    task = CorrelatedGaussian([0.9])
    X, Y = task.sample(n, random_state=0)
    t_ours, v_ours, tm_ours = timed(lambda: ksg_mi(X, Y, n_neighbors=3))
    t_sk, v_sk, tm_sk = timed(
        lambda: mutual_info_regression(X, Y[:, 0], n_neighbors=3, random_state=0)
    )
    m_ours, m_sk = peak_extra_mib("subspacekit", X, Y), peak_extra_mib("sklearn", X, Y)
    print(
        f"KSG-1 (k=3), 1-D Gaussians rho=0.9, n={n}, truth {task.mutual_information:.4f} nats; "
        f"median of {REPEATS}, 1 thread"
    )
    print(
        f"{'method':40s} {'time (ms)':>10s} {'t/ours':>7s} {'RSS MiB':>8s} "
        f"{'traced MiB':>10s} {'estimate':>9s}"
    )
    for name, t, m, tm, v in (
        (f"subspacekit {subspacekit.__version__} ksg_mi", t_ours, m_ours, tm_ours, v_ours),
        (f"sklearn {sklearn.__version__} mutual_info_regression", t_sk, m_sk, tm_sk, v_sk),
    ):
        print(f"{name:40s} {1e3 * t:10.2f} {t / t_ours:7.2f} {m:8.1f} {tm:10.2f} {v:9.4f}")
    print(
        f"|difference| = {abs(v_ours - v_sk):.2e} nats (target < 0.01); "
        f"speed-up {t_sk / t_ours:.2f}x (goal >= 5x)"
    )


_BMI_SCRIPT = """
import statistics, sys, time, numpy as np, bmi
X = np.load(sys.argv[1]); Y = np.load(sys.argv[2])
est = bmi.estimators.KSGEnsembleFirstEstimator(neighborhoods=(3,), metric_x="chebyshev")
value = est.estimate(X, Y)  # warm-up (jax compilation)
times = []
for _ in range(3):
    t0 = time.perf_counter(); est.estimate(X, Y); times.append(time.perf_counter() - t0)
print(value, statistics.median(times))
"""


def multivariate() -> None:
    task = CorrelatedGaussian([0.6] * 5)
    print(f"\nKSG-1 (k=3, max-norm), 5 x 5 Gaussians, truth {task.mutual_information:.4f} nats")
    bmi_python = os.environ.get("SUBSPACEKIT_BMI_PYTHON")
    for n in (2000, 5000):
        X, Y = task.sample(n, random_state=0)
        t_ours, v_ours, _ = timed(lambda X=X, Y=Y: ksg_mi(X, Y, n_neighbors=3))
        print(f"  n={n}: {'subspacekit ksg_mi':38s} {1e3 * t_ours:10.2f} ms  estimate {v_ours:.4f}")
        if not bmi_python:
            print(
                "  benchmark-mi: not run (it pins numpy < 2 and jax < 0.4.34; install it in "
                "its own environment and set SUBSPACEKIT_BMI_PYTHON to that python)"
            )
            continue
        with tempfile.TemporaryDirectory() as tmp:
            px, py = Path(tmp, "x.npy"), Path(tmp, "y.npy")
            np.save(px, X)
            np.save(py, Y)
            out = subprocess.run(
                [bmi_python, "-c", _BMI_SCRIPT, str(px), str(py)],
                capture_output=True,
                text=True,
                check=True,
                env={
                    **os.environ,
                    "JAX_PLATFORMS": "cpu",
                    # one thread, like ours: XLA ignores OMP_NUM_THREADS
                    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false "
                    "intra_op_parallelism_threads=1",
                },
            )
        v_bmi, t_bmi = map(float, out.stdout.split()[-2:])
        name = "benchmark-mi KSGEnsembleFirstEstimator"
        print(
            f"  n={n}: {name:38s} {1e3 * t_bmi:10.2f} ms  estimate {v_bmi:.4f}  "
            f"time ratio {t_bmi / t_ours:.1f}x, |difference| {abs(v_bmi - v_ours):.1e}"
        )


def protocol() -> None:
    print("\nfull protocol (levels n/8..n, 10-group jackknife), median of 3:")
    for label, task, n in (
        ("1-D rho=0.9", CorrelatedGaussian([0.9]), 10_000),
        ("2 x 2, rho=(0.8, 0.5)", CorrelatedGaussian([0.8, 0.5]), 5000),
    ):
        X, Y = task.sample(n, random_state=0)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = mutual_information(X, Y, "ksg", random_state=0)
            times.append(time.perf_counter() - t0)
        print(
            f"  {label:24s} n={n:6d}: {statistics.median(times):6.3f} s  {est} "
            f"(truth {task.mutual_information:.4f})"
        )


def coverage(sizes: tuple[int, ...] = (500, 1000, 2000), seeds: int = 100) -> None:
    """Coverage of the protocol's 95 % interval over seeds, 2 x 2 Gaussians (truth known)."""
    task = CorrelatedGaussian([0.8, 0.5])
    print(f"\ncoverage of 95% KSG intervals, 2 x 2 Gaussians (I = {task.mutual_information:.4f})")
    for n in sizes:
        covered, unsettled, values, raws, errors = 0, 0, [], [], []
        for seed in range(seeds):
            X, Y = task.sample(n, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = mutual_information(X, Y, "ksg", random_state=seed)
            covered += est.covers(task.mutual_information)
            unsettled += not est.details["settled"]
            values.append(est.value)
            raws.append(est.details["raw_value"])
            errors.append(est.stderr)
        print(
            f"  n={n:5d}: covered {covered}/{seeds}, mean {np.mean(values):.4f} "
            f"(raw {np.mean(raws):.4f}), sd over seeds {np.std(values):.4f}, "
            f"mean s.e. {np.mean(errors):.4f}, 'not settled' warnings {unsettled}/{seeds}"
        )


def main() -> None:
    one_dimensional()
    multivariate()
    protocol()
    if "--coverage" in sys.argv:
        coverage()


if __name__ == "__main__":
    main()
