"""The smallest complete model: a Gaussian mean refit with known unit variance.

Used by the interface tests (and shown in the README's "Adding a model"). Generation
``n`` fits ``mu_n`` as the mean of ``M`` samples from ``N(mu_{n-1}, 1)``, so under
replace ``mu_n - mu_0`` is a sum of ``n`` independent ``N(0, 1/M)`` steps and
``E mu_n^2 = n / M`` (``mu_0 = 0``).
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from model_collapse.experiments.models import Metric, Model
from model_collapse.experiments.models.config import check_choice, check_positive_int, config_dataclass
from model_collapse.experiments.models.regimes import REGIMES


@config_dataclass()
class ToyConfig:
    """A Gaussian mean refit with known variance."""

    M: int = 10
    generations: int = 5
    regime: str = "replace"
    real_fraction: float = 0.5
    precision: str = "float64"

    model: ClassVar[str] = "toy"
    CHOICES: ClassVar[dict] = {"regime": REGIMES, "precision": ("float64", "float32")}

    def __post_init__(self):
        check_positive_int("M", self.M)
        check_positive_int("generations", self.generations)
        for name, choices in self.CHOICES.items():
            check_choice(name, getattr(self, name), choices)

    @property
    def dtype(self):
        return jnp.float64 if self.precision == "float64" else jnp.float32

    def memory_per_seed(self) -> int:
        return 8 * (4 * self.M + 4 * self.generations + self.generations * self.M)


class Toy(Model):
    name = "toy"
    config = ToyConfig
    regimes = REGIMES
    default_sampler = ("faithful", "the only one")
    metrics = (Metric("x", "mu_n^2", "linear", lambda cfg, n: np.zeros(np.shape(n))),)

    def batch_size(self, cfg):
        return cfg.M

    def init(self, cfg, key):
        return None, jnp.zeros((), cfg.dtype), key

    def draw(self, cfg, ctx, key, params, rows):
        return params + jax.random.normal(key, (rows.size,), cfg.dtype)

    def statistics(self, cfg, ctx, batch):
        return (jnp.asarray(batch.shape[0], batch.dtype), jnp.sum(batch))

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1])

    def fit(self, cfg, ctx, stats):
        return stats[1] / stats[0]

    def evaluate(self, cfg, ctx, params):
        return {"x": params**2}

    def theory(self, cfg, generations, convention="fit"):
        n = np.asarray(generations) + (convention == "downstream")
        return {"x": n / cfg.M if cfg.regime == "replace" else None}

    def theory_kinds(self, cfg):
        return {"x": "exact expectation" if cfg.regime == "replace" else None}

    def examples(self):
        return (ToyConfig(),)

    def laws(self):
        return []

    def figures(self):
        return {}
