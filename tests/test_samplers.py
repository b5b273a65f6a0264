"""The exact-statistics sampler draws the same law as the faithful one (two-sample KS tests).

Each KS test is run at level ``ALPHA / CHECKS`` (Bonferroni); the same test must
reject an exact sampler whose noise variance is 25% too large (power check).
"""

import dataclasses

import numpy as np
import pytest
from scipy import stats

from experiments import LinRegConfig, simulate_seeds

ALPHA = 1e-3
GENERATIONS = (1, 5, 20)
CASES = [("replace", "fixed"), ("accumulate", "fixed"), ("replace", "fresh"), ("accumulate", "fresh")]
CHECKS = len(GENERATIONS) * len(CASES)
SEEDS = 8000


@pytest.mark.parametrize("regime, design", CASES)
def test_exact_and_faithful_samplers_agree(regime, design):
    cfg = LinRegConfig(d=4, T=12, sigma2=1.0, generations=20, regime=regime, design=design)
    faithful = simulate_seeds(cfg, np.arange(SEEDS), seed=10)["test_error"]
    exact_cfg = dataclasses.replace(cfg, sampler="exact")
    exact = simulate_seeds(exact_cfg, np.arange(SEEDS), seed=11)["test_error"]
    wrong = simulate_seeds(dataclasses.replace(exact_cfg, sigma2=1.25), np.arange(SEEDS), seed=11)["test_error"]
    for g in GENERATIONS:
        p = stats.ks_2samp(faithful[:, g - 1], exact[:, g - 1]).pvalue
        assert p > ALPHA / CHECKS, f"generation {g}: KS p = {p:.2e}"
        p_wrong = stats.ks_2samp(faithful[:, g - 1], wrong[:, g - 1]).pvalue
        assert p_wrong < ALPHA / CHECKS, f"generation {g}: a 25% noise error went unseen (p = {p_wrong:.2e})"


def test_bartlett_factor_is_a_wishart_cholesky_factor():
    """E[L L^T] = dof * I and the diagonal of L is positive."""
    import jax

    from experiments.linreg import bartlett_factor

    keys = jax.random.split(jax.random.key(0), 20_000)
    Ls = np.asarray(jax.vmap(lambda k: bartlett_factor(k, 9, 3, np.float64))(keys))
    assert np.all(np.diagonal(Ls, axis1=1, axis2=2) > 0)
    assert np.allclose(np.triu(Ls, 1), 0)
    W = np.einsum("rij,rkj->rik", Ls, Ls)
    sem = W.std(axis=0, ddof=1) / np.sqrt(len(W))
    assert np.all(np.abs(W.mean(axis=0) - 9 * np.eye(3)) < 5 * sem)
