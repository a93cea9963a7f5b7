"""Illusion diagnostics on the distilled example of Makelov et al. (2024)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from subspacekit.core import principal_angles
from subspacekit.errors import DimensionMismatchError, ValidationError
from subspacekit.intervene import (
    DAS,
    distilled_illusion_model,
    illusion_diagnostics,
    patch_effect,
    record,
)


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny models: a second thread only adds synchronisation cost on a shared machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pairs(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    xb = torch.tensor(rng.integers(0, 2, (n, 1)).astype(np.float32))
    xs = torch.tensor(rng.integers(0, 2, (n, 1)).astype(np.float32))
    return xb, xs


def test_paper_toy_illusory_direction_is_flagged_and_faithful_one_is_not() -> None:
    net = distilled_illusion_model()
    xb, xs = _pairs()
    differ = (xb != xs)[:, 0]
    labels = xs[:, 0].long()
    effect = patch_effect(net, "hidden", xb[differ], xs[differ], labels[differ])
    acts = record(net, "hidden", xb)["hidden"].numpy()

    illusory = illusion_diagnostics(np.array([0.0, 1.0, 1.0]), net.readout, acts, effect)
    # the whole direction flips every prediction, each part alone none
    assert illusory.effect == 1.0 and illusory.effect_row == 0.0 and illusory.effect_null == 0.0
    assert illusory.illusion_score == 1.0 and illusory.flagged
    assert illusory.null_fraction == pytest.approx(0.5)
    assert illusory.row_dormancy == pytest.approx(0.0)  # the row part never varies
    assert illusory.null_signal_share == pytest.approx(1.0)  # all signal from ker(W_out)
    np.testing.assert_allclose(np.abs(illusory.row_direction), [0, 0, 1])
    np.testing.assert_allclose(np.abs(illusory.null_direction), [0, 1, 0])

    faithful = illusion_diagnostics(np.array([1.0, 0.0, 0.0]), net.readout, acts, effect)
    assert faithful.effect == 1.0 and faithful.effect_row == 1.0
    assert not faithful.flagged and faithful.null_fraction == 0.0
    assert faithful.row_dormancy == pytest.approx(1.0)


@pytest.mark.parametrize("n_copies, flagged", [(1, False), (8, True)])
def test_das_on_the_toy_finds_the_max_effect_direction(n_copies: int, flagged: bool) -> None:
    # With cross-entropy on the counterfactual label DAS maximises the patched logit
    # change P(v) = (u.v)(w.v), u = the direction the feature varies along, w = the
    # direction the head reads; its maximiser is v* ~ u/|u| + w/|w| (closed form).
    net = distilled_illusion_model(n_copies)
    xb, xs = _pairs(seed=1)
    labels = xs[:, 0].long()
    das = DAS(net, "hidden", 1, max_epochs=150, learning_rate=0.02, random_state=0)
    das.fit(xb, xs, labels)
    m, c = n_copies, 2.0 / n_copies
    u = np.r_[1.0, np.ones(m), np.zeros(m)]
    w = np.r_[1.0, np.zeros(m), c * np.ones(m)]
    v_star = u / np.linalg.norm(u) + w / np.linalg.norm(w)
    assert np.degrees(principal_angles(das.subspace_, v_star[:, None]))[0] < 2.0
    assert das.score(xb, xs, labels) >= 0.95
    acts = record(net, "hidden", xb)["hidden"].numpy()
    differ = (xb != xs)[:, 0]
    effect = patch_effect(net, "hidden", xb[differ], xs[differ])  # fraction of logit change
    report = illusion_diagnostics(das.subspace_, net.readout, acts, effect)
    # closed form: the share of the signal read from the copies is sum(b)/(a + sum(b))
    v = v_star / np.linalg.norm(v_star)
    assert report.null_signal_share == pytest.approx(
        v[1 : 1 + m].sum() / v[: 1 + m].sum(), abs=0.02
    )
    assert report.flagged is flagged


def test_diagnostic_errors() -> None:
    W = np.eye(3)[:2]
    acts = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(DimensionMismatchError, match="reading the site"):
        illusion_diagnostics(np.ones(4), W, np.ones((5, 4)))
    with pytest.raises(ValidationError, match="non-zero"):
        illusion_diagnostics(np.zeros(3), W, acts)
    with pytest.raises(ValidationError, match="do not vary"):
        illusion_diagnostics(np.array([0.0, 0.0, 1.0]), W, np.c_[acts[:, :2], np.zeros(20)])


def test_constant_activations_and_bad_pairs_are_errors() -> None:
    W_out = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # Regression: identical rows passed the absolute 1e-12 variance test through the
    # rounding of their mean; the relative rule of core.linalg says they do not vary.
    same = np.tile([[0.3, 0.7, 0.1]], (50, 1))
    with pytest.raises(ValidationError, match="do not vary"):
        illusion_diagnostics([0.0, 1.0, 1.0], W_out, same)
    # tiny but varying activations are not "constant"
    x = np.array([0.0, 1.0] * 50)
    tiny = 1e-160 * np.stack([x, x, 0 * x], axis=1)
    assert illusion_diagnostics([0.0, 1.0, 1.0], W_out, tiny).flagged
    with pytest.raises(ValidationError, match="share_threshold"):
        illusion_diagnostics([0.0, 1.0, 1.0], W_out, tiny, share_threshold=2.0)
    net = distilled_illusion_model()
    base = torch.tensor([[0.0], [1.0]])
    with pytest.raises(DimensionMismatchError):
        patch_effect(net, "hidden", base, torch.tensor([[1.0], [0.0], [1.0]]))
    with pytest.raises(ValidationError, match="exactly one module"):
        patch_effect(net, "*", base, base.flip(0))
    with pytest.raises(ValidationError, match="n_copies"):
        distilled_illusion_model(n_copies=0)
