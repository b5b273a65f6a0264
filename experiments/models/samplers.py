"""Exact samplers shared by the models: gamma variates and Bartlett factors of Wishart matrices."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

__all__ = ["gamma", "bartlett_batch", "bartlett_factor", "GAMMA_CANDIDATES"]

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


def gamma(key: jax.Array, a: jax.Array | float, dtype: DTypeLike) -> jax.Array:
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


def bartlett_batch(key: jax.Array, dof: int, d: int, batch: tuple[int, ...], dtype: DTypeLike) -> jax.Array:
    """``batch + (d, d)`` independent Bartlett factors (see :func:`bartlett_factor`), drawn in bulk."""
    k_diag, k_off = jax.random.split(key)
    dofs = dof - jnp.arange(d, dtype=dtype)
    diag = jnp.sqrt(2.0 * gamma(k_diag, jnp.broadcast_to(dofs / 2.0, tuple(batch) + (d,)), dtype))
    off = jax.random.normal(k_off, tuple(batch) + (d * (d - 1) // 2,), dtype=dtype)
    flat = jnp.concatenate([diag, off, jnp.zeros(tuple(batch) + (1,), dtype)], axis=-1)
    return flat[..., _tril_gather(d)]


def bartlett_factor(key: jax.Array, dof: int, d: int, dtype: DTypeLike) -> jax.Array:
    """Lower-triangular ``L`` with ``L L^T ~ Wishart(dof, I_d)`` (Bartlett decomposition).

    ``L_jj = sqrt(chi2_{dof - j})`` for ``j = 0..d-1`` and ``L_jk ~ N(0, 1)`` below the
    diagonal, all independent; ``L`` is then the Cholesky factor of the Wishart matrix.
    Only the ``d (d - 1) / 2`` entries below the diagonal are drawn; the chi-squares
    come from the exact Marsaglia-Tsang sampler :func:`gamma`.
    """
    return bartlett_batch(key, dof, d, (), dtype)
