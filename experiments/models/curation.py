r"""Curation by a reward (Ferbach, Bertrand, Bose & Gidel, NeurIPS 2024), written once for every model.

Each kept synthetic sample is chosen among ``K`` candidates ``x_1 .. x_K`` drawn i.i.d. from the
model, with the Bradley-Terry/Luce probabilities

.. math:: P(\text{keep } x_j) = \frac{e^{r(x_j)}}{\sum_{l=1}^K e^{r(x_l)}},

drawn with the Gumbel-max trick: ``j = argmax_l (r(x_l) + G_l)`` with ``G_l`` i.i.d. standard
Gumbel (``P(argmax = j)`` is exactly the softmax of the ``r(x_l)``). ``K = 1`` is no curation.

How a model uses it (three hooks, so that real samples are never curated):

* ``draw`` returns ``K`` candidates per row, shape ``(rows, K, ...)``, when ``cfg.curate > 1``
  (:func:`as_candidates`); a plain draw otherwise;
* ``statistics`` fits the first slot of each row (:func:`kept`);
* ``transforms`` returns :class:`Curate`, which the regime engine applies to synthetic batches
  only: it moves the chosen candidate into the first slot. An untransformed batch (generation 1's
  real data, ``mix``'s and ``augment``'s real rows) keeps its first candidate, a plain draw.

The kept sample's law is ``p_{t+1}(x) = p_t(x) H^K_{p_t}(x)`` with
``H^K_p(x) = K E_{Y_1..Y_{K-1} ~ p}[e^{r(x)} / (e^{r(x)} + sum_j e^{r(Y_j)})]``
(:mod:`model_collapse.theory.curation`). The rewards:

* Gaussian: ``r(x) = -(x - a)^T A (x - a) / 2`` with ``a = reward_center * 1`` and
  ``A = reward_scale * I`` (:func:`gaussian_reward`);
* categorical: ``r_i = reward_slope * i / (K - 1)``, linear in the category's index
  (:func:`categorical_reward`): ``reward_slope > 0`` prefers the high indices (the tail of a
  Zipf truth), ``< 0`` the head.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from .base import Transform
from .config import ConfigError, check_positive_int

__all__ = [
    "Curate",
    "as_candidates",
    "categorical_reward",
    "check_curation",
    "gaussian_reward",
    "kept",
    "luce_choice",
    "reward_vector",
    "transforms",
]

PyTree = Any


def check_curation(cfg: Any, reward: dict[str, str]) -> None:
    """Validate ``cfg.curate`` (an integer ``>= 1``) and the reward fields named in ``reward``.

    Args:
        cfg: a config with a ``curate`` field and the reward fields.
        reward: field name -> ``"positive"`` (a finite number ``> 0``: the Gaussian's ``A`` must be
            positive definite) or ``"finite"`` (any finite number).

    Raises:
        ConfigError: one line naming the field.
    """
    check_positive_int("curate", cfg.curate)
    for name, kind in reward.items():
        value = getattr(cfg, name)
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
        if kind == "positive" and value <= 0:
            raise ConfigError(
                f"{name} must be > 0: the reward's matrix A = {name} * I must be positive definite, got {value!r}"
            )


def gaussian_reward(cfg: Any, x: jax.Array) -> jax.Array:
    """``r(x) = -reward_scale ||x - reward_center||^2 / 2`` over the last axis (``A = reward_scale I``)."""
    a = jnp.asarray(cfg.reward_center, x.dtype)
    c = jnp.asarray(cfg.reward_scale, x.dtype)
    return -0.5 * c * jnp.sum((x - a) ** 2, axis=-1)


def categorical_reward(cfg: Any, x: jax.Array) -> jax.Array:
    """``r_i = reward_slope * i / (K - 1)`` for category indices ``x`` (any shape)."""
    slope = jnp.asarray(cfg.reward_slope, cfg.dtype)
    return slope * x.astype(cfg.dtype) / (cfg.K - 1)


def reward_vector(cfg: Any) -> np.ndarray:
    """The categorical model's rewards ``r_i = reward_slope * i / (K - 1)`` as a NumPy vector (theory's input)."""
    return cfg.reward_slope * np.arange(cfg.K) / (cfg.K - 1)


def luce_choice(key: jax.Array, rewards: jax.Array) -> jax.Array:
    """Indices along the last axis drawn with probabilities ``softmax(rewards)`` (Gumbel-max).

    ``argmax_l (r_l + G_l)`` with ``G_l`` i.i.d. standard Gumbel is exactly Luce's choice rule;
    ties have probability zero. Shape: ``rewards.shape[:-1]``.
    """
    gumbel = jax.random.gumbel(key, rewards.shape, dtype=rewards.dtype)
    return jnp.argmax(rewards + gumbel, axis=-1)


def as_candidates(cfg: Any, samples: jax.Array) -> jax.Array:
    """``rows * K`` i.i.d. samples as ``(rows, K, ...)`` candidates when ``cfg.curate > 1`` (else as is)."""
    K = cfg.curate
    if K == 1:
        return samples
    return samples.reshape((samples.shape[0] // K, K) + samples.shape[1:])


def kept(cfg: Any, batch: jax.Array) -> jax.Array:
    """The samples a batch contributes to a fit: the first candidate of each row when curating."""
    return batch if cfg.curate == 1 else batch[:, 0]


@dataclasses.dataclass(frozen=True)
class Curate(Transform):
    """Keep one of each row's ``K`` candidates, chosen with Luce probabilities ``softmax(r)``.

    Attributes:
        reward: ``(cfg, candidates) -> rewards`` of shape ``(rows, K)`` for a ``(rows, K, ...)`` batch.
    """

    reward: Callable[[Any, jax.Array], jax.Array]
    name: ClassVar[str] = "curate"

    def __call__(self, cfg: Any, key: jax.Array, batch: jax.Array) -> jax.Array:
        """The batch with the chosen candidate of each row in its first slot (same shape)."""
        j = luce_choice(key, self.reward(cfg, batch))
        index = j.reshape(j.shape + (1,) * (batch.ndim - 1))
        chosen = jnp.take_along_axis(batch, index, axis=1)
        return jnp.concatenate([chosen, batch[:, 1:]], axis=1)


def transforms(cfg: Any, reward: Callable[[Any, jax.Array], jax.Array]) -> tuple[Transform, ...]:
    """``(Curate(reward),)`` when ``cfg.curate > 1``, else ``()``."""
    return (Curate(reward),) if cfg.curate > 1 else ()
