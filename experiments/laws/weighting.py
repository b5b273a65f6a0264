"""Laws of weighting fresh real data against synthetic data (He, Xu & Cheng 2025, the golden ratio).

Gaussian (``--regime mix --real-weight w``, :mod:`model_collapse.experiments.models.gaussian_weighting`):
the exact transient ``E||mu_t - mu||^2`` and ``E tr Sigma_t`` (both estimators), the stationary
error at the optimal weight ``w*(k)`` (equal to ``w*`` in units of ``sigma2 dim/n``). Regression
with the weight on the loss (:mod:`model_collapse.experiments.models.linreg_sources`): exact given
the design, and the Gaussian law with ``sigma2 d`` as ``n, m -> oo`` (asymptotic, two sizes).
Predictions read ``n = real_fraction * M`` (or ``* T``), ``m`` and ``w`` off the config checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ...theory import weighting as tw
from ..models.gaussian import GaussianConfig
from ..models.linreg import LinRegConfig
from ..models.linreg_sources import part_sizes, shared_grams
from .references import DERIVED_HERE, GOLDEN_RATIO, PUBLISHED
from .registry import Law, register_law, setting
from .verdicts import Asymptotic, Expectation

__all__ = ["gaussian_mean", "gaussian_variance", "regression_given_x", "regression_asymptotic", "slow_contraction"]


def _nm(cfg: Any) -> tuple[int, int]:
    size = cfg.M if cfg.model == "gaussian" else cfg.T
    n = int(round(cfg.real_fraction * size))
    return n, size - n


def gaussian_mean(cfg: GaussianConfig, t: ArrayLike) -> np.ndarray:
    """``E||mu_t - mu||^2`` of the weighted Gaussian (exact, either estimator)."""
    n, m = _nm(cfg)
    return tw.gaussian_mean_error(t, cfg.real_weight, n, m, cfg.sigma2, cfg.dim, cfg.estimator)


def gaussian_stationary(cfg: GaussianConfig, t: ArrayLike) -> np.ndarray:
    """``(sigma2 dim/n) [w^2 + k(1-w)^2]/[1 - (1-w)^2]`` at every ``t`` (the limit; unbiased covariance)."""
    n, m = _nm(cfg)
    value = cfg.sigma2 * cfg.dim / n * float(tw.stationary_mean_error(cfg.real_weight, n / m))
    return np.full(np.shape(t), value)


def naive_stationary(cfg: GaussianConfig, t: ArrayLike) -> np.ndarray:
    """The wrong twin of the minimum: the naive weight's error ``(1+k)/(2+k)`` at the optimal weight."""
    n, m = _nm(cfg)
    k = n / m
    return np.full(np.shape(t), cfg.sigma2 * cfg.dim / n * (1 + k) / (2 + k))


def gaussian_variance(cfg: GaussianConfig, t: ArrayLike) -> np.ndarray:
    """``E tr Sigma_t/(dim sigma2)`` of the weighted Gaussian (exact; 1 for the unbiased estimator)."""
    n, m = _nm(cfg)
    return tw.gaussian_variance(t, cfg.real_weight, n, m, cfg.sigma2, cfg.dim, cfg.estimator)


def unbiased_variance(cfg: GaussianConfig, t: ArrayLike) -> np.ndarray:
    """The wrong twin for the MLE: the unbiased estimator's constant ``1``."""
    return np.ones(np.shape(t))


def slow_contraction(cfg: Any, t: ArrayLike) -> np.ndarray:
    """A wrong twin: the error contracting by ``(1 - w)`` instead of ``(1 - w)^2`` per generation.

    ``(sigma2 D/n) [w^2 + k(1-w)^2] (1 - (1-w)^t)/w``: equal at ``t = 1``, ``(2 - w)`` times the law in the limit.
    """
    n, m = _nm(cfg)
    w = cfg.real_weight
    D = cfg.dim if cfg.model == "gaussian" else cfg.d
    t = np.asarray(t, np.float64)
    return cfg.sigma2 * D * (w**2 / n + (1 - w) ** 2 / m) * (1 - (1 - w) ** t) / w


def regression_given_x(cfg: LinRegConfig, t: ArrayLike) -> np.ndarray:
    """``E[||w_t - w*||^2 | X]`` for the loss-weighted fit on the shared design (exact)."""
    G_r, G_s = shared_grams(cfg)
    k, m = part_sizes(cfg)
    return tw.conditional_regression_error(t, G_r, G_s, k, m, cfg.real_weight, cfg.sigma2)


def regression_asymptotic(cfg: LinRegConfig, t: ArrayLike) -> np.ndarray:
    """The ``n, m -> oo`` law: ``sigma2 d [w^2/n + (1-w)^2/m] (1 - (1-w)^{2t})/(1 - (1-w)^2)``."""
    k, m = part_sizes(cfg)
    return tw.asymptotic_regression_error(t, cfg.real_weight, k, m, cfg.d, cfg.sigma2)


def _tolerance(cfg: LinRegConfig) -> float:
    k, m = part_sizes(cfg)
    return 2.0 * (cfg.d + 1) / min(k, m)


def _weighted(model: str, **values: Any) -> Callable:
    def extra(cfg):
        if getattr(cfg, "real_weight", None) is None:
            return "the law is for a weighted fit (--real-weight w)"
        if model == "linreg" and cfg.synthetic_source != "previous":
            return "the law is for synthetic rows from the previous fit (--synthetic-source previous)"
        return None

    return setting(model, extra=extra, regime="mix", **values)


_STATEMENT = (
    "setting of He, Xu & Cheng 2025: the fresh-data loop with weight w on n real and 1-w on m = n/k synthetic "
    "samples per round (they state the Gaussian mean's stationary error and its golden-ratio optimum w*(k)); "
    "the transient at every generation is derived here from the one-step recursion"
)
_REGRESSION = (
    "setting of He, Xu & Cheng 2025's regression experiment (per-row weights w/n real, (1-w)/m synthetic); exact "
    "given the design (pencil eigenvalues), the Gaussian law with sigma2 d as n, m -> oo"
)


def _register() -> None:
    golden = float(tw.optimal_weight(1.0))
    base = {"regime": "mix", "sigma2": 1.0, "sampler": "exact"}
    k1 = GaussianConfig(dim=4, M=20, real_fraction=0.5, real_weight=golden, generations=40, **base)
    quarter_w = float(tw.optimal_weight(0.25))
    quarter = GaussianConfig(dim=2, M=20, real_fraction=0.2, real_weight=quarter_w, generations=60, **base)
    mle = dataclasses.replace(k1, estimator="mle")
    gens = (1, 2, 3, 5, 10, 40)
    register_law(
        Law(
            id="gaussian/mix/weighted/mean",
            title="E||mu_t - mu||^2 = (sigma2 dim/n) [w^2 + k(1-w)^2](1 - (1-w)^{2t})/[1 - (1-w)^2] "
            "(mix, real weight w = 0.618 at k = n/m = 1)",
            reference=GOLDEN_RATIO,
            status=DERIVED_HERE,
            statement=_STATEMENT,
            config=k1,
            metric="mean_sq_error",
            verdict=Expectation(),
            predict=gaussian_mean,
            perturbed=slow_contraction,
            generations=gens,
            seeds=20_000,
            covers=_weighted("gaussian", estimator="unbiased"),
        )
    )
    register_law(
        Law(
            id="gaussian/mix/weighted/golden-minimum",
            title="lim E||mu_t - mu||^2 = w*(k) sigma2 dim/n at w = w*(k) = (sqrt(k^2+4k) - k)/2 (mix, k = 1/4)",
            reference=GOLDEN_RATIO,
            status=PUBLISHED,
            statement="the optimal weight w*(k) = (sqrt(k^2 + 4k) - k)/2 of the Gaussian mean, whose stationary "
            "error is w* sigma^2/n (the golden ratio's 0.618 at k = 1); checked at generations where the transient "
            "(1 - w)^{2t} is below 1e-12",
            config=quarter,
            metric="mean_sq_error",
            verdict=Expectation(),
            predict=gaussian_stationary,
            perturbed=naive_stationary,
            generations=(30, 45, 60),
            seeds=20_000,
            covers=_weighted("gaussian", estimator="unbiased"),
        )
    )
    for law_id, metric, predict, twin, title in (
        (
            "gaussian/mix/weighted/mle-variance",
            "variance",
            gaussian_variance,
            unbiased_variance,
            "E tr Sigma_t/(dim sigma2) = beta^t + w r_n (1 - beta^t)/(1 - beta), beta = (1-w)(m-1)/m, "
            "r_n = (n-1)/n (mix, weighted, MLE covariance)",
        ),
        (
            "gaussian/mix/weighted/mle-mean",
            "mean_sq_error",
            gaussian_mean,
            slow_contraction,
            "E||mu_t - mu||^2 = (1-w)^2 E||mu_{t-1} - mu||^2 + w^2 sigma2 dim/n + (1-w)^2 E tr Sigma_{t-1}/m, "
            "solved (mix, weighted, MLE covariance)",
        ),
    ):
        register_law(
            Law(
                id=law_id,
                title=title,
                reference=GOLDEN_RATIO,
                status=DERIVED_HERE,
                statement=_STATEMENT,
                config=mle,
                metric=metric,
                verdict=Expectation(),
                predict=predict,
                perturbed=twin,
                generations=gens,
                seeds=20_000,
                covers=_weighted("gaussian", estimator="mle"),
            )
        )
    lin = {"regime": "mix", "real_fraction": 0.5, "real_weight": golden, "sigma2": 1.0, "sampler": "exact"}
    register_law(
        Law(
            id="linreg/mix/weighted/given-X",
            title="E[||w_t - w*||^2 | X] = sigma2 sum_i (V^T V)_ii q_i (1 - beta_i^{2t})/(1 - beta_i^2), beta_i the "
            "eigenvalues of the pencil (b G_s, a G_r + b G_s) (mix, loss weights a = w/n, b = (1-w)/m)",
            reference=GOLDEN_RATIO,
            status=DERIVED_HERE,
            statement=_REGRESSION,
            config=LinRegConfig(d=4, T=40, design="shared", generations=20, **lin),
            metric="test_error",
            verdict=Expectation(),
            predict=regression_given_x,
            perturbed=regression_asymptotic,
            generations=(1, 2, 3, 5, 20),
            seeds=20_000,
            covers=_weighted("linreg", design="shared"),
        )
    )
    for size, T in (("small", 100), ("large", 400)):
        register_law(
            Law(
                id=f"linreg/mix/weighted/asymptotic/{size}",
                title="E||w_t - w*||^2 ~ sigma2 d [w^2/n + (1-w)^2/m](1 - (1-w)^{2t})/[1 - (1-w)^2] as n, m -> oo "
                f"(mix, loss-weighted, fixed design, d = 2, T = {T}; tolerance 2(d+1)/min(n, m))",
                reference=GOLDEN_RATIO,
                status=DERIVED_HERE,
                statement=_REGRESSION,
                config=LinRegConfig(d=2, T=T, design="fixed", generations=30, **lin),
                metric="test_error",
                verdict=Asymptotic(tolerance=_tolerance, rate="2(d+1)/min(n, m)"),
                predict=regression_asymptotic,
                perturbed=slow_contraction,
                generations=(1, 3, 30),
                seeds=20_000,
                covers=_weighted("linreg", design="fixed"),
            )
        )


_register()
