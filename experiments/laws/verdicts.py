"""The kinds of law, each an object that owns its test.

A law's *verdict* turns what the simulation measured at one generation into a
statistic and a p-value under the law, and says:

* :meth:`Verdict.test`: ``(statistic, p_value)`` from the prediction and the run's
  mean, standard error and seed count (and, for :class:`Distribution`, the per-seed
  values). A small p-value contradicts the law.
* :meth:`Verdict.passes`: ``p_value > level``, where ``level`` is the check's share of
  the family-wise false-alarm rate (Holm's step-down procedure decides it; see
  :mod:`.check`).
* :meth:`Verdict.refusal`: ``None``, or why no honest p-value exists at this seed
  count (the z-based kinds: a skewed metric's z-score tail; see
  :mod:`model_collapse.theory.tails`).
* :meth:`Verdict.power_seeds`: the seed count from which the same test rejects a
  deliberately wrong prediction (the law's twin) with probability :data:`POWER`.

The kinds:

=================  ==========================================================  ===========
kind               passes at level ``a`` iff                                    false alarms
=================  ==========================================================  ===========
``expectation``    ``|z| < z(a/2)``, ``z = (mean - predicted)/sem``             exact (CLT)
``upper_bound``    ``z < z(a)`` (the mean may lie far below the bound)          at most a
``lower_bound``    ``z > -z(a)``                                                at most a
``asymptotic``     ``|mean - predicted| <= tol(cfg) |predicted| + z' sem``      at most a
``probability``    exact binomial test of the count ``mean * seeds`` of a 0/1   at most a
                   metric: ``p > a``
``distribution``   Kolmogorov-Smirnov test of the per-seed values against the   exact
                   predicted CDF: ``p > a``
``deterministic``  ``|mean - predicted| <= rtol |predicted| + atol`` (no seeds  n/a
                   involved: a metric whose standard error is 0)
=================  ==========================================================  ===========

``z(a)`` is the upper ``a`` quantile of the standard normal. The asymptotic kind is
for deterministic equivalents whose bias is of order ``1/size``: the null hypothesis
is ``|E metric - predicted| <= tol(cfg) |predicted|``, whose exact p-value for the
observed ``x = |mean - predicted|/sem`` and ``t = tol |predicted|/sem`` is
``P(|N(t, 1)| >= x) = Phi(t - x) + Phi(-t - x)`` (the largest over the null, reached
at a bias of exactly ``tol |predicted|``), so ``z'`` lies between ``z(a)`` and
``z(a/2)``. ``tol(cfg)`` must shrink with the size (``c/d``, say): register such a law
at two sizes, so that the report shows the gap closing.

A z-kind whose standard error is 0 (a metric that is deterministic at that
generation) is not a z-test: it passes iff the mean equals the prediction up to float
rounding (``1e-9`` relative), never by exact float equality.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from scipy import stats as sps

from ...theory import tails as theory_tails

__all__ = [
    "POWER",
    "VERDICTS",
    "Asymptotic",
    "Deterministic",
    "Distribution",
    "Expectation",
    "LowerBound",
    "Probability",
    "UpperBound",
    "Verdict",
    "as_verdict",
]

POWER = 0.99
_ROUNDING = 1e-9  # relative tolerance of a z-kind whose standard error is 0


def _z_power() -> float:
    return float(sps.norm.isf(1 - POWER))


_SIDE = {2: "two-sided", 1: "upper", -1: "lower"}  # the tail a z-test of each side rejects in


class Verdict(abc.ABC):
    """The interface every kind implements (see the module docstring)."""

    name: ClassVar[str]
    #: ``"exact"`` if a correct law is rejected at exactly the nominal rate (up to the
    #: approximation the test rests on), ``"upper bound"`` if at most at that rate.
    nominal_is: ClassVar[str] = "exact"
    #: the statistic is a z-score (reported in the ``z`` column and by ``max |z|``).
    z_score: ClassVar[bool] = False
    #: the test needs every seed's value, not only the mean and its standard error.
    needs_values: ClassVar[bool] = False

    @abc.abstractmethod
    def test(
        self, predicted: Any, mean: float, sem: float, seeds: int, *, cfg: Any = None, values: np.ndarray | None = None
    ) -> tuple[float, float]:
        """``(statistic, p_value)`` of one generation's check under the law."""

    def passes(self, p_value: float, level: float) -> bool:
        """Whether a check with this p-value passes at ``level`` (its share of the family-wise rate)."""
        return bool(p_value > level)

    def critical(self, level: float) -> float | None:
        """The statistic's critical value at ``level`` (``None`` where the statistic is not a z-score)."""
        return None

    def refusal(self, skewness: float, seeds: int, level: float) -> str | None:
        """``None``, or why no honest p-value exists for a metric of this skewness at this seed count."""
        return None

    def honest_seeds(self, skewness: float | np.ndarray, level: float) -> np.ndarray:
        """The fewest seeds at which :meth:`refusal` returns ``None`` (1 where it never refuses)."""
        return np.ones(np.shape(skewness))

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
        """Seeds from which the test rejects the prediction ``wrong`` with probability >= :data:`POWER`.

        ``predicted`` is the law's prediction, ``mean`` and ``std`` what the run measured
        (the truth, as far as the run knows it). ``inf`` if ``wrong`` is not separable.
        """
        return math.inf

    def extreme(self, statistics: list[float]) -> float | None:
        """The statistic most against the law (``max |z|`` for a two-sided z)."""
        return max((abs(s) for s in statistics), default=None)

    def describe(self) -> str:
        """One line: what passing means."""
        return self.name


# --------------------------------------------------------------------------------------
# z-tests on the mean (the central limit theorem; refused where the tail is dishonest)


class _ZTest(Verdict):
    z_score = True
    sides: ClassVar[int] = 2  # 2: two-sided; +1: only large z contradicts; -1: only small z

    def critical(self, level: float) -> float:
        return float(sps.norm.isf(level / 2 if self.sides == 2 else level))

    def _p(self, z: float) -> float:
        if self.sides == 2:
            return float(2 * sps.norm.sf(abs(z)))
        return float(sps.norm.sf(self.sides * z))

    def test(
        self, predicted: Any, mean: float, sem: float, seeds: int, *, cfg: Any = None, values: np.ndarray | None = None
    ) -> tuple[float, float]:
        predicted, mean, sem = float(predicted), float(mean), float(sem)
        if not sem > 0:
            ok = abs(mean - predicted) <= _ROUNDING * max(abs(predicted), abs(mean))
            if ok:
                return 0.0, 1.0
            z = math.copysign(math.inf, mean - predicted)
            return z, self._p(z)
        z = (mean - predicted) / sem
        return z, self._p(z)

    def refusal(self, skewness: float, seeds: int, level: float) -> str | None:
        # Only the tail the test rejects in counts (Hall 1992): positive skew inflates the
        # lower tail of the Studentized mean and thins the upper one, so an upper-bound
        # check is conservative there and is not refused.
        zc, side = self.critical(level), _SIDE[self.sides]
        err = float(theory_tails.edgeworth_tail_error(skewness, seeds, zc, side))
        if err <= theory_tails.HONEST_RELATIVE_ERROR:
            return None
        if not np.isfinite(skewness):
            return "the metric's variance or skewness is infinite for this config: no z-score is honest"
        need = float(theory_tails.seeds_for_honest_z(skewness, zc, side=side))
        return (
            f"skewness {float(skewness):.3g}: with {seeds} seeds the z-score's {side} tail is off by {err:.2g}x "
            f"its nominal rate; needs >= {int(need):,} seeds"
        )

    def honest_seeds(self, skewness: float | np.ndarray, level: float) -> np.ndarray:
        return np.asarray(
            theory_tails.seeds_for_honest_z(skewness, self.critical(level), side=_SIDE[self.sides]), np.float64
        )

    def _delta(self, predicted, wrong, mean) -> float:
        return abs(float(predicted) - float(wrong))

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
        # The z-check with standard error std/sqrt(N) rejects a prediction off by delta
        # with probability >= POWER once sqrt(N) delta/std >= z* + z_POWER (one tail
        # suffices); and the check must not be refused at N.
        delta = self._delta(predicted, wrong, mean)
        honest = float(self.honest_seeds(skewness, level))
        if not (delta > 0 and np.isfinite(honest) and np.isfinite(std)):
            return math.inf
        needed = ((self.critical(level) + _z_power()) * float(std) / delta) ** 2
        return max(needed, honest, 1.0)


@dataclasses.dataclass(frozen=True)
class Expectation(_ZTest):
    """The law gives ``E metric`` exactly: a two-sided z-test."""

    name: ClassVar[str] = "expectation"
    sides: ClassVar[int] = 2

    def describe(self) -> str:
        return "exact expectation: two-sided z-test on the mean"


@dataclasses.dataclass(frozen=True)
class UpperBound(_ZTest):
    """The law bounds ``E metric`` from above: one-sided (only a mean above the bound contradicts it)."""

    name: ClassVar[str] = "upper_bound"
    nominal_is: ClassVar[str] = "upper bound"
    sides: ClassVar[int] = 1

    def _delta(self, predicted, wrong, mean):
        return float(mean) - float(wrong)  # how far the true mean exceeds the (too tight) wrong bound

    def extreme(self, statistics: list[float]) -> float | None:
        return max(statistics, default=None)

    def describe(self) -> str:
        return "upper bound on the expectation: one-sided z-test (a loose bound passes)"


@dataclasses.dataclass(frozen=True)
class LowerBound(_ZTest):
    """The law bounds ``E metric`` from below: one-sided (only a mean below the bound contradicts it)."""

    name: ClassVar[str] = "lower_bound"
    nominal_is: ClassVar[str] = "upper bound"
    sides: ClassVar[int] = -1

    def _delta(self, predicted, wrong, mean):
        return float(wrong) - float(mean)

    def extreme(self, statistics: list[float]) -> float | None:
        return max((-s for s in statistics), default=None)

    def describe(self) -> str:
        return "lower bound on the expectation: one-sided z-test (a loose bound passes)"


@dataclasses.dataclass(frozen=True)
class Asymptotic(_ZTest):
    """A deterministic equivalent: ``E metric = predicted (1 + O(tol))`` with ``tol(cfg)`` shrinking with size.

    Attributes:
        tolerance: ``cfg -> tol``, the relative bias the law allows at ``cfg``
            (e.g. ``lambda cfg: 2 / cfg.d``).
        rate: how ``tol`` shrinks, in words (``"2/d"``), for titles and reports.
    """

    tolerance: Callable[[Any], float]
    rate: str = ""
    name: ClassVar[str] = "asymptotic"
    nominal_is: ClassVar[str] = "upper bound"
    z_score: ClassVar[bool] = False

    def _tol(self, cfg) -> float:
        if cfg is None:
            raise ValueError("an asymptotic check needs the config (its tolerance is a function of it)")
        tol = float(self.tolerance(cfg))
        if not (tol >= 0 and math.isfinite(tol)):
            raise ValueError(f"the asymptotic tolerance must be finite and >= 0, got {tol}")
        return tol

    def test(
        self, predicted: Any, mean: float, sem: float, seeds: int, *, cfg: Any = None, values: np.ndarray | None = None
    ) -> tuple[float, float]:
        predicted, mean, sem = float(predicted), float(mean), float(sem)
        slack = self._tol(cfg) * abs(predicted)
        gap = abs(mean - predicted)
        if not sem > 0:
            ok = gap <= slack + _ROUNDING * max(abs(predicted), abs(mean))
            return (0.0, 1.0) if ok else (math.inf, 0.0)
        x, t = gap / sem, slack / sem
        # sup over |bias| <= slack of P(|N(bias, 1)| >= x): at |bias| = slack.
        p = float(sps.norm.sf(x - t) + sps.norm.sf(x + t))
        return (gap - slack) / sem, min(1.0, p)

    def critical(self, level: float) -> float:
        return float(sps.norm.isf(level))  # the one-sided bound on z'; see the module docstring

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
        # The run's mean stands for the truth (the law itself holds only up to its tolerance).
        excess = abs(float(mean) - float(wrong)) - self._tol(cfg) * abs(float(wrong))
        honest = float(self.honest_seeds(skewness, level))
        if not (excess > 0 and np.isfinite(honest) and np.isfinite(std)):
            return math.inf
        z = float(sps.norm.isf(level / 2))  # z' <= z(level/2)
        return max(((z + _z_power()) * float(std) / excess) ** 2, honest, 1.0)

    def extreme(self, statistics: list[float]) -> float | None:
        return max(statistics, default=None)

    def describe(self) -> str:
        rate = f" (tolerance {self.rate})" if self.rate else ""
        return f"asymptotic equivalent{rate}: |mean - predicted| <= tol |predicted| + z' sem"


# Exact tests (a count of successes, a distribution, a deterministic value): .verdicts_exact
from .verdicts_exact import Deterministic, Distribution, Probability  # noqa: E402  (they subclass Verdict)

VERDICTS: dict[str, type[Verdict]] = {
    cls.name: cls for cls in (Expectation, UpperBound, LowerBound, Asymptotic, Probability, Distribution, Deterministic)
}


def as_verdict(kind: Verdict | str) -> Verdict:
    """A verdict object from itself or a kind name (``"expectation"``, ``"upper_bound"``, ...)."""
    if isinstance(kind, Verdict):
        return kind
    simple = {
        "expectation": Expectation,
        "upper_bound": UpperBound,
        "lower_bound": LowerBound,
        "probability": Probability,
        "distribution": Distribution,
        "deterministic": Deterministic,
    }
    if kind in simple:
        return simple[kind]()
    raise ValueError(
        f"unknown verdict kind {kind!r}; choose one of: {', '.join(VERDICTS)} (asymptotic needs a "
        "tolerance: pass Asymptotic(tolerance=...))"
    )
