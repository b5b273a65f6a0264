"""Exact samplers shared by the models: gamma variates, Bartlett factors of Wishart matrices, uniform
subsets, and least squares on a fixed design refit on subsamples of its own labels."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from ..engine.linalg import cho_solve, cholesky, lstsq_where, weighted_grams

__all__ = [
    "gamma",
    "bartlett_batch",
    "bartlett_factor",
    "wishart_factor",
    "GAMMA_CANDIDATES",
    "uniform_below",
    "subsample_schedule",
    "least_squares_subsample",
]

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


def wishart_factor(key: jax.Array, rows: int, d: int, dtype: DTypeLike) -> jax.Array:
    """A matrix ``F`` (``d x d`` if ``rows >= d``, else ``d x rows``) with ``F F^T ~ Wishart(rows, I_d)``.

    The Bartlett factor (``d x d``, lower triangular) when ``rows >= d``; otherwise ``Z^T`` for a
    ``rows x d`` standard normal ``Z`` (a singular Wishart has no Bartlett factor).
    """
    if rows >= d:
        return bartlett_factor(key, rows, d, dtype)
    return jax.random.normal(key, (rows, d), dtype=dtype).T


def uniform_below(key: jax.Array, span: jax.Array) -> jax.Array:
    """Exactly uniform integers in ``[0, span)``, one per entry of ``span`` (``1 <= span < 2**31``), int32.

    A 32-bit word ``x`` is accepted when ``x >= 2**32 mod span`` (the accepted words are a
    whole number of periods of ``x mod span``), and the answer is ``x mod span``; a rejected
    entry (probability below ``span / 2**32``) draws again with ``fold_in(key, i)`` in a
    ``while_loop`` until accepted, so no residue is favoured, not even by ``2**-32``.
    """
    span = jnp.asarray(span, jnp.uint32)
    floor = (jnp.uint32(0) - span) % span  # 2**32 mod span, in uint32 arithmetic

    def draw(k):
        return jax.random.bits(k, span.shape, jnp.uint32)

    def more(state):
        i, x = state
        fresh = draw(jax.random.fold_in(key, i))
        return i + 1, jnp.where(x < floor, fresh, x)

    k_first, key = jax.random.split(key)
    _, x = jax.lax.while_loop(lambda s: jnp.any(s[1] < floor), more, (jnp.zeros((), jnp.uint32), draw(k_first)))
    return (x % span).astype(jnp.int32)


def subsample_schedule(keys: jax.Array, size: int) -> jax.Array:
    """``(G, size)`` int32: row ``n - 1`` is a uniform ``size``-subset of ``[0, n * size)``, from ``keys[n - 1]``.

    Accumulate-subsample's draw for every generation at once (the rows it takes do not
    depend on the data): row ``n - 1`` indexes the ``n`` batches of ``size`` rows
    accumulated by generation ``n``, batch ``g`` at ``[(g - 1) size, g size)``. Robert
    Floyd's algorithm (Bentley & Floyd 1987, exactly uniform over the subsets): for
    ``j = N - size, ..., N - 1`` draw ``t_j`` uniform on ``[0, j]`` (:func:`uniform_below`)
    and take ``t_j``, or ``j`` if ``t_j`` was taken already. Vectorised: ``t_j`` was taken
    iff it equals an earlier ``t_i`` (found with one scatter of first occurrences into a
    table stamped by the generation, never cleared) or it is an earlier ``j`` that was
    itself taken in place of its ``t`` (a chain, followed to its fixed point, at most
    ``size`` links and in practice one or two). The set, not the order, is uniform.
    Generation ``n`` depends on ``keys[n - 1]`` and ``n`` only: a trajectory's prefix is
    the same whatever ``G``. Needs ``(G + 1) * size < 2**31``.
    """
    G = keys.shape[0]
    if (G + 1) * size >= 2**31:
        raise ValueError(f"{G} generations of {size} rows exceed the int32 indices of the subsample")
    k = jnp.arange(size, dtype=jnp.int32)
    gens = jnp.arange(1, G + 1, dtype=jnp.int32)
    start = (gens - 1) * size  # N - size: the newest batch starts here
    t = jax.vmap(uniform_below)(keys, start[:, None] + k + 1)

    def step(table, inputs):
        t_n, n, low = inputs
        code = n * size + (size - 1 - k)  # later generations win; within one, the first i wins
        table = table.at[t_n].max(code)
        repeated = table[t_n] != code  # t_n[k] equals an earlier t_n[i]
        m = t_n - low  # t_n[k] = j_m, the newest batch's row m
        chained = (m >= 0) & (m < k)
        m = jnp.clip(m, 0, size - 1)

        def link(taken):
            return repeated | (chained & taken[m])

        taken, _ = jax.lax.while_loop(
            lambda s: jnp.any(s[0] != s[1]), lambda s: (link(s[0]), s[0]), (link(repeated), repeated)
        )
        return table, jnp.where(taken, low + k, t_n)

    _, out = jax.lax.scan(step, jnp.zeros((G * size,), jnp.int32), (t, gens, start))
    return out


def least_squares_subsample(
    X: jax.Array, w_star: jax.Array, sigma: jax.Array, key_steps: jax.Array, generations: int
) -> jax.Array:
    """``||w_n - w*||^2`` for ``n = 1..G``: least squares on one design ``X`` under accumulate-subsample.

    Generation ``n`` draws labels ``X w_{n-1} + sigma eps_n`` (``w_0 = w*``) and refits on
    ``T`` of the ``n T`` labels so far, drawn uniformly without replacement
    (:func:`subsample_schedule`); the engine's draws from the engine's keys (key ``n``
    split into the labels' and the subset's). No row of ``X`` is copied: the fit on the
    subsample is least squares on ``X`` weighted by ``c_t`` (how many of row ``t``'s labels
    were drawn) with label sums ``s_t``, ``(X^T C X) w = X^T s``. The subsets do not depend
    on the data, so every ``X^T C X`` comes from one matrix product before the scan, which
    carries only the labels. With fewer than ``d`` distinct rows drawn (``X^T C X`` singular)
    the fit is the minimum-norm one on ``sqrt(c) X``, which ``lstsq`` on the drawn rows gives.
    """
    (T, d), dt, G = X.shape, X.dtype, generations
    k_draw, k_sub = jax.vmap(lambda k: tuple(jax.random.split(k)))(jax.random.split(key_steps, G))
    eps = jax.vmap(lambda k: jax.random.normal(jax.random.split(k)[1], (T,), dtype=dt))(k_draw)
    idx = subsample_schedule(k_sub, T)
    counts = jnp.zeros((G, T), dt).at[jnp.arange(G)[:, None], idx % T].add(1)
    full_rank = jnp.sum(counts > 0, axis=1) >= d

    def step(carry, inputs):
        w, labels = carry
        e, gram, i_n, c_n, ok, n = inputs
        labels = jax.lax.dynamic_update_slice(labels, X @ w + sigma * e, ((n - 1) * T,))
        # Label sums per row by a one-hot product, not a float scatter-add (atomic, in no fixed order, on a GPU).
        s = labels[i_n] @ (i_n[:, None] % T == jnp.arange(T)).astype(dt)
        root = jnp.sqrt(c_n)
        w = lstsq_where(~ok, cho_solve((cholesky(gram), True), X.T @ s), X * root[:, None], s / jnp.maximum(root, 1))
        return (w, labels), jnp.sum((w - w_star) ** 2)

    inputs = (eps, weighted_grams(X, counts), idx, counts, full_rank, jnp.arange(1, G + 1, dtype=jnp.int32))
    return jax.lax.scan(step, (w_star, jnp.zeros((G * T,), dt)), inputs)[1]
