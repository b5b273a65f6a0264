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

__all__ = ["QUICK_SEEDS", "build_report", "reproduce", "write_report"]

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

    def timed(cfg, n, seed, progress=None):
        t0 = time.perf_counter()
        res = cached_run(cfg, n, seed, progress=progress)
        elapsed.setdefault(config_hash(cfg), time.perf_counter() - t0)
        return res

    paths = []
    if laws:
        checks, results = verify(laws, seeds=n_seeds, alpha=alpha, progress=progress, runner=timed)
        report = build_report(laws, checks, results, alpha, elapsed)
        paths += write_report(report, outdir)
    else:
        report = {"passed": True, "verdict": "pass", "laws": [], "checks": 0, "alpha": alpha}
    if names:
        fig_seeds = seeds or (max(256, QUICK_SEEDS // 4) if quick else None)
        paths += make_all(outdir / "figures", seeds=fig_seeds, only=names, progress=progress)
    return report, paths
