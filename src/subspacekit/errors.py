"""Exceptions and warnings raised by subspacekit.

Every error caused by bad input subclasses :class:`ValueError` or :class:`TypeError`
so that ordinary ``except ValueError`` handlers keep working, and every message says
what was expected and what came.

Examples
--------
>>> from subspacekit.errors import NonFiniteError, ValidationError
>>> issubclass(NonFiniteError, ValueError) and issubclass(NonFiniteError, ValidationError)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "ConvergenceWarning",
    "DTypeError",
    "DimensionMismatchError",
    "MissingDependencyError",
    "NonFiniteError",
    "NotFittedError",
    "OverwriteError",
    "RankError",
    "ShapeError",
    "SubspaceKitError",
    "SubspaceKitWarning",
    "TooFewSamplesError",
    "UntrustworthyEstimateWarning",
    "ValidationError",
]


class SubspaceKitError(Exception):
    """Base class of every exception raised on purpose by subspacekit."""


class ValidationError(SubspaceKitError, ValueError):
    """An argument has the right type but an unusable value."""


class NonFiniteError(ValidationError):
    """An array contains NaN or infinite values."""


class ShapeError(ValidationError):
    """An array has the wrong number of dimensions or the wrong shape."""


class DimensionMismatchError(ShapeError):
    """Two objects that must share a dimension (ambient dimension, n_samples) do not."""


class RankError(ValidationError):
    """A matrix has lower rank than the operation needs (e.g. a rank-deficient basis)."""


class TooFewSamplesError(ValidationError):
    """Fewer samples than the estimator needs."""


class DTypeError(SubspaceKitError, TypeError, ValueError):
    """An array or argument has an unsupported type or dtype.

    A ``TypeError`` by meaning and also a ``ValueError``, as scikit-learn's
    ``InvalidParameterError`` is, so that ``except ValueError`` catches every bad input.
    """


class OverwriteError(SubspaceKitError, FileExistsError):
    """A write would replace an existing file and ``overwrite=True`` was not given."""


class MissingDependencyError(SubspaceKitError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


def _make_not_fitted_error() -> type:
    # scikit-learn's estimator checks (and users' ``except`` clauses) expect its own
    # NotFittedError, but ``import subspacekit`` must not load scikit-learn. The class is
    # therefore built on first use (see ``__getattr__`` below), which only happens in an
    # estimator that has imported scikit-learn anyway.
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    return type(
        "NotFittedError",
        (SubspaceKitError, SklearnNotFittedError),
        {
            "__module__": __name__,
            "__doc__": "An estimator was used before ``fit``; also a scikit-learn "
            "``NotFittedError`` (a ValueError and an AttributeError).",
        },
    )


if TYPE_CHECKING:  # what type checkers see; at run time the class comes from __getattr__

    class NotFittedError(SubspaceKitError, ValueError, AttributeError):
        """An estimator was used before ``fit``; also a scikit-learn ``NotFittedError``."""


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        cls = _make_not_fitted_error()
        globals()["NotFittedError"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SubspaceKitWarning(UserWarning):
    """Base class of subspacekit's warnings."""


class ConvergenceWarning(SubspaceKitWarning):
    """An iterative solver stopped before reaching its tolerance."""


class UntrustworthyEstimateWarning(SubspaceKitWarning):
    """An estimate was computed but its diagnostics say it should not be trusted."""
