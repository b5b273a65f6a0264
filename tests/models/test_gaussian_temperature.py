"""The Gaussian model's sampling bias (``--temperature tau``): synthetic samples from ``N(mu_n, tau Sigma_n)``.

What is checked here (the laws themselves: ``tests/laws/test_gaussian_bias_laws.py``):
real samples are never tempered (generation 1, and mix's real rows), the product fast path
and the engine's scan agree in distribution at a temperature, the two samplers agree, an
exact one-step expectation of ``accumulate`` (which has no closed form beyond it), and bad
input exits 2 with one line.
"""

import dataclasses

import jax
import numpy as np
import pytest
from model_collapse.experiments import GaussianConfig, simulate_seeds
from model_collapse.experiments.cli import main
from model_collapse.experiments.laws import LAWS
from model_collapse.experiments.models import get_model
from model_collapse.experiments.models.config import ConfigError
from model_collapse.experiments.models.regimes import simulate
from scipy import stats

ALPHA = 1e-3
KS_CHECKS = 4  # Bonferroni over this file's KS tests (the slow ones)


def _status(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    return code, *capsys.readouterr()


# The registered 1-D configs cut to 20 generations: the programs the untempered laws' default test compiles
# (tests/models/test_gaussian.py); the temperature is traced, so these tests compile nothing new.
MIX = dataclasses.replace(LAWS["gaussian/mix/unbiased/variance/dim1"].config, generations=20)
ACCUMULATE = dataclasses.replace(LAWS["gaussian/accumulate/unbiased/variance/dim1"].config, generations=20)


@pytest.mark.parametrize("value", ["0", "-0.5", "inf"])
def test_non_positive_temperature_exits_2_with_one_line(capsys, value):
    argv = ("simulate", "gaussian", "--generations", "2", "--seeds", "8", "--temperature", value)
    code, out, err = _status(capsys, *argv)
    assert code == 2 and "temperature" in err and err.count("\n") == 1 and out == "", err
    for bad in (0.0, -0.5, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="temperature must be a finite number > 0"):
            GaussianConfig(temperature=bad)


def test_generation_one_fits_real_data_whatever_the_temperature():
    """Bit for bit: generation 1 (real data) does not see tau; generation 2 does (one program: tau is traced)."""
    idx = np.arange(16)
    plain = simulate_seeds(MIX, idx, seed=3)
    cold = simulate_seeds(dataclasses.replace(MIX, temperature=0.5), idx, seed=3)
    np.testing.assert_array_equal(plain["variance"][:, 0], cold["variance"][:, 0])
    assert np.all(plain["variance"][:, 1] != cold["variance"][:, 1])


def test_accumulate_matches_its_one_step_expectation():
    """accumulate at tau = 0.6 (no closed form beyond this): generation 2 against its exact expectation
    ``E tr Sigma_2 / tr Sigma = [(M - 1)(1 + tau) + tau/2]/(2M - 1)`` (unbiased: the pooled scatter of M real
    samples and M from N(mu_1, tau Sigma_1), mu_1 the real sample's mean), and not the untempered one."""
    tau, M, n = 0.6, ACCUMULATE.M, 12_000
    v = simulate_seeds(dataclasses.replace(ACCUMULATE, temperature=tau), np.arange(n), seed=4)["variance"][:, 1]
    sem = v.std() / np.sqrt(n)
    assert abs(v.mean() - ((M - 1) * (1 + tau) + tau / 2) / (2 * M - 1)) < 5 * sem
    assert abs(v.mean() - (2 * M - 1.5) / (2 * M - 1)) > 10 * sem  # the wrong twin: no temperature


@pytest.mark.slow
def test_fast_path_and_engine_agree_at_a_temperature():
    """replace and accumulate at tau = 0.6: the product fast path against the engine's scan (KS at generation 3)."""
    model = get_model("gaussian")
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(5), i))(np.arange(4000))
    other = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    for regime in ("replace", "accumulate"):
        cfg = GaussianConfig(dim=2, M=6, generations=3, regime=regime, temperature=0.6)
        fast = np.asarray(jax.jit(jax.vmap(lambda k, c=cfg: model.simulate(c, k)))(keys)["variance"])
        scan = jax.jit(jax.vmap(lambda k, c=cfg: simulate(model, c, k, fast_path=False)))(other)["variance"]
        assert stats.ks_2samp(fast[:, 2], np.asarray(scan)[:, 2]).pvalue > ALPHA / KS_CHECKS


@pytest.mark.slow
def test_samplers_agree_at_a_temperature():
    """Exact (mean and Wishart scatter) against faithful (raw samples) under mix at tau = 0.7: KS at generation 4."""
    cfg = GaussianConfig(dim=2, M=8, generations=4, regime="mix", real_fraction=0.25, temperature=0.7)
    idx = np.arange(3000)
    exact = simulate_seeds(cfg, idx, seed=1)
    faithful = simulate_seeds(dataclasses.replace(cfg, sampler="faithful"), idx, seed=2)
    untempered = simulate_seeds(dataclasses.replace(cfg, sampler="faithful", temperature=1.0), idx, seed=2)
    assert stats.ks_2samp(exact["variance"][:, 3], faithful["variance"][:, 3]).pvalue > ALPHA / KS_CHECKS
    assert stats.ks_2samp(exact["variance"][:, 3], untempered["variance"][:, 3]).pvalue < ALPHA / KS_CHECKS


def test_theory_follows_the_temperature():
    model = get_model("gaussian")
    cfg = GaussianConfig(dim=1, M=10, generations=5, regime="replace", temperature=0.5)
    curves = model.theory(cfg, np.arange(1, 6))
    np.testing.assert_allclose(curves["variance"], 0.5 ** np.arange(5))
    np.testing.assert_allclose(curves["mean_sq_error"], np.cumsum(0.5 ** np.arange(5)) / 10)
    kinds = model.theory_kinds(dataclasses.replace(cfg, regime="accumulate"))
    assert set(kinds.values()) == {None}  # no tempered law for accumulate: simulation only
    assert model.theory_kinds(cfg)["w2_sq"] == "exact expectation"
