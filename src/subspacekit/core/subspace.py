"""The :class:`Subspace` value type: a (possibly affine) linear subspace of R^d."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from subspacekit.core.angles import grassmann_distance, principal_angles, principal_vectors
from subspacekit.core.backend import BACKENDS, import_optional, is_torch_tensor, to_numpy
from subspacekit.core.io import read_arrays, write_arrays
from subspacekit.core.linalg import orthogonal_complement, orthonormalize, polar_factor
from subspacekit.core.validation import check_array, check_positive, check_random_state
from subspacekit.errors import DimensionMismatchError, NonFiniteError, ShapeError, ValidationError

__all__ = ["Subspace"]

_FORMAT = "subspacekit.Subspace"
_FORMAT_VERSION = 1


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


class Subspace:
    r"""An immutable k-dimensional (affine) subspace of R^d.

    The subspace is :math:`\{\mu + B c : c \in R^k\}` with an orthonormal basis ``B``
    (d x k) and an optional offset ``mean`` :math:`\mu`; ``scales`` (k,) optionally
    record the spread along each basis direction (e.g. PCA standard deviations) and
    ``meta`` records how the subspace was found. Everything else derives from these.

    Build one with :meth:`from_basis`, :meth:`from_directions` or :meth:`random`;
    estimators in :mod:`subspacekit.estimate` return them as ``subspace_``.

    Samples are rows: ``project(X)`` maps (n, d) to (n, k) coordinates. Methods accept
    numpy arrays or torch tensors and return the same kind. A float32 basis stays
    float32; the geometry (angles, distances, sum, intersection) is always computed
    in float64.

    Examples
    --------
    >>> S = Subspace.from_basis([[1.0], [1.0], [0.0]])
    >>> S
    Subspace(dim=1, ambient_dim=3, dtype=float64)
    >>> S.project([[2.0, 0.0, 5.0]]).round(6)
    array([[1.414214]])
    >>> S.residual([[2.0, 0.0, 5.0]]).round(6)
    array([5.196152])
    >>> T = Subspace.from_basis([[1.0], [0.0], [0.0]])
    >>> round(float(S.angles(T)[0]), 6)  # pi / 4
    0.785398
    """

    __slots__ = ("_backend", "_basis", "_basis64", "_mean", "_meta", "_scales")
    _backend: str
    _basis: Any
    _basis64: np.ndarray
    _mean: Any
    _meta: Mapping[str, Any]
    _scales: Any

    def __init__(
        self,
        basis: Any,
        mean: Any = None,
        scales: Any = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        B = check_array(basis, "basis", min_samples=1, min_features=0)
        Q = orthonormalize(B, name="basis")
        self._init(Q, mean, scales, meta, B.dtype)

    def _init(
        self, Q: np.ndarray, mean: Any, scales: Any, meta: Mapping[str, Any] | None, dtype: Any
    ) -> None:
        d, k = Q.shape
        set_ = object.__setattr__
        set_(self, "_basis64", _frozen(Q))
        set_(self, "_basis", _frozen(Q.astype(dtype, copy=False)))
        if mean is not None:
            m = check_array(mean, "mean", ndim=1)
            if m.shape != (d,):
                raise DimensionMismatchError(f"mean must have shape ({d},); got {m.shape}")
            mean = _frozen(m.astype(dtype, copy=False))
        set_(self, "_mean", mean)
        if scales is not None:
            s = check_array(scales, "scales", ndim=1, min_samples=0)
            if s.shape != (k,):
                raise DimensionMismatchError(f"scales must have shape ({k},); got {s.shape}")
            if np.any(s < 0):
                raise ValidationError(f"scales must be non-negative; got {s}")
            scales = _frozen(s.astype(dtype, copy=False))
        set_(self, "_scales", scales)
        set_(self, "_meta", MappingProxyType(dict(meta or {})))
        set_(self, "_backend", "numpy")

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_basis(
        cls, basis: Any, mean: Any = None, scales: Any = None, meta: Mapping[str, Any] | None = None
    ) -> Subspace:
        """Subspace spanned by the columns of ``basis`` (d x k), orthonormalised.

        Raises :class:`~subspacekit.errors.RankError` when the columns are linearly
        dependent and :class:`~subspacekit.errors.NonFiniteError` on NaN/inf.

        Examples
        --------
        >>> Subspace.from_basis(np.eye(4)[:, :2]).dim
        2
        """
        return cls(basis, mean=mean, scales=scales, meta=meta)

    @classmethod
    def from_directions(
        cls, *directions: Any, mean: Any = None, meta: Mapping[str, Any] | None = None
    ) -> Subspace:
        """Subspace spanned by one or more direction vectors of length d.

        Examples
        --------
        >>> Subspace.from_directions([1.0, 0.0, 0.0], [1.0, 1.0, 0.0]).dim
        2
        """
        if not directions:
            raise ValidationError("from_directions needs at least one direction; got none")
        vecs = [check_array(v, f"directions[{i}]", ndim=1) for i, v in enumerate(directions)]
        sizes = {v.shape[0] for v in vecs}
        if len(sizes) != 1:
            raise DimensionMismatchError(f"directions must share one length; got {sorted(sizes)}")
        return cls(np.stack(vecs, axis=1), mean=mean, meta=meta)

    @classmethod
    def random(cls, ambient_dim: int, dim: int, random_state: Any = None) -> Subspace:
        """A uniformly (Haar) distributed random ``dim``-dimensional subspace of R^ambient_dim.

        The span of a d x k standard Gaussian matrix ``G`` is Haar distributed on the
        Grassmannian (its law is invariant under every rotation of R^d), and so is the
        basis: the polar factor of ``QG`` is ``Q`` times the polar factor of ``G``.

        Examples
        --------
        >>> S = Subspace.random(10, 3, random_state=0)
        >>> S.dim, S.ambient_dim
        (3, 10)
        """
        if not (isinstance(ambient_dim, int | np.integer) and isinstance(dim, int | np.integer)):
            raise ValidationError(
                f"ambient_dim and dim must be integers; got {ambient_dim!r}, {dim!r}"
            )
        if not 0 <= dim <= ambient_dim or ambient_dim < 1:
            raise ShapeError(
                f"need 0 <= dim <= ambient_dim and ambient_dim >= 1; got {dim}, {ambient_dim}"
            )
        rng = check_random_state(random_state)
        G = rng.standard_normal((ambient_dim, dim))
        Q = polar_factor(G)
        return cls.from_orthonormal(Q, meta={"method": "random"})

    @classmethod
    def zero(cls, ambient_dim: int) -> Subspace:
        """The zero subspace {0} of R^ambient_dim (dimension 0).

        Examples
        --------
        >>> Subspace.zero(3).complement().dim
        3
        """
        return cls.from_orthonormal(np.zeros((ambient_dim, 0)))

    @classmethod
    def from_orthonormal(
        cls,
        Q: np.ndarray,
        mean: Any = None,
        scales: Any = None,
        meta: Mapping[str, Any] | None = None,
        dtype: Any = np.float64,
    ) -> Subspace:
        """Wrap a basis already known to be orthonormal, such as eigenvectors (no rank check).

        The cheap constructor for estimators whose basis comes out of an SVD or an
        eigen-decomposition; use :meth:`from_basis` for anything else.

        Examples
        --------
        >>> Subspace.from_orthonormal(np.eye(3)[:, :2]).dim
        2
        """
        obj = cls.__new__(cls)
        obj._init(np.asarray(Q, dtype=np.float64), mean, scales, meta, dtype)
        return obj

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The read-only views and the mappingproxy cannot be pickled as they are;
        # rebuild from plain copies (needed by joblib, sklearn.clone, multiprocessing).
        return (
            _rebuild,
            (
                np.array(self._basis64),
                None if self._mean is None else np.array(to_numpy(self._mean)),
                None if self._scales is None else np.array(to_numpy(self._scales)),
                dict(self._meta),
                str(to_numpy(self._basis).dtype),
                self._backend,
            ),
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Subspace is immutable; build a new one instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Subspace is immutable")

    # ------------------------------------------------------------------- properties
    @property
    def basis(self) -> Any:
        """Orthonormal basis, shape (d, k) (read-only numpy array or torch tensor)."""
        return self._basis

    @property
    def mean(self) -> Any:
        """Offset of an affine subspace, shape (d,), or None."""
        return self._mean

    @property
    def scales(self) -> Any:
        """Spread along each basis direction, shape (k,), or None."""
        return self._scales

    @property
    def meta(self) -> Mapping[str, Any]:
        """Read-only metadata: how the subspace was found."""
        return self._meta

    @property
    def dim(self) -> int:
        """Dimension k of the subspace."""
        return int(self._basis64.shape[1])

    @property
    def ambient_dim(self) -> int:
        """Dimension d of the ambient space."""
        return int(self._basis64.shape[0])

    @property
    def dtype(self) -> Any:
        """dtype of the stored basis."""
        return self._basis.dtype

    @property
    def backend(self) -> str:
        """``"numpy"`` or ``"torch"``: the kind of array :attr:`basis` returns."""
        return self._backend

    @property
    def is_affine(self) -> bool:
        """True when the subspace has an offset (``mean``)."""
        return self._mean is not None

    def __repr__(self) -> str:
        extra = ", affine" if self.is_affine else ""
        extra += ", backend='torch'" if self._backend == "torch" else ""
        dt = str(self.dtype).replace("torch.", "")
        return f"Subspace(dim={self.dim}, ambient_dim={self.ambient_dim}, dtype={dt}{extra})"

    def __eq__(self, other: object) -> bool:
        """Exact equality of the stored arrays and metadata (a value comparison).

        Use :meth:`isclose` to compare spans up to a tolerance.
        """
        if not isinstance(other, Subspace):
            return NotImplemented

        def same(a: Any, b: Any) -> bool:
            if a is None or b is None:
                return a is None and b is None
            a, b = to_numpy(a), to_numpy(b)
            return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))

        return (
            same(self._basis, other._basis)
            and same(self._mean, other._mean)
            and same(self._scales, other._scales)
            and dict(self._meta) == dict(other._meta)
        )

    __hash__ = None  # type: ignore[assignment]

    def isclose(self, other: Subspace, atol: float = 1e-8) -> bool:
        """True when both describe the same (affine) set up to ``atol``.

        The linear parts must have equal dimension with every principal angle below
        ``atol``, and for affine subspaces the offset difference must lie in the span.

        Examples
        --------
        >>> A = Subspace.from_basis([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> A.isclose(Subspace.from_basis([[1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]))
        True
        """
        if self.ambient_dim != other.ambient_dim or self.dim != other.dim:
            return False
        if self.dim and float(np.max(principal_angles(self, other))) > atol:
            return False
        m1 = np.zeros(self.ambient_dim) if self._mean is None else to_numpy(self._mean)
        m2 = np.zeros(self.ambient_dim) if other._mean is None else to_numpy(other._mean)
        delta = m1 - m2
        off = delta - self._basis64 @ (self._basis64.T @ delta)
        return bool(np.linalg.norm(off) <= atol * (1.0 + np.linalg.norm(m1) + np.linalg.norm(m2)))

    # -------------------------------------------------------------- linear maps
    def _prepare(self, X: Any) -> tuple[Any, Any, Any, bool]:
        """Validate X; return (centred X (2-D), basis, mean, was_1d) in X's array kind."""
        d = self.ambient_dim
        if is_torch_tensor(X):
            torch = import_optional("torch", "torch")
            if X.ndim not in (1, 2):
                raise ShapeError(
                    f"X must be 1-D or 2-D (n_samples, {d}); got shape {tuple(X.shape)}"
                )
            if not torch.is_floating_point(X):
                X = X.to(torch.float64)
            if not bool(torch.isfinite(X).all()):
                raise NonFiniteError(
                    f"X contains {int((~torch.isfinite(X)).sum())} NaN or infinite values; "
                    "expected finite numbers"
                )
            was_1d = X.ndim == 1
            X2 = X[None, :] if was_1d else X
            if X2.shape[1] != d:
                raise DimensionMismatchError(
                    f"X must have {d} features (the ambient dimension); got {X2.shape[1]}"
                )
            # np.array copies: the stored arrays are read-only, which torch cannot wrap.
            B = torch.tensor(np.array(self._basis64), dtype=X2.dtype, device=X2.device)
            mu = (
                None
                if self._mean is None
                else torch.tensor(np.array(to_numpy(self._mean)), dtype=X2.dtype, device=X2.device)
            )
            return (X2 - mu if mu is not None else X2), B, mu, was_1d
        A = check_array(X, "X", ndim=(1, 2))
        was_1d = A.ndim == 1
        A2 = A[None, :] if was_1d else A
        if A2.shape[1] != d:
            raise DimensionMismatchError(
                f"X must have {d} features (the ambient dimension); got {A2.shape[1]}"
            )
        dtype = np.result_type(A2.dtype, to_numpy(self._basis).dtype)
        B = self._basis64.astype(dtype, copy=False)
        mu = None if self._mean is None else to_numpy(self._mean).astype(dtype, copy=False)
        A2 = A2.astype(dtype, copy=False)
        return (A2 - mu if mu is not None else A2), B, mu, was_1d

    def project(self, X: Any, *, whiten: bool = False) -> Any:
        r"""Coordinates :math:`(X - \mu) B` of the rows of X in the basis, shape (n, k).

        With ``whiten=True`` each coordinate is divided by its scale.

        Examples
        --------
        >>> Subspace.from_basis(np.eye(3)[:, :2]).project([1.0, 2.0, 3.0])
        array([1., 2.])
        """
        Xc, B, _, was_1d = self._prepare(X)
        Z = Xc @ B
        if whiten:
            if self._scales is None:
                raise ValidationError("whiten=True needs scales; this subspace has none")
            s = to_numpy(self._scales)
            if np.any(s == 0):
                raise ValidationError("whiten=True with a zero scale would divide by zero")
            Z = Z / (s if not is_torch_tensor(Z) else Z.new_tensor(s))
        return Z[0] if was_1d else Z

    def reconstruct(self, X: Any) -> Any:
        r"""Orthogonal projection of the rows of X onto the (affine) subspace: :math:`\mu + (X-\mu) BB^\top`.

        Examples
        --------
        >>> Subspace.from_basis(np.eye(3)[:, :2]).reconstruct([1.0, 2.0, 3.0])
        array([1., 2., 0.])
        """
        Xc, B, mu, was_1d = self._prepare(X)
        R = (Xc @ B) @ B.T
        if mu is not None:
            R = R + mu
        return R[0] if was_1d else R

    def reject(self, X: Any) -> Any:
        r"""Component of :math:`X - \mu` in the orthogonal complement (the vector rejection).

        ``reconstruct(X) + reject(X) == X``.

        Examples
        --------
        >>> Subspace.from_basis(np.eye(3)[:, :2]).reject([1.0, 2.0, 3.0])
        array([0., 0., 3.])
        """
        Xc, B, _, was_1d = self._prepare(X)
        # Subtracting the projection (rather than using the complement's basis) costs
        # O(ndk), not O(nd^2).
        R = Xc - (Xc @ B) @ B.T
        return R[0] if was_1d else R

    def residual(self, X: Any, *, squared: bool = False) -> Any:
        """Distance of each row of X to the (affine) subspace, shape (n,).

        ``squared=True`` gives the squared prediction error (SPE, the Q statistic).

        Examples
        --------
        >>> Subspace.from_basis(np.eye(3)[:, :2]).residual([[1.0, 2.0, 3.0]], squared=True)
        array([9.])
        """
        R = self.reject(X)
        sq = (R * R).sum(-1)
        return sq if squared else sq**0.5

    def projector(self) -> Any:
        """Orthogonal projection matrix :math:`BB^\\top` (d x d) onto the linear part.

        Examples
        --------
        >>> P = Subspace.from_basis([[1.0], [1.0]]).projector()
        >>> P
        array([[0.5, 0.5],
               [0.5, 0.5]])
        """
        B = self._basis
        return B @ B.T

    def linear_part(self) -> Subspace:
        """The same subspace through the origin (mean and scales dropped).

        Examples
        --------
        >>> Subspace.from_basis(np.eye(2)[:, :1], mean=[1.0, 1.0]).linear_part().is_affine
        False
        """
        return Subspace.from_orthonormal(
            self._basis64, meta=self._meta, dtype=to_numpy(self._basis).dtype
        )

    def complement(self) -> Subspace:
        """Orthogonal complement of the linear part (the mean, if any, is kept).

        Examples
        --------
        >>> Subspace.from_basis(np.eye(3)[:, :1]).complement().dim
        2
        """
        C = orthogonal_complement(self._basis64)
        return Subspace.from_orthonormal(
            C,
            mean=None if self._mean is None else to_numpy(self._mean),
            meta={"method": "complement"},
            dtype=to_numpy(self._basis).dtype,
        )

    # ---------------------------------------------------------------- geometry
    def angles(self, other: Any) -> np.ndarray:
        """Principal angles to another subspace (ascending radians); see :func:`principal_angles`."""
        return principal_angles(self, other)

    def distance(self, other: Any, metric: str = "geodesic") -> float:
        """Grassmann distance to ``other``; see :func:`grassmann_distance` for the metrics."""
        return grassmann_distance(self, other, metric)

    def _check_linear(self, other: Subspace, op: str) -> None:
        if not isinstance(other, Subspace):
            raise TypeError(f"{op} needs two Subspace objects; got {type(other).__name__}")
        if self.ambient_dim != other.ambient_dim:
            raise DimensionMismatchError(
                f"{op} needs a common ambient dimension; got {self.ambient_dim} and {other.ambient_dim}"
            )
        if self.is_affine or other.is_affine:
            raise ValidationError(
                f"{op} is defined here for linear subspaces; call .linear_part() on affine ones first"
            )

    def __add__(self, other: Subspace) -> Subspace:
        """Sum ``A + B``: the span of both (dimension ``dim A + dim B - dim(A & B)``)."""
        return self.sum(other)

    def sum(self, other: Subspace, tol: float = 1e-10) -> Subspace:
        """Span of both subspaces; directions within ``tol`` of being dependent count once.

        The singular values of ``[Q_A Q_B]`` are ``sqrt(1 ± cos theta_i)``, so a
        singular value below ``sqrt(2) sin(tol / 2)`` marks a direction shared up to an
        angle ``tol``.

        Examples
        --------
        >>> e = np.eye(3)
        >>> (Subspace.from_basis(e[:, :2]) + Subspace.from_basis(e[:, 1:])).dim
        3
        """
        self._check_linear(other, "sum")
        M = np.hstack([self._basis64, other._basis64])
        if M.shape[1] == 0:
            return Subspace.zero(self.ambient_dim)
        U, s, _ = np.linalg.svd(M, full_matrices=False)
        keep = s > max(np.sqrt(2.0) * np.sin(tol / 2.0), 1e-15)
        return Subspace.from_orthonormal(U[:, keep], meta={"method": "sum"})

    def __and__(self, other: Subspace) -> Subspace:
        """Intersection ``A & B`` with the default tolerance of :meth:`intersection`."""
        return self.intersection(other)

    def intersection(self, other: Subspace, tol: float = 1e-8) -> Subspace:
        """Directions common to both: principal vectors whose angle is at most ``tol`` rad.

        Examples
        --------
        >>> e = np.eye(3)
        >>> I = Subspace.from_basis(e[:, :2]) & Subspace.from_basis(e[:, 1:])
        >>> I.dim, np.round(np.abs(I.basis.ravel()), 6)
        (1, array([0., 1., 0.]))
        """
        self._check_linear(other, "intersection")
        tol = check_positive(tol, "tol", strict=False)
        angles, Ua, Ub = principal_vectors(self, other)
        keep = angles <= tol
        # Average the two principal vectors of each pair: the result is centred between
        # the nearly-equal directions rather than biased towards one input.
        V = Ua[:, keep] + Ub[:, keep]
        if V.shape[1] == 0:
            return Subspace.zero(self.ambient_dim)
        return Subspace.from_orthonormal(
            polar_factor(V), meta={"method": "intersection", "tol": tol}
        )

    # --------------------------------------------------------------- conversion
    def to(self, backend: str, dtype: Any = None) -> Subspace:
        """A copy whose arrays are numpy arrays or torch tensors (``backend``), optionally cast.

        Examples
        --------
        >>> Subspace.random(4, 2, random_state=0).to("numpy", dtype="float32").dtype
        dtype('float32')
        """
        if backend not in BACKENDS:
            raise ValidationError(f"backend must be one of {BACKENDS}; got {backend!r}")
        np_dtype = (
            np.dtype(str(dtype).replace("torch.", ""))
            if dtype is not None
            else to_numpy(self._basis).dtype
        )
        out = Subspace.from_orthonormal(
            self._basis64,
            mean=None if self._mean is None else to_numpy(self._mean),
            scales=None if self._scales is None else to_numpy(self._scales),
            meta=self._meta,
            dtype=np_dtype,
        )
        if backend == "torch":
            torch = import_optional("torch", "torch")

            def conv(a: Any) -> Any:
                return None if a is None else torch.tensor(np.array(a))

            object.__setattr__(out, "_basis", conv(out._basis))
            object.__setattr__(out, "_mean", conv(out._mean))
            object.__setattr__(out, "_scales", conv(out._scales))
            object.__setattr__(out, "_backend", "torch")
        return out

    # -------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> os.PathLike[str]:
        """Write the subspace to ``path`` atomically (safetensors, or npz for ``.npz`` paths).

        Metadata is stored as JSON, so ``meta`` must hold JSON types. An existing file
        is replaced only with ``overwrite=True``
        (:class:`~subspacekit.errors.OverwriteError` otherwise).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.npz"
        >>> S = Subspace.random(5, 2, random_state=0)
        >>> _ = S.save(path)
        >>> Subspace.load(path) == S
        True
        """
        arrays = {"basis": to_numpy(self._basis)}
        if self._mean is not None:
            arrays["mean"] = to_numpy(self._mean)
        if self._scales is not None:
            arrays["scales"] = to_numpy(self._scales)
        header = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "meta": dict(self._meta),
            "basis64": "basis64" in arrays,
        }
        if arrays["basis"].dtype != np.float64:
            # Keep the float64 basis as well so geometry after load is bit-identical.
            arrays["basis64"] = self._basis64
            header["basis64"] = True
        return write_arrays(path, arrays, header, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Subspace:
        """Read a subspace written by :meth:`save` (no unpickling)."""
        arrays, header = read_arrays(path)
        if header.get("format") != _FORMAT or "basis" not in arrays:
            raise ValidationError(
                f"{path} does not hold a saved Subspace (format={header.get('format')!r})"
            )
        basis = arrays["basis"]
        Q = arrays.get("basis64", basis)
        return cls.from_orthonormal(
            Q,
            mean=arrays.get("mean"),
            scales=arrays.get("scales"),
            meta=header.get("meta", {}),
            dtype=basis.dtype,
        )


def _rebuild(
    basis64: np.ndarray, mean: Any, scales: Any, meta: dict[str, Any], dtype: str, backend: str
) -> Subspace:
    """Unpickling helper for :meth:`Subspace.__reduce__`."""
    out = Subspace.from_orthonormal(basis64, mean=mean, scales=scales, meta=meta, dtype=dtype)
    return out.to(backend) if backend != "numpy" else out
