"""The strong-collapse laws agree with simulation; their wrong twins do not.

Each check at ``ALPHA/TOTAL`` (Bonferroni over the family in this file). By default the exact
finite-``n`` law at the fewest seeds that reject its twin (the floor plus the clean variance, no
cross term); every law (the approximation and Corollary 1 at two sizes, the floor) and the faithful
sampler with ``-m slow``. Bad input exits 2 with one line.
"""

import pytest
from model_collapse.experiments.cli import main
from model_collapse.experiments.laws import LAWS

from .agreement import assert_agrees_and_twin_rejected

ALPHA = 1e-3
STRONG = [law for law in LAWS.values() if law.id.startswith("linreg/strong/")]
TOTAL = sum(len(law.generations) for law in STRONG) + 2  # + the faithful sampler's checks
SEEDS = 8000


def _check(law, seeds, **changes):
    assert_agrees_and_twin_rejected(law, seeds, ALPHA, TOTAL, **changes)


def test_exact_law_agrees_and_its_twin_is_rejected():
    # generation 1 only: the program the figure test's small settings run too (compiled once per session)
    _check(LAWS["linreg/strong/exact"], 1500, generations=1)


@pytest.mark.slow
@pytest.mark.parametrize("law", STRONG, ids=lambda law: law.id)
def test_every_strong_collapse_law(law):
    _check(law, SEEDS)


@pytest.mark.slow
def test_the_faithful_sampler_and_a_fresh_design_follow_the_same_law():
    _check(LAWS["linreg/strong/exact"], 4000, sampler="faithful", design="fresh")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--synthetic-source", "shifted", "--shift", "-1"], "shift must be a finite number >= 0"),
        (["--shift", "1"], "needs --synthetic-source shifted"),
        (["--synthetic-source", "shifted", "--real-fraction", "1.2"], "real_fraction must lie in [0, 1]"),
        (["--synthetic-source", "shifted", "--d", "8", "--T", "9"], "T must exceed d + 1"),
        (["--synthetic-source", "sideways"], "unknown synthetic_source"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    try:
        status = main(["simulate", "linreg", "--regime", "mix", *argv, "--generations", "2", "--seeds", "8"])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err, err
