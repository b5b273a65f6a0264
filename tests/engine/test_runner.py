"""The runner: per-seed purity, bit-identical reductions across chunkings, exact extension, errors."""

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from model_collapse.experiments import ConfigError, GaussianConfig, LinRegConfig, NonFiniteError, run, simulate_seeds
from model_collapse.experiments.engine.stats import BLOCK, QUANTILE_RESOLUTION, StreamingStats
from model_collapse.experiments.models import MODELS, get_model

CFG = LinRegConfig(d=4, T=12, sigma2=1.0, generations=6, regime="accumulate")


def _same(a, b):
    for name in a.metrics:
        x, y = a.metrics[name], b.metrics[name]
        for field in ("mean", "sem", "std", "minimum", "maximum"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field), err_msg=field)
        for q in x.quantiles:
            np.testing.assert_array_equal(x.quantiles[q], y.quantiles[q], err_msg=q)


def test_seed_trajectory_does_not_depend_on_the_batch():
    full = simulate_seeds(CFG, np.arange(40), seed=3)["test_error"]
    part = simulate_seeds(CFG, np.array([7, 31, 2]), seed=3)["test_error"]
    np.testing.assert_array_equal(part, full[[7, 31, 2]])
    other = simulate_seeds(CFG, np.arange(40), seed=4)["test_error"]
    assert not np.array_equal(full, other)


GAUSS = GaussianConfig(dim=2, M=6, generations=5, regime="accumulate")


def _slow(cfg):
    return pytest.param(cfg, marks=pytest.mark.slow)


# The default suite covers both models and both samplers in float32 (the conformance suite
# checks every model's first example in float64); the rest run with -m slow.
@pytest.mark.parametrize(
    "cfg",
    [
        _slow(CFG),
        _slow(dataclasses.replace(CFG, regime="accumulate-subsample", design="fresh")),
        dataclasses.replace(CFG, sampler="exact", precision="float32"),
        _slow(dataclasses.replace(CFG, precision="float32")),
        _slow(GAUSS),
        _slow(dataclasses.replace(GAUSS, precision="float32")),
        dataclasses.replace(GAUSS, regime="replace", sampler="exact", precision="float32"),
    ],
    ids=lambda c: f"{c.model}-{c.regime}-{c.sampler}-{c.precision}",
)
def test_reductions_are_bit_identical_across_chunk_sizes_and_reruns(cfg):
    # 150 rounds up to 192: the rounding is checked without compiling a third chunk shape.
    results = [run(cfg, 1000, seed=5, chunk_size=c, progress=False) for c in (64, 192, 150, None, 192)]
    for other in results[1:]:
        _same(results[0], other)


# The Gaussian's float32 runs by default in the exact-sampler reduction test above and the conformance suite's
# end-to-end float32 check; its draws-differ-but-agree check here runs with -m slow.
@pytest.mark.parametrize("cfg", [CFG, _slow(GAUSS)], ids=lambda c: c.model)
def test_float32_runs_in_float32_and_differs_from_float64(cfg):
    single = dataclasses.replace(cfg, precision="float32")
    out = simulate_seeds(single, np.arange(8), seed=1)
    assert all(v.dtype == np.float32 for v in out.values())
    a, b = run(cfg, 256, seed=1, progress=False), run(single, 256, seed=1, progress=False)
    name = next(iter(a.metrics))
    assert not np.array_equal(a.metrics[name].mean, b.metrics[name].mean)
    # ... but the same experiment (float32 draws other random numbers, so the runs are
    # independent): the means agree within 5 standard errors of their difference.
    x, y = a.metrics[name], b.metrics[name]
    assert np.all(np.abs(x.mean - y.mean) <= 5 * np.hypot(x.sem, y.sem))


@pytest.mark.slow  # an accelerator's path, forced on the CPU; the in-program reduction's test below runs by default
def test_accelerator_micro_batches_keep_results_independent_of_chunking(monkeypatch):
    """An accelerator's micro-batch (here forced on the CPU: 256 seeds, as a GPU would get for
    a larger config) pads small runs and keeps every reduction bit-identical across chunk
    sizes, seed counts and extensions, as the CPU's 64-seed micro-batch does."""
    from model_collapse.experiments.engine import runner

    # A config no other test uses: its cache entry, compiled with the forced micro-batch, is
    # never seen by another test (clearing the whole cache would recompile theirs).
    cfg = dataclasses.replace(CFG, generations=5, sigma2=1.37)
    monkeypatch.setattr(runner, "micro_batch", lambda cfg, platform: 4 * BLOCK)
    results = [run(cfg, 700, seed=5, chunk_size=c, progress=False) for c in (None, 600)]
    assert results[0].meta["micro_batch"] == 256 and results[0].meta["chunk_size"] == 256
    assert results[1].meta["chunk_size"] == 768
    first = run(cfg, 320, seed=5, progress=False)
    rest = run(cfg, 380, seed=5, seed_start=320, state=first.state, progress=False)
    for other in results[1:] + [rest]:
        _same(results[0], other)
    few = simulate_seeds(cfg, [3, 650], seed=5)["test_error"]
    np.testing.assert_array_equal(few, simulate_seeds(cfg, np.arange(700), seed=5)["test_error"][[3, 650]])


def test_micro_batch_is_a_block_multiple_within_memory():
    from model_collapse.experiments.engine.runner import _MAX_MICRO, _MICRO_MEMORY, micro_batch

    assert micro_batch(CFG, "cpu") == BLOCK
    small, big = micro_batch(CFG, "gpu"), micro_batch(LinRegConfig(d=64, T=4000, generations=50), "gpu")
    assert small == _MAX_MICRO and small % BLOCK == 0
    assert big % BLOCK == 0 and BLOCK <= big < small
    assert big == BLOCK or big * 4 * LinRegConfig(d=64, T=4000, generations=50).memory_per_seed() <= _MICRO_MEMORY


def test_malloc_trim_is_found_on_glibc():
    """The runner hands freed heap pages back after each group (flat peak RSS); on Linux with
    glibc the binding must exist and run, elsewhere it is ``None`` and the runner skips it."""
    import sys

    from model_collapse.experiments.engine import runner

    trim = runner._malloc_trim()
    if sys.platform == "linux" and "CS_GNU_LIBC_VERSION" in os.confstr_names and os.confstr("CS_GNU_LIBC_VERSION"):
        assert trim is not None and trim() in (0, 1)
    else:
        assert trim is None or trim() in (0, 1)


def test_extending_a_run_equals_one_run():
    whole = run(CFG, 640, seed=2, progress=False)
    first = run(CFG, 256, seed=2, progress=False)
    rest = run(CFG, 384, seed=2, seed_start=256, state=first.state, progress=False)
    assert rest.seeds == 640 and rest.seed_start == 0
    _same(whole, rest)
    with pytest.raises(ConfigError, match="multiple of"):
        run(CFG, 10, seed=2, seed_start=100, state=first.state, progress=False)


def test_block_sums_add_seed_by_seed_in_index_order():
    """The row-at-a-time block sums are the left-to-right accumulate's bits (wide dynamic range)."""
    from model_collapse.experiments.engine.stats import _block_sums

    rng = np.random.default_rng(0)
    blocks = rng.standard_normal((5, BLOCK, 7)) * np.exp(3 * rng.standard_normal((5, BLOCK, 7)))
    s1, s2 = _block_sums(blocks)
    np.testing.assert_array_equal(s1, np.add.accumulate(blocks, axis=1)[:, -1])
    np.testing.assert_array_equal(s2, np.add.accumulate(blocks * blocks, axis=1)[:, -1])
    assert not np.array_equal(s1, np.add.accumulate(blocks[:, ::-1], axis=1)[:, -1])  # the order shows


def test_streaming_statistics_match_numpy():
    rng = np.random.default_rng(0)
    values = rng.lognormal(size=(1000, 3)) * np.array([1.0, -1e-3, 1e6])
    stats = StreamingStats(3, (0.0, 0.05, 0.5, 0.95, 1.0))
    padded = np.zeros((1024, 3))
    padded[:1000] = values
    stats.update(padded, 1000)
    np.testing.assert_allclose(stats.mean, values.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(stats.std, values.std(axis=0, ddof=1), rtol=1e-12)
    for q in stats.quantiles:
        exact = np.quantile(values, q, axis=0, method="inverted_cdf")
        assert np.all(np.abs(stats.quantile(q) - exact) <= QUANTILE_RESOLUTION * np.abs(exact) * 1.0001)
    assert stats.count == 1000 and BLOCK == 64


def test_simulators_never_reuse_a_key():
    variants = [
        dataclasses.replace(CFG, regime=r, design=d, sampler=s)
        for r in ("replace", "accumulate", "accumulate-subsample")
        for d in ("fixed", "fresh", "shared")
        for s in ("faithful", "exact")
        if not (s == "exact" and r == "accumulate-subsample")
    ]
    # The checker runs when the function is traced: no need to compile or run it.
    with jax.debug_key_reuse(True):
        for cfg in variants:
            jax.jit(lambda k, cfg=cfg: get_model("linreg").simulate(cfg, k)).trace(jax.random.key(0))


def _broken_toy(bad_generation: int):
    """The toy model with an infinite metric at ``bad_generation`` for every seed."""
    from tests.models.toy import Toy

    class Broken(Toy):
        def fast_path(self, cfg):
            g = jnp.arange(1, cfg.generations + 1, dtype=jnp.float64)
            return lambda key: {"x": jnp.where(g == bad_generation, jnp.inf, g)}

    return Broken()


def test_non_finite_values_name_the_generation_and_seed(monkeypatch):
    from tests.models.toy import ToyConfig

    monkeypatch.setitem(MODELS, "toy", _broken_toy(3))
    with pytest.raises(NonFiniteError, match="generation 3 for seed index 0"):
        run(ToyConfig(generations=5), 10, progress=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(seeds=0), "seeds must be an integer >= 1"),
        (dict(seeds=10, seed=-1), "seed must be an integer >= 0"),
        (dict(seeds=10, chunk_size=0), "chunk size"),
        (dict(seeds=10, devices=99), "devices must be between"),
        (dict(seeds=2**32 + 1), "below 2\\*\\*32"),
    ],
)
def test_run_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run(CFG, progress=False, **kwargs)


@pytest.mark.parametrize("knob, value", [("MAX_BINS", 3000), ("BINS_PER_GENERATION", 1000)])
def test_quantile_histogram_memory_is_bounded_and_chunk_invariant(monkeypatch, knob, value):
    """Values over ~80 octaves with a tiny bin budget (3,000 bins: the total cap, or 1,000 per
    generation): the histogram coarsens to fit, to the same level and the same quantiles
    whatever the chunking, within the resolution it reports."""
    import model_collapse.experiments.engine.stats as S

    monkeypatch.setattr(S, knob, value)
    rng = np.random.default_rng(1)
    values = np.exp(rng.normal(0, 30, size=(4096, 3))) * np.array([1.0, -1.0, 1.0])
    runs = []
    for chunk in (64, 1024):
        s = S.StreamingStats(3, (0.01, 0.5, 0.99))
        for i in range(0, 4096, chunk):
            s.update(values[i : i + chunk], chunk)
        runs.append(s)
    a, b = runs
    assert a.level == b.level > 0 and a._hist_keys.size <= 3000
    for q in a.quantiles:
        np.testing.assert_array_equal(a.quantile(q), b.quantile(q))
        exact = np.quantile(values, q, axis=0, method="inverted_cdf")
        assert np.all(np.abs(a.quantile(q) - exact) <= a.resolution * np.abs(exact))


def test_repeated_runs_of_the_same_config_do_not_recompile():
    """One compiled program per config and chunk shape: other seed counts and base seeds reuse it."""
    from model_collapse.experiments.engine.runner import _compiled

    cfg = dataclasses.replace(CFG, generations=7)
    run(cfg, 64, seed=0, progress=False)
    fn, _, _ = _compiled(cfg, 1)
    size = fn._cache_size()  # 1 (2 under the tests' jax_debug_nans)
    for seeds, seed, chunk in ((1000, 3, None), (130, 4, 64), (64, 2**31, None)):
        run(cfg, seeds, seed=seed, chunk_size=chunk, progress=False)
    assert fn._cache_size() == size
    # A sweep over a traced parameter (sigma2 changes no shape) reuses the same program too, and the
    # program does use each value: the error scales with sigma2 seed by seed (the same draws).
    first = run(cfg, 64, seed=0, progress=False).metrics["test_error"].mean / cfg.sigma2
    for sigma2 in (0.3, 2.0, 7.5):
        other = dataclasses.replace(cfg, sigma2=sigma2)
        res = run(other, 64, seed=0, progress=False)
        assert _compiled(other, 1)[0].jitted is fn.jitted
        np.testing.assert_allclose(res.metrics["test_error"].mean / sigma2, first, rtol=1e-12)
    assert fn._cache_size() == size


def test_moments_only_runs_keep_no_histogram_and_give_the_same_moments():
    full = run(CFG, 640, seed=3, progress=False)
    lean = run(CFG, 640, seed=3, quantiles=(), progress=False)
    assert lean.metrics["test_error"].quantiles == {} and lean.state["test_error"]["hist_keys"].size == 0
    for field in ("mean", "sem", "std", "minimum", "maximum"):
        np.testing.assert_array_equal(
            getattr(full.metrics["test_error"], field), getattr(lean.metrics["test_error"], field)
        )
    with pytest.raises(ValueError, match="no histogram"):
        run(CFG, 64, seed=3, seed_start=640, state=lean.state, quantiles=(0.5,), progress=False)


def test_only_the_requested_metrics_are_computed_with_the_same_bits(tmp_path):
    """``metrics=``: the others are dead code (the w2_sq eigenvalues); what is kept is bit-identical,
    and a cached run of every metric serves a request for some of them."""
    from model_collapse.experiments.engine.cache import cached_run

    cfg = GaussianConfig(dim=2, M=8, generations=4, regime="replace", sampler="exact")
    full = run(cfg, 128, 3, progress=False)
    some = run(cfg, 128, 3, progress=False, metrics=["w2_sq", "variance"])
    assert list(some.metrics) == ["variance", "w2_sq"]  # the model's order
    for name in some.metrics:
        for field in ("mean", "std", "minimum", "maximum"):
            assert np.array_equal(getattr(some.metrics[name], field), getattr(full.metrics[name], field)), name
    with pytest.raises(ConfigError, match="unknown gaussian metric 'w2'"):
        run(cfg, 64, metrics=["w2"])
    cached_run(cfg, 128, 3, cache_dir=tmp_path, progress=False)
    served = cached_run(cfg, 128, 3, cache_dir=tmp_path, progress=False, metrics=["log_det"])
    assert served.meta["cache"] == "hit" and list(served.metrics) == ["log_det"]
    assert np.array_equal(served.metrics["log_det"].mean, full.metrics["log_det"].mean)


def test_the_in_program_reduction_is_chunk_invariant_and_agrees_with_the_host(monkeypatch):
    """The accelerators' path, forced on the CPU (with a 256-seed micro-batch, as a GPU gets):
    the program sums each block of 64 seeds and the host joins the blocks; chunk sizes,
    extensions and moments-only runs give the same bits; the moments agree with the host's
    reduction of the same values to round-off (another summation order), the extremes and
    quantiles exactly (the same values); a non-finite value still names its generation and seed."""
    from model_collapse.experiments.engine import runner

    cfg = dataclasses.replace(CFG, generations=5, sigma2=1.91)  # a config no other test compiles
    host = run(cfg, 700, seed=5, progress=False)
    monkeypatch.setenv("COLLAPSE_REDUCE_IN_PROGRAM", "1")
    monkeypatch.setattr(runner, "micro_batch", lambda cfg, platform: 4 * BLOCK)
    results = [run(cfg, 700, seed=5, chunk_size=c, progress=False) for c in (None, 600)]
    assert host.meta["reduction"] == "host" and results[0].meta["reduction"] == "in program"
    first = run(cfg, 320, seed=5, progress=False)
    rest = run(cfg, 380, seed=5, seed_start=320, state=first.state, progress=False)
    for other in results[1:] + [rest]:
        _same(results[0], other)
    lean = run(cfg, 700, seed=5, quantiles=(), progress=False)
    a, b, c = results[0].metrics["test_error"], host.metrics["test_error"], lean.metrics["test_error"]
    for field in ("mean", "sem", "minimum", "maximum"):
        np.testing.assert_array_equal(getattr(a, field), getattr(c, field))
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-13)
    np.testing.assert_allclose(a.sem, b.sem, rtol=1e-10)
    np.testing.assert_array_equal(a.minimum, b.minimum)
    np.testing.assert_array_equal(a.maximum, b.maximum)
    for q in a.quantiles:
        np.testing.assert_array_equal(a.quantiles[q], b.quantiles[q])

    from tests.models.toy import ToyConfig

    monkeypatch.setitem(MODELS, "toy", _broken_toy(4))
    with pytest.raises(NonFiniteError, match="generation 4 for seed index 0"):
        run(ToyConfig(generations=5), 10, quantiles=(), progress=False)
