"""Each curation law agrees with simulation; its deliberately wrong twin does not.

Each config costs about 5 s of CPU to compile (the categorical model's 14 metrics, or the Gaussian's
scan), whatever the seeds, so the default suite runs two configs that check four laws: the Gaussian
one-step laws at ``K = 2`` (both metrics, one run) and the two-category fresh-data chain, whose run also
checks the two-category fixed point (a config that law covers: ``M = 20``, tolerance ``3/M = 0.15``).
The categorical one-step law's map is checked by default at the sampler level
(``tests/models/test_curation.py``: the kept categories against ``q H^K_q``); the law itself, the
``K -> oo`` limits at two ``K`` and the five-category fixed point (``M = 40``) run with ``-m slow``, as
does every law at its own config and seed count (also ``collapse verify 'curation/*'``). Each check runs
at ``ALPHA / TOTAL`` (Bonferroni over every check of this file), so ``ALPHA`` is the probability, over
base seeds, that a correct law fails here. Power: each law's ``perturbed`` prediction (the ``K -> oo``
tilt for a finite-``K`` law, no curation for a limit, the tilt's fixed point for a fixed point) must be
rejected at the same seeds.
"""

import dataclasses

import pytest
from model_collapse.experiments import run
from model_collapse.experiments.laws import LAWS, check_law

ALPHA = 1e-3
SEEDS = {"categorical": 4000, "gaussian": 8000}
CURATION = [law for law in LAWS.values() if law.id.startswith("curation/")]
AT = {
    "curation/categorical/stationary/two-categories/K2": LAWS[
        "curation/categorical/fresh-data/two-categories/K2"
    ].config,
    "curation/categorical/stationary/K4": dataclasses.replace(LAWS["curation/categorical/stationary/K4"].config, M=40),
}
CHECKED = [law.at(AT[law.id]) if law.id in AT else law for law in CURATION]
SLOW = ("/tilt-limit/", "/stationary/K4", "/one-step/K3")  # their own compiles: -m slow
DEFAULT = [law for law in CHECKED if not any(part in law.id for part in SLOW)]
TOTAL = sum(len(law.generations) for law in CHECKED)


def _check(law):
    result = run(law.config, SEEDS[law.model], seed=1, progress=False, quantiles=())  # one compile per config
    checks = check_law(law, result, ALPHA, TOTAL)
    refused = [(c.generation, c.refused) for c in checks if c.refused]
    assert not refused, f"{law.id}: checks refused (a refused check passes vacuously) {refused}"
    failed = [(c.generation, c.z) for c in checks if not c.passed]
    assert not failed, f"{law.id}: checks failed at (generation, statistic) {failed}"
    wrong = check_law(law, result, ALPHA, TOTAL, predict=law.perturbed)
    assert any(not c.passed for c in wrong), f"{law.id}: the perturbed law was not rejected"


@pytest.mark.parametrize("law", DEFAULT, ids=lambda law: law.id)
def test_law_agrees_with_simulation_and_its_twin_does_not(law):
    _check(law)


@pytest.mark.slow
@pytest.mark.parametrize("law", [law for law in CHECKED if law not in DEFAULT], ids=lambda law: law.id)
def test_the_limit_laws_at_their_small_configs(law):
    _check(law)


def test_every_curation_law_has_a_default_check():
    assert len(CHECKED) == len(CURATION) == 10 and len(DEFAULT) == 4


@pytest.mark.slow
@pytest.mark.parametrize("law", CURATION, ids=lambda law: law.id)
def test_law_at_its_own_config_and_seeds(law):
    result = run(law.config, law.seeds, seed=2, progress=False, quantiles=())
    checks = check_law(law, result, ALPHA, len(law.generations))
    assert all(c.passed and not c.refused for c in checks), [(c.generation, c.z, c.refused) for c in checks]
    assert any(not c.passed for c in check_law(law, result, ALPHA, len(law.generations), predict=law.perturbed))
