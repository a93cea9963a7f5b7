"""Acting through subspaces on real models: erase, steer, patch, DAS, illusion checks.

Every intervention is a context manager on an ordinary ``torch.nn.Module`` that
always restores the model on exit::

    from subspacekit.intervene import LEACE, erase, steer, patch, DAS

    eraser = LEACE().fit(activations, labels)          # closed-form concept erasure
    with erase(model, "encoder.layer.3", eraser):      # names from named_modules()
        out = model(**batch)

Contents

* :mod:`~subspacekit.intervene.hooks`: :func:`edit`, :func:`forward`, :func:`record`,
  :func:`as_subspace` (module names go through :func:`resolve_modules`, the one
  resolver of :mod:`subspacekit.activations`, re-exported here);
* :mod:`~subspacekit.intervene.edits`: :func:`erase`, :func:`steer`;
* :mod:`~subspacekit.intervene.patching`: :func:`patch`, :func:`interchange`;
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

# public name -> module that defines it (a full dotted path for names homed elsewhere)
_EXPORTS = {
    # the library's one module resolver, re-exported (the same function object)
    "resolve_modules": "subspacekit.activations.modules",
    "edit": "hooks",
    "record": "hooks",
    "forward": "hooks",
    "as_subspace": "hooks",
    "erase": "edits",
    "steer": "edits",
    "patch": "patching",
    "interchange": "patching",
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
        home = _EXPORTS[name]
        module = importlib.import_module(home if "." in home else f"subspacekit.intervene.{home}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'subspacekit.intervene' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
