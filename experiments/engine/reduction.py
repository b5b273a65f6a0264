"""The reduction of a chunk's seeds: in the compiled program (accelerators) or on the host (CPU).

Both give results that do not depend on the chunking or the device count:

* on the host, :class:`~.stats.StreamingStats` adds each block of :data:`~.stats.BLOCK` seeds
  seed by seed in index order (:meth:`~.stats.StreamingStats.update`);
* in the program, :func:`block_partials` sums each block by a fixed binary tree of written-out
  additions, and the host joins the blocks' partial sums in seed order
  (:meth:`~.stats.StreamingStats.update_blocks`). Only the partial sums leave the device; the
  values only for quantiles or to name a non-finite value's seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..models.config import Config, config_dict
from .stats import BLOCK, NonFiniteError, StreamingStats

__all__ = ["reduces_in_program", "block_partials", "reduce_group"]


def _pairwise_sum(blocks: jax.Array) -> jax.Array:
    """Sums over axis 1 (``BLOCK`` seeds) by a fixed binary tree of explicit additions: seed
    ``2j`` plus seed ``2j + 1``, then pairs of pairs, ... The tree is written out (XLA does not
    reassociate floating-point additions), so its bits do not depend on the platform's own
    reduction order, and pairwise summation's round-off grows like ``log2 BLOCK``, not ``BLOCK``."""
    while blocks.shape[1] > 1:
        blocks = blocks[:, 0::2] + blocks[:, 1::2]
    return blocks[:, 0]


def block_partials(values: jax.Array, ok: jax.Array) -> dict[str, jax.Array]:
    """One micro-batch's partial reduction of one metric, in the compiled program.

    ``values`` is ``(micro, G)``, ``ok`` marks the seeds that count (a prefix). Per block of
    :data:`BLOCK` seeds: its shift (the block's first value), and the sums of the shifted values
    and of their squares (:func:`_pairwise_sum`: the order is fixed by the seed index, whatever
    the chunk, the device count or the platform's reduction trees);
    per micro-batch: the extremes and whether a counted value is not finite.
    """
    micro, G = values.shape
    wide = values.astype(jnp.float64)
    finite = jnp.isfinite(wide)
    clean = jnp.where(finite, wide, 0.0)  # a non-finite value is reported by ``bad``, never summed
    blocks = clean.reshape(micro // BLOCK, BLOCK, G)
    okb = ok.reshape(micro // BLOCK, BLOCK)
    shift = jnp.where(okb[:, :1], blocks[:, 0, :], 0.0)
    shifted = jnp.where(okb[:, :, None], blocks - shift[:, None, :], 0.0)

    s1, s2 = _pairwise_sum(shifted), _pairwise_sum(shifted * shifted)
    counted = ok[:, None]
    return {
        "shift": shift,
        "s1": s1,
        "s2": s2,
        "minimum": jnp.min(jnp.where(counted, clean, jnp.inf), axis=0)[None],
        "maximum": jnp.max(jnp.where(counted, clean, -jnp.inf), axis=0)[None],
        "bad": jnp.any(counted & ~finite, axis=0)[None],
    }


def reduces_in_program(platform: str) -> bool:
    """Whether the sums are reduced in the compiled program (accelerators) or on the host (CPU).

    On an accelerator the host's float64 pass over every value bounds the throughput, so the
    program sums each block of seeds itself and only the blocks' partial sums leave it. On
    the CPU the program and the host share the same cores and memory, and measured side by
    side (``bench/README.md``) the in-program reduction gains nothing while it lengthens each
    compilation; the host keeps the reduction there. ``COLLAPSE_REDUCE_IN_PROGRAM=1`` (or
    ``0``) overrides the choice, for measurements and tests; both give results that do not
    depend on the chunking or the device count.
    """
    forced = os.environ.get("COLLAPSE_REDUCE_IN_PROGRAM")
    if forced in ("0", "1"):
        return forced == "1"
    return platform != "cpu"


def _check_finite(values: np.ndarray, name: str, seed: int, first: int, cfg: Config) -> None:
    """Raise :class:`NonFiniteError` naming the first non-finite value's generation and seed index."""
    bad = ~np.isfinite(values)
    if bad.any():
        s, g = np.argwhere(bad)[0]
        raise NonFiniteError(
            f"non-finite {name} at generation {g + 1} for seed index {first + s} (seed {seed}) of {config_dict(cfg)}"
        )


def reduce_group(
    reducers: dict[str, StreamingStats],
    outs: list[dict[str, dict[str, jax.Array]]],
    valid: int,
    in_program: bool,
    to_host: Callable[[Any], Any],
    where: tuple[Config, int, int],
) -> None:
    """Add a group of consecutive calls' outputs (``outs``, their first ``valid`` seeds counted)
    to ``reducers``, in seed order; ``where`` is ``(cfg, base seed, first seed index)`` for the
    error that names a non-finite value's generation and seed."""
    cfg, seed, first = where
    names = list(reducers)
    want_values = any(r.quantiles for r in reducers.values())

    def all_values() -> dict[str, np.ndarray]:  # one transfer for every metric
        host = to_host([{n: out[n]["values"] for n in names} for out in outs])
        return {n: np.concatenate([np.asarray(h[n], np.float64) for h in host]) for n in names}

    if not in_program:  # the host reduces every value (the CPU's default)
        for name, values in all_values().items():
            _check_finite(values[:valid], name, seed, first, cfg)
            reducers[name].update(values, valid)
        return
    host = to_host([{n: {k: v for k, v in out[n].items() if k != "values"} for n in names} for out in outs])
    parts = {n: {k: np.concatenate([h[n][k] for h in host]) for k in host[0][n]} for n in names}
    values = all_values() if want_values or any(p["bad"].any() for p in parts.values()) else {}
    counts = np.clip(valid - BLOCK * np.arange(parts[names[0]]["shift"].shape[0]), 0, BLOCK)
    for name in names:
        part = parts[name]
        if name in values:
            _check_finite(values[name][:valid], name, seed, first, cfg)
        reducers[name].update_blocks(
            part["shift"], part["s1"], part["s2"], counts, part["minimum"].min(axis=0), part["maximum"].max(axis=0)
        )
        if want_values:
            reducers[name].update_histogram(values[name][:valid])
