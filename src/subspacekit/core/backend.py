"""Array back ends: numpy always, torch when installed (imported lazily).

Torch is never imported at module import time, so ``import subspacekit`` works
without it. Objects are recognised as torch tensors by their type's module name.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from subspacekit.errors import DTypeError, MissingDependencyError

__all__ = ["BACKENDS", "all_torch", "import_optional", "is_torch_tensor", "to_backend", "to_numpy"]

BACKENDS = ("numpy", "torch")


def import_optional(module: str, extra: str) -> Any:
    """Import an optional dependency or raise :class:`MissingDependencyError`.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"torch"``.
    extra : str
        The subspacekit extra that provides it, named in the error message.

    Examples
    --------
    >>> import_optional("numpy", "core").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module!r} is required for this feature but is not installed; "
            f"install it with: pip install 'subspacekit[{extra}]'"
        ) from exc


def is_torch_tensor(x: object) -> bool:
    """True when ``x`` is a ``torch.Tensor``, decided without importing torch.

    Examples
    --------
    >>> is_torch_tensor(np.zeros(3))
    False
    """
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a numpy array (torch tensors are detached and moved to the CPU).

    Examples
    --------
    >>> to_numpy([1.0, 2.0])
    array([1., 2.])
    """
    if is_torch_tensor(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def to_backend(x: Any, backend: str, like: Any = None) -> Any:
    """Convert an array to ``backend`` (``"numpy"`` or ``"torch"``).

    For torch, the dtype and device of ``like`` are used when ``like`` is a tensor.

    Examples
    --------
    >>> to_backend(np.eye(2), "numpy").shape
    (2, 2)
    """
    if backend == "numpy":
        return to_numpy(x)
    if backend == "torch":
        torch = import_optional("torch", "torch")
        if like is not None and is_torch_tensor(like):
            return torch.as_tensor(
                to_numpy(x) if not is_torch_tensor(x) else x, dtype=like.dtype, device=like.device
            )
        return x if is_torch_tensor(x) else torch.from_numpy(np.ascontiguousarray(x))
    raise DTypeError(f"backend must be one of {BACKENDS}; got {backend!r}")


def all_torch(*arrays: Any) -> bool:
    """True when every argument is a torch tensor (the torch code path is then used).

    Examples
    --------
    >>> all_torch(np.zeros(2), np.zeros(2))
    False
    """
    return bool(arrays) and all(is_torch_tensor(a) for a in arrays)
