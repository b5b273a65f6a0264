"""The model interface: registration refuses half a model, the engine runs a new one, no global state."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import model_collapse.experiments as ex
import numpy as np
import pytest
from model_collapse.experiments.models import MODELS, Metric, Transform

from .toy import Toy, ToyConfig


def test_registration_refuses_incomplete_models_and_taken_names(monkeypatch):
    monkeypatch.setattr("model_collapse.experiments.models.MODELS", dict(MODELS))
    from model_collapse.experiments import models
    from model_collapse.experiments.models import Model

    with pytest.raises(TypeError, match="Model subclass"):
        models.register_model(object())

    class Half(Model):  # the engine's hooks, but no theory, laws, figures or examples
        name, config, metrics, regimes, default_sampler = (
            Toy.name,
            ToyConfig,
            Toy.metrics,
            Toy.regimes,
            Toy.default_sampler,
        )
        init, draw, statistics, merge, fit, evaluate = (
            Toy.init,
            Toy.draw,
            Toy.statistics,
            Toy.merge,
            Toy.fit,
            Toy.evaluate,
        )

    with pytest.raises(TypeError, match="abstract"):
        Half()

    class NoMetrics(Toy):
        metrics = ()

    with pytest.raises(TypeError, match="lacks metrics"):
        models.register_model(NoMetrics())
    with pytest.raises(TypeError):  # a metric's skewness is required: no default
        Metric("x", "x", "linear")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="registered twice"):
        models.register_model(type("Again", (type(ex.get_model("linreg")),), {})())
    models.register_model(Toy())
    assert "toy" in models.MODELS and "toy" not in MODELS


def test_a_new_model_runs_every_regime_through_the_engine(monkeypatch):
    """The toy (a mean refit with known variance, 60 lines) under every regime; its replace
    law ``E mu_n^2 = n/M`` holds (z within 5 at 4,096 seeds) and the off-by-one twin fails."""
    monkeypatch.setitem(MODELS, "toy", Toy())
    for regime in ex.get_model("toy").regimes:
        res = ex.run(ToyConfig(regime=regime, generations=4), 256, progress=False)
        assert np.all(np.isfinite(res.metrics["x"].mean))
    res = ex.run(ToyConfig(M=10, generations=4), 4096, seed=1, progress=False)
    n = res.generation
    z = (res.metrics["x"].mean - n / 10) / res.metrics["x"].sem
    assert np.all(np.abs(z) < 5), z
    z_wrong = (res.metrics["x"].mean - (n + 1) / 10) / res.metrics["x"].sem
    assert np.any(np.abs(z_wrong) > 5)


def test_mix_and_augment_differ_as_fresh_and_reused_real_data(monkeypatch):
    """Reusing the same k real samples (augment) leaves their error in every generation:
    for the toy, ``E mu_n^2`` is larger under augment than under mix (fresh samples)."""
    monkeypatch.setitem(MODELS, "toy", Toy())
    mix = ex.run(ToyConfig(M=20, generations=30, regime="mix", real_fraction=0.25), 2048, progress=False)
    aug = ex.run(ToyConfig(M=20, generations=30, regime="augment", real_fraction=0.25), 2048, progress=False)
    diff = aug.metrics["x"].mean[-1] - mix.metrics["x"].mean[-1]
    assert diff > 5 * np.hypot(aug.metrics["x"].sem[-1], mix.metrics["x"].sem[-1])


def test_transforms_act_on_synthetic_batches_only(monkeypatch):
    """A transform that shifts every synthetic sample by +1: generation 1 (real data) is
    untouched, and generation n's mean moves by n - 1 exactly in distribution."""

    class Shift(Transform):
        name = "shift"

        def __call__(self, cfg, key, batch):
            return batch + 1.0

    class Shifted(Toy):
        def transforms(self, cfg):
            return (Shift(),)

        def evaluate(self, cfg, ctx, params):
            return {"x": params}

    monkeypatch.setitem(MODELS, "toy", Shifted())
    res = ex.run(ToyConfig(M=10, generations=4), 2048, progress=False)
    z = (res.metrics["x"].mean - (res.generation - 1)) / res.metrics["x"].sem
    assert np.all(np.abs(z) < 5), z


SCRIPT = r"""
import sys, jax, matplotlib
backend = matplotlib.get_backend()
import model_collapse.experiments as ex, model_collapse.theory
assert "sympy" not in sys.modules, "import loaded SymPy"
import model_collapse.figures
assert not jax.config.jax_enable_x64, "import turned on float64 globally"
assert matplotlib.get_backend() == backend
r = ex.run(ex.LinRegConfig(d=3, T=10, generations=3), 64, progress=False)
assert r.metrics["test_error"].mean.dtype.name == "float64"
assert not jax.config.jax_enable_x64 and jax.numpy.zeros(1).dtype.name == "float32", "run left float64 on"
cfg = ex.LinRegConfig(d=3, T=10, generations=3)
try:
    ex.get_model("linreg").simulate(cfg, jax.random.key(0))
except ex.Float64Disabled as err:
    print("refused:", err)
else:
    raise SystemExit("a float64 config ran in float32")
"""


def test_import_changes_no_global_state_and_float64_is_refused_outside_the_package():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: linreg config asks for float64" in proc.stdout


def test_float64_context_is_restored_after_a_run():
    before = jax.config.jax_enable_x64
    with jax.enable_x64(False):
        ex.run(ex.LinRegConfig(d=3, T=10, generations=3), 64, progress=False)
        assert jnp.zeros(1).dtype == jnp.float32
    assert jax.config.jax_enable_x64 == before
