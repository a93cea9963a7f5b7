"""Bad-input cases of ``subspacekit.activations`` (see ``tests/api_cases/__init__.py``).

The perturbed array is the model input: a tiny MLP reading 5 features. A model input
of the wrong width, dtype or rank reaches the model, whose failure must come back as a
``subspacekit.errors`` exception naming the batch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from api_cases import Case
from subspacekit.activations import (
    ActivationStore,
    capture,
    capture_to_store,
    iter_activations,
)

_IDENTICAL = (
    "capture is a row-by-row map: identical inputs give identical activation rows, "
    "which is the right answer and nothing degenerate to warn about"
)


def _mlp():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))


def _capture(X):
    return capture(_mlp(), X, verbose=False, batch_size=16)


def _iter(X):
    return list(iter_activations(_mlp(), X, batch_size=16))


def _store(X):
    with tempfile.TemporaryDirectory() as folder:
        store = capture_to_store(
            _mlp(), X, Path(folder) / "acts", batch_size=16, rows_per_shard=16, verbose=False
        )
        return store.read("2")


def _reopened_store(X):
    with tempfile.TemporaryDirectory() as folder:
        path = capture_to_store(_mlp(), X, Path(folder) / "acts", verbose=False).path
        store = ActivationStore(path)
        return {name: np.asarray(store.memmap(name)) for name in store.modules}


_SKIP = {"identical_rows": _IDENTICAL}

CASES: list[Case] = [
    Case("activations.capture", _capture, skip=_SKIP),
    Case("activations.iter_activations", _iter, skip=_SKIP),
    Case("activations.capture_to_store", _store, skip=_SKIP),
    Case("activations.ActivationStore", _reopened_store, skip=_SKIP),
]

ESTIMATORS: list = []

EXEMPT: dict[str, str] = {
    "POOLS": "a constant: the names of the pooling modes",
    "ActivationDict": "the result type of capture (a dict of arrays), not fed user data",
    "resolve_modules": (
        "takes a model and module-name patterns, no data array: the array perturbations do "
        "not apply; its pattern errors are tested in tests/test_activations_modules.py"
    ),
    "resolve_module": (
        "takes a model and one module-name pattern, no data array; tested in "
        "tests/test_activations_modules.py"
    ),
}
