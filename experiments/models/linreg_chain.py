"""Linear regression's samplers below the engine: options, designs, Wishart factors, the exact fast path.

The pieces of :mod:`model_collapse.experiments.models.linreg` that draw: the covariance
spectrum and the target, the generators' rows and noise, the downstream model, the key of
the one shared design, the row slices of a regime, a Gram factor of ``Wishart(rows, I_d)``,
and :func:`exact_steps`, the exact sampler's block-summed chain of independent steps.

Covariance. Inputs are ``N(0, Sigma)``; without loss of generality ``Sigma`` is diagonal
(a rotation of the inputs and of ``w*`` changes no error), with eigenvalues ``1``
(``isotropic``) or ``j^-b`` normalised to trace ``d`` (``power``, ``b = decay``). A design
is ``X = Z Sigma^{1/2}`` with ``Z`` standard Gaussian, so ``X^T X = Sigma^{1/2} Z^T Z
Sigma^{1/2}``; the exact sampler scales the Bartlett factor of ``Z^T Z`` the same way.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine.linalg import solve_triangular
from .base import Rows
from .config import ConfigError, check_nonnegative
from .regimes import scan_blocks
from .samplers import bartlett_batch, bartlett_factor, wishart_factor

__all__ = [
    "GEN_BLOCK",
    "SPECTRA",
    "check_options",
    "downstream_operator",
    "eigenvalues",
    "exact_steps",
    "extended",
    "gen_noise",
    "gen_rows",
    "target",
]

GEN_BLOCK = 64  # generations the exact fast path draws at once (fixed: trajectories are prefixes)


def _design_key(cfg: Any, key: jax.Array) -> jax.Array:
    return jax.random.key(cfg.design_seed) if cfg.design == "shared" else key


SPECTRA = ("isotropic", "power")


def gen_rows(cfg: Any) -> int:
    """Rows of each generation's fit: ``T0`` for a downstream config that sets it, else ``T``."""
    return cfg.T0 if cfg.downstream and cfg.T0 is not None else cfg.T


def gen_noise(cfg: Any) -> Any:
    """Label noise variance of each generation's fit: ``sigma0_2`` where set, else ``sigma2``."""
    return cfg.sigma0_2 if cfg.downstream and cfg.sigma0_2 is not None else cfg.sigma2


def extended(cfg: Any) -> bool:
    """Whether ``cfg`` uses a ridge, a downstream model or fewer rows than features (none of the OLS laws)."""
    return cfg.ridge0 > 0 or cfg.downstream or gen_rows(cfg) <= cfg.d + 1


def eigenvalues(cfg: Any) -> np.ndarray:
    """``Sigma``'s diagonal (float64): ones, or ``j^-decay`` normalised to trace ``d``."""
    if cfg.spectrum == "isotropic":
        return np.ones(cfg.d)
    lam = np.arange(1, cfg.d + 1, dtype=np.float64) ** -float(cfg.decay)
    return lam * (cfg.d / lam.sum())


def target(cfg: Any, key: jax.Array) -> jax.Array:
    """``w*``: ``N(0, I/d)`` (``target_decay`` unset), else ``w*_j`` proportional to ``j^(-a/2)``, ``||w*|| = 1``."""
    if cfg.target_decay is None:
        return jax.random.normal(key, (cfg.d,), dtype=cfg.dtype) / jnp.sqrt(jnp.asarray(cfg.d, cfg.dtype))
    w = np.arange(1, cfg.d + 1, dtype=np.float64) ** (-float(cfg.target_decay) / 2)
    return jnp.asarray(w / np.linalg.norm(w), cfg.dtype)


def downstream_operator(cfg: Any, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(R, v)`` of the downstream ridge fit on ``T`` rows of a design drawn from ``key``.

    With ``G = X^T X`` and ``M = (G + T lambda I)^-1``, the downstream fit on labels
    ``X w + eps`` is ``M X^T y = R w + M X^T eps``, ``R = M G``; its error averaged over
    its own label noise is ``(R w - w*)^T Sigma (R w - w*) + v``, ``v = sigma2 tr(Sigma M G M)``.
    """
    d, T, dt = cfg.d, cfg.T, cfg.dtype
    root = jnp.asarray(np.sqrt(eigenvalues(cfg)), dt)
    F = root[:, None] * wishart_factor(key, T, d, dt)
    G = F @ F.T
    M = jnp.linalg.inv(G + T * cfg.ridge * jnp.eye(d, dtype=dt))
    R = M @ G
    v = jnp.asarray(cfg.sigma2, dt) * jnp.sum(root**2 * jnp.diag(M @ G @ M))
    return R, v


def check_options(cfg: Any) -> None:
    """The spectrum, target, ridge and downstream options of ``cfg``: one-line :class:`ConfigError` if bad."""
    if not (np.isfinite(cfg.decay) and cfg.decay > 0):
        raise ConfigError(f"decay must be a finite number > 0, got {cfg.decay!r}")
    if cfg.target_decay is not None and not (np.isfinite(cfg.target_decay) and cfg.target_decay > 0):
        raise ConfigError(f"target_decay must be a finite number > 0, got {cfg.target_decay!r}")
    check_nonnegative("ridge", cfg.ridge)
    check_nonnegative("ridge0", cfg.ridge0)
    if cfg.sigma0_2 is not None:
        check_nonnegative("sigma0_2", cfg.sigma0_2)
    if cfg.T0 is not None and cfg.T0 < 1:
        raise ConfigError(f"T0 must be an integer >= 1, got {cfg.T0!r}")
    if not cfg.downstream:
        for name in ("T0", "sigma0_2"):
            if getattr(cfg, name) is not None:
                raise ConfigError(f"{name} sets the generators of a downstream model; add --downstream")
        if cfg.ridge > 0:
            raise ConfigError("ridge is the downstream model's; add --downstream, or use --ridge0 for every fit")
    if (cfg.spectrum != "isotropic" or cfg.target_decay is not None) and (
        cfg.regime == "accumulate-subsample" or cfg.real_resample
    ):
        raise ConfigError("a power spectrum or target applies to the pooled regimes, not to subsampling")
    if extended(cfg) and cfg.regime != "replace":
        raise ConfigError("ridge, a downstream model and d >= T rows apply to --regime replace only")
    rows, name = gen_rows(cfg), "T0" if cfg.downstream and cfg.T0 is not None else "T"
    if rows <= cfg.d + 1 and cfg.ridge0 == 0 and not (rows < cfg.d and gen_noise(cfg) == 0):
        raise ConfigError(
            f"{name} must exceed d + 1 (got {name}={rows}, d={cfg.d}) for OLS fits: the expected test error is "
            "infinite (fewer rows than features: a noiseless minimum-norm fit, or --ridge0 > 0)"
        )
    if cfg.downstream and cfg.T <= cfg.d + 1 and cfg.ridge == 0:
        raise ConfigError(
            f"T must exceed d + 1 for an OLS downstream model (got T={cfg.T}, d={cfg.d}); or set --ridge > 0"
        )


def _sigma(cfg):
    """The generators' label noise standard deviation."""
    return jnp.sqrt(jnp.asarray(gen_noise(cfg), cfg.dtype))


def _parts(cfg, T: int) -> tuple[Rows, ...]:
    """The row slices the engine draws separately under ``cfg``'s regime."""
    if cfg.regime in ("mix", "augment"):
        k = int(round(cfg.real_fraction * T))
        return tuple(r for r in (Rows(0, k), Rows(k, T)) if r.size)
    return (Rows(0, T),)


def exact_steps(cfg: Any, key: jax.Array) -> jax.Array:
    """``test_error`` per generation as a sum of independent steps, a block of generations at a time.

    With one design for every generation (``fixed``, ``shared``) or a fresh design
    under replace, ``e_n = sum_{i<=n} c_i z_i`` with ``z_i = sigma L_i^{-T} u_i`` and
    ``c_i = 1`` (replace) or ``1/i`` (accumulate). Block ``b`` of :data:`GEN_BLOCK`
    generations draws its normals (and fresh designs) with ``fold_in(key, b)`` in arrays
    of a fixed shape, and sums them with one lower-triangular matrix product; blocks are
    joined by a scan. Nothing depends on the number of generations but the number of
    blocks, so a trajectory's first generations are the same however many are simulated.
    """
    dt, T, d, G = cfg.dtype, cfg.T, cfg.d, cfg.generations
    k_truth, k_design, k_steps = jax.random.split(key, 3)
    sigma = _sigma(cfg)
    B = GEN_BLOCK
    blocks = -(-G // B)
    k_w, k_u = jax.random.split(k_steps)
    tril = jnp.tril(jnp.ones((B, B), dt))
    if cfg.design != "fresh":
        # (L^{-T} s)^T = s^T L^{-1}: one triangular inverse per seed, then matrix products
        # (XLA's batched triangular solve with many right-hand sides is slow on the CPU).
        L = bartlett_factor(_design_key(cfg, k_design), T, d, dt)
        L_inv = solve_triangular(L, jnp.eye(d, dtype=dt), lower=True)

    def block(carry, b):
        u = jax.random.normal(jax.random.fold_in(k_u, b), (B, d), dtype=dt)
        if cfg.design == "fresh":
            Ls = bartlett_batch(jax.random.fold_in(k_w, b), T, d, (B,), dt)
            z = jax.vmap(lambda Lg, ug: solve_triangular(Lg.T, ug, lower=False))(Ls, u)
        else:
            z = u @ L_inv
        if cfg.regime == "accumulate":
            z = z / (b * B + jnp.arange(1, B + 1, dtype=dt))[:, None]
        e = carry + tril @ z
        return e[-1], jnp.sum((sigma * e) ** 2, axis=1)

    _, errors = scan_blocks(block, jnp.zeros((d,), dt), blocks)
    return errors.reshape(blocks * B)[:G]
