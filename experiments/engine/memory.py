"""Memory: seeds per micro-batch, and the plan that refuses a config that cannot fit before any work."""

from __future__ import annotations

import os

import jax

from ..models.config import Config, ConfigError
from .stats import BLOCK

__all__ = ["available_memory", "micro_batch", "plan_memory"]

_MICRO_MEMORY = 2**31  # accelerators: bytes of live simulation state per micro-batch
_MAX_MICRO = 2**16  # accelerators: seeds per micro-batch at most


def micro_batch(cfg: Config, platform: str) -> int:
    """Seeds that one vmapped body computes at once on ``platform`` (a multiple of ``BLOCK``).

    A function of the config and the platform alone, never of the seed count, the chunk
    size or the device count, so a seed's bits depend on none of those. On the CPU it is
    ``BLOCK`` (64): the cores are kept busy by XLA's threads and the calls' queue. An
    accelerator runs one micro-batch's kernels one after another, so it gets the
    largest ``BLOCK * 2**k`` up to ``2**16`` seeds whose state (four times
    ``cfg.memory_per_seed()``, for vmapped temporaries) fits in 2 GiB.
    """
    if platform == "cpu":
        return BLOCK
    per_seed = max(int(cfg.memory_per_seed()), 1) * 4
    micro = BLOCK
    while 2 * micro <= _MAX_MICRO and 2 * micro * per_seed <= _MICRO_MEMORY:
        micro *= 2
    return micro


def available_memory(platform: str) -> int | None:
    """Bytes one device can hold: the accelerator's limit, or the host's memory (its cgroup limit if lower)."""
    if platform != "cpu":
        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("bytes_limit")
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def plan_memory(cfg: Config, ndev: int = 1) -> int:
    """Bytes a device needs for ``cfg``; a :class:`ConfigError` (exit status 2) before any work if it cannot fit.

    One micro-batch of seeds runs at once per device, with room for the vmapped
    temporaries (four times :meth:`memory_per_seed`), plus the host's reduction buffers
    (64 MiB). Refused when that exceeds the device's (or the host's) memory.
    """
    platform = jax.devices()[0].platform
    micro = micro_batch(cfg, platform)
    need = 4 * micro * int(cfg.memory_per_seed()) + 64 * 2**20
    have = available_memory(platform)
    if have is not None and need > have:
        advice = getattr(cfg, "memory_advice", lambda: "fewer generations or smaller sizes")()
        raise ConfigError(
            f"this config needs about {_bytes(need)} per device ({micro} seeds at once, {_bytes(cfg.memory_per_seed())}"
            f" of state each) and {_bytes(have)} is available: try {advice}"
        )
    return need


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"
