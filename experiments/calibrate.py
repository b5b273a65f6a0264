"""Calibration of the verdicts: the observed false-alarm rate of ``collapse verify``.

:func:`calibrate` reruns the verification of a set of *correct* laws on ``B``
independent base seeds (disjoint PRNG streams: seed ``s`` keys every seed index by
``fold_in(key(s), i)``) and measures how often the checks reject:

* **family-wise** (the report's own verdict): the fraction of runs in which *any*
  check fails under Holm's step-down procedure. Nominal: at most ``alpha`` (Holm, like
  Bonferroni, bounds the family-wise rate, and upper-bound laws may be loose). Runs
  are independent, so the count is binomial and its interval is Clopper-Pearson.
* **per check, at levels** ``0.01, 0.05, 0.1``: the fraction of (run, check) pairs
  whose p-value falls below the level, separately for each kind of check (its
  verdict's ``nominal_is``: exactly the level for ``expectation``, at most the level
  for bounds). Checks of one run share simulations, so they are not independent: the
  interval treats each run as one cluster (the per-run rejection fractions are
  independent across runs; a t interval on their mean).
* **per metric**, at level 0.05: the fraction of (run, check) pairs that reject among
  every honest check of one model's metric (and one kind), with the same cluster
  interval: a metric whose skewness the tail guard underrates (its checks reject too
  often) shows here even when each of its laws passes the union bound below.
* **per law**, at level 0.05: the same cluster interval over the law's checks, with
  a Bonferroni correction over laws (of the intervals' confidence, not of the
  verdicts), so one miscalibrated law (a heavy tail that biases the z-score) is
  flagged even when the pooled rate hides it.

The family-wise rate at ``alpha = 1e-3`` is nearly never observed, so by itself it
cannot tell a calibrated test from a conservative one; the per-check rates at
larger levels can, and they exercise the same p-values (Holm compares the same
p-values with thresholds between ``alpha/m`` and ``alpha``).

What the verdicts promise is an *upper bound*: a correct law fails at most as often
as stated. So the calibration is *consistent* when no observed rate is significantly
above its nominal value (every interval's lower end at or below it); a rate
significantly *below* nominal is reported as ``conservative`` (the Studentized mean
of a heavy-tailed metric is known to be conservative: outliers inflate the standard
error more than the mean), which costs power, and power is measured separately
(each law's wrong twin). Per law, the checks are often nearly the same test (the
generations of an accumulate run are strongly correlated), so a t interval over 40
runs is unreliable there; the per-law verdict is exact instead: the number of runs
in which any of the law's ``k`` checks rejects at 0.05 is binomial with a rate of at
most ``min(1, 0.05 k)`` (the union bound) for a correct law, whatever the
correlation, and a Clopper-Pearson lower end above that flags the law. Intervals are
at ``confidence`` (default 0.99; per law ``1 - 0.01/laws``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as sps

from .engine.runner import run
from .laws import DEFAULT_ALPHA, Check, Law, verify
from .laws.verdicts import as_verdict
from .models.config import ConfigError

__all__ = ["DEFAULT_BASE_SEEDS", "DEFAULT_SEEDS", "LEVELS", "calibrate", "format_calibration", "p_value"]

LEVELS = (0.01, 0.05, 0.1)
DEFAULT_BASE_SEEDS = 40
DEFAULT_SEEDS = 2048
LAW_LEVEL = 0.05


def p_value(check: Check) -> float:
    """The check's p-value under its law (NaN if refused): its own, or from its z-score and kind."""
    if check.p_value is not None:
        return float(check.p_value)
    if check.z is None:
        return float("nan")
    if check.kind == "expectation":
        return float(2 * sps.norm.sf(abs(check.z)))
    if check.kind == "lower_bound":
        return float(sps.norm.cdf(check.z))
    return float(sps.norm.sf(check.z))


def _nominal_is(kind: str) -> str:
    try:
        return as_verdict(kind).nominal_is
    except ValueError:  # a kind that needs parameters (asymptotic): conservative by construction
        return "upper bound"


def _binomial_interval(k: int, n: int, confidence: float) -> list[float]:
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return [float(ci.low), float(ci.high)]


def _cluster_interval(per_run: np.ndarray, confidence: float) -> tuple[float, list[float]]:
    """Mean of independent per-run fractions and its t interval (runs are the clusters)."""
    mean = float(per_run.mean())
    if len(per_run) < 2:
        return mean, [0.0, 1.0]
    if per_run.std() == 0:
        # The same fraction in every run (typically 0): no spread to estimate. Count each
        # run as one Bernoulli trial of that fraction (Clopper-Pearson over runs), which
        # is conservative for a constant 0 or 1.
        return mean, _binomial_interval(int(round(mean * len(per_run))), len(per_run), confidence)
    sem = float(per_run.std(ddof=1) / np.sqrt(len(per_run)))
    half = float(sps.t.ppf(0.5 + confidence / 2, len(per_run) - 1)) * sem
    return mean, [max(0.0, mean - half), min(1.0, mean + half)]


def calibrate(
    laws: list[Law],
    base_seeds: Sequence[int],
    seeds: int = DEFAULT_SEEDS,
    alpha: float = DEFAULT_ALPHA,
    levels: Sequence[float] = LEVELS,
    confidence: float = 0.99,
    runner: Callable = run,
    progress: bool | None = None,
    on_run: Callable[[int, list[Check]], None] | None = None,
) -> dict:
    """Verify ``laws`` on every base seed and compare the observed rejection rates with the nominal ones.

    Args:
        laws: correct laws (a wrong law makes the calibration inconsistent, by design).
        base_seeds: independent base seeds, at least 2 and all distinct.
        seeds: seeds per law and run.
        alpha: the family-wise false-alarm rate of each verification.
        levels: per-check levels at which rejection rates are measured.
        confidence: of each interval (per law: ``1 - (1 - confidence)/len(laws)``).
        runner: as in :func:`experiments.laws.verify`.
        on_run: called with ``(base_seed, checks)`` after each run (progress, logging).

    Returns:
        A JSON-serialisable dict (see the module docstring); ``consistent`` is the verdict.
    """
    base_seeds = [int(s) for s in base_seeds]
    if len(base_seeds) < 2:
        raise ConfigError(f"calibration needs at least 2 base seeds, got {len(base_seeds)}")
    if len(set(base_seeds)) != len(base_seeds):
        raise ConfigError("base seeds must be distinct")
    if not laws:
        raise ConfigError("no laws to calibrate")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie in (0, 1), got {confidence}")
    for level in levels:
        if not 0 < level < 1:
            raise ConfigError(f"levels must lie in (0, 1), got {level}")
    t0 = time.perf_counter()
    runs: list[list[Check]] = []
    for s in base_seeds:
        checks, _ = verify(laws, seeds=seeds, seed=s, alpha=alpha, runner=runner, progress=progress)
        runs.append(checks)
        if on_run is not None:
            on_run(s, checks)
    B = len(runs)
    kinds = np.array([c.kind for c in runs[0]])
    law_of = np.array([c.law for c in runs[0]])
    p = np.array([[p_value(c) for c in checks] for checks in runs])  # (runs, checks); NaN: refused
    honest = ~np.isnan(p[0])  # refusals depend on the seed count and theory only, not on the run
    failed = np.array([[not c.passed for c in checks] for checks in runs])

    fails = int(failed.any(axis=1).sum())
    family_ci = _binomial_interval(fails, B, confidence)
    family = {
        "nominal": alpha,
        "nominal_is": "upper bound (Holm)",
        "runs": B,
        "runs_with_a_failure": fails,
        "rate": fails / B,
        "interval": family_ci,
        "consistent": family_ci[0] <= alpha,
    }

    per_level = []
    for kind in dict.fromkeys(kinds.tolist()):  # every kind present, in order of appearance
        cols = (kinds == kind) & honest
        if not cols.any():
            continue
        for level in levels:
            rejected = p[:, cols] < level
            rate, ci = _cluster_interval(rejected.mean(axis=1), confidence)
            per_level.append(
                {
                    "kind": kind,
                    "level": level,
                    "nominal_is": _nominal_is(kind),
                    "checks_per_run": int(cols.sum()),
                    "rejections": int(rejected.sum()),
                    "rate": rate,
                    "interval": ci,
                    "consistent": ci[0] <= level,
                    "conservative": ci[1] < level,
                }
            )

    # Per metric: the rate per check at LAW_LEVEL of every honest check on one model's metric
    # (of one kind), clustered by run: a metric whose skewness the tail guard underrates shows here
    # even when each of its laws passes the union bound.
    metric_of = {law.id: f"{law.model}/{law.metric}" for law in laws}
    metrics = np.array([metric_of[c.law] for c in runs[0]])
    per_metric = []
    for key in dict.fromkeys(zip(metrics.tolist(), kinds.tolist(), strict=True)):
        cols = (metrics == key[0]) & (kinds == key[1]) & honest
        if not cols.any():
            per_metric.append({"metric": key[0], "kind": key[1], "checks_per_run": 0, "refused": True})
            continue
        rejected = p[:, cols] < LAW_LEVEL
        rate, ci = _cluster_interval(rejected.mean(axis=1), confidence)
        per_metric.append(
            {
                "metric": key[0],
                "kind": key[1],
                "level": LAW_LEVEL,
                "nominal_is": _nominal_is(key[1]),
                "checks_per_run": int(cols.sum()),
                "refused_per_run": int(((metrics == key[0]) & (kinds == key[1]) & ~honest).sum()),
                "rate": rate,
                "interval": ci,
                "consistent": ci[0] <= LAW_LEVEL,
            }
        )

    law_conf = 1 - (1 - confidence) / len(laws)
    per_law = []
    for law in laws:
        cols = (law_of == law.id) & honest
        if not cols.any():
            per_law.append({"id": law.id, "kind": law.kind, "checks_per_run": 0, "refused": True, "consistent": True})
            continue
        rejected = p[:, cols] < LAW_LEVEL
        k = int(cols.sum())
        zs = [abs(c.z) for checks in runs for c in checks if c.law == law.id and c.z is not None]
        runs_any = int(rejected.any(axis=1).sum())
        bound = min(1.0, LAW_LEVEL * k)
        ci = _binomial_interval(runs_any, B, law_conf)
        per_law.append(
            {
                "id": law.id,
                "kind": law.kind,
                "checks_per_run": k,
                "level": LAW_LEVEL,
                "rate": float(rejected.mean()),
                "runs_with_a_rejection": runs_any,
                "runs_with_a_rejection_nominal_at_most": bound,
                "interval": ci,
                "max_abs_z": float(max(zs)) if zs else None,
                "consistent": ci[0] <= bound,
            }
        )

    consistent = (
        family["consistent"]
        and all(e["consistent"] for e in per_level)
        and all(e.get("consistent", True) for e in per_metric)
        and all(e["consistent"] for e in per_law)
    )
    return {
        "alpha": alpha,
        "confidence": confidence,
        "law_confidence": law_conf,
        "seeds": seeds,
        "base_seeds": base_seeds,
        "laws": len(laws),
        "checks_per_run": int(p.shape[1]),
        "refused_per_run": int((~honest).sum()),
        "family": family,
        "levels": per_level,
        "per_metric": per_metric,
        "per_law": per_law,
        "consistent": bool(consistent),
        "seconds": time.perf_counter() - t0,
        # Every run's z-scores (None: refused), so the verdicts can be recomputed.
        "checks": [{"law": c.law, "generation": c.generation, "kind": c.kind} for c in runs[0]],
        "z": [[c.z for c in checks] for checks in runs],
    }


def format_calibration(cal: dict) -> str:
    """A plain-text summary of :func:`calibrate`'s result."""
    fam = cal["family"]
    lines = [
        (
            f"calibration: {cal['laws']} laws, {cal['checks_per_run']} checks per run, {cal['seeds']} seeds per law, "
            f"{fam['runs']} base seeds ({cal['base_seeds'][0]}..{cal['base_seeds'][-1]}), {cal['seconds']:.0f} s"
        ),
        (
            f"{cal['refused_per_run']} checks per run refused (no honest z-score at this seed count); "
            f"intervals at {cal['confidence']:g} (per law {cal['law_confidence']:.4g}); runs are the clusters"
        ),
        "",
        f"{'what':34s} {'nominal':>9} {'observed':>9}  {'interval':>19}  verdict (consistent: not above nominal)",
        (
            f"{'family-wise (any check fails)':34s} {'<=' + format(fam['nominal'], 'g'):>9} {fam['rate']:9.4f}  "
            f"[{fam['interval'][0]:.4f}, {fam['interval'][1]:.4f}]  "
            f"{'consistent' if fam['consistent'] else 'INCONSISTENT'}"
        ),
    ]
    for e in cal["levels"]:
        nominal = ("<=" if e["nominal_is"] == "upper bound" else "") + format(e["level"], "g")
        verdict = ("consistent" if e["consistent"] else "TOO MANY") + (" (conservative)" if e["conservative"] else "")
        lines.append(
            f"{'per check, ' + e['kind'] + ' (' + str(e['checks_per_run']) + ')':34s} {nominal:>9} {e['rate']:9.4f}  "
            f"[{e['interval'][0]:.4f}, {e['interval'][1]:.4f}]  {verdict}"
        )
    if cal.get("per_metric"):
        lines += ["", f"per check at level {LAW_LEVEL:g}, by metric (every honest check of the metric, one kind):"]
        for e in cal["per_metric"]:
            name = f"  {e['metric']} ({e['kind']}, {e['checks_per_run']})"
            if e.get("refused"):
                lines.append(f"{name:34s} {'-':>9} {'-':>9}  {'':19s}  every check refused")
                continue
            nominal = ("<=" if e["nominal_is"] == "upper bound" else "") + format(e["level"], "g")
            lines.append(
                f"{name:34s} {nominal:>9} {e['rate']:9.4f}  [{e['interval'][0]:.4f}, {e['interval'][1]:.4f}]  "
                + ("consistent" if e["consistent"] else "TOO MANY")
                + (f" ({e['refused_per_run']} refused per run)" if e["refused_per_run"] else "")
            )
    laws = [e for e in cal["per_law"] if not e.get("refused")]
    bad = [e for e in laws if not e["consistent"]]
    lines.append("")
    lines.append(
        f"per law at level {LAW_LEVEL:g} (runs with any rejection vs the union bound): "
        f"{len(laws) - len(bad)} consistent, {len(bad)} not, {len(cal['per_law']) - len(laws)} refused"
    )

    def excess(e):
        return -e["runs_with_a_rejection"] / max(e["runs_with_a_rejection_nominal_at_most"], 1e-9)

    for e in sorted(laws, key=excess)[:3]:
        mark = "consistent  " if e["consistent"] else "TOO MANY    "
        lines.append(
            f"  {mark}{e['id']}: {e['runs_with_a_rejection']} of "
            f"{cal['family']['runs']} runs (a correct law: at most "
            f"{e['runs_with_a_rejection_nominal_at_most'] * cal['family']['runs']:.1f} expected), "
            f"rate per check {e['rate']:.3f}" + ("" if e["max_abs_z"] is None else f", max |z| {e['max_abs_z']:.2f}")
        )
    lines.append("")
    lines.append(f"verdict: {'calibrated' if cal['consistent'] else 'NOT CALIBRATED'}")
    return "\n".join(lines)
