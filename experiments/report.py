"""The verification report (``report.json`` and ``report.md``) and ``collapse reproduce``."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from scipy import stats as sps

from .engine.cache import cached_run
from .engine.runner import Result, package_metadata
from .laws import DEFAULT_ALPHA, Check, Law, citations, power_seeds, select_laws, status, verify
from .models.config import config_dict, config_hash

__all__ = ["QUICK_SEEDS", "build_report", "format_verification", "reproduce", "write_report"]

QUICK_SEEDS = 2048


def _max_z(law: Law, rows) -> float | None:
    """The largest observed |z| (for a bound, the largest z in the direction that would contradict it)."""
    zs = [c.z for c in rows if c.z is not None]
    return None if not zs else float(law.verdict.extreme(zs))


def build_report(
    laws: list[Law],
    checks: list[Check],
    results: Mapping[str, Result],
    alpha: float,
    elapsed: dict[str, float] | None = None,
) -> dict:
    """The report as a JSON-serialisable dict: one entry per law, with its checks.

    ``passed`` (per law and overall) means "no check failed"; ``verdict`` is ``pass``,
    ``fail`` or ``inconclusive`` (no check failed but some were refused).
    """
    total = len(checks)
    scored = [c for c in checks if c.p_value is not None]
    by_law: dict[tuple, list] = {}
    for c in checks:
        by_law.setdefault((c.law, c.config), []).append(c)
    entries = []
    for law in laws:
        key = config_hash(law.config)
        rows = by_law.get((law.id, key)) or by_law[law.id, None]
        res = results[key]
        entries.append(
            {
                "id": law.id,
                "title": law.title,
                "kind": law.kind,
                "verdict_kind": law.kind,
                "metric": law.metric,
                "reference": dataclasses.asdict(law.reference),
                "status": law.status,
                "statement": law.statement,
                "source": law.source,
                "config": config_dict(law.config),
                "config_hash": key,
                "seeds": res.seeds,
                "seed": res.seed,
                "seconds": (elapsed or {}).get(key),
                "checks": [c.to_json() for c in rows],
                "power": {"probability": 0.99, "wrong_law_rejected_from_seeds": power_seeds(law, res, alpha, total)},
                "max_abs_z": _max_z(law, rows),
                "refused": [{"generation": c.generation, "reason": c.refused} for c in rows if c.refused],
                "passed": all(c.passed for c in rows),
                "verdict": status(rows),
            }
        )
    return {
        "package": package_metadata(),
        "alpha": alpha,
        "checks": len(checks),
        "refused_checks": sum(c.refused is not None for c in checks),
        "correction": "Holm step-down over every scored check in the report",
        "holm": {
            "scored_checks": len(scored),
            "first_step_level": alpha / len(scored) if scored else None,
            "first_step_critical_z": (
                {
                    "two_sided": float(sps.norm.isf(alpha / len(scored) / 2)),
                    "one_sided": float(sps.norm.isf(alpha / len(scored))),
                }
                if scored
                else None
            ),
            "failed": sum(not c.passed for c in checks),
        },
        "passed": all(e["passed"] for e in entries),
        "verdict": status(checks),
        "laws": entries,
        "bibtex": citations(laws),
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def format_verification(
    checks: Sequence[Check], summary: Sequence[dict], alpha: float, outcome: str, exit_status: int
) -> str:
    """``collapse verify``'s table: every check, then one row per law, then the verdict and exit status."""
    from scipy import stats as sps

    from .laws.verdicts import as_verdict

    out: list[str] = []
    scored = [c for c in checks if c.p_value is not None]
    refused = [c for c in checks if c.refused]
    m = len(scored)
    out.append(
        f"Holm step-down over {m} scored checks at family-wise false-alarm rate {alpha:g} ({len(refused)} refused)"
    )
    if m:
        out.append(
            f"first (strictest) step: level {alpha / m:.3g}, critical |z| {sps.norm.isf(alpha / m / 2):.2f} "
            f"(two-sided), z {sps.norm.isf(alpha / m):.2f} (one-sided)"
        )
    width = max(len(c.law) for c in checks)
    out.append(
        f"\n{'law':{width}s} {'gen':>4} {'predicted':>12} {'empirical':>12} {'sem':>10} {'z':>7} {'z*':>6} {'p':>9}  "
        "verdict"
    )
    for c in checks:
        bound = {"upper_bound": "<=", "lower_bound": ">="}.get(c.kind, "  ")
        pred = f"{'-':>10}" if c.predicted is None else f"{c.predicted:10.6g}"
        z = f"{'-':>7}" if c.z is None else f"{c.z:7.2f}"
        crit = "-"
        if c.z is not None and c.level is not None:
            crit = f"{as_verdict(c.kind).critical(c.level):.2f}"
        p = "-" if c.p_value is None else f"{c.p_value:.2g}"
        sem = f"{c.sem:9.3g}" + ("~" if c.sem_source == "theory" else " ")
        out.append(
            f"{c.law:{width}s} {c.generation:4d} {bound}{pred} {c.empirical:12.6g} {sem} {z} {crit:>6} {p:>9}  "
            f"{c.verdict}"
        )
    out.append(
        "\nz*: the critical value this check faced at its Holm step (p > level passes); "
        "sem~: from the theory's variance of the metric"
    )
    out.append(
        f"\n{'law':{width}s}  {'kind':12s} {'source':12s} {'seeds':>8} {'seeds for 99% power':>20} "
        f"{'largest |z|':>12}  verdict"
    )
    for s in summary:
        power = "-" if s["power"] is None else f"{s['power']:,}" + (" SHORT" if s["seeds"] < s["power"] else "")
        largest = "-" if s["largest_z"] is None else f"{s['largest_z']:.2f}"
        out.append(
            f"{s['law'].id:{width}s}  {s['law'].kind:12s} {s['law'].status:12s} {s['seeds']:8,d} {power:>20} "
            f"{largest:>12}  "
            f"{'FAIL' if s['verdict'] == 'fail' else s['verdict']}"
        )
    out.append(
        "seeds for 99% power: from this many seeds the check rejects the law's deliberately wrong twin with "
        "probability 0.99 (SHORT: fewer were run); source: 'published' (a paper states the law) or 'derived "
        "here' (`collapse cite LAW` names the paper and theorem)"
    )
    for c in refused:
        out.append(f"refused {c.law} at generation {c.generation}: {c.refused}")
    failed = sum(not c.passed for c in checks)
    line = {
        "pass": f"PASS: all {m} checks passed",
        "fail": f"FAIL: {failed} of {m} scored checks failed",
        "inconclusive": f"INCONCLUSIVE: no check failed, but {len(refused)} of {len(checks)} were refused "
        "(rerun with the seeds they need, or check fewer generations)",
    }[outcome]
    out.append(f"\nverdict: {line} (exit status {exit_status})")
    return "\n".join(out)


def write_report(report: dict, outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    js = outdir / "report.json"
    _atomic_text(js, json.dumps(report, indent=1))
    verdict = {
        "pass": "every law passes",
        "fail": "SOME LAWS FAIL",
        "inconclusive": "no law fails, but some checks were refused: inconclusive",
    }[report.get("verdict", "pass" if report["passed"] else "fail")]
    holm = report.get("holm", {})
    lines = [
        "# Verification report",
        "",
        f"Family-wise false-alarm rate {report['alpha']:g} over {report['checks']} checks ({report['correction']}"
        + (
            f"; {holm['scored_checks']} scored, the first step at {holm['first_step_level']:.3g}: critical |z| "
            f"{holm['first_step_critical_z']['two_sided']:.2f} two-sided, "
            f"{holm['first_step_critical_z']['one_sided']:.2f} "
            "one-sided"
            if holm.get("first_step_level")
            else ""
        )
        + f"). Verdict: **{verdict}**.",
        "",
        "| law | formula | source | kind | seeds | seeds for 99% power | generations | largest \\|z\\| | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    t = report.get("timings")
    if t:
        lines.insert(
            2,
            f"Time: laws {t['laws_s']:.1f} s (compilation with each config's first chunk "
            f"{t['laws_compile_and_first_chunk_s']:.1f} s, simulation {t['laws_simulate_s']:.1f} s, reduction "
            f"{t['laws_reduce_s']:.1f} s, the rest {t['laws_other_s']:.1f} s; {t['laws_configs_simulated']} configs "
            f"simulated, the others from the cache), figures {t['figures_s']:.1f} s.\n",
        )
    pkg = report.get("package")
    if pkg:
        commit = f", commit `{pkg['commit']}`" if pkg["commit"] else ""
        lines[1:1] = ["", f"{pkg['name']} {pkg['version']}{commit}."]
    for e in report["laws"]:
        gens = ",".join(str(c["generation"]) + ("*" if c["refused"] else "") for c in e["checks"])
        maxz = "-" if e["max_abs_z"] is None else f"{e['max_abs_z']:.2f}"
        law_verdict = e.get("verdict", "pass" if e["passed"] else "fail")
        lines.append(
            f"| `{e['id']}` | {_cell(e['title'])} | {_cell(e['source'])} "
            f"| {e['kind']} | {e['seeds']} | {e['power']['wrong_law_rejected_from_seeds']} | {gens} | {maxz} "
            f"| {'FAIL' if law_verdict == 'fail' else law_verdict} |"
        )
    lines += [
        "",
        "Holm's step-down procedure: the p-values of the scored checks, sorted, are compared with alpha/m,",
        "alpha/(m-1), ..., alpha, and the checks before the first one above its threshold fail; the chance that",
        "any check of correct laws fails is at most alpha. Refused checks take no part.",
        "largest |z|: the largest observed |z| over the checked generations (for an upper bound, the largest z;",
        "for a lower bound, the largest -z): compare it with the first step's critical value.",
        "generations marked * were refused: at this seed count the metric's skewness makes the z-score's tail",
        "more than twice its nominal rate (see `theory/tails.py`); rerun with more seeds to check them. A law",
        "with a refused check is inconclusive, not passed.",
        "seeds for 99% power: the seed count from which the same check rejects the law's deliberately wrong twin",
        "(off by one generation, the other estimator, 1/i for 1/i^2, or a bound that is too tight) with",
        "probability at least 0.99, estimated from this run's standard deviations (or the theory's variance).",
        "source: 'published' where the paper states the law (theorem or equation as the paper numbers it);",
        "'derived here' where the package derived it, in the setting of the paper named (its BibTeX below).",
    ]
    if report.get("bibtex"):
        lines += ["", "## BibTeX of the papers behind these laws", "", "```bibtex", report["bibtex"], "```"]
    md = outdir / "report.md"
    _atomic_text(md, "\n".join(lines) + "\n")
    return [js, md]


def _timings(runs: list[dict], laws_s: float, figures_s: float) -> dict[str, float]:
    """Where the time went: the laws' simulations split into compilation (with the first chunk), simulation
    and the host's reduction, the rest of the verification (cache, checks), and the figures."""
    first = sum(m.get("first_chunk_s") or 0.0 for m in runs)
    reduce_s = sum(m.get("reduce_s", 0.0) for m in runs)
    simulate_s = sum(m.get("elapsed_s", 0.0) for m in runs) - first - reduce_s
    return {
        "laws_s": laws_s,
        "laws_compile_and_first_chunk_s": first,
        "laws_simulate_s": max(simulate_s, 0.0),
        "laws_reduce_s": reduce_s,
        "laws_other_s": max(laws_s - first - simulate_s - reduce_s, 0.0),
        "laws_configs_simulated": len(runs),
        "figures_s": figures_s,
    }


def reproduce(
    outdir: str | os.PathLike[str],
    quick: bool = False,
    only: Sequence[str] | None = None,
    seeds: int | None = None,
    progress: bool | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> tuple[dict, list[Path]]:
    """Every registered law verified, the report written, every figure regenerated, through the cache."""
    from ..figures import FIGURES, make_all

    outdir = Path(outdir)
    laws = select_laws(None)
    names = list(FIGURES)
    if only:
        laws = [law for law in laws if any(law.id.startswith(o) or o in law.id for o in only)]
        names = [n for n in names if any(n.startswith(o) or o in n for o in only)]
    n_seeds = seeds or (QUICK_SEEDS if quick else None)
    elapsed: dict[str, float] = {}
    runs: list[dict] = []

    def timed(cfg, n, seed, progress=None, metrics=None):
        t0 = time.perf_counter()
        res = cached_run(cfg, n, seed, progress=progress, metrics=metrics)
        elapsed.setdefault(config_hash(cfg), time.perf_counter() - t0)
        if res.meta.get("cache") != "hit":
            runs.append(res.meta)
        return res

    paths = []
    t0 = time.perf_counter()
    if laws:
        checks, results = verify(laws, seeds=n_seeds, alpha=alpha, progress=progress, runner=timed)
        report = build_report(laws, checks, results, alpha, elapsed)
    else:
        report = {"passed": True, "verdict": "pass", "laws": [], "checks": 0, "alpha": alpha}
    laws_s = time.perf_counter() - t0
    if names:
        fig_seeds = seeds or (max(256, QUICK_SEEDS // 4) if quick else None)
        paths += make_all(outdir / "figures", seeds=fig_seeds, only=names, progress=progress)
    report["timings"] = _timings(runs, laws_s, time.perf_counter() - t0 - laws_s)
    if laws:
        paths[:0] = write_report(report, outdir)
    return report, paths
