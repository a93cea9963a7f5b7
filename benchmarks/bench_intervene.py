"""Benchmark: LEACE fit (subspacekit) against EleutherAI's concept-erasure, same input.

Input: 100,000 x 384 float32 activations with a binary concept (the size in
specs/performance.md). Each measurement is a fresh subprocess (2 threads) that
builds the data, warms up on a slice, then times one full fit; the median of
``--repeats`` processes is reported, with the peak extra resident memory of the fit
(ru_maxrss after minus resident size before). The two erasers are also compared
on the same float64 data (max |P_ours - P_theirs|).

Run:  python benchmarks/bench_intervene.py [--n 100000] [--d 384] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys, time
import numpy as np
import torch
torch.set_num_threads(2)
method, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
z = rng.integers(0, 2, n)
X = (rng.standard_normal((n, d), dtype=np.float32)
     + np.outer(z, rng.standard_normal(d)).astype(np.float32))
def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
if method == "subspacekit":
    from subspacekit.intervene import LEACE
    fit = lambda A, y: LEACE().fit(A, y)
else:
    from concept_erasure import LeaceFitter
    def fit(A, y):
        eraser = LeaceFitter.fit(torch.from_numpy(A), torch.nn.functional.one_hot(
            torch.from_numpy(y), 2).to(torch.float32)).eraser
        return eraser
fit(X[:5000], z[:5000])  # warm-up
before = rss_kb()
t = time.perf_counter()
fit(X, z)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "extra_mb": max(0, peak - before) / 1024}))
"""

PARITY = r"""
import json, sys
import numpy as np, torch
from concept_erasure import LeaceFitter
from subspacekit.intervene import LEACE
rng = np.random.default_rng(1)
n, d = 20000, int(sys.argv[1])
z = rng.integers(0, 2, n)
X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) / d**0.5 + np.outer(z, rng.standard_normal(d))
theirs = LeaceFitter.fit(torch.tensor(X), torch.nn.functional.one_hot(torch.tensor(z), 2).double()).eraser.P.numpy()
ours = LEACE().fit(X, z).projection_
print(json.dumps({"max_abs_diff_float64": float(np.abs(ours - theirs).max())}))
"""


def run(code: str, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for method in ("concept-erasure", "subspacekit"):
        runs = [run(CHILD, method, str(args.n), str(args.d)) for _ in range(args.repeats)]
        results[method] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "extra_mb": statistics.median(r["extra_mb"] for r in runs),
            "all_seconds": [round(r["seconds"], 3) for r in runs],
        }
    parity = run(PARITY, str(args.d))
    base = results["concept-erasure"]
    print(
        f"LEACE fit, {args.n} x {args.d} float32, binary concept, 2 threads, "
        f"median of {args.repeats} fresh processes"
    )
    print(f"{'method':<18}{'fit s':>9}{'extra MB':>10}{'time ratio':>12}   runs")
    for method, r in results.items():
        ratio = base["seconds"] / r["seconds"]
        print(
            f"{method:<18}{r['seconds']:>9.3f}{r['extra_mb']:>10.1f}{ratio:>11.2f}x   "
            f"{r['all_seconds']}"
        )
    print(
        f"eraser agreement (float64, 20000 x {args.d}): max |P_ours - P_theirs| = "
        f"{parity['max_abs_diff_float64']:.2e}"
    )
    print("time ratio = concept-erasure time / method time (> 1: faster than concept-erasure)")


if __name__ == "__main__":
    main()
