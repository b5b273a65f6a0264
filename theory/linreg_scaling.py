"""Deterministic equivalents of ridge regression, scaling laws and the optimal ridge (derived here).

The per-eigenvalue expressions of
:func:`model_collapse.theory.linreg_ridge.derive_deterministic_equivalent`, summed over
``Sigma``'s spectrum, give the proportional-limit error of a ridge downstream model after
``n`` OLS generators (the setting of Dohmatob, Feng & Kempe 2024):
``E_test(n) ~ clean(lambda) + n sigma0^2/(T0 - d - 1) F(lambda)``.
Re-exported by :mod:`model_collapse.theory.linreg_ridge`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike
from scipy.optimize import brentq, minimize_scalar

__all__ = ["clean_error_de", "df", "downstream_error_de", "f_de", "kappa", "optimal_ridge"]


def df(k: float, eigs: np.ndarray, power: int) -> float:
    """``df_power(k) = tr Sigma^power (Sigma + k)^-power`` (``power`` 1 or 2)."""
    return float(np.sum((eigs / (eigs + k)) ** power))


def kappa(lam: float, eigs: np.ndarray, T: int) -> float:
    """The effective ridge ``k``: the root of ``k - lambda = k df1(k)/T`` (``k >= lambda``).

    ``k (1 - df1(k)/T) - lambda`` is negative at ``k = lambda`` (or near 0 when ``lambda = 0``
    and ``d > T``) and non-negative at ``lambda + tr Sigma/T`` (as ``k df1(k) <= tr Sigma``).
    ``lambda = 0`` with ``d < T``: ``k = 0`` (OLS).
    """
    if lam < 0:
        raise ValueError(f"the ridge must be >= 0, got {lam}")
    if lam == 0 and len(eigs) < T:
        return 0.0
    f = lambda k: k * (1 - df(k, eigs, 1) / T) - lam
    lo = lam if lam > 0 else 1e-14 * float(np.max(eigs))
    return float(brentq(f, lo, lam + float(np.sum(eigs)) / T, xtol=1e-15, rtol=1e-13))


@functools.cache
def _terms() -> dict[str, Callable]:
    from .linreg_ridge import derive_deterministic_equivalent

    de = derive_deterministic_equivalent()
    s, k, p, w2 = sp.symbols("s k p w2", nonnegative=True)
    out = {}
    for name in ("F", "bias", "variance"):
        expr = de[name]
        expr = expr.subs({x: {"s": s, "k": k, "p": p, "w2": w2}[str(x)] for x in expr.free_symbols})
        out[name] = sp.lambdify((s, k, p, w2), expr, "numpy")
    return out


def _p(k: float, eigs: np.ndarray, T: int) -> float:
    d2 = df(k, eigs, 2)
    if not d2 < T:
        raise ValueError(f"df2 = {d2:g} >= T = {T}: no deterministic equivalent")
    return d2 / (T - d2)


def f_de(lam: float, eigs: np.ndarray, T: int) -> float:
    """``F(lambda) ~ df2(k) + k^2 tr[(Sigma + k)^-2] df2(k)/(T - df2(k))`` (derived here)."""
    k = kappa(lam, eigs, T)
    return float(np.sum(_terms()["F"](eigs, k, _p(k, eigs, T), 0.0)))


def clean_error_de(lam: float, eigs: np.ndarray, w2: np.ndarray, T: int, sigma2: float) -> float:
    """The clean ridge error ``~ k^2 sum_j w2_j s_j/(s_j + k)^2 T/(T - df2) + sigma^2 df2/(T - df2)``.

    ``w2``: the target's squared coordinates along Sigma's eigenvectors (``1/d`` each for
    ``w* ~ N(0, I/d)``). From the inputs stated in ``derive_deterministic_equivalent``.
    """
    k = kappa(lam, eigs, T)
    p = _p(k, eigs, T)
    t = _terms()
    return float(np.sum(t["bias"](eigs, k, p, w2)) + sigma2 * np.sum(t["variance"](eigs, k, p, 0.0)) / T)


def downstream_error_de(
    n: ArrayLike, lam: float, eigs: np.ndarray, w2: np.ndarray, T: int, sigma2: float, T0: int, sigma0_2: float
) -> np.ndarray:
    """``E_test(n) ~ clean(lambda) + n sigma0^2/(T0 - d - 1) F(lambda)``: ``n`` OLS generators, then a ridge fit."""
    d = len(eigs)
    if T0 <= d + 1:
        raise ValueError(f"OLS generators need T0 > d + 1 (got T0={T0}, d={d})")
    base = clean_error_de(lam, eigs, w2, T, sigma2)
    return base + np.asarray(n, np.float64) * sigma0_2 / (T0 - d - 1) * f_de(lam, eigs, T)


def optimal_ridge(
    n: float, eigs: np.ndarray, w2: np.ndarray, T: int, sigma2: float, T0: int, sigma0_2: float
) -> tuple[float, float]:
    """``(lambda*, E_test(n; lambda*))``: the ridge minimising the deterministic equivalent (log-scale search)."""
    obj = lambda x: float(downstream_error_de(n, 10.0**x, eigs, w2, T, sigma2, T0, sigma0_2))
    grid = np.linspace(-6, 2, 81)
    vals = [obj(x) for x in grid]
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(obj, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(10.0**res.x), float(res.fun)
