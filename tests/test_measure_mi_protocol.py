"""The mutual-information protocol: interval coverage over seeds, agreement under
invertible transforms, warnings where an estimate cannot be trusted, units and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from subspacekit.core.result import Estimate
from subspacekit.errors import (
    DimensionMismatchError,
    NonFiniteError,
    TooFewSamplesError,
    UntrustworthyEstimateWarning,
    ValidationError,
)
from subspacekit.measure.mi_samplers import (
    CorrelatedGaussian,
    Embedded,
    GaussianClasses,
    SmearedDiscrete,
    Transformed,
)
from subspacekit.measure.mutual_information import mutual_information


def _quiet(*args, **kwargs) -> Estimate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrustworthyEstimateWarning)
        return mutual_information(*args, **kwargs)


@pytest.mark.slow
def test_ksg_interval_covers_the_truth_in_at_least_90_of_100_seeds() -> None:
    task = CorrelatedGaussian([0.8, 0.5])  # 2 x 2 dimensions, I = 0.6547 nats
    covered = 0
    for seed in range(100):
        X, Y = task.sample(500, random_state=seed)
        est = _quiet(X, Y, "ksg", ci=0.95, random_state=seed)
        covered += est.covers(task.mutual_information)
    assert covered >= 90


def test_estimate_fields_units_and_determinism() -> None:
    X, Y = CorrelatedGaussian([0.9]).sample(2000, random_state=0)
    est = mutual_information(X, Y, "ksg", random_state=1)
    again = mutual_information(X, Y, "ksg", random_state=1)
    bits = mutual_information(X, Y, "ksg", random_state=1, units="bits")
    assert isinstance(est, Estimate) and est.method == "ksg" and est.n == 2000
    assert float(est) == again.value and est.ci == again.ci
    assert est.ci[0] < float(est) < est.ci[1] and est.unit == "nats"
    assert bits.value == pytest.approx(est.value / math.log(2))
    assert bits.ci[1] == pytest.approx(est.ci[1] / math.log(2))
    assert [lv["size"] for lv in est.details["levels"]] == [250, 500, 1000, 2000]
    assert est.details["levels"][1]["n_chunks"] == 4
    assert est.covers(-0.5 * math.log(1 - 0.81))
    # The correction is the extrapolation of the level means to 1/n = 0.
    assert est.value == pytest.approx(est.details["raw_value"] + est.details["bias_correction"])


@pytest.mark.parametrize("transform", ["asinh", "half_cube", "normal_cdf", "wiggly"])
def test_invertibly_transformed_data_agree_within_the_intervals(transform: str) -> None:
    task = CorrelatedGaussian([0.8, 0.5])
    X, Y = task.sample(2000, random_state=3)
    plain = _quiet(X, Y, "ksg", random_state=0)
    warped = Transformed(task, transform, transform)
    Xt, Yt = warped.transforms[0](X), warped.transforms[1](Y)
    bent = _quiet(Xt, Yt, "ksg", random_state=0)
    assert bent.covers(plain.value) and plain.covers(bent.value)
    assert bent.covers(task.mutual_information)


def test_two_dimensional_latent_in_50_dimensions_brackets_or_warns() -> None:
    task = Embedded(CorrelatedGaussian.from_mutual_information(1.0, 2), 50, 50, "mlp")
    X, Y = task.sample(1000, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UntrustworthyEstimateWarning)
        est = mutual_information(X, Y, "ksg", random_state=0)
    warned = any(issubclass(w.category, UntrustworthyEstimateWarning) for w in caught)
    assert est.covers(1.0) or warned


def test_unsettled_high_dimensional_estimate_warns() -> None:
    # Ten correlated pairs (20 joint dimensions): KSG at n = 800 is far below 2 nats and
    # still climbing with n.
    task = CorrelatedGaussian.from_mutual_information(2.0, 10)
    X, Y = task.sample(800, random_state=0)
    with pytest.warns(UntrustworthyEstimateWarning, match="not settled"):
        est = mutual_information(X, Y, "ksg", random_state=0)
    assert est.details["settled"] is False
    assert est.details["change_per_doubling"] > 0.05


def test_estimate_above_log_n_warns() -> None:
    X, Y = CorrelatedGaussian([0.99999]).sample(60, random_state=0)  # I = 5.4 nats
    with pytest.warns(UntrustworthyEstimateWarning, match="exceeds log"):
        mutual_information(X, Y, "gaussian", ci=None)


def test_gaussian_bootstrap_and_jackknife_intervals_cover() -> None:
    task = CorrelatedGaussian([0.6, 0.3], dim_x=3, dim_y=2, rotation_seed=0)
    covered = {"jackknife": 0, "bootstrap": 0}
    ratios = []
    for seed in range(20):
        X, Y = task.sample(1000, random_state=seed)
        jack = _quiet(X, Y, "gaussian", random_state=seed)
        boot = _quiet(X, Y, "gaussian", interval="bootstrap", n_resamples=100, random_state=seed)
        covered["jackknife"] += jack.covers(task.mutual_information)
        covered["bootstrap"] += boot.covers(task.mutual_information)
        ratios.append(boot.stderr / jack.stderr)
    # 95 % intervals: 17 or more of 20 (a binomial(20, 0.95) falls below with prob. 1.6 %).
    assert covered["jackknife"] >= 17 and covered["bootstrap"] >= 17
    assert 0.7 < np.median(ratios) < 1.4


def test_mixed_binned_and_classifier_methods_through_the_protocol() -> None:
    task = SmearedDiscrete(5, 2)
    X, Y = task.sample(3000, random_state=1)
    assert _quiet(X, Y, "mixed", random_state=0).covers(task.mutual_information)
    G, labels = GaussianClasses(3, 2.0, dim=2).sample(3000, random_state=0)
    est = _quiet(G, labels, "classifier", random_state=0)
    truth = GaussianClasses(3, 2.0, dim=2).mutual_information
    assert est.covers(truth) and est.details["interval"] == "subsampling"
    Xb, Yb = CorrelatedGaussian([0.9]).sample(5000, random_state=0)
    assert abs(float(_quiet(Xb, Yb, "binned", random_state=0)) - 0.8304) < 0.08


def test_protocol_errors() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((300, 2)), rng.standard_normal((300, 1))
    with pytest.raises(DimensionMismatchError):
        mutual_information(X, Y[:200])
    bad = Y.copy()
    bad[0, 0] = np.inf
    with pytest.raises(NonFiniteError, match="infinite"):
        mutual_information(X, bad)
    const = np.ones((300, 1))
    with pytest.raises(ValidationError, match="constant column"):
        mutual_information(X, const)
    with pytest.raises(ValidationError, match="method"):
        mutual_information(X, Y, method="kraskov")
    with pytest.raises(ValidationError, match="units"):
        mutual_information(X, Y, units="shannons")
    with pytest.raises(ValidationError, match="bootstrap"):
        mutual_information(X, Y, "ksg", interval="bootstrap")
    with pytest.raises(ValidationError, match="unknown option"):
        mutual_information(X, Y, "ksg", n_bins=4)
    with pytest.raises(TooFewSamplesError, match="levels"):
        mutual_information(X[:50], Y[:50], "ksg")
    with pytest.raises(ValidationError, match="discrete class labels"):
        mutual_information(X, Y, "classifier")
