r"""Structural probes (Hewitt & Manning 2019): a subspace whose geometry encodes a tree.

A sentence is a sequence of word vectors :math:`h_1, \dots, h_L \in R^d`. The *distance
probe* learns :math:`B \in R^{d\times m}` such that
:math:`\hat d_{ij} = \lVert B^\top(h_i - h_j)\rVert^2` approximates the path length
between words ``i`` and ``j`` in the parse tree; the *depth probe* fits
:math:`\lVert B^\top h_i\rVert^2` to the depth of word ``i``. The loss is averaged per
sentence with weight :math:`1/L^2` (distances) or :math:`1/L` (depths), and is either the
squared error or a smooth L1 (pseudo-Huber) error; AST-Probe's orthogonality penalty
:math:`\lambda\lVert B^\top B - I\rVert_F^2` is optional. Because :math:`\hat d` is linear
in :math:`A = BB^\top`, the problem is a low-rank factorisation of a convex one, solved by
L-BFGS on all sentences at once (padded and masked).

The probe's subspace is the column span of :math:`B` (:attr:`StructuralProbe.subspace_`).
Quality is measured as in Hewitt & Manning: the Spearman correlation between predicted
and gold distances (per word, averaged over the sentence) or depths, and the undirected
attachment score of the minimum spanning tree of the predicted distances.

Examples
--------
>>> import numpy as np
>>> tree_distances([-1, 0, 0, 1])  # a root with two children, the first with a child
array([[0, 1, 1, 2],
       [1, 0, 2, 1],
       [1, 2, 0, 3],
       [2, 1, 3, 0]])
>>> tree_depths([-1, 0, 0, 1]).tolist()
[0, 1, 1, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize, stats
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path
from sklearn.base import BaseEstimator

from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_fitted, check_in, check_random_state
from subspacekit.errors import (
    ConvergenceWarning,
    DimensionMismatchError,
    RankError,
    ShapeError,
    ValidationError,
)

__all__ = [
    "StructuralProbe",
    "tree_depths",
    "tree_distances",
    "undirected_attachment_score",
]


def _check_parents(parents: Any) -> np.ndarray:
    p = np.asarray(parents, dtype=int)
    if p.ndim != 1 or p.size == 0:
        raise ShapeError(f"parents must be a non-empty 1-D array; got shape {p.shape}")
    roots = np.flatnonzero(p < 0)
    if roots.size != 1 or np.any(p >= p.size):
        raise ValidationError(
            f"parents must name exactly one root (-1) and valid parent indices; got {p.tolist()}"
        )
    return p


def tree_distances(parents: Any) -> np.ndarray:
    """Path lengths between all nodes of a tree given by parent indices (root: -1).

    Examples
    --------
    >>> tree_distances([-1, 0]).tolist()
    [[0, 1], [1, 0]]
    """
    p = _check_parents(parents)
    n = p.size
    adjacency = np.zeros((n, n))
    child = np.flatnonzero(p >= 0)
    adjacency[child, p[child]] = 1.0
    dist = shortest_path(adjacency, directed=False, unweighted=True)
    if not np.all(np.isfinite(dist)):
        raise ValidationError("parents do not describe a connected tree")
    return dist.astype(int)


def tree_depths(parents: Any) -> np.ndarray:
    """Depth of every node (root = 0).

    Examples
    --------
    >>> tree_depths([1, -1, 1]).tolist()
    [1, 0, 1]
    """
    p = _check_parents(parents)
    return tree_distances(p)[int(np.flatnonzero(p < 0)[0])]


def undirected_attachment_score(predicted: Any, gold: Any) -> float:
    """Fraction of gold tree edges found by the minimum spanning tree of predicted distances.

    Examples
    --------
    >>> gold = tree_distances([-1, 0, 1])
    >>> undirected_attachment_score(gold + 0.1, gold)
    1.0
    """
    P = np.asarray(predicted, dtype=float)
    G = np.asarray(gold)
    if P.shape != G.shape or P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise ShapeError(
            f"predicted and gold must be equal square matrices; got {P.shape}, {G.shape}"
        )
    n = P.shape[0]
    if n < 2:
        return 1.0
    # Tiny offset so that zero predicted distances still count as edges for the MST.
    mst = minimum_spanning_tree(np.triu(P - P.min() + 1e-12, 1)).toarray()
    pred_edges = {tuple(sorted(e)) for e in zip(*np.nonzero(mst), strict=True)}
    gold_edges = {tuple(sorted(e)) for e in zip(*np.nonzero(np.triu(G == 1, 1)), strict=True)}
    return len(pred_edges & gold_edges) / len(gold_edges)


class StructuralProbe(BaseEstimator):
    r"""Hewitt–Manning distance or depth probe, returning the syntactic subspace.

    Parameters
    ----------
    n_components : int, default=16
        Probe rank ``m`` (columns of ``B``).
    kind : {"distance", "depth"}, default="distance"
    loss : {"l2", "l1"}, default="l2"
        Squared error, or a smooth absolute error (pseudo-Huber with scale 1e-2).
    orthogonality : float, default=0.0
        Weight :math:`\lambda` of :math:`\lVert B^\top B - I\rVert_F^2` (AST-Probe uses 5).
    max_iter : int, default=2000
        L-BFGS iterations.
    validation_fraction : float, default=0.2
        Fraction of sentences held out for ``validation_score_``.
    random_state : int or None
        Initialisation and the held-out split.

    Attributes
    ----------
    projection_ : ndarray (d, m)
        :math:`B`.
    subspace_ : Subspace
        Column span of :math:`B` (numerically null directions dropped).
    singular_values_ : ndarray (m,)
        Of :math:`B`.
    validation_score_ : float
        Held-out Spearman correlation (see :meth:`score`).
    loss_ : float
        Final training loss.
    """

    def __init__(
        self,
        n_components: int = 16,
        *,
        kind: str = "distance",
        loss: str = "l2",
        orthogonality: float = 0.0,
        max_iter: int = 2000,
        validation_fraction: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.kind = kind
        self.loss = loss
        self.orthogonality = orthogonality
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    # ------------------------------------------------------------------ data
    def _pad(
        self, sentences: Sequence[Any], targets: Sequence[Any] | None, d: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if isinstance(sentences, np.ndarray) and sentences.ndim == 2:
            raise ShapeError("sentences must be a sequence of (length, d) arrays, one per sentence")
        H = [check_array(s, f"sentences[{i}]", min_samples=1) for i, s in enumerate(sentences)]
        if not H:
            raise ValidationError("need at least one sentence; got none")
        dims = {h.shape[1] for h in H}
        if len(dims) != 1 or (d is not None and dims != {d}):
            raise DimensionMismatchError(
                f"all word vectors must have {d if d is not None else 'the same'} features; got {sorted(dims)}"
            )
        lengths = np.array([h.shape[0] for h in H])
        L = int(lengths.max())
        S = len(H)
        dim = H[0].shape[1]
        padded = np.zeros((S, L, dim))
        mask = np.zeros((S, L), dtype=bool)
        for i, h in enumerate(H):
            padded[i, : h.shape[0]] = h
            mask[i, : h.shape[0]] = True
        if targets is None:
            return padded, mask, None
        if len(targets) != S:
            raise DimensionMismatchError(f"got {S} sentences but {len(targets)} targets")
        if self.kind == "distance":
            T = np.zeros((S, L, L))
            for i, t in enumerate(targets):
                ti = check_array(t, f"targets[{i}]")
                if ti.shape != (lengths[i], lengths[i]):
                    raise ShapeError(
                        f"targets[{i}] must be a ({lengths[i]}, {lengths[i]}) distance matrix; got {ti.shape}"
                    )
                T[i, : lengths[i], : lengths[i]] = ti
        else:
            T = np.zeros((S, L))
            for i, t in enumerate(targets):
                ti = check_array(t, f"targets[{i}]", ndim=1)
                if ti.shape != (lengths[i],):
                    raise ShapeError(f"targets[{i}] must hold {lengths[i]} depths; got {ti.shape}")
                T[i, : lengths[i]] = ti
        return padded, mask, T

    # ------------------------------------------------------------------ objective
    def _objective(
        self, flat: np.ndarray, H: np.ndarray, mask: np.ndarray, T: np.ndarray
    ) -> tuple[float, np.ndarray]:
        S, _, d = H.shape
        m = flat.size // d
        B = flat.reshape(d, m)
        Z = H @ B  # (S, L, m)
        lengths = mask.sum(axis=1).astype(float)
        if self.kind == "distance":
            sq = (Z**2).sum(axis=2)
            pred = sq[:, :, None] + sq[:, None, :] - 2.0 * Z @ Z.transpose(0, 2, 1)
            pair_mask = mask[:, :, None] & mask[:, None, :]
            resid = np.where(pair_mask, pred - T, 0.0)
            weight = 1.0 / lengths**2
        else:
            pred = (Z**2).sum(axis=2)
            resid = np.where(mask, pred - T, 0.0)
            weight = 1.0 / lengths
        if self.loss == "l2":
            value_terms, slope = resid**2, 2.0 * resid
        else:
            delta = 1e-2
            root = np.sqrt(resid**2 + delta**2)
            value_terms, slope = root - delta, resid / root
        shape = (-1,) + (1,) * (resid.ndim - 1)
        value_terms = value_terms * weight.reshape(shape)
        slope = slope * weight.reshape(shape)
        if self.kind == "distance":
            # Each unordered pair appears twice in the full matrix: halve, and the
            # gradient through ||z_i - z_j||^2 is 2 (diag(R 1) - R) Z per sentence.
            value = 0.5 * float(value_terms.sum())
            grad_Z = 2.0 * (slope.sum(axis=2)[:, :, None] * Z - slope @ Z)
        else:
            value = float(value_terms.sum())
            grad_Z = 2.0 * slope[:, :, None] * Z
        value /= S
        grad_B = np.einsum("sld,slm->dm", H, grad_Z) / S
        if self.orthogonality:
            E = B.T @ B - np.eye(m)
            value += float(self.orthogonality) * float((E**2).sum())
            grad_B += 4.0 * float(self.orthogonality) * B @ E
        return value, grad_B.ravel()

    def _fit_core(self, H: np.ndarray, mask: np.ndarray, T: np.ndarray) -> None:
        d = H.shape[2]
        m = int(self.n_components)
        rng = check_random_state(self.random_state)
        # Start at the scale where predicted and gold quantities have similar magnitude.
        scale = np.sqrt(
            max(float(np.abs(T).mean()), 1e-12)
            / max(float((H[mask] ** 2).sum(axis=1).mean()), 1e-12)
        )
        B0 = rng.standard_normal((d, m)) * scale / np.sqrt(m)
        result = optimize.minimize(
            self._objective,
            B0.ravel(),
            args=(H, mask, T),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter), "gtol": 1e-7, "ftol": 1e-9},
        )
        if not result.success and result.nit >= int(self.max_iter):
            import warnings

            warnings.warn(
                f"the structural probe did not converge in max_iter={self.max_iter} iterations",
                ConvergenceWarning,
                stacklevel=3,
            )
        B = result.x.reshape(d, m)
        U, s, _ = np.linalg.svd(B, full_matrices=False)
        keep = s > 1e-8 * s[0] if s[0] > 0 else np.zeros_like(s, dtype=bool)
        if not keep.any():
            raise RankError(
                "the probe collapsed to zero; the targets carry no signal the data can fit"
            )
        self.projection_ = B
        self.singular_values_ = s
        self.loss_ = float(result.fun)
        self.subspace_ = Subspace.from_basis(
            U[:, keep], meta={"method": f"structural-probe-{self.kind}", "rank": m}
        )

    # ------------------------------------------------------------------ API
    def fit(self, sentences: Sequence[Any], targets: Sequence[Any]) -> StructuralProbe:
        """Fit on word vectors per sentence and gold distance matrices (or depths)."""
        check_in(self.kind, ("distance", "depth"), "kind")
        check_in(self.loss, ("l2", "l1"), "loss")
        if (
            isinstance(self.n_components, bool)
            or not isinstance(self.n_components, int | np.integer)
            or self.n_components < 1
        ):
            raise ValidationError(
                f"n_components must be a positive integer; got {self.n_components!r}"
            )
        H, mask, T = self._pad(sentences, targets, None)
        assert T is not None
        d = H.shape[2]
        if self.n_components > d:
            raise RankError(f"n_components={self.n_components} exceeds the dimension {d}")
        self.n_features_in_ = d
        fraction = float(self.validation_fraction)
        if not 0.0 <= fraction < 1.0:
            raise ValidationError(f"validation_fraction must lie in [0, 1); got {fraction}")
        self.validation_score_ = float("nan")
        n_val = round(fraction * H.shape[0])
        if n_val >= 1 and H.shape[0] - n_val >= 1:
            order = check_random_state(self.random_state).permutation(H.shape[0])
            val, train = order[:n_val], order[n_val:]
            self._fit_core(H[train], mask[train], T[train])
            self.validation_score_ = self._score_padded(H[val], mask[val], T[val])
        self._fit_core(H, mask, T)
        return self

    def predict(self, sentences: Sequence[Any]) -> list[np.ndarray]:
        """Predicted distance matrices (or depth vectors), one per sentence."""
        check_fitted(self, "projection_")
        H, mask, _ = self._pad(sentences, None, self.n_features_in_)
        return self._predict_padded(H, mask)

    def _predict_padded(self, H: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        Z = H @ self.projection_
        out = []
        for s in range(H.shape[0]):
            z = Z[s, : int(mask[s].sum())]
            if self.kind == "distance":
                sq = (z**2).sum(axis=1)
                out.append(np.maximum(sq[:, None] + sq[None, :] - 2.0 * z @ z.T, 0.0))
            else:
                out.append((z**2).sum(axis=1))
        return out

    def _score_padded(self, H: np.ndarray, mask: np.ndarray, T: np.ndarray) -> float:
        preds = self._predict_padded(H, mask)
        scores = []
        for s, pred in enumerate(preds):
            n = pred.shape[0]
            if self.kind == "distance":
                gold = T[s, :n, :n]
                rows = [
                    stats.spearmanr(np.delete(pred[i], i), np.delete(gold[i], i))[0]
                    for i in range(n)
                    if n > 2 and np.ptp(np.delete(gold[i], i)) > 0
                ]
                if rows:
                    scores.append(float(np.nanmean(rows)))
            elif n > 1 and np.ptp(T[s, :n]) > 0:
                scores.append(float(stats.spearmanr(pred, T[s, :n])[0]))
        if not scores:
            raise ValidationError(
                "no sentence long enough (and varied enough) to compute a Spearman correlation"
            )
        return float(np.nanmean(scores))

    def score(self, sentences: Sequence[Any], targets: Sequence[Any]) -> float:
        """Mean Spearman correlation between predicted and gold distances (per word) or depths."""
        check_fitted(self, "projection_")
        H, mask, T = self._pad(sentences, targets, self.n_features_in_)
        assert T is not None
        return self._score_padded(H, mask, T)

    def transform(self, sentences: Sequence[Any]) -> list[np.ndarray]:
        """Probe coordinates :math:`B^\\top h` of every word, one array per sentence."""
        check_fitted(self, "projection_")
        H, mask, _ = self._pad(sentences, None, self.n_features_in_)
        Z = H @ self.projection_
        return [Z[s, : int(mask[s].sum())] for s in range(H.shape[0])]
