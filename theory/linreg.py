"""Ordinary least squares refit on its own labels: replace vs accumulate.

Setting (Gerstgrasser et al. 2024, *Is Model Collapse Inevitable?*, Theorem 1 and
its replace counterpart from Dohmatob, Feng & Kempe 2024, *Model Collapse
Demystified: The Case of Regression*, Theorem 1):

* design ``X`` (``T x d``), rows i.i.d. ``N(0, Sigma)``, fixed across generations;
* generation 1 is the OLS fit on real labels ``y_1 = X w* + eps_1``;
* generation ``n >= 2`` fits labels ``y_n = X w_{n-1} + eps_n``, ``eps_n ~ N(0, sigma2 I_T)``;
* *replace* fits on ``(X, y_n)`` only, *accumulate* on all ``(X, y_i), i <= n`` stacked.

Everything here is **derived in SymPy** from the one-step recursion of the error
``e_n = w_n - w*``; nothing is typed in as a final formula:

1. :func:`derive_step_coefficients` solves the normal equations of each regime and
   shows ``e_n = e_{n-1} + c_n z_n`` with ``z_n = (X^T X)^{-1} X^T eps_n``:
   ``c_n = 1`` (replace) and ``c_n = 1/n`` (accumulate, by induction on ``n``).
2. :func:`derive_one_step_moment` takes the expectation of one step with
   ``sympy.stats``: ``E||e_n||^2 = E||e_{n-1}||^2 + c_n^2 E||z_n||^2`` (the cross
   term vanishes because ``eps_n`` is fresh).
3. :func:`derive_laws` solves that recursion (``rsolve`` for replace, the
   telescoping sum for accumulate, where ``rsolve`` gives up), takes the limit
   ``n -> oo`` (``pi^2/6``), and computes ``E tr (X^T X)^{-1} = d/(T-d-1)`` from the
   Schur-complement fact ``1/[(X^T X)^{-1}]_{jj} ~ chi2_{T-d+1}`` (Muirhead 1982,
   Thm 3.2.10) with ``sympy.stats``; the same computation gives the second inverse
   moment, finite only when ``T > d + 3`` (the Monte Carlo variance condition).

*augment* (rows ``0..k-1`` keep generation 1's real labels, the others are relabelled by the
last fit) is **derived here** (:func:`derive_augment_laws`): exact given the design, and over
Gaussian designs in one dimension only (why not in more is said there).

The domain ``T > d + 1`` is encoded structurally, ``T = d + 1 + m`` with ``m > 0``.

Conventions. ``n`` counts fits: generation ``n`` is the ``n``-th OLS fit, generation
1 the fit on real data (``convention="fit"``, the default). Dohmatob et al. count
``n`` synthetic *generators* followed by one downstream fit, i.e. ``n + 1`` fits
(``convention="downstream"``); the figure of Gerstgrasser et al. plots the replace
theory in that convention beside a simulation counted in ours, one generation
ahead (see ``paper_notes.md``). The metric is the noise-free test error
``||w_n - w*||_Sigma^2`` (with ``Sigma = I`` here); in the closed forms below it does
not depend on ``Sigma``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike
from sympy.stats import ChiSquared, E, Normal

from .frozen import frozen

__all__ = [
    "REGIMES",
    "CONVENTIONS",
    "LinregLaws",
    "derive_step_coefficients",
    "derive_one_step_moment",
    "derive_laws",
    "expected_test_error",
    "conditional_test_error",
    "one_generation_error",
    "accumulate_limit",
    "validate_dimensions",
    "derive_augment_laws",
    "conditional_augment_test_error",
    "conditional_augment_limit",
    "conditional_augment_skewness",
    "expected_augment_test_error",
    "expected_augment_limit",
]

REGIMES = ("replace", "accumulate")
CONVENTIONS = ("fit", "downstream")

# Symbols. Domains are structural: T = d + 1 + m with m > 0.
n = sp.Symbol("n", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)
m = sp.Symbol("m", positive=True)  # T - d - 1
T = sp.Symbol("T", positive=True)
sigma2 = sp.Symbol("sigma2", nonnegative=True)
s = sp.Symbol("s", nonnegative=True)  # E||z_n||^2, the one-generation error
tr_inv = sp.Symbol("tr_inv", positive=True)  # tr (X^T X)^{-1} for a given X


def derive_step_coefficients() -> dict[str, sp.Expr]:
    """Solve each regime's normal equations for the step ``w_n - w_{n-1}``.

    With ``A = X^T X`` and ``u_i = X^T eps_i``, the labels of generation ``i`` give
    ``X^T y_i = A w_{i-1} + u_i``. Because ``A`` enters only as ``A^{-1} A = I``,
    the algebra is that of commuting symbols and is done with scalar stand-ins.

    * replace: ``A w_n = A w_{n-1} + u_n``.
    * accumulate: the stacked normal equations ``n A w_n = sum_{i<=n} (A w_{i-1} + u_i)``.
      Induction hypothesis ``sum_{i<=n-1} (A w_{i-1} + u_i) = (n-1) A w_{n-1}``.

    Returns:
        ``{"replace": c, "accumulate": c}`` where ``w_n - w_{n-1} = c * A^{-1} u_n``.
    """
    A = sp.Symbol("A", positive=True)
    u_n, w_prev, w_n = sp.symbols("u_n w_prev w_n")
    nn = sp.Symbol("n", integer=True, positive=True)
    z_n = u_n / A  # A^{-1} X^T eps_n

    replace = sp.solve(sp.Eq(A * w_n, A * w_prev + u_n), w_n)[0]
    accumulated_before = (nn - 1) * A * w_prev  # induction hypothesis
    accumulate = sp.solve(sp.Eq(nn * A * w_n, accumulated_before + A * w_prev + u_n), w_n)[0]
    # The hypothesis propagates: n A w_n is again the stacked right-hand side.
    assert sp.simplify(nn * A * accumulate - (accumulated_before + A * w_prev + u_n)) == 0
    out = {}
    for name, step in (("replace", replace), ("accumulate", accumulate)):
        coeff = sp.simplify((step - w_prev) / z_n)
        assert not coeff.has(u_n, w_prev, A), (name, coeff)
        out[name] = coeff.subs(nn, n)
    return out


def derive_one_step_moment() -> sp.Expr:
    """Expectation of one step, coordinate-wise, with ``sympy.stats``.

    ``e`` is the previous error coordinate (any mean ``mu``, variance ``a``), ``z`` a
    coordinate of ``z_n``, independent of ``e`` because ``eps_n`` is fresh, mean zero
    and variance ``v``. Summing over coordinates, ``sum v = E||z_n||^2 = s``.

    Returns:
        ``E[(e + c z)^2] - E[e^2]``, which SymPy reduces to ``c**2 * v``.
    """
    mu = sp.Symbol("mu", real=True)
    a, v = sp.symbols("a v", positive=True)
    c = sp.Symbol("c", real=True)
    e = Normal("e", mu, sp.sqrt(a))
    z = Normal("z", 0, sp.sqrt(v))
    return sp.simplify(E((e + c * z) ** 2) - E(e**2))


@dataclass(frozen=True)
class LinregLaws:
    """The symbolic results of :func:`derive_laws` (all SymPy expressions).

    Attributes:
        step_increment: ``E||e_n||^2 - E||e_{n-1}||^2`` per regime, in ``s`` and ``n``.
        error_given_s: solved ``E||e_n||^2`` per regime, in ``s`` and ``n``.
        limit_ratio: ``lim_n E||e_n||^2 / s`` per regime (``oo`` for replace).
        mean_trace_inverse: ``E tr (X^T X)^{-1}`` for Gaussian ``X`` with identity
            covariance, in ``d`` and ``m = T - d - 1``.
        second_inverse_moment: ``E [(X^T X)^{-1}]_{jj}^2``, finite iff ``m > 2``.
        expected_error: the unconditional law per regime, in ``sigma2, d, T, n``.
        conditional_error: the law given ``X`` per regime, in ``sigma2, tr_inv, n``.
    """

    step_increment: dict
    error_given_s: dict
    limit_ratio: dict
    mean_trace_inverse: sp.Expr
    second_inverse_moment: sp.Expr
    expected_error: dict
    conditional_error: dict


@frozen()
def derive_laws() -> LinregLaws:
    """Derive every linear-regression law from the recursion (cached).

    Returns:
        LinregLaws: the symbolic derivation results.
    """
    coeffs = derive_step_coefficients()
    c, v = sp.Symbol("c", real=True), sp.Symbol("v", positive=True)
    moment = derive_one_step_moment()  # c**2 * v
    a = sp.Function("a")
    nn = sp.Symbol("n", integer=True, positive=True)

    step_increment, error_given_s, limit_ratio = {}, {}, {}
    for regime, coeff in coeffs.items():
        inc = moment.subs({c: coeff, v: s})
        step_increment[regime] = sp.simplify(inc)
        recurrence = a(nn) - a(nn - 1) - inc.subs(n, nn)
        solved = sp.rsolve(recurrence, a(nn), {a(0): 0})
        if solved is None:  # rsolve cannot do 1/n^2: telescope instead.
            solved = sp.summation(inc.subs(n, i), (i, 1, nn))
        # Check: the solution satisfies the initial condition and the recursion
        # (on exact rationals, as SymPy cannot simplify harmonic differences).
        assert solved.subs(nn, 0) == 0
        for k in range(1, 12):
            assert sp.simplify(solved.subs(nn, k) - solved.subs(nn, k - 1) - inc.subs(n, k)) == 0
        error_given_s[regime] = solved.subs(nn, n)
        limit_ratio[regime] = sp.limit(solved / s, nn, sp.oo)

    # E tr (X^T X)^{-1}: diagonal entry j of the inverse is 1/chi2_{T-d+1}; T-d+1 = m + 2.
    chi = ChiSquared("chi", m + 2)
    mean_inv = sp.simplify(E(1 / chi))  # 1/m
    second_inv = sp.simplify(E(1 / chi**2))  # 1/(m (m - 2)) shifted: finite iff m > 2
    mean_trace_inverse = sp.simplify(d * mean_inv)

    one_gen = sigma2 * mean_trace_inverse.subs(m, T - d - 1)
    expected = {r: sp.simplify(e.subs(s, one_gen)) for r, e in error_given_s.items()}
    conditional = {r: sp.simplify(e.subs(s, sigma2 * tr_inv)) for r, e in error_given_s.items()}
    return LinregLaws(
        step_increment=step_increment,
        error_given_s=error_given_s,
        limit_ratio=limit_ratio,
        mean_trace_inverse=mean_trace_inverse,
        second_inverse_moment=second_inv,
        expected_error=expected,
        conditional_error=conditional,
    )


def validate_dimensions(d_: int, T_: int, sigma2_: float) -> None:
    """Raise ``ValueError`` unless ``d >= 1``, ``T > d + 1`` and ``sigma2 >= 0`` (finite)."""
    if isinstance(d_, bool) or not isinstance(d_, (int, np.integer)) or d_ < 1:
        raise ValueError(f"d must be a positive integer, got {d_!r}")
    if isinstance(T_, bool) or not isinstance(T_, (int, np.integer)) or T_ < 1:
        raise ValueError(f"T must be a positive integer, got {T_!r}")
    if T_ <= d_ + 1:
        raise ValueError(f"T must exceed d + 1 (got T={T_}, d={d_}): E tr (X^T X)^-1 = d/(T-d-1) is infinite otherwise")
    if not np.isfinite(sigma2_) or sigma2_ < 0:
        raise ValueError(f"sigma2 must be a finite non-negative number, got {sigma2_!r}")


def _generations(n_: ArrayLike) -> np.ndarray:
    arr = np.asarray(n_)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError("generations must be integers")
        arr = arr.astype(np.int64)
    if np.any(arr < 0):
        raise ValueError("generations must be non-negative")
    return arr


def _check(regime: str, convention: str) -> None:
    if regime not in REGIMES:
        raise ValueError(f"no closed form for regime {regime!r}; known: {', '.join(REGIMES)}")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")


@functools.cache
def _numeric(regime: str, conditional: bool) -> Callable:
    laws = derive_laws()
    # harmonic(n, 2) = zeta(2) - zeta(2, n + 1): the Hurwitz form lambdifies to scipy.
    if conditional:
        expr, args = laws.conditional_error[regime], (n, sigma2, tr_inv)
    else:
        expr, args = laws.expected_error[regime], (n, d, T, sigma2)
    return sp.lambdify(args, expr.rewrite(sp.zeta), modules=["scipy", "numpy"])


def _check_sigma2(sigma2_: float) -> None:
    if not np.isfinite(sigma2_) or sigma2_ < 0:
        raise ValueError(f"sigma2 must be a finite non-negative number, got {sigma2_!r}")


def _shift(n_: ArrayLike, convention: str) -> np.ndarray:
    arr = _generations(n_)
    return arr + 1 if convention == "downstream" else arr


def expected_test_error(
    n_: ArrayLike, d_: int, T_: int, sigma2_: float, regime: str, convention: str = "fit"
) -> np.ndarray:
    """Expected noise-free test error ``E||w_n - w*||^2`` over noise and Gaussian design.

    * replace (Dohmatob et al. 2024, Thm 1): ``sigma2 d n / (T - d - 1)``;
    * accumulate (Gerstgrasser et al. 2024, Thm 1): ``sigma2 d/(T-d-1) sum_{i<=n} 1/i^2``.

    Derived in :func:`derive_laws` from the recursion; evaluated from the lambdified
    SymPy expression (``harmonic(n, 2)`` through its Hurwitz-zeta form).

    Args:
        n_: generation(s), ``n >= 0`` (``0`` is the truth, error zero).
        d_, T_: features and rows, ``T > d + 1``.
        sigma2_: label noise variance, ``>= 0``.
        regime: ``"replace"`` or ``"accumulate"``.
        convention: ``"fit"`` (generation n is the n-th fit) or ``"downstream"``
            (n generators, then one downstream fit: the law at ``n + 1``).

    Returns:
        float64 array shaped like ``n_``.
    """
    _check(regime, convention)
    validate_dimensions(d_, T_, sigma2_)
    k = _shift(n_, convention)
    return np.asarray(_numeric(regime, False)(k.astype(np.float64), d_, T_, sigma2_), dtype=np.float64)


def conditional_test_error(
    n_: ArrayLike, sigma2_: float, trace_inverse_gram: float, regime: str, convention: str = "fit"
) -> np.ndarray:
    """``E[||w_n - w*||^2 | X] = sigma2 tr (X^T X)^{-1} sum_{i<=n} c_i^2`` for a given design.

    ``c_i = 1`` (replace) or ``1/i`` (accumulate); derived in :func:`derive_laws`.
    """
    _check(regime, convention)
    _check_sigma2(sigma2_)
    if not np.isfinite(trace_inverse_gram) or trace_inverse_gram <= 0:
        raise ValueError("tr (X^T X)^-1 must be finite and positive (X of full column rank)")
    k = _shift(n_, convention)
    return np.asarray(_numeric(regime, True)(k.astype(np.float64), sigma2_, trace_inverse_gram), dtype=np.float64)


def one_generation_error(d_: int, T_: int, sigma2_: float) -> float:
    """``E||w_1 - w*||^2 = sigma2 d / (T - d - 1)``, from ``E tr (X^T X)^{-1}`` derived in SymPy."""
    validate_dimensions(d_, T_, sigma2_)
    expr = sigma2 * derive_laws().mean_trace_inverse.subs(m, T - d - 1)
    return float(expr.subs({sigma2: sigma2_, d: d_, T: T_}))


def accumulate_limit(d_: int, T_: int, sigma2_: float) -> float:
    """``lim_n`` of the accumulate law: ``pi^2/6`` times the one-generation error.

    The constant is SymPy's ``limit(sum_{i<=n} 1/i^2, n, oo)``; it bounds the
    accumulate error at every generation (the partial sums increase).
    """
    ratio = derive_laws().limit_ratio["accumulate"]
    return float(ratio) * one_generation_error(d_, T_, sigma2_)


# Augment (rows 0..k-1 keep generation 1's real labels): derived in .linreg_augment.
from .linreg_augment import (  # noqa: E402
    conditional_augment_limit,
    conditional_augment_skewness,
    conditional_augment_test_error,
    derive_augment_laws,
    expected_augment_limit,
    expected_augment_test_error,
)
