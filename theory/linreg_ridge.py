"""Regression beyond isotropic OLS: covariance spectra, ridge, a downstream model, over-parameterised chains.

Setting (Dohmatob, Feng & Kempe 2024, *Model Collapse Demystified: The Case of
Regression*): inputs ``N(0, Sigma)``, ``Sigma`` diagonal without loss of generality (a
rotation of inputs and target changes no error); the test error is
``||w - w*||_Sigma^2 = (w - w*)^T Sigma (w - w*)``. ``S = X^T X/T``, ridge
``(X^T X + T lambda I)^-1 X^T y = (S + lambda I)^-1 X^T y/T``, ``R = (S + lambda I)^-1 S``.

What is derived here, each in SymPy from the one-step recursion:

* :func:`derive_sigma_invariance`: with ``X = Z Sigma^{1/2}``, an OLS step in the Sigma
  norm is the isotropic step of ``Z``: ``Sigma^{1/2} (X^T X)^-1 X^T = (Z^T Z)^-1 Z^T``
  (checked on symbolic matrices), so every OLS law of the package holds for any
  ``Sigma``, path by path; a ridge step is not invariant (``R`` depends on ``Sigma``).
* :func:`derive_ridge_chain`: the ridge chain ``w_n = R w_{n-1} + (X^T X + T lambda
  I)^-1 X^T eps_n`` given ``X``, per eigendirection of ``X^T X``: the mean shrinks as
  ``r^n w*`` (the bias shrinkage adds at every generation) and the variance is
  ``q (1 - r^{2n})/(1 - r^2)``; at ``lambda = 0`` the OLS law ``sigma^2 n tr(Sigma (X^T
  X)^-1)``. Derived here (the paper's Theorem on ridge generators takes other forms).
* :func:`derive_downstream`: ``n`` OLS generators (``T0`` rows, noise ``sigma0^2``) then
  a ridge downstream fit (``T`` rows, noise ``sigma^2``): ``E_test(n) = E_test(0) + n
  sigma0^2/(T0 - d - 1) F``, ``F = E tr[Sigma^-1 R Sigma R]`` (``R`` is symmetric, so this
  is also ``tr[Sigma^-1 R Sigma R^T]``; ``Sigma^-1`` because ``E (X0^T X0)^-1 = Sigma^-1/(T0 -
  d - 1)``), and the OLS law ``sigma^2 d/(T-d-1) + n sigma0^2 d/(T0-d-1)`` of the paper.
* :func:`derive_deterministic_equivalent`: ``F ~ df2 + k^2 tr(Sigma + k)^-2 df2/(T - df2)``
  and the clean error ``k^2 w*^T Sigma (Sigma + k)^-2 w* T/(T - df2) + sigma^2 df2/(T -
  df2)``, ``k - lambda = k df1(k)/T``, from the standard deterministic equivalents of the
  resolvent (inputs stated there); the expression for ``F`` is derived here.
* :func:`derive_overparameterised`: ``d > T0``, noiseless, minimum-norm fits on fresh
  designs: ``E||w_n - w*||^2 = ||w*||^2 (1 - (T0/d)^n)`` (Dohmatob et al. 2024 state the
  exponential convergence to the null predictor; the product of random projections here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike
from sympy.stats import E, Normal

from .frozen import frozen

__all__ = [
    "RidgeLaws",
    "derive_sigma_invariance",
    "derive_ridge_chain",
    "derive_downstream",
    "derive_deterministic_equivalent",
    "derive_overparameterised",
    "ridge_chain_given_X",
    "downstream_ols",
    "downstream_given_X",
    "overparameterised_error",
]

n = sp.Symbol("n", integer=True, nonnegative=True)
r = sp.Symbol("r", positive=True)  # g/(g + T lambda), an eigenvalue of R
q = sp.Symbol("q", nonnegative=True)  # one step's noise variance along that eigendirection
w = sp.Symbol("w", real=True)  # w*'s coordinate along it
c = sp.Symbol("c", nonnegative=True)  # the generators' error variance per fit along it
rho = sp.Symbol("rho", positive=True)  # T0/d


@frozen()
def derive_sigma_invariance() -> sp.Matrix:
    """``Sigma^{1/2} (X^T X)^-1 X^T - (Z^T Z)^-1 Z^T`` for ``X = Z Sigma^{1/2}`` (3 rows, 2 features): zero.

    So an OLS step ``z = (X^T X)^-1 X^T eps`` has ``||z||_Sigma = ||(Z^T Z)^-1 Z^T eps||``:
    the error of every OLS chain in the Sigma norm is that of the isotropic chain driven by
    ``Z``, whatever ``Sigma`` (derived here; the OLS laws are invariant to ``Sigma``).
    """
    t1, t2 = sp.symbols("t1 t2", positive=True)  # Sigma^{1/2} = diag(t1, t2)
    Z = sp.Matrix(3, 2, sp.symbols("z0:6", real=True))
    root = sp.diag(t1, t2)
    X = Z * root
    return (root * (X.T * X).inv() * X.T - (Z.T * Z).inv() * Z.T).applyfunc(sp.cancel)


@dataclass(frozen=True)
class RidgeLaws:
    """Symbolic results (SymPy expressions) of the ridge derivations.

    Attributes:
        mean: the mean of ``e_n = w_n - w*`` along one eigendirection, in ``r, w, n``.
        variance: its variance, in ``r, q, n``.
        ols_variance: ``variance`` at ``r = 1`` (``lambda = 0``): ``n q``.
        downstream: the downstream error along one direction, in ``r, c, n, w, q``.
    """

    mean: sp.Expr
    variance: sp.Expr
    ols_variance: sp.Expr
    downstream: sp.Expr


@frozen()
def derive_ridge_chain() -> RidgeLaws:
    """Solve the ridge chain's one-step recursion along one eigendirection of ``X^T X`` (derived here).

    With ``X^T X = V diag(g) V^T``, ``w_n = (X^T X + T lambda)^-1 (X^T X w_{n-1} + X^T
    eps_n)`` reads ``w_n = r w_{n-1} + u_n`` along each eigenvector, ``r = g/(g + T
    lambda)``, ``u_n`` independent normals of variance ``q = sigma^2 g/(g + T lambda)^2``
    (``X^T eps ~ N(0, sigma^2 X^T X)`` is diagonal there). So ``e_n = r e_{n-1} - (1 - r)
    w* + u_n``: the moments solve linear recursions (``rsolve``) from ``e_0 = 0``. The
    downstream error along a direction, ``E[(r e - (1 - r) w + u)^2]`` with ``e ~ N(0, n c)``
    (``n`` OLS generator fits) and ``u ~ N(0, q)``, comes from ``sympy.stats``.
    """
    a = sp.Function("a")
    k = sp.Symbol("k", integer=True, positive=True)
    mean = sp.rsolve(a(k) - r * a(k - 1) + (1 - r) * w, a(k), {a(0): 0})
    var = sp.rsolve(a(k) - r**2 * a(k - 1) - q, a(k), {a(0): 0})
    for expr, step in ((mean, lambda p: r * p - (1 - r) * w), (var, lambda p: r**2 * p + q)):
        for j in range(1, 5):  # the solution satisfies the recursion
            assert sp.simplify(expr.subs(k, j) - step(expr.subs(k, j - 1))) == 0
    mean, var = sp.simplify(mean.subs(k, n)), sp.simplify(var.subs(k, n))
    ols = sp.limit(var, r, 1)
    ve, vu = sp.symbols("v_e v_u", positive=True)
    e, u = Normal("e", 0, sp.sqrt(ve)), Normal("u", 0, sp.sqrt(vu))
    downstream = sp.expand(sp.simplify(E(sp.expand((r * e - (1 - r) * w + u) ** 2))).subs({ve: n * c, vu: q}))
    return RidgeLaws(mean=mean, variance=var, ols_variance=sp.simplify(ols), downstream=downstream)


@frozen()
def derive_downstream() -> dict[str, sp.Expr]:
    """The downstream law: summed over directions, ``E_test(n) = E_test(0) + n c_0 F`` (derived here).

    From :func:`derive_ridge_chain`'s per-direction error ``r^2 n c + (1 - r)^2 w^2 + q``:
    the ``n``-dependent part is ``n c r^2``, which over directions and generator designs
    is ``n sigma0^2 tr[R^T Sigma R E(X0^T X0)^-1] = n sigma0^2/(T0-d-1) tr[Sigma^-1 R Sigma
    R]`` (the generators' ``E (X0^T X0)^-1 = Sigma^-1/(T0 - d - 1)``). With OLS downstream
    (``r = 1``, ``E sum q = sigma^2 d/(T-d-1)``) it is the law of Dohmatob et al. 2024
    (Theorem 1), returned as ``ols`` in ``d, T, T0, sigma2, sigma0_2, n``.
    """
    laws = derive_ridge_chain()
    per_direction = laws.downstream
    slope = sp.simplify(sp.diff(per_direction, n))
    assert sp.simplify(slope - c * r**2) == 0
    d, T, T0 = sp.symbols("d T T0", positive=True)
    s2, s02 = sp.symbols("sigma2 sigma0_2", nonnegative=True)
    at_ols = per_direction.subs(r, 1)  # n c + q
    # over directions and designs: sum q -> sigma2 d/(T-d-1); sum c -> sigma0_2 tr(Sigma^-1 Sigma)/(T0-d-1)
    ols = sp.simplify(at_ols.subs({c: s02 / (T0 - d - 1) * d, q: s2 * d / (T - d - 1)}))
    return {"slope": slope, "ols": ols}


@frozen()
def derive_deterministic_equivalent() -> dict[str, sp.Expr]:
    """The deterministic equivalents of ``F`` and of the clean ridge error (per eigenvalue ``s`` of Sigma).

    Inputs (the standard deterministic equivalents of ridge regression in the proportional
    limit, e.g. Bach 2024, *High-dimensional analysis of double descent*): with ``k`` the
    solution of ``k - lambda = k df1(k)/T``,
    ``lambda (S + lambda)^-1 ~ k (Sigma + k)^-1`` and, for a fixed ``B``,
    ``lambda^2 tr[B (S + lambda)^-1 Sigma (S + lambda)^-1] ~ k^2 tr[B Sigma (Sigma + k)^-2]
    T/(T - df2)``; the variance ``sigma^2 tr[Sigma R S^-1 R]/T ~ sigma^2 df2/(T - df2)``.

    Derived here: write ``R = I - A``, ``A = lambda (S + lambda)^-1``, so ``tr[Sigma^-1 R
    Sigma R] = d - 2 tr A + tr[Sigma^-1 A Sigma A]``; the last trace is the bias functional
    with ``B = Sigma^-1``. Per eigenvalue ``s``: ``1 - 2k/(s+k) + k^2/(s+k)^2 (1 + p)``
    with ``p = df2/(T - df2)``, which SymPy reduces to ``s^2/(s+k)^2 + k^2/(s+k)^2 p``: summed,
    ``F ~ df2 + k^2 tr(Sigma + k)^-2 df2/(T - df2)``.

    Returns:
        ``{"F": ..., "F_claim": ..., "bias": ..., "variance": ...}`` per eigenvalue, in ``s, k, p``
        (``w2`` the target's squared coordinate; the variance per eigenvalue without ``sigma^2``).
    """
    s, k = sp.symbols("s k", positive=True)
    p, w2 = sp.symbols("p w2", nonnegative=True)
    A = k / (s + k)
    F = sp.simplify(1 - 2 * A + k**2 / (s + k) ** 2 * (1 + p))
    claim = s**2 / (s + k) ** 2 + k**2 / (s + k) ** 2 * p
    assert sp.simplify(F - claim) == 0
    bias = k**2 * w2 * s / (s + k) ** 2 * (1 + p)
    variance = s**2 / (s + k) ** 2 * (1 + p)  # sigma^2 df2/(T - df2) = sigma^2 df2 (1 + p)/T: times 1/T
    return {"F": F, "F_claim": claim, "bias": bias, "variance": variance}


@frozen()
def derive_overparameterised() -> sp.Expr:
    """``E||w_n - w*||^2 / ||w*||^2`` for noiseless minimum-norm fits on fresh designs, ``d > T0`` (derived here).

    Each fit projects: ``w_n = P_n w_{n-1}``, ``P_n`` the orthogonal projection onto the row
    space of a fresh Gaussian ``X_n`` (``T0 < d`` rows), rotation invariant with ``tr P_n =
    T0``, so ``E P_n = rho I``, ``rho = T0/d``. Independence gives ``E w_n = rho^n w*`` and,
    as ``P^2 = P``, ``E||w_n||^2 = rho E||w_{n-1}||^2``; both solved by ``rsolve``. Then
    ``E||w_n - w*||^2 = E||w_n||^2 - 2 w*^T E w_n + ||w*||^2``.
    """
    a = sp.Function("a")
    k = sp.Symbol("k", integer=True, positive=True)
    mean = sp.rsolve(a(k) - rho * a(k - 1), a(k), {a(0): 1})  # w*^T E w_n / ||w*||^2
    norm = sp.rsolve(a(k) - rho * a(k - 1), a(k), {a(0): 1})  # E||w_n||^2 / ||w*||^2
    return sp.simplify((norm - 2 * mean + 1).subs(k, n))


# ---- numerical laws ---------------------------------------------------------------------------


def _gens(n_: ArrayLike) -> np.ndarray:
    arr = np.asarray(n_)
    if np.any(arr < 0) or np.any(np.mod(arr, 1) != 0):
        raise ValueError("generations must be non-negative integers")
    return arr.astype(np.float64)


def ridge_chain_given_X(
    n_: ArrayLike, gram: np.ndarray, sigma: np.ndarray, sigma2: float, rows: int, lam: float, w_star: np.ndarray | None
) -> np.ndarray:
    """``E[||w_n - w*||_Sigma^2 | X]`` of the ridge chain, from :func:`derive_ridge_chain` (derived here).

    Args:
        n_: fits (generation 1 on real labels).
        gram: ``X^T X`` (``d x d``). sigma: ``Sigma``'s diagonal. sigma2: label noise.
        rows: ``T`` (the ridge is ``T lambda``). lam: ``lambda >= 0`` (``> 0`` or ``X^T X`` invertible).
        w_star: the target, or ``None`` for ``w* ~ N(0, I/d)`` (averaged: ``E w* w*^T = I/d``).
    """
    g, V = np.linalg.eigh(gram)
    laws = derive_ridge_chain()
    rr = g / (g + rows * lam)
    qq = sigma2 * g / (g + rows * lam) ** 2
    St = V.T @ (sigma[:, None] * V)  # Sigma in the eigenbasis of X^T X
    k = _gens(n_)
    var = sp.lambdify((r, q, n), laws.variance.rewrite(sp.Piecewise), "numpy")
    out = []
    for kk in np.atleast_1d(k):
        v = np.where(rr < 1, np.asarray(var(np.where(rr < 1, rr, 0.5), qq, kk)), kk * qq)  # r = 1: OLS
        shrink = 1 - rr**kk  # -mean/w along each direction
        if w_star is None:
            bias = np.sum(np.diag(St) * shrink**2) / gram.shape[0]
        else:
            m = shrink * (V.T @ w_star)
            bias = m @ St @ m
        out.append(np.sum(np.diag(St) * v) + bias)
    return np.reshape(np.asarray(out), np.shape(k))


def downstream_ols(n_: ArrayLike, d: int, T: int, T0: int, sigma2: float, sigma0_2: float) -> np.ndarray:
    """``sigma^2 d/(T-d-1) + n sigma0^2 d/(T0-d-1)`` (Dohmatob et al. 2024, Theorem 1; from :func:`derive_downstream`).

    ``n`` counts generator fits: the downstream model is fit ``n + 1``-th. With ``T0 = T``
    and ``sigma0^2 = sigma^2`` it is the package's replace law at fit ``n + 1``.
    """
    if T <= d + 1 or T0 <= d + 1:
        raise ValueError(f"T and T0 must exceed d + 1 (got T={T}, T0={T0}, d={d})")
    expr = derive_downstream()["ols"]
    names = {str(x): x for x in expr.free_symbols}
    f = sp.lambdify([names[k] for k in ("n", "d", "T", "T0", "sigma2", "sigma0_2")], expr, "numpy")
    return np.asarray(f(_gens(n_), d, T, T0, sigma2, sigma0_2), np.float64) + 0.0 * _gens(n_)


def downstream_given_X(
    n_: ArrayLike,
    R: np.ndarray,
    v: float,
    sigma: np.ndarray,
    w_star: np.ndarray | None,
    cov_step: np.ndarray,
) -> np.ndarray:
    """``E[test | designs] = (bias + v) + n tr[R^T Sigma R C]`` (:func:`derive_downstream`; derived here).

    Args:
        R: the downstream operator ``(X^T X + T lambda)^-1 X^T X``. v: its noise term
            ``sigma^2 tr(Sigma M X^T X M)``. sigma: Sigma's diagonal.
        w_star: the target, or ``None`` (``w* ~ N(0, I/d)``).
        cov_step: one generator fit's error covariance: ``sigma0^2 (X0^T X0)^-1`` given
            the generators' design, or ``sigma0^2 Sigma^-1/(T0-d-1)`` averaged over designs.
    """
    d = R.shape[0]
    IR = np.eye(d) - R
    B = IR.T @ (sigma[:, None] * IR)
    bias = np.trace(B) / d if w_star is None else w_star @ B @ w_star
    slope = np.trace(R.T @ (sigma[:, None] * R) @ cov_step)
    return bias + v + _gens(n_) * slope


def overparameterised_error(n_: ArrayLike, d: int, T0: int, norm2: float = 1.0) -> np.ndarray:
    """``||w*||^2 (1 - (T0/d)^n)``, from :func:`derive_overparameterised` (``d > T0``)."""
    if not T0 < d:
        raise ValueError(f"the over-parameterised law needs d > T0 (got d={d}, T0={T0})")
    f = sp.lambdify((rho, n), derive_overparameterised(), "numpy")
    return norm2 * np.asarray(f(T0 / d, _gens(n_)), np.float64)


from .linreg_scaling import (  # noqa: E402, F401  (re-exported)
    clean_error_de,
    df,
    downstream_error_de,
    f_de,
    kappa,
    optimal_ridge,
)
