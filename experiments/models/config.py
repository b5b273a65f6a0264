"""Configs: frozen dataclasses registered as JAX PyTrees, with one-line validation errors.

A config declares which of its fields are *static* (they fix an array's shape or the
control flow: dimensions, sample counts, generations, the regime, the sampler, the
precision) and which are *parameters* (continuous values that change no shape: noise
levels), in ``traced=(...)``. The runner compiles one program per static part and
passes the parameters as arguments, so a sweep over them compiles once; inside the
program a parameter is a tracer, so a model may use it only in array arithmetic
(``jnp.sqrt(cfg.sigma2)``), never in Python control flow or shapes. A real fraction
fixes how many rows or samples are real (an array's size), so it is static. Values are normalised on
construction (``sigma2=1`` and ``sigma2=1.0`` are one config with one hash; NumPy
integers and floats are accepted; ``True``/``False`` only for boolean fields), and
validation happens there too, so an invalid config never reaches a simulator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Config",
    "ConfigError",
    "config_dataclass",
    "config_from_dict",
    "config_dict",
    "config_hash",
    "check_positive_int",
    "check_nonnegative",
    "check_choice",
    "check_fraction",
    "check_real_count",
    "MAX_INT",
    "PRECISIONS",
]

PRECISIONS = ("float64", "float32")
# Counts and sizes become array dimensions and int32 indices: beyond this no simulator can hold them.
MAX_INT = 2**31


class Config(Protocol):
    """What the engine needs of any model's config (a :func:`config_dataclass` instance)."""

    model: ClassVar[str]
    generations: int
    regime: str
    precision: str

    def memory_per_seed(self) -> int: ...


class ConfigError(ValueError):
    """An invalid configuration; its message is one line, fit for a CLI error."""


def _normalise(name: str, kind: Any, value: Any) -> Any:
    """``value`` as the field's type: ``int``, ``float``, ``bool`` or ``str`` (one line on error).

    An optional field (``int | None``) takes ``None`` or a value of its type.
    """
    if isinstance(kind, str) and kind.replace(" ", "").endswith("|None"):
        return None if value is None else _normalise(name, kind.replace(" ", "")[: -len("|None")], value)
    if kind in (float, "float"):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        return float(value)
    if kind in (int, "int"):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        limit = 2**32 if name.endswith("seed") else MAX_INT
        if abs(int(value)) >= limit:
            raise ConfigError(
                f"{name} must be below 2**{limit.bit_length() - 1} (the simulators' integer types), got {value}"
            )
        return int(value)
    if kind in (bool, "bool"):
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return bool(value)
    if kind in (str, "str"):
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, got {value!r}")
        return value
    return value


def _dtype(self: Any) -> type:
    return jnp.float64 if self.precision == "float64" else jnp.float32


def config_dataclass(cls: type | None = None, *, traced: tuple[str, ...] = ()) -> Any:
    """Make ``cls`` a frozen dataclass registered as a PyTree, with normalised field values.

    A config with a ``precision`` field gets a ``dtype`` property (``jnp.float64`` or ``jnp.float32``).

    Args:
        traced: the fields that are parameters (change no shape); every other field is
            static. Recorded as ``cls.TRACED_FIELDS`` and ``cls.STATIC_FIELDS``.
    """

    def wrap(cls):
        if "__post_init__" not in cls.__dict__ and not hasattr(cls, "__post_init__"):
            cls.__post_init__ = lambda self: None  # so that dataclass calls the normalising hook
        cls = dataclasses.dataclass(frozen=True)(cls)
        fields = dataclasses.fields(cls)
        names = [f.name for f in fields]
        unknown = set(traced) - set(names)
        if unknown:
            raise TypeError(f"{cls.__name__}: traced fields {sorted(unknown)} are not fields")
        check = cls.__dict__.get("__post_init__") or getattr(cls, "__post_init__", None)

        def __post_init__(self):
            for f in fields:
                object.__setattr__(self, f.name, _normalise(f.name, f.type, getattr(self, f.name)))
            if check is not None:
                check(self)

        cls.__post_init__ = __post_init__
        if "precision" in names and "dtype" not in cls.__dict__:
            cls.dtype = property(_dtype, doc="The simulation's float type: ``precision`` as a JAX dtype.")
        cls.TRACED_FIELDS = tuple(n for n in names if n in traced)
        cls.STATIC_FIELDS = tuple(n for n in names if n not in traced)
        jax.tree_util.register_dataclass(cls, data_fields=[], meta_fields=names)
        return cls

    return wrap if cls is None else wrap(cls)


def config_from_dict(cls: type, values: dict[str, Any]) -> Config:
    """A config from :func:`config_dict`'s output (the ``model`` key is checked and dropped)."""
    values = dict(values)
    model = values.pop("model", cls.model)
    if model != cls.model:
        raise ConfigError(f"a {model!r} config is not a {cls.model!r} config")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown {cls.model} config field {unknown[0]!r}; fields: {', '.join(sorted(names))}")
    return cls(**values)


def config_dict(cfg: Config) -> dict[str, Any]:
    """The config's fields as plain JSON-serialisable values, plus its model name."""
    return {"model": cfg.model, **dataclasses.asdict(cfg)}


def config_hash(cfg: Config) -> str:
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


def check_real_count(real_fraction: float, size: int, size_name: str, unit: str) -> None:
    """``real_fraction * size`` must be a whole number of ``unit`` (mix and augment split a batch by it)."""
    k = real_fraction * size
    if abs(k - round(k)) > 1e-9:
        raise ConfigError(
            f"real_fraction * {size_name} must be a whole number of {unit} (got {real_fraction} * {size} = {k:g})"
        )
