"""Killing ``collapse reproduce`` midway (SIGKILL) and rerunning gives the same report."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ARGS = [sys.executable, "-m", "experiments.cli", "reproduce", "--only", "linreg/accumulate/fixed",
        "linreg/replace/fixed", "--seeds", "4096", "--quiet"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkill_midway_then_rerun_completes_with_the_same_report(tmp_path):
    env = {**os.environ, "COLLAPSE_CACHE": str(tmp_path / "cache")}
    reference = subprocess.run(ARGS + ["--outdir", str(tmp_path / "ref")], env={**env, "COLLAPSE_CACHE": str(tmp_path / "c0")},
                               capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stderr
    proc = subprocess.Popen(ARGS + ["--outdir", str(tmp_path / "out")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Kill once the first cache entry is written (one config done, the other in flight), or after 60 s.
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "cache").glob("*.json")) and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = [p.name for p in (tmp_path / "cache").glob("*") if p.name.startswith(".")] if (tmp_path / "cache").exists() else []
    rerun = subprocess.run(ARGS + ["--outdir", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    strip = lambda p: [{k: v for k, v in law.items() if k != "seconds"} for law in json.loads(p.read_text())["laws"]]
    assert strip(tmp_path / "out" / "report.json") == strip(tmp_path / "ref" / "report.json")
    # A temporary file left by the kill is never mistaken for an entry.
    assert all(p.startswith(".") and p.endswith(".tmp") for p in leftovers)
