"""The verifier model: bad input exits 2 with one line (CLI) or raises ConfigError (library).

The exact sampler's agreement with raw points is tested in ``tests/laws/test_verifier_laws.py``,
where it reuses the exact laws' compiled program.
"""

import pytest
from model_collapse.experiments.cli import main
from model_collapse.experiments.models.config import ConfigError
from model_collapse.experiments.models.verifier import VerifierConfig


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--p", "1.5"], "p must lie in [0, 1]"),
        (["--phi", "-0.1"], "phi must be a finite number >= 0"),
        (["--psi", "2"], "psi must lie in [0, 1]"),
        (["--phi", "0", "--psi", "0"], "phi = psi = 0"),
        (["--p", "1", "--psi", "0"], "the verifier keeps no point"),
        (["--N", "0"], "N must be an integer >= 1"),
        (["--d", "0"], "d must be an integer >= 1"),
        (["--mu-norm", "0"], "mu_norm must be a finite number > 0"),
        (["--regime", "replace"], "runs --regime accumulate only"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    try:
        status = main(["simulate", "verifier", "--N", "4", "--generations", "2", "--seeds", "4", *argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("collapse: error: ") and message in err, err
    assert out == ""


def test_config_refuses_what_the_cli_refuses():
    with pytest.raises(ConfigError, match="phi = psi = 0"):
        VerifierConfig(phi=0.0, psi=0.0)
    with pytest.raises(ConfigError, match="accumulate only"):
        VerifierConfig(regime="mix")
