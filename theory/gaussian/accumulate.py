r"""Accumulate regime: each generation refits on all samples so far, real and synthetic, pooled.

:func:`accumulate_derivation` derives the laws from the pooled one-step
recursion in SymPy (Dey & Donoho 2024's pi^2/6 pathway; Kazdan et al. 2024;
Gerstgrasser et al. 2024); the numeric functions iterate the derived exact
recursion.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..frozen import frozen
from .checks import _check_common, _generations, _out
from .symbolic import _M, _d, _expect, _fit_denominator, _j, _lam, _linear_coefficients, _n, _q, _s


# ---------------------------------------------------------------------------
# Accumulate.
# ---------------------------------------------------------------------------
def _rising_to_gamma(expr: sp.Expr) -> sp.Expr:
    return expr.replace(sp.RisingFactorial, lambda x, k: sp.gamma(x + k) / sp.gamma(x))


@functools.cache
def _loggamma_lemma() -> bool:
    """lim_{n->oo} [loggamma(n + a) - loggamma(n) - a log n] = 0 for real a (SymPy)."""
    a = sp.Symbol("a", real=True)
    npos = sp.Symbol("N", positive=True)
    return sp.limit(sp.loggamma(npos + a) - sp.loggamma(npos) - a * sp.log(npos), npos, sp.oo) == 0


def _gamma_product_limit(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    r"""lim_{var->oo} of C * prod gamma(var + a_i)^{e_i}.

    By the lemma :math:`\log\Gamma(n+a) = \log\Gamma(n) + a\log n + o(1)`
    (:func:`_loggamma_lemma`), the n-dependent part tends to 1 exactly when
    :math:`\sum e_i = 0` and :math:`\sum e_i a_i = 0`; both are checked.
    """
    assert _loggamma_lemma()
    const = sp.Integer(1)
    sum_e = sp.Integer(0)
    sum_ea = sp.Integer(0)
    for factor in sp.Mul.make_args(expr):
        base, ex = factor.as_base_exp()
        if var in factor.free_symbols:
            if not isinstance(base, sp.gamma) or var in ex.free_symbols:
                raise AssertionError(f"unexpected n-dependent factor {factor}")
            shift = sp.simplify(base.args[0] - var)
            assert var not in shift.free_symbols
            sum_e += ex
            sum_ea += ex * shift
        else:
            const *= factor
    assert sp.simplify(sum_e) == 0 and sp.simplify(sum_ea) == 0, (sum_e, sum_ea)
    return const


@frozen(("unbiased",), ("mle",))
def accumulate_derivation(estimator: str) -> dict[str, object]:
    r"""Derive the accumulate-regime laws from the pooled one-step recursion.

    Generation :math:`n \ge 2` adds a batch of ``M`` samples from model
    :math:`n-1` (batch mean :math:`\bar x_n \sim N(\mu_{n-1}, \Sigma_{n-1}/M)`,
    within scatter :math:`W_n`, :math:`E[W_n|\text{past}] = (M-1)\Sigma_{n-1}`)
    to the :math:`(n-1)M` pooled samples; by :func:`check_pooling_identities`

    .. math:: \mu_n = \mu_{n-1} + \frac{\bar x_n - \mu_{n-1}}{n}, \quad
              S_n = S_{n-1} + W_n + \frac{(n-1)M}{n}(\bar x_n - \mu_{n-1})(\cdot)^T,

    with :math:`S_{n-1} = D_{n-1}\Sigma_{n-1}`, :math:`D_m = mM - 1` (unbiased)
    or :math:`mM` (MLE). SymPy gives, with :math:`\beta_n = E[\text{variance}_n]`,
    :math:`\alpha_n = E\|\mu_n-\mu\|^2 / \operatorname{tr}\Sigma`:

    * :math:`\beta_n = \beta_{n-1} r_n`, :math:`r_n = 1 - \frac{1}{n(nM-1)}`
      (unbiased, :math:`n \ge 2`, :math:`\beta_1 = 1`) or
      :math:`1 - \frac{1}{Mn^2}` (MLE, :math:`n \ge 1`); the product is a ratio
      of gamma functions and its limit is
      :math:`\frac{\sin(\pi/\sqrt M)}{\pi/\sqrt M}` (MLE) or
      :math:`\frac{\Gamma(2-1/M)}{\Gamma(2-\rho_+)\Gamma(2-\rho_-)}`,
      :math:`\rho_\pm = \frac{1 \pm \sqrt{4M+1}}{2M}` (unbiased);
    * :math:`\alpha_n = \alpha_{n-1} + \beta_{n-1}/(M n^2)`, so
      :math:`\alpha_n = \frac1M\sum_{i=1}^n \beta_{i-1}/i^2 < \frac{\pi^2}{6M}`
      (the Dey & Donoho pathway); for the MLE it telescopes to
      :math:`\alpha_n = 1 - \beta_n` exactly.

    Args:
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        dict with ``ratio`` (:math:`r_n` in ``n, q``), ``beta1``, ``variance``
        (closed form, gamma functions, valid for n >= 1), ``variance_limit``,
        ``mean_sq_error_recursion`` (:math:`\alpha_n - \alpha_{n-1}` in terms of
        :math:`\beta_{n-1}`, as the coefficient), ``mean_sq_error`` (a SymPy
        ``Sum``, or the closed form ``1 - beta_n`` times tr for the MLE),
        ``mean_sq_error_limit`` (MLE: closed form; unbiased: an unevaluated
        ``Sum``), ``mean_sq_error_bound`` (:math:`\pi^2/6 \cdot d\sigma^2/M`).
    """
    g = sp.Symbol("g", integer=True, positive=True)  # generation >= 2 written as g = p + 1
    p = sp.Symbol("p", integer=True, positive=True)
    e = sp.Symbol("e", real=True)
    w = sp.Symbol("w", positive=True)
    z, x = sp.symbols("z x")
    ph = {z: ("normal01", None), x: ("chi2", _q)}
    D_past = _fit_denominator(estimator, p * _M)
    D_new = _fit_denominator(estimator, (p + 1) * _M)
    xbar = e + w * z / sp.sqrt(_M)
    mu_new = e + (xbar - e) / (p + 1)
    S_new = D_past * w**2 + w**2 * x + p * _M / (p + 1) * (xbar - e) ** 2
    a_e, a_w, a_c = _linear_coefficients(_expect(mu_new**2, ph), [e**2, w**2])
    b_e, b_w, b_c = _linear_coefficients(_expect(S_new / D_new, ph), [e**2, w**2])
    assert a_e == 1 and a_c == 0 and b_e == 0 and b_c == 0
    ratio = sp.factor(sp.simplify(b_w.subs(p, g - 1)))
    mean_inc = sp.simplify(a_w.subs(p, g - 1))  # alpha_g - alpha_{g-1} = mean_inc * beta_{g-1}
    assert sp.simplify(mean_inc - 1 / (_M * g**2)) == 0
    # generation 1: the first fit on M real samples (same as a replace step from the truth)
    beta1 = sp.simplify(_q / _fit_denominator(estimator, _M))

    prod = sp.product(ratio, (g, 2, _n))
    beta_n = sp.simplify(beta1 * _rising_to_gamma(prod))
    # verify the closed form telescopes: beta_n / beta_{n-1} = r_n and beta_1 as derived
    npos = sp.Symbol("N", integer=True, positive=True)  # n = N + 1 >= 2
    check = sp.gammasimp(beta_n.subs(_n, npos + 1) / beta_n.subs(_n, npos) - ratio.subs(g, npos + 1))
    assert sp.simplify(check) == 0
    assert sp.simplify(sp.gammasimp(beta_n.subs(_n, 1)) - beta1) == 0
    beta_lim = sp.simplify(_gamma_product_limit(beta_n, _n))
    if estimator == "mle":
        beta_lim = sp.gammasimp(beta_lim)
        # telescoping: alpha_g - alpha_{g-1} = beta_{g-1} - beta_g  <=>  1/(M g^2) = 1 - r_g
        assert sp.simplify(mean_inc - (1 - ratio)) == 0
        assert sp.simplify(1 / _M - (1 - beta1)) == 0  # alpha_1 = 1 - beta_1
        alpha_n = 1 - beta_n
        alpha_lim = sp.simplify(1 - beta_lim)
    else:
        i = sp.Symbol("i", integer=True, positive=True)
        alpha_n = sp.Sum(beta_n.subs(_n, i - 1) / (_M * i**2), (i, 1, _n))
        alpha_lim = sp.Sum(beta_n.subs(_n, i - 1) / (_M * i**2), (i, 1, sp.oo))
    zeta2 = sp.summation(1 / _j**2, (_j, 1, sp.oo))
    return {
        "ratio": ratio.subs(g, _n),
        "beta1": beta1,
        "variance": beta_n,
        "variance_limit": beta_lim,
        "mean_sq_error_recursion": mean_inc.subs(g, _n),
        "mean_sq_error": _d * _s * alpha_n,
        "mean_sq_error_limit": _d * _s * alpha_lim,
        "mean_sq_error_bound": _d * _s * zeta2 / _M,
    }


# ---------------------------------------------------------------------------
# Numeric functions: accumulate (exact recursion, evaluated by cumulative products).
# ---------------------------------------------------------------------------
@functools.cache
def _accumulate_numeric(estimator: str) -> dict[str, Callable]:
    a = accumulate_derivation(estimator)
    return {
        "ratio": _lam(a["ratio"], [_n, _q]),
        "beta1": _lam(a["beta1"], [_q]),
        "variance_limit": _lam(a["variance_limit"], [_q]),
    }


def _accumulate_curves(estimator: str, M: int, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(alpha_n, beta_n) for n = 0..n_max from the derived recursion (normalised by tr Sigma)."""
    num = _accumulate_numeric(estimator)
    beta = np.ones(n_max + 1)
    if n_max >= 1:
        beta[1] = num["beta1"](M - 1.0)
    if n_max >= 2:
        g = np.arange(2, n_max + 1, dtype=np.float64)
        beta[2:] = beta[1] * np.cumprod(num["ratio"](g, M - 1.0))
    alpha = np.zeros(n_max + 1)
    if n_max >= 1:
        i = np.arange(1, n_max + 1, dtype=np.float64)
        alpha[1:] = np.cumsum(beta[:-1] / (M * i**2))
    return alpha, beta


def accumulate_variance(n: ArrayLike, *, dim: int, M: int, estimator: str) -> np.ndarray:
    r"""E[tr Sigma_n / tr Sigma] under accumulate (derived exact recursion).

    :math:`\beta_n = \beta_1\prod_{i=2}^n r_i` with :math:`r_i = 1 -
    \frac{1}{i(iM-1)}`, :math:`\beta_1 = 1` (unbiased) and :math:`r_i = 1 -
    \frac{1}{Mi^2}` for all :math:`i \ge 1` (MLE); see
    :func:`accumulate_derivation` (also a closed gamma-function form, checked
    against the recursion). Limits: :math:`\sin(\pi/\sqrt M)/(\pi/\sqrt M)`
    (MLE) and :math:`\Gamma(2-1/M)/(\Gamma(2-\rho_+)\Gamma(2-\rho_-))` (unbiased):
    the variance does not collapse (Gerstgrasser et al. 2024; Kazdan et al.
    2024), but it does shrink, also for the unbiased estimator (which is not a
    martingale here: the new batch is centred at the previous pooled mean).
    Holds for any :math:`\Sigma`.

    Args:
        n: generation(s), integers >= 0.
        dim: dimension (the law does not depend on it).
        M: samples per generation, >= 2.
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    n_arr = _generations(n)
    n_max = int(n_arr.max(initial=0))
    _, beta = _accumulate_curves(estimator, M, n_max)
    return _out(beta[n_arr], n_arr)


def accumulate_mean_sq_error(n: ArrayLike, *, dim: int, M: int, sigma2: float, estimator: str) -> np.ndarray:
    r"""E||mu_n - mu||^2 under accumulate (derived exact recursion).

    .. math:: E\|\mu_n - \mu\|^2 = \frac{d\sigma^2}{M}\sum_{i=1}^n \frac{\beta_{i-1}}{i^2}
              < \frac{\pi^2}{6}\,\frac{d\sigma^2}{M},

    bounded by :math:`\pi^2/6` times the one-generation error (the pathway of
    Dey & Donoho 2024). For the MLE it telescopes exactly:
    :math:`E\|\mu_n-\mu\|^2 = d\sigma^2(1 - \beta_n) \to d\sigma^2(1 -
    \operatorname{sinc}(\pi/\sqrt M))`. Holds for any :math:`\Sigma` with
    :math:`d\sigma^2 = \operatorname{tr}\Sigma`.

    Args:
        n: generation(s), integers >= 0.
        dim: dimension d >= 1.
        M: samples per generation, >= 2.
        sigma2: truth variance per coordinate (> 0).
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    n_arr = _generations(n)
    alpha, _ = _accumulate_curves(estimator, M, int(n_arr.max(initial=0)))
    return _out(dim * sigma2 * alpha[n_arr], n_arr)


def accumulate_limits(*, dim: int, M: int, sigma2: float, estimator: str, terms: int = 200_000) -> dict[str, float]:
    r"""n -> infinity limits under accumulate (derived).

    * ``variance``: the closed form of :func:`accumulate_derivation`.
    * ``mean_sq_error``: MLE closed form :math:`d\sigma^2(1 - \beta_\infty)`;
      unbiased: the exact series :math:`\frac{d\sigma^2}{M}\sum_i
      \beta_{i-1}/i^2`, summed to ``terms`` with the tail
      :math:`\sum_{i>J}\beta_{i-1}/i^2` bracketed by :math:`\beta_\infty\psi_1(J+1)`
      and :math:`\beta_J\psi_1(J+1)` (midpoint returned; ``mean_sq_error_err``
      is the half-width).
    * ``mean_sq_error_bound``: :math:`\frac{\pi^2}{6}\frac{d\sigma^2}{M}`, the
      Dey & Donoho bound (strict).

    Args:
        dim, M, sigma2, estimator: as elsewhere.
        terms: number of exact terms of the series (unbiased estimator).

    Returns:
        dict of floats.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    from scipy.special import polygamma

    beta_inf = float(_accumulate_numeric(estimator)["variance_limit"](M - 1.0))
    tr = dim * sigma2
    out = {"variance": beta_inf, "mean_sq_error_bound": tr * math.pi**2 / (6 * M)}
    if estimator == "mle":
        out["mean_sq_error"] = tr * (1.0 - beta_inf)
        out["mean_sq_error_err"] = 0.0
    else:
        alpha, beta = _accumulate_curves(estimator, M, terms)
        tail = float(polygamma(1, terms + 1)) / M
        lo, hi = alpha[-1] + beta_inf * tail, alpha[-1] + beta[-1] * tail
        out["mean_sq_error"] = float(tr * 0.5 * (lo + hi))
        out["mean_sq_error_err"] = float(tr * 0.5 * (hi - lo))
    return out
