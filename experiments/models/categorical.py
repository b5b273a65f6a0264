"""A categorical distribution re-estimated by counting its own samples (Shumailov et al., Nature 2024).

The discrete case of the Nature paper's theory, and the Wright-Fisher model of population
genetics: ``K`` categories, generation 0 the truth ``p0`` (uniform, or Zipf
``p0_i ~ (i+1)^-zipf_a``). Generation 1 is the maximum-likelihood fit (counts / ``M``) on
``M`` real samples; generation ``n >= 2`` on samples assembled by the regime:

* ``replace``: ``M`` samples from the decoded previous fit ``q_{n-1} = decode(p_{n-1})``;
* ``accumulate``: every batch so far, pooled (``p_n = (c_1 + ... + c_n) / (n M)``);
* ``mix``: ``k = real_fraction * M`` fresh real samples from ``p0`` and ``M - k`` synthetic ones;
* ``augment``: generation 1's first ``k`` real samples, kept for good, and ``M - k`` synthetic ones;
* ``accumulate-subsample``: ``M`` drawn uniformly without replacement from every sample so far.

Decoding (:func:`decode`) acts on synthetic samples only, in the order language-model
samplers use: temperature ``tau`` (``p^(1/tau)`` normalised), top-k (the ``k`` most likely,
ties to the lower index), top-p (sorted by probability, ties to the lower index first,
category kept iff the mass strictly before it is ``< top_p``: the first category to reach
the threshold is kept, as in common LM samplers; zero-probability categories never are),
greedy (all mass on the most likely category, ties to the lowest index). Real data are
never decoded.

Sampler. A batch's counts are drawn directly, exactly: ``M`` sorted uniforms as normalised
partial sums of ``M + 1`` exponentials (the order statistics' law), and the count of
category ``i`` is how many fall in ``[F_{i-1}, F_i)`` of the cumulative distribution
(binary search), ``O(M + K log M)`` per batch with no sort; the edges are normalised so
that the last is exactly 1 and a category of probability 0 never gets a sample (a lost
category never returns, bit for bit). ``accumulate-subsample`` keeps raw samples
(category indices, i.i.d. in draw order) in the shared engine's buffer.

Per generation: ``gini_simpson = 1 - sum p^2``, ``entropy`` (nats), ``support = #{p > 0}``,
``tail_mass`` (the current mass of the tail set: the least likely categories at the
start, equal probabilities ordered by higher index first, that together held at most 10%
of the mass), ``tv = sum |p - p0| / 2``, ``max_prob``, ``absorbed = 1{max p = 1}``,
``p_mode = p_{n,0}`` (the category most likely at the start), ``fixed_on_mode =
1{p_{n,0} = 1}``, and ``downstream_T{T}`` for ``T`` in 100, 1000, 10000: the test error
``sum_i p0_i (1 - q_{n,i})^T`` of a learner that memorises every category it saw in ``T``
samples of the data generation ``n`` synthesises (``q_n = decode(p_n)``; Dohmatob et al.
2024, *A Tale of Tails*).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import curation, register_model
from .base import Metric, Model, Rows, Transform
from .config import (
    PRECISIONS,
    ConfigError,
    check_choice,
    check_fraction,
    check_positive_int,
    check_real_count,
    config_dataclass,
)
from .regimes import REGIMES

__all__ = [
    "CategoricalConfig",
    "Categorical",
    "CatFit",
    "DOWNSTREAM_T",
    "METRICS",
    "decode",
    "multinomial_counts",
    "survival_by_category",
]

INITS = ("uniform", "zipf")
DOWNSTREAM_T = (100, 1000, 10000)
METRICS = (
    "gini_simpson",
    "entropy",
    "support",
    "tail_mass",
    "tv",
    "max_prob",
    "absorbed",
    "p_mode",
    "fixed_on_mode",
) + tuple(f"downstream_T{T}" for T in DOWNSTREAM_T)


@config_dataclass(traced=("temperature", "top_p", "reward_slope"))
class CategoricalConfig:
    """A categorical distribution refit on counts of its own (decoded) samples.

    Attributes:
        K: number of categories (``>= 2``).
        M: samples per generation (``>= 1``).
        init: the truth p0: ``uniform`` or ``zipf`` (``p0_i`` proportional to ``(i+1)^-zipf_a``).
        zipf_a: the Zipf exponent (``> 0``; used by ``--init zipf``).
        generations: number of fits, generation 1 on real data.
        regime: replace, accumulate, mix, augment or accumulate-subsample.
        real_fraction: the share of real samples per generation (mix and augment).
        temperature: sample synthetic data from ``p^(1/temperature)`` normalised (``> 0``; 1: plain sampling).
        top_k: keep only the ``top_k`` most likely categories when sampling (``1..K``; none: off).
        top_p: keep the smallest set of most likely categories holding at least ``top_p`` of the mass
            (``(0, 1]``; 1: off).
        greedy: put all synthetic mass on the most likely category (ties to the lowest index).
        curate: curation by a reward (Ferbach et al. 2024): each kept synthetic sample is one of
            ``curate`` candidates drawn from the decoded fit, chosen with Luce probabilities
            ``softmax(r)`` (:mod:`~model_collapse.experiments.models.curation`); 1: no curation.
        reward_slope: the reward per category ``r_i = reward_slope * i / (K - 1)`` (``> 0`` prefers
            high indices, the tail of a Zipf truth; ``< 0`` the head).
        precision: ``float64`` (default) or ``float32``.
    """

    K: int = 1000
    M: int = 1000
    init: str = "zipf"
    zipf_a: float = 1.1
    generations: int = 200
    regime: str = "replace"
    real_fraction: float = 0.5
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float = 1.0
    greedy: bool = False
    curate: int = 1
    reward_slope: float = 1.0
    precision: str = "float64"

    model: ClassVar[str] = "categorical"
    CHOICES: ClassVar[dict] = {"init": INITS, "regime": REGIMES, "precision": PRECISIONS}

    def __post_init__(self):
        check_positive_int("K", self.K, minimum=2)
        check_positive_int("M", self.M, minimum=1)
        check_positive_int("generations", self.generations)
        for name, choices in self.CHOICES.items():
            check_choice(name, getattr(self, name), choices)
        if not np.isfinite(self.zipf_a) or self.zipf_a <= 0:
            raise ConfigError(f"zipf_a must be a finite number > 0, got {self.zipf_a!r}")
        if not np.isfinite(self.temperature) or self.temperature <= 0:
            raise ConfigError(f"temperature must be a finite number > 0, got {self.temperature!r}")
        if self.top_k is not None and not 1 <= self.top_k <= self.K:
            raise ConfigError(f"top_k must lie in 1..K = 1..{self.K}, got {self.top_k!r}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must lie in (0, 1], got {self.top_p!r}")
        check_fraction("real_fraction", self.real_fraction)
        if self.regime in ("mix", "augment"):
            check_real_count(self.real_fraction, self.M, "M", "samples")
        curation.check_curation(self, {"reward_slope": "finite"})

    def memory_advice(self) -> str:
        """What shrinks :meth:`memory_per_seed` (the memory planner's suggestion)."""
        return "a smaller K or M, or fewer generations (accumulate-subsample keeps every sample)"

    def memory_per_seed(self) -> int:
        """Bytes one seed's simulation holds at once (an estimate for chunking)."""
        words = 10 * self.K + 3 * (self.M + 1) + 3 * self.M * (self.curate - 1) + len(METRICS) * self.generations
        if self.regime == "accumulate-subsample":
            words += self.generations * self.M + 2 * self.M
        return 8 * words


class CatFit(NamedTuple):
    """A fitted categorical: probabilities ``p`` (``K``), and whether it is a fit (decoded when sampled)."""

    p: jax.Array
    fitted: jax.Array


class _Context(NamedTuple):
    p0: jax.Array
    tail: jax.Array  # bool (K,): the tail set


def _truth(cfg: CategoricalConfig) -> _Context:
    from ...theory.categorical.distributions import initial_distribution, tail_set

    p0 = np.asarray(initial_distribution(cfg.K, cfg.init, cfg.zipf_a), np.float64)
    tail = np.asarray(tail_set(p0), bool)
    return _Context(jnp.asarray(p0, cfg.dtype), jnp.asarray(tail))


def _renormalise(q: jax.Array, keep: jax.Array) -> jax.Array:
    q = jnp.where(keep, q, 0.0)
    return q / q.sum()


def decode(cfg: CategoricalConfig, p: jax.Array) -> jax.Array:
    """The distribution synthetic samples are drawn from: ``p`` through the config's decoders.

    Temperature, then top-k, then top-p, then greedy (see the module docstring for ties and
    the top-p boundary). Exact where no decoder is on (``p`` itself, not a rounded copy);
    the temperature and ``top_p`` are traced parameters (one program for every value), and
    their "off" values (1) skip their work through a ``lax.cond`` on the unbatched parameter.
    """

    def tempered(q):
        logq = jnp.log(jnp.where(q > 0, q, 1.0))
        top = jnp.max(jnp.where(q > 0, logq, -jnp.inf))
        w = jnp.where(q > 0, jnp.exp((logq - top) / jnp.asarray(cfg.temperature, q.dtype)), 0.0)
        return w / w.sum()

    q = jax.lax.cond(jnp.asarray(cfg.temperature) == 1.0, lambda q: q, tempered, p)
    if cfg.top_k is not None and cfg.top_k < cfg.K:
        _, idx = jax.lax.top_k(q, cfg.top_k)  # ties: the lower index first
        q = _renormalise(q, jnp.zeros(q.shape, bool).at[idx].set(True))

    def nucleus(q):
        order = jnp.argsort(-q, stable=True)  # descending; equal values keep index order
        ranked = q[order]
        before = jnp.cumsum(ranked) - ranked
        keep = jnp.zeros(q.shape, bool).at[order].set((before < jnp.asarray(cfg.top_p, q.dtype)) & (ranked > 0))
        return _renormalise(q, keep)

    q = jax.lax.cond(jnp.asarray(cfg.top_p) >= 1.0, lambda q: q, nucleus, q)
    if cfg.greedy:
        q = jax.nn.one_hot(jnp.argmax(q), q.shape[0], dtype=q.dtype)
    return q


def _edges(q: jax.Array) -> jax.Array:
    """The cumulative distribution, normalised so that its last entry is exactly 1."""
    edges = jnp.cumsum(q)
    return edges / edges[-1]


def multinomial_counts(key: jax.Array, n: int, q: jax.Array) -> jax.Array:
    """Counts of ``n`` i.i.d. draws from ``q`` (``K``), as floats of ``q``'s dtype: exact.

    ``n`` sorted uniforms are the normalised partial sums ``S_j / S_{n+1}`` of ``n + 1``
    standard exponentials (the joint law of uniform order statistics); category ``i``
    gets those in ``[F_{i-1}, F_i)``. A category with ``q_i = 0`` has ``F_{i-1} = F_i`` and
    gets none.
    """
    e = jax.random.exponential(key, (n + 1,), dtype=q.dtype)
    s = jnp.cumsum(e)
    u = jnp.minimum(s[:-1] / s[-1], jnp.nextafter(jnp.asarray(1.0, q.dtype), 0.0))
    below = jnp.searchsorted(u, _edges(q), side="left", method="scan")
    return jnp.diff(below, prepend=0).astype(q.dtype)


class Categorical(Model):
    """Categorical refit on counts of its own samples: hooks of the shared regime engine."""

    name = "categorical"
    config = CategoricalConfig
    regimes = REGIMES
    default_sampler = (
        "counts",
        "draws each batch's category counts directly (uniform order statistics from exponential "
        "spacings, then a binary search): exact, O(M + K log M); accumulate-subsample keeps raw samples",
    )

    def __init__(self):
        from . import categorical_tails as ct

        definitions = {
            "gini_simpson": ("1 - sum_i p_{n,i}^2", "linear"),
            "entropy": ("-sum_i p_{n,i} log p_{n,i} (nats)", "linear"),
            "support": ("#{i : p_{n,i} > 0}", "linear"),
            "tail_mass": ("sum of p_{n,i} over the initially least likely categories holding <= 10% of p0", "linear"),
            "tv": ("sum_i |p_{n,i} - p0_i| / 2", "linear"),
            "max_prob": ("max_i p_{n,i}", "linear"),
            "absorbed": ("1{max_i p_{n,i} = 1}", "linear"),
            "p_mode": ("p_{n,0}, the category most likely at the start", "linear"),
            "fixed_on_mode": ("1{p_{n,0} = 1}", "linear"),
        }
        for T in DOWNSTREAM_T:
            definitions[f"downstream_T{T}"] = (
                f"sum_i p0_i (1 - q_{{n,i}})^{T}, q_n = decode(p_n): a memorising learner's error on {T} samples",
                "log",
            )
        self.metrics = tuple(
            Metric(name, definitions[name][0], definitions[name][1], ct.skewness_function(name)) for name in METRICS
        )

    def batch_size(self, cfg: CategoricalConfig) -> int:
        return cfg.M

    def init(self, cfg: CategoricalConfig, key: jax.Array) -> tuple[_Context, CatFit, jax.Array]:
        ctx = _truth(cfg)
        return ctx, CatFit(ctx.p0, jnp.zeros((), bool)), key

    def _source(self, cfg: CategoricalConfig, params: CatFit) -> jax.Array:
        return jnp.where(params.fitted, decode(cfg, params.p), params.p)

    def draw(self, cfg: CategoricalConfig, ctx: _Context, key: jax.Array, params: CatFit, rows: Rows) -> jax.Array:
        # Curation: rows x curate candidates, shaped (rows, curate) (curation.as_candidates).
        u = jax.random.uniform(key, (rows.size * cfg.curate,), dtype=cfg.dtype)
        x = jnp.searchsorted(_edges(self._source(cfg, params)), u, side="right", method="scan").astype(jnp.int32)
        return curation.as_candidates(cfg, x)

    def statistics(self, cfg: CategoricalConfig, ctx: _Context, batch: jax.Array) -> jax.Array:
        return jnp.zeros((cfg.K,), cfg.dtype).at[curation.kept(cfg, batch)].add(1.0)

    def transforms(self, cfg: CategoricalConfig) -> tuple[Transform, ...]:
        return curation.transforms(cfg, curation.categorical_reward)

    def draw_statistics(
        self, cfg: CategoricalConfig, ctx: _Context, key: jax.Array, params: CatFit, rows: Rows
    ) -> jax.Array:
        return multinomial_counts(key, rows.size, self._source(cfg, params))

    def merge(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return a + b

    def fit(self, cfg: CategoricalConfig, ctx: _Context, stats: jax.Array) -> CatFit:
        return CatFit(stats / stats.sum(), jnp.ones((), bool))

    def evaluate(self, cfg: CategoricalConfig, ctx: _Context, params: CatFit) -> dict[str, jax.Array]:
        p = params.p
        positive = p > 0
        out = {
            "gini_simpson": 1.0 - jnp.sum(p * p),
            "entropy": -jnp.sum(jnp.where(positive, p * jnp.log(jnp.where(positive, p, 1.0)), 0.0)),
            "support": jnp.sum(positive).astype(p.dtype),
            "tail_mass": jnp.sum(jnp.where(ctx.tail, p, 0.0)),
            "tv": 0.5 * jnp.sum(jnp.abs(p - ctx.p0)),
            "max_prob": jnp.max(p),
            "absorbed": (jnp.max(p) == 1.0).astype(p.dtype),
            "p_mode": p[0],
            "fixed_on_mode": (p[0] == 1.0).astype(p.dtype),
        }
        q = decode(cfg, p)
        log_miss = jnp.log1p(-jnp.minimum(q, 1.0))
        for T in DOWNSTREAM_T:
            out[f"downstream_T{T}"] = jnp.sum(ctx.p0 * jnp.exp(T * log_miss))
        return out

    def theory(
        self, cfg: CategoricalConfig, generations: np.ndarray, convention: str = "fit"
    ) -> dict[str, np.ndarray | None]:
        from . import categorical_theory

        return categorical_theory.theory(cfg, generations, convention)

    def theory_kinds(self, cfg: CategoricalConfig) -> dict[str, str | None]:
        from . import categorical_theory

        return categorical_theory.theory_kinds(cfg)

    def examples(self) -> tuple[CategoricalConfig, ...]:
        return (
            CategoricalConfig(K=6, M=10, generations=5, regime="mix", init="zipf", temperature=0.7),
            CategoricalConfig(K=5, M=8, generations=5, regime="replace", init="uniform"),
            CategoricalConfig(K=7, M=9, generations=5, regime="accumulate", top_k=4),
            CategoricalConfig(K=6, M=8, generations=5, regime="augment", real_fraction=0.25, top_p=0.8),
            CategoricalConfig(K=5, M=6, generations=5, regime="accumulate-subsample", greedy=True),
        )

    def laws(self) -> list[Any]:
        from ..laws import LAWS

        return [law for law in LAWS.values() if law.model == self.name]

    def figures(self) -> Mapping[str, Callable[..., Any]]:
        from ...figures import categorical as figures_categorical

        return getattr(figures_categorical, "FIGURES", {})


class _Alive(Categorical):
    """The same simulation, reporting which categories are alive (``p > 0``) instead of the metrics."""

    def evaluate(self, cfg: CategoricalConfig, ctx: _Context, params: CatFit) -> dict[str, jax.Array]:
        return {"alive": (params.p > 0).astype(jnp.int32)}


@functools.lru_cache(maxsize=16)
def _alive_counter(cfg: CategoricalConfig):
    from .regimes import simulate

    model = _Alive()

    @jax.jit
    def count(base: jax.Array, indices: jax.Array, valid: jax.Array) -> jax.Array:
        def one(i):
            alive = simulate(model, cfg, jax.random.fold_in(base, i))["alive"]
            return jnp.where(i < valid, alive, 0)

        return jnp.sum(jax.lax.map(one, indices, batch_size=64), axis=0)

    return count


def survival_by_category(cfg: CategoricalConfig, seeds: int, seed: int = 0, chunk: int = 256) -> np.ndarray:
    """The fraction of seeds in which each category is alive, per generation: ``(G, K)``.

    Seed ``i`` is the runner's seed ``i`` (the key ``fold_in(key(seed), i)``), so these are
    the same trajectories as :func:`model_collapse.experiments.run` reduces; integer counts
    are summed, so the result does not depend on ``chunk`` (seeds per compiled call; the
    last call is padded with seeds that are not counted, so one program serves every call).
    """
    from ..engine.precision import float64

    check_positive_int("seeds", seeds)
    check_positive_int("chunk", chunk)
    count = _alive_counter(cfg)
    total = np.zeros((cfg.generations, cfg.K), np.int64)
    with float64():
        base = jax.random.key(seed)
        for start in range(0, seeds, chunk):  # chunks of seeds: one compiled call each
            indices = np.arange(start, start + chunk, dtype=np.uint32)
            total += np.asarray(count(base, indices, np.uint32(seeds)), np.int64)
    return total / seeds


register_model(Categorical())
