"""``python -m bench --quick --json`` prints the documented JSON list (slow: about 2.5 minutes)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = {"workload", "sampler", "seeds", "reference_s_per_seed", "package_s_per_seed", "speedup",
        "roofline_s_per_seed", "roofline_ratio", "peak_rss_mb", "package_with_quantiles_s_per_seed",
        "speedup_with_quantiles"}


@pytest.mark.slow
def test_bench_quick_json_contract():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json"], cwd=root, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    entries = json.loads(proc.stdout)
    assert {(e["workload"], e["sampler"]) for e in entries} >= {("W1-accumulate", "exact"), ("W2", "faithful")}
    for e in entries:
        assert KEYS <= set(e) and e["speedup"] > 0 and e["roofline_ratio"] > 0
