"""Activations: forward-hook capture for any torch model and a resumable on-disk store.

:func:`resolve_modules` is the library's one module resolver: capture, the store and
every intervention of :mod:`subspacekit.intervene` turn module names and globs into
modules through it. torch is imported when a function is called, not when this package
is imported.

Examples
--------
>>> import torch
>>> from subspacekit.activations import capture
>>> acts = capture(torch.nn.Sequential(torch.nn.Linear(2, 3)), torch.ones(4, 2), verbose=False)
>>> acts["0"].shape
(4, 3)
"""

from __future__ import annotations

from subspacekit.activations.capture import POOLS, ActivationDict, capture, iter_activations
from subspacekit.activations.modules import resolve_module, resolve_modules
from subspacekit.activations.store import ActivationStore, capture_to_store

__all__ = [
    "POOLS",
    "ActivationDict",
    "ActivationStore",
    "capture",
    "capture_to_store",
    "iter_activations",
    "resolve_module",
    "resolve_modules",
]
