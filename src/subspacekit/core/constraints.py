"""Declarative hyper-parameter constraints (scikit-learn's table style, our errors).

An estimator lists what each ``__init__`` parameter may be in a class attribute
``_parameter_constraints`` and calls :func:`validate_params` at the start of ``fit``:

>>> from numbers import Integral
>>> class Est:
...     _parameter_constraints = {"n": [Interval(Integral, 1, None, closed="left")]}
...     def __init__(self, n=1):
...         self.n = n
>>> validate_params(Est(n=0))
Traceback (most recent call last):
...
subspacekit.errors.ValidationError: Est: n must be an int in [1, inf); got 0

Written here rather than reusing ``sklearn.utils._param_validation`` because that module
is private to scikit-learn, raises its own ``InvalidParameterError`` rather than the
library's errors, and would make ``import subspacekit`` load scikit-learn.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from subspacekit.core.backend import is_torch_tensor
from subspacekit.errors import DTypeError, ValidationError

__all__ = ["Interval", "Options", "describe", "is_int", "is_real", "validate_params"]


def describe(x: Any) -> str:
    """Short description of an argument for error messages: kind, shape and dtype.

    Examples
    --------
    >>> describe(np.zeros((2, 3)))
    'a 2-D array of shape (2, 3) and dtype float64'
    >>> describe("abc")
    "'abc' (str)"
    """
    if is_torch_tensor(x):
        return f"a torch tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        shape = tuple(x.shape)
        return f"a {len(shape)}-D array of shape {shape} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(x).__name__})"


def is_int(value: Any) -> bool:
    """An integer that is not a bool (numpy integers included)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """A real number that is not a bool (numpy floats and ints included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Interval:
    """A numeric range that a hyper-parameter may take (one entry of a constraint list).

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        ``Integral`` accepts ints only; ``Real`` accepts ints and floats. Booleans are
        never numbers here.
    left, right : float or None
        Bounds; None for unbounded.
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the range.

    Examples
    --------
    >>> from numbers import Integral
    >>> Interval(Integral, 1, None, closed="left").describe()
    'an int in [1, inf)'
    """

    def __init__(
        self,
        kind: type,
        left: float | None,
        right: float | None,
        *,
        closed: str = "both",
    ) -> None:
        if kind not in (numbers.Integral, numbers.Real):
            raise ValidationError(f"Interval kind must be Integral or Real; got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValidationError(f"closed must be both/left/right/neither; got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts_type(self, value: Any) -> bool:
        return is_int(value) if self.kind is numbers.Integral else is_real(value)

    def __contains__(self, value: Any) -> bool:
        if not self.accepts_type(value):
            return False
        v = float(value)
        if not np.isfinite(v) and not (
            (v == np.inf and self.right is None) or (v == -np.inf and self.left is None)
        ):
            return False
        if self.left is not None:
            if v < self.left or (v == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if v > self.right or (v == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def describe(self) -> str:
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        lb = "[" if self.left is not None and self.closed in ("both", "left") else "("
        rb = "]" if self.right is not None and self.closed in ("both", "right") else ")"
        what = "an int" if self.kind is numbers.Integral else "a float"
        return f"{what} in {lb}{lo}, {hi}{rb}"


class Options:
    """A fixed set of allowed values (strings, usually).

    Examples
    --------
    >>> Options("spe", "t2").describe()
    "one of {'spe', 't2'}"
    """

    def __init__(self, *values: Any) -> None:
        self.values = tuple(values)

    def accepts_type(self, value: Any) -> bool:
        return any(type(value) is type(v) for v in self.values)

    def __contains__(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def describe(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


# Named constraints: what each accepts and how it is described.
_NAMED: dict[str, tuple[Any, str]] = {
    "boolean": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
    "random_state": (
        lambda v: (
            v is None
            or (is_int(v) and 0 <= int(v) < 2**32)
            or isinstance(v, (np.random.RandomState, np.random.Generator))
        ),
        "None, an int seed in [0, 2**32), a RandomState or a Generator",
    ),
    "callable": (callable, "a callable"),
    "array-like": (
        lambda v: hasattr(v, "__array__") or isinstance(v, (list, tuple)) or is_torch_tensor(v),
        "an array-like",
    ),
    "string": (lambda v: isinstance(v, str), "a str"),
}


def _satisfies(value: Any, constraint: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, (Interval, Options)):
        return value in constraint
    if isinstance(constraint, str):
        return bool(_NAMED[constraint][0](value))
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    raise ValidationError(f"unknown parameter constraint {constraint!r}")


def _type_fits(value: Any, constraint: Any) -> bool:
    """Whether ``value`` has the type a constraint is about (ignoring its range)."""
    if isinstance(constraint, (Interval, Options)):
        return constraint.accepts_type(value)
    if constraint == "random_state":  # an int seed out of range is a bad value
        return is_int(value)
    return False


def _describe_constraint(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, (Interval, Options)):
        return constraint.describe()
    if isinstance(constraint, str):
        return str(_NAMED[constraint][1])
    return f"an instance of {getattr(constraint, '__name__', constraint)}"


def validate_params(
    estimator: Any,
    constraints: Mapping[str, Sequence[Any]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Check hyper-parameters against a table of constraints.

    Each entry of ``constraints`` (by default the estimator's class attribute
    ``_parameter_constraints``) lists what a parameter may be: an :class:`Interval`, an
    :class:`Options`, ``None``, a type, or one of the names ``"boolean"``,
    ``"random_state"``, ``"callable"``, ``"array-like"``, ``"string"``. A value that
    satisfies none raises :class:`DTypeError` when its type fits none of them (a string
    for a number) and :class:`ValidationError` when its type fits but its value does
    not (a negative count), with a message listing everything allowed.

    Examples
    --------
    >>> from numbers import Integral, Real
    >>> class Est:
    ...     _parameter_constraints = {"n": [Interval(Integral, 1, None, closed="left")],
    ...                               "mode": [Options("a", "b")]}
    ...     def __init__(self, n=1, mode="a"):
    ...         self.n, self.mode = n, mode
    >>> validate_params(Est(n=0))
    Traceback (most recent call last):
    ...
    subspacekit.errors.ValidationError: Est: n must be an int in [1, inf); got 0
    >>> validate_params(Est(mode=3))
    Traceback (most recent call last):
    ...
    subspacekit.errors.DTypeError: Est: mode must be one of {'a', 'b'}; got 3 (int)
    """
    table = constraints if constraints is not None else type(estimator)._parameter_constraints
    owner = type(estimator).__name__
    for pname, allowed in table.items():
        value = params[pname] if params is not None else getattr(estimator, pname)
        if any(_satisfies(value, c) for c in allowed):
            continue
        wanted = " or ".join(_describe_constraint(c) for c in allowed)
        if any(_type_fits(value, c) for c in allowed):
            raise ValidationError(f"{owner}: {pname} must be {wanted}; got {value!r}")
        raise DTypeError(f"{owner}: {pname} must be {wanted}; got {describe(value)}")
