"""Two processes (``jax.distributed`` on 127.0.0.1, Gloo) give the single process's result, bit for bit.

Slow: each process starts JAX and compiles (~30 s on 2 cores).
"""

import json
import socket
import subprocess
import sys

import pytest

ARGS = [
    sys.executable,
    "-m",
    "model_collapse.experiments.cli",
    "simulate",
    "linreg",
    "--d",
    "4",
    "--T",
    "12",
    "--generations",
    "5",
    "--regime",
    "accumulate",
    "--seeds",
    "700",
    "--seed",
    "9",
    "--json",
    "--quiet",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_equal_one():
    one = subprocess.run(ARGS, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    address = f"127.0.0.1:{_free_port()}"
    procs = [
        subprocess.Popen(
            ARGS + ["--coordinator-address", address, "--num-processes", "2", "--process-id", str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (0, 1)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    assert outs[1][0] == ""  # only process 0 prints
    single, multi = json.loads(one.stdout), json.loads(outs[0][0])
    assert multi["meta"]["devices"] == 2 and single["meta"]["devices"] == 1
    assert multi["metrics"] == single["metrics"]  # JSON floats round-trip exactly: bit-identical


def test_incomplete_settings_are_one_line_errors(capsys):
    from model_collapse.experiments.cli import main

    with pytest.raises(SystemExit) as err:
        main(["simulate", "linreg", "--num-processes", "2", "--seeds", "64"])
    assert err.value.code == 2 and "missing: --coordinator-address, --process-id" in capsys.readouterr().err
