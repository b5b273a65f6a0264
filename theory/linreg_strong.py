"""Strong model collapse: OLS on real rows mixed with rows labelled by a fixed shifted model.

Setting (Dohmatob, Feng, Subramonian & Kempe 2025, *Strong Model Collapse*, ICLR 2025): a
training set of ``n = n1 + n2`` rows ``x ~ N(0, I_d)``; ``n1`` real rows labelled by
``w1 = w*`` and ``n2`` synthetic rows labelled by a fixed shifted model ``w2 = w* + delta``,
both with noise ``N(0, sigma2)``; ``delta ~ N(0, (C^2/d) I_d)`` independent of the data, so
``E||delta||^2 = C^2``; one OLS fit, no recursion. ``p1 = n1/n``, ``p2 = n2/n``.

:func:`derive_strong_collapse` derives, **exactly** for every ``n > d + 1`` (derived here):

``E||w_hat - w*||^2 = sigma2 d/(n-d-1) + (C^2/d) [(n-1) E tr B^2 - E (tr B)^2]/(n-d-1)``

with ``B = G^{-1/2} G_2 G^{-1/2}`` (``G = X^T X``, ``G_2`` the synthetic rows' Gram matrix) a
matrix-variate Beta independent of ``G``, whose second moments are derived from the Wishart
ones. The paper's finite-sample form ``p2^2 C^2 + (sigma2 + p1 p2 C^2) d/(n-d-1)`` is an
approximation whose absolute error ``C^2 p1 p2 |n^2 - 5n + 2 - 2dn + 4d|/((n-1)(n+2)(n-d-1))``
is below ``1/d`` of it (so the asymptotic law's tolerance is ``1/d``); its proportional
limit (``d/n -> phi``) is the paper's Corollary 1, eq. (11):
``sigma2 phi/(1-phi) + (p2^2 + p2 p1 phi/(1-phi)) C^2``. The floor: ``E||w_hat - w*||^2 >=
p2^2 C^2`` at every ``n`` (``E[G^{-1} G_2 | G] = p2 I`` and Jensen), which no amount of data removes
at a fixed synthetic share.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike
from sympy.stats import ChiSquared, E

from .frozen import frozen

__all__ = [
    "derive_strong_collapse",
    "exact_test_error",
    "approximate_test_error",
    "proportional_limit",
    "floor",
    "relative_gap_bound",
]

n, n2, d, C2, sigma2, phi, p2 = sp.symbols("n n2 d C2 sigma2 phi p2", positive=True)


def _pair_basis_contraction(dim: int) -> None:
    """Check, with a symbolic symmetric ``B`` at ``d = dim``, the contractions used by the derivation.

    With ``T_jkli = al d_jk d_li + be (d_jl d_ki + d_ji d_kl)``:
    ``sum B_ij B_kl T_jkli = (al + be) tr B^2 + be (tr B)^2``; and the sandwich rule
    ``sum R_ia R_bj R_kc R_dl (u d_ab d_cd + v (d_ac d_bd + d_ad d_bc)) = u G_ij G_kl + v (G_ik G_jl + G_il G_jk)``
    for ``G = R R`` (``R`` symmetric).
    """
    al, be, u, v = sp.symbols("al be u v")
    B = sp.Matrix(dim, dim, lambda i, j: sp.Symbol(f"b{min(i, j)}{max(i, j)}"))
    R = sp.Matrix(dim, dim, lambda i, j: sp.Symbol(f"r{min(i, j)}{max(i, j)}"))
    G = R * R
    dl = lambda i, j: 1 if i == j else 0  # noqa: E731
    rng = range(dim)
    total = sum(
        B[i, j] * B[k, l] * (al * dl(j, k) * dl(l, i) + be * (dl(j, l) * dl(k, i) + dl(j, i) * dl(k, l)))
        for i in rng
        for j in rng
        for k in rng
        for l in rng  # noqa: E741
    )
    assert sp.expand(total - ((al + be) * (B * B).trace() + be * B.trace() ** 2)) == 0
    for i, j, k, l in ((0, 0, 0, 0), (0, 1, 0, 1), (0, 0, 1, 1), (0, 1, 1, 0)):  # noqa: E741
        pair = lambda a, b_, c, dd: u * dl(a, b_) * dl(c, dd) + v * (dl(a, c) * dl(b_, dd) + dl(a, dd) * dl(b_, c))  # noqa: E731
        lhs = sum(
            R[i, a] * R[b_, j] * R[k, c] * R[dd, l] * pair(a, b_, c, dd)
            for a in rng
            for b_ in rng
            for c in rng
            for dd in rng
        )
        assert sp.expand(lhs - (u * G[i, j] * G[k, l] + v * (G[i, k] * G[j, l] + G[i, l] * G[j, k]))) == 0


@frozen()
def derive_strong_collapse() -> dict[str, sp.Expr]:
    r"""The exact expected test error of OLS on real and shifted rows (derived here), and its two approximations.

    1. *Error.* ``w_hat - w* = G^{-1} G_2 delta + G^{-1} X^T eps`` (the normal equations, a polynomial
       identity checked with symbolic matrices). ``eps`` and ``delta`` are independent and centred, so
       ``E||e||^2 = sigma2 E tr G^{-1} + (C^2/d) E tr(G_2 G^{-2} G_2)``, ``E tr G^{-1} = d/(n-d-1)``.
    2. *Split.* ``X = U G^{1/2}`` with ``U`` Haar on the Stiefel manifold independent of ``G`` (the law of
       ``X`` is invariant under ``X -> O X``), so ``B = G^{-1/2} G_2 G^{-1/2} = U^T P_2 U`` is independent of
       ``G`` and ``O(d)``-invariant: ``tr(G_2 G^{-2} G_2) = tr(B G^{-1} B G)``.
    3. *Wishart moments.* ``E[(G^{-1})_jk G_li] = al d_jk d_li + be (d_jl d_ki + d_ji d_kl)`` (invariance);
       contracting with ``G^{-1} G = I`` and with ``E[tr G^{-1} tr G] = (nd - 2) E tr G^{-1}`` (``tr G ~ chi2_{nd}``
       is independent of ``G/tr G``; ``E 1/chi2_{nd} = 1/(nd - 2)`` by ``sympy.stats``) gives ``al, be``.
    4. *Matrix Beta.* ``E[B_ij B_kl] = u d_ij d_kl + v (d_ik d_jl + d_il d_jk)``; ``G_2 = G^{1/2} B G^{1/2}`` with
       Isserlis' ``E[G_ij G_kl] = N^2 d_ij d_kl + N (d_ik d_jl + d_il d_jk)`` (``N`` rows) on both sides gives ``u, v``.
    5. *Contraction* (checked at ``d = 2, 3`` with symbolic matrices): ``E tr(B G^{-1} B G) = (al + be) E tr B^2
       + be E (tr B)^2``, ``E tr B^2 = u d + v d(d + 1)``, ``E (tr B)^2 = u d^2 + 2 v d``.
    6. *Approximations.* ``exact - approx`` factored; the limit ``d = phi n``, ``n2 = p2 n``, ``n -> oo`` equals
       Corollary 1, eq. (11); ``d = 1`` reduces to ``E b^2`` of ``b ~ Beta(n2/2, n1/2)``.

    Returns:
        dict: ``exact``, ``approx``, ``gap`` (``exact - approx``) in ``n, n2, d, C2, sigma2``; ``limit`` (in
        ``phi, p2``); ``alpha_beta``, ``u_v`` (the moment coefficients).
    """
    # 1. the error, a polynomial identity (2 features, 2 real rows, 2 shifted rows)
    X1, X2 = (sp.Matrix(2, 2, sp.symbols(f"{x}1:5")) for x in ("x", "z"))
    ws, dl_, e1, e2 = (sp.Matrix(sp.symbols(f"{x}1:3")) for x in ("ws", "de", "ea", "eb"))
    Gm = X1.T * X1 + X2.T * X2
    rhs = X1.T * (X1 * ws + e1) + X2.T * (X2 * (ws + dl_) + e2) - Gm * ws
    assert (rhs - (X2.T * X2 * dl_ + X1.T * e1 + X2.T * e2)).applyfunc(sp.expand) == sp.zeros(2, 1)
    # 3. the Wishart moment E[G^{-1} (x) G]
    mean_tr_inv = d / (n - d - 1)
    q = sp.Symbol("q", positive=True)  # n d - 2 > 0, the domain encoded structurally
    inv_chi = sp.simplify(E(1 / ChiSquared("chi", q + 2))).subs(q, n * d - 2)
    al, be = sp.symbols("al be")
    # E[tr G^-1 tr G] = E tr (U^T U)^-1 = E tr G^-1 / E[1/chi2_{nd}]  (G = chi2_{nd} U^T U, independent parts)
    eqs = [al + be * (d + 1) - 1, al * d**2 + 2 * be * d - mean_tr_inv / inv_chi]
    ab = sp.solve(eqs, [al, be], dict=True)[0]
    ab = {key: sp.factor(val) for key, val in ab.items()}
    # 4. the matrix Beta's second moments, from E[G_2 (x) G_2] = u E[G (x) G] + v E[G_ik G_jl + G_il G_jk]
    u, v = sp.symbols("u v")
    # coefficients on (d_ij d_kl, d_ik d_jl): Wishart with N rows is (N^2, N)
    eq_u = u * n**2 + v * 2 * n - n2**2  # d_ij d_kl: u N^2 + v (N + N)
    eq_v = u * n + v * (n**2 + n) - n2  # d_ik d_jl: u N + v (N^2 + N)
    uv = {key: sp.factor(val) for key, val in sp.solve([eq_u, eq_v], [u, v], dict=True)[0].items()}
    # 5. contraction rules (symbolic matrices at d = 2 and 3)
    for dim in (2, 3):
        _pair_basis_contraction(dim)
    trB2 = uv[u] * d + uv[v] * d * (d + 1)
    trB_sq = uv[u] * d**2 + 2 * uv[v] * d
    bias = C2 / d * ((ab[al] + ab[be]) * trB2 + ab[be] * trB_sq)
    exact = sp.factor(sp.simplify(sigma2 * mean_tr_inv + bias))
    # 6. the approximation, its gap, the proportional limit, d = 1
    p2_ = n2 / n
    approx = p2_**2 * C2 + (sigma2 + (1 - p2_) * p2_ * C2) * d / (n - d - 1)
    gap = sp.factor(sp.simplify(exact - approx))
    limit = sp.factor(sp.limit(exact.subs({d: phi * n, n2: p2 * n}), n, sp.oo))
    eq11 = sigma2 * phi / (1 - phi) + (p2**2 + p2 * (1 - p2) * phi / (1 - phi)) * C2
    assert sp.simplify(limit - eq11) == 0
    eb2 = (n2 / 2) * (n2 / 2 + 1) / ((n / 2) * (n / 2 + 1))  # E b^2, b ~ Beta(n2/2, n1/2)
    assert sp.simplify(exact.subs(d, 1) - sigma2 / (n - 2) - C2 * eb2) == 0
    return {"exact": exact, "approx": approx, "gap": gap, "limit": limit, "alpha_beta": ab, "u_v": uv}


# ---------------------------------------------------------------------------------------------------------
# Numeric functions


def _args(T_: ArrayLike, d_: int, real_fraction: float, sigma2_: float, C2_: float) -> tuple[np.ndarray, np.ndarray]:
    T_ = np.asarray(T_, np.float64)
    if isinstance(d_, bool) or int(d_) < 1 or np.any(T_ <= d_ + 1):
        raise ValueError(f"OLS needs T > d + 1 (an invertible X^T X with a finite mean error), got T={T_}, d={d_}")
    if not 0 <= real_fraction <= 1:
        raise ValueError(f"real_fraction must lie in [0, 1], got {real_fraction!r}")
    if not (sigma2_ >= 0 and C2_ >= 0):
        raise ValueError(f"sigma2 and the shift C^2 must be >= 0, got {sigma2_!r}, {C2_!r}")
    return T_, (1 - real_fraction) * T_


@functools.cache
def _exact_numeric():
    return sp.lambdify((n, n2, d, C2, sigma2), derive_strong_collapse()["exact"], "numpy")


def exact_test_error(T_: ArrayLike, d_: int, real_fraction: float, sigma2_: float, C2_: float) -> np.ndarray:
    """``E||w_hat - w*||^2`` over Gaussian designs, noise and shifts (exact; :func:`derive_strong_collapse`).

    Args:
        T_: rows ``n`` (one or many), ``n > d + 1``; ``n2 = (1 - real_fraction) n`` shifted rows.
        d_: features. real_fraction: ``p1``. sigma2_: label noise. C2_: ``E||delta||^2``.
    """
    T_, n2_ = _args(T_, d_, real_fraction, sigma2_, C2_)
    f = _exact_numeric()
    return np.asarray(f(T_, n2_, float(d_), float(C2_), float(sigma2_)), np.float64) * np.ones_like(T_)


def approximate_test_error(T_: ArrayLike, d_: int, real_fraction: float, sigma2_: float, C2_: float) -> np.ndarray:
    """The paper's finite-sample form ``p2^2 C^2 + (sigma2 + p1 p2 C^2) d/(n-d-1)`` (an approximation)."""
    T_, _ = _args(T_, d_, real_fraction, sigma2_, C2_)
    p2_ = 1 - real_fraction
    return p2_**2 * C2_ + (sigma2_ + real_fraction * p2_ * C2_) * d_ / (T_ - d_ - 1)


def proportional_limit(phi_: ArrayLike, real_fraction: float, sigma2_: float, C2_: float) -> np.ndarray:
    """Corollary 1, eq. (11) of Dohmatob et al. 2025: ``sigma2 phi/(1-phi) + (p2^2 + p2 p1 phi/(1-phi)) C^2``."""
    phi_ = np.asarray(phi_, np.float64)
    if np.any((phi_ <= 0) | (phi_ >= 1)):
        raise ValueError(f"phi = d/n must lie in (0, 1), got {phi_}")
    p2_ = 1 - real_fraction
    r = phi_ / (1 - phi_)
    return sigma2_ * r + (p2_**2 + p2_ * real_fraction * r) * C2_


def floor(real_fraction: float, C2_: float) -> float:
    """``p2^2 C^2``: the test error that no number of rows removes at a fixed synthetic share (a lower bound)."""
    return (1 - real_fraction) ** 2 * C2_


def relative_gap_bound(d_: int) -> float:
    """``1/d``: a bound on ``|exact - approx|/approx`` (checked on a grid by the tests): the asymptotic tolerance.

    From the factored gap: ``|gap| = C^2 p1 p2 |n^2 - 5n + 2 - 2dn + 4d|/((n-1)(n+2)(n-d-1))`` and
    ``approx >= p1 p2 C^2 d/(n-d-1)``, with ``|n^2 - 5n + 2 - 2dn + 4d| <= (n-1)(n+2)`` for ``n > d + 1``.
    """
    return 1.0 / d_
