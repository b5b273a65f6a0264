"""Verified synthetic labels: the pruned noise rate, the breakdown point and the learner's accuracy.

The setting of Feng, Dohmatob, Yang, Charton & Kempe (ICLR 2025), *Beyond Model Collapse:
Scaling Up with Synthesized Data Requires Verification*, Theorem 4.2, made a simulatable
model (:mod:`model_collapse.experiments.models.verifier`): ``y = +-1`` equiprobable,
``x | y ~ N(y mu, I_d)``; a generator's label is wrong with probability ``p`` independently
of ``x``; a verifier keeps a correct label with probability ``phi`` and a wrong one with
probability ``psi``; the learner is ``w = mean(y_obs x)`` over the ``K`` kept points out of
``D`` synthesized.

Derived here with SymPy (:func:`derivation`) from the law of one synthesized point, the
model's one-step recursion (a batch's sums add up point by point):

* kept fraction ``f = p psi + (1 - p) phi`` (so ``K ~ Bin(D, f)``, exactly);
* label-noise rate after pruning ``p' = P(wrong | kept) = p psi / (p psi + (1 - p) phi)``,
  and ``W | K ~ Bin(K, p')`` (each kept point is wrong independently), so
  ``E[W/K | K = k] = p'`` for ``k >= 1``;
* ``E[y_obs x | kept] = (1 - 2 p') mu`` (since ``y x = mu + y z`` with ``E y z = 0``), so
  ``E[w | K = k] = (1 - 2 p') mu`` for ``k >= 1``, and ``w = 0`` when ``K = 0``
  (probability ``(1 - f)^D``);
* the breakdown point: ``1 - 2 p'`` changes sign at ``p* = phi / (phi + psi) = 1/(1 + psi/phi)``
  (Feng et al.'s Theorem 4.2 states ``p*``; no pruning, ``phi = psi``, gives 1/2; an oracle,
  ``psi = 0``, gives 1).

These are exact. The accuracy is not linear in the sums, so it has a deterministic
equivalent (derived here): with ``a = <w, mu>/||mu|| = r ||mu|| + O_P(K^-1/2)``,
``r = 1 - 2 p'``, and ``b = ||w_perp||^2 = chi2_{d-1}/K``, the accuracy is
``h(a, b) = Phi(||mu|| a / sqrt(a^2 + b))`` and, at ``K = f D``,

    E accuracy = Phi(r ||mu||^2 / sqrt(r^2 ||mu||^2 + (d - 1)/(f D))) + c2 + o(c2),

``c2`` the second-order term of the delta method (:func:`accuracy_correction`; ``h``'s
derivatives in SymPy), of order ``1/D`` while ``(d - 1)/(f D)`` is comparable to
``r^2 ||mu||^2`` and ``1/D^2`` beyond (``h`` flattens in ``a`` as ``b -> 0``). As ``D -> oo``
the accuracy tends to ``Phi(||mu||)`` (the Bayes classifier's) when ``p < p*`` and to
``Phi(-||mu||) = 1 - Phi(||mu||)`` (the anti-Bayes classifier's) when ``p > p*``: Feng et
al.'s 100% and 0% are these limits as ``||mu|| -> oo`` (or the agreement with the Bayes
classifier, ``cosine -> +-1``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

__all__ = [
    "KINDS",
    "derivation",
    "kept_fraction",
    "pruned_noise_rate",
    "breakdown_point",
    "nothing_kept",
    "expected_noise_rate",
    "expected_alignment",
    "cosine_equivalent",
    "accuracy_equivalent",
    "accuracy_correction",
    "accuracy_limit",
    "predict",
]

KINDS = {
    "kept_fraction": "exact expectation",
    "noise_rate": "exact expectation",
    "alignment": "exact expectation",
    "cosine": "approximation",
    "accuracy": "approximation",
}


@functools.cache
def derivation() -> dict[str, Any]:
    """The SymPy derivation from one synthesized point's law (derived here, in Feng et al.'s setting).

    A point is correct (``c = 1``, probability ``1 - p``) or wrong (``c = 0``); it is kept with
    probability ``phi`` or ``psi`` accordingly; its label-weighted input is
    ``y_obs x = (2c - 1)(mu + y z)``. Returns the expressions (in symbols ``p, phi, psi``):
    ``kept`` = P(kept), ``noise`` = P(wrong | kept), ``mean_direction`` = the coefficient of
    ``mu`` in ``E[y_obs x | kept]``, ``breakdown`` = the root of that coefficient in ``p``,
    and ``h_aa``, ``h_bb`` (functions of ``a, b, m``) for the second-order term.
    """
    import sympy as sp

    p, phi, psi = sp.symbols("p phi psi", nonnegative=True)
    m, b = sp.symbols("m b", positive=True)
    a = sp.symbols("a", real=True)
    outcomes = {1: (1 - p) * phi, 0: p * psi}  # c -> P(c, kept)
    kept = sp.factor(sum(outcomes.values()))
    noise = sp.simplify(outcomes[0] / kept)
    # E[(2c - 1)(mu + y z) | kept]: y z has mean 0 and is independent of (c, kept); coefficient of mu.
    mean_direction = sp.simplify(sum((2 * c - 1) * w for c, w in outcomes.items()) / kept)
    assert sp.simplify(mean_direction - (1 - 2 * noise)) == 0
    roots = sp.solve(sp.Eq(sp.numer(sp.together(mean_direction)), 0), p)
    (breakdown,) = roots
    assert sp.simplify(breakdown - 1 / (1 + psi / phi)) == 0
    h = (1 + sp.erf(m * a / sp.sqrt(a**2 + b) / sp.sqrt(2))) / 2  # Phi(m a / sqrt(a^2 + b))
    return {
        "symbols": (p, phi, psi, a, b, m),
        "kept": kept,
        "noise": noise,
        "mean_direction": mean_direction,
        "breakdown": sp.simplify(breakdown),
        "h": h,
        "h_b": sp.simplify(sp.diff(h, b)),
        "h_aa": sp.simplify(sp.diff(h, a, 2)),
        "h_bb": sp.simplify(sp.diff(h, b, 2)),
    }


@functools.cache
def _derivatives() -> tuple[Any, Any, Any]:
    """``h_b``, ``h_aa`` and ``h_bb`` of :func:`derivation`, as NumPy functions of ``(a, b, m)``."""
    import sympy as sp

    der = derivation()
    _, _, _, a, b, m = der["symbols"]
    return tuple(sp.lambdify((a, b, m), der[name], modules=["numpy", "scipy"]) for name in ("h_b", "h_aa", "h_bb"))


# The three rates are written out (importing SymPy costs seconds, and the laws' registration needs
# them); ``tests/theory/test_theory_verifier.py`` checks each against :func:`derivation`.


def kept_fraction(p: float, phi: float, psi: float) -> float:
    """``f = p psi + (1 - p) phi``: the probability that a synthesized point is kept (exact)."""
    return float(p * psi + (1.0 - p) * phi)


def pruned_noise_rate(p: float, phi: float, psi: float) -> float:
    """``p' = p psi / (p psi + (1 - p) phi)``: the label-noise rate among kept points (exact)."""
    return float(p * psi / kept_fraction(p, phi, psi))


def breakdown_point(phi: float, psi: float) -> float:
    """``p* = 1/(1 + psi/phi) = phi/(phi + psi)`` (Feng et al. 2025, Theorem 4.2): ``1 - 2p'`` changes sign there."""
    return float(phi / (phi + psi))


def nothing_kept(D: ArrayLike, p: float, phi: float, psi: float) -> np.ndarray:
    """``P(K = 0) = (1 - f)^D`` after ``D`` synthesized points (``K ~ Bin(D, f)``)."""
    return np.power(1.0 - kept_fraction(p, phi, psi), np.asarray(D, np.float64))


def expected_noise_rate(D: ArrayLike, p: float, phi: float, psi: float) -> np.ndarray:
    """``E noise_rate = p' (1 - (1 - f)^D)``: ``p'`` given ``K >= 1``, 0 when nothing is kept (exact)."""
    return pruned_noise_rate(p, phi, psi) * (1.0 - nothing_kept(D, p, phi, psi))


def expected_alignment(D: ArrayLike, p: float, phi: float, psi: float) -> np.ndarray:
    """``E <w, mu>/||mu||^2 = (1 - 2 p')(1 - (1 - f)^D)`` (exact; ``w = 0`` when nothing is kept)."""
    return (1.0 - 2.0 * pruned_noise_rate(p, phi, psi)) * (1.0 - nothing_kept(D, p, phi, psi))


def _setting(D: ArrayLike, d: int, mu_norm: float, p: float, phi: float, psi: float):
    q = pruned_noise_rate(p, phi, psi)
    K = kept_fraction(p, phi, psi) * np.asarray(D, np.float64)
    return q, 1.0 - 2.0 * q, K, (d - 1) / K


def cosine_equivalent(D: ArrayLike, d: int, mu_norm: float, p: float, phi: float, psi: float) -> np.ndarray:
    """``r ||mu|| / sqrt(r^2 ||mu||^2 + (d - 1)/(f D))``, ``r = 1 - 2p'``: the cosine's deterministic equivalent."""
    _, r, _, b = _setting(D, d, mu_norm, p, phi, psi)
    norm = np.sqrt((r * mu_norm) ** 2 + b)
    return np.where(norm > 0, r * mu_norm / np.where(norm > 0, norm, 1.0), 0.0)  # 0 at r = 0, d = 1


def accuracy_equivalent(D: ArrayLike, d: int, mu_norm: float, p: float, phi: float, psi: float) -> np.ndarray:
    """``Phi(||mu|| cosine_equivalent)``: the accuracy's deterministic equivalent (error ``O(1/D)``)."""
    return ndtr(mu_norm * cosine_equivalent(D, d, mu_norm, p, phi, psi))


def accuracy_correction(D: ArrayLike, d: int, mu_norm: float, p: float, phi: float, psi: float) -> np.ndarray:
    """``c2``: the delta method's second-order term, ``O(D^-2)`` (``O(1/D)`` while ``(d-1)/(f D) >~ r^2 ||mu||^2``).

    ``c2 = h_b (E b - b0) + (h_aa Var a + h_bb Var b)/2`` at ``(a0, b0) = (r ||mu||, (d-1)/(f D))``, with
    ``E b - b0 = (d - 1)(E[1/K] - 1/(f D)) ~ (d - 1)(1 - f)/(f D)^2``, ``Var a = (1 + 4 p'(1 - p') ||mu||^2)/(f D)``
    and ``Var b = 2 (d - 1)/(f D)^2`` (``a`` and ``b`` are independent given ``K`` and ``E[a | K] = a0``, so no
    cross term). ``E accuracy = accuracy_equivalent + c2 + o(c2)``; the asymptotic laws allow ``2 |c2|``.
    """
    h_b, h_aa, h_bb = _derivatives()
    q, r, K, b = _setting(D, d, mu_norm, p, phi, psi)
    a = r * mu_norm
    f = kept_fraction(p, phi, psi)
    var_a = (1.0 + 4.0 * q * (1.0 - q) * mu_norm**2) / K
    var_b = 2.0 * (d - 1) / K**2
    shift_b = (d - 1) * (1.0 - f) / K**2
    if d == 1:
        return 0.5 * h_aa(a, b, mu_norm) * var_a
    return h_b(a, b, mu_norm) * shift_b + 0.5 * h_aa(a, b, mu_norm) * var_a + 0.5 * h_bb(a, b, mu_norm) * var_b


def accuracy_limit(mu_norm: float, p: float, phi: float, psi: float) -> float:
    """``D -> oo``: ``Phi(||mu||)`` below the breakdown point, ``1 - Phi(||mu||)`` above, 1/2 at it."""
    r = 1.0 - 2.0 * pruned_noise_rate(p, phi, psi)
    return float(ndtr(np.sign(r) * mu_norm))


def predict(D: ArrayLike, *, d: int, mu_norm: float, p: float, phi: float, psi: float) -> dict[str, np.ndarray]:
    """Every metric's curve at data sizes ``D`` (``n N`` at generation ``n``); :data:`KINDS` says which is exact."""
    D = np.asarray(D, np.float64)
    return {
        "kept_fraction": np.full(D.shape, kept_fraction(p, phi, psi)),
        "noise_rate": expected_noise_rate(D, p, phi, psi),
        "alignment": expected_alignment(D, p, phi, psi),
        "cosine": cosine_equivalent(D, d, mu_norm, p, phi, psi),
        "accuracy": accuracy_equivalent(D, d, mu_norm, p, phi, psi),
    }
