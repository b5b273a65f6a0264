"""Tails of the Monte Carlo estimators: where a z-score on the mean means something.

A check compares the mean of ``N`` seeds with a law through the Studentized mean
``z = (mean - law) / sem`` and reads a tail probability off the normal distribution.
By the one-term Edgeworth expansion of the Studentized mean (Hall, *The Bootstrap and
Edgeworth Expansion*, 1992, Sec. 2.6, Example 2.1; Hall 1987, Ann. Probab. 15), for a
metric of skewness ``gamma``::

    P(z <= x) = Phi(x) + gamma / (6 sqrt(N)) (2 x^2 + 1) phi(x) + O(1/N),

so ``P(z < -x) = Phi(-x) + e`` and ``P(z > x) = Phi(-x) - e`` with
``e = gamma (2 x^2 + 1) phi(x) / (6 sqrt(N))``. The Studentized mean is skewed *against*
the data: for positively skewed data the **lower** tail inflates and the upper one
thins (chi-square(1) data, ``N = 20``: ``P(z > 2) = 0.005`` and ``P(z < -2) = 0.112``
against 0.023 each; ``tests/theory/test_theory_tails.py`` measures it). The standardised
mean (known variance) is skewed the other way, ``- gamma (x^2 - 1) phi(x)/(6 sqrt(N))``;
Studentizing reverses the sign because a large positive outlier inflates the standard
error more than the mean.

At the check's critical value ``z*`` the false-alarm rate of the tail a check rejects
in is off by the relative amount :func:`edgeworth_tail_error`, by side:

* ``"upper"`` (an upper-bound check: only a large ``z`` rejects): inflated only when
  ``gamma < 0``; for ``gamma > 0`` the tail is thinner than nominal and the check is
  conservative (error 0, never refused);
* ``"lower"`` (a lower-bound check): inflated when ``gamma > 0``;
* ``"two-sided"`` (an expectation): the worse of the two tails, ``|gamma| ...``. The
  first-order terms of the two tails cancel in the total two-sided rate, but a check
  whose rejections all fall on one side is not the test it claims to be, so the rule
  is per tail (:func:`edgeworth_relative_error`).

A check is honest when that relative error is at most 1 (each tail at most about twice
its nominal rate, which the calibration of :mod:`experiments.calibrate` measures);
otherwise the package refuses the z-score and says how many seeds would make it honest
(:func:`seeds_for_honest_z`). Where the variance or skewness is infinite, no seed count
does, on any side (the expansion does not exist).

The skewness that grows without bound is the multiplicative one of the Gaussian refit
under replace: ``sigma_n^2 / sigma^2 = prod_{i<=n} chi2_{M-1,i} / c`` (``c = M - 1``
unbiased, ``M`` MLE), whose skewness is exact (:func:`chi2_product_skewness`): 0.65 at
``n = 1`` and 4,700 at ``n = 60`` for ``M = 20``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps
from scipy.special import gammaln

__all__ = [
    "HONEST_RELATIVE_ERROR",
    "SIDES",
    "chi2_product_moment",
    "chi2_product_skewness",
    "edgeworth_relative_error",
    "edgeworth_tail_error",
    "edgeworth_tail_probability",
    "seeds_for_honest_z",
]

HONEST_RELATIVE_ERROR = 1.0
SIDES = ("two-sided", "upper", "lower")


def chi2_product_moment(k: float, n: ArrayLike, dof: int, scale: float) -> np.ndarray:
    """``E[(prod_{i<=n} chi2_dof,i / scale)^k]`` for independent chi-squares (``k > -dof/2``)."""
    n = np.asarray(n, np.float64)
    if dof < 1 or scale <= 0 or k <= -dof / 2:
        raise ValueError(f"need dof >= 1, scale > 0 and k > -dof/2, got dof={dof}, scale={scale}, k={k}")
    log_one = k * np.log(2.0 / scale) + gammaln(dof / 2.0 + k) - gammaln(dof / 2.0)
    return np.exp(n * log_one)


def chi2_product_skewness(n: ArrayLike, dof: int, scale: float, power: float = 1.0) -> np.ndarray:
    """Skewness of ``(prod_{i<=n} chi2_dof,i / scale)^power``, exactly, from its raw moments.

    Infinite once the third moment overflows float64 (the skewness grows like
    ``exp(3 n Var log chi2 / 2)``).
    """
    n = np.asarray(n, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        m1, m2, m3 = (chi2_product_moment(power * j, n, dof, scale) for j in (1, 2, 3))
        # Standardise by m1 first so that large n stays finite as long as possible.
        r2, r3 = m2 / m1**2, m3 / m1**3
        var = r2 - 1.0
        skew = (r3 - 3.0 * r2 + 2.0) / var**1.5
    return np.where(np.isfinite(skew), skew, np.inf)


# --------------------------------------------------------------------------------------
# The Edgeworth expansion of the Studentized mean


def _edgeworth_term(skewness: ArrayLike, seeds: int, x: float) -> np.ndarray:
    """``e = gamma (2 x^2 + 1) phi(x) / (6 sqrt(N))``: what the lower tail gains and the upper one loses."""
    if not seeds >= 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    return np.asarray(skewness, np.float64) * (2.0 * x * x + 1.0) * sps.norm.pdf(x) / (6.0 * np.sqrt(seeds))


def edgeworth_tail_probability(skewness: ArrayLike, seeds: int, x: float, tail: str) -> np.ndarray:
    """First-order ``P(z > x)`` (``tail="upper"``) or ``P(z < -x)`` (``"lower"``), ``x >= 0``.

    ``z`` is the Studentized mean of ``seeds`` draws of skewness ``skewness`` (may be
    negative where the expansion has left its range).
    """
    if tail not in ("upper", "lower"):
        raise ValueError(f"tail must be 'upper' or 'lower', got {tail!r}")
    e = _edgeworth_term(skewness, seeds, x)
    return sps.norm.sf(x) + (e if tail == "lower" else -e)


def edgeworth_tail_error(skewness: ArrayLike, seeds: int, z: float, side: str = "two-sided") -> np.ndarray:
    """Relative inflation of a z-check's false-alarm rate at critical value ``z`` (0 where deflated).

    ``side``: the tail the check rejects in: ``"upper"`` (large ``z``: an upper-bound
    check), ``"lower"`` (a lower-bound check) or ``"two-sided"`` (the worse tail, each
    carrying half the rate). ``inf`` where the skewness is not finite, on every side.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
    skew = np.asarray(skewness, np.float64)
    rel = _edgeworth_term(np.where(np.isfinite(skew), skew, 0.0), seeds, z) / sps.norm.sf(z)
    if side == "two-sided":
        rel = np.abs(rel)
    elif side == "upper":
        rel = np.maximum(-rel, 0.0)
    else:
        rel = np.maximum(rel, 0.0)
    return np.where(np.isfinite(skew), rel, np.inf)


def edgeworth_relative_error(skewness: ArrayLike, seeds: int, z: float) -> np.ndarray:
    """Relative error of the worse tail of a two-sided z-check (:func:`edgeworth_tail_error`, two-sided)."""
    return edgeworth_tail_error(skewness, seeds, z, "two-sided")


def seeds_for_honest_z(skewness: ArrayLike, z: float, tolerance: float = HONEST_RELATIVE_ERROR,
                       side: str = "two-sided") -> np.ndarray:
    """The fewest seeds (at least 1) at which :func:`edgeworth_tail_error` is at most ``tolerance`` (inf if never)."""
    per_seed = edgeworth_tail_error(skewness, 1, z, side)
    with np.errstate(over="ignore"):
        return np.maximum(np.ceil((per_seed / tolerance) ** 2), 1.0)

