r"""Augment with a fresh subset: each generation keeps a new random ``k`` of the original ``M`` real samples.

The option of Shumailov et al. (Nature 2024), whose language-model runs keep a
random 10% of the original data at every generation: generation 1 fits on
``M`` real samples :math:`Y` (mean :math:`\bar y`, scatter :math:`S_Y`);
generation :math:`n \ge 2` fits on a simple random sample without replacement
of ``k`` of them, drawn afresh each generation, plus :math:`m = M - k` samples
from model :math:`n-1`. (The simulator's ``augment`` keeps the *same* ``k``;
see :mod:`.augment`.)

Its expectation laws have a closed form, **derived here** in the augment
framework: the augment step (:func:`~.augment._step_moments`) is conditional on
the kept set's mean and scatter, and the subset's moments given :math:`Y` are
those of sampling without replacement from a finite population
(:func:`srswor_moments`): :math:`E[\bar r \mid Y] = \bar y`,
:math:`E[\|\bar r - \bar y\|^2 \mid Y] = (\frac1k - \frac1M)\frac{\operatorname{tr}S_Y}{M-1}`,
:math:`E[S_R \mid Y] = \frac{k-1}{M-1}S_Y`. Unconditionally the subset is ``k``
i.i.d. draws from the truth, so :math:`E\|\bar r-\mu\|^2` and
:math:`E\operatorname{tr}S_R` are augment's; only the cross moment with the
previous fit changes: :math:`E[(\bar r_n-\mu)\cdot(\mu_{n-1}-\mu)] =
E[(\bar y-\mu)\cdot(\mu_{n-1}-\mu)] = h_{n-1}\operatorname{tr}\Sigma`, and
:math:`h_n = 1/M` at every generation (derived). The recursion is then mix's
(:func:`~.mix.mix_derivation`) with a constant extra drive.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..frozen import frozen
from .augment import _augment_step
from .checks import _check_common, _generations, _out, _real_count
from .mix import mix_derivation
from .symbolic import _expect, _fit_denominator, _k, _lam, _Mdisp, _n


@frozen()
def srswor_moments() -> dict[str, sp.Expr]:
    r"""Moments of a size-``k`` simple random sample without replacement from ``M`` fixed values (derived).

    With inclusion indicators :math:`I_i`, :math:`E I_i = \binom{M-1}{k-1}/\binom Mk`
    and :math:`E I_iI_j = \binom{M-2}{k-2}/\binom Mk` (:math:`i \ne j`), simplified
    by SymPy; the subset sum :math:`\sum I_i y_i` and the subset scatter
    :math:`\sum I_i y_i^2 - (\sum I_i y_i)^2/k` then have expectations in the
    power sums :math:`p_1 = \sum y_i`, :math:`p_2 = \sum y_i^2`, rewritten in
    :math:`\bar y` and :math:`S_Y = p_2 - p_1^2/M` and checked against brute-force
    enumeration of every subset for small ``(M, k)``. One coordinate; traces add.

    Returns:
        dict with ``var_mean`` (:math:`E[(\bar r - \bar y)^2 \mid Y]/S_Y`) and
        ``scatter`` (:math:`E[S_R \mid Y]/S_Y`), in ``k`` and ``M``.
    """
    M, k = _Mdisp, _k
    inc1 = sp.combsimp(sp.binomial(M - 1, k - 1) / sp.binomial(M, k))
    inc2 = sp.combsimp(sp.binomial(M - 2, k - 2) / sp.binomial(M, k))
    p1, p2, S_Y = sp.symbols("p1 p2 S_Y", real=True)
    e_sum = inc1 * p1
    e_sum_sq = inc1 * p2 + inc2 * (p1**2 - p2)  # sum_{i != j} y_i y_j = p1^2 - p2
    assert sp.simplify(e_sum / k - p1 / M) == 0  # unbiased subset mean
    to_S = {p2: S_Y + p1**2 / M}
    var_mean = sp.factor(sp.simplify((e_sum_sq / k**2 - (p1 / M) ** 2).subs(to_S) / S_Y))
    scatter = sp.factor(sp.simplify((inc1 * p2 - e_sum_sq / k).subs(to_S) / S_Y))
    assert not (var_mean.has(p1) or scatter.has(p1))
    for Mv, kv in ((4, 2), (5, 3), (5, 1), (6, 4)):
        ys = sp.symbols(f"y1:{Mv + 1}")
        subsets = list(itertools.combinations(ys, kv))
        ybar, SY = sum(ys) / Mv, sp.expand(sum(y**2 for y in ys) - sum(ys) ** 2 / Mv)
        ev = sp.expand(sum((sum(s) / kv - ybar) ** 2 for s in subsets) / len(subsets))
        es = sp.expand(sum(sum(y**2 for y in s) - sum(s) ** 2 / kv for s in subsets) / len(subsets))
        assert sp.expand(ev - var_mean.subs({k: kv, M: Mv}) * SY) == 0
        assert sp.expand(es - scatter.subs({k: kv, M: Mv}) * SY) == 0
    return {"var_mean": var_mean, "scatter": scatter}


@frozen(("unbiased",), ("mle",))
def resample_derivation(estimator: str) -> dict[str, object]:
    r"""Derive the fresh-subset recursion, its stationary point and the MLE closed form (derived here).

    State :math:`(\alpha_n, \beta_n)` as in mix, plus
    :math:`h_n = E[(\bar y-\mu)\cdot(\mu_n-\mu)]/\operatorname{tr}\Sigma`. Taking the
    augment step's conditional moments (:func:`~.augment._augment_step`, whose
    third state is :math:`k\,E[\rho\cdot e]/\operatorname{tr}\Sigma`) with the
    subset's moments (:func:`srswor_moments`) gives :math:`E\|\bar r-\mu\|^2 =
    \operatorname{tr}\Sigma(1/M + (1/k - 1/M)) = \operatorname{tr}\Sigma/k` and
    :math:`E\operatorname{tr}S_R = (k-1)\operatorname{tr}\Sigma` (checked) and
    :math:`k E[\rho\cdot e_{n-1}] = k h_{n-1}\operatorname{tr}\Sigma`. Given
    :math:`Y` and the past, :math:`E[(\bar y-\mu)\cdot(\mu_n-\mu)] =
    (k\|\bar y-\mu\|^2 + m(\bar y-\mu)\cdot e_{n-1})/M`, so
    :math:`h_n = (k/M + m h_{n-1})/M` with :math:`h_1 = 1/M` (generation 1 is
    the fit on :math:`Y`): :math:`h_n = 1/M` for all :math:`n \ge 1`. Hence, for
    :math:`n \ge 2`, :math:`x_n = B x_{n-1} + c + k h\,a` with ``B, c`` mix's
    (checked) and ``a`` augment's third column, from :math:`x_1 = (1/M, (M-1)/D)`.

    Args:
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        dict with ``B``, ``drive`` (the constant term), ``x1``, ``h``,
        ``stationary`` and, for the MLE, ``conserved`` and ``mle_mean_sq_error``
        (from ``rsolve``).
    """
    M, k = _Mdisp, _k
    D = _fit_denominator(estimator, M)
    sr = srswor_moments()
    # E||rho||^2 and E tr S_R over Y and the subset: augment's marginal values
    assert sp.simplify(1 / M + sr["var_mean"] * (M - 1) - 1 / k) == 0
    assert sp.simplify(sr["scatter"] * (M - 1) - (k - 1)) == 0
    k1, m1 = sp.symbols("k1 m1", positive=True)
    A_gen, c_gen = _augment_step(estimator, k1 + 1, m1 + 1)
    to_kM = {k1: k - 1, m1: M - k - 1}
    A, c = A_gen.subs(to_kM), c_gen.subs(to_kM)
    mix = mix_derivation(estimator)
    assert (A[:2, :2] - mix["A"]).applyfunc(sp.simplify) == sp.zeros(2, 2)
    assert (c[:2, :] - mix["c"]).applyfunc(sp.simplify) == sp.zeros(2, 1)
    # h: given Y and the past, with b = ybar - mu, the subset mean rho = b + delta (E[delta | Y] = 0) and the
    # synthetic mean e + w z / sqrt(m): E[b (mu_n - mu)] is linear in b^2 and b e (one coordinate; traces add)
    b, dl, e, w, z = sp.symbols("b delta e w z", real=True)
    a_new = (k * (b + dl) + (M - k) * (e + w * z / sp.sqrt(M - k))) / M
    cross = sp.expand(_expect(b * a_new, {z: ("normal01", None)}))
    assert sp.Poly(cross, dl).degree() == 1
    cross = sp.expand(cross.subs(dl, 0))
    assert sp.expand(cross - (k * b**2 + (M - k) * b * e) / M) == 0
    hf = sp.Function("h")  # E b^2 = tr Sigma / M, E[b e_{n-1}] = h_{n-1} tr Sigma
    h_rec = hf(_n + 1) - cross.subs({b**2: 1 / M}).subs(b * e, hf(_n))
    h_n = sp.simplify(sp.rsolve(h_rec, hf(_n), {hf(1): 1 / M}))
    assert sp.simplify(h_n - 1 / M) == 0
    B = A[:2, :2].applyfunc(sp.factor)
    drive = (c[:2, :] + A[:2, 2] * k * h_n).applyfunc(sp.factor)  # augment's column acts on k E[rho . e]
    x1 = sp.Matrix([1 / M, (M - 1) / D])
    stationary = (sp.eye(2) - B).LUsolve(drive).applyfunc(sp.factor)
    assert sp.simplify(stationary[0].subs(k, M) - 1 / M) == 0
    out = {"B": B, "drive": drive, "x1": x1, "h": h_n, "stationary": stationary}
    if estimator == "mle":
        ones = sp.Matrix([[1, 1]])
        assert (ones * B - (M - k) / M * ones).applyfunc(sp.simplify) == sp.zeros(1, 2)
        assert sp.simplify((ones * drive)[0] - k / M) == 0 and sp.simplify((ones * x1)[0] - 1) == 0
        out["conserved"] = sp.simplify(stationary[0] + stationary[1])
        rho = sp.factor(B[0, 0] - B[0, 1])
        kappa = sp.factor(B[0, 1] + drive[0])
        al = sp.Function("alpha")
        alpha_n = sp.rsolve(al(_n + 1) - rho * al(_n) - kappa, al(_n), {al(1): 1 / M})
        assert sp.simplify(alpha_n.subs(_n, 1) - 1 / M) == 0
        assert sp.simplify(alpha_n.subs(_n, _n + 1) - rho * alpha_n - kappa) == 0
        out["mle_mean_sq_error"] = sp.simplify(alpha_n)
    return out


@functools.cache
def _resample_numeric(estimator: str) -> dict[str, Callable]:
    rd = resample_derivation(estimator)
    return {key: _lam(rd[key], [_k, _Mdisp]) for key in ("B", "drive", "x1", "stationary")}


def _resample_curves(estimator: str, M: int, k: int, n_max: int) -> np.ndarray:
    num = _resample_numeric(estimator)
    B = np.asarray(num["B"](float(k), float(M)), dtype=np.float64)
    c = np.asarray(num["drive"](float(k), float(M)), dtype=np.float64).reshape(2)
    v = np.empty((max(n_max, 1) + 1, 2))
    v[0] = (0.0, 1.0)
    v[1] = np.asarray(num["x1"](float(k), float(M)), dtype=np.float64).reshape(2)
    for i in range(2, n_max + 1):
        v[i] = B @ v[i - 1] + c
    return v


def resample_mean_sq_error(
    n: ArrayLike, *, dim: int, M: int, sigma2: float, estimator: str, real_fraction: float
) -> np.ndarray:
    r"""E||mu_n - mu||^2 when each generation keeps a fresh random ``k`` of the original ``M`` (derived here).

    ``k = real_fraction * M``. ``real_fraction = 0`` is replace and ``1`` the
    constant :math:`d\sigma^2/M`. It lies between mix (fresh real data) and
    augment (the same ``k``): see :func:`resample_derivation`.

    Args:
        n: generation(s), integers >= 0.
        dim, M, sigma2, estimator: as elsewhere.
        real_fraction: in [0, 1], with ``real_fraction * M`` a whole number.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _real_count(real_fraction, M, "augment")
    n_arr = _generations(n)
    v = _resample_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(dim * sigma2 * v[n_arr, 0], n_arr)


def resample_variance(n: ArrayLike, *, dim: int, M: int, estimator: str, real_fraction: float) -> np.ndarray:
    r"""E[tr Sigma_n / tr Sigma] when each generation keeps a fresh random ``k`` of the original ``M`` (derived here).

    Args:
        n: generation(s), integers >= 0.
        dim, M, estimator: as elsewhere.
        real_fraction: as in :func:`resample_mean_sq_error`.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    k = _real_count(real_fraction, M, "augment")
    n_arr = _generations(n)
    v = _resample_curves(estimator, M, k, int(n_arr.max(initial=0)))
    return _out(v[n_arr, 1], n_arr)


def resample_stationary(*, dim: int, M: int, sigma2: float, estimator: str, real_fraction: float) -> dict[str, float]:
    r"""Stationary limits of the fresh-subset option for ``k >= 1`` (derived here, :math:`(I-B)^{-1}c`).

    Args:
        dim, M, sigma2, estimator: as elsewhere.
        real_fraction: in (0, 1], with ``real_fraction * M`` a whole number.

    Returns:
        dict with ``mean_sq_error`` and ``variance``.

    Raises:
        ValueError: for invalid parameters, or ``real_fraction = 0`` (replace: no limit).
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    k = _real_count(real_fraction, M, "augment")
    if k == 0:
        raise ValueError("real_fraction = 0 is replace: no stationary limit")
    a, b = np.asarray(_resample_numeric(estimator)["stationary"](float(k), float(M)), dtype=np.float64).reshape(2)
    return {"mean_sq_error": dim * sigma2 * float(a), "variance": float(b)}
