"""Small result objects for estimates that come with uncertainty.

Estimators of information, dimension and similarity return an :class:`Estimate`:
the value, a confidence interval and/or standard error, a p-value when a test was
run, the method and the sample size. It converts with ``float()`` and prints on one
line, so ``float(intrinsic_dimension(X))`` and ``print(cka(X, Y, ci=0.95))`` both read
naturally.

Examples
--------
>>> est = Estimate(2.0, ci=(1.5, 2.5), method="twonn", n=500, confidence=0.95)
>>> float(est)
2.0
>>> est
Estimate(2.0000 [1.5000, 2.5000] at 95%, method='twonn', n=500)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Estimate", "bootstrap_interval", "permutation_pvalue"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with optional interval, standard error and p-value.

    Parameters
    ----------
    value : float
        The estimate.
    ci : tuple of float, optional
        ``(low, high)`` confidence interval at level ``confidence``.
    stderr : float, optional
        Standard error of ``value``.
    pvalue : float, optional
        p-value of a test (e.g. a permutation test against no association).
    method : str
        Name of the estimator.
    n : int, optional
        Number of samples the estimate used.
    confidence : float, optional
        Level of ``ci``.
    unit : str, optional
        Unit of ``value`` (e.g. ``"nats"``).
    details : Mapping
        Anything else worth keeping (per-subsample values, diagnostics).
    """

    value: float
    ci: tuple[float, float] | None = None
    stderr: float | None = None
    pvalue: float | None = None
    method: str = ""
    n: int | None = None
    confidence: float | None = None
    unit: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        parts = [f"{self.value:.4f}"]
        if self.ci is not None:
            level = f" at {self.confidence:.0%}" if self.confidence is not None else ""
            parts[0] += f" [{self.ci[0]:.4f}, {self.ci[1]:.4f}]{level}"
        if self.stderr is not None:
            parts[0] += f" ± {self.stderr:.4f} (s.e.)"
        if self.unit:
            parts[0] += f" {self.unit}"
        if self.pvalue is not None:
            parts.append(f"p={self.pvalue:.4g}")
        if self.method:
            parts.append(f"method={self.method!r}")
        if self.n is not None:
            parts.append(f"n={self.n}")
        return f"Estimate({', '.join(parts)})"

    __str__ = __repr__

    def covers(self, truth: float) -> bool:
        """True when ``truth`` lies inside the confidence interval.

        Examples
        --------
        >>> Estimate(1.0, ci=(0.9, 1.1)).covers(1.05)
        True
        """
        if self.ci is None:
            raise ValueError("this estimate has no confidence interval")
        return self.ci[0] <= truth <= self.ci[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dictionary of the fields (details included when serialisable)."""
        out: dict[str, Any] = {
            "value": float(self.value),
            "ci": list(self.ci) if self.ci is not None else None,
            "stderr": self.stderr,
            "pvalue": self.pvalue,
            "method": self.method,
            "n": self.n,
            "confidence": self.confidence,
            "unit": self.unit,
        }
        return out


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    n_resamples: int = 200,
    confidence: float = 0.95,
    random_state: Any = None,
) -> tuple[tuple[float, float], float, np.ndarray]:
    """Percentile bootstrap over sample indices.

    ``statistic(idx)`` must compute the statistic on the rows ``idx`` (drawn with
    replacement from ``range(n)``). Returns ``((low, high), stderr, replicates)``;
    non-finite replicates are dropped (and counted out of the interval).

    Examples
    --------
    >>> x = np.arange(100.0)
    >>> (low, high), se, reps = bootstrap_interval(lambda i: x[i].mean(), 100, random_state=0)
    >>> low < 49.5 < high
    True
    """
    from subspacekit.validation import check_random_state

    rng = check_random_state(random_state)
    reps = np.array([statistic(rng.randint(0, n, size=n)) for _ in range(n_resamples)], dtype=float)
    good = reps[np.isfinite(reps)]
    if good.size < 2:
        return (math.nan, math.nan), math.nan, reps
    alpha = 1.0 - confidence
    low, high = np.quantile(good, [alpha / 2, 1 - alpha / 2])
    return (float(low), float(high)), float(good.std(ddof=1)), reps


def permutation_pvalue(observed: float, null_values: np.ndarray, *, greater: bool = True) -> float:
    """One-sided permutation p-value with the +1 correction, (1 + #{null >= obs}) / (1 + N).

    Examples
    --------
    >>> permutation_pvalue(5.0, np.zeros(99))
    0.01
    """
    null_values = np.asarray(null_values, dtype=float)
    extreme = (null_values >= observed) if greater else (null_values <= observed)
    return float((1 + extreme.sum()) / (1 + null_values.size))
