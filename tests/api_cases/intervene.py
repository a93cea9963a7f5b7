"""Bad-input cases of ``subspacekit.intervene`` (see ``tests/api_cases/__init__.py``).

Torch-taking functions run on a tiny MLP (5 inputs -> 4 hidden units at module "0"
-> 2 outputs). The perturbed array is whatever the function takes as data: the model
inputs (forward, record, edit, interchange, DAS, patch_effect), the subspace basis
(erase, steer, patch, as_subspace; (4, 2): four ambient rows of the site, two
directions), the site activations (illusion_diagnostics) or the statistics
(linear_shrinkage, knowledge_shares, assign_axes).
"""

from __future__ import annotations

import numpy as np

from api_cases import Case
from subspacekit.intervene import (
    DAS,
    LEACE,
    KnowledgeSubspace,
    as_subspace,
    assign_axes,
    edit,
    erase,
    forward,
    illusion_diagnostics,
    interchange,
    interchange_accuracy,
    knowledge_shares,
    linear_shrinkage,
    patch,
    patch_effect,
    record,
    steer,
)

_ROW_MAP = (
    "a row-by-row model call: identical inputs give identical outputs, the right answer "
    "and nothing degenerate to warn about"
)
_DESIGN = (
    "identical base inputs paired with varied sources are a legal interchange design "
    "(one base, many sources)"
)
_STATISTIC = (
    "the function takes a statistic, not data: identical data rows give an ordinary "
    "legal value of it (a rank-1 matrix, a constant share)"
)


def _mlp():
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    return net.requires_grad_(False)


def _inputs(n=40, seed=3):
    return np.random.default_rng(seed).standard_normal((n, 5))


_BASIS = np.linalg.qr(np.random.default_rng(5).standard_normal((4, 2)))[0]


def _run(net, manager, X):
    """Enter an intervention and run the MLP on the inputs X inside it."""
    with manager:
        return forward(net, X)


def _edit(X):
    net = _mlp()
    return _run(net, edit(net, "1", lambda h: 0.5 * h), X)


def _erase(B):
    net = _mlp()
    return _run(net, erase(net, "0", B), _inputs())


def _steer(B):
    net = _mlp()
    # clamp mode: one value per direction of the perturbed basis
    dim = np.shape(B)[1] if np.ndim(B) == 2 else 1
    return _run(net, steer(net, "0", B, value=np.full(dim, 0.5)), _inputs())


def _patch(B):
    net = _mlp()
    source = record(net, "0", _inputs(seed=4))["0"]
    return _run(net, patch(net, "0", B, source), _inputs())


def _interchange(base, source):
    return interchange(_mlp(), "0", _BASIS, base, source)


def _das(base, source):
    counterfactual = np.arange(len(source)) % 2
    das = DAS(_mlp(), "0", n_components=1, max_epochs=2, random_state=0)
    return das.fit(base, source, counterfactual).subspace_.basis


def _patch_effect(base, source):
    effect = patch_effect(_mlp(), "0", base, source)
    return effect(_BASIS[:, 0])


def _illusion(A):
    W = np.random.default_rng(6).standard_normal((3, 5))
    W[:, 4] = 0.0  # unit 4 is never read downstream
    return illusion_diagnostics(np.eye(5)[0] + np.eye(5)[4], W, A).to_dict()


def _covariance_of(X):
    """X^T X / n in the same container as X (array, list, data frame); anything else as is.

    linear_shrinkage takes a covariance matrix, so the perturbed data reach it as the
    matrix they give; inputs that are no data matrix at all go in unchanged.
    """
    if X is None or hasattr(X, "columns"):
        return X if X is None else X.T @ X / max(len(X), 1)
    A = np.asarray(X)
    if A.ndim != 2 or A.dtype.kind not in "biuf":
        return X
    S = A.T.astype(np.float64) @ A.astype(np.float64) / max(A.shape[0], 1)
    S = S.astype(A.dtype) if A.dtype.kind == "f" else S
    return S.tolist() if isinstance(X, list) else S


def _shrink(X):
    return linear_shrinkage(_covariance_of(X), np.shape(X)[0] if np.ndim(X) else 1)


_CONDITIONS = np.tile([1, 2, 0], 14)  # 42 rows: prior, context, reference in turn
_CONCEPT = np.arange(40) % 2


def _knowledge(X):
    return KnowledgeSubspace().fit(X, _CONDITIONS).transform(X)


def _knowledge_transform(X_fit, X_new):
    return KnowledgeSubspace().fit(X_fit, _CONDITIONS).transform(X_new)


def _leace(X, Z):
    return LEACE().fit(X, Z).transform(X)


def _leace_transform(X_fit, X_new):
    return LEACE().fit(X_fit, _CONCEPT).transform(X_new)


def _assign(B):
    mean = np.random.default_rng(7).standard_normal(6)
    return assign_axes(B, mean, mean[::-1])


_SKIP_ROWS = {"identical_rows": _ROW_MAP}

CASES: list[Case] = [
    Case("intervene.forward", lambda X: forward(_mlp(), X), skip=_SKIP_ROWS),
    Case("intervene.record", lambda X: record(_mlp(), "0", X), skip=_SKIP_ROWS),
    Case("intervene.edit", _edit, skip=_SKIP_ROWS),
    Case("intervene.erase", _erase, n_samples=4, n_features=2),
    Case("intervene.steer", _steer, n_samples=4, n_features=2),
    Case("intervene.patch", _patch, n_samples=4, n_features=2),
    Case("intervene.as_subspace", lambda B: as_subspace(B).basis, n_samples=6, n_features=2),
    Case("intervene.interchange", _interchange, kind="pair", skip={"identical_rows": _DESIGN}),
    Case("intervene.DAS", _das, kind="pair", skip={"identical_rows": _DESIGN}),
    Case("intervene.patch_effect", _patch_effect, kind="pair", skip={"identical_rows": _DESIGN}),
    Case(
        "intervene.interchange_accuracy",
        interchange_accuracy,
        kind="labels",
        n_features=3,
        skip={"identical_rows": "identical scores give a well-defined accuracy (chance)"},
    ),
    Case("intervene.illusion_diagnostics", _illusion),
    Case("intervene.linear_shrinkage", _shrink, skip={"identical_rows": _STATISTIC}),
    # LEACE as a pair: the concept may be any (n, k) matrix, so 2-D "labels" are legal
    Case("intervene.LEACE", _leace, kind="pair"),
    Case("intervene.LEACE.transform", _leace_transform, kind="fit-transform"),
    Case("intervene.KnowledgeSubspace", _knowledge, n_samples=42),
    Case(
        "intervene.KnowledgeSubspace.transform",
        _knowledge_transform,
        kind="fit-transform",
        n_samples=42,
    ),
    Case("intervene.assign_axes", _assign, n_samples=6, n_features=2),
    Case(
        "intervene.knowledge_shares",
        knowledge_shares,
        n_features=2,
        skip={"identical_rows": _STATISTIC},
    ),
]


def _das_instance():
    return DAS(_mlp(), "0", n_components=1, max_epochs=2, random_state=0)


ESTIMATORS: list = [LEACE(), KnowledgeSubspace(), _das_instance()]

EXEMPT: dict[str, str] = {
    "IllusionReport": "the result type of illusion_diagnostics, not fed user data",
    "distilled_illusion_model": (
        "builds a fixed toy model from two scalars (n_copies, dormant_weight); it takes no "
        "data, and its parameter errors are tested in tests/test_intervene_illusion.py"
    ),
    "resolve_modules": (
        "the activations resolver re-exported (the same function object): it takes names, "
        "not data; see tests/api_cases/activations.py"
    ),
}
