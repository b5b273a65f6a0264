"""Categorical-refitting laws (Shumailov et al. 2024; Seddik et al. 2024; Suresh et al. 2024; Dohmatob et al. 2024).

Every prediction calls :mod:`model_collapse.theory.categorical` (derived in SymPy from the
multinomial's one-step moments, or exact from the two-type Wright-Fisher chain of one
category's count) with the config's ``p0``, ``M`` and real fraction. A law without a decoder
covers every config of its regime without one (any ``K``, ``p0`` and ``M``; the chain's laws
up to ``M = 2000``); a decoder's law covers configs of that decoder.

Each law's wrong twin is a mistake a reader could make: off by one generation (the
Wright-Fisher decay, survival), another regime's law (accumulate, mix vs augment: "reusing
the real data is as good as fresh data"), "every category is equally likely to win"
(fixation), "no collapse" (the downstream error of the clean data), "the decoder changes
nothing in expectation" (the decoders' one-step laws) and a Poisson approximation held to
a tolerance that does not shrink.

The skewness the tail guard needs is estimated by a pilot run
(:mod:`model_collapse.experiments.models.categorical_tails`): no closed form is known here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ...theory import categorical as tc
from ...theory.categorical.one_step import MAX_OUTCOMES, expected_decoded_fit
from ..models.categorical import CategoricalConfig
from ..models.categorical_theory import CHAIN_MAX_M, decoder, truth
from .references import (
    ALEMOHAMMAD,
    DERIVED_HERE,
    DOHMATOB_TAILS,
    GERSTGRASSER,
    PUBLISHED,
    SEDDIK,
    SHUMAILOV,
    SURESH,
)
from .registry import Law, register_law, setting
from .verdicts import Asymptotic, Expectation
from .verdicts_exact import Deterministic, Probability

__all__ = ["NO_DECODER", "gini", "support", "fixation"]

NO_DECODER = dict(temperature=1.0, top_k=None, top_p=1.0, greedy=False, curate=1)  # curation: laws/curation.py
_TAME = (1, 2, 5, 10, 20, 40, 60)
# Replace at M = 10: once most seeds are absorbed (Gini and support at their floor) the rest make the
# metric's law very skewed (pilot skewness 7.8 at n = 40): its z-score is honest only to n ~ 20.
_EARLY = (1, 2, 5, 10, 20)


def _rf(cfg) -> float | None:
    return cfg.real_fraction if cfg.regime in ("mix", "augment") else None


def gini(regime: str, shift: int = 0) -> Callable[[Any, ArrayLike], np.ndarray]:
    """``(cfg, n) -> E gini_simpson_n`` under ``regime`` (``shift``: a generation later)."""

    def predict(cfg, n):
        return tc.expected_gini(
            regime, np.asarray(n) + shift, truth(cfg), cfg.M, _rf(cfg) if regime != "replace" else None
        )

    predict.__qualname__ = f"gini[{regime}{f', shift={shift}' if shift else ''}]"
    return predict


def support(shift: int = 0) -> Callable[[Any, ArrayLike], np.ndarray]:
    """``(cfg, n) -> E support_n`` from the two-type chain (replace, mix, augment)."""

    def predict(cfg, n):
        return tc.expected_support(truth(cfg), cfg.M, np.asarray(n) + shift, cfg.regime, _rf(cfg))

    predict.__qualname__ = f"support[{f'shift={shift}' if shift else ''}]"
    return predict


def _poisson_support(cfg, n):
    return tc.suresh_survival(truth(cfg), cfg.M, np.asarray(n)).sum(axis=0)


def fixation(cfg: CategoricalConfig, n: ArrayLike) -> np.ndarray:
    """``P(p_{n,0} = 1)``: exact from the two-type chain; tends to ``p0_0``."""
    return tc.fixation_probability_at(truth(cfg)[0], cfg.M, np.asarray(n), cfg.regime, _rf(cfg))


def _equal_chance(cfg, n):  # wrong: "every category is as likely to win"
    return np.full(np.shape(n), 1.0 / cfg.K)


def _downstream(cfg, n):
    return tc.expected_downstream_error(truth(cfg), cfg.M, np.asarray(n), [1000])[:, 0]


def _clean(cfg, n):  # wrong: "training on synthetic data costs nothing downstream"
    return np.full(np.shape(n), float(tc.clean_downstream_error(truth(cfg), 1000)))


def _decoded_mode(cfg, n):
    value = expected_decoded_fit(truth(cfg), cfg.M, **decoder(cfg))[0]
    return np.full(np.shape(n), value)


def _undecoded_mode(cfg, n):  # wrong: "a decoder changes nothing in expectation"
    return np.full(np.shape(n), truth(cfg)[0])


def _chain_sized(cfg) -> str | None:
    return None if cfg.M <= CHAIN_MAX_M else f"the two-type chain is exact up to M = {CHAIN_MAX_M}, got M = {cfg.M}"


def _enumerable(cfg) -> str | None:
    count = math.comb(cfg.M + cfg.K - 1, cfg.K - 1)
    return None if count <= MAX_OUTCOMES else f"{count} multinomial outcomes to enumerate (at most {MAX_OUTCOMES})"


def _covers(regime: str, extra=None, **decoding):
    values = dict(NO_DECODER, **decoding)
    return setting("categorical", extra, regime=regime, **values)


_WF = "Wright-Fisher: E[p_{n+1} | p_n] = p_n, E[sum p_{n+1}^2 | p_n] = 1/M + (1 - 1/M) sum p_n^2"
_CHAIN = "the two-type Wright-Fisher chain of one category's count, c' ~ Bin(M, c/M) (derived here)"


def _register() -> None:
    base = dict(K=10, M=20, init="zipf", zipf_a=1.1, generations=60)
    # gini, fixation and survival under replace share one config (one run checks the three):
    # by generation 100 at M = 10 all but a (1 - 1/M)^100 ~ 3e-5 share of the seeds are absorbed.
    replace = CategoricalConfig(K=8, M=10, init="zipf", zipf_a=1.1, generations=100, regime="replace")
    laws = [
        Law(
            id="categorical/replace/gini",
            title="E gini_simpson_n = G0 (1 - 1/M)^n, G0 = 1 - sum p0^2 (replace)",
            reference=SEDDIK,
            status=PUBLISHED,
            statement="Theorem 1 (fully synthetic): S_m = 1 - (1 - 1/n)^m (1 - S_0), S = E sum p^2, n samples",
            config=replace,
            metric="gini_simpson",
            verdict=Expectation(),
            predict=gini("replace"),
            perturbed=gini("replace", shift=1),
            generations=_EARLY,
            covers=_covers("replace"),
        ),
        Law(
            id="categorical/accumulate/gini",
            title="E gini_simpson_n = G0 prod_{k<=n} (1 - 1/(k^2 M)) -> G0 sin(pi/sqrt M)/(pi/sqrt M) (accumulate)",
            reference=GERSTGRASSER,
            status=DERIVED_HERE,
            statement="setting of Gerstgrasser et al. 2024 (accumulate every generation's data), from the pooled "
            "counts' one-step moments",
            config=CategoricalConfig(regime="accumulate", **base),
            metric="gini_simpson",
            verdict=Expectation(),
            predict=gini("accumulate"),
            perturbed=gini("replace"),
            generations=_TAME,
            covers=_covers("accumulate"),
        ),
        Law(
            id="categorical/mix/gini",
            title="E gini_simpson_n = 1 - S_inf - rho^n (S_0 - S_inf), rho = m(m-1)/M^2, m = M - k, k fresh (mix)",
            reference=ALEMOHAMMAD,
            status=DERIVED_HERE,
            statement="setting of Alemohammad et al. 2024, the fresh data loop (k fresh real samples each generation)",
            config=CategoricalConfig(regime="mix", real_fraction=0.25, **base),
            metric="gini_simpson",
            verdict=Expectation(),
            predict=gini("mix"),
            perturbed=gini("augment"),
            generations=_TAME,
            covers=_covers("mix"),
        ),
        Law(
            id="categorical/augment/gini",
            title="E gini_simpson_n = 1 - S_inf - sum_i w_i lambda_i^n, lambda in {m(m-1)/M^2, m/M}, m = M - k "
            "(augment)",
            reference=SEDDIK,
            status=DERIVED_HERE,
            statement="setting of Seddik et al. 2024, Theorem 2 (partially synthetic: the same real samples every "
            "generation), with generation 1 fit on M real samples",
            config=CategoricalConfig(regime="augment", real_fraction=0.25, **base),
            metric="gini_simpson",
            verdict=Expectation(),
            predict=gini("augment"),
            perturbed=gini("mix"),
            generations=_TAME,
            covers=_covers("augment"),
        ),
        Law(
            id="categorical/replace/fixation",
            title="P(p_{n,0} = 1) -> p0_0: absorbed in a category with its initial probability (replace)",
            reference=SHUMAILOV,
            status=PUBLISHED,
            statement="the discrete-distribution theorem (absorbing Markov chain; the state is reached with the "
            "probability of sampling it) and Seddik et al. 2024, Proposition 1; checked at finite n through " + _CHAIN,
            config=replace,
            metric="fixed_on_mode",
            verdict=Probability("equals"),
            predict=fixation,
            perturbed=_equal_chance,
            generations=(5, 20, 50, 100),
            covers=_covers("replace", _chain_sized),
        ),
        Law(
            id="categorical/replace/support",
            title="E support_n = sum_j P(c_{n,j} > 0), exact from each count's binomial chain (replace)",
            reference=SURESH,
            status=DERIVED_HERE,
            statement="setting of Suresh et al. 2024 (how fast categories are forgotten); exact through " + _CHAIN,
            config=replace,
            metric="support",
            verdict=Expectation(),
            predict=support(),
            perturbed=support(shift=1),
            generations=_EARLY,
            covers=_covers("replace", _chain_sized),
        ),
        Law(
            id="categorical/replace/downstream",
            title="E downstream_T1000 = sum_i p0_i E(1 - p_{n,i})^1000: a memorising learner on generation n (replace)",
            reference=DOHMATOB_TAILS,
            status=DERIVED_HERE,
            statement="setting of Dohmatob et al. 2024 (a learner memorising every category it saw, Zipf data); "
            "the exact finite-T expectation through " + _CHAIN,
            config=CategoricalConfig(K=1000, M=200, init="zipf", zipf_a=2.0, generations=20, regime="replace"),
            metric="downstream_T1000",
            verdict=Expectation(),
            predict=_downstream,
            perturbed=_clean,
            generations=(1, 2, 5, 10, 20),
            covers=_covers("replace", _chain_sized),
        ),
        Law(
            id="categorical/replace/greedy",
            title="absorbed_n = 1 for n >= 2 under greedy decoding (replace)",
            reference=SHUMAILOV,
            status=DERIVED_HERE,
            statement="setting of Shumailov et al. 2024's language-model experiment (mode-seeking decoding); "
            "a greedy decoder puts every synthetic sample on one category",
            config=CategoricalConfig(
                K=10, M=20, init="zipf", zipf_a=1.1, generations=10, regime="replace", greedy=True
            ),
            metric="absorbed",
            verdict=Deterministic(),
            predict=lambda cfg, n: np.ones(np.shape(n)),
            perturbed=lambda cfg, n: tc.absorption_probability(truth(cfg), cfg.M, np.asarray(n)),
            generations=(2, 5, 10),
            covers=_covers("replace", greedy=True),
        ),
    ]
    for M in (50, 500):
        laws.append(
            Law(
                id=f"categorical/replace/support-poisson/M{M}",
                title="E support_n ~ sum_j (1 - exp(-M p0_j g_n)), g_1 = 1, g_{n+1} = 1 - exp(-g_n), to 0.2 G/M",
                reference=SURESH,
                status=PUBLISHED,
                statement="Theorem 2 (Poisson model, exact there; for the multinomial an approximation that "
                "sharpens as M grows, checked at two sizes)",
                config=CategoricalConfig(K=50, M=M, init="zipf", zipf_a=1.1, generations=10, regime="replace"),
                metric="support",
                verdict=Asymptotic(tolerance=lambda cfg: 0.2 * cfg.generations / cfg.M, rate="0.2 G/M"),
                predict=_poisson_support,
                perturbed=support(shift=1),
                generations=(1, 2, 5, 10),
                covers=_covers("replace"),
            )
        )
    for name, decoding in (
        ("temperature", dict(temperature=0.7)),
        ("top-k", dict(top_k=2)),
        ("top-p", dict(top_p=0.6)),
    ):
        laws.append(
            Law(
                id=f"categorical/replace/{name}/one-step",
                title="E p_{2,0} = sum_c Mult(c; M, p0) decode(c/M)_0: one decoded step, exactly (replace)",
                reference=SHUMAILOV,
                status=DERIVED_HERE,
                statement="setting of Shumailov et al. 2024's language-model experiment (synthetic data from a "
                "decoder): E[p_{n+1} | p_n] = decode(p_n), summed over generation 1's outcomes",
                config=CategoricalConfig(
                    K=4, M=8, init="zipf", zipf_a=1.1, generations=2, regime="replace", **decoding
                ),
                metric="p_mode",
                verdict=Expectation(),
                predict=_decoded_mode,
                perturbed=_undecoded_mode,
                generations=(2,),
                covers=_covers("replace", _enumerable, **decoding),
            )
        )
    for law in laws:
        register_law(law)


_register()
