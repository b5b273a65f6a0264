"""A result cache: each run saved as ``.npz`` plus a JSON sidecar, keyed by config and base seed.

An entry (keyed by config hash, the program's fingerprint (:func:`code_version`), base seed
and seed count) holds the per-generation
statistics *and* the reducer's state, so a later request for more seeds of the same
config extends the largest smaller entry instead of starting over; because seed
ranges are disjoint and the reduction's order is fixed by the seed index, the
extended result is bit-identical to a single run of all seeds (when the cached
count is a whole number of micro-batches; otherwise it is rerun).

Writes are atomic: both files are written to temporary names in the cache folder
and renamed into place, the sidecar last, so an interrupted run never leaves an
entry that loads; the next run simply recomputes or resumes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..models.config import Config, config_dict, config_hash
from .fingerprints import fingerprint
from .runner import MetricSummary, Result, run, select_metrics
from .stats import BLOCK

__all__ = ["default_cache_dir", "cached_run", "cached_array", "load", "save", "entries", "clear"]

_FORMAT = 2  # 2: keyed by the program's fingerprint (format 1 hashed a list of source files)


def default_cache_dir() -> Path:
    """``$COLLAPSE_CACHE`` if set, else ``.collapse_cache`` in the working directory."""
    return Path(os.environ.get("COLLAPSE_CACHE", ".collapse_cache"))


def code_version(cfg: Config, cache_dir: Path | None = None) -> str:
    """The fingerprint of the program that computes ``cfg``'s results
    (:func:`model_collapse.experiments.engine.runner.program_fingerprint`), remembered in
    ``cache_dir`` (default :func:`default_cache_dir`) by what the program depends on
    (:mod:`model_collapse.experiments.engine.fingerprints`), so a rerun lowers nothing."""
    return fingerprint(cfg, Path(cache_dir or default_cache_dir()))


def _stem(cfg, seed: int, metrics: tuple[str, ...] | None = None, cache_dir: Path | None = None) -> str:
    """An entry's name without its seed count; a run of some of the metrics has its own entries."""
    stem = f"{cfg.model}-{config_hash(cfg)}-p{code_version(cfg, cache_dir)}-s{seed}"
    if metrics is None or tuple(metrics) == select_metrics(cfg, None):
        return stem
    import hashlib

    return f"{stem}-m{hashlib.sha256(','.join(metrics).encode()).hexdigest()[:8]}"


def _key(cfg, seed: int, seeds: int, metrics: tuple[str, ...] | None = None, cache_dir: Path | None = None) -> str:
    return f"{_stem(cfg, seed, metrics, cache_dir)}-n{seeds}"


def _git_commit() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(result: Result, cache_dir: Path | None = None) -> Path:
    """Write ``result`` atomically; returns the sidecar's path."""
    cache_dir = Path(cache_dir or default_cache_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = _key(result.config, result.seed, result.seeds, tuple(result.metrics), cache_dir)
    arrays = {"generation": result.generation}
    for name, s in result.metrics.items():
        for field in ("mean", "sem", "std", "minimum", "maximum"):
            arrays[f"{name}/{field}"] = getattr(s, field)
        for q, v in s.quantiles.items():
            arrays[f"{name}/q/{q}"] = v
        for field, v in (result.state or {}).get(name, {}).items():
            arrays[f"{name}/state/{field}"] = np.asarray(v)
    npz = cache_dir / f"{key}.npz"
    _atomic_write(npz, lambda fh: np.savez(fh, **arrays))
    sidecar = {
        "format": _FORMAT,
        "key": key,
        "config": config_dict(result.config),
        "config_hash": config_hash(result.config),
        "seed": result.seed,
        "seed_range": [result.seed_start, result.seed_start + result.seeds],
        "seeds": result.seeds,
        "metrics": list(result.metrics),
        "git_commit": _git_commit(),
        "program_fingerprint": code_version(result.config, cache_dir),
        **{k: v for k, v in result.meta.items()},
    }
    path = cache_dir / f"{key}.json"
    _atomic_write(path, lambda fh: fh.write(json.dumps(sidecar, indent=1, sort_keys=True).encode()))
    return path


def load(
    cfg: Config, seed: int, seeds: int, cache_dir: Path | None = None, metrics: Sequence[str] | None = None
) -> Result | None:
    """The cached result for ``(cfg, seed, seeds)`` of ``metrics`` (default all), or ``None`` (missing, partial
    or unreadable); a run of every metric also serves a request for some of them."""
    cache_dir = Path(cache_dir or default_cache_dir())
    names = select_metrics(cfg, metrics)
    hit = _load(cfg, seed, seeds, cache_dir, names)
    if hit is None and names != select_metrics(cfg, None):
        full = _load(cfg, seed, seeds, cache_dir, select_metrics(cfg, None))
        if full is not None:
            pick = lambda d: {m: d[m] for m in names}  # noqa: E731
            hit = dataclasses.replace(full, metrics=pick(full.metrics), state=pick(full.state))
    return hit


def _load(cfg, seed: int, seeds: int, cache_dir: Path, names: tuple[str, ...]) -> Result | None:
    key = _key(cfg, seed, seeds, names, cache_dir)
    try:
        meta = json.loads((cache_dir / f"{key}.json").read_text())
        if (
            meta.get("format") != _FORMAT
            or meta.get("config") != config_dict(cfg)
            or meta.get("program_fingerprint") != code_version(cfg, cache_dir)
        ):
            return None
        with np.load(cache_dir / f"{key}.npz") as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError):
        return None
    metrics, state = {}, {}
    for name in meta["metrics"]:
        quantiles = {k.split("/q/")[1]: v for k, v in data.items() if k.startswith(f"{name}/q/")}
        metrics[name] = MetricSummary(
            mean=data[f"{name}/mean"],
            sem=data[f"{name}/sem"],
            std=data[f"{name}/std"],
            minimum=data[f"{name}/minimum"],
            maximum=data[f"{name}/maximum"],
            quantiles=quantiles,
        )
        state[name] = {k.split("/state/")[1]: v for k, v in data.items() if k.startswith(f"{name}/state/")}
    start, stop = meta["seed_range"]
    extra = {
        k: v
        for k, v in meta.items()
        if k not in ("format", "key", "config", "config_hash", "seed", "seed_range", "seeds", "metrics")
    }
    return Result(cfg, seed, start, stop - start, data["generation"], metrics, {**extra, "cache": "hit"}, state)


def cached_run(cfg: Config, seeds: int, seed: int = 0, cache_dir: Path | None = None, **run_kwargs: Any) -> Result:
    """``run`` through the cache: the same request always returns the same result.

    A hit returns the entry for exactly ``(cfg, seed, seeds)``. Otherwise the largest
    cached entry of the same config and seed with fewer seeds (a whole number of
    micro-batches, starting at seed index 0) is extended by the missing seeds, which
    gives bit-for-bit the result of one run; failing that, all seeds are simulated.
    """
    import jax

    from . import xla_cache

    xla_cache.enable()
    cache_dir = Path(cache_dir or default_cache_dir())
    if jax.process_count() > 1:
        # Several processes must make the same runs in lockstep (each run is collective),
        # so none reads the cache, which another process may be writing; process 0 writes.
        result = run(cfg, seeds, seed, **run_kwargs)
        result.meta["cache"] = "not read (several processes)"
        if jax.process_index() == 0:
            save(result, cache_dir)
        return result
    names = select_metrics(cfg, run_kwargs.get("metrics"))
    hit = load(cfg, seed, seeds, cache_dir, names)
    if hit is not None:
        return hit
    smaller = []
    for path in cache_dir.glob(f"{_stem(cfg, seed, names, cache_dir)}-n*.json"):
        n = int(path.stem.rsplit("-n", 1)[1])
        if n < seeds and n % BLOCK == 0:
            smaller.append(n)
    base = next((r for r in (_load(cfg, seed, n, cache_dir, names) for n in sorted(smaller, reverse=True)) if r), None)
    if base is not None and base.seed_start == 0 and base.state:
        result = run(cfg, seeds - base.seeds, seed, seed_start=base.seeds, state=base.state, **run_kwargs)
        result.meta["cache"] = f"extended from {base.seeds} seeds"
    else:
        result = run(cfg, seeds, seed, **run_kwargs)
        result.meta["cache"] = "miss"
    save(result, cache_dir)
    return result


def cached_array(
    name: str, cfg: Config, seeds: int, seed: int, compute: Callable[[], np.ndarray], cache_dir: Path | None = None
) -> np.ndarray:
    """``compute()``, an array of ``cfg``'s first ``seeds`` seeds from base ``seed`` that is not a
    :class:`Result` (e.g. the survival table), through the cache: saved atomically as
    ``.npy`` next to the run entries, keyed like them (config hash, program fingerprint,
    base seed, seed count) and by ``name``; not listed by :func:`entries`, removed by
    :func:`clear`."""
    cache_dir = Path(cache_dir or default_cache_dir())
    path = cache_dir / f"{_stem(cfg, seed, None, cache_dir)}-{name}-n{seeds}.npy"
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    value = np.asarray(compute())
    cache_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda fh: np.save(fh, value))
    return value


def entries(cache_dir: Path | None = None) -> list[dict]:
    """The sidecars of every complete entry of this format, sorted by key (older formats are not listed)."""
    cache_dir = Path(cache_dir or default_cache_dir())
    out = []
    for path in sorted(cache_dir.glob("*.json")):
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if meta.get("format") == _FORMAT and (cache_dir / f"{meta.get('key')}.npz").exists():
            out.append(meta)
    return out


def clear(cache_dir: Path | None = None) -> int:
    """Delete the cache folder; returns how many entries it held."""
    cache_dir = Path(cache_dir or default_cache_dir())
    count = len(entries(cache_dir))
    shutil.rmtree(cache_dir, ignore_errors=True)
    return count
