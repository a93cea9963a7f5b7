"""intervene on all-MiniLM-L6-v2 and the probe corpus (quick versions of reproduce/intervene.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from concept_erasure import LeaceFitter
from sklearn.model_selection import StratifiedKFold

from subspacekit.intervene import LEACE, erase, steer
from subspacekit.reproduce.intervene import (
    _cells,
    _corpus,
    _embed,
    _fit_probe,
    _pooled,
    _probe_accuracy,
)

SITE = "encoder.layer.3"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup():
    from subspacekit.activations import capture
    from subspacekit.models import minilm

    model = minilm()
    texts, labels, attributes = _corpus(4)  # 192 sentences, every attribute combination 4 times
    train, test = next(
        iter(
            StratifiedKFold(2, shuffle=True, random_state=0).split(
                texts, _cells(labels, attributes)
            )
        )
    )
    # one pass: the erase/steer site and the final sentence embedding
    acts = capture(model, texts, modules=[SITE, "hidden_states.6"], pool="mean", verbose=False)
    X = acts[SITE].astype(np.float64)
    final = acts["hidden_states.6"].astype(np.float64)
    final /= np.linalg.norm(final, axis=1, keepdims=True)
    return model, texts, labels, attributes, train, test, X, final


def test_leace_on_minilm_matches_concept_erasure_and_the_hook(setup) -> None:
    model, texts, labels, _attributes, train, test, X, _ = setup
    y = labels["sentiment"]
    ours = LEACE().fit(X[train], y[train])
    theirs = LeaceFitter.fit(
        torch.tensor(X[train]), torch.nn.functional.one_hot(torch.tensor(y[train]), 2).double()
    ).eraser
    np.testing.assert_allclose(ours.projection_, theirs.P.numpy(), atol=1e-6)
    # The eraser is affine, so applying it to every token inside the model gives exactly the
    # erased mean-pooled activations at that layer.
    test_texts = [texts[i] for i in test]
    with erase(model, SITE, ours):
        hooked = _pooled(model, test_texts, SITE)
    np.testing.assert_allclose(hooked, ours.transform(X[test]), atol=1e-4)


def test_leace_erases_one_attribute_and_spares_the_others(setup) -> None:
    _, _, labels, attributes, train, test, X, _ = setup
    target = "topic"
    Xe = LEACE().fit(X[train], labels[target][train]).transform(X)
    majority = np.bincount(labels[target][test]).max() / len(test)
    # 96 test sentences: the no-information accuracy has sd ~0.045 around 0.25
    assert _probe_accuracy(Xe, labels[target], train, test) <= majority + 0.1
    assert _probe_accuracy(X, labels[target], train, test) >= 0.95
    for other in attributes:
        if other != target:
            before = _probe_accuracy(X, labels[other], train, test)
            after = _probe_accuracy(Xe, labels[other], train, test)
            assert before - after <= 0.03, (other, before, after)


def test_steering_flips_the_final_embedding_probe(setup) -> None:
    model, texts, labels, _, train, test, X, final = setup
    y = labels["sentiment"]
    direction = X[train][y[train] == 1].mean(0) - X[train][y[train] == 0].mean(0)
    probe = _fit_probe(final[train], y[train])
    negative = test[y[test] == 0]
    assert np.mean(probe.predict(final[negative]) == 0) >= 0.9
    with steer(model, SITE, direction, alpha=2.0):
        steered = _embed(model, [texts[i] for i in negative])
    assert np.mean(probe.predict(steered) == 1) >= 0.9
