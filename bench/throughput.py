"""``python -m bench --throughput``: seeds per second on the default backend, float64 and float32.

The mode for an accelerator (it runs on the CPU as well): no NumPy reference, whose
timing on an accelerator host's CPU says nothing about the targets, and no RSS scaling.
For every workload, sampler and precision a fresh worker process measures:

1. the first call (``experiments.run`` on one micro-batch: compile and run) -> ``first_call_s``;
2. one warm micro-batch with ``quantiles=()`` and one with the default quantiles, which
   size the timed runs: as many whole micro-batches as take about ``--time-cap`` seconds,
   at most ``max_seeds`` (the host's quantile reduction does not run on the device, so the
   run with quantiles usually gets fewer seeds);
3. the timed runs, best of ``--repeats``: ``package_s_per_seed`` and ``seeds_per_s`` (the
   reference's work: trajectories, means, standard errors and extremes), and
   ``package_with_quantiles_s_per_seed`` and ``seeds_per_s_with_quantiles`` (the default run);
4. the roofline as in the CPU bench (``jax.random.normal`` drawing the faithful sampler's
   normals), in blocks of the config's micro-batch -> ``roofline_s_per_seed``,
   ``roofline_ratio``; for the exact sampler its own draws too.

Entries are written one JSON line each to ``--out`` as they finish, so a run stopped at a
time limit keeps what it measured; a worker that fails or times out gives an entry with
an ``error`` and the run goes on.
"""

from __future__ import annotations

import dataclasses
import json
import time
import traceback
from pathlib import Path

from .harness import fmt, log, peak_rss_mb, roofline, spawn, time_package
from .workloads import get_workload

PRECISIONS = ("float64", "float32")
MAX_SEEDS = {"exact": 2**20, "faithful": 2**17, "counts": 2**14}


def _sized(probe_s: float, micro: int, cap_s: float, max_seeds: int) -> int:
    """Whole micro-batches that take about ``cap_s`` seconds at ``probe_s`` per micro-batch."""
    fits = int(cap_s / max(probe_s, 1e-9))
    return micro * max(1, min(max_seeds // micro, fits))


def worker_throughput(spec: dict) -> dict:
    """One workload, sampler and precision on the default backend, every measurement in this process."""
    import jax
    import model_collapse.experiments as experiments
    from model_collapse.experiments.engine.runner import micro_batch

    jax.config.update("jax_enable_x64", True)  # this worker's own draws (the roofline) in float64

    w = get_workload(spec["workload"])
    sampler, precision, repeats, cap = spec["sampler"], spec["precision"], spec["repeats"], spec["time_cap_s"]
    cfg = dataclasses.replace(w.make_config(sampler), precision=precision)
    device = jax.devices()[0]
    micro = micro_batch(cfg, device.platform)
    tag = f"{w.name}/{sampler}/{precision}"

    first_call_s = time_package(cfg, micro)
    probe = time_package(cfg, micro, quantiles=False)
    probe_q = time_package(cfg, micro)
    seeds = _sized(probe, micro, cap, spec["max_seeds"])
    seeds_q = _sized(probe_q, micro, cap, seeds)
    log(
        f"{tag}: first call ({micro} seeds, compiles) {first_call_s:.2f} s; timing {seeds} seeds "
        f"({seeds_q} with quantiles)"
    )
    package = min(time_package(cfg, seeds, quantiles=False) for _ in range(repeats)) / seeds
    with_q = min(time_package(cfg, seeds_q) for _ in range(repeats)) / seeds_q
    roof_seeds = 4 * micro
    roof_timed = roofline(w.faithful_draws, 0, 1.0, roof_seeds, cfg.dtype, block=micro)
    roof = min(roof_timed() for _ in range(repeats))
    own = None
    if sampler == "exact":
        own_timed = roofline(*w.exact_draws, roof_seeds, cfg.dtype, block=micro)
        own = min(own_timed() for _ in range(repeats))
    log(f"{tag}: {1 / package:.4g} seeds/s ({1 / with_q:.4g} with quantiles), roofline ratio {package / roof:.3g}")
    return {
        "workload": w.name,
        "sampler": sampler,
        "precision": precision,
        "backend": jax.default_backend(),
        "device_kind": device.device_kind,
        "devices": len(jax.devices()),
        "micro_batch": micro,
        "seeds": seeds,
        "package_s_per_seed": package,
        "seeds_per_s": 1 / package,
        "seeds_with_quantiles": seeds_q,
        "package_with_quantiles_s_per_seed": with_q,
        "seeds_per_s_with_quantiles": 1 / with_q,
        "roofline_s_per_seed": roof,
        "roofline_ratio": package / roof,
        **({"exact_roofline_s_per_seed": own, "exact_roofline_ratio": package / own} if own else {}),
        "first_call_s": first_call_s,
        "compile_s": max(first_call_s - probe, 0.0),
        "peak_rss_mb": peak_rss_mb(),
        "repeats": repeats,
        "config": experiments.config_dict(cfg),
        "jax": jax.__version__,
    }


def run_throughput(
    workloads, samplers, precisions, repeats: int, time_cap_s: float, out: str | None, worker_timeout_s: float
) -> list[dict]:
    """Every (workload, sampler, precision) in its own worker; failures become entries with an ``error``."""
    results = []
    sink = Path(out).open("a") if out else None
    try:
        for w in workloads:
            for sampler in (s for s in samplers if s in w.samplers):
                for precision in precisions:
                    spec = {
                        "workload": w.name,
                        "sampler": sampler,
                        "precision": precision,
                        "repeats": repeats,
                        "time_cap_s": time_cap_s,
                        "max_seeds": MAX_SEEDS[sampler],
                    }
                    log(f"--- {w.name} / {sampler} / {precision}: {w.title}")
                    t = time.perf_counter()
                    try:
                        entry = spawn("throughput", spec, blas_threads=1, timeout=worker_timeout_s)
                    except Exception as exc:  # noqa: BLE001 - keep measuring the other entries
                        log(f"{w.name}/{sampler}/{precision} failed: {exc!r}")
                        entry = {
                            "workload": w.name,
                            "sampler": sampler,
                            "precision": precision,
                            "error": "".join(traceback.format_exception_only(exc)).strip(),
                        }
                    entry["wall_s"] = time.perf_counter() - t
                    results.append(entry)
                    if sink:
                        sink.write(json.dumps(entry) + "\n")
                        sink.flush()
    finally:
        if sink:
            sink.close()
    return results


def table(results: list[dict]) -> str:
    """A Markdown table of ``--throughput`` results."""
    head = (
        "| workload | sampler | precision | device | micro-batch | seeds | seeds/s | seeds/s with quantiles "
        "(seeds) | pkg/roofline | pkg/own draws | compile s |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for e in results:
        if "error" in e:
            lines.append(
                f"| {e['workload']} | {e['sampler']} | {e['precision']} | failed: {e['error'][:80]} |" + " |" * 7
            )
            continue
        lines.append(
            f"| {e['workload']} | {e['sampler']} | {e['precision']} | {e['device_kind']} | {e['micro_batch']} | "
            f"{e['seeds']} | {fmt(e['seeds_per_s'], '.4g')} | {fmt(e['seeds_per_s_with_quantiles'], '.4g')} "
            f"({e['seeds_with_quantiles']}) | {fmt(e['roofline_ratio'])} | {fmt(e.get('exact_roofline_ratio'))} | "
            f"{fmt(e['compile_s'], '.2f')} |"
        )
    return "\n".join(lines)
