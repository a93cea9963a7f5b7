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

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

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


class DTypeError(SubspaceKitError, TypeError):
    """An array or argument has an unsupported type or dtype."""


class OverwriteError(SubspaceKitError, FileExistsError):
    """A write would replace an existing file and ``overwrite=True`` was not given."""


class MissingDependencyError(SubspaceKitError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class NotFittedError(SubspaceKitError, _SklearnNotFittedError):
    """An estimator was used before ``fit``; also a scikit-learn ``NotFittedError``."""


class SubspaceKitWarning(UserWarning):
    """Base class of subspacekit's warnings."""


class ConvergenceWarning(SubspaceKitWarning):
    """An iterative solver stopped before reaching its tolerance."""


class UntrustworthyEstimateWarning(SubspaceKitWarning):
    """An estimate was computed but its diagnostics say it should not be trusted."""
