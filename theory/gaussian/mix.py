r"""Mix regime: each generation refits on ``k`` fresh real samples and ``M - k`` from the previous fit.

:func:`mix_derivation` derives the two-moment linear recursion, its stationary
point and its edge cases in SymPy (derived here, in the setting of the fresh-data loop of
Alemohammad et al. 2024); the numeric functions iterate the derived recursion.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..frozen import frozen
from .checks import _check_common, _generations, _out, _real_count
from .replace import replace_derivation
from .symbolic import (
    _affine_iterates,
    _affine_numeric,
    _expect,
    _fit_denominator,
    _k,
    _linear_coefficients,
    _Mdisp,
    _n,
    _q,
)


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


@frozen(("unbiased",), ("mle",))
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
    for name, kk, mm in (
        ("k=0 (replace)", sp.Integer(0), m_s),
        ("k=M (fresh i.i.d.)", m_s, sp.Integer(0)),
        ("k=1", sp.Integer(1), m_s),
        ("m=1", m_s, sp.Integer(1)),
    ):
        A_e, c_e = _mix_step(estimator, kk, mm)
        subs = {_k: kk, _Mdisp: kk + mm}
        ok = (A.subs(subs) - A_e).applyfunc(sp.simplify) == sp.zeros(2, 2) and (c.subs(subs) - c_e).applyfunc(
            sp.simplify
        ) == sp.zeros(2, 1)
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
# Numeric functions: mix.
# ---------------------------------------------------------------------------
@functools.cache
def _mix_numeric(estimator: str) -> dict[str, Callable]:
    return _affine_numeric(mix_derivation(estimator))


def _mix_curves(estimator: str, M: int, k: int, n_max: int) -> np.ndarray:
    """v_n = (alpha_n, beta_n), n = 0..n_max, by iterating the derived recursion."""
    return _affine_iterates(_mix_numeric(estimator), k, M, (0.0, 1.0), n_max)


def mix_mean_sq_error(
    n: ArrayLike, *, dim: int, M: int, sigma2: float, estimator: str, real_fraction: float
) -> np.ndarray:
    r"""E||mu_n - mu||^2 under mix with k = real_fraction * M fresh real samples of M (derived).

    The first component of :math:`v_n = A v_{n-1} + c`, :math:`v_0 = (0, 1)`,
    times :math:`d\sigma^2` (see :func:`mix_derivation`), evaluated by
    iterating the exact recursion. ``real_fraction = 0`` is replace and
    ``real_fraction = 1`` is fresh i.i.d. fitting (:math:`d\sigma^2/M` for n >= 1).
    For ``k >= 1`` it converges geometrically to the stationary value
    (:func:`mix_stationary`): a finite error for any positive fraction of real
    data (the fresh-data loop of Alemohammad et al. 2024 avoids collapse; here exact in expectation).

    Args:
        n: generation(s), integers >= 0.
        dim, M, sigma2, estimator: as elsewhere.
        real_fraction: fraction of the M samples per generation that is fresh
            real data, in [0, 1], with ``real_fraction * M`` a whole number.

    Returns:
        float64 array shaped like ``n``.

    Raises:
        ValueError: if ``real_fraction`` is outside [0, 1] or ``real_fraction * M``
            is not a whole number (within 1e-9).
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _real_count(real_fraction, M)
    n_arr = _generations(n)
    v = _mix_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(dim * sigma2 * v[n_arr, 0], n_arr)


def mix_variance(n: ArrayLike, *, dim: int, M: int, estimator: str, real_fraction: float) -> np.ndarray:
    r"""E[tr Sigma_n / tr Sigma] under mix (derived): second component of :math:`v_n`.

    See :func:`mix_mean_sq_error` and :func:`mix_derivation`. The fitted
    scatter includes the between-group term :math:`\frac{km}{M}(\bar x_R -
    \bar x_S)^2`, which the mean error feeds back into the variance.

    Args:
        n: generation(s), integers >= 0.
        dim, M, estimator: as elsewhere.
        real_fraction: fraction of fresh real data per generation, as in
            :func:`mix_mean_sq_error`.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    k = _real_count(real_fraction, M)
    n_arr = _generations(n)
    v = _mix_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(v[n_arr, 1], n_arr)


def mix_stationary(*, dim: int, M: int, sigma2: float, estimator: str, real_fraction: float) -> dict[str, float]:
    r"""Stationary limits of mix for k = real_fraction * M >= 1 (derived, symbolic :math:`(I-A)^{-1}c`).

    Unbiased: :math:`\alpha^* = \frac{M-1}{k(M+m) - M}`, :math:`\beta^* =
    \frac{k(M+m-1)}{k(M+m) - M}`; MLE: :math:`\alpha^* = \frac{M}{k(M+m-1) + M}`,
    :math:`\beta^* = 1 - \alpha^*`, with :math:`m = M - k` (SymPy output of
    :func:`mix_derivation`; these display forms are checked in the tests).

    Args:
        dim, M, sigma2, estimator: as elsewhere.
        real_fraction: fraction of fresh real data per generation, in (0, 1],
            with ``real_fraction * M`` a whole number.

    Returns:
        dict with ``mean_sq_error`` (:math:`d\sigma^2\alpha^*`) and ``variance``
        (:math:`\beta^*`).
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _real_count(real_fraction, M)
    if k == 0:
        raise ValueError("mix with real_fraction = 0 is replace: no stationary limit")
    a, b = np.asarray(_mix_numeric(estimator)["stationary"](float(k), float(M)), dtype=np.float64).reshape(2)
    return {"mean_sq_error": dim * sigma2 * float(a), "variance": float(b)}
