"""JAX's persistent compilation cache, next to the results cache.

Compiling a config's program is most of a cold ``collapse simulate`` (seconds, against a
fraction of a second of simulation), and without a persistent cache every process
compiles anew. :func:`enable` points JAX's cache at ``$COLLAPSE_XLA_CACHE`` if set,
else at ``xla/`` inside the results cache (``$COLLAPSE_CACHE``, default
``.collapse_cache``), so a second process reuses the first one's executables. The cache
holds only compiled programs, keyed by JAX on the program, the compiler options and
the platform: a hit runs the very executable a miss would build (same bits), and the
folder is safe to delete at any time. ``COLLAPSE_XLA_CACHE=off`` turns it off.

Enabled by the command line and by the cached runner (wherever the results cache is in
use); plain :func:`model_collapse.experiments.run` writes nothing to disk.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import jax

__all__ = ["OFF", "cache_dir", "enable"]

OFF = ("off", "0", "false", "none", "")
_STATE: dict[str, Path | None] = {}


def cache_dir() -> Path | None:
    """Where compiled programs are kept (``None``: turned off by ``COLLAPSE_XLA_CACHE=off``)."""
    env = os.environ.get("COLLAPSE_XLA_CACHE")
    if env is not None:
        return None if env.strip().lower() in OFF else Path(env)
    from .cache import default_cache_dir

    return default_cache_dir() / "xla"


def enable() -> Path | None:
    """Turn JAX's persistent compilation cache on at :func:`cache_dir` (once per process).

    Every program is kept, however quick its compilation (the default threshold of one
    second would skip most of this package's). A folder that cannot be created leaves
    the cache off with a warning: compilation still works, only slower.

    Returns:
        The folder in use, or ``None`` if the cache is off.
    """
    if "dir" in _STATE:
        return _STATE["dir"]
    target = cache_dir()
    if target is not None:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            warnings.warn(f"compilation cache off: cannot create {target} ({err})", stacklevel=2)
            target = None
    if target is not None and jax.config.jax_compilation_cache_dir is None:
        from jax._src import compilation_cache

        jax.config.update("jax_compilation_cache_dir", str(target))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        # JAX decides once per process whether a cache is in use; a compilation before
        # this call would otherwise have settled it as "no cache".
        compilation_cache.reset_cache()
    elif target is not None:  # the user configured JAX's cache already: theirs wins
        target = Path(jax.config.jax_compilation_cache_dir)
    _STATE["dir"] = target
    return target
