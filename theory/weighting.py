"""Weighting fresh real data against synthetic data, generation after generation.

Setting (He, Xu & Cheng 2025, *Golden Ratio Weighting Prevents Model Collapse*, arXiv
2502.18049): every generation has ``n`` fresh real samples and ``m`` synthetic samples
drawn from the previous fit; the new fit puts weight ``w`` on the real part, ``k = n/m``.

* **Gaussian** (the paper's estimator, as in the authors' code): the new mean and covariance
  are the convex combinations ``mu_t = w xbar_real + (1 - w) xbar_syn`` and
  ``Sigma_t = w S_real/c_n + (1 - w) S_syn/c_m`` (``c = N - 1`` unbiased, ``N`` MLE).
  :func:`derive_gaussian_weighting` derives, from this one-step recursion, the exact
  expectations ``a_t = E||mu_t - mu||^2`` and ``v_t = E tr Sigma_t`` at every generation
  (a linear recursion, solved by ``rsolve``), the stationary error
  ``(sigma2 D/n) [w^2 + k (1 - w)^2]/[1 - (1 - w)^2]`` (unbiased), its minimiser
  ``w*(k) = (sqrt(k^2 + 4k) - k)/2`` (the golden ratio's ``0.618`` at ``k = 1``, the
  paper's result), the minimum ``w*`` itself in units of ``sigma2 D/n``, and the
  naive proportional weight ``k/(1 + k)`` (pooling every sample alike), whose error is
  ``(1 + k)/(2 + k)``. Pooling is the package's ``mix`` regime without a weight.
* **Regression** with the weight on the loss (the authors' regression experiment: every
  real row weighs ``w/n``, every synthetic row ``(1 - w)/m``):
  :func:`derive_regression_weighting` derives the step ``A e_t = a X_r^T eps_r + b G_s e_{t-1}
  + b X_s^T eps_s`` (``A = a G_r + b G_s``, ``a = w/n``, ``b = (1 - w)/m``), decouples it in
  the eigenvectors of the pencil ``(b G_s, A)`` and solves each coordinate's recursion:
  ``E[||e_t||^2 | X] = sigma2 sum_i (V^T V)_ii q_i (1 - beta_i^{2t})/(1 - beta_i^2)``,
  ``q_i = a (1 - beta_i) + b beta_i``, exact given the design (derived here). Over
  Gaussian designs there is no closed form; as ``n, m -> oo`` at fixed ``d`` the pencil
  tends to ``beta_i = 1 - w``, ``q_i = w^2/n + (1 - w)^2/m``: the Gaussian law with
  ``sigma2 d`` (asymptotic, relative error ``O(d/min(n, m))``), so the golden ratio carries
  over in that limit. Had the estimator been the convex combination of two separate
  OLS fits, the law would be exact over designs with the one-fit variances
  ``sigma2 d/(n - d - 1)`` and ``sigma2 d/(m - d - 1)`` in place of ``sigma2 d/n`` and
  ``sigma2 d/m`` (:func:`convex_fits_error`, derived here, not simulated).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from .frozen import frozen

__all__ = [
    "derive_gaussian_weighting",
    "derive_regression_weighting",
    "optimal_weight",
    "naive_weight",
    "stationary_mean_error",
    "gaussian_mean_error",
    "gaussian_variance",
    "conditional_regression_error",
    "asymptotic_regression_error",
    "convex_fits_error",
]

t = sp.Symbol("t", integer=True, nonnegative=True)
w = sp.Symbol("w", positive=True)  # the real weight, in (0, 1]
k = sp.Symbol("k", positive=True)  # n/m
n_r, m_s = sp.symbols("n m", positive=True)  # real and synthetic samples per generation
sigma2, D = sp.symbols("sigma2 D", positive=True)
r_n, r_m = sp.symbols("r_n r_m", positive=True)  # (N - 1)/c_N: 1 unbiased, (N - 1)/N MLE
a_prev, v_prev = sp.symbols("a_prev v_prev", nonnegative=True)


@frozen()
def derive_gaussian_weighting() -> dict[str, sp.Expr]:
    r"""The weighted Gaussian's exact transient and its optimum (the golden ratio: He, Xu & Cheng 2025).

    1. *Step.* With ``e_t = mu_t - mu``: ``e_t = w r_t + (1 - w)(e_{t-1} + s_t)``, ``r_t ~ N(0, sigma2 I/n)``
       fresh, ``s_t`` the synthetic mean's deviation from ``mu_{t-1}``, ``E[s s^T | fit] = Sigma_{t-1}/m``;
       ``Sigma_t = w S_r/c_n + (1 - w) S_s/c_m`` with ``E S_r = (n - 1) sigma2 I``, ``E[S_s | fit] = (m - 1)
       Sigma_{t-1}``. Taking expectations (cross terms vanish: fresh, mean-zero draws):
       ``a_t = w^2 sigma2 D/n + (1 - w)^2 (a_{t-1} + v_{t-1}/m)``, ``v_t = w r_n sigma2 D + (1 - w) r_m v_{t-1}``,
       from ``a_0 = 0``, ``v_0 = sigma2 D`` (generation 1 draws both parts from the truth).
    2. *Solution.* ``rsolve`` on ``v_t``, then on ``a_t`` with ``v_{t-1}`` substituted; each checked
       against the recursion at ``t = 1..4``.
    3. *Unbiased* (``r = 1``): ``v_t = sigma2 D`` for all ``t`` and
       ``a_t = (sigma2 D/n) [w^2 + k(1-w)^2]/[1 - (1-w)^2] (1 - (1-w)^{2t})``.
    4. *Optimum.* ``d/dw`` of ``f(w) = [w^2 + k(1-w)^2]/[1 - (1-w)^2]`` vanishes at the root in
       ``(0, 1)`` of its numerator, ``w* = (sqrt(k^2 + 4k) - k)/2``; ``f(w*) = w*``; ``f(k/(1+k)) = (1+k)/(2+k)``.

    Returns:
        dict: ``a_step``, ``v_step`` (in ``a_prev, v_prev``), ``v`` and ``a`` (in ``t``; general ``r_n, r_m``),
        ``a_unbiased``, ``stationary`` (``f(w)`` with ``k``), ``optimal``, ``minimum``, ``naive``, ``naive_error``.
    """
    a_step = w**2 * sigma2 * D / n_r + (1 - w) ** 2 * (a_prev + v_prev / m_s)
    v_step = w * r_n * sigma2 * D + (1 - w) * r_m * v_prev
    # Undetermined coefficients on the geometric modes gamma = (1 - w)^2 and beta = (1 - w) r_m (rsolve
    # gives up on the geometric forcing), with G = gamma^t and B = beta^t as independent symbols.
    gamma, beta = (1 - w) ** 2, (1 - w) * r_m
    P, Q, R, G, B, V = sp.symbols("P Q R G B V")
    v_inf = sp.solve(V - v_step.subs(v_prev, V), V)[0]  # the fixed point
    v_form = v_inf + (sigma2 * D - v_inf) * B
    assert sp.simplify((v_inf + (sigma2 * D - v_inf) * B * beta) - v_step.subs(v_prev, v_form)) == 0
    v_t = v_form.subs(B, beta**t)
    ansatz = P + Q * G + R * B
    lhs = (P + Q * G * gamma + R * B * beta) - a_step.subs({a_prev: ansatz, v_prev: v_form})
    coeffs = sp.Poly(sp.expand(lhs), G, B).coeffs()
    sol = sp.solve([*coeffs, P + Q + R], [P, Q, R], dict=True)[0]
    a_t = ansatz.subs(sol).subs({G: gamma**t, B: beta**t})
    for tv in range(1, 5):  # the solutions satisfy the recursion
        assert sp.simplify(v_t.subs(t, tv) - v_step.subs(v_prev, v_t.subs(t, tv - 1))) == 0
        prev = {a_prev: a_t.subs(t, tv - 1), v_prev: v_t.subs(t, tv - 1)}
        assert sp.simplify(a_t.subs(t, tv) - a_step.subs(prev)) == 0
    unbiased = {r_n: 1, r_m: 1}
    assert sp.simplify(v_t.subs(unbiased) - sigma2 * D) == 0
    f = (w**2 + k * (1 - w) ** 2) / (1 - (1 - w) ** 2)
    a_unb = sp.factor(sp.simplify(a_t.subs(unbiased)))
    closed = sigma2 * D / n_r * f.subs(k, n_r / m_s) * (1 - (1 - w) ** (2 * t))
    assert sp.simplify(a_unb - closed) == 0
    numer = sp.numer(sp.together(sp.diff(f, w)))
    roots = [r for r in sp.solve(numer, w) if sp.simplify(r.subs(k, 1) - (sp.sqrt(5) - 1) / 2) == 0]
    assert len(roots) == 1
    w_star = sp.simplify(roots[0])
    assert sp.simplify(w_star - (sp.sqrt(k**2 + 4 * k) - k) / 2) == 0
    assert sp.simplify(sp.radsimp(f.subs(w, w_star)) - w_star) == 0  # the minimum is w* itself
    naive = k / (1 + k)
    naive_error = sp.factor(sp.simplify(f.subs(w, naive)))
    assert sp.simplify(naive_error - (1 + k) / (2 + k)) == 0
    return {
        "a_step": a_step,
        "v_step": v_step,
        "v": v_t,
        "a": a_t,
        "a_unbiased": closed,
        "stationary": f,
        "optimal": w_star,
        "minimum": w_star,
        "naive": naive,
        "naive_error": naive_error,
    }


@frozen()
def derive_regression_weighting() -> dict[str, sp.Expr]:
    r"""Regression with the weight on the loss: the step, its decoupling and each coordinate's law (derived here).

    1. *Step.* The weighted normal equations ``A w_t = a X_r^T y_r + b X_s^T y_s``, ``y_r = X_r w* + eps_r``,
       ``y_s = X_s w_{t-1} + eps_s``, give ``A e_t = a X_r^T eps_r + b G_s e_{t-1} + b X_s^T eps_s``
       (a polynomial identity, checked with symbolic matrices).
    2. *Decoupling.* ``b G_s V = A V diag(beta)``, ``V^T A V = I``: ``V^T a G_r V = I - diag(beta)``, so
       ``f = V^{-1} e`` obeys ``f_t = diag(beta) f_{t-1} + xi_t`` with ``Cov xi = sigma2 V^T (a^2 G_r + b^2 G_s) V
       = sigma2 diag(a (1 - beta) + b beta)``: independent coordinates.
    3. *Moments.* ``K_t = beta^2 K_{t-1} + sigma2 q`` solved by ``rsolve``: ``sigma2 q (1 - beta^{2t})/(1 - beta^2)``.
    4. *Limit* ``G_r = n I``, ``G_s = m I`` (``n, m >> d``): ``beta = 1 - w``, ``q = w^2/n + (1 - w)^2/m``,
       the Gaussian law of :func:`derive_gaussian_weighting` per coordinate.
    5. *Convex combination of two OLS fits* (not the authors' regression): ``e_t = w e_r + (1 - w)(e_{t-1} + e_s)``,
       ``E||e_r||^2 = sigma2 d/(n - d - 1)``: the Gaussian recursion with these one-fit errors, exact over designs.

    Returns:
        dict: ``K`` (in ``t, beta, q``), ``q`` (in ``a, b, beta``), ``limit`` (``K`` at the isotropic limit),
        ``convex`` (the convex-fits law, in ``t, d, n, m``).
    """
    # 1. the step, a polynomial identity (2 features, 3 real rows, 3 synthetic rows)
    a_, b_ = sp.symbols("a b", positive=True)
    XR, XS = (sp.Matrix(3, 2, sp.symbols(f"{x}1:7")) for x in ("r", "s"))
    ws, wp, eR, eS = (sp.Matrix(sp.symbols(f"{x}1:{r + 1}")) for x, r in (("ws", 2), ("wp", 2), ("eR", 3), ("eS", 3)))
    A = a_ * XR.T * XR + b_ * XS.T * XS
    rhs = a_ * XR.T * (XR * ws + eR) + b_ * XS.T * (XS * wp + eS) - A * ws
    step = a_ * XR.T * eR + b_ * XS.T * XS * (wp - ws) + b_ * XS.T * eS
    assert (rhs - step).applyfunc(sp.expand) == sp.zeros(2, 1)
    # 2. the noise covariance in the pencil's coordinates, with V^T a G_r V = 1 - beta, V^T b G_s V = beta
    beta, q = sp.symbols("beta q", nonnegative=True)
    q_expr = sp.expand(a_ * (1 - beta) + b_ * beta)  # a^2 G_r = a (a G_r), b^2 G_s = b (b G_s)
    # 3. one coordinate
    Kf = sp.Function("K")
    K_t = sp.factor(sp.rsolve(Kf(t + 1) - beta**2 * Kf(t) - sigma2 * q, Kf(t), {Kf(0): 0}))
    for tv in range(1, 4):
        assert sp.simplify(K_t.subs(t, tv) - beta**2 * K_t.subs(t, tv - 1) - sigma2 * q) == 0
    # 4. the isotropic limit is the Gaussian law (unbiased) per coordinate, with D = 1
    iso = {a_: w / n_r, b_: (1 - w) / m_s}
    beta_lim = sp.simplify((b_ * m_s / (a_ * n_r + b_ * m_s)).subs(iso))
    assert sp.simplify(beta_lim - (1 - w)) == 0
    limit = sp.simplify(K_t.subs(q, q_expr.subs(iso).subs(beta, beta_lim)).subs(beta, beta_lim))
    gauss = derive_gaussian_weighting()["a_unbiased"].subs(D, 1)
    assert sp.simplify(limit - gauss) == 0
    # 5. the convex combination of two separate OLS fits
    d_ = sp.Symbol("d", positive=True)
    one_r, one_s = sigma2 * d_ / (n_r - d_ - 1), sigma2 * d_ / (m_s - d_ - 1)
    af = sp.Function("a")
    convex_rec = af(t + 1) - (1 - w) ** 2 * af(t) - w**2 * one_r - (1 - w) ** 2 * one_s
    convex = sp.factor(sp.rsolve(convex_rec, af(t), {af(0): 0}))
    return {"K": K_t, "q": q_expr, "limit": limit, "convex": convex}


# ---------------------------------------------------------------------------------------------------------
# Numeric functions (float64; generation 0 is the truth, error 0)


def _check_weight(w_: float, allow_zero: bool = True) -> None:
    if isinstance(w_, bool) or not (0 <= float(w_) <= 1) or (not allow_zero and float(w_) == 0):
        raise ValueError(f"the real weight must lie in {'[' if allow_zero else '('}0, 1], got {w_!r}")


def _geometric(r: np.ndarray, t_: np.ndarray) -> np.ndarray:
    """``(1 - r^t)/(1 - r)`` for ``0 <= r <= 1`` (``t`` at ``r = 1``), without cancellation."""
    r = np.asarray(r, np.float64)
    safe = np.where(r < 1, r, 0.5)
    out = -np.expm1(t_ * np.log(np.maximum(safe, 1e-300))) / (1 - safe)
    return np.where(r < 1, np.where(safe > 0, out, (t_ > 0).astype(np.float64)), t_.astype(np.float64))


def optimal_weight(k_: ArrayLike) -> np.ndarray:
    """``w*(k) = (sqrt(k^2 + 4k) - k)/2``, the weight minimising the stationary error (He, Xu & Cheng 2025)."""
    k_ = np.asarray(k_, np.float64)
    return 2.0 * k_ / (np.sqrt(k_**2 + 4 * k_) + k_)  # the same value, no cancellation at large k


def naive_weight(k_: ArrayLike) -> np.ndarray:
    """``k/(1 + k) = n/(n + m)``: every sample weighed alike (the pooled estimator)."""
    k_ = np.asarray(k_, np.float64)
    return k_ / (1 + k_)


def stationary_mean_error(w_: ArrayLike, k_: ArrayLike) -> np.ndarray:
    """``n lim_t E||mu_t - mu||^2/(sigma2 D) = [w^2 + k (1 - w)^2]/[1 - (1 - w)^2]`` (unbiased covariance).

    Infinite at ``w = 0`` (no real data: the error random-walks).
    """
    w_, k_ = np.broadcast_arrays(np.asarray(w_, np.float64), np.asarray(k_, np.float64))
    denom = w_ * (2 - w_)
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, (w_**2 + k_ * (1 - w_) ** 2) / np.where(denom > 0, denom, 1.0), np.inf)


def _counts(n_: int, m_: int) -> None:
    if isinstance(n_, bool) or isinstance(m_, bool) or int(n_) < 1 or int(m_) < 1:
        raise ValueError(f"real and synthetic sample counts must be >= 1, got n={n_!r}, m={m_!r}")


def gaussian_variance(
    t_: ArrayLike, w_: float, n_: int, m_: int, sigma2_: float = 1.0, dim: int = 1, estimator: str = "unbiased"
) -> np.ndarray:
    """``E tr Sigma_t/(dim sigma2)`` of the weighted Gaussian (exact; 1 for the unbiased estimator).

    ``v_t = v_oo + (1 - v_oo) beta^t``, ``beta = (1 - w) r_m``, ``v_oo = w r_n/(1 - beta)``, ``r_N = (N - 1)/c_N``
    (:func:`derive_gaussian_weighting`).
    """
    _check_weight(w_)
    _counts(n_, m_)
    t_ = np.asarray(t_, np.float64)
    rn, rm = _ratios(n_, m_, estimator)
    beta = (1 - w_) * rm
    # v_t/(D sigma2) = beta^t + w r_n (1 - beta^t)/(1 - beta)
    return beta**t_ + w_ * rn * _geometric(np.full(t_.shape, beta), t_)


def _ratios(n_: int, m_: int, estimator: str) -> tuple[float, float]:
    if estimator not in ("unbiased", "mle"):
        raise ValueError(f"unknown estimator {estimator!r}; choose one of: unbiased, mle")
    if estimator == "unbiased":
        return 1.0, 1.0
    return (n_ - 1) / n_, (m_ - 1) / m_


def gaussian_mean_error(
    t_: ArrayLike, w_: float, n_: int, m_: int, sigma2_: float = 1.0, dim: int = 1, estimator: str = "unbiased"
) -> np.ndarray:
    """``E||mu_t - mu||^2`` of the weighted Gaussian at generation(s) ``t`` (exact, derived here from the step).

    ``a_t = (1 - w)^2 a_{t-1} + w^2 sigma2 D/n + (1 - w)^2 v_{t-1}/m`` from ``a_0 = 0``
    (:func:`derive_gaussian_weighting`): with ``gamma = (1 - w)^2``, ``beta = (1 - w) r_m`` and
    ``v_t = v_oo + (v_0 - v_oo) beta^t``,
    ``a_t = c0 (1 - gamma^t)/(1 - gamma) + c1 sum_{j<t} gamma^{t-1-j} beta^j``, ``c0 = w^2 sigma2 D/n + gamma v_oo/m``,
    ``c1 = gamma (v_0 - v_oo)/m`` (the sum evaluated as a difference quotient, or ``t gamma^{t-1}`` when equal).
    For the unbiased estimator: ``(sigma2 D/n) f(w) (1 - (1 - w)^{2t})``.
    """
    _check_weight(w_)
    _counts(n_, m_)
    t_ = np.asarray(t_, np.float64)
    rn, rm = _ratios(n_, m_, estimator)
    scale = sigma2_ * dim
    gamma, beta = (1 - w_) ** 2, (1 - w_) * rm
    v0 = scale
    v_inf = w_ * rn * scale / (1 - beta) if beta < 1 else v0
    c0 = w_**2 * scale / n_ + gamma * v_inf / m_
    c1 = gamma * (v0 - v_inf) / m_
    first = c0 * _geometric(np.full(t_.shape, gamma), t_)
    if abs(beta - gamma) > 1e-9:
        mixed = (beta**t_ - gamma**t_) / (beta - gamma)
    else:
        mixed = t_ * gamma ** np.maximum(t_ - 1, 0)
    return first + c1 * mixed


def _pencil(G_r: np.ndarray, G_s: np.ndarray, w_: float, n_: int, m_: int):
    from scipy.linalg import eigh

    a_, b_ = w_ / n_, (1 - w_) / m_
    A = a_ * G_r + b_ * G_s
    beta, V = eigh(b_ * G_s, A)
    return np.clip(beta, 0.0, 1.0), np.sum(V**2, axis=0), a_, b_


def conditional_regression_error(
    t_: ArrayLike, G_r: ArrayLike, G_s: ArrayLike, n_: int, m_: int, w_: float, sigma2_: float = 1.0
) -> np.ndarray:
    """``E[||w_t - w*||^2 | X]`` for the loss-weighted fit (exact given the design; derived here).

    ``sigma2 sum_i (V^T V)_ii q_i (1 - beta_i^{2t})/(1 - beta_i^2)``, ``q_i = a (1 - beta_i) + b beta_i``, over
    the pencil ``(b G_s, a G_r + b G_s)`` with ``a = w/n``, ``b = (1 - w)/m``
    (:func:`derive_regression_weighting`).

    Args:
        t_: generation(s), ``t >= 0``.
        G_r, G_s: ``X_r^T X_r`` of the ``n`` real rows and ``X_s^T X_s`` of the ``m`` synthetic rows.
        n_, m_: the row counts (they set the per-row weights).
        w_: the real weight in ``[0, 1]`` (``A`` must be nonsingular: ``G_s`` at ``w = 0``, ``G_r`` at ``w = 1``).
        sigma2_: label noise variance.

    Returns:
        float64 array shaped like ``t_``.
    """
    _check_weight(w_)
    _counts(n_, m_)
    t_ = np.asarray(t_, np.float64)
    beta, vv, a_, b_ = _pencil(np.asarray(G_r, np.float64), np.asarray(G_s, np.float64), w_, n_, m_)
    q = a_ * (1 - beta) + b_ * beta
    per = q[None, :] * _geometric(np.broadcast_to(beta**2, (t_.size, beta.size)), t_.reshape(-1, 1))
    return (sigma2_ * per @ vv).reshape(t_.shape)


def asymptotic_regression_error(
    t_: ArrayLike, w_: float, n_: int, m_: int, d_: int, sigma2_: float = 1.0
) -> np.ndarray:
    """The ``n, m -> oo`` (fixed ``d``) law of the loss-weighted regression: the Gaussian mean law with ``D = d``.

    ``sigma2 d [w^2/n + (1 - w)^2/m] (1 - (1 - w)^{2t})/(1 - (1 - w)^2)`` (:func:`derive_regression_weighting`,
    step 4); the relative error at finite sizes is ``O(d/min(n, m))``.
    """
    return gaussian_mean_error(t_, w_, n_, m_, sigma2_, d_, "unbiased")


def convex_fits_error(t_: ArrayLike, w_: float, n_: int, m_: int, d_: int, sigma2_: float = 1.0) -> np.ndarray:
    """``E||w_t - w*||^2`` for the convex combination of two OLS fits (exact over Gaussian designs; derived here).

    ``sigma2 d [w^2/(n-d-1) + (1-w)^2/(m-d-1)] (1 - (1-w)^{2t})/(1 - (1-w)^2)`` (step 5 of
    :func:`derive_regression_weighting`); needs ``n, m > d + 1``.
    """
    _check_weight(w_)
    if min(n_, m_) <= d_ + 1:
        raise ValueError(f"each part needs more than d + 1 rows, got n={n_}, m={m_}, d={d_}")
    t_ = np.asarray(t_, np.float64)
    per = sigma2_ * d_ * (w_**2 / (n_ - d_ - 1) + (1 - w_) ** 2 / (m_ - d_ - 1))
    return per * _geometric(np.full(t_.shape, (1 - w_) ** 2), t_)
