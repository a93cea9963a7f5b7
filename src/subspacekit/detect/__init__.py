"""Detect: anomalies by subspace residual (SubspaceAD) and adversarial filtering (EigenShield).

Nothing here imports torch at module level.
"""

from __future__ import annotations

from subspacekit.detect.eigenshield import CausalSplit, EigenShield, causal_split
from subspacekit.detect.patches import (
    LocalPatchExtractor,
    PatchSubspaceAD,
    TorchFeatureExtractor,
    aggregate_map,
    resize_bilinear,
    rotate_images,
)
from subspacekit.detect.subspace_ad import (
    SubspaceAD,
    spe_control_limit,
    spe_log_pvalue,
    t2_control_limit,
    t2_log_pvalue,
)

__all__ = [
    "CausalSplit",
    "EigenShield",
    "LocalPatchExtractor",
    "PatchSubspaceAD",
    "SubspaceAD",
    "TorchFeatureExtractor",
    "aggregate_map",
    "causal_split",
    "resize_bilinear",
    "rotate_images",
    "spe_control_limit",
    "spe_log_pvalue",
    "t2_control_limit",
    "t2_log_pvalue",
]
