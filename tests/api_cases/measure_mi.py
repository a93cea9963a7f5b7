"""Bad-input cases of ``subspacekit.measure`` (mutual information) (see ``tests/api_cases/__init__.py``)."""

from __future__ import annotations

from api_cases import Case

CASES: list[Case] = []

ESTIMATORS: list = []

EXEMPT: dict[str, str] = {}
