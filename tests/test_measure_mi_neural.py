"""Neural variational bounds: small CPU runs (2 threads, a few hundred steps).

Each bound is a lower bound on I(X;Y) evaluated on held-out pairs, so the checks are:
it does not exceed the truth beyond noise, it learns most of the information, the
InfoNCE ceiling and overfitting are flagged, and the bound formulas on a fixed score
matrix equal their definitions."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

pytest.importorskip("torch")

from subspacekit.errors import (
    NotFittedError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.measure.mi_neural import (
    NeuralMIEstimator,
    _heldout_bound,
    neural_mi,
)
from subspacekit.measure.mi_samplers import CorrelatedGaussian
from subspacekit.measure.mutual_information import mutual_information

TRUTH = -0.5 * math.log(1 - 0.81)  # ρ = 0.9: 0.830 nats
SMALL = {"hidden_sizes": (32, 32), "max_steps": 300, "random_state": 0}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # These networks are tiny: a second thread only adds synchronisation, which on a
    # loaded two-core machine slows training down by an order of magnitude.
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def gaussian_pairs() -> tuple[np.ndarray, np.ndarray]:
    return CorrelatedGaussian([0.9]).sample(2000, random_state=0)


@pytest.mark.parametrize(
    ("bound", "critic"),
    [
        ("infonce", "separable"),
        ("nwj", "separable"),
        ("mine", "separable"),
        ("smile", "separable"),
        ("smile", "probabilistic"),
        ("infonce", "concat"),
    ],
)
def test_bounds_learn_most_of_the_information_without_exceeding_it(
    gaussian_pairs, bound: str, critic: str
) -> None:
    X, Y = gaussian_pairs
    # The concat critic scores all B² pairs of a batch through its MLP: a smaller batch.
    batch = 64 if critic == "concat" else 128
    est = NeuralMIEstimator(bound, critic, batch_size=batch, **SMALL).fit(X, Y)
    assert est.mi_ <= TRUTH + 3 * est.stderr_  # a lower bound, up to held-out noise
    assert est.mi_ > TRUTH - 0.25  # 300 small steps learn most of it
    assert 0 < est.stderr_ < 0.1 and est.diagnostics_["warnings"] == []
    assert est.best_step_ in [step for step, _, _ in est.curve_]


def test_heldout_bounds_equal_their_definitions() -> None:
    rng = np.random.default_rng(0)
    F = rng.standard_normal((6, 6)) + 2 * np.eye(6)
    M, off = 6, ~np.eye(6, dtype=bool)
    infonce = np.mean(np.diag(F) - np.log(np.exp(F).mean(axis=1)))
    dv = np.mean(np.diag(F)) - np.log(np.exp(F[off]).mean())
    nwj = np.mean(np.diag(F)) - np.exp(F[off] - 1).mean()
    smile = np.mean(np.diag(F)) - np.log(np.exp(np.clip(F[off], -0.5, 0.5)).mean())
    assert _heldout_bound(F, "infonce", 5.0)[0] == pytest.approx(infonce)
    assert _heldout_bound(F, "infonce", 5.0)[2] == pytest.approx(math.log(M))
    assert _heldout_bound(F, "mine", 5.0)[0] == pytest.approx(dv)
    assert _heldout_bound(F, "nwj", 5.0)[0] == pytest.approx(nwj)
    assert _heldout_bound(F, "smile", 0.5)[0] == pytest.approx(smile)


def test_infonce_at_its_log_batch_ceiling_warns() -> None:
    task = CorrelatedGaussian.from_mutual_information(5.0, n_pairs=5)  # 5 nats ≫ log 16
    X, Y = task.sample(2000, random_state=0)
    est = NeuralMIEstimator("infonce", batch_size=16, **SMALL).fit(X, Y)
    assert est.diagnostics_["at_ceiling"]
    assert est.mi_ < math.log(16) + 3 * est.stderr_ < task.mutual_information
    with pytest.warns(UntrustworthyEstimateWarning, match="ceiling"):
        mutual_information(X, Y, "infonce", ci=None, batch_size=16, **SMALL)


def test_overfitting_critic_is_flagged() -> None:
    X, Y = CorrelatedGaussian([0.3, 0.3], dim_x=10, dim_y=10).sample(200, random_state=0)
    est = NeuralMIEstimator(
        "infonce",
        hidden_sizes=(128, 128),
        max_steps=300,
        eval_every=300,
        learning_rate=3e-3,
        random_state=0,
    ).fit(X, Y)
    assert est.diagnostics_["overfit"] and est.mi_train_ > est.mi_ + 1.0


def test_protocol_runs_neural_levels_with_heldout_errors(gaussian_pairs) -> None:
    X, Y = gaussian_pairs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrustworthyEstimateWarning)
        est = mutual_information(
            X, Y, "smile", random_state=0, hidden_sizes=(32, 32), max_steps=200
        )
    assert [lv["n_chunks"] for lv in est.details["levels"]] == [1, 1, 1, 1]
    assert est.details["interval"] == "subsampling" and est.ci[0] < est.value < est.ci[1]
    assert est.ci[0] < TRUTH + 0.05 and est.value > TRUTH - 0.3


def test_same_seed_same_estimate_and_errors(gaussian_pairs) -> None:
    X, Y = gaussian_pairs
    a = neural_mi(X[:600], Y[:600], "nwj", hidden_sizes=(16,), max_steps=50, random_state=3)
    b = neural_mi(X[:600], Y[:600], "nwj", hidden_sizes=(16,), max_steps=50, random_state=3)
    assert a == b
    with pytest.raises(ValidationError, match="bound"):
        NeuralMIEstimator("jsd").fit(X, Y)
    with pytest.raises(TooFewSamplesError):
        NeuralMIEstimator().fit(X[:40], Y[:40])
    with pytest.raises(NotFittedError):
        NeuralMIEstimator().check_is_fitted()
