"""Each verifier law agrees with simulation; its deliberately wrong twin does not.

The three exact laws share one config (one run); the accuracy laws' two settings (below and
above the breakdown point) share one compiled program per size (their rates are traced). The
default suite checks the exact laws and the accuracy at the smaller size; ``-m slow`` the larger.
Each check runs at ``ALPHA / TOTAL`` (Bonferroni); a refused check fails the test.

The exact sampler (one uniform per point for its (correct, kept) cell, the kept points' sum from
its normal law given the counts) against raw points, here to reuse the exact laws' program: their
per-seed values agree in distribution (two-sample Kolmogorov-Smirnov on ``alignment`` and
``cosine``, chi-square on the kept counts, each at 1e-3), and the same tests reject an exact
sampler whose generator errs more often (``p`` 0.4 -> 0.55): the check has power.
"""

import dataclasses

import numpy as np
import pytest
from model_collapse.experiments import run, simulate_seeds
from model_collapse.experiments.laws import LAWS, check_law
from model_collapse.experiments.laws.verifier import EXACT
from scipy import stats

ALPHA = 1e-3
SEEDS = {20: 6000, 1: 4000}  # by the config's generations: exact laws at 6,000, accuracy at 4,000
VERIFIER = [law for law in LAWS.values() if law.id.startswith("verifier/")]
TOTAL = sum(len(law.generations) for law in VERIFIER)
PARAMS = [
    pytest.param(law, id=law.id, marks=(pytest.mark.slow,) if law.id.endswith("N10000") else ()) for law in VERIFIER
]


@pytest.fixture(scope="module")
def results():
    cache = {}

    def get(cfg):
        if cfg not in cache:
            cache[cfg] = run(cfg, SEEDS[cfg.generations], seed=1, progress=False, quantiles=())
        return cache[cfg]

    return get


@pytest.mark.parametrize("law", PARAMS)
def test_law_agrees_and_its_wrong_twin_is_rejected(law, results):
    res = results(law.config)
    checks = check_law(law, res, ALPHA, TOTAL)
    refused = [(c.generation, c.refused) for c in checks if c.refused]
    assert not refused, f"{law.id}: checks refused (a refused check passes vacuously) {refused}"
    failed = [(c.generation, c.z) for c in checks if not c.passed]
    assert not failed, f"{law.id}: checks failed at (generation, statistic) {failed}"
    wrong = check_law(law, res, ALPHA, TOTAL, predict=law.perturbed)
    assert any(not c.passed for c in wrong), f"{law.id}: the perturbed law was not rejected"


def test_accuracy_tolerance_shrinks_more_than_tenfold_between_the_sizes():
    for side in ("below", "above"):
        small, large = (LAWS[f"verifier/accuracy/{side}-breakdown/N{N}"] for N in (1000, 10_000))
        ratio = small.verdict.tolerance(small.config) / large.verdict.tolerance(large.config)
        assert ratio > 10, ratio


def test_every_verifier_law_is_checked():
    assert len(VERIFIER) == 7


def _agree(a: dict, b: dict, draws: int) -> list[float]:
    """p-values: KS on alignment and cosine at the last generation, chi-square on the kept counts."""
    out = [stats.ks_2samp(a[m][:, -1], b[m][:, -1]).pvalue for m in ("alignment", "cosine")]
    ka, kb = (np.rint(x["kept_fraction"][:, -1] * draws).astype(int) for x in (a, b))
    values = np.union1d(ka, kb)
    table = np.array([[np.sum(k == v) for v in values] for k in (ka, kb)])
    out.append(stats.chi2_contingency(table[:, table.sum(axis=0) >= 10]).pvalue)  # sparse cells dropped
    return out


def test_exact_sampler_has_the_raw_points_law():
    seeds, draws = np.arange(3000), EXACT.generations * EXACT.N
    faithful = simulate_seeds(dataclasses.replace(EXACT, sampler="faithful"), seeds, seed=3)
    exact = simulate_seeds(EXACT, seeds, seed=4)
    assert min(_agree(faithful, exact, draws)) > ALPHA
    wrong = simulate_seeds(dataclasses.replace(EXACT, p=0.55), seeds, seed=4)
    assert min(_agree(faithful, wrong, draws)) < ALPHA
