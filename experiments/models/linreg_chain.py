"""Linear regression's samplers below the engine: designs, Wishart factors and the exact fast path.

The pieces of :mod:`model_collapse.experiments.models.linreg` that draw: the key of the
one shared design, the row slices of a regime, a Gram factor of ``Wishart(rows, I_d)``,
and :func:`exact_steps`, the exact sampler's block-summed chain of independent steps.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..engine.linalg import solve_triangular
from .base import Rows
from .regimes import scan_blocks
from .samplers import bartlett_batch, bartlett_factor

__all__ = ["GEN_BLOCK", "exact_steps"]

GEN_BLOCK = 64  # generations the exact fast path draws at once (fixed: trajectories are prefixes)


def _design_key(cfg: Any, key: jax.Array) -> jax.Array:
    return jax.random.key(cfg.design_seed) if cfg.design == "shared" else key


def _sigma(cfg):
    return jnp.sqrt(jnp.asarray(cfg.sigma2, cfg.dtype))


def _parts(cfg, T: int) -> tuple[Rows, ...]:
    """The row slices the engine draws separately under ``cfg``'s regime."""
    if cfg.regime in ("mix", "augment"):
        k = int(round(cfg.real_fraction * T))
        return tuple(r for r in (Rows(0, k), Rows(k, T)) if r.size)
    return (Rows(0, T),)


def _wishart_factor(key, rows: int, d: int, dtype):
    """A matrix ``F`` with ``F F^T ~ Wishart(rows, I_d)``: the Bartlett factor, or ``Z^T`` when ``rows < d``."""
    if rows >= d:
        return bartlett_factor(key, rows, d, dtype)
    return jax.random.normal(key, (rows, d), dtype=dtype).T


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
