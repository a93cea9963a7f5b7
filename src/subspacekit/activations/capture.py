"""Capture the activations of any torch model with forward hooks.

A module's output for a batch is turned into one row per input by pooling over the
sequence axis with the attention mask (``mean``, ``first``, ``last``), or into one row
per real (non-padding) token (``none``). For Hugging Face models the hidden states
(``hidden_states.0`` = embeddings, ``hidden_states.i`` = output of block ``i``) come
from ``output_hidden_states=True``; any other module is reached by its name in
``named_modules()`` or a glob over those names (``"encoder.layer.*.output"``).

Hooks are always removed, also when the forward pass raises; inference runs under
``torch.inference_mode`` and each batch is pooled and moved to numpy before the next,
so memory stays flat over many batches.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from subspacekit.core.backend import import_optional, is_torch_tensor
from subspacekit.core.progress import progress
from subspacekit.errors import DTypeError, ShapeError, ValidationError

__all__ = ["POOLS", "ActivationDict", "capture", "iter_activations", "resolve_modules"]

POOLS = ("mean", "first", "last", "none")
HIDDEN_PREFIX = "hidden_states."
_OUTPUT_DTYPES = (np.float16, np.float32, np.float64)


class ActivationDict(dict):  # type: ignore[type-arg]
    """``dict`` from module name to ``(n_rows, n_features)`` array.

    With ``pool="none"`` the rows are tokens: ``sample_index[r]`` is the input that row
    ``r`` came from and ``token_index[r]`` its position in the padded sequence. Both are
    ``None`` for pooled captures (row ``r`` is input ``r``).
    """

    sample_index: np.ndarray | None = None
    token_index: np.ndarray | None = None


@dataclass
class _Target:
    """The torch module to hook and how to turn raw inputs into its forward call."""

    module: Any
    tokenizer: Any = None
    max_length: int | None = None


def _unwrap(model: Any, tokenizer: Any) -> _Target:
    torch = import_optional("torch", "torch")
    inner = model
    max_length = None
    # a model wrapper (e.g. subspacekit.models.TextModel) carrying its tokenizer
    if not isinstance(model, torch.nn.Module) and hasattr(model, "model"):
        inner = model.model
        tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        max_length = getattr(model, "max_length", None)
    if not isinstance(inner, torch.nn.Module):
        raise DTypeError(
            f"model must be a torch.nn.Module or a wrapper with .model and .tokenizer; "
            f"got {type(model).__name__}"
        )
    return _Target(inner, tokenizer, max_length)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Dotted-name glob: ``*`` and ``?`` stay inside one name segment, ``**`` spans several."""
    parts = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append(r"[^.]*")
            i += 1
        elif pattern[i] == "?":
            parts.append(r"[^.]")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts) + r"\Z")


def _is_hf_model(module: Any) -> bool:
    config = getattr(module, "config", None)
    return config is not None and hasattr(config, "output_hidden_states")


def _n_hidden_states(module: Any) -> int:
    return int(module.config.num_hidden_layers) + 1


def resolve_modules(model: Any, modules: str | Sequence[str] | None = None) -> list[str]:
    """Names that :func:`capture` will record, in order.

    ``None`` means every hidden state for a Hugging Face model (``hidden_states.0`` ..
    ``hidden_states.L``), else every top-level child module. Strings are names or globs
    over ``named_modules()`` and the hidden-state names, where ``*`` matches within one
    dotted segment and ``**`` across segments (so ``"encoder.layer.*.output"`` is the
    output block of each layer, not ``encoder.layer.0.attention.output``);
    ``hidden_states.-1`` is the last hidden state. A pattern that matches nothing is an
    error listing what exists.

    Examples
    --------
    >>> import torch
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> resolve_modules(mlp), resolve_modules(mlp, "*"), resolve_modules(mlp, ["2", "0"])
    (['0', '1', '2'], ['0', '1', '2'], ['2', '0'])
    """
    target = _unwrap(model, None).module
    hidden = (
        [f"{HIDDEN_PREFIX}{i}" for i in range(_n_hidden_states(target))]
        if _is_hf_model(target)
        else []
    )
    if modules is None:
        return hidden or [name for name, _ in target.named_children()]
    patterns = [modules] if isinstance(modules, str) else list(modules)
    available = hidden + [name for name, _ in target.named_modules() if name]
    chosen: list[str] = []
    for pattern in patterns:
        if pattern in available:
            matches = [pattern]
        elif (
            pattern.startswith(HIDDEN_PREFIX)
            and hidden
            and pattern[len(HIDDEN_PREFIX) :].lstrip("-").isdigit()
        ):
            # negative indices count from the last hidden state, as in Python
            index = int(pattern[len(HIDDEN_PREFIX) :])
            if not -len(hidden) <= index < len(hidden):
                raise ValidationError(
                    f"{pattern!r} is out of range: the model has {len(hidden)} hidden states"
                )
            matches = [hidden[index]]
        else:
            regex = _glob_regex(pattern)
            matches = [name for name in available if regex.match(name)]
        if not matches:
            preview = ", ".join(available[:12]) + (", ..." if len(available) > 12 else "")
            raise ValidationError(
                f"module pattern {pattern!r} matches no module; available names: {preview}"
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def _first_tensor(output: Any) -> Any:
    """The activation tensor inside a module output (tensor, tuple or ModelOutput)."""
    if is_torch_tensor(output):
        return output
    if hasattr(output, "last_hidden_state") and output.last_hidden_state is not None:
        return output.last_hidden_state
    if isinstance(output, Mapping):
        output = list(output.values())
    if isinstance(output, list | tuple):
        for item in output:
            if is_torch_tensor(item):
                return item
    raise DTypeError(f"module output of type {type(output).__name__} holds no tensor to capture")


def _pool(t: Any, mask: Any, pool: str) -> tuple[Any, Any, Any]:
    """Pool a ``(batch, seq, ...)`` activation; returns rows, sample and token index."""
    torch = import_optional("torch", "torch")
    t = t.detach()
    batch = t.shape[0]
    is_sequence = t.ndim >= 3 and (mask is None or t.shape[1] == mask.shape[1])
    if not is_sequence:
        # a per-input vector (or an output with no token axis): nothing to pool
        return t.reshape(batch, -1).float(), None, None
    t = t.reshape(batch, t.shape[1], -1).float()
    if mask is None:
        mask = torch.ones(t.shape[:2], dtype=torch.bool, device=t.device)
    mask = mask.to(t.device).bool()
    if pool == "mean":
        weights = mask.unsqueeze(-1).float()
        return (t * weights).sum(1) / weights.sum(1).clamp(min=1.0), None, None
    if pool in ("first", "last"):
        positions = torch.arange(mask.shape[1], device=t.device).expand_as(mask)
        if pool == "first":
            # first real token; works for left- and right-padded batches
            index = torch.where(mask, positions, mask.shape[1]).min(1).values
        else:
            index = torch.where(mask, positions, -1).max(1).values
        index = index.clamp(0, mask.shape[1] - 1)
        return t[torch.arange(batch, device=t.device), index], None, None
    rows, cols = torch.nonzero(mask, as_tuple=True)
    return t[rows, cols], rows, cols


def _batches(inputs: Any, batch_size: int) -> Iterator[tuple[Any, int]]:
    """Yield ``(batch, n_inputs_in_batch)``; a non-sequence iterable is taken as batches."""
    if isinstance(inputs, Mapping):
        n = len(next(iter(inputs.values())))
        for start in range(0, n, batch_size):
            chunk = {k: v[start : start + batch_size] for k, v in inputs.items()}
            yield chunk, len(next(iter(chunk.values())))
    elif isinstance(inputs, str):
        yield [inputs], 1
    elif isinstance(inputs, Sequence) or hasattr(inputs, "shape"):
        n = len(inputs)
        for start in range(0, n, batch_size):
            chunk = inputs[start : start + batch_size]
            yield chunk, len(chunk)
    elif isinstance(inputs, Iterable):
        for chunk in inputs:
            size = len(next(iter(chunk.values()))) if isinstance(chunk, Mapping) else len(chunk)
            yield chunk, size
    else:
        raise DTypeError(
            f"inputs must be strings, an array/tensor, a dict of arrays or an iterable of "
            f"batches; got {type(inputs).__name__}"
        )


def _n_inputs(inputs: Any) -> int | None:
    if isinstance(inputs, Mapping):
        return len(next(iter(inputs.values())))
    if isinstance(inputs, str):
        return 1
    if isinstance(inputs, Sequence) or hasattr(inputs, "shape"):
        return len(inputs)
    return None


def _forward_args(target: _Target, batch: Any, device: Any) -> tuple[tuple, dict, Any]:
    """Positional args, keyword args and attention mask for one batch."""
    torch = import_optional("torch", "torch")

    def to_device(x: Any) -> Any:
        if is_torch_tensor(x):
            return x.to(device)
        if isinstance(x, np.ndarray):
            tensor = torch.from_numpy(np.ascontiguousarray(x))
            if tensor.is_floating_point():
                tensor = tensor.to(next(target.module.parameters(), tensor).dtype)
            return tensor.to(device)
        return x

    if isinstance(batch, str) or (
        isinstance(batch, list | tuple) and batch and isinstance(batch[0], str)
    ):
        if target.tokenizer is None:
            raise ValidationError(
                "inputs are strings but no tokenizer is known: pass tokenizer= or a model "
                "wrapper such as subspacekit.models.minilm()"
            )
        texts = [batch] if isinstance(batch, str) else list(batch)
        kwargs: dict[str, Any] = {"padding": True, "truncation": True, "return_tensors": "pt"}
        if target.max_length is not None:
            kwargs["max_length"] = target.max_length
        encoded = dict(target.tokenizer(texts, **kwargs))
        encoded = {k: v.to(device) for k, v in encoded.items()}
        return (), encoded, encoded.get("attention_mask")
    if isinstance(batch, Mapping):
        encoded = {k: to_device(v) for k, v in batch.items()}
        return (), encoded, encoded.get("attention_mask")
    return (to_device(batch),), {}, None


def iter_activations(
    model: Any,
    inputs: Any,
    modules: str | Sequence[str] | None = None,
    *,
    pool: str = "mean",
    batch_size: int = 32,
    tokenizer: Any = None,
    skip: int = 0,
) -> Iterator[tuple[int, dict[str, Any], Any, Any]]:
    """Yield ``(n_inputs, {name: float32 torch rows}, sample_index, token_index)`` per batch.

    The building block of :func:`capture` and of the activation store; ``skip`` drops
    the first ``skip`` inputs of a sequence (used to resume). Hooks live only while the
    generator runs and are removed when it finishes, fails or is closed.
    """
    torch = import_optional("torch", "torch")
    if pool not in POOLS:
        raise ValidationError(f"pool must be one of {POOLS}; got {pool!r}")
    if batch_size < 1:
        raise ValidationError(f"batch_size must be >= 1; got {batch_size}")
    target = _unwrap(model, tokenizer)
    names = resolve_modules(model, modules)
    hidden = [n for n in names if n.startswith(HIDDEN_PREFIX)]
    hooked = [n for n in names if not n.startswith(HIDDEN_PREFIX)]
    lookup = dict(target.module.named_modules())
    device = next(target.module.parameters(), torch.empty(0)).device

    outputs: dict[str, Any] = {}

    def make_hook(name: str) -> Any:
        def hook(_module: Any, _args: Any, output: Any) -> None:
            outputs[name] = _first_tensor(output)

        return hook

    if skip:
        if _n_inputs(inputs) is None:
            raise ValidationError("skip= needs inputs of known length (a sequence or array)")
        inputs = (
            {k: v[skip:] for k, v in inputs.items()}
            if isinstance(inputs, Mapping)
            else inputs[skip:]
        )
    handles = [lookup[name].register_forward_hook(make_hook(name)) for name in hooked]
    was_training = target.module.training
    target.module.eval()
    try:
        for batch, n in _batches(inputs, batch_size):
            args, kwargs, mask = _forward_args(target, batch, device)
            if hidden:
                kwargs["output_hidden_states"] = True
            outputs.clear()
            with torch.inference_mode():
                result = target.module(*args, **kwargs)
                rows: dict[str, Any] = {}
                sample_index = token_index = None
                for name in names:
                    if name in hidden:
                        tensor = result.hidden_states[int(name[len(HIDDEN_PREFIX) :])]
                    else:
                        tensor = outputs[name]
                    rows[name], s_idx, t_idx = _pool(tensor, mask, pool)
                    if s_idx is not None:
                        sample_index, token_index = s_idx, t_idx
                    if rows[name].shape[0] != rows[names[0]].shape[0]:
                        raise ShapeError(
                            f"module {name!r} gives {rows[name].shape[0]} rows for this batch "
                            f"but {names[0]!r} gives {rows[names[0]].shape[0]}; capture them "
                            "separately or with a pool that gives one row per input"
                        )
            del result
            outputs.clear()
            yield n, rows, sample_index, token_index
    finally:
        for handle in handles:
            handle.remove()
        outputs.clear()
        target.module.train(was_training)


def _check_dtype(dtype: Any) -> np.dtype:
    out = np.dtype(dtype)
    if out.type not in _OUTPUT_DTYPES:
        raise DTypeError(f"dtype must be float16, float32 or float64; got {out}")
    return out


def capture(
    model: Any,
    inputs: Any,
    modules: str | Sequence[str] | None = None,
    pool: str = "mean",
    batch_size: int = 32,
    dtype: Any = np.float32,
    verbose: bool = True,
    *,
    tokenizer: Any = None,
    sort_by_length: bool = True,
) -> ActivationDict:
    """Record module activations of ``model`` on ``inputs``.

    Parameters
    ----------
    model : torch.nn.Module or model wrapper
        Any module; Hugging Face models also expose their hidden states. A wrapper with
        ``.model`` and ``.tokenizer`` (e.g. :func:`subspacekit.models.minilm`) accepts
        raw strings.
    inputs : list of str, array, tensor, dict of tensors, or iterable of batches
        Strings are tokenised (padding, truncation). Arrays/tensors are split along the
        first axis; a dict (e.g. ``input_ids`` + ``attention_mask``) is split per key and
        passed as keyword arguments. Any other iterable is taken as ready-made batches.
    modules : str or list of str, optional
        Names or globs (see :func:`resolve_modules`). Default: all hidden states of a
        Hugging Face model, else every top-level child module.
    pool : {"mean", "first", "last", "none"}
        How a ``(batch, seq, features)`` output becomes rows: mean over real tokens,
        first or last real token (attention-mask aware), or one row per real token.
        Outputs without a sequence axis give one row per input whatever ``pool`` is.
    batch_size : int
    dtype : {float16, float32, float64}
        dtype of the returned arrays (pooling itself is done in float32).
    verbose : bool
        Show a progress bar.
    tokenizer : optional
        Tokenizer for string inputs when ``model`` is a bare module.
    sort_by_length : bool, default True
        For string inputs, run the texts longest first so each batch holds texts of
        similar length and little padding (as sentence-transformers does); rows are
        returned in the input order either way.

    Returns
    -------
    ActivationDict
        Module name -> ``(n_rows, n_features)`` array; with ``pool="none"``, also
        ``sample_index`` and ``token_index`` per row.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> acts = capture(mlp, torch.randn(10, 3), batch_size=4, verbose=False)
    >>> {name: a.shape for name, a in acts.items()}
    {'0': (10, 8), '1': (10, 8), '2': (10, 2)}
    >>> bool((acts["1"] >= 0).all())
    True
    """
    out_dtype = _check_dtype(dtype)
    total = _n_inputs(inputs)
    order = None
    if (
        sort_by_length
        and isinstance(inputs, Sequence)
        and not isinstance(inputs, str)
        and len(inputs) > batch_size
        and all(isinstance(text, str) for text in inputs)
    ):
        order = np.argsort([-len(text) for text in inputs], kind="stable")
        inputs = [inputs[i] for i in order]
    n_batches = None if total is None else -(-total // batch_size)
    parts: dict[str, list[np.ndarray]] = {}
    samples: list[np.ndarray] = []
    tokens: list[np.ndarray] = []
    seen = 0
    stream = iter_activations(
        model, inputs, modules, pool=pool, batch_size=batch_size, tokenizer=tokenizer
    )
    try:
        for n, rows, s_idx, t_idx in progress(
            stream, verbose=verbose, desc="capture", total=n_batches
        ):
            for name, tensor in rows.items():
                parts.setdefault(name, []).append(tensor.cpu().numpy().astype(out_dtype))
            if s_idx is not None:
                samples.append(s_idx.cpu().numpy() + seen)
                tokens.append(t_idx.cpu().numpy())
            seen += n
    finally:
        stream.close()
    names = resolve_modules(model, modules)
    result = ActivationDict(
        (name, np.concatenate(parts[name]) if name in parts else np.empty((0, 0), out_dtype))
        for name in names
    )
    if samples:
        result.sample_index = np.concatenate(samples)
        result.token_index = np.concatenate(tokens)
    if order is not None:
        if result.sample_index is not None:
            # back to input order: rows grouped by input, tokens in position order
            result.sample_index = order[result.sample_index]
            restore = np.argsort(result.sample_index, kind="stable")
            result.sample_index = result.sample_index[restore]
            result.token_index = result.token_index[restore]
        else:
            restore = np.argsort(order)
        for name in result:
            if result[name].shape[0] == restore.shape[0]:
                result[name] = result[name][restore]
    return result


def fingerprint(inputs: Any) -> str | None:
    """SHA-256 of a sequence of inputs (strings, arrays, dict of arrays); None if unknown.

    Used by the activation store to refuse resuming on different inputs.
    """
    digest = hashlib.sha256()
    if isinstance(inputs, Mapping):
        for key in sorted(inputs):
            digest.update(key.encode())
            digest.update(_bytes_of(inputs[key]))
        return digest.hexdigest()
    if isinstance(inputs, Sequence) and inputs and all(isinstance(s, str) for s in inputs):
        for text in inputs:
            digest.update(text.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()
    if hasattr(inputs, "shape"):
        digest.update(_bytes_of(inputs))
        return digest.hexdigest()
    return None


def _bytes_of(x: Any) -> bytes:
    if is_torch_tensor(x):
        x = x.detach().cpu().numpy()
    arr = np.ascontiguousarray(np.asarray(x))
    return str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes()
