"""Compare representations and subspaces.

Similarities between two representations X (n x d1) and Y (n x d2) of the same inputs
(CKA, CCA/SVCCA/PWCCA, Procrustes, RSA, mutual k-NN, linear predictivity, principal
angles between PCA subspaces), subspace overlap of weight updates, and neuron matching.
Every scalar similarity accepts ``ci=0.95`` (bootstrap over inputs) and
``permutations=N`` (permutation p-value) and then returns an
:class:`~subspacekit.core.result.Estimate`.
"""

from subspacekit.compare.cca import canonical_correlations, cca_similarity, pwcca, svcca
from subspacekit.compare.cka import MiniBatchCKA, StreamingLinearCKA, cka, cka_from_gram, hsic
from subspacekit.compare.neighbors import mutual_knn
from subspacekit.compare.neuron_matching import (
    SparsePrediction,
    UnitClusters,
    UnitMatching,
    cluster_units,
    match_units,
    matched_correlation,
    sparse_prediction,
    unit_correlation,
)
from subspacekit.compare.overlap import (
    energy_rank,
    expected_overlap,
    project_update,
    projection_energy,
    subspace_overlap,
    update_subspace,
)
from subspacekit.compare.pca_angles import pca_principal_angles, pca_subspace_similarity
from subspacekit.compare.predictivity import LinearPredictivity, linear_predictivity
from subspacekit.compare.procrustes import procrustes_similarity
from subspacekit.compare.rsa import representational_dissimilarity, rsa

__all__ = [
    "LinearPredictivity",
    "MiniBatchCKA",
    "SparsePrediction",
    "StreamingLinearCKA",
    "UnitClusters",
    "UnitMatching",
    "canonical_correlations",
    "cca_similarity",
    "cka",
    "cka_from_gram",
    "cluster_units",
    "energy_rank",
    "expected_overlap",
    "hsic",
    "linear_predictivity",
    "match_units",
    "matched_correlation",
    "mutual_knn",
    "pca_principal_angles",
    "pca_subspace_similarity",
    "procrustes_similarity",
    "project_update",
    "projection_energy",
    "pwcca",
    "representational_dissimilarity",
    "rsa",
    "sparse_prediction",
    "subspace_overlap",
    "svcca",
    "unit_correlation",
    "update_subspace",
]
