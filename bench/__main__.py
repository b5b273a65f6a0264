"""``python -m bench [--quick] [--json]``: the package against the NumPy reference and a roofline.

For every workload (:mod:`bench.workloads`) and sampler (``exact``, ``faithful``; the categorical
W4 has one, ``counts``) a fresh
worker process measures, in this order and all in the same process:

1. the package's first call (``experiments.run`` on 64 seeds: compiles the config's
   program and runs one CPU micro-batch) -> ``first_call_s`` and ``compile_s``;
2. a warm timed run on ``seeds`` seeds with the default quantiles (the same compiled
   program) -> ``package_with_quantiles_s_per_seed``, ``speedup_with_quantiles``;
3. the process's peak resident set size so far (``ru_maxrss``) -> ``peak_rss_mb``
   (it includes the Python, NumPy and JAX runtime and the compiler's peak);
3b. a warm timed run with ``quantiles=()`` -> ``package_s_per_seed``, ``speedup``,
   ``roofline_ratio``: the reference's work (every seed's trajectory) plus the
   per-generation mean, standard error and extremes, and no more: the reference
   computes no quantiles across seeds, so this is the "same work" the targets compare;
4. the NumPy reference (:mod:`bench.reference`), each seed timed alone ->
   ``reference_s_per_seed`` (its fastest seed);
5. the roofline: ``jax.random.normal`` drawing, in blocks of 64 seeds, as many float
   normals as the *faithful* sampler must draw for the same work -> ``roofline_s_per_seed``;
6. steps 2, 3b and 5 again (``--repeats``); each time reported is the best of its repeats.

Best-of timings are conservative for the speedup (the reference's fastest seed) and
robust to other processes sharing the machine. Ratios are only ever taken between
numbers measured in the same process. For every exact entry a second worker runs
the package alone on more seeds (``Workload.scaling_seeds``: W1 10x in ``--quick`` and
10^6 in a full run, W2 and W3 4-10x) to check that the peak RSS does not grow with the
seed count, and, for W1 in a full run, that 10^6 seeds finish in under 60 s.

Progress goes to stderr; with ``--json`` stdout holds only the JSON list.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

from .harness import ROOFLINE_BLOCK, fmt, log, peak_rss_mb, roofline, spawn, time_package
from .workloads import SAMPLERS, SKIPPED, WORKLOADS, get_workload

WARMUP_SEEDS = 64  # one CPU micro-batch: the runner compiles once per config, for 64-seed chunks
RSS_TOLERANCE = 0.10
MILLION = 1_000_000
MILLION_TARGET_S = 60.0
ROOFLINE_TARGET = 2.0


def _time_reference(cfg, seeds: int) -> list[float]:
    from .reference import run_reference

    times = []
    for i in range(seeds):
        t = time.perf_counter()
        run_reference(cfg, 1, seed=i)
        times.append(time.perf_counter() - t)
    return times


def worker_entry(spec: dict) -> dict:
    """One workload and sampler, every measurement in this process."""
    import jax
    import model_collapse.experiments as experiments

    # The package turns float64 on only around its own runs; the roofline's own draws are
    # timed in this worker process, so float64 is switched on here for the whole process.
    jax.config.update("jax_enable_x64", True)

    w = get_workload(spec["workload"])
    sampler, seeds, repeats = spec["sampler"], spec["seeds"], spec["repeats"]
    cfg = w.make_config(sampler)
    tag = f"{w.name}/{sampler}"

    first_call_s = time_package(cfg, WARMUP_SEEDS)
    log(f"{tag}: first call ({WARMUP_SEEDS} seeds, compiles) {first_call_s:.2f} s")
    with_q = [time_package(cfg, seeds)]
    peak_rss = peak_rss_mb()
    package = [time_package(cfg, seeds, quantiles=False)]
    log(
        f"{tag}: package {seeds} seeds {package[0]:.2f} s (with quantiles {with_q[0]:.2f} s), "
        f"peak RSS {peak_rss:.0f} MB"
    )

    ref_times = _time_reference(cfg, spec["reference_seeds"])
    log(f"{tag}: reference {len(ref_times)} seeds, per seed " + ", ".join(f"{t:.3f}" for t in ref_times) + " s")

    roof_timed = roofline(w.faithful_draws, 0, 1.0, spec["roofline_seeds"], cfg.dtype)
    own_timed = roofline(*w.exact_draws, spec["roofline_seeds"], cfg.dtype) if sampler == "exact" else None
    roof, own = [roof_timed()], [own_timed() if own_timed else math.nan]
    for _ in range(repeats - 1):
        package.append(time_package(cfg, seeds, quantiles=False))
        with_q.append(time_package(cfg, seeds))
        roof.append(roof_timed())
        if own_timed:
            own.append(own_timed())
    package_s = min(package) / seeds
    with_q_s = min(with_q) / seeds
    roof_s, own_s = min(roof), min(own)
    log(
        f"{tag}: package {package_s:.3e} s/seed (runs {', '.join(f'{p:.2f}' for p in package)} s), "
        f"faithful roofline {roof_s:.3e} s/seed" + (f", own draws {own_s:.3e} s/seed" if own_timed else "")
    )

    ref_s = min(ref_times)
    return {
        "workload": w.name,
        "sampler": sampler,
        "seeds": seeds,
        "reference_s_per_seed": ref_s,
        "package_s_per_seed": package_s,
        "speedup": ref_s / package_s,
        "seeds_per_s": 1.0 / package_s,
        "package_with_quantiles_s_per_seed": with_q_s,
        "speedup_with_quantiles": ref_s / with_q_s,
        "roofline_s_per_seed": roof_s,
        "roofline_ratio": package_s / roof_s,
        "peak_rss_mb": peak_rss,
        "compile_s": max(first_call_s - WARMUP_SEEDS * with_q_s, 0.0),
        "first_call_s": first_call_s,
        "reference_seeds": len(ref_times),
        "reference_s_per_seed_mean": sum(ref_times) / len(ref_times),
        "roofline_draws_per_seed": w.faithful_draws,
        **(
            {
                "exact_draws_per_seed": {"normals": w.exact_draws[0], "gammas": w.exact_draws[1]},
                "exact_roofline_s_per_seed": own_s,
                "exact_roofline_ratio": package_s / own_s,
            }
            if own_timed
            else {}
        ),
        "reference_blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "roofline_seeds": max(1, -(-spec["roofline_seeds"] // ROOFLINE_BLOCK)) * ROOFLINE_BLOCK,
        "repeats": repeats,
        "config": experiments.config_dict(cfg),
        "backend": jax.default_backend(),
    }


def worker_scaling(spec: dict) -> dict:
    """The package alone, as the entry worker runs it up to its RSS reading, on ``seeds`` seeds."""
    import model_collapse.experiments as experiments  # noqa: F401

    w = get_workload(spec["workload"])
    cfg = w.make_config(spec["sampler"])
    first = time_package(cfg, WARMUP_SEEDS)
    run_s = time_package(cfg, spec["seeds"])
    peak = peak_rss_mb()
    log(
        f"{w.name}/{spec['sampler']}: {spec['seeds']} seeds in {run_s:.1f} s (+ first call {first:.1f} s), "
        f"peak RSS {peak:.0f} MB"
    )
    return {"seeds": spec["seeds"], "first_call_s": first, "run_s": run_s, "peak_rss_mb": peak}


# --------------------------------------------------------------------------- driver side


def _targets(entry: dict, workload) -> dict:
    out = {}
    if entry["sampler"] == "exact":
        out["speedup"] = {
            "target": f">= {workload.speedup_target:g}",
            "value": entry["speedup"],
            "met": entry["speedup"] >= workload.speedup_target,
        }
    else:
        out["roofline_ratio"] = {
            "target": f"<= {ROOFLINE_TARGET:g}",
            "value": entry["roofline_ratio"],
            "met": entry["roofline_ratio"] <= ROOFLINE_TARGET,
        }
        if workload.faithful_speedup_target is not None:
            out["speedup"] = {
                "target": f">= {workload.faithful_speedup_target:g}",
                "value": entry["speedup"],
                "met": entry["speedup"] >= workload.faithful_speedup_target,
            }
    scaling = entry.get("rss_scaling")
    if scaling:
        out["rss_flat"] = {
            "target": f"peak RSS within {RSS_TOLERANCE:.0%} from {scaling['seeds'][0]} to {scaling['seeds'][1]} seeds",
            "value": scaling["growth"],
            "met": abs(scaling["growth"]) <= RSS_TOLERANCE,
        }
    if workload.name.startswith("W1") and entry["sampler"] == "exact":
        if scaling and scaling["seeds"][1] >= MILLION:
            total = scaling["million_total_s"]
            out["million_seeds_s"] = {
                "target": f"< {MILLION_TARGET_S:g} s",
                "value": total,
                "met": total < MILLION_TARGET_S,
            }
        else:
            out["million_seeds_s"] = {
                "target": f"< {MILLION_TARGET_S:g} s",
                "value": entry["package_s_per_seed"] * MILLION,
                "met": None,
                "note": "not measured in --quick: extrapolated from package_s_per_seed (run without --quick)",
            }
    return out


def run_benchmarks(quick: bool, workloads, samplers, repeats: int, blas_threads: int = 1) -> list[dict]:
    mode = "quick" if quick else "full"
    results = []
    for w in workloads:
        for sampler in samplers:
            if sampler not in w.samplers:
                log(f"--- {w.name} / {sampler}: skipped (the workload runs with {', '.join(w.samplers)} only)")
                continue
            seeds = w.package_seeds[(mode, sampler)]
            spec = {
                "workload": w.name,
                "sampler": sampler,
                "seeds": seeds,
                "reference_seeds": w.reference_seeds[mode],
                "roofline_seeds": 256 if quick else 1024,
                "repeats": repeats,
            }
            log(f"--- {w.name} / {sampler}: {w.title}")
            entry = spawn("entry", spec, blas_threads)
            big = w.scaling_seeds.get(mode) if sampler == "exact" else None
            if big:
                s = spawn("scaling", {"workload": w.name, "sampler": sampler, "seeds": big}, blas_threads)
                entry["rss_scaling"] = {
                    "seeds": [seeds, big],
                    "peak_rss_mb": [entry["peak_rss_mb"], s["peak_rss_mb"]],
                    "growth": s["peak_rss_mb"] / entry["peak_rss_mb"] - 1.0,
                }
                if big >= MILLION:
                    entry["rss_scaling"]["million_run_s"] = s["run_s"]
                    entry["rss_scaling"]["million_total_s"] = s["first_call_s"] + s["run_s"]
            entry["targets"] = _targets(entry, w)
            results.append(entry)
    return results


def table(results: list[dict]) -> str:
    """A Markdown table of the results."""
    head = (
        "| workload | sampler | seeds pkg/ref | reference s/seed | package s/seed | speedup | "
        "with quantiles s/seed (speedup) | "
        "faithful roofline s/seed | pkg/roofline | exact's own draws s/seed (pkg/own) | peak RSS MB | compile s "
        "| targets |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for e in results:
        verdicts = []
        for name, t in e["targets"].items():
            mark = "n/a" if t["met"] is None else ("met" if t["met"] else "**NOT met**")
            extra = " (extrapolated)" if t["met"] is None else ""
            verdicts.append(f"{name} {t['target']}: {fmt(t['value'])}{extra} {mark}")
        own = "-"
        if "exact_roofline_s_per_seed" in e:
            own = f"{fmt(e['exact_roofline_s_per_seed'])} ({fmt(e['exact_roofline_ratio'])})"
        rss = fmt(e["peak_rss_mb"], ".0f")
        if e.get("rss_scaling"):
            sc = e["rss_scaling"]
            rss = f"{sc['peak_rss_mb'][0]:.0f} -> {sc['peak_rss_mb'][1]:.0f} at {sc['seeds'][1]} seeds"
        lines.append(
            f"| {e['workload']} | {e['sampler']} | {e['seeds']}/{e['reference_seeds']} | "
            f"{fmt(e['reference_s_per_seed'])} | {fmt(e['package_s_per_seed'])} | {fmt(e['speedup'])} | "
            f"{fmt(e.get('package_with_quantiles_s_per_seed'))} ({fmt(e.get('speedup_with_quantiles'))}) | "
            f"{fmt(e['roofline_s_per_seed'])} | {fmt(e['roofline_ratio'])} | {own} | {rss} | "
            f"{fmt(e['compile_s'], '.2f')} | {'; '.join(verdicts)} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small seed counts (a few minutes on 2 cores)")
    parser.add_argument("--json", action="store_true", help="print only the JSON list on stdout")
    parser.add_argument("--workloads", help="comma-separated subset, e.g. W1-replace,W2")
    parser.add_argument("--samplers", help="comma-separated subset of: exact,faithful,counts")
    parser.add_argument("--repeats", type=int, help="timed repeats of the package and roofline (best of)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads for the NumPy reference (default 1: on a small shared machine OpenBLAS's "
        "spinning threads contend with XLA's and run lstsq 10-100x slower; one thread is its fastest)",
    )
    parser.add_argument("--table", metavar="FILE", help="print the Markdown table of a saved --json output and exit")
    parser.add_argument(
        "--throughput",
        action="store_true",
        help="seeds per second on the default backend (an accelerator when JAX sees one), per precision, "
        "with no reference (see bench/throughput.py)",
    )
    parser.add_argument("--precisions", default="float64,float32", help="with --throughput (default: both)")
    parser.add_argument(
        "--time-cap", type=float, default=4.0, help="with --throughput: seconds each timed run aims at (default 4)"
    )
    parser.add_argument(
        "--worker-timeout",
        type=float,
        default=300.0,
        help="with --throughput: seconds before a worker is stopped and reported as failed",
    )
    parser.add_argument(
        "--out", metavar="FILE", help="with --throughput: append each entry as a JSON line as it finishes"
    )
    parser.add_argument(
        "--coldstart",
        action="store_true",
        help="only the cold-start entries (fresh processes, empty caches: bench/coldstart.py)",
    )
    parser.add_argument("--no-coldstart", action="store_true", help="skip the cold-start entries")
    parser.add_argument("--worker-breakdown", help=argparse.SUPPRESS)
    parser.add_argument("--worker-entry", help=argparse.SUPPRESS)
    parser.add_argument("--worker-scaling", help=argparse.SUPPRESS)
    parser.add_argument("--worker-throughput", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker_throughput:
        from .throughput import worker_throughput

        print(json.dumps(worker_throughput(json.loads(args.worker_throughput))))
        return 0
    if args.worker_entry:
        print(json.dumps(worker_entry(json.loads(args.worker_entry))))
        return 0
    if args.worker_breakdown:
        from .coldstart import worker_breakdown

        print(json.dumps(worker_breakdown(json.loads(args.worker_breakdown))))
        return 0
    if args.worker_scaling:
        print(json.dumps(worker_scaling(json.loads(args.worker_scaling))))
        return 0

    if args.table:
        saved = json.loads(Path(args.table).read_text())
        if saved and ("seeds_per_s" in saved[0] or "error" in saved[0]):  # --throughput entries
            from .throughput import table as throughput_table

            print(throughput_table(saved))
        else:
            from .coldstart import table as coldstart_table

            cold = [e for e in saved if "entry" in e]
            print(table([e for e in saved if "entry" not in e]) + ("\n\n" + coldstart_table(cold) if cold else ""))
        return 0

    workloads = [get_workload(n) for n in args.workloads.split(",")] if args.workloads else list(WORKLOADS)
    samplers = args.samplers.split(",") if args.samplers else list(SAMPLERS)
    for s in samplers:
        if s not in SAMPLERS:
            parser.error(f"unknown sampler {s!r}; choose from {', '.join(SAMPLERS)}")
    repeats = args.repeats or 2
    if args.throughput:
        from .throughput import PRECISIONS, run_throughput
        from .throughput import table as throughput_table

        precisions = args.precisions.split(",")
        for p in precisions:
            if p not in PRECISIONS:
                parser.error(f"unknown precision {p!r}; choose from {', '.join(PRECISIONS)}")
        if args.time_cap <= 0 or args.worker_timeout <= 0:
            parser.error("--time-cap and --worker-timeout must be positive")
        log(f"python {platform.python_version()}, {os.cpu_count()} CPUs, mode throughput")
        t0 = time.perf_counter()
        results = run_throughput(workloads, samplers, precisions, repeats, args.time_cap, args.out, args.worker_timeout)
        log(f"done in {time.perf_counter() - t0:.0f} s")
        print(json.dumps(results, indent=1) if args.json else throughput_table(results))
        return 0
    log(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + f", mode {'quick' if args.quick else 'full'}"
    )
    for name, why in SKIPPED.items():
        log(f"{name} skipped: {why}")
    from .coldstart import run_coldstart
    from .coldstart import table as coldstart_table

    t0 = time.perf_counter()
    results = [] if args.coldstart else run_benchmarks(args.quick, workloads, samplers, repeats, args.blas_threads)
    cold = [] if args.no_coldstart else run_coldstart(args.quick)
    log(f"done in {time.perf_counter() - t0:.0f} s")
    if args.json:
        print(json.dumps(results + cold, indent=1))
    else:
        if results:
            print(table(results))
        if cold:
            print("\n" + coldstart_table(cold))
        for name, why in SKIPPED.items():
            print(f"\n{name} skipped: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
