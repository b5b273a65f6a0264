"""The verdict kinds that are not z-tests: probabilities, distributions, deterministic values.

See :mod:`.verdicts` for the table of kinds and the common interface.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from scipy import stats as sps

from .verdicts import POWER, Verdict, _z_power

__all__ = ["Deterministic", "Distribution", "Probability"]

_ALTERNATIVE = {"equals": "two-sided", "at_most": "greater", "at_least": "less"}


@dataclasses.dataclass(frozen=True)
class Probability(Verdict):
    """The law gives ``P(event)`` of a 0/1 metric: an exact binomial test of the count of successes.

    The run's ``mean`` of a 0/1 metric times its seed count is the count. ``law``:
    ``"equals"`` (two-sided), ``"at_most"`` (the probability is at most the
    prediction: only too many successes contradict it) or ``"at_least"``.
    """

    law: str = "equals"
    name: ClassVar[str] = "probability"
    nominal_is: ClassVar[str] = "upper bound"  # a discrete test is conservative

    def __post_init__(self):
        if self.law not in _ALTERNATIVE:
            raise ValueError(f"law must be one of {', '.join(_ALTERNATIVE)}, got {self.law!r}")

    def test(
        self, predicted: Any, mean: float, sem: float, seeds: int, *, cfg: Any = None, values: np.ndarray | None = None
    ) -> tuple[float, float]:
        p0 = float(predicted)
        if not 0 <= p0 <= 1:
            raise ValueError(f"a probability law must predict a value in [0, 1], got {p0}")
        count = float(mean) * seeds
        k = int(round(count))
        if abs(count - k) > 1e-6 * max(1.0, count) or not 0 <= k <= seeds:
            raise ValueError(f"mean {mean} over {seeds} seeds is not a count of successes: the metric is not 0/1")
        return float(k), float(sps.binomtest(k, seeds, p0, alternative=_ALTERNATIVE[self.law]).pvalue)

    def power_seeds(
        self,
        predicted: Any,
        wrong: Any,
        mean: float,
        std: float,
        level: float,
        *,
        skewness: float = 0.0,
        cfg: Any = None,
    ) -> float:
        # Normal approximation of the binomial test of p0 = wrong when the truth is p1 = predicted.
        p0, p1 = float(wrong), float(predicted)
        if self.law == "at_most":
            delta = p1 - p0
        elif self.law == "at_least":
            delta = p0 - p1
        else:
            delta = abs(p1 - p0)
        if not delta > 0:
            return math.inf
        za = float(sps.norm.isf(level / 2 if self.law == "equals" else level))
        n = ((za * math.sqrt(p0 * (1 - p0)) + _z_power() * math.sqrt(p1 * (1 - p1))) / delta) ** 2
        return max(n, 1.0)

    def extreme(self, statistics: list[float]) -> None:
        return None

    def describe(self) -> str:
        return {
            "equals": "probability: exact two-sided binomial test of the count of successes",
            "at_most": "probability at most: exact one-sided binomial test",
            "at_least": "probability at least: exact one-sided binomial test",
        }[self.law]


def _cdf(dist) -> Callable:
    return dist.cdf if hasattr(dist, "cdf") else dist


@dataclasses.dataclass(frozen=True)
class Distribution(Verdict):
    """The law gives the metric's distribution: a Kolmogorov-Smirnov test of the per-seed values.

    The law's ``predict(cfg, n)`` returns, for each generation, a distribution: an
    object with a ``cdf`` (a frozen :mod:`scipy.stats` distribution; its ``mean()``
    fills the report's ``predicted`` column) or a CDF function. The check needs every
    seed's value, which it recomputes from the run's seeds
    (:func:`model_collapse.experiments.simulate_seeds`: the same values the run reduced).
    """

    name: ClassVar[str] = "distribution"
    needs_values: ClassVar[bool] = True

    def test(
        self, predicted: Any, mean: float, sem: float, seeds: int, *, cfg: Any = None, values: np.ndarray | None = None
    ) -> tuple[float, float]:
        if values is None:
            raise ValueError("a distribution check needs the per-seed values")
        res = sps.kstest(np.asarray(values, np.float64), _cdf(predicted))
        return float(res.statistic), float(res.pvalue)

    def power_seeds(
        self,
        predicted: Any,
        wrong: Any,
        mean: float,
        std: float,
        level: float,
        *,
        skewness: float = 0.0,
        cfg: Any = None,
    ) -> float:
        # Dvoretzky-Kiefer-Wolfowitz: the empirical CDF lies within t/sqrt(N) of the truth
        # with probability >= POWER (t = sqrt(log(2/(1-POWER))/2)), and the KS test rejects
        # beyond c/sqrt(N) (c = sqrt(log(2/level)/2) bounds its critical value), so a wrong
        # CDF at sup-distance D is rejected once sqrt(N) D >= c + t.
        grid = _grid(predicted, wrong)
        gap = float(np.max(np.abs(_cdf(predicted)(grid) - _cdf(wrong)(grid)))) if grid.size else 0.0
        if not gap > 0:
            return math.inf
        c = math.sqrt(math.log(2 / level) / 2)
        t = math.sqrt(math.log(2 / (1 - POWER)) / 2)
        return max(((c + t) / gap) ** 2, 1.0)

    def extreme(self, statistics: list[float]) -> None:
        return None

    def describe(self) -> str:
        return "distribution: Kolmogorov-Smirnov test of the per-seed values"


def _grid(*dists) -> np.ndarray:
    """Points at which to compare CDFs: each distribution's quantiles where it has ``ppf``."""
    q = np.linspace(0.0005, 0.9995, 2000)
    pts = [np.asarray(d.ppf(q), np.float64) for d in dists if hasattr(d, "ppf")]
    pts = np.concatenate(pts) if pts else np.array([])
    return pts[np.isfinite(pts)]


@dataclasses.dataclass(frozen=True)
class Deterministic(Verdict):
    """The metric is deterministic (standard error 0): equal to the prediction within a tolerance.

    Passes iff ``|mean - predicted| <= rtol |predicted| + atol``; its p-value is 1 (pass)
    or 0 (fail), so Holm's procedure always rejects a failed one and never a passed one.
    """

    rtol: float = 1e-9
    atol: float = 0.0
    name: ClassVar[str] = "deterministic"

    def _tol(self, predicted: float) -> float:
        return self.rtol * abs(predicted) + self.atol

    def test(
        self, predicted: Any, mean: float, sem: float, seeds: int, *, cfg: Any = None, values: np.ndarray | None = None
    ) -> tuple[float, float]:
        gap = abs(float(mean) - float(predicted))
        return gap, (1.0 if gap <= self._tol(float(predicted)) else 0.0)

    def power_seeds(
        self,
        predicted: Any,
        wrong: Any,
        mean: float,
        std: float,
        level: float,
        *,
        skewness: float = 0.0,
        cfg: Any = None,
    ) -> float:
        return 1.0 if abs(float(wrong) - float(predicted)) > self._tol(float(predicted)) else math.inf

    def extreme(self, statistics: list[float]) -> None:
        return None

    def describe(self) -> str:
        return f"deterministic: |mean - predicted| <= {self.rtol:g} |predicted| + {self.atol:g}"
