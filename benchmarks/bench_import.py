"""Time of ``import subspacekit`` in fresh processes, and what it loads.

Each run starts a new interpreter (so nothing is cached in ``sys.modules``) and measures
the import inside it with ``time.perf_counter``; the interpreter start-up itself is not
counted. As peers, the same measurement is made for ``import numpy``, ``import scipy``
and ``import sklearn`` in the same run, so the figures can be read against what the
dependencies cost on this machine. Reported: median and min-max of ``--repeats`` runs
(default 10), and the heavy modules found in ``sys.modules`` after the import.

Run: ``.venv/bin/python benchmarks/bench_import.py [--repeats 10]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import sys, time, json
t = time.perf_counter()
import {module}
dt = time.perf_counter() - t
heavy = sorted(m for m in ("sklearn", "torch", "pandas", "matplotlib", "scipy", "numpy")
               if m in sys.modules)
print(json.dumps({{"seconds": dt, "loaded": heavy}}))
"""


def measure(module: str, repeats: int) -> tuple[list[float], list[str]]:
    times, loaded = [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout)
        times.append(row["seconds"])
        loaded = row["loaded"]
    return times, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"{'module':<14} {'median s':>9} {'min s':>8} {'max s':>8}  loaded afterwards")
    for module in ("subspacekit", "numpy", "scipy", "sklearn"):
        times, loaded = measure(module, args.repeats)
        print(
            f"{module:<14} {statistics.median(times):9.3f} {min(times):8.3f} {max(times):8.3f}"
            f"  {', '.join(loaded)}"
        )


if __name__ == "__main__":
    main()
