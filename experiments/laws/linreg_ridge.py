"""Regression beyond isotropic OLS: spectra, ridge, a downstream model, over-parameterisation (Dohmatob et al. 2024).

The laws of :mod:`model_collapse.theory.linreg_ridge` against the ``linreg`` model's
options ``--spectrum/--decay/--target-decay``, ``--ridge0``, ``--downstream/--T0/--sigma0-2/
--ridge``, and ``T < d`` noiseless fits. A downstream config's generation ``n`` counts
generator fits (Dohmatob et al.'s ``n``): the downstream model is the ``n + 1``-th fit.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ...theory import linreg as theory_linreg
from ...theory import linreg_ridge as lr
from ..models.linreg import LinRegConfig
from ..models.linreg_chain import eigenvalues, extended, gen_noise, gen_rows
from ..models.linreg_theory import shared_downstream, shared_generator_gram, target_vector
from .linreg import expected
from .references import DERIVED_HERE, DOHMATOB, PUBLISHED
from .registry import Law, register_law, setting
from .verdicts import Asymptotic, Expectation

__all__ = ["downstream_over_designs", "monte_carlo_downstream"]

DOHMATOB_DOWNSTREAM = dataclasses.replace(
    DOHMATOB,
    theorem="n generators (T0 rows, noise sigma0^2) then a downstream fit (T rows, noise sigma^2): OLS test error "
    "sigma^2 d/(T-d-1) + n sigma0^2 d/(T0-d-1); ridge and power-law spectra bend the scaling laws",
)
_SETTING = (
    "setting of Dohmatob, Feng & Kempe 2024 (Model Collapse Demystified): inputs N(0, Sigma), the test error in "
    "the Sigma norm, n generators then a downstream fit"
)


def _w2(cfg: LinRegConfig) -> np.ndarray:
    w = target_vector(cfg)
    return np.full(cfg.d, 1.0 / cfg.d) if w is None else w**2


def _not_extended(cfg) -> str | None:
    return "the law is for OLS fits (no ridge, no downstream model, T > d + 1)" if extended(cfg) else None


def _ridge_chain(cfg) -> str | None:
    if cfg.ridge0 <= 0 or cfg.downstream:
        return "the law is for a ridge chain (--ridge0 > 0) without a downstream model"
    return None


def _downstream(ridge: bool, shared: bool) -> Callable:
    def covers(cfg) -> str | None:
        if not cfg.downstream or cfg.ridge0 > 0:
            return "the law is for OLS generators and a downstream model (--downstream, --ridge0 0)"
        if ridge != (cfg.ridge > 0):
            return f"the law is for a {'ridge' if ridge else 'OLS'} downstream model"
        if gen_rows(cfg) <= cfg.d + 1:
            return "OLS generators need T0 > d + 1"
        return None

    return covers


def ridge_given_X(compounding: bool = True) -> Callable:
    """``(cfg, n) -> E[test | X]`` of the ridge chain; ``compounding=False``: the shrinkage bias of one fit only."""

    def predict(cfg, n):
        gram, eigs, w = shared_generator_gram(cfg), eigenvalues(cfg), target_vector(cfg)
        law = lambda k, noise: lr.ridge_chain_given_X(k, gram, eigs, noise, gen_rows(cfg), cfg.ridge0, w)
        full = law(n, gen_noise(cfg))
        if compounding:
            return full
        # the wrong twin: every generation carries one fit's bias (shrinkage that does not compound)
        return full - law(n, 0.0) + law(np.ones(np.shape(n), np.int64), 0.0)

    predict.__qualname__ = f"ridge_given_X[{'compounding' if compounding else 'one-fit bias'}]"
    return predict


def downstream_given_X(norm: str = "sigma") -> Callable:
    """``(cfg, n) -> E[test | both designs]``; ``norm="euclidean"``: the wrong twin's slope ``tr[R^T R C]``."""

    def predict(cfg, n):
        R, v = shared_downstream(cfg)
        cov = gen_noise(cfg) * np.linalg.inv(shared_generator_gram(cfg))
        eigs = eigenvalues(cfg)
        return lr.downstream_given_X(n, R, v, eigs if norm == "sigma" else np.ones(cfg.d), target_vector(cfg), cov)

    predict.__qualname__ = f"downstream_given_X[{norm}]"
    return predict


def downstream_ols(shift: int = 0) -> Callable:
    """``(cfg, n) -> sigma^2 d/(T-d-1) + (n + shift) sigma0^2 d/(T0-d-1)``."""

    def predict(cfg, n):
        return lr.downstream_ols(np.asarray(n) + shift, cfg.d, cfg.T, gen_rows(cfg), cfg.sigma2, gen_noise(cfg))

    predict.__qualname__ = f"downstream_ols[{shift:+d}]"
    return predict


def fit_convention(convention: str) -> Callable:
    """``(cfg, n) ->`` the package's replace law in ``convention`` (``downstream``: at fit ``n + 1``)."""

    def predict(cfg, n):
        return theory_linreg.expected_test_error(n, cfg.d, cfg.T, cfg.sigma2, "replace", convention)

    predict.__qualname__ = f"replace[{convention}]"
    return predict


@functools.cache
def monte_carlo_downstream(cfg: LinRegConfig, draws: int = 200_000) -> tuple[float, float]:
    """``(E_test(0), F)`` over Gaussian downstream designs, by Monte Carlo (numpy, fixed seed).

    ``E_test(0) = E[lambda^2 w*^T M Sigma M w* + sigma^2 tr(Sigma M G M)]`` (``M = (G + T lambda)^-1``,
    ``G = X^T X``) and ``F = E tr[Sigma^-1 R Sigma R]``, ``R = M G``; ``draws`` designs, so the
    prediction's own standard error is far below the simulation's at the registry's seeds.
    """
    rng = np.random.default_rng(20240207)
    eigs, d, T, lam = eigenvalues(cfg), cfg.d, cfg.T, cfg.ridge
    w = target_vector(cfg)
    base, F = 0.0, 0.0
    batch = 20_000
    for _ in range(draws // batch):
        Z = rng.standard_normal((batch, T, d)) * np.sqrt(eigs)
        G = np.einsum("bti,btj->bij", Z, Z)
        M = np.linalg.inv(G + T * lam * np.eye(d))
        R = M @ G
        IR = np.eye(d) - R
        B = np.einsum("bki,k,bkj->bij", IR, eigs, IR)
        bias = np.trace(B, axis1=1, axis2=2) / d if w is None else np.einsum("i,bij,j->b", w, B, w)
        var = cfg.sigma2 * np.einsum("i,bii->b", eigs, M @ G @ M)
        base += float(np.sum(bias + var))
        F += float(np.sum(np.einsum("i,bij,j,bji->b", 1 / eigs, R, eigs, R)))
    return base / draws, F / draws


def downstream_over_designs(damped: bool = True) -> Callable:
    """``(cfg, n) -> E_test(0) + n sigma0^2/(T0-d-1) F`` with ``F`` by Monte Carlo; ``damped=False``: ``F = d``."""

    def predict(cfg, n):
        base, F = monte_carlo_downstream(cfg)
        F = F if damped else cfg.d
        return base + np.asarray(n, np.float64) * gen_noise(cfg) / (gen_rows(cfg) - cfg.d - 1) * F

    predict.__qualname__ = f"downstream_over_designs[{'F' if damped else 'F = d'}]"
    return predict


def deterministic_equivalent(damped: bool = True) -> Callable:
    """``(cfg, n) ->`` the deterministic equivalent; ``damped=False``: ``F = d`` (the twin)."""

    def predict(cfg, n):
        eigs = eigenvalues(cfg)
        args = (cfg.ridge, eigs, _w2(cfg), cfg.T, cfg.sigma2, gen_rows(cfg), gen_noise(cfg))
        if damped:
            return lr.downstream_error_de(n, *args)
        base = lr.clean_error_de(*args[:5])
        return base + np.asarray(n, np.float64) * gen_noise(cfg) / (gen_rows(cfg) - cfg.d - 1) * cfg.d

    predict.__qualname__ = f"deterministic_equivalent[{'F' if damped else 'F = d'}]"
    return predict


def overparameterised(squared: bool = False) -> Callable:
    """``(cfg, n) -> E||w*||^2 (1 - (T/d)^n)``; ``squared=True``: the twin ``(1 - (T/d)^n)^2``."""

    def predict(cfg, n: ArrayLike):
        curve = lr.overparameterised_error(n, cfg.d, gen_rows(cfg))
        return curve**2 if squared else curve

    predict.__qualname__ = f"overparameterised[{'squared' if squared else 'exact'}]"
    return predict


def _overparameterised_covers(cfg) -> str | None:
    if cfg.model != "linreg":
        return f"a linreg law; this is a {cfg.model} config"
    if not gen_rows(cfg) < cfg.d:
        return f"the over-parameterised law needs d > T0 (got d={cfg.d}, T0={gen_rows(cfg)})"
    if cfg.design != "fresh" or cfg.spectrum != "isotropic" or gen_noise(cfg) != 0 or cfg.ridge0 or cfg.downstream:
        return "the law is for noiseless minimum-norm fits on fresh isotropic designs (no ridge, no downstream)"
    if cfg.regime != "replace":
        return "the law is for --regime replace"
    return None


def _register() -> None:
    power = {"spectrum": "power", "decay": 1.5}
    cfg = LinRegConfig(d=32, T=100, generations=20, regime="replace", design="fixed", sampler="exact", **power)
    register_law(
        Law(
            id="linreg/power-spectrum/replace",
            title="E||w_n - w*||_Sigma^2 = sigma^2 d n/(T-d-1) for any Sigma (replace, fixed design, power spectrum "
            "b = 1.5): the OLS laws are invariant to Sigma",
            reference=DOHMATOB,
            status=PUBLISHED,
            statement="Theorem 1 (any covariance Sigma; the invariance step derived here in SymPy)",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=expected("replace"),
            perturbed=expected("replace", shift=1),
            generations=(1, 2, 5, 10, 20),
            covers=setting("linreg", regime="replace", design="fixed", extra=_not_extended),
        )
    )
    cfg = LinRegConfig(d=8, T=48, generations=20, design="shared", ridge0=0.2, **power)
    register_law(
        Law(
            id="linreg/ridge/given-X",
            title="E[||w_n - w*||_Sigma^2 | X] = sum_j (V^T Sigma V)_jj [q_j (1 - r_j^2n)/(1 - r_j^2)] + bias with "
            "E w_n = V diag(r^n) V^T w*, r_j = g_j/(g_j + T lambda) (ridge chain, one design for all seeds)",
            reference=DOHMATOB,
            status=DERIVED_HERE,
            statement=_SETTING + "; the paper's ridge theorems take the expectation over designs",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=ridge_given_X(),
            perturbed=ridge_given_X(compounding=False),
            generations=(1, 2, 5, 10, 20),
            covers=setting("linreg", regime="replace", design="shared", extra=_ridge_chain),
        )
    )
    down = {"downstream": True, "regime": "replace", "generations": 10}
    cfg = LinRegConfig(d=8, T=30, T0=20, sigma0_2=2.0, design="fixed", sampler="exact", **down)
    register_law(
        Law(
            id="linreg/downstream/ols",
            title="E_test(n) = sigma^2 d/(T-d-1) + n sigma0^2 d/(T0-d-1) (n OLS generators on T0 rows, an OLS "
            "downstream fit on T rows)",
            reference=DOHMATOB_DOWNSTREAM,
            status=PUBLISHED,
            statement="Theorem 1 (n counts generators; the downstream model is the (n+1)-th fit)",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=downstream_ols(),
            perturbed=downstream_ols(shift=1),
            generations=(1, 2, 5, 10),
            covers=setting("linreg", regime="replace", design="fixed", extra=_downstream(False, False)),
        )
    )
    cfg = LinRegConfig(d=8, T=30, design="fixed", sampler="exact", **down)
    register_law(
        Law(
            id="linreg/downstream/convention",
            title="a downstream config's generation n (T0 = T, sigma0 = sigma) is the chain's fit n + 1: "
            "E_test(n) = sigma^2 d (n + 1)/(T-d-1)",
            reference=DOHMATOB_DOWNSTREAM,
            status=PUBLISHED,
            statement="Theorem 1, indexed in the package's fit-counting convention (convention='downstream')",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=fit_convention("downstream"),
            perturbed=fit_convention("fit"),
            generations=(1, 2, 5, 10),
            covers=setting(
                "linreg",
                regime="replace",
                design="fixed",
                extra=lambda c: _downstream(False, False)(c) or (None if gen_rows(c) == c.T else "T0 must equal T"),
            ),
        )
    )
    target = {"target_decay": 1.0, **power}
    cfg = LinRegConfig(d=8, T=20, T0=30, ridge=0.1, design="shared", **target, **down)
    register_law(
        Law(
            id="linreg/ridge/downstream/given-X",
            title="E[test | X0, X] = E_test(0 | X) + n tr[R Sigma R sigma0^2 (X0^T X0)^-1] (OLS generators, ridge "
            "downstream, both designs shared)",
            reference=DOHMATOB_DOWNSTREAM,
            status=DERIVED_HERE,
            statement=_SETTING + "; conditional on both designs (the paper averages over them)",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=downstream_given_X(),
            perturbed=downstream_given_X("euclidean"),
            generations=(1, 2, 5, 10),
            covers=setting("linreg", regime="replace", design="shared", extra=_downstream(True, True)),
        )
    )
    cfg = dataclasses.replace(cfg, design="fixed", sampler="exact")
    register_law(
        Law(
            id="linreg/ridge/downstream",
            title="E_test(n) = E_test(0) + n sigma0^2/(T0-d-1) F, F = E tr[Sigma^-1 R Sigma R] (OLS generators, "
            "ridge downstream; E_test(0) and F by Monte Carlo over designs)",
            reference=DOHMATOB_DOWNSTREAM,
            status=PUBLISHED,
            statement="the ridge downstream law (F as an expectation over designs; Sigma^-1 from E (X0^T X0)^-1)",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=downstream_over_designs(),
            perturbed=downstream_over_designs(damped=False),
            generations=(1, 2, 5, 10),
            covers=setting("linreg", regime="replace", design="fixed", extra=_downstream(True, False)),
        )
    )
    for d, seeds in ((25, 4000), (100, 1000)):
        cfg = LinRegConfig(
            d=d,
            T=3 * d // 2,
            T0=2 * d,
            ridge=0.01,
            design="fixed",
            sampler="exact",
            **power,
            **{**down, "generations": 4},
        )
        register_law(
            Law(
                id=f"linreg/ridge/deterministic-equivalent/d{d}",
                title=f"E_test(n) ~ clean(k) + n sigma0^2/(T0-d-1) [df2 + k^2 tr(Sigma+k)^-2 df2/(T-df2)], "
                f"k - lambda = k df1(k)/T (d = {d}, T = 1.5 d, lambda = 0.01, b = 1.5)",
                reference=DOHMATOB_DOWNSTREAM,
                status=DERIVED_HERE,
                statement=_SETTING + "; the deterministic equivalent of F derived here from the resolvent's",
                config=cfg,
                metric="test_error",
                verdict=Asymptotic(tolerance=lambda c: 2.0 / c.d, rate="2/d"),
                predict=deterministic_equivalent(),
                perturbed=deterministic_equivalent(damped=False),
                generations=(1, 2, 4),
                seeds=seeds,
                covers=setting("linreg", regime="replace", design="fixed", extra=_downstream(True, False)),
            )
        )
    cfg = LinRegConfig(d=32, T=16, sigma2=0.0, design="fresh", generations=10, sampler="exact")
    register_law(
        Law(
            id="linreg/overparameterised",
            title="E||w_n - w*||^2 = ||w*||^2 (1 - (T0/d)^n) (d > T0, noiseless minimum-norm fits, a fresh design "
            "per generation)",
            reference=DOHMATOB,
            status=DERIVED_HERE,
            statement=_SETTING + "; the paper states the exponential convergence to the null predictor",
            config=cfg,
            metric="test_error",
            verdict=Expectation(),
            predict=overparameterised(),
            perturbed=overparameterised(squared=True),
            generations=(1, 2, 3, 5, 10),
            covers=_overparameterised_covers,
        )
    )


_register()
