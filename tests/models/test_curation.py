"""Curation by a reward: the Luce choice, the kept sample's law, the sampler, bad input.

That real samples are never curated is checked by the laws (tests/laws/test_curation_laws.py): the Gaussian
one-step laws check generation 1, the real fit, against the uncurated values, and the fresh-data chain
assumes uncurated real samples.

Statistical tests use a fixed key; each runs at false-alarm rate ``ALPHA`` (the probability, over keys,
that a correct sampler fails) and is shown to reject a deliberately wrong twin at the same draws.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from model_collapse.experiments import float64
from model_collapse.experiments.cli import main
from model_collapse.experiments.models.categorical import Categorical, CategoricalConfig, CatFit
from model_collapse.experiments.models.config import ConfigError
from model_collapse.experiments.models.curation import Curate, categorical_reward, luce_choice, reward_vector
from model_collapse.experiments.models.gaussian import GaussianConfig, SamplerNote
from model_collapse.theory import curation as tcur
from scipy import stats

ALPHA = 1e-3


def _pvalue(observed, p):
    return stats.chisquare(observed, observed.sum() * np.asarray(p)).pvalue


def test_gumbel_max_is_luce_choice_and_argmax_is_not():
    rewards = jnp.asarray([0.0, 0.5, 1.0, 2.0])
    with float64():
        picks = np.asarray(luce_choice(jax.random.key(3), jnp.broadcast_to(rewards, (40_000, 4))))
    observed = np.bincount(picks, minlength=4)
    softmax = np.exp(rewards) / np.exp(rewards).sum()
    assert _pvalue(observed, softmax) > ALPHA
    assert _pvalue(observed, np.full(4, 0.25)) < ALPHA  # wrong twin: a uniform pick (no curation)


def test_curated_categorical_batch_has_the_kept_samples_law():
    """Draw candidates from a fit q, keep one by the transform: the kept categories follow q H^K_q exactly."""
    cfg = CategoricalConfig(K=4, M=20_000, generations=2, curate=3, reward_slope=2.0, init="zipf")
    model = Categorical()
    q = np.array([0.4, 0.3, 0.2, 0.1])
    with float64():
        params = CatFit(jnp.asarray(q), jnp.ones((), bool))
        ctx, _, _ = model.init(cfg, jax.random.key(0))

        @jax.jit
        def kept_counts(k1, k2):
            batch = model.draw(cfg, ctx, k1, params, _rows(cfg.M))
            kept = Curate(categorical_reward)(cfg, k2, batch)
            return batch, model.statistics(cfg, ctx, kept)

        batch, counts = kept_counts(jax.random.key(1), jax.random.key(2))
        counts = np.asarray(counts)
    assert batch.shape == (cfg.M, 3)
    law = tcur.luce_map_exact(q, reward_vector(cfg), 3)
    assert counts.sum() == cfg.M and _pvalue(counts, law) > ALPHA
    assert _pvalue(counts, tcur.tilt(q, reward_vector(cfg))) < ALPHA  # wrong twin: the K -> oo tilt


def _rows(n):
    from model_collapse.experiments.models.base import Rows

    return Rows(0, n)


def test_sampler_default_and_refusal():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = GaussianConfig(curate=4)
    assert cfg.sampler == "faithful" and any(issubclass(w.category, SamplerNote) for w in caught)
    with pytest.raises(ConfigError, match="use --sampler faithful"):
        GaussianConfig(curate=4, sampler="exact")
    assert GaussianConfig(curate=1).sampler == "exact"


@pytest.mark.parametrize(
    "model, argv, message",
    [
        ("gaussian", ["--curate", "0"], "curate must be an integer >= 1"),
        ("gaussian", ["--curate", "2", "--reward-scale", "-1"], "must be positive definite"),
        ("gaussian", ["--curate", "2", "--reward-scale", "0"], "must be positive definite"),
        ("gaussian", ["--curate", "2", "--sampler", "exact"], "use --sampler faithful"),
        ("categorical", ["--curate", "0"], "curate must be an integer >= 1"),
        ("categorical", ["--curate", "2", "--reward-slope", "inf"], "expected a finite number"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, model, argv, message):
    try:
        status = main(["simulate", model, "--generations", "2", "--seeds", "8", *argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("collapse: error: ") and message in err, err


@pytest.mark.slow
@pytest.mark.parametrize(
    "cfg",
    [
        GaussianConfig(dim=2, M=6, generations=3, regime="mix", curate=3, reward_center=1.0, sampler="faithful"),
        CategoricalConfig(K=5, M=8, generations=3, regime="accumulate-subsample", curate=4, reward_slope=-1.0),
    ],
    ids=["gaussian-mix", "categorical-subsample"],
)
def test_curated_runs_do_not_depend_on_chunking(cfg):
    from model_collapse.experiments import run

    a = run(cfg, 48, seed=3, progress=False, quantiles=(), chunk_size=16)
    b = run(cfg, 48, seed=3, progress=False, quantiles=(), chunk_size=48)
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name].mean, b.metrics[name].mean)
