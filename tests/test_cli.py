"""The ``collapse`` CLI contract: JSON shape, exit statuses, one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from model_collapse.experiments.cli import main
from model_collapse.theory import linreg as L


def _run(capsys, *argv):
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_simulate_json_contract(capsys):
    status, out, err = _run(
        capsys, "simulate", "linreg", "--regime", "accumulate", "--d", "4", "--T", "20", "--sigma2", "2",
        "--design", "fixed", "--generations", "5", "--seeds", "300", "--seed", "7", "--json", "--quiet",
    )
    assert status == 0, err
    data = json.loads(out)
    assert {"model", "regime", "config", "seeds", "seed", "generation", "metrics", "theory"} <= set(data)
    assert data["model"] == "linreg" and data["regime"] == "accumulate" and data["seeds"] == 300 and data["seed"] == 7
    assert data["config"]["d"] == 4 and data["config"]["T"] == 20 and data["config"]["sigma2"] == 2.0
    assert data["generation"] == [1, 2, 3, 4, 5]
    te = data["metrics"]["test_error"]
    assert len(te["mean"]) == len(te["sem"]) == 5
    assert {"0.05", "0.5", "0.95"} <= set(te["quantiles"])
    np.testing.assert_allclose(data["theory"]["test_error"], L.expected_test_error(np.arange(1, 6), 4, 20, 2.0, "accumulate"))


def test_theory_is_null_without_a_closed_form(capsys):
    status, out, _ = _run(capsys, "simulate", "linreg", "--regime", "accumulate", "--design", "fresh", "--d", "2",
                          "--T", "8", "--generations", "3", "--seeds", "64", "--json", "--quiet")
    assert status == 0 and json.loads(out)["theory"]["test_error"] is None


def test_table_output(capsys):
    status, out, _ = _run(capsys, "simulate", "linreg", "--d", "2", "--T", "8", "--generations", "3", "--seeds", "64", "--quiet")
    assert status == 0 and "test_error" in out and len(out.splitlines()) >= 6


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--d", "32", "--T", "33"], "T must exceed d + 1"),
        (["--sigma2", "-1"], "sigma2 must be"),
        (["--sigma2", "nan"], "finite"),
        (["--regime", "recycle"], "unknown regime 'recycle'"),
        (["--design", "random"], "unknown design"),
        (["--sampler", "exact", "--regime", "accumulate-subsample"], "no raw rows"),
        (["--generations", "0"], "generations must be"),
        (["--d", "0"], "d must be"),
        (["--seeds", "0"], "--seeds must be >= 1"),
        (["--T", "ten"], "expected an integer"),
        (["--lr", "3"], "unrecognized arguments"),
        (["--convention", "n+1"], "unknown convention"),
        (["--precision", "float16"], "unknown precision"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    status, out, err = _run(capsys, "simulate", "linreg", "--generations", "2", "--seeds", "64", *argv)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("collapse: error: ") and message in err, err
    assert out == ""


def test_unknown_model_and_command(capsys):
    assert _run(capsys, "simulate", "transformer")[0] == 2
    assert _run(capsys, "frobnicate")[0] == 2
    status, _, err = _run(capsys, "verify", "--only", "no/such/law")
    assert status == 2 and "no law matches" in err


def test_warns_when_monte_carlo_variance_is_infinite(capsys):
    status, _, err = _run(capsys, "simulate", "linreg", "--d", "4", "--T", "7", "--generations", "2", "--seeds", "64", "--quiet")
    assert status == 0 and "warning: T=7 <= d+3=7" in err


def test_verify_lists_laws(capsys):
    status, out, _ = _run(capsys, "verify", "--list")
    assert status == 0 and "linreg/accumulate/bound" in out


def test_console_script_reports_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "model_collapse.experiments.cli", "simulate", "linreg", "--T", "3", "--d", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
