"""The sampling-bias laws (``gaussian/REGIME/ESTIMATOR/tau0.8/...``): formulas, simulation, wrong twins rejected.

By default one config per family (replace, mix, augment; 1-D, small, few generations),
every law of the family checked there with the registry's verdict at a Bonferroni-corrected
family-wise false-alarm rate ``ALPHA`` and its wrong twin rejected; with ``-m slow`` every law
at its registered config, generations and seeds.
"""

import dataclasses

import numpy as np
import pytest
from model_collapse.experiments import run
from model_collapse.experiments.laws import LAWS, check_law
from model_collapse.experiments.laws.gaussian_bias import TAU, formula
from model_collapse.theory import gaussian as tg

ALPHA = 1e-3
BIAS = [law for law in LAWS.values() if f"/tau{TAU:g}/" in law.id]

# One 1-D config per family: the registered config cut to 20 generations, the same programs as the untempered
# laws' default test (tests/models/test_gaussian.py; the temperature is a traced parameter, so a tempered config
# compiles nothing new), with (estimator, seeds) at which every twin of the family is rejected
# (`collapse verify` reports "seeds for 99% power": replace's W2 twin 21,617).
FAMILIES = {"replace": ("mle", 25_000), "mix": ("unbiased", 12_000), "augment": ("unbiased", 12_000)}


def test_the_registry_has_every_tempered_law_and_each_title_states_its_formula():
    assert len(BIAS) == 32
    for law in BIAS:
        cfg = law.config
        assert cfg.temperature == TAU and law.status == "derived here" and law.reference.key == "alemohammad2024mad"
        assert law.title.startswith(formula(law.metric, cfg.regime, cfg.estimator, cfg.dim))
        n = np.arange(1, 8)
        np.testing.assert_allclose(
            law.predict(dataclasses.replace(cfg, temperature=1.0), n),
            tg.predict(
                law.metric,
                cfg.regime,
                cfg.estimator,
                n,
                dim=cfg.dim,
                M=cfg.M,
                sigma2=cfg.sigma2,
                real_fraction=cfg.real_fraction if cfg.regime != "replace" else None,
            ),
            rtol=1e-10,
        )  # at tau = 1 each is the untempered law
        assert law.covers(dataclasses.replace(cfg, temperature=1.0)) is None
    plain = LAWS["gaussian/replace/unbiased/variance/dim1"]
    assert "temperature" in plain.covers(BIAS[0].config)  # the untempered laws refuse a tempered config


def test_replace_titles_are_the_issues_formulas():
    """E Sigma_n = tau^(n-1) Sigma and E||mu_n - mu||^2 = tr Sigma [1/M + sum_{k=2..n} tau^(k-1)/M] (unbiased)."""
    law = LAWS[f"gaussian/replace/unbiased/tau{TAU:g}/mean_sq_error/dim1"]
    cfg = law.config
    n = np.arange(1, 9)
    want = cfg.sigma2 * np.array([1 / cfg.M + sum(TAU ** (k - 1) / cfg.M for k in range(2, g + 1)) for g in n])
    np.testing.assert_allclose(law.predict(cfg, n), want, rtol=1e-12)
    var = LAWS[f"gaussian/replace/unbiased/tau{TAU:g}/variance/dim3"]
    np.testing.assert_allclose(var.predict(var.config, n), TAU ** (n - 1.0), rtol=1e-12)


def _check(laws, runs, total):
    failed, unrejected, scored = [], [], {}
    for law in laws:
        res = runs[law.config]
        checks = check_law(law, res, ALPHA, total)
        failed += [(law.id, c.generation, round(c.z, 2)) for c in checks if not c.passed]
        scored[law.id] = sum(not c.refused for c in checks)
        if all(c.passed for c in check_law(law, res, ALPHA, total, predict=law.perturbed)):
            unrejected.append(law.id)
    assert not failed, f"laws failing: {failed}"
    assert not unrejected, f"wrong twins not rejected: {unrejected}"
    assert all(scored.values()), f"laws with every check refused: {[k for k, v in scored.items() if not v]}"


def test_one_config_per_family_agrees_and_rejects_every_twin():
    laws, runs = [], {}
    for regime, (estimator, seeds) in FAMILIES.items():
        prefix = f"gaussian/{regime}/{estimator}/"
        family = [law for law in BIAS if law.id.startswith(prefix) and law.id.endswith("/dim1")]
        cfg = dataclasses.replace(family[0].config, generations=20)
        laws += [law.at(cfg) for law in family]
        runs[cfg] = run(cfg, seeds, seed=11, progress=False)
    _check(laws, runs, sum(len(law.generations) for law in laws))


@pytest.mark.slow
def test_every_tempered_law_at_its_registered_config():
    runs = {}
    for law in BIAS:
        runs[law.config] = max(runs.get(law.config, 0), law.seeds)
    runs = {cfg: run(cfg, seeds, seed=13, progress=False) for cfg, seeds in runs.items()}
    _check(BIAS, runs, sum(len(law.generations) for law in BIAS))
