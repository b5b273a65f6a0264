"""The runner: ``jit(vmap(simulate))`` over chunks of seeds, streamed and reduced.

Seed ``i`` (an absolute index) always gets the key ``fold_in(key(seed), i)``, and is
always computed by the same vmapped body over a micro-batch of
:data:`experiments.stats.BLOCK` seeds, so its trajectory is bit-identical however
many seeds run, however they are chunked, and on however many devices. Chunks are
whole micro-batches on every device, the last chunk padded (the padding
discarded), and the float64 reduction (:class:`experiments.stats.StreamingStats`)
adds in an order fixed by the seed index alone: the reported statistics are
bit-identical whatever the chunk size or device count. With several devices, each
chunk is split over a one-axis ``seeds`` mesh with ``shard_map``. With several
processes (``jax.distributed``, see :func:`experiments.distributed.initialize`), the
mesh spans every process's devices, every process dispatches the same chunks, and
the per-seed values are gathered to every process (``process_allgather``), which
reduces them in the same order: every process holds the same bit-identical result.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..models import get_model
from ..models.config import Config, ConfigError, config_dict, config_hash
from .linalg import one_matrix_per_call
from .memory import _MAX_MICRO, _MICRO_MEMORY, micro_batch, plan_memory  # noqa: F401  (re-exported)
from .metadata import _meta, package_metadata  # noqa: F401  (package_metadata: re-exported)
from .precision import float64
from .reduction import block_partials, reduce_group, reduces_in_program  # noqa: F401  (re-exported)
from .stats import BLOCK, StreamingStats

__all__ = ["Result", "MetricSummary", "run", "seed_keys", "simulate_seeds", "program_fingerprint", "DEFAULT_QUANTILES"]

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MAX_SEEDS = 2**32


@dataclasses.dataclass(frozen=True)
class MetricSummary:
    """Per-generation statistics of one metric over seeds (float64 arrays)."""

    mean: np.ndarray
    sem: np.ndarray
    std: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    quantiles: dict[str, np.ndarray]

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "sem": self.sem.tolist(),
            "std": self.std.tolist(),
            "min": self.minimum.tolist(),
            "max": self.maximum.tolist(),
            "quantiles": {k: v.tolist() for k, v in self.quantiles.items()},
        }


@dataclasses.dataclass(frozen=True)
class Result:
    """A run's per-generation statistics and the metadata to reproduce it."""

    config: Any
    seed: int
    seed_start: int
    seeds: int
    generation: np.ndarray
    metrics: dict[str, MetricSummary]
    meta: dict[str, Any]
    state: dict = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def model(self) -> str:
        return self.config.model

    def to_json(self, theory: dict | None = None) -> dict[str, Any]:
        """The CLI's JSON object (``theory`` maps metric to a curve or ``None``)."""
        out = {
            "model": self.model,
            "regime": self.config.regime,
            "config": config_dict(self.config),
            "config_hash": config_hash(self.config),
            "seeds": self.seeds,
            "seed": self.seed,
            "seed_start": self.seed_start,
            "generation": self.generation.tolist(),
            "metrics": {k: v.to_json() for k, v in self.metrics.items()},
        }
        if theory is not None:
            out["theory"] = {k: (None if v is None else np.asarray(v, np.float64).tolist()) for k, v in theory.items()}
        out["meta"] = self.meta
        return out


def _malloc_trim() -> Callable[[], Any] | None:
    """glibc's ``malloc_trim(0)``, or ``None`` where the C library has none (macOS, musl).

    The host's reduction allocates and frees many large NumPy temporaries per group of
    calls, while XLA's worker threads allocate from their own glibc arenas. The freed
    pages stay mapped, fragmented over the arenas, and the process's resident size
    creeps up with the number of groups, not with anything the run keeps. Trimming after
    each group hands those pages back: measured on 2 cores, W3 of ``bench/`` (100
    generations x 5 metrics) grew 41% in peak RSS from 4,096 to 40,960 seeds without it.
    """
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


_TRIM = _malloc_trim()


def seed_keys(seed: int, indices: Sequence[int] | np.ndarray) -> jax.Array:
    """Keys ``fold_in(key(seed), i)`` for absolute seed indices ``i``."""
    base = jax.random.key(seed)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(indices, jnp.uint32))


def select_metrics(cfg: Config, metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The model's metric names that ``metrics`` asks for, in the model's order (all for ``None``)."""
    names = get_model(cfg.model).metric_names
    if metrics is None:
        return names
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in names]
    if unknown:
        raise ConfigError(f"unknown {cfg.model} metric {unknown[0]!r}; choose from: {', '.join(names)}")
    if not metrics:
        raise ConfigError("metrics must name at least one metric")
    return tuple(m for m in names if m in set(metrics))


def _compiled(cfg, ndev: int, metrics: tuple[str, ...] | None = None):
    """The compiled program for ``cfg``, its parameters bound: ``(program, sharding, micro)``.

    Compiled once per *shape*: the config's static fields (and the device count and the
    metrics) key the compilation, while its traced fields (``TRACED_FIELDS``: noise levels,
    values that change no array's shape) are arguments of the program, so a sweep over
    them compiles once. The program is called as ``program(base_key, indices)``.
    """
    cls = type(cfg)
    traced = tuple(getattr(cls, "TRACED_FIELDS", ()))
    static = tuple((f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.name not in traced)
    params = tuple(np.float64(getattr(cfg, name)) for name in traced)
    platform = jax.devices()[0].platform
    micro = micro_batch(cfg, platform)
    in_program = reduces_in_program(platform)
    with float64():
        jitted, sharding = _compile(
            get_model(cfg.model).simulate, (cls, static, traced), ndev, select_metrics(cfg, metrics), micro, in_program
        )
    return _Bound(jitted, params, in_program), sharding, micro


class _Bound:
    """A compiled program with the config's traced parameters bound (``lower`` for its fingerprint)."""

    def __init__(self, jitted: Callable, params: tuple, in_program: bool):
        self.jitted, self.params = jitted, params
        self.in_program = in_program  # whether the program returns the blocks' partial sums

    def __call__(self, base: jax.Array, indices: Any, limit: int = MAX_SEEDS) -> dict[str, dict[str, jax.Array]]:
        return self.jitted(self.params, base, indices, np.int64(limit))

    def lower(self, base: jax.Array, indices: Any, limit: int = MAX_SEEDS) -> Any:
        return self.jitted.lower(self.params, base, indices, np.int64(limit))

    def _cache_size(self) -> int:  # the number of compilations of the shared program (tests)
        return self.jitted._cache_size()


def _rebuild(shape: tuple, values: tuple) -> Any:
    """The config with its traced fields set to ``values`` (tracers inside the program), unvalidated."""
    cls, static, traced = shape
    cfg = object.__new__(cls)
    for name, value in (*static, *zip(traced, values, strict=True)):
        object.__setattr__(cfg, name, value)
    return cfg


@functools.lru_cache(maxsize=64)
def _compile(
    simulate: Callable, shape: tuple, ndev: int, metrics: tuple[str, ...], micro: int, in_program: bool = False
):
    """``((params, base, indices, limit) -> {metric: parts}, sharding)``, in micro-batches of ``micro`` seeds.

    ``parts``: the seeds' ``values`` ``(len(indices), G)`` and, with ``in_program``, their partial
    reduction over the seeds whose index is below ``limit`` (:func:`~.reduction.block_partials`).

    Only ``metrics`` leave the program; the computations that only the others need are
    dead code, which JAX and XLA remove (the eigenvalues behind the Gaussian's ``w2_sq``,
    for one).

    XLA's kernels can round differently for different batch shapes, so a seed's
    trajectory computed in a batch of 64 and in a batch of 4096 may differ in the
    last bit. ``lax.map(..., batch_size=micro)`` runs one vmapped body of a fixed
    shape (:func:`micro_batch`) over every micro-batch, whatever the chunk size; with
    several devices, ``shard_map`` gives each device whole micro-batches of the same body.
    """
    devices = jax.devices()[:ndev]
    # CPU devices share one intra-op thread pool, on which jaxlib's batched LAPACK kernels
    # deadlock when several devices run at once: on the CPU, LAPACK gets one matrix per
    # call (see experiments.linalg), on one device too, so that every device count runs
    # the same per-device program and gives the same bits.
    serial_lapack = any(d.platform == "cpu" for d in devices)

    def batch(params, base, indices, limit):
        cfg = _rebuild(shape, params)
        with one_matrix_per_call(serial_lapack):

            def one(i):
                out = simulate(cfg, jax.random.fold_in(base, i))
                return {name: out[name] for name in metrics}

            def micro_batch_body(idx):
                values = jax.vmap(one)(idx)
                if not in_program:
                    return {name: {"values": v} for name, v in values.items()}
                # The barrier keeps the reduction out of the simulation's fusions: a seed's
                # values are the bits that a run without the reduction computes.
                values = jax.lax.optimization_barrier(values)
                counted = idx.astype(jnp.int64) < limit
                return {name: {"values": v, **block_partials(v, counted)} for name, v in values.items()}

            out = jax.lax.map(micro_batch_body, indices.reshape(-1, micro))
            # (micro-batches, rows, ...) -> (micro-batches * rows, ...): seeds, blocks or micro-batches in order
            return jax.tree.map(lambda a: a.reshape(-1, *a.shape[2:]), out)

    if ndev == 1:
        return jax.jit(batch), None
    mesh = Mesh(np.array(devices), ("seeds",))
    spec = PartitionSpec("seeds")
    # Each device runs whole micro-batches with no collectives; check_vma=False lets the
    # simulators' scans start from constant (device-invariant) carries.
    sharded = jax.shard_map(
        batch,
        mesh=mesh,
        in_specs=(PartitionSpec(), PartitionSpec(), spec, PartitionSpec()),
        out_specs=spec,
        check_vma=False,
    )
    return jax.jit(sharded), NamedSharding(mesh, spec)


@functools.lru_cache(maxsize=256)
def program_fingerprint(cfg: Config) -> str:
    """A fingerprint of what decides a result's bits: the program that was run.

    The hash of the lowered one-device program for ``cfg`` (StableHLO text without
    debug locations, so a comment or a moved line changes nothing, while any change
    to the arithmetic, a sampler, a regime or a new model's code does), the micro-batch
    it is vmapped over, the platform, jaxlib's version (its kernels) and the PRNG
    settings. Part of every cache key: an entry computed by another program, on
    another platform or with another JAX is never served or extended.
    """
    import hashlib

    import jaxlib

    fn, _, micro = _compiled(cfg, 1)
    with float64():
        lowered = fn.lower(jax.random.key(0), np.zeros(micro, np.uint32))
    digest = hashlib.sha256(lowered.as_text(debug_info=False).encode())
    platform = jax.devices()[0].platform
    settings = (
        platform,
        micro,
        jaxlib.__version__,
        jax.config.jax_default_prng_impl,
        jax.config.jax_threefry_partitionable,
        cfg.precision,
    )
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:16]


def simulate_seeds(cfg: Config, indices: Sequence[int] | np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-seed trajectories for the given absolute seed indices (no reduction).

    Returns:
        metric -> array of shape ``(len(indices), generations)``.
    """
    fn, _, micro = _compiled(cfg, 1)
    indices = np.asarray(indices, np.uint32)
    padded = np.zeros(-(-len(indices) // micro) * micro, np.uint32)
    padded[: len(indices)] = indices
    # One micro-batch per call, the shape ``run`` calls the program with on one device: the
    # same compiled executable serves both (a run of every metric compiles it for this).
    with float64():
        base = jax.random.key(seed)
        calls = [fn(base, padded[i : i + micro]) for i in range(0, len(padded), micro)]
        parts = jax.device_get([{k: v["values"] for k, v in out.items()} for out in calls])
    return {k: np.concatenate([np.asarray(p[k]) for p in parts])[: len(indices)] for k in parts[0]}


def _global_indices(indices: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """The chunk's seed indices, sharded over the ``seeds`` mesh (of every process's devices)."""
    if jax.process_count() == 1:
        return jax.device_put(indices, sharding)
    # Every process holds the same host array and places the shards its devices own.
    return jax.make_array_from_callback(indices.shape, sharding, lambda index: indices[index])


def _to_host(tree):
    """Device results as NumPy arrays; with several processes, gathered on every process."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def _chunk_size(chunk_size: int | None, ndev: int, micro: int) -> int:
    """Seeds per compiled call: whole micro-batches on every device, independent of the seed count.

    The default is one micro-batch per device per call (calls are dispatched
    asynchronously, so the devices never wait for the host between them).
    """
    unit = micro * ndev
    if chunk_size is None:
        return unit
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ConfigError(f"chunk size must be an integer >= 1, got {chunk_size!r}")
    return -(-chunk_size // unit) * unit


def run(cfg: Config, seeds: int, seed: int = 0, **kwargs: Any) -> Result:
    """Simulate ``seeds`` seeds of ``cfg`` and reduce them per generation (see :func:`_run`).

    Runs under float64 (:func:`model_collapse.experiments.engine.precision.float64`),
    whatever the process's global JAX setting, which it leaves as it was.
    """
    with float64():
        return _run(cfg, seeds, seed, **kwargs)


def _run(
    cfg,
    seeds: int,
    seed: int = 0,
    *,
    seed_start: int = 0,
    chunk_size: int | None = None,
    quantiles=DEFAULT_QUANTILES,
    devices: int | None = None,
    progress: bool | None = None,
    state: dict | None = None,
    metrics: Sequence[str] | None = None,
) -> Result:
    """Simulate ``seeds`` seeds of ``cfg`` and reduce them per generation.

    Args:
        cfg: a model config (its ``model`` names the simulator).
        seeds: how many seeds, indices ``seed_start .. seed_start + seeds - 1``.
        seed: the base seed; seed index ``i`` uses ``fold_in(key(seed), i)``.
        seed_start: first seed index (a multiple of ``BLOCK`` when extending ``state``).
        chunk_size: seeds per compiled call, rounded up to whole micro-batches on
            every device; ``None`` picks one per backend. Results do not depend on it.
        quantiles: probabilities to report; ``()`` keeps no histogram, which is most of the
            host's work when there are many generations (means and standard errors only).
        devices: how many devices to shard each chunk over (default: all).
        progress: show a progress bar (default: when stderr is a terminal).
        state: a reducer state from an earlier run of seeds ``[.., seed_start)``, to extend.
        metrics: the metrics to compute (default: all of the model's); the others are
            not computed at all, and the result holds only these.

    Returns:
        Result: mean, standard error, extremes and quantiles per generation.

    Raises:
        ConfigError: bad seed counts or chunk sizes.
        NonFiniteError: a metric was NaN or infinite (names the generation and seed).
    """
    for name, value, low in (("seeds", seeds, 1), ("seed", seed, 0), ("seed_start", seed_start, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    if seed_start + seeds > MAX_SEEDS:
        raise ConfigError(f"seed indices must stay below 2**32, got {seed_start + seeds}")
    if seed >= MAX_SEEDS:
        raise ConfigError(f"seed must be below 2**32, got {seed}")
    ndev = len(jax.devices()) if devices is None else devices
    if not 1 <= ndev <= len(jax.devices()):
        raise ConfigError(f"devices must be between 1 and {len(jax.devices())}, got {devices}")
    if jax.process_count() > 1 and ndev != len(jax.devices()):
        raise ConfigError(
            f"with {jax.process_count()} processes every device takes part: "
            f"devices must be {len(jax.devices())}, got {devices}"
        )
    names = select_metrics(cfg, metrics)
    plan_memory(cfg, ndev)
    fn, sharding, micro = _compiled(cfg, ndev, names)
    chunk = _chunk_size(chunk_size, ndev, micro)
    base = jax.random.key(seed)
    G = cfg.generations
    if state is None:
        reducers = {m: StreamingStats(G, quantiles) for m in names}
    else:
        if seed_start % BLOCK:
            raise ConfigError(f"an extended run must start at a multiple of {BLOCK} seeds")
        if set(state) != set(names):
            raise ConfigError(f"the state to extend holds metrics {sorted(state)}, not {list(names)}")
        reducers = {m: StreamingStats.from_state(state[m], quantiles) for m in names}
    # Reduced in groups of calls (~64 MiB of values at most): on the host, or from the blocks' partial
    # sums that the program returns (fn.in_program; see engine.reduction).
    per_seed_values = G * len(names) * 8
    group = max(1, min(8192, (64 * 2**20) // per_seed_values) // chunk)
    limit = seed_start + seeds

    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=seeds, unit="seed", desc=f"{cfg.model}/{cfg.regime}", leave=False, file=sys.stderr)
    t0 = time.perf_counter()
    compile_s = None
    reduce_s = 0.0  # the host's share: transfer, finiteness checks, streaming statistics
    starts = list(range(0, seeds, chunk))
    try:
        for g0 in range(0, len(starts), group):
            pending = []
            for start in starts[g0 : g0 + group]:
                indices = np.arange(seed_start + start, seed_start + start + chunk, dtype=np.uint32)
                if sharding is not None:
                    indices = _global_indices(indices, sharding)
                pending.append((start, fn(base, indices, limit)))  # dispatched asynchronously
                if compile_s is None:
                    jax.block_until_ready(pending[-1][1])
                    compile_s = time.perf_counter() - t0
            first = pending[0][0]
            valid = min(len(pending) * chunk, seeds - first)
            jax.block_until_ready([out for _, out in pending])
            t_host = time.perf_counter()
            outs = [out for _, out in pending]
            reduce_group(reducers, outs, valid, fn.in_program, _to_host, (cfg, seed, seed_start + first))
            del outs
            if _TRIM is not None:
                _TRIM()
            reduce_s += time.perf_counter() - t_host
            if bar is not None:
                bar.update(valid)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    metrics = {
        name: MetricSummary(
            mean=r.mean,
            sem=r.sem,
            std=r.std,
            minimum=r.minimum,
            maximum=r.maximum,
            quantiles=dict(zip(map(_qkey, r.quantiles), r.quantile_table(r.quantiles), strict=True))
            if r.quantiles
            else {},
        )
        for name, r in reducers.items()
    }
    total = next(iter(reducers.values())).count
    return Result(
        config=cfg,
        seed=seed,
        seed_start=seed_start + seeds - total,
        seeds=total,
        generation=np.arange(1, G + 1),
        metrics=metrics,
        meta={
            **_meta(cfg, chunk, micro, ndev, elapsed, compile_s),
            "reduce_s": reduce_s,
            "reduction": "in program" if fn.in_program else "host",
            "quantile_resolution": {m: r.resolution for m, r in reducers.items()},
        },
        state={m: r.state() for m, r in reducers.items()},
    )


def _qkey(q: float) -> str:
    return format(q, "g")
