"""Float64 where the package computes, and nowhere else.

The package never turns on ``jax_enable_x64`` for the whole process (that would silently
change a user's other JAX code). Its own tracing and execution run inside
:func:`float64`, a context around ``jax.enable_x64(True)``; a float64 config traced
without it would silently simulate in float32, so :func:`require_float64` refuses that.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

__all__ = ["float64", "require_float64", "Float64Disabled", "float64_enabled"]


class Float64Disabled(RuntimeError):
    """A float64 config was about to be traced with float64 off (it would run in float32)."""


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Enable float64 in JAX for the duration of the block (thread-local, restored after)."""
    with jax.enable_x64(True):
        yield


def float64_enabled() -> bool:
    """Whether JAX would create float64 arrays here (the context's setting, not only the global one)."""
    return jax.dtypes.canonicalize_dtype(np.float64) == np.float64


def require_float64(cfg: Any) -> None:
    """Raise :class:`Float64Disabled` if ``cfg`` asks for float64 and JAX would give float32."""
    if getattr(cfg, "precision", "float64") == "float64" and not float64_enabled():
        raise Float64Disabled(
            f"{cfg.model} config asks for float64 but JAX's float64 is off here: run it through "
            "model_collapse.experiments.run/simulate_seeds, or inside "
            "model_collapse.experiments.engine.precision.float64()"
        )
