"""Capture the activations of any torch model with forward hooks.

A module's output for a batch is turned into one row per input by pooling over the
sequence axis with the attention mask (``mean``, ``first``, ``last``), or into one row
per real (non-padding) token (``none``). For Hugging Face models the hidden states
(``hidden_states.0`` = embeddings, ``hidden_states.i`` = output of block ``i``) come
from ``output_hidden_states=True``; any other module is reached by its name in
``named_modules()`` or a glob over those names (``"encoder.layer.*.output"``), resolved
by :func:`subspacekit.activations.resolve_modules`, the library's one module resolver.

Hooks are always removed, also when the forward pass raises; inference runs under
``torch.inference_mode`` and each batch is pooled and moved to numpy before the next,
so memory stays flat over many batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from subspacekit.activations.inputs import as_model_tensor, call_model, count_inputs, model_inputs
from subspacekit.activations.modules import HIDDEN_PREFIX, resolve_modules, torch_module
from subspacekit.core.backend import import_optional, is_torch_tensor
from subspacekit.core.progress import progress
from subspacekit.core.validation import check_in, check_int, describe
from subspacekit.errors import (
    DTypeError,
    NonFiniteError,
    ShapeError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = [
    "OUTPUT_DTYPES",
    "POOLS",
    "ActivationDict",
    "activation_dtype",
    "capture",
    "fingerprint",
    "iter_activations",
]

POOLS = ("mean", "first", "last", "none")
# The dtypes activations are returned or stored in.
OUTPUT_DTYPES = ("float16", "float32", "float64")


class ActivationDict(dict):  # type: ignore[type-arg]
    """``dict`` from module name to ``(n_rows, n_features)`` array.

    With ``pool="none"`` the rows are tokens: ``sample_index[r]`` is the input that row
    ``r`` came from and ``token_index[r]`` its position in the padded sequence. Both are
    ``None`` for pooled captures (row ``r`` is input ``r``).
    """

    sample_index: np.ndarray | None = None
    token_index: np.ndarray | None = None


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
    """Yield ``(batch, n_inputs_in_batch)`` of checked inputs (see :func:`model_inputs`)."""
    if isinstance(inputs, Mapping):
        n = len(next(iter(inputs.values())))
        for start in range(0, n, batch_size):
            chunk = {k: v[start : start + batch_size] for k, v in inputs.items()}
            yield chunk, len(next(iter(chunk.values())))
    elif isinstance(inputs, Sequence) or hasattr(inputs, "shape"):
        for start in range(0, len(inputs), batch_size):
            chunk = inputs[start : start + batch_size]
            yield chunk, len(chunk)
    else:
        # an iterable of ready-made batches: each is checked as it comes
        for i, chunk in enumerate(inputs):
            chunk = model_inputs(chunk, name=f"batch {i} of the inputs")
            yield chunk, count_inputs(chunk)


def _forward_args(
    module: Any, tokenizer: Any, max_length: int | None, batch: Any
) -> tuple[tuple, dict, Any]:
    """Positional args, keyword args and attention mask for one batch."""
    if isinstance(batch, list) and batch and isinstance(batch[0], str):
        if tokenizer is None:
            raise ValidationError(
                "inputs are strings but no tokenizer is known: pass tokenizer= or a model "
                "wrapper such as subspacekit.models.minilm()"
            )
        kwargs: dict[str, Any] = {"padding": True, "truncation": True, "return_tensors": "pt"}
        if max_length is not None:
            kwargs["max_length"] = max_length
        encoded = dict(tokenizer(list(batch), **kwargs))
        encoded = {k: as_model_tensor(v, module, name=k) for k, v in encoded.items()}
        return (), encoded, encoded.get("attention_mask")
    if isinstance(batch, Mapping):
        encoded = {k: as_model_tensor(v, module, name=f"inputs[{k!r}]") for k, v in batch.items()}
        return (), encoded, encoded.get("attention_mask")
    return (as_model_tensor(batch, module),), {}, None


def activation_dtype(dtype: Any) -> np.dtype:
    """The numpy dtype activations are returned or stored in: float16, float32 or float64.

    Examples
    --------
    >>> activation_dtype("float16"), activation_dtype(np.float32)
    (dtype('float16'), dtype('float32'))
    >>> activation_dtype(np.int32)
    Traceback (most recent call last):
    ...
    subspacekit.errors.DTypeError: dtype must be float16, float32 or float64; got int32
    """
    try:
        out = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(
            f"dtype must be float16, float32 or float64; got {describe(dtype)}"
        ) from exc
    if out.name not in OUTPUT_DTYPES:
        raise DTypeError(f"dtype must be float16, float32 or float64; got {out}")
    return out


def _nonfinite_message(rows: Any, name: str, where: str, what: str) -> str | None:
    torch = import_optional("torch", "torch")
    t = rows if is_torch_tensor(rows) else torch.from_numpy(np.asarray(rows))
    finite = torch.isfinite(t)
    if bool(finite.all()):
        return None
    n_nan = int(torch.isnan(t).sum())
    n_inf = int((~finite).sum()) - n_nan
    return (
        f"module {name!r} {what} {n_nan} NaN and {n_inf} infinite values on {where}; "
        "activations must be finite: check the inputs and the model's numerical range"
    )


def iter_activations(
    model: Any,
    inputs: Any,
    modules: str | Sequence[str] | None = None,
    *,
    pool: str = "mean",
    batch_size: int = 32,
    tokenizer: Any = None,
    skip: int = 0,
    dtype: Any = None,
) -> Iterator[tuple[int, dict[str, Any], Any, Any]]:
    """Yield ``(n_inputs, {name: rows}, sample_index, token_index)`` per batch.

    The building block of :func:`capture` and of the activation store. Rows are float32
    torch tensors, or numpy arrays of ``dtype`` when it is given (then the indices are
    numpy too). ``skip`` drops the first ``skip`` inputs of a sequence (used to resume).
    Hooks live only while the generator runs and are removed when it finishes, fails or
    is closed.

    Raises
    ------
    NonFiniteError
        When a module's activations on a batch hold NaN or inf (also after conversion
        to ``dtype``: float16 overflows above 65504); the message names the module and
        the batch. Activations are never passed on with NaN in them.
    ValidationError
        When the model fails on a batch (the message names the batch and the error).
    """
    torch = import_optional("torch", "torch")
    check_in(pool, POOLS, "pool")
    batch_size = check_int(batch_size, "batch_size", low=1)
    skip = check_int(skip, "skip", low=0)
    out_dtype = None if dtype is None else activation_dtype(dtype)
    module = torch_module(model)
    if module is not model:  # a wrapper (e.g. subspacekit.models.TextModel) with its tokenizer
        tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
    max_length = getattr(model, "max_length", None) if module is not model else None
    names = resolve_modules(model, modules)
    inputs = model_inputs(inputs)
    hidden = [n for n in names if n.startswith(HIDDEN_PREFIX)]
    hooked = [n for n in names if not n.startswith(HIDDEN_PREFIX)]
    lookup = dict(module.named_modules())

    outputs: dict[str, Any] = {}

    def make_hook(name: str) -> Any:
        def hook(_module: Any, _args: Any, output: Any) -> None:
            outputs[name] = _first_tensor(output)

        return hook

    if skip:
        if count_inputs(inputs) is None:
            raise ValidationError("skip= needs inputs of known length (a sequence or array)")
        inputs = (
            {k: v[skip:] for k, v in inputs.items()}
            if isinstance(inputs, Mapping)
            else inputs[skip:]
        )
    handles = [lookup[name].register_forward_hook(make_hook(name)) for name in hooked]
    was_training = module.training
    module.eval()
    seen = skip
    try:
        for b, (batch, n) in enumerate(_batches(inputs, batch_size)):
            where = f"batch {b} (inputs {seen} to {seen + n - 1})"
            args, kwargs, mask = _forward_args(module, tokenizer, max_length, batch)
            if hidden:
                kwargs["output_hidden_states"] = True
            outputs.clear()
            with torch.inference_mode():
                result = call_model(module, *args, where=where, **kwargs)
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
                    problem = _nonfinite_message(rows[name], name, where, "produced")
                    if problem is None and out_dtype is not None:
                        with np.errstate(over="ignore"):  # reported below, with the batch
                            rows[name] = rows[name].cpu().numpy().astype(out_dtype)
                        problem = _nonfinite_message(
                            rows[name], name, where, f"overflowed {out_dtype} with"
                        )
                    if problem is not None:
                        raise NonFiniteError(problem)
            del result
            outputs.clear()
            if out_dtype is not None and sample_index is not None:
                sample_index = sample_index.cpu().numpy()
                token_index = token_index.cpu().numpy()
            seen += n
            yield n, rows, sample_index, token_index
    finally:
        for handle in handles:
            handle.remove()
        outputs.clear()
        module.train(was_training)


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
        Strings are tokenised (padding, truncation). Arrays, tensors, lists of numbers
        and data frames are split along the first axis (floats are cast to the model's
        dtype); a dict (e.g. ``input_ids`` + ``attention_mask``) is split per key and
        passed as keyword arguments. Any other iterable is taken as ready-made batches.
        See :func:`~subspacekit.activations.inputs.model_inputs` for the checks.
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
        Module name -> ``(n_rows, n_features)`` array, in the order of
        :func:`resolve_modules`; with ``pool="none"``, also ``sample_index`` and
        ``token_index`` per row.

    Raises
    ------
    NonFiniteError
        When a module's activations hold NaN or inf on some batch (or overflow
        ``dtype``); the message names the module and the batch. NaN is never written
        into the result.
    ValidationError
        When the model fails on a batch, or the inputs are empty or malformed.

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
    out_dtype = activation_dtype(dtype)
    batch_size = check_int(batch_size, "batch_size", low=1)
    names = resolve_modules(model, modules)
    inputs = model_inputs(inputs)
    total = count_inputs(inputs)
    order = None
    if (
        sort_by_length
        and isinstance(inputs, list)
        and len(inputs) > batch_size
        and isinstance(inputs[0], str)
    ):
        order = np.argsort([-len(text) for text in inputs], kind="stable")
        inputs = [inputs[i] for i in order]
    n_batches = None if total is None else -(-total // batch_size)
    parts: dict[str, list[np.ndarray]] = {}
    samples: list[np.ndarray] = []
    tokens: list[np.ndarray] = []
    seen = 0
    stream = iter_activations(
        model,
        inputs,
        names,
        pool=pool,
        batch_size=batch_size,
        tokenizer=tokenizer,
        dtype=out_dtype,
    )
    try:
        for n, rows, s_idx, t_idx in progress(
            stream, verbose=verbose, desc="capture", total=n_batches
        ):
            for name, array in rows.items():
                parts.setdefault(name, []).append(array)
            if s_idx is not None:
                samples.append(s_idx + seen)
                tokens.append(t_idx)
            seen += n
    finally:
        stream.close()
    if not parts:
        raise TooFewSamplesError("inputs held no batches; expected at least one input")
    result = ActivationDict((name, np.concatenate(parts[name])) for name in names)
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
