"""``python -m bench --quick --json`` prints the documented JSON list (slow: about 3.5 minutes), and --throughput."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = {
    "workload",
    "sampler",
    "seeds",
    "reference_s_per_seed",
    "package_s_per_seed",
    "speedup",
    "roofline_s_per_seed",
    "roofline_ratio",
    "peak_rss_mb",
    "package_with_quantiles_s_per_seed",
    "speedup_with_quantiles",
}


@pytest.mark.slow
def test_bench_quick_json_contract():
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"], cwd=root, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    entries = json.loads(proc.stdout)
    assert {(e["workload"], e["sampler"]) for e in entries} >= {("W1-accumulate", "exact"), ("W2", "faithful")}
    for e in entries:
        assert KEYS <= set(e) and e["speedup"] > 0 and e["roofline_ratio"] > 0


def test_throughput_sizes_whole_micro_batches_within_the_cap():
    from bench.throughput import _sized

    assert _sized(0.1, 64, 1.0, 10**6) == 640  # ten micro-batches take the cap
    assert _sized(5.0, 64, 1.0, 10**6) == 64  # at least one micro-batch
    assert _sized(1e-6, 64, 1.0, 1000) == 960  # at most max_seeds, in whole micro-batches
    assert _sized(0.0, 512, 1.0, 4096) == 4096


@pytest.mark.slow
def test_throughput_mode_json_and_failures_as_entries(tmp_path):
    """``--throughput`` gives one entry per (workload, sampler, precision); a worker that
    times out becomes an entry with an ``error`` and the run goes on."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "t.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--throughput",
        "--json",
        "--workloads",
        "W2",
        "--samplers",
        "exact",
        "--precisions",
        "float32",
        "--time-cap",
        "0.2",
        "--repeats",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (entry,) = json.loads(proc.stdout)
    assert entry["precision"] == "float32" and entry["config"]["precision"] == "float32"
    assert entry["seeds"] % entry["micro_batch"] == 0 and entry["seeds_per_s"] > 0 and entry["roofline_ratio"] > 0
    assert json.loads(out.read_text().splitlines()[-1])["seeds"] == entry["seeds"]
    proc = subprocess.run(cmd[:-2] + ["--worker-timeout", "1"], cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "timed out" in json.loads(proc.stdout)[0]["error"]
