"""The categorical model: an exact count sampler, the decoders' conventions, bad input, survival counts.

Statistical tests here use a fixed key; each states its false-alarm rate (the probability,
over keys, that a correct sampler fails) and is shown to reject a deliberately wrong twin.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from model_collapse.experiments import float64
from model_collapse.experiments.cli import main
from model_collapse.experiments.models.categorical import (
    CategoricalConfig,
    decode,
    multinomial_counts,
    survival_by_category,
)
from model_collapse.theory import categorical as tc
from model_collapse.theory.categorical.one_step import compositions
from scipy import stats

ALPHA = 1e-3  # false-alarm rate of each goodness-of-fit test below


def _counts(q, n, draws, seed=0):
    with float64():
        keys = jax.random.split(jax.random.key(seed), draws)
        sample = jax.vmap(lambda k: multinomial_counts(k, n, jnp.asarray(q, jnp.float64)))(keys)
        return np.asarray(sample)


def _chi2_pvalue(counts, n, q):
    """Pearson's chi-square of the observed count vectors against Mult(n, q), over every outcome."""
    outcomes = compositions(n, len(q))
    expected = stats.multinomial.pmf(outcomes, n, q) * len(counts)
    index = {tuple(c): i for i, c in enumerate(outcomes)}
    observed = np.bincount([index[tuple(c)] for c in counts.astype(np.int64)], minlength=len(outcomes))
    return stats.chisquare(observed, expected).pvalue


def test_counts_are_exactly_multinomial_and_a_wrong_law_is_rejected():
    q = np.array([0.5, 0.25, 0.15, 0.1])
    counts = _counts(q, 5, 40_000)
    assert np.all(counts.sum(axis=1) == 5)
    assert _chi2_pvalue(counts, 5, q) > ALPHA  # 56 outcomes, at least 5 expected in each
    # Power: the same test against a slightly tempered q (what a biased sampler would draw).
    assert _chi2_pvalue(counts, 5, tc.decode(q, temperature=0.9)) < ALPHA


def test_a_lost_category_never_gets_a_sample():
    q = np.array([0.0, 0.6, 0.0, 0.4, 0.0, 0.0])  # zeros first, inside and last (round-off at the last edge)
    counts = _counts(q, 1000, 2000, seed=3)
    assert np.all(counts[:, [0, 2, 4, 5]] == 0)
    assert np.all(counts.sum(axis=1) == 1000)


@pytest.mark.parametrize(
    "decoding",
    [
        dict(temperature=0.5),
        dict(temperature=2.5),
        dict(top_k=3),
        dict(top_p=0.7),
        dict(temperature=0.8, top_k=4, top_p=0.9),
        dict(greedy=True),
        dict(temperature=1.7, greedy=True),
    ],
)
def test_the_simulator_decodes_as_the_theory_does(decoding):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(8), size=20)
    p[:, [2, 5]] = p[:, [5, 5]]  # ties
    p[::3, 7] = 0.0  # zeros
    p /= p.sum(axis=1, keepdims=True)
    cfg = CategoricalConfig(K=8, M=4, **decoding)
    with float64():
        got = np.asarray(jax.vmap(lambda row: decode(cfg, row))(jnp.asarray(p)))
    want = tc.decode(p, **{"top_p": None, **decoding})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_top_p_keeps_the_first_category_to_reach_the_threshold_and_ties_go_to_the_lower_index():
    p = jnp.asarray([0.3, 0.5, 0.2])
    with float64():
        cut = lambda q: np.asarray(decode(CategoricalConfig(K=3, M=2, top_p=q), p))  # noqa: E731
        np.testing.assert_allclose(cut(0.8), [0.375, 0.625, 0.0])  # the mass before 0.3 is 0.5 < 0.8: kept
        np.testing.assert_allclose(cut(0.5), [0.0, 1.0, 0.0])  # the mass before 0.3 is 0.5, not < 0.5
        tie = jnp.asarray([0.25, 0.25, 0.5])
        np.testing.assert_allclose(np.asarray(decode(CategoricalConfig(K=3, M=2, top_k=2), tie)), [1 / 3, 0, 2 / 3])
        np.testing.assert_allclose(np.asarray(decode(CategoricalConfig(K=3, M=2, greedy=True), tie[:2])), [1, 0])


def test_temperature_one_and_top_p_one_leave_p_bit_for_bit():
    p = jnp.asarray(np.random.default_rng(1).dirichlet(np.ones(50)))
    with float64():
        assert np.array_equal(np.asarray(decode(CategoricalConfig(K=50, M=2), p)), np.asarray(p))


def test_survival_counts_do_not_depend_on_the_chunk_and_match_the_runner():
    cfg = CategoricalConfig(K=6, M=5, generations=4, init="zipf")
    a = survival_by_category(cfg, 100, seed=2, chunk=64)
    b = survival_by_category(cfg, 100, seed=2, chunk=100)
    assert np.array_equal(a, b)
    from model_collapse.experiments import run

    support = run(cfg, 100, seed=2, progress=False).metrics["support"].mean
    np.testing.assert_allclose(a.sum(axis=1), support, rtol=1e-12)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--K", "1"], "K must be an integer >= 2"),
        (["--M", "0"], "M must be an integer >= 1"),
        (["--zipf-a", "0"], "zipf_a must be"),
        (["--zipf-a", "-1"], "zipf_a must be"),
        (["--temperature", "0"], "temperature must be"),
        (["--top-k", "0"], "top_k must lie in 1..K"),
        (["--top-k", "11"], "top_k must lie in 1..K"),
        (["--top-p", "0"], "top_p must lie in (0, 1]"),
        (["--top-p", "1.01"], "top_p must lie in (0, 1]"),
        (["--init", "flat"], "unknown init 'flat'"),
        (["--regime", "mix", "--real-fraction", "0.33"], "whole number of samples"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    try:
        argv = ["simulate", "categorical", "--K", "10", "--M", "10", "--generations", "2", "--seeds", "4", *argv]
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("collapse: error: ") and message in err, err
    assert out == ""
