"""Acting through subspaces on real models: erase, steer, patch, DAS, illusion checks.

Every intervention is a context manager on an ordinary ``torch.nn.Module`` that
always restores the model on exit::

    from subspacekit.intervene import LEACE, erase, steer, patch, DAS

    eraser = LEACE().fit(activations, labels)          # closed-form concept erasure
    with erase(model, "encoder.layer.3", eraser):      # names from named_modules()
        out = model(**batch)

Contents

* :mod:`~subspacekit.intervene.hooks`: :func:`resolve_modules`, :func:`edit`,
  :func:`erase`, :func:`steer`, :func:`patch`, :func:`record`, :func:`interchange`;
* :mod:`~subspacekit.intervene.leace`: :class:`LEACE`;
* :mod:`~subspacekit.intervene.das`: :class:`DAS` (distributed alignment search);
* :mod:`~subspacekit.intervene.illusion`: :func:`illusion_diagnostics` and the
  distilled example of Makelov et al. (2024);
* :mod:`~subspacekit.intervene.knowledge`: :class:`KnowledgeSubspace`, the rank-2
  parametric/contextual knowledge projection with its rank-1 comparison.

torch is needed for the hooks and DAS (``pip install 'subspacekit[torch]'``); it is
imported only when one of them runs, so LEACE and the diagnostics work without it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "resolve_modules": "hooks",
    "edit": "hooks",
    "erase": "hooks",
    "steer": "hooks",
    "patch": "hooks",
    "record": "hooks",
    "interchange": "hooks",
    "forward": "hooks",
    "as_subspace": "hooks",
    "LEACE": "leace",
    "linear_shrinkage": "leace",
    "DAS": "das",
    "interchange_accuracy": "das",
    "IllusionReport": "illusion",
    "illusion_diagnostics": "illusion",
    "distilled_illusion_model": "illusion",
    "patch_effect": "illusion",
    "KnowledgeSubspace": "knowledge",
    "assign_axes": "knowledge",
    "knowledge_shares": "knowledge",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not import torch (DAS needs it at import).
    if name in _EXPORTS:
        module = importlib.import_module(f"subspacekit.intervene.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'subspacekit.intervene' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
