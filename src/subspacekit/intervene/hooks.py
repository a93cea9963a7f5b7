r"""Forward hooks that edit activations, as context managers; running and recording a model.

Every intervention of :mod:`subspacekit.intervene` is a ``with`` block on an ordinary
``torch.nn.Module`` built on :func:`edit`: hooks are registered on entry and removed
on exit, on every exit path (normal end, exception inside the block, exception raised
by the hook itself during the forward pass). There is no handle a caller can forget
to remove, so a hook can never be left behind.

Sites are addressed with the names of ``model.named_modules()`` or dotted globs such
as ``"encoder.layer.*.output"`` (``*`` within one segment, ``**`` across segments),
resolved by :func:`subspacekit.activations.resolve_modules`, the library's one module
resolver, so :func:`subspacekit.activations.capture` and the hooks agree on every
name. The edited value is the module's output; when a module returns a tuple or list
(older Hugging Face layers), its first element, the hidden state, is edited and the
rest passed through.

This module holds the machinery (:func:`edit`, :func:`forward`, :func:`record`,
:func:`as_subspace`); the subspace edits built on it live in
:mod:`~subspacekit.intervene.edits` (:func:`erase`, :func:`steer`) and
:mod:`~subspacekit.intervene.patching` (:func:`patch`, :func:`interchange`).

torch is imported lazily, so importing this module never needs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from subspacekit.activations.inputs import as_model_tensor, call_model, model_inputs
from subspacekit.activations.modules import resolve_modules, torch_module
from subspacekit.core.backend import import_optional, is_torch_tensor
from subspacekit.core.constraints import is_int
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_same_dimension, describe
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NotFittedError,
    ShapeError,
    ValidationError,
)

__all__ = [
    "EditFn",
    "Position",
    "TensorConstants",
    "as_subspace",
    "edit",
    "forward",
    "record",
    "site_dimension",
    "target_tensor",
]

Position = int | slice | Sequence[int] | None
EditFn = Callable[[Any], Any]


# --------------------------------------------------------------------- core hook
def _position_index(position: Any) -> Any:
    """``position`` as an index of axis 1 (None, an int, a slice or a list of ints)."""
    if position is None or isinstance(position, slice) or is_int(position):
        return position
    if isinstance(position, Sequence) and not isinstance(position, str):
        index = list(position)
        if index and all(is_int(i) for i in index):
            return [int(i) for i in index]
    raise DTypeError(
        f"position must be None, an int, a slice or a non-empty sequence of ints; "
        f"got {describe(position)}"
    )


def _plan(
    model: Any, modules: str | Sequence[str] | Mapping[str, EditFn], fn: EditFn | None
) -> dict[str, tuple[Any, EditFn]]:
    """``{name: (module, fn)}`` for the hooked modules, in ``named_modules()`` order."""
    lookup = dict(torch_module(model).named_modules())
    if isinstance(modules, Mapping):
        if fn is not None:
            raise ValidationError("give either a {name: fn} mapping or one fn, not both")
        plan = {}
        for pattern, f in modules.items():
            if not callable(f):
                raise DTypeError(f"the edit for {pattern!r} must be callable; got {describe(f)}")
            for name in resolve_modules(model, pattern, hidden_states=False):
                plan[name] = (lookup[name], f)
        return plan
    if fn is None or not callable(fn):
        raise DTypeError(f"fn must be callable; got {describe(fn)}")
    names = resolve_modules(model, modules, hidden_states=False)
    return {name: (lookup[name], fn) for name in names}


@contextlib.contextmanager
def edit(
    model: Any,
    modules: str | Sequence[str] | Mapping[str, EditFn],
    fn: EditFn | None = None,
    *,
    position: Position = None,
) -> Iterator[dict[str, Any]]:
    """Apply ``fn`` to the output of each named module while the block runs.

    The building block of :func:`~subspacekit.intervene.erase`,
    :func:`~subspacekit.intervene.steer` and :func:`~subspacekit.intervene.patch`.

    Parameters
    ----------
    model : torch.nn.Module
    modules : str, sequence of str, or mapping
        Names or globs (see :func:`subspacekit.activations.resolve_modules`), or
        ``{name: fn}`` to give each module its own function (then ``fn`` must be None).
    fn : callable
        ``fn(h) -> h'`` on the hidden-state tensor, shape ``(..., d)``; called with
        the selected positions only when ``position`` is given.
    position : int, slice, sequence of int or None
        Sequence positions (axis 1 of a ``(batch, seq, d)`` output) to edit; None
        edits every position.

    Yields
    ------
    dict
        ``{name: module}`` of the hooked modules.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Identity())
    >>> with edit(net, "0", lambda h: 2 * h):
    ...     net(torch.ones(1, 2))
    tensor([[2., 2.]])
    >>> net(torch.ones(1, 2))  # restored on exit
    tensor([[1., 1.]])
    """
    index = _position_index(position)
    plan = _plan(model, modules, fn)
    handles = []
    try:
        for name, (mod, f) in plan.items():
            handles.append(mod.register_forward_hook(_make_hook(name, f, index)))
        yield {name: mod for name, (mod, _) in plan.items()}
    finally:
        for handle in handles:
            handle.remove()


def _make_hook(name: str, fn: EditFn, position: Any) -> Callable[..., Any]:
    def hook(module: Any, args: Any, output: Any) -> Any:
        if is_torch_tensor(output):
            return _apply(name, fn, output, position)
        if isinstance(output, tuple | list) and output and is_torch_tensor(output[0]):
            edited = _apply(name, fn, output[0], position)
            return type(output)([edited, *output[1:]])
        raise DTypeError(
            f"module {name!r} returned {type(output).__name__}; expected a tensor or a "
            "tuple whose first element is the hidden-state tensor"
        )

    return hook


def _apply(name: str, fn: EditFn, h: Any, position: Any) -> Any:
    if position is None:
        out = fn(h)
    else:
        if h.ndim < 3:
            raise ShapeError(
                f"position={position!r} needs a (batch, seq, d) output; module {name!r} "
                f"returned shape {tuple(h.shape)}"
            )
        out = h.clone()
        out[:, position] = fn(h[:, position])
    if not is_torch_tensor(out) or tuple(out.shape) != tuple(h.shape):
        shape = tuple(out.shape) if is_torch_tensor(out) else describe(out)
        raise ShapeError(
            f"the edit at module {name!r} changed the output of shape {tuple(h.shape)} into {shape}"
        )
    return out


# ------------------------------------------------------------------ subspace input
def as_subspace(obj: Any, name: str = "subspace") -> Subspace:
    """Return ``obj`` as a :class:`~subspacekit.core.Subspace`.

    Accepts a Subspace, a (d, k) basis (array, tensor, list or data frame; columns are
    the spanning directions), a (d,) direction, or a fitted estimator exposing
    ``subspace_`` (e.g. a probe, INLP or DAS).

    Raises
    ------
    NotFittedError
        For an estimator that has not been fitted.
    ShapeError, NonFiniteError, DTypeError, RankError
        For anything that is not a real, finite basis of full column rank.

    Examples
    --------
    >>> as_subspace(np.array([3.0, 4.0])).basis.ravel().round(2)
    array([0.6, 0.8])
    """
    if isinstance(obj, Subspace):
        return obj
    if hasattr(obj, "subspace_"):
        return as_subspace(obj.subspace_, name)
    if hasattr(obj, "fit") and not hasattr(obj, "shape"):
        raise NotFittedError(f"{type(obj).__name__} is not fitted; call fit before using it")
    arr = check_array(obj, name, ndim=(1, 2))
    if arr.ndim == 1:
        return Subspace.from_directions(arr)
    return Subspace.from_basis(arr)


class TensorConstants:
    """Numpy constants of an edit, converted once per (dtype, device) of the activations.

    Examples
    --------
    >>> import torch
    >>> c = TensorConstants(shift=np.ones(2))
    >>> c.get(torch.zeros(3, 2, dtype=torch.float64))["shift"].dtype
    torch.float64
    """

    def __init__(self, **arrays: np.ndarray | None) -> None:
        self.arrays = arrays
        self.cache: dict[Any, dict[str, Any]] = {}

    def get(self, like: Any) -> dict[str, Any]:
        """The constants as tensors with the dtype and device of ``like``."""
        key = (like.dtype, like.device)
        if key not in self.cache:
            torch = import_optional("torch", "torch")
            self.cache[key] = {
                k: None if v is None else torch.tensor(v, dtype=like.dtype, device=like.device)
                for k, v in self.arrays.items()
            }
        return self.cache[key]


def site_dimension(h: Any, d: int, what: str) -> int:
    """The last dimension of the activation ``h``, which must be ``d`` (the edit's space).

    Raises :class:`~subspacekit.errors.DimensionMismatchError` naming ``what`` otherwise.

    Examples
    --------
    >>> import torch
    >>> site_dimension(torch.zeros(2, 3), 3, "the subspace")
    3
    """
    return check_same_dimension(
        int(h.shape[-1]),
        d,
        what=f"last dimension (the activation of shape {tuple(h.shape)} vs {what} in R^{d})",
    )


def target_tensor(values: Any, name: str, n_rows: int | None = None) -> Any:
    """Targets, labels or model outputs as a checked tensor (with ``n_rows`` rows if given).

    Tensors, arrays and lists are accepted; they must be real and finite with at least
    one row (see :func:`subspacekit.activations.inputs.model_inputs`).

    Examples
    --------
    >>> target_tensor([1, 0, 1], "labels").dtype
    torch.int64
    >>> target_tensor([1, 0], "labels", n_rows=3)
    Traceback (most recent call last):
    ...
    subspacekit.errors.DimensionMismatchError: labels has 2 rows; expected one per input pair (3)
    """
    torch = import_optional("torch", "torch")
    checked = model_inputs(values, name)
    if isinstance(checked, list):  # model_inputs keeps lists of strings only
        raise DTypeError(f"{name} must hold numbers; got strings")
    t = checked if is_torch_tensor(checked) else torch.as_tensor(np.asarray(checked))
    if n_rows is not None and t.shape[0] != n_rows:
        raise DimensionMismatchError(
            f"{name} has {t.shape[0]} rows; expected one per input pair ({n_rows})"
        )
    return t


# ------------------------------------------------------------ running the model
def _feed(value: Any, module: Any, name: str) -> Any:
    """One model argument: arrays and tensors checked and converted, other values as given."""
    if is_torch_tensor(value) or isinstance(value, np.ndarray) or hasattr(value, "columns"):
        return as_model_tensor(model_inputs(value, name), module, name)
    return value


def forward(model: Any, inputs: Any) -> Any:
    """Call ``model`` on ``inputs``: ``model(**inputs)`` for a mapping, ``model(*inputs)``
    for a tuple, ``model(inputs)`` otherwise.

    Arrays, tensors, lists of numbers and data frames are checked (finite floats, at
    least one row) and become tensors on the model's device, floats in its dtype (see
    :func:`subspacekit.activations.inputs.as_model_tensor`); other values (flags,
    caches) are passed as given. A failure of the model on the inputs is a
    :class:`~subspacekit.errors.ValidationError` chained to the model's own error.

    Examples
    --------
    >>> import torch
    >>> forward(torch.nn.Identity(), torch.ones(1))
    tensor([1.])
    >>> forward(torch.nn.Linear(2, 1, bias=False).requires_grad_(False), [[1.0, 2.0]]).shape
    torch.Size([1, 1])
    """
    module = torch_module(model)
    if inputs is None:
        raise DTypeError("inputs must be a tensor, an array, a tuple or a mapping; got None")
    if isinstance(inputs, Mapping):
        kwargs = {k: _feed(v, module, f"inputs[{k!r}]") for k, v in inputs.items()}
        return call_model(module, **kwargs)
    if isinstance(inputs, tuple):
        args = tuple(_feed(v, module, f"inputs[{i}]") for i, v in enumerate(inputs))
        return call_model(module, *args)
    return call_model(module, as_model_tensor(model_inputs(inputs), module))


def record(
    model: Any,
    modules: str | Sequence[str],
    inputs: Any,
    *,
    position: Position = None,
    run: Callable[[Any, Any], Any] | None = None,
) -> dict[str, Any]:
    """Run the model once (without gradients) and return the raw outputs of modules.

    Unlike :func:`subspacekit.activations.capture` nothing is pooled: the tensors
    have the module's own shape, ready to be the ``source`` of
    :func:`~subspacekit.intervene.patch`.

    Parameters
    ----------
    model : torch.nn.Module
    modules : str or sequence of str
    inputs : tensor, array, tuple or mapping
    position : int, slice, sequence of int or None
        Keep only these sequence positions.
    run : callable, optional
        ``run(model, inputs)`` replacing :func:`forward` (e.g. a sentence-transformers
        model takes its feature dict positionally).

    Returns
    -------
    dict
        ``{name: tensor}`` (detached).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    >>> record(net, "0", torch.ones(5, 2))["0"].shape
    torch.Size([5, 2])
    """
    torch = import_optional("torch", "torch")
    if run is not None and not callable(run):
        raise DTypeError(f"run must be callable or None; got {describe(run)}")
    found: dict[str, Any] = {}

    def keep(name: str) -> EditFn:
        def store(h: Any) -> Any:
            found[name] = h.detach()
            return h

        return store

    names = resolve_modules(model, modules, hidden_states=False)
    with torch.no_grad(), edit(model, {n: keep(n) for n in names}, position=position):
        (run or forward)(model, inputs)
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError(f"module(s) {missing} did not run during the forward pass")
    return found
