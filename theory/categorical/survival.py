r"""Survival, fixation and absorption of categories, exactly, from the two-type Wright-Fisher chain.

One category ``j`` against all others: its count :math:`c_n` in generation ``n`` (``n`` counts fits;
generation 1 is the fit on ``M`` real samples, so :math:`c_1 \sim \operatorname{Bin}(M, p_{0,j})`)
is a Markov chain on :math:`0..M` (derived here from the multinomial's marginals):

* replace: :math:`c_{n+1} \mid c_n \sim \operatorname{Bin}(M, c_n/M)`;
* mix: :math:`c_{n+1} \mid c_n \sim \operatorname{Bin}(k, p_{0,j}) + \operatorname{Bin}(M - k, c_n/M)`;
* augment: with the kept real count :math:`r \sim \operatorname{Bin}(k, p_{0,j})` fixed,
  :math:`c_1 = r + \operatorname{Bin}(M-k, p_{0,j})` and :math:`c_{n+1} = r + \operatorname{Bin}(M-k, c_n/M)`
  (a chain on :math:`(r, c)`);
* accumulate: the pooled counts never decrease and the synthetic batches are drawn from the pooled
  fit, whose support is generation 1's, so a category is alive at ``n`` iff it was seen in generation 1
  (:math:`1 - (1 - p_{0,j})^M`) and fixed iff all of generation 1 was in it (:math:`p_{0,j}^M`).

The :math:`(M+1) \times (M+1)` binomial transition matrix is built from log-gamma, vectorised (fine up to
``M`` of a few thousand). Replace has one matrix for every category, so expectations of
:math:`f(c_n)` over many categories run backward (:math:`P^{n-1} f`, one matrix-vector product per
generation) and are cheap for ``K = 10^4``; the other regimes group categories with equal
:math:`p_{0,j}`. Since the events :math:`\{c_{n,j} = M\}` are disjoint across ``j``,
:math:`P(\text{absorbed at } n) = \sum_j P(c_{n,j} = M)` exactly, and so is the mean absorption time.

Published results, with indices mapped to ours:

* fixation: :math:`P(c_n = M) \to p_{0,j}` under replace (Shumailov et al. 2024, Nature, the discrete
  theorem; Seddik et al. 2024, Prop. 1): :math:`c_n/M` is a martingale absorbed in 0 or 1;
* Suresh, Thangaraj & Khandavally 2024 (*Rate of Model Collapse in Recursive Training*): Thm 2, the
  Poisson model, :math:`P(\text{alive at } n) = 1 - \exp(-M p_{0,j} g_n)`, :math:`g_1 = 1`,
  :math:`g_{n+1} = 1 - e^{-g_n}`, used here as the large-``M`` approximation (:func:`suresh_survival`);
  Thm 1 (Bernoulli, i.e. this chain) bounds it between :math:`1 - e^{-Mp g_n}` and
  :math:`1 - \max(1 - 3Mp^2 - 3np, 0)e^{-Mpg_n}` (:func:`suresh_bernoulli_bounds`); their iteration
  ``k`` is our generation ``n`` (their :math:`P_1` is the first fit);
* Seddik et al. 2024, Thm 1.2: :math:`1 - M G_0 (1 - 1/M)^n \le P(\text{absorbed by } n) \le
  1 - G_0(1-1/M)^n/(1 - 1/\tilde s)`, :math:`\tilde s` the support size; Thm 1.3:
  :math:`1 + G_0(M-1)/(1 - 1/\tilde s) \le E T \le 1 + G_0 M(M-1)` (their ``m`` is our ``n``, their
  ``n`` our ``M``);
* the diffusion approximation :math:`E T \approx -2M\sum_j (1 - p_{0,j})\ln(1 - p_{0,j})`
  (Kimura's; approximate, :func:`diffusion_absorption_time`).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from .distributions import _check_distribution
from .gini import _check_M, real_count

__all__ = [
    "COUNT_REGIMES",
    "absorbed_skewness",
    "absorption_probability",
    "bernoulli_skewness",
    "count_distribution",
    "diffusion_absorption_time",
    "expected_absorption_time",
    "expected_support",
    "fixation_probability_at",
    "fixed_on_mode_skewness",
    "seddik_absorption_bounds",
    "seddik_absorption_time_bounds",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_survival",
    "survival_probability",
    "transition_matrix",
]

COUNT_REGIMES = ("replace", "mix", "augment")


def _gens(generations: ArrayLike, minimum: int = 1) -> np.ndarray:
    g = np.atleast_1d(np.asarray(generations))
    if g.ndim != 1 or np.any(g < minimum) or np.any(g != np.round(g)):
        raise ValueError(f"generations must be whole numbers >= {minimum}")
    return g.astype(np.int64)


def _binom_rows(size: int, probs: ArrayLike) -> np.ndarray:
    """``out[i, s] = P(Bin(size, probs[i]) = s)``, from log-gamma (much faster than ``scipy.stats`` on big tables)."""
    pr = np.asarray(probs, dtype=np.float64).reshape(-1, 1)
    s = np.arange(size + 1, dtype=np.float64)[None, :]
    log_choose = special.gammaln(size + 1.0) - special.gammaln(s + 1.0) - special.gammaln(size - s + 1.0)
    with np.errstate(divide="ignore"):
        return np.exp(log_choose + special.xlogy(s, pr) + special.xlog1py(size - s, -pr))


@functools.lru_cache(maxsize=4)
def _replace_matrix(M: int) -> np.ndarray:
    P = _binom_rows(M, np.arange(M + 1) / M)
    P.flags.writeable = False
    return P


def transition_matrix(
    M: int, regime: str = "replace", p0_j: float | None = None, real_fraction: float | None = None
) -> np.ndarray:
    r"""``P[c, c'] = P(c_{n+1} = c' | c_n = c)`` for one category's count (replace or mix).

    Replace: :math:`\operatorname{Bin}(M, c/M)`; mix: the convolution of
    :math:`\operatorname{Bin}(k, p_{0,j})` with :math:`\operatorname{Bin}(M-k, c/M)`.
    """
    M = _check_M(M)
    if regime not in ("replace", "mix"):
        raise ValueError(f"transition_matrix covers replace and mix, not {regime!r}")
    k = real_count(real_fraction, M, regime)
    if k == 0:
        return np.array(_replace_matrix(M))
    Q = _binom_rows(M - k, np.arange(M + 1) / M)  # (M+1, m+1)
    return _convolve_rows(Q, _binom_rows(k, [float(p0_j)]))


def _convolve_rows(Y: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Row-wise full convolution of ``Y`` (rows, m+1) with ``A`` (rows or 1, k+1), exactly (no FFT)."""
    k = A.shape[1] - 1
    out = np.zeros((Y.shape[0], Y.shape[1] + k))
    for a in range(k + 1):
        out[:, a : a + Y.shape[1]] += A[:, a : a + 1] * Y
    return out


def _forward(values: np.ndarray, M: int, gens: np.ndarray, regime: str, k: int, F: np.ndarray) -> np.ndarray:
    """``E F[c_n, :]`` for categories of initial probabilities ``values``, by iterating the count laws forward.

    Batched over the values: every regime's step is the shared matrix ``Bin(M - k, c/M)`` followed by a
    per-category shift (augment: the kept count ``r``) or convolution (mix: ``Bin(k, p0_j)``). Returns
    ``(len(values), len(gens), F.shape[1])``. Cost per generation: ``len(values) * M * (M - k)`` (augment:
    times ``k + 1``).
    """
    m = M - k
    Q = _replace_matrix(M) if k == 0 else _binom_rows(m, np.arange(M + 1) / M)
    out = np.empty((values.size, gens.size, F.shape[1]))
    first = _binom_rows(m, values)  # generation 1: all M samples real; its m non-kept ones
    A = _binom_rows(k, values)  # the k real samples' count law
    if regime == "augment":
        # state (value, r, c): the kept count r never changes
        d = np.zeros((values.size, k + 1, M + 1))
        for r in range(k + 1):
            d[:, r, r : r + m + 1] = A[:, r : r + 1] * first
    else:
        d = _convolve_rows(first, A)
    for n in range(1, int(gens.max()) + 1):
        if n > 1:
            if regime == "augment":
                Y = d @ Q  # (values, k+1, m+1)
                d = np.zeros_like(d)
                for r in range(k + 1):
                    d[:, r, r : r + m + 1] = Y[:, r]
            else:
                d = _convolve_rows(d @ Q, A)
        marginal = d.sum(axis=1) if regime == "augment" else d
        out[:, gens == n] = (marginal @ F)[:, None, :]
    return out


def count_distribution(
    p0_j: float, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r"""Exact distribution of one category's count :math:`c_n` at each requested generation.

    Args:
        p0_j: the category's initial probability.
        M: samples per generation.
        generations: whole numbers >= 1.
        regime: ``"replace"``, ``"mix"`` or ``"augment"``.
        real_fraction: ``k/M`` for mix and augment.

    Returns:
        array ``(len(generations), M + 1)``, row ``t`` the law of :math:`c_{n_t}`.
    """
    M = _check_M(M)
    if regime not in COUNT_REGIMES:
        raise ValueError(f"regime must be one of {COUNT_REGIMES}, got {regime!r}")
    if not 0 <= p0_j <= 1:
        raise ValueError(f"p0_j must be in [0, 1], got {p0_j}")
    k = real_count(real_fraction, M, regime)
    return _forward(np.array([float(p0_j)]), M, _gens(generations), regime, k, np.eye(M + 1))[0]


def _expect(
    p: np.ndarray, M: int, gens: np.ndarray, F: np.ndarray, regime: str, real_fraction: float | None
) -> np.ndarray:
    """``E F[c_n, :]`` for categories of initial probabilities ``p`` (1-D): ``(len(p), len(gens), F.shape[1])``.

    Replace runs backward (:math:`P^{n-1} F`, shared by every category: one product per generation);
    mix and augment forward (:func:`_forward`).
    """
    F = np.asarray(F, dtype=np.float64).reshape(M + 1, -1)
    if regime != "replace":
        return _forward(p, M, gens, regime, real_count(real_fraction, M, regime), F)
    P = _replace_matrix(M)
    V = np.empty((M + 1, gens.size, F.shape[1]))
    v = F
    for n in range(1, int(gens.max()) + 1):
        if n > 1:
            v = P @ v
        V[:, gens == n] = v[:, None, :]
    V = V.reshape(M + 1, -1)
    out = np.empty((p.size, gens.size * F.shape[1]))
    for start in range(0, p.size, 1024):  # chunks keep the binomial table small for large K and M
        out[start : start + 1024] = _binom_rows(M, p[start : start + 1024]) @ V
    return out.reshape(p.size, gens.size, F.shape[1])


def _by_value(p0: np.ndarray):
    values, inverse = np.unique(p0, return_inverse=True)
    return values, inverse


def survival_probability(
    p0_j: ArrayLike, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r""":math:`P(c_n > 0)` for each category probability in ``p0_j`` (scalar or 1-D) and generation.

    Regimes: replace, mix, augment (exact chains) and accumulate (:math:`1 - (1-p_{0,j})^M` at every
    generation). Returns ``p0_j.shape + (len(generations),)``.
    """
    return _event(p0_j, M, generations, regime, real_fraction, "alive")


def fixation_probability_at(
    p0_j: ArrayLike, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r""":math:`P(c_n = M)`: the category holds all of generation ``n``'s samples (tends to :math:`p_{0,j}`
    under replace; Shumailov et al. 2024; Seddik et al. 2024, Prop. 1). Shaped as :func:`survival_probability`."""
    return _event(p0_j, M, generations, regime, real_fraction, "fixed")


def _event(p0_j, M, generations, regime, real_fraction, event: str) -> np.ndarray:
    M = _check_M(M)
    p = np.asarray(p0_j, dtype=np.float64)
    gens = _gens(generations)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p0_j must be in [0, 1]")
    flat = p.reshape(-1)
    if regime == "accumulate":
        value = 1 - (1 - flat) ** M if event == "alive" else flat**M
        return np.repeat(value[:, None], gens.size, axis=1).reshape(p.shape + (gens.size,))
    if regime not in COUNT_REGIMES:
        raise ValueError(f"regime must be one of {COUNT_REGIMES + ('accumulate',)}, got {regime!r}")
    real_count(real_fraction, M, regime)
    values, inverse = _by_value(flat)
    f = np.zeros(M + 1)
    if event == "alive":
        f[1:] = 1.0
    else:
        f[M] = 1.0
    out = _expect(values, M, gens, f, regime, real_fraction)[inverse, :, 0]
    return out.reshape(p.shape + (gens.size,))


def expected_support(
    p0: ArrayLike, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r""":math:`E\,\#\{j : p_{n,j} > 0\} = \sum_j P(c_{n,j} > 0)`, exactly, per generation (categories with
    equal :math:`p_0` computed once, so uniform ``K = 10^4`` costs one chain)."""
    p0 = _check_distribution(p0, "p0")
    values, counts = np.unique(p0[p0 > 0], return_counts=True)
    return counts @ survival_probability(values, M, generations, regime, real_fraction)


def absorption_probability(
    p0: ArrayLike, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r""":math:`P(\max_j p_{n,j} = 1) = \sum_j P(c_{n,j} = M)` (the events are disjoint), per generation."""
    p0 = _check_distribution(p0, "p0")
    values, counts = np.unique(p0[p0 > 0], return_counts=True)
    return counts @ fixation_probability_at(values, M, generations, regime, real_fraction)


def expected_absorption_time(p0: ArrayLike, M: int, tol: float = 1e-10, max_generations: int = 1_000_000) -> float:
    r"""Exact mean number of fits until one category holds everything, under replace.

    :math:`E T = \sum_{n \ge 0} P(T > n)` with :math:`P(T > n) = 1 - \sum_j P(c_{n,j} = M)` (absorption
    is absorbing; generation 0 is :math:`p_0`, not absorbed unless it is a point mass). The sum stops at
    the first ``n`` where the neglected remainder is provably below ``tol``: a fit that is not a point
    mass has :math:`G \ge g = 2(M-1)/M^2`, so :math:`P(T > n) \le E G_n / g = G_0(1-1/M)^n/g` and the
    remainder is at most :math:`M G_0 (1 - 1/M)^n / g` (Markov's inequality with Seddik et al. 2024,
    Thm 1; derived here).
    """
    p0 = _check_distribution(p0, "p0")
    M = _check_M(M)
    if p0.max() >= 1.0:
        return 0.0
    if M == 1:
        return 1.0
    G0 = 1.0 - float(np.sum(p0**2))
    g_min = 2.0 * (M - 1) / M**2
    values, counts = np.unique(p0[p0 > 0], return_counts=True)
    P = _replace_matrix(M)
    D = _binom_rows(M, values)  # generation 1's count law per value
    total = 1.0  # P(T > 0) = 1
    for n in range(1, int(max_generations) + 1):
        total += 1.0 - float(counts @ D[:, M])
        if M * G0 * (1.0 - 1.0 / M) ** n / g_min < tol:
            return total
        D = D @ P
    raise RuntimeError(f"the remainder bound is still above {tol} after {max_generations} generations")


def suresh_g(generations: ArrayLike) -> np.ndarray:
    r""":math:`g_n`: :math:`g_1 = 1`, :math:`g_{n+1} = 1 - e^{-g_n}` (Suresh et al. 2024; :math:`g_n \approx 2/n`)."""
    gens = _gens(generations)
    g = np.empty(int(gens.max()) + 1)
    g[1] = 1.0
    for i in range(2, g.size):
        g[i] = -np.expm1(-g[i - 1])
    return g[gens]


def suresh_survival(p0_j: ArrayLike, M: int, generations: ArrayLike) -> np.ndarray:
    r"""Suresh et al. 2024, Thm 2 (Poisson model): :math:`1 - \exp(-M p_{0,j} g_n)`; here the large-``M``
    approximation of :func:`survival_probability` under replace (approximate). Shape ``p0_j.shape + (len(gens),)``."""
    p = np.asarray(p0_j, dtype=np.float64)
    return -np.expm1(-M * p[..., None] * suresh_g(generations))


def suresh_bernoulli_bounds(p0_j: ArrayLike, M: int, generations: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Suresh et al. 2024, Thm 1 (Bernoulli model, this chain): bounds on :math:`P(c_n > 0)` under replace.

    Lower :math:`1 - e^{-Mpg_n}`, upper :math:`1 - \max(1 - 3Mp^2 - 3np, 0)\,e^{-Mpg_n}`.
    """
    p = np.asarray(p0_j, dtype=np.float64)[..., None]
    gens = _gens(generations)
    e = np.exp(-M * p * suresh_g(gens))
    return 1 - e, 1 - np.maximum(1 - 3 * M * p**2 - 3 * gens * p, 0.0) * e


def seddik_absorption_bounds(p0: ArrayLike, M: int, generations: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Seddik et al. 2024, Thm 1.2: bounds on :math:`P(\text{absorbed by } n)` under replace.

    :math:`1 - M G_0 (1 - 1/M)^n \le \rho_n \le 1 - G_0 (1 - 1/M)^n/(1 - 1/\tilde s)`, :math:`\tilde s`
    the support of :math:`p_0` (both follow from :math:`E G_n = G_0(1-1/M)^n` and the range of ``G``
    on non-absorbed fits).
    """
    p0 = _check_distribution(p0, "p0")
    gens = _gens(generations)
    G0 = 1.0 - float(np.sum(p0**2))
    s = int(np.count_nonzero(p0))
    decay = (1.0 - 1.0 / M) ** gens
    return 1 - M * G0 * decay, 1 - G0 * decay / (1 - 1 / s)


def seddik_absorption_time_bounds(p0: ArrayLike, M: int) -> tuple[float, float]:
    r"""Seddik et al. 2024, Thm 1.3: :math:`1 + G_0(M - 1)/(1 - 1/\tilde s) \le E T \le 1 + G_0 M(M-1)`."""
    p0 = _check_distribution(p0, "p0")
    G0 = 1.0 - float(np.sum(p0**2))
    s = int(np.count_nonzero(p0))
    return 1 + G0 * (M - 1) / (1 - 1 / s), 1 + G0 * M * (M - 1)


def diffusion_absorption_time(p0: ArrayLike, M: int) -> float:
    r"""Approximate mean time until one category remains: :math:`-2M\sum_j (1 - p_{0,j})\ln(1 - p_{0,j})`.

    Kimura's diffusion approximation of the Wright-Fisher chain (haploid population ``M``), in
    generations; approximate, with an error that shrinks relative to the value as ``M`` grows.
    """
    p0 = _check_distribution(p0, "p0")
    q = 1.0 - p0
    return float(-2.0 * M * np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)))


def bernoulli_skewness(q: ArrayLike) -> np.ndarray:
    r"""Skewness of a Bernoulli(q) metric (``fixed_on_mode``, ``absorbed``): :math:`(1 - 2q)/\sqrt{q(1-q)}`
    (infinite at ``q`` = 0 or 1)."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((q > 0) & (q < 1), (1 - 2 * q) / np.sqrt(q * (1 - q)), np.inf)


def fixed_on_mode_skewness(
    p0: ArrayLike, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r"""Exact skewness of ``fixed_on_mode`` :math:`= 1\{p_{n,0} = 1\}`: :func:`bernoulli_skewness` of
    :func:`fixation_probability_at` for category 0, per generation."""
    p0 = _check_distribution(p0, "p0")
    return bernoulli_skewness(fixation_probability_at(p0[0], M, generations, regime, real_fraction))


def absorbed_skewness(
    p0: ArrayLike, M: int, generations: ArrayLike, regime: str = "replace", real_fraction: float | None = None
) -> np.ndarray:
    r"""Exact skewness of ``absorbed`` :math:`= 1\{\max_j p_{n,j} = 1\}`: :func:`bernoulli_skewness` of
    :func:`absorption_probability`, per generation (temperature 1, no decoding)."""
    return bernoulli_skewness(absorption_probability(p0, M, generations, regime, real_fraction))
