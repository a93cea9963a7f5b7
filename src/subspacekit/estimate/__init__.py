"""Finding subspaces: PCA at every scale, random-matrix rank selection, probes, two-view methods.

Every estimator stores what it found as a :class:`~subspacekit.core.Subspace` in
``subspace_`` (two-view methods: ``x_subspace_`` and ``y_subspace_``).
"""

from subspacekit.estimate.alignment import (
    Procrustes,
    SubspaceAlignment,
    mean_reciprocal_rank,
    top_k_accuracy,
)
from subspacekit.estimate.cca import CCA, PLSSVD
from subspacekit.estimate.covariance import ScatterStats, chunk_stats, merge_stats
from subspacekit.estimate.discriminant import LDA, DiffMeans
from subspacekit.estimate.gradient import FrequentDirections, GradientSubspace
from subspacekit.estimate.inlp import INLP
from subspacekit.estimate.nearest_subspace import NearestSubspaceClassifier
from subspacekit.estimate.pca import PCA
from subspacekit.estimate.probes import LinearProbe, RankKProbe
from subspacekit.estimate.rank_rules import (
    RANK_RULES,
    bbp_rank,
    gavish_donoho_rank,
    mp_rank,
    parallel_analysis_rank,
    select_rank,
)
from subspacekit.estimate.rmt import (
    SpikedSpectrum,
    estimate_noise_variance,
    marchenko_pastur_edge,
    spiked_components,
)
from subspacekit.estimate.structural_probe import (
    StructuralProbe,
    tree_depths,
    tree_distances,
    undirected_attachment_score,
)

__all__ = [
    "CCA",
    "INLP",
    "LDA",
    "PCA",
    "PLSSVD",
    "RANK_RULES",
    "DiffMeans",
    "FrequentDirections",
    "GradientSubspace",
    "LinearProbe",
    "NearestSubspaceClassifier",
    "Procrustes",
    "RankKProbe",
    "ScatterStats",
    "SpikedSpectrum",
    "StructuralProbe",
    "SubspaceAlignment",
    "bbp_rank",
    "chunk_stats",
    "estimate_noise_variance",
    "gavish_donoho_rank",
    "marchenko_pastur_edge",
    "mean_reciprocal_rank",
    "merge_stats",
    "mp_rank",
    "parallel_analysis_rank",
    "select_rank",
    "spiked_components",
    "top_k_accuracy",
    "tree_depths",
    "tree_distances",
    "undirected_attachment_score",
]
