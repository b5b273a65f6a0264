"""Gaussian refit on its own samples (Shumailov et al., Nature 2024; Kazdan et al. 2024; Alemohammad et al. 2024).

Truth ``N(0, sigma2 I_dim)``. Generation 1 is fit on ``M`` real samples; generation
``n >= 2`` on samples from generation ``n-1``'s fit, assembled by the regime:

* ``replace``: the ``M`` newest samples only;
* ``accumulate``: every sample so far (``M`` real, then ``M`` per generation), pooled;
* ``accumulate-subsample``: ``M`` drawn uniformly without replacement from every sample so far;
* ``mix``: ``k = real_fraction * M`` fresh real samples and ``M - k`` synthetic ones
  (the fresh-data loop of Alemohammad et al. 2024);
* ``augment``: generation 1's first ``k`` real samples, kept for good, and ``M - k``
  synthetic ones (Bertrand et al. 2024's setting).

Estimators: ``unbiased`` (scatter / (N - 1), the Nature theorem's) or ``mle`` (scatter / N,
what the public code of these papers computes).

Per generation: ``mean_sq_error = ||mu_n - mu||^2``, ``variance = tr Sigma_n / tr Sigma``,
``std = sqrt(variance)`` (``sigma_n / sigma`` in 1-D), ``log_det = log det Sigma_n - log det Sigma``,
``w2_sq`` = squared 2-Wasserstein distance between ``N(mu_n, Sigma_n)`` and the truth.

Samplers. Both work in whitened coordinates: a batch from ``N(mu, L L^T)`` is
``x = mu + L z`` with ``z`` standard normal, so its mean is ``mu + L zbar`` and its scatter
``L S_z L^T`` (mean and scatter are affine-equivariant; this is algebra, not an
approximation). ``faithful`` draws the ``M x dim`` raw ``z``; ``exact`` draws
``zbar ~ N(0, I/M)`` and ``S_z = R R^T ~ Wishart(M-1, I)`` through its Bartlett factor
``R``. Under replace and accumulate the fit's Cholesky factor is a product
``L_n = L_{n-1} K_n`` whose factor ``K_n`` depends on generation ``n``'s draws only
(replace: ``K_n = R / sqrt(c)``, ``c = M-1`` or ``M``; accumulate: the Cholesky factor of
Chan's pooled update written in the previous fit's whitened coordinates, see
:func:`_factors`), so a block of generations is drawn and factored at once and only
the product is sequential; in 1-D it is a cumulative sum of logs. Blocks have a size
fixed by the config's shape but not by the number of generations (the last one is
padded), so a trajectory's first generations do not depend on how many are simulated.
``log_det`` accumulates exactly as a sum of logs and never underflows, even when
``sigma_n`` collapses past the smallest float64. ``mix``, ``augment`` and
``accumulate-subsample`` run in the shared regime engine
(:mod:`model_collapse.experiments.models.regimes`), pooling centred moments
``(count, mean, scatter)`` with Chan's update.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..engine.linalg import cholesky, eigenvalues  # noqa: F401  (eigenvalues: re-exported for tests)
from . import curation, gaussian_weighting, register_model
from .base import Metric, Model, Rows, Transform
from .config import (
    PRECISIONS,
    ConfigError,
    check_choice,
    check_fraction,
    check_nonnegative,
    check_positive_int,
    check_real_count,
    config_dataclass,
)
from .gaussian_sampling import (
    Moments,
    _divisor,
    _generation_blocks,
    _metrics_batch,
    _simulate_product,
    _truth,
    _whitened_batch,
    _words_per_generation,
    merge_moments,
)
from .regimes import REGIMES

__all__ = ["SamplerNote", "GaussianConfig", "Gaussian", "Fit", "Moments", "merge_moments", "theory", "METRICS"]

ESTIMATORS = ("unbiased", "mle")
SAMPLERS = ("faithful", "exact")
METRICS = ("mean_sq_error", "variance", "std", "log_det", "w2_sq")


class SamplerNote(UserWarning):
    """The config chose a sampler for the user (one that works for the regime asked for)."""


@config_dataclass(traced=("sigma2", "temperature", "reward_center", "reward_scale"))
class GaussianConfig:
    """A Gaussian refit generation after generation.

    Attributes:
        dim: dimension. M: samples per generation (``>= 2``; ``> dim`` for the
            unbiased covariance, whose determinant is otherwise zero).
        sigma2: the truth's variance per coordinate (``> 0``).
        generations: number of fits, generation 1 on real data.
        regime: replace, accumulate, mix, augment or accumulate-subsample.
        estimator: ``unbiased`` (divide by N - 1) or ``mle`` (divide by N).
        sampler: ``exact`` (sufficient statistics) or ``faithful`` (raw samples); ``None``
            (the default) picks ``exact``, or ``faithful`` under accumulate-subsample (which
            needs raw samples), with a note.
        real_fraction: the share of real samples per generation (mix and augment).
        real_weight: mix only: the weight ``w`` in ``[0, 1]`` of the real part's estimates (mean and
            covariance) against the synthetic part's, each part fit on its own (He, Xu & Cheng 2025;
            :mod:`~model_collapse.experiments.models.gaussian_weighting`); ``None`` (default): the
            pooled fit, whose mean is ``w = real_fraction``.
        real_resample: augment only: each generation keeps a fresh random ``k`` of generation
            1's real samples instead of the same ``k`` (the Nature paper's language-model
            setting, which kept a random 10% of the original data).
        temperature: the sampling bias ``tau > 0`` of Alemohammad et al. 2024: every fitted
            model ``N(mu_n, Sigma_n)`` draws its synthetic samples from ``N(mu_n, tau Sigma_n)``
            (for a Gaussian density, ``p^(1/tau)`` normalised is exactly this; ``tau < 1`` is
            mode-seeking, 1 is plain sampling). Real samples, drawn from the truth, are never
            tempered. A traced parameter: one program for every value.
        curate: curation by a reward (Ferbach et al. 2024): each kept synthetic sample is one of
            ``curate`` candidates from the fit, chosen with Luce probabilities ``softmax(r)``
            (:mod:`~model_collapse.experiments.models.curation`); 1 (default): no curation. Real
            samples are never curated. Needs raw candidates: the faithful sampler.
        reward_center: ``a`` of the reward ``r(x) = -(x - a)^T A (x - a) / 2``, the same in every coordinate.
        reward_scale: ``A = reward_scale * I`` (``> 0``: ``A`` positive definite).
        precision: ``float64`` (default) or ``float32``.
    """

    dim: int = 1
    M: int = 20
    sigma2: float = 1.0
    generations: int = 60
    regime: str = "replace"
    estimator: str = "unbiased"
    sampler: str | None = None
    real_fraction: float = 0.5
    real_weight: float | None = None
    real_resample: bool = False
    temperature: float = 1.0
    curate: int = 1
    reward_center: float = 0.0
    reward_scale: float = 1.0
    precision: str = "float64"

    model: ClassVar[str] = "gaussian"
    CHOICES: ClassVar[dict] = {"regime": REGIMES, "estimator": ESTIMATORS, "sampler": SAMPLERS, "precision": PRECISIONS}

    def __post_init__(self):
        curation.check_curation(self, {"reward_center": "finite", "reward_scale": "positive"})
        if self.sampler is None and self.curate > 1:  # curation keeps one of K raw candidates
            object.__setattr__(self, "sampler", "faithful")
            warnings.warn("--curate needs raw candidates: using --sampler faithful", SamplerNote, stacklevel=4)
        if self.sampler is None:  # the model's default for this regime
            object.__setattr__(self, "sampler", "faithful" if self.regime == "accumulate-subsample" else "exact")
            if self.regime == "accumulate-subsample":
                warnings.warn(
                    "accumulate-subsample needs raw samples: using --sampler faithful (the default, exact, "
                    "draws only their statistics)",
                    SamplerNote,
                    stacklevel=4,
                )
        check_positive_int("dim", self.dim)
        check_positive_int("M", self.M, minimum=2)
        check_nonnegative("sigma2", self.sigma2)
        if self.sigma2 == 0:
            raise ConfigError("sigma2 must be > 0: a degenerate truth has no covariance to refit")
        check_positive_int("generations", self.generations)
        if not np.isfinite(self.temperature) or self.temperature <= 0:
            raise ConfigError(f"temperature must be a finite number > 0, got {self.temperature!r}")
        for name, choices in self.CHOICES.items():
            check_choice(name, getattr(self, name), choices)
        check_fraction("real_fraction", self.real_fraction)
        if self.real_resample and self.regime != "augment":
            raise ConfigError("real_resample applies to --regime augment only")
        if self.M <= self.dim:
            raise ConfigError(
                f"M must exceed dim (got M={self.M}, dim={self.dim}): the fitted covariance is singular "
                "and its log-determinant is minus infinity"
            )
        if self.sampler == "exact" and self.curate > 1:
            raise ConfigError(
                "curation keeps one of K raw candidates; the exact sampler draws none: use --sampler faithful"
            )
        if self.sampler == "exact" and self.regime == "accumulate-subsample":
            raise ConfigError("the exact sampler draws no raw samples to subsample; use --sampler faithful")
        if self.regime in ("mix", "augment"):
            check_real_count(self.real_fraction, self.M, "M", "samples")
        gaussian_weighting.check_weighting(self)

    def memory_advice(self) -> str:
        """What shrinks :meth:`memory_per_seed` (the memory planner's suggestion)."""
        return "fewer generations, the exact sampler (--sampler exact), or a smaller M or dim"

    def memory_per_seed(self) -> int:
        """Bytes one seed's simulation holds at once (an estimate for chunking)."""
        words = 6 * self.dim * self.dim + self.M * self.dim * (2 * self.curate - 1) + 6 * self.generations
        if self.regime in ("replace", "accumulate"):  # one block of generations drawn at once
            B, _ = _generation_blocks(self)
            words += 3 * B * _words_per_generation(self) + 6 * B
        else:  # the engine's scan: a batch, its moments and the pooled ones
            words += 2 * self.M * self.dim + 4 * self.dim * self.dim + 8
        if self.regime == "accumulate-subsample":  # the buffer of samples; every generation's subset and its table
            words += self.generations * self.M * (self.dim + 2)
        return 8 * words


class Fit(NamedTuple):
    """A fitted Gaussian: mean, Cholesky factor of the covariance, ``log det Sigma_n - log det Sigma``,
    and the scale of its samples (``sqrt(temperature)`` for a fit, 1 for the truth).

    A fit draws from ``N(mu, scale^2 L L^T)``: its temperature. The truth has scale 1, so real
    samples (generation 1's, and ``mix``'s and ``augment``'s real rows) are never tempered.
    """

    mu: jax.Array
    L: jax.Array
    log_det: jax.Array
    scale: jax.Array


def _fit(cfg, moments: Moments) -> Fit:
    sigma2 = jnp.asarray(cfg.sigma2, cfg.dtype)
    cov = moments.scatter / _divisor(cfg, moments.count)
    L = cholesky(cov)
    log_det = 2.0 * jnp.sum(jnp.log(jnp.diag(L))) - cfg.dim * jnp.log(sigma2)
    return Fit(moments.mean, L, log_det, _sample_scale(cfg))


def _sample_scale(cfg) -> jax.Array:
    """``sqrt(temperature)``: a fit's samples are ``mu + scale L z``."""
    return jnp.sqrt(jnp.asarray(cfg.temperature, cfg.dtype))


class Gaussian(Model):
    """A Gaussian refit on its own samples: hooks of the shared engine and the product fast path."""

    name = "gaussian"
    config = GaussianConfig
    regimes = REGIMES
    default_sampler = (
        "exact",
        "draws the sample mean and scatter from their laws (normal, Wishart): the same "
        "distribution as raw samples at a fraction of the cost; --sampler faithful draws raw samples",
    )

    def __init__(self):
        self.metrics = (
            Metric("mean_sq_error", "||mu_n - mu||^2", "log", _skewness("mean_sq_error")),
            Metric("variance", "tr Sigma_n / tr Sigma", "log", _skewness("variance")),
            Metric("std", "sqrt(tr Sigma_n / tr Sigma) (sigma_n / sigma in 1-D)", "log", _skewness("std")),
            Metric("log_det", "log det Sigma_n - log det Sigma", "linear", _skewness("log_det")),
            Metric("w2_sq", "W2(N(mu_n, Sigma_n), N(mu, Sigma))^2", "log", _skewness("w2_sq")),
        )

    def batch_size(self, cfg: GaussianConfig) -> int:
        return cfg.M

    def init(self, cfg: GaussianConfig, key: jax.Array) -> tuple[Fit, Fit, jax.Array]:
        mu0, L0 = _truth(cfg)
        truth = Fit(mu0, L0, jnp.zeros((), cfg.dtype), jnp.ones((), cfg.dtype))
        return truth, truth, key

    def draw(self, cfg: GaussianConfig, ctx: Fit, key: jax.Array, params: Fit, rows: Rows) -> Any:
        # Curation: rows x curate candidates, shaped (rows, curate, dim) (curation.as_candidates).
        z = jax.random.normal(key, (rows.size * cfg.curate, cfg.dim), dtype=cfg.dtype)
        return curation.as_candidates(cfg, params.mu + params.scale * (z @ params.L.T))

    def statistics(self, cfg: GaussianConfig, ctx: Fit, batch: Any) -> Moments:
        batch = curation.kept(cfg, batch)  # curation: each row's kept candidate
        mean = batch.mean(axis=0)
        centred = batch - mean
        return Moments(jnp.asarray(batch.shape[0], cfg.dtype), mean, centred.T @ centred)

    def draw_statistics(self, cfg: GaussianConfig, ctx: Fit, key: jax.Array, params: Fit, rows: Rows) -> Moments:
        # In the fit's whitened coordinates: mean mu + L zbar, scatter L S_z L^T (exact or faithful),
        # L scaled by the fit's temperature (1 for the truth).
        zbar, S = _whitened_batch(cfg, key, rows.size)
        L = params.scale * params.L
        return Moments(jnp.asarray(rows.size, cfg.dtype), params.mu + L @ zbar, L @ S @ L.T)

    def merge(self, a: Moments, b: Moments) -> Moments:
        return merge_moments(a, b)

    def fit(self, cfg: GaussianConfig, ctx: Fit, stats: Moments) -> Fit:
        return _fit(cfg, stats)

    def evaluate(self, cfg: GaussianConfig, ctx: Fit, params: Fit) -> dict[str, jax.Array]:
        out = _metrics_batch(cfg, params.mu[None], params.L[None], jnp.asarray(params.log_det)[None])
        return {k: v[0] for k, v in out.items()}

    def transforms(self, cfg: GaussianConfig) -> tuple[Transform, ...]:
        return curation.transforms(cfg, curation.gaussian_reward)

    def fast_path(self, cfg: GaussianConfig) -> Callable[[jax.Array], dict[str, jax.Array]] | None:
        if cfg.real_weight is not None:  # real and synthetic parts weighed (gaussian_weighting)
            return gaussian_weighting.simulator(cfg)
        if cfg.regime in ("replace", "accumulate") and not self.transforms(cfg):
            return lambda key: _simulate_product(cfg, key)
        return None

    def theory(
        self, cfg: GaussianConfig, generations: np.ndarray, convention: str = "fit"
    ) -> dict[str, np.ndarray | None]:
        return theory(cfg, generations, convention)

    def theory_kinds(self, cfg: GaussianConfig) -> dict[str, str | None]:
        from ...theory import gaussian as theory_gaussian

        if cfg.curate > 1:  # curation: no closed form over generations (laws/curation.py: one step)
            return {m: None for m in METRICS}
        if cfg.real_weight is not None:
            return gaussian_weighting.theory_kinds(cfg)
        if cfg.temperature != 1.0:  # sampling bias: the tempered recursions (theory.gaussian.bias)
            if cfg.real_resample:
                return dict.fromkeys(METRICS)
            return {m: theory_gaussian.tempered_law_kind(m, cfg.regime, cfg.estimator, cfg.dim) for m in METRICS}
        if cfg.real_resample:
            return {m: "exact expectation" if m in ("mean_sq_error", "variance") else None for m in METRICS}
        out = {}
        for metric in METRICS:
            try:
                out[metric] = theory_gaussian.law_kind(metric, cfg.regime, cfg.estimator, cfg.dim)
            except (ValueError, KeyError):
                out[metric] = None
        return out

    def examples(self) -> tuple[GaussianConfig, ...]:
        return (
            GaussianConfig(dim=2, M=6, generations=5, regime="mix", real_fraction=0.5, sampler="faithful"),
            GaussianConfig(dim=1, M=6, generations=5, regime="replace"),
            GaussianConfig(dim=3, M=8, generations=5, regime="accumulate", sampler="faithful", estimator="mle"),
            GaussianConfig(dim=2, M=8, generations=5, regime="augment", real_fraction=0.25),
            GaussianConfig(dim=2, M=6, generations=5, regime="accumulate-subsample", sampler="faithful"),
            GaussianConfig(dim=2, M=8, generations=5, regime="augment", real_fraction=0.25, real_resample=True),
            GaussianConfig(dim=2, M=8, generations=5, regime="replace", temperature=0.7),  # sampling bias
        )

    def laws(self) -> list[Any]:
        from ..laws import LAWS

        return [law for law in LAWS.values() if law.model == self.name]

    def figures(self) -> Mapping[str, Callable[..., Any]]:
        from ...figures import gaussian as figures_gaussian

        return getattr(figures_gaussian, "FIGURES", {})


def _skewness(metric: str):
    """Skewness of one seed's ``metric`` at each generation (a function of the config).

    * replace, ``mean_sq_error``: exact, any dim and estimator
      (:func:`model_collapse.theory.tails.gaussian_mean_sq_error_skewness`, from the
      recursion of ``||mu_n - mu||^2``'s first three moments);
    * replace, ``log_det`` (a sum of ``n`` i.i.d. log-chi-square sums) and ``w2_sq`` in 1-D
      (from the closed recursion of the joint moments of ``mu_n`` and ``sigma_n``): exact
      (:func:`~model_collapse.theory.tails.gaussian_log_det_skewness`,
      :func:`~model_collapse.theory.tails.gaussian_w2_skewness`);
    * replace, ``variance`` and ``std``: the skewness of the variance factor
      ``prod_{i<=n} chi2_{M-1}/c`` (of its square root for ``std``), exact for
      ``variance`` in 1-D (:func:`model_collapse.theory.tails.chi2_product_skewness`), the
      same multiplicative tail elsewhere;
    * at a temperature ``tau`` (replace): ``variance``, ``std`` and ``log_det`` are the same
      variables times ``tau^(n-1)`` (shifted, for ``log_det``), of the same skewness;
      ``mean_sq_error`` and 1-D ``w2_sq`` from their tempered moment recursions (exact,
      :mod:`model_collapse.theory.gaussian.bias`);
    * the other regimes, whose real data keep the variance bounded: 0, except
      ``mean_sq_error``, at least a scaled ``chi2_dim``'s ``sqrt(8/dim)`` (exact at
      generation 1).
    """

    def skewness(cfg: GaussianConfig, generations: np.ndarray) -> np.ndarray:
        from ...theory import tails as theory_tails

        gens = np.asarray(generations, np.float64)
        if cfg.regime == "replace" and cfg.temperature != 1.0 and metric in ("mean_sq_error", "w2_sq"):
            from ...theory.gaussian import bias_tails as bias

            kw = dict(M=cfg.M, estimator=cfg.estimator, temperature=cfg.temperature)
            if metric == "mean_sq_error":
                return bias.tempered_mean_sq_error_skewness(gens, dim=cfg.dim, **kw)
            if cfg.dim == 1:
                return bias.tempered_w2_skewness(gens, **kw)
        if cfg.regime == "replace" and metric == "mean_sq_error":
            return theory_tails.gaussian_mean_sq_error_skewness(gens, dim=cfg.dim, M=cfg.M, estimator=cfg.estimator)
        if cfg.regime == "replace" and metric == "log_det":
            return theory_tails.gaussian_log_det_skewness(gens, dim=cfg.dim, M=cfg.M)
        if cfg.regime == "replace" and metric == "w2_sq" and cfg.dim == 1:
            return theory_tails.gaussian_w2_skewness(gens, M=cfg.M, estimator=cfg.estimator)
        skew = np.zeros(gens.shape)
        if cfg.regime == "replace" and metric != "log_det":
            skew = theory_tails.chi2_product_skewness(gens, cfg.M - 1, 1.0, power=0.5 if metric == "std" else 1.0)
        if metric == "mean_sq_error":
            skew = np.maximum(skew, np.sqrt(8.0 / cfg.dim))
        return skew

    return skewness


def theory(cfg: GaussianConfig, generations: np.ndarray, convention: str = "fit") -> dict[str, np.ndarray | None]:
    """Predicted curves per metric for ``cfg`` (``None`` where no closed form exists).

    Delegates to :func:`model_collapse.theory.gaussian.predict`, derived in SymPy from the
    recursion; :meth:`Gaussian.theory_kinds` says which curve is an exact expectation and
    which a bound. ``convention="downstream"`` evaluates each law one generation later.
    """
    from ...theory import gaussian as theory_gaussian

    if convention not in ("fit", "downstream"):
        raise ConfigError(f"unknown convention {convention!r}; choose one of: fit, downstream")
    n = np.asarray(generations) + (1 if convention == "downstream" else 0)
    if cfg.curate > 1:  # curation: no closed form over generations (theory.curation_gaussian: one step)
        return {m: None for m in METRICS}
    if cfg.real_weight is not None:  # real and synthetic parts weighed (theory.weighting)
        return gaussian_weighting.theory(cfg, n)
    if cfg.temperature != 1.0:  # sampling bias (theory.gaussian.bias); none with real_resample
        rf = cfg.real_fraction if cfg.regime in ("mix", "augment") else None
        return {
            metric: None
            if cfg.real_resample
            else theory_gaussian.tempered_predict(
                metric,
                cfg.regime,
                cfg.estimator,
                n,
                dim=cfg.dim,
                M=cfg.M,
                sigma2=cfg.sigma2,
                temperature=cfg.temperature,
                real_fraction=rf,
            )
            for metric in METRICS
        }
    out = {}
    for metric in METRICS:
        if cfg.real_resample:  # the Nature paper's fresh random subset of the original data
            law = {
                "mean_sq_error": theory_gaussian.resample_mean_sq_error,
                "variance": theory_gaussian.resample_variance,
            }.get(metric)
            extra = {"sigma2": cfg.sigma2} if metric == "mean_sq_error" else {}
            out[metric] = (
                None
                if law is None
                else np.asarray(
                    law(n, dim=cfg.dim, M=cfg.M, estimator=cfg.estimator, real_fraction=cfg.real_fraction, **extra),
                    np.float64,
                )
            )
            continue
        if cfg.regime not in ("replace", "accumulate", "mix", "augment"):
            out[metric] = None
            continue
        curve = theory_gaussian.predict(
            metric,
            cfg.regime,
            cfg.estimator,
            n,
            dim=cfg.dim,
            M=cfg.M,
            sigma2=cfg.sigma2,
            real_fraction=cfg.real_fraction if cfg.regime in ("mix", "augment") else None,
        )
        out[metric] = None if curve is None else np.asarray(curve, np.float64)
    return out


register_model(Gaussian())
