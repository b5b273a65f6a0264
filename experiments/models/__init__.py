"""The models: the interface, the registry, the shared regime engine and one module per model.

A model is registered once, whole: :func:`register_model` refuses an instance that
lacks a part of :class:`~model_collapse.experiments.models.base.Model` (its config,
metrics with their skewness, regimes, default sampler, engine hooks, theory, laws,
figures) and a name registered twice.
"""

from __future__ import annotations

from .base import Metric, Model, Rows, Transform, apply_transforms
from .config import ConfigError

__all__ = ["Metric", "Model", "Rows", "Transform", "apply_transforms", "MODELS", "register_model", "get_model"]

MODELS: dict[str, Model] = {}

_REQUIRED = ("name", "config", "metrics", "regimes", "default_sampler")


def register_model(model: Model) -> Model:
    """Add ``model`` to :data:`MODELS`.

    Raises:
        TypeError: ``model`` is not a :class:`Model` instance, or lacks a part.
        ValueError: its name is taken.
    """
    if not isinstance(model, Model):
        raise TypeError(f"a model must be an instance of a Model subclass, got {type(model).__name__}")
    missing = [part for part in _REQUIRED if getattr(model, part, None) in (None, (), "")]
    if missing:
        raise TypeError(f"model {getattr(model, 'name', type(model).__name__)!r} lacks {', '.join(missing)}")
    for metric in model.metrics:
        if not isinstance(metric, Metric):
            raise TypeError(f"model {model.name!r}: metrics must be Metric objects, got {metric!r}")
    names = [m.name for m in model.metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"model {model.name!r}: a metric is named twice")
    for field in ("model", "STATIC_FIELDS", "TRACED_FIELDS"):
        if not hasattr(model.config, field):
            raise TypeError(f"model {model.name!r}: its config must come from config_dataclass and name its model")
    if model.config.model != model.name:
        raise ValueError(f"model {model.name!r}: its config says model {model.config.model!r}")
    if model.name in MODELS:
        raise ValueError(f"model {model.name!r} is registered twice")
    MODELS[model.name] = model
    return model


def get_model(name: str) -> Model:
    """The registered model called ``name`` (:class:`ConfigError` if none)."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None


from . import categorical, gaussian, linreg, verifier  # noqa: E402,F401  (each registers itself)
