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
    from math import comb

    from scipy.special import gammaln

    tau = _check_tau(temperature)
    gens = np.asarray(n, np.int64)
    c = M - 1 if estimator == "unbiased" else M
    deg = 6
    EZ = [1.0, 0.0, 1.0, 0.0, 3.0, 0.0, 15.0]
    ER = np.exp([b / 2 * np.log(2.0 / c) + gammaln((M - 1 + b) / 2) - gammaln((M - 1) / 2) for b in range(deg + 1)])
    w = {(2, 0): 1.0, (0, 2): 1.0, (0, 1): -2.0, (0, 0): 1.0}  # W2^2 = m^2 + s^2 - 2 s + 1
    powers = [{(0, 0): 1.0}]
    for _ in range(3):
        nxt: dict[tuple[int, int], float] = {}
        for (a1, b1), c1 in powers[-1].items():
            for (a2, b2), c2 in w.items():
                nxt[a1 + a2, b1 + b2] = nxt.get((a1 + a2, b1 + b2), 0.0) + c1 * c2
        powers.append(nxt)
    mom = np.zeros((deg + 1, deg + 1))
    mom[0, :] = 1.0
    out = np.empty(gens.shape)
    for g in range(1, int(gens.max(initial=0)) + 1):
        t = tau if g > 1 else 1.0
        new = np.zeros_like(mom)
        for a in range(deg + 1):
            for b in range(deg + 1 - a):
                new[a, b] = (
                    t ** (b / 2)
                    * ER[b]
                    * sum(comb(a, i) * (t / M) ** (i / 2) * EZ[i] * mom[a - i, b + i] for i in range(a + 1) if EZ[i])
                )
        mom = new
        m1, m2, m3 = (sum(coef * mom[a, b] for (a, b), coef in powers[k].items()) for k in (1, 2, 3))
        out[gens == g] = (m3 - 3 * m1 * m2 + 2 * m1**3) / (m2 - m1**2) ** 1.5
    return out
