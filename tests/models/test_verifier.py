"""The verifier model: bad input exits 2 with one line; the exact sampler has the raw points' law.

The exact sampler draws a batch's counts (two binomials) and its label-weighted sum (a normal
given the counts); the faithful one draws ``N`` raw points, their labels, flips and the
verifier's coins. Their per-seed values agree in distribution (two-sample Kolmogorov-Smirnov on
the continuous metrics, chi-square on the kept counts, each at 1e-3), and the same tests reject
an exact sampler whose generator errs more often (``p`` 0.4 -> 0.55): the check has power.
"""

import dataclasses

import numpy as np
import pytest
from model_collapse.experiments import simulate_seeds
from model_collapse.experiments.cli import main
from model_collapse.experiments.models.config import ConfigError
from model_collapse.experiments.models.verifier import VerifierConfig
from scipy import stats

LEVEL = 1e-3
SEEDS = 3000


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


def _agree(a: dict, b: dict, N: int) -> list[float]:
    """p-values: KS on alignment and cosine at the last generation, chi-square on the kept counts."""
    out = [stats.ks_2samp(a[m][:, -1], b[m][:, -1]).pvalue for m in ("alignment", "cosine")]
    G = a["kept_fraction"].shape[1]
    ka, kb = (np.rint(x["kept_fraction"][:, -1] * G * N).astype(int) for x in (a, b))
    values = np.union1d(ka, kb)
    table = np.array([[np.sum(k == v) for v in values] for k in (ka, kb)])
    table = table[:, table.sum(axis=0) >= 10]  # pool nothing, drop sparse cells (both rows alike)
    out.append(stats.chi2_contingency(table).pvalue)
    return out


def test_exact_sampler_has_the_raw_points_law():
    faithful = VerifierConfig(d=2, mu_norm=1.0, p=0.4, phi=0.7, psi=0.4, N=5, generations=3, sampler="faithful")
    exact = dataclasses.replace(faithful, sampler="exact")
    a = simulate_seeds(faithful, np.arange(SEEDS), seed=3)
    b = simulate_seeds(exact, np.arange(SEEDS), seed=4)
    assert min(_agree(a, b, faithful.N)) > LEVEL
    wrong = simulate_seeds(dataclasses.replace(exact, p=0.55), np.arange(SEEDS), seed=4)
    assert min(_agree(a, wrong, faithful.N)) < LEVEL
