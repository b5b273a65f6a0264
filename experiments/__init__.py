"""JAX simulations of model collapse, the runner, the registry of laws and the CLI."""

import jax

jax.config.update("jax_enable_x64", True)

from . import models  # noqa: E402
from .engine.runner import Result, run, seed_keys, simulate_seeds  # noqa: E402
from .engine.stats import NonFiniteError  # noqa: E402
from .models import MODELS, Model, get_model, register_model  # noqa: E402
from .models.config import ConfigError, config_dict, config_hash  # noqa: E402
from .models.gaussian import GaussianConfig  # noqa: E402
from .models.linreg import LinRegConfig  # noqa: E402
from .models import gaussian, linreg  # noqa: E402

register_model(Model(name="linreg", config=LinRegConfig, simulate=linreg.simulate, metrics=linreg.METRICS, theory=linreg.theory))
register_model(Model(name="gaussian", config=GaussianConfig, simulate=gaussian.simulate, metrics=gaussian.METRICS, theory=gaussian.theory))

__all__ = ["ConfigError", "GaussianConfig", "LinRegConfig", "MODELS", "Model", "NonFiniteError", "Result", "config_dict",
           "config_hash", "get_model", "register_model", "run", "seed_keys", "simulate_seeds"]
