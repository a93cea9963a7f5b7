"""Neural variational lower bounds on mutual information (torch, imported lazily).

A critic f(x, y) is trained to tell joint pairs (x_i, y_i) from shuffled pairs
(x_i, y_j); every bound below is a lower bound on I(X;Y) for any critic (SMILE only
approximately, because of its clipping) and is tight at the optimal critic. With
``F[i, j] = f(x_i, y_j)`` on a batch of B pairs (off-diagonal entries stand in for the
product of marginals):

* **InfoNCE** (van den Oord et al. 2018):
  ``Î = mean_i [F_ii - log (1/B) Σ_j exp F_ij]``, never above log B;
* **NWJ** (Nguyen, Wainwright & Jordan 2010): ``Î = mean F_ii - mean_{i≠j} exp(F_ij - 1)``;
* **MINE** (Belghazi et al. 2018): the Donsker–Varadhan bound
  ``Î = mean F_ii - log mean_{i≠j} exp F_ij``, trained with the moving-average
  correction of the biased gradient of the log term;
* **SMILE** (Song & Ermon 2020): DV with the critic clipped to [-τ, τ] inside the log term
  (τ = 5), trained through the Jensen–Shannon f-GAN objective;
* **probabilistic critic** (Abdelaleem, Martini & Nemenman 2025): stochastic encoders
  z = μ(x) + σ(x) ε with a KL(q(z|x) ‖ N(0, I))/β penalty (variational information
  bottleneck), which reduces bias and variance at high MI.

Following the same paper, the data are split into training, validation and test parts; the
checkpoint with the highest smoothed validation estimate is kept ("max-test" early
stopping on held-out data that is not the test part) and the reported value ``mi_`` is the
bound evaluated on the untouched test part, with a standard error from the bound's
influence function. The training-set value ``mi_train_`` is kept for the overfitting
check.

Examples
--------
>>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
>>> X, Y = CorrelatedGaussian([0.9]).sample(600, random_state=0)  # I = 0.830 nats
>>> est = NeuralMIEstimator("smile", hidden_sizes=(16,), max_steps=20, random_state=0)
>>> est = est.fit(X, Y)
>>> est.mi_ <= 0.830 + 3 * est.stderr_  # a lower bound, up to held-out noise
True
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from subspacekit.core.backend import import_optional, to_numpy
from subspacekit.core.validation import (
    check_array,
    check_consistent_samples,
    check_in,
    check_random_state,
)
from subspacekit.errors import NotFittedError, TooFewSamplesError, ValidationError

__all__ = ["BOUNDS", "CRITICS", "NeuralMIEstimator", "neural_mi"]

BOUNDS = ("infonce", "nwj", "mine", "smile")
CRITICS = ("separable", "concat", "probabilistic")


def _torch() -> Any:
    return import_optional("torch", "torch")


# --------------------------------------------------------------------------- critics


def _mlp(torch: Any, sizes: list[int]) -> Any:
    layers: list[Any] = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _make_critic(
    torch: Any, kind: str, dim_x: int, dim_y: int, hidden: tuple[int, ...], embedding: int
) -> Any:
    nn: Any = torch.nn

    class Separable(nn.Module):
        """f(x, y) = g(x)ᵀ h(y): all B² scores from two encoder passes."""

        def __init__(self, out: int) -> None:
            super().__init__()
            self.g = _mlp(torch, [dim_x, *hidden, out])
            self.h = _mlp(torch, [dim_y, *hidden, out])
            # Inner products of K-dimensional embeddings grow like √K; dividing keeps the
            # initial scores O(1), which the exponential bounds (NWJ, MINE) need.
            self.scale = 1.0 / math.sqrt(embedding)

        def scores(self, x: Any, y: Any, sample: bool = False) -> tuple[Any, Any]:
            return self.g(x) @ self.h(y).T * self.scale, None

    class Probabilistic(Separable):
        """Encoders output (μ, log σ²); training scores use z = μ + σ ε (reparameterised)."""

        def __init__(self) -> None:
            super().__init__(2 * embedding)

        def _encode(self, net: Any, v: Any, sample: bool) -> tuple[Any, Any]:
            mu, logvar = net(v).chunk(2, dim=1)
            logvar = logvar.clamp(-10.0, 10.0)
            kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1).mean()
            z = mu + (0.5 * logvar).exp() * torch.randn_like(mu) if sample else mu
            return z, kl

        def scores(self, x: Any, y: Any, sample: bool = False) -> tuple[Any, Any]:
            zx, kl_x = self._encode(self.g, x, sample)
            zy, kl_y = self._encode(self.h, y, sample)
            return zx @ zy.T * self.scale, kl_x + kl_y

    class Concat(nn.Module):
        """f(x, y) = MLP([x, y]): evaluated on all B² pairs."""

        def __init__(self) -> None:
            super().__init__()
            self.f = _mlp(torch, [dim_x + dim_y, *hidden, 1])

        def scores(self, x: Any, y: Any, sample: bool = False) -> tuple[Any, Any]:
            b, c = x.shape[0], y.shape[0]
            pairs = torch.cat(
                [x[:, None, :].expand(b, c, -1), y[None, :, :].expand(b, c, -1)], dim=2
            )
            return self.f(pairs).squeeze(-1), None

    if kind == "separable":
        return Separable(embedding)
    if kind == "probabilistic":
        return Probabilistic()
    return Concat()


# --------------------------------------------------------------------------- bounds (torch)


def _offdiag_logmeanexp(torch: Any, F: Any) -> Any:
    B = F.shape[0]
    mask = ~torch.eye(B, dtype=torch.bool, device=F.device)
    return torch.logsumexp(F[mask], dim=0) - math.log(B * (B - 1))


def _training_objective(
    torch: Any, bound: str, F: Any, clip: float, state: dict[str, Any], ema_rate: float
) -> tuple[Any, Any]:
    """(surrogate to maximise, value of the bound on this batch)."""
    B = F.shape[0]
    joint = F.diagonal().mean()
    if bound == "infonce":
        value = (F.diagonal() - torch.logsumexp(F, dim=1)).mean() + math.log(B)
        return value, value
    if bound == "nwj":
        value = joint - torch.exp(_offdiag_logmeanexp(torch, F - 1.0))
        return value, value
    if bound == "mine":
        log_marg = _offdiag_logmeanexp(torch, F)
        value = joint - log_marg
        # The gradient of log E_Q[e^f] is ∇E_Q[e^f] / E_Q[e^f]; a minibatch estimate of the
        # denominator biases it, so MINE divides by a moving average of E_Q[e^f] instead.
        lm = log_marg.detach()
        prev = state.get("log_ma")
        log_ma = (
            lm
            if prev is None
            else torch.logaddexp(prev + math.log(1.0 - ema_rate), lm + math.log(ema_rate))
        )
        state["log_ma"] = log_ma
        surrogate = joint - torch.exp(log_marg - log_ma)
        return surrogate, value
    # SMILE: value = DV with the critic clipped to [-τ, τ] in the partition term; the
    # critic is trained through the Jensen–Shannon objective (Song & Ermon 2020), by
    # adding (value - js) as a constant.
    value = joint - _offdiag_logmeanexp(torch, F.clamp(-clip, clip))
    B_mask = ~torch.eye(B, dtype=torch.bool, device=F.device)
    nn_f = torch.nn.functional
    js = -nn_f.softplus(-F.diagonal()).mean() - nn_f.softplus(F[B_mask]).mean()
    return js + (value - js).detach(), value


# --------------------------------------------------------------------------- held-out bound


def _heldout_bound(F: np.ndarray, bound: str, clip: float) -> tuple[float, float, float]:
    """Bound on an M×M score matrix, its standard error and its ceiling (float64 numpy).

    Standard errors come from the influence function: for a U-statistic mean over i ≠ j
    of h(x_i, y_j), sample k enters through its row mean r_k and column mean c_k, so the
    influence of k on ``log mean h`` is ``(r_k + c_k) / mean h`` (up to a constant).
    """
    M = F.shape[0]
    diag = np.diagonal(F).copy()
    off = ~np.eye(M, dtype=bool)
    if bound == "infonce":
        top = F.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(F - top).sum(axis=1))
        terms = diag - lse + math.log(M)
        return float(terms.mean()), float(terms.std(ddof=1) / math.sqrt(M)), math.log(M)
    G = np.clip(F, -clip, clip) if bound == "smile" else (F - 1.0 if bound == "nwj" else F)
    shift = float(G[off].max())
    E = np.where(off, np.exp(G - shift), 0.0)
    row, col = E.sum(axis=1) / (M - 1), E.sum(axis=0) / (M - 1)
    mean_e = float(E.sum() / (M * (M - 1)))
    if bound == "nwj":
        scale = math.exp(shift)
        value = diag.mean() - mean_e * scale
        influence = diag - (row + col) * scale
    else:  # DV (mine) and clipped DV (smile)
        value = diag.mean() - (math.log(mean_e) + shift)
        influence = diag - (row + col) / mean_e
    return float(value), float(influence.std(ddof=1) / math.sqrt(M)), math.inf


# --------------------------------------------------------------------------- estimator


class NeuralMIEstimator(BaseEstimator):
    """Train a critic and report a held-out variational lower bound on I(X;Y).

    Parameters
    ----------
    bound : {"infonce", "nwj", "mine", "smile"}
        Variational bound (see the module docstring).
    critic : {"separable", "concat", "probabilistic"}
        ``g(x)ᵀh(y)`` with MLP encoders, an MLP on the concatenated pair, or the separable
        critic with stochastic (VIB) encoders.
    hidden_sizes : tuple of int
        Hidden layer widths of every MLP (ReLU).
    embedding_dim : int
        Output dimension K of the separable encoders.
    batch_size : int
        Pairs per training batch (InfoNCE cannot exceed log(batch_size) on a batch).
    max_steps : int
        Adam steps.
    learning_rate : float
        Adam learning rate.
    validation_fraction, test_fraction : float
        Held-out parts: the validation part selects the checkpoint, the test part gives
        the reported value. Abdelaleem et al. train on 90 %; a separate test part makes
        the reported value free of the selection bias.
    eval_every : int
        Steps between validation evaluations (smoothed over the last three).
    clip : float
        τ of SMILE.
    beta : float
        Weight of the bound against the KL penalty for the probabilistic critic
        (loss = KL/β - Î; 1024 as in Abdelaleem et al.).
    ema_rate : float
        Rate of MINE's moving average.
    max_eval_samples : int
        At most this many held-out pairs enter an evaluation (an M×M score matrix).
    device : str
        Torch device.
    random_state : int or None
        Seed of the split, the initialisation and the batches.
    verbose : bool
        Show a progress bar.

    Attributes
    ----------
    mi_ : float
        Held-out (test) estimate in nats at the selected checkpoint.
    stderr_ : float
        Its standard error.
    mi_train_ : float
        The bound on an equally large subset of the training data (overfitting check).
    mi_validation_ : float
        Smoothed validation value of the selected checkpoint.
    ceiling_ : float
        Largest value the test evaluation can reach (log M for InfoNCE, else inf).
    best_step_ : int
        Step of the selected checkpoint.
    curve_ : list of tuple
        ``(step, training-batch value, validation value)`` at every evaluation.
    critic_ : torch.nn.Module
        The trained critic (selected checkpoint).
    diagnostics_ : dict
        Flags and messages (``warnings``) for :func:`~subspacekit.measure.mutual_information`.

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
    >>> X, Y = CorrelatedGaussian([0.8]).sample(600, random_state=1)  # I = 0.511 nats
    >>> est = NeuralMIEstimator("infonce", hidden_sizes=(16,), max_steps=20, random_state=0)
    >>> est = est.fit(X, Y)
    >>> len(est.curve_), est.diagnostics_["at_ceiling"]
    (1, False)
    """

    def __init__(
        self,
        bound: str = "infonce",
        critic: str = "separable",
        *,
        hidden_sizes: tuple[int, ...] = (64, 64),
        embedding_dim: int = 16,
        batch_size: int = 128,
        max_steps: int = 1000,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.1,
        test_fraction: float = 0.2,
        eval_every: int = 25,
        clip: float = 5.0,
        beta: float = 1024.0,
        ema_rate: float = 0.01,
        max_eval_samples: int = 2048,
        device: str = "cpu",
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.bound = bound
        self.critic = critic
        self.hidden_sizes = hidden_sizes
        self.embedding_dim = embedding_dim
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.test_fraction = test_fraction
        self.eval_every = eval_every
        self.clip = clip
        self.beta = beta
        self.ema_rate = ema_rate
        self.max_eval_samples = max_eval_samples
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _validate(self, n: int) -> None:
        check_in(self.bound, BOUNDS, "bound")
        check_in(self.critic, CRITICS, "critic")
        for name in ("batch_size", "max_steps", "eval_every", "embedding_dim"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValidationError(f"{name} must be a positive integer; got {v!r}")
        if self.batch_size < 2:
            raise ValidationError(f"batch_size must be >= 2; got {self.batch_size}")
        fractions = (self.validation_fraction, self.test_fraction)
        if not all(0 < f < 1 for f in fractions) or sum(fractions) >= 0.9:
            raise ValidationError(
                "validation_fraction and test_fraction must be in (0, 1) and sum below 0.9; "
                f"got {fractions}"
            )
        n_val, n_test = int(n * self.validation_fraction), int(n * self.test_fraction)
        if min(n_val, n_test) < 16 or n - n_val - n_test < 32:
            raise TooFewSamplesError(
                f"neural MI needs at least 16 validation, 16 test and 32 training pairs; "
                f"n={n} gives {n - n_val - n_test}/{n_val}/{n_test}"
            )
        if not self.clip > 0 or not self.beta > 0 or not 0 < self.ema_rate < 1:
            raise ValidationError("clip and beta must be > 0 and ema_rate in (0, 1)")

    def fit(self, X: Any, Y: Any) -> NeuralMIEstimator:
        """Split, train with held-out checkpoint selection, evaluate on the test part.

        Parameters
        ----------
        X : array of shape (n_samples, dim_x) or (n_samples,)
        Y : array of shape (n_samples, dim_y) or (n_samples,)

        Returns
        -------
        self
        """
        torch = _torch()
        X = check_array(to_numpy(X), "X", ndim=(1, 2), min_samples=2)
        Y = check_array(to_numpy(Y), "Y", ndim=(1, 2), min_samples=2)
        X = X.reshape(len(X), -1)
        Y = Y.reshape(len(Y), -1)
        n = check_consistent_samples(X, Y, names=["X", "Y"])
        self._validate(n)
        rng = check_random_state(self.random_state)
        perm = rng.permutation(n)
        n_val, n_test = int(n * self.validation_fraction), int(n * self.test_fraction)
        test, val, train = np.split(perm, [n_test, n_test + n_val])
        mean_x, std_x = X[train].mean(axis=0), X[train].std(axis=0)
        mean_y, std_y = Y[train].mean(axis=0), Y[train].std(axis=0)
        if np.any(std_x == 0) or np.any(std_y == 0):
            raise ValidationError("X or Y has a column that is constant on the training part")

        def tensor(A: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Any:
            return torch.as_tensor((A - mean) / std, dtype=torch.float32, device=self.device)

        xs = {
            k: tensor(X[idx], mean_x, std_x)
            for k, idx in (("train", train), ("val", val), ("test", test))
        }
        ys = {
            k: tensor(Y[idx], mean_y, std_y)
            for k, idx in (("train", train), ("val", val), ("test", test))
        }
        batch = int(min(self.batch_size, train.size))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.randint(2**31)))
            critic = _make_critic(
                torch,
                self.critic,
                X.shape[1],
                Y.shape[1],
                tuple(self.hidden_sizes),
                int(self.embedding_dim),
            ).to(self.device)
            self._train(torch, critic, xs, ys, batch, rng)
        self._evaluate_final(torch, critic, xs, ys, batch, rng)
        return self

    def _train(
        self,
        torch: Any,
        critic: Any,
        xs: dict[str, Any],
        ys: dict[str, Any],
        batch: int,
        rng: np.random.RandomState,
    ) -> None:
        from subspacekit.core.progress import progress

        optimizer = torch.optim.Adam(critic.parameters(), lr=self.learning_rate)
        n_train = xs["train"].shape[0]
        state: dict[str, Any] = {}
        order, cursor = rng.permutation(n_train), 0
        curve: list[tuple[int, float, float]] = []
        best = (-math.inf, 0, copy.deepcopy(critic.state_dict()))
        recent: list[float] = []
        for step in progress(
            range(1, int(self.max_steps) + 1),
            verbose=self.verbose,
            desc=f"{self.bound} critic",
            total=int(self.max_steps),
        ):
            if cursor + batch > n_train:
                order, cursor = rng.permutation(n_train), 0
            idx = torch.as_tensor(order[cursor : cursor + batch], device=self.device)
            cursor += batch
            critic.train()
            F, kl = critic.scores(xs["train"][idx], ys["train"][idx], sample=True)
            surrogate, value = _training_objective(
                torch, self.bound, F, self.clip, state, self.ema_rate
            )
            loss = -surrogate if kl is None else kl / self.beta - surrogate
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % self.eval_every == 0 or step == self.max_steps:
                val_value = self._heldout(torch, critic, xs["val"], ys["val"])[0]
                curve.append((step, float(value.detach()), val_value))
                recent = [*recent[-2:], val_value]
                smoothed = float(np.mean(recent))
                if np.isfinite(smoothed) and smoothed > best[0]:
                    best = (smoothed, step, copy.deepcopy(critic.state_dict()))
        critic.load_state_dict(best[2])
        self.critic_ = critic
        self.curve_ = curve
        self.best_step_ = int(best[1])
        self.mi_validation_ = float(best[0])

    def _heldout(self, torch: Any, critic: Any, x: Any, y: Any) -> tuple[float, float, float]:
        m = min(x.shape[0], int(self.max_eval_samples))
        critic.eval()
        with torch.no_grad():
            rows = [critic.scores(x[i : min(i + 256, m)], y[:m])[0] for i in range(0, m, 256)]
            F = torch.cat(rows, dim=0).double().cpu().numpy()
        return _heldout_bound(F, self.bound, self.clip)

    def _evaluate_final(
        self,
        torch: Any,
        critic: Any,
        xs: dict[str, Any],
        ys: dict[str, Any],
        batch: int,
        rng: np.random.RandomState,
    ) -> None:
        value, se, ceiling = self._heldout(torch, critic, xs["test"], ys["test"])
        m = min(xs["test"].shape[0], int(self.max_eval_samples))
        sub = torch.as_tensor(rng.permutation(xs["train"].shape[0])[:m], device=self.device)
        train_value = self._heldout(torch, critic, xs["train"][sub], ys["train"][sub])[0]
        self.mi_, self.stderr_, self.ceiling_ = value, se, ceiling
        self.mi_train_ = train_value
        messages: list[str] = []
        # Training-batch values, smoothed over the last three evaluations.
        batch_values = [c[1] for c in self.curve_[-3:]]
        last_batch_value = float(np.mean(batch_values)) if batch_values else math.nan
        batch_ceiling = math.log(batch)
        # A critic trained on batches of B pairs cannot certify more than log B nats with
        # InfoNCE, so both the training value and the held-out value are compared with
        # min(log B, log M); within 20 % of it the bound is saturated and biased low.
        ceiling_used = min(ceiling, batch_ceiling)
        at_ceiling = self.bound == "infonce" and (
            value >= 0.8 * ceiling_used or last_batch_value >= 0.8 * batch_ceiling
        )
        if at_ceiling:
            messages.append(
                f"InfoNCE is at its log(batch) ceiling (held-out {value:.3f}, training "
                f"batches {last_batch_value:.3f}, log(batch) = {batch_ceiling:.3f}, "
                f"log(M) = {ceiling:.3f}): the true MI may be much larger; use a larger "
                "batch or method='smile'"
            )
        overfit = train_value - value > 3 * se + 0.1 * max(abs(value), 0.5)
        if overfit:
            messages.append(
                f"the critic overfits: training estimate {train_value:.3f} vs held-out "
                f"{value:.3f} (s.e. {se:.3f}); use fewer steps, a smaller network or more data"
            )
        self.diagnostics_ = {
            "bound": self.bound,
            "critic": self.critic,
            "train_value": train_value,
            "validation_value": self.mi_validation_,
            "best_step": self.best_step_,
            "ceiling": ceiling,
            "batch_ceiling": batch_ceiling,
            "at_ceiling": bool(at_ceiling),
            "overfit": bool(overfit),
            "warnings": messages,
        }

    def check_is_fitted(self) -> None:
        """Raise :class:`NotFittedError` before :meth:`fit`."""
        if not hasattr(self, "mi_"):
            raise NotFittedError("NeuralMIEstimator is not fitted yet; call fit(X, Y) first")


def neural_mi(X: Any, Y: Any, bound: str = "infonce", **params: Any) -> float:
    """Held-out variational lower bound on I(X;Y) in nats (see :class:`NeuralMIEstimator`).

    Examples
    --------
    >>> from subspacekit.measure.mi_samplers import CorrelatedGaussian
    >>> X, Y = CorrelatedGaussian([0.8]).sample(600, random_state=2)  # I = 0.511 nats
    >>> value = neural_mi(X, Y, "nwj", hidden_sizes=(16,), max_steps=20, random_state=0)
    >>> value < 0.511 + 0.2
    True
    """
    return NeuralMIEstimator(bound, **params).fit(X, Y).mi_
