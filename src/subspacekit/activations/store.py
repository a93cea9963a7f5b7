"""A resumable on-disk activation store: safetensors shards plus a JSON manifest.

Layout of a store folder::

    manifest.json                 what was captured and which shards are complete
    shard-000000.safetensors      rows [0, r0) of every module (and token indices)
    shard-000001.safetensors      rows [r0, r0 + r1) ...

Every shard and every manifest version is written to a temporary name, flushed to
disk and renamed into place (:func:`subspacekit.core.io.atomic_write`), so a crash leaves either the old or the new state, never
a half-written file. A shard counts only once the manifest lists it: a shard that was
renamed but not yet recorded when the process died is deleted and recomputed on resume.
The manifest is written atomically from the very first version on, and a folder left
by a run killed before that first manifest was complete (only temporaries and
unrecorded shards in it) is recognised and started afresh rather than refused.
Resuming checks that the model's modules, the pooling, the dtype and a SHA-256
fingerprint of the inputs are those recorded, then continues after the last recorded
input, so no row is duplicated and none is missing.

Reading back: :meth:`ActivationStore.memmap` (numpy memmap of the consolidated array),
:meth:`ActivationStore.dask` (lazy concatenation of per-shard memmaps, no copy),
:meth:`ActivationStore.zarr` (consolidated zarr array) and :meth:`ActivationStore.read`
(in memory).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from subspacekit.activations.capture import activation_dtype, fingerprint, iter_activations
from subspacekit.activations.inputs import count_inputs, model_inputs
from subspacekit.activations.modules import resolve_modules
from subspacekit.core.backend import import_optional
from subspacekit.core.io import atomic_write
from subspacekit.core.progress import progress
from subspacekit.core.validation import check_int
from subspacekit.errors import OverwriteError, ValidationError

__all__ = ["FORMAT", "ActivationStore", "capture_to_store"]

FORMAT = "subspacekit.activation-store/1"
MANIFEST = "manifest.json"
SAMPLE_INDEX = "__sample_index__"
TOKEN_INDEX = "__token_index__"
_SAFETENSORS_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I64": np.int64}


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    # core.io.atomic_write: temporary name in the same folder, fsync, then rename.
    atomic_write(path, lambda tmp: tmp.write_bytes(payload), overwrite=True)


def _atomic_save_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    safetensors_numpy = import_optional("safetensors.numpy", "io")
    payload = safetensors_numpy.save({k: np.ascontiguousarray(v) for k, v in tensors.items()})
    _atomic_write_bytes(path, payload)


def _safetensors_header(path: Path) -> tuple[int, dict[str, Any]]:
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return 8 + length, header


class ActivationStore:
    """Read access to an activation store folder written by :func:`capture_to_store`.

    Attributes
    ----------
    path : pathlib.Path
    manifest : dict
        ``modules``, ``pool``, ``dtype``, ``n_inputs``, ``inputs_done``, ``rows``,
        ``shards`` (file, first row, row count, first input, input count), ``complete``.

    Examples
    --------
    >>> import tempfile, torch
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh())
    >>> folder = tempfile.mkdtemp() + "/acts"
    >>> store = capture_to_store(mlp, torch.randn(10, 4), folder, batch_size=4,
    ...                          rows_per_shard=4, verbose=False)
    >>> store.modules, store.n_rows, len(store.manifest["shards"])
    (['0', '1'], 10, 3)
    >>> store.dask("1").shape, store.memmap("1").shape
    ((10, 3), (10, 3))
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        manifest_path = self.path / MANIFEST
        if not manifest_path.is_file():
            raise ValidationError(f"{str(self.path)!r} is not an activation store (no {MANIFEST})")
        manifest = _read_manifest(manifest_path)
        if manifest is None:
            raise ValidationError(
                f"{str(manifest_path)!r} is not a complete JSON manifest; run capture_to_store "
                "on this folder again to rebuild the store"
            )
        self.manifest: dict[str, Any] = manifest
        if self.manifest.get("format") != FORMAT:
            raise ValidationError(
                f"{str(manifest_path)!r} has format {self.manifest.get('format')!r}; "
                f"expected {FORMAT!r}"
            )

    @property
    def modules(self) -> list[str]:
        """Captured module names."""
        return list(self.manifest["modules"])

    @property
    def n_rows(self) -> int:
        """Rows recorded so far (inputs, or tokens with ``pool="none"``)."""
        return int(self.manifest["rows"])

    @property
    def complete(self) -> bool:
        """True once every input has been captured."""
        return bool(self.manifest["complete"])

    def shard_memmaps(self, module: str) -> list[np.ndarray]:
        """Read-only memmaps of ``module`` inside each shard file (no copy)."""
        if module not in self.manifest["modules"] and module not in (SAMPLE_INDEX, TOKEN_INDEX):
            raise ValidationError(
                f"module {module!r} is not in this store; it has {self.manifest['modules']}"
            )
        maps = []
        for shard in self.manifest["shards"]:
            file = self.path / shard["file"]
            data_start, header = _safetensors_header(file)
            info = header[module]
            begin, end = info["data_offsets"]
            dtype = np.dtype(_SAFETENSORS_DTYPES[info["dtype"]])
            shape = tuple(info["shape"])
            if end == begin:
                maps.append(np.empty(shape, dtype))
                continue
            maps.append(
                np.memmap(file, dtype=dtype, mode="r", offset=data_start + begin, shape=shape)
            )
        return maps

    def read(self, module: str) -> np.ndarray:
        """The whole ``(n_rows, n_features)`` array of ``module`` in memory."""
        maps = self.shard_memmaps(module)
        if not maps:
            return np.empty((0, *self.manifest["feature_shapes"].get(module, [0])))
        return np.concatenate([np.asarray(m) for m in maps])

    def dask(self, module: str, rows_per_chunk: int | None = None) -> Any:
        """A dask array over the shards' memmaps (lazy; one dask chunk per shard)."""
        da = import_optional("dask.array", "dask")
        maps = self.shard_memmaps(module)
        arrays = [da.from_array(m, chunks=rows_per_chunk or m.shape[0] or 1) for m in maps]
        return da.concatenate(arrays, axis=0) if arrays else da.zeros((0, 0))

    def _consolidated(self, module: str, kind: str) -> Path:
        safe = module.replace("/", "_")
        return self.path / "consolidated" / f"{safe}.{kind}"

    def memmap(self, module: str) -> np.ndarray:
        """A read-only numpy memmap of the full array of ``module``.

        A single-shard store is mapped in place; otherwise the shards are first copied
        once into ``consolidated/<module>.npy`` (atomically), which later calls reuse.
        """
        maps = self.shard_memmaps(module)
        if len(maps) == 1 and isinstance(maps[0], np.memmap):
            return maps[0]
        target = self._consolidated(module, "npy")
        stamp = f"{self.n_rows}:{len(self.manifest['shards'])}"
        stamp_file = target.with_suffix(".stamp")
        if not (target.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp):
            rows = sum(m.shape[0] for m in maps)

            def copy_shards(tmp: Path) -> None:
                out = np.lib.format.open_memmap(
                    tmp, mode="w+", dtype=maps[0].dtype, shape=(rows, *maps[0].shape[1:])
                )
                start = 0
                for m in maps:
                    out[start : start + m.shape[0]] = m
                    start += m.shape[0]
                out.flush()
                del out

            atomic_write(target, copy_shards, overwrite=True)
            _atomic_write_bytes(stamp_file, stamp.encode())
        return np.load(target, mmap_mode="r")

    def zarr(self, module: str) -> Any:
        """The full array of ``module`` as a read-only zarr array (written once, reused)."""
        zarr = import_optional("zarr", "dask")
        target = self._consolidated(module, "zarr")
        stamp = f"{self.n_rows}:{len(self.manifest['shards'])}"
        stamp_file = target.with_suffix(".zarr-stamp")
        if not (target.exists() and stamp_file.is_file() and stamp_file.read_text() == stamp):
            maps = self.shard_memmaps(module)
            target.parent.mkdir(exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            rows = sum(m.shape[0] for m in maps)
            chunk_rows = max(1, max((m.shape[0] for m in maps), default=1))
            z = zarr.open_array(
                str(tmp),
                mode="w",
                shape=(rows, *maps[0].shape[1:]),
                dtype=maps[0].dtype,
                chunks=(chunk_rows, *maps[0].shape[1:]),
            )
            start = 0
            for m in maps:
                z[start : start + m.shape[0]] = np.asarray(m)
                start += m.shape[0]
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
            _atomic_write_bytes(stamp_file, stamp.encode())
        return zarr.open_array(str(target), mode="r")

    @property
    def sample_index(self) -> np.ndarray | None:
        """Input index of each row (``pool="none"`` stores only)."""
        return self.read(SAMPLE_INDEX) if self.manifest["pool"] == "none" else None

    @property
    def token_index(self) -> np.ndarray | None:
        """Token position of each row (``pool="none"`` stores only)."""
        return self.read(TOKEN_INDEX) if self.manifest["pool"] == "none" else None

    def __repr__(self) -> str:
        state = (
            "complete"
            if self.complete
            else (f"{self.manifest['inputs_done']}/{self.manifest['n_inputs']} inputs")
        )
        return (
            f"ActivationStore({str(self.path)!r}, modules={len(self.modules)}, "
            f"rows={self.n_rows}, {state})"
        )


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    # Atomic: a kill at any moment leaves the previous manifest (or none), never half of one.
    _atomic_write_bytes(path / MANIFEST, json.dumps(manifest, indent=1).encode())


def _read_manifest(manifest_path: Path) -> dict[str, Any] | None:
    """The manifest as a dict, or None when the file is not complete JSON."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _is_store_artifact(file: Path) -> bool:
    """A file that only an (interrupted) capture_to_store leaves in a store folder."""
    name = file.name
    if file.is_dir():
        return name == "consolidated"
    return (
        name == MANIFEST
        or (name.startswith("shard-") and name.endswith(".safetensors"))
        or (name.startswith(".") and name.endswith(".tmp"))
    )


def _interrupted_before_first_manifest(path: Path) -> bool:
    """True for a folder that a run killed before its first complete manifest left behind.

    Such a folder holds nothing but store artifacts (temporaries of the manifest or of a
    shard, shards that no manifest names) and no readable manifest: nothing in it is
    recorded, so the capture can start again from the first input.
    """
    manifest_path = path / MANIFEST
    if manifest_path.is_file() and _read_manifest(manifest_path) is not None:
        return False
    return all(_is_store_artifact(file) for file in path.iterdir())


def _clean_orphans(path: Path, manifest: dict[str, Any]) -> None:
    recorded = {shard["file"] for shard in manifest["shards"]}
    for file in path.iterdir():
        is_shard = file.name.startswith("shard-") and file.name.endswith(".safetensors")
        if (is_shard and file.name not in recorded) or file.name.endswith(".tmp"):
            file.unlink()


def capture_to_store(
    model: Any,
    inputs: Any,
    path: str | os.PathLike[str],
    modules: str | Sequence[str] | None = None,
    pool: str = "mean",
    batch_size: int = 32,
    dtype: Any = np.float32,
    verbose: bool = True,
    *,
    rows_per_shard: int = 4096,
    overwrite: bool = False,
    tokenizer: Any = None,
) -> ActivationStore:
    """Capture activations straight to a resumable on-disk store.

    Same arguments as :func:`subspacekit.activations.capture`, plus the folder ``path``.
    Inputs must be a sequence (list of strings, array, tensor or dict of arrays) so a
    resumed run can skip what is done and check, by fingerprint, that they are unchanged.

    If ``path`` holds an incomplete store of the same capture, the run continues after
    its last recorded input; if it holds a complete one, it is returned as is. A folder
    left by a run killed before its first manifest was complete (only temporaries and
    unrecorded shards) is started afresh. A store of a different capture, or a non-empty
    folder that is not a store, raises :class:`~subspacekit.errors.OverwriteError`
    unless ``overwrite=True``; nothing a user wrote is deleted without being asked.


    Parameters
    ----------
    rows_per_shard : int, default 4096
        Batches are accumulated until at least this many inputs, then written as one
        shard (the unit of atomicity and of resumption).
    overwrite : bool, default False
        Delete an existing store (or folder content) at ``path`` and start again.

    Returns
    -------
    ActivationStore

    Raises
    ------
    NonFiniteError
        When a module's activations hold NaN or inf on a batch (named in the message);
        the shards already written stay valid and the run can be resumed.
    """
    out_dtype = activation_dtype(dtype)
    path = Path(path)
    inputs = model_inputs(inputs)
    n_inputs = count_inputs(inputs)
    print_ = fingerprint(inputs)
    if n_inputs is None or print_ is None:
        raise ValidationError(
            "capture_to_store needs inputs of known length and content (list of strings, "
            "array, tensor or dict of arrays) so that a run can be resumed safely"
        )
    rows_per_shard = check_int(rows_per_shard, "rows_per_shard", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    names = resolve_modules(model, modules)
    config = {
        "format": FORMAT,
        "modules": names,
        "pool": pool,
        "dtype": out_dtype.name,
        "n_inputs": n_inputs,
        "inputs_sha256": print_,
        "batch_size": batch_size,
    }
    manifest_path = path / MANIFEST
    if path.exists() and not path.is_dir():
        raise OverwriteError(f"{str(path)!r} is a file, not a store folder")
    if path.exists() and any(path.iterdir()):
        if overwrite:
            shutil.rmtree(path)
        elif _interrupted_before_first_manifest(path):
            # killed before the first manifest was complete: nothing is recorded, start over
            for file in path.iterdir():
                shutil.rmtree(file) if file.is_dir() else file.unlink()
        elif not manifest_path.is_file() or _read_manifest(manifest_path) is None:
            raise OverwriteError(
                f"{str(path)!r} exists, is not empty and is not an activation store (no "
                f"complete {MANIFEST}, and files that a capture does not write); choose "
                "another path or pass overwrite=True to delete its content"
            )
    path.mkdir(parents=True, exist_ok=True)
    stored = _read_manifest(manifest_path) if manifest_path.is_file() else None
    if stored is not None:
        manifest = stored
        different = {
            key: (manifest.get(key), value)
            for key, value in config.items()
            if key != "batch_size" and manifest.get(key) != value
        }
        if different:
            raise OverwriteError(
                f"{str(path)!r} holds a different capture ({different}, as (stored, "
                "requested)); pass overwrite=True to replace it"
            )
        _clean_orphans(path, manifest)
        if manifest["complete"]:
            return ActivationStore(path)
    else:
        manifest = {
            **config,
            "inputs_done": 0,
            "rows": 0,
            "shards": [],
            "complete": False,
            "feature_shapes": {},
        }
        _write_manifest(path, manifest)

    done = int(manifest["inputs_done"])
    pending: dict[str, list[np.ndarray]] = {}
    pending_inputs = 0

    def flush() -> None:
        nonlocal pending, pending_inputs
        if not pending_inputs:
            return
        tensors = {name: np.concatenate(parts) for name, parts in pending.items()}
        rows = next(iter(tensors[n] for n in names)).shape[0]
        file = f"shard-{len(manifest['shards']):06d}.safetensors"
        _atomic_save_safetensors(path / file, tensors)
        manifest["shards"].append(
            {
                "file": file,
                "first_row": manifest["rows"],
                "rows": rows,
                "first_input": manifest["inputs_done"],
                "inputs": pending_inputs,
            }
        )
        manifest["rows"] += rows
        manifest["inputs_done"] += pending_inputs
        manifest["feature_shapes"] = {n: list(tensors[n].shape[1:]) for n in names}
        manifest["complete"] = manifest["inputs_done"] >= n_inputs
        # the shard exists before the manifest names it, so a crash in between only
        # leaves an orphan that the next run deletes
        _write_manifest(path, manifest)
        pending, pending_inputs = {}, 0

    stream = iter_activations(
        model,
        inputs,
        names,
        pool=pool,
        batch_size=batch_size,
        tokenizer=tokenizer,
        skip=done,
        dtype=out_dtype,
    )
    total = -(-(n_inputs - done) // batch_size)
    try:
        for n, rows, s_idx, t_idx in progress(stream, verbose=verbose, desc="capture", total=total):
            for name, array in rows.items():
                pending.setdefault(name, []).append(array)
            if pool == "none":
                first = manifest["inputs_done"] + pending_inputs
                count = next(iter(rows.values())).shape[0]
                s = np.zeros(count, np.int64) if s_idx is None else s_idx
                t = np.zeros(count, np.int64) if t_idx is None else t_idx
                if s_idx is None:  # no token axis: one row per input
                    s = np.arange(count, dtype=np.int64)
                pending.setdefault(SAMPLE_INDEX, []).append(s.astype(np.int64) + first)
                pending.setdefault(TOKEN_INDEX, []).append(t.astype(np.int64))
            pending_inputs += n
            if pending_inputs >= rows_per_shard:
                flush()
        flush()
    finally:
        stream.close()
    if not manifest["complete"] and manifest["inputs_done"] >= n_inputs:
        manifest["complete"] = True
        _write_manifest(path, manifest)
    return ActivationStore(path)
