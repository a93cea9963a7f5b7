r"""Interchange interventions restricted to a subspace: :func:`patch` and :func:`interchange`.

:math:`h \leftarrow h + (h_{src} - h) B B^\top`: the component of the site activation
in the subspace comes from a source run, the orthogonal rest from the base run being
executed (Geiger et al.'s interchange intervention, restricted to a subspace as in
distributed alignment search). Built on :func:`subspacekit.intervene.edit`, so the
hooks are removed on every exit path. torch is imported lazily.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from subspacekit.activations.inputs import model_inputs
from subspacekit.activations.modules import resolve_modules
from subspacekit.core.backend import import_optional, is_torch_tensor, to_numpy
from subspacekit.errors import ShapeError, ValidationError
from subspacekit.intervene.hooks import (
    EditFn,
    Position,
    TensorConstants,
    as_subspace,
    edit,
    forward,
    record,
    site_dimension,
)

__all__ = ["interchange", "patch"]


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
    source : tensor, array or mapping
        Source activations at the site, same shape as the base output (or as the
        selected positions); record them with :func:`~subspacekit.intervene.record`.
    position : int, slice, sequence of int or None

    Raises
    ------
    ShapeError
        During the forward pass, when the source activations do not have the shape of
        the base run's.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Identity())
    >>> with patch(net, "0", [1.0, 0.0], source=torch.tensor([[9.0, 9.0]])):
    ...     net(torch.tensor([[1.0, 2.0]]))
    tensor([[9., 2.]])
    """
    torch = import_optional("torch", "torch")
    S = as_subspace(subspace)
    B = np.asarray(to_numpy(S.basis), dtype=np.float64)
    constants = TensorConstants(basis=B)
    names = resolve_modules(model, modules, hidden_states=False)
    if isinstance(source, Mapping):
        missing = [n for n in names if n not in source]
        if missing:
            raise ValidationError(f"source has no activations for module(s) {missing}")
        sources = {n: source[n] for n in names}
    elif len(names) == 1:
        sources = {names[0]: source}
    else:
        raise ValidationError(
            f"{len(names)} modules matched; give source as a {{name: tensor}} mapping"
        )
    # checked once here (real, finite, at least one row), not at every forward pass
    sources = {
        n: src if is_torch_tensor(src) else torch.as_tensor(src)
        for n, src in ((n, model_inputs(s, f"source[{n!r}]")) for n, s in sources.items())
    }
    what = f"the subspace (dim {S.dim})"

    def make(name: str) -> EditFn:
        src = sources[name]

        def swap(h: Any) -> Any:
            site_dimension(h, S.ambient_dim, what)
            if tuple(src.shape) != tuple(h.shape):
                raise ShapeError(
                    f"source activations at {name!r} have shape {tuple(src.shape)}; the base "
                    f"run produced {tuple(h.shape)}"
                )
            t = constants.get(h)
            s = src.to(dtype=h.dtype, device=h.device)
            return h + ((s - h) @ t["basis"]) @ t["basis"].T

        return swap

    with edit(model, {n: make(n) for n in names}, position=position) as hooked:
        yield hooked


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
