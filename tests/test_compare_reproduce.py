"""Convergent-learning replication on real data (MNIST test split), quick mode."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")


@pytest.mark.slow
def test_convergent_learning_rotation_control_on_mnist(data_root):
    from subspacekit.reproduce.compare import reproduce_convergent_learning

    # One torch thread: on a shared 2-core machine two threads can be 10x slower here.
    result = reproduce_convergent_learning(quick=True, data_root=data_root, n_threads=1)
    details = result["details"]
    assert min(details["accuracy"]) > 0.85  # the networks did learn

    rotation = details["rotation"]
    # Same function to 1e-6 (float64), and every subspace-level similarity unchanged.
    assert rotation["function_max_abs_change"] <= 1e-6
    for name, delta in rotation["invariance_deltas"].items():
        assert delta <= 1e-6, name

    # Unit matching collapses: the close partners disappear and the mean matched
    # correlation falls to the floor of random mixtures of net 1's own units.
    before = details["layers"]["hidden1"]
    after = rotation["hidden1_after_rotation"]
    assert after["one_to_one_close_fraction"] <= before["one_to_one_close_fraction"] / 3
    assert after["one_to_one_mean"] <= rotation["self_rotation_floor_one_to_one"] + 0.02
    assert after["one_to_one_mean"] < before["one_to_one_mean"] - 0.05

    for layer in ("hidden1", "hidden2"):
        r = details["layers"][layer]
        assert r["semi_mean"] >= r["one_to_one_mean"]
        assert r["one_to_one_mean"] >= r["control_one_to_one_mean"] + 0.1
        # Whole-layer (subspace) similarity is much higher than unit-level matching.
        assert r["cka_linear"] >= r["one_to_one_mean"] + 0.1
    assert result["passed"] is True
