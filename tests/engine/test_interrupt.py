"""Interrupting ``collapse reproduce`` midway (SIGKILL or SIGINT) and rerunning gives the same report."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ARGS = [
    sys.executable,
    "-m",
    "model_collapse.experiments.cli",
    "reproduce",
    "--only",
    "linreg/accumulate/fixed",
    "linreg/replace/fixed",
    "--seeds",
    "1024",
    "--quiet",
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    proc = subprocess.run(
        ARGS + ["--outdir", str(root / "ref")],
        env={**os.environ, "COLLAPSE_CACHE": str(root / "c0")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return root / "ref" / "report.json"


def _strip(path):
    return [{k: v for k, v in law.items() if k != "seconds"} for law in json.loads(path.read_text())["laws"]]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, pytest.param(signal.SIGINT, marks=pytest.mark.slow)], ids=["SIGKILL", "SIGINT"]
)
def test_interrupt_midway_then_rerun_completes_with_the_same_report(sig, reference, tmp_path):
    env = {**os.environ, "COLLAPSE_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        ARGS + ["--outdir", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once the first cache entry is written (one config done, the other in flight), or after 60 s.
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "cache").glob("*.json")) and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:  # a clean stop: status 130, one line, no traceback
        assert proc.returncode == 130 and "collapse: interrupted" in err and "Traceback" not in err, err
    else:
        assert proc.returncode == -signal.SIGKILL
    leftovers = (
        [p.name for p in (tmp_path / "cache").glob("*") if p.name.startswith(".")]
        if (tmp_path / "cache").exists()
        else []
    )
    # A temporary file left by a kill is never mistaken for an entry; a SIGINT cleans up after itself.
    assert all(p.startswith(".") and p.endswith(".tmp") for p in leftovers)
    if sig == signal.SIGINT:
        assert not leftovers
    assert not (tmp_path / "out" / "report.json").exists()  # no report from an interrupted run
    rerun = subprocess.run(
        ARGS + ["--outdir", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    assert _strip(tmp_path / "out" / "report.json") == _strip(reference)
