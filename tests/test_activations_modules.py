"""The one module resolver: activations.resolve_modules (also intervene.resolve_modules)."""

from __future__ import annotations

import types

import pytest
import torch

from subspacekit.activations import capture, resolve_module, resolve_modules
from subspacekit.errors import DTypeError, ValidationError


class Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = torch.nn.Module()
        self.attention.output = torch.nn.Linear(3, 3)
        self.output = torch.nn.Linear(3, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.output(self.attention.output(h))


class Encoder(torch.nn.Module):
    """Two blocks; with ``hf=True`` a Hugging Face-like config and hidden states."""

    def __init__(self, hf: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.ModuleList([Block(), Block()])
        if hf:
            self.config = types.SimpleNamespace(output_hidden_states=False, num_hidden_layers=2)

    def forward(self, x: torch.Tensor, output_hidden_states: bool = False):
        states = [x]
        for block in self.layer:
            states.append(block(states[-1]))
        return types.SimpleNamespace(last_hidden_state=states[-1], hidden_states=tuple(states))


def test_both_public_names_are_one_resolver_with_one_answer() -> None:
    # Regression: intervene.hooks had its own resolver, with other modules, order,
    # return type and errors than the one of activations.capture.
    from subspacekit import intervene

    assert intervene.resolve_modules is resolve_modules
    net = Encoder()
    for patterns in ("layer.*.output", ["layer.1", "layer.0.output"], "**", "layer.?.attention"):
        assert intervene.resolve_modules(net, patterns) == resolve_modules(net, patterns)


def test_names_come_in_named_modules_order_as_a_list() -> None:
    net = Encoder()
    order = [name for name, _ in net.named_modules()]
    chosen = resolve_modules(net, ["layer.1.output", "layer.0", "layer.*.output"])
    assert chosen == ["layer.0", "layer.0.output", "layer.1.output"]
    assert chosen == sorted(chosen, key=order.index) and all(isinstance(n, str) for n in chosen)
    # * stays in one segment, ** spans several; a glob never matches the root
    assert resolve_modules(net, "layer.*.output") == ["layer.0.output", "layer.1.output"]
    assert len(resolve_modules(net, "**.output")) == 4 and "" not in resolve_modules(net, "**")
    assert resolve_modules(net, "") == [""]  # the model itself, by its exact name
    assert resolve_modules(net) == ["layer"]  # default: the top-level children


def test_a_pattern_that_matches_nothing_names_it_and_the_closest_modules() -> None:
    net = Encoder()
    with pytest.raises(ValidationError) as err:
        resolve_modules(net, "layers.1.output")
    message = str(err.value)
    assert "'layers.1.output' matches no module" in message
    assert "closest names" in message and "'layer.1.output'" in message
    with pytest.raises(ValidationError, match="at least one module"):
        resolve_modules(net, [])
    with pytest.raises(DTypeError, match="strings"):
        resolve_modules(net, ["layer.0", 3])
    with pytest.raises(DTypeError, match=r"torch\.nn\.Module"):
        resolve_modules(object(), "layer")


def test_hidden_states_of_hugging_face_models() -> None:
    net = Encoder(hf=True)
    assert resolve_modules(net) == ["hidden_states.0", "hidden_states.1", "hidden_states.2"]
    assert resolve_modules(net, ["layer.0", "hidden_states.-1"]) == ["hidden_states.2", "layer.0"]
    with pytest.raises(ValidationError, match="out of range"):
        resolve_modules(net, "hidden_states.3")
    # hooks ask for modules only: a hidden state is not one
    with pytest.raises(ValidationError, match=r"hidden_states\.i are outputs"):
        resolve_modules(net, "hidden_states.1", hidden_states=False)
    acts = capture(net, torch.randn(4, 3), ["hidden_states.2", "layer.1"], verbose=False)
    assert list(acts) == ["hidden_states.2", "layer.1"]


def test_resolve_module_wants_exactly_one() -> None:
    net = Encoder()
    assert resolve_module(net, "layer.1.attention.output") == "layer.1.attention.output"
    with pytest.raises(ValidationError, match=r"exactly one module .* matched 2"):
        resolve_module(net, "layer.*.output")
    with pytest.raises(DTypeError, match="one module name"):
        resolve_module(net, ["layer.0"])


def test_hooks_and_capture_select_the_same_modules() -> None:
    from subspacekit.intervene import edit, record

    net = Encoder()
    x = torch.randn(5, 3)
    with edit(net, "layer.*.output", lambda h: h) as hooked:
        assert list(hooked) == resolve_modules(net, "layer.*.output")
    recorded = record(net, "layer.*.output", x, run=lambda m, i: m(i))
    captured = capture(net, x, "layer.*.output", verbose=False)
    assert list(recorded) == list(captured)
    for name in captured:
        torch.testing.assert_close(torch.as_tensor(captured[name]), recorded[name])
