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

The three sets of runs are given as one activation matrix ``X`` with the condition of
each row in ``y`` (scikit-learn's ``fit(X, y)``: the names ``"prior"``, ``"context"``,
``"reference"`` or the codes 1, 2, 0), or as three arrays ``fit(prior, context,
reference)``.

The rank-1 comparison is the difference-of-means knob
:math:`u = (\mu_{PK} - \mu_{CK})/\|\cdot\|` with midpoint offset (positive: prior).
A subspace learned otherwise (e.g. a rank-2 :class:`~subspacekit.intervene.DAS`)
gets its axes named and signed by :func:`assign_axes`, the rule of the paper's code.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold, cross_val_score

from subspacekit.core.linalg import matrix_rank, polar_factor, rank_tolerance
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import (
    Options,
    check_array,
    check_fitted,
    check_int,
    check_labels,
    check_same_dimension,
    validate_features,
    validate_params,
)
from subspacekit.errors import (
    RankError,
    ShapeError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)

__all__ = ["CONDITIONS", "KnowledgeSubspace", "assign_axes", "knowledge_shares"]

# The conditions of fit(X, y): name -> integer code.
CONDITIONS = {"prior": 1, "context": 2, "reference": 0}


def _unit_columns(A: np.ndarray) -> np.ndarray:
    """Columns scaled to unit length; the max-abs prescaling keeps 1e160 data from overflowing."""
    A = A / np.max(np.abs(A), axis=0)
    return A / np.linalg.norm(A, axis=0)


def _mean_vector(mean: Any, name: str, d: int) -> np.ndarray:
    m = check_array(mean, name, ndim=1).astype(np.float64)
    check_same_dimension(m.shape[0], d, f"length ({name} vs the basis rows)")
    if not np.any(m):
        raise ValidationError(f"{name} is zero; it cannot orient an axis")
    return m


def assign_axes(basis: Any, prior_mean: Any, context_mean: Any) -> np.ndarray:
    r"""Order and sign the two columns of a rank-2 basis as (PK axis, CK axis).

    The PK axis is the column with the larger :math:`|u_a^\top\mu_{PK}|`; the other
    is the CK axis; signs are flipped so that :math:`u_{PK}^\top\mu_{PK} > 0` and
    :math:`u_{CK}^\top\mu_{CK} > 0` (the paper's rule). Pass centred means (minus a
    reference mean) when the raw activations have a large common offset.

    Raises
    ------
    ValidationError
        When a mean is zero or (numerically) orthogonal to the basis, so that it cannot
        name or orient an axis.

    Examples
    --------
    >>> B = np.array([[0.0, 1.0], [-1.0, 0.0], [0.0, 0.0]])
    >>> assign_axes(B, prior_mean=[0.0, 2.0, 0.0], context_mean=[3.0, 0.0, 0.0]) + 0.0
    array([[0., 1.],
           [1., 0.],
           [0., 0.]])
    """
    U = check_array(basis, "basis").astype(np.float64)
    if U.shape[1] != 2:
        raise ShapeError(f"basis must have 2 columns (a rank-2 subspace); got {U.shape[1]}")
    rank, s = matrix_rank(U)
    if rank < 2:
        raise RankError(
            "basis must have two independent columns (a rank-2 subspace); its numerical "
            f"rank is {rank} (singular values {np.array2string(s, precision=3)})"
        )
    mu_pk = _mean_vector(prior_mean, "prior_mean", U.shape[0])
    mu_ck = _mean_vector(context_mean, "context_mean", U.shape[0])
    for mu, name in ((mu_pk, "prior_mean"), (mu_ck, "context_mean")):
        # cosines with the axes; numerically zero ones cannot name or orient an axis
        cosines = _unit_columns(U).T @ _unit_columns(mu[:, None])[:, 0]
        if not np.abs(cosines).max() > rank_tolerance(U.shape):
            raise ValidationError(f"{name} is orthogonal to the basis; it cannot orient an axis")
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
    C = check_array(coordinates, "coordinates", min_samples=1).astype(np.float64)
    if C.shape[1] != 2:
        raise ShapeError(f"coordinates must be (T, 2) = (pk, ck); got {C.shape}")
    window = None if window is None else check_int(window, "window", low=1)
    pk, ck = np.abs(C[:, 0]), np.abs(C[:, 1])
    total = pk + ck
    share = np.where(total > 0, ck / np.where(total > 0, total, 1.0), 0.5)
    if window is None or window == 1:
        return share
    half = window // 2
    csum = np.concatenate([[0.0], np.cumsum(share)])
    idx = np.arange(share.shape[0])
    lo = np.clip(idx - half, 0, share.shape[0])
    hi = np.clip(idx + half + 1, 0, share.shape[0])
    return (csum[hi] - csum[lo]) / (hi - lo)


def _condition_rows(y: Any, n_samples: int) -> dict[str, np.ndarray]:
    """Boolean row mask of each condition in the labels ``y`` (names or codes)."""
    labels = check_labels(y, "y", n_samples=n_samples)
    numeric = labels.dtype.kind in "biuf"
    masks = {name: labels == (code if numeric else name) for name, code in CONDITIONS.items()}
    known = np.logical_or.reduce(list(masks.values()))
    if not known.all():
        unknown = sorted({str(v) for v in labels[~known]})[:5]
        raise ValidationError(
            f"y holds labels {unknown} that name no condition; use 'prior', 'context' and "
            "'reference' (or the codes 1, 2 and 0)"
        )
    missing = [name for name, mask in masks.items() if not mask.any()]
    if missing:
        raise ValidationError(
            f"y must hold runs of all three conditions (prior, context, reference); "
            f"missing {missing}"
        )
    return masks


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
    n_features_in_ : int

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

    The same fit from one matrix and the condition of each row:

    >>> X = np.vstack([runs(1, 0), runs(0, 1), runs(0, 0)])
    >>> y = np.repeat(["prior", "context", "reference"], 200)
    >>> KnowledgeSubspace().fit(X, y).transform(runs(1, -1)).mean(0).round(1)
    array([ 1., -1.])
    """

    # Checks this estimator kind cannot pass, and why (read by tests/test_sklearn_contract.py).
    # Every other check (dtypes of transform, feature counts, NaN, pickling with three
    # conditions, ...) runs and passes.
    _expected_failed_checks: ClassVar[dict[str, str]] = dict.fromkeys(
        (
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_nan_inf",
            "check_estimators_pickle",
            "check_estimators_pickle(readonly_memmap=True)",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_n_features_in",
            "check_pipeline_consistency",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_general(readonly_memmap=True)",
            "check_transformer_preserve_dtypes",
        ),
        "the two knowledge axes are contrasts of the prior and context runs with the "
        "reference runs, so y must hold all three conditions (codes 1, 2, 0); this check "
        "fits on two-class labels ({0, 1} or {1, 2}) or on the unknown code 3, for which no "
        "rank-2 knowledge subspace exists (fit raises a ValidationError saying so)",
    )

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "center": ["boolean"],
        "coordinates": [Options("orthonormal", "oblique")],
    }

    def __init__(self, *, center: bool = True, coordinates: str = "orthonormal") -> None:
        self.center = center
        self.coordinates = coordinates

    def fit(self, X: Any, y: Any, reference: Any = None) -> KnowledgeSubspace:
        """Fit from the activations of PK-only, CK-only and reference runs.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            Activations of all runs, with ``y`` their conditions; or, when
            ``reference`` is given, the PK-only runs alone.
        y : array-like of shape (n_samples,), or (n_context, d) with ``reference``
            The condition of each row of ``X``: ``"prior"``, ``"context"``,
            ``"reference"`` or the codes 1, 2, 0 (every condition must occur). With
            ``reference``, the activations of the CK-only runs.
        reference : array-like of shape (n_reference, d), optional
            The reference runs, for the three-array form ``fit(prior, context, reference)``.
        """
        validate_params(self)
        name = "X" if reference is None else "prior"
        A = validate_features(self, X, reset=True, name=name).astype(np.float64)
        n, d = A.shape
        if d < 2:
            raise RankError(
                f"a rank-2 knowledge subspace needs at least 2 features; got {d} feature(s) "
                f"(n_features={d})"
            )
        if reference is None:
            if n < 3:
                raise TooFewSamplesError(
                    f"KnowledgeSubspace needs at least 3 samples (one per condition); got "
                    f"{n} sample(s) (n_samples={n})"
                )
            masks = _condition_rows(y, n)
            P, C, R = A[masks["prior"]], A[masks["context"]], A[masks["reference"]]
        else:
            P = A
            C = check_array(y, "context").astype(np.float64)
            R = check_array(reference, "reference").astype(np.float64)
            check_same_dimension(C.shape[1], d, "number of features (context vs prior)")
            check_same_dimension(R.shape[1], d, "number of features (reference vs prior)")
        self.prior_mean_ = P.mean(axis=0)
        self.context_mean_ = C.mean(axis=0)
        self.reference_mean_ = R.mean(axis=0)
        D = np.stack(
            [self.prior_mean_ - self.reference_mean_, self.context_mean_ - self.reference_mean_],
            axis=1,
        )
        if not np.isfinite(D).all():
            raise ValidationError("the condition means overflowed float64; rescale the data")
        rank, s = matrix_rank(D)
        if rank < 2:
            raise RankError(
                "the PK and CK contrasts are parallel or zero; no rank-2 subspace exists "
                f"(singular values of [d_PK, d_CK]: {np.array2string(s, precision=3)})"
            )
        # Löwdin: U = D (D^T D)^{-1/2} is the polar factor of D (computed from its SVD,
        # which does not square the condition number as the Gram matrix would).
        U = polar_factor(D)
        unit = _unit_columns(D)
        cos = float(unit[:, 0] @ unit[:, 1])
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
        self.subspace_ = Subspace.from_orthonormal(
            U,
            mean=mean,
            meta={"method": "rank-2 knowledge (contrast means)", "axes": ("prior", "context")},
        )
        self.rank1_ = Subspace.from_directions(
            self.prior_mean_ - self.context_mean_,
            mean=(self.prior_mean_ + self.context_mean_) / 2,
            meta={"method": "rank-1 knob (difference of means)", "sign": "positive = prior"},
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """(pk, ck) coordinates of the rows of X, shape (n, 2)."""
        check_fitted(self, "subspace_")
        A = validate_features(self, X, reset=False).astype(np.float64)
        if self.coordinates == "oblique":
            centred = A - self.reference_mean_ if self.center else A
            # least squares on D itself (SVD), not the normal equations: D^T D squares the
            # condition number and overflows for data near 1e160
            return np.linalg.lstsq(self.contrasts_, centred.T, rcond=None)[0].T
        return np.asarray(self.subspace_.project(A))

    def shares(self, trajectory: Any, window: int | None = 7) -> np.ndarray:
        """Smoothed per-token CK share along a (T, d) trajectory (see :func:`knowledge_shares`)."""
        return knowledge_shares(self.transform(trajectory), window=window)

    def rank1_scores(self, X: Any) -> np.ndarray:
        """Signed coordinate on the rank-1 knob (positive: prior, <= 0: context)."""
        check_fitted(self, "rank1_")
        A = validate_features(self, X, reset=False).astype(np.float64)
        return np.asarray(self.rank1_.project(A))[:, 0]

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
        check_fitted(self, "subspace_")
        if not isinstance(conditions, Mapping) or len(conditions) < 2:
            raise ValidationError("conditions must map at least 2 condition names to activations")
        n_splits = check_int(n_splits, "n_splits", low=2)
        blocks = [
            check_array(v, f"conditions[{k!r}]", min_samples=n_splits).astype(np.float64)
            for k, v in conditions.items()
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
