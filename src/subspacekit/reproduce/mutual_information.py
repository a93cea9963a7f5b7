"""Reproduction: "Accurate Estimation of Mutual Information in High-Dimensional Data"
(Abdelaleem, Martini & Nemenman, arXiv 2506.00330), with two classical anchors.

The paper's synthetic setting: latents (u, v) in R^4 x R^4, jointly Gaussian with equal
per-coordinate correlations chosen so that I(u; v) = I nats, pushed into R^200 by fixed
random injective tanh MLPs (``Embedded(..., 200, 200, "mlp")``), N = 1,024 samples. The
protocol (nested subsamples, extrapolation in 1/N, held-out critic evaluation) applied to
a separable SMILE critic must give a 95 % interval that covers the true MI in at least
80 % of 10 seeds for I ≤ 2 nats, and the raw estimate at small N is visibly biased (the
N/4 level lies well below the N level). Quick mode runs 2 seeds at I = 1 nat.

Anchors with closed-form truth (not paper numbers): KSG on 1-D Gaussians with ρ = 0.9
(I = 0.8304 nats) at n = 5,000 within 0.03, and the mixed estimator of Gao et al. (2017)
on their discrete-continuous example (X uniform on 5 levels, Y | X ~ U[X, X + 2],
I = log 5 - 0.8 log 2 = 1.0549 nats) at n = 4,000 within 0.03.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

from subspacekit.core.backend import import_optional
from subspacekit.errors import UntrustworthyEstimateWarning
from subspacekit.measure.mi_samplers import CorrelatedGaussian, Embedded, SmearedDiscrete
from subspacekit.measure.mutual_information import ksg_mi, mixed_ksg_mi, mutual_information

__all__ = ["reproduce_mutual_information"]

PUBLISHED = {
    "source": "Abdelaleem, Martini & Nemenman 2025, arXiv 2506.00330 (spec papers-2 §26)",
    "claim": "bias-corrected 95% CI covers the true MI in >= 80% of 10 seeds for I <= 2 "
    "nats (K = 200, K_Z = 4); the raw estimate at small N is visibly biased",
}


def reproduce_mutual_information(quick: bool = True) -> dict[str, Any]:
    """Run the high-dimensional coverage check and the two classical anchors.

    Parameters
    ----------
    quick : bool
        Two seeds at I = 1 nat and 300 training steps per critic (well under a minute on
        one core) instead of ten seeds at I = 1 and 2 nats and 500 steps.

    Returns
    -------
    dict
        ``published``, ``measured`` (coverage per I, anchor errors), ``passed``,
        ``tolerance`` and ``details`` (every interval, level means and warnings).
    """
    torch = import_optional("torch", "torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny critics: a second thread only adds synchronisation
    try:
        return _run(quick)
    finally:
        torch.set_num_threads(threads)


def _run(quick: bool) -> dict[str, Any]:
    start = time.perf_counter()
    seeds = range(2) if quick else range(10)
    informations = (1.0,) if quick else (1.0, 2.0)
    critic: dict[str, Any] = {
        "hidden_sizes": (64, 64),
        "embedding_dim": 8,
        "max_steps": 300 if quick else 500,
    }
    runs: list[dict[str, Any]] = []
    for info in informations:
        task = Embedded(CorrelatedGaussian.from_mutual_information(info, 4), 200, 200, "mlp")
        for seed in seeds:
            X, Y = task.sample(1024, random_state=seed)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UntrustworthyEstimateWarning)
                est = mutual_information(X, Y, "smile", random_state=seed, **critic)
            levels = est.details["levels"]
            runs.append(
                {
                    "true_mi": info,
                    "seed": seed,
                    "value": est.value,
                    "ci": est.ci,
                    "covers": est.covers(info),
                    "raw_value": est.details["raw_value"],
                    "level_means": {lv["size"]: lv["mean"] for lv in levels},
                    "small_n_biased": levels[0]["mean"] < levels[-1]["mean"] - 0.1,
                    "warnings": [str(w.message) for w in caught],
                }
            )
    coverage = {
        info: sum(r["covers"] for r in runs if r["true_mi"] == info)
        / sum(r["true_mi"] == info for r in runs)
        for info in informations
    }
    biased = sum(r["small_n_biased"] for r in runs) / len(runs)

    X, Y = CorrelatedGaussian([0.9]).sample(5000, random_state=0)
    ksg_error = abs(ksg_mi(X, Y) - CorrelatedGaussian([0.9]).mutual_information)
    gao = SmearedDiscrete(5, 2)
    Xd, Yd = gao.sample(4000, random_state=0)
    mixed_error = abs(mixed_ksg_mi(Xd, Yd) - gao.mutual_information)

    passed = (
        all(c >= 0.8 for c in coverage.values())
        and biased >= 0.5
        and ksg_error < 0.03
        and mixed_error < 0.03
    )
    return {
        "published": PUBLISHED,
        "measured": {
            "coverage_by_true_mi": coverage,
            "fraction_small_n_visibly_biased": biased,
            "ksg_1d_rho09_n5000_abs_error": ksg_error,
            "mixed_gao_n4000_abs_error": mixed_error,
        },
        "passed": bool(passed),
        "tolerance": "coverage >= 0.8 for every I; N/4 level more than 0.1 nats below the "
        "N level in >= half of the runs; anchors within 0.03 nats",
        "details": {"runs": runs, "seconds": round(time.perf_counter() - start, 1)},
    }
