"""The probe corpus: size, exact balance and independence, determinism, and labels that
agree with the words of each sentence."""

from __future__ import annotations

import re
from itertools import product

import numpy as np
import pytest

from subspacekit.data import PROBE_ATTRIBUTES, probe_corpus
from subspacekit.errors import ValidationError


@pytest.fixture(scope="module")
def corpus():
    return probe_corpus()


def test_size_attributes_and_uniqueness(corpus) -> None:
    assert len(corpus.texts) >= 2000 and len(corpus.texts) == 2400
    assert len(set(corpus.texts)) == len(corpus.texts)
    assert len(corpus.attributes) >= 4
    assert corpus.label_names == PROBE_ATTRIBUTES
    for text in corpus.texts:
        assert text[0].isupper() and text.endswith(".") and 4 <= len(text.split()) <= 14


def test_attributes_balanced_and_independent(corpus) -> None:
    labels = corpus.labels
    for name, values in PROBE_ATTRIBUTES.items():
        counts = np.bincount(labels[name], minlength=len(values))
        assert np.all(counts == len(corpus.texts) // len(values)), name
    # every combination of the four attributes occurs equally often: the joint law is the
    # product of the (uniform) marginals, so the attributes are independent
    cells = np.ravel_multi_index(
        [labels[a] for a in corpus.attributes],
        [len(PROBE_ATTRIBUTES[a]) for a in corpus.attributes],
    )
    assert np.all(np.bincount(cells, minlength=48) == 50)
    # the template is also independent of every attribute: each template is used equally
    # often for every value of every attribute
    for name in corpus.attributes:
        table = np.zeros((4, len(PROBE_ATTRIBUTES[name])), int)
        np.add.at(table, (corpus.template, labels[name]), 1)
        assert np.all(table == table[:, :1]), (name, table)


def test_deterministic_and_seeded() -> None:
    a, b = probe_corpus(5), probe_corpus(5)
    assert a.texts == b.texts
    for name in a.attributes:
        np.testing.assert_array_equal(a.labels[name], b.labels[name])
    assert probe_corpus(5, random_state=1).texts != a.texts
    unshuffled = probe_corpus(5, shuffle=False)
    assert sorted(unshuffled.texts) == sorted(a.texts)


_POSITIVE = {"wonderful", "delightful", "excellent", "brilliant", "superb", "lovely",
             "fantastic", "splendid", "happily", "luckily", "fortunately", "thankfully",
             "cheerful", "talented", "friendly", "kind", "joy", "pride", "smile", "enthusiasm"}  # fmt: skip
_NEGATIVE = {"awful", "terrible", "dreadful", "disappointing", "horrible", "miserable", "poor",
             "dismal", "sadly", "unfortunately", "regrettably", "annoyingly", "grumpy",
             "careless", "rude", "clumsy", "frustration", "dread", "frown", "reluctance"}  # fmt: skip
_TOPIC_WORDS = {
    "food": {"soup", "bread", "dinner", "salad", "sauce"},
    "sports": {"match", "game", "race", "team", "season"},
    "music": {"song", "album", "concert", "melody", "tune"},
    "technology": {"app", "server", "laptop", "software", "website"},
}


def test_labels_agree_with_the_words(corpus) -> None:
    # checked from the surface text with word lists written here, not by the generator
    names = {a: corpus.label_names[a] for a in corpus.attributes}
    for i, text in enumerate(corpus.texts):
        words = set(re.findall(r"[a-z]+", text.lower()))
        sentiment = names["sentiment"][corpus.labels["sentiment"][i]]
        tense = names["tense"][corpus.labels["tense"][i]]
        number = names["number"][corpus.labels["number"][i]]
        topic = names["topic"][corpus.labels["topic"][i]]
        has_positive, has_negative = bool(words & _POSITIVE), bool(words & _NEGATIVE)
        assert (has_positive, has_negative) == (
            (True, False) if sentiment == "positive" else (False, True)
        ), text
        assert ("will" in words) == (tense == "future"), text
        if corpus.template[i] == 0:
            assert ("was" in words) == (tense == "past"), text
            assert ("is" in words) == (tense == "present"), text
        topic_hits = [t for t, vocab in _TOPIC_WORDS.items() if words & vocab]
        assert topic_hits == [topic], text
        # the subject noun follows the determiner (and an optional attitude adjective)
        tokens = re.findall(r"[A-Za-z]+", text)
        det_at = next(k for k, w in enumerate(tokens) if w.lower() in {"the", "our", "my"})
        after = tokens[det_at + 1 : det_at + 3]
        subject = after[1] if after[0].lower() in _POSITIVE | _NEGATIVE else after[0]
        assert subject.endswith("s") == (number == "plural"), text


def test_all_cells_reachable_and_bounds() -> None:
    small = probe_corpus(1)
    seen = set(zip(*(small.labels[a] for a in small.attributes), strict=True))
    assert seen == set(product(*(range(len(v)) for v in PROBE_ATTRIBUTES.values())))
    with pytest.raises(ValidationError, match="n_per_cell"):
        probe_corpus(0)
