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

from ..engine.linalg import cho_solve, cholesky, lstsq, solve_triangular
from . import register_model
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
from .regimes import REGIMES, scan_blocks
from .samplers import bartlett_batch, bartlett_factor, least_squares_subsample

__all__ = [
    "LinRegConfig",
    "LinReg",
    "shared_design_trace_inverse",
    "MonteCarloVarianceWarning",
    "METRICS",
    "GEN_BLOCK",
]

DESIGNS = ("fixed", "fresh", "shared")
SAMPLERS = ("faithful", "exact")
METRICS = ("test_error",)
GEN_BLOCK = 64  # generations the exact fast path draws at once (fixed: trajectories are prefixes)


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
        precision: float64 (default) or float32.
        design_seed: the seed of the one design used by ``design="shared"``.
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
    precision: str = "float64"
    design_seed: int = 0

    model: ClassVar[str] = "linreg"
    CHOICES: ClassVar[dict] = {"regime": REGIMES, "design": DESIGNS, "sampler": SAMPLERS, "precision": PRECISIONS}

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
        if self.T <= self.d + 1:
            raise ConfigError(
                f"T must exceed d + 1 (got T={self.T}, d={self.d}): the expected test error "
                "sigma2 d/(T-d-1) is infinite"
            )
        if self.sampler == "exact" and (self.regime == "accumulate-subsample" or self.real_resample):
            raise ConfigError("the exact sampler draws no raw rows to subsample; use --sampler faithful")
        if self.regime in ("mix", "augment"):
            check_real_count(self.real_fraction, self.T, "T", "rows")
        if self.T <= self.d + 3 and self.design != "shared":  # given one design, the error is Gaussian
            warnings.warn(
                f"T={self.T} <= d+3={self.d + 3}: the test error has infinite variance, so its "
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
    (w_star, X), _, key_steps = model.init(cfg, key)
    return least_squares_subsample(X, w_star, _sigma(cfg), key_steps, cfg.generations)


def _design_key(cfg: LinRegConfig, key: jax.Array) -> jax.Array:
    return jax.random.key(cfg.design_seed) if cfg.design == "shared" else key


def _sigma(cfg):
    return jnp.sqrt(jnp.asarray(cfg.sigma2, cfg.dtype))


def _parts(cfg, T: int) -> tuple[Rows, ...]:
    """The row slices the engine draws separately under ``cfg``'s regime."""
    if cfg.regime in ("mix", "augment"):
        k = int(round(cfg.real_fraction * T))
        return tuple(r for r in (Rows(0, k), Rows(k, T)) if r.size)
    return (Rows(0, T),)


def _wishart_factor(key, rows: int, d: int, dtype):
    """A matrix ``F`` with ``F F^T ~ Wishart(rows, I_d)``: the Bartlett factor, or ``Z^T`` when ``rows < d``."""
    if rows >= d:
        return bartlett_factor(key, rows, d, dtype)
    return jax.random.normal(key, (rows, d), dtype=dtype).T


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
            Metric("test_error", "||w_n - w*||^2 (noise-free test error, isotropic inputs)", "log", _skewness),
        )

    def batch_size(self, cfg: LinRegConfig) -> int:
        return cfg.T

    # ---- engine hooks ------------------------------------------------------------
    # ctx: (w*, design). The design is the fixed X (faithful) or a tuple of Wishart
    # factors, one per row slice (exact); None for a fresh design.

    def init(self, cfg: LinRegConfig, key: jax.Array) -> tuple[tuple[jax.Array, Any], jax.Array, jax.Array]:
        k_truth, k_design, k_steps = jax.random.split(key, 3)
        dt, T, d = cfg.dtype, cfg.T, cfg.d
        w_star = jax.random.normal(k_truth, (d,), dtype=dt) / jnp.sqrt(jnp.asarray(d, dt))
        k_design = _design_key(cfg, k_design)
        if cfg.design == "fresh":
            design = None
        elif cfg.sampler == "exact":
            keys = jax.random.split(k_design, len(_parts(cfg, T)))
            design = tuple(_wishart_factor(k, r.size, d, dt) for k, r in zip(keys, _parts(cfg, T), strict=True))
        else:
            design = jax.random.normal(k_design, (T, d), dtype=dt)
        return (w_star, design), w_star, k_steps

    def draw(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], key: jax.Array, params: jax.Array, rows: Rows) -> Any:
        """Rows ``rows`` of the batch and their labels from ``params``: ``{"X" or "row", "y"}``."""
        if cfg.sampler == "exact":
            raise ConfigError("the exact sampler draws no raw rows; use --sampler faithful")
        _, design = ctx
        dt = cfg.dtype
        k_x, k_eps = jax.random.split(key)
        if design is None:
            X = jax.random.normal(k_x, (rows.size, cfg.d), dtype=dt)
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
            if ctx[1] is not None and rows.size == cfg.T:  # the whole fixed design: no gather
                X = ctx[1]
                k_x, k_eps = jax.random.split(key)
                y = X @ params + _sigma(cfg) * jax.random.normal(k_eps, (rows.size,), dtype=cfg.dtype)
                return (X.T @ X, X.T @ y)
            return super().draw_statistics(cfg, ctx, key, params, rows)
        # X_p^T X_p = F F^T and X_p^T eps = sigma F u: the labels' statistics from their law.
        k_w, k_u = jax.random.split(key)
        if ctx[1] is None:
            F = _wishart_factor(k_w, rows.size, cfg.d, cfg.dtype)
        else:
            F = ctx[1][_parts(cfg, cfg.T).index(rows)]
        gram = F @ F.T
        u = jax.random.normal(k_u, (F.shape[1],), dtype=cfg.dtype)
        return (gram, gram @ params + _sigma(cfg) * (F @ u))

    def merge(self, a: tuple[jax.Array, jax.Array], b: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return (a[0] + b[0], a[1] + b[1])

    def fit(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], stats: tuple[jax.Array, jax.Array]) -> jax.Array:
        gram, moment = stats
        return cho_solve((cholesky(gram), True), moment)

    def fit_sample(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], sample: Any) -> jax.Array:
        # Rows of a fixed design can repeat in a subsample: least squares with the minimum-norm
        # solution stays defined if fewer than d distinct rows are drawn. Fresh rows never repeat.
        if ctx[1] is None:
            return self.fit(cfg, ctx, self.statistics(cfg, ctx, sample))
        return lstsq(self._rows(ctx, sample), sample["y"])

    def evaluate(self, cfg: LinRegConfig, ctx: tuple[jax.Array, Any], params: jax.Array) -> dict[str, jax.Array]:
        return {"test_error": jnp.sum((params - ctx[0]) ** 2)}

    def fast_path(self, cfg: LinRegConfig) -> Callable[[jax.Array], dict[str, jax.Array]] | None:
        if cfg.regime == "accumulate-subsample" and cfg.design != "fresh" and not self.transforms(cfg):
            return lambda key: {"test_error": _subsample_fixed(self, cfg, key)}  # labels buffered, not rows
        if cfg.sampler != "exact" or cfg.regime not in ("replace", "accumulate"):
            return None
        if cfg.design == "fresh" and cfg.regime == "accumulate":
            return None  # pools Gram matrices generation after generation: the engine's scan
        return lambda key: {"test_error": _exact_steps(cfg, key)}

    # ---- other layers ------------------------------------------------------------

    def theory(
        self, cfg: LinRegConfig, generations: np.ndarray, convention: str = "fit"
    ) -> dict[str, np.ndarray | None]:
        return theory(cfg, generations, convention)

    def theory_kinds(self, cfg: LinRegConfig) -> dict[str, str | None]:
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

        return getattr(figures_linreg, "FIGURES", {})


def _skewness(cfg: LinRegConfig, generations: np.ndarray) -> np.ndarray:
    """Skewness of one seed's ``test_error`` (inf where it is infinite).

    * a random design (``fixed`` or ``fresh``) with ``T <= d + 5``: infinite (``tr (X^T
      X)^-1`` has a finite ``k``-th moment iff ``T > d + 2k - 1``);
    * replace or accumulate with a fixed design, replace with a fresh one: exact
      (:func:`model_collapse.theory.tails.linreg_test_error_skewness`; a fixed design gives
      the F distribution's at every ``n``, 0.84 at ``d = 32, T = 100``);
    * one design for every seed (``shared``): a Gaussian quadratic form's, exact, from the
      design's eigenvalues (replace, accumulate) or the augment recursion
      (:func:`model_collapse.theory.linreg_augment.conditional_augment_skewness`), else its
      upper bound ``sqrt(8)``;
    * augment with a fixed design, ``d = 1``: exact
      (:func:`model_collapse.theory.tails.linreg_augment_skewness`);
    * the other regimes (no law is registered there): the one-fit value, the fixed
      design's F skewness, as an approximation.
    """
    from ...theory import tails as theory_tails

    gens = np.asarray(generations)
    if cfg.regime == "augment" and cfg.design == "fixed" and cfg.d == 1 and not cfg.real_resample:
        return theory_tails.linreg_augment_skewness(gens, T=cfg.T, k=int(round(cfg.real_fraction * cfg.T)))
    if cfg.design == "shared":
        if cfg.regime == "augment" and not cfg.real_resample:
            from ...theory import linreg as theory_linreg

            return theory_linreg.conditional_augment_skewness(gens, *_shared_real_synthetic(cfg))
        if cfg.regime in ("replace", "accumulate"):
            weights = 1.0 / np.linalg.eigvalsh(_shared_gram(cfg))
            return np.full(gens.shape, theory_tails.gaussian_quadratic_form_skewness(weights))
        return np.full(gens.shape, np.sqrt(8.0))  # a quadratic form's skewness is at most sqrt(8)
    try:
        return theory_tails.linreg_test_error_skewness(gens, d=cfg.d, T=cfg.T, regime=cfg.regime, design=cfg.design)
    except ValueError:
        one_fit = theory_tails.linreg_test_error_skewness(
            np.ones(1), d=cfg.d, T=cfg.T, regime="replace", design="fixed"
        )
        return np.full(gens.shape, float(one_fit[0]))


def _exact_steps(cfg, key):
    """``test_error`` per generation as a sum of independent steps, a block of generations at a time.

    With one design for every generation (``fixed``, ``shared``) or a fresh design
    under replace, ``e_n = sum_{i<=n} c_i z_i`` with ``z_i = sigma L_i^{-T} u_i`` and
    ``c_i = 1`` (replace) or ``1/i`` (accumulate). Block ``b`` of :data:`GEN_BLOCK`
    generations draws its normals (and fresh designs) with ``fold_in(key, b)`` in arrays
    of a fixed shape, and sums them with one lower-triangular matrix product; blocks are
    joined by a scan. Nothing depends on the number of generations but the number of
    blocks, so a trajectory's first generations are the same however many are simulated.
    """
    dt, T, d, G = cfg.dtype, cfg.T, cfg.d, cfg.generations
    k_truth, k_design, k_steps = jax.random.split(key, 3)
    sigma = _sigma(cfg)
    B = GEN_BLOCK
    blocks = -(-G // B)
    k_w, k_u = jax.random.split(k_steps)
    tril = jnp.tril(jnp.ones((B, B), dt))
    if cfg.design != "fresh":
        # (L^{-T} s)^T = s^T L^{-1}: one triangular inverse per seed, then matrix products
        # (XLA's batched triangular solve with many right-hand sides is slow on the CPU).
        L = bartlett_factor(_design_key(cfg, k_design), T, d, dt)
        L_inv = solve_triangular(L, jnp.eye(d, dtype=dt), lower=True)

    def block(carry, b):
        u = jax.random.normal(jax.random.fold_in(k_u, b), (B, d), dtype=dt)
        if cfg.design == "fresh":
            Ls = bartlett_batch(jax.random.fold_in(k_w, b), T, d, (B,), dt)
            z = jax.vmap(lambda Lg, ug: solve_triangular(Lg.T, ug, lower=False))(Ls, u)
        else:
            z = u @ L_inv
        if cfg.regime == "accumulate":
            z = z / (b * B + jnp.arange(1, B + 1, dtype=dt))[:, None]
        e = carry + tril @ z
        return e[-1], jnp.sum((sigma * e) ** 2, axis=1)

    _, errors = scan_blocks(block, jnp.zeros((d,), dt), blocks)
    return errors.reshape(blocks * B)[:G]


def _shared_rows(cfg: LinRegConfig) -> list[np.ndarray]:
    """The one design that ``design="shared"`` uses, as the sampler draws it, one array per part (float64).

    Under mix and augment the parts are the real rows ``0..k-1`` and the synthetic rows; the exact
    sampler draws each part's Gram factor ``F`` (``d x rows``), returned as ``F^T``: the same
    ``X_part^T X_part``, all that the laws depend on.
    """
    from ..engine.precision import float64

    key = _design_key(cfg, None)
    with float64():
        if cfg.sampler == "exact":
            if cfg.regime in ("mix", "augment"):
                parts = _parts(cfg, cfg.T)
                keys = jax.random.split(key, len(parts))
                return [
                    np.asarray(_wishart_factor(k, r.size, cfg.d, cfg.dtype), np.float64).T
                    for k, r in zip(keys, parts, strict=True)
                ]
            return [np.asarray(bartlett_factor(key, cfg.T, cfg.d, cfg.dtype), np.float64).T]
        X = np.asarray(jax.random.normal(key, (cfg.T, cfg.d), dtype=cfg.dtype), np.float64)
        return [X[r.start : r.stop] for r in _parts(cfg, cfg.T)]


def _shared_real_synthetic(cfg: LinRegConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(X_R, X_S)``: the shared design's real rows ``0..k-1`` and the others (mix, augment)."""
    k = int(round(cfg.real_fraction * cfg.T))
    X = dict(zip(((r.start, r.stop) for r in _parts(cfg, cfg.T)), _shared_rows(cfg), strict=True))
    empty = np.zeros((0, cfg.d))
    return X.get((0, k), empty), X.get((k, cfg.T), empty)


def _shared_gram(cfg: LinRegConfig) -> np.ndarray:
    """``X^T X`` of the one design that ``design="shared"`` uses, as the sampler draws it (float64)."""
    return sum(X.T @ X for X in _shared_rows(cfg))


def shared_design_trace_inverse(cfg: LinRegConfig) -> float:
    """``tr (X^T X)^{-1}`` of the one design that ``design="shared"`` uses, as the sampler draws it."""
    if cfg.design != "shared":
        raise ConfigError("only design='shared' has one design for every seed")
    return float(np.trace(np.linalg.inv(_shared_gram(cfg))))


def _no_closed_form(cfg) -> bool:
    if cfg.regime == "augment":
        # Derived: given the design (shared), and over Gaussian designs for d = 1 (fixed).
        return cfg.real_resample or not (cfg.design == "shared" or (cfg.design == "fixed" and cfg.d == 1))
    return cfg.regime in ("accumulate-subsample", "mix") or (cfg.regime == "accumulate" and cfg.design == "fresh")


def theory(cfg: LinRegConfig, generations: np.ndarray, convention: str = "fit") -> dict[str, np.ndarray | None]:
    """The predicted ``test_error`` curve for ``cfg`` (``None`` where no closed form exists).

    * replace, fixed or fresh design: ``sigma2 d n/(T-d-1)`` (a fresh design leaves the
      steps ``z_n`` independent with the same mean square, so the law is unchanged);
    * accumulate, fixed design: ``sigma2 d/(T-d-1) sum_{i<=n} 1/i^2``;
    * shared design: the conditional law given that ``X``;
    * augment (the first ``k = real_fraction T`` rows keep their real labels): given the design
      (shared), or over Gaussian designs for ``d = 1`` (fixed), both derived here
      (:mod:`model_collapse.theory.linreg_augment`);
    * accumulate with a fresh design, accumulate-subsample, mix, augment otherwise: no closed form here.
    """
    from ...theory import linreg as theory_linreg

    if _no_closed_form(cfg):
        return {"test_error": None}
    if cfg.regime == "augment":
        if cfg.design == "shared":
            X_R, X_S = _shared_real_synthetic(cfg)
            curve = theory_linreg.conditional_augment_test_error(generations, X_R, X_S, cfg.sigma2, convention)
            return {"test_error": curve}
        curve = theory_linreg.expected_augment_test_error(
            generations, cfg.d, cfg.T, cfg.sigma2, cfg.real_fraction, convention
        )
        return {"test_error": curve}
    if cfg.design == "shared":
        tr = shared_design_trace_inverse(cfg)
        curve = theory_linreg.conditional_test_error(generations, cfg.sigma2, tr, cfg.regime, convention)
    else:
        curve = theory_linreg.expected_test_error(generations, cfg.d, cfg.T, cfg.sigma2, cfg.regime, convention)
    return {"test_error": curve}


register_model(LinReg())
