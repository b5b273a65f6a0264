r"""Replace regime: each generation refits on ``M`` samples of the previous fit only.

:func:`replace_derivation` derives every law from the one-step recursion in
SymPy (Shumailov et al., Nature 2024, the theorem on recursive Gaussian
fitting; the MLE variant is Kazdan et al. 2024's estimator); the numeric
functions below evaluate the derived closed forms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..frozen import frozen
from .checks import _check_common, _generations, _need_det, _out
from .symbolic import (
    _M,
    _apply_moments,
    _d,
    _expect,
    _fit_denominator,
    _j,
    _lam,
    _linear_coefficients,
    _log_gamma_form,
    _n,
    _power_limit,
    _q,
    _s,
    chi2_moments,
    wishart_trace_moments,
)


# ---------------------------------------------------------------------------
# Replace.
# ---------------------------------------------------------------------------
@frozen(("unbiased",), ("mle",))
def replace_derivation(estimator: str) -> dict[str, object]:
    r"""Derive every replace-regime law from the one-step recursion.

    One step, for one coordinate i (the conditional expectations of
    :math:`(\mu_n - \mu)_i^2` and :math:`(\Sigma_n)_{ii}` involve the old fit
    only through :math:`(\mu_{n-1} - \mu)_i` and :math:`(\Sigma_{n-1})_{ii}`,
    so summing over i gives the trace laws for any :math:`\Sigma`): with offset
    :math:`e = (\mu_{n-1} - \mu)_i` and previous fitted variance
    :math:`w^2 = (\Sigma_{n-1})_{ii}`,

    .. math:: \mu_n - \mu = e + w Z/\sqrt M, \qquad
              \sigma_n^2 = w^2 X / D, \quad X \sim \chi^2_{M-1},

    :math:`D = M - 1` (unbiased) or :math:`M` (MLE), :math:`Z, X` independent
    of each other and of the past. SymPy computes the conditional moments,
    checks that they close linearly, and solves:

    * :math:`E\|\mu_n - \mu\|^2 = \operatorname{tr}\Sigma\,\sum_{i<n} r^i / M`
      with :math:`r = (M-1)/D`: :math:`n\operatorname{tr}\Sigma/M` (unbiased),
      :math:`\operatorname{tr}\Sigma\,(1 - (1-1/M)^n)` (MLE);
    * :math:`E[\text{variance}] = r^n`; :math:`E[\text{std}] = f^n`,
      :math:`f = E\sqrt{X/D}` (:math:`c_4(M)` for unbiased);
    * :math:`\operatorname{Var}[\text{variance}]` (any dim) from the closed
      2x2 recursion in :math:`(E(\operatorname{tr}\Sigma)^2, E\operatorname{tr}\Sigma^2)`
      built on :func:`wishart_trace_moments`;
    * :math:`E[\text{log\_det}] = n\,\delta_d`,
      :math:`\delta_d = \sum_{j=1}^d [\psi((M-j)/2) + \log 2] - d\log D` (Bartlett),
      and :math:`\operatorname{Var}[\text{log\_det}] = n\sum_j \psi_1((M-j)/2)`;
    * 1-D :math:`E W_2^2 = \sigma^2(\alpha_n + r^n - 2 f^n + 1)`.

    Args:
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        dict of SymPy expressions in ``n, q, d, sigma2`` (see :func:`symbols`):
        ``step`` (the one-step coefficients), ``mean_sq_error``, ``variance``,
        ``std`` (1-D), ``std_factor``, ``var_variance``, ``log_det``,
        ``log_det_drift`` (per generation, any d), ``var_log_det``, ``w2_sq``
        (1-D), ``limits`` (n -> oo of each) and ``conserved`` (MLE only:
        ``mean_sq_error + tr Sigma * variance``).
    """
    D = _fit_denominator(estimator, _M)
    chi = chi2_moments()
    e = sp.Symbol("e", real=True)
    w = sp.Symbol("w", positive=True)
    z, x = sp.symbols("z x")
    ph = {z: ("normal01", None), x: ("chi2", _q)}
    mu_new = e + w * z / sp.sqrt(_M)
    var_new = w**2 * x / D

    # one-step conditional moments and closure
    a_e, a_w, a_c = _linear_coefficients(_expect(mu_new**2, ph), [e**2, w**2])
    b_e, b_w, b_c = _linear_coefficients(_expect(var_new, ph), [e**2, w**2])
    h_e, h_w4, h_c = _linear_coefficients(_expect(var_new**2, ph), [e**2, w**4])
    assert a_e == 1 and a_c == 0 and b_e == 0 and b_c == 0 and h_e == 0 and h_c == 0
    r = b_w  # E[variance_n | past] = r * variance_{n-1}
    f = sp.simplify(chi["sqrt"] / sp.sqrt(D))  # E[std_n | past] = f * std_{n-1}
    drift1 = sp.simplify(chi["mean_log"] - sp.log(D))  # E[log var_n - log var_{n-1}]

    # n-step solutions (normalised: truth variance 1 per coordinate)
    beta = sp.Function("beta")
    beta_n = sp.rsolve(beta(_n + 1) - r * beta(_n), beta(_n), {beta(0): 1})
    j0 = sp.Symbol("i", integer=True, nonnegative=True)
    alpha_n = sp.simplify(sp.summation(a_w * beta_n.subs(_n, j0), (j0, 0, _n - 1)))
    assert sp.simplify(alpha_n - alpha_n.subs(_n, _n - 1) - a_w * beta_n.subs(_n, _n - 1)) == 0
    assert alpha_n.subs(_n, 0) == 0
    gam = sp.Function("gamma_")
    gamma_n = sp.rsolve(gam(_n + 1) - f * gam(_n), gam(_n), {gam(0): 1})
    hh = sp.Function("h")
    h_n = sp.rsolve(hh(_n + 1) - h_w4 * hh(_n), hh(_n), {hh(0): 1})  # E[variance_n^2], 1-D

    # 1-D W2: E[(mu_n - mu)^2 + (sigma_n - sigma)^2] expanded and closed.
    sig = sp.sqrt(_s)
    sd_n = sp.Symbol("sd_n", positive=True)
    err_n = sp.Symbol("err_n", real=True)
    G = sp.Symbol("G", positive=True)  # stands for E[std_n]
    w2_poly = sp.expand(err_n**2 + (sd_n - sig) ** 2)
    w2_in_std = _apply_moments(w2_poly, (err_n, sd_n), {(2, 0): _s * alpha_n, (0, 2): _s * beta_n, (0, 1): sig * G})
    w2 = sp.simplify(w2_in_std.subs(G, gamma_n))

    # dim-d log det via Bartlett: log det W = log det S + sum_j log chi2_{q-j+1}
    drift_d = sp.Sum(chi["mean_log"].subs(_q, _q - _j + 1) - sp.log(D), (_j, 1, _d))
    var_log_step = sp.Sum(chi["var_log"].subs(_q, _q - _j + 1), (_j, 1, _d))
    ell = sp.Function("ell")
    log_det_n = sp.rsolve(ell(_n + 1) - ell(_n) - drift1, ell(_n), {ell(0): 0})
    assert sp.simplify(log_det_n - _n * drift1) == 0
    assert sp.simplify(drift_d.subs(_d, 1).doit() - drift1) == 0

    # Var[variance] in any dim: (P1, P2) = (E (tr Sigma_n)^2, E tr Sigma_n^2), truth sigma2 = 1.
    wm = wishart_trace_moments()
    p1, p2 = wm["p1"], wm["p2"]
    rows = [_linear_coefficients(sp.expand(m / D**2), [p1**2, p2]) for m in (wm["tr_sq"], wm["tr_of_sq"])]
    assert all(c[2] == 0 for c in rows)
    Amat = sp.Matrix([[rows[0][0], rows[0][1]], [rows[1][0], rows[1][1]]])
    P, Dg = Amat.diagonalize()
    lams = [sp.factor(Dg[i, i]) for i in range(2)]
    assert (Amat * P - P * sp.diag(*lams)).applyfunc(sp.simplify) == sp.zeros(2, 2)  # eigenpairs exact
    w0 = P.inv() * sp.Matrix([_d**2, _d])  # v_0 = (d^2, d) in the eigenbasis
    coeffs = [sp.factor(sp.simplify(P[0, i] * w0[i] / _d**2)) for i in range(2)]
    r2 = sp.factor(r**2)
    # Var[variance_n] = E[(tr Sigma_n)^2]/(d sigma2)^2 - beta_n^2 = sum_i c_i lam_i^n - r^(2n)
    var_variance = coeffs[0] * lams[0] ** _n + coeffs[1] * lams[1] ** _n - r2**_n
    lam_max = sp.factor(_q * (_q + 2) / D**2)
    i_max = [i for i in range(2) if sp.simplify(lams[i] - lam_max) == 0]
    assert len(i_max) == 1
    # 1-D reduces to the scalar recursion E[variance_n^2] = h^n: coefficient 1 on h, 0 on the other
    assert sp.simplify(lams[i_max[0]] - h_w4) == 0
    assert sp.simplify(coeffs[i_max[0]].subs(_d, 1) - 1) == 0 and coeffs[1 - i_max[0]].subs(_d, 1) == 0
    assert sp.simplify(h_n - h_w4**_n) == 0

    mean_sq = _d * _s * alpha_n
    limits = {
        "mean_sq_error": sp.limit(mean_sq, _n, sp.oo),
        "variance": _power_limit(r),
        # f < 1 and the drift < 0 by Jensen (chi2_moments); SymPy can't sign gamma ratios.
        "std": _power_limit(f, below_one_proved=True),
        "log_det": -sp.oo,
        # the dominant eigenvalue q(q+2)/D^2 beats |q(q-1)|/D^2 for integer q >= 1
        "var_variance": _power_limit(lam_max) - _power_limit(r**2),
        "w2_sq": sp.limit(w2_in_std.subs(G, 0), _n, sp.oo),
    }
    out: dict[str, object] = {
        "step": {
            "mean_sq_from_mean_sq": a_e,
            "mean_sq_from_var": a_w,
            "variance_ratio": r,
            "std_ratio": f,
            "variance_sq_ratio": h_w4,
            "log_var_increment": drift1,
        },
        "mean_sq_error": mean_sq,
        "variance": beta_n,
        "std": gamma_n,
        "std_factor": f,
        "variance_sq": h_n,
        "var_variance": var_variance,
        "log_det": _n * drift_d,
        "log_det_drift": drift_d,
        "log_det_drift_1d": drift1,
        "var_log_det": _n * var_log_step,
        "w2_sq": w2,
        "w2_sq_in_std": w2_in_std,
        "std_symbol": G,
        "limits": limits,
    }
    if estimator == "mle":
        out["conserved"] = sp.simplify(alpha_n + beta_n)
    return out


# ---------------------------------------------------------------------------
# Numeric functions: replace.
# ---------------------------------------------------------------------------
@functools.cache
def _replace_numeric(estimator: str, dim: int) -> dict[str, Callable]:
    r = replace_derivation(estimator)
    drift = r["log_det_drift"].subs(_d, dim).doit()
    var_log = r["var_log_det"].subs(_d, dim).doit()
    h, rest = _log_std_factor_parts(estimator)
    log_f = _log_std_factor_numeric(estimator)
    return {
        "mean_sq_error": _lam(r["mean_sq_error"].subs(_d, dim), [_n, _q, _s]),
        "variance": _lam(r["variance"], [_n, _q]),
        # log E[std_n] = n log f, with log f evaluated stably (no gamma overflow or cancellation)
        "log_std": lambda nn, qq: nn * log_f(qq),
        "w2_sq_in_std": _lam(r["w2_sq_in_std"], [_n, _q, _s, r["std_symbol"]]),
        "var_variance": _lam(r["var_variance"].subs(_d, dim), [_n, _q]),
        "log_det": _lam(_n * drift, [_n, _q]),
        "drift": _lam(drift, [_q]),
        "var_log_det": _lam(var_log, [_n, _q]),
    }


_X = sp.Symbol("x", positive=True)
_H_EXACT = sp.loggamma(_X + sp.Rational(1, 2)) - sp.loggamma(_X) - sp.log(_X) / 2
_H_SWITCH = 20.0  # use the asymptotic series for x = (M-1)/2 >= this


@frozen(("unbiased",), ("mle",))
def _log_std_factor_parts(estimator: str) -> tuple[sp.Expr, sp.Expr]:
    r"""Split :math:`\log f = h((M-1)/2) + \text{rest}(M)` and derive :math:`h`'s series.

    :math:`h(x) = \log\Gamma(x+\frac12) - \log\Gamma(x) - \frac12\log x` is
    :math:`O(1/x)`, but the log-gamma difference cancels catastrophically for
    large x; SymPy derives its asymptotic series (Stirling) through
    :math:`x^{-11}`, used for :math:`x \ge 20` (truncation error below
    :math:`10^{-17}` relative).
    """
    log_f = _log_gamma_form(replace_derivation(estimator)["std_factor"])
    rest = sp.simplify(sp.expand_log(log_f - _H_EXACT.subs(_X, _q / 2), force=True))
    assert not rest.has(sp.loggamma) and not rest.has(sp.gamma)
    assert (rest == 0) == (estimator == "unbiased")
    series = sp.series(_H_EXACT, _X, sp.oo, 12).removeO()
    # the constant term of the series (log(2 pi)/2 - log(2)/2 - log(pi)/2) must vanish
    assert sp.simplify(sp.expand_log(sum(t for t in sp.Add.make_args(series) if not t.has(_X)), force=True)) == 0
    return sp.expand(series), rest


@functools.cache
def _log_std_factor_numeric(estimator: str) -> Callable:
    series, rest = _log_std_factor_parts(estimator)
    h_exact = _lam(_H_EXACT, [_X])
    h_series = _lam(series, [_X])
    rest_f = _lam(rest, [_q])

    def log_f(qq):
        x = np.asarray(qq, dtype=np.float64) / 2
        h = np.where(x >= _H_SWITCH, h_series(np.maximum(x, _H_SWITCH)), h_exact(np.minimum(x, _H_SWITCH)))
        return h + rest_f(qq)

    return log_f


def replace_mean_sq_error(n: ArrayLike, *, dim: int, M: int, sigma2: float, estimator: str) -> np.ndarray:
    r"""E||mu_n - mu||^2 under replace (derived).

    .. math:: E\|\mu_n - \mu\|^2 = \frac{d\sigma^2}{M}\sum_{i=0}^{n-1} r^i,\qquad
              r = \frac{M-1}{D}

    i.e. :math:`n d\sigma^2/M` (unbiased, linear growth; Shumailov et al. 2024,
    Gaussian theorem) and :math:`d\sigma^2(1 - (1 - 1/M)^n) \to d\sigma^2`
    (MLE, saturating; Kazdan et al.'s estimator). Derived in
    :func:`replace_derivation` from :math:`\mu_n = \mu_{n-1} +
    \Sigma_{n-1}^{1/2} Z/\sqrt M`. Holds for any :math:`\Sigma` with
    :math:`d\sigma^2 = \operatorname{tr}\Sigma`.

    Args:
        n: generation(s), integers >= 0 (0 = truth).
        dim: dimension d >= 1.
        M: samples per generation, >= 2.
        sigma2: truth variance per coordinate (> 0).
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    n_arr = _generations(n)
    f = _replace_numeric(estimator, dim)["mean_sq_error"]
    return _out(f(n_arr.astype(np.float64), M - 1.0, sigma2), n_arr)


def replace_variance(n: ArrayLike, *, dim: int, M: int, estimator: str) -> np.ndarray:
    r"""E[tr Sigma_n / tr Sigma] under replace (derived): :math:`((M-1)/D)^n`.

    1 for the unbiased estimator (:math:`\operatorname{tr}\Sigma_n` is a
    martingale; Shumailov et al. 2024), :math:`(1 - 1/M)^n` for the MLE.
    Derived in :func:`replace_derivation` from
    :math:`E[\operatorname{tr} W | \Sigma_{n-1}] = (M-1)\operatorname{tr}\Sigma_{n-1}`.

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
    return _out(_replace_numeric(estimator, 1)["variance"](n_arr.astype(np.float64), M - 1.0), n_arr)


def replace_std(n: ArrayLike, *, M: int, estimator: str, dim: int = 1) -> np.ndarray:
    r"""E[sigma_n / sigma] under replace, 1-D (derived): :math:`f^n`.

    :math:`f = E\sqrt{\chi^2_{M-1}/D}`; for the unbiased estimator
    :math:`f = c_4(M) = \sqrt{2/(M-1)}\,\Gamma(M/2)/\Gamma((M-1)/2)`
    (Shumailov et al. 2024), for the MLE :math:`f = \sqrt{(M-1)/M}\,c_4(M)`.
    :math:`f < 1` by Jensen, so :math:`E\sigma_n \to 0` geometrically even
    though :math:`E\sigma_n^2` is constant (unbiased). Evaluated as
    :math:`\exp(n\log f)` with log-gamma, so large M does not overflow.

    Args:
        n: generation(s), integers >= 0.
        M: samples per generation, >= 2.
        estimator: ``"unbiased"`` or ``"mle"``.
        dim: must be 1 (``std`` is a 1-D metric).

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    if dim != 1:
        raise ValueError("std is a 1-D metric (dim must be 1); use variance or log_det in several dimensions")
    n_arr = _generations(n)
    return _out(np.exp(_replace_numeric(estimator, 1)["log_std"](n_arr.astype(np.float64), M - 1.0)), n_arr)


def replace_log_det(n: ArrayLike, *, dim: int, M: int, estimator: str) -> np.ndarray:
    r"""E[log det Sigma_n - log det Sigma] under replace (derived): :math:`n\,\delta_d`.

    .. math:: \delta_d = \sum_{j=1}^{d}\Big[\psi\Big(\frac{M-j}{2}\Big) + \log 2\Big] - d\log D,

    from the Bartlett decomposition :math:`\det W = \det\Sigma_{n-1}
    \prod_j \chi^2_{M-j}` (assumed) and :math:`E\log\chi^2_\nu = \psi(\nu/2)
    + \log 2` (derived from the Mellin transform). In 1-D with the unbiased
    estimator :math:`\delta_1 = \psi((M-1)/2) + \log(2/(M-1))` (Shumailov et al.
    2024). Needs :math:`M > d`. Independent of :math:`\Sigma`.

    Args:
        n: generation(s), integers >= 0.
        dim: dimension d < M.
        M: samples per generation, >= 2.
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _need_det(dim, M)
    n_arr = _generations(n)
    return _out(_replace_numeric(estimator, dim)["log_det"](n_arr.astype(np.float64), M - 1.0), n_arr)


def replace_log_det_rate(*, dim: int, M: int, estimator: str) -> float:
    r"""Almost-sure rate :math:`\lim_n \frac1n \log\det\Sigma_n` under replace (derived).

    :math:`\log\det\Sigma_n - \log\det\Sigma` is a sum of n i.i.d. increments
    :math:`\log\det(W'/D)`, :math:`W' \sim W(M-1, I)` (Bartlett), so by the
    strong law it divided by n tends a.s. to :math:`\delta_d` (see
    :func:`replace_log_det`), which is < 0 for every :math:`M > d` by strict
    Jensen (:math:`E\log(\chi^2_q/q) < \log E(\chi^2_q/q) = 0`). Hence
    :math:`\Sigma_n \to 0` a.s. (Shumailov et al. 2024: "collapse") while, for the
    unbiased estimator, :math:`E\operatorname{tr}\Sigma_n` stays constant. In 1-D
    (unbiased) :math:`\delta_1 = \psi((M-1)/2) + \log(2/(M-1)) = -1/(M-1) -
    1/(3(M-1)^2) + O(M^{-4})`.

    Args:
        dim: dimension d < M.
        M: samples per generation, >= 2.
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        the rate per generation (a float, negative).
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _need_det(dim, M)
    return float(_replace_numeric(estimator, dim)["drift"](M - 1.0))


def replace_var_log_det(n: ArrayLike, *, dim: int, M: int, estimator: str) -> np.ndarray:
    r"""Var[log det Sigma_n] under replace (derived): :math:`n\sum_{j=1}^d \psi_1((M-j)/2)`.

    The increments are i.i.d. with variance :math:`\sum_j
    \operatorname{Var}\log\chi^2_{M-j} = \sum_j \psi_1((M-j)/2)` (second
    derivative of the log-Mellin transform; Bartlett). Does not depend on the
    estimator (a constant shift). Not stated in the papers; used for the a.s.
    statement and as a Monte Carlo check. Needs :math:`M > d`.

    Args:
        n: generation(s), integers >= 0.
        dim: dimension d < M.
        M: samples per generation, >= 2.
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _need_det(dim, M)
    n_arr = _generations(n)
    return _out(_replace_numeric(estimator, dim)["var_log_det"](n_arr.astype(np.float64), M - 1.0), n_arr)


def replace_var_variance(n: ArrayLike, *, dim: int, M: int, estimator: str) -> np.ndarray:
    r"""Var[tr Sigma_n / tr Sigma] under replace, any dim (derived).

    From the closed recursion for :math:`(E(\operatorname{tr}\Sigma_n)^2,
    E\operatorname{tr}\Sigma_n^2)` (matrix :math:`\frac{1}{D^2}\begin{pmatrix}
    q^2 & 2q\\ q & q(q+1)\end{pmatrix}`, :math:`q = M-1`, eigenvalues
    :math:`q(q+2)/D^2` and :math:`q(q-1)/D^2`). Unbiased:

    .. math:: \frac{d+2}{3d}\Big(1+\frac{2}{M-1}\Big)^n + \frac{2(d-1)}{3d}
              \Big(1-\frac{1}{M-1}\Big)^n - 1,

    which in 1-D is :math:`(1 + 2/(M-1))^n - 1` (Shumailov et al. 2024 state
    :math:`\operatorname{Var}\sigma_n^2 = \sigma^4((1+2/(M-1))^n - 1)`; this is
    the same divided by :math:`\sigma^4`). Exponential growth: the metric's
    Monte Carlo error bars grow as well. MLE: tends to 0.

    Args:
        n: generation(s), integers >= 0.
        dim: dimension d >= 1.
        M: samples per generation, >= 2.
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    n_arr = _generations(n)
    with np.errstate(over="ignore"):  # (1 + 2/(M-1))^n may exceed float64: inf is the honest answer
        return _out(_replace_numeric(estimator, dim)["var_variance"](n_arr.astype(np.float64), M - 1.0), n_arr)


def replace_w2_sq(n: ArrayLike, *, M: int, sigma2: float, estimator: str, dim: int = 1) -> np.ndarray:
    r"""E[W_2^2(N(mu_n, sigma_n^2), N(mu, sigma^2))] under replace, 1-D (derived).

    .. math:: E W_2^2 = \sigma^2\big(\alpha_n + r^n - 2f^n + 1\big),

    with :math:`\alpha_n\sigma^2` the mean error, :math:`r^n` the variance and
    :math:`f^n` the std law. Unbiased: :math:`\sigma^2(n/M + 2(1 - c_4(M)^n))`
    (Shumailov et al. 2024). MLE: tends to :math:`2\sigma^2`. In several
    dimensions :math:`W_2^2` involves :math:`E\operatorname{tr}\Sigma_n^{1/2}`,
    which has no closed form across generations: ``dim > 1`` raises.

    Args:
        n: generation(s), integers >= 0.
        M: samples per generation, >= 2.
        sigma2: truth variance (> 0).
        estimator: ``"unbiased"`` or ``"mle"``.
        dim: must be 1.

    Returns:
        float64 array shaped like ``n``.

    Raises:
        NotImplementedError: for ``dim > 1``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    if dim != 1:
        raise NotImplementedError(
            "E W2^2 has no closed form for dim > 1: it needs E tr(Sigma_n^{1/2}), "
            "the expected sum of square roots of a product of Wishart matrices"
        )
    n_arr = _generations(n)
    num = _replace_numeric(estimator, 1)
    nf = n_arr.astype(np.float64)
    return _out(num["w2_sq_in_std"](nf, M - 1.0, sigma2, np.exp(num["log_std"](nf, M - 1.0))), n_arr)
