"""The regression model's spectra, ridge, downstream and over-parameterised options.

Bad input exits with one line; an OLS chain's Sigma-norm error is the isotropic chain's, path by
path (the invariance that :func:`model_collapse.theory.linreg_ridge.derive_sigma_invariance`
derives), while a ridge chain's is not; the hooks run eagerly (one seed, a few generations),
so nothing here compiles a whole program.
"""

import dataclasses
import re

import jax
import numpy as np
import pytest
from model_collapse.experiments.models import get_model
from model_collapse.experiments.models.base import Rows
from model_collapse.experiments.models.config import ConfigError
from model_collapse.experiments.models.linreg import LinRegConfig
from model_collapse.experiments.models.linreg_chain import eigenvalues


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ridge0": -1.0}, "ridge0 must be a finite number >= 0"),
        ({"downstream": True, "ridge": -0.5}, "ridge must be a finite number >= 0"),
        ({"spectrum": "power", "decay": 0.0}, "decay must be a finite number > 0"),
        ({"spectrum": "power", "decay": -1.0}, "decay must be a finite number > 0"),
        ({"target_decay": 0.0}, "target_decay must be a finite number > 0"),
        ({"downstream": True, "T0": 9}, "T0 must exceed d + 1"),
        ({"T": 9}, "T must exceed d + 1"),
        ({"T": 6, "sigma2": 1.0}, "T must exceed d + 1"),
        ({"T0": 20}, "add --downstream"),
        ({"ridge": 0.1}, "add --downstream"),
        ({"ridge0": 0.1, "regime": "accumulate"}, "replace only"),
        ({"spectrum": "laplace"}, "unknown spectrum"),
    ],
)
def test_bad_options_raise_one_line(fields, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        LinRegConfig(**{"d": 8, "T": 30, **fields})
    assert "\n" not in str(err.value)


def test_power_spectrum_has_trace_d_and_decays():
    lam = eigenvalues(LinRegConfig(d=10, T=30, spectrum="power", decay=1.5))
    assert np.isclose(lam.sum(), 10.0)
    assert np.allclose(lam[1:] / lam[:-1], (np.arange(2, 11) / np.arange(1, 10)) ** -1.5)


def _chain(cfg: LinRegConfig, key, generations: int = 3, norms: bool = False) -> np.ndarray:
    """One seed's Sigma-norm errors (or ``||w_n||^2``) through the engine's hooks, eagerly (replace)."""
    model = get_model("linreg")
    ctx, params, k_steps = model.init(cfg, key)
    rows = Rows(0, model.batch_size(cfg))
    out = []
    for n in range(generations):
        stats = model.draw_statistics(cfg, ctx, jax.random.fold_in(k_steps, n), params, rows)
        params = model.fit(cfg, ctx, stats)
        out.append(float(jax.numpy.sum(params**2)) if norms else float(model.evaluate(cfg, ctx, params)["test_error"]))
    return np.array(out)


@pytest.mark.parametrize("sampler", [pytest.param("faithful", marks=pytest.mark.slow), "exact"])
def test_ols_error_is_invariant_to_sigma_path_by_path(sampler):
    iso = LinRegConfig(d=4, T=12, generations=3, sampler=sampler)
    power = dataclasses.replace(iso, spectrum="power", decay=2.0)
    key = jax.random.key(3)
    assert np.allclose(_chain(iso, key), _chain(power, key), rtol=1e-9)
    ridge_iso = dataclasses.replace(iso, ridge0=0.5)
    ridge_power = dataclasses.replace(power, ridge0=0.5)
    assert not np.allclose(_chain(ridge_iso, key), _chain(ridge_power, key), rtol=1e-3)


def test_min_norm_fit_projects_the_previous_fit():
    cfg = LinRegConfig(d=8, T=3, sigma2=0.0, design="fresh", generations=2)
    norms = _chain(cfg, jax.random.key(0), 4, norms=True)
    _, w_star, _ = get_model("linreg").init(cfg, jax.random.key(0))
    norms = np.concatenate([[float(np.sum(np.asarray(w_star) ** 2))], norms])
    assert np.all(np.diff(norms) <= 1e-12) and norms[-1] > 0  # w_n = P_n w_{n-1}: a projection shrinks


@pytest.mark.slow
def test_downstream_identity_at_zero_generations_matches_its_operator():
    """With --downstream, the metric of w = w* is the downstream model's clean error ``bias + v``."""
    cfg = LinRegConfig(d=6, T=10, downstream=True, ridge=0.3, T0=20, spectrum="power", decay=1.0)
    model = get_model("linreg")
    ctx, w_star, _ = model.init(cfg, jax.random.key(1))
    R, v = ctx[2]["down"]
    got = float(model.evaluate(cfg, ctx, w_star)["test_error"])
    diff = np.asarray(R @ w_star - w_star)
    assert np.isclose(got, float(np.sum(eigenvalues(cfg) * diff**2) + v), rtol=1e-12)
    assert model.theory_kinds(cfg)["test_error"] == "deterministic equivalent"
