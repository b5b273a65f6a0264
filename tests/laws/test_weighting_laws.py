"""The weighting laws (golden ratio) agree with simulation; their wrong twins do not.

Each check at ``ALPHA/TOTAL`` (Bonferroni over every check of the family in this file). By
default one law, the Gaussian mean's exact transient at the golden-ratio weight, at the fewest
seeds that still reject its twin (the error contracting by ``1 - w`` instead of ``(1 - w)^2``);
every weighting law, and the faithful sampler, with ``-m slow``. Bad input exits 2 with one line.
"""

import pytest
from model_collapse.experiments.cli import main
from model_collapse.experiments.laws import LAWS

from .agreement import assert_agrees_and_twin_rejected

ALPHA = 1e-3
WEIGHTING = [law for law in LAWS.values() if "/weighted/" in law.id]
TOTAL = sum(len(law.generations) for law in WEIGHTING) + 6  # + the faithful sampler's check
SEEDS = 8000  # the regression law given the design (skewness sqrt(8)) is honest from 5,822 seeds


def _check(law, seeds, **changes):
    assert_agrees_and_twin_rejected(law, seeds, ALPHA, TOTAL, **changes)


def test_golden_ratio_transient_agrees_and_its_twin_is_rejected():
    # the faithful sampler compiles in half the time of the exact one (whose law the slow tests check); the
    # figure test's small settings run this same program
    _check(LAWS["gaussian/mix/weighted/mean"], 2000, sampler="faithful", generations=10)


@pytest.mark.slow
@pytest.mark.parametrize("law", WEIGHTING, ids=lambda law: law.id)
def test_every_weighting_law(law):
    _check(law, SEEDS)


@pytest.mark.slow
def test_the_faithful_sampler_follows_the_same_law():
    _check(LAWS["gaussian/mix/weighted/mle-mean"], 4000, sampler="faithful")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["gaussian", "--regime", "mix", "--real-weight", "1.5"], "real_weight must lie in [0, 1]"),
        (["gaussian", "--regime", "mix", "--real-weight", "-0.1"], "real_weight must be a finite number >= 0"),
        (["gaussian", "--regime", "replace", "--real-weight", "0.5"], "use --regime mix"),
        (["gaussian", "--regime", "mix", "--real-fraction", "1.5"], "real_fraction must lie in [0, 1]"),
        (["gaussian", "--regime", "mix", "--M", "6", "--dim", "3", "--real-weight", "0.5"], "must exceed dim=3"),
        (["linreg", "--regime", "mix", "--real-weight", "2"], "real_weight must lie in [0, 1]"),
        (["linreg", "--regime", "accumulate", "--real-weight", "0.5"], "use --regime mix"),
        (["linreg", "--regime", "mix", "--real-fraction", "1", "--real-weight", "0.5"], "real and synthetic rows"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    try:
        status = main(["simulate", *argv, "--generations", "2", "--seeds", "8"])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err, err
