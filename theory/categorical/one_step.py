r"""One decoded step at finite ``M``, exactly, by enumerating the multinomial's outcomes (derived here).

Generation 1 is the fit :math:`p_1 = c/M` on ``M`` real samples, :math:`c \sim \mathrm{Mult}(M, p_0)`;
generation 2 is fit on ``M`` samples from :math:`\operatorname{decode}(p_1)`, and since counts over
``M`` are unbiased, :math:`E[p_2 \mid p_1] = \operatorname{decode}(p_1)` exactly, so

.. math:: E\,p_2 = \sum_{c} \binom{M}{c} p_0^c \, \operatorname{decode}(c/M),

a finite sum over the :math:`\binom{M+K-1}{K-1}` compositions ``c`` of ``M`` into ``K`` parts. It is not
:math:`\operatorname{decode}(p_0)` (the infinite-sample map): for a nonlinear decoder the two differ by
a Jensen gap of order :math:`1/M`, which the infinite-sample limit drops.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .distributions import _check_distribution, decode

__all__ = ["MAX_OUTCOMES", "compositions", "expected_decoded_fit"]

MAX_OUTCOMES = 2_000_000


def compositions(M: int, K: int) -> np.ndarray:
    """Every ``c`` in :math:`\\mathbb{N}^K` with :math:`\\sum c = M`, as rows (stars and bars)."""
    count = math.comb(M + K - 1, K - 1)
    if count > MAX_OUTCOMES:
        raise ValueError(f"{count} outcomes for M={M}, K={K}: more than {MAX_OUTCOMES} to enumerate")
    bars = np.array(list(itertools.combinations(range(M + K - 1), K - 1)), dtype=np.int64).reshape(count, K - 1)
    edges = np.concatenate([np.full((count, 1), -1), bars, np.full((count, 1), M + K - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def expected_decoded_fit(p0: ArrayLike, M: int, **decoder: float | int | bool | None) -> np.ndarray:
    r""":math:`E\,p_2 = E\,\operatorname{decode}(p_1)` exactly (replace; generation 1 real, undecoded).

    Args:
        p0: the truth (1-D, summing to 1).
        M: samples per generation (the enumeration has :math:`\binom{M+K-1}{K-1}` terms).
        **decoder: the keyword arguments of :func:`.decode` (temperature, top_k, top_p, greedy).

    Returns:
        the ``K`` expected probabilities of generation 2's fit.
    """
    p0 = _check_distribution(p0, "p0")
    if int(M) != M or M < 1:
        raise ValueError(f"M must be a whole number >= 1, got {M}")
    M = int(M)
    c = compositions(M, p0.shape[0])
    weights = stats.multinomial.pmf(c, M, p0)
    return weights @ decode(c / M, **decoder)
