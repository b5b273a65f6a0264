"""Accumulate-subsample: the subset drawn each generation is uniform, and the fast path fits it exactly.

The subsets (:func:`subsample_schedule`, Floyd's algorithm) are checked against their law
directly: at generation ``n`` every ``size``-subset of the ``n * size`` rows so far is
equally likely. Three checks, each at level ``ALPHA / CHECKS`` (Bonferroni, so the whole
file raises a false alarm with probability at most ``ALPHA``):

* the frequency of every subset (all ``C(n size, size)`` of them, small sizes), a
  chi-square goodness-of-fit test per generation;
* at a larger size, how often each generation's rows are included (``1 / n`` each, a
  binomial z-test per earlier generation) and how often a pair of rows from two
  generations is included together (``size (size - 1) / (N (N - 1))``).

The same statistics must reject two deliberately wrong samplers (with replacement, and
an equal number of rows from every generation), so the checks have power. The linear
regression fast path (labels buffered, the fit from weighted Gram matrices) is checked
against the shared engine's scan (rows gathered, ``lstsq``) on the same draws.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from model_collapse.experiments import float64, get_model
from model_collapse.experiments.engine.linalg import lstsq, lstsq_where, one_matrix_per_call
from model_collapse.experiments.models.regimes import simulate
from model_collapse.experiments.models.samplers import subsample_schedule, uniform_below
from scipy import stats

ALPHA = 1e-3
SMALL = dict(size=2, generations=4)  # C(8, 2) = 28 subsets at the last generation
LARGE = dict(size=6, generations=5)
DRAWS = 40_000
# chi-square per generation of SMALL (n >= 2), inclusion per (n, g) and one pair rate per n >= 2 of LARGE
CHECKS = (SMALL["generations"] - 1) + sum(range(2, LARGE["generations"] + 1)) + (LARGE["generations"] - 1)
LEVEL = ALPHA / CHECKS


def _floyd(key, size, generations):
    return subsample_schedule(jax.random.split(key, generations), size)


def _with_replacement(key, size, generations):
    n = jnp.arange(1, generations + 1)[:, None]
    return jax.random.randint(key, (generations, size), 0, n * size)


def _equal_counts(key, size, generations):
    """Every generation's subset spread evenly over the batches so far (not uniform)."""
    n = jnp.arange(1, generations + 1)[:, None]
    batch = jnp.arange(size)[None, :] % n
    row = jax.random.randint(key, (generations, size), 0, size)
    return batch * size + row


def _draw(sampler, draws, seed, size, generations):
    keys = jax.random.split(jax.random.key(seed), draws)
    with float64():
        return np.asarray(jax.jit(jax.vmap(lambda k: sampler(k, size, generations)))(keys))


def _subset_chi2_pvalues(out, size):
    """Per generation n >= 2, the chi-square p-value of the subsets' frequencies against uniform.

    A draw that is not a subset of ``[0, n size)`` (a repeated or out-of-range row) goes to an
    extra category of expected count 0, which makes the statistic infinite.
    """
    pvalues = []
    for n in range(2, out.shape[1] + 1):
        subsets = {s: i for i, s in enumerate(itertools.combinations(range(n * size), size))}
        rows = np.sort(out[:, n - 1], axis=1)
        codes = np.array([subsets.get(tuple(r), -1) for r in rows])
        if (codes < 0).any():
            pvalues.append(0.0)
            continue
        counts = np.bincount(codes, minlength=len(subsets))
        pvalues.append(stats.chisquare(counts).pvalue)
    return pvalues


def _inclusion_pvalues(out, size):
    """Per (n, g): two-sided p-value of the share of generation ``g``'s rows drawn at generation ``n``.

    Each of the ``n size`` rows is included with probability ``size / (n size) = 1 / n``, so the
    number drawn from batch ``g`` is ``size / n`` on average; its variance over draws is the
    hypergeometric one, ``size (1/n) (1 - 1/n) (n size - size) / (n size - 1)``. Then, per
    ``n >= 2``, the rate at which the first rows of batches 1 and ``n`` are drawn together
    against ``size (size - 1) / (N (N - 1))``, ``N = n size`` (binomial).
    """
    draws = out.shape[0]
    pvalues = []
    for n in range(2, out.shape[1] + 1):
        chosen = out[:, n - 1]
        N = n * size
        var = size * (1 / n) * (1 - 1 / n) * (N - size) / (N - 1)
        for g in range(1, n + 1):
            taken = np.sum((chosen >= (g - 1) * size) & (chosen < g * size), axis=1)
            z = (taken.mean() - size / n) / math.sqrt(var / draws)
            pvalues.append(2 * stats.norm.sf(abs(z)))
        both = np.mean(np.any(chosen == 0, axis=1) & np.any(chosen == (n - 1) * size, axis=1))
        p = size * (size - 1) / (N * (N - 1))
        pvalues.append(stats.binomtest(round(both * draws), draws, p).pvalue)
    return pvalues


def test_floyd_subsets_are_distinct_and_in_range():
    out = _draw(_floyd, 500, 0, 7, 9)
    for n in range(1, 10):
        chosen = out[:, n - 1]
        assert chosen.min() >= 0 and chosen.max() < n * 7
        assert all(len(set(row)) == 7 for row in chosen)
    assert all(sorted(row) == list(range(7)) for row in out[:, 0])  # generation 1 takes every row


def test_floyd_subsets_are_uniform():
    small = _draw(_floyd, DRAWS, 1, **SMALL)
    assert min(_subset_chi2_pvalues(small, SMALL["size"])) > LEVEL
    large = _draw(_floyd, DRAWS, 2, **LARGE)
    assert min(_inclusion_pvalues(large, LARGE["size"])) > LEVEL


@pytest.mark.parametrize("wrong", [_with_replacement, _equal_counts])
def test_the_checks_reject_a_wrong_sampler(wrong):
    small = _draw(wrong, DRAWS, 1, **SMALL)
    large = _draw(wrong, DRAWS, 2, **LARGE)
    assert min(_subset_chi2_pvalues(small, SMALL["size"])) < LEVEL
    if wrong is _equal_counts:  # with replacement keeps the inclusion rates of uniform draws
        assert min(_inclusion_pvalues(large, LARGE["size"])) < LEVEL


def test_uniform_below_is_exact_at_a_large_span():
    """Spans near ``2**31`` reject almost half the 32-bit words: the loop redraws them all."""
    span = jnp.array([2**31 - 1, 3 * 2**29, 7, 1], jnp.uint32)
    with float64():
        out = np.asarray(jax.jit(jax.vmap(lambda k: uniform_below(k, span)))(jax.random.split(jax.random.key(3), 4000)))
    assert (out >= 0).all() and (out < np.asarray(span, np.int64)).all() and (out[:, 3] == 0).all()
    # The largest span: P(x < 2**30) = 2**30 / (2**31 - 1), just over 1/2; plain x mod span would give 3/4.
    share = np.mean(out[:, 0] < 2**30)
    assert abs(share - 0.5) < 5 * math.sqrt(0.25 / 4000)
    assert stats.chisquare(np.bincount(out[:, 2], minlength=7)).pvalue > ALPHA


def test_lstsq_where_solves_only_where_asked():
    a = jnp.asarray(np.random.default_rng(0).normal(size=(3, 6, 4)))
    b = jnp.asarray(np.random.default_rng(1).normal(size=(3, 6)))
    x = jnp.zeros((3, 4))
    bad = jnp.array([False, True, False])
    with float64(), one_matrix_per_call(True):
        out = np.asarray(jax.jit(jax.vmap(lstsq_where))(bad, x, a, b))
        ref = np.asarray(jax.vmap(lstsq)(a, b))
    np.testing.assert_array_equal(out[[0, 2]], 0.0)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-12)


@pytest.mark.filterwarnings("ignore::model_collapse.experiments.models.linreg.MonteCarloVarianceWarning")
# One design and one T in the default suite (each T compiles two subsampling programs, ~30 s on 2 cores).
@pytest.mark.parametrize("design", ["fixed", pytest.param("shared", marks=pytest.mark.slow)])
def test_linreg_fast_path_fits_the_engine_subsample(design):
    """The fast path against the engine's scan (the same keys, so the same labels and subsets):
    the same fits up to round-off (both exact: a Cholesky solve of the weighted normal equations
    against ``lstsq`` of the gathered rows; observed at most 1.1e-13 relative over these seeds).
    With ``T = 6`` and ``d = 4``, 15% of the subsets hold fewer than ``d`` distinct rows: the
    fast path's minimum-norm fallback must then give ``lstsq``'s answer (observed agreement
    1.4e-7 relative, the round-off of nearly collinear drawn rows carried over generations)."""
    model = get_model("linreg")
    # T = 6 in the default suite (85% of its subsets full rank, so both branches run); T = 12 with -m slow.
    for T, rtol in ((12, 1e-10), (6, 1e-5)) if design == "shared" else ((6, 1e-5),):
        cfg = model.config(d=4, T=T, generations=10, regime="accumulate-subsample", design=design)
        keys = jax.random.split(jax.random.key(7), 500)  # 5,000 fits, about 750 of them rank-deficient at T = 6
        with float64(), one_matrix_per_call(True):
            fast = jax.jit(jax.vmap(lambda k, c=cfg: simulate(model, c, k)["test_error"]))(keys)
            scan = jax.jit(jax.vmap(lambda k, c=cfg: simulate(model, c, k, fast_path=False)["test_error"]))(keys)
        np.testing.assert_allclose(np.asarray(fast), np.asarray(scan), rtol=rtol)
