"""Joint distributions with known mutual information, for testing MI estimators.

Every sampler has ``sample(n_samples, random_state) -> (X, Y)`` with ``X`` of shape
``(n_samples, dim_x)`` and ``Y`` of shape ``(n_samples, dim_y)``, and a
``mutual_information`` attribute holding the exact value of I(X;Y) in nats. The families
follow the "Beyond Normal" benchmark (Czyż et al., NeurIPS 2023):

* :class:`CorrelatedGaussian` — canonical-form Gaussians, I = -½ Σ log(1 - ρ_i²);
* :class:`JointGaussian` — any joint covariance, I = ½ (log|Σ_xx| + log|Σ_yy| - log|Σ|);
* :class:`StudentT` — multivariate Student-t (heavy tails; dependent even when uncorrelated);
* :class:`Embedded` — a low-dimensional pair pushed into high dimension by a fixed injective
  map (linear, or a tanh MLP as in Abdelaleem et al. 2025);
* :class:`Transformed` — elementwise invertible transforms (half-cube, asinh, normal CDF,
  "wiggly" sine perturbations), which leave the mutual information unchanged;
* :class:`SmearedDiscrete` and :class:`GaussianWithAtoms` — discrete and mixed
  discrete-continuous pairs (Gao et al., NeurIPS 2017);
* :class:`GaussianClasses` — class labels with Gaussian class-conditionals, for
  classifier-based estimators (MI by one-dimensional quadrature).

Mutual information is invariant under injective maps applied separately to X and to Y,
which is what makes the embedded and transformed families exact.

Examples
--------
>>> task = CorrelatedGaussian([0.9])
>>> round(task.mutual_information, 4)
0.8304
>>> X, Y = task.sample(1000, random_state=0)
>>> X.shape, Y.shape
((1000, 1), (1000, 1))
>>> round(Transformed(task, "asinh", "half_cube").mutual_information, 4)
0.8304
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import integrate, special, stats

from subspacekit.core.validation import check_random_state
from subspacekit.errors import ValidationError

__all__ = [
    "TRANSFORMS",
    "CorrelatedGaussian",
    "Embedded",
    "GaussianClasses",
    "GaussianWithAtoms",
    "JointGaussian",
    "MISampler",
    "SmearedDiscrete",
    "StudentT",
    "Transformed",
    "half_cube",
    "normal_cdf",
    "wiggly",
]


class MISampler(ABC):
    """A joint distribution of (X, Y) whose mutual information is known exactly.

    Attributes
    ----------
    dim_x, dim_y : int
        Dimensions of X and Y.
    mutual_information : float
        I(X;Y) in nats.
    """

    dim_x: int
    dim_y: int

    @property
    @abstractmethod
    def mutual_information(self) -> float:
        """I(X;Y) in nats."""

    @abstractmethod
    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` pairs with ``rng``."""

    def sample(self, n_samples: int, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` i.i.d. pairs.

        Parameters
        ----------
        n_samples : int
            Number of pairs.
        random_state : int, RandomState or None
            Seed; the same seed gives the same sample.

        Returns
        -------
        X : ndarray of shape (n_samples, dim_x)
        Y : ndarray of shape (n_samples, dim_y)
        """
        if int(n_samples) != n_samples or n_samples < 1:
            raise ValidationError(f"n_samples must be a positive integer; got {n_samples!r}")
        return self._sample(int(n_samples), check_random_state(random_state))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dim_x={self.dim_x}, dim_y={self.dim_y}, "
            f"mutual_information={self.mutual_information:.4f})"
        )


def _check_correlations(correlations: Sequence[float] | np.ndarray) -> np.ndarray:
    rho = np.atleast_1d(np.asarray(correlations, dtype=float))
    if rho.ndim != 1 or rho.size == 0:
        raise ValidationError(
            f"correlations must be a non-empty 1-D sequence; got shape {rho.shape}"
        )
    if not np.all(np.isfinite(rho)) or np.any(np.abs(rho) >= 1):
        raise ValidationError(f"correlations must lie strictly inside (-1, 1); got {rho.tolist()}")
    return rho


def _check_dims(n_pairs: int, dim_x: int | None, dim_y: int | None) -> tuple[int, int]:
    dx = n_pairs if dim_x is None else int(dim_x)
    dy = n_pairs if dim_y is None else int(dim_y)
    if dx < n_pairs or dy < n_pairs:
        raise ValidationError(
            f"dim_x and dim_y must be at least the number of correlated pairs ({n_pairs}); "
            f"got dim_x={dx}, dim_y={dy}"
        )
    return dx, dy


def _random_orthogonal(d: int, rng: np.random.RandomState) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


class CorrelatedGaussian(MISampler):
    """Gaussian pair in canonical form: coordinate pairs (X_i, Y_i) with correlation ρ_i.

    X and Y are standard normal; ``X[:, i]`` and ``Y[:, i]`` have correlation
    ``correlations[i]`` for ``i < len(correlations)``, every other pair of coordinates is
    independent. Then

    .. math:: I(X;Y) = -\\tfrac12 \\sum_i \\log(1 - \\rho_i^2).

    With ``rotation_seed`` set, X and Y are multiplied by fixed random orthogonal matrices,
    which spreads the dependence over all coordinates without changing the MI.

    Parameters
    ----------
    correlations : sequence of float
        Canonical correlations, each in (-1, 1).
    dim_x, dim_y : int, optional
        Dimensions (default: the number of correlations); extra coordinates are
        independent noise.
    rotation_seed : int, optional
        Seed of the fixed rotations (None: no rotation).

    Examples
    --------
    >>> round(CorrelatedGaussian([0.8, 0.5], dim_x=3).mutual_information, 4)
    0.6547
    >>> round(CorrelatedGaussian.from_mutual_information(1.0, n_pairs=2).mutual_information, 6)
    1.0
    """

    def __init__(
        self,
        correlations: Sequence[float] | np.ndarray,
        dim_x: int | None = None,
        dim_y: int | None = None,
        rotation_seed: int | None = None,
    ) -> None:
        self.correlations = _check_correlations(correlations)
        self.dim_x, self.dim_y = _check_dims(self.correlations.size, dim_x, dim_y)
        self.rotation_seed = rotation_seed

    @classmethod
    def from_mutual_information(
        cls,
        mutual_information: float,
        n_pairs: int = 1,
        dim_x: int | None = None,
        dim_y: int | None = None,
        rotation_seed: int | None = None,
    ) -> CorrelatedGaussian:
        """Equal correlations ρ = sqrt(1 - exp(-2 I / n_pairs)) giving MI ``mutual_information``."""
        if not mutual_information > 0:
            raise ValidationError(f"mutual_information must be > 0; got {mutual_information!r}")
        rho = math.sqrt(-math.expm1(-2.0 * mutual_information / n_pairs))
        return cls([rho] * n_pairs, dim_x, dim_y, rotation_seed)

    @property
    def mutual_information(self) -> float:
        return float(-0.5 * np.sum(np.log1p(-(self.correlations**2))))

    def covariance(self) -> np.ndarray:
        """Joint covariance of (X, Y), shape (dim_x + dim_y, dim_x + dim_y)."""
        k = self.correlations.size
        cross = np.zeros((self.dim_x, self.dim_y))
        cross[np.arange(k), np.arange(k)] = self.correlations
        if self.rotation_seed is not None:
            qx, qy = self._rotations()
            cross = qx.T @ cross @ qy
        return np.block([[np.eye(self.dim_x), cross], [cross.T, np.eye(self.dim_y)]])

    def _rotations(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.RandomState(self.rotation_seed)
        return _random_orthogonal(self.dim_x, rng), _random_orthogonal(self.dim_y, rng)

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        k = self.correlations.size
        X = rng.standard_normal((n_samples, self.dim_x))
        noise = rng.standard_normal((n_samples, self.dim_y))
        Y = noise.copy()
        rho = self.correlations
        Y[:, :k] = rho * X[:, :k] + np.sqrt(1.0 - rho**2) * noise[:, :k]
        if self.rotation_seed is not None:
            qx, qy = self._rotations()
            X, Y = X @ qx, Y @ qy
        return X, Y


def _gaussian_mi_from_cov(cov: np.ndarray, dim_x: int) -> float:
    _, ld_x = np.linalg.slogdet(cov[:dim_x, :dim_x])
    _, ld_y = np.linalg.slogdet(cov[dim_x:, dim_x:])
    _, ld = np.linalg.slogdet(cov)
    return float(0.5 * (ld_x + ld_y - ld))


class JointGaussian(MISampler):
    """Zero-mean Gaussian (X, Y) with a given joint covariance.

    .. math:: I(X;Y) = \\tfrac12 (\\log|\\Sigma_{XX}| + \\log|\\Sigma_{YY}| - \\log|\\Sigma|).

    Parameters
    ----------
    covariance : array of shape (dim_x + dim_y, dim_x + dim_y)
        Symmetric positive-definite joint covariance, X first.
    dim_x : int
        Number of leading coordinates that form X.

    Examples
    --------
    >>> round(JointGaussian([[1.0, 0.9], [0.9, 1.0]], dim_x=1).mutual_information, 4)
    0.8304
    """

    def __init__(self, covariance: Any, dim_x: int) -> None:
        cov = np.asarray(covariance, dtype=float)
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise ValidationError(f"covariance must be a square matrix; got shape {cov.shape}")
        if not 0 < dim_x < cov.shape[0]:
            raise ValidationError(f"dim_x must be in [1, {cov.shape[0] - 1}]; got {dim_x}")
        if not np.allclose(cov, cov.T):
            raise ValidationError("covariance must be symmetric")
        try:
            self._chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as exc:
            raise ValidationError("covariance must be positive definite") from exc
        self.covariance = cov
        self.dim_x, self.dim_y = int(dim_x), int(cov.shape[0] - dim_x)

    @property
    def mutual_information(self) -> float:
        return _gaussian_mi_from_cov(self.covariance, self.dim_x)

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        Z = rng.standard_normal((n_samples, self.covariance.shape[0])) @ self._chol.T
        return Z[:, : self.dim_x], Z[:, self.dim_x :]


def _student_t_entropy_shift(dim: int, dof: float) -> float:
    # Differential entropy of a d-dimensional Student-t minus that of the Gaussian part
    # (the ½ log|Σ| term), i.e. the dimension/dof dependent constant.
    half = 0.5 * dof
    return float(
        special.gammaln(half)
        - special.gammaln(half + 0.5 * dim)
        + 0.5 * dim * math.log(dof * math.pi)
        + (half + 0.5 * dim) * (special.digamma(half + 0.5 * dim) - special.digamma(half))
    )


class StudentT(MISampler):
    """Multivariate Student-t pair with ``dof`` degrees of freedom.

    (X, Y) = G / sqrt(W / ν) with G a canonical-form Gaussian (see
    :class:`CorrelatedGaussian`) and W ~ χ²_ν shared by all coordinates, so X and Y are
    dependent even when ``correlations`` are all zero. With m = dim_x, k = dim_y, the
    entropies of the multivariate t give

    .. math::
        I = I_{\\text{Gauss}} + c(m) + c(k) - c(m + k),\\quad
        c(d) = \\log\\Gamma(\\tfrac\\nu2) - \\log\\Gamma(\\tfrac{\\nu+d}2)
        + \\tfrac{\\nu+d}{2}\\,[\\psi(\\tfrac{\\nu+d}2) - \\psi(\\tfrac\\nu2)]

    (the ``(νπ)^{d/2}`` factors cancel).

    Parameters
    ----------
    correlations : sequence of float
        Canonical correlations of the Gaussian part (zeros allowed).
    dof : float
        Degrees of freedom ν > 0.
    dim_x, dim_y : int, optional
        Dimensions (default: the number of correlations).

    Examples
    --------
    >>> round(StudentT([0.0], dof=1).mutual_information, 4)  # uncorrelated but dependent
    0.2242
    """

    def __init__(
        self,
        correlations: Sequence[float] | np.ndarray,
        dof: float,
        dim_x: int | None = None,
        dim_y: int | None = None,
    ) -> None:
        if not (np.isfinite(dof) and dof > 0):
            raise ValidationError(f"dof must be a positive finite number; got {dof!r}")
        self.gaussian = CorrelatedGaussian(correlations, dim_x, dim_y)
        self.dof = float(dof)
        self.dim_x, self.dim_y = self.gaussian.dim_x, self.gaussian.dim_y

    @property
    def mutual_information(self) -> float:
        m, k, nu = self.dim_x, self.dim_y, self.dof
        shift = (
            _student_t_entropy_shift(m, nu)
            + _student_t_entropy_shift(k, nu)
            - _student_t_entropy_shift(m + k, nu)
        )
        return self.gaussian.mutual_information + shift

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        X, Y = self.gaussian._sample(n_samples, rng)
        scale = np.sqrt(rng.chisquare(self.dof, size=(n_samples, 1)) / self.dof)
        return X / scale, Y / scale


class Embedded(MISampler):
    """A low-dimensional pair mapped into high dimension by fixed injective maps.

    ``X = e_x(U)``, ``Y = e_y(V)`` with (U, V) drawn from ``base``. Injective maps
    preserve mutual information, so I(X;Y) = I(U;V). Two embeddings:

    * ``"linear"``: ``x = A u`` with a random Gaussian ``A`` (ambient_dim × latent_dim),
      full column rank with probability one;
    * ``"mlp"``: ``x = W₂ tanh(W₁ u)`` with random Gaussian ``W₁`` (hidden × latent) and
      ``W₂`` (ambient × hidden), ``latent ≤ hidden ≤ ambient`` so both linear maps are
      injective and tanh is strictly monotone (the construction of Abdelaleem et al. 2025).

    Parameters
    ----------
    base : MISampler
        The latent pair.
    ambient_dim_x, ambient_dim_y : int
        Output dimensions.
    embedding : {"linear", "mlp"}
        Map family.
    hidden_dim : int, optional
        Width of the tanh layer (default ``min(ambient, 4 * latent)``, at least latent).
    seed : int
        Seed of the fixed random maps (part of the distribution, not of the sample).

    Examples
    --------
    >>> task = Embedded(CorrelatedGaussian.from_mutual_information(1.0, 2), 50, 50, "mlp")
    >>> X, Y = task.sample(10, random_state=0)
    >>> X.shape, round(task.mutual_information, 6)
    ((10, 50), 1.0)
    """

    def __init__(
        self,
        base: MISampler,
        ambient_dim_x: int,
        ambient_dim_y: int,
        embedding: str = "linear",
        hidden_dim: int | None = None,
        seed: int = 0,
    ) -> None:
        if embedding not in ("linear", "mlp"):
            raise ValidationError(f"embedding must be 'linear' or 'mlp'; got {embedding!r}")
        if ambient_dim_x < base.dim_x or ambient_dim_y < base.dim_y:
            raise ValidationError(
                f"ambient dimensions ({ambient_dim_x}, {ambient_dim_y}) must be at least the "
                f"latent dimensions ({base.dim_x}, {base.dim_y}) for the map to be injective"
            )
        self.base, self.embedding, self.seed = base, embedding, seed
        self.dim_x, self.dim_y = int(ambient_dim_x), int(ambient_dim_y)
        rng = np.random.RandomState(seed)
        self._maps = [
            self._make_map(latent, ambient, hidden_dim, rng)
            for latent, ambient in ((base.dim_x, self.dim_x), (base.dim_y, self.dim_y))
        ]

    def _make_map(
        self, latent: int, ambient: int, hidden: int | None, rng: np.random.RandomState
    ) -> Callable[[np.ndarray], np.ndarray]:
        if self.embedding == "linear":
            A = rng.standard_normal((latent, ambient)) / math.sqrt(latent)
            return lambda u: u @ A
        h = min(ambient, 4 * latent) if hidden is None else int(hidden)
        if not latent <= h <= ambient:
            raise ValidationError(f"hidden_dim must be in [{latent}, {ambient}]; got {h}")
        W1 = rng.standard_normal((latent, h)) / math.sqrt(latent)
        W2 = rng.standard_normal((h, ambient)) / math.sqrt(h)
        return lambda u: np.tanh(u @ W1) @ W2

    @property
    def mutual_information(self) -> float:
        return self.base.mutual_information

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        U, V = self.base._sample(n_samples, rng)
        return self._maps[0](U), self._maps[1](V)


def half_cube(x: np.ndarray) -> np.ndarray:
    """Half-cube map ``sign(x)|x|^{3/2}``, strictly increasing (Beyond Normal).

    Examples
    --------
    >>> half_cube(np.array([-4.0, 0.0, 4.0]))
    array([-8.,  0.,  8.])
    """
    return np.sign(x) * np.abs(x) ** 1.5


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF, strictly increasing; maps a Gaussian margin to a uniform one.

    Examples
    --------
    >>> float(normal_cdf(np.array(0.0)))
    0.5
    """
    return stats.norm.cdf(x)


def wiggly(x: np.ndarray) -> np.ndarray:
    """Sine-perturbed identity ``x + 0.3 sin(x) + 0.15 sin(1.7x + 1) + 0.07 sin(4x + 2)``.

    Strictly increasing: its derivative is at least ``1 - (0.3 + 0.255 + 0.28) = 0.165``.
    A "wiggly" map in the spirit of Beyond Normal: monotone but far from affine locally.

    Examples
    --------
    >>> bool(np.all(np.diff(wiggly(np.linspace(-5, 5, 10001))) > 0))
    True
    """
    return x + 0.3 * np.sin(x) + 0.15 * np.sin(1.7 * x + 1.0) + 0.07 * np.sin(4.0 * x + 2.0)


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda x: x,
    "half_cube": half_cube,
    "asinh": np.arcsinh,
    "normal_cdf": normal_cdf,
    "wiggly": wiggly,
}


class Transformed(MISampler):
    """Apply a strictly monotone map to every coordinate of X and/or Y.

    Elementwise strictly monotone maps are injective, so the MI of ``base`` is kept.

    Parameters
    ----------
    base : MISampler
        The untransformed pair.
    transform_x, transform_y : str or callable
        One of ``TRANSFORMS`` (``"identity"``, ``"half_cube"``, ``"asinh"``,
        ``"normal_cdf"``, ``"wiggly"``) or a user callable, which must be strictly
        monotone for the stated MI to hold.

    Examples
    --------
    >>> task = Transformed(CorrelatedGaussian([0.5]), "normal_cdf", "wiggly")
    >>> X, Y = task.sample(5, random_state=0)
    >>> bool(np.all((X > 0) & (X < 1)))
    True
    """

    def __init__(
        self,
        base: MISampler,
        transform_x: str | Callable[[np.ndarray], np.ndarray] = "identity",
        transform_y: str | Callable[[np.ndarray], np.ndarray] = "identity",
    ) -> None:
        self.base = base
        self.transforms = [self._resolve(t) for t in (transform_x, transform_y)]
        self.names = [
            t if isinstance(t, str) else getattr(t, "__name__", "callable")
            for t in (transform_x, transform_y)
        ]
        self.dim_x, self.dim_y = base.dim_x, base.dim_y

    @staticmethod
    def _resolve(t: str | Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        if callable(t):
            return t
        if t not in TRANSFORMS:
            raise ValidationError(f"transform must be one of {sorted(TRANSFORMS)}; got {t!r}")
        return TRANSFORMS[t]

    @property
    def mutual_information(self) -> float:
        return self.base.mutual_information

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        X, Y = self.base._sample(n_samples, rng)
        return self.transforms[0](X), self.transforms[1](Y)


class SmearedDiscrete(MISampler):
    """Discrete X uniform on {0, …, m-1}, continuous Y | X ~ Uniform[X, X + width].

    The experiment of Gao et al. (2017, Fig. 2). For integer width w, the density of Y is
    piecewise constant on unit intervals, ``c_j / (m w)`` on ``[j, j+1)`` with ``c_j`` the
    number of x whose window covers it, so

    .. math:: I = h(Y) - \\log w = -\\sum_j \\frac{c_j}{mw}\\log\\frac{c_j}{mw} - \\log w,

    which for w = 2 is ``log m - (m - 1) log 2 / m``.

    Parameters
    ----------
    n_levels : int
        m ≥ 2.
    width : int
        Integer window width w ≥ 1.

    Examples
    --------
    >>> task = SmearedDiscrete(5, 2)
    >>> round(task.mutual_information, 4), round(float(np.log(5) - 4 / 5 * np.log(2)), 4)
    (1.0549, 1.0549)
    """

    def __init__(self, n_levels: int = 5, width: int = 2) -> None:
        if int(n_levels) != n_levels or n_levels < 2:
            raise ValidationError(f"n_levels must be an integer >= 2; got {n_levels!r}")
        if int(width) != width or width < 1:
            raise ValidationError(f"width must be a positive integer; got {width!r}")
        self.n_levels, self.width = int(n_levels), int(width)
        self.dim_x = self.dim_y = 1

    @property
    def mutual_information(self) -> float:
        m, w = self.n_levels, self.width
        j = np.arange(m + w - 1)
        covers = np.minimum(j, m - 1) - np.maximum(j - w + 1, 0) + 1
        p = covers / (m * w)  # density on each unit interval (which has length 1)
        return float(-np.sum(p * np.log(p)) - math.log(w))

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        X = rng.randint(0, self.n_levels, size=n_samples).astype(float)
        Y = X + self.width * rng.uniform(size=n_samples)
        return X[:, None], Y[:, None]


class GaussianWithAtoms(MISampler):
    """Mixture of a correlated Gaussian pair and two atoms (a mixed distribution).

    With probability ``1 - p`` (X, Y) is a standard bivariate Gaussian with correlation ρ;
    with probability p, X = Y = S with S uniform on {-1, +1} (point masses). The
    indicator Z of the atom is a function of X alone and of Y alone (almost surely), so

    .. math:: I = H_b(p) + (1 - p)\\,(-\\tfrac12\\log(1-\\rho^2)) + p\\log 2,

    with H_b the binary entropy. No (differential) entropy of X, Y or (X, Y) exists here,
    which is the case the mixed estimator of Gao et al. (2017) was designed for.

    Parameters
    ----------
    rho : float
        Correlation of the continuous part.
    atom_probability : float
        p in (0, 1).

    Examples
    --------
    >>> round(GaussianWithAtoms(0.0, 0.5).mutual_information, 4)  # 1.5 log 2
    1.0397
    """

    def __init__(self, rho: float = 0.8, atom_probability: float = 0.3) -> None:
        _check_correlations([rho])
        if not 0 < atom_probability < 1:
            raise ValidationError(f"atom_probability must be in (0, 1); got {atom_probability!r}")
        self.rho, self.atom_probability = float(rho), float(atom_probability)
        self.dim_x = self.dim_y = 1

    @property
    def mutual_information(self) -> float:
        p, rho = self.atom_probability, self.rho
        binary_entropy = -p * math.log(p) - (1 - p) * math.log1p(-p)
        return binary_entropy + (1 - p) * (-0.5 * math.log1p(-(rho**2))) + p * math.log(2)

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal(n_samples)
        y = self.rho * x + math.sqrt(1 - self.rho**2) * rng.standard_normal(n_samples)
        atom = rng.uniform(size=n_samples) < self.atom_probability
        s = np.where(rng.uniform(size=n_samples) < 0.5, -1.0, 1.0)
        x[atom], y[atom] = s[atom], s[atom]
        return x[:, None], y[:, None]


class GaussianClasses(MISampler):
    """Class label Y and features X | Y=c ~ N(c · separation · e₁, I_d).

    Only the first coordinate carries information (the means lie on a line and the
    covariance is isotropic), so I(X;Y) = I(X₁;Y), computed by adaptive quadrature of
    ``H(Y) - E[H(Y | X₁)]`` to about 1e-8. Y is returned as a float column of labels
    ``0, …, n_classes-1``. The Bayes posterior is a softmax of a linear function of X,
    so a multinomial logistic regression is a well-specified classifier for it.

    Parameters
    ----------
    n_classes : int
        Number of classes (≥ 2).
    separation : float
        Distance between consecutive class means.
    dim : int
        Dimension of X.
    weights : sequence of float, optional
        Class probabilities (default uniform).

    Examples
    --------
    >>> round(GaussianClasses(2, separation=100.0).mutual_information, 4)  # log 2
    0.6931
    """

    def __init__(
        self,
        n_classes: int = 3,
        separation: float = 2.0,
        dim: int = 1,
        weights: Sequence[float] | None = None,
    ) -> None:
        if int(n_classes) != n_classes or n_classes < 2:
            raise ValidationError(f"n_classes must be an integer >= 2; got {n_classes!r}")
        w = np.full(n_classes, 1.0 / n_classes) if weights is None else np.asarray(weights, float)
        if w.shape != (n_classes,) or np.any(w <= 0) or not np.isclose(w.sum(), 1.0):
            raise ValidationError("weights must be n_classes positive numbers summing to 1")
        self.n_classes, self.separation, self.weights = int(n_classes), float(separation), w
        self.dim_x, self.dim_y = int(dim), 1

    @property
    def mutual_information(self) -> float:
        means = self.separation * np.arange(self.n_classes)
        logw = np.log(self.weights)

        def integrand(x: float) -> float:
            logjoint = logw + stats.norm.logpdf(x - means)
            logpx = special.logsumexp(logjoint)
            post = np.exp(logjoint - logpx)
            # p(x) * Σ_c p(c|x) log p(c|x)
            return float(np.exp(logpx) * np.sum(post * (logjoint - logpx)))

        lo, hi = means[0] - 12.0, means[-1] + 12.0
        breaks = list(np.linspace(lo, hi, 4 * self.n_classes + 1)[1:-1])
        neg_cond_entropy, _ = integrate.quad(integrand, lo, hi, points=breaks, limit=500)
        return float(-np.sum(self.weights * logw) + neg_cond_entropy)

    def _sample(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.choice(self.n_classes, size=n_samples, p=self.weights)
        X = rng.standard_normal((n_samples, self.dim_x))
        X[:, 0] += self.separation * labels
        return X, labels[:, None].astype(float)
