"""The ridge, spectra, downstream and over-parameterised regression laws agree with simulation; their twins do not.

The registry's own check (:func:`model_collapse.experiments.laws.check_law`) at ``ALPHA/TOTAL`` per
check (Bonferroni over this file), fixed seed. By default the exact law given the design of the
ridge chain (whose shrinkage bias compounds) runs, at the fewest seeds that still reject its twin
honestly; every other law of the module under ``-m slow`` (the deterministic equivalents at
d = 25 and d = 100 with the registry's seeds).
"""

import pytest
from model_collapse.experiments import run
from model_collapse.experiments.laws import LAWS, check_law

ALPHA = 1e-3
IDS = [
    "linreg/ridge/given-X",
    "linreg/downstream/ols",
    "linreg/downstream/convention",
    "linreg/ridge/downstream/given-X",
    "linreg/ridge/downstream",
    "linreg/ridge/deterministic-equivalent/d25",
    "linreg/ridge/deterministic-equivalent/d100",
    "linreg/overparameterised",
]
DEFAULT = ("linreg/ridge/given-X",)
TOTAL = sum(len(LAWS[i].generations) for i in IDS)
# A shared design's error is a Gaussian quadratic form (skewness <= sqrt 8): honest at ALPHA/TOTAL from ~6,000 seeds.
SEEDS = {i: min(LAWS[i].seeds, 6000) for i in IDS}


def _params():
    return [pytest.param(i, marks=() if i in DEFAULT else pytest.mark.slow) for i in IDS]


@pytest.fixture(scope="module")
def results():
    cache = {}

    def get(law_id):
        if law_id not in cache:
            cache[law_id] = run(LAWS[law_id].config, SEEDS[law_id], seed=1, progress=False)
        return cache[law_id]

    return get


@pytest.mark.parametrize("law_id", _params())
def test_law_agrees_and_twin_is_rejected(law_id, results):
    law = LAWS[law_id]
    checks = check_law(law, results(law_id), ALPHA, TOTAL)
    refused = [(c.generation, c.refused) for c in checks if c.refused]
    assert not refused, f"{law_id}: checks refused {refused}"
    failed = [(c.generation, c.z) for c in checks if not c.passed]
    assert not failed, f"{law_id}: checks failed at (generation, z) {failed}"
    wrong = check_law(law, results(law_id), ALPHA, TOTAL, predict=law.perturbed)
    assert any(not c.passed for c in wrong), f"{law_id}: the wrong twin was not rejected"


def test_power_spectrum_law_is_in_the_regression_family():
    """The OLS law under a power spectrum runs with the package's OLS laws (tests/laws/test_linreg_laws.py)."""
    from .linreg_family import LINREG

    assert "linreg/power-spectrum/replace" in {law.id for law in LINREG}


@pytest.mark.parametrize(
    ("law_id", "fields", "reason"),
    [
        ("linreg/overparameterised", {"T": 40}, "needs d > T0"),
        ("linreg/ridge/given-X", {"ridge0": 0.0}, "--ridge0 > 0"),
        ("linreg/downstream/ols", {"ridge": 0.2}, "OLS downstream"),
    ],
)
def test_laws_refuse_configs_they_do_not_cover(law_id, fields, reason):
    import dataclasses

    from model_collapse.experiments.models.config import ConfigError

    law = LAWS[law_id]
    with pytest.raises(ConfigError, match=reason):
        law.at(dataclasses.replace(law.config, **fields))
