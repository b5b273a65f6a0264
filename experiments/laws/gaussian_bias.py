"""Sampling-bias laws of the Gaussian refit: synthetic samples at a temperature (Alemohammad et al. 2024).

Every fitted model draws its synthetic samples from ``N(mu_n, tau Sigma_n)`` (the paper's
sampling bias ``lambda`` is ``tau``); generation 1 is fit on real data, so the tempering acts
from generation 2 on. Each prediction calls
:func:`model_collapse.theory.gaussian.tempered_predict` (the tempered recursions of
:mod:`model_collapse.theory.gaussian.bias`, derived here) with the config's ``dim``, ``M``,
``sigma2``, ``temperature`` and (mix, augment) ``real_fraction``, so a law covers every
temperature of its regime and estimator; it is registered at ``tau = 0.8`` (ids carry a
``tau0.8`` segment after the estimator). Laws at ``tau = 1`` are the untempered ones of :mod:`.gaussian`.

Wrong twins: under replace, "the first fit's real data is tempered too" (the temperature's
exponent off by one, ``tau^n`` for ``tau^(n-1)``: the indexing trap of a loop whose first
generation is real); under mix and augment, "sampling bias changes nothing" (the
untempered law), whose stationary point the tempered loop leaves.

Generations checked: under replace the relative variance of ``Sigma_n`` grows as without a
temperature (a constant factor ``tau^(n-1)`` changes no skewness), so ``mean_sq_error``,
``variance``, ``std`` and ``w2_sq`` are checked at ``n = 1, 2, 4, 5`` with the exact tempered
skewness guarding the z-scores (:mod:`model_collapse.theory.gaussian.bias_tails`) and
``log_det`` to ``n = 60``; mix and augment to ``n = 60``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ...theory import gaussian as tg
from ..models.gaussian import GaussianConfig
from .gaussian import HEAVY, TAME
from .references import ALEMOHAMMAD_BIAS, DERIVED_HERE
from .registry import Law, register_law, setting
from .verdicts import Expectation

__all__ = ["TAU", "biased", "formula"]

TAU = 0.8
_C4 = "c4(M) = sqrt(2/(M-1)) Gamma(M/2)/Gamma((M-1)/2)"
_STATE = {
    "mix": "(alpha_n, beta_n) = A diag(1, tau) (alpha_{n-1}, beta_{n-1}) + c, A and c the untempered mix law's",
    "augment": "(alpha_n, beta_n, g_n) = A diag(1, tau, 1) (alpha_{n-1}, beta_{n-1}, g_{n-1}) + c, "
    "A and c the untempered augment law's",
}


def formula(metric: str, regime: str, estimator: str, dim: int) -> str:
    """The tempered law's formula, in one line of plain text."""
    unb = estimator == "unbiased"
    r = "1" if unb else "(1 - 1/M)"
    if regime == "replace":
        if metric == "mean_sq_error":
            return (
                "E||mu_n - mu||^2 = dim sigma2 [1/M + sum_{k=2..n} tau^(k-1)/M]"
                if unb
                else "E||mu_n - mu||^2 = dim sigma2 [1 + sum_{j=1..n-1} (tau (1 - 1/M))^j]/M"
            )
        if metric == "variance":
            return "E tr Sigma_n/tr Sigma = tau^(n-1)" if unb else "E tr Sigma_n/tr Sigma = (1 - 1/M)^n tau^(n-1)"
        if metric == "std":
            f = "c4(M)" if unb else "c4(M) sqrt(1 - 1/M)"
            return f"E sigma_n/sigma = {f}^n tau^((n-1)/2), {_C4}"
        if metric == "log_det":
            D = "M - 1" if unb else "M"
            return (
                "E log det(Sigma_n Sigma^-1) = n [sum_{j<=dim} psi((M-j)/2) + dim log(2/D)] + dim (n-1) log tau, "
                f"D = {D}"
            )
        if metric == "w2_sq":
            return (
                f"E W2^2 = sigma2 (alpha_n + {r}^n tau^(n-1) - 2 E sigma_n/sigma + 1), alpha_n M = 1 + "
                f"sum_{{j=1..n-1}} (tau {r})^j"
            )
    if regime in _STATE and metric in ("mean_sq_error", "variance"):
        lhs = "E||mu_n - mu||^2 = dim sigma2 alpha_n" if metric == "mean_sq_error" else "E tr Sigma_n/tr Sigma = beta_n"
        return f"{lhs}, {_STATE[regime]} (from generation 2; generation 1 untempered, real data)"
    raise ValueError(f"no tempered formula for {metric} under {regime} ({estimator})")


def biased(metric: str, regime: str, estimator: str, first_tempered: int = 2) -> Callable:
    """``(cfg, n) ->`` the tempered law at ``cfg.temperature`` (``first_tempered=1``: the wrong indexing)."""

    def predict(cfg: GaussianConfig, n: ArrayLike) -> np.ndarray | None:
        return tg.tempered_predict(
            metric,
            regime,
            estimator,
            np.asarray(n),
            dim=cfg.dim,
            M=cfg.M,
            sigma2=cfg.sigma2,
            temperature=cfg.temperature,
            real_fraction=cfg.real_fraction if regime in ("mix", "augment") else None,
            first_tempered=first_tempered,
        )

    tag = "" if first_tempered == 2 else ", tempered from generation 1"
    predict.__qualname__ = f"biased[{metric}, {regime}, {estimator}{tag}]"
    return predict


def untempered(metric: str, regime: str, estimator: str) -> Callable:
    """``(cfg, n) ->`` the law without sampling bias (``tau = 1``): "the temperature changes nothing"."""

    def predict(cfg: GaussianConfig, n: ArrayLike) -> np.ndarray | None:
        return tg.tempered_predict(
            metric,
            regime,
            estimator,
            np.asarray(n),
            dim=cfg.dim,
            M=cfg.M,
            sigma2=cfg.sigma2,
            temperature=1.0,
            real_fraction=cfg.real_fraction if regime in ("mix", "augment") else None,
        )

    predict.__qualname__ = f"untempered[{metric}, {regime}, {estimator}]"
    return predict


def _covers(metric: str):
    def extra(cfg: GaussianConfig) -> str | None:
        if tg.tempered_law_kind(metric, cfg.regime, cfg.estimator, cfg.dim) is None:
            return f"{metric} at dim={cfg.dim} has no tempered law"
        for name, plain in (("curate", 1), ("real_weight", None)):  # other options change the loop
            if getattr(cfg, name, plain) != plain:
                return f"the tempered laws are for {name}={plain}, not {name}={getattr(cfg, name)}"
        return None

    return extra


_STATEMENT = (
    "setting of Alemohammad et al. 2024, the Gaussian model with sampling bias lambda = tau "
    "(synthetic samples from N(mu_n, lambda Sigma_n)), in the {loop}"
)
_LOOP = {
    "replace": "fully synthetic loop",
    "mix": "fresh data loop (fresh real samples every generation)",
    "augment": "synthetic augmentation loop (the same real samples every generation)",
}


def _register() -> None:
    for estimator in ("unbiased", "mle"):
        for regime in ("replace", "mix", "augment"):
            for dim in (1, 3):
                cfg = GaussianConfig(
                    dim=dim,
                    M=20,
                    sigma2=2.0,
                    generations=60,
                    regime=regime,
                    estimator=estimator,
                    sampler="exact",
                    real_fraction=0.25,
                    temperature=TAU,
                )
                for metric in ("mean_sq_error", "variance", "std", "log_det", "w2_sq"):
                    if tg.tempered_law_kind(metric, regime, estimator, dim) is None:
                        continue
                    if regime == "replace":
                        perturbed = biased(metric, regime, estimator, first_tempered=1)
                    else:
                        perturbed = untempered(metric, regime, estimator)
                    register_law(
                        Law(
                            id=f"gaussian/{regime}/{estimator}/tau{TAU:g}/{metric}/dim{dim}",
                            title=f"{formula(metric, regime, estimator, dim)} ({regime}, {estimator} covariance, "
                            "temperature tau)",
                            reference=ALEMOHAMMAD_BIAS,
                            status=DERIVED_HERE,
                            statement=_STATEMENT.format(loop=_LOOP[regime]),
                            config=cfg,
                            metric=metric,
                            verdict=Expectation(),
                            predict=biased(metric, regime, estimator),
                            perturbed=perturbed,
                            generations=HEAVY if (regime == "replace" and metric != "log_det") else TAME,
                            seeds=25_000 if (regime == "replace" and metric == "w2_sq") else 20_000,
                            covers=setting(
                                "gaussian", _covers(metric), regime=regime, estimator=estimator, real_resample=False
                            ),
                        )
                    )


_register()
