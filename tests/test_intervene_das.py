"""DAS: a planted causal subspace is recovered; the model is left untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from subspacekit.core import principal_angles
from subspacekit.errors import ShapeError, ValidationError
from subspacekit.intervene import DAS, interchange_accuracy


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny models: a second thread only adds synchronisation cost on a shared machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _planted_network(d: int = 16, k: int = 2, n_classes: int = 4, seed: int = 0):
    """h = M x; logits = A U^T h + B C^T h: the output reads the causal variable U^T h
    (k-dim) and, through the orthogonal complement C, everything else in h."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    U, C = Q[:, :k], Q[:, k:]
    A = rng.standard_normal((n_classes, k))
    B = 0.5 * rng.standard_normal((n_classes, d - k))
    M = np.linalg.qr(rng.standard_normal((d, d)))[0]
    net = torch.nn.Sequential(
        torch.nn.Linear(d, d, bias=False),
        torch.nn.Identity(),
        torch.nn.Linear(d, n_classes, bias=False),
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(M))
        net[2].weight.copy_(torch.tensor(A @ U.T + B @ C.T))

    def counterfactual_logits(xb: np.ndarray, xs: np.ndarray) -> np.ndarray:
        # the high-level model: causal variable from the source, everything else from the base
        return (xs @ M.T @ U) @ A.T + (xb @ M.T @ C) @ B.T

    return net, U, counterfactual_logits, rng


def test_das_recovers_planted_subspace() -> None:
    net, U, cf_logits, rng = _planted_network()
    n = 1024
    xb, xs = rng.standard_normal((n, 16)), rng.standard_normal((n, 16))
    logits = cf_logits(xb, xs)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    das = DAS(net, "1", n_components=2, max_epochs=40, learning_rate=0.05, random_state=0)
    das.fit(torch.tensor(xb), torch.tensor(xs), torch.tensor(probs))
    angles = np.degrees(principal_angles(das.subspace_, U))
    assert angles.max() < 10.0, angles
    # held-out pairs
    tb, ts = rng.standard_normal((1000, 16)), rng.standard_normal((1000, 16))
    labels = torch.tensor(cf_logits(tb, ts).argmax(1))
    assert das.score(torch.tensor(tb), torch.tensor(ts), labels) >= 0.95
    # the model is untouched: same weights, gradients flags restored, no hooks left
    for name, p in net.named_parameters():
        assert torch.equal(p, before[name]) and p.requires_grad
    assert all(not m._forward_hooks for m in net.modules())
    # rotation_: orthogonal, first k rows span the subspace
    R = das.rotation_
    np.testing.assert_allclose(R @ R.T, np.eye(16), atol=1e-10)
    assert np.degrees(principal_angles(R[:2].T, das.subspace_.basis)).max() < 1e-6


def test_das_is_reproducible_and_a_random_subspace_fails() -> None:
    net, _U, cf_logits, rng = _planted_network(seed=1)
    xb, xs = rng.standard_normal((512, 16)), rng.standard_normal((512, 16))
    labels = torch.tensor(cf_logits(xb, xs).argmax(1))
    fit = lambda: DAS(net, "1", 2, max_epochs=3, random_state=7).fit(  # noqa: E731
        torch.tensor(xb), torch.tensor(xs), labels
    )
    a, b = fit(), fit()
    np.testing.assert_array_equal(a.subspace_.basis, b.subspace_.basis)
    assert a.loss_curve_ == b.loss_curve_
    # control: patching an unrelated subspace does not give the counterfactual
    from subspacekit.intervene import interchange

    out = interchange(
        net, "1", np.linalg.qr(rng.standard_normal((16, 2)))[0], torch.tensor(xb), torch.tensor(xs)
    )
    assert interchange_accuracy(out, labels) < 0.7


def test_das_errors() -> None:
    net, _, _, rng = _planted_network()
    x = torch.tensor(rng.standard_normal((10, 16)))
    with pytest.raises(ShapeError, match="rows"):
        DAS(net, "1").fit(x, x[:5], torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValidationError, match="n_components"):
        DAS(net, "1", n_components=17).fit(x, x, torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValidationError, match="closest names"):
        DAS(net, "2.weight").fit(x, x, torch.zeros(10, dtype=torch.long))


def test_das_parameters_and_targets_are_checked() -> None:
    from subspacekit.errors import DimensionMismatchError, DTypeError, NonFiniteError, RankError

    net, _, _, rng = _planted_network()
    x = torch.tensor(rng.standard_normal((10, 16)))
    labels = torch.zeros(10, dtype=torch.long)
    with pytest.raises(ValidationError, match="learning_rate"):
        DAS(net, "1", learning_rate=0.0).fit(x, x, labels)
    with pytest.raises(DTypeError, match="module"):
        DAS(net, 1).fit(x, x, labels)
    with pytest.raises(ValidationError, match="loss"):
        DAS(net, "1", loss="hinge").fit(x, x, labels)
    with pytest.raises(RankError, match="n_components=17"):
        DAS(net, "1", n_components=17).fit(x, x, labels)
    nan = labels.double()
    nan[0] = torch.nan
    with pytest.raises(NonFiniteError):
        DAS(net, "1").fit(x, x, nan)
    with pytest.raises(DimensionMismatchError):
        DAS(net, "1").fit(x, x, labels[:7])
    with pytest.raises(ValidationError, match="class indices must be < 4"):
        DAS(net, "1", max_epochs=1).fit(x, x, labels + 9)
    # numpy inputs work like tensors (converted to the model's dtype)
    das = DAS(net, "1", max_epochs=1, random_state=0)
    assert das.fit(x.numpy(), x.numpy(), labels.numpy()).subspace_.dim == 1


def test_interchange_accuracy_checks_labels() -> None:
    from subspacekit.errors import DimensionMismatchError

    scores = torch.tensor([[0.1, 2.0], [3.0, 0.0], [1.0, 0.5]])
    assert interchange_accuracy(scores, [1, 0, 1]) == pytest.approx(2 / 3)
    assert interchange_accuracy(scores.numpy().tolist(), np.eye(2)[[1, 0, 0]]) == 1.0
    with pytest.raises(DimensionMismatchError):
        interchange_accuracy(scores, [1, 0])
    with pytest.raises(ValidationError, match="several largest entries"):
        interchange_accuracy(scores, [[1, 1], [1, 0], [0, 1]])
    with pytest.raises(ShapeError, match="class indices"):
        interchange_accuracy(scores, [0.5, 1.0, 0.0])
