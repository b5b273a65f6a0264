"""Strong model collapse laws (Dohmatob, Feng, Subramonian & Kempe 2025).

Configs: ``LinRegConfig(regime="mix", synthetic_source="shifted", shift=C2, real_fraction=p1)``:
``n = T`` rows, ``n1 = p1 T`` real, ``n2 = p2 T`` labelled by ``w* + delta``. Every generation is
the same one-shot experiment (no recursion; :mod:`model_collapse.experiments.models.linreg_sources`),
so each law predicts the same value at every generation checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ...theory import linreg_strong as ts
from ..models.linreg import LinRegConfig
from .references import DERIVED_HERE, PUBLISHED, STRONG_COLLAPSE
from .registry import Law, register_law, setting
from .verdicts import Asymptotic, Expectation, LowerBound

__all__ = ["exact", "approximate", "corollary", "floor", "separate_terms", "linear_floor", "small_phi"]


def _args(cfg: LinRegConfig) -> tuple[int, int, float, float, float]:
    return cfg.T, cfg.d, cfg.real_fraction, cfg.sigma2, cfg.shift


def exact(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """``E||w_hat - w*||^2`` exactly (derived here), the same at every generation."""
    return np.full(np.shape(n), float(ts.exact_test_error(*_args(cfg))))


def approximate(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """``p2^2 C2 + (sigma2 + p1 p2 C2) d/(T-d-1)`` at every generation."""
    return np.full(np.shape(n), float(ts.approximate_test_error(*_args(cfg))))


def corollary(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """Corollary 1, eq. (11) at ``phi = d/T``: ``sigma2 phi/(1-phi) + (p2^2 + p2 p1 phi/(1-phi)) C2``."""
    value = ts.proportional_limit(cfg.d / cfg.T, cfg.real_fraction, cfg.sigma2, cfg.shift)
    return np.full(np.shape(n), float(value))


def floor(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """``p2^2 C2`` at every generation (a lower bound at every ``T``)."""
    return np.full(np.shape(n), ts.floor(cfg.real_fraction, cfg.shift))


def separate_terms(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """A wrong twin: the floor plus the clean variance, no cross term ``p1 p2 C2 d/(T-d-1)``."""
    return np.full(np.shape(n), ts.floor(cfg.real_fraction, cfg.shift) + cfg.sigma2 * cfg.d / (cfg.T - cfg.d - 1))


def linear_floor(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """A wrong twin: ``p2 C2`` for ``p2^2 C2`` (the synthetic share's bias not shrunk by the real rows)."""
    p2 = 1 - cfg.real_fraction
    return np.full(np.shape(n), p2 * cfg.shift + float(approximate(cfg, [1])[0]) - p2**2 * cfg.shift)


def small_phi(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """A wrong twin: eq. (12)'s small-``phi`` form ``sigma2 phi + p2^2 C2`` used at a finite ``phi``."""
    p2 = 1 - cfg.real_fraction
    return np.full(np.shape(n), cfg.sigma2 * cfg.d / cfg.T + p2**2 * cfg.shift)


def too_high_floor(cfg: LinRegConfig, n: ArrayLike) -> np.ndarray:
    """A wrong twin of the floor: ``p2 C2``, above the error once ``T`` is large."""
    return np.full(np.shape(n), (1 - cfg.real_fraction) * cfg.shift)


def _approx_tolerance(cfg: LinRegConfig) -> float:
    return ts.relative_gap_bound(cfg.d)


def _corollary_tolerance(cfg: LinRegConfig) -> float:
    # |exact - approx| <= approx/d and |approx - eq11| <= eq11/(T-d-1) (theory.linreg_strong)
    return ts.relative_gap_bound(cfg.d) + (1 + 1 / cfg.d) / (cfg.T - cfg.d - 1)


def _shifted(**values: Any):
    def extra(cfg):
        if cfg.real_weight is not None:
            return "the law is for the unweighted (pooled) OLS fit"
        return None

    return setting("linreg", extra=extra, regime="mix", synthetic_source="shifted", **values)


_STATEMENT = (
    "setting of Section 3 (n1 real rows from w1, n2 rows from a fixed shifted w2 = w1 + delta, one OLS fit); "
    "the paper states the proportional limit (Corollary 1); the exact finite-n expectation is derived here"
)
_COROLLARY = "Corollary 1, eq. (11): E_test ~ sigma^2 phi/(1-phi) + (p2^2 + p2 p1 phi/(1-phi)) c^2 as d/n -> phi"


def _register() -> None:
    base = {"regime": "mix", "synthetic_source": "shifted", "shift": 1.0, "sigma2": 1.0, "sampler": "exact"}
    register_law(
        Law(
            id="linreg/strong/exact",
            title="E||w_hat - w*||^2 = sigma2 d/(n-d-1) + (C2/d)[(n-1) E tr B^2 - E (tr B)^2]/(n-d-1), B the matrix "
            "Beta of the shifted rows (mix with a fixed shifted source, d = 8, n = 40, p2 = 1/4)",
            reference=STRONG_COLLAPSE,
            status=DERIVED_HERE,
            statement=_STATEMENT,
            config=LinRegConfig(d=8, T=40, real_fraction=0.75, generations=3, **base),
            metric="test_error",
            verdict=Expectation(),
            predict=exact,
            perturbed=separate_terms,
            generations=(1, 3),
            covers=_shifted(),
        )
    )
    for size, d in (("small", 8), ("large", 32)):
        cfg = LinRegConfig(d=d, T=4 * d, real_fraction=0.75, generations=1, **base)
        register_law(
            Law(
                id=f"linreg/strong/approx/{size}",
                title=f"E||w_hat - w*||^2 ~ p2^2 C2 + (sigma2 + p1 p2 C2) d/(n-d-1) (d = {d}, n = 4d, p2 = 1/4; "
                "tolerance 1/d)",
                reference=STRONG_COLLAPSE,
                status=DERIVED_HERE,
                statement=_STATEMENT,
                config=cfg,
                metric="test_error",
                verdict=Asymptotic(tolerance=_approx_tolerance, rate="1/d"),
                predict=approximate,
                perturbed=linear_floor,
                generations=(1,),
                covers=_shifted(),
            )
        )
        register_law(
            Law(
                id=f"linreg/strong/corollary/{size}",
                title=f"E||w_hat - w*||^2 ~ sigma2 phi/(1-phi) + (p2^2 + p2 p1 phi/(1-phi)) C2, phi = d/n (d = {d}, "
                "n = 4d, p2 = 1/4; tolerance 1/d + (1 + 1/d)/(n-d-1))",
                reference=STRONG_COLLAPSE,
                status=PUBLISHED,
                statement=_COROLLARY,
                config=cfg,
                metric="test_error",
                verdict=Asymptotic(tolerance=_corollary_tolerance, rate="1/d + (1 + 1/d)/(n-d-1)"),
                predict=corollary,
                perturbed=small_phi,
                generations=(1,),
                covers=_shifted(),
            )
        )
    register_law(
        Law(
            id="linreg/strong/floor",
            title="E||w_hat - w*||^2 >= p2^2 C2 at every n (d = 8, n = 400, p2 = 1/4: the floor more data "
            "does not remove)",
            reference=STRONG_COLLAPSE,
            status=PUBLISHED,
            statement="Theorem 1 / Corollary 1: the synthetic term p2^2 c^2 stays as n -> oo at a fixed synthetic "
            "share (strong model collapse); the bound at every finite n is derived here "
            "(E[G^-1 G_2 | G] = p2 I, Jensen)",
            config=LinRegConfig(d=8, T=400, real_fraction=0.75, generations=1, **base),
            metric="test_error",
            verdict=LowerBound(),
            predict=floor,
            perturbed=too_high_floor,
            generations=(1,),
            covers=_shifted(),
        )
    )


_register()
