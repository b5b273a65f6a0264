"""Configs: frozen dataclasses registered as JAX PyTrees, with one-line validation errors.

Every field of a config is *static* (PyTree metadata, no leaves): a config fixes the
shapes and the control flow of a simulation, so a jitted simulator is specialised to
it and passing it again hits the compilation cache. Validation happens at
construction, so an invalid config never reaches a simulator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from typing import Any, Iterable

import jax

__all__ = [
    "ConfigError",
    "config_dataclass",
    "config_dict",
    "config_hash",
    "check_positive_int",
    "check_nonnegative",
    "check_choice",
    "check_fraction",
    "PRECISIONS",
]

PRECISIONS = ("float64", "float32")


class ConfigError(ValueError):
    """An invalid configuration; its message is one line, fit for a CLI error."""


def config_dataclass(cls):
    """Make ``cls`` a frozen dataclass and register it as a PyTree with static fields."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    jax.tree_util.register_dataclass(cls, data_fields=[], meta_fields=names)
    return cls


def config_dict(cfg) -> dict[str, Any]:
    """The config's fields as plain JSON-serialisable values, plus its model name."""
    return {"model": cfg.model, **dataclasses.asdict(cfg)}


def config_hash(cfg) -> str:
    """A stable 16-hex-digit hash of the model and every field of ``cfg``."""
    blob = json.dumps(config_dict(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_nonnegative(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")


def check_fraction(name: str, value: Any) -> None:
    check_nonnegative(name, value)
    if value > 1:
        raise ConfigError(f"{name} must lie in [0, 1], got {value!r}")


def check_choice(name: str, value: Any, choices: Iterable[str]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}")
