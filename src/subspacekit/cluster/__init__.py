"""Subspace clustering: self-expressive methods, K-subspaces, attributed-graph clustering.

Every self-expressive estimator (:class:`SSC`, :class:`SSCOMP`, :class:`EnSC`,
:class:`LRR`, :class:`LSR`) codes each sample by the others (``representation_``,
sparse where the method is sparse), turns the codes into an affinity (``affinity_``)
and cuts it with the shared spectral back end (:mod:`subspacekit.cluster.spectral`:
normalised Laplacian, k-means with restarts or SNEM rounding). :class:`KSubspaces`
alternates assignments and subspace fits. :class:`S2CAG` and :class:`MS2CAG` cluster
attributed graphs in time linear in the number of edges. Metrics (ACC with Hungarian
matching, NMI, ARI, macro-F1) are in :mod:`subspacekit.cluster.metrics`.

Examples
--------
>>> from subspacekit.cluster import SSCOMP, clustering_accuracy
>>> from subspacekit.data.synthetic import union_of_subspaces
>>> X, y, _ = union_of_subspaces(3, 3, 30, 40, random_state=0)
>>> clustering_accuracy(y, SSCOMP(n_clusters=3, n_nonzero=3, random_state=0).fit_predict(X))
1.0
"""

from subspacekit.cluster.ensc import EnSC, elastic_net_representation
from subspacekit.cluster.ksubspaces import KSubspaces
from subspacekit.cluster.lrr import LRR, lrr_representation
from subspacekit.cluster.lsr import LSR, lsr_representation
from subspacekit.cluster.metrics import (
    adjusted_rand_index,
    clustering_accuracy,
    clustering_scores,
    contingency_matrix,
    macro_f1,
    match_labels,
    normalized_mutual_information,
)
from subspacekit.cluster.s2cag import (
    MS2CAG,
    PRESETS,
    S2CAG,
    attribute_normalization,
    propagation_operator,
    randomized_left_singular_vectors,
    smoothed_representation,
    smoothed_representation_operator,
)
from subspacekit.cluster.spectral import (
    DisconnectedAffinityWarning,
    SelfExpressiveClustering,
    affinity_from_representation,
    check_affinity,
    normalized_spectral_embedding,
    snem_round,
    spectral_clustering,
)
from subspacekit.cluster.ssc import SSC, ssc_admm_representation
from subspacekit.cluster.ssc_omp import SSCOMP, omp_representation

__all__ = [
    "LRR",
    "LSR",
    "MS2CAG",
    "PRESETS",
    "S2CAG",
    "SSC",
    "SSCOMP",
    "DisconnectedAffinityWarning",
    "EnSC",
    "KSubspaces",
    "SelfExpressiveClustering",
    "adjusted_rand_index",
    "affinity_from_representation",
    "attribute_normalization",
    "check_affinity",
    "clustering_accuracy",
    "clustering_scores",
    "contingency_matrix",
    "elastic_net_representation",
    "lrr_representation",
    "lsr_representation",
    "macro_f1",
    "match_labels",
    "normalized_mutual_information",
    "normalized_spectral_embedding",
    "omp_representation",
    "propagation_operator",
    "randomized_left_singular_vectors",
    "smoothed_representation",
    "smoothed_representation_operator",
    "snem_round",
    "spectral_clustering",
    "ssc_admm_representation",
]
