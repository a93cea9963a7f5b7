"""intervene.hooks: module names, erase/steer/patch closed forms, restoration on every exit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from subspacekit.activations import resolve_modules as capture_resolve
from subspacekit.core import Subspace
from subspacekit.errors import DimensionMismatchError, ShapeError, ValidationError
from subspacekit.intervene import (
    LEACE,
    edit,
    erase,
    interchange,
    patch,
    record,
    resolve_modules,
    steer,
)


class Block(torch.nn.Module):
    """A block that returns a tuple, like older Hugging Face layers."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.output = torch.nn.Linear(d, d)
        self.attention = torch.nn.Module()
        self.attention.output = torch.nn.Linear(d, d)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.output(torch.tanh(self.attention.output(h)))
        return h, h.sum(-1)


class Tower(torch.nn.Module):
    def __init__(self, d: int = 6, n_layers: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder = torch.nn.Module()
        self.encoder.layer = torch.nn.ModuleList(Block(d) for _ in range(n_layers))
        self.head = torch.nn.Linear(d, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.encoder.layer:
            x = block(x)[0]
        return self.head(x)


def _no_hooks(model: torch.nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# ------------------------------------------------------------------ names
def test_names_are_named_modules_and_globs_follow_capture_rules() -> None:
    net = Tower()
    assert list(resolve_modules(net, "encoder.layer.1.output")) == ["encoder.layer.1.output"]
    one_segment = list(resolve_modules(net, "encoder.layer.*.output"))
    assert one_segment == [f"encoder.layer.{i}.output" for i in range(3)]
    across = list(resolve_modules(net, "encoder.**.output"))
    assert "encoder.layer.0.attention.output" in across and len(across) == 6
    # Same selection as activations.capture on the same patterns.
    for pattern in ["encoder.layer.*.output", "encoder.**.output", "head"]:
        assert list(resolve_modules(net, pattern)) == sorted(
            capture_resolve(net, pattern), key=list(dict(net.named_modules())).index
        )


def test_unknown_name_lists_closest_names() -> None:
    net = Tower()
    with pytest.raises(ValidationError) as err:
        resolve_modules(net, "layer.1.output")
    message = str(err.value)
    assert "'layer.1.output' matches no module" in message
    assert "'encoder.layer.1.output'" in message
    with pytest.raises(ValidationError, match=r"encoder\.layer\.2"):
        resolve_modules(net, "encoder.layers.2")
    with pytest.raises(ValidationError, match=r"hidden_states\.i are outputs"):
        resolve_modules(net, "hidden_states.2")
    with pytest.raises(ValidationError, match="matches no module"):
        resolve_modules(net, "decoder.*")


# ------------------------------------------------------- restoring the model
def test_hooks_removed_after_normal_exit_exception_and_hook_error() -> None:
    net = Tower()
    x = torch.randn(4, 6)
    before = net(x).detach()
    S = Subspace.random(6, 2, random_state=0)
    with erase(net, "encoder.layer.*", S), steer(net, "head", [1.0, 0.0], alpha=3.0):
        assert not torch.allclose(net(x), before)
    assert _no_hooks(net)
    assert torch.equal(net(x), before)

    with (
        pytest.raises(RuntimeError, match="boom"),
        patch(net, "encoder.layer.0", S, torch.zeros(4, 6)),
    ):
        raise RuntimeError("boom")
    assert _no_hooks(net)

    # The hook itself raises (dimension mismatch) inside the forward pass.
    wrong = Subspace.random(5, 1, random_state=0)
    with pytest.raises(DimensionMismatchError, match="R\\^5"), erase(net, "encoder.layer.1", wrong):
        net(x)
    assert _no_hooks(net)
    assert torch.equal(net(x), before)


def test_tuple_outputs_keep_their_other_elements() -> None:
    net = Tower()
    x = torch.randn(3, 6)
    block = net.encoder.layer[0]
    _plain_h, plain_sum = block(x)
    with edit(net, "encoder.layer.0", lambda h: h * 0):
        h, s = block(x)
    assert torch.equal(h, torch.zeros_like(h))
    assert torch.equal(s, plain_sum)  # only the hidden state is edited


# ---------------------------------------------------------- closed forms
def test_erase_is_orthogonal_projection_off_the_affine_subspace() -> None:
    rng = np.random.default_rng(0)
    B = np.linalg.qr(rng.standard_normal((6, 2)))[0]
    mu = rng.standard_normal(6)
    S = Subspace.from_basis(B, mean=mu)
    net = torch.nn.Sequential(torch.nn.Identity())
    X = rng.standard_normal((10, 6))
    with erase(net, "0", S):
        out = net(torch.tensor(X)).numpy()
    expected = X - (X - mu) @ B @ B.T
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose((out - mu) @ B, 0.0, atol=1e-12)  # nothing left along the span
    with erase(net, "0", S, strength=0.25):  # partial: a quarter of the component removed
        partial = net(torch.tensor(X)).numpy()
    np.testing.assert_allclose((partial - mu) @ B, 0.75 * (X - mu) @ B, atol=1e-12)


def test_erase_with_fitted_leace_equals_its_transform_and_per_module_mapping() -> None:
    rng = np.random.default_rng(1)
    z = rng.integers(0, 2, 300)
    X = rng.standard_normal((300, 5)) + 2.0 * z[:, None] * np.array([1.0, 0.5, 0, 0, 0])
    eraser = LEACE().fit(X, z)
    net = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Identity())
    with erase(net, {"0": eraser, "1": Subspace.from_directions(np.eye(5)[4])}):
        out = net(torch.tensor(X)).numpy()
    expected = eraser.transform(X)
    expected[:, 4] = 0.0
    np.testing.assert_allclose(out, expected, atol=1e-10)
    with pytest.raises(Exception, match="not fitted"), erase(net, "0", LEACE()):
        pass


def test_steer_add_and_clamp() -> None:
    net = torch.nn.Sequential(torch.nn.Identity())
    X = torch.randn(7, 3, dtype=torch.float64)
    v = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    with steer(net, "0", v, alpha=0.5):
        np.testing.assert_allclose(net(X).numpy(), (X + 0.5 * v).numpy())
    u = (v / v.norm()).numpy()
    with steer(net, "0", v, value=4.0):
        out = net(X).numpy()
    np.testing.assert_allclose(out @ u, 4.0)  # the coordinate is clamped
    rest = X.numpy() - np.outer(X.numpy() @ u, u)
    np.testing.assert_allclose(out - np.outer(out @ u, u), rest, atol=1e-12)  # rest unchanged
    S2 = Subspace.from_basis(np.eye(3)[:, :2])
    with steer(net, "0", S2, value=[1.0, -2.0]):
        np.testing.assert_allclose(net(X).numpy()[:, :2], [[1.0, -2.0]] * 7)
    with pytest.raises(ValidationError, match="exactly one"), steer(net, "0", v):
        pass
    with pytest.raises(ShapeError, match="one entry per direction"), steer(net, "0", S2, value=1.0):
        pass


def test_patch_takes_subspace_from_source_and_rest_from_base() -> None:
    rng = np.random.default_rng(2)
    B = np.linalg.qr(rng.standard_normal((6, 2)))[0]
    net = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(6, 6))
    base, source = (
        torch.tensor(rng.standard_normal((5, 6))),
        torch.tensor(rng.standard_normal((5, 6))),
    )
    net = net.double()
    src = record(net, "0", source)["0"]
    with patch(net, "0", B, src):
        seen = record(net, "0", base)["0"].numpy()
    P = B @ B.T
    np.testing.assert_allclose(seen @ P, source.numpy() @ P, atol=1e-12)
    np.testing.assert_allclose(seen - seen @ P, base.numpy() - base.numpy() @ P, atol=1e-12)
    # interchange() does the same in one call and returns the patched output
    with torch.no_grad():
        expected = net[1](torch.tensor(seen))
    np.testing.assert_allclose(interchange(net, "0", B, base, source).numpy(), expected.numpy())
    with pytest.raises(ShapeError, match="source activations"), patch(net, "0", B, src[:2]):
        net(base)


def test_positions_edit_only_the_selected_tokens() -> None:
    net = torch.nn.Sequential(torch.nn.Identity())
    X = torch.randn(2, 5, 3)
    with steer(net, "0", [1.0, 0.0, 0.0], alpha=10.0, position=-1):
        out = net(X)
    assert torch.equal(out[:, :-1], X[:, :-1])
    assert torch.allclose(out[:, -1, 0], X[:, -1, 0] + 10.0)
    with (
        pytest.raises(ShapeError, match="position"),
        steer(net, "0", [1.0, 0.0, 0.0], alpha=1.0, position=0),
    ):
        net(torch.randn(4, 3))


def test_float32_model_stays_float32_and_gradients_flow() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 1))
    x = torch.randn(8, 4)
    S = Subspace.random(4, 1, random_state=3)
    with erase(net, "0", S):
        y = net(x)
        assert y.dtype == torch.float32
        y.sum().backward()
    assert net[0].weight.grad is not None and torch.isfinite(net[0].weight.grad).all()


# ------------------------------------------------------------ input checks
def test_interventions_check_their_inputs_before_hooking() -> None:
    # Regression: erase/steer/patch/as_subspace took NaN, None or strings without a check.
    from subspacekit.errors import DTypeError, NonFiniteError

    net = torch.nn.Sequential(torch.nn.Identity())
    bad = np.array([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(NonFiniteError), erase(net, "0", bad):
        pass
    with pytest.raises(DTypeError), erase(net, "0", [["a", "b"]]):
        pass
    with pytest.raises(ShapeError), erase(net, "0", np.ones((2, 2, 2))):
        pass
    with pytest.raises(ValidationError, match="strength"), erase(net, "0", [1.0, 0.0], strength=-1):
        pass
    with pytest.raises(DTypeError, match="strength"), erase(net, "0", [1.0, 0.0], strength="1"):
        pass
    with pytest.raises(ValidationError, match="alpha"), steer(net, "0", [1.0, 0.0], alpha=np.inf):
        pass
    with pytest.raises(DTypeError, match="alpha"), steer(net, "0", [1.0, 0.0], alpha="2"):
        pass
    with pytest.raises(NonFiniteError), steer(net, "0", [1.0, 0.0], value=np.nan):
        pass
    with pytest.raises(NonFiniteError), patch(net, "0", [1.0, 0.0], np.array([[np.nan, 0.0]])):
        pass
    with pytest.raises(DTypeError, match="position"), edit(net, "0", lambda h: h, position="1"):
        pass
    with pytest.raises(DTypeError, match="callable"), edit(net, "0", 3):
        pass
    with pytest.raises(DTypeError):
        from subspacekit.intervene import as_subspace

        as_subspace(None)
    assert _no_hooks(net)


def test_forward_converts_arrays_and_reports_model_failures() -> None:
    from subspacekit.errors import NonFiniteError
    from subspacekit.intervene import forward

    net = torch.nn.Sequential(torch.nn.Linear(3, 2)).requires_grad_(False)
    x = np.random.default_rng(0).standard_normal((4, 3))
    out = forward(net, x.tolist())
    assert out.dtype == torch.float32  # float64 lists become the model's dtype
    torch.testing.assert_close(out, net(torch.tensor(x, dtype=torch.float32)))
    with pytest.raises(NonFiniteError):
        forward(net, np.full((2, 3), np.nan))
    with pytest.raises(ValidationError, match="the model raised RuntimeError"):
        forward(net, x[:, :2])
    # a parameter-free model keeps float64 inputs in float64
    assert forward(torch.nn.Identity(), x).dtype == torch.float64
