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
        capsys,
        "simulate",
        "linreg",
        "--regime",
        "accumulate",
        "--d",
        "4",
        "--T",
        "20",
        "--sigma2",
        "2",
        "--design",
        "fixed",
        "--generations",
        "5",
        "--seeds",
        "300",
        "--seed",
        "7",
        "--json",
        "--quiet",
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
    np.testing.assert_allclose(
        data["theory"]["test_error"], L.expected_test_error(np.arange(1, 6), 4, 20, 2.0, "accumulate")
    )


def test_theory_is_null_without_a_closed_form(capsys):
    status, out, _ = _run(
        capsys,
        "simulate",
        "linreg",
        "--regime",
        "accumulate",
        "--design",
        "fresh",
        "--d",
        "2",
        "--T",
        "8",
        "--generations",
        "3",
        "--seeds",
        "64",
        "--json",
        "--quiet",
    )
    assert status == 0 and json.loads(out)["theory"]["test_error"] is None


def test_table_output(capsys):
    status, out, _ = _run(
        capsys, "simulate", "linreg", "--d", "2", "--T", "8", "--generations", "3", "--seeds", "64", "--quiet"
    )
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
    status, _, err = _run(
        capsys, "simulate", "linreg", "--d", "4", "--T", "7", "--generations", "2", "--seeds", "64", "--quiet"
    )
    assert status == 0 and "warning: T=7 <= d+3=7" in err


def test_verify_lists_laws(capsys):
    status, out, _ = _run(capsys, "verify", "--list")
    assert status == 0 and "linreg/accumulate/bound" in out


def test_console_script_reports_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "model_collapse.experiments.cli", "simulate", "linreg", "--T", "3", "--d", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


# --------------------------------------------------------------------------------------
# A command line that explains itself

# At d=4, T=20 the test error is a scaled F(4, 17) (skewness 2.45): verify's z-scores at alpha/3 are honest
# from 1,748 seeds (the exact sampler makes 2,048 cheap); at 512 every check would be refused.
SMALL = ["--d", "4", "--T", "20", "--generations", "5", "--sampler", "exact", "--seeds", "2048", "--quiet"]


def test_help_shows_metavars_choices_and_defaults(capsys):
    for argv in (
        ["simulate", "linreg", "--help"],
        ["simulate", "gaussian", "--help"],
        ["verify", "--help"],
        ["figures", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # help wraps lines
    assert "CFG_" not in out
    assert "--d D" in out and "--T T" in out and "--dim DIM" in out and "--real-fraction REAL_FRACTION" in out
    assert "features (default: 32)" in out and "(default: replace)" in out and "accumulate-subsample" in out
    assert "(default: unbiased)" in out and "(default: 4000)" in out
    # The sampler's default differs by model, and the help says which and why.
    models = "categorical: counts, gaussian: exact, linreg: faithful, verifier: exact"
    assert f"the default differs by model ({models})" in out
    assert "linreg uses faithful by default: raw rows" in out and "gaussian uses exact by default" in out
    # verify: the config options, the statuses, Holm; figures: where they go by default.
    assert "each law's own config" in out and "--generations-checked N" in out and "Holm" in out
    assert "3 inconclusive" in out and "2 bad input" in out
    assert "collapse-figures in the working directory" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "gaussian", "--m", "3"], "did you mean --M?"),
        (["simulate", "linreg", "--sigma", "2"], "did you mean --sigma2?"),
        (["simulate", "linreg", "--sig", "2"], "did you mean --sigma2?"),  # no silent abbreviation
        (["simulate", "linreg", "--M", "3"], "--M is an option of categorical, gaussian, not of linreg"),
        (["simulate", "linreg", "--regime", "acumulate"], "did you mean accumulate?"),
        (["verify", "linreg/replace/fixd"], "did you mean linreg/replace/fixed?"),
        (["verify", "--d", "4"], "name a law or a model, e.g. `collapse verify linreg --d ...`"),
        (["verify", "linreg", "--dim", "3"], "--dim is not a linreg config option"),
        (["verify", "linreg/replace/fixed", "--design", "shared"], "the law is for design=fixed, not design=shared"),
    ],
)
def test_typos_and_misplaced_options_get_one_helpful_line(capsys, argv, message):
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err, err


def test_collapse_alone_lists_the_commands_and_version(capsys):
    status, out, err = _run(capsys)
    assert status == 2
    assert all(c in err for c in ("simulate", "verify", "calibrate", "reproduce", "cite", "exit status"))
    from model_collapse.experiments import __version__

    status, out, _ = _run(capsys, "--version")
    assert status == 0 and f"model-collapse) {__version__}" in out


def test_verify_a_law_at_my_config(capsys):
    status, out, err = _run(capsys, "verify", "linreg/replace/fixed", *SMALL)
    assert status == 0, err
    assert "Holm step-down over 3 scored checks at family-wise false-alarm rate 0.001 (0 refused)" in out
    assert "Holm step-down over 3 scored checks" in out and "critical |z|" in out and "z*" in out
    assert "largest |z|" in out and "seeds for 99% power" in out and "verdict: PASS" in out
    status, out, err = _run(
        capsys, "verify", "linreg/replace/fixed", *SMALL, "--json", "--generations-checked", "1", "5"
    )
    data = json.loads(out)
    assert status == 0 and data["verdict"] == "pass" and data["correction"] == "holm"
    assert data["laws"][0]["config"]["d"] == 4 and data["laws"][0]["config"]["T"] == 20
    assert [c["predicted"] for c in data["checks"]] == pytest.approx([4 / 15, 20 / 15])  # sigma2 d n/(T-d-1)
    assert data["laws"][0]["power"]["wrong_law_rejected_from_seeds"] > 0


def test_verify_exit_statuses_fail_and_inconclusive(capsys, monkeypatch):
    import dataclasses

    from model_collapse.experiments.laws import LAWS, check

    law = LAWS["linreg/replace/fixed"]
    twin = dataclasses.replace(law, id="test/twin", predict=law.perturbed)
    monkeypatch.setitem(LAWS, "test/twin", twin)
    status, out, _ = _run(capsys, "verify", "test/twin", *SMALL)
    assert status == 1 and "verdict: FAIL" in out
    # Every check refused (as for a metric of infinite variance): inconclusive, not a pass.
    monkeypatch.setattr(check, "metric_skewness", lambda cfg, metric, gens: np.full(np.shape(gens), np.inf))
    status, out, _ = _run(capsys, "verify", "linreg/replace/fixed", *SMALL)
    assert status == 3 and "INCONCLUSIVE" in out and "refused linreg/replace/fixed at generation 1" in out


@pytest.mark.parametrize("error", [RuntimeError("a bug"), ValueError("also a bug"), KeyError("missing")])
def test_an_internal_error_shows_its_traceback_and_exits_1(capsys, monkeypatch, error):
    from model_collapse.experiments import cli

    def broken(args):
        raise error

    monkeypatch.setattr(cli, "_cite", broken)
    status, _, err = _run(capsys, "cite", "all")
    assert status == 1 and "Traceback (most recent call last)" in err and type(error).__name__ in err
    assert "collapse: error" not in err


def test_output_to_a_closed_pipe_ends_quietly():
    cmd = [sys.executable, "-m", "model_collapse.experiments.cli", "verify", "--list"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first write
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and err == b""
    shell = subprocess.run(
        ["bash", "-c", "set -o pipefail; " + " ".join(cmd) + " | head -1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shell.returncode == 0 and shell.stderr == "" and shell.stdout.startswith("linreg/replace/fixed")


def test_figures_write_to_the_working_directory_by_default():
    from model_collapse.experiments.cli import _build_parser

    assert _build_parser().parse_args(["figures"]).outdir is None


def test_boolean_config_fields_parse_false_as_false():
    import argparse
    from typing import ClassVar

    from model_collapse.experiments.cli import _add_config_options, _Formatter
    from model_collapse.experiments.models.config import config_dataclass

    @config_dataclass
    class Toggle:
        """A config with a flag.

        Attributes:
            n: a count. flag: a switch.
        """

        n: int = 3
        flag: bool = True

        model: ClassVar[str] = "toggle"

    parser = argparse.ArgumentParser(exit_on_error=False, formatter_class=_Formatter)
    _add_config_options(parser, Toggle)
    assert parser.parse_args([]).cfg_flag is True
    assert parser.parse_args(["--no-flag"]).cfg_flag is False and parser.parse_args(["--flag"]).cfg_flag is True
    for text, value in (("False", False), ("false", False), ("0", False), ("True", True), ("yes", True)):
        assert parser.parse_args(["--flag", text]).cfg_flag is value  # str(cfg.flag) round-trips
    assert Toggle(flag=parser.parse_args(["--flag", "False"]).cfg_flag).flag is False
    for bad in (["--flag", "maybe"], ["--no-flag", "true"]):
        with pytest.raises(argparse.ArgumentError):
            parser.parse_args(bad)
    text = parser.format_help()
    assert "--flag [true|false], --no-flag" in text and "a switch (default: True)" in text


def test_cite_package_and_law_and_citation_file_agree(capsys):
    """``collapse cite package`` is the package's BibTeX; ``CITATION.cff`` has the same version and date."""
    from pathlib import Path

    import tomllib
    from model_collapse.experiments.laws.references import RELEASE_DATE

    root = Path(__file__).resolve().parents[1]
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    cff = (root / "CITATION.cff").read_text()
    assert f"\nversion: {version}\n" in cff and f"\ndate-released: {RELEASE_DATE}\n" in cff
    status, out, _ = _run(capsys, "cite", "package")
    assert status == 0 and out.startswith("@software{") and f"version = {{{version}}}" in out
    status, out, _ = _run(capsys, "cite", "gaussian/accumulate/unbiased/variance/dim1")
    assert status == 0 and "% gaussian/accumulate/unbiased/variance/dim1: derived here" in out
    assert "note = {derived here: setting of" in out
    status, out, _ = _run(capsys, "verify", "--list", "linreg/accumulate/fixed")
    assert status == 0 and "published" in out and "Gerstgrasser et al. 2024, its theorem on accumulating data" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "linreg", "--d", "5", "--T", "100000000", "--seeds", "10"], "per device"),
        (["simulate", "linreg", "--d", "5", "--T", str(10**30), "--seeds", "10"], "T must be below 2**31"),
        (["simulate", "gaussian", "--dim", "5", "--M", "9" * 25], "M must be below 2**31"),
    ],
)
def test_configs_that_cannot_fit_are_refused_before_any_work(capsys, argv, message):
    """Memory planned, not discovered: one line and exit status 2, not a RESOURCE_EXHAUSTED traceback."""
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err, err
    if message == "per device":
        assert "is available: try fewer generations" in err
