"""Laws of verified synthetic labels (Feng, Dohmatob, Yang, Charton & Kempe, ICLR 2025, Theorem 4.2).

Every prediction calls :mod:`model_collapse.theory.verifier` (derived in SymPy from one
synthesized point's law) at the config's ``p, phi, psi`` and data size ``D = n N``:

* exact (two-sided z-tests): the kept fraction ``f = p psi + (1 - p) phi``, the label-noise
  rate after pruning ``p' (1 - (1 - f)^D)`` and the learner's alignment
  ``E <w, mu>/||mu||^2 = (1 - 2p')(1 - (1 - f)^D)`` (``(1 - f)^D``: nothing kept, ``w = 0``);
* asymptotic, at two data sizes each: the accuracy's deterministic equivalent on either
  side of the breakdown point ``p* = 1/(1 + psi/phi)``, allowed twice the delta method's
  second-order term ``c2`` (``O(D^-2)`` at these sizes), so the tolerance shrinks more than
  tenfold from one size to the next (measured: the bias is 0.93 to 1.46 times ``c2`` from
  ``D = 300`` on, over four settings).

The exact laws share one config (the rates ``p, phi, psi`` are traced, so one compiled
program serves every law of a size). Seeds: 50,000 for the exact laws (the noise rate's
skewness is 3.3 at generation 1, where nothing is kept in a third of the batches) and 20,000
for the accuracy (skewness about -2.4 at ``N = 1000``), so that the tail guard does not
refuse them among the registry's some 800 checks. Wrong twins: the verifier's rates swapped (kept
fraction), "pruning leaves the noise rate at ``p``" (noise rate, alignment) and "no
verifier" (``phi = psi``: breakdown at 1/2) for the accuracy, which predicts the wrong side
of chance at both registered settings: a good verifier rescues ``p = 0.6 > 1/2``, a verifier
that favours wrong labels breaks ``p = 0.45 < 1/2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ...theory import verifier as tv
from ..models.verifier import VerifierConfig
from .references import DERIVED_HERE, FENG_VERIFICATION, PUBLISHED
from .registry import Law, register_law, setting
from .verdicts import Asymptotic, Expectation

__all__ = ["EXACT", "BELOW", "ABOVE", "SIZES", "data_size", "accuracy_tolerance"]

# p' = 0.04/0.22 = 2/11 and a small kept fraction f = 0.22: nothing kept in a batch of 4 with
# probability 0.78^4 = 0.37, so the (1 - f)^D term is seen at the first generations.
EXACT = VerifierConfig(d=3, mu_norm=1.0, p=0.4, phi=0.3, psi=0.1, N=4, generations=20)
# Either side of p* for the accuracy: p* = 0.75 > p = 0.6 (rescued) and p* = 0.357 < p = 0.45 (broken).
BELOW = dict(p=0.6, phi=0.9, psi=0.3)
ABOVE = dict(p=0.45, phi=0.5, psi=0.9)
SIZES = (1000, 10_000)
_GENERATIONS = (1, 2, 5, 20)


def data_size(cfg: VerifierConfig, n: ArrayLike) -> np.ndarray:
    """``D = n N``: synthesized points behind generation ``n``."""
    return np.asarray(n, np.float64) * cfg.N


def _rates(cfg) -> dict[str, float]:
    return {"p": cfg.p, "phi": cfg.phi, "psi": cfg.psi}


def _kept(cfg, n):
    return np.full(np.shape(n), tv.kept_fraction(cfg.p, cfg.phi, cfg.psi))


def _kept_swapped(cfg, n):  # wrong: the verifier's two rates exchanged
    return np.full(np.shape(n), tv.kept_fraction(cfg.p, cfg.psi, cfg.phi))


def _noise(cfg, n):
    return tv.expected_noise_rate(data_size(cfg, n), **_rates(cfg))


def _noise_unpruned(cfg, n):  # wrong: "pruning leaves the noise rate at p"
    return cfg.p * (1.0 - tv.nothing_kept(data_size(cfg, n), **_rates(cfg)))


def _alignment(cfg, n):
    return tv.expected_alignment(data_size(cfg, n), **_rates(cfg))


def _alignment_unpruned(cfg, n):  # wrong: 1 - 2p in place of 1 - 2p'
    return (1.0 - 2.0 * cfg.p) * (1.0 - tv.nothing_kept(data_size(cfg, n), **_rates(cfg)))


def _accuracy(cfg, n):
    return tv.accuracy_equivalent(data_size(cfg, n), cfg.d, cfg.mu_norm, **_rates(cfg))


def _accuracy_unverified(cfg, n):  # wrong: no verifier (phi = psi), breakdown at p = 1/2
    return tv.accuracy_equivalent(data_size(cfg, n), cfg.d, cfg.mu_norm, cfg.p, 1.0, 1.0)


def accuracy_tolerance(cfg: VerifierConfig) -> float:
    """``2 |c2| / accuracy_equivalent`` at ``D = N`` (generation 1): twice the delta method's second-order term.

    Relative to the prediction. Generation 1 has the fewest points, so a check at a later
    generation of the same config (a larger ``D``, a smaller bias) is allowed at least as much.
    """
    D = float(cfg.N)
    c2 = tv.accuracy_correction(D, cfg.d, cfg.mu_norm, **_rates(cfg))
    return float(2.0 * abs(c2) / tv.accuracy_equivalent(D, cfg.d, cfg.mu_norm, **_rates(cfg)))


def _side(rates: dict[str, float]) -> Any:
    """``covers``: a verifier config on the same side of the breakdown point as ``rates``."""
    below = rates["p"] < tv.breakdown_point(rates["phi"], rates["psi"])

    def extra(cfg) -> str | None:
        p_star = tv.breakdown_point(cfg.phi, cfg.psi)
        if cfg.p == p_star:
            return f"p = p* = {p_star:g}: the law is for one side of the breakdown point"
        if (cfg.p < p_star) != below:
            return f"the law is for p {'<' if below else '>'} p* = 1/(1 + psi/phi), here p = {cfg.p:g}, p* = {p_star:g}"
        return None

    return setting("verifier", extra, regime="accumulate")


_SETTING = (
    "setting of Feng et al. 2025, Section 4 (a two-class Gaussian mixture, labels wrong with probability p, a "
    "verifier keeping correct labels with probability phi and wrong ones with psi; single round): "
)


def _register() -> None:
    covers = setting("verifier", regime="accumulate")
    laws = [
        Law(
            id="verifier/kept-fraction",
            title="E kept_fraction_n = f = p psi + (1 - p) phi (K_n ~ Bin(n N, f))",
            reference=FENG_VERIFICATION,
            status=DERIVED_HERE,
            statement=_SETTING + "a point is kept with probability f, independently",
            config=EXACT,
            metric="kept_fraction",
            verdict=Expectation(),
            predict=_kept,
            perturbed=_kept_swapped,
            generations=_GENERATIONS,
            seeds=50_000,
            covers=covers,
        ),
        Law(
            id="verifier/noise-rate",
            title="E noise_rate_n = p' (1 - (1 - f)^(n N)), p' = p psi / (p psi + (1 - p) phi)",
            reference=FENG_VERIFICATION,
            status=DERIVED_HERE,
            statement=_SETTING + "W | K ~ Bin(K, p'); the paper's p* is where p' = 1/2",
            config=EXACT,
            metric="noise_rate",
            verdict=Expectation(),
            predict=_noise,
            perturbed=_noise_unpruned,
            generations=_GENERATIONS,
            seeds=50_000,
            covers=covers,
        ),
        Law(
            id="verifier/alignment",
            title="E <w_n, mu>/||mu||^2 = (1 - 2p')(1 - (1 - f)^(n N)), w_n = mean of y_obs x over kept points",
            reference=FENG_VERIFICATION,
            status=DERIVED_HERE,
            statement=_SETTING + "E[y_obs x | kept] = (1 - 2p') mu, so the mean-difference classifier points along mu "
            "iff p < p* = 1/(1 + psi/phi)",
            config=EXACT,
            metric="alignment",
            verdict=Expectation(),
            predict=_alignment,
            perturbed=_alignment_unpruned,
            generations=_GENERATIONS,
            seeds=50_000,
            covers=covers,
        ),
    ]
    for side, rates, limit in (("below", BELOW, "Phi(||mu||)"), ("above", ABOVE, "1 - Phi(||mu||)")):
        for N in SIZES:
            laws.append(
                Law(
                    id=f"verifier/accuracy/{side}-breakdown/N{N}",
                    title=f"E accuracy = Phi(r ||mu||^2 / sqrt(r^2 ||mu||^2 + (d-1)/(f N))) to 2 |c2| = O(N^-2), "
                    f"r = 1 - 2p' {'>' if side == 'below' else '<'} 0: -> {limit} as N -> oo "
                    f"(p {'<' if side == 'below' else '>'} p*)",
                    reference=FENG_VERIFICATION,
                    status=PUBLISHED,
                    statement="Theorem 4.2 (breakdown point p* = 1/(1 + psi/phi): with unlimited data the classifier "
                    "is perfect below p* and fails above; here the limits are the Bayes and anti-Bayes accuracies "
                    "Phi(+-||mu||)); the finite-N deterministic equivalent is derived here, to twice the delta "
                    "method's second-order term",
                    config=VerifierConfig(d=20, mu_norm=1.0, N=N, generations=1, **rates),
                    metric="accuracy",
                    verdict=Asymptotic(tolerance=accuracy_tolerance, rate="2 |c2| = O(N^-2)"),
                    predict=_accuracy,
                    perturbed=_accuracy_unverified,
                    generations=(1,),
                    seeds=20_000,
                    covers=_side(rates),
                )
            )
    for law in laws:
        register_law(law)


_register()
