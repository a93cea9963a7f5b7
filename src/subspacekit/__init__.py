"""subspacekit: subspaces as first-class objects.

Find subspaces in data and in neural representations, measure them, compare them
and act on models through them. Everything importable here needs only numpy, scipy
and scikit-learn; torch is imported lazily by the modules that need it.
"""

from subspacekit._version import __version__
from subspacekit.core import (
    Estimate,
    Subspace,
    geodesic,
    grassmann_distance,
    grassmann_exp,
    grassmann_log,
    karcher_mean,
    principal_angles,
)

__all__ = [
    "Estimate",
    "Subspace",
    "__version__",
    "geodesic",
    "grassmann_distance",
    "grassmann_exp",
    "grassmann_log",
    "karcher_mean",
    "principal_angles",
]
