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
  Except under accumulate with a fresh design, the error is a sum of independent
  steps, so every generation is drawn at once and summed (no loop over generations);
  the chi-squares of the Bartlett factor come from an exact Marsaglia-Tsang sampler
  (:func:`gamma`) that draws its proposals in bulk.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ...theory import linreg as theory_linreg

from .config import (
    PRECISIONS,
    ConfigError,
    check_choice,
    check_nonnegative,
    check_positive_int,
    config_dataclass,
)
from ..engine.linalg import cho_solve, cholesky, lstsq, solve_triangular
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
            words = 4 * d * d + 4 * G * d + (G * d * d if self.design == "fresh" else 0)
        else:
            words = 3 * T * d + 2 * d * d + 2 * T + G
            if self.regime == "accumulate-subsample":
                words += G * T * (1 + (d if self.design == "fresh" else 0)) + G * T
        return 8 * words


GAMMA_CANDIDATES = 2  # Marsaglia-Tsang proposals drawn at once per gamma variate


def _gamma_proposals(key, a1, shape, dtype):
    """Marsaglia-Tsang proposals for ``Gamma(a1)``, ``a1 >= 1``: ``(accepted, value)``."""
    d = a1 - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)
    k_x, k_u = jax.random.split(key)
    x = jax.random.normal(k_x, shape, dtype=dtype)
    u = jax.random.uniform(k_u, shape, dtype=dtype)
    v = 1.0 + c * x
    positive = v > 0
    log_v = jnp.log(jnp.where(positive, v, 1.0))
    v3 = jnp.exp(3.0 * log_v)
    accepted = positive & (jnp.log(u) < 0.5 * x * x + d - d * v3 + 3.0 * d * log_v)
    return accepted, d * v3


def gamma(key: jax.Array, a, dtype) -> jax.Array:
    """Exact ``Gamma(a, 1)`` variates, ``a`` an array of shapes ``> 0`` (Marsaglia & Tsang 2000).

    The same law as :func:`jax.random.gamma`, several times cheaper for arrays: every
    variate gets :data:`GAMMA_CANDIDATES` proposals at once (acceptance probability
    0.97 at ``a = 1`` and above 0.999 at ``a >= 45``) and keeps the first accepted one;
    the rare variates with none accepted keep drawing fresh proposals in a
    ``while_loop`` until they have one. The output is the first accepted proposal of
    an i.i.d. stream, so the rejection sampler stays exact. ``a < 1`` uses
    ``Gamma(a + 1) U^(1/a)``.
    """
    a = jnp.asarray(a, dtype)
    shape = a.shape
    boost = a < 1
    a1 = jnp.where(boost, a + 1.0, a)
    k_first, k_more, k_boost = jax.random.split(key, 3)
    accepted, value = _gamma_proposals(k_first, a1, (GAMMA_CANDIDATES,) + shape, dtype)
    out, done = value[-1], accepted[-1]
    for i in range(GAMMA_CANDIDATES - 2, -1, -1):  # the first accepted proposal wins
        out = jnp.where(accepted[i], value[i], out)
        done = done | accepted[i]

    def more(state):
        i, out, done = state
        acc, val = _gamma_proposals(jax.random.fold_in(k_more, i), a1, shape, dtype)
        return i + 1, jnp.where(done, out, val), done | acc

    _, out, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[2]), more, (jnp.zeros((), jnp.uint32), out, done))
    # U in (0, 1]: never zero, so a boosted variate is never exactly zero.
    u = 1.0 - jax.random.uniform(k_boost, shape, dtype=dtype)
    return jnp.where(boost, out * u ** (1.0 / jnp.where(boost, a, 1.0)), out)


def _tril_gather(d: int) -> np.ndarray:
    """Index of each entry of a ``d x d`` lower-triangular matrix in ``[diag, strict lower, 0]``."""
    idx = np.full((d, d), d + d * (d - 1) // 2, np.int32)
    idx[np.diag_indices(d)] = np.arange(d)
    rows, cols = np.tril_indices(d, -1)
    idx[rows, cols] = d + np.arange(rows.size)
    return idx


def bartlett_batch(key: jax.Array, dof: int, d: int, batch: tuple, dtype) -> jax.Array:
    """``batch + (d, d)`` independent Bartlett factors (see :func:`bartlett_factor`), drawn in bulk."""
    k_diag, k_off = jax.random.split(key)
    dofs = dof - jnp.arange(d, dtype=dtype)
    diag = jnp.sqrt(2.0 * gamma(k_diag, jnp.broadcast_to(dofs / 2.0, tuple(batch) + (d,)), dtype))
    off = jax.random.normal(k_off, tuple(batch) + (d * (d - 1) // 2,), dtype=dtype)
    flat = jnp.concatenate([diag, off, jnp.zeros(tuple(batch) + (1,), dtype)], axis=-1)
    return flat[..., _tril_gather(d)]


def bartlett_factor(key: jax.Array, dof: int, d: int, dtype) -> jax.Array:
    """Lower-triangular ``L`` with ``L L^T ~ Wishart(dof, I_d)`` (Bartlett decomposition).

    ``L_jj = sqrt(chi2_{dof - j})`` for ``j = 0..d-1`` and ``L_jk ~ N(0, 1)`` below the
    diagonal, all independent; ``L`` is then the Cholesky factor of the Wishart matrix.
    Only the ``d (d - 1) / 2`` entries below the diagonal are drawn; the chi-squares
    come from the exact Marsaglia-Tsang sampler :func:`gamma`.
    """
    return bartlett_batch(key, dof, d, (), dtype)


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
    gens = jnp.arange(1, cfg.generations + 1)
    if cfg.sampler == "exact":
        return {"test_error": _simulate_exact(cfg, _design_key(cfg, k_design), k_steps, gens)}
    step_keys = jax.random.split(k_steps, cfg.generations)
    if cfg.regime == "accumulate-subsample":
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
        w = cho_solve((cholesky(gram), True), moment)
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
        w = lstsq(X_sel, pool_y[idx])
        return (w, pool_X, pool_y), jnp.sum((w - w_star) ** 2)

    _, errors = jax.lax.scan(step, (w_star, pool_X, pool_y), (step_keys, gens))
    return errors


def _simulate_exact(cfg, k_design, k_steps, gens):
    """``test_error`` per generation from the sufficient statistics' laws.

    With one design for every generation (``fixed``, ``shared``) or a fresh design
    under replace, the error is a sum of independent steps, ``e_n = sum_{i<=n} c_i z_i``
    with ``z_i = sigma L_i^{-T} u_i`` and ``c_i = 1`` (replace) or ``1/i`` (accumulate):
    every generation's normals are drawn at once and combined by a cumulative sum and
    one triangular solve, with no loop over generations. Accumulate with a fresh
    design pools Gram matrices generation after generation (a ``lax.scan``).
    """
    dt, T, d, G = cfg.dtype, cfg.T, cfg.d, cfg.generations
    sigma = jnp.sqrt(jnp.asarray(cfg.sigma2, dt))
    if cfg.design == "fresh" and cfg.regime == "accumulate":
        return _simulate_exact_pooled(cfg, k_steps, gens)
    k_w, k_u = jax.random.split(k_steps)
    u = jax.random.normal(k_u, (G, d), dtype=dt)
    weights = 1.0 / gens.astype(dt) if cfg.regime == "accumulate" else None
    if cfg.design == "fresh":
        L = bartlett_batch(k_w, T, d, (G,), dt)  # (G, d, d)
        z = jax.vmap(lambda Lg, ug: solve_triangular(Lg.T, ug, lower=False))(L, u)
        e = sigma * _weighted_cumsum(z, weights)
    else:
        # (L^{-T} s)^T = s^T L^{-1}: one triangular inverse per seed, then matrix products
        # (XLA's batched triangular solve with many right-hand sides is slow on the CPU).
        L = bartlett_factor(k_design, T, d, dt)
        L_inv = solve_triangular(L, jnp.eye(d, dtype=dt), lower=True)
        e = sigma * _weighted_cumsum(u @ L_inv, weights)
    return jnp.sum(e**2, axis=1)


def _weighted_cumsum(x, weights, max_matrix: int = 256):
    """``out[n] = sum_{i<=n} w_i x[i]`` along axis 0 (``w = 1`` if ``weights is None``).

    Up to ``max_matrix`` generations as one product with a lower-triangular matrix
    (faster than XLA's ``cumsum`` on the CPU for short axes), beyond as a cumulative sum.
    """
    G = x.shape[0]
    if G <= max_matrix:
        C = jnp.tril(jnp.ones((G, G), x.dtype))
        if weights is not None:
            C = C * weights[None, :]
        return C @ x
    if weights is not None:
        x = x * weights[:, None]
    return jnp.cumsum(x, axis=0)


def _simulate_exact_pooled(cfg, k_steps, gens):
    dt, T, d = cfg.dtype, cfg.T, cfg.d
    sigma = jnp.sqrt(jnp.asarray(cfg.sigma2, dt))
    step_keys = jax.random.split(k_steps, cfg.generations)

    def step(carry, inputs):
        e_prev, pooled = carry
        key, n = inputs
        k_w, k_u = jax.random.split(key)
        L = bartlett_factor(k_w, T, d, dt)
        u = jax.random.normal(k_u, (d,), dtype=dt)
        # Error coordinates: X^T y - X^T X w* = A e_{n-1} + sigma L u, pooled over generations.
        gram = L @ L.T
        (g, b), pooled = pool_statistics("accumulate", pooled, (gram, gram @ e_prev + sigma * (L @ u)))
        e = cho_solve((cholesky(g), True), b)
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
