"""Measuring dimension, entropy and information of representations.

Estimators of dimension and information return an
:class:`~subspacekit.core.result.Estimate` (value, interval, method, n) that
converts with ``float()``. The neural mutual-information bounds live in
:mod:`subspacekit.measure.mi_neural` (torch, imported lazily) and the samplers with
known mutual information in :mod:`subspacekit.measure.mi_samplers`.
"""

from subspacekit.measure.coding_rate import (
    coding_rate,
    coding_rate_by_group,
    mmcr_loss,
    rate_reduction,
)
from subspacekit.measure.diffusion_entropy import (
    diffusion_spectral_entropy,
    diffusion_spectral_mutual_information,
)
from subspacekit.measure.intrinsic_dimension import (
    LevinaBickel,
    ParticipationRatio,
    PCADimension,
    TwoNN,
    intrinsic_dimension,
    local_intrinsic_dimension,
)
from subspacekit.measure.matrix_entropy import effective_rank, von_neumann_entropy
from subspacekit.measure.mutual_information import (
    binned_mi,
    classifier_mi,
    gaussian_mi,
    ksg_mi,
    mixed_ksg_mi,
    mutual_information,
)

__all__ = [
    "LevinaBickel",
    "PCADimension",
    "ParticipationRatio",
    "TwoNN",
    "binned_mi",
    "classifier_mi",
    "coding_rate",
    "coding_rate_by_group",
    "diffusion_spectral_entropy",
    "diffusion_spectral_mutual_information",
    "effective_rank",
    "gaussian_mi",
    "intrinsic_dimension",
    "ksg_mi",
    "local_intrinsic_dimension",
    "mixed_ksg_mi",
    "mmcr_loss",
    "mutual_information",
    "rate_reduction",
    "von_neumann_entropy",
]
