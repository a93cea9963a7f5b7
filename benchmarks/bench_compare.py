"""Benchmark: linear CKA in subspacekit vs torch-cka and a plain n x n Gram implementation.

Every (method, case) runs in a fresh Python process, three times (median reported),
after a warm-up call on a small slice; peak extra memory is the growth of the process's
maximum resident set size during the timed call (``resource.ru_maxrss``). numpy/OpenBLAS
and torch use 2 threads. All methods see the same synthetic input: two representations
of n = 10,000 inputs sharing a 64-dimensional latent, ``X = Z A + E`` (float64; cast to
float32 where a method runs in float32).

Methods
-------
* ``subspacekit f64`` / ``f32``: :func:`subspacekit.compare.cka`, feature-space formula,
  biased HSIC (the Kornblith et al. linear CKA), float64 or float32 input.
* ``subspacekit debiased f64``: the same with the unbiased HSIC.
* ``gram f64`` / ``gram debiased f64``: plain n x n Gram matrices in numpy float64
  (``K = Xc Xc^T``; biased CKA = <K, L>/(|K||L|); debiased by Song et al.'s formula).
* ``torch-cka``: ``torch_cka.CKA`` (PyPI torch-cka 0.21) on identity models with the
  whole data as one batch, float32 (its only dtype). It computes the unbiased HSIC of
  the *uncentred* Gram matrices with n x n x n products, so it is compared with the
  debiased value.
* ``torch-cka minibatch`` vs ``subspacekit MiniBatchCKA``: batches of 1,000, float32.

Usage: ``python benchmarks/bench_compare.py [--repeats 3] [--cases 384x384,1024x1024,384x1024]``
(``BENCH_N=2000`` for a quick smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

N = int(os.environ.get("BENCH_N", "10000"))
LATENT = 64
THREADS = "2"


def _data(d1: int, d2: int):
    import numpy as np

    rng = np.random.RandomState(0)
    Z = rng.normal(size=(N, LATENT))
    X = Z @ rng.normal(size=(LATENT, d1)) + 2.0 * rng.normal(size=(N, d1)) + 3.0
    Y = np.tanh(Z @ rng.normal(size=(LATENT, d2)) / 8) + 0.5 * rng.normal(size=(N, d2)) - 1.0
    return X, Y


def _gram_cka(X, Y, debiased: bool) -> float:
    import numpy as np

    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    K, L = Xc @ Xc.T, Yc @ Yc.T
    if not debiased:
        return float(np.vdot(K, L) / np.sqrt(np.vdot(K, K) * np.vdot(L, L)))
    # Song et al. (2012) with zero diagonals, set in place to keep two n x n matrices.
    n = K.shape[0]
    np.fill_diagonal(K, 0.0)
    np.fill_diagonal(L, 0.0)
    sums = {"K": float(K.sum()), "L": float(L.sum())}
    rows = {"K": K.sum(1), "L": L.sum(1)}
    mats = {"K": K, "L": L}

    def unbiased(a: str, b: str) -> float:
        t1 = float(np.vdot(mats[a], mats[b]))
        t2 = sums[a] * sums[b] / ((n - 1) * (n - 2))
        t3 = 2.0 * float(rows[a] @ rows[b]) / (n - 2)
        return (t1 + t2 - t3) / (n * (n - 3))

    return unbiased("K", "L") / np.sqrt(unbiased("K", "K") * unbiased("L", "L"))


def _torch_cka(X, Y, batch: int) -> float:
    import warnings

    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from torch_cka import CKA

    m1 = torch.nn.Sequential(torch.nn.Identity())
    m2 = torch.nn.Sequential(torch.nn.Identity())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner = CKA(
            m1,
            m2,
            model1_name="X",
            model2_name="Y",
            model1_layers=["0"],
            model2_layers=["0"],
            device="cpu",
        )
        dx = DataLoader(TensorDataset(torch.from_numpy(X).float()), batch_size=batch)
        dy = DataLoader(TensorDataset(torch.from_numpy(Y).float()), batch_size=batch)
        runner.compare(dx, dy)
    return float(runner.export()["CKA"][0, 0])


def _run(method: str, X, Y) -> float:
    import numpy as np

    from subspacekit.compare import MiniBatchCKA, cka

    if method == "subspacekit f64":
        return float(cka(X, Y))
    if method == "subspacekit f32":
        return float(cka(X.astype(np.float32), Y.astype(np.float32)))
    if method == "subspacekit debiased f64":
        return float(cka(X, Y, debiased=True))
    if method == "subspacekit minibatch f32":
        acc = MiniBatchCKA()
        X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
        for s in range(0, X.shape[0], 1000):
            acc.partial_fit(X32[s : s + 1000], Y32[s : s + 1000])
        return acc.cka_
    if method == "gram f64":
        return _gram_cka(X, Y, debiased=False)
    if method == "gram debiased f64":
        return _gram_cka(X, Y, debiased=True)
    if method == "torch-cka":
        return _torch_cka(X, Y, batch=X.shape[0])
    if method == "torch-cka minibatch":
        return _torch_cka(X, Y, batch=1000)
    raise ValueError(method)


def worker(method: str, d1: int, d2: int) -> None:
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(int(THREADS))
    X, Y = _data(d1, d2)
    _run(method, X[:300], Y[:300])  # warm-up: imports, BLAS/torch kernels
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    value = _run(method, X, Y)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    extra = max(after.ru_maxrss - before.ru_maxrss, 0) / 1024.0
    record = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "value": value,
        "extra_mb": extra,
        "n": int(np.shape(X)[0]),
    }
    print(json.dumps(record))


METHODS = [
    "subspacekit f64",
    "subspacekit f32",
    "subspacekit debiased f64",
    "gram f64",
    "gram debiased f64",
    "torch-cka",
    "subspacekit minibatch f32",
    "torch-cka minibatch",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default="384x384,1024x1024,384x1024")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--worker", nargs=3)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return
    env = dict(
        os.environ,
        OMP_NUM_THREADS=THREADS,
        OPENBLAS_NUM_THREADS=THREADS,
        MKL_NUM_THREADS=THREADS,
        TQDM_DISABLE="1",
        BENCH_N=str(N),
    )
    methods = args.methods.split(",")
    print(
        f"linear CKA, n={N}, {args.repeats} fresh processes per cell, {THREADS} threads; "
        f"python {sys.version.split()[0]}"
    )
    for case in args.cases.split(","):
        d1, d2 = (int(v) for v in case.split("x"))
        rows = {}
        for method in methods:
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", method, str(d1), str(d2)],
                    capture_output=True,
                    text=True,
                    env=env,
                )
                if out.returncode != 0:
                    runs = None
                    rows[method] = {"error": out.stderr.strip().splitlines()[-1]}
                    break
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            if runs:
                times = sorted(r["seconds"] for r in runs)
                cpus = sorted(r["cpu_seconds"] for r in runs)
                rows[method] = {
                    "seconds": times[len(times) // 2],
                    "cpu": cpus[len(cpus) // 2],
                    "value": runs[0]["value"],
                    "extra_mb": max(r["extra_mb"] for r in runs),
                }
            print(f"  done {case} {method}: {rows[method]}", flush=True)
        _table(case, rows)


def _table(case: str, rows: dict) -> None:
    ours = rows.get("subspacekit f64", {})
    ref = {
        "subspacekit f64": "gram f64",
        "subspacekit f32": "gram f64",
        "subspacekit debiased f64": "gram debiased f64",
        "gram f64": "gram f64",
        "gram debiased f64": "gram debiased f64",
        "torch-cka": "gram debiased f64",
        "subspacekit minibatch f32": "gram debiased f64",
        "torch-cka minibatch": "subspacekit minibatch f32",
    }
    print(
        f"\nX: {N} x {case.split('x')[0]}, Y: {N} x {case.split('x')[1]}  "
        "(ratios: time / time of subspacekit f64; CPU = user+system of all threads)"
    )
    print(
        f"{'method':26s} {'wall s':>8s} {'ratio':>6s} {'CPU s':>8s} {'ratio':>6s} "
        f"{'extra MB':>8s} {'CKA':>11s} {'|diff|':>9s}  vs"
    )
    for method, r in rows.items():
        if "error" in r:
            print(f"{method:26s} failed: {r['error']}")
            continue
        base = rows.get(ref[method], {}).get("value")
        diff = abs(r["value"] - base) if base is not None else float("nan")
        wall = r["seconds"] / ours["seconds"] if ours else float("nan")
        cpu = r["cpu"] / ours["cpu"] if ours else float("nan")
        print(
            f"{method:26s} {r['seconds']:8.3f} {wall:6.1f} {r['cpu']:8.3f} {cpu:6.1f} "
            f"{r['extra_mb']:8.0f} {r['value']:11.8f} {diff:9.1e}  {ref[method]}"
        )
    print(flush=True)


if __name__ == "__main__":
    main()
