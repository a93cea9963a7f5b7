"""Benchmark: activation capture on the packaged MiniLM against its peers.

Same input for every method: the probe corpus (``--n-per-cell`` sentences per attribute
combination, 48 combinations), batch size 64, torch on ``--threads`` CPU threads.

Methods
-------
* ``skit_capture_all``   subspacekit.activations.capture, all 7 hidden states, mean pool
* ``hf_loop_all``        hand-written transformers loop: tokenise, output_hidden_states,
                         attention-masked mean of each hidden state (the peer for capture)
* ``skit_encode``        subspacekit.models.minilm().encode (last layer, normalised)
* ``st_encode``          sentence_transformers.SentenceTransformer.encode (the peer)
* ``skit_store_all``     subspacekit.activations.capture_to_store, all 7 hidden states

Each method runs in its own fresh subprocess: ``--repeats`` timed runs after one warm-up
(median wall time and median process CPU time reported: on a shared machine the CPU time,
summed over the torch threads, is the steadier figure) and the peak resident memory of that process (ru_maxrss), also given
as the increase over the RSS measured after the model was loaded.

Run: ``OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_activations.py``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

METHODS = ("skit_capture_all", "hf_loop_all", "skit_encode", "st_encode", "skit_store_all")


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_one(method: str, n_per_cell: int, repeats: int, threads: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from subspacekit.activations import capture, capture_to_store
    from subspacekit.data import probe_corpus
    from subspacekit.models import minilm, minilm_path

    texts = probe_corpus(n_per_cell).texts
    model = minilm()
    if method == "st_encode":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(minilm_path()), device="cpu")

    def hf_loop() -> list[np.ndarray]:
        pooled: list[list[np.ndarray]] = [[] for _ in range(model.n_layers + 1)]
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                tok = model.tokenize(texts[start : start + 64])
                out = model.model(**tok, output_hidden_states=True)
                mask = tok["attention_mask"].unsqueeze(-1).float()
                for i, h in enumerate(out.hidden_states):
                    pooled[i].append(((h * mask).sum(1) / mask.sum(1)).numpy())
        return [np.concatenate(p) for p in pooled]

    def call() -> object:
        if method == "skit_capture_all":
            return capture(model, texts, pool="mean", batch_size=64, verbose=False)
        if method == "hf_loop_all":
            return hf_loop()
        if method == "skit_encode":
            return model.encode(texts, batch_size=64)
        if method == "st_encode":
            return st.encode(texts, batch_size=64)
        with tempfile.TemporaryDirectory() as folder:
            store = capture_to_store(model, texts, folder + "/s", batch_size=64,
                                     rows_per_shard=512, verbose=False)  # fmt: skip
            return store.n_rows

    rss_loaded = _rss_mib()
    call()  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "method": method,
        "n_sentences": len(texts),
        "median_s": statistics.median(times),
        "times_s": times,
        "median_cpu_s": statistics.median(cpu),
        "peak_rss_mib": peak,
        "peak_over_loaded_mib": peak - rss_loaded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-per-cell", type=int, default=50, help="50 = 2,400 sentences")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n_per_cell, args.repeats, args.threads)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip
    results = {}
    for method in args.methods:
        out = subprocess.run(
            [sys.executable, __file__, "--one", method, "--n-per-cell", str(args.n_per_cell),
             "--repeats", str(args.repeats), "--threads", str(args.threads)],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    load = os.getloadavg()[0]
    n = next(iter(results.values()))["n_sentences"]
    print(f"MiniLM on {n} probe-corpus sentences, batch 64, {args.threads} torch threads, "
          f"median of {args.repeats} (1-min load average at the end: {load:.1f})")  # fmt: skip
    print(f"{'method':<18} {'wall s':>8} {'cpu s':>8} {'sent/s':>8} {'peak RSS MiB':>13} "
          f"{'over loaded':>12}")  # fmt: skip
    for r in results.values():
        print(f"{r['method']:<18} {r['median_s']:>8.2f} {r['median_cpu_s']:>8.2f} "
              f"{r['n_sentences'] / r['median_s']:>8.1f} {r['peak_rss_mib']:>13.0f} "
              f"{r['peak_over_loaded_mib']:>12.0f}")  # fmt: skip
    pairs = [("skit_capture_all", "hf_loop_all"), ("skit_encode", "st_encode"),
             ("skit_store_all", "skit_capture_all")]  # fmt: skip
    for ours, peer in pairs:
        if ours in results and peer in results:
            ratio = results[ours]["median_s"] / results[peer]["median_s"]
            cpu_ratio = results[ours]["median_cpu_s"] / results[peer]["median_cpu_s"]
            print(f"time ratio {ours} / {peer}: wall {ratio:.2f}, cpu {cpu_ratio:.2f}")


if __name__ == "__main__":
    main()
