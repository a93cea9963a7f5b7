r"""Erasing and steering module outputs through a subspace, as context managers.

With ``h`` an activation row (the last axis of the module output), ``B`` (d x k) an
orthonormal basis and :math:`\mu` the subspace offset (zero for a linear subspace):

* :func:`erase`  : :math:`h \leftarrow h - \alpha (h-\mu) B B^\top`, or a fitted LEACE
  eraser :math:`h \leftarrow h - \alpha (h-\mu) R^\top L^\top`;
* :func:`steer`  : :math:`h \leftarrow h + \alpha v` (add), or
  :math:`h \leftarrow h + B\,(c - B^\top (h-\mu))` (clamp the coordinates to ``c``).

Both are built on :func:`subspacekit.intervene.edit`, so the hooks are removed on
every exit path. torch is imported lazily.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from subspacekit.core.backend import to_numpy
from subspacekit.core.constraints import is_real
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_positive, describe
from subspacekit.errors import DTypeError, NotFittedError, ShapeError, ValidationError
from subspacekit.intervene.hooks import (
    EditFn,
    Position,
    TensorConstants,
    as_subspace,
    edit,
    site_dimension,
)

__all__ = ["erase", "steer"]


def _eraser_fn(eraser: Any, strength: float = 1.0) -> EditFn:
    # A fitted LEACE (or any eraser with the same oblique form) keeps its own map.
    if hasattr(eraser, "proj_left_") and hasattr(eraser, "proj_right_"):
        left = np.asarray(eraser.proj_left_, dtype=np.float64)
        right = np.asarray(eraser.proj_right_, dtype=np.float64)
        mean = getattr(eraser, "bias_", None)
        constants = TensorConstants(left=left, right=right, mean=mean)
        d = left.shape[0]
        what = f"the {type(eraser).__name__} eraser"

        def leace_fn(h: Any) -> Any:
            site_dimension(h, d, what)
            t = constants.get(h)
            centred = h - t["mean"] if t["mean"] is not None else h
            return h - strength * ((centred @ t["right"].T) @ t["left"].T)

        return leace_fn
    if hasattr(eraser, "fit") and not hasattr(eraser, "subspace_"):
        raise NotFittedError(f"{type(eraser).__name__} is not fitted; call fit before erasing")
    S = as_subspace(eraser, "eraser")
    B = np.asarray(to_numpy(S.basis), dtype=np.float64)
    mean = None if S.mean is None else np.asarray(to_numpy(S.mean), dtype=np.float64)
    constants = TensorConstants(basis=B, mean=mean)
    what = f"the subspace (dim {S.dim})"

    def project_off(h: Any) -> Any:
        site_dimension(h, S.ambient_dim, what)
        t = constants.get(h)
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
    strength : float >= 0, default=1.0
        Fraction :math:`\alpha` of the component removed,
        :math:`h \leftarrow h - \alpha (h-\mu)BB^\top` (1: full erasure; values in
        (0, 1) give the partial "decoupling" projection of When Alignment Hurts,
        Elshabrawy et al. 2025).
    position : int, slice, sequence of int or None
        Sequence positions to edit; None edits all.

    Raises
    ------
    NotFittedError
        For an eraser estimator that has not been fitted.
    DimensionMismatchError
        During the forward pass, when a module's output does not live in the eraser's
        space.

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
    strength = check_positive(strength, "strength", strict=False)
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


def _steering_vector(direction: Any) -> np.ndarray:
    """The vector ``v`` that steering by ``alpha`` adds: as given, or a 1-D subspace's axis."""
    if isinstance(direction, Subspace) or hasattr(direction, "subspace_"):
        S = as_subspace(direction, "direction")
        if S.dim != 1:
            raise ShapeError(f"adding alpha * direction needs a 1-D subspace; got dim {S.dim}")
        return np.asarray(to_numpy(S.basis), dtype=np.float64)[:, 0]
    return check_array(direction, "direction", ndim=1).astype(np.float64)


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
        if not is_real(alpha):
            raise DTypeError(f"alpha must be a real number; got {describe(alpha)}")
        if not np.isfinite(alpha):
            raise ValidationError(f"alpha must be finite; got {alpha}")
        vec = _steering_vector(direction)
        constants = TensorConstants(shift=float(alpha) * vec)

        def add(h: Any) -> Any:
            site_dimension(h, vec.shape[0], "the steering direction")
            return h + constants.get(h)["shift"]

        with edit(model, modules, add, position=position) as hooked:
            yield hooked
        return

    S = as_subspace(direction, "direction")
    target = check_array([value] if is_real(value) else value, "value", ndim=1)
    if target.shape != (S.dim,):
        raise ShapeError(f"value must have one entry per direction ({S.dim}); got {target.shape}")
    B = np.asarray(to_numpy(S.basis), dtype=np.float64)
    mean = None if S.mean is None else np.asarray(to_numpy(S.mean), dtype=np.float64)
    constants = TensorConstants(basis=B, mean=mean, target=target.astype(np.float64))
    what = f"the subspace (dim {S.dim})"

    def clamp(h: Any) -> Any:
        site_dimension(h, S.ambient_dim, what)
        t = constants.get(h)
        centred = h - t["mean"] if t["mean"] is not None else h
        return h + (t["target"] - centred @ t["basis"]) @ t["basis"].T

    with edit(model, modules, clamp, position=position) as hooked:
        yield hooked
