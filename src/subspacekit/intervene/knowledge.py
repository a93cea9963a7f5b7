r"""Rank-2 knowledge projection: parametric vs contextual knowledge (Islam et al., 2025).

A model answering a question with a context can draw on parametric knowledge
(PK, what it memorised) and contextual knowledge (CK, what the context says).
Islam, Atanasova & Augenstein (2025) show that one direction (the rank-1 "knob"
of Minder et al., 2025, which only tells "follow context" from "follow prior")
cannot represent how the two interact, and project hidden states onto a rank-2
subspace with one PK axis and one CK axis instead.

Here the two axes are fitted in closed form from two contrast sets: activations
of PK-only runs and of CK-only runs, each contrasted with reference runs (no
knowledge source singled out),

.. math:: d_{PK} = \mu_{PK} - \mu_{ref}, \qquad d_{CK} = \mu_{CK} - \mu_{ref},

made orthonormal by the symmetric (Löwdin) orthogonalisation
:math:`U = D (D^\top D)^{-1/2}`, :math:`D = [d_{PK}, d_{CK}]`, which treats the two axes
alike (Gram-Schmidt would keep the first exactly and bend the second) and gives
the orthonormal pair closest to D. Coordinates are :math:`c = U^\top(h - \mu_{ref})`
= (pk, ck), and the per-token CK share is :math:`|ck|/(|pk| + |ck|)`, averaged in a
sliding window (7 in the paper) along a generated sequence.

The rank-1 comparison is the difference-of-means knob
:math:`u = (\mu_{PK} - \mu_{CK})/\|\cdot\|` with midpoint offset (positive: prior).
A subspace learned otherwise (e.g. a rank-2 :class:`~subspacekit.intervene.DAS`)
gets its axes named and signed by :func:`assign_axes`, the rule of the paper's code.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils.validation import check_is_fitted

from subspacekit.core.backend import to_numpy
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_in
from subspacekit.errors import (
    DimensionMismatchError,
    RankError,
    ShapeError,
    UntrustworthyEstimateWarning,
    ValidationError,
)

__all__ = ["KnowledgeSubspace", "assign_axes", "knowledge_shares"]


def assign_axes(basis: Any, prior_mean: Any, context_mean: Any) -> np.ndarray:
    r"""Order and sign the two columns of a rank-2 basis as (PK axis, CK axis).

    The PK axis is the column with the larger :math:`|u_a^\top\mu_{PK}|`; the other
    is the CK axis; signs are flipped so that :math:`u_{PK}^\top\mu_{PK} > 0` and
    :math:`u_{CK}^\top\mu_{CK} > 0` (the paper's rule). Pass centred means (minus a
    reference mean) when the raw activations have a large common offset.

    Examples
    --------
    >>> B = np.array([[0.0, 1.0], [-1.0, 0.0], [0.0, 0.0]])
    >>> assign_axes(B, prior_mean=[0.0, 2.0, 0.0], context_mean=[3.0, 0.0, 0.0]) + 0.0
    array([[0., 1.],
           [1., 0.],
           [0., 0.]])
    """
    U = check_array(to_numpy(basis), "basis").astype(np.float64)
    if U.shape[1] != 2:
        raise ShapeError(f"basis must have 2 columns (a rank-2 subspace); got {U.shape[1]}")
    mu_pk = check_array(to_numpy(prior_mean), "prior_mean", ndim=1).astype(np.float64)
    mu_ck = check_array(to_numpy(context_mean), "context_mean", ndim=1).astype(np.float64)
    if mu_pk.shape[0] != U.shape[0] or mu_ck.shape[0] != U.shape[0]:
        raise DimensionMismatchError(f"means must have length {U.shape[0]} like the basis rows")
    pk = int(np.argmax(np.abs(U.T @ mu_pk)))
    out = U[:, [pk, 1 - pk]].copy()
    if out[:, 0] @ mu_pk < 0:
        out[:, 0] *= -1
    if out[:, 1] @ mu_ck < 0:
        out[:, 1] *= -1
    return out


def knowledge_shares(coordinates: Any, window: int | None = 7) -> np.ndarray:
    r"""Per-token CK share :math:`|ck|/(|pk|+|ck|)` of (T, 2) coordinates, optionally smoothed.

    ``window`` is the width of a centred moving average (shrunk at the ends so
    every output averages only real tokens); None or 1 leaves it unsmoothed. The
    PK share is one minus this. Tokens with both coordinates 0 get share 0.5.

    Examples
    --------
    >>> knowledge_shares([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]], window=None)
    array([0. , 0.5, 1. ])
    """
    C = check_array(to_numpy(coordinates), "coordinates", min_samples=1)
    if C.shape[1] != 2:
        raise ShapeError(f"coordinates must be (T, 2) = (pk, ck); got {C.shape}")
    pk, ck = np.abs(C[:, 0]), np.abs(C[:, 1])
    total = pk + ck
    share = np.where(total > 0, ck / np.where(total > 0, total, 1.0), 0.5)
    if window is None or window <= 1:
        return share
    if int(window) != window:
        raise ValidationError(f"window must be a positive integer; got {window!r}")
    half = int(window) // 2
    csum = np.concatenate([[0.0], np.cumsum(share)])
    idx = np.arange(share.shape[0])
    lo = np.clip(idx - half, 0, share.shape[0])
    hi = np.clip(idx + half + 1, 0, share.shape[0])
    return (csum[hi] - csum[lo]) / (hi - lo)


class KnowledgeSubspace(TransformerMixin, BaseEstimator):
    r"""Rank-2 (PK, CK) subspace from two contrast sets, with the rank-1 knob beside it.

    Parameters
    ----------
    center : bool, default=True
        Measure coordinates from the reference mean (the paper projects raw
        states; centring removes the common offset that otherwise dominates both
        coordinates of a real model's hidden states).
    coordinates : {"orthonormal", "oblique"}, default="orthonormal"
        ``"orthonormal"``: :math:`c = U^\top(h-\mu)` with the orthonormal basis, as
        in the paper. When the PK and CK contrasts are not orthogonal, a pure-PK
        state then has a non-zero CK coordinate (:math:`\cos` of the angle between
        the CK axis and :math:`d_{PK}`). ``"oblique"``: the coefficients of the
        contrast directions themselves, :math:`c = (D^\top D)^{-1}D^\top(h-\mu)`,
        so that :math:`\mu_{ref} + a\,d_{PK} + b\,d_{CK}` has coordinates (a, b).

    Attributes
    ----------
    subspace_ : Subspace
        Rank-2, basis columns (PK axis, CK axis), mean = reference mean if ``center``.
    rank1_ : Subspace
        The rank-1 knob (unit :math:`\mu_{PK} - \mu_{CK}`, offset at their midpoint).
    contrasts_ : ndarray (d, 2)
        :math:`D = [d_{PK}, d_{CK}]`.
    contrast_angle_ : float
        Angle in degrees between :math:`d_{PK}` and :math:`d_{CK}` before
        orthogonalisation (below 10 degrees a warning says the axes are unreliable).
    prior_mean_, context_mean_, reference_mean_ : ndarray (d,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> u_pk, u_ck = np.eye(6)[0], np.eye(6)[1]
    >>> def runs(a, b):
    ...     return a * u_pk + b * u_ck + 0.1 * rng.standard_normal((200, 6))
    >>> ks = KnowledgeSubspace().fit(runs(1, 0), runs(0, 1), runs(0, 0))
    >>> ks.transform(runs(1, -1)).mean(0).round(1)   # a conflicting interaction
    array([ 1., -1.])
    >>> float(np.abs(ks.rank1_.project(runs(1, 1))).mean().round(1))  # rank 1 sees nothing
    0.1
    """

    def __init__(self, *, center: bool = True, coordinates: str = "orthonormal") -> None:
        self.center = center
        self.coordinates = coordinates

    def fit(self, prior: Any, context: Any, reference: Any) -> KnowledgeSubspace:
        """Fit from activations of PK-only, CK-only and reference runs (each (n_i, d))."""
        check_in(self.coordinates, ("orthonormal", "oblique"), "coordinates")
        P = check_array(prior, "prior", min_samples=1).astype(np.float64)
        C = check_array(context, "context", min_samples=1).astype(np.float64)
        R = check_array(reference, "reference", min_samples=1).astype(np.float64)
        d = P.shape[1]
        if C.shape[1] != d or R.shape[1] != d:
            raise DimensionMismatchError(
                f"prior, context and reference must share d; got {d}, {C.shape[1]}, {R.shape[1]}"
            )
        self.prior_mean_ = P.mean(axis=0)
        self.context_mean_ = C.mean(axis=0)
        self.reference_mean_ = R.mean(axis=0)
        D = np.stack(
            [self.prior_mean_ - self.reference_mean_, self.context_mean_ - self.reference_mean_],
            axis=1,
        )
        gram = D.T @ D
        evals, evecs = np.linalg.eigh(gram)
        if evals[0] <= 1e-12 * max(evals[-1], np.finfo(float).tiny):
            raise RankError(
                "the PK and CK contrasts are parallel or zero; no rank-2 subspace exists "
                f"(Gram eigenvalues {evals.round(12).tolist()})"
            )
        U = D @ (evecs / np.sqrt(evals)) @ evecs.T
        cos = gram[0, 1] / np.sqrt(gram[0, 0] * gram[1, 1])
        self.contrast_angle_ = float(np.degrees(np.arccos(np.clip(abs(cos), 0.0, 1.0))))
        if self.contrast_angle_ < 10.0:
            warnings.warn(
                f"the PK and CK contrasts are only {self.contrast_angle_:.1f} degrees apart; "
                "the two axes are poorly determined",
                UntrustworthyEstimateWarning,
                stacklevel=2,
            )
        self.contrasts_ = D
        mean = self.reference_mean_ if self.center else None
        self.subspace_ = Subspace.from_basis(
            U,
            mean=mean,
            meta={"method": "rank-2 knowledge (contrast means)", "axes": ("prior", "context")},
        )
        knob = self.prior_mean_ - self.context_mean_
        if not np.any(knob):
            raise RankError("prior and context runs have the same mean; no rank-1 knob exists")
        self.rank1_ = Subspace.from_directions(
            knob,
            mean=(self.prior_mean_ + self.context_mean_) / 2,
            meta={"method": "rank-1 knob (difference of means)", "sign": "positive = prior"},
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """(pk, ck) coordinates of the rows of X, shape (n, 2)."""
        check_is_fitted(self, "subspace_")
        A = check_array(X, "X").astype(np.float64)
        if A.shape[1] != self.subspace_.ambient_dim:
            raise DimensionMismatchError(
                f"X must have {self.subspace_.ambient_dim} features; got {A.shape[1]}"
            )
        if self.coordinates == "oblique":
            centred = A - self.reference_mean_ if self.center else A
            return np.linalg.solve(
                self.contrasts_.T @ self.contrasts_, self.contrasts_.T @ centred.T
            ).T
        return np.asarray(self.subspace_.project(A))

    def shares(self, trajectory: Any, window: int | None = 7) -> np.ndarray:
        """Smoothed per-token CK share along a (T, d) trajectory (see :func:`knowledge_shares`)."""
        return knowledge_shares(self.transform(trajectory), window=window)

    def rank1_scores(self, X: Any) -> np.ndarray:
        """Signed coordinate on the rank-1 knob (positive: prior, <= 0: context)."""
        check_is_fitted(self, "rank1_")
        return np.asarray(self.rank1_.project(check_array(X, "X").astype(np.float64)))[:, 0]

    def compare_ranks(
        self, conditions: Mapping[str, Any], n_splits: int = 5, random_state: Any = 0
    ) -> dict[str, float]:
        """Cross-validated accuracy of telling conditions apart in rank-1 vs rank-2 coordinates.

        ``conditions`` maps a condition name (e.g. supportive, conflicting) to its
        activations. A linear discriminant is fitted on each coordinate set with
        stratified ``n_splits``-fold cross-validation.

        Returns
        -------
        dict
            ``{"rank1": accuracy, "rank2": accuracy, "chance": majority rate}``.
        """
        check_is_fitted(self, "subspace_")
        if len(conditions) < 2:
            raise ValidationError(f"need at least 2 conditions; got {len(conditions)}")
        blocks = [
            check_array(v, f"conditions[{k!r}]").astype(np.float64) for k, v in conditions.items()
        ]
        X = np.vstack(blocks)
        y = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)])
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        acc1 = cross_val_score(
            LinearDiscriminantAnalysis(), self.rank1_scores(X)[:, None], y, cv=folds
        ).mean()
        acc2 = cross_val_score(LinearDiscriminantAnalysis(), self.transform(X), y, cv=folds).mean()
        chance = np.bincount(y).max() / len(y)
        return {"rank1": float(acc1), "rank2": float(acc2), "chance": float(chance)}
