"""One conformance suite, run over every registered model and its example configs.

A model that registers runs here without a line of test code of its own: its first
example config in the default suite, every example under ``-m slow``. Checks: output
shapes and dtypes (float32 end to end), the prefix property, bit-identity across
chunk sizes, no key reuse, finite theory with a kind per curve, the config's JSON
round trip, a CLI round trip, and the memory estimate against XLA's own memory
analysis of the compiled program. Device counts: ``tests/engine/test_devices.py``.
"""

from __future__ import annotations

import dataclasses
import io
import json
from contextlib import redirect_stdout

import jax
import model_collapse.experiments as ex
import numpy as np
import pytest
from model_collapse.experiments.engine.runner import _compiled

CASES = []
for _name, _model in sorted(ex.MODELS.items()):
    for _i, _cfg in enumerate(_model.examples()):
        marks = () if _i == 0 else (pytest.mark.slow,)
        CASES.append(
            pytest.param(
                _cfg,
                id=f"{_name}-{_cfg.regime}-{getattr(_cfg, 'sampler', None) or _model.default_sampler[0]}",
                marks=marks,
            )
        )


def _equations(jaxpr):
    """Every equation of a jaxpr, recursively through its sub-jaxprs (scan, cond, pjit...)."""
    for eqn in jaxpr.eqns:
        yield eqn
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else (param,):
                inner = getattr(sub, "jaxpr", None)
                if inner is not None:
                    yield from _equations(getattr(inner, "jaxpr", inner))


def _values(result):
    return {m: (s.mean, s.sem, s.minimum, s.maximum, *s.quantiles.values()) for m, s in result.metrics.items()}


def _assert_same(a, b):
    for m in a:
        for x, y in zip(a[m], b[m], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=m)


def test_every_registered_model_has_examples_that_cover_its_regimes():
    for model in ex.MODELS.values():
        regimes = {cfg.regime for cfg in model.examples()}
        assert regimes == set(model.regimes), f"{model.name}: examples miss {set(model.regimes) - regimes}"


@pytest.mark.parametrize("cfg", CASES)
def test_shapes_dtypes_and_float32_end_to_end(cfg):
    model = ex.get_model(cfg.model)
    G = cfg.generations
    out = ex.simulate_seeds(cfg, np.arange(3))
    assert set(out) == set(model.metric_names)
    for v in out.values():
        assert v.shape == (3, G) and v.dtype == np.float64 and np.all(np.isfinite(v))
    single = dataclasses.replace(cfg, precision="float32")
    out32 = ex.simulate_seeds(single, np.arange(3))
    assert all(v.dtype == np.float32 for v in out32.values())
    # No float64 array anywhere in the float32 program (float64 scalars appear only as the
    # weakly typed literals of jnp.where/clip, converted to float32 where they are used).
    with ex.float64():
        jaxpr = jax.make_jaxpr(lambda k: model.simulate(single, k))(jax.random.key(0))
    wide = [
        str(e.primitive)
        for e in _equations(jaxpr.jaxpr)
        for v in e.outvars
        if getattr(v.aval, "dtype", None) == np.float64 and v.aval.shape != ()
    ]
    assert not wide, f"a float32 config computes float64 arrays in: {sorted(set(wide))}"


@pytest.mark.parametrize("cfg", CASES)
def test_trajectories_are_prefixes_and_chunking_changes_no_bit(cfg):
    """The first G generations do not depend on how many are simulated (70 more: past a
    block of 64 generations); reductions are bit-identical for chunks of 64 and 192."""
    longer = dataclasses.replace(cfg, generations=cfg.generations + 70)
    a = ex.simulate_seeds(cfg, np.arange(5), seed=1)
    b = ex.simulate_seeds(longer, np.arange(5), seed=1)
    for m in a:
        np.testing.assert_array_equal(a[m], b[m][:, : cfg.generations], err_msg=m)
    _assert_same(
        _values(ex.run(cfg, 130, seed=2, chunk_size=64, progress=False)),
        _values(ex.run(cfg, 130, seed=2, chunk_size=192, progress=False)),
    )


@pytest.mark.parametrize("cfg", CASES)
def test_no_key_is_reused(cfg):
    model = ex.get_model(cfg.model)
    with ex.float64(), jax.debug_key_reuse(True):
        jax.jit(lambda k: model.simulate(cfg, k)).trace(jax.random.key(0))


@pytest.mark.parametrize("cfg", CASES)
def test_theory_is_finite_and_says_what_each_curve_is(cfg):
    model = ex.get_model(cfg.model)
    gens = np.arange(1, cfg.generations + 1)
    curves, kinds = model.theory(cfg, gens), model.theory_kinds(cfg)
    assert set(curves) == set(kinds) == set(model.metric_names)
    for m, curve in curves.items():
        assert (curve is None) == (kinds[m] is None), m
        if curve is not None:
            assert np.shape(curve) == gens.shape and np.all(np.isfinite(curve)), m
            assert kinds[m] in ("exact expectation", "upper bound", "lower bound", "approximation"), kinds[m]


@pytest.mark.parametrize("cfg", CASES)
def test_config_json_round_trip_and_normalised_values(cfg):
    d = ex.config_dict(cfg)
    back = ex.config_from_dict(type(cfg), json.loads(json.dumps(d)))
    assert back == cfg and ex.config_hash(back) == ex.config_hash(cfg)
    for name in cfg.TRACED_FIELDS:  # 1 and 1.0, a NumPy float: one config, one hash
        value = getattr(cfg, name)
        same = dataclasses.replace(cfg, **{name: np.float64(value)})
        assert same == cfg and ex.config_hash(same) == ex.config_hash(cfg)
    ints = [
        f.name
        for f in dataclasses.fields(cfg)
        if isinstance(getattr(cfg, f.name), int) and not isinstance(getattr(cfg, f.name), bool)
    ]
    bools = [f.name for f in dataclasses.fields(cfg) if isinstance(getattr(cfg, f.name), bool)]
    same = dataclasses.replace(cfg, **{n: np.bool_(getattr(cfg, n)) for n in bools})
    assert same == cfg and all(type(getattr(same, n)) is bool for n in bools)
    same = dataclasses.replace(cfg, **{n: np.int64(getattr(cfg, n)) for n in ints})
    assert same == cfg and ex.config_hash(same) == ex.config_hash(cfg)


@pytest.mark.parametrize("cfg", CASES)
def test_traced_parameters_change_no_shape(cfg):
    """A config's traced fields are parameters: the program's shapes do not depend on them."""
    model = ex.get_model(cfg.model)
    shapes = []
    for scale in (1.0, 0.5):
        changed = dataclasses.replace(
            cfg,
            **{n: (getattr(cfg, n) * scale if n != "real_fraction" else getattr(cfg, n)) for n in cfg.TRACED_FIELDS},
        )
        with ex.float64():
            shapes.append(jax.eval_shape(lambda k, c=changed: model.simulate(c, k), jax.random.key(0)))
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("cfg", CASES)
def test_cli_round_trip(cfg, tmp_path, monkeypatch):
    """``collapse simulate MODEL --field value ... --json`` runs this config and says so."""
    from model_collapse.experiments.cli import main

    monkeypatch.setenv("COLLAPSE_CACHE", str(tmp_path))
    argv = ["simulate", cfg.model]
    for f in dataclasses.fields(cfg):
        argv += ["--" + f.name.replace("_", "-"), str(getattr(cfg, f.name))]
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(argv + ["--seeds", "64", "--json", "--quiet"]) == 0
    out = json.loads(buf.getvalue())
    assert ex.config_from_dict(type(cfg), out["config"]) == cfg
    expected = ex.run(cfg, 64, progress=False)
    for m, s in expected.metrics.items():
        assert out["metrics"][m]["mean"] == s.mean.tolist()


@pytest.mark.parametrize("cfg", CASES)
def test_memory_estimate_against_xla(cfg):
    """``memory_per_seed`` (what the runner sizes accelerator micro-batches by) within a
    factor of 4 of what XLA's memory analysis says the compiled program holds."""
    fn, _, micro = _compiled(cfg, 1)
    with ex.float64():
        compiled = fn.lower(jax.random.key(0), np.zeros(micro, np.uint32)).compile()
    analysis = compiled.memory_analysis()
    if analysis is None:
        pytest.skip("this backend gives no memory analysis")
    xla = analysis.temp_size_in_bytes + analysis.output_size_in_bytes + analysis.argument_size_in_bytes
    estimate = cfg.memory_per_seed() * micro
    assert xla / 4 <= estimate <= 4 * xla, f"estimate {estimate} B against XLA's {xla} B"
