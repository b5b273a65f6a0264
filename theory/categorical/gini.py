r"""Numeric laws for the Gini-Simpson index and the covariance of the fit, served from the frozen derivations.

:math:`G_n = 1 - \sum_i p_{n,i}^2`, :math:`G_0 = 1 - \sum_i p_{0,i}^2`; ``n`` counts fits (generation 1
is the fit on ``M`` real samples, generation 0 is :math:`p_0`); temperature 1 and no decoding. The closed
forms are those of :func:`~.moments.replace_derivation`, :func:`~.moments.accumulate_derivation`,
:func:`~.mixing.mix_derivation` and :func:`~.mixing.augment_derivation` (lambdified on first use);
``accumulate-subsample`` has none (``None``). Seddik et al. 2024's partially synthetic chain, in their
convention, is :func:`seddik_partial_sum_sq`, and their printed Thm 2 eq. (9) is :func:`seddik_eq9`.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

from .distributions import _check_distribution

__all__ = [
    "REGIMES",
    "expected_covariance",
    "expected_gini",
    "real_count",
    "seddik_eq9",
    "seddik_partial_sum_sq",
    "stationary_gini",
]

REGIMES = ("replace", "accumulate", "mix", "augment", "accumulate-subsample")


def real_count(real_fraction: float | None, M: int, regime: str = "mix") -> int:
    """``k = real_fraction * M`` as a whole number (0 for regimes without real data after generation 1).

    Raises:
        ValueError: ``real_fraction`` missing for mix/augment, outside [0, 1], or ``real_fraction * M``
            not a whole number (within 1e-9).
    """
    if regime not in ("mix", "augment"):
        return 0
    if real_fraction is None:
        raise ValueError(f"{regime} needs real_fraction")
    if not 0 <= real_fraction <= 1:
        raise ValueError(f"real_fraction must be in [0, 1], got {real_fraction}")
    k = real_fraction * M
    if abs(k - round(k)) > 1e-9:
        raise ValueError(f"real_fraction * M must be a whole number, got {k}")
    return int(round(k))


def _check_M(M: int) -> int:
    if int(M) != M or M < 1:
        raise ValueError(f"M must be a whole number >= 1, got {M}")
    return int(M)


def _generations(n: ArrayLike) -> np.ndarray:
    arr = np.asarray(n)
    if arr.size and (np.any(arr < 0) or np.any(arr != np.round(arr))):
        raise ValueError("generations must be whole numbers >= 0")
    return arr.astype(np.int64)


@functools.cache
def _numeric(name: str):
    """Lambdified pieces of a frozen derivation, in ``(n, M, k, S_0, G_0)``."""
    import sympy as sp

    from .mixing import _ksyms, augment_derivation, mix_derivation
    from .moments import accumulate_derivation, replace_derivation

    s, k, M = _ksyms()
    args = (s["n"], M, k, s["S0"], s["G0"])
    f = lambda e: sp.lambdify(args, e, "numpy")
    if name == "replace":
        return {"gini": f(replace_derivation()["gini"]), "cov": f(replace_derivation()["covariance_factor"])}
    if name == "accumulate":
        kk = sp.Symbol("n", integer=True, positive=True)
        d = accumulate_derivation()
        return {"factor": sp.lambdify((kk, M), d["factor"], "numpy"), "limit": f(d["gini_limit"])}
    if name == "mix":
        d = mix_derivation()
        return {"rate": f(d["rate"]), "stationary": f(d["stationary"])}
    if name == "augment":
        d = augment_derivation()
        return {
            "rates": [f(r) for r in d["rates"]],
            "terms": [f(t) for t in d["sum_sq_terms"]],
            "stationary": f(d["stationary"]),
        }
    raise KeyError(name)


def _accumulate_product(M: int, n_max: int) -> np.ndarray:
    """``prod_{k<=n} (1 - 1/(k^2 M))`` for ``n = 0..n_max`` (the derived one-step factor, multiplied)."""
    ks = np.arange(1, n_max + 1, dtype=np.float64)
    return np.concatenate([[1.0], np.cumprod(_numeric("accumulate")["factor"](ks, float(M)))])


def _setting(regime: str, p0: ArrayLike, M: int, real_fraction: float | None) -> tuple[int, int, float, float] | None:
    """``(M, k, S0, G0)`` after the checks both Gini functions make; ``None`` for accumulate-subsample."""
    p0 = _check_distribution(p0, "p0")
    M = _check_M(M)
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")
    if regime == "accumulate-subsample":
        return None
    S0 = float(np.sum(p0**2))
    return M, real_count(real_fraction, M, regime), S0, 1.0 - S0


def expected_gini(
    regime: str, n: ArrayLike, p0: ArrayLike, M: int, real_fraction: float | None = None
) -> np.ndarray | None:
    r"""Exact :math:`E G_n` (Gini-Simpson of the fit at generation ``n``), temperature 1, no decoding.

    * replace: :math:`G_0(1 - 1/M)^n` (Wright-Fisher; Seddik et al. 2024, Thm 1);
    * accumulate: :math:`G_0\prod_{k \le n}(1 - 1/(k^2 M))` (derived here);
    * mix: :math:`1 - S_\infty - \rho^n(S_0 - S_\infty)`, :math:`\rho = m(m-1)/M^2` (derived here);
    * augment: :math:`1 - S_\infty - \sum_i w_i \lambda_i^n`, rates :math:`\lambda = m(m-1)/M^2, m/M`
      (derived here); with ``k = real_fraction * M`` and ``m = M - k``;
    * accumulate-subsample: no closed form, ``None``.

    Args:
        regime: one of :data:`REGIMES`.
        n: generation(s), whole numbers >= 0 (0 is :math:`p_0`).
        p0: the initial distribution (1-D).
        M: samples per generation.
        real_fraction: for mix and augment, ``k/M``.

    Returns:
        float64 array shaped like ``n``, or ``None``.
    """
    n_arr = _generations(n)
    checked = _setting(regime, p0, M, real_fraction)
    if checked is None:
        return None
    M, k, S0, G0 = checked
    nf = n_arr.astype(np.float64)
    if regime == "replace":
        out = _numeric("replace")["gini"](nf, float(M), 0.0, S0, G0)
    elif regime == "accumulate":
        out = G0 * _accumulate_product(M, int(n_arr.max(initial=0)))[n_arr]
    elif regime == "mix":
        num = _numeric("mix")
        star = num["stationary"](nf, float(M), float(k), S0, G0)
        out = 1.0 - star - num["rate"](nf, float(M), float(k), S0, G0) ** nf * (S0 - star)
    else:
        num = _numeric("augment")
        vals = [float(num["stationary"](0.0, float(M), float(k), S0, G0))]
        parts = [
            float(t(0.0, float(M), float(k), S0, G0)) * float(r(0.0, float(M), float(k), S0, G0)) ** nf
            for r, t in zip(num["rates"], num["terms"], strict=True)
        ]
        out = 1.0 - vals[0] - parts[0] - parts[1]
    return np.asarray(np.broadcast_to(out, n_arr.shape), dtype=np.float64)


def stationary_gini(regime: str, p0: ArrayLike, M: int, real_fraction: float | None = None) -> float | None:
    r""":math:`\lim_n E G_n`: 0 under replace (absorbed), :math:`G_0\sin(\pi/\sqrt M)/(\pi/\sqrt M)` under
    accumulate, :math:`1 - S_\infty` under mix and augment (0 with ``k = 0``; augment with ``k = 1``
    also 0: the chain fixes on the kept sample's category), ``None`` for accumulate-subsample."""
    checked = _setting(regime, p0, M, real_fraction)
    if checked is None:
        return None
    M, k, S0, G0 = checked
    if regime == "replace" or (regime in ("mix", "augment") and k == 0):
        return 0.0
    if regime == "accumulate":
        return float(_numeric("accumulate")["limit"](0.0, float(M), 0.0, S0, G0))
    star = _numeric(regime)["stationary"](0.0, float(M), float(k), S0, G0)
    return float(1.0 - star)


def expected_covariance(regime: str, n: ArrayLike, p0: ArrayLike, M: int) -> np.ndarray:
    r""":math:`\operatorname{Cov} p_n = (\operatorname{diag} p_0 - p_0 p_0^T)\,f_n` for replace and accumulate.

    :math:`f_n = 1 - (1 - 1/M)^n` (replace) or :math:`1 - \prod_{k \le n}(1 - 1/(k^2 M))` (accumulate);
    :math:`E p_n = p_0` in both (derived in :func:`~.moments.replace_derivation` and
    :func:`~.moments.accumulate_derivation`). Returns an array shaped ``n.shape + (K, K)``.
    """
    p0 = _check_distribution(p0, "p0")
    M = _check_M(M)
    n_arr = _generations(n)
    if regime == "replace":
        f = _numeric("replace")["cov"](n_arr.astype(np.float64), float(M), 0.0, 0.0, 0.0)
    elif regime == "accumulate":
        f = 1.0 - _accumulate_product(M, int(n_arr.max(initial=0)))[n_arr]
    else:
        raise ValueError(f"expected_covariance covers replace and accumulate, not {regime!r}")
    base = np.diag(p0) - np.outer(p0, p0)
    return np.asarray(f, dtype=np.float64)[..., None, None] * base


@functools.cache
def _seddik_numeric():
    import sympy as sp

    from .mixing import seddik_partial_derivation

    d = seddik_partial_derivation()
    expr = d["sum_sq"]
    m = next(s for s in expr.free_symbols if s.name == "m")
    S0 = next(s for s in d["first"].free_symbols if s.name == "S_0")
    N = next(s for s in d["beta"].free_symbols if s.name == "N")
    ns = next(s for s in d["beta"].free_symbols if s.name == "n_s")
    args = (m, S0, N, ns)
    eq9 = {sign: sp.lambdify(args, e, "numpy") for sign, e in d["eq9"].items()}
    return sp.lambdify(args, expr, "numpy"), eq9


def seddik_partial_sum_sq(m: ArrayLike, S0: float, N: int, n_synthetic: int) -> np.ndarray:
    r"""Derived :math:`S_m = E\sum_i p^{(m)2}_i` of Seddik et al. 2024's partially synthetic chain (their convention).

    Their generation 1 is fit on the ``N`` real samples alone, generation :math:`m \ge 2` on the same
    ``N`` plus ``n_synthetic`` from generation :math:`m - 1`:
    :math:`S_m = S_\infty + \beta^{m-1}(S_1 - S_\infty)`, :math:`\beta = n(n-1)/(N+n)^2`
    (:func:`~.mixing.seddik_partial_derivation`). ``m`` >= 1.
    """
    fn, _ = _seddik_numeric()
    m_arr = np.asarray(m, dtype=np.float64)
    return np.asarray(
        np.broadcast_to(fn(m_arr, float(S0), float(N), float(n_synthetic)), m_arr.shape), dtype=np.float64
    )


def seddik_eq9(m: ArrayLike, S0: float, N: int, n_synthetic: int, sign: int = 1) -> np.ndarray:
    r"""Seddik et al. 2024, Thm 2, eq. (9) as printed, for :math:`S_{m+1}`, with ``sign`` before the last term.

    :math:`S_{m+1} = \frac{1}{N}\frac{1 + 2\alpha - (1 - 1/N)\alpha\beta^m}{D} + (1 - \frac1N)S_0
    \frac{1 + \alpha \pm \alpha\beta^m/N}{D}`, :math:`D = 1 + (1 + 1/N)\alpha`,
    :math:`\alpha = n/(N+n)`. Only ``sign=+1`` equals the derived :func:`seddik_partial_sum_sq` at
    ``m + 1`` (``sign=-1`` is off by :math:`2(1 - 1/N)S_0\alpha\beta^m/(ND)`; at ``m = 0`` it misses
    :math:`S_1 = 1/N + (1 - 1/N)S_0`).
    """
    if sign not in (1, -1):
        raise ValueError("sign must be +1 or -1")
    _, eq9 = _seddik_numeric()
    m_arr = np.asarray(m, dtype=np.float64)
    return np.asarray(
        np.broadcast_to(eq9[sign](m_arr, float(S0), float(N), float(n_synthetic)), m_arr.shape), dtype=np.float64
    )
