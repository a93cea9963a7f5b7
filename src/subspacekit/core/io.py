"""Atomic, non-clobbering file writes and the array container formats.

Arrays are stored as safetensors when that package is installed (``.safetensors``)
or as numpy ``.npz``; both carry a JSON metadata string. Loading sniffs the format
from the file's first bytes, never unpickles, and so is safe on untrusted files.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from subspacekit.core.backend import import_optional
from subspacekit.errors import MissingDependencyError, OverwriteError, ValidationError

__all__ = ["atomic_write", "read_arrays", "remove_stale_temporaries", "write_arrays"]

_META_KEY = "__metadata__"


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Path], None], *, overwrite: bool = False
) -> Path:
    """Write a file through a temporary name in the same folder, then move it in place.

    ``write(tmp_path)`` produces the file. A reader never sees a half-written file,
    and an existing file is replaced only when ``overwrite=True``; otherwise
    :class:`OverwriteError` is raised and nothing is touched. Without ``overwrite`` the
    final step is a hard link, which fails atomically if the name appeared meanwhile.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = atomic_write(p, lambda t: t.write_text("hi"))
    >>> p.read_text()
    'hi'
    """
    path = Path(path)
    if path.is_dir():
        raise ValidationError(f"{path} is a directory; expected the path of a file to write")
    if path.exists() and not overwrite:
        raise OverwriteError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    # The writer's pid is part of the temporary name, so that a later write can tell a
    # file left by a killed process (finally never ran) from one still being written.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise OverwriteError(f"{path} exists; pass overwrite=True to replace it") from None
            except OSError:
                # Filesystems without hard links: fall back to a checked rename.
                if path.exists():
                    raise OverwriteError(
                        f"{path} exists; pass overwrite=True to replace it"
                    ) from None
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete temporaries of :func:`atomic_write` for ``path`` whose writer has died.

    A process killed mid-write (SIGKILL, power loss) cannot clean up after itself;
    its ``.NAME.PID.XXXX.tmp`` file is removed by the next write to the same name,
    while temporaries of live writers are left alone. Returns the removed paths.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".x.npz.999999999.abc.tmp").write_bytes(b"half")
    >>> [p.name for p in remove_stale_temporaries(folder / "x.npz")]
    ['.x.npz.999999999.abc.tmp']
    """
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid_text = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _have_safetensors() -> bool:
    try:
        import safetensors.numpy  # noqa: F401
    except ImportError:
        return False
    return True


def write_arrays(
    path: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    metadata: Mapping[str, Any],
    *,
    overwrite: bool = False,
    fmt: str | None = None,
) -> Path:
    """Write named arrays and JSON metadata atomically.

    ``fmt`` is ``"safetensors"`` or ``"npz"``; by default it follows the suffix
    (``.safetensors`` / ``.npz``) and otherwise is safetensors when installed.
    """
    path = Path(path)
    if fmt is None:
        if path.suffix == ".npz":
            fmt = "npz"
        elif path.suffix == ".safetensors" or _have_safetensors():
            fmt = "safetensors"
        else:
            fmt = "npz"
    try:
        meta_json = json.dumps(metadata, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"metadata must be JSON-serialisable (str, int, float, bool, None, lists, dicts); {exc}"
        ) from exc
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    if fmt == "safetensors":
        if not _have_safetensors():
            raise MissingDependencyError(
                "writing .safetensors needs the 'safetensors' package: pip install "
                "'subspacekit[io]' (or save to a .npz path)"
            )
        st = import_optional("safetensors.numpy", "io")

        def _write(tmp: Path) -> None:
            st.save_file(dict(arrays), str(tmp), metadata={_META_KEY: meta_json})
    elif fmt == "npz":

        def _write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays, **{_META_KEY: np.array(meta_json)})  # type: ignore[arg-type]
    else:
        raise ValidationError(f"fmt must be 'safetensors' or 'npz'; got {fmt!r}")
    return atomic_write(path, _write, overwrite=overwrite)


def read_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`write_arrays`; returns ``(arrays, metadata)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"PK\x03\x04":  # a zip archive: npz
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files if k != _META_KEY}
            meta_json = str(npz[_META_KEY]) if _META_KEY in npz.files else "{}"
    else:
        if not _have_safetensors():
            raise MissingDependencyError(
                f"{path} is not an npz file; reading safetensors needs pip install 'subspacekit[io]'"
            )
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as fh:
                arrays = {k: fh.get_tensor(k) for k in fh.keys()}
                meta_json = (fh.metadata() or {}).get(_META_KEY, "{}")
        except Exception as exc:  # safetensors raises its own error types
            raise ValidationError(
                f"{path} is neither an npz nor a safetensors file: {exc}"
            ) from exc
    return arrays, json.loads(meta_json)
