r"""Gaussian refitting: SymPy derivations of the model-collapse laws, and fast numeric functions.

The model (Shumailov et al., Nature 2024, "AI models collapse when trained on
recursively generated data", the theorem on recursive Gaussian fitting; Kazdan
et al. 2024 "Collapse or Thrive?"; Bertrand et al. 2023; Dey & Donoho 2024):

* the truth is :math:`N(\mu, \Sigma)` in ``dim`` dimensions; generation 0 *is*
  the truth;
* generation 1 is fit on ``M`` real samples; generation :math:`n \ge 2` is fit on
  samples of generation :math:`n-1`'s fit, pooled according to the regime:

  - ``replace``: the ``M`` newest samples only, drawn from model :math:`n-1`;
  - ``accumulate``: all :math:`nM` samples so far (``M`` real and ``M`` from each
    of models :math:`1..n-1`), pooled: mean of all, scatter about the pooled mean;
  - ``mix``: ``k_real`` fresh real samples plus ``M - k_real`` from model
    :math:`n-1`, fit on those ``M``;
  - ``accumulate-subsample``: no closed form (every function returns ``None``);
* estimators: the sample mean, and the covariance ``scatter / (N - 1)``
  (``"unbiased"``) or ``scatter / N`` (``"mle"``), ``N`` the number of samples
  fitted and scatter :math:`\sum (x - \bar x)(x - \bar x)^T`.

Metrics at generation ``n`` (the simulator reports the same ones):
``mean_sq_error`` :math:`= \|\mu_n - \mu\|^2`, ``variance``
:math:`= \operatorname{tr}\Sigma_n / \operatorname{tr}\Sigma`, ``std`` (1-D)
:math:`= \sigma_n / \sigma`, ``log_det`` :math:`= \log\det\Sigma_n - \log\det\Sigma`,
``w2_sq`` (1-D) :math:`= (\mu_n - \mu)^2 + (\sigma_n - \sigma)^2`, the squared
2-Wasserstein distance between two 1-D Gaussians.

Parameterisation. Every law is invariant under translation of the truth and
under rotations, so the numeric functions take :math:`\Sigma = \sigma^2 I` and
the parameters ``dim, M, sigma2`` (and ``k_real`` for ``mix``). The expectations
of ``mean_sq_error`` and ``variance`` depend on :math:`\Sigma` only through
:math:`\operatorname{tr}\Sigma` in every regime (so they hold for any
:math:`\Sigma` with ``dim * sigma2`` read as :math:`\operatorname{tr}\Sigma`);
``log_det`` under ``replace`` does not depend on :math:`\Sigma` at all.

How the laws are obtained ("derive, don't transcribe"). Each regime has a
``*_derivation(estimator)`` function that builds the one-step recursion from
the sampling model with :mod:`sympy.stats` (normal and chi-square moments,
the chi-square Mellin transform :math:`E[X^t]`), checks that the conditional
expectations close linearly in a few moments, and solves the recursion with
``rsolve``, ``summation``, ``product`` or a matrix diagonalisation. The results
are cached (:func:`functools.lru_cache`) and turned into numeric functions with
``sympy.lambdify(..., modules=["scipy", "numpy"])``. Two facts are imported as
modelling assumptions and tested by Monte Carlo rather than derived: the
independence of the sample mean and the sample scatter of Gaussian samples
(Cochran), and the Bartlett decomposition of the Wishart determinant.
Everything else is derived.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.stats import ChiSquared, Normal
from sympy.stats import E as _stats_E

__all__ = [
    "ESTIMATORS",
    "REGIMES",
    "METRICS",
    "STATISTICS",
    "Law",
    "symbols",
    "in_terms_of_M",
    "chi2_moments",
    "wishart_trace_moments",
    "check_pooling_identities",
    "replace_derivation",
    "accumulate_derivation",
    "mix_derivation",
    "replace_mean_sq_error",
    "replace_variance",
    "replace_std",
    "replace_log_det",
    "replace_w2_sq",
    "replace_var_variance",
    "replace_var_log_det",
    "replace_log_det_rate",
    "accumulate_mean_sq_error",
    "accumulate_variance",
    "accumulate_limits",
    "mix_mean_sq_error",
    "mix_variance",
    "mix_stationary",
    "jensen_std_bound",
    "jensen_log_det_bound",
    "predict",
    "law_kind",
    "closed_forms",
]

ESTIMATORS = ("unbiased", "mle")
REGIMES = ("replace", "accumulate", "mix", "accumulate-subsample")
METRICS = ("mean_sq_error", "variance", "std", "log_det", "w2_sq")
STATISTICS = ("mean", "var", "rate")

# ---------------------------------------------------------------------------
# Symbols. Domains are encoded structurally: q = M - 1 is a positive symbol, so
# M = q + 1 > 1 (M >= 2 for integers) and every limit / sign question that
# depends on "M >= 2" is one SymPy can decide.
# ---------------------------------------------------------------------------
_n = sp.Symbol("n", integer=True, nonnegative=True)  # generation
_q = sp.Symbol("q", positive=True)  # q = M - 1
_M = _q + 1
_d = sp.Symbol("d", integer=True, positive=True)  # dimension
_s = sp.Symbol("sigma2", positive=True)  # truth variance per coordinate
_j = sp.Symbol("j", integer=True, positive=True)  # product / summation index
_t = sp.Symbol("t", real=True)  # Mellin variable
_Mdisp = sp.Symbol("M", positive=True)  # M, for display only (q -> M - 1)
_k = sp.Symbol("k", positive=True)  # k_real, mix regime (display / general form)


def symbols() -> dict[str, sp.Symbol]:
    """The SymPy symbols the derivations are written in.

    Returns:
        A dict with ``n`` (generation, integer >= 0), ``q`` (= M - 1, positive),
        ``d`` (dimension), ``sigma2`` (truth variance per coordinate), ``j``
        (product/summation index), ``t`` (Mellin variable), ``M`` (a plain
        positive symbol used by :func:`in_terms_of_M` and by the mix regime, whose
        formulas are written in ``k`` and ``M``) and ``k`` (``k_real``).
    """
    return {"n": _n, "q": _q, "d": _d, "sigma2": _s, "j": _j, "t": _t, "M": _Mdisp, "k": _k}


def in_terms_of_M(expr: sp.Expr) -> sp.Expr:
    """Rewrite a derived expression from q = M - 1 to the plain symbol M (for notes and display)."""
    return sp.simplify(expr.subs(_q, _Mdisp - 1))


def _fit_denominator(estimator: str, count: sp.Expr) -> sp.Expr:
    """Divisor of the scatter: count - 1 (unbiased) or count (MLE)."""
    if estimator == "unbiased":
        return count - 1
    if estimator == "mle":
        return count
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


# ---------------------------------------------------------------------------
# Expectations by moment substitution.
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _moment(dist_key: tuple, power: int) -> sp.Expr:
    kind, par = dist_key
    if kind == "normal01":
        rv = Normal("Z", 0, 1)
    elif kind == "chi2":
        rv = ChiSquared("X", par)
    else:  # pragma: no cover - internal
        raise AssertionError(kind)
    return sp.simplify(_stats_E(rv**power))


def _expect(expr: sp.Expr, placeholders: Mapping[sp.Symbol, tuple]) -> sp.Expr:
    """E[expr] where expr is a polynomial in independent random placeholders.

    Each placeholder maps to ``("normal01", None)`` or ``("chi2", dof)``; the
    expectation of every monomial is the product of the single-variable
    moments, each computed by :mod:`sympy.stats`.
    """
    syms = list(placeholders)
    poly = sp.Poly(sp.expand(expr), *syms)
    out = sp.Integer(0)
    for powers, coeff in poly.terms():
        term = coeff
        for sym, p in zip(syms, powers):
            if p:
                term *= _moment(placeholders[sym], int(p))
        out += term
    return sp.expand(out)


def _linear_coefficients(expr: sp.Expr, monomials: list[sp.Expr]) -> list[sp.Expr]:
    """Coefficients c_i with expr == sum c_i * monomial_i + c_0; asserts exactness.

    This is the "the expectation recursion closes" check: a conditional
    expectation must be linear in the listed state moments (plus a constant).
    """
    expr = sp.expand(expr)
    gens = sorted(set().union(*(m.free_symbols for m in monomials)), key=str)
    poly = sp.Poly(expr, *gens)
    coeffs = []
    rest = expr
    for mono in monomials:
        c = poly.coeff_monomial(mono)
        coeffs.append(sp.simplify(c))
        rest -= c * mono
    const = sp.simplify(rest)
    if const.free_symbols & set(gens):
        raise AssertionError(f"recursion does not close: leftover {const}")
    return coeffs + [const]


def _apply_moments(expr: sp.Expr, gens: tuple, moments: Mapping[tuple, sp.Expr]) -> sp.Expr:
    """Take the expectation of a polynomial in random quantities ``gens`` monomial by monomial.

    ``moments`` maps exponent tuples to the expectation of that monomial; a
    monomial without an entry raises (the expectation would not close).
    """
    out = sp.Integer(0)
    for powers, coeff in sp.Poly(sp.expand(expr), *gens).terms():
        if all(p == 0 for p in powers):
            out += coeff
        elif powers in moments:
            out += coeff * moments[powers]
        else:
            raise AssertionError(f"no moment for monomial {powers} of {gens}")
    return sp.expand(out)


def _power_limit(base: sp.Expr, below_one_proved: bool = False) -> sp.Expr:
    """lim_{n->oo} base**n for a positive base, decided structurally.

    Writes base = 1/(1 + u) and asks SymPy for the sign of u. Where SymPy can
    not decide it (bases built from gamma functions), ``below_one_proved``
    states that the caller has proved base < 1 (by Jensen's inequality, see
    :func:`chi2_moments`).
    """
    u = sp.simplify(1 / base - 1)
    if u.is_positive or below_one_proved:
        upos = sp.Symbol("u", positive=True)
        return sp.limit((1 / (1 + upos)) ** _n, _n, sp.oo)
    if u.is_zero:
        return sp.Integer(1)
    if u.is_negative:
        return sp.oo
    raise AssertionError(f"cannot decide the sign of {u}")


# ---------------------------------------------------------------------------
# Chi-square moments, from the Mellin transform E[X^t] computed by sympy.stats.
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def chi2_moments() -> dict[str, sp.Expr]:
    r"""Moments of :math:`X \sim \chi^2_q`, all from one Mellin transform.

    SymPy computes :math:`E[X^t]` (valid for :math:`t > -q/2`); then

    * :math:`E[X] = E[X^1]`, :math:`E[X^2]`, :math:`E[\sqrt X] = E[X^{1/2}]`;
    * :math:`K(t) = \log E[X^t]` is the cumulant generating function of
      :math:`\log X`, so :math:`E[\log X] = K'(0) = \psi(q/2) + \log 2` and
      :math:`\operatorname{Var}[\log X] = K''(0) = \psi_1(q/2)`.

    Jensen facts used for signs and limits (checked here): :math:`E[X/q] = 1`
    and both :math:`\sqrt{\cdot}` and :math:`\log` are strictly concave, so
    :math:`E\sqrt{X/q} < 1` and :math:`E\log(X/q) < 0` for every :math:`q > 0`.

    Returns:
        dict with keys ``mellin`` (expression in q, t), ``mean``, ``second``,
        ``sqrt``, ``mean_log``, ``var_log`` (expressions in q).
    """
    X = ChiSquared("X", _q)
    mellin = _stats_E(X**_t)
    expr, cond = mellin.args[0]
    for tv in (0, sp.Rational(1, 2), 1, 2):
        if cond.subs(_t, tv) is not sp.true:
            raise AssertionError("Mellin branch not valid at t=%s" % tv)
    K = sp.expand_log(sp.log(expr), force=True)
    out = {
        "mellin": expr,
        "mean": sp.simplify(expr.subs(_t, 1)),
        "second": sp.factor(sp.simplify(expr.subs(_t, 2))),
        "sqrt": sp.simplify(expr.subs(_t, sp.Rational(1, 2))),
        "mean_log": sp.simplify(sp.diff(K, _t).subs(_t, 0)),
        "var_log": sp.simplify(sp.diff(K, _t, 2).subs(_t, 0)),
    }
    # Jensen premises: E[X/q] = 1; sqrt and log strictly concave on (0, oo).
    y = sp.Symbol("y", positive=True)
    assert sp.simplify(out["mean"] / _q - 1) == 0
    assert sp.diff(sp.sqrt(y), y, 2).is_negative and sp.diff(sp.log(y), y, 2).is_negative
    return out


def _log_gamma_form(expr: sp.Expr) -> sp.Expr:
    """log(expr) with log(gamma(z)) rewritten as loggamma(z) (no overflow)."""
    lg = sp.expand_log(sp.log(sp.expand_func(expr)), force=True)  # expand_func: gamma(z+1) -> z gamma(z)
    return lg.replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
        lambda e: sp.loggamma(e.args[0].args[0]),
    )


@functools.lru_cache(maxsize=None)
def wishart_trace_moments() -> dict[str, sp.Expr]:
    r"""Second moments of traces of :math:`W \sim \mathrm{Wishart}_d(q, S)`, derived.

    By rotation invariance take :math:`S = \operatorname{diag}(s_1..s_d)`. Then
    :math:`W_{jj} = s_j X_j` with independent :math:`X_j \sim \chi^2_q`, and for
    :math:`j \ne l`, :math:`W_{jl}^2 = s_j s_l X_l Y^2` with :math:`Y \sim N(0,1)`
    independent of :math:`X_l` (given column ``l``, :math:`\sum_i z_{ij} z_{il}
    \sim N(0, \|z_l\|^2)`). Expanding and matching against
    :math:`p_1 = \operatorname{tr} S`, :math:`p_2 = \operatorname{tr} S^2` for
    d = 2, 3, 4 gives (the same coefficients for every d):

    .. math:: E(\operatorname{tr} W)^2 = q^2 p_1^2 + 2 q p_2, \qquad
              E \operatorname{tr} W^2 = q p_1^2 + q(q+1) p_2.

    Returns:
        dict with ``tr_sq`` and ``tr_of_sq`` (expressions in q, p1, p2) and the
        symbols ``p1``, ``p2``.
    """
    p1, p2 = sp.symbols("p1 p2", positive=True)
    found = None
    for dd in (2, 3, 4):
        s = sp.symbols(f"s1:{dd + 1}", positive=True)
        ph: dict[sp.Symbol, tuple] = {}
        xs = sp.symbols(f"x1:{dd + 1}")
        for x in xs:
            ph[x] = ("chi2", _q)
        tr_w = sum(s[i] * xs[i] for i in range(dd))
        tr_w2 = sum((s[i] * xs[i]) ** 2 for i in range(dd))
        for i in range(dd):
            for l in range(i + 1, dd):
                # W_il^2 = s_i s_l X_l Y^2; W_il = W_li counted twice.
                y = sp.Symbol(f"y{i}{l}")
                ph[y] = ("normal01", None)
                tr_w2 += 2 * s[i] * s[l] * xs[l] * y**2
        e_tr_sq = _expect(tr_w**2, ph)
        e_tr_of_sq = _expect(tr_w2, ph)
        res = []
        for e in (e_tr_sq, e_tr_of_sq):
            c_sq = sp.Poly(e, *s).coeff_monomial(s[0] ** 2)
            c_cross = sp.Poly(e, *s).coeff_monomial(s[0] * s[1])
            a_coef, b_coef = c_cross / 2, sp.simplify(c_sq - c_cross / 2)
            P1, P2 = sum(s), sum(si**2 for si in s)
            assert sp.expand(a_coef * P1**2 + b_coef * P2 - e) == 0
            res.append(sp.factor(a_coef * p1**2) + sp.factor(b_coef * p2))
        if found is None:
            found = res
        else:
            assert all(sp.simplify(a - b) == 0 for a, b in zip(found, res))
    return {"tr_sq": found[0], "tr_of_sq": found[1], "p1": p1, "p2": p2}


@functools.lru_cache(maxsize=None)
def check_pooling_identities() -> bool:
    r"""Verify on symbolic samples the pooling identities the regimes rely on.

    For groups A (size :math:`a`, mean :math:`\bar x_A`, scatter :math:`S_A`)
    and B, the pooled mean is :math:`(a \bar x_A + b \bar x_B)/(a + b)` and the
    pooled scatter is
    :math:`S_A + S_B + \frac{ab}{a+b}(\bar x_A - \bar x_B)(\bar x_A - \bar x_B)^T`.
    With :math:`a = (n-1)M`, :math:`b = M` this is the accumulate update
    :math:`\mu_n = \mu_{n-1} + (\bar x_n - \mu_{n-1})/n`,
    :math:`S_n = S_{n-1} + W_n + \frac{(n-1)M}{n}(\bar x_n - \mu_{n-1})(\cdot)^T`;
    with :math:`a = k`, :math:`b = M - k` it is the mix fit. Checked exactly
    for several group sizes in 1-D, and in 2-D (outer products) for one.

    Returns:
        True (raises AssertionError on failure).
    """

    def scatter(xs, mean):
        dim = mean.shape[0]
        return sum(((x - mean) * (x - mean).T for x in xs), sp.zeros(dim, dim))

    for dim, sizes in ((1, [(1, 1), (2, 2), (4, 2), (2, 3), (6, 3), (1, 4)]), (2, [(2, 3)])):
        for a, b in sizes:
            A = [sp.Matrix(sp.symbols(f"a{i}_1:{dim + 1}")) for i in range(a)]
            B = [sp.Matrix(sp.symbols(f"b{i}_1:{dim + 1}")) for i in range(b)]
            mA = sum(A, sp.zeros(dim, 1)) / a
            mB = sum(B, sp.zeros(dim, 1)) / b
            pooled = sum(A + B, sp.zeros(dim, 1)) / (a + b)
            assert sp.simplify(pooled - (a * mA + b * mB) / (a + b)) == sp.zeros(dim, 1)
            # the accumulate form of the mean update, with n = (a+b)/b when b | a
            lhs = scatter(A + B, pooled)
            rhs = scatter(A, mA) + scatter(B, mB) + sp.Rational(a * b, a + b) * (mA - mB) * (mA - mB).T
            assert (lhs - rhs).applyfunc(sp.expand) == sp.zeros(dim, dim)
            if a % b == 0:
                g = a // b + 1  # generation index n when b = M, a = (n-1)M
                assert sp.simplify(pooled - (mA + (mB - mA) / g)) == sp.zeros(dim, 1)
                assert sp.Rational(a * b, a + b) == sp.Rational((g - 1) * b, g)
    return True


# ---------------------------------------------------------------------------
# Replace.
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
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
        "step": {"mean_sq_from_mean_sq": a_e, "mean_sq_from_var": a_w, "variance_ratio": r,
                 "std_ratio": f, "variance_sq_ratio": h_w4, "log_var_increment": drift1},
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
# Accumulate.
# ---------------------------------------------------------------------------
def _rising_to_gamma(expr: sp.Expr) -> sp.Expr:
    return expr.replace(sp.RisingFactorial, lambda x, k: sp.gamma(x + k) / sp.gamma(x))


@functools.lru_cache(maxsize=None)
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


@functools.lru_cache(maxsize=None)
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
# Mix.
# ---------------------------------------------------------------------------
def _mix_step(estimator: str, k: sp.Expr, m: sp.Expr):
    """(A, c) of the normalised mix recursion for given group sizes k (real), m (synthetic).

    Group sizes may be symbolic (then assumed >= 2, so both chi-square parts
    exist) or the integers 0 / 1 for the edge cases (a group of size 1 has no
    within scatter; a group of size 0 is absent).
    """
    M = k + m
    D = _fit_denominator(estimator, M)
    e = sp.Symbol("e", real=True)
    w = sp.Symbol("w", positive=True)
    z1, z2, x1, x2 = sp.symbols("z1 z2 x1 x2")
    ph: dict[sp.Symbol, tuple] = {}
    total_sum = sp.Integer(0)
    S = sp.Integer(0)
    has_r = not (k.is_number and k == 0)
    has_s = not (m.is_number and m == 0)
    if has_r:
        ph[z1] = ("normal01", None)
        xr = z1 / sp.sqrt(k)  # real batch mean, truth N(0, 1) per coordinate
        total_sum += k * xr
        if not (k.is_number and k == 1):
            ph[x1] = ("chi2", k - 1)
            S += x1
    if has_s:
        ph[z2] = ("normal01", None)
        xs = e + w * z2 / sp.sqrt(m)  # synthetic batch mean from model n-1
        total_sum += m * xs
        if not (m.is_number and m == 1):
            ph[x2] = ("chi2", m - 1)
            S += w**2 * x2
    if has_r and has_s:
        S += k * m / M * (xr - xs) ** 2
    mu_new = total_sum / M
    a = _linear_coefficients(_expect(mu_new**2, ph), [e**2, w**2])
    b = _linear_coefficients(_expect(S / D, ph), [e**2, w**2])
    A = sp.Matrix([[a[0], a[1]], [b[0], b[1]]]).applyfunc(sp.simplify)
    c = sp.Matrix([a[2], b[2]]).applyfunc(sp.simplify)
    return A, c


@functools.lru_cache(maxsize=None)
def mix_derivation(estimator: str) -> dict[str, object]:
    r"""Derive the mix-regime linear recursion, its stationary point and its edges.

    Generation n fits on ``k`` fresh real samples (mean :math:`\bar x_R \sim
    N(\mu, \Sigma/k)`, scatter :math:`\sim W(k-1, \Sigma)`) and :math:`m = M-k`
    samples from model :math:`n-1` (mean :math:`\bar x_S \sim N(\mu_{n-1},
    \Sigma_{n-1}/m)`, scatter :math:`\sim W(m-1, \Sigma_{n-1})`); the fitted
    scatter includes the between-group term :math:`\frac{km}{M}(\bar x_R -
    \bar x_S)(\cdot)^T`. With :math:`v_n = (\alpha_n, \beta_n)`,
    :math:`\alpha_n = E\|\mu_n-\mu\|^2/\operatorname{tr}\Sigma`,
    :math:`\beta_n = E\operatorname{tr}\Sigma_n/\operatorname{tr}\Sigma`, SymPy
    derives :math:`v_n = A v_{n-1} + c`:

    .. math:: A = \begin{pmatrix} m^2/M^2 & m/M^2 \\ km/(MD) & (m-1+k/M)/D
              \end{pmatrix},\quad c = \begin{pmatrix} k/M^2 \\ (k-1+m/M)/D
              \end{pmatrix},

    :math:`v_0 = (0, 1)`. For :math:`k \ge 1` the spectral radius is < 1
    (:math:`I - A` is a nonsingular M-matrix: :math:`1 - A_{11} > 0` and
    :math:`\det(I - A) > 0`, both shown by SymPy with :math:`k = 1 + u`,
    :math:`u, m \ge 0`), so :math:`v_n \to v^* = (I - A)^{-1}c`. Edge cases are
    derived separately and compared: ``k = 0`` is the replace step, ``k = M``
    i.i.d. fitting on fresh data, ``k = 1`` and ``m = 1`` (no within scatter).

    Args:
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        dict with ``A``, ``c`` (SymPy matrices in ``k``, ``M``), ``stationary``
        (:math:`v^*`), ``stability`` (the factored :math:`\det(I - A)`),
        ``edges`` (dict of edge name -> True once checked), ``large_M`` (limits
        at a fixed real fraction :math:`\lambda = k/M`: :math:`M\alpha^* \to
        1/(\lambda(2-\lambda))`, :math:`\beta^* \to 1`) and, for the MLE,
        ``conserved`` (:math:`\alpha^* + \beta^* = 1`), ``mle_rate``
        (:math:`\rho = m(m-1)/M^2`) and ``mle_mean_sq_error`` (the scalar closed
        form :math:`\alpha_n = \alpha^*(1 - \rho^n)`, from ``rsolve``).
    """
    k1, m1 = sp.symbols("k1 m1", positive=True)
    A_gen, c_gen = _mix_step(estimator, k1 + 1, m1 + 1)
    to_kM = {k1: _k - 1, m1: _Mdisp - _k - 1}
    A = A_gen.subs(to_kM).applyfunc(sp.factor)
    c = c_gen.subs(to_kM).applyfunc(sp.factor)
    edges = {}
    m_s = sp.Symbol("m_s", positive=True)
    # k = 0 (replace) and k = M (fresh i.i.d.), and k = 1, m = 1 (degenerate within scatter)
    for name, kk, mm in (("k=0 (replace)", sp.Integer(0), m_s), ("k=M (fresh i.i.d.)", m_s, sp.Integer(0)),
                         ("k=1", sp.Integer(1), m_s), ("m=1", m_s, sp.Integer(1))):
        A_e, c_e = _mix_step(estimator, kk, mm)
        subs = {_k: kk, _Mdisp: kk + mm}
        ok = (A.subs(subs) - A_e).applyfunc(sp.simplify) == sp.zeros(2, 2) and \
            (c.subs(subs) - c_e).applyfunc(sp.simplify) == sp.zeros(2, 1)
        assert ok, name
        edges[name] = True
    # replace edge agrees with replace_derivation's step; fresh edge is state-independent
    rd = replace_derivation(estimator)["step"]
    A0 = A.subs(_k, 0)
    assert sp.simplify(A0[0, 1] - rd["mean_sq_from_var"].subs(_q, _Mdisp - 1)) == 0
    assert sp.simplify(A0[1, 1] - rd["variance_ratio"].subs(_q, _Mdisp - 1)) == 0
    assert A.subs(_k, _Mdisp).applyfunc(sp.simplify) == sp.zeros(2, 2)
    stationary = (sp.eye(2) - A).LUsolve(c).applyfunc(sp.factor)
    # stability for k >= 1: substitute k = 1 + u, M = k + m with u, m >= 0
    u, mm = sp.symbols("u m", nonnegative=True)
    sub = {_k: 1 + u, _Mdisp: 1 + u + mm}
    one_minus_a11 = sp.factor(sp.simplify((1 - A[0, 0]).subs(sub)))
    det = sp.factor(sp.simplify((sp.eye(2) - A).det().subs(sub)))
    for expr in (one_minus_a11, det):
        num, den = sp.fraction(sp.together(expr))
        numpoly = sp.Poly(sp.expand(num), u, mm)
        denpoly = sp.Poly(sp.expand(den), u, mm)
        # all coefficients nonnegative, and a term linear in u and in m present:
        # so the value is > 0 whenever u + m >= 1, i.e. M >= 2.
        assert all(cf >= 0 for cf in numpoly.coeffs()) and all(cf >= 0 for cf in denpoly.coeffs())
        assert numpoly.coeff_monomial(u) > 0 or numpoly.coeff_monomial(1) > 0
        assert numpoly.coeff_monomial(mm) > 0 or numpoly.coeff_monomial(1) > 0
    out = {
        "A": A,
        "c": c,
        "stationary": stationary,
        "stability": sp.factor((sp.eye(2) - A).det()),
        "edges": edges,
    }
    # many samples, a fixed real fraction lam = k/M: M * alpha* -> 1/(lam (2 - lam)), beta* -> 1
    lam = sp.Symbol("lambda", positive=True)
    out["large_M"] = {
        "M_times_mean_sq_error": sp.factor(sp.limit(_Mdisp * stationary[0].subs(_k, lam * _Mdisp), _Mdisp, sp.oo)),
        "variance": sp.simplify(sp.limit(stationary[1].subs(_k, lam * _Mdisp), _Mdisp, sp.oo)),
        "lambda": lam,
    }
    if estimator == "mle":
        # conservation: (1, 1) A = (m/M)(1, 1) and (1, 1) c = k/M, so alpha + beta = 1 for all n
        ones = sp.Matrix([[1, 1]])
        assert (ones * A - (_Mdisp - _k) / _Mdisp * ones).applyfunc(sp.simplify) == sp.zeros(1, 2)
        assert sp.simplify((ones * c)[0] - _k / _Mdisp) == 0
        out["conserved"] = sp.simplify(stationary[0] + stationary[1])
        # so the MLE mix recursion is scalar: alpha_n = rho alpha_{n-1} + kappa, solved by rsolve
        rho = sp.factor(A[0, 0] - A[0, 1])
        kappa = sp.factor(A[0, 1] + c[0])
        al = sp.Function("alpha")
        alpha_n = sp.rsolve(al(_n + 1) - rho * al(_n) - kappa, al(_n), {al(0): 0})
        assert sp.simplify(alpha_n.subs(_n, 0)) == 0
        assert sp.simplify(alpha_n.subs(_n, _n + 1) - rho * alpha_n - kappa) == 0
        out["mle_rate"] = rho
        out["mle_mean_sq_error"] = sp.simplify(alpha_n)
    return out


# ---------------------------------------------------------------------------
# Input validation.
# ---------------------------------------------------------------------------
def _check_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value}")
    return int(value)


def _check_common(dim, M, sigma2, estimator) -> tuple[int, int, float]:
    dim = _check_int("dim", dim, 1)
    M = _check_int("M (samples per generation)", M, 2)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if isinstance(sigma2, bool) or not isinstance(sigma2, numbers.Real) or not math.isfinite(sigma2) or sigma2 <= 0:
        raise ValueError(f"sigma2 must be a finite positive number, got {sigma2!r}")
    return dim, M, float(sigma2)


def _generations(n) -> np.ndarray:
    arr = np.asarray(n)
    if arr.dtype == bool:
        raise ValueError("generations n must be integers, got booleans")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"generations n must be integers, got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError("generations n must be >= 0 (0 is the truth)")
    return arr.astype(np.int64)


def _need_det(dim: int, M: int) -> None:
    if M <= dim:
        raise ValueError(f"log_det needs M > dim (a nonsingular fitted covariance), got M={M}, dim={dim}")


def _check_k(k_real, M: int) -> int:
    if k_real is None:
        raise ValueError("regime 'mix' needs k_real (real samples per generation, 0..M)")
    k = _check_int("k_real", k_real, 0)
    if k > M:
        raise ValueError(f"k_real must be in [0, M]; got k_real={k}, M={M} (real fraction {k / M:.3g} > 1)")
    return k


# ---------------------------------------------------------------------------
# Numeric functions: replace.
# ---------------------------------------------------------------------------
def _lam(expr: sp.Expr, args) -> Callable:
    """lambdify with scipy/numpy, after merging powers: q**n (q+1)**-n -> (q/(q+1))**n (no overflow)."""
    def merge(e):
        return sp.powsimp(e, force=True, combine="base")

    expr = expr.applyfunc(merge) if isinstance(expr, sp.MatrixBase) else merge(expr)
    return sp.lambdify(args, expr, modules=["scipy", "numpy"])


@functools.lru_cache(maxsize=None)
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


@functools.lru_cache(maxsize=None)
def _log_std_factor_parts(estimator: str) -> tuple[sp.Expr, sp.Expr]:
    r"""Split :math:`\log f = h((M-1)/2) + 	ext{rest}(M)` and derive :math:`h`'s series.

    :math:`h(x) = \log\Gamma(x+	frac12) - \log\Gamma(x) - 	frac12\log x` is
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


@functools.lru_cache(maxsize=None)
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


def _out(values, n_arr: np.ndarray) -> np.ndarray:
    # "+ 0.0" turns the -0.0 of e.g. 0 * negative drift into 0.0
    return np.broadcast_to(np.asarray(values, dtype=np.float64) + 0.0, n_arr.shape).astype(np.float64)


def replace_mean_sq_error(n, *, dim: int, M: int, sigma2: float, estimator: str) -> np.ndarray:
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


def replace_variance(n, *, dim: int, M: int, estimator: str) -> np.ndarray:
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


def replace_std(n, *, M: int, estimator: str, dim: int = 1) -> np.ndarray:
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


def replace_log_det(n, *, dim: int, M: int, estimator: str) -> np.ndarray:
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


def replace_var_log_det(n, *, dim: int, M: int, estimator: str) -> np.ndarray:
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


def replace_var_variance(n, *, dim: int, M: int, estimator: str) -> np.ndarray:
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


def replace_w2_sq(n, *, M: int, sigma2: float, estimator: str, dim: int = 1) -> np.ndarray:
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


# ---------------------------------------------------------------------------
# Numeric functions: accumulate (exact recursion, evaluated by cumulative products).
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
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


def accumulate_variance(n, *, dim: int, M: int, estimator: str) -> np.ndarray:
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


def accumulate_mean_sq_error(n, *, dim: int, M: int, sigma2: float, estimator: str) -> np.ndarray:
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


# ---------------------------------------------------------------------------
# Numeric functions: mix.
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _mix_numeric(estimator: str) -> dict[str, Callable]:
    mx = mix_derivation(estimator)
    return {"A": _lam(mx["A"], [_k, _Mdisp]), "c": _lam(mx["c"], [_k, _Mdisp]),
            "stationary": _lam(mx["stationary"], [_k, _Mdisp])}


def _mix_curves(estimator: str, M: int, k: int, n_max: int) -> np.ndarray:
    """v_n = (alpha_n, beta_n), n = 0..n_max, by iterating the derived recursion."""
    num = _mix_numeric(estimator)
    A = np.asarray(num["A"](float(k), float(M)), dtype=np.float64)
    c = np.asarray(num["c"](float(k), float(M)), dtype=np.float64).reshape(2)
    v = np.empty((n_max + 1, 2))
    v[0] = (0.0, 1.0)
    for i in range(1, n_max + 1):
        v[i] = A @ v[i - 1] + c
    return v


def mix_mean_sq_error(n, *, dim: int, M: int, sigma2: float, estimator: str, k_real: int) -> np.ndarray:
    r"""E||mu_n - mu||^2 under mix with k_real fresh real samples of M (derived).

    The first component of :math:`v_n = A v_{n-1} + c`, :math:`v_0 = (0, 1)`,
    times :math:`d\sigma^2` (see :func:`mix_derivation`), evaluated by
    iterating the exact recursion. ``k_real = 0`` is replace and
    ``k_real = M`` is fresh i.i.d. fitting (:math:`d\sigma^2/M` for n >= 1).
    For ``k_real >= 1`` it converges geometrically to the stationary value
    (:func:`mix_stationary`): a finite error for any positive fraction of real
    data (Bertrand et al. 2023's stability, here exact in expectation).

    Args:
        n: generation(s), integers >= 0.
        dim, M, sigma2, estimator: as elsewhere.
        k_real: real samples per generation, integer in [0, M].

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _check_k(k_real, M)
    n_arr = _generations(n)
    v = _mix_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(dim * sigma2 * v[n_arr, 0], n_arr)


def mix_variance(n, *, dim: int, M: int, estimator: str, k_real: int) -> np.ndarray:
    r"""E[tr Sigma_n / tr Sigma] under mix (derived): second component of :math:`v_n`.

    See :func:`mix_mean_sq_error` and :func:`mix_derivation`. The fitted
    scatter includes the between-group term :math:`\frac{km}{M}(\bar x_R -
    \bar x_S)^2`, which the mean error feeds back into the variance.

    Args:
        n: generation(s), integers >= 0.
        dim, M, estimator: as elsewhere.
        k_real: real samples per generation, integer in [0, M].

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    k = _check_k(k_real, M)
    n_arr = _generations(n)
    v = _mix_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(v[n_arr, 1], n_arr)


def mix_stationary(*, dim: int, M: int, sigma2: float, estimator: str, k_real: int) -> dict[str, float]:
    r"""Stationary limits of mix for k_real >= 1 (derived, symbolic :math:`(I-A)^{-1}c`).

    Unbiased: :math:`\alpha^* = \frac{M-1}{k(M+m) - M}`, :math:`\beta^* =
    \frac{k(M+m-1)}{k(M+m) - M}`; MLE: :math:`\alpha^* = \frac{M}{k(M+m-1) + M}`,
    :math:`\beta^* = 1 - \alpha^*`, with :math:`m = M - k` (SymPy output of
    :func:`mix_derivation`; these display forms are checked in the tests).

    Args:
        dim, M, sigma2, estimator: as elsewhere.
        k_real: real samples per generation, integer in [1, M].

    Returns:
        dict with ``mean_sq_error`` (:math:`d\sigma^2\alpha^*`) and ``variance``
        (:math:`\beta^*`).
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _check_k(k_real, M)
    if k == 0:
        raise ValueError("mix with k_real = 0 is replace: no stationary limit")
    a, b = np.asarray(_mix_numeric(estimator)["stationary"](float(k), float(M)), dtype=np.float64).reshape(2)
    return {"mean_sq_error": dim * sigma2 * float(a), "variance": float(b)}


# ---------------------------------------------------------------------------
# Bounds.
# ---------------------------------------------------------------------------
def _mean_variance(regime, estimator, n_arr, dim, M, k) -> np.ndarray:
    if regime == "replace":
        return replace_variance(n_arr, dim=dim, M=M, estimator=estimator)
    if regime == "accumulate":
        return accumulate_variance(n_arr, dim=dim, M=M, estimator=estimator)
    if regime == "mix":
        return mix_variance(n_arr, dim=dim, M=M, estimator=estimator, k_real=k)
    raise ValueError(f"no variance law for regime {regime!r}")


def jensen_std_bound(n, *, regime: str, M: int, estimator: str, k_real: int | None = None) -> np.ndarray:
    r"""Upper bound :math:`E[\sigma_n/\sigma] \le \sqrt{E[\sigma_n^2/\sigma^2]}` (1-D; Jensen).

    Exact-expectation input from the derived variance law of the regime.
    Used where :math:`E\sigma_n` has no closed form (accumulate, mix: the
    pooled scatter is not a scaled chi-square).

    Args:
        n: generation(s), integers >= 0.
        regime: ``"replace"``, ``"accumulate"`` or ``"mix"``.
        M, estimator: as elsewhere.
        k_real: for ``mix``.

    Returns:
        float64 array shaped like ``n``.
    """
    _, M, _ = _check_common(1, M, 1.0, estimator)
    k = _check_k(k_real, M) if regime == "mix" else None
    n_arr = _generations(n)
    return np.sqrt(_mean_variance(regime, estimator, n_arr, 1, M, k))


def jensen_log_det_bound(n, *, regime: str, dim: int, M: int, estimator: str,
                         k_real: int | None = None) -> np.ndarray:
    r"""Upper bound :math:`E[\text{log\_det}_n] \le d\log E[\text{variance}_n]`.

    AM-GM gives :math:`\log\det\Sigma_n \le d\log(\operatorname{tr}\Sigma_n/d)`
    and Jensen (log concave) moves the expectation inside; with
    :math:`\Sigma = \sigma^2 I` the right side is :math:`d\log\beta_n`.
    Used for accumulate and mix, where :math:`E\log\det` of the pooled,
    non-central scatter does not close.

    Args:
        n: generation(s), integers >= 0.
        regime: ``"replace"``, ``"accumulate"`` or ``"mix"``.
        dim: dimension d < M.
        M, estimator: as elsewhere.
        k_real: for ``mix``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _need_det(dim, M)
    k = _check_k(k_real, M) if regime == "mix" else None
    n_arr = _generations(n)
    return dim * np.log(_mean_variance(regime, estimator, n_arr, dim, M, k))


# ---------------------------------------------------------------------------
# The law table and the dispatcher.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Law:
    """One closed-form law of this module.

    Attributes:
        metric: one of :data:`METRICS`.
        regime: one of :data:`REGIMES`.
        estimator: ``"unbiased"`` or ``"mle"``.
        dims: ``"1"`` (1-D only) or ``"any"``.
        statistic: ``"mean"`` (of the metric across seeds), ``"var"`` (its
            variance) or ``"rate"`` (a.s. limit of metric / n).
        kind: ``"exact expectation"``, ``"exact variance"``, ``"upper bound"``
            or ``"almost-sure rate"``.
        function: name of the public function computing it.
        source: paper and statement reproduced (or "new" where none states it).
        derivation: ``"derived"`` (SymPy, from the one-step recursion).
    """

    metric: str
    regime: str
    estimator: str
    dims: str
    statistic: str
    kind: str
    function: str
    source: str
    derivation: str = "derived"


_SH = "Shumailov et al. 2024 (Nature), theorem on recursive Gaussian fitting"


def _law_rows() -> tuple[Law, ...]:
    rows = []
    for est in ESTIMATORS:
        sh = _SH if est == "unbiased" else _SH + ", MLE variant (Kazdan et al. 2024's estimator)"
        rows += [
            Law("mean_sq_error", "replace", est, "any", "mean", "exact expectation", "replace_mean_sq_error", sh),
            Law("variance", "replace", est, "any", "mean", "exact expectation", "replace_variance", sh),
            Law("std", "replace", est, "1", "mean", "exact expectation", "replace_std", sh),
            Law("log_det", "replace", est, "any", "mean", "exact expectation", "replace_log_det",
                sh + "; Kazdan et al. 2024 (det metric)"),
            Law("w2_sq", "replace", est, "1", "mean", "exact expectation", "replace_w2_sq", sh),
            Law("variance", "replace", est, "any", "var", "exact variance", "replace_var_variance", sh),
            Law("log_det", "replace", est, "any", "var", "exact variance", "replace_var_log_det", "new"),
            Law("log_det", "replace", est, "any", "rate", "almost-sure rate", "replace_log_det_rate", sh),
            Law("mean_sq_error", "accumulate", est, "any", "mean", "exact expectation", "accumulate_mean_sq_error",
                "Dey & Donoho 2024 (pi^2/6 pathway); Kazdan et al. 2024; Gerstgrasser et al. 2024"),
            Law("variance", "accumulate", est, "any", "mean", "exact expectation", "accumulate_variance",
                "Kazdan et al. 2024; Gerstgrasser et al. 2024 (no collapse)"),
            Law("std", "accumulate", est, "1", "mean", "upper bound", "jensen_std_bound", "new (Jensen)"),
            Law("log_det", "accumulate", est, "any", "mean", "upper bound", "jensen_log_det_bound", "new (Jensen)"),
            Law("mean_sq_error", "mix", est, "any", "mean", "exact expectation", "mix_mean_sq_error",
                "Bertrand et al. 2023 (stability with fresh data)"),
            Law("variance", "mix", est, "any", "mean", "exact expectation", "mix_variance",
                "Bertrand et al. 2023 (stability with fresh data)"),
            Law("std", "mix", est, "1", "mean", "upper bound", "jensen_std_bound", "new (Jensen)"),
            Law("log_det", "mix", est, "any", "mean", "upper bound", "jensen_log_det_bound", "new (Jensen)"),
        ]
    return tuple(rows)


def closed_forms() -> tuple[Law, ...]:
    """Every (metric, regime, estimator, dims, statistic) with a law here, and its kind.

    Combinations not listed have no closed form in this module: ``w2_sq`` in
    several dimensions (any regime), ``w2_sq`` under accumulate and mix
    (needs :math:`E\\sigma_n`, which does not close), every metric under
    ``accumulate-subsample``, and variances other than those listed.

    Returns:
        tuple of :class:`Law`.
    """
    return _law_rows()


def law_kind(metric: str, regime: str, estimator: str, dim: int, statistic: str = "mean") -> str | None:
    """The kind of law :func:`predict` returns for these arguments, or None.

    Args:
        metric, regime, estimator: as in :func:`predict`.
        dim: dimension.
        statistic: ``"mean"``, ``"var"`` or ``"rate"``.

    Returns:
        ``"exact expectation"``, ``"exact variance"``, ``"upper bound"``,
        ``"almost-sure rate"`` or None.
    """
    for law in _law_rows():
        if (law.metric, law.regime, law.estimator, law.statistic) == (metric, regime, estimator, statistic) and (
            law.dims == "any" or dim == 1
        ):
            return law.kind
    return None


def predict(metric: str, regime: str, estimator: str, n, *, dim: int, M: int, sigma2: float = 1.0,
            k_real: int | None = None, statistic: str = "mean") -> np.ndarray | None:
    r"""Predicted curve for a metric, regime and estimator (the law's kind: :func:`law_kind`).

    Args:
        metric: one of :data:`METRICS`.
        regime: one of :data:`REGIMES`.
        estimator: ``"unbiased"`` or ``"mle"``.
        n: generation(s), integers >= 0 (0 = truth, 1 = first fit on real data).
        dim: dimension, >= 1.
        M: samples per generation, >= 2 (and > dim for ``log_det``).
        sigma2: truth variance per coordinate, :math:`\Sigma = \sigma^2 I`.
        k_real: real samples per generation for ``mix`` (0..M); must be None
            otherwise.
        statistic: ``"mean"`` (expectation or bound), ``"var"`` (variance of
            the metric across seeds) or ``"rate"`` (a.s. limit of metric / n,
            returned broadcast to the shape of ``n``).

    Returns:
        float64 array shaped like ``n``, or None where no law exists
        (see :func:`closed_forms`).

    Raises:
        ValueError: for invalid names or parameters (checked even when the
            answer would be None).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    n_arr = _generations(n)
    if regime == "mix":
        k = _check_k(k_real, M)
    elif k_real is not None:
        raise ValueError(f"k_real applies only to regime 'mix', got regime {regime!r}")
    else:
        k = None
    if metric == "std" and dim != 1:
        raise ValueError("std is a 1-D metric (dim must be 1)")
    if metric == "log_det":
        _need_det(dim, M)
    kind = law_kind(metric, regime, estimator, dim, statistic)
    if kind is None:
        return None
    kw = dict(dim=dim, M=M, estimator=estimator)
    if regime == "replace":
        if statistic == "mean":
            if metric == "mean_sq_error":
                return replace_mean_sq_error(n_arr, sigma2=sigma2, **kw)
            if metric == "variance":
                return replace_variance(n_arr, **kw)
            if metric == "std":
                return replace_std(n_arr, **kw)
            if metric == "log_det":
                return replace_log_det(n_arr, **kw)
            if metric == "w2_sq":
                return replace_w2_sq(n_arr, sigma2=sigma2, **kw)
        if statistic == "var":
            if metric == "variance":
                return replace_var_variance(n_arr, **kw)
            if metric == "log_det":
                return replace_var_log_det(n_arr, **kw)
        if statistic == "rate":
            return _out(replace_log_det_rate(**kw), n_arr)
    if regime == "accumulate":
        if metric == "mean_sq_error":
            return accumulate_mean_sq_error(n_arr, sigma2=sigma2, **kw)
        if metric == "variance":
            return accumulate_variance(n_arr, **kw)
    if regime == "mix":
        if metric == "mean_sq_error":
            return mix_mean_sq_error(n_arr, sigma2=sigma2, k_real=k, **kw)
        if metric == "variance":
            return mix_variance(n_arr, k_real=k, **kw)
    if metric == "std":
        return jensen_std_bound(n_arr, regime=regime, M=M, estimator=estimator, k_real=k)
    if metric == "log_det":
        return jensen_log_det_bound(n_arr, regime=regime, k_real=k, **kw)
    raise AssertionError(f"law table and dispatcher disagree on {(metric, regime, estimator, statistic)}")
