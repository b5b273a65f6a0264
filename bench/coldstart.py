"""Cold start: what a user meets first, each in a fresh process with empty caches.

Entries (``python -m bench --coldstart``, and part of every ``python -m bench`` run):

* ``cold-simulate``: ``collapse simulate linreg --seeds 1000 --json`` (the defaults: d = 10,
  T = 50, 20 generations), end to end, in a fresh process with an empty results cache and
  an empty compilation cache; then the same command again (``rerun_s``: the compilation
  cache is warm). A second, instrumented worker splits a cold run the same way into
  process start (the interpreter, measured from the parent's spawn), imports, SymPy
  derivations (the theory curve; frozen, so milliseconds), compilation (the first
  64-seed chunk minus a warm chunk), simulation and the host's reduction.
* ``cold-reproduce-quick``: ``collapse reproduce --quick`` end to end with empty caches
  (with ``--quick`` on the bench: only the laws and figures whose names start with
  ``linreg``, said in the entry), then again (``rerun_s``: every result from the cache),
  with the breakdown that the report records (``report.json``'s ``timings``).

Targets on 2 cores: a cold simulate of 1,000 seeds under 3 s, ``reproduce --quick`` under
60 s, a full ``reproduce`` under 180 s (not run here: ``collapse reproduce``), a rerun under
10 s. An entry that misses its target says where the time goes (``breakdown``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"cold-simulate": 3.0, "cold-reproduce-quick": 60.0, "rerun": 10.0}
SIMULATE = ["simulate", "linreg", "--seeds", "1000", "--json", "--quiet"]


def _cli(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "model_collapse.experiments.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return time.perf_counter() - t, proc


def _env(root: Path) -> dict:
    return {**os.environ, "COLLAPSE_CACHE": str(root / "results"), "COLLAPSE_XLA_CACHE": str(root / "xla")}


def worker_breakdown(spec: dict) -> dict:
    """A cold ``collapse simulate`` split into its parts, in this fresh process (caches empty)."""
    t_start = time.time()
    import model_collapse.experiments.cli  # noqa: F401  (what the command imports)
    import numpy as np
    from model_collapse.experiments import LinRegConfig, get_model, run
    from model_collapse.experiments.engine import xla_cache

    t_imports = time.time()
    xla_cache.enable()
    cfg = LinRegConfig(**spec["config"])
    seeds = spec["seeds"]
    t = time.perf_counter()
    get_model("linreg").theory(cfg, np.arange(1, cfg.generations + 1))
    derive_s = time.perf_counter() - t
    t = time.perf_counter()
    run(cfg, 64, 0, progress=False)  # compiles, runs one chunk
    first_s = time.perf_counter() - t
    t = time.perf_counter()
    run(cfg, 64, 1, progress=False)
    chunk_s = time.perf_counter() - t
    result = run(cfg, seeds, 0, progress=False)
    meta = result.meta
    return {
        "process_start_s": t_start - spec["spawned_at"],
        "imports_s": t_imports - t_start,
        "derivations_s": derive_s,
        "compile_s": max(first_s - chunk_s, 0.0),
        "simulate_s": max(meta["elapsed_s"] - meta["reduce_s"], 0.0),
        "reduce_s": meta["reduce_s"],
    }


def _spawn_breakdown(root: Path, seeds: int) -> dict:
    from model_collapse.experiments import LinRegConfig, config_dict

    config = {k: v for k, v in config_dict(LinRegConfig()).items() if k != "model"}
    spec = {"config": config, "seeds": seeds, "spawned_at": time.time()}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--worker-breakdown", json.dumps(spec)],
        cwd=Path(__file__).resolve().parent.parent,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"breakdown worker failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cold_simulate() -> dict:
    with tempfile.TemporaryDirectory(prefix="collapse-cold-") as tmp:
        root = Path(tmp)
        cold_s, proc = _cli(SIMULATE, _env(root))
        if proc.returncode != 0:
            raise RuntimeError(f"cold simulate failed: {proc.stderr[-2000:]}")
        rerun_s, _ = _cli(SIMULATE, _env(root))
    with tempfile.TemporaryDirectory(prefix="collapse-cold-") as tmp:
        breakdown = _spawn_breakdown(Path(tmp), 1000)
    return {
        "entry": "cold-simulate",
        "command": "collapse " + " ".join(SIMULATE),
        "cold_s": cold_s,
        "rerun_s": rerun_s,
        "breakdown": breakdown,
        "targets": _targets("cold-simulate", cold_s, rerun_s, breakdown),
    }


def cold_reproduce(quick_bench: bool) -> dict:
    args = ["reproduce", "--quick", "--quiet"] + (["--only", "linreg"] if quick_bench else [])
    with tempfile.TemporaryDirectory(prefix="collapse-cold-") as tmp:
        root = Path(tmp)
        cold_s, proc = _cli([*args, "--outdir", str(root / "out")], _env(root))
        if proc.returncode not in (0, 3):  # 3: inconclusive (refused checks), still a complete run
            raise RuntimeError(f"cold reproduce failed ({proc.returncode}): {proc.stderr[-2000:]}")
        report = json.loads((root / "out" / "report.json").read_text())
        rerun_s, _ = _cli([*args, "--outdir", str(root / "out2")], _env(root))
        again = json.loads((root / "out2" / "report.json").read_text())
    return {
        "entry": "cold-reproduce-quick",
        "command": "collapse " + " ".join(args),
        "subset": "laws and figures named linreg* only (the bench's --quick)" if quick_bench else None,
        "exit_status": proc.returncode,
        "cold_s": cold_s,
        "rerun_s": rerun_s,
        "breakdown": {**report.get("timings", {}), "outside_reproduce_s": cold_s - _inside(report)},
        "rerun_breakdown": {**again.get("timings", {}), "outside_reproduce_s": rerun_s - _inside(again)},
        "targets": _targets(
            "cold-reproduce-quick",
            cold_s,
            rerun_s,
            report.get("timings", {}),
            quick_bench,
            {**again.get("timings", {}), "outside_reproduce_s": rerun_s - _inside(again)},
        ),
    }


def _inside(report: dict) -> float:
    t = report.get("timings", {})
    return t.get("laws_s", 0.0) + t.get("figures_s", 0.0)


def _targets(
    name: str, cold_s: float, rerun_s: float, breakdown: dict, subset: bool = False, rerun_breakdown: dict | None = None
) -> dict:
    def verdict(target: float, value: float, parts_of: dict | None) -> dict:
        out = {"target": f"< {target:g} s", "value": value, "met": value < target}
        if not out["met"] and parts_of:
            parts = {k: v for k, v in parts_of.items() if k.endswith("_s") and k != "laws_s"}
            top = sorted(parts.items(), key=lambda kv: -kv[1])[:3]
            out["spent_on"] = ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in top)
        if subset:
            out["note"] = "measured on a subset (bench --quick): the target is for the whole command"
        return out

    return {
        name: verdict(TARGETS[name], cold_s, breakdown),
        "rerun": verdict(TARGETS["rerun"], rerun_s, rerun_breakdown),
    }


def run_coldstart(quick: bool) -> list[dict]:
    return [cold_simulate(), cold_reproduce(quick)]


def table(entries: list[dict]) -> str:
    lines = ["| entry | cold s | rerun s | breakdown | targets |", "|---|---|---|---|---|"]
    for e in entries:
        parts = ", ".join(f"{k[:-2]} {v:.2f}" for k, v in e["breakdown"].items() if k.endswith("_s"))
        targets = "; ".join(
            f"{k} {t['target']}: {t['value']:.1f} s "
            + ("met" if t["met"] else "**NOT met**" + (f" ({t['spent_on']})" if "spent_on" in t else ""))
            for k, t in e["targets"].items()
        )
        lines.append(f"| {e['command']} | {e['cold_s']:.1f} | {e['rerun_s']:.1f} | {parts} | {targets} |")
    return "\n".join(lines)
