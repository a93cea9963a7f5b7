"""Elastic-net subspace clustering with the ORGEN active-set solver (You, Li, Robinson & Vidal, CVPR 2016).

Each sample :math:`x_j` (rows of ``X``, unit norm by default) is coded by the others
through the elastic net

.. math::

    c_j = \\arg\\min_{c:\\,c_j = 0}\\ \\frac12 \\|x_j - \\textstyle\\sum_i c_i x_i\\|_2^2
    + \\lambda_j \\Big(\\tau \\|c\\|_1 + \\frac{1-\\tau}{2}\\|c\\|_2^2\\Big),
    \\qquad \\lambda_j = \\frac{\\max_{i \\ne j} |x_i^\\top x_j|}{\\tau\\,\\gamma}.

:math:`\\lambda_j \\tau = \\max_i |x_i^\\top x_j|` is exactly the value at which the solution
becomes zero, so :math:`\\gamma > 1` says how far below that threshold to go.
:math:`\\tau = 1` is SSC's lasso; smaller :math:`\\tau` trades subspace preservation for
better-connected clusters.

**ORGEN** (oracle-guided elastic net) makes this scale: the solution is sparse, and a
point :math:`i` outside the current active set :math:`T` can only enter it if it
violates the optimality condition :math:`|x_i^\\top (x_j - X_T^\\top c_T)| \\le \\lambda_j\\tau`.
Starting from the ``support_size`` samples most coherent with :math:`x_j`, ORGEN solves
the small problem on :math:`T`, then replaces :math:`T` by the support of that solution
plus the strongest violators, until nothing is violated (then the small solution is the
global one). Each small problem is solved exactly by feature-sign search (an active-set
method: guess the signs, solve a linear system, line-search to the first helpful sign
change), vectorised over a batch of samples; only a batch's ``b x n`` coherences are
held in memory and the codes are stored sparse.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bases = [np.linalg.qr(rng.standard_normal((30, 3)))[0] for _ in range(3)]
>>> X = np.vstack([rng.standard_normal((40, 3)) @ B.T for B in bases])
>>> model = EnSC(n_clusters=3, gamma=50, tau=0.9, random_state=0).fit(X)
>>> from subspacekit.cluster.metrics import clustering_accuracy
>>> clustering_accuracy(np.repeat([0, 1, 2], 40), model.labels_)
1.0
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from subspacekit.cluster.spectral import SelfExpressiveClustering
from subspacekit.core.validation import check_in, check_n_components, check_positive
from subspacekit.errors import ConvergenceWarning, ValidationError

__all__ = ["EnSC", "elastic_net_representation"]

_BATCH_ENTRIES = 8_000_000
_GRAM_MAX_N = 5000


def _masked_solve(H: np.ndarray, rhs: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Solve ``H[A, A] x_A = rhs_A`` for every problem of the batch, ``x = 0`` off ``A``.

    The active coordinates are gathered to the front so the dense solves are only as
    wide as the largest active set.
    """
    m, w = rhs.shape
    width = int(active.sum(axis=1).max()) if m else 0
    x = np.zeros((m, w))
    if width == 0:
        return x
    order = np.argsort(~active, axis=1, kind="stable")[:, :width]
    valid = np.take_along_axis(active, order, axis=1)
    sub = H[np.arange(m)[:, None, None], order[:, :, None], order[:, None, :]]
    pair = valid[:, :, None] & valid[:, None, :]
    sub = np.where(pair, sub, 0.0)
    r, k = np.nonzero(~valid)
    sub[r, k, k] = 1.0
    sub_rhs = np.where(valid, np.take_along_axis(rhs, order, axis=1), 0.0)
    sol = np.linalg.solve(sub, sub_rhs[:, :, None])[:, :, 0]
    np.put_along_axis(x, order, np.where(valid, sol, 0.0), axis=1)
    return x


def _feature_sign_search(
    H: np.ndarray,
    b: np.ndarray,
    l1: np.ndarray,
    c0: np.ndarray,
    max_steps: int,
    n_add: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact minimiser of 1/2 c'Hc - b'c + l1 |c|_1 for a batch of small problems.

    Feature-sign search (Lee, Battle, Raina & Ng, NIPS 2006), vectorised over the batch:
    guess the signs of the non-zero coefficients, solve the resulting linear system on
    them exactly, and line-search to the best zero crossing; when the current signs are
    consistent, activate the zero coordinates that most violate optimality. Activating
    one at a time provably lowers the objective at every step, so the search ends with
    the exact solution; to save steps up to ``n_add`` are activated together, and a
    problem falls back to one at a time as soon as a step fails to lower its objective.
    ``H`` (m, w, w) must be positive definite. Returns ``(c, done)``.
    """
    m = b.shape[0]
    c = c0.copy()
    done = np.zeros(m, dtype=bool)
    adds = np.full(m, int(n_add))
    scale = np.maximum(np.abs(b).max(axis=1), 1e-300)
    tiny = 1e-12 * scale
    work = np.arange(m)
    Hw, bw, l1w = H, b, l1
    for _ in range(max_steps):
        live_mask = ~done[work]
        if not live_mask.any():
            break
        if live_mask.mean() < 0.7:
            work = work[live_mask]
            Hw, bw, l1w = Hw[live_mask], bw[live_mask], l1w[live_mask]
            live_mask = np.ones(work.size, dtype=bool)
        cw = c[work]
        grad = np.matmul(Hw, cw[:, :, None])[:, :, 0] - bw
        active = cw != 0
        theta = np.sign(cw)
        nz_violation = np.where(active, np.abs(grad + l1w[:, None] * theta), 0.0).max(axis=1)
        consistent = nz_violation <= 1e-9 * scale[work]
        zero_violation = np.where(active, 0.0, np.abs(grad)) - (l1w * (1.0 + 1e-9))[:, None]
        zero_violation -= tiny[work][:, None]
        n_violating = (zero_violation > 0).sum(axis=1)
        optimal = consistent & (n_violating == 0)
        done[work[optimal & live_mask]] = True
        step = live_mask & ~optimal
        if not step.any():
            continue
        grow = np.flatnonzero(step & consistent)
        if grow.size:
            k_add = np.minimum(adds[work[grow]], n_violating[grow])
            top = np.argsort(-zero_violation[grow], axis=1)[:, : int(k_add.max())]
            take = np.arange(top.shape[1])[None, :] < k_add[:, None]
            r = np.repeat(grow, take.sum(axis=1))
            k = top[take]
            theta[r, k] = -np.sign(grad[r, k])
            active[r, k] = True
        si = np.flatnonzero(step)
        if si.size == work.size:  # avoid copying the (m, w, w) block when all step
            Hs, bs, l1s, cs, gs = Hw, bw, l1w, cw, grad
        else:
            Hs, bs, l1s, cs, gs = Hw[si], bw[si], l1w[si], cw[si], grad[si]
        target = _masked_solve(Hs, bs - l1s[:, None] * theta[si], active[si])
        direction = target - cs
        # candidate step lengths: 1 and the few smallest zero crossings of current non-zeros
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = cs / (cs - target)
        crossing = np.where((cs != 0) & (crossing > 0) & (crossing < 1), crossing, np.inf)
        n_cross = int(np.isfinite(crossing).sum(axis=1).max())
        kept = np.sort(crossing, axis=1)[:, : min(n_cross, 8)]
        candidates = np.concatenate([kept, np.ones((si.size, 1))], axis=1)
        finite = np.where(np.isfinite(candidates), candidates, 1.0)
        # along c + t*direction the smooth part is f(c) + t g0 + t^2/2 curvature
        H_direction = np.matmul(Hs, direction[:, :, None])[:, :, 0]
        g0 = np.sum(gs * direction, axis=1)
        curvature = np.sum(direction * H_direction, axis=1)
        smooth = finite * g0[:, None] + 0.5 * finite**2 * curvature[:, None]
        points = cs[:, None, :] + finite[:, :, None] * direction[:, None, :]
        objective = smooth + l1s[:, None] * np.abs(points).sum(axis=2)
        objective[~np.isfinite(candidates)] = np.inf
        pick = np.argmin(objective, axis=1)
        rows_s = np.arange(si.size)
        t = finite[rows_s, pick]
        new = cs + t[:, None] * direction
        hit = np.isclose(crossing, t[:, None], rtol=1e-12, atol=0.0)
        new[hit] = 0.0
        new[np.abs(new) <= tiny[work[si]][:, None]] = 0.0
        # keep the step only where it lowered the objective (relative to t = 0, where
        # the objective is l1 |c|_1 in these shifted terms); elsewhere retry one at a time
        current = l1s * np.abs(cs).sum(axis=1)
        failed = objective[rows_s, pick] >= current - 1e-15 * np.abs(current)
        multi = adds[work[si]] > 1
        revert = failed & multi
        new[revert] = cs[revert]
        adds[work[si[revert]]] = 1
        c[work[si]] = new
    return c, done


def _gather_gram(X: np.ndarray, gram: np.ndarray | None, T: np.ndarray) -> np.ndarray:
    safe = np.where(T >= 0, T, 0)
    if gram is not None:
        G = gram[safe[:, :, None], safe[:, None, :]]
    else:
        m, w = T.shape
        d = X.shape[1]
        G = np.empty((m, w, w))
        chunk = max(1, 4_000_000 // max(1, w * d))
        for s in range(0, m, chunk):
            atoms = X[safe[s : s + chunk]]
            G[s : s + chunk] = np.einsum("bsd,btd->bst", atoms, atoms)
    pad = T < 0
    if pad.any():
        G[pad[:, :, None] | pad[:, None, :]] = 0.0
        r, k = np.nonzero(pad)
        G[r, k, k] = 1.0
    return G


def elastic_net_representation(
    X: np.ndarray,
    *,
    gamma: float = 50.0,
    tau: float = 0.9,
    support_size: int = 100,
    max_outer: int = 20,
    batch_size: int | None = None,
) -> tuple[sp.csr_matrix, int]:
    """Elastic-net self-representation of the rows of ``X`` by ORGEN (module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    gamma : float
        Ratio of the zero-solution threshold to the l1 weight; > 1.
    tau : float in (0, 1]
        Share of the l1 penalty (1 = lasso).
    support_size : int
        Size of the active sets (the small problems' width).
    max_outer : int
        Largest number of active-set updates.
    batch_size : int or None
        Samples processed together.

    Returns
    -------
    C : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Row ``j`` holds the code of sample ``j``; zero diagonal.
    n_outer : int
        Largest number of active-set iterations any batch used.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    >>> C, _ = elastic_net_representation(X, gamma=10, tau=1.0)
    >>> np.round(C.toarray(), 3)
    array([[0.  , 0.45, 0.  , 0.  ],
           [1.8 , 0.  , 0.  , 0.  ],
           [0.  , 0.  , 0.  , 0.45],
           [0.  , 0.  , 1.8 , 0.  ]])
    """
    n = X.shape[0]
    X = np.asarray(X, dtype=np.float64)
    s = min(int(support_size), n - 1)
    if s < 1:
        return sp.csr_matrix((n, n)), 0
    gram = X @ X.T if n <= _GRAM_MAX_N else None
    if batch_size is None:
        batch_size = max(1, min(n, _BATCH_ENTRIES // (3 * n + 2 * s * s)))
    rows_out, cols_out, vals_out = [], [], []
    worst_outer = 0
    unconverged = 0
    for start in range(0, n, batch_size):
        J = np.arange(start, min(n, start + batch_size))
        b = J.size
        local = np.arange(b)
        coherence = gram[J] if gram is not None else X[J] @ X.T
        if gram is not None:
            coherence = coherence.copy()
        coherence[local, J] = 0.0
        magnitude = np.abs(coherence)
        lam = magnitude.max(axis=1) / (tau * gamma)
        l1 = lam * tau
        l2 = lam * (1.0 - tau)
        magnitude[local, J] = -1.0
        T = np.argpartition(-magnitude, s - 1, axis=1)[:, :s]
        T[lam <= 0] = -1  # nothing to code this sample with (orthogonal to all others)
        coef = np.zeros((b, s))
        pending = np.flatnonzero(lam > 0)
        outer = 0
        final_T: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * b
        final_c: list[np.ndarray] = [np.empty(0)] * b
        while pending.size and outer < max_outer:
            outer += 1
            Tp = T[pending]
            H = _gather_gram(X, gram, Tp)
            # the ridge part joins the quadratic term; a tiny extra ridge keeps the
            # lasso case (tau = 1) positive definite on linearly dependent active sets
            ridge = l2[pending] + 1e-10 * np.einsum("bkk->b", H).max(initial=1.0)
            H[:, np.arange(H.shape[1]), np.arange(H.shape[1])] += ridge[:, None]
            rhs = np.where(Tp >= 0, coherence[pending[:, None], np.where(Tp >= 0, Tp, 0)], 0.0)
            c, _ = _feature_sign_search(
                H, rhs, l1[pending], coef[pending], max_steps=4 * Tp.shape[1] + 50
            )
            c[Tp < 0] = 0.0
            # correlations of every sample with the residual x_j - X_T^T c
            r_idx, k_idx = np.nonzero(c)
            code = sp.csr_matrix(
                (c[r_idx, k_idx], (r_idx, Tp[r_idx, k_idx])), shape=(pending.size, n)
            )
            fitted = np.asarray(code @ X)
            residual_corr = np.abs(coherence[pending] - fitted @ X.T)
            excluded = np.zeros((pending.size, n), dtype=bool)
            excluded[np.arange(pending.size), J[pending]] = True
            valid = Tp >= 0
            excluded[np.nonzero(valid)[0], Tp[valid]] = True
            threshold = l1[pending] * (1.0 + 1e-6) + 1e-12
            violation = np.where(excluded, 0.0, residual_corr - threshold[:, None])
            n_violators = (violation > 0).sum(axis=1)
            done = n_violators == 0
            for row in np.flatnonzero(done):
                keep = c[row] != 0
                final_T[pending[row]] = Tp[row][keep]
                final_c[pending[row]] = c[row][keep]
            still = np.flatnonzero(~done)
            if still.size == 0:
                pending = pending[:0]
                break
            # new active sets: current support + strongest violators, padded to a width
            new_sets, new_coefs = [], []
            for row in still:
                keep = c[row] != 0
                support, values = Tp[row][keep], c[row][keep]
                # ORGEN's objective decreases whenever at least one violator joins
                room = min(max(s - support.size, s // 2, 1), int(n_violators[row]))
                cand = np.argpartition(-violation[row], room - 1)[:room]
                new_sets.append(np.concatenate([support, cand]))
                new_coefs.append(np.concatenate([values, np.zeros(room)]))
            width = max(len(t) for t in new_sets)
            pending = pending[still]
            T = np.full((b, width), -1, dtype=np.int64)
            coef = np.zeros((b, width))
            for p, t_new, c_new in zip(pending, new_sets, new_coefs, strict=True):
                T[p, : t_new.size] = t_new
                coef[p, : c_new.size] = c_new
        worst_outer = max(worst_outer, outer)
        if pending.size:
            unconverged += int(pending.size)
            # keep the best small-problem solution found for the unfinished samples
            for position, sample in enumerate(pending.tolist()):
                last = still[position]
                keep = c[last] != 0
                final_T[sample] = Tp[last][keep]
                final_c[sample] = c[last][keep]
        for j_local in range(b):
            if final_T[j_local].size:
                rows_out.append(np.full(final_T[j_local].size, J[j_local]))
                cols_out.append(final_T[j_local])
                vals_out.append(final_c[j_local])
    if unconverged:
        warnings.warn(
            f"ORGEN stopped after max_outer={max_outer} active-set updates for "
            f"{unconverged} of {n} samples without certifying optimality; their codes are "
            "the best found (raise max_outer or support_size)",
            ConvergenceWarning,
            stacklevel=2,
        )
    if not rows_out:
        return sp.csr_matrix((n, n)), worst_outer
    C = sp.csr_matrix(
        (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
        shape=(n, n),
    )
    return C, worst_outer


class EnSC(SelfExpressiveClustering):
    """Elastic-net subspace clustering (EnSC) with the ORGEN active-set solver.

    Parameters
    ----------
    n_clusters : int
    gamma : float, default=50
        How far below the zero-solution threshold the l1 weight is set (> 1).
    tau : float in (0, 1], default=0.9
        l1 share of the elastic net; 1 gives SSC's lasso codes.
    support_size : int, default=100
        ORGEN active-set size.
    normalize : bool, default=True
        Scale each sample to unit l2 norm first.
    max_outer : int, default=20
    affinity : {"symmetrize", "max_normalized", "nearest_neighbors"}, default="symmetrize"
    n_neighbors : int, default=3
    assign_labels : {"kmeans", "snem"}, default="kmeans"
    n_init : int, default=20
    random_state : int, RandomState or None

    Attributes
    ----------
    representation_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
    affinity_ : scipy.sparse.csr_matrix
    labels_ : ndarray of shape (n_samples,)
    n_outer_ : int
        Largest number of ORGEN active-set iterations.
    n_connected_components_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [2, 0.1, 0], [0, 1, 0], [0.1, 3, 0]], dtype=float)
    >>> EnSC(n_clusters=2, random_state=0).fit_predict(X).tolist()
    [1, 1, 0, 0]
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        gamma: float = 50.0,
        tau: float = 0.9,
        support_size: int = 100,
        normalize: bool = True,
        max_outer: int = 20,
        affinity: str = "symmetrize",
        n_neighbors: int = 3,
        assign_labels: str = "kmeans",
        n_init: int = 20,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.gamma = gamma
        self.tau = tau
        self.support_size = support_size
        self.normalize = normalize
        self.max_outer = max_outer
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.assign_labels = assign_labels
        self.n_init = n_init
        self.random_state = random_state

    def _self_representation(self, X: np.ndarray) -> sp.csr_matrix:
        gamma = check_positive(self.gamma, "gamma")
        if gamma <= 1.0:
            raise ValidationError(f"gamma must be > 1 (else every code is zero); got {gamma}")
        tau = check_positive(self.tau, "tau")
        if tau > 1.0:
            raise ValidationError(f"tau must lie in (0, 1]; got {tau}")
        check_n_components(self.support_size, 10**9, "support_size")
        check_in(self.normalize, [True, False], "normalize")
        if self.normalize:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            X = X / norms
        C, self.n_outer_ = elastic_net_representation(
            X,
            gamma=gamma,
            tau=tau,
            support_size=self.support_size,
            max_outer=int(self.max_outer),
        )
        return C
