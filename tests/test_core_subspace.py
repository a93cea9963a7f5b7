"""The Subspace value type: construction, linear maps, set operations, persistence."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subspacekit.core import Subspace, principal_angles
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    OverwriteError,
    RankError,
    ValidationError,
)

seeds = st.integers(0, 2**31 - 1)
dims = st.tuples(st.integers(1, 10), st.integers(0, 6)).filter(lambda t: t[1] <= t[0])


@settings(max_examples=50, deadline=None)
@given(dims, seeds)
def test_projector_symmetric_idempotent_rank_k(dk, seed):
    d, k = dk
    P = Subspace.random(d, k, random_state=seed).projector()
    np.testing.assert_allclose(P, P.T, atol=1e-12)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    assert np.isclose(np.trace(P), k)


@settings(max_examples=50, deadline=None)
@given(dims, seeds, st.booleans())
def test_reconstruct_plus_reject_is_identity(dk, seed, affine):
    d, k = dk
    rng = np.random.default_rng(seed)
    S = Subspace.random(d, k, random_state=seed)
    if affine:
        S = Subspace.from_basis(S.basis, mean=rng.standard_normal(d)) if k else S
    X = rng.standard_normal((7, d))
    np.testing.assert_allclose(S.reconstruct(X) + S.reject(X), X, atol=1e-12)
    # The rejection is orthogonal to the subspace and its norm is the residual.
    np.testing.assert_allclose(S.reject(X) @ S.basis, 0, atol=1e-12)
    np.testing.assert_allclose(S.residual(X), np.linalg.norm(S.reject(X), axis=1), atol=1e-12)
    # Reconstructed points lie on the subspace: projecting them again changes nothing.
    np.testing.assert_allclose(S.reconstruct(S.reconstruct(X)), S.reconstruct(X), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    dims,
    seeds,
    st.sampled_from([".npz", ".safetensors"]),
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.integers(-(10**6), 10**6),
            st.text(max_size=10),
            st.booleans(),
            st.none(),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        max_size=4,
    ),
)
def test_save_then_load_is_exact(tmp_path_factory, dk, seed, suffix, meta):
    d, k = dk
    rng = np.random.default_rng(seed)
    S = (
        Subspace.from_basis(
            Subspace.random(d, k, random_state=seed).basis,
            mean=rng.standard_normal(d),
            scales=rng.random(k),
            meta=meta,
        )
        if k
        else Subspace.zero(d)
    )
    path = tmp_path_factory.mktemp("s") / f"sub{suffix}"
    S.save(path)
    T = Subspace.load(path)
    assert T == S
    assert np.array_equal(T.basis, S.basis) and T.meta == S.meta


def test_save_refuses_to_overwrite(tmp_path):
    path = tmp_path / "s.safetensors"
    A, B = Subspace.random(5, 2, random_state=0), Subspace.random(5, 2, random_state=1)
    A.save(path)
    with pytest.raises(OverwriteError, match="overwrite=True"):
        B.save(path)
    assert Subspace.load(path) == A  # untouched
    B.save(path, overwrite=True)
    assert Subspace.load(path) == B
    # No temporary files are left behind.
    assert os.listdir(tmp_path) == ["s.safetensors"]


def test_save_rejects_non_json_meta(tmp_path):
    S = Subspace.from_basis(np.eye(3)[:, :1], meta={"array": np.zeros(2)})
    with pytest.raises(ValidationError, match="JSON"):
        S.save(tmp_path / "s.npz")
    assert not list(tmp_path.iterdir())


def test_float32_kept_and_geometry_in_float64(tmp_path):
    B = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    S = Subspace.from_basis(B)
    assert S.dtype == np.float32
    assert S.project(np.ones((2, 20), dtype=np.float32)).dtype == np.float32
    assert S.project(np.ones((2, 20))).dtype == np.float64
    S.save(tmp_path / "f.npz")
    assert Subspace.load(tmp_path / "f.npz") == S
    assert np.max(principal_angles(S, Subspace.from_basis(B.astype(np.float64)))) < 1e-12


def test_sum_and_intersection():
    e = np.eye(6)
    A = Subspace.from_basis(e[:, :3])
    B = Subspace.from_basis(np.c_[e[:, 2], e[:, 3] + e[:, 4]])
    assert (A + B).dim == 4
    inter = A & B
    assert inter.dim == 1
    assert np.allclose(np.abs(inter.basis[:, 0]), e[:, 2])
    # dim(A + B) = dim A + dim B - dim(A & B) for random planted pairs.
    rng = np.random.default_rng(1)
    common = rng.standard_normal((30, 2))
    A = Subspace.from_basis(np.c_[common, rng.standard_normal((30, 3))])
    B = Subspace.from_basis(np.c_[common, rng.standard_normal((30, 4))])
    assert (A & B).dim == 2 and (A + B).dim == 5 + 6 - 2
    assert np.max(principal_angles(A & B, common)) < 1e-8
    # A tolerance decides whether nearly-shared directions count.
    t = 1e-6
    C = Subspace.from_basis((np.cos(t) * e[:, 0] + np.sin(t) * e[:, 5])[:, None])
    assert (Subspace.from_basis(e[:, :1]) & C).dim == 0
    assert Subspace.from_basis(e[:, :1]).intersection(C, tol=1e-5).dim == 1
    with pytest.raises(ValidationError, match="linear_part"):
        Subspace.from_basis(e[:, :1], mean=np.ones(6)) + Subspace.from_basis(e[:, 1:2])


def test_complement():
    S = Subspace.random(9, 4, random_state=2)
    C = S.complement()
    assert C.dim == 5
    np.testing.assert_allclose(S.basis.T @ C.basis, 0, atol=1e-12)
    np.testing.assert_allclose(S.projector() + C.projector(), np.eye(9), atol=1e-12)
    assert Subspace.zero(4).complement().dim == 4
    assert Subspace.from_basis(np.eye(4)).complement().dim == 0


def test_random_is_haar():
    # E[P] = (k/d) I for a Haar-random k-subspace; check the average projector.
    d, k, n = 6, 2, 3000
    P = sum(Subspace.random(d, k, random_state=s).projector() for s in range(n)) / n
    assert np.max(np.abs(P - (k / d) * np.eye(d))) < 0.03
    assert Subspace.random(6, 2, random_state=5) == Subspace.random(6, 2, random_state=5)


def test_immutable():
    S = Subspace.random(4, 2, random_state=0)
    with pytest.raises(AttributeError):
        S.dim = 3
    with pytest.raises(ValueError):
        S.basis[0, 0] = 1.0
    with pytest.raises(TypeError):
        S.meta["x"] = 1


def test_isclose_and_eq():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((8, 3))
    A = Subspace.from_basis(B)
    C = Subspace.from_basis(B @ (rng.standard_normal((3, 3)) + 3 * np.eye(3)))
    assert A.isclose(C) and not (A == C)
    m = rng.standard_normal(8)
    assert Subspace.from_basis(B, mean=m).isclose(Subspace.from_basis(B, mean=m + B[:, 0]))
    assert not Subspace.from_basis(B, mean=m).isclose(Subspace.from_basis(B, mean=m + 1.0))


def test_bad_input():
    e = np.eye(4)
    with pytest.raises(NonFiniteError, match="1 NaN and 1 infinite"):
        Subspace.from_basis(np.array([[np.nan, 1], [0, np.inf], [1, 0], [0, 1.0]]))
    with pytest.raises(RankError, match="full column rank 2"):
        Subspace.from_basis(np.c_[e[:, 0], e[:, 0] * 3])
    with pytest.raises(DimensionMismatchError, match="4 features"):
        Subspace.from_basis(e[:, :2]).project(np.ones((2, 3)))
    with pytest.raises(DimensionMismatchError, match="mean must have shape"):
        Subspace.from_basis(e[:, :2], mean=np.ones(3))
    with pytest.raises(NonFiniteError):
        Subspace.from_basis(e[:, :2]).project(np.array([[np.nan, 0, 0, 0]]))
    with pytest.raises(FileNotFoundError):
        Subspace.load("/nonexistent/x.npz")


def test_torch_backend_roundtrip():
    torch = pytest.importorskip("torch")
    S = Subspace.random(7, 3, random_state=0)
    X = torch.randn(5, 7, dtype=torch.float64)
    Z = S.project(X)
    assert isinstance(Z, torch.Tensor)
    np.testing.assert_allclose(Z.numpy(), S.project(X.numpy()), atol=1e-12)
    np.testing.assert_allclose(S.reject(X).numpy(), S.reject(X.numpy()), atol=1e-12)
    T = S.to("torch", dtype="float32")
    assert isinstance(T.basis, torch.Tensor) and T.basis.dtype == torch.float32
    assert T.to("numpy").isclose(S)


def test_import_without_torch():
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import subspacekit, subspacekit.core, subspacekit.core.validation, subspacekit.errors\n"
        "S = subspacekit.Subspace.random(5, 2, random_state=0)\n"
        "assert 'torch' not in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_pickle_roundtrip():
    import pickle

    rng = np.random.default_rng(4)
    S = Subspace.from_basis(
        rng.standard_normal((6, 2)),
        mean=rng.standard_normal(6),
        scales=np.array([2.0, 1.0]),
        meta={"method": "test"},
    )
    T = pickle.loads(pickle.dumps(S))
    assert T == S and T.meta == S.meta
    F = Subspace.from_basis(rng.standard_normal((6, 2)).astype(np.float32))
    assert pickle.loads(pickle.dumps(F)) == F
