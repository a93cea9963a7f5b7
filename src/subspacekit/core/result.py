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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Estimate"]


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
