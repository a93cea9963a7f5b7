"""Bad-input cases of ``subspacekit.core``: bases are (d x k) arrays, rows = ambient axes."""

from __future__ import annotations

import numpy as np

from api_cases import Case
from subspacekit.core import (
    Subspace,
    geodesic,
    grassmann_distance,
    grassmann_exp,
    grassmann_log,
    karcher_mean,
    orthogonal_complement,
    orthonormalize,
    principal_angles,
    principal_vectors,
)


def _tangent(B):
    Q = orthonormalize(B)
    H = np.random.default_rng(0).standard_normal(Q.shape)
    return H - Q @ (Q.T @ H)


CASES = [
    Case(
        "core.Subspace",
        lambda B: Subspace.from_basis(B).project(np.ones((2, len(B)))),
        n_samples=12,
        n_features=3,
    ),
    Case("core.orthonormalize", orthonormalize, n_samples=12, n_features=3),
    Case(
        "core.orthogonal_complement",
        lambda B: orthogonal_complement(orthonormalize(B)),
        n_samples=12,
        n_features=3,
    ),
    Case("core.principal_angles", principal_angles, kind="pair", n_samples=12, n_features=3),
    Case("core.principal_vectors", principal_vectors, kind="pair", n_samples=12, n_features=3),
    Case("core.grassmann_distance", grassmann_distance, kind="pair", n_samples=12, n_features=3),
    Case("core.geodesic", geodesic, kind="pair", n_samples=12, n_features=3),
    Case("core.grassmann_log", grassmann_log, kind="pair", n_samples=12, n_features=3),
    Case(
        "core.karcher_mean",
        lambda A, B: karcher_mean([A, B]),
        kind="pair",
        n_samples=12,
        n_features=3,
    ),
    Case("core.grassmann_exp", lambda B: grassmann_exp(B, _tangent(B)), n_samples=12, n_features=3),
]

EXEMPT = {
    "METRICS": "a table of distance functions of principal angles (covered via grassmann_distance)",
    "Estimate": "a result type built by estimators, not fed user data",
}
