"""Linear regression refit on its own labels (Gerstgrasser et al. 2024; Dohmatob et al. 2024).

Generation 1 is the OLS fit on real labels ``y = X w* + eps``; generation ``n >= 2``
fits labels ``X w_{n-1} + eps_n``. The metric ``test_error`` is ``||w_n - w*||^2``,
the noise-free test error for isotropic test inputs.

Designs: ``fixed`` (one ``X`` per seed, reused every generation), ``fresh`` (a new
``X`` every generation), ``shared`` (one ``X`` for *all* seeds, drawn from
``design_seed``: the conditional law given ``X``). Under ``mix`` and ``augment`` the
first ``k = real_fraction * T`` rows of the design carry real labels (fresh ones each
generation, or generation 1's kept for good) and the other ``T - k`` rows carry labels
from the previous fit.

Samplers:

* ``faithful`` draws the raw rows and labels, as the papers' code does; the regimes
  pool ``X^T X`` and ``X^T y`` (sufficient statistics) through the shared engine, so
  accumulate costs the same per generation as replace.
* ``exact`` draws the sufficient statistics from their laws: ``X^T X = L L^T`` with
  ``L`` the Bartlett factor of ``Wishart(T, I_d)``, and ``X^T eps = sigma L u``,
  ``u ~ N(0, I_d)``, so ``(X^T X)^{-1} X^T eps = sigma L^{-T} u``. The same law, no
  ``T``-sized arrays. Under replace and accumulate (except accumulate with a fresh
  design) the error is a sum of independent steps ``e_n = sum_{i<=n} c_i z_i``, drawn a
  block of :data:`GEN_BLOCK` generations at a time and summed (the fast path); the
  other regimes draw each part's statistics in the shared engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ..engine.linalg import cho_solve, cholesky, lstsq
from . import linreg_sources, register_model
from .base import Metric, Model, Rows
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
from .linreg_chain import (
    GEN_BLOCK,
    SPECTRA,
    _design_key,
    _parts,
    _sigma,
    check_options,
    downstream_operator,
    eigenvalues,
    exact_steps,
    extended,
    gen_rows,
    target,
)
from .linreg_sources import SOURCES, check_sources, uses_sources
from .linreg_theory import _no_closed_form, extended_theory, shared_design_trace_inverse, skewness, theory
from .regimes import REGIMES
from .samplers import least_squares_subsample, wishart_factor

__all__ = [
    "LinRegConfig",
    "LinReg",
    "shared_design_trace_inverse",
    "MonteCarloVarianceWarning",
    "METRICS",
    "GEN_BLOCK",
    "theory",
]

DESIGNS = ("fixed", "fresh", "shared")
SAMPLERS = ("faithful", "exact")
METRICS = ("test_error",)


class MonteCarloVarianceWarning(UserWarning):
    """The Monte Carlo estimator of the mean has infinite variance for this config."""


@config_dataclass(traced=("sigma2",))
class LinRegConfig:
    """Linear regression refit on its own labels.

    Attributes:
        d: features. T: rows per generation (``T > d + 1``).
        sigma2: label noise variance (``>= 0``).
        generations: number of fits, generation 1 on real labels.
        regime: replace, accumulate, mix, augment or accumulate-subsample.
        design: fixed, fresh or shared (see the module docstring).
        sampler: faithful (raw rows) or exact (sufficient statistics; not for subsampling).
        real_fraction: the share of rows with real labels under mix and augment.
        real_resample: augment only: each generation a fresh random ``k`` of the ``T`` rows
            keeps its generation-1 real label, the others get synthetic ones (the Nature
            paper's language-model setting, which kept a random 10% of the original data).
        real_weight: mix only: the fit weighs its loss ``w/k`` per real row and ``(1 - w)/(T - k)`` per
            synthetic row (He, Xu & Cheng 2025; ``w`` in ``[0, 1]``); ``None`` (default): every row alike.
        synthetic_source: mix only: ``previous`` (default: the previous fit labels the synthetic rows) or
            ``shifted``: a fixed model ``w* + delta``, ``E||delta||^2 = shift``, drawn once per seed (strong
            model collapse, Dohmatob et al. 2025: no recursion, the same experiment every generation;
            :mod:`~model_collapse.experiments.models.linreg_sources`).
        shift: ``C2 = E||delta||^2 >= 0`` of the shifted source.
        precision: float64 (default) or float32.
        design_seed: the seed of the one design used by ``design="shared"``.
        spectrum: the inputs' covariance ``Sigma`` (diagonal, w.l.o.g.): ``isotropic`` or
            ``power`` (eigenvalues ``j^-decay`` normalised to trace ``d``).
        decay: the power spectrum's exponent ``b > 0``.
        target_decay: ``None`` (``w* ~ N(0, I/d)``) or ``a > 0``: ``w*_j`` proportional to
            ``j^(-a/2)`` along ``Sigma``'s eigenvectors, ``||w*|| = 1``.
        ridge0: the ridge ``lambda0 >= 0`` of every generation's fit,
            ``(X^T X + rows lambda0 I)^-1 X^T y`` (replace only).
        downstream: ``test_error`` is that of a downstream model fit on ``T`` rows labelled
            by generation ``n`` (noise ``sigma2``, ridge ``ridge``; averaged over its label
            noise given its design, drawn once per seed or shared): the convention of
            Dohmatob et al. 2024, ``n`` generators then the downstream fit.
        T0: the generators' rows (``None``: ``T``).
        sigma0_2: the generators' label noise variance (``None``: ``sigma2``).
        ridge: the downstream model's ridge ``lambda >= 0``.
    """

    d: int = 32
    T: int = 100
    sigma2: float = 1.0
    generations: int = 50
    regime: str = "replace"
    design: str = "fixed"
    sampler: str = "faithful"
    real_fraction: float = 0.5
    real_resample: bool = False
    real_weight: float | None = None
    synthetic_source: str = "previous"
    shift: float = 0.0
    precision: str = "float64"
    design_seed: int = 0
    spectrum: str = "isotropic"
    decay: float = 1.0
    target_decay: float | None = None
    ridge0: float = 0.0
    downstream: bool = False
    T0: int | None = None
    sigma0_2: float | None = None
    ridge: float = 0.0

    model: ClassVar[str] = "linreg"
    CHOICES: ClassVar[dict] = {
        "regime": REGIMES,
        "design": DESIGNS,
        "sampler": SAMPLERS,
        "precision": PRECISIONS,
        "spectrum": SPECTRA,
        "synthetic_source": SOURCES,
    }

    def __post_init__(self):
        check_positive_int("d", self.d)
        check_positive_int("T", self.T)
        check_nonnegative("sigma2", self.sigma2)
        check_positive_int("generations", self.generations)
        for name, choices in self.CHOICES.items():
            check_choice(name, getattr(self, name), choices)
        check_fraction("real_fraction", self.real_fraction)
        if self.real_resample and self.regime != "augment":
            raise ConfigError("real_resample applies to --regime augment only")
        check_positive_int("design_seed", self.design_seed, minimum=0)
        check_sources(self)
        check_options(self)
        if self.T <= self.d + 1 and not extended(self):
            raise ConfigError(
                f"T must exceed d + 1 (got T={self.T}, d={self.d}): the expected test error "
                "sigma2 d/(T-d-1) is infinite"
            )
        if self.sampler == "exact" and (self.regime == "accumulate-subsample" or self.real_resample):
            raise ConfigError("the exact sampler draws no raw rows to subsample; use --sampler faithful")
        if self.regime in ("mix", "augment"):
            check_real_count(self.real_fraction, self.T, "T", "rows")
        rows = gen_rows(self)
        if self.d + 1 < rows <= self.d + 3 and self.design != "shared" and self.ridge0 == 0:  # given X: Gaussian
            warnings.warn(
                f"T={rows} <= d+3={self.d + 3}: the test error has infinite variance, so its "
                "Monte Carlo mean converges slowly and standard errors mean nothing",
                MonteCarloVarianceWarning,
                stacklevel=4,
            )

    def memory_advice(self) -> str:
        """What shrinks :meth:`memory_per_seed` (the memory planner's suggestion)."""
        return "fewer generations, the exact sampler (--sampler exact), or a smaller T or d"

    def memory_per_seed(self) -> int:
        """Bytes one seed's simulation holds at once (an estimate for chunking)."""
        d, T, G = self.d, self.T, self.generations
        fast = self.regime == "replace" or (self.regime == "accumulate" and self.design != "fresh")
        if self.sampler == "exact" and not fast:  # the engine's scan over drawn statistics
            words = 8 * d * d + 8 * d + 2 * G
        elif self.sampler == "exact":
            Gb = -(-G // GEN_BLOCK) * GEN_BLOCK
            words = 4 * d * d + 4 * Gb * d + 2 * GEN_BLOCK * GEN_BLOCK + (Gb * d * d if self.design == "fresh" else 0)
        else:
            words = 3 * T * d + 2 * d * d + 2 * T + G
            if self.regime == "accumulate-subsample" and self.design == "fresh":  # the engine's buffer of rows
                words += G * T * (d + 3)
            elif self.regime == "accumulate-subsample":  # labels, counts, subsets, each generation's X^T C X
                words += 5 * G * T + T * d * (d + 1) // 2 + G * d * d
        return 8 * words


def _subsample_fixed(model: LinReg, cfg: LinRegConfig, key: jax.Array) -> jax.Array:
    """accumulate-subsample with one design for every generation: the engine's draws from the same keys."""
    (w_star, X, _), _, key_steps = model.init(cfg, key)
    return least_squares_subsample(X, w_star, _sigma(cfg), key_steps, cfg.generations)


class LinReg(Model):
    """OLS refit on its own labels: hooks of the shared engine and the exact fast path."""

    name = "linreg"
    config = LinRegConfig
    regimes = REGIMES
    default_sampler = (
        "faithful",
        "raw rows, as the papers' code; --sampler exact draws X^T X and X^T y from their laws",
    )

    def __init__(self):
        self.metrics = (
            Metric(
                "test_error",
                "||w_n - w*||_Sigma^2 (noise-free test error; of the downstream model with --downstream)",
                "log",
                skewness,
            ),
        )

    def batch_size(self, cfg: LinRegConfig) -> int:
        return gen_rows(cfg)

    # ---- engine hooks ------------------------------------------------------------
    # ctx: (w*, design, aux). The design is the fixed X (faithful) or a tuple of Wishart
    # factors, one per row slice (exact), scaled by Sigma^{1/2}; None for a fresh design.
    # aux: {"sigma": Sigma's diagonal, "root": its square root, "down": the downstream (R, v) or None}.

    def init(self, cfg: LinRegConfig, key: jax.Array) -> tuple[tuple[jax.Array, Any], jax.Array, jax.Array]:
        k_truth, k_design, k_steps = jax.random.split(key, 3)
        dt, T, d = cfg.dtype, gen_rows(cfg), cfg.d
        w_star = target(cfg, k_truth)
        k_design = _design_key(cfg, k_design)
        sigma = eigenvalues(cfg)
        root = jnp.asarray(np.sqrt(sigma), dt)
        if cfg.design == "fresh":
            design = None
        elif cfg.sampler == "exact":
            keys = jax.random.split(k_design, len(_parts(cfg, T)))
            design = tuple(
                root[:, None] * wishart_factor(k, r.size, d, dt) for k, r in zip(keys, _parts(cfg, T), strict=True)
            )
        else:
            design = jax.random.normal(k_design, (T, d), dtype=dt) * root
        down = downstream_operator(cfg, jax.random.fold_in(k_design, 1)) if cfg.downstream else None
        aux = {"sigma": jnp.asarray(sigma, dt), "root": root, "down": down}
        return (w_star, design, aux), w_star, k_steps

    def draw(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], key: jax.Array, params: jax.Array, rows: Rows) -> Any:
        """Rows ``rows`` of the batch and their labels from ``params``: ``{"X" or "row", "y"}``."""
        if cfg.sampler == "exact":
            raise ConfigError("the exact sampler draws no raw rows; use --sampler faithful")
        _, design, aux = ctx
        dt = cfg.dtype
        k_x, k_eps = jax.random.split(key)
        if design is None:
            X = jax.random.normal(k_x, (rows.size, cfg.d), dtype=dt) * aux["root"]
            batch = {"X": X}
        else:
            X = design[rows.start : rows.stop]
            batch = {"row": jnp.arange(rows.start, rows.stop, dtype=jnp.int32)}
        batch["y"] = X @ params + _sigma(cfg) * jax.random.normal(k_eps, (rows.size,), dtype=dt)
        return batch

    def _rows(self, ctx, batch):
        return batch["X"] if "X" in batch else ctx[1][batch["row"]]

    def statistics(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], batch: Any) -> tuple[jax.Array, jax.Array]:
        X = self._rows(ctx, batch)
        return (X.T @ X, X.T @ batch["y"])

    def draw_statistics(
        self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], key: jax.Array, params: jax.Array, rows: Rows
    ) -> tuple[jax.Array, jax.Array]:
        if cfg.sampler != "exact":
            if ctx[1] is not None and rows.size == gen_rows(cfg):  # the whole fixed design: no gather
                X = ctx[1]
                k_x, k_eps = jax.random.split(key)
                y = X @ params + _sigma(cfg) * jax.random.normal(k_eps, (rows.size,), dtype=cfg.dtype)
                return (X.T @ X, X.T @ y)
            return super().draw_statistics(cfg, ctx, key, params, rows)
        # X_p^T X_p = F F^T and X_p^T eps = sigma F u: the labels' statistics from their law.
        k_w, k_u = jax.random.split(key)
        if ctx[1] is None:
            F = ctx[2]["root"][:, None] * wishart_factor(k_w, rows.size, cfg.d, cfg.dtype)
        else:
            F = ctx[1][_parts(cfg, gen_rows(cfg)).index(rows)]
        gram = F @ F.T
        u = jax.random.normal(k_u, (F.shape[1],), dtype=cfg.dtype)
        return (gram, gram @ params + _sigma(cfg) * (F @ u))

    def merge(self, a: tuple[jax.Array, jax.Array], b: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return (a[0] + b[0], a[1] + b[1])

    def fit(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], stats: tuple[jax.Array, jax.Array]) -> jax.Array:
        gram, moment = stats
        if cfg.ridge0 > 0:  # replace only: one generation's rows
            gram = gram + gen_rows(cfg) * cfg.ridge0 * jnp.eye(cfg.d, dtype=gram.dtype)
        elif gen_rows(cfg) < cfg.d:  # the minimum-norm least-squares fit (noiseless labels)
            return jnp.linalg.pinv(gram, hermitian=True) @ moment
        return cho_solve((cholesky(gram), True), moment)

    def fit_sample(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], sample: Any) -> jax.Array:
        # Rows of a fixed design can repeat in a subsample: least squares with the minimum-norm
        # solution stays defined if fewer than d distinct rows are drawn. Fresh rows never repeat.
        if ctx[1] is None:
            return self.fit(cfg, ctx, self.statistics(cfg, ctx, sample))
        return lstsq(self._rows(ctx, sample), sample["y"])

    def evaluate(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], params: jax.Array) -> dict[str, jax.Array]:
        w_star, _, aux = ctx
        if aux["down"] is not None:
            R, v = aux["down"]
            params = R @ params
            return {"test_error": jnp.sum(aux["sigma"] * (params - w_star) ** 2) + v}
        return {"test_error": jnp.sum(aux["sigma"] * (params - w_star) ** 2)}

    def fast_path(self, cfg: LinRegConfig) -> Callable[[jax.Array], dict[str, jax.Array]] | None:
        if uses_sources(cfg):  # a real weight, or the shifted source (linreg_sources)
            return linreg_sources.simulator(cfg)
        if cfg.regime == "accumulate-subsample" and cfg.design != "fresh" and not self.transforms(cfg):
            return lambda key: {"test_error": _subsample_fixed(self, cfg, key)}  # labels buffered, not rows
        if cfg.sampler != "exact" or cfg.regime not in ("replace", "accumulate") or extended(cfg):
            return None
        if cfg.design == "fresh" and cfg.regime == "accumulate":
            return None  # pools Gram matrices generation after generation: the engine's scan
        return lambda key: {"test_error": exact_steps(cfg, key)}

    # ---- other layers ------------------------------------------------------------

    def theory(
        self, cfg: LinRegConfig, generations: np.ndarray, convention: str = "fit"
    ) -> dict[str, np.ndarray | None]:
        if uses_sources(cfg):
            return linreg_sources.theory(cfg, generations, convention)
        return theory(cfg, generations, convention)

    def theory_kinds(self, cfg: LinRegConfig) -> dict[str, str | None]:
        if uses_sources(cfg):
            return linreg_sources.theory_kinds(cfg)
        if extended(cfg):
            return {"test_error": extended_theory(cfg, np.ones(1))[1]}
        return {"test_error": None if _no_closed_form(cfg) else "exact expectation"}

    def examples(self) -> tuple[LinRegConfig, ...]:
        c = LinRegConfig(d=4, T=12, generations=5, regime="accumulate")
        return (
            c,
            LinRegConfig(d=4, T=12, generations=5, regime="replace", sampler="exact", design="fresh"),
            LinRegConfig(d=4, T=12, generations=5, regime="mix", sampler="exact", real_fraction=0.25),
            LinRegConfig(d=4, T=12, generations=5, regime="augment", real_fraction=0.25, design="shared"),
            LinRegConfig(d=4, T=12, generations=5, regime="accumulate-subsample", design="fresh"),
            LinRegConfig(d=4, T=6, generations=5, regime="accumulate-subsample", design="shared"),
            LinRegConfig(d=4, T=12, generations=5, regime="accumulate", sampler="exact", design="fresh"),
            LinRegConfig(d=4, T=12, generations=5, regime="augment", real_fraction=0.25, real_resample=True),
        )

    def laws(self) -> list[Any]:
        from ..laws import LAWS

        return [law for law in LAWS.values() if law.model == self.name]

    def figures(self) -> Mapping[str, Callable[..., Any]]:
        from ...figures import linreg as figures_linreg
        from ...figures import linreg_ridge as figures_ridge

        return {**getattr(figures_linreg, "FIGURES", {}), **figures_ridge.FIGURES}


register_model(LinReg())
