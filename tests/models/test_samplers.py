"""The exact-statistics sampler draws the same law as the faithful one (two-sample KS tests).

Each KS test is run at level ``ALPHA / CHECKS`` (Bonferroni); the same test must
reject an exact sampler whose noise variance is 25% too large (power check).
"""

import dataclasses

import numpy as np
import pytest
from model_collapse.experiments import LinRegConfig, simulate_seeds
from scipy import stats

ALPHA = 1e-3
GENERATIONS = (1, 5, 20)
CASES = [("replace", "fixed"), ("accumulate", "fixed"), ("replace", "fresh"), ("accumulate", "fresh")]
CHECKS = len(GENERATIONS) * len(CASES)
SEEDS = 8000


@pytest.mark.parametrize(
    "regime, design",
    [
        # the default suite runs one of the four (the others with -m slow; same Bonferroni count)
        case if case == ("accumulate", "fresh") else pytest.param(*case, marks=pytest.mark.slow)
        for case in CASES
    ],
)
def test_exact_and_faithful_samplers_agree(regime, design):
    cfg = LinRegConfig(d=4, T=12, sigma2=1.0, generations=20, regime=regime, design=design)
    faithful = simulate_seeds(cfg, np.arange(SEEDS), seed=10)["test_error"]
    exact_cfg = dataclasses.replace(cfg, sampler="exact")
    exact = simulate_seeds(exact_cfg, np.arange(SEEDS), seed=11)["test_error"]
    # The exact sampler's error is linear in sigma (e_0 = 0, every step adds sigma times a
    # draw), so the same seeds with sigma2 = 1.25 give 1.25 x these errors: the wrong twin
    # without simulating all its seeds (the twin's own program checks it on 64 of them).
    wrong = 1.25 * exact
    twin = simulate_seeds(dataclasses.replace(exact_cfg, sigma2=1.25), np.arange(64), seed=11)["test_error"]
    np.testing.assert_allclose(twin, wrong[:64], rtol=1e-12)
    for g in GENERATIONS:
        p = stats.ks_2samp(faithful[:, g - 1], exact[:, g - 1]).pvalue
        assert p > ALPHA / CHECKS, f"generation {g}: KS p = {p:.2e}"
        p_wrong = stats.ks_2samp(faithful[:, g - 1], wrong[:, g - 1]).pvalue
        assert p_wrong < ALPHA / CHECKS, f"generation {g}: a 25% noise error went unseen (p = {p_wrong:.2e})"


def test_bartlett_factor_is_a_wishart_cholesky_factor():
    """E[L L^T] = dof * I and the diagonal of L is positive."""
    import jax
    from model_collapse.experiments.models.samplers import bartlett_factor

    keys = jax.random.split(jax.random.key(0), 20_000)
    Ls = np.asarray(jax.vmap(lambda k: bartlett_factor(k, 9, 3, np.float64))(keys))
    assert np.all(np.diagonal(Ls, axis1=1, axis2=2) > 0)
    assert np.allclose(np.triu(Ls, 1), 0)
    W = np.einsum("rij,rkj->rik", Ls, Ls)
    sem = W.std(axis=0, ddof=1) / np.sqrt(len(W))
    assert np.all(np.abs(W.mean(axis=0) - 9 * np.eye(3)) < 5 * sem)


@pytest.mark.parametrize("shape", [0.5, 1.5, 4.5, 49.5, 490.0])
def test_bulk_gamma_sampler_is_exact(shape):
    """The Marsaglia-Tsang sampler with bulk proposals against the Gamma CDF (KS), and
    its fallback loop: at shape 0.5 (boosted to 1.5) about 0.07% of variates reject both
    first proposals, so the while_loop runs in this draw."""
    import jax
    import jax.numpy as jnp
    from model_collapse.experiments.models.samplers import gamma

    x = np.asarray(jax.jit(lambda k: gamma(k, jnp.full((200_000,), shape), jnp.float64))(jax.random.key(17)))
    assert np.all(x > 0) and np.all(np.isfinite(x))
    assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > ALPHA / 5
    # power: a 2% error in the shape is seen at this sample size
    assert stats.kstest(x, stats.gamma(shape * 1.02).cdf).pvalue < ALPHA / 5


def test_bulk_gamma_sampler_per_variate_shapes_and_vmap():
    """Shapes vary per variate; a vmapped call gives each key the values it gets alone."""
    import jax
    import jax.numpy as jnp
    from model_collapse.experiments.models.samplers import gamma

    shapes = jnp.asarray([0.5, 3.0, 40.0, 0.7])
    keys = jax.random.split(jax.random.key(3), 64)
    batched = np.asarray(jax.jit(jax.vmap(lambda k: gamma(k, shapes, jnp.float64)))(keys))
    alone = np.stack([np.asarray(gamma(k, shapes, jnp.float64)) for k in keys[:4]])
    np.testing.assert_allclose(batched[:4], alone, rtol=1e-13)


@pytest.mark.parametrize("fresh", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["fixed", "fresh"])
def test_exact_linreg_vectorized_path_matches_the_scan_recursion(fresh):
    """The exact fast path (independent steps summed a block of generations at a time)
    against the shared engine's scan over exactly drawn statistics, which pools
    ``X^T X`` and ``X^T y`` generation after generation: accumulate, fixed and fresh
    design, KS per generation (3 generations x 2 designs at ALPHA / 6, 2,000 seeds a side). The fresh
    design runs with ``-m slow``; by default its vectorized path is checked against its law
    (``linreg/replace/fresh`` in ``tests/laws/test_linreg_laws.py``)."""
    import jax
    from model_collapse.experiments import float64, get_model
    from model_collapse.experiments.models.regimes import simulate

    model = get_model("linreg")
    cfg = LinRegConfig(d=4, T=12, generations=66, regime="accumulate", design="fixed", sampler="exact")
    fresh_cfg = dataclasses.replace(cfg, design="fresh", regime="replace")  # its blocks draw fresh designs too
    for c in (fresh_cfg,) if fresh else (cfg,):
        with float64():
            fast = jax.jit(jax.vmap(lambda k: simulate(model, c, k)["test_error"]))(
                jax.random.split(jax.random.key(5), SEEDS // 4)
            )
            scan = jax.jit(jax.vmap(lambda k: simulate(model, c, k, fast_path=False)["test_error"]))(
                jax.random.split(jax.random.key(6), SEEDS // 4)
            )
        for g in (1, 5, 66):  # 66: past the first block of 64 generations
            assert stats.ks_2samp(np.asarray(fast)[:, g - 1], np.asarray(scan)[:, g - 1]).pvalue > ALPHA / 6
    assert fresh_cfg.memory_per_seed() > cfg.memory_per_seed()
