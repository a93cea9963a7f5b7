"""Core layer: the :class:`Subspace` type, Grassmann geometry, linear-algebra kernels."""

from subspacekit.core.grassmann import (
    METRICS,
    geodesic,
    grassmann_distance,
    grassmann_exp,
    grassmann_log,
    karcher_mean,
    principal_angles,
    principal_vectors,
)
from subspacekit.core.linalg import orthogonal_complement, orthonormalize
from subspacekit.core.result import Estimate
from subspacekit.core.subspace import Subspace

__all__ = [
    "METRICS",
    "Estimate",
    "Subspace",
    "geodesic",
    "grassmann_distance",
    "grassmann_exp",
    "grassmann_log",
    "karcher_mean",
    "orthogonal_complement",
    "orthonormalize",
    "principal_angles",
    "principal_vectors",
]
