"""Core layer: the :class:`Subspace` type, Grassmann geometry, linear-algebra kernels.

Imports inside core only point downwards: ``backend`` and ``errors`` at the bottom,
then ``validation``, ``linalg``, ``angles``, ``io``, ``result``/``resampling``,
``subspace``, and ``grassmann`` (which returns Subspace objects) on top.
"""

from subspacekit.core.angles import METRICS, grassmann_distance, principal_angles, principal_vectors
from subspacekit.core.grassmann import geodesic, grassmann_exp, grassmann_log, karcher_mean
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
