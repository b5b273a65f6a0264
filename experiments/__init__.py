"""JAX simulations of model collapse: the models, the runner, the registry of laws and the CLI.

Importing this package changes no global state: float64 is enabled only around the
package's own tracing and execution (:func:`model_collapse.experiments.engine.precision.float64`),
and SymPy is not imported until a closed form is evaluated.

The public surface::

    cfg = LinRegConfig(d=32, T=100, regime="accumulate")
    result = run(cfg, seeds=4000, seed=0)        # per-generation mean, sem, quantiles
    assert_law("linreg/accumulate/fixed", cfg)   # a registered law at your own config
"""

from __future__ import annotations

from importlib import metadata as _metadata

from .engine.precision import Float64Disabled, float64
from .engine.runner import Result, run, seed_keys, simulate_seeds
from .engine.stats import NonFiniteError
from .models import MODELS, Metric, Model, Transform, get_model, register_model
from .models.config import ConfigError, config_dict, config_from_dict, config_hash
from .models.gaussian import GaussianConfig
from .models.linreg import LinRegConfig


def __getattr__(name: str):
    """``assert_law`` and ``InconclusiveError``, imported on first use (the laws load SymPy)."""
    if name in ("assert_law", "InconclusiveError"):
        from . import laws

        return getattr(laws, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


try:
    __version__ = _metadata.version("model-collapse")
except _metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "ConfigError",
    "Float64Disabled",
    "GaussianConfig",
    "LinRegConfig",
    "MODELS",
    "Metric",
    "Model",
    "NonFiniteError",
    "Result",
    "Transform",
    "config_dict",
    "config_from_dict",
    "config_hash",
    "float64",
    "get_model",
    "register_model",
    "run",
    "seed_keys",
    "simulate_seeds",
    "__version__",
    "assert_law",
    "InconclusiveError",
]
