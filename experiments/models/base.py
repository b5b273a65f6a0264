"""The model interface: what a model implements so that the shared engine runs it.

A model is one file here (its config, sampler hooks and metrics), one in
:mod:`model_collapse.theory` (its closed forms), one in :mod:`model_collapse.experiments.laws`
(its registered laws) and one in :mod:`model_collapse.figures` (its figures). The class
below names every part; :func:`model_collapse.experiments.models.register_model` refuses a
model that lacks one, or a name registered twice.

The engine (:mod:`model_collapse.experiments.models.regimes`) runs every regime from six
hooks, for one seed, with explicit keys::

    ctx, params, key = model.init(cfg, key)            # the truth; per-seed context
    for n in 1..G:                                     # a lax.scan
        stats  = model.draw_statistics(cfg, ctx, k, params, rows)   # a batch's statistics
        pooled = model.merge(pooled, stats)            # how regimes pool batches
        params = model.fit(cfg, ctx, pooled)
        out[n] = model.evaluate(cfg, ctx, params)      # {metric: scalar}

``draw`` (raw samples, a PyTree with the sample axis first) and ``statistics`` are the
faithful path; ``draw_statistics`` defaults to ``statistics(draw(...))`` and a model
overrides it with an exact sampler of the statistics' law. ``fast_path`` is an opt-in
override of the whole trajectory for regimes where the model has a closed-form
structure (a product of independent factors, a sum of independent steps).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import jax
import numpy as np

__all__ = ["Metric", "Model", "Rows", "apply_transforms", "Transform"]

PyTree = Any


@dataclasses.dataclass(frozen=True)
class Metric:
    """A per-generation metric a model reports.

    Attributes:
        name: the key in the simulator's output, e.g. ``"test_error"``.
        definition: what it is, in one line of math (shown in ``--help`` and the README).
        scale: ``"linear"`` or ``"log"``: how figures plot it (``log``: on a log axis).
        skewness: ``(cfg, generations) -> array``: the skewness of one seed's value at
            each generation (``inf`` where the variance or the skewness is infinite).
            Required, no default: the verdicts refuse a z-score whose tail a skewed
            metric makes dishonest, and a guard that silently returned 0 for a new
            model would never refuse.
    """

    name: str
    definition: str
    scale: str
    skewness: Callable[[Any, np.ndarray], np.ndarray]

    def __post_init__(self):
        if self.scale not in ("linear", "log"):
            raise ValueError(f"metric {self.name!r}: scale must be 'linear' or 'log', got {self.scale!r}")
        if not callable(self.skewness):
            raise TypeError(f"metric {self.name!r}: skewness must be a function (cfg, generations) -> array")


@dataclasses.dataclass(frozen=True)
class Rows:
    """A static slice of a generation's batch: rows ``[start, stop)`` of ``size`` in all.

    Regression draws labels for those rows of its design; a Gaussian draws ``stop - start``
    samples. Static (Python ints), so shapes are known at trace time.
    """

    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


class Transform(abc.ABC):
    """A step between drawing a synthetic batch and fitting it (a decoder, a temperature,
    a curation step), written once for every model whose batches it understands.

    Transforms chain (:func:`apply_transforms`): each gets its own key, split from the
    generation's draw key, in the order given.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def __call__(self, cfg: Any, key: jax.Array, batch: PyTree) -> PyTree:
        """The transformed batch, of the same structure and shapes."""


def apply_transforms(transforms: Sequence[Transform], cfg: Any, key: jax.Array, batch: PyTree) -> PyTree:
    """Apply ``transforms`` in order, each with ``fold_in(key, i)``."""
    for i, transform in enumerate(transforms):
        batch = transform(cfg, jax.random.fold_in(key, i), batch)
    return batch


class Model(abc.ABC):
    """A generative model refit generation after generation.

    Class attributes (all required):
        name: the CLI name, e.g. ``"linreg"``.
        config: the config class (built with
            :func:`model_collapse.experiments.models.config.config_dataclass`, which
            records which fields are static, fixing shapes or control flow, and which
            are traced parameters).
        metrics: the reported metrics, in report order (:class:`Metric`).
        regimes: the regimes this model runs (a subset of
            :data:`model_collapse.experiments.models.regimes.REGIMES`).
        default_sampler: the sampler used when a user names none, and why (``--help``).
    """

    name: ClassVar[str]
    config: ClassVar[type]
    metrics: ClassVar[tuple[Metric, ...]]
    regimes: ClassVar[tuple[str, ...]]
    default_sampler: ClassVar[tuple[str, str]]

    # ---- the engine's hooks -------------------------------------------------------

    @abc.abstractmethod
    def init(self, cfg: Any, key: jax.Array) -> tuple[PyTree, PyTree, jax.Array]:
        """``(ctx, truth, key_steps)``: per-seed context (a fixed design, the truth), the
        true parameters (generation 0's model, which draws the real data; in the
        structure :meth:`fit` returns, as it is the scan's first carry), and the key
        from which the engine derives one key per generation (``split(key_steps, G)``:
        generation ``n``'s key does not depend on ``G``)."""

    @abc.abstractmethod
    def draw(self, cfg: Any, ctx: PyTree, key: jax.Array, params: PyTree, rows: Rows) -> PyTree:
        """Raw samples of a batch from the model ``params``: a PyTree, sample axis first."""

    @abc.abstractmethod
    def statistics(self, cfg: Any, ctx: PyTree, batch: PyTree) -> PyTree:
        """The sufficient statistics of a raw batch (what :meth:`fit` needs)."""

    @abc.abstractmethod
    def merge(self, a: PyTree, b: PyTree) -> PyTree:
        """The statistics of the union of two batches."""

    @abc.abstractmethod
    def fit(self, cfg: Any, ctx: PyTree, stats: PyTree) -> PyTree:
        """The fitted parameters (the next generation's model)."""

    @abc.abstractmethod
    def evaluate(self, cfg: Any, ctx: PyTree, params: PyTree) -> dict[str, jax.Array]:
        """``{metric: scalar}`` for one fit, every metric of :attr:`metrics`."""

    def draw_statistics(self, cfg: Any, ctx: PyTree, key: jax.Array, params: PyTree, rows: Rows) -> PyTree:
        """A batch's statistics: ``statistics(draw(...))``; override with an exact sampler."""
        return self.statistics(cfg, ctx, self.draw(cfg, ctx, key, params, rows))

    def fit_sample(self, cfg: Any, ctx: PyTree, sample: PyTree) -> PyTree:
        """Fit on raw rows (``accumulate-subsample``): ``fit(statistics(sample))`` by default."""
        return self.fit(cfg, ctx, self.statistics(cfg, ctx, sample))

    def fast_path(self, cfg: Any) -> Callable[[jax.Array], dict[str, jax.Array]] | None:
        """An opt-in override of the whole trajectory for ``cfg`` (``None``: the engine's)."""
        return None

    def transforms(self, cfg: Any) -> tuple[Transform, ...]:
        """Transforms applied to every synthetic batch before it is fit (none by default)."""
        return ()

    def batch_size(self, cfg: Any) -> int:
        """Rows (samples) per generation."""
        raise NotImplementedError

    def real_rows(self, cfg: Any) -> int:
        """Real rows per generation under ``mix`` and ``augment`` (``real_fraction`` of the batch)."""
        return int(round(cfg.real_fraction * self.batch_size(cfg)))

    # ---- the other layers ---------------------------------------------------------

    @abc.abstractmethod
    def theory(self, cfg: Any, generations: np.ndarray, convention: str = "fit") -> dict[str, np.ndarray | None]:
        """Predicted curve per metric for ``cfg`` (``None`` where no closed form exists)."""

    @abc.abstractmethod
    def theory_kinds(self, cfg: Any) -> dict[str, str | None]:
        """What each curve of :meth:`theory` is: ``"exact expectation"``, ``"upper bound"``,
        ``"lower bound"``, ``"approximation"`` or ``None`` (no curve)."""

    @abc.abstractmethod
    def examples(self) -> Sequence[Any]:
        """Small configs that together cover every regime and sampler (a few seconds each).

        The conformance suite runs every model's examples (bit-identity across chunk
        sizes and devices, prefixes, key reuse, float32, JSON and CLI round trips,
        memory estimates); the first is the one the default test suite runs everywhere.
        """

    @abc.abstractmethod
    def laws(self) -> Sequence[Any]:
        """The model's registered laws (:class:`model_collapse.experiments.laws.Law`)."""

    @abc.abstractmethod
    def figures(self) -> Mapping[str, Callable]:
        """Figure name -> function ``(outdir, seeds=None, progress=None, **params) -> [paths]``."""

    # ---- derived ------------------------------------------------------------------

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        from .config import ConfigError

        raise ConfigError(f"model {self.name!r} has no metric {name!r}; choose one of: {', '.join(self.metric_names)}")

    def skewness(self, cfg: Any, metric: str, generations: Sequence[int] | np.ndarray) -> np.ndarray:
        """Skewness of one seed's ``metric`` at ``generations`` (see :class:`Metric`)."""
        gens = np.asarray(generations, np.float64)
        return np.broadcast_to(np.asarray(self.metric(metric).skewness(cfg, gens), np.float64), gens.shape).copy()

    def simulate(self, cfg: Any, key: jax.Array) -> dict[str, jax.Array]:
        """One seed's trajectory: ``{metric: (cfg.generations,)}`` (the shared engine)."""
        from ..engine.precision import require_float64
        from .regimes import simulate

        require_float64(cfg)
        return simulate(self, cfg, key)
