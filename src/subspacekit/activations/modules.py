"""Module names of a torch model: the one resolver of names and globs for the library.

:func:`subspacekit.activations.capture`, the activation store and every intervention
of :mod:`subspacekit.intervene` (erase, steer, patch, record, DAS, the illusion
diagnostics) turn the user's module names into modules here, so a name means the same
module, a glob selects the same set in the same order, and a typo gets the same error
everywhere.

Names are those of ``model.named_modules()`` (``""`` is the model itself). A pattern
is an exact name or a dotted-name glob: ``*`` and ``?`` stay inside one dotted
segment and ``**`` spans several, so ``"encoder.layer.*.output"`` is the output
module of each layer and not ``encoder.layer.0.attention.output``. A Hugging Face
model (one whose ``config`` has ``output_hidden_states``) also has the hidden-state
names ``hidden_states.0`` (embeddings) .. ``hidden_states.L`` (block ``L``), which
are outputs of ``output_hidden_states=True``, not modules: capture reads them,
hooks cannot edit them.

torch is imported when a function runs, never at import.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from subspacekit.core.backend import import_optional
from subspacekit.core.validation import describe
from subspacekit.errors import DTypeError, ValidationError

__all__ = ["HIDDEN_PREFIX", "resolve_module", "resolve_modules", "torch_module"]

HIDDEN_PREFIX = "hidden_states."
# How many close names an error message lists.
_SUGGESTIONS = 5


def torch_module(model: Any) -> Any:
    """The ``torch.nn.Module`` inside ``model``: itself, or the ``.model`` of a wrapper.

    A wrapper such as :class:`subspacekit.models.TextModel` carries its module in
    ``.model``; module names are relative to that module.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(2, 2)
    >>> torch_module(net) is net
    True
    >>> torch_module("not a model")
    Traceback (most recent call last):
    ...
    subspacekit.errors.DTypeError: model must be a torch.nn.Module or a wrapper with a .model module; got 'not a model' (str)
    """
    torch = import_optional("torch", "torch")
    inner = model
    if not isinstance(model, torch.nn.Module) and hasattr(model, "model"):
        inner = model.model
    if not isinstance(inner, torch.nn.Module):
        raise DTypeError(
            "model must be a torch.nn.Module or a wrapper with a .model module; "
            f"got {describe(model)}"
        )
    return inner


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


def _hidden_state_names(module: Any) -> list[str]:
    config = getattr(module, "config", None)
    if config is None or not hasattr(config, "output_hidden_states"):
        return []
    return [f"{HIDDEN_PREFIX}{i}" for i in range(int(config.num_hidden_layers) + 1)]


def _no_match_message(pattern: str, names: list[str], owner: str) -> str:
    # difflib alone misses short names that share a long suffix ("layer.3.output" vs
    # "encoder.layer.3.output"), so names containing the pattern come first.
    contained = [n for n in names if pattern and pattern in n]
    close = difflib.get_close_matches(pattern, names, n=_SUGGESTIONS, cutoff=0.4)
    suggestions = list(dict.fromkeys(contained[:3] + close))[:_SUGGESTIONS] or names[:_SUGGESTIONS]
    listed = ", ".join(repr(s) for s in suggestions) if suggestions else "(the model has none)"
    hint = ""
    if pattern.startswith(HIDDEN_PREFIX):
        hint = (
            " (hidden_states.i are outputs of output_hidden_states of a Hugging Face model, "
            "not modules; hooks cannot edit them: hook the block that produces them, e.g. "
            "the (i-1)-th layer module)"
        )
    return (
        f"module pattern {pattern!r} matches no module; available names (closest names "
        f"first): {listed}; {owner} has {len(names)} named modules{hint}"
    )


def resolve_modules(
    model: Any, modules: str | Sequence[str] | None = None, *, hidden_states: bool = True
) -> list[str]:
    """The module names that ``modules`` denotes in ``model``: the one resolver.

    Parameters
    ----------
    model : torch.nn.Module, or a wrapper with a ``.model`` module
        (e.g. :class:`subspacekit.models.TextModel`); names are relative to the module.
    modules : str, sequence of str or None
        Exact names from ``model.named_modules()`` (``""`` is the model itself) or
        dotted-name globs (``*`` and ``?`` within one segment, ``**`` across segments;
        a glob never matches the root). ``hidden_states.i`` (``i`` may be negative,
        counted from the last) names a hidden state of a Hugging Face model.
        ``None``: every hidden state of a Hugging Face model (when ``hidden_states``),
        else every top-level child module.
    hidden_states : bool, default=True
        Whether hidden-state names may be returned. Hooks (:mod:`subspacekit.intervene`)
        pass False: a hidden state is not a module they can edit.

    Returns
    -------
    list of str
        The selected names without duplicates: hidden-state names first, in layer
        order, then module names in the order of ``model.named_modules()``, whatever
        the order of the patterns.

    Raises
    ------
    ValidationError
        When a pattern matches nothing (the message names the pattern and lists the
        closest module names), when ``modules`` is an empty sequence, or when a
        hidden-state index is out of range.
    DTypeError
        When ``model`` is not a torch module or a pattern is not a string.

    Examples
    --------
    >>> import torch
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> resolve_modules(mlp), resolve_modules(mlp, "*"), resolve_modules(mlp, ["2", "0"])
    (['0', '1', '2'], ['0', '1', '2'], ['0', '2'])
    >>> resolve_modules(mlp, "3")
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: module pattern '3' matches no module; available names (closest names first): '0', '1', '2'; Sequential has 3 named modules
    """
    module = torch_module(model)
    hidden = _hidden_state_names(module) if hidden_states else []
    named = [name for name, _ in module.named_modules()]
    if modules is None:
        return hidden or [name for name, _ in module.named_children()]
    if isinstance(modules, str):
        patterns = [modules]
    elif isinstance(modules, Sequence):
        patterns = list(modules)
    else:
        raise DTypeError(
            f"modules must be a name, a sequence of names or None; got {describe(modules)}"
        )
    if not patterns:
        raise ValidationError("modules must name at least one module; got an empty sequence")
    real = [name for name in named if name]
    chosen: set[str] = set()
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise DTypeError(f"module names must be strings; got {describe(pattern)}")
        index = pattern[len(HIDDEN_PREFIX) :]
        if pattern in named or pattern in hidden:
            matches = [pattern]
        elif hidden and pattern.startswith(HIDDEN_PREFIX) and index.lstrip("-").isdigit():
            # negative indices count from the last hidden state, as in Python
            i = int(index)
            if not -len(hidden) <= i < len(hidden):
                raise ValidationError(
                    f"{pattern!r} is out of range: the model has {len(hidden)} hidden states "
                    f"(hidden_states.0 .. hidden_states.{len(hidden) - 1})"
                )
            matches = [hidden[i]]
        else:
            regex = _glob_regex(pattern)
            matches = [name for name in hidden + real if regex.match(name)]
        if not matches:
            raise ValidationError(_no_match_message(pattern, hidden + real, type(module).__name__))
        chosen.update(matches)
    return [name for name in hidden if name in chosen] + [n for n in named if n in chosen]


def resolve_module(model: Any, module: str, *, hidden_states: bool = False) -> str:
    """The one module name that ``module`` denotes (see :func:`resolve_modules`).

    For sites that take exactly one module (DAS, the illusion diagnostics). Hidden
    states are excluded by default, since such sites are hooked.

    Raises
    ------
    ValidationError
        When the pattern matches no module or several.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    >>> resolve_module(net, "1")
    '1'
    >>> resolve_module(net, "*")
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: expected exactly one module for '*'; the pattern matched 2: '0', '1'
    """
    if not isinstance(module, str):
        raise DTypeError(f"module must be one module name (a string); got {describe(module)}")
    found = resolve_modules(model, module, hidden_states=hidden_states)
    if len(found) != 1:
        raise ValidationError(
            f"expected exactly one module for {module!r}; the pattern matched {len(found)}: "
            f"{', '.join(repr(n) for n in found[:8])}"
        )
    return found[0]
