"""The regime engine: one ``lax.scan`` over generations for every model and regime.

A regime says how a generation's training set is assembled from the data so far. It
is written once, here, from the hooks of :class:`model_collapse.experiments.models.base.Model`
(draw a batch, its sufficient statistics, merge two sets of statistics, fit, evaluate):

* ``replace``: the newest batch only (``M`` samples, or ``T`` rows, from model ``n-1``);
* ``accumulate``: every batch so far, real data included (the running merge of
  statistics, so memory and time per generation stay constant);
* ``mix``: ``k = real_fraction * M`` **fresh** real samples each generation plus
  ``M - k`` synthetic ones (the fresh-data loop of Alemohammad et al. 2024);
* ``augment``: the **same** ``k`` original real samples every generation (the first
  ``k`` of generation 1's real batch, kept for good) plus ``M - k`` synthetic ones
  (Bertrand et al. 2024; Seddik et al. 2024's partially synthetic setting);
* ``accumulate-subsample``: ``M`` drawn uniformly without replacement from every raw
  sample so far (Kazdan et al. 2024), kept in a buffer of ``G * M`` rows; the subsets
  are drawn by Floyd's algorithm before the scan (they do not depend on the data).

Generation 1 always fits on real data (the batch drawn from the truth). Generation
``n``'s key is ``split(key_steps, G)[n - 1]``, which does not depend on ``G``
(partitionable Threefry), so the first ``g`` generations of a seed are the same
whatever the number simulated (a test checks it bit for bit). Transforms
(:class:`model_collapse.experiments.models.base.Transform`) act on synthetic batches only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from .base import Model, Rows, apply_transforms
from .samplers import subsample_schedule

__all__ = ["REGIMES", "POOLED", "simulate", "scan_blocks", "subsample_indices", "write_batch", "empty_like"]

REGIMES = ("replace", "accumulate", "mix", "augment", "accumulate-subsample")
POOLED = ("replace", "accumulate", "mix", "augment")  # fit from merged statistics


def empty_like(stats: Any) -> Any:
    """The statistics of an empty batch: zeros (``merge(zeros, s) == s`` for every model)."""
    return jax.tree_util.tree_map(jnp.zeros_like, stats)


def simulate(model: Model, cfg: Any, key: jax.Array, *, fast_path: bool = True) -> dict[str, jax.Array]:
    """One seed's trajectory of every metric, generations ``1..G``, for any model and regime.

    Args:
        model: a registered :class:`~model_collapse.experiments.models.base.Model`.
        cfg: its config (static).
        key: this seed's PRNG key.
        fast_path: use the model's opt-in override where it has one (``False``: the
            engine's scan, the reference the fast paths are tested against).

    Returns:
        ``{metric: array of shape (cfg.generations,)}``.
    """
    fast = model.fast_path(cfg) if fast_path else None
    if fast is not None:
        return fast(key)
    ctx, truth, key_steps = model.init(cfg, key)
    key_kept = None
    if cfg.regime == "augment":  # the real samples kept for good get a key of their own
        key_steps, key_kept = jax.random.split(key_steps)
    keys = jax.random.split(key_steps, cfg.generations)
    gens = jnp.arange(1, cfg.generations + 1)
    if cfg.regime == "accumulate-subsample":
        return _simulate_subsample(model, cfg, ctx, truth, keys, gens)
    if cfg.regime not in POOLED:
        raise ValueError(f"unknown regime {cfg.regime!r}")
    return _simulate_pooled(model, cfg, ctx, truth, keys, gens, key_kept)


def _synthetic_statistics(model, cfg, ctx, key, params, rows: Rows, n):
    """Statistics of a batch drawn from ``params`` (the truth at generation 1), transformed if synthetic."""
    transforms = model.transforms(cfg)
    if not transforms:
        return model.draw_statistics(cfg, ctx, key, params, rows)
    k_draw, k_transform = jax.random.split(key)
    batch = model.draw(cfg, ctx, k_draw, params, rows)
    changed = apply_transforms(transforms, cfg, k_transform, batch)
    batch = jax.tree_util.tree_map(lambda new, old: jnp.where(n > 1, new, old), changed, batch)
    return model.statistics(cfg, ctx, batch)


def _simulate_pooled(model, cfg, ctx, truth, keys, gens, key_kept=None):
    size = model.batch_size(cfg)
    regime = cfg.regime
    k = model.real_rows(cfg) if regime in ("mix", "augment") else 0
    synthetic_rows = Rows(k, size)

    resample = regime == "augment" and getattr(cfg, "real_resample", False)
    if resample:
        return _simulate_resampled(model, cfg, ctx, truth, keys, gens, key_kept, k)

    kept = None
    if regime == "augment" and k:
        # Generation 1's first k real samples, kept for good; its other M - k are fresh
        # real samples (drawn from the truth, the scan's first parameters).
        kept = model.draw_statistics(cfg, ctx, key_kept, truth, Rows(0, k))

    def batch_statistics(key, params, n):
        if regime in ("replace", "accumulate"):
            return _synthetic_statistics(model, cfg, ctx, key, params, Rows(0, size), n)
        k_syn, k_real = jax.random.split(key)
        parts = []
        if k:
            parts.append(kept if regime == "augment" else model.draw_statistics(cfg, ctx, k_real, truth, Rows(0, k)))
        if size - k:
            parts.append(_synthetic_statistics(model, cfg, ctx, k_syn, params, synthetic_rows, n))
        return parts[0] if len(parts) == 1 else model.merge(*parts)

    def step(carry, inputs):
        params, pooled = carry
        key, n = inputs
        batch = batch_statistics(key, params, n)
        if regime == "accumulate":
            pooled = model.merge(pooled, batch)
            batch = pooled
        fitted = model.fit(cfg, ctx, batch)
        return (fitted, pooled), model.evaluate(cfg, ctx, fitted)

    shape = jax.eval_shape(lambda: batch_statistics(keys[0], truth, gens[0]))
    pooled0 = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shape)
    _, out = jax.lax.scan(step, (truth, pooled0), (keys, gens))
    return out


def _simulate_resampled(model, cfg, ctx, truth, keys, gens, key_kept, k):
    """``augment`` with a fresh random ``k`` of generation 1's ``M`` real samples each generation.

    The Nature paper's language-model setting (a random 10% of the original data kept in
    each generation). Generation 1 fits on the original real batch; generation ``n >= 2``
    on a batch whose rows are the original ones on a uniformly random ``k``-subset and
    synthetic ones from the previous fit elsewhere (for a fixed regression design, each
    row keeps its real label or gets a synthetic one). Needs raw samples.
    """
    size = model.batch_size(cfg)
    original = model.draw(cfg, ctx, key_kept, truth, Rows(0, size))
    transforms = model.transforms(cfg)

    def step(params, inputs):
        key, n = inputs
        k_syn, k_real = jax.random.split(key)
        synthetic = model.draw(cfg, ctx, k_syn, params, Rows(0, size))
        if transforms:
            synthetic = apply_transforms(transforms, cfg, jax.random.fold_in(k_syn, 1), synthetic)
        chosen = subsample_indices(k_real, size, size, k)
        keep = jnp.zeros((size,), bool).at[chosen].set(True) | (n == 1)
        batch = jax.tree_util.tree_map(
            lambda o, s: jnp.where(keep.reshape((size,) + (1,) * (o.ndim - 1)), o, s), original, synthetic
        )
        fitted = model.fit_sample(cfg, ctx, batch)
        return fitted, model.evaluate(cfg, ctx, fitted)

    _, out = jax.lax.scan(step, truth, (keys, gens))
    return out


def _simulate_subsample(model, cfg, ctx, truth, keys, gens):
    """Each generation fits ``size`` raw rows drawn uniformly without replacement from all so far.

    The rows taken do not depend on the data, so every generation's subset is drawn before
    the scan (:func:`~model_collapse.experiments.models.samplers.subsample_schedule`: Floyd's
    algorithm, ``size`` random words per generation, never a score per buffered row);
    the scan appends each batch to the buffer and gathers its subset.
    """
    size, G = model.batch_size(cfg), cfg.generations
    capacity = G * size
    k_draw, k_sub = jax.vmap(lambda k: tuple(jax.random.split(k)))(keys)
    schedule = subsample_schedule(k_sub, size)
    shape = jax.eval_shape(lambda: model.draw(cfg, ctx, k_draw[0], truth, Rows(0, size)))
    buffer0 = jax.tree_util.tree_map(lambda s: jnp.zeros((capacity,) + s.shape[1:], s.dtype), shape)
    transforms = model.transforms(cfg)

    def step(carry, inputs):
        params, buffer = carry
        k_draw, idx, n = inputs
        batch = model.draw(cfg, ctx, k_draw, params, Rows(0, size))
        if transforms:
            changed = apply_transforms(transforms, cfg, jax.random.fold_in(k_draw, 1), batch)
            batch = jax.tree_util.tree_map(lambda new, old: jnp.where(n > 1, new, old), changed, batch)
        buffer = jax.tree_util.tree_map(lambda buf, b: write_batch(buf, b, n), buffer, batch)
        sample = jax.tree_util.tree_map(lambda buf: buf[idx], buffer)
        fitted = model.fit_sample(cfg, ctx, sample)
        return (fitted, buffer), model.evaluate(cfg, ctx, fitted)

    _, out = jax.lax.scan(step, (truth, buffer0), (k_draw, schedule, gens))
    return out


def scan_blocks(block: Callable[[Any, jax.Array], tuple[Any, Any]], init: Any, blocks: int) -> tuple[Any, Any]:
    """``lax.scan(block, init, arange(blocks))`` whose compiled body does not depend on ``blocks``.

    For the fast paths that draw generations a block at a time: a trajectory's first
    blocks must come out bit for bit the same however many blocks follow. A scan whose
    length XLA knows can be simplified (a one-trip loop is inlined, and constants are
    folded into its body with compile-time ``log`` and ``exp`` that round differently),
    so the loop here is a ``while`` whose trip count is hidden behind an optimisation
    barrier, writing each block's output in place.

    Returns:
        ``(carry, outputs)`` with outputs stacked along a new first axis of length ``blocks``.
    """
    shapes = jax.eval_shape(lambda: block(init, jnp.zeros((), jnp.int32))[1])
    out0 = jax.tree_util.tree_map(lambda s: jnp.zeros((blocks,) + s.shape, s.dtype), shapes)
    count = jnp.asarray(blocks, jnp.int32) + jax.lax.optimization_barrier(jnp.zeros((), jnp.int32))

    def body(b, state):
        carry, out = state
        carry, value = block(carry, b)
        out = jax.tree_util.tree_map(lambda o, v: jax.lax.dynamic_update_index_in_dim(o, v, b, 0), out, value)
        return carry, out

    return jax.lax.fori_loop(jnp.zeros((), jnp.int32), count, body, (init, out0))


def write_batch(buffer: jax.Array, batch: jax.Array, generation: jax.Array) -> jax.Array:
    """Store batch ``generation`` (1-based) at rows ``[(g-1) b, g b)`` of a fixed-capacity buffer."""
    start = (generation - 1) * batch.shape[0]
    index = (start,) + (0,) * (batch.ndim - 1)
    return jax.lax.dynamic_update_slice(buffer, batch.astype(buffer.dtype), index)


def subsample_indices(key: jax.Array, filled: Any, capacity: int, size: int) -> jax.Array:
    """``size`` indices drawn uniformly without replacement from ``[0, filled)`` (augment's resampling).

    Vectorised with a static shape: every slot of the buffer gets an i.i.d. random
    score, slots not yet filled get ``-1``, and the ``size`` largest scores win (a
    uniform random ``size``-subset of the filled slots, as all orderings of i.i.d.
    scores are equally likely). Scores are 30 random bits reinterpreted as
    non-negative float32 (a monotone map, never NaN or infinite), because XLA's CPU
    ``top_k`` is over 20 times faster on float32 than on float64. The subset is
    exactly uniform unless two scores tie at the cut, which ``top_k`` breaks by
    index; that happens with probability below ``filled * 2**-30`` per draw.
    """
    bits = jax.random.bits(key, (capacity,), dtype=jnp.uint32) >> 2
    scores = jax.lax.bitcast_convert_type(bits, jnp.float32)
    scores = jnp.where(jnp.arange(capacity) < filled, scores, -1.0)
    _, idx = jax.lax.top_k(scores, size)
    return idx
