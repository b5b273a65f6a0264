r"""Augment regime: the same ``k`` real samples every generation, plus ``M - k`` from the previous fit.

Generation 1 fits on ``M`` real samples; its first ``k = real_fraction * M``
(the set ``R``, mean :math:`\bar r`, scatter :math:`S_R`) are kept for good, and
generation :math:`n \ge 2` fits on ``R`` plus :math:`m = M - k` fresh samples
from model :math:`n-1` (Bertrand et al. 2024; Seddik et al. 2024's partially
synthetic setting). No paper states the exact finite-``M`` expectations; they
are **derived here** (:func:`augment_derivation`) from the one-step recursion.

Because ``R`` is reused, :math:`\mu_n` stays correlated with :math:`\bar r`: the
expectation recursion closes in three moments, not two (mix's), the third being
:math:`g_n = k\,E[(\bar r-\mu)\cdot(\mu_n-\mu)]/\operatorname{tr}\Sigma`.
Generation 1 is the same step taken from the truth (its ``M - k`` other real
samples are draws from the truth), so one recursion covers every :math:`n \ge 1`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..frozen import frozen
from .checks import _check_common, _generations, _out, _real_count
from .mix import mix_derivation
from .replace import replace_derivation
from .symbolic import _affine_iterates, _affine_numeric, _expect, _fit_denominator, _k, _Mdisp, _n, _q

_DIM = 2  # the step is derived in 2-D with a general covariance, then shown to depend on traces only


# ---------------------------------------------------------------------------
# The one-step recursion.
# ---------------------------------------------------------------------------
def _vec(name: str, dim: int) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}1:{dim + 1}", real=True))


def _sym_matrix(name: str, dim: int) -> sp.Matrix:
    return sp.Matrix(dim, dim, lambda i, j: sp.Symbol(f"{name}{min(i, j) + 1}{max(i, j) + 1}", real=True))


@functools.cache
def _step_moments(estimator: str, k: sp.Expr, m: sp.Expr) -> dict[str, dict]:
    r"""Conditional expectations of one augment step, grouped into invariants (2-D, general covariance).

    Given the past (:math:`e = \mu_{n-1}-\mu`, :math:`\Sigma_{n-1} = LL^T` with
    ``L`` a general lower-triangular matrix, the kept ``R`` with
    :math:`\rho = \bar r - \mu` and scatter :math:`S_R`), the synthetic batch has
    mean :math:`e + Lz/\sqrt m` (:math:`z \sim N(0, I)`) and scatter
    :math:`LWL^T`, :math:`W \sim \mathrm{Wishart}(m-1, I)` independent of ``z``
    (Cochran); the pooled fit is Chan's update
    (:func:`~.symbolic.check_pooling_identities`). ``W`` and :math:`S_R` enter
    linearly, so only :math:`E W = (m-1)I` is used. Each expectation is then
    matched against :math:`c_1\|e\|^2 + c_2\,\rho\cdot e + c_3\|\rho\|^2 +
    c_4\operatorname{tr}\Sigma_{n-1} + c_5\operatorname{tr}S_R + c_0` and the
    match is checked to be exact (so the law depends on traces only, in any
    dimension). Group sizes may be symbolic (assumed >= 2) or the integers 0, 1.

    Returns:
        ``{"mean_sq", "real_cross", "trace_cov"}`` -> dict of coefficients
        ``ee, re, rr, tr, sr, const`` (``real_cross`` is :math:`E[(k\rho)\cdot(\mu_n-\mu)]`).
    """
    dim, M = _DIM, k + m
    D = _fit_denominator(estimator, M)
    e, rho, z = _vec("e", dim), _vec("rho", dim), _vec("z", dim)
    L = sp.Matrix(dim, dim, lambda i, j: sp.Symbol(f"l{i + 1}{j + 1}", real=True) if j <= i else 0)
    S_R, W = _sym_matrix("sR", dim), _sym_matrix("w", dim)
    ph = {zi: ("normal01", None) for zi in z}
    has_r, has_s = not (k.is_number and k == 0), not (m.is_number and m == 0)
    total, S = sp.zeros(dim, 1), sp.zeros(dim, dim)
    if has_r:
        total += k * rho
        if not (k.is_number and k == 1):
            S += S_R
    if has_s:
        s_mean = e + L * z / sp.sqrt(m)
        total += m * s_mean
        if not (m.is_number and m == 1):
            S += L * W * L.T
    if has_r and has_s:
        S += k * m / M * (rho - s_mean) * (rho - s_mean).T
    a_new = total / M
    raw = {
        "mean_sq": (a_new.T * a_new)[0],
        "real_cross": ((k * rho).T * a_new)[0] if has_r else sp.Integer(0),
        "trace_cov": S.trace() / D,
    }
    w_mean = {W[i, j]: ((m - 1) if i == j else 0) for i in range(dim) for j in range(i, dim)}
    invariants = {
        "ee": (e.T * e)[0],
        "re": (rho.T * e)[0],
        "rr": (rho.T * rho)[0],
        "tr": (L * L.T).trace(),
        "sr": S_R.trace(),
    }
    leads = {"ee": e[0] ** 2, "re": rho[0] * e[0], "rr": rho[0] ** 2, "tr": L[0, 0] ** 2, "sr": S_R[0, 0]}
    gens = list(e) + list(rho) + list(L.values()) + [S_R[i, j] for i in range(dim) for j in range(i, dim)]
    out = {}
    for name, expr in raw.items():
        cond = _expect(expr, ph)
        assert sp.Poly(cond, *w_mean).total_degree() <= 1  # linear in W: E W suffices
        cond = sp.expand(cond.subs(w_mean))
        poly = sp.Poly(cond, *gens)
        coeffs = {key: sp.cancel(poly.coeff_monomial(lead)) for key, lead in leads.items()}
        coeffs["const"] = sp.cancel(poly.coeff_monomial(1))
        rebuilt = coeffs["const"] + sum(coeffs[key] * invariants[key] for key in leads)
        if sp.cancel(sp.expand(cond - rebuilt)) != 0:
            raise AssertionError(f"{name}: the step does not close in the trace invariants")
        out[name] = coeffs
    return out


def _augment_step(estimator: str, k: sp.Expr, m: sp.Expr) -> tuple[sp.Matrix, sp.Matrix]:
    r"""(A, c) of :math:`v_n = A v_{n-1} + c`, :math:`v = (\alpha, \beta, g)`.

    The outer expectation uses :math:`E\|\rho\|^2 = \operatorname{tr}\Sigma/k`,
    :math:`E\operatorname{tr}S_R = (k-1)\operatorname{tr}\Sigma` and
    :math:`E[\rho\cdot e_{n-1}] = g_{n-1}\operatorname{tr}\Sigma/k` (the state).
    """
    step = _step_moments(estimator, k, m)
    has_r = not (k.is_number and k == 0)
    rows, const = [], []
    for name in ("mean_sq", "trace_cov", "real_cross"):
        c = step[name]
        per_k = (lambda x: sp.cancel(x / k)) if has_r else (lambda x: sp.Integer(0))
        rows.append([c["ee"], c["tr"], per_k(c["re"])])
        const.append(sp.cancel(c["const"] + per_k(c["rr"]) + (c["sr"] * (k - 1) if has_r else 0)))
    return sp.Matrix(rows).applyfunc(sp.factor), sp.Matrix(const).applyfunc(sp.factor)


def _expect_backwards(
    mus: list[sp.Expr], scatters: list[sp.Expr], stages: list[tuple[sp.Symbol, list]], D: sp.Expr, normals: list
) -> list[tuple[sp.Expr, sp.Expr]]:
    r"""``(E mu_n^2, E S_n/D)`` for every generation of a raw loop written in placeholder samples.

    ``stages[i] = (s, zs)``: generation ``i + 2`` drew its synthetic samples as normals ``zs``
    times the previous fit's standard deviation ``s`` (a symbol ``s<n>``). Expectations are
    taken from the last generation back: over its ``zs`` (odd powers of ``s`` vanish), then
    :math:`s^2 \to S/D` of the generation it names, and so on down to the real ``normals``.
    """
    out = []
    for gen in range(1, len(mus) + 1):
        vals = []
        for expr in (mus[gen - 1] ** 2, scatters[gen - 1] / D):
            for sig, zs in reversed(stages[: gen - 1]):
                expr = _expect(expr, {z: ("normal01", None) for z in zs})
                poly = sp.Poly(expr, sig)
                assert all(p % 2 == 0 for (p,) in poly.monoms())
                prev = scatters[int(str(sig)[1:]) - 1] / D
                expr = sp.expand(sum(c * prev ** (p // 2) for (p,), c in poly.terms()))
            vals.append(_expect(expr, {y: ("normal01", None) for y in normals}))
        out.append(tuple(vals))
    return out


def _direct_moments(estimator: str, M: int, k: int, generations: int) -> list[tuple[sp.Expr, sp.Expr]]:
    r"""E(mu_n - mu)^2 and E sigma_n^2 (1-D, truth N(0, 1)) by brute-force expectation of the raw loop.

    The samples themselves are placeholders: ``M`` real normals, and at each
    generation ``m`` normals ``z`` times the previous fit's standard deviation
    :math:`s_{n-1}` (a symbol). Means and scatters are computed from the samples
    (not from the pooling identity). Expectations are taken from the last
    generation back: over that generation's ``z`` (odd powers of :math:`s_{n-1}`
    vanish), then :math:`s_{n-1}^2 \to S_{n-1}/D`, and so on down to the real samples.
    """
    D = _fit_denominator(estimator, sp.Integer(M))
    real = list(sp.symbols(f"y1:{M + 1}"))
    kept = real[:k]
    mus, scatters, stages = [], [], []
    data = real
    for gen in range(1, generations + 1):
        if gen > 1:
            sig = sp.Symbol(f"s{gen - 1}", positive=True)
            zs = list(sp.symbols(f"z{gen}_1:{M - k + 1}"))
            data = kept + [mus[-1] + sig * z for z in zs]
            stages.append((sig, zs))
        mean = sum(data) / M
        mus.append(sp.expand(mean))
        scatters.append(sp.expand(sum((x - mean) ** 2 for x in data)))
    return _expect_backwards(mus, scatters, stages, D, real)


# ---------------------------------------------------------------------------
# The derivation.
# ---------------------------------------------------------------------------
@frozen(("unbiased",), ("mle",))
def augment_derivation(estimator: str) -> dict[str, object]:
    r"""Derive the augment recursion, its closed form, its stationary point and its edges (derived here).

    State :math:`v_n = (\alpha_n, \beta_n, g_n)`: :math:`\alpha_n =
    E\|\mu_n-\mu\|^2/\operatorname{tr}\Sigma`, :math:`\beta_n =
    E\operatorname{tr}\Sigma_n/\operatorname{tr}\Sigma`, :math:`g_n =
    k\,E[(\bar r-\mu)\cdot(\mu_n-\mu)]/\operatorname{tr}\Sigma`. From the step
    (:func:`_step_moments`: 2-D, general covariance, grouped into traces) SymPy
    derives :math:`v_n = A v_{n-1} + c`, :math:`v_0 = (0, 1, 0)` (the truth), with

    .. math:: A = \begin{pmatrix} m^2/M^2 & m/M^2 & 2m/M^2 \\ km/(MD) & (m-1+k/M)/D
              & -2m/(MD) \\ 0 & 0 & m/M \end{pmatrix},\quad
              c = \begin{pmatrix} k/M^2 \\ (k-1+m/M)/D \\ k/M \end{pmatrix}

    (``m = M - k``). The upper-left block is mix's ``A`` (checked): only the
    drive differs, the kept sample's correlation :math:`g_n = 1 - (m/M)^n`.
    Checks: the edges ``k = 0`` (replace's step), ``k = M`` (constant
    generation-1 error), ``k = 1`` and ``m = 1`` are derived separately and
    agree; the first three generations equal a brute-force expectation of the
    raw loop (:func:`_direct_moments`, 1-D, exact rationals) at several
    ``(M, k)``. Stability for ``k >= 1``: the eigenvalues are ``m/M < 1`` and
    those of mix's block (spectral radius < 1, shown in :func:`~.mix.mix_derivation`),
    so :math:`v_n \to v^* = (I-A)^{-1}c`. Closed form: :math:`v_n = v^* +
    P J^n P^{-1}(v_0 - v^*)` from SymPy's diagonalisation (distinct real
    eigenvalues for the unbiased estimator; the MLE's ``m/M`` is double but
    semisimple, and its scalar form comes from ``rsolve``).

    Args:
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        dict with ``A``, ``c`` (in ``k``, ``M``), ``stationary`` (:math:`v^*`),
        ``closed_form`` (:math:`v_n`, in ``n``, ``k``, ``M``), ``eigenvalues``,
        ``real_cross`` (:math:`g_n`, from ``rsolve``), ``edges``, ``direct``
        (the (M, k) pairs checked against the raw loop) and, for the MLE,
        ``conserved`` (:math:`\alpha_n + \beta_n = 1`) and ``mle_mean_sq_error``.
    """
    k1, m1 = sp.symbols("k1 m1", positive=True)
    A_gen, c_gen = _augment_step(estimator, k1 + 1, m1 + 1)
    to_kM = {k1: _k - 1, m1: _Mdisp - _k - 1}
    A = A_gen.subs(to_kM).applyfunc(sp.factor)
    c = c_gen.subs(to_kM).applyfunc(sp.factor)
    edges = {}
    m_s = sp.Symbol("m_s", positive=True)
    for name, kk, mm in (
        ("k=0 (replace)", sp.Integer(0), m_s),
        ("k=M (no synthetic data)", m_s, sp.Integer(0)),
        ("k=1", sp.Integer(1), m_s),
        ("m=1", m_s, sp.Integer(1)),
    ):
        A_e, c_e = _augment_step(estimator, kk, mm)
        subs = {_k: kk, _Mdisp: kk + mm}
        # with no kept sample g is identically 0 (c_g = 0, g_0 = 0): compare the (alpha, beta) block
        cols = 2 if kk == 0 else 3
        assert (A.subs(subs) - A_e)[:, :cols].applyfunc(sp.simplify) == sp.zeros(3, cols), name
        assert (c.subs(subs) - c_e).applyfunc(sp.simplify) == sp.zeros(3, 1), name
        edges[name] = True
    rd = replace_derivation(estimator)["step"]
    assert sp.simplify(A[0, 1].subs(_k, 0) - rd["mean_sq_from_var"].subs(_q, _Mdisp - 1)) == 0
    assert sp.simplify(A[1, 1].subs(_k, 0) - rd["variance_ratio"].subs(_q, _Mdisp - 1)) == 0
    assert (A[:2, :2] - mix_derivation(estimator)["A"]).applyfunc(sp.simplify) == sp.zeros(2, 2)
    direct = []
    for Mv, kv in ((4, 2), (3, 1), (3, 2), (5, 2)):
        v = sp.Matrix([0, 1, 0])
        An, cn = A.subs({_k: kv, _Mdisp: Mv}), c.subs({_k: kv, _Mdisp: Mv})
        for mean_sq, var in _direct_moments(estimator, Mv, kv, 3):
            v = An * v + cn
            assert sp.simplify(v[0] - mean_sq) == 0 and sp.simplify(v[1] - var) == 0, (Mv, kv)
        direct.append((Mv, kv))
    # the kept sample's correlation, a scalar recursion of its own
    gf = sp.Function("g")
    g_n = sp.simplify(sp.rsolve(gf(_n + 1) - A[2, 2] * gf(_n) - c[2], gf(_n), {gf(0): 0}))
    assert sp.simplify(g_n.subs(_n, 0)) == 0 and sp.simplify(g_n.subs(_n, _n + 1) - A[2, 2] * g_n - c[2]) == 0
    stationary = (sp.eye(3) - A).LUsolve(c).applyfunc(sp.factor)
    assert sp.simplify(stationary[2] - 1) == 0 and sp.simplify(stationary[0].subs(_k, _Mdisp) - 1 / _Mdisp) == 0
    P, J = A.diagonalize()
    v0 = sp.Matrix([0, 1, 0])
    Jn = sp.diag(*[J[i, i] ** _n for i in range(3)])
    closed = stationary + P * Jn * P.inv() * (v0 - stationary)
    out = {
        "A": A,
        "c": c,
        "stationary": stationary,
        "closed_form": closed,
        "eigenvalues": list(J.diagonal()),
        "real_cross": g_n,
        "edges": edges,
        "direct": direct,
    }
    if estimator == "mle":
        # conservation as in mix: (1, 1, 0) A = (m/M)(1, 1, 0) and (1, 1, 0) c = k/M, so alpha + beta = 1
        ones = sp.Matrix([[1, 1, 0]])
        assert (ones * A - (_Mdisp - _k) / _Mdisp * ones).applyfunc(sp.simplify) == sp.zeros(1, 3)
        assert sp.simplify((ones * c)[0] - _k / _Mdisp) == 0
        out["conserved"] = sp.simplify(stationary[0] + stationary[1])
        # so alpha is scalar: alpha_{n+1} = rho alpha_n + kappa - lam r^n with r = m/M (g_n = 1 - r^n).
        # rsolve does not take the symbolic geometric drive; undetermined coefficients do:
        # alpha_n = a + p r^n + C rho^n, solved for (a, p, C) and checked in the recursion.
        rho = sp.factor(A[0, 0] - A[0, 1])
        r = A[2, 2]
        assert sp.simplify(g_n - (1 - r**_n)) == 0
        a_, p_, C_, X, Y = sp.symbols("a p C X Y")  # X, Y stand for r**n, rho**n
        resid = sp.expand(
            (a_ + p_ * r * X + C_ * rho * Y) - rho * (a_ + p_ * X + C_ * Y) - (A[0, 1] + c[0] + A[0, 2] * (1 - X))
        )
        eqs = [resid.coeff(X, 1), resid.coeff(Y, 1), resid.subs({X: 0, Y: 0}), a_ + p_ + C_]  # last: alpha_0 = 0
        sol = sp.solve(eqs, [a_, p_, C_], dict=True)[0]
        alpha_n = sum(sp.factor(sol[s_]) * t for s_, t in ((a_, 1), (p_, r**_n), (C_, rho**_n)))
        assert sp.simplify(alpha_n.subs(_n, 0)) == 0
        for nv in range(1, 4):
            assert (
                sp.simplify(
                    alpha_n.subs(_n, nv)
                    - rho * alpha_n.subs(_n, nv - 1)
                    - (A[0, 1] + c[0] + A[0, 2] * g_n.subs(_n, nv - 1))
                )
                == 0
            )
        out["mle_rate"] = rho
        out["mle_mean_sq_error"] = alpha_n
    return out


# ---------------------------------------------------------------------------
# Numeric functions.
# ---------------------------------------------------------------------------
@functools.cache
def _augment_numeric(estimator: str) -> dict[str, Callable]:
    return _affine_numeric(augment_derivation(estimator))


def _augment_curves(estimator: str, M: int, k: int, n_max: int) -> np.ndarray:
    """v_n = (alpha_n, beta_n, g_n), n = 0..n_max, by iterating the derived recursion (exact)."""
    return _affine_iterates(_augment_numeric(estimator), k, M, (0.0, 1.0, 0.0), n_max)


def augment_mean_sq_error(
    n: ArrayLike, *, dim: int, M: int, sigma2: float, estimator: str, real_fraction: float
) -> np.ndarray:
    r"""E||mu_n - mu||^2 under augment: ``k = real_fraction * M`` real samples kept for good (derived here).

    :math:`d\sigma^2\alpha_n`, the first component of the recursion of
    :func:`augment_derivation`, evaluated by iterating it (exact).
    ``real_fraction = 0`` is replace; ``real_fraction = 1`` is the constant
    generation-1 error :math:`d\sigma^2/M`. For ``k >= 1`` it converges to
    :func:`augment_stationary`, which exceeds mix's (the kept sample's own
    error never averages out): e.g. ``M = 20``, ``k = 5``, unbiased:
    :math:`\alpha^* = 43/155 \approx 0.277` against mix's ``19/155``.

    Args:
        n: generation(s), integers >= 0 (0 = truth, 1 = the fit on ``M`` real samples).
        dim, M, sigma2, estimator: as elsewhere.
        real_fraction: fraction of the ``M`` samples per generation that is the
            kept real data, in [0, 1], with ``real_fraction * M`` a whole number.

    Returns:
        float64 array shaped like ``n``.

    Raises:
        ValueError: for invalid parameters or ``real_fraction``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _real_count(real_fraction, M, "augment")
    n_arr = _generations(n)
    v = _augment_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(dim * sigma2 * v[n_arr, 0], n_arr)


def augment_variance(n: ArrayLike, *, dim: int, M: int, estimator: str, real_fraction: float) -> np.ndarray:
    r"""E[tr Sigma_n / tr Sigma] under augment (derived here): :math:`\beta_n` of :func:`augment_derivation`.

    Args:
        n: generation(s), integers >= 0.
        dim, M, estimator: as elsewhere.
        real_fraction: as in :func:`augment_mean_sq_error`.

    Returns:
        float64 array shaped like ``n``.

    Raises:
        ValueError: for invalid parameters or ``real_fraction``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    k = _real_count(real_fraction, M, "augment")
    n_arr = _generations(n)
    v = _augment_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(v[n_arr, 1], n_arr)


def augment_stationary(*, dim: int, M: int, sigma2: float, estimator: str, real_fraction: float) -> dict[str, float]:
    r"""Stationary limits of augment for ``k = real_fraction * M >= 1`` (derived here, :math:`(I-A)^{-1}c`).

    Unbiased: :math:`\alpha^* = \frac{3Mk - 2M - 2k^2 + k}{k(2Mk - M - k^2)}`,
    :math:`\beta^* = \frac{(2M-k)(k-1)}{2Mk - M - k^2}`; MLE:
    :math:`\alpha^* = \frac{3M - 2k}{2Mk + M - k^2 - k}`, :math:`\beta^* =
    1 - \alpha^*` (SymPy output of :func:`augment_derivation`, checked in the
    tests). With ``k = 1`` and the unbiased estimator the fit collapses onto
    the one kept sample: :math:`\alpha^* = 1` (that sample's error) and
    :math:`\beta^* = 0`.

    Args:
        dim, M, sigma2, estimator: as elsewhere.
        real_fraction: in (0, 1], with ``real_fraction * M`` a whole number.

    Returns:
        dict with ``mean_sq_error`` (:math:`d\sigma^2\alpha^*`) and ``variance`` (:math:`\beta^*`).

    Raises:
        ValueError: for invalid parameters, or ``real_fraction = 0`` (replace: no limit).
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _real_count(real_fraction, M, "augment")
    if k == 0:
        raise ValueError("augment with real_fraction = 0 is replace: no stationary limit")
    a, b, _ = np.asarray(_augment_numeric(estimator)["stationary"](float(k), float(M)), dtype=np.float64).reshape(3)
    return {"mean_sq_error": dim * sigma2 * float(a), "variance": float(b)}
