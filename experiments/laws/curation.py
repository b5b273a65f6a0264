"""Curation laws (Ferbach, Bertrand, Bose & Gidel, NeurIPS 2024): the categorical and the Gaussian model.

Every prediction comes from :mod:`model_collapse.theory.curation` (the kept sample's law among ``K``
candidates, from the Luce rule) or :mod:`model_collapse.theory.curation_gaussian` (one curated Gaussian
step by quadrature), with the config's truth, ``M``, reward and ``curate``:

* exact one-step expectations at finite ``K`` and ``M``: the categorical ``E p_{2,0}`` (a sum over
  generation 1's multinomial outcomes) and the 1-D Gaussian's ``E variance_2`` and ``E mean_sq_error_2``
  at ``K = 2``; each one's wrong twin is the ``K -> oo`` tilt ("many candidates or two, the same");
* the ``K -> oo`` limit (the paper's exponential tilt) as :class:`Asymptotic` laws at two ``K``, with the
  relative tolerance ``2/K`` (the exact gap is about ``1/K`` for the categorical step and ``0.4/K`` to
  ``0.65/K`` for the Gaussian's, measured at ``K = 2, 8, 32``); their wrong twin is "no curation";
* the fresh-data loop with two categories: ``E p_{n,0}`` exactly from the ``(M + 1)``-state chain of the
  count, ``c' = Bin(k, pi) + Bin(M - k, Phi_K(c/M))`` (twin: the tilt's chain), and the population fixed
  point (a quadratic root, :func:`~model_collapse.theory.curation.two_category_stationary`) and, with five
  categories, the fixed-point iteration's (:func:`~model_collapse.theory.curation.stationary`), both as
  :class:`Asymptotic` laws with tolerance ``3/M`` (the chain's exact gap at two categories is about
  ``1/M``); their twin is the tilt's fixed point.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from ...theory import curation as tcur
from ...theory.categorical.one_step import MAX_OUTCOMES, compositions
from ...theory.curation_gaussian import one_step
from ..models.categorical import CategoricalConfig
from ..models.categorical_theory import truth
from ..models.curation import reward_vector
from ..models.gaussian import GaussianConfig
from .references import DERIVED_HERE, FERBACH
from .registry import Law, register_law, setting
from .verdicts import Asymptotic, Expectation

__all__ = ["categorical_one_step", "gaussian_one_step", "two_category_chain", "two_category_map"]

_PLAIN = dict(temperature=1.0, top_k=None, top_p=1.0, greedy=False)
_SETTING = "setting of Ferbach et al. 2024 (curation by a Luce choice among K candidates)"


def two_category_map(p: ArrayLike, rho: float, K: float) -> np.ndarray:
    r"""``Phi_K(p)``: the kept sample's probability of category 0 of two (``rho = e^{r_1 - r_0}``), exactly.

    :math:`\sum_{j=1}^K \binom{K}{j} p^j (1-p)^{K-j}\, j/(j + (K-j)\rho)` (``j`` candidates in category 0);
    ``K = oo``: the tilt :math:`p/(p + (1-p)\rho)`.
    """
    p = np.asarray(p, np.float64)
    if K == tcur.INFINITE:
        return p / (p + (1 - p) * rho)
    j = np.arange(1, int(K) + 1)
    pmf = stats.binom.pmf(j[None, :], int(K), p.reshape(-1, 1))
    return (pmf @ (j / (j + (K - j) * rho))).reshape(p.shape)


@functools.lru_cache(maxsize=32)
def _chain_means(M: int, k: int, pi: float, rho: float, K: float, G: int) -> np.ndarray:
    states = np.arange(M + 1)
    real = stats.binom.pmf(np.arange(k + 1), k, pi)
    synthetic = stats.binom.pmf(np.arange(M - k + 1)[None, :], M - k, two_category_map(states / M, rho, K)[:, None])
    T = np.array([np.convolve(real, row) for row in synthetic])
    d = stats.binom.pmf(states, M, pi)
    out = [d @ states / M]
    for _ in range(G - 1):
        d = d @ T
        out.append(d @ states / M)
    return np.array(out)


def two_category_chain(K: float | None = None) -> Callable[[Any, ArrayLike], np.ndarray]:
    """``(cfg, n) -> E p_{n,0}`` under ``mix`` with two categories, from the count's exact chain.

    ``K``: the candidates per kept sample (``None``: the config's ``curate``; ``INFINITE``: the tilt).
    """

    def predict(cfg, n):
        n = np.asarray(n, np.int64)
        r = reward_vector(cfg)
        k = int(round(cfg.real_fraction * cfg.M))
        means = _chain_means(
            cfg.M, k, float(truth(cfg)[0]), float(np.exp(r[1] - r[0])), cfg.curate if K is None else K, int(n.max())
        )
        return means[n - 1]

    predict.__qualname__ = f"two_category_chain[K={K}]"
    return predict


def categorical_one_step(K: float | None = None, tilt: bool = False) -> Callable[[Any, ArrayLike], np.ndarray]:
    """``(cfg, n) -> E p_{n,0}`` at ``n`` in {1, 2} under replace: generation 2 a curated step, exactly.

    ``tilt``: the ``K -> oo`` map instead (the twin of the finite-``K`` law, the target of the limit);
    ``K = 1``: no curation.
    """

    def predict(cfg, n):
        n = np.asarray(n, np.int64)
        p0, r = truth(cfg), reward_vector(cfg)
        c = compositions(cfg.M, cfg.K)
        weights = stats.multinomial.pmf(c, cfg.M, p0)
        curate = cfg.curate if K is None else K
        maps = [tcur.tilt(ci / cfg.M, r) if tilt else tcur.luce_map_exact(ci / cfg.M, r, curate) for ci in c]
        second = float(weights @ np.array([m[0] for m in maps]))
        return np.where(n == 1, p0[0], second)

    predict.__qualname__ = f"categorical_one_step[K={K}, tilt={tilt}]"
    return predict


def gaussian_one_step(metric: str, K: float | None = None) -> Callable[[Any, ArrayLike], np.ndarray]:
    """``(cfg, n) -> E metric_n`` at ``n = 1`` (real, uncurated) and ``n = 2`` (one curated step, by quadrature)."""

    def predict(cfg, n):
        curate = cfg.curate if K is None else K
        value = one_step(cfg.M, cfg.sigma2, cfg.reward_center, cfg.reward_scale, curate, cfg.estimator)[metric]
        # generation 1 is the fit on real samples, never curated: E variance_1 = (M-1)/c, E ||mu_1||^2 = sigma2/M
        c = cfg.M - 1 if cfg.estimator == "unbiased" else cfg.M
        real = (cfg.M - 1) / c if metric == "variance" else cfg.sigma2 / cfg.M
        return np.where(np.asarray(n) == 1, real, value)

    predict.__qualname__ = f"gaussian_one_step[{metric}, K={K}]"
    return predict


def _stationary(kind: str):
    """``(cfg, n) -> p*_0``, the population fixed point of ``mix`` (``kind``: closed, iterated or tilt)."""

    def predict(cfg, n):
        r = reward_vector(cfg)
        p0 = truth(cfg)
        if kind == "closed":
            value = tcur.two_category_stationary(p0[0], math.exp(r[1] - r[0]), cfg.real_fraction, cfg.curate)
        else:
            K = tcur.INFINITE if kind == "tilt" else cfg.curate
            value = tcur.stationary(p0, r, K, cfg.real_fraction)[0]
        return np.full(np.shape(n), value)

    predict.__qualname__ = f"stationary[{kind}]"
    return predict


def _enumerable(cfg) -> str | None:
    count = math.comb(cfg.M + cfg.K - 1, cfg.K - 1) * math.comb(cfg.curate + cfg.K - 2, cfg.K - 1)
    return None if count <= MAX_OUTCOMES else f"{count} outcomes to enumerate (at most {MAX_OUTCOMES})"


def _enumerable_fits(cfg) -> str | None:  # the tilt's sum: generation 1's outcomes only
    count = math.comb(cfg.M + cfg.K - 1, cfg.K - 1)
    return None if count <= MAX_OUTCOMES else f"{count} outcomes to enumerate (at most {MAX_OUTCOMES})"


def _two(cfg) -> str | None:
    return None if cfg.K == 2 else f"the chain and the closed form are for two categories, got K = {cfg.K}"


def _cat(regime: str, curate: int, extra=None):
    return setting("categorical", extra, regime=regime, curate=curate, **_PLAIN)


def _gauss(curate: int):
    return setting("gaussian", regime="replace", dim=1, temperature=1.0, real_resample=False, curate=curate)


def _register() -> None:
    cat = dict(init="zipf", zipf_a=1.1, **_PLAIN)
    one = CategoricalConfig(K=4, M=8, generations=2, regime="replace", curate=3, reward_slope=2.0, **cat)
    laws = [
        Law(
            id="curation/categorical/replace/one-step/K3",
            title="E p_{2,0} = sum_c Mult(c; M, p0) [q H^K_q]_0 at q = c/M: one curated step, exactly (K = 3)",
            reference=FERBACH,
            status=DERIVED_HERE,
            statement=_SETTING + "; the kept sample's law q H^K_q summed over the other K - 1 candidates' counts",
            config=one,
            metric="p_mode",
            verdict=Expectation(),
            predict=categorical_one_step(),
            perturbed=categorical_one_step(tilt=True),
            generations=(2,),
            seeds=20_000,
            covers=_cat("replace", 3, _enumerable),
        ),
        Law(
            id="curation/categorical/fresh-data/two-categories/K2",
            title="E p_{n,0} = E c_n/M, c' ~ Bin(k, pi) + Bin(M - k, Phi_2(c/M)), Phi_2(p) = p^2 + 2p(1-p)/(1+rho)",
            reference=FERBACH,
            status=DERIVED_HERE,
            statement=_SETTING + ", with fresh real data each generation (their lambda > 0); the exact chain of "
            "one of two categories' count",
            config=CategoricalConfig(
                K=2, M=20, generations=40, regime="mix", real_fraction=0.25, curate=2, reward_slope=1.5, **cat
            ),
            metric="p_mode",
            verdict=Expectation(),
            predict=two_category_chain(),
            perturbed=two_category_chain(tcur.INFINITE),
            generations=(1, 2, 5, 10, 20, 40),
            seeds=20_000,
            covers=_cat("mix", 2, _two),
        ),
        Law(
            id="curation/categorical/stationary/two-categories/K2",
            title="E p_{n,0} = p* (1 + O(3/M)), p* the root in [0, 1] of p = f pi + (1 - f) Phi_2(p) (a quadratic)",
            reference=FERBACH,
            status=DERIVED_HERE,
            statement=_SETTING + ", with fresh real data each generation (their lambda > 0, stable); the population "
            "fixed point in closed form",
            config=CategoricalConfig(
                K=2, M=200, generations=40, regime="mix", real_fraction=0.25, curate=2, reward_slope=1.5, **cat
            ),
            metric="p_mode",
            verdict=Asymptotic(tolerance=lambda cfg: 3.0 / cfg.M, rate="3/M"),
            predict=_stationary("closed"),
            perturbed=_stationary("tilt"),
            generations=(30, 40),
            seeds=4_000,
            covers=_cat("mix", 2, _two),
        ),
        Law(
            id="curation/categorical/stationary/K4",
            title="E p_{n,0} = p*_0 (1 + O(3/M)), p* = f p0 + (1 - f) p* H^4_{p*} by fixed-point iteration",
            reference=FERBACH,
            status=DERIVED_HERE,
            statement=_SETTING + ", with fresh real data each generation (their lambda > 0, stable); the population "
            "fixed point computed numerically (five categories)",
            config=CategoricalConfig(
                K=5, M=200, generations=40, regime="mix", real_fraction=0.25, curate=4, reward_slope=1.5, **cat
            ),
            metric="p_mode",
            verdict=Asymptotic(tolerance=lambda cfg: 3.0 / cfg.M, rate="3/M"),
            predict=_stationary("iterated"),
            perturbed=_stationary("tilt"),
            generations=(30, 40),
            seeds=4_000,
            covers=_cat("mix", 4),
        ),
    ]
    for K in (16, 64):
        laws.append(
            Law(
                id=f"curation/categorical/replace/tilt-limit/K{K}",
                title="E p_{2,0} = sum_c Mult(c; M, p0) tilt(c/M)_0 (1 + O(2/K)): K -> oo curation is the tilt",
                reference=FERBACH,
                status=DERIVED_HERE,
                statement=_SETTING + "; their K -> oo limit p_{t+1} = p_t e^r/E_{p_t} e^r after one finite-M step, "
                "checked at two K",
                config=CategoricalConfig(K=4, M=8, generations=2, regime="replace", curate=K, reward_slope=2.0, **cat),
                metric="p_mode",
                verdict=Asymptotic(tolerance=lambda cfg: 2.0 / cfg.curate, rate="2/K"),
                predict=categorical_one_step(tilt=True),
                perturbed=categorical_one_step(K=1),
                generations=(2,),
                seeds=20_000,
                covers=_cat("replace", K, _enumerable_fits),
            )
        )
    gauss = dict(dim=1, M=10, sigma2=1.0, generations=2, regime="replace", reward_center=1.0, reward_scale=1.0)
    gauss.update(sampler="faithful")
    for metric in ("variance", "mean_sq_error"):
        laws.append(
            Law(
                id=f"curation/gaussian/replace/one-step/K2/{metric}",
                title=f"E {metric}_2 = E[quadrature of the kept sample's moments over (mu_1, s_1)]: one curated "
                "step (K = 2, r = -A(x - a)^2/2)",
                reference=FERBACH,
                status=DERIVED_HERE,
                statement=_SETTING + "; the kept sample's law 2 p(x) E_y sigmoid(r(x) - r(y)), one step from "
                "generation 1's fit, by quadrature",
                config=GaussianConfig(curate=2, **gauss),
                metric=metric,
                verdict=Expectation(),
                predict=gaussian_one_step(metric),
                perturbed=gaussian_one_step(metric, tcur.INFINITE),
                generations=(1, 2),
                seeds=20_000,
                covers=_gauss(2),
            )
        )
    for K in (8, 32):
        laws.append(
            Law(
                id=f"curation/gaussian/replace/tilt-limit/K{K}/variance",
                title="E variance_2 = E[s_1^2/(1 + A s_1^2)]/sigma^2 (1 + O(2/K)): the tilt, S^-1 = S_0^-1 + A",
                reference=FERBACH,
                status=DERIVED_HERE,
                statement=_SETTING + "; their K -> oo limit for a Gaussian and a quadratic reward (precision "
                "S_0^-1 + A) after one finite-M step, checked at two K",
                config=GaussianConfig(curate=K, **gauss),
                metric="variance",
                verdict=Asymptotic(tolerance=lambda cfg: 2.0 / cfg.curate, rate="2/K"),
                predict=gaussian_one_step("variance", tcur.INFINITE),
                perturbed=gaussian_one_step("variance", 1),
                generations=(2,),
                seeds=20_000,
                covers=_gauss(K),
            )
        )
    for law in laws:
        register_law(law)


_register()
