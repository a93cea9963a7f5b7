"""External clustering metrics: accuracy after Hungarian matching, NMI, ARI, macro-F1.

A clustering is only defined up to a renaming of its clusters. Clustering accuracy
(ACC) therefore first finds the one-to-one map :math:`\\pi` from predicted clusters to
true classes that maximises the number of agreements (a linear assignment problem on
the contingency table, solved exactly by the Hungarian method), then reports

.. math:: \\mathrm{ACC} = \\frac{1}{n} \\max_\\pi \\sum_i [y_i = \\pi(\\hat y_i)].

Macro-F1 is the unweighted mean over true classes of the F1 score after the same
matching. NMI (arithmetic normalisation) and ARI are permutation invariant already and
come from scikit-learn.

Examples
--------
>>> y_true = [0, 0, 1, 1, 2, 2]
>>> y_pred = [1, 1, 0, 0, 0, 2]
>>> round(clustering_accuracy(y_true, y_pred), 4)
0.8333
>>> {k: round(v, 3) for k, v in clustering_scores(y_true, y_pred).items()}
{'acc': 0.833, 'nmi': 0.74, 'ari': 0.444, 'f1': 0.822}
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from subspacekit.errors import DimensionMismatchError, ShapeError, TooFewSamplesError

__all__ = [
    "adjusted_rand_index",
    "clustering_accuracy",
    "clustering_scores",
    "contingency_matrix",
    "macro_f1",
    "match_labels",
    "normalized_mutual_information",
]


def _check_labelings(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ShapeError(
            "labels must be 1-D arrays of shape (n_samples,); "
            f"got shapes {y_true.shape} and {y_pred.shape}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise DimensionMismatchError(
            "y_true and y_pred must have the same number of samples; "
            f"got {y_true.shape[0]} and {y_pred.shape[0]}"
        )
    if y_true.shape[0] == 0:
        raise TooFewSamplesError("labels need at least 1 sample; got 0")
    return y_true, y_pred


def contingency_matrix(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts ``M[a, b]`` of samples with true class ``a`` and predicted cluster ``b``.

    Returns
    -------
    table : ndarray of shape (n_classes, n_clusters)
    classes, clusters : ndarray
        The sorted distinct labels that index the rows and columns.

    Examples
    --------
    >>> contingency_matrix([0, 0, 1], ["a", "b", "b"])[0]
    array([[1, 1],
           [0, 1]])
    """
    y_true, y_pred = _check_labelings(y_true, y_pred)
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, p = np.unique(y_pred, return_inverse=True)
    table = np.zeros((classes.size, clusters.size), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    return table, classes, clusters


def match_labels(y_true: Any, y_pred: Any) -> np.ndarray:
    """Rename predicted clusters to the true classes they best agree with.

    The renaming is the maximum-agreement one-to-one matching (Hungarian method); ties
    between such matchings are broken by the largest sum of per-pair F1 scores.
    Predicted clusters left unmatched (more clusters than classes) are given new labels
    that do not occur in ``y_true``, so they always count as errors.

    Returns
    -------
    ndarray of shape (n_samples,)
        ``y_pred`` expressed in the label set of ``y_true``.

    Examples
    --------
    >>> match_labels([0, 0, 1, 1], [5, 5, 7, 7])
    array([0, 0, 1, 1])
    """
    table, classes, clusters = contingency_matrix(y_true, y_pred)
    # Among the matchings with the most agreements, take the one with the largest sum
    # of per-pair F1 scores, so that macro-F1 does not depend on how ties are broken
    # (the F1 term is scaled to stay below one agreement).
    pair_f1 = 2.0 * table / (table.sum(axis=1)[:, None] + table.sum(axis=0)[None, :])
    weight = table + pair_f1 / (2.0 * (min(table.shape) + 1))
    rows, cols = linear_sum_assignment(-weight)
    y_pred = np.asarray(y_pred)
    _, p = np.unique(y_pred, return_inverse=True)
    if np.issubdtype(classes.dtype, np.number):
        fresh = np.arange(clusters.size) + (classes.max() + 1)
        mapping = fresh.astype(np.result_type(classes.dtype, fresh.dtype))
    else:
        mapping = np.array([f"__unmatched_{j}" for j in range(clusters.size)], dtype=object)
        classes = classes.astype(object)
    mapping[cols] = classes[rows]
    return mapping[p]


def clustering_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples correctly clustered under the best one-to-one matching.

    Examples
    --------
    >>> clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table, _, _ = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / table.sum())


def macro_f1(y_true: Any, y_pred: Any) -> float:
    """Unweighted mean over true classes of the F1 score after Hungarian matching.

    Examples
    --------
    >>> macro_f1([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    y_true, _ = _check_labelings(y_true, y_pred)
    matched = match_labels(y_true, y_pred)
    scores = []
    for c in np.unique(y_true):
        true_c = y_true == c
        pred_c = matched == c
        tp = float(np.sum(true_c & pred_c))
        denom = float(true_c.sum() + pred_c.sum())
        scores.append(2.0 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def normalized_mutual_information(y_true: Any, y_pred: Any) -> float:
    """NMI with arithmetic-mean normalisation (scikit-learn's default).

    Examples
    --------
    >>> normalized_mutual_information([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    y_true, y_pred = _check_labelings(y_true, y_pred)
    return float(normalized_mutual_info_score(y_true, y_pred))


def adjusted_rand_index(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index (0 in expectation for random labels, 1 for a perfect match).

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    y_true, y_pred = _check_labelings(y_true, y_pred)
    return float(adjusted_rand_score(y_true, y_pred))


def clustering_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """ACC, NMI, ARI and macro-F1 in one dictionary (keys ``acc, nmi, ari, f1``).

    Examples
    --------
    >>> clustering_scores([0, 1], [1, 0])["acc"]
    1.0
    """
    return {
        "acc": clustering_accuracy(y_true, y_pred),
        "nmi": normalized_mutual_information(y_true, y_pred),
        "ari": adjusted_rand_index(y_true, y_pred),
        "f1": macro_f1(y_true, y_pred),
    }
