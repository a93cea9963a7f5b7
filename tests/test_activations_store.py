"""The resumable activation store: equal to in-memory capture, atomic, resumable after
a kill, never overwriting without being asked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from subspacekit.activations import ActivationStore, capture, capture_to_store
from subspacekit.errors import NonFiniteError, OverwriteError, ValidationError

# The same model and inputs are built in this process and in the killed subprocess.
SETUP = textwrap.dedent(
    """
    import time
    import torch

    class Slow(torch.nn.Module):
        def __init__(self, delay):
            super().__init__()
            self.delay = delay

        def forward(self, x):
            time.sleep(self.delay)
            return x

    def build(delay=0.0):
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(6, 12), torch.nn.ReLU(), Slow(delay), torch.nn.Linear(12, 3)
        )
        inputs = torch.randn(300, 6, generator=torch.Generator().manual_seed(1))
        return model, inputs
    """
)
namespace: dict = {}
exec(SETUP, namespace)
build = namespace["build"]


def _manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def _assert_contiguous(manifest: dict) -> None:
    first_row = first_input = 0
    for shard in manifest["shards"]:
        assert shard["first_row"] == first_row and shard["first_input"] == first_input
        first_row += shard["rows"]
        first_input += shard["inputs"]
    assert first_row == manifest["rows"] and first_input == manifest["inputs_done"]


def test_store_matches_capture_in_every_read_mode(tmp_path: Path) -> None:
    model, x = build()
    expected = capture(model, x, modules=["1", "3"], batch_size=16, verbose=False)
    store = capture_to_store(model, x, tmp_path / "s", modules=["1", "3"], batch_size=16,
                             rows_per_shard=64, verbose=False)  # fmt: skip
    assert store.complete and store.n_rows == 300 and store.modules == ["1", "3"]
    assert len(store.manifest["shards"]) == 5  # 4 x 64 rows + the remaining 44
    _assert_contiguous(store.manifest)
    for name in ("1", "3"):
        np.testing.assert_array_equal(store.read(name), expected[name])
        np.testing.assert_array_equal(np.asarray(store.memmap(name)), expected[name])
        np.testing.assert_array_equal(store.dask(name).compute(), expected[name])
        np.testing.assert_array_equal(store.zarr(name)[:], expected[name])
    assert isinstance(store.memmap("3"), np.memmap)
    assert store.dask("3").numblocks[0] == 5
    with pytest.raises(ValidationError, match="not in this store"):
        store.read("0")


def test_token_rows_store_sample_index(tmp_path: Path) -> None:
    class Seq(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(10, 4)

        def forward(self, input_ids, attention_mask):
            return self.embed(input_ids)

    ids = torch.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6], [7, 8, 0]])
    mask = (ids > 0).long()
    inputs = {"input_ids": ids, "attention_mask": mask}
    model = Seq()
    store = capture_to_store(model, inputs, tmp_path / "tok", pool="none", batch_size=2,
                             rows_per_shard=2, verbose=False)  # fmt: skip
    expected = capture(model, inputs, pool="none", batch_size=2, verbose=False)
    np.testing.assert_array_equal(store.read("embed"), expected["embed"])
    np.testing.assert_array_equal(store.sample_index, [0, 0, 1, 2, 2, 2, 3, 3])
    np.testing.assert_array_equal(store.token_index, expected.token_index)


def test_never_overwrites_without_being_asked(tmp_path: Path) -> None:
    model, x = build()
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    with pytest.raises(OverwriteError, match="not an activation store"):
        capture_to_store(model, x, folder, verbose=False)
    assert (folder / "precious.txt").read_text() == "keep me"

    store_path = tmp_path / "store"
    capture_to_store(model, x, store_path, modules=["3"], verbose=False)
    with pytest.raises(OverwriteError, match="different capture"):
        capture_to_store(model, x, store_path, modules=["1"], verbose=False)
    with pytest.raises(OverwriteError, match="different capture"):
        capture_to_store(model, x + 1, store_path, modules=["3"], verbose=False)
    # a complete store of the same capture is returned without running the model again
    before = (store_path / "manifest.json").stat().st_mtime_ns
    again = capture_to_store(model, x, store_path, modules=["3"], verbose=False)
    assert again.complete and (store_path / "manifest.json").stat().st_mtime_ns == before
    replaced = capture_to_store(model, x, store_path, modules=["1"], overwrite=True,
                                verbose=False)  # fmt: skip
    assert replaced.modules == ["1"]


class _Crash(torch.nn.Module):
    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt("simulated crash")
        return x


def test_resume_after_exception_and_orphan_shard(tmp_path: Path) -> None:
    model, x = build()
    path = tmp_path / "s"
    crashing = torch.nn.Sequential(*model[:2], _Crash(after=7), model[3])
    with pytest.raises(KeyboardInterrupt):
        capture_to_store(crashing, x, path, batch_size=10, rows_per_shard=20, verbose=False)
    partial = _manifest(path)
    assert not partial["complete"] and partial["inputs_done"] == 60  # 3 shards of 20
    # what a kill between "shard renamed" and "manifest updated" leaves behind
    (path / "shard-000003.safetensors").write_bytes(b"orphan")
    (path / ".manifest.json.abc.tmp").write_bytes(b"half")
    resumed = capture_to_store(
        torch.nn.Sequential(*model[:2], _Crash(after=10**6), model[3]), x, path,
        batch_size=10, rows_per_shard=20, verbose=False,
    )  # fmt: skip
    assert resumed.complete and not list(path.glob("*.tmp"))
    _assert_contiguous(resumed.manifest)
    expected = capture(model, x, batch_size=10, verbose=False)
    for name in expected:
        np.testing.assert_allclose(resumed.read(name), expected[name], rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_resume_after_killing_a_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "killed"
    script = tmp_path / "run.py"
    script.write_text(
        SETUP
        + textwrap.dedent(
            f"""
            torch.set_num_threads(1)
            from subspacekit.activations import capture_to_store
            model, inputs = build(delay=0.03)
            capture_to_store(model, inputs, {str(path)!r}, batch_size=5, rows_per_shard=10,
                             verbose=False)
            """
        )
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            manifest = path / "manifest.json"
            if manifest.is_file() and _manifest(path)["inputs_done"] >= 40:
                break
            if proc.poll() is not None:
                pytest.fail("the capture subprocess ended before it could be killed")
            time.sleep(0.05)
        else:
            pytest.fail("the capture subprocess made no progress in 120 s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed = _manifest(path)
    assert not killed["complete"] and 40 <= killed["inputs_done"] < 300
    model, x = build()
    resumed = capture_to_store(model, x, path, batch_size=5, rows_per_shard=10, verbose=False)
    assert resumed.complete and resumed.n_rows == 300
    _assert_contiguous(resumed.manifest)
    # the first shards are the killed run's own files, untouched by the resumed run
    assert resumed.manifest["shards"][: len(killed["shards"])] == killed["shards"]
    expected = capture(model, x, batch_size=5, verbose=False)
    for name in expected:
        np.testing.assert_allclose(resumed.read(name), expected[name], rtol=1e-6, atol=1e-7)
    assert isinstance(ActivationStore(path).memmap("3"), np.ndarray)


def test_inputs_must_be_a_sequence(tmp_path: Path) -> None:
    model, x = build()
    with pytest.raises(ValidationError, match="known length"):
        capture_to_store(model, (b for b in [x]), tmp_path / "g", verbose=False)


def _same_as_capture(store: ActivationStore, model, x, batch_size: int) -> None:
    expected = capture(model, x, batch_size=batch_size, verbose=False)
    for name in expected:
        np.testing.assert_allclose(store.read(name), expected[name], rtol=1e-6, atol=1e-7)


def test_killed_during_the_first_manifest_write_resumes(tmp_path: Path) -> None:
    # Regression: a process killed while writing the very first manifest left a folder
    # that capture_to_store refused as "not an activation store". Kill it for real at
    # that moment: the fsync of the first atomic write ends the process (no finally runs).
    path = tmp_path / "first"
    script = tmp_path / "run.py"
    script.write_text(
        SETUP
        + textwrap.dedent(
            f"""
            import os
            import subspacekit.core.io as io
            from subspacekit.activations import capture_to_store

            def die(fd):
                os._exit(3)

            io.os.fsync = die  # the first fsync is the first manifest's
            model, inputs = build()
            capture_to_store(model, inputs, {str(path)!r}, batch_size=50, rows_per_shard=100,
                             verbose=False)
            """
        )
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script)], env=env, timeout=300)
    assert done.returncode == 3
    # atomic: the killed write left its temporary, never a manifest.json
    assert not (path / "manifest.json").exists()
    assert [p.name.startswith(".manifest.json.") for p in path.iterdir()] == [True]
    model, x = build()
    resumed = capture_to_store(model, x, path, batch_size=50, rows_per_shard=100, verbose=False)
    assert resumed.complete and resumed.n_rows == 300 and not list(path.glob(".*.tmp"))
    _assert_contiguous(resumed.manifest)
    _same_as_capture(resumed, model, x, 50)


def test_folder_without_a_complete_manifest_starts_over(tmp_path: Path) -> None:
    # What other kills leave before any manifest is complete: an unrecorded shard, a
    # shard temporary and a truncated manifest (from a writer that was not atomic).
    model, x = build()
    path = tmp_path / "partial"
    path.mkdir()
    (path / "shard-000000.safetensors").write_bytes(b"unrecorded")
    (path / ".shard-000001.safetensors.123.abc.tmp").write_bytes(b"half")
    (path / "manifest.json").write_text('{"format": "subspacekit.activation-st')
    with pytest.raises(ValidationError, match="not a complete JSON manifest"):
        ActivationStore(path)
    store = capture_to_store(model, x, path, batch_size=50, rows_per_shard=100, verbose=False)
    assert store.complete and sorted(p.name for p in path.iterdir()) == [
        "manifest.json",
        "shard-000000.safetensors",
        "shard-000001.safetensors",
        "shard-000002.safetensors",
    ]
    _same_as_capture(store, model, x, 50)
    # a user file next to a truncated manifest is not ours to delete
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text("{")
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(OverwriteError, match="not an activation store"):
        capture_to_store(model, x, other, verbose=False)
    assert (other / "notes.txt").read_text() == "keep me"


def test_nan_activations_are_refused_and_the_store_stays_consistent(tmp_path: Path) -> None:
    class NaNAfter(torch.nn.Module):
        """Identity until input row ``start``, NaN from then on."""

        def __init__(self, start: int) -> None:
            super().__init__()
            self.start, self.seen = start, 0

        def forward(self, h):
            rows = torch.arange(self.seen, self.seen + h.shape[0])
            self.seen += h.shape[0]
            return torch.where((rows >= self.start)[:, None], torch.nan, h)

    model, x = build()
    poisoned = torch.nn.Sequential(*model[:2], NaNAfter(start=130), model[3])
    path = tmp_path / "nan"
    with pytest.raises(NonFiniteError, match=r"module '2' produced .*NaN.* on batch 2 "):
        capture_to_store(poisoned, x, path, batch_size=50, rows_per_shard=100, verbose=False)
    manifest = _manifest(path)
    assert manifest["inputs_done"] == 100 and not manifest["complete"]
    store = ActivationStore(path)
    assert all(np.isfinite(store.read(name)).all() for name in store.modules)
