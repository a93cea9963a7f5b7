"""The whole public API, one line per entry, for the bad-input battery.

Each module here (``core.py``, ``estimate.py``, ``measure_mi.py``, ...; a file's area is
the part of its name before the first underscore) defines ``CASES``, a list of
:class:`Case`; ``ESTIMATORS``, one configured instance of each scikit-learn-style
estimator of the area (run through ``parametrize_with_checks`` by
``tests/test_sklearn_contract.py``); and ``EXEMPT``, a dict from public names that take no data (constants,
result types, warnings) to the reason they need no case. ``tests/test_bad_input.py``
feeds every case the same battery of bad inputs, and checks that every name in every
subpackage's ``__all__`` is covered by a case or exempt — so a new public function
or estimator is covered by adding one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "all_cases", "all_estimators", "all_exempt"]


def _modules() -> list[Any]:
    """Every case module in this folder (``core.py``, ``measure_mi.py``, ...)."""
    import importlib
    import pkgutil

    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{n}") for n in names]


@dataclass(frozen=True)
class Case:
    """One public callable and how to call it on generated data.

    Attributes
    ----------
    name : str
        The public name(s) it covers, e.g. ``"compare.cka"``; several names may share a
        case (``covers``).
    call : callable
        ``call(X)`` for ``kind="single"``, ``call(X, Y)`` for ``"pair"`` (two
        representations of the same inputs), ``call(X, y)`` for ``"labels"`` (data and
        class labels), ``call(X_fit, X_new)`` for ``"fit-transform"`` (fit on one array,
        apply to another: the feature-count check), ``call(y_true, y_pred)`` for
        ``"labelings"``. It returns whatever the API returns.
    kind : str
        One of the kinds above.
    n_samples, n_features : int
        Size of the good data the battery perturbs.
    covers : tuple of str
        Further public names this case exercises.
    skip : dict
        Battery perturbations that do not apply, each with the reason (shown in the
        test report). Never used to hide a failure: only for inputs that are legal and
        meaningful for this API (e.g. 1-D input to a function documented to take a
        vector).
    """

    name: str
    call: Callable[..., Any]
    kind: str = "single"
    n_samples: int = 40
    n_features: int = 5
    covers: tuple[str, ...] = ()
    skip: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.covers)


def all_cases() -> list[Case]:
    return [case for mod in _modules() for case in mod.CASES]


def all_exempt() -> dict[str, str]:
    """Exempt public names, keyed ``area.name`` (a bare key takes its file's area)."""
    out: dict[str, str] = {}
    for mod in _modules():
        area = mod.__name__.rsplit(".", 1)[1].split("_")[0]
        out.update({k if "." in k else f"{area}.{k}": v for k, v in mod.EXEMPT.items()})
    return out


def all_estimators() -> list[Any]:
    return [est for mod in _modules() for est in getattr(mod, "ESTIMATORS", [])]
