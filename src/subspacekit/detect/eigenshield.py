r"""EigenShield: filter embeddings through their random-matrix "causal" subspace.

EigenShield (Darabi et al., 2025) defends a model against adversarial inputs without
retraining it. On clean calibration embeddings :math:`X` (n x d) of some layer:

1. the covariance eigenvalues above the Marchenko–Pastur bulk edge
   :math:`\hat\sigma^2(1+\sqrt{d/n})^2` (plus a Tracy–Widom margin) are the *spikes*,
   the directions that carry structure rather than noise;
2. each spike :math:`u_i` gets a robustness-based nonconformity score, how much its
   coordinate moves under a perturbation :math:`\pi` relative to its size,
   :math:`\mathrm{RbNS}_i = \operatorname{agg}_x |u_i^\top(\pi(x)-x)| / |u_i^\top(x-\mu)|`;
3. the spikes scoring at most the ``quantile`` of the scores form the *causal*
   subspace :math:`U_C`; the other spikes and the whole bulk are dropped;
4. at inference, embeddings are replaced by :math:`\mu + U_C U_C^\top (x-\mu)`.

The spectral work is :func:`subspacekit.estimate.rmt.causal_split`; this module wraps
it as a scikit-learn transformer that also filters torch tensors, builds a
``torch.nn.Module`` and installs itself as a forward hook on any layer.

The RbNS formula is reconstructed from the paper's summary (no code was public): see
the specs. The defence is meant against perturbations crafted without knowledge of
the filter; an attacker who differentiates through the (linear) filter is weakened
less.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from subspacekit.core import Subspace
from subspacekit.core.backend import import_optional, is_torch_tensor
from subspacekit.errors import DimensionMismatchError, NotFittedError
from subspacekit.estimate.rmt import CausalSplit, causal_split, spiked_components
from subspacekit.validation import check_array

__all__ = ["EigenShield"]


class EigenShield(TransformerMixin, BaseEstimator):
    r"""Project embeddings onto their robust ("causal") random-matrix spike subspace.

    Parameters
    ----------
    perturbation : float, array, callable or None, default None
        :math:`\pi`. A float is the standard deviation of additive Gaussian noise on
        the embeddings; an array of shape (n, d) holds perturbed versions of the
        calibration rows (e.g. embeddings of noisy or attacked inputs); a callable maps
        ``(X, rng)`` to perturbed rows. ``None`` uses Gaussian noise at the estimated
        bulk noise level :math:`\hat\sigma`.
    quantile : float in [0, 1], default 0.9
        Spikes whose score is at most this quantile of the scores are kept; 1 keeps
        every spike.
    aggregate : {"median", "mean"}, default "median"
        Average of the per-sample score ratios (the paper's is the mean; the median is
        robust to coordinates near zero).
    alpha : float or None, default 0.01
        Tracy–Widom false-positive rate of the spike test (None: the bare MP edge).
    noise_variance : float, optional
        Known bulk noise variance; estimated from the median eigenvalue otherwise.
    standardize : bool, default False
        Analyse the correlation instead of the covariance matrix.
    random_state : int, RandomState or None
        Seed of the Gaussian perturbation.

    Attributes
    ----------
    split_ : CausalSplit
        Spikes, scores and the causal mask (see :func:`~subspacekit.estimate.causal_split`).
    mean_, scale_ : ndarray of shape (n_features,)
        Centring and (ones unless ``standardize``) scaling.
    components_ : ndarray of shape (n_causal_, n_features)
        Orthonormal causal directions (rows), in standardised units.
    n_spikes_, n_causal_ : int
        Number of spikes above the edge and of causal ones kept.
    edge_, noise_variance_ : float
        Threshold on the eigenvalues and the bulk noise variance.
    scores_ : ndarray of shape (n_spikes_,)
        Robustness-based nonconformity score of each spike.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> signal = np.linalg.qr(rng.standard_normal((40, 4)))[0]
    >>> clean = rng.standard_normal((1000, 4)) * [6.0, 5.0, 4.0, 3.0] @ signal.T
    >>> X = clean + rng.standard_normal((1000, 40))  # isotropic noise in all 40 dims
    >>> shield = EigenShield(quantile=1.0, random_state=0).fit(X)
    >>> shield.n_spikes_, shield.n_causal_
    (4, 4)
    >>> before = np.linalg.norm(X - clean, axis=1).mean()
    >>> after = np.linalg.norm(shield.transform(X) - clean, axis=1).mean()
    >>> bool(after < 0.5 * before)  # the noise off the 4 spikes is removed
    True
    """

    def __init__(
        self,
        perturbation: float | np.ndarray | Callable[..., Any] | None = None,
        *,
        quantile: float = 0.9,
        aggregate: str = "median",
        alpha: float | None = 0.01,
        noise_variance: float | None = None,
        standardize: bool = False,
        random_state: Any = None,
    ) -> None:
        self.perturbation = perturbation
        self.quantile = quantile
        self.aggregate = aggregate
        self.alpha = alpha
        self.noise_variance = noise_variance
        self.standardize = standardize
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> EigenShield:
        """Find the spikes of the calibration embeddings ``X`` (n, d) and keep the robust ones."""
        A = check_array(X, "X", min_samples=3)
        perturbation = self.perturbation
        noise_variance = self.noise_variance
        if perturbation is None:
            spectrum = spiked_components(
                A, noise_variance=noise_variance, alpha=self.alpha, standardize=self.standardize
            )
            noise_variance = spectrum.noise_variance
            # Noise as strong as the bulk: a direction whose coordinate it moves a lot
            # relative to its spread is no more robust than noise itself.
            perturbation = float(np.sqrt(noise_variance) * np.mean(spectrum.scale))
        split = causal_split(
            A,
            perturbation,
            quantile=self.quantile,
            aggregate=self.aggregate,
            alpha=self.alpha,
            noise_variance=noise_variance,
            standardize=self.standardize,
            random_state=self.random_state,
        )
        self._set_split(split, A.shape[1])
        return self

    def _set_split(self, split: CausalSplit, n_features: int) -> None:
        spectrum = split.spectrum
        self.split_ = split
        self.mean_ = spectrum.mean
        self.scale_ = spectrum.scale
        self.components_ = np.ascontiguousarray(split.causal_components.T)
        self.n_spikes_ = spectrum.n_spikes
        self.n_causal_ = split.n_causal
        self.edge_ = spectrum.edge
        self.noise_variance_ = spectrum.noise_variance
        self.scores_ = split.scores
        self.n_features_in_ = n_features

    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise NotFittedError("This EigenShield instance is not fitted yet; call fit(X) first")

    @property
    def subspace_(self) -> Subspace:
        """The causal subspace (affine, through ``mean_``) in the units of the fit."""
        self._check_fitted()
        return Subspace._from_orthonormal(
            self.components_.T,
            mean=None if self.standardize else self.mean_,
            meta={"method": "EigenShield", "quantile": self.quantile, "n_spikes": self.n_spikes_},
        )

    def transform(self, X: Any) -> Any:
        r""":math:`\mu + D U_C U_C^\top D^{-1}(x - \mu)` for each row (numpy in, numpy out;
        a torch tensor stays a torch tensor on its device, with gradients)."""
        self._check_fitted()
        if is_torch_tensor(X):
            return self._transform_torch(X)
        A = check_array(X, "X", ndim=(1, 2))
        if A.shape[-1] != self.n_features_in_:
            raise DimensionMismatchError(
                f"X has {A.shape[-1]} features, but EigenShield is expecting "
                f"{self.n_features_in_} features as input"
            )
        U = self.components_.T.astype(A.dtype, copy=False)
        Z = (A - self.mean_.astype(A.dtype)) / self.scale_.astype(A.dtype)
        return self.mean_.astype(A.dtype) + ((Z @ U) @ U.T) * self.scale_.astype(A.dtype)

    def _transform_torch(self, X: Any) -> Any:
        torch = import_optional("torch", "torch")
        if X.shape[-1] != self.n_features_in_:
            raise DimensionMismatchError(
                f"X has {X.shape[-1]} features, but EigenShield is expecting "
                f"{self.n_features_in_} features as input"
            )
        kw = {"dtype": X.dtype, "device": X.device}
        U = torch.as_tensor(self.components_.T, **kw)
        mean = torch.as_tensor(self.mean_, **kw)
        scale = torch.as_tensor(self.scale_, **kw)
        return mean + (((X - mean) / scale) @ U) @ U.T * scale

    def as_module(self) -> Any:
        """A ``torch.nn.Module`` applying the filter to its input's last axis.

        Put it in front of a classifier (``nn.Sequential(shield.as_module(), model)``)
        or between two layers. The module holds the filter as buffers and is
        differentiable, so adaptive attacks can be run through it.
        """
        self._check_fitted()
        torch = import_optional("torch", "torch")
        return _make_filter_module(torch, self.mean_, self.scale_, self.components_)

    def register_hook(self, module: Any) -> Any:
        """Filter the output of ``module`` (a ``torch.nn.Module``) on every forward pass.

        Returns the hook handle; call ``handle.remove()`` to take the filter out.
        """
        self._check_fitted()

        def hook(_module: Any, _inputs: Any, output: Any) -> Any:
            return self._transform_torch(output)

        return module.register_forward_hook(hook)


def _make_filter_module(
    torch: Any, mean: np.ndarray, scale: np.ndarray, components: np.ndarray
) -> Any:
    class SubspaceFilter(torch.nn.Module):
        """x -> mean + D U U^T D^-1 (x - mean)."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
            self.register_buffer("basis", torch.as_tensor(components.T, dtype=torch.float32))

        def forward(self, x: Any) -> Any:
            z = (x - self.mean) / self.scale
            return self.mean + (z @ self.basis) @ self.basis.T * self.scale

    return SubspaceFilter()
