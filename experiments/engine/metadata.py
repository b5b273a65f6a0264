"""What every result records about how it was made: the package, the platform, the versions, the timings."""

from __future__ import annotations

import platform
from typing import Any

import jax
import numpy as np

from .stats import BLOCK

__all__ = ["package_metadata"]


def package_metadata() -> dict[str, Any]:
    """The package's name, version and git commit (``None`` outside a git checkout), for every result."""
    from importlib import metadata

    from .cache import _git_commit

    try:
        version = metadata.version("model-collapse")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return {"name": "model-collapse", "version": version, "commit": _git_commit()}


def _meta(cfg, chunk: int, micro: int, ndev: int, elapsed: float, compile_s: float | None) -> dict[str, Any]:
    from importlib import metadata

    def version(dist: str) -> str | None:  # without importing it (matplotlib and SymPy take a second)
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    dev = jax.devices()[0]
    return {
        "package": package_metadata(),
        "precision": cfg.precision,
        "backend": jax.default_backend(),
        "device_kind": dev.device_kind,
        "devices": ndev,
        "chunk_size": chunk,
        "block": BLOCK,
        "micro_batch": micro,
        "elapsed_s": elapsed,
        "first_chunk_s": compile_s,
        "versions": {
            "python": platform.python_version(),
            "jax": jax.__version__,
            "jaxlib": version("jaxlib"),
            "numpy": np.__version__,
            "scipy": version("scipy"),
            "sympy": version("sympy"),
            "matplotlib": version("matplotlib"),
        },
    }
