"""Benchmark: subspacekit.measure against scikit-dimension and dse-dsmi, same inputs, same run.

Sections (each timing runs in a fresh subprocess with 2 BLAS/OpenMP threads; the
median of ``--repeats`` runs is reported, with the peak resident memory the call added):

* ``id``: TwoNN and MLE (Levina–Bickel, k = 20) at n = 50,000, d = 100 on two inputs —
  ``manifold``: a uniform 10-sphere linearly embedded in R^100 plus isotropic noise
  0.01 (low intrinsic dimension, the typical use), and ``gaussian``: N(0, I_100) (full
  rank, the worst case for any exact neighbour search) — against ``skdim.id.TwoNN`` and
  ``skdim.id.MLE``. Both must give the same estimate (to 1 %).
  The interval's cost is shown once ("+CI", a single run).
* ``dse``: diffusion spectral entropy at N = 2,000 against ``dse_dsmi`` (same value to
  1e-8), and the Nyström error and time against the exact value at N = 6,000.

Usage::

    python benchmarks/bench_measure.py                 # everything, 3 repeats
    python benchmarks/bench_measure.py --sections id --n 20000 --repeats 3
    python benchmarks/bench_measure.py --skdim-twonn-repeats 1   # skdim TwoNN is slow
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

THREADS = "2"

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, warnings
    import numpy as np
    spec = json.loads(sys.argv[1])
    rng = np.random.default_rng(spec["seed"])
    n, d = spec["n"], spec["d"]
    if spec["data"] == "manifold":
        Z = rng.standard_normal((n, 11))
        Z /= np.linalg.norm(Z, axis=1, keepdims=True)
        basis = np.linalg.qr(np.random.default_rng(99).standard_normal((d, 11)))[0]
        X = Z @ basis.T + 0.01 * rng.standard_normal((n, d))
    elif spec["data"] == "gaussian":
        X = rng.standard_normal((n, d))
    else:  # planted subspace for DSE
        basis = np.linalg.qr(np.random.default_rng(99).standard_normal((d, spec["k"])))[0]
        X = rng.standard_normal((n, spec["k"])) @ basis.T + 0.1 * rng.standard_normal((n, d))
    tool = spec["tool"]
    if tool.startswith("skdim"):
        import skdim
    elif tool.startswith("ref_"):
        with warnings.catch_warnings():
            import dse_dsmi
    else:
        from subspacekit.measure.intrinsic_dimension import LevinaBickel, TwoNN
        from subspacekit.measure.diffusion_entropy import diffusion_spectral_entropy
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if tool == "ours_twonn":
        value = TwoNN(ci=None, n_jobs=2).fit(X).dimension_
    elif tool == "ours_twonn_ci":
        value = TwoNN(ci=0.95, n_jobs=2, random_state=0).fit(X).dimension_
    elif tool == "ours_mle":
        value = LevinaBickel(ci=None, n_jobs=2).fit(X).dimension_
    elif tool == "ours_mle_ci":
        value = LevinaBickel(ci=0.95, n_jobs=2, random_state=0).fit(X).dimension_
    elif tool == "skdim_twonn":
        value = skdim.id.TwoNN().fit(X).dimension_
    elif tool == "skdim_mle":
        value = skdim.id.MLE().fit(X, n_jobs=2).dimension_
    elif tool == "ours_dse_exact":
        value = diffusion_spectral_entropy(X, sigma=spec["sigma"], method="exact").value
    elif tool == "ours_dse_nystrom":
        value = diffusion_spectral_entropy(
            X, sigma=spec["sigma"], method="nystrom", n_landmarks=spec["m"]
        ).value
    elif tool == "ref_dse":
        value = dse_dsmi.diffusion_spectral_entropy(X, gaussian_kernel_sigma=spec["sigma"])
    else:
        raise SystemExit("unknown tool " + tool)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "extra_mb": max(after - before, 0) / 1024.0,
                      "value": float(value)}))
    """
)


def run_child(spec: dict) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = THREADS
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{spec['tool']} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "all_seconds": [round(r["seconds"], 2) for r in runs],
        "extra_mb": max(r["extra_mb"] for r in runs),
        "value": runs[0]["value"],
    }


def measure(spec: dict, repeats: int) -> dict:
    return _summary([run_child(spec) for _ in range(repeats)])


def measure_pair(ours: dict, peer: dict, repeats: int, peer_repeats: int) -> tuple[dict, dict]:
    """Alternate our runs with the peer's, so that a change in machine load hits both."""
    ours_runs: list[dict] = []
    peer_runs: list[dict] = []
    for i in range(max(repeats, peer_repeats)):
        if i < repeats:
            ours_runs.append(run_child(ours))
        if i < peer_repeats:
            peer_runs.append(run_child(peer))
    return _summary(ours_runs), _summary(peer_runs)


def section_id(n: int, d: int, repeats: int, skdim_twonn_repeats: int) -> list[str]:
    lines = [
        f"## intrinsic dimension, n = {n:,}, d = {d}, 2 threads, median of runs",
        "",
        "| input | estimator | ours (s) | scikit-dimension (s) | speed-up | ours extra MB | "
        "skdim extra MB | ours value | skdim value | rel. diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for data in ("manifold", "gaussian"):
        for est, skdim_repeats in (("twonn", skdim_twonn_repeats), ("mle", repeats)):
            base = {"n": n, "d": d, "seed": 0, "data": data}
            ours, peer = measure_pair(
                {**base, "tool": f"ours_{est}"},
                {**base, "tool": f"skdim_{est}"},
                repeats,
                skdim_repeats,
            )
            with_ci = measure({**base, "tool": f"ours_{est}_ci"}, 1)  # CI overhead, one run
            rel = abs(ours["value"] - peer["value"]) / abs(peer["value"])
            lines.append(
                f"| {data} | {est} | {ours['seconds']:.2f} {ours['all_seconds']} "
                f"(+CI: {with_ci['seconds']:.2f}) | {peer['seconds']:.2f} {peer['all_seconds']} | "
                f"{peer['seconds'] / ours['seconds']:.1f}x | {ours['extra_mb']:.0f} | "
                f"{peer['extra_mb']:.0f} | {ours['value']:.4f} | {peer['value']:.4f} | {rel:.1e} |"
            )
            print(lines[-1], flush=True)
    return lines


def section_dse(repeats: int, nystrom: bool) -> list[str]:
    lines = ["", "## DSE", ""]
    base = {"n": 2000, "d": 100, "k": 8, "seed": 0, "data": "planted", "sigma": 10.0}
    ours, ref = measure_pair(
        {**base, "tool": "ours_dse_exact"}, {**base, "tool": "ref_dse"}, repeats, repeats
    )
    lines += [
        "| N | ours exact (s) | dse_dsmi (s) | speed-up | ours MB | ref MB | |diff| (bits) |",
        "|---|---|---|---|---|---|---|",
        f"| 2000 | {ours['seconds']:.2f} {ours['all_seconds']} | "
        f"{ref['seconds']:.2f} {ref['all_seconds']} | "
        f"{ref['seconds'] / ours['seconds']:.1f}x | {ours['extra_mb']:.0f} | {ref['extra_mb']:.0f} | "
        f"{abs(ours['value'] - ref['value']):.1e} |",
        "",
        "DSE Nyström (tail-completed) vs exact, N = 6,000, d = 100, planted k-dim + noise 0.1:",
        "",
        "| k | sigma | exact (bits) | exact (s) | m | Nyström (bits) | error | Nyström (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    if not nystrom:
        return lines[:-5]
    for k in (2, 32):
        for sigma in (10.0, 3.0):
            spec = {"n": 6000, "d": 100, "k": k, "seed": 0, "data": "planted", "sigma": sigma}
            exact = measure({**spec, "tool": "ours_dse_exact"}, 1)
            for m in (1000, 2000):
                ny = measure({**spec, "tool": "ours_dse_nystrom", "m": m}, 1)
                lines.append(
                    f"| {k} | {sigma} | {exact['value']:.4f} | {exact['seconds']:.1f} | {m} | "
                    f"{ny['value']:.4f} | {ny['value'] - exact['value']:+.4f} | {ny['seconds']:.1f} |"
                )
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="id,dse")
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skdim-twonn-repeats", type=int, default=3)
    parser.add_argument("--skip-nystrom", action="store_true", help="DSE: only the peer check")
    args = parser.parse_args()
    lines: list[str] = []
    sections = args.sections.split(",")
    if "id" in sections:
        lines += section_id(args.n, args.d, args.repeats, args.skdim_twonn_repeats)
    if "dse" in sections:
        lines += section_dse(args.repeats, not args.skip_nystrom)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
