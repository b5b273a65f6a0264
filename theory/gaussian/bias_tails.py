r"""Skewness of the tempered replace loop's metrics: the tail guard of the z-scores (derived here).

Sampling at a temperature ``tau`` (:mod:`.bias`) changes the law of ``||mu_n - mu||^2`` and
of the 1-D ``W2^2`` under replace beyond a scale; the verdicts refuse a z-score whose tail a
skewed metric makes dishonest, so these give the exact skewness at any ``tau`` (``tau = 1``
is :mod:`model_collapse.theory.tails`' untempered result, checked in the tests).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .bias import _check_tau

__all__ = ["tempered_mean_sq_error_skewness", "tempered_w2_skewness"]


def tempered_mean_sq_error_skewness(
    n: ArrayLike, *, dim: int, M: int, estimator: str, temperature: float
) -> np.ndarray:
    r"""Exact skewness of ``||mu_n - mu||^2`` under replace at temperature ``tau`` (derived here).

    As in :func:`model_collapse.theory.tails.gaussian_mean_sq_error_skewness`:
    :math:`\sqrt M(\mu_n - \mu)/\sigma = \sum_{i \le n} \tau^{(i-1)/2} K_1\cdots K_{i-1} z_i`
    (generation 1 untempered, every later step's sample scale :math:`\sqrt\tau`), whose
    reversal is :math:`V_n = z_n + \sqrt\tau K_n V_{n-1}`: the untempered recursion with
    :math:`q_n = \chi^2_{M-1}/c` replaced by :math:`\tau q_n`, i.e. ``c`` by :math:`c/\tau`.
    """
    from .. import tails

    tau = _check_tau(temperature)
    gens = np.asarray(n, np.int64)
    c = (M - 1 if estimator == "unbiased" else M) / tau
    A = np.asarray(tails._numeric_recursion("gaussian")(float(dim), float(M - 1), float(c)), np.float64)
    return tails._skewness_path(A, int(gens.max(initial=1)))[gens - 1]


def tempered_w2_skewness(n: ArrayLike, *, M: int, estimator: str, temperature: float) -> np.ndarray:
    r"""Exact skewness of ``W2^2`` (1-D) under replace at temperature ``tau`` (derived here).

    The joint moments :math:`E m^a s^b` of :math:`m = \mu_n - \mu`, :math:`s = \sigma_n`
    (:math:`\sigma = 1`) close in each total degree, as in
    :func:`model_collapse.theory.tails.gaussian_w2_skewness`; from generation 2 on the step
    is :math:`m' = m + \sqrt\tau s Z/\sqrt M`, :math:`s' = \sqrt\tau s R`, so
    :math:`E m'^a s'^b = \tau^{b/2} E R^b \sum_i \binom ai (\tau/M)^{i/2} E Z^i E m^{a-i} s^{b+i}`.
    """
    from .. import tails

    return tails.gaussian_w2_skewness(n, M=M, estimator=estimator, temperature=_check_tau(temperature))
