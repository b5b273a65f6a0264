"""Tails of the Monte Carlo estimators: where a z-score on the mean means something.

A check compares the mean of ``N`` seeds with a law through ``z = (mean - law) / sem``
and reads a tail probability off the normal distribution. By the Edgeworth expansion
of the Studentized mean (Hall 1987; Hall, *The Bootstrap and Edgeworth Expansion*,
1992, Sec. 2.6), for a metric of skewness ``gamma``::

    P(z > x) = Phi(-x) + gamma / (6 sqrt(N)) (2 x^2 + 1) phi(x) + O(1/N),

(the lower tail with the opposite sign), so at the check's critical value ``z*`` the
one-sided false-alarm rate is off by the relative amount :func:`edgeworth_relative_error`.
A check is honest when that relative error is at most 1 (each tail at most about twice
its nominal rate, which the calibration of :mod:`experiments.calibrate` measures);
otherwise the package refuses the z-score and says how many seeds would make it honest
(:func:`seeds_for_honest_z`). Where the variance is infinite, no seed count does.

The skewness that grows without bound is the multiplicative one of the Gaussian refit
under replace: ``sigma_n^2 / sigma^2 = prod_{i<=n} chi2_{M-1,i} / c`` (``c = M - 1``
unbiased, ``M`` MLE), a product of ``n`` independent scaled chi-squares, whose raw
moments are exact (:func:`chi2_product_moment`), hence so is its skewness
(:func:`chi2_product_skewness`): 0.65 at ``n = 1`` and 4,700 at ``n = 60`` for
``M = 20``. The moment formula ``E (chi2_nu)^k = 2^k Gamma(nu/2 + k) / Gamma(nu/2)`` is
checked symbolically against ``sympy.stats`` in ``tests/theory/test_theory_tails.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln

__all__ = [
    "chi2_product_moment",
    "chi2_product_skewness",
    "edgeworth_relative_error",
    "seeds_for_honest_z",
    "HONEST_RELATIVE_ERROR",
]

HONEST_RELATIVE_ERROR = 1.0


def chi2_product_moment(k: float, n, dof: int, scale: float) -> np.ndarray:
    """``E[(prod_{i<=n} chi2_dof,i / scale)^k]`` for independent chi-squares (``k > -dof/2``)."""
    n = np.asarray(n, np.float64)
    if dof < 1 or scale <= 0 or k <= -dof / 2:
        raise ValueError(f"need dof >= 1, scale > 0 and k > -dof/2, got dof={dof}, scale={scale}, k={k}")
    log_one = k * np.log(2.0 / scale) + gammaln(dof / 2.0 + k) - gammaln(dof / 2.0)
    return np.exp(n * log_one)


def chi2_product_skewness(n, dof: int, scale: float, power: float = 1.0) -> np.ndarray:
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


def edgeworth_relative_error(skewness, seeds: int, z: float) -> np.ndarray:
    """First-order relative error of the tail ``P(z > z*)`` of a Studentized mean of ``seeds`` draws."""
    if not seeds >= 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    factor = (2.0 * z * z + 1.0) * sps.norm.pdf(z) / (6.0 * sps.norm.sf(z))
    return np.abs(np.asarray(skewness, np.float64)) / np.sqrt(seeds) * factor


def seeds_for_honest_z(skewness, z: float, tolerance: float = HONEST_RELATIVE_ERROR) -> np.ndarray:
    """The fewest seeds at which :func:`edgeworth_relative_error` is at most ``tolerance`` (inf if never)."""
    per_seed = edgeworth_relative_error(skewness, 1, z)
    with np.errstate(over="ignore"):
        return np.ceil((per_seed / tolerance) ** 2)
