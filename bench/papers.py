"""``python -m bench.papers [--seeds N] [--json]``: the package on the workloads of the papers' public code.

The papers' own scripts (the KoyejoLab code behind Gerstgrasser et al. 2024 and Kazdan et
al. 2024, their core loop only, Weights & Biases stubbed out) were timed on these
workloads on a 2-core machine on 2026-11-30 (``PAPERS_MS_PER_SEED``; the scripts are
not part of this repository, so those numbers are quoted, not re-measured). This module
re-measures the package on the same work, warm (compilation excluded, as for the scripts'
steady state), without quantiles (the scripts compute none), in milliseconds per seed, and
its faithful sampler's roofline ratio as ``python -m bench`` reports it: the package's time
over the time ``jax.random.normal`` takes, in the same process, to draw the normals the
faithful sampler must draw (``w*``, the design, then ``T`` label noises per generation for
regression; ``M dim`` per generation for the Gaussian). Accumulate-subsample also draws
``T`` random 32-bit words per generation for its subsets, not counted in the roofline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

# (name, model, config, papers' code in ms per seed as measured on 2026-11-30)
WORKLOADS = (
    ("OLS d=32, T=100, 50 generations, replace", "linreg", {"d": 32, "T": 100, "generations": 50}, "14.5"),
    (
        "the same, accumulate",
        "linreg",
        {"d": 32, "T": 100, "generations": 50, "regime": "accumulate"},
        "237",
    ),
    (
        "the same, accumulate-subsample",
        "linreg",
        {"d": 32, "T": 100, "generations": 50, "regime": "accumulate-subsample"},
        "22-37",
    ),
    (
        "Gaussian d=10, M=100, 100 generations, replace (MLE)",
        "gaussian",
        {"dim": 10, "M": 100, "generations": 100, "estimator": "mle"},
        "20.4",
    ),
    (
        "the same, accumulate",
        "gaussian",
        {"dim": 10, "M": 100, "generations": 100, "estimator": "mle", "regime": "accumulate"},
        "68.0",
    ),
)


def faithful_normals(model: str, config: dict) -> int:
    """Normals per seed the faithful sampler must draw for ``config`` (the roofline's work)."""
    if model == "linreg":
        d, T = config["d"], config["T"]
        return d + T * d + config["generations"] * T
    return config["generations"] * config["M"] * config["dim"]


def measure(seeds: int) -> list[dict]:
    import jax
    from model_collapse.experiments import get_model, run

    from .harness import roofline

    jax.config.update("jax_enable_x64", True)  # the roofline draws float64 normals in this process
    out = []
    for name, model, config, papers in WORKLOADS:
        row = {"workload": name, "papers_ms_per_seed": papers}
        timer = roofline(faithful_normals(model, config), 0, 1.0, seeds, jax.numpy.float64)
        row["faithful_roofline_ms_per_seed"] = 1e3 * min(timer() for _ in range(2))
        for sampler in ("faithful", "exact"):
            if sampler == "exact" and config.get("regime") == "accumulate-subsample":
                row["exact_ms_per_seed"] = None  # subsampling needs raw samples
                continue
            cfg = get_model(model).config(**config, sampler=sampler)
            run(cfg, 64, 0, progress=False, quantiles=())  # compile
            best = float("inf")
            for rep in range(2):
                t = time.perf_counter()
                run(cfg, seeds, rep + 1, progress=False, quantiles=())
                best = min(best, time.perf_counter() - t)
            row[f"{sampler}_ms_per_seed"] = 1e3 * best / seeds
            if sampler == "faithful":
                row["faithful_roofline_ratio"] = row["faithful_ms_per_seed"] / row["faithful_roofline_ms_per_seed"]
            print(f"{name} / {sampler}: {row[f'{sampler}_ms_per_seed']:.3f} ms/seed", file=sys.stderr)
        out.append(row)
    return out


def table(rows: list[dict]) -> str:
    def cell(row, sampler):
        value = row[f"{sampler}_ms_per_seed"]
        if value is None:
            return "-"
        low = float(row["papers_ms_per_seed"].split("-")[0])
        high = float(row["papers_ms_per_seed"].split("-")[-1])
        ratio = f"{low / value:.0f}x" if low == high else f"{low / value:.1f}-{high / value:.1f}x"
        return f"{value:.3g} ({ratio})"

    lines = [
        "| workload (2 cores) | papers' code, ms/seed (2026-11-30) | package, faithful | package, exact "
        "| faithful roofline ms/seed (pkg/roofline) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        roof = f"{row['faithful_roofline_ms_per_seed']:.3g} ({row['faithful_roofline_ratio']:.2g})"
        lines.append(
            f"| {row['workload']} | {row['papers_ms_per_seed']} | {cell(row, 'faithful')} | {cell(row, 'exact')} "
            f"| {roof} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.papers", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1024, help="seeds per timed run (default 1024)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = measure(args.seeds)
    print(json.dumps(rows, indent=1) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
