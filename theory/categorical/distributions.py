r"""The categorical model's distributions and decoders, in NumPy (the reference the simulator follows).

Conventions (the simulator follows exactly these):

* categories ``0..K-1``; ``p0`` is ``"uniform"`` (:math:`1/K` each) or ``"zipf"`` with exponent
  :math:`a > 0`, :math:`p_{0,i} \propto (i+1)^{-a}`;
* the *tail set* (:func:`tail_set`): categories ordered by :math:`p_0` ascending, among equal
  :math:`p_0` the higher index first; the longest prefix of that order whose :math:`p_0` mass is
  at most ``mass`` (0.1; with a 1e-12 tolerance for round-off);
* :func:`decode` applies, in order: temperature :math:`\tau` (:math:`p^{1/\tau}` normalised, a zero
  stays zero), top-k (the ``k`` largest, ties to the lower index), top-p with :math:`q \in (0, 1]`
  (sorted by probability descending, ties by lower index; category ``i`` is kept iff the mass
  strictly before it in that order is :math:`< q`, so the first category crossing the threshold is
  kept; zero-probability categories are never kept) and greedy (all mass on the argmax, ties to the
  lowest index; applied last). Real data are never decoded.

Infinite samples (derived here; no paper states these as closed forms): the fit of generation
:math:`n+1` is then exactly :math:`\operatorname{decode}(p_n)`, and with a finite ``M`` it is so in
expectation, :math:`E[p_{n+1} \mid p_n] = \operatorname{decode}(p_n)`, because counts over ``M`` are
unbiased. Iterating: temperature alone gives :math:`p_n \propto p_0^{\tau^{-n}}`
(:func:`temperature_power`: by induction, :math:`(p_0^{\tau^{-n}})^{1/\tau} = p_0^{\tau^{-n-1}}` and the
normalisation cancels), which for :math:`\tau < 1` tends to uniform on the argmax set of :math:`p_0` and
for :math:`\tau > 1` to uniform on its support; top-k is idempotent after one step; top-p strips the
tail to a fixed point in finitely many steps (the support can only shrink, and it stops shrinking
once the last kept category :math:`\ell` of the support :math:`S` satisfies
:math:`p(\ell)/P(S) > 1 - q`); greedy is absorbed in one step (:func:`decode_limit`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "INITS",
    "TAIL_MASS",
    "decode",
    "decode_iterate",
    "decode_limit",
    "initial_distribution",
    "tail_set",
    "temperature_power",
]

INITS = ("uniform", "zipf")
TAIL_MASS = 0.1
_TAIL_TOL = 1e-12


def initial_distribution(K: int, init: str = "uniform", zipf_a: float = 1.1) -> np.ndarray:
    r"""The initial distribution :math:`p_0` over ``K`` categories (float64, sums to 1).

    Args:
        K: number of categories, at least 2.
        init: ``"uniform"`` (:math:`1/K`) or ``"zipf"`` (:math:`p_{0,i} \propto (i+1)^{-a}`).
        zipf_a: the Zipf exponent :math:`a > 0` (ignored for ``"uniform"``).

    Raises:
        ValueError: ``K < 2``, an unknown ``init``, or ``zipf_a <= 0`` with ``"zipf"``.
    """
    if int(K) != K or K < 2:
        raise ValueError(f"K must be a whole number >= 2, got {K}")
    K = int(K)
    if init == "uniform":
        return np.full(K, 1.0 / K)
    if init == "zipf":
        if not zipf_a > 0 or not np.isfinite(zipf_a):
            raise ValueError(f"zipf_a must be > 0, got {zipf_a}")
        w = np.arange(1, K + 1, dtype=np.float64) ** (-float(zipf_a))
        return w / w.sum()
    raise ValueError(f"init must be one of {INITS}, got {init!r}")


def _check_distribution(p: ArrayLike, name: str = "p") -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim < 1 or p.shape[-1] < 1:
        raise ValueError(f"{name} must have a last axis of categories")
    if np.any(~np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and nonnegative")
    if np.any(np.abs(p.sum(axis=-1) - 1.0) > 1e-9):
        raise ValueError(f"{name} must sum to 1 along its last axis (within 1e-9)")
    return p


def tail_set(p0: ArrayLike, mass: float = TAIL_MASS) -> np.ndarray:
    r"""Boolean mask of the tail set of ``p0``: the rarest categories holding at most ``mass``.

    Order the categories by :math:`p_0` ascending, among equal :math:`p_0` the higher index first;
    the tail set is the longest prefix of that order whose :math:`p_0` mass is
    :math:`\le` ``mass`` (+1e-12 for round-off). It may be empty (every category heavier than
    ``mass``). ``tail_mass`` at generation ``n`` is :math:`\sum_{i \in \text{tail}} p_{n,i}`.
    """
    p0 = _check_distribution(p0, "p0")
    if p0.ndim != 1:
        raise ValueError("p0 must be one-dimensional")
    K = p0.size
    order = np.lexsort((-np.arange(K), p0))  # last key primary: p0 ascending, then index descending
    cum = np.cumsum(p0[order])
    count = int(np.searchsorted(cum, mass + _TAIL_TOL, side="right"))
    mask = np.zeros(K, dtype=bool)
    mask[order[:count]] = True
    return mask


def _check_decoder(K: int, temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not (temperature > 0 and np.isfinite(temperature)):
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and (int(top_k) != top_k or not 1 <= top_k <= K):
        raise ValueError(f"top_k must be a whole number in 1..{K}, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")


def _descending_order(q: np.ndarray) -> np.ndarray:
    """Indices sorting the last axis by probability descending, ties to the lower index."""
    return np.argsort(-q, axis=-1, kind="stable")


def decode(
    p: ArrayLike,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
) -> np.ndarray:
    r"""The distribution synthetic samples are drawn from: ``p`` decoded (1-D or batched ``(..., K)``).

    In order: temperature (computed as :math:`(p/\max p)^{1/\tau}` normalised, so it neither
    overflows nor divides by zero; a zero stays zero), top-k, top-p, greedy; each step renormalises.
    Top-p compares float64 cumulative sums with ``top_p`` exactly (no tolerance). With the defaults
    it returns ``p`` unchanged (as a float64 copy).

    Args:
        p: probabilities along the last axis (nonnegative, summing to 1).
        temperature: :math:`\tau > 0`.
        top_k: keep the ``top_k`` most likely categories (1..K), ties to the lower index.
        top_p: nucleus threshold :math:`q \in (0, 1]`: keep category ``i`` iff the mass strictly
            before it (descending order, ties by lower index) is :math:`< q` and :math:`p_i > 0`.
        greedy: put all mass on the most likely category (ties to the lowest index).

    Raises:
        ValueError: bad probabilities or decoder settings.
    """
    q = _check_distribution(p).copy()
    K = q.shape[-1]
    _check_decoder(K, temperature, top_k, top_p)
    if temperature != 1.0:
        top = q.max(axis=-1, keepdims=True)
        with np.errstate(under="ignore"):
            q = np.where(q > 0, (q / top) ** (1.0 / temperature), 0.0)
        q /= q.sum(axis=-1, keepdims=True)
    if top_k is not None and top_k < K:
        order = _descending_order(q)
        keep = np.zeros(q.shape, dtype=bool)
        np.put_along_axis(keep, order[..., : int(top_k)], True, axis=-1)
        q = np.where(keep, q, 0.0)
        q /= q.sum(axis=-1, keepdims=True)
    if top_p is not None:
        order = _descending_order(q)
        sorted_q = np.take_along_axis(q, order, axis=-1)
        before = np.cumsum(sorted_q, axis=-1) - sorted_q
        keep_sorted = (before < top_p) & (sorted_q > 0)
        keep = np.zeros(q.shape, dtype=bool)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        q = np.where(keep, q, 0.0)
        q /= q.sum(axis=-1, keepdims=True)
    if greedy:
        top = np.argmax(q, axis=-1)[..., None]
        q = np.zeros(q.shape)
        np.put_along_axis(q, top, 1.0, axis=-1)
    return q


def temperature_power(p0: ArrayLike, temperature: float, n: int) -> np.ndarray:
    r"""The ``n``-fold temperature map in closed form, :math:`p_0^{\tau^{-n}}` normalised (derived here).

    Computed in logs (:math:`\exp(\tau^{-n}(\log p_0 - \log\max p_0))`), so it is accurate where
    iterating :func:`decode` would underflow; zeros stay zero. This is the infinite-sample generation
    ``n`` under temperature sampling alone, and :math:`E[p_n]` for one step from :math:`p_{n-1}`.
    """
    p0 = _check_distribution(p0, "p0")
    _check_decoder(p0.shape[-1], temperature, None, None)
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n}")
    with np.errstate(divide="ignore", under="ignore"):
        logp = np.log(p0) - np.log(p0.max(axis=-1, keepdims=True))
        w = np.where(p0 > 0, np.exp(logp * float(temperature) ** (-int(n))), 0.0)
    return w / w.sum(axis=-1, keepdims=True)


def decode_iterate(p0: ArrayLike, n: int, **decoder: float | int | bool | None) -> np.ndarray:
    """:func:`decode` applied ``n`` times to ``p0``: generation ``n`` with infinitely many samples per generation."""
    q = _check_distribution(p0, "p0")
    for _ in range(int(n)):
        q = decode(q, **decoder)
    return q


def decode_limit(
    p0: ArrayLike,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    max_steps: int = 10_000,
) -> tuple[np.ndarray, int]:
    r"""The fixed point of iterated decoding with infinite samples, and the steps to reach it.

    Iterates :math:`q_{s+1} = \operatorname{decode}(q_s)`, :math:`q_0 = p_0`, until an iterate is
    fixed: same support as the next, and (with :math:`\tau \ne 1`) equal to it within 4 ulp. ``steps``
    is the first such ``s``: 0 when ``p0`` is already fixed, 1 for top-k and greedy (idempotent after
    one step), finite for top-p (the support shrinks until its last kept category :math:`\ell` has
    :math:`q(\ell) > 1 - q_{\text{top-p}}` after renormalising). The top-p fixed point is the *largest*
    prefix :math:`S^*` of the descending order with :math:`p_0(\ell^*)/P_0(S^*) > 1 - q` (derived here):
    every member :math:`i` of :math:`S^*` has mass before it at most :math:`P_0(S^*) - p_0(\ell^*)
    < q P_0(S^*) \le q P_0(S_t)` for any current support :math:`S_t \supseteq S^*`, so it is kept, and the
    support never shrinks below :math:`S^*` while each step that changes it removes at least one
    category. At :math:`\tau = 1` the returned fixed point is :math:`p_0` restricted to the final support
    and renormalised (exact up to one division). With :math:`\tau \ne 1` the exact iteration
    (:func:`temperature_power`) converges only as :math:`n \to \infty` (to uniform on the argmax set
    for :math:`\tau < 1`, on the support for :math:`\tau > 1`); ``steps`` then counts the float64 steps
    to that limit.

    Returns:
        ``(q, steps)``.

    Raises:
        RuntimeError: no fixed point within ``max_steps``.
    """
    p0 = _check_distribution(p0, "p0")
    decoder = dict(temperature=temperature, top_k=top_k, top_p=top_p, greedy=greedy)
    q = p0
    for s in range(int(max_steps) + 1):
        nxt = decode(q, **decoder)
        same_support = np.array_equal(nxt > 0, q > 0)
        if same_support and (temperature == 1.0 or np.all(np.abs(nxt - q) <= 4 * np.finfo(float).eps * q.max())):
            if temperature == 1.0 and not greedy:
                kept = np.where(q > 0, p0, 0.0)
                return kept / kept.sum(axis=-1, keepdims=True), s
            return q, s
        q = nxt
    raise RuntimeError(f"no fixed point within {max_steps} steps")
