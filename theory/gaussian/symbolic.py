r"""The shared moment machinery of the Gaussian derivations (SymPy).

Symbols, expectations of polynomials in independent normal and chi-square
placeholders (moments from :mod:`sympy.stats`), the chi-square Mellin transform
and its moments, second moments of Wishart traces, and the pooling identities
the accumulate and mix regimes rely on. Every regime's ``*_derivation`` builds
its one-step recursion from these; the closed forms are then derived in SymPy
from the recursion.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.stats import ChiSquared, Normal
from sympy.stats import E as _stats_E

from ..frozen import frozen
from .checks import ESTIMATORS

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
_k = sp.Symbol("k", positive=True)  # real count k = real_fraction * M, mix regime (display / general form)


def symbols() -> dict[str, sp.Symbol]:
    """The SymPy symbols the derivations are written in.

    Returns:
        A dict with ``n`` (generation, integer >= 0), ``q`` (= M - 1, positive),
        ``d`` (dimension), ``sigma2`` (truth variance per coordinate), ``j``
        (product/summation index), ``t`` (Mellin variable), ``M`` (a plain
        positive symbol used by :func:`in_terms_of_M` and by the mix regime, whose
        formulas are written in ``k`` and ``M``) and ``k`` (the real count
        ``real_fraction * M`` of the mix regime).
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
@functools.cache
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
        for sym, p in zip(syms, powers, strict=True):
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
@frozen()
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
            raise AssertionError(f"Mellin branch not valid at t={tv}")
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


@frozen()
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
            for j in range(i + 1, dd):
                # W_ij^2 = s_i s_j X_j Y^2; W_ij = W_ji counted twice.
                y = sp.Symbol(f"y{i}{j}")
                ph[y] = ("normal01", None)
                tr_w2 += 2 * s[i] * s[j] * xs[j] * y**2
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
            assert all(sp.simplify(a - b) == 0 for a, b in zip(found, res, strict=True))
    return {"tr_sq": found[0], "tr_of_sq": found[1], "p1": p1, "p2": p2}


@functools.cache
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
# Numeric evaluation of derived expressions.
# ---------------------------------------------------------------------------
def _lam(expr: sp.Expr, args) -> Callable:
    """lambdify with scipy/numpy, after merging powers: q**n (q+1)**-n -> (q/(q+1))**n (no overflow)."""

    def merge(e):
        return sp.powsimp(e, force=True, combine="base")

    expr = expr.applyfunc(merge) if isinstance(expr, sp.MatrixBase) else merge(expr)
    return sp.lambdify(args, expr, modules=["scipy", "numpy"])


def _affine_numeric(derivation: Mapping[str, sp.Expr]) -> dict[str, Callable]:
    """Lambdified ``A``, ``c`` and ``stationary`` of a derived recursion ``v_n = A v_{n-1} + c`` in ``(k, M)``."""
    return {key: _lam(derivation[key], [_k, _Mdisp]) for key in ("A", "c", "stationary")}


def _affine_iterates(num: Mapping[str, Callable], k: int, M: int, v0: tuple[float, ...], n_max: int) -> np.ndarray:
    """``v_n``, ``n = 0..n_max``, by iterating ``v_n = A v_{n-1} + c`` from ``v0`` (exact, in float64)."""
    A = np.asarray(num["A"](float(k), float(M)), dtype=np.float64)
    c = np.asarray(num["c"](float(k), float(M)), dtype=np.float64).reshape(len(v0))
    v = np.empty((n_max + 1, len(v0)))
    v[0] = v0
    for i in range(1, n_max + 1):
        v[i] = A @ v[i - 1] + c
    return v
