"""The skewness of the categorical model's metrics, which the verdicts' tail guard needs.

No closed form is known here for the third moment of ``1 - sum p_n^2``, of the support or
of the other metrics of a Wright-Fisher chain (their third moments need the chain's
moments of degree six), so the skewness is **estimated** by a pilot simulation of the
same config: ``PILOT_SEEDS`` seeds from a base seed that no check uses
(``PILOT_BASE_SEED``), deterministic and cached per config. The guard must not be
fooled by a lucky pilot, so the estimate is pushed away from zero:

* a 0/1 metric (``absorbed``, ``fixed_on_mode``): the Bernoulli skewness
  ``(1 - 2q)/sqrt(q (1 - q))`` at the end of the two-sided 99.8% Clopper-Pearson interval
  for ``q`` nearer to 0 or 1 (``inf`` when the pilot saw only one value: an event rarer
  than the pilot can see may still be there);
* any other metric: the sample skewness ``g1`` plus, in its own sign, three times
  ``sqrt(6/n) (1 + |g1|)`` (the normal-theory standard error, widened for the skewed
  case); a metric the pilot saw constant gets 0 (a constant has no tail).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats as sps

__all__ = ["BERNOULLI", "PILOT_SEEDS", "PILOT_BASE_SEED", "skewness_function", "pilot_skewness"]

PILOT_SEEDS = 1024
PILOT_BASE_SEED = 2**32 - 7  # a base seed no law, test or figure uses
BERNOULLI = ("absorbed", "fixed_on_mode")
_LEVEL = 0.002  # two-sided, for the Clopper-Pearson end


def _bernoulli_skewness(values: np.ndarray) -> np.ndarray:
    n = values.shape[0]
    hits = np.rint(values.sum(axis=0)).astype(np.int64)
    rare = np.minimum(hits, n - hits)  # the count of the rarer outcome
    low = np.where(rare > 0, sps.beta.ppf(_LEVEL / 2, np.maximum(rare, 1), n - rare + 1), 0.0)
    sign = np.where(hits <= n - hits, 1.0, -1.0)  # the rare outcome is the 1: right tail
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (1 - 2 * low) / np.sqrt(low * (1 - low))
    return np.where(low > 0, sign * skew, np.inf)


def _sample_skewness(values: np.ndarray) -> np.ndarray:
    n = values.shape[0]
    centred = values - values.mean(axis=0)
    m2 = np.mean(centred**2, axis=0)
    m3 = np.mean(centred**3, axis=0)
    scale = np.maximum(np.abs(values).max(axis=0), 1e-300)
    constant = m2 <= (1e-13 * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = np.where(constant, 0.0, m3 / np.where(constant, 1.0, m2) ** 1.5)
    widened = g1 + np.where(g1 < 0, -1.0, 1.0) * 3 * np.sqrt(6.0 / n) * (1 + np.abs(g1))
    return np.where(constant, 0.0, widened)


@functools.lru_cache(maxsize=64)
def _pilot(cfg: Any) -> dict[str, np.ndarray]:
    from ..engine.runner import simulate_seeds

    out = simulate_seeds(cfg, np.arange(PILOT_SEEDS), seed=PILOT_BASE_SEED)
    return {
        name: (_bernoulli_skewness if name in BERNOULLI else _sample_skewness)(np.asarray(v, np.float64))
        for name, v in out.items()
    }


def pilot_skewness(cfg: Any, metric: str, generations: np.ndarray) -> np.ndarray:
    """The guard's skewness of ``metric`` at ``generations`` (1-based), from the pilot run of ``cfg``."""
    gens = np.asarray(generations, np.float64)
    if gens.size == 0:
        return np.zeros(gens.shape)
    table = _pilot(cfg)[metric]
    idx = np.clip(np.rint(gens).astype(np.int64) - 1, 0, cfg.generations - 1)
    need = int(np.max(np.rint(gens)))
    if need > cfg.generations:  # the pilot ran too few generations: rerun it longer (same first ones)
        import dataclasses

        table = _pilot(dataclasses.replace(cfg, generations=need))[metric]
        idx = np.rint(gens).astype(np.int64) - 1
    return table[idx]


def skewness_function(metric: str) -> Callable[[Any, np.ndarray], np.ndarray]:
    """``(cfg, generations) -> skewness`` for :class:`~model_collapse.experiments.models.base.Metric`."""

    def skewness(cfg: Any, generations: np.ndarray) -> np.ndarray:
        return pilot_skewness(cfg, metric, generations)

    skewness.__name__ = f"skewness_{metric}"
    return skewness
