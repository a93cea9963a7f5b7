"""What a model is fed: checking inputs, turning arrays into tensors, calling the model.

The one home of "how subspacekit runs a torch model on user inputs", shared by
:func:`subspacekit.activations.capture`, the activation store and
:func:`subspacekit.intervene.forward` (and through it record, interchange, DAS and the
illusion diagnostics):

* :func:`model_inputs` checks a whole input collection once (strings, arrays, tensors,
  lists, data frames, dicts of arrays) and returns it in a form that can be batched;
* :func:`as_model_tensor` turns one array into a tensor on the model's device, floats
  in the model's float dtype, and refuses values that overflow that dtype;
* :func:`call_model` runs the model and reports a failure on the inputs as a
  :class:`~subspacekit.errors.ValidationError` that says where it happened.

torch is imported when a function runs, never at import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from subspacekit.core.backend import import_optional, is_torch_tensor
from subspacekit.core.validation import check_array, check_consistent_samples, describe
from subspacekit.errors import (
    DTypeError,
    NonFiniteError,
    ShapeError,
    SubspaceKitError,
    TooFewSamplesError,
    ValidationError,
)

__all__ = ["as_model_tensor", "call_model", "count_inputs", "model_inputs"]

# Array inputs of any rank a model may take: (n,), (n, d), (n, seq), (n, seq, d), images...
_ARRAY_NDIM = (1, 2, 3, 4, 5)


def _numeric_tensor(t: Any, name: str) -> Any:
    torch = import_optional("torch", "torch")
    if t.is_complex():
        raise DTypeError(
            f"Complex data not supported: {name} must hold real numbers; got {t.dtype}"
        )
    if t.ndim == 0:
        raise ShapeError(f"{name} must have a sample axis; got a 0-D tensor")
    if t.shape[0] == 0:
        raise TooFewSamplesError(f"{name} needs at least 1 sample; got {describe(t)}")
    if t.is_floating_point():
        finite = torch.isfinite(t)
        if not bool(finite.all()):
            n_nan = int(torch.isnan(t).sum())
            n_inf = int((~finite).sum()) - n_nan
            raise NonFiniteError(
                f"{name} contains {n_nan} NaN and {n_inf} infinite values; expected finite numbers"
            )
    return t


def _numeric_array(x: Any, name: str) -> np.ndarray:
    # dtype=None keeps integer token ids as integers; check_array still rejects None,
    # sparse and non-numeric object input and checks floats for NaN/inf.
    A = check_array(x, name, ndim=_ARRAY_NDIM, dtype=None, min_samples=1)
    if A.dtype.kind == "c":
        raise DTypeError(
            f"Complex data not supported: {name} must hold real numbers; got dtype {A.dtype}"
        )
    if A.dtype.kind not in "biuf":
        raise DTypeError(
            f"{name} must hold numbers (token ids or features) or be a list of strings; "
            f"got dtype {A.dtype}"
        )
    return A


def model_inputs(inputs: Any, name: str = "inputs") -> Any:
    """Check model inputs and return them in a form :func:`capture` can batch.

    * a string becomes a list of one string; a list of strings is kept;
    * a tensor is kept (checked: real, at least one row, floats finite);
    * an array, a list of numbers or a data frame becomes a numpy array (integer token
      ids stay integers, floats must be finite);
    * a dict of arrays (``input_ids``, ``attention_mask``, ...) is checked per key and
      the keys must have the same number of rows;
    * any other iterable is taken as ready-made batches and returned as is (each batch
      is checked when it is run).

    Raises
    ------
    DTypeError
        None, complex, string arrays, lists mixing strings and numbers.
    NonFiniteError, TooFewSamplesError, ShapeError, DimensionMismatchError
        NaN/inf floats, no inputs, a 0-D array, dict entries of different lengths.

    Examples
    --------
    >>> model_inputs("a sentence")
    ['a sentence']
    >>> model_inputs([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> model_inputs([])
    Traceback (most recent call last):
    ...
    subspacekit.errors.TooFewSamplesError: inputs needs at least 1 input; got an empty list
    """
    if inputs is None:
        raise DTypeError(
            f"{name} must be strings, an array, a tensor or a dict of arrays; got None"
        )
    if isinstance(inputs, str):
        return [inputs]
    if is_torch_tensor(inputs):
        return _numeric_tensor(inputs, name)
    if isinstance(inputs, Mapping):
        if not inputs:
            raise ValidationError(f"{name} is an empty dict; expected arrays such as input_ids")
        checked = {
            key: (
                _numeric_tensor(value, f"{name}[{key!r}]")
                if is_torch_tensor(value)
                else _numeric_array(value, f"{name}[{key!r}]")
            )
            for key, value in inputs.items()
        }
        check_consistent_samples(*checked.values(), names=[f"{name}[{k!r}]" for k in checked])
        return checked
    if isinstance(inputs, np.ndarray) or hasattr(inputs, "columns") or hasattr(inputs, "dtype"):
        return _numeric_array(inputs, name)
    if isinstance(inputs, Sequence):
        if len(inputs) == 0:
            raise TooFewSamplesError(f"{name} needs at least 1 input; got an empty list")
        texts = [isinstance(item, str) for item in inputs]
        if all(texts):
            return list(inputs)
        if any(texts):
            raise DTypeError(f"{name} mixes strings and other values; give texts or numbers")
        return _numeric_array(inputs, name)
    if isinstance(inputs, Iterable):
        return inputs
    raise DTypeError(
        f"{name} must be strings, an array/tensor, a dict of arrays or an iterable of "
        f"batches; got {describe(inputs)}"
    )


def count_inputs(inputs: Any) -> int | None:
    """Number of inputs in a sequence, array or dict of arrays; None for a stream of batches.

    Examples
    --------
    >>> count_inputs(["a", "b"]), count_inputs({"input_ids": np.zeros((3, 4))}), count_inputs(iter([]))
    (2, 3, None)
    """
    if isinstance(inputs, Mapping):
        return len(next(iter(inputs.values())))
    if isinstance(inputs, str):
        return 1
    if isinstance(inputs, Sequence) or hasattr(inputs, "shape"):
        return len(inputs)
    return None


def _float_dtype(module: Any) -> Any:
    """The float dtype of the module's parameters, or None for a parameter-free module."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return None


def _device(module: Any) -> Any:
    torch = import_optional("torch", "torch")
    return next(module.parameters(), torch.empty(0)).device


def as_model_tensor(x: Any, module: Any, name: str = "inputs") -> Any:
    """One array or tensor as the tensor ``module`` takes; anything else unchanged.

    A numpy array becomes a tensor; floats are cast to the float dtype of the module's
    parameters (a module without parameters keeps the input's float dtype) and moved to
    their device. Values that overflow the model's dtype (1e60 into float32) raise
    :class:`~subspacekit.errors.NonFiniteError` instead of reaching the model as inf.

    Examples
    --------
    >>> import torch
    >>> as_model_tensor(np.ones((2, 3)), torch.nn.Linear(3, 1)).dtype
    torch.float32
    >>> as_model_tensor(np.full((1, 3), 1e60), torch.nn.Linear(3, 1))
    Traceback (most recent call last):
    ...
    subspacekit.errors.NonFiniteError: inputs overflow torch.float32, the model's dtype, in 3 entries (largest magnitude 1e+60); rescale the inputs or run the model in float64
    """
    torch = import_optional("torch", "torch")
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise DTypeError(f"{name} must hold real numbers; got dtype {x.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(x))
    elif is_torch_tensor(x):
        t = x
    else:
        return x
    float_dtype = _float_dtype(module)
    if t.is_floating_point() and float_dtype is not None and t.dtype != float_dtype:
        cast = t.to(float_dtype)
        overflow = ~torch.isfinite(cast) & torch.isfinite(t)
        if bool(overflow.any()):
            largest = float(t[overflow].abs().max())
            raise NonFiniteError(
                f"{name} overflow {float_dtype}, the model's dtype, in {int(overflow.sum())} "
                f"entries (largest magnitude {largest:.3g}); rescale the inputs or run the "
                "model in float64"
            )
        t = cast
    return t.to(_device(module))


def call_model(module: Any, *args: Any, where: str = "the inputs", **kwargs: Any) -> Any:
    """``module(*args, **kwargs)``, with a failure on the inputs reported as an input error.

    A ``RuntimeError``, ``TypeError``, ``ValueError`` or ``IndexError`` raised by the
    model (inputs of the wrong width, integer ids fed to a linear layer, ...) becomes a
    :class:`~subspacekit.errors.ValidationError` naming ``where`` and chained to the
    original; subspacekit's own errors (from hooks) and running out of memory pass
    through unchanged.

    Examples
    --------
    >>> import torch
    >>> call_model(torch.nn.Linear(3, 1), torch.ones(2, 4), where="batch 0")
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: the model raised RuntimeError on batch 0: mat1 and mat2 shapes cannot be multiplied (2x4 and 3x1); check that the inputs have the shape and dtype the model expects
    """
    torch = import_optional("torch", "torch")
    try:
        return module(*args, **kwargs)
    except SubspaceKitError:
        raise
    except (RuntimeError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, getattr(torch, "OutOfMemoryError", ())):
            raise
        raise ValidationError(
            f"the model raised {type(exc).__name__} on {where}: {exc}; check that the "
            "inputs have the shape and dtype the model expects"
        ) from exc
