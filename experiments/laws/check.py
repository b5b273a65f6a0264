"""Checking laws against simulation: one law, a family with Holm's procedure, power, and ``assert_law``.

:func:`check_law` compares a law with a run at each checked generation through the
law's verdict (:mod:`.verdicts`), predicting for the run's config. :func:`verify`
simulates each distinct config once, checks every law, and decides the whole family
with **Holm's step-down procedure**: the ``m`` p-values of the scored checks, sorted,
``p_(1) <= ... <= p_(m)``, are compared in turn with ``alpha/m, alpha/(m-1), ...,
alpha``; the checks before the first ``p_(i) > alpha/(m - i + 1)`` fail, the rest
pass. The chance that any check of correct laws fails is at most ``alpha``, as with
Bonferroni (``alpha/m`` for every check), and Holm fails at least every check that
Bonferroni fails. A check's ``level`` is the threshold its p-value was compared with;
its ``z_critical`` (z-kinds) is the critical value of the first, strictest step,
``alpha/m``.

Refused checks (no honest p-value at this seed count: :meth:`~.verdicts.Verdict.refusal`)
take no part in Holm's procedure; whether a check is refused is judged at the
strictest level any check could face, ``alpha/(all checks)``. A verification with a
refused check is *inconclusive*, not a pass (:func:`status`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..engine.runner import Result, run
from ..models.config import ConfigError, config_dict, config_hash
from .registry import LAWS, Law, as_predictor
from .verdicts import Verdict, as_verdict

__all__ = [
    "DEFAULT_ALPHA",
    "Check",
    "InconclusiveError",
    "apply_holm",
    "assert_law",
    "check_law",
    "critical_z",
    "holm",
    "metric_skewness",
    "power_seeds",
    "status",
    "verify",
]

DEFAULT_ALPHA = 1e-3


@dataclasses.dataclass(frozen=True)
class Check:
    """One row of a verification: a law at one generation.

    Attributes:
        predicted, empirical: the prediction and the run's mean (for a distribution
            law, the predicted distribution's mean where it has one, else ``None``).
        sem: the standard error used (the run's, or from theory: ``sem_source``).
        z: the z-score (z-kinds; ``None`` otherwise or when refused).
        z_critical: the critical value of Holm's first step, ``alpha/m`` (z-kinds).
        kind: the verdict's name.
        passed: not contradicted (a refused check is not contradicted either).
        refused: why no honest p-value exists (``None`` if scored).
        p_value: under the law (``None`` if refused).
        statistic: the verdict's own statistic (z, KS distance, count, deviation).
        level: the threshold the p-value was compared with (Holm's step).
        config: the hash of the config checked (one law may be checked at several).
    """

    law: str
    generation: int
    predicted: float | None
    empirical: float
    sem: float
    z: float | None
    z_critical: float | None
    kind: str
    passed: bool
    refused: str | None = None
    p_value: float | None = None
    statistic: float | None = None
    level: float | None = None
    sem_source: str = "empirical"
    config: str | None = None

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL`` or ``refused``."""
        return "refused" if self.refused else ("pass" if self.passed else "FAIL")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class InconclusiveError(AssertionError):
    """A law was neither confirmed nor contradicted: some of its checks were refused."""


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha}")


def critical_z(kind: Verdict | str, alpha: float, checks: int) -> float:
    """The critical z of one check of ``checks`` at family-wise rate ``alpha`` (Holm's first step, ``alpha/checks``)."""
    _check_alpha(alpha)
    verdict = as_verdict(kind)
    zc = verdict.critical(alpha / checks)
    if zc is None:
        raise ValueError(f"a {verdict.name} check has no critical z")
    return zc


def metric_skewness(cfg: Any, metric: str, generations: Sequence[int] | np.ndarray) -> np.ndarray:
    """Skewness of one seed's ``metric`` at each generation: the model's own.

    See :class:`~model_collapse.experiments.models.base.Metric` (``inf``: infinite variance or skewness).
    """
    from ..models import get_model

    return get_model(cfg.model).skewness(cfg, metric, generations)


def _bind(law: Law, result: Result) -> Law:
    """The law at the run's config (a law predicts for the config it is checked at)."""
    return law if result.config == law.config else law.at(result.config)


def _seed_values(result: Result, metric: str) -> np.ndarray:
    """Every seed's values of ``metric``, ``(seeds, generations)``: the run's seeds, recomputed."""
    from ..engine.runner import simulate_seeds

    idx = np.arange(result.seed_start, result.seed_start + result.seeds)
    return np.asarray(simulate_seeds(result.config, idx, result.seed)[metric], np.float64)


def _float(x) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        mean = getattr(x, "mean", None)
        return float(mean()) if callable(mean) else None


def check_law(
    law: Law,
    result: Result,
    alpha: float = DEFAULT_ALPHA,
    checks: int | None = None,
    predict: Callable | None = None,
    *,
    values: np.ndarray | None = None,
    theory_variance: bool = True,
) -> list[Check]:
    """Compare ``law`` (or another prediction) with ``result`` at the law's generations.

    The law predicts for ``result.config`` (:meth:`Law.at`: a :class:`ConfigError` if it
    does not cover it). Each check passes at ``alpha/checks`` (Bonferroni over
    ``checks``, the first step of Holm's procedure; :func:`verify` applies Holm to a
    whole family). A generation where the verdict has no honest p-value gives a refused
    row: ``z`` and ``p_value`` are ``None``, ``passed`` is ``True`` (not contradicted)
    and ``refused`` says why.

    Args:
        predict: another prediction, ``(cfg, n)`` or ``n -> values`` (e.g. ``law.perturbed``).
        values: per-seed values ``(seeds, generations)`` for a distribution law
            (default: recomputed from the run's seeds).
        theory_variance: use the law's theory variance, where it has one, for the
            standard error.
    """
    _check_alpha(alpha)
    law = _bind(law, result)
    checks = len(law.generations) if checks is None else checks
    level = alpha / checks
    verdict, cfg = law.verdict, law.config
    gens = np.asarray(law.generations)
    fn = law.predict if predict is None else as_predictor(predict, cfg)
    predicted = fn(cfg, gens)
    if not verdict.needs_values:
        predicted = np.asarray(predicted, np.float64)
    summary = result.metrics[law.metric]
    mean, sem = summary.mean[gens - 1], summary.sem[gens - 1]
    source = "empirical"
    if law.variance is not None and theory_variance:
        sem, source = np.sqrt(np.asarray(law.variance(cfg, gens), np.float64) / result.seeds), "theory"
    skew = metric_skewness(cfg, law.metric, gens)
    key = config_hash(cfg)
    if verdict.needs_values and values is None:
        values = _seed_values(result, law.metric)
    rows = []
    for i, g in enumerate(gens):
        common = {
            "law": law.id,
            "generation": int(g),
            "predicted": _float(predicted[i]),
            "empirical": float(mean[i]),
            "sem": float(sem[i]),
            "kind": verdict.name,
            "sem_source": source,
            "config": key,
        }
        zc = verdict.critical(level) if verdict.z_score else None
        why = verdict.refusal(float(skew[i]), result.seeds, level)
        if why is not None:
            rows.append(Check(**common, z=None, z_critical=zc, passed=True, refused=why))
            continue
        stat, p = verdict.test(
            predicted[i], mean[i], sem[i], result.seeds, cfg=cfg, values=None if values is None else values[:, g - 1]
        )
        rows.append(
            Check(
                **common,
                z=float(stat) if verdict.z_score else None,
                z_critical=zc,
                passed=verdict.passes(p, level),
                p_value=p,
                statistic=float(stat),
                level=level,
            )
        )
    return rows


def holm(p_values: Sequence[float] | np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down procedure: ``(rejected, level)`` for each p-value.

    The i-th smallest p-value is compared with ``alpha/(m - i + 1)``; the procedure
    rejects until the first p-value above its threshold and accepts that one and
    every later one. ``level`` is the threshold each p-value was compared with (for
    the accepted ones, the threshold at which the procedure stopped).
    """
    p = np.asarray(p_values, np.float64)
    m = len(p)
    rejected = np.zeros(m, bool)
    level = np.empty(m)
    stop = None
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        threshold = alpha / (m - rank)
        if stop is None and p[i] <= threshold:
            rejected[i], level[i] = True, threshold
        else:
            stop = threshold if stop is None else stop
            level[i] = stop
    return rejected, level


def apply_holm(rows: list[Check], alpha: float) -> list[Check]:
    """The rows decided by :func:`holm` over every scored (not refused) row."""
    scored = [i for i, c in enumerate(rows) if c.p_value is not None]
    if not scored:
        return list(rows)
    rejected, level = holm([rows[i].p_value for i in scored], alpha)
    out = list(rows)
    first = alpha / len(scored)
    for j, i in enumerate(scored):
        c = rows[i]
        zc = None if c.z_critical is None else as_verdict(c.kind).critical(first)  # z-kinds: Holm's first step
        out[i] = dataclasses.replace(c, passed=not rejected[j], level=float(level[j]), z_critical=zc)
    return out


def status(checks: list[Check]) -> str:
    """``fail`` if any check failed, else ``inconclusive`` if any was refused, else ``pass``."""
    if any(not c.passed for c in checks):
        return "fail"
    return "inconclusive" if any(c.refused for c in checks) else "pass"


def verify(
    laws: list[Law],
    seeds: int | None = None,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    progress: bool | None = None,
    runner: Callable[..., Result] = run,
) -> tuple[list[Check], dict[str, Result]]:
    """Run every law's simulation (each distinct config once) and check the family with Holm's procedure.

    Args:
        laws: the laws to check, each at its own config (:meth:`Law.at` moves one);
            ``seeds`` overrides each law's default seed count.
        runner: ``(cfg, seeds, seed, progress=..., metrics=...) -> Result``;
            :func:`model_collapse.experiments.run` or the cache's ``cached_run``. Each
            config computes only the metrics that its laws check.

    Returns:
        ``(checks, results)``: the rows, decided by Holm's procedure at family-wise rate
        ``alpha`` over every scored row, and the results keyed by config hash.
    """
    _check_alpha(alpha)
    total = sum(len(law.generations) for law in laws)
    results: dict[str, Result] = {}
    rows: list[Check] = []
    wanted: dict[str, set[str]] = {}
    for law in laws:
        wanted.setdefault(config_hash(law.config), set()).add(law.metric)
    for law in laws:
        key = config_hash(law.config)
        n = law.seeds if seeds is None else seeds
        if key not in results or results[key].seeds < n:
            results[key] = runner(law.config, n, seed, progress=progress, metrics=sorted(wanted[key]))
        rows += check_law(law, results[key], alpha, total)
    return apply_holm(rows, alpha), results


def power_seeds(law: Law, result: Result, alpha: float, checks: int) -> int | None:
    """Seeds from which the check rejects the law's wrong twin with probability >= 0.99.

    Per checked generation, from the verdict (:meth:`~.verdicts.Verdict.power_seeds`)
    at the strictest level ``alpha/checks`` with the run's standard deviation (or the
    theory's), counting only seed counts at which the check is not refused; the
    smallest over the generations. ``None`` if the twin is not separable at any.
    """
    law = _bind(law, result)
    cfg, verdict = law.config, law.verdict
    gens = np.asarray(law.generations)
    summary = result.metrics[law.metric]
    std = summary.std[gens - 1]
    if law.variance is not None:
        std = np.sqrt(np.asarray(law.variance(cfg, gens), np.float64))
    level = alpha / checks
    skew = metric_skewness(cfg, law.metric, gens)
    pred, wrong = law.predict(cfg, gens), law.perturbed(cfg, gens)
    needed = [
        verdict.power_seeds(pred[i], wrong[i], summary.mean[g - 1], std[i], level, skewness=skew[i], cfg=cfg)
        for i, g in enumerate(gens)
    ]
    best = min(needed)
    return None if not math.isfinite(best) else math.ceil(best)


def _law_named(law_id) -> Law:
    if isinstance(law_id, Law):
        return law_id
    if law_id in LAWS:
        return LAWS[law_id]
    import difflib

    near = difflib.get_close_matches(str(law_id), list(LAWS), n=1)
    raise ConfigError(
        f"unknown law {law_id!r}" + (f" (did you mean {near[0]}?)" if near else "") + "; see `collapse verify --list`"
    )


def _rows_text(rows: list[Check]) -> str:
    lines = [
        (
            f"  {'gen':>4} {'predicted':>12} {'empirical':>12} {'sem':>10} {'statistic':>10} {'p':>9} "
            f"{'level':>9}  verdict"
        )
    ]
    for c in rows:
        pred = "-" if c.predicted is None else f"{c.predicted:.6g}"
        stat = "-" if c.statistic is None else f"{c.statistic:.3g}"
        p = "-" if c.p_value is None else f"{c.p_value:.2g}"
        lvl = "-" if c.level is None else f"{c.level:.2g}"
        lines.append(
            f"  {c.generation:4d} {pred:>12} {c.empirical:12.6g} {c.sem:10.3g} {stat:>10} {p:>9} {lvl:>9}  "
            f"{c.verdict}" + (f": {c.refused}" if c.refused else "")
        )
    return "\n".join(lines)


def assert_law(
    law_id: str | Law,
    config: Any = None,
    *,
    seeds: int | None = None,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    generations: Iterable[int] | None = None,
    runner: Callable[..., Result] = run,
) -> list[Check]:
    """Check a registered law at your own config; raise if simulation contradicts it.

    For a test suite::

        from model_collapse.experiments import LinRegConfig
        from model_collapse.experiments.laws import assert_law

        def test_replace_law_at_my_size():
            assert_law("linreg/replace/fixed", LinRegConfig(d=4, T=20, generations=5, sampler="exact"),
                       seeds=2000)

    Args:
        law_id: a registered law's id (``collapse verify --list``), or a :class:`Law`.
        config: the config to check it at (default: the law's own); the law must cover it.
        seeds: seeds to simulate (default: the law's).
        seed: the base seed (the outcome is deterministic for a given seed).
        alpha: the family-wise false-alarm rate over the law's checks (Holm): a correct
            law fails with probability at most ``alpha``.
        generations: the generations to check (default: the law's, within the config's).

    Returns:
        The checks (all passed).

    Raises:
        AssertionError: a check failed (the message lists the rows).
        InconclusiveError: no check failed but some were refused (no honest p-value at
            this seed count; the message says how many seeds would do). A subclass of
            ``AssertionError``.
        ConfigError: an unknown law, a config the law does not cover, bad arguments.
    """
    law = _law_named(law_id).at(config, generations)
    n = law.seeds if seeds is None else seeds
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ConfigError(f"seeds must be an integer >= 2, got {n!r}")
    rows, _ = verify([law], seeds=int(n), seed=seed, alpha=alpha, progress=False, runner=runner)
    where = f"{law.id} ({law.title}) at {config_dict(law.config)} with {n} seeds, seed {seed}"
    outcome = status(rows)
    if outcome == "fail":
        raise AssertionError(
            f"law {where}: {sum(not c.passed for c in rows)} of {len(rows)} checks failed "
            f"(Holm, family-wise alpha {alpha:g}):\n{_rows_text(rows)}"
        )
    if outcome == "inconclusive":
        refused = [c for c in rows if c.refused]
        raise InconclusiveError(
            f"law {where}: inconclusive, {len(refused)} of {len(rows)} checks refused (no "
            "honest p-value at this seed count; pass more seeds or fewer generations):\n" + _rows_text(rows)
        )
    return rows
