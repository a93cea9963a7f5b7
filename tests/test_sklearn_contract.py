"""Every estimator of subspacekit under scikit-learn's estimator checks.

The instances come from ``tests/api_cases/<area>.py`` (``ESTIMATORS``). A check that an
estimator kind cannot pass by design is declared on the class itself, in the documented
class attribute ``_expected_failed_checks`` (check name -> reason), so the reason is
read next to the code; the check is then run and reported as an expected failure, never
skipped silently.
"""

from __future__ import annotations

import importlib
import inspect
import warnings

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

from api_cases import all_estimators
from subspacekit.core.validation import Interval, Options

ESTIMATORS = all_estimators()
# Areas whose estimators are still being brought under the contract in issue #15 (open):
# work not yet done, not an exemption. test_pending_areas_are_really_pending fails once
# an area is complete, so the set can only shrink.
PENDING_AREAS = ("compare", "measure", "cluster", "detect")
PENDING_CLASSES = (
    "Procrustes",
    "SubspaceAlignment",
    "FrequentDirections",
    "GradientSubspace",
    "StructuralProbe",
)
AREAS = ("estimate", "intervene")


def _expected(estimator: BaseEstimator) -> dict[str, str]:
    return dict(getattr(type(estimator), "_expected_failed_checks", {}))


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected)
def test_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def _public_estimator_classes(areas: tuple[str, ...] = AREAS) -> dict[str, type]:
    found = {}
    for area in areas:
        mod = importlib.import_module(f"subspacekit.{area}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                if not inspect.isabstract(obj) and name not in PENDING_CLASSES:
                    found[f"{area}.{name}"] = obj
    return found


def test_every_estimator_is_checked():
    checked = {type(e) for e in ESTIMATORS}
    missing = [k for k, cls in _public_estimator_classes().items() if cls not in checked]
    assert not missing, f"estimators not run through parametrize_with_checks: {missing}"


@pytest.mark.parametrize("cls", sorted(set(_public_estimator_classes().values()), key=str))
def test_parameters_are_declared(cls):
    """Each estimator declares a constraint for exactly its __init__ parameters."""
    table = getattr(cls, "_parameter_constraints", None)
    assert isinstance(table, dict), f"{cls.__name__} has no _parameter_constraints table"
    params = set(cls._get_param_names())
    assert set(table) == params, (
        f"{cls.__name__}: constraints for {sorted(set(table))} but parameters {sorted(params)}"
    )
    named = {"boolean", "random_state", "callable", "array-like", "string"}
    for pname, allowed in table.items():
        assert allowed, f"{cls.__name__}.{pname} allows nothing"
        for c in allowed:
            assert c is None or isinstance(c, (Interval, Options, type)) or c in named, (
                f"{cls.__name__}.{pname}: unknown constraint {c!r}"
            )
    reasons = getattr(cls, "_expected_failed_checks", {})
    assert all(isinstance(v, str) and v.strip() for v in reasons.values())


def test_pending_areas_are_really_pending():
    checked = {type(e) for e in ESTIMATORS}
    for area in PENDING_AREAS:
        classes = _public_estimator_classes((area,)).values()
        done = classes and all(
            cls in checked and isinstance(getattr(cls, "_parameter_constraints", None), dict)
            for cls in classes
        )
        assert not done, f"remove {area!r} from PENDING_AREAS: all its estimators are checked"
