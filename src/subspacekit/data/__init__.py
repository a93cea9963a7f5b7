"""Data: loaders for the shared real benchmark sets, ground-truth generators, probe corpus.

Nothing here imports torch.

Examples
--------
>>> from subspacekit.data import load
>>> load("usps").data.shape
(11000, 256)
"""

from __future__ import annotations

from subspacekit.data.loaders import (
    ChecksumError,
    DataFileNotFoundError,
    data_root,
    list_datasets,
    list_odds,
    load,
    sha256,
)
from subspacekit.data.probe_corpus import PROBE_ATTRIBUTES, probe_corpus
from subspacekit.data.sprites import sprites
from subspacekit.data.synthetic import (
    manifold,
    mixture_of_low_rank_gaussians,
    random_orthonormal,
    spiked_covariance,
    union_of_subspaces,
)

__all__ = [
    "PROBE_ATTRIBUTES",
    "ChecksumError",
    "DataFileNotFoundError",
    "data_root",
    "list_datasets",
    "list_odds",
    "load",
    "manifold",
    "mixture_of_low_rank_gaussians",
    "probe_corpus",
    "random_orthonormal",
    "sha256",
    "spiked_covariance",
    "sprites",
    "union_of_subspaces",
]
