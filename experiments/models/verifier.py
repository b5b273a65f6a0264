"""Synthetic labels pruned by a verifier (Feng, Dohmatob, Yang, Charton & Kempe, ICLR 2025, Theorem 4.2).

A two-class Gaussian mixture: ``y = +-1`` equiprobable and ``x | y ~ N(y mu, I_d)``, with
``mu = mu_norm e_1`` (the model is rotation invariant, so the direction is no loss). A
*generator* labels synthesized points: the label it gives, ``y_obs``, is wrong
(``y_obs = -y``) with probability ``p``, independently of ``x`` and of everything else (a
symmetric label-noise channel: the simplest model of the paper's theorem; the paper's
generator is a linear classifier, whose errors depend on ``x`` and fall near its boundary;
what that changes is said in ``paper_notes.md``). A *verifier* keeps a correctly labelled
point with probability ``phi`` and a wrongly labelled one with probability ``psi``,
independently. The *learner* is the mean-difference classifier on the kept points,
``w = (1/K) sum_kept y_obs x`` (``K`` kept; ``w = 0`` when nothing is kept), predicting
``sign(<w, x>)`` (a fair coin on a tie).

Generations. The generator is fixed and never refit: Feng et al.'s theory is one round of
synthesis, pruning and training. Generation ``n`` is the learner trained on every batch so
far: ``n N`` synthesized points, each pruned, i.e. the ``accumulate`` regime, so a
trajectory is the paper's data-scaling axis (data size ``n N``). Only ``accumulate`` runs;
the other regimes (a classifier relabelling the next generation's data, real data mixed in)
are refused with a one-line error.

Samplers. The learner needs the sums of one batch only: drawn ``N``, kept ``K``, wrong
among the kept ``W``, ``S = sum_kept y_obs x``. ``faithful`` draws the ``N`` raw points,
labels, flips and the verifier's coins (``O(N d)``); ``exact`` draws the counts and then the
sum from its law given them: one uniform per point places it in a cell of the multinomial
(kept and correct with probability ``(1 - p) phi``, kept and wrong ``p psi``, dropped
otherwise), and, since ``y_obs x = +-(mu + y z)`` with ``y z ~ N(0, I_d)`` independent of the
labels and the verifier, ``S = (C - W) mu + sqrt(K) g`` with ``g ~ N(0, I_d)``: the raw points'
law at ``O(N + d)`` per batch. (The two counts could be two binomials, ``O(d)`` per batch, but
JAX's binomial sampler costs about ten seconds of compilation per program.)

Per generation: ``kept_fraction = K/(n N)``; ``noise_rate = W / K``, the label-noise rate
among the kept points (0 when nothing is kept); ``alignment = <w, mu>/||mu||^2``;
``cosine = <w, mu>/(||w|| ||mu||)`` (0 at ``w = 0``); ``accuracy = Phi(||mu|| cosine)``,
the classifier's exact test accuracy on the mixture (``P(y <w, x> > 0)`` for a fresh
``(x, y)``; 1/2 at ``w = 0``). The Bayes classifier has accuracy ``Phi(||mu||)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import register_model
from .base import Metric, Model, Rows
from .categorical_tails import skewness_function
from .config import (
    PRECISIONS,
    ConfigError,
    check_choice,
    check_fraction,
    check_positive_int,
    config_dataclass,
)
from .regimes import REGIMES

__all__ = ["VerifierConfig", "Verifier", "VerifierStats", "METRICS", "SAMPLERS"]

SAMPLERS = ("exact", "faithful")
METRICS = ("kept_fraction", "noise_rate", "alignment", "cosine", "accuracy")
SUPPORTED = ("accumulate",)


@config_dataclass(traced=("mu_norm", "p", "phi", "psi"))
class VerifierConfig:
    """Synthesized labels, wrong with probability ``p``, pruned by a verifier, learnt by a mean difference.

    Attributes:
        d: dimension of ``x`` (``>= 1``).
        mu_norm: ``||mu||``, the class means' distance from 0 (``> 0``; the Bayes accuracy is ``Phi(mu_norm)``).
        p: probability that the generator's label is wrong, independently of ``x`` (in ``[0, 1]``).
        phi: probability that the verifier keeps a correctly labelled point (in ``[0, 1]``).
        psi: probability that the verifier keeps a wrongly labelled point (in ``[0, 1]``).
        N: synthesized points per generation, before pruning (``>= 1``); generation ``n`` learns from ``n N``.
        generations: number of batches (generation ``n``: the learner on the first ``n``).
        regime: accumulate only (the generator is fixed: generation ``n`` adds a batch to the training set).
        sampler: ``exact`` (the batch's sums from their law, the default) or ``faithful`` (raw points).
        precision: ``float64`` (default) or ``float32``.
    """

    d: int = 20
    mu_norm: float = 1.0
    p: float = 0.3
    phi: float = 1.0
    psi: float = 1.0
    N: int = 100
    generations: int = 100
    regime: str = "accumulate"
    sampler: str = "exact"
    precision: str = "float64"

    model: ClassVar[str] = "verifier"
    CHOICES: ClassVar[dict] = {"regime": REGIMES, "sampler": SAMPLERS, "precision": PRECISIONS}

    def __post_init__(self):
        check_positive_int("d", self.d)
        check_positive_int("N", self.N)
        check_positive_int("generations", self.generations)
        if not np.isfinite(self.mu_norm) or self.mu_norm <= 0:
            raise ConfigError(f"mu_norm must be a finite number > 0, got {self.mu_norm!r}")
        for name in ("p", "phi", "psi"):
            check_fraction(name, getattr(self, name))
        for name, choices in self.CHOICES.items():
            check_choice(name, getattr(self, name), choices)
        if self.regime not in SUPPORTED:
            raise ConfigError(
                f"the verifier model runs --regime accumulate only (a fixed generator; generation n learns from "
                f"n batches), got {self.regime!r}"
            )
        if self.phi == 0 and self.psi == 0:
            raise ConfigError("phi = psi = 0: the verifier keeps no point, so there is nothing to learn from")
        if (1 - self.p) * self.phi + self.p * self.psi == 0:
            raise ConfigError(
                f"the verifier keeps no point: p psi + (1 - p) phi = 0 at p={self.p!r}, phi={self.phi!r}, "
                f"psi={self.psi!r}"
            )

    def memory_advice(self) -> str:
        """What shrinks :meth:`memory_per_seed` (the memory planner's suggestion)."""
        return "the exact sampler (--sampler exact), a smaller N or d, or fewer generations"

    def memory_per_seed(self) -> int:
        """Bytes one seed's simulation holds at once (an estimate for chunking)."""
        words = 4 * self.d + 16 + (len(METRICS) + 2) * self.generations + 2 * self.N
        if self.sampler == "faithful":
            words += 3 * self.N * (self.d + 4)
        return 8 * words


class VerifierStats(NamedTuple):
    """A training set's sums: drawn, kept, wrong among the kept, ``<S, e_1>`` and ``S`` off ``e_1``.

    ``S = sum_kept y_obs x``; the learner is ``w = S / kept``. They add across batches, so
    they are also the learner's parameters (the scan's carry).
    """

    drawn: jax.Array
    kept: jax.Array
    wrong: jax.Array
    along: jax.Array
    perp: jax.Array  # (d - 1,)


def _phi_cdf(x: jax.Array) -> jax.Array:
    return 0.5 * jax.scipy.special.erfc(-x / jnp.sqrt(jnp.asarray(2.0, x.dtype)))


class Verifier(Model):
    """Verified synthetic labels and a mean-difference learner: hooks of the shared engine (accumulate)."""

    name = "verifier"
    config = VerifierConfig
    regimes = SUPPORTED
    default_sampler = (
        "exact",
        "draws each point's (correct, kept) cell with one uniform and the kept points' label-weighted sum "
        "(a normal given the counts): the raw points' law at O(N + d) per batch; --sampler faithful draws raw points",
    )

    def __init__(self):
        definitions = {
            "kept_fraction": ("K_n / (n N): the share of synthesized points the verifier kept", "linear"),
            "noise_rate": ("W_n / K_n: the share of wrong labels among the kept points (0 if none kept)", "linear"),
            "alignment": ("<w_n, mu> / ||mu||^2, w_n = mean of y_obs x over the kept points", "linear"),
            "cosine": ("<w_n, mu> / (||w_n|| ||mu||) (0 at w_n = 0)", "linear"),
            "accuracy": ("Phi(||mu|| cosine): the test accuracy of sign(<w_n, x>) on the mixture", "linear"),
        }
        self.metrics = tuple(Metric(m, *definitions[m], skewness_function(m)) for m in METRICS)

    def batch_size(self, cfg: VerifierConfig) -> int:
        return cfg.N

    def init(self, cfg: VerifierConfig, key: jax.Array) -> tuple[None, VerifierStats, jax.Array]:
        zero = jnp.zeros((), cfg.dtype)
        return None, VerifierStats(zero, zero, zero, zero, jnp.zeros((cfg.d - 1,), cfg.dtype)), key

    def draw(self, cfg: VerifierConfig, ctx: None, key: jax.Array, params: VerifierStats, rows: Rows) -> Any:
        """Raw points ``(x, y_obs, wrong, keep)`` from the fixed generator and the verifier (``params`` unused)."""
        k_y, k_z, k_wrong, k_keep = jax.random.split(key, 4)
        n, dt = rows.size, cfg.dtype
        y = 2 * (jax.random.uniform(k_y, (n,), dtype=dt) < 0.5).astype(dt) - 1  # +-1, each with probability 1/2
        x = jax.random.normal(k_z, (n, cfg.d), dtype=dt)
        x = x.at[:, 0].add(y * jnp.asarray(cfg.mu_norm, dt))
        wrong = jax.random.uniform(k_wrong, (n,), dtype=dt) < jnp.asarray(cfg.p, dt)
        keep_prob = jnp.where(wrong, jnp.asarray(cfg.psi, dt), jnp.asarray(cfg.phi, dt))
        keep = jax.random.uniform(k_keep, (n,), dtype=dt) < keep_prob
        return x, jnp.where(wrong, -y, y), wrong.astype(dt), keep.astype(dt)

    def statistics(self, cfg: VerifierConfig, ctx: None, batch: Any) -> VerifierStats:
        x, y_obs, wrong, keep = batch
        s = (keep * y_obs) @ x
        n = jnp.asarray(x.shape[0], cfg.dtype)
        return VerifierStats(n, keep.sum(), (keep * wrong).sum(), s[0], s[1:])

    def draw_statistics(
        self, cfg: VerifierConfig, ctx: None, key: jax.Array, params: VerifierStats, rows: Rows
    ) -> VerifierStats:
        if cfg.sampler == "faithful":
            return self.statistics(cfg, ctx, self.draw(cfg, ctx, key, params, rows))
        k_u, k_g = jax.random.split(key)
        dt = cfg.dtype
        p, phi, psi = (jnp.asarray(v, dt) for v in (cfg.p, cfg.phi, cfg.psi))
        good, bad = (1 - p) * phi, p * psi  # P(correct and kept), P(wrong and kept)
        u = jax.random.uniform(k_u, (rows.size,), dtype=dt)  # one uniform per point: its (correct, kept) cell
        correct = jnp.sum(u < good).astype(dt)
        wrong = jnp.sum((u >= good) & (u < good + bad)).astype(dt)
        kept = correct + wrong
        g = jax.random.normal(k_g, (cfg.d,), dtype=dt) * jnp.sqrt(kept)
        n = jnp.asarray(rows.size, dt)
        return VerifierStats(n, kept, wrong, (correct - wrong) * jnp.asarray(cfg.mu_norm, dt) + g[0], g[1:])

    def merge(self, a: VerifierStats, b: VerifierStats) -> VerifierStats:
        return jax.tree_util.tree_map(jnp.add, a, b)

    def fit(self, cfg: VerifierConfig, ctx: None, stats: VerifierStats) -> VerifierStats:
        return stats  # w = S / K: the sums are the learner

    def evaluate(self, cfg: VerifierConfig, ctx: None, params: VerifierStats) -> dict[str, jax.Array]:
        dt = cfg.dtype
        m = jnp.asarray(cfg.mu_norm, dt)
        kept = jnp.maximum(params.kept, 1.0)
        norm = jnp.sqrt(params.along**2 + jnp.sum(params.perp**2))
        cosine = jnp.where(norm > 0, params.along / jnp.where(norm > 0, norm, 1.0), 0.0)
        return {
            "kept_fraction": params.kept / params.drawn,
            "noise_rate": params.wrong / kept,
            "alignment": params.along / (kept * m),
            "cosine": cosine,
            "accuracy": _phi_cdf(m * cosine),
        }

    def theory(
        self, cfg: VerifierConfig, generations: np.ndarray, convention: str = "fit"
    ) -> dict[str, np.ndarray | None]:
        from ...theory import verifier as tv

        if convention not in ("fit", "downstream"):
            raise ConfigError(f"unknown convention {convention!r}; choose one of: fit, downstream")
        n = np.asarray(generations, np.float64) + (1 if convention == "downstream" else 0)
        return tv.predict(n * cfg.N, d=cfg.d, mu_norm=cfg.mu_norm, p=cfg.p, phi=cfg.phi, psi=cfg.psi)

    def theory_kinds(self, cfg: VerifierConfig) -> dict[str, str | None]:
        from ...theory import verifier as tv

        return dict(tv.KINDS)

    def examples(self) -> tuple[VerifierConfig, ...]:
        return (
            VerifierConfig(d=3, N=8, generations=5, p=0.4, phi=0.9, psi=0.3),
            VerifierConfig(d=2, N=6, generations=5, p=0.6, phi=0.5, psi=0.8, sampler="faithful"),
            VerifierConfig(d=1, N=4, generations=5, p=0.2, phi=1.0, psi=0.0),
        )

    def laws(self) -> list[Any]:
        from ..laws import LAWS

        return [law for law in LAWS.values() if law.model == self.name]

    def figures(self) -> Mapping[str, Callable[..., Any]]:
        from ...figures import verifier as figures_verifier

        return getattr(figures_verifier, "FIGURES", {})


register_model(Verifier())
