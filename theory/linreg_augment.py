"""Linear regression under ``augment``: the law derived here (see :func:`derive_augment_laws`).

Rows ``0..k-1`` of the design keep generation 1's real labels for good; rows ``k..T-1``
are relabelled by the last fit. Re-exported by :mod:`model_collapse.theory.linreg`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike
from sympy.stats import Beta, moment

from .frozen import frozen
from .linreg import _check, _check_sigma2, _shift, n, sigma2, validate_dimensions

__all__ = [
    "derive_augment_laws",
    "conditional_augment_test_error",
    "conditional_augment_limit",
    "conditional_augment_skewness",
    "expected_augment_test_error",
    "expected_augment_limit",
]

# ---------------------------------------------------------------------------
# Augment: rows 0..k-1 keep generation 1's real labels; rows k..T-1 are relabelled by the last fit.
# ---------------------------------------------------------------------------
b, c = sp.symbols("b c", nonnegative=True)  # an eigenvalue of the pencil (X_S^T X_S, X^T X), and 1 - b


@frozen()
def derive_augment_laws() -> dict[str, sp.Expr]:
    r"""Derive the augment law given the design, from the normal equations (derived here; no paper states it).

    1. *Step.* With ``A = X^T X = G_R + G_S`` (``G_R = X_R^T X_R``, ``G_S = X_S^T X_S``), generation
       ``n >= 2`` solves ``A w_n = X_R^T y_R + X_S^T (X_S w_{n-1} + eps_n)`` with ``y_R = X_R w* + eps_R``
       fixed, so ``A e_n = X_R^T eps_R + G_S e_{n-1} + X_S^T eps_n`` (a polynomial identity, checked
       with symbolic matrices); generation 1 is this step from ``e_0 = 0``.
    2. *Decoupling.* With ``G_S V = A V diag(b)``, ``V^T A V = I``: ``V^T G_R V = I - diag(b)`` and
       ``V^{-1} A^{-1} = V^T``, so ``f = V^{-1} e`` obeys ``f_n = u + diag(b) f_{n-1} + xi_n``,
       ``u = V^T X_R^T eps_R ~ N(0, sigma2 (I - diag b))`` fixed, ``xi_n ~ N(0, sigma2 diag b)``
       fresh: independent coordinates, and ``E[||e_n||^2 | X] = sum_i (V^T V)_ii K_n(b_i)``.
    3. *Moments.* ``J_n = E[f_n u]``, ``K_n = E f_n^2`` from one step, solved by ``rsolve``:
       ``K_n = sigma2 (1 - b^n)(1 + 2b - b^n)/(1 - b^2)`` (degree ``2n - 2`` in ``b``); ``b = 1`` gives
       ``n sigma2`` (replace), ``b = 0`` gives ``sigma2``; for ``b < 1`` ``K_n -> sigma2 (1 + 2b)/(1 - b^2)``,
       so the error converges iff ``G_R`` is nonsingular (``k >= d``).

    Over Gaussian designs: ``B = A^{-1/2} G_S A^{-1/2}`` is matrix-variate Beta_d((T-k)/2, k/2),
    independent of ``A`` (Olkin & Rubin 1964; the symmetric root is their triangular one turned by
    a rotation that is a function of ``A``, and the Beta law is rotation invariant), and
    ``A^{1/2} e_n`` depends on ``X`` only through ``B``; with ``E A^{-1} = I/(T-d-1)``,
    ``E||e_n||^2 = E tr K_n(B) / (T - d - 1)``, which needs ``E tr B^j``, ``j <= 2n - 2``: Beta moments
    for ``d = 1`` (:func:`expected_augment_test_error`); for ``d >= 2`` zonal-polynomial series of the
    matrix Beta, no closed form known here (nor ``E tr (I + B)^{-1}`` for the limit): conditional law only.

    Returns:
        dict: ``step`` (``{"J", "K"}`` in ``J_prev, K_prev, b, c = 1 - b, sigma2``), ``J``, ``K`` (in ``n, b``),
        ``K_sum`` (``K/sigma2 = sum_{j<n} b^{2j}(1 + 2b) - 2 b^{n+j}``, checked), ``K_limit`` (in ``c``).
    """
    # 1. the step, a polynomial identity (2 features, 2 real rows, 3 relabelled): X^T y - A w* == right side
    XR, XS = (sp.Matrix(r, 2, sp.symbols(f"{x}1:{2 * r + 1}")) for x, r in (("r", 2), ("s", 3)))
    ws, wp, eR, en = (sp.Matrix(sp.symbols(f"{x}1:{r + 1}")) for x, r in (("ws", 2), ("wp", 2), ("eR", 2), ("en", 3)))
    lhs = XR.T * (XR * ws + eR) + XS.T * (XS * wp + en) - (XR.T * XR + XS.T * XS) * ws
    assert (lhs - XR.T * eR - XS.T * XS * (wp - ws) - XS.T * en).applyfunc(sp.expand) == sp.zeros(2, 1)
    # 3. one coordinate's moments: f_n = u + b f + xi
    u, f, xi, Jp, Kp = sp.symbols("u f xi J_prev K_prev")
    moments = {u**2: sigma2 * c, xi**2: sigma2 * b, f * u: Jp, f**2: Kp, u * xi: 0, f * xi: 0}
    f_new = u + b * f + xi
    step = {
        name: sp.expand(
            sum(cf * moments[u**pu * f**pf * xi**px] for (pu, pf, px), cf in sp.Poly(sp.expand(expr), u, f, xi).terms())
        )
        for name, expr in (("J", f_new * u), ("K", f_new**2))
    }
    Jf, Kf, one = sp.Function("J"), sp.Function("K"), {c: 1 - b}
    J_n = sp.rsolve(Jf(n + 1) - step["J"].subs(one).subs(Jp, Jf(n)), Jf(n), {Jf(0): 0})
    K_rec = Kf(n + 1) - step["K"].subs(one).subs({Kp: Kf(n), Jp: J_n})
    K_n = sp.factor(sp.rsolve(K_rec, Kf(n), {Kf(0): 0}))
    for nv in range(0, 5):  # the solution satisfies the recursion (on exact polynomials)
        assert sp.simplify(K_n.subs(n, nv + 1) + K_rec.subs({Kf(n + 1): 0, Kf(n): K_n}).subs(n, nv)) == 0
    npos = sp.Symbol("n", integer=True, positive=True)
    assert sp.simplify(K_n.subs(n, 1) - sigma2) == 0 and sp.simplify(K_n.subs(n, npos).subs(b, 0) - sigma2) == 0
    assert sp.simplify(sp.limit(K_n, b, 1) - n * sigma2) == 0
    j = sp.Symbol("j", integer=True, nonnegative=True)
    K_sum = sp.Sum(b ** (2 * j) * (1 + 2 * b) - 2 * b ** (n + j), (j, 0, n - 1))
    for nv in range(1, 6):
        assert sp.simplify(K_sum.subs(n, nv).doit() * sigma2 - K_n.subs(n, nv)) == 0
    up = sp.Symbol("u", positive=True)  # b = 1/(1 + u) < 1
    K_lim = sp.factor(sp.simplify(sp.limit(K_n.subs(b, 1 / (1 + up)), n, sp.oo).subs(up, 1 / b - 1)))
    assert sp.simplify(K_lim - sigma2 * (1 + 2 * b) / (1 - b**2)) == 0
    return {"step": step, "J": J_n, "K": K_n, "K_sum": K_sum, "K_limit": sp.factor(K_lim.subs(b, 1 - c))}


@frozen()
def _beta_moments() -> tuple[sp.Expr, sp.Expr]:
    """``E b^j = B(a + j, beta)/B(a, beta)``, ``b ~ Beta(a, beta)`` (checked by ``sympy.stats``, ``j <= 4``);
    at ``j = -1`` with ``1 - b ~ Beta(beta, a)``: ``E 1/(1 - b) = (a + beta - 1)/(beta - 1)`` (``beta > 1``)."""
    a_, be, j = sp.Symbol("a", positive=True), sp.Symbol("beta", positive=True), sp.Symbol("j", integer=True)
    mom = sp.gammasimp(sp.expand_func(sp.beta(a_ + j, be) / sp.beta(a_, be)))
    for jv in range(1, 5):
        assert sp.simplify(mom.subs(j, jv) - moment(Beta("b", a_, be), jv)) == 0
    inv = sp.factor(sp.gammasimp(mom.subs({a_: be, be: a_}, simultaneous=True).subs(j, -1)))
    return mom, inv


def _pencil(X_R: ArrayLike, X_S: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``b_i``, ``c_i = 1 - b_i`` (as ``v_i^T G_R v_i``), ``(V^T V)_ii`` of the pencil ``(G_S, A)``; X_R of rank d?"""
    from scipy.linalg import eigh

    X_R, X_S = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (X_R, X_S))
    if X_R.shape[1] != X_S.shape[1] or not (np.all(np.isfinite(X_R)) and np.all(np.isfinite(X_S))):
        raise ValueError(f"X_R and X_S must be finite with the same columns, got {X_R.shape} and {X_S.shape}")
    if np.linalg.matrix_rank(np.vstack([X_R, X_S])) < X_R.shape[1]:
        raise ValueError("the design [X_R; X_S] must have full column rank")
    G_R, G_S = X_R.T @ X_R, X_S.T @ X_S
    V = eigh(G_S, G_R + G_S)[1]
    b_, c_ = (np.clip(np.einsum("ji,jk,ki->i", V, G, V), 0.0, 1.0) for G in (G_S, G_R))
    return b_, c_, np.sum(V**2, axis=0), bool(X_R.shape[0] and np.linalg.matrix_rank(X_R) == X_R.shape[1])


def conditional_augment_test_error(
    n_: ArrayLike, X_R: ArrayLike, X_S: ArrayLike, sigma2_: float, convention: str = "fit"
) -> np.ndarray:
    """``E[||w_n - w*||^2 | X]`` under augment: rows ``X_R`` keep their real labels, rows ``X_S`` are relabelled.

    Exact (:func:`derive_augment_laws`): ``sum_i (V^T V)_ii K_n(b_i)`` over the pencil ``(X_S^T X_S, X^T X)``,
    iterating the derived scalar step with ``c_i = v_i^T X_R^T X_R v_i`` (no cancellation near ``b = 1``).
    Depends on ``X`` only through ``X_R^T X_R`` and ``X_S^T X_S`` (any ``F`` with the same ``F^T F`` will do).

    Args:
        n_: generation(s), ``n >= 0``.
        X_R, X_S: ``k x d`` and ``(T - k) x d`` arrays, ``[X_R; X_S]`` of full column rank.
        sigma2_: label noise variance, ``>= 0``.
        convention: ``"fit"`` or ``"downstream"`` (the law at ``n + 1``).

    Returns:
        float64 array shaped like ``n_``.
    """
    _check("replace", convention)
    _check_sigma2(sigma2_)
    (b_, c_, w, _), k = _pencil(X_R, X_S), _shift(n_, convention)
    fJ, fK = (
        sp.lambdify((*sp.symbols("J_prev K_prev"), b, c, sigma2), derive_augment_laws()["step"][x]) for x in ("J", "K")
    )
    J_, K_, total = np.zeros_like(b_), np.zeros_like(b_), np.zeros(int(k.max(initial=0)) + 1)
    for i in range(1, total.size):
        J_, K_ = fJ(J_, K_, b_, c_, sigma2_), fK(J_, K_, b_, c_, sigma2_)
        total[i] = w @ K_
    return np.asarray(total[k], dtype=np.float64)


def conditional_augment_skewness(n_: ArrayLike, X_R: ArrayLike, X_S: ArrayLike) -> np.ndarray:
    """Exact skewness of ``||w_n - w*||^2`` given the design under augment (derived here).

    In the pencil's coordinates ``f = V^{-1} e`` the coordinates of ``f_n`` are independent
    ``N(0, K_n(b_i))`` (:func:`derive_augment_laws`), so ``||e_n||^2 = f^T V^T V f`` is a Gaussian
    quadratic form with weights the eigenvalues of ``K^{1/2} V^T V K^{1/2}``; its skewness is
    ``sqrt(8) sum w^3/(sum w^2)^{3/2}`` (independent of ``sigma2``). ``nan`` at ``n = 0``.
    """
    from scipy.linalg import eigh

    from .tails import gaussian_quadratic_form_skewness

    X_R, X_S = (np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (X_R, X_S))
    b_, c_, _, _ = _pencil(X_R, X_S)
    G_S = X_S.T @ X_S
    V = eigh(G_S, X_R.T @ X_R + G_S)[1]
    W = V.T @ V
    gens = np.atleast_1d(np.asarray(n_, dtype=np.int64))
    fJ, fK = (
        sp.lambdify((*sp.symbols("J_prev K_prev"), b, c, sigma2), derive_augment_laws()["step"][x]) for x in ("J", "K")
    )
    J_, K_, out = np.zeros_like(b_), np.zeros_like(b_), np.full(gens.shape, np.nan)
    for i in range(1, int(gens.max(initial=0)) + 1):
        J_, K_ = fJ(J_, K_, b_, c_, 1.0), fK(J_, K_, b_, c_, 1.0)
        root = np.sqrt(np.maximum(K_, 0.0))
        w = np.linalg.eigvalsh(root[:, None] * W * root[None, :])
        out[gens == i] = gaussian_quadratic_form_skewness(np.maximum(w, 0.0))
    return out.reshape(np.shape(n_))


def conditional_augment_limit(X_R: ArrayLike, X_S: ArrayLike, sigma2_: float) -> float:
    """``lim_n E[||w_n - w*||^2 | X] = sum_i (V^T V)_ii sigma2 (3 - 2c_i)/(c_i (2 - c_i))`` (derived here).

    Infinite unless ``X_R`` has full column rank (``k >= d``): unpinned directions random-walk, as under replace.
    """
    _check_sigma2(sigma2_)
    b_, c_, w, full = _pencil(X_R, X_S)
    if not full:
        return float("inf") if sigma2_ > 0 else 0.0
    return float(w @ sp.lambdify((c, sigma2), derive_augment_laws()["K_limit"])(c_, sigma2_))


def expected_augment_test_error(
    n_: ArrayLike, d_: int, T_: int, sigma2_: float, real_fraction: float, convention: str = "fit"
) -> np.ndarray:
    """``E||w_n - w*||^2`` under augment over Gaussian designs, ``d = 1`` only (derived here).

    ``b ~ Beta((T-k)/2, k/2)`` is independent of ``A ~ chi2_T``, ``E 1/A = 1/(T-2)``: the law is
    ``sigma2/(T-2) sum_{j<n} (mu_{2j} + 2 mu_{2j+1} - 2 mu_{n+j})`` with ``mu_j = E b^j``
    (:func:`_beta_moments`, evaluated in log-gamma form). ``d >= 2`` raises NotImplementedError:
    the reduction then needs ``E tr B^j`` of a matrix-variate Beta (:func:`derive_augment_laws`).

    Args:
        n_: generation(s), ``n >= 0``.
        d_, T_: features (1) and rows, ``T > 2``.
        sigma2_: label noise variance.
        real_fraction: share of rows with kept real labels, ``real_fraction * T`` whole.
        convention: ``"fit"`` or ``"downstream"``.

    Returns:
        float64 array shaped like ``n_``.
    """
    from scipy.special import gammaln

    k_real, nn = _augment_args(d_, T_, sigma2_, real_fraction, convention, n_)
    a_, be, js = (T_ - k_real) / 2, k_real / 2, np.arange(2 * int(nn.max(initial=0)) + 2)
    if a_ == 0 or be == 0:  # b = 0 (all rows real) or b = 1 (replace)
        mu = (js == 0).astype(float) if a_ == 0 else np.ones(js.size)
    else:
        mu = np.exp(gammaln(a_ + be) + gammaln(a_ + js) - gammaln(a_) - gammaln(a_ + be + js))
    first, prefix = (np.concatenate([[0.0], np.cumsum(x)]) for x in (mu[0::2] + 2 * mu[1::2], mu))
    return np.asarray(sigma2_ / (T_ - 2) * (first[nn] - 2 * (prefix[2 * nn] - prefix[nn])), dtype=np.float64)


def expected_augment_limit(d_: int, T_: int, sigma2_: float, real_fraction: float) -> float:
    """``lim_n`` of :func:`expected_augment_test_error` (``d = 1``): ``sigma2/(T-2) E (1 + 2b)/(1 - b^2)``.

    ``(1 + 2b)/(1 - b^2) = 3/(2(1 - b)) - 1/(2(1 + b))``; ``E 1/(1 - b) = (T-2)/(k-2)`` (infinite for
    ``k <= 2``) and ``E 1/(1 + b) = 2F1(1, (T-k)/2; T/2; -1)`` (Euler's integral).
    """
    from scipy.special import hyp2f1

    k_real, _ = _augment_args(d_, T_, sigma2_, real_fraction, "fit", 0)
    if k_real <= 2:
        return float("inf") if sigma2_ > 0 else 0.0
    a_, be = (T_ - k_real) / 2, k_real / 2
    inv = float(sp.lambdify(sp.symbols("a beta", positive=True), _beta_moments()[1])(a_, be))
    return sigma2_ / (T_ - 2) * (1.5 * inv - 0.5 * float(hyp2f1(1.0, a_, a_ + be, -1.0)))


def _augment_args(d_, T_, sigma2_, real_fraction, convention, n_) -> tuple[int, np.ndarray]:
    validate_dimensions(d_, T_, sigma2_)
    _check("replace", convention)
    if d_ != 1:
        raise NotImplementedError(
            "the augment law over random designs is derived for d = 1 only (d >= 2 needs "
            "E tr B^j of a matrix-variate Beta); use conditional_augment_test_error"
        )
    if isinstance(real_fraction, bool) or not 0 <= real_fraction <= 1 or abs(real_fraction * T_ % 1 - 0.5) < 0.5 - 1e-9:
        raise ValueError(f"real_fraction must be in [0, 1] with real_fraction * T whole, got {real_fraction!r}")
    return int(round(real_fraction * T_)), _shift(n_, convention)
