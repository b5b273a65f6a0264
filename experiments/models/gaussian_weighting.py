"""The Gaussian with fresh real samples weighted against synthetic ones (He, Xu & Cheng 2025).

Under ``--regime mix --real-weight w`` generation ``t`` draws ``n = real_fraction * M`` fresh
samples from the truth and ``m = M - n`` from generation ``t - 1``'s fit (generation 1: both
parts from the truth), and fits the convex combinations of the two parts' estimates, as the
paper's estimator (and the authors' code) does:

``mu_t = w xbar_real + (1 - w) xbar_syn``, ``Sigma_t = w S_real/c_n + (1 - w) S_syn/c_m``

(``c = N - 1`` unbiased, ``N`` MLE). ``w = n/M`` is the pooled mean of ``mix`` without a weight
(the paper's naive weight ``k/(1 + k)``, ``k = n/m``); its covariance differs from the pooled one
by the between-parts term. Both parts are drawn in the fit's whitened coordinates with the
model's sampler (exact: mean and Wishart scatter; faithful: raw samples), one generation per
step of a ``lax.scan``; generation ``t``'s key is ``split(key, G)[t - 1]`` (independent of ``G``).
The laws are in :mod:`model_collapse.theory.weighting`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ..engine.linalg import cholesky
from .config import ConfigError
from .gaussian_sampling import _divisor, _metrics_batch, _truth, _whitened_batch

__all__ = ["check_weighting", "simulator"]


def check_weighting(cfg: Any) -> None:
    """Validate ``real_weight`` (a :class:`ConfigError` with one line on bad input)."""
    from .config import check_fraction

    w = cfg.real_weight
    if w is None:
        return
    check_fraction("real_weight", w)
    if cfg.regime != "mix":
        raise ConfigError(f"real_weight weighs real samples against synthetic ones: use --regime mix, not {cfg.regime}")
    if cfg.real_resample:
        raise ConfigError("real_weight and real_resample do not combine (mix draws fresh real samples)")
    n = int(round(cfg.real_fraction * cfg.M))
    m = cfg.M - n
    if min(n, m) <= cfg.dim:
        raise ConfigError(
            f"real_weight fits each part on its own: both the {n} real and the {m} synthetic samples per generation "
            f"must exceed dim={cfg.dim} (choose real_fraction and M)"
        )
    if getattr(cfg, "temperature", 1.0) != 1.0 or getattr(cfg, "curate", 1) != 1:
        raise ConfigError("real_weight runs with plain sampling: use --temperature 1 and --curate 1")


def _part(cfg, key, size: int, mu, L):
    """One part's estimates: mean and covariance of ``size`` samples from ``N(mu, L L^T)``."""
    zbar, S = _whitened_batch(cfg, key, size)
    c = jnp.asarray(_divisor(cfg, size), cfg.dtype)
    return mu + L @ zbar, L @ S @ L.T / c


def simulator(cfg: Any) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """``key -> {metric: (G,)}`` for one seed of the weighted Gaussian (every metric of the model)."""
    dt, dim = cfg.dtype, cfg.dim
    n = int(round(cfg.real_fraction * cfg.M))
    m = cfg.M - n

    def simulate(key: jax.Array) -> dict[str, jax.Array]:
        mu0, L0 = _truth(cfg)
        w = jnp.asarray(cfg.real_weight, dt)
        log_sigma2 = jnp.log(jnp.asarray(cfg.sigma2, dt))

        def step(carry, key_t):
            mu, L = carry
            k_real, k_syn = jax.random.split(key_t)
            mean_r, cov_r = _part(cfg, k_real, n, mu0, L0)
            mean_s, cov_s = _part(cfg, k_syn, m, mu, L)
            mu_new = w * mean_r + (1 - w) * mean_s
            cov = w * cov_r + (1 - w) * cov_s
            L_new = cholesky(0.5 * (cov + cov.T))
            log_det = 2.0 * jnp.sum(jnp.log(jnp.diag(L_new))) - dim * log_sigma2
            out = _metrics_batch(cfg, mu_new[None], L_new[None], log_det[None])
            return (mu_new, L_new), {k: v[0] for k, v in out.items()}

        keys = jax.random.split(key, cfg.generations)
        _, out = jax.lax.scan(step, (mu0, L0), keys)
        return out

    return simulate


_LAWS = ("mean_sq_error", "variance")  # the metrics with an exact law (theory.weighting)


def theory_kinds(cfg: Any) -> dict[str, str | None]:
    """What :func:`theory` gives per metric: exact expectations of ``mean_sq_error`` and ``variance``."""
    from .gaussian import METRICS

    return {metric: "exact expectation" if metric in _LAWS else None for metric in METRICS}


def theory(cfg: Any, n: Any) -> dict[str, Any]:
    """The weighted Gaussian's exact curves at generations ``n`` (:mod:`model_collapse.theory.weighting`)."""
    import numpy as np

    from ...theory import weighting as tw
    from .gaussian import METRICS

    k = int(round(cfg.real_fraction * cfg.M))
    args = (cfg.real_weight, k, cfg.M - k, cfg.sigma2, cfg.dim, cfg.estimator)
    curves = {"mean_sq_error": tw.gaussian_mean_error(n, *args), "variance": tw.gaussian_variance(n, *args)}
    return {metric: np.asarray(curves[metric], np.float64) if metric in curves else None for metric in METRICS}
