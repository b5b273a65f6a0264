"""The registry of models: name -> config class, simulator, metrics and theory."""

from __future__ import annotations

import dataclasses
from typing import Callable

from .config import ConfigError

__all__ = ["Model", "MODELS", "register_model", "get_model"]


@dataclasses.dataclass(frozen=True)
class Model:
    """A simulated model.

    Attributes:
        name: CLI name, e.g. ``"linreg"``.
        config: its config class.
        simulate: ``(cfg, key) -> {metric: (generations,)}``, pure, jittable.
        metrics: metric names, in report order.
        theory: ``(cfg, generations, convention) -> {metric: curve or None}``.
    """

    name: str
    config: type
    simulate: Callable
    metrics: tuple[str, ...]
    theory: Callable


MODELS: dict[str, Model] = {}


def register_model(model: Model) -> Model:
    MODELS[model.name] = model
    return model


def get_model(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
