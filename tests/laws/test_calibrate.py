"""Calibration of the verdicts (`collapse calibrate`).

Fast tests: a correct law's observed rejection rates are consistent with the nominal
ones, a wrong law's are not (the calibration has power), and the interval arithmetic is
right. The slow test reruns the whole registry's verification on 40 independent base
seeds and requires the observed false-alarm rates to match the nominal ones: each of
its intervals is at confidence 0.99 (per law 1 - 0.01/laws), so with a fixed seed the
outcome is deterministic and a correct package would fail it with probability about
0.01 per interval (the family-wise, six level and one per-law interval family, whose
confidence is Bonferroni-corrected over laws: at most ~8%).
"""

import json

import numpy as np
import pytest
from model_collapse.experiments import LinRegConfig
from model_collapse.experiments.calibrate import _cluster_interval, calibrate, p_value
from model_collapse.experiments.cli import main
from model_collapse.experiments.laws import LAWS, Check, Expectation, Law, select_laws
from model_collapse.theory import linreg as theory_linreg

# The error is a scaled F(16, 49) (skewness 1.10): each of the 4 checks' z-score is honest from
# 396 seeds at verify's level alpha/4, so at 512 seeds none is refused and every check is scored.
CFG = LinRegConfig(d=16, T=64, sigma2=1.0, generations=8, regime="replace", sampler="exact")
REF = LAWS["linreg/replace/fixed"].reference


def _law(shift=0):
    def predict(cfg, n, shift=shift):
        return theory_linreg.expected_test_error(np.asarray(n) + shift, cfg.d, cfg.T, cfg.sigma2, "replace")

    return Law(
        id=f"small/replace/shift{shift}",
        title="E||w_n - w*||^2 = sigma^2 d n/(T-d-1)",
        reference=REF,
        status="derived here",
        statement="a test law",
        config=CFG,
        metric="test_error",
        verdict=Expectation(),
        predict=predict,
        perturbed=lambda cfg, n: predict(cfg, n, shift + 1),
        generations=(1, 2, 4, 8),
    )


def test_a_correct_law_is_calibrated():
    cal = calibrate([_law()], range(1, 31), seeds=512)
    assert cal["refused_per_run"] == 0, cal["refused_per_run"]  # a refused check would be vacuously "calibrated"
    assert cal["consistent"], cal
    level5 = next(e for e in cal["levels"] if e["level"] == 0.05)
    assert level5["interval"][0] <= 0.05 <= level5["interval"][1]
    assert cal["family"]["runs"] == 30 and cal["checks_per_run"] == 4
    (metric,) = cal["per_metric"]
    assert metric["metric"] == "linreg/test_error" and metric["consistent"] and metric["checks_per_run"] == 4


def test_a_wrong_law_is_not():
    cal = calibrate([_law(shift=1)], range(1, 11), seeds=512)
    assert cal["refused_per_run"] == 0
    assert not cal["consistent"]
    assert cal["family"]["rate"] > 0.5 and not cal["family"]["consistent"]
    assert not cal["per_law"][0]["consistent"]
    assert not cal["per_metric"][0]["consistent"] and cal["per_metric"][0]["rate"] > 0.5


def test_cluster_interval_and_p_values():
    mean, ci = _cluster_interval(np.array([0.0, 0.1, 0.05, 0.05]), 0.99)
    assert mean == pytest.approx(0.05) and ci[0] < 0.05 < ci[1]
    # Constant rates: Clopper-Pearson over runs (0 of 40 runs -> upper ~0.12 at 0.99).
    mean, ci = _cluster_interval(np.zeros(40), 0.99)
    assert mean == 0 and ci[0] == 0 and 0.1 < ci[1] < 0.13
    mean, ci = _cluster_interval(np.ones(40), 0.99)
    assert ci[0] > 0.85
    row = dict(law="x", generation=1, predicted=0.0, empirical=0.0, sem=1.0, z_critical=4.0, passed=True)
    assert p_value(Check(**row, z=1.959963984540054, kind="expectation")) == pytest.approx(0.05)
    assert p_value(Check(**row, z=1.6448536269514722, kind="upper_bound")) == pytest.approx(0.05)
    assert np.isnan(p_value(Check(**row, z=None, kind="expectation", refused="why")))


def test_calibrate_cli(tmp_path, capsys):
    # log det S_n is a sum of n independent log chi2_19 terms: skewness -0.33 at n = 1, shrinking as 1/sqrt(n)
    # (the model takes it as 0), so a z-score is honest from ~45 seeds: at 128 every check is scored, none refused.
    out = tmp_path / "cal.json"
    code = main(
        [
            "calibrate",
            "--only",
            "gaussian/replace/unbiased/log_det/dim1",
            "--base-seeds",
            "3",
            "--seeds",
            "128",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    cal = json.loads(out.read_text())
    assert code == (0 if cal["consistent"] else 1)
    assert cal["base_seeds"] == [1, 2, 3] and cal["seeds"] == 128 and cal["laws"] == 1
    assert cal["checks_per_run"] == 7 and cal["refused_per_run"] == 0 and cal["levels"]
    printed = capsys.readouterr().out
    assert "family-wise" in printed and "by metric" in printed and "gaussian/log_det (expectation, 7)" in printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["calibrate", "--base-seeds", "1"], "--base-seeds must be >= 2"),
        (["calibrate", "--confidence", "1.5", "--only", "linreg/replace/fixed", "--base-seeds", "2"], "confidence"),
        (["calibrate", "--out", "/nonexistent/dir/cal.json"], "no such folder"),
    ],
)
def test_calibrate_bad_input(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.slow
def test_the_whole_registry_is_calibrated():
    """~40 runs of every law at 2,048 seeds (about 40 min on 2 cores)."""
    cal = calibrate(select_laws(None), range(1, 41), seeds=2048)
    assert cal["consistent"], json.dumps({k: cal[k] for k in ("family", "levels")}, indent=1)
