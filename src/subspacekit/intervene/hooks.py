r"""Forward hooks that edit activations through a subspace, as context managers.

Every intervention here is a ``with`` block on an ordinary ``torch.nn.Module``:
hooks are registered on entry and removed on exit, on every exit path (normal
end, exception inside the block, exception raised by the hook itself during the
forward pass). There is no handle a caller can forget to remove, so a hook can
never be left behind.

Sites are addressed with the names of ``model.named_modules()`` (the names
:func:`subspacekit.activations.capture` uses), or with dotted globs such as
``"encoder.layer.*.output"`` (``*`` within one segment, ``**`` across segments). The edited value is the
module's output; when a module returns a tuple or list (older Hugging Face layers),
its first element, the hidden state, is edited and the rest passed through.

With ``h`` an activation row (the last axis of the module output), ``B`` (d x k) an
orthonormal basis and :math:`\mu` the subspace offset (zero for a linear subspace):

* :func:`erase`  : :math:`h \leftarrow h - (h-\mu) B B^\top`, or a fitted LEACE
  eraser :math:`h \leftarrow h - (h-\mu) R^\top L^\top`;
* :func:`steer`  : :math:`h \leftarrow h + \alpha v` (add), or
  :math:`h \leftarrow h + B\,(c - B^\top (h-\mu))` (clamp the coordinates to ``c``);
* :func:`patch`  : :math:`h \leftarrow h + (h_{src} - h) B B^\top`, the interchange
  intervention restricted to the subspace: its component from a source run, the
  rest from the base run.

torch is imported lazily, so importing this module never needs it.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

# One glob dialect for module names across the library: the one activations.capture uses.
from subspacekit.activations.capture import _glob_regex
from subspacekit.core.backend import import_optional, is_torch_tensor, to_numpy
from subspacekit.core.subspace import Subspace
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NotFittedError,
    ShapeError,
    ValidationError,
)

__all__ = [
    "as_subspace",
    "edit",
    "erase",
    "forward",
    "interchange",
    "patch",
    "record",
    "resolve_modules",
    "steer",
]

Position = int | slice | Sequence[int] | None
EditFn = Callable[[Any], Any]


# --------------------------------------------------------------------------- names
def resolve_modules(model: Any, modules: str | Sequence[str] | None = None) -> dict[str, Any]:
    """Map module names or globs to the submodules of ``model`` they denote.

    Parameters
    ----------
    model : torch.nn.Module, or a wrapper with a ``.model`` module (e.g. a
        :class:`subspacekit.models.TextModel`)
    modules : str or sequence of str or None
        Exact names from ``model.named_modules()`` or dotted-name globs with the
        rules of :func:`subspacekit.activations.capture`: ``*`` and ``?`` stay
        inside one dotted segment, ``**`` spans several (``"encoder.layer.*.output"``
        is each block's output module, not ``encoder.layer.0.attention.output``).
        ``None`` selects every submodule except the root. ``""`` is the root.

    Returns
    -------
    dict
        ``{name: module}`` in the order of ``named_modules()``, without duplicates.

    Raises
    ------
    ValidationError
        When a name or glob matches nothing; the message lists the closest names.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    >>> list(resolve_modules(net, "*"))
    ['0', '1', '2']
    >>> list(resolve_modules(net, ["2", "0"]))
    ['0', '2']
    >>> resolve_modules(net, "3")
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: module name '3' matches no module of Sequential; closest names: '0', '1', '2'
    """
    named = _named_modules(model)
    if modules is None:
        return {name: mod for name, mod in named.items() if name}
    patterns = [modules] if isinstance(modules, str) else list(modules)
    if not patterns:
        raise ValidationError("modules must name at least one module; got an empty sequence")
    chosen: set[str] = set()
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise DTypeError(f"module names must be strings; got {type(pattern).__name__}")
        if pattern in named:
            chosen.add(pattern)
            continue
        hits = []
        if _is_glob(pattern):
            regex = _glob_regex(pattern)
            hits = [n for n in named if n and regex.match(n)]
        if not hits:
            raise ValidationError(_no_match_message(pattern, list(named), type(model).__name__))
        chosen.update(hits)
    return {name: mod for name, mod in named.items() if name in chosen}


def _named_modules(model: Any) -> dict[str, Any]:
    if not hasattr(model, "named_modules") and hasattr(
        getattr(model, "model", None), "named_modules"
    ):
        model = model.model  # a TextModel-like wrapper: names are relative to its module
    if not hasattr(model, "named_modules"):
        raise DTypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return dict(model.named_modules())


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _no_match_message(pattern: str, names: list[str], model_name: str) -> str:
    real = [n for n in names if n]
    # difflib alone misses short names that share a long suffix ("layer.3.output" vs
    # "encoder.layer.3.output"), so names containing the pattern come first.
    contained = [n for n in real if pattern and pattern in n]
    close = difflib.get_close_matches(pattern, real, n=5, cutoff=0.4)
    suggestions = list(dict.fromkeys(contained[:3] + close))[:5]
    if not suggestions:
        suggestions = real[:5]
    listed = ", ".join(repr(s) for s in suggestions) if suggestions else "(the model has none)"
    hint = ""
    if pattern.startswith("hidden_states."):
        hint = (
            " (hidden_states.i are outputs of output_hidden_states, not modules: hook the"
            " block that produces them, e.g. the (i-1)-th layer module)"
        )
    return (
        f"module name {pattern!r} matches no module of {model_name}; closest names: {listed}{hint}"
    )


def _single_module(model: Any, module: str) -> tuple[str, Any]:
    found = resolve_modules(model, module)
    if len(found) != 1:
        raise ValidationError(
            f"expected exactly one module for {module!r}; the glob matched {len(found)}: "
            f"{', '.join(repr(n) for n in list(found)[:8])}"
        )
    return next(iter(found.items()))


# --------------------------------------------------------------------- core hook
@contextlib.contextmanager
def edit(
    model: Any,
    modules: str | Sequence[str] | Mapping[str, EditFn],
    fn: EditFn | None = None,
    *,
    position: Position = None,
) -> Iterator[dict[str, Any]]:
    """Apply ``fn`` to the output of each named module while the block runs.

    The building block of :func:`erase`, :func:`steer` and :func:`patch`.

    Parameters
    ----------
    model : torch.nn.Module
    modules : str, sequence of str, or mapping
        Names or globs (see :func:`resolve_modules`), or ``{name: fn}`` to give each
        module its own function (then ``fn`` must be None).
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
    if isinstance(modules, Mapping):
        if fn is not None:
            raise ValidationError("give either a {name: fn} mapping or one fn, not both")
        plan = {}
        for pattern, f in modules.items():
            for name, mod in resolve_modules(model, pattern).items():
                plan[name] = (mod, f)
    else:
        if fn is None or not callable(fn):
            raise DTypeError(f"fn must be callable; got {type(fn).__name__}")
        plan = {name: (mod, fn) for name, mod in resolve_modules(model, modules).items()}
    handles = []
    try:
        for name, (mod, f) in plan.items():
            handles.append(mod.register_forward_hook(_make_hook(name, f, position)))
        yield {name: mod for name, (mod, _) in plan.items()}
    finally:
        for handle in handles:
            handle.remove()


def _make_hook(name: str, fn: EditFn, position: Position) -> Callable[..., Any]:
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


def _apply(name: str, fn: EditFn, h: Any, position: Position) -> Any:
    if position is None:
        out = fn(h)
    else:
        if h.ndim < 3:
            raise ShapeError(
                f"position={position!r} needs a (batch, seq, d) output; module {name!r} "
                f"returned shape {tuple(h.shape)}"
            )
        index = position if isinstance(position, int | slice) else list(position)
        out = h.clone()
        out[:, index] = fn(h[:, index])
    if tuple(out.shape) != tuple(h.shape):
        raise ShapeError(
            f"the edit at module {name!r} changed the shape {tuple(h.shape)} to {tuple(out.shape)}"
        )
    return out


# ------------------------------------------------------------------ subspace input
def as_subspace(obj: Any, name: str = "subspace") -> Subspace:
    """Return ``obj`` as a :class:`~subspacekit.core.Subspace`.

    Accepts a Subspace, a (d, k) basis array or tensor, a (d,) direction, or a fitted
    estimator exposing ``subspace_`` (e.g. a probe, INLP or DAS).

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
    arr = to_numpy(obj) if is_torch_tensor(obj) else np.asarray(obj)
    if arr.ndim == 1:
        return Subspace.from_directions(arr)
    if arr.ndim == 2:
        return Subspace.from_basis(arr)
    raise ShapeError(
        f"{name} must be a Subspace, a (d, k) basis or a (d,) direction; got shape {arr.shape}"
    )


class _TorchCache:
    """Numpy arrays converted once per (dtype, device) of the activations they meet."""

    def __init__(self, **arrays: np.ndarray | None) -> None:
        self.arrays = arrays
        self.cache: dict[Any, dict[str, Any]] = {}

    def get(self, like: Any) -> dict[str, Any]:
        key = (like.dtype, like.device)
        if key not in self.cache:
            torch = import_optional("torch", "torch")
            self.cache[key] = {
                k: None if v is None else torch.tensor(v, dtype=like.dtype, device=like.device)
                for k, v in self.arrays.items()
            }
        return self.cache[key]


def _check_dim(h: Any, d: int, what: str) -> None:
    if h.shape[-1] != d:
        raise DimensionMismatchError(
            f"{what} lives in R^{d} but the activation has last dimension {h.shape[-1]} "
            f"(shape {tuple(h.shape)})"
        )


# ------------------------------------------------------------------------ erase
def _eraser_fn(eraser: Any, strength: float = 1.0) -> EditFn:
    # A fitted LEACE (or any eraser with the same oblique form) keeps its own map.
    if hasattr(eraser, "proj_left_") and hasattr(eraser, "proj_right_"):
        left = np.asarray(eraser.proj_left_, dtype=np.float64)
        right = np.asarray(eraser.proj_right_, dtype=np.float64)
        mean = getattr(eraser, "bias_", None)
        cache = _TorchCache(left=left, right=right, mean=mean)
        d = left.shape[0]

        def leace_fn(h: Any) -> Any:
            _check_dim(h, d, f"the {type(eraser).__name__} eraser")
            t = cache.get(h)
            centred = h - t["mean"] if t["mean"] is not None else h
            return h - strength * ((centred @ t["right"].T) @ t["left"].T)

        return leace_fn
    if hasattr(eraser, "fit") and not hasattr(eraser, "subspace_"):
        raise NotFittedError(f"{type(eraser).__name__} is not fitted; call fit before erasing")
    S = as_subspace(eraser, "eraser")
    B = np.asarray(to_numpy(S.basis), dtype=np.float64)
    mean = None if S.mean is None else np.asarray(to_numpy(S.mean), dtype=np.float64)
    cache = _TorchCache(basis=B, mean=mean)
    d = S.ambient_dim

    def project_off(h: Any) -> Any:
        _check_dim(h, d, f"the subspace (dim {S.dim})")
        t = cache.get(h)
        centred = h - t["mean"] if t["mean"] is not None else h
        return h - strength * ((centred @ t["basis"]) @ t["basis"].T)

    return project_off


@contextlib.contextmanager
def erase(
    model: Any,
    modules: str | Sequence[str] | Mapping[str, Any],
    eraser: Any = None,
    *,
    strength: float = 1.0,
    position: Position = None,
) -> Iterator[dict[str, Any]]:
    r"""Erase a subspace (or a fitted LEACE concept) from module outputs inside the block.

    With a :class:`~subspacekit.core.Subspace` (or basis, or an estimator with
    ``subspace_`` such as INLP) the orthogonal projection off the span is applied,
    :math:`h \leftarrow h - (h-\mu)BB^\top`. With a fitted
    :class:`~subspacekit.intervene.LEACE` its least-squares oblique eraser is applied.

    Parameters
    ----------
    model : torch.nn.Module
    modules : str, sequence of str, or mapping
        Module names/globs, or ``{name: eraser}`` for one eraser per module (concept
        scrubbing: a different eraser at every layer); then ``eraser`` is None.
    eraser : Subspace, array, fitted LEACE or fitted estimator with ``subspace_``
    strength : float, default=1.0
        Fraction :math:`\alpha` of the component removed,
        :math:`h \leftarrow h - \alpha (h-\mu)BB^\top` (1: full erasure; values in
        (0, 1) give the partial "decoupling" projection of When Alignment Hurts,
        Elshabrawy et al. 2025).
    position : int, slice, sequence of int or None
        Sequence positions to edit; None edits all.

    Examples
    --------
    >>> import torch
    >>> from subspacekit.core import Subspace
    >>> net = torch.nn.Sequential(torch.nn.Identity())
    >>> first_axis = Subspace.from_directions([1.0, 0.0, 0.0])
    >>> with erase(net, "0", first_axis):
    ...     net(torch.tensor([[3.0, 4.0, 5.0]]))
    tensor([[0., 4., 5.]])
    """
    if not np.isfinite(strength):
        raise ValidationError(f"strength must be a finite number; got {strength!r}")
    if isinstance(modules, Mapping):
        if eraser is not None:
            raise ValidationError("give either a {name: eraser} mapping or one eraser, not both")
        fns = {name: _eraser_fn(e, strength) for name, e in modules.items()}
        with edit(model, fns, position=position) as hooked:
            yield hooked
        return
    if eraser is None:
        raise ValidationError("erase needs an eraser: a Subspace, a basis or a fitted LEACE")
    with edit(model, modules, _eraser_fn(eraser, strength), position=position) as hooked:
        yield hooked


# ------------------------------------------------------------------------ steer
@contextlib.contextmanager
def steer(
    model: Any,
    modules: str | Sequence[str],
    direction: Any,
    *,
    alpha: float | None = None,
    value: float | Sequence[float] | None = None,
    position: Position = None,
) -> Iterator[dict[str, Any]]:
    r"""Steer module outputs along a direction inside the block.

    Two modes (exactly one of ``alpha`` and ``value``):

    * ``alpha``: add :math:`\alpha v`. A raw vector ``v`` is used as given (so
      ``alpha=1`` with a difference of class means moves one class mean onto the
      other); a :class:`~subspacekit.core.Subspace` of dimension 1 contributes its
      unit basis vector.
    * ``value``: clamp the coordinates along the subspace,
      :math:`h \leftarrow h + B(c - B^\top(h-\mu))` (the "knob" of Controllable
      Context Sensitivity, :math:`h' = h + (c - u^\top h)u` for a unit ``u``). A raw
      vector is normalised first; ``value`` has one entry per basis direction.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Identity())
    >>> with steer(net, "0", [1.0, 0.0], alpha=2.5):
    ...     net(torch.zeros(1, 2))
    tensor([[2.5000, 0.0000]])
    >>> with steer(net, "0", [0.0, 2.0], value=-1.0):
    ...     net(torch.tensor([[7.0, 3.0]]))
    tensor([[ 7., -1.]])
    """
    if (alpha is None) == (value is None):
        raise ValidationError("steer needs exactly one of alpha (add) and value (clamp)")
    if alpha is not None:
        if isinstance(direction, Subspace) or hasattr(direction, "subspace_"):
            S = as_subspace(direction, "direction")
            if S.dim != 1:
                raise ShapeError(f"adding alpha * direction needs a 1-D subspace; got dim {S.dim}")
            vec = np.asarray(to_numpy(S.basis), dtype=np.float64)[:, 0]
        else:
            vec = np.asarray(to_numpy(direction), dtype=np.float64)
            if vec.ndim != 1:
                raise ShapeError(f"direction must be a (d,) vector; got shape {vec.shape}")
        if not np.all(np.isfinite(vec)) or not np.isfinite(alpha):
            raise ValidationError("direction and alpha must be finite")
        cache = _TorchCache(shift=float(alpha) * vec)

        def add(h: Any) -> Any:
            _check_dim(h, vec.shape[0], "the steering direction")
            return h + cache.get(h)["shift"]

        with edit(model, modules, add, position=position) as hooked:
            yield hooked
        return

    S = as_subspace(direction, "direction")
    target = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if target.shape != (S.dim,):
        raise ShapeError(f"value must have one entry per direction ({S.dim}); got {target.shape}")
    B = np.asarray(to_numpy(S.basis), dtype=np.float64)
    mean = None if S.mean is None else np.asarray(to_numpy(S.mean), dtype=np.float64)
    cache = _TorchCache(basis=B, mean=mean, target=target)

    def clamp(h: Any) -> Any:
        _check_dim(h, S.ambient_dim, f"the subspace (dim {S.dim})")
        t = cache.get(h)
        centred = h - t["mean"] if t["mean"] is not None else h
        return h + (t["target"] - centred @ t["basis"]) @ t["basis"].T

    with edit(model, modules, clamp, position=position) as hooked:
        yield hooked


# ------------------------------------------------------------------------ patch
@contextlib.contextmanager
def patch(
    model: Any,
    modules: str | Sequence[str],
    subspace: Any,
    source: Any,
    *,
    position: Position = None,
) -> Iterator[dict[str, Any]]:
    r"""Interchange intervention restricted to a subspace, inside the block.

    :math:`h \leftarrow h + (h_{src} - h)BB^\top`: the component in the subspace
    comes from the source run, the orthogonal rest from the base run being executed.

    Parameters
    ----------
    model : torch.nn.Module
    modules : str or sequence of str
        The site(s); with several, ``source`` is a ``{name: tensor}`` mapping.
    subspace : Subspace, basis or fitted estimator with ``subspace_``
    source : tensor or mapping
        Source activations at the site, same shape as the base output (or as the
        selected positions); record them with :func:`record`.
    position : int, slice, sequence of int or None

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Identity())
    >>> with patch(net, "0", [1.0, 0.0], source=torch.tensor([[9.0, 9.0]])):
    ...     net(torch.tensor([[1.0, 2.0]]))
    tensor([[9., 2.]])
    """
    S = as_subspace(subspace)
    B = np.asarray(to_numpy(S.basis), dtype=np.float64)
    cache = _TorchCache(basis=B)
    names = list(resolve_modules(model, modules))
    if isinstance(source, Mapping):
        missing = [n for n in names if n not in source]
        if missing:
            raise ValidationError(f"source has no activations for module(s) {missing}")
        sources = dict(source)
    elif len(names) == 1:
        sources = {names[0]: source}
    else:
        raise ValidationError(
            f"{len(names)} modules matched; give source as a {{name: tensor}} mapping"
        )

    def make(name: str) -> EditFn:
        src = sources[name]
        if not is_torch_tensor(src):
            torch = import_optional("torch", "torch")
            src = torch.as_tensor(np.asarray(src))

        def swap(h: Any) -> Any:
            _check_dim(h, S.ambient_dim, f"the subspace (dim {S.dim})")
            if tuple(src.shape) != tuple(h.shape):
                raise ShapeError(
                    f"source activations at {name!r} have shape {tuple(src.shape)}; the base "
                    f"run produced {tuple(h.shape)}"
                )
            t = cache.get(h)
            s = src.to(dtype=h.dtype, device=h.device)
            return h + ((s - h) @ t["basis"]) @ t["basis"].T

        return swap

    with edit(model, {n: make(n) for n in names}, position=position) as hooked:
        yield hooked


# ------------------------------------------------------------ running the model
def forward(model: Any, inputs: Any) -> Any:
    """Call ``model`` on ``inputs``: ``model(**inputs)`` for a mapping, ``model(*inputs)``
    for a tuple, ``model(inputs)`` otherwise.

    Examples
    --------
    >>> import torch
    >>> forward(torch.nn.Identity(), torch.ones(1))
    tensor([1.])
    """
    if isinstance(inputs, Mapping):
        return model(**inputs)
    if isinstance(inputs, tuple):
        return model(*inputs)
    return model(inputs)


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
    have the module's own shape, ready to be the ``source`` of :func:`patch`.

    Parameters
    ----------
    model : torch.nn.Module
    modules : str or sequence of str
    inputs : tensor, tuple or mapping
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
    found: dict[str, Any] = {}

    def keep(name: str) -> EditFn:
        def store(h: Any) -> Any:
            found[name] = h.detach()
            return h

        return store

    names = list(resolve_modules(model, modules))
    with torch.no_grad(), edit(model, {n: keep(n) for n in names}, position=position):
        (run or forward)(model, inputs)
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError(f"module(s) {missing} did not run during the forward pass")
    return found


def interchange(
    model: Any,
    modules: str | Sequence[str],
    subspace: Any,
    base_inputs: Any,
    source_inputs: Any,
    *,
    position: Position = None,
    run: Callable[[Any, Any], Any] | None = None,
) -> Any:
    """Output of the base run with the subspace component taken from the source run.

    Records the site on ``source_inputs``, then runs ``base_inputs`` under
    :func:`patch` (without gradients).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(2, 1, bias=False))
    >>> _ = net[1].weight.data.fill_(1.0)
    >>> interchange(net, "0", [1.0, 0.0], torch.tensor([[1.0, 2.0]]), torch.tensor([[5.0, 7.0]]))
    tensor([[7.]])
    """
    torch = import_optional("torch", "torch")
    source = record(model, modules, source_inputs, position=position, run=run)
    with torch.no_grad(), patch(model, modules, subspace, source, position=position):
        return (run or forward)(model, base_inputs)
