"""Each categorical law agrees with simulation; its deliberately wrong twin does not.

One check per law in the default suite: the law at its registered config, cut to its first
generations where that keeps the run short (:data:`UP_TO`), with :data:`SEEDS` seeds and a
fixed base seed. Each check runs at ``ALPHA / TOTAL`` (Bonferroni over every check in this
file), so ``ALPHA`` is the probability, over base seeds, that a correct law fails here. The
skewness guard refuses a z-score it cannot trust, and a refused check fails the test (a
refused check passes vacuously). Power: every law's ``perturbed`` prediction (off by one
generation, another regime's law, "every category is as likely to win", "no collapse",
"the decoder changes nothing in expectation") must be rejected at the same seeds. The whole
registry at each law's own generations and seed count is ``collapse verify categorical``.
"""

import dataclasses

import pytest
from model_collapse.experiments import run
from model_collapse.experiments.laws import LAWS, check_law

ALPHA = 1e-3
SEEDS = 6000
UP_TO = {  # the generations the default suite checks (the law's own beyond are `collapse verify`)
    "categorical/accumulate/gini": 20,
    "categorical/mix/gini": 20,
    "categorical/augment/gini": 20,
}
CATEGORICAL = [law for law in LAWS.values() if law.id.startswith("categorical/")]
# The downstream law's registered config (K = 1000 Zipf categories) is `collapse verify`'s; here it is
# checked at the replace laws' shared config, which it covers (any p0, M <= 2000), so one run serves four laws.
SHARED = LAWS["categorical/replace/gini"].config
AT_SHARED = ("categorical/replace/downstream",)


def _at(law):
    cfg = SHARED if law.id in AT_SHARED else law.config
    if law.id in UP_TO:
        cfg = dataclasses.replace(cfg, generations=UP_TO[law.id])
    return law.at(cfg)


CHECKED = [_at(law) for law in CATEGORICAL]
TOTAL = sum(len(law.generations) for law in CHECKED)


@pytest.fixture(scope="module")
def results():
    out = {}
    for law in CHECKED:
        if law.config not in out:
            out[law.config] = run(law.config, SEEDS, seed=1, progress=False, quantiles=())
    return out


@pytest.mark.parametrize("law", CHECKED, ids=lambda law: law.id)
def test_law_agrees_with_simulation(law, results):
    checks = check_law(law, results[law.config], ALPHA, TOTAL)
    refused = [(c.generation, c.refused) for c in checks if c.refused]
    assert not refused, f"{law.id}: checks refused (a refused check passes vacuously) {refused}"
    failed = [(c.generation, c.z) for c in checks if not c.passed]
    assert not failed, f"{law.id}: checks failed at (generation, statistic) {failed}"


@pytest.mark.parametrize("law", CHECKED, ids=lambda law: law.id)
def test_wrong_law_is_rejected(law, results):
    checks = check_law(law, results[law.config], ALPHA, TOTAL, predict=law.perturbed)
    assert any(not c.passed for c in checks), f"{law.id}: the perturbed law was not rejected"


def test_every_categorical_law_has_a_default_check():
    assert len(CHECKED) == len(CATEGORICAL) >= 13
