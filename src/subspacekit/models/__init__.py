"""Packaged and local model loaders (torch and transformers are imported on use).

Examples
--------
>>> from subspacekit.models import minilm
>>> callable(minilm)
True
"""

from __future__ import annotations

from subspacekit.models.hf import TextModel, load, minilm, minilm_path

__all__ = ["TextModel", "load", "minilm", "minilm_path"]
