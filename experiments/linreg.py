"""Linear regression refit on its own labels (Gerstgrasser et al. 2024; Dohmatob et al. 2024).

One seed's trajectory is a pure function of a config and a PRNG key:
:func:`simulate` ``(cfg, key) -> {"test_error": (generations,)}``, a ``lax.scan`` over
generations, jitted and vmapped over seeds by :mod:`experiments.runner`.

Generation 1 is the OLS fit on real labels ``y = X w* + eps``; generation ``n >= 2``
fits labels ``X_n w_{n-1} + eps_n``. The metric ``test_error`` is ``||w_n - w*||^2``,
the noise-free test error for isotropic test inputs.

Designs: ``fixed`` (one ``X`` per seed, reused every generation), ``fresh`` (a new
``X`` every generation), ``shared`` (one ``X`` for *all* seeds, drawn from
``design_seed``: the conditional law given ``X``).

Samplers:

* ``faithful`` draws the raw rows and labels, as the papers' code does; accumulate
  pools ``X^T X`` and ``X^T y`` (sufficient statistics) instead of refitting on a
  growing stacked matrix, so its cost per generation is constant.
* ``exact`` draws the sufficient statistics from their laws and tracks the error
  ``e_n = w_n - w*`` directly: ``X^T X = L L^T`` with ``L`` from the Bartlett
  decomposition of ``Wishart(T, I_d)``, and ``X^T eps = sigma L u``, ``u ~ N(0, I_d)``,
  so ``(X^T X)^{-1} X^T eps = sigma L^{-T} u``. The same law, no ``T``-sized arrays.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve, solve_triangular

from theory import linreg as theory_linreg

from .config import (
    PRECISIONS,
    ConfigError,
    check_choice,
    check_nonnegative,
    check_positive_int,
    config_dataclass,
)
from .regimes import pool_statistics, subsample_indices, write_batch

__all__ = [
    "LinRegConfig",
    "simulate",
    "theory",
    "bartlett_factor",
    "shared_design_trace_inverse",
    "MonteCarloVarianceWarning",
    "METRICS",
]

LINREG_REGIMES = ("replace", "accumulate", "accumulate-subsample")
DESIGNS = ("fixed", "fresh", "shared")
SAMPLERS = ("faithful", "exact")
METRICS = ("test_error",)


class MonteCarloVarianceWarning(UserWarning):
    """The Monte Carlo estimator of the mean has infinite variance for this config."""


@config_dataclass
class LinRegConfig:
    """Linear regression under replace, accumulate or accumulate-subsample.

    Attributes:
        d: features. T: rows per generation (``T > d + 1``).
        sigma2: label noise variance (``>= 0``).
        generations: number of fits, generation 1 on real labels.
        regime: ``replace``, ``accumulate`` or ``accumulate-subsample``.
        design: ``fixed``, ``fresh`` or ``shared`` (see module docstring).
        sampler: ``faithful`` or ``exact`` (no raw rows: not for subsample).
        precision: ``float64`` (default) or ``float32``.
        design_seed: the seed of the one design used by ``design="shared"``.
    """

    d: int = 32
    T: int = 100
    sigma2: float = 1.0
    generations: int = 50
    regime: str = "replace"
    design: str = "fixed"
    sampler: str = "faithful"
    precision: str = "float64"
    design_seed: int = 0

    model: ClassVar[str] = "linreg"

    def __post_init__(self):
        check_positive_int("d", self.d)
        check_positive_int("T", self.T)
        check_nonnegative("sigma2", self.sigma2)
        check_positive_int("generations", self.generations)
        check_choice("regime", self.regime, LINREG_REGIMES)
        check_choice("design", self.design, DESIGNS)
        check_choice("sampler", self.sampler, SAMPLERS)
        check_choice("precision", self.precision, PRECISIONS)
        check_positive_int("design_seed", self.design_seed, minimum=0)
        if self.T <= self.d + 1:
            raise ConfigError(
                f"T must exceed d + 1 (got T={self.T}, d={self.d}): the expected test error "
                "sigma2 d/(T-d-1) is infinite"
            )
        if self.sampler == "exact" and self.regime == "accumulate-subsample":
            raise ConfigError("the exact sampler draws no raw rows to subsample; use --sampler faithful")
        if self.T <= self.d + 3 and self.design != "shared":  # given one design, the error is Gaussian
            warnings.warn(
                f"T={self.T} <= d+3={self.d + 3}: the test error has infinite variance, so its "
                "Monte Carlo mean converges slowly and standard errors mean nothing",
                MonteCarloVarianceWarning,
                stacklevel=3,
            )

    @property
    def dtype(self):
        return jnp.float64 if self.precision == "float64" else jnp.float32

    def memory_per_seed(self) -> int:
        """Bytes one seed's simulation holds at once (an estimate for chunking)."""
        d, T, G = self.d, self.T, self.generations
        if self.sampler == "exact":
            words = 4 * d * d + G
        else:
            words = 3 * T * d + 2 * d * d + 2 * T + G
            if self.regime == "accumulate-subsample":
                words += G * T * (1 + (d if self.design == "fresh" else 0)) + G * T
        return 8 * words


def bartlett_factor(key: jax.Array, dof: int, d: int, dtype) -> jax.Array:
    """Lower-triangular ``L`` with ``L L^T ~ Wishart(dof, I_d)`` (Bartlett decomposition).

    ``L_jj = sqrt(chi2_{dof - j})`` for ``j = 0..d-1`` and ``L_jk ~ N(0, 1)`` below the
    diagonal, all independent; ``L`` is then the Cholesky factor of the Wishart matrix.
    """
    k_diag, k_off = jax.random.split(key)
    dofs = dof - jnp.arange(d, dtype=dtype)
    diag = jnp.sqrt(2.0 * jax.random.gamma(k_diag, dofs / 2.0, dtype=dtype))
    off = jnp.tril(jax.random.normal(k_off, (d, d), dtype=dtype), -1)
    return off + jnp.diag(diag)


def _design_key(cfg: LinRegConfig, key: jax.Array) -> jax.Array:
    return jax.random.key(cfg.design_seed) if cfg.design == "shared" else key


def simulate(cfg: LinRegConfig, key: jax.Array) -> dict[str, jax.Array]:
    """One seed's trajectory of ``test_error = ||w_n - w*||^2``, generations ``1..G``.

    Args:
        cfg: the config (static).
        key: this seed's PRNG key.

    Returns:
        ``{"test_error": array of shape (cfg.generations,)}`` in ``cfg.dtype``.
    """
    k_truth, k_design, k_steps = jax.random.split(key, 3)
    step_keys = jax.random.split(k_steps, cfg.generations)
    gens = jnp.arange(1, cfg.generations + 1)
    if cfg.sampler == "exact":
        errors = _simulate_exact(cfg, _design_key(cfg, k_design), step_keys, gens)
    elif cfg.regime == "accumulate-subsample":
        errors = _simulate_subsample(cfg, k_truth, _design_key(cfg, k_design), step_keys, gens)
    else:
        errors = _simulate_faithful(cfg, k_truth, _design_key(cfg, k_design), step_keys, gens)
    return {"test_error": errors}


def _truth(cfg, k_truth):
    dt = cfg.dtype
    return jax.random.normal(k_truth, (cfg.d,), dtype=dt) / jnp.sqrt(jnp.asarray(cfg.d, dt))


def _labels(cfg, key, X, w):
    sigma = jnp.sqrt(jnp.asarray(cfg.sigma2, cfg.dtype))
    return X @ w + sigma * jax.random.normal(key, (X.shape[0],), dtype=cfg.dtype)


def _simulate_faithful(cfg, k_truth, k_design, step_keys, gens):
    dt, T, d = cfg.dtype, cfg.T, cfg.d
    w_star = _truth(cfg, k_truth)
    fixed_X = jax.random.normal(k_design, (T, d), dtype=dt)
    zero_stats = (jnp.zeros((d, d), dt), jnp.zeros((d,), dt))

    def step(carry, inputs):
        w_prev, pooled = carry
        key, n = inputs
        k_x, k_eps = jax.random.split(key)
        X = jax.random.normal(k_x, (T, d), dtype=dt) if cfg.design == "fresh" else fixed_X
        y = _labels(cfg, k_eps, X, w_prev)
        (gram, moment), pooled = pool_statistics(cfg.regime, pooled, (X.T @ X, X.T @ y))
        w = cho_solve((jnp.linalg.cholesky(gram), True), moment)
        return (w, pooled), jnp.sum((w - w_star) ** 2)

    _, errors = jax.lax.scan(step, (w_star, zero_stats), (step_keys, gens))
    return errors


def _simulate_subsample(cfg, k_truth, k_design, step_keys, gens):
    dt, T, d, G = cfg.dtype, cfg.T, cfg.d, cfg.generations
    w_star = _truth(cfg, k_truth)
    fixed_X = jax.random.normal(k_design, (T, d), dtype=dt)
    fresh = cfg.design == "fresh"
    capacity = G * T
    pool_X = jnp.zeros((capacity if fresh else 0, d), dt)
    pool_y = jnp.zeros((capacity,), dt)

    def step(carry, inputs):
        w_prev, pool_X, pool_y = carry
        key, n = inputs
        k_x, k_eps, k_sub = jax.random.split(key, 3)
        X = jax.random.normal(k_x, (T, d), dtype=dt) if fresh else fixed_X
        y = _labels(cfg, k_eps, X, w_prev)
        pool_y = write_batch(pool_y, y, n)
        if fresh:
            pool_X = write_batch(pool_X, X, n)
        idx = subsample_indices(k_sub, n * T, capacity, T)
        X_sel = pool_X[idx] if fresh else fixed_X[idx % T]
        # Rows of a fixed design can repeat in the subsample: least squares with the
        # minimum-norm solution stays defined if fewer than d distinct rows are drawn.
        w = jnp.linalg.lstsq(X_sel, pool_y[idx])[0]
        return (w, pool_X, pool_y), jnp.sum((w - w_star) ** 2)

    _, errors = jax.lax.scan(step, (w_star, pool_X, pool_y), (step_keys, gens))
    return errors


def _simulate_exact(cfg, k_design, step_keys, gens):
    dt, T, d = cfg.dtype, cfg.T, cfg.d
    sigma = jnp.sqrt(jnp.asarray(cfg.sigma2, dt))
    L_fixed = bartlett_factor(k_design, T, d, dt)

    def step(carry, inputs):
        e_prev, pooled = carry
        key, n = inputs
        k_w, k_u = jax.random.split(key)
        L = bartlett_factor(k_w, T, d, dt) if cfg.design == "fresh" else L_fixed
        u = jax.random.normal(k_u, (d,), dtype=dt)
        if cfg.design == "fresh" and cfg.regime == "accumulate":
            # Error coordinates: X^T y - X^T X w* = A e_{n-1} + sigma L u, pooled over generations.
            gram = L @ L.T
            (g, b), pooled = pool_statistics("accumulate", pooled, (gram, gram @ e_prev + sigma * (L @ u)))
            e = cho_solve((jnp.linalg.cholesky(g), True), b)
        else:
            z = sigma * solve_triangular(L.T, u, lower=False)  # (X^T X)^{-1} X^T eps
            e = e_prev + (z / n if cfg.regime == "accumulate" else z)
        return (e, pooled), jnp.sum(e**2)

    zero = (jnp.zeros((d, d), dt), jnp.zeros((d,), dt))
    _, errors = jax.lax.scan(step, (jnp.zeros((d,), dt), zero), (step_keys, gens))
    return errors


def shared_design_trace_inverse(cfg: LinRegConfig) -> float:
    """``tr (X^T X)^{-1}`` of the one design that ``design="shared"`` uses, as the sampler draws it."""
    if cfg.design != "shared":
        raise ConfigError("only design='shared' has one design for every seed")
    key = _design_key(cfg, None)
    if cfg.sampler == "exact":
        L = bartlett_factor(key, cfg.T, cfg.d, cfg.dtype)
        gram = L @ L.T
    else:
        X = jax.random.normal(key, (cfg.T, cfg.d), dtype=cfg.dtype)
        gram = X.T @ X
    return float(jnp.trace(jnp.linalg.inv(gram.astype(jnp.float64))))


def theory(cfg: LinRegConfig, generations, convention: str = "fit") -> dict:
    """The predicted ``test_error`` curve for ``cfg`` (``None`` where no closed form exists).

    * replace, fixed or fresh design: ``sigma2 d n/(T-d-1)`` (a fresh design leaves the
      steps ``z_n`` independent with the same mean square, so the law is unchanged);
    * accumulate, fixed design: ``sigma2 d/(T-d-1) sum_{i<=n} 1/i^2``;
    * shared design: the conditional law given that ``X``;
    * accumulate with a fresh design, accumulate-subsample: no closed form (``None``).
    """
    if cfg.regime == "accumulate-subsample" or (cfg.regime == "accumulate" and cfg.design == "fresh"):
        return {"test_error": None}
    if cfg.design == "shared":
        tr = shared_design_trace_inverse(cfg)
        curve = theory_linreg.conditional_test_error(generations, cfg.sigma2, tr, cfg.regime, convention)
    else:
        curve = theory_linreg.expected_test_error(generations, cfg.d, cfg.T, cfg.sigma2, cfg.regime, convention)
    return {"test_error": curve}
