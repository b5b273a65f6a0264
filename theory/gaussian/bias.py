r"""Sampling bias: synthetic samples at a temperature, ``N(mu_n, tau Sigma_n)`` (derived here).

The setting is the Gaussian model of Alemohammad et al. 2024 ("Self-Consuming Generative
Models Go MAD", ICLR 2024), whose sampling-bias parameter :math:`\lambda` is the
temperature :math:`\tau` here: every fitted model draws its synthetic samples from
:math:`N(\mu_n, \tau\Sigma_n)` (for a Gaussian density, :math:`p^{1/\tau}` normalised is
exactly this; :math:`\tau < 1` is mode-seeking). Real samples are never tempered, and
generation 1 is fit on ``M`` real samples, so the tempering acts from generation 2 on.

How the recursions are obtained. A regime's one-step conditional expectations
(:func:`~.mix.mix_derivation`, :func:`~.augment.augment_derivation`; replace is their
``k = 0`` edge, checked there) depend on the previous fit's covariance only through the
law of the synthetic samples, and are linear in :math:`\operatorname{tr}\Sigma_{n-1}`;
sampling at temperature :math:`\tau` is sampling from the model
:math:`N(\mu_{n-1}, \tau\Sigma_{n-1})`, so the tempered step is the untempered one with
:math:`\Sigma_{n-1} \to \tau\Sigma_{n-1}`: the column of :math:`\beta` (the variance state)
in ``A`` is multiplied by :math:`\tau`, the drive ``c`` is unchanged. :func:`bias_derivation`
forms these recursions and, independently, takes the expectations of the raw loop itself
(:func:`_direct_tempered`: placeholders for every sample, tempered draws, exact
rationals) for the first three generations of replace, mix and augment at several
``(M, k, tau)``, and checks they agree. The replace laws are then solved in closed form
(``rsolve`` and ``summation``); mix and augment have stationary points
:math:`(I - A_\tau)^{-1}c` (for :math:`\tau \le 1` the spectral radius of :math:`A_\tau`
is at most that of :math:`A_1 < 1`; above 1 it can exceed 1 and :func:`tempered_stationary`
refuses).

What is not linear in the moments: the paper's distance, the Wasserstein distance, is
not a linear function of :math:`(\mu_n, \Sigma_n)` in several dimensions (it needs
:math:`E\operatorname{tr}\Sigma_n^{1/2}`), so its stationary value and the effective
sample size built on it are measured by simulation; the moment-level counterpart,
:math:`n_e^{\text{mean}} = \operatorname{tr}\Sigma/E\|\mu^* - \mu\|^2` (the real-only
sample size with the same stationary mean error), is exact here (:func:`mean_effective_size`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..frozen import frozen
from .augment import _expect_backwards, augment_derivation
from .checks import ESTIMATORS, _check_common, _generations, _need_det, _out, _real_count
from .mix import mix_derivation
from .replace import replace_derivation
from .symbolic import _apply_moments, _d, _fit_denominator, _k, _lam, _Mdisp, _n, _power_limit, _q, _s

__all__ = [
    "BIAS_REGIMES",
    "bias_derivation",
    "tempered_law_kind",
    "tempered_moments",
    "tempered_predict",
    "tempered_stationary",
    "mean_effective_size",
]

_tau = sp.Symbol("tau", positive=True)
BIAS_REGIMES = ("replace", "mix", "augment")
_STATES = {"replace": 2, "mix": 2, "augment": 3}


def _direct_tempered(
    estimator: str, M: int, k: int, regime: str, tau: sp.Rational, generations: int
) -> list[tuple[sp.Expr, sp.Expr]]:
    r"""E(mu_n - mu)^2 and E sigma_n^2 of the raw tempered loop (1-D, truth N(0, 1)), n = 1..generations.

    Every sample is a placeholder: ``M`` real normals at generation 1; at generation
    :math:`n \ge 2`, ``k`` real samples (the same first ``k`` under ``augment``, fresh ones
    under ``mix``, none under ``replace``) and ``M - k`` draws
    :math:`\mu_{n-1} + \sqrt\tau\, s_{n-1} z` with :math:`s_{n-1}` the previous fit's
    standard deviation (a symbol). Means and scatters are computed from the samples;
    expectations are taken from the last generation back (over its ``z``, then
    :math:`s_{n-1}^2 \to S_{n-1}/D`), down to the real samples.
    """
    D = _fit_denominator(estimator, sp.Integer(M))
    root = sp.sqrt(tau)
    real = list(sp.symbols(f"y1_1:{M + 1}"))
    normals = list(real)
    mus, scatters, stages = [], [], []
    data = real
    for gen in range(1, generations + 1):
        if gen > 1:
            sig = sp.Symbol(f"s{gen - 1}", positive=True)
            zs = list(sp.symbols(f"z{gen}_1:{M - k + 1}"))
            if regime == "augment":
                kept = real[:k]
            else:
                kept = list(sp.symbols(f"y{gen}_1:{k + 1}")) if k else []
                normals += kept
            data = kept + [mus[-1] + root * sig * z for z in zs]
            stages.append((sig, zs))
        mean = sum(data) / M
        mus.append(sp.expand(mean))
        scatters.append(sp.expand(sum((x - mean) ** 2 for x in data)))
    return _expect_backwards(mus, scatters, stages, D, normals)


@frozen(("unbiased",), ("mle",))
def bias_derivation(estimator: str) -> dict[str, object]:
    r"""Derive the tempered recursions of replace, mix and augment, and replace's closed forms.

    State as in the untempered derivations: :math:`\alpha_n = E\|\mu_n-\mu\|^2/\operatorname{tr}\Sigma`,
    :math:`\beta_n = E\operatorname{tr}\Sigma_n/\operatorname{tr}\Sigma` (and augment's
    :math:`g_n`). Generation 1 is the untempered step from the truth,
    :math:`v_1 = A_1 v_0 + c`; generation :math:`n \ge 2` is :math:`v_n = A_\tau v_{n-1} + c`
    with :math:`A_\tau = A_1\,\mathrm{diag}(1, \tau[, 1])`. Replace (``k = 0``):
    :math:`\alpha_n = \alpha_{n-1} + \tau\beta_{n-1}/M`, :math:`\beta_n = \tau r\beta_{n-1}`,
    :math:`r = (M-1)/D`, solved as

    .. math:: \beta_n = r^n\tau^{n-1}, \qquad
              \alpha_n = \frac1M\Big[1 + \sum_{j=1}^{n-1} (\tau r)^j\Big],

    unbiased: :math:`E\Sigma_n = \tau^{n-1}\Sigma` and
    :math:`E\|\mu_n - \mu\|^2 = \operatorname{tr}\Sigma\,[1/M + \sum_{k=2}^n \tau^{k-1}/M]`,
    bounded by :math:`\operatorname{tr}\Sigma/(M(1-\tau))` for :math:`\tau < 1`; the
    standard deviation (1-D) :math:`E\sigma_n/\sigma = f^n\tau^{(n-1)/2}` (``f`` replace's
    factor, :math:`c_4(M)` unbiased), :math:`E\log\det(\Sigma_n\Sigma^{-1}) = n\delta_d +
    d(n-1)\log\tau`, and the 1-D :math:`E W_2^2 = \sigma^2(\alpha_n + \beta_n - 2E\sigma_n/\sigma + 1)`.

    Args:
        estimator: ``"unbiased"`` or ``"mle"``.

    Returns:
        dict with ``tau`` (the symbol), ``A`` and ``c`` per regime (``{"replace": ..,
        "mix": .., "augment": ..}``, in ``k``, ``M``, ``tau``), ``stationary`` per regime
        (mix and augment, :math:`(I - A_\tau)^{-1}c`), ``replace`` (closed forms in
        ``n, q, d, sigma2, tau``: ``mean_sq_error``, ``variance``, ``std``, ``log_det``,
        ``w2_sq``, and ``mean_sq_limit``, the bound for :math:`\tau r < 1`), ``mean_effective``
        (mix: :math:`1/(k\alpha^*)`, the stationary mean error's effective sample size over
        ``k``, and its ``large_M`` limit at a fixed real fraction) and ``direct`` (the
        ``(regime, M, k, tau)`` checked against the raw loop).
    """
    mix, aug = mix_derivation(estimator), augment_derivation(estimator)
    A = {
        "mix": (mix["A"] * sp.diag(1, _tau)).applyfunc(sp.factor),
        "augment": (aug["A"] * sp.diag(1, _tau, 1)).applyfunc(sp.factor),
    }
    c = {"mix": mix["c"], "augment": aug["c"]}
    A["replace"], c["replace"] = A["mix"].subs(_k, 0).applyfunc(sp.factor), c["mix"].subs(_k, 0)
    # replace's tempered step is the replace derivation's step with Sigma_{n-1} -> tau Sigma_{n-1}
    step = replace_derivation(estimator)["step"]
    q_as_M = {_q: _Mdisp - 1}
    want = sp.Matrix(
        [[1, _tau * step["mean_sq_from_var"].subs(q_as_M)], [0, _tau * step["variance_ratio"].subs(q_as_M)]]
    )
    assert (A["replace"] - want).applyfunc(sp.cancel) == sp.zeros(2, 2) and c["replace"] == sp.zeros(2, 1)
    # the raw loop, tempered, against the recursions (first three generations, exact rationals)
    direct = []
    for regime, Mv, kv, tv in (
        ("replace", 3, 0, sp.Rational(1, 4)),
        ("mix", 3, 1, sp.Rational(9, 4)),
        ("augment", 3, 1, sp.Rational(4, 9)),
        ("augment", 3, 2, sp.Rational(9, 4)),
    ):
        subs = {_k: kv, _Mdisp: Mv}
        A1, At, cn = A[regime].subs({**subs, _tau: 1}), A[regime].subs({**subs, _tau: tv}), c[regime].subs(subs)
        v = sp.Matrix([0, 1] + [0] * (_STATES[regime] - 2))
        for gen, (mean_sq, var) in enumerate(_direct_tempered(estimator, Mv, kv, regime, tv, 3), start=1):
            v = (A1 if gen == 1 else At) * v + cn
            assert v[0] == mean_sq and v[1] == var, (regime, Mv, kv, tv, gen)  # exact rationals
        direct.append((regime, Mv, kv, tv))
    stationary = {
        regime: (sp.eye(_STATES[regime]) - A[regime]).LUsolve(c[regime]).applyfunc(sp.factor)
        for regime in ("mix", "augment")
    }
    for regime in ("mix", "augment"):  # tau = 1 is the untempered stationary point
        untempered = (mix if regime == "mix" else aug)["stationary"]
        assert (stationary[regime].subs(_tau, 1) - untempered).applyfunc(sp.cancel) == sp.zeros(_STATES[regime], 1)

    # replace in closed form, in q = M - 1 (the replace derivation's symbols)
    r = sp.cancel(step["variance_ratio"])
    # beta_n = r (tau r)^(n-1), alpha_n = [1 + sum_{j=1}^{n-1} (tau r)^j]/M: checked below to solve
    # the tempered recursion from the real first fit (alpha_1 = 1/M, beta_1 = r)
    beta_n = r * (_tau * r) ** (_n - 1)
    j = sp.Symbol("j", integer=True, positive=True)
    x = sp.Symbol("x", positive=True)  # x = tau r
    geometric = sp.summation(x**j, (j, 1, _n - 1))
    alpha_n = (1 + geometric.subs(x, _tau * r)) / (_q + 1)
    # the closed forms solve the tempered recursion from the real first fit: on the generic branch
    # (tau r != 1) symbolically, and on the other at tau = 1/r
    generic = alpha_n.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)
    for a_n, at in ((generic, {}), (alpha_n, {_tau: 1 / r})):
        for nv in range(1, 5):
            a_prev = a_n.subs(_n, nv - 1) if nv > 1 else sp.Integer(0)
            b_prev = beta_n.subs(_n, nv - 1) if nv > 1 else sp.Integer(1)
            t = _tau if nv > 1 else 1
            assert sp.cancel((a_n.subs(_n, nv) - a_prev - t * b_prev / (_q + 1)).subs(at)) == 0
            assert sp.cancel((beta_n.subs(_n, nv) - t * r * b_prev).subs(at)) == 0
    # tau r < 1: x^n -> 0 (x = 1/(1 + u), u > 0), so alpha_n -> (1 + x/(1 - x))/M
    assert _power_limit(1 / (1 + sp.Symbol("u", positive=True))) == 0
    mean_sq_limit = sp.factor((1 + x / (1 - x)).subs(x, _tau * r) / (_q + 1))
    f = replace_derivation(estimator)["std_factor"]
    gamma_n = f**_n * _tau ** ((_n - 1) / 2)
    sig = sp.sqrt(_s)
    err, sd, G = sp.Symbol("err", real=True), sp.Symbol("sd", positive=True), sp.Symbol("G", positive=True)
    w2 = _apply_moments(
        sp.expand(err**2 + (sd - sig) ** 2), (err, sd), {(2, 0): _s * alpha_n, (0, 2): _s * beta_n, (0, 1): sig * G}
    )
    drift = replace_derivation(estimator)["log_det_drift"]
    replace = {
        "mean_sq_error": _d * _s * alpha_n,
        "variance": beta_n,
        "std": gamma_n,
        "log_det": _n * drift + _d * (_n - 1) * sp.log(_tau),
        "w2_sq": w2.subs(G, gamma_n),
        "mean_sq_limit": _d * _s * mean_sq_limit,
    }
    # mix at the moment level: the real-only sample size with the same stationary mean error, over k
    ratio = sp.factor(1 / (_k * stationary["mix"][0]))
    lam = sp.Symbol("lambda", positive=True)
    large_M = sp.factor(sp.limit(ratio.subs(_k, lam * _Mdisp), _Mdisp, sp.oo))
    return {
        "tau": _tau,
        "A": A,
        "c": c,
        "stationary": stationary,
        "replace": replace,
        "mean_effective": {"ratio": ratio, "large_M": large_M, "lambda": lam},
        "direct": direct,
    }


# ---------------------------------------------------------------------------
# Numeric functions.
# ---------------------------------------------------------------------------
@functools.cache
def _numeric(estimator: str) -> dict[str, Callable]:
    der = bias_derivation(estimator)
    out: dict[str, Callable] = {}
    for regime in BIAS_REGIMES:
        out[f"A/{regime}"] = _lam(der["A"][regime], [_k, _Mdisp, _tau])
        out[f"c/{regime}"] = _lam(der["c"][regime], [_k, _Mdisp])
    for regime in ("mix", "augment"):
        out[f"stationary/{regime}"] = _lam(der["stationary"][regime], [_k, _Mdisp, _tau])
    rep = der["replace"]
    for key in ("std", "w2_sq", "mean_sq_limit"):
        out[f"replace/{key}"] = _lam(rep[key], [_n, _q, _d, _s, _tau])
    out["mean_effective"] = _lam(der["mean_effective"]["ratio"], [_k, _Mdisp, _tau])
    return out


@functools.cache
def _log_det_fn(estimator: str, dim: int) -> Callable:
    expr = bias_derivation(estimator)["replace"]["log_det"].subs(_d, dim).doit()
    return _lam(expr, [_n, _q, _tau])


def _check_tau(temperature) -> float:
    tau = float(temperature)
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return tau


def _count(regime: str, real_fraction, M: int) -> int:
    if regime not in BIAS_REGIMES:
        raise ValueError(f"no sampling-bias recursion for regime {regime!r}; choose one of: {', '.join(BIAS_REGIMES)}")
    if regime == "replace":
        if real_fraction is not None:
            raise ValueError("real_fraction applies to mix and augment only")
        return 0
    return _real_count(real_fraction, M, regime)


def tempered_moments(
    regime: str,
    estimator: str,
    n: ArrayLike,
    *,
    dim: int,
    M: int,
    sigma2: float,
    temperature: float,
    real_fraction: float | None = None,
    first_tempered: int = 2,
) -> dict[str, np.ndarray]:
    r"""``E||mu_n - mu||^2`` and ``E tr Sigma_n / tr Sigma`` at temperature ``tau`` (derived here).

    Iterates the exact recursion of :func:`bias_derivation` from the truth, :math:`v_0 = (0, 1[, 0])`:
    :math:`v_n = A_1 v_{n-1} + c` for :math:`n < ` ``first_tempered`` (generation 1 fits real
    data: ``first_tempered = 2``, the simulator's convention) and :math:`A_\tau v_{n-1} + c` after.

    Args:
        regime: ``replace``, ``mix`` or ``augment``.
        estimator: ``unbiased`` or ``mle``.
        n: generation(s), integers >= 0.
        dim, M, sigma2: as elsewhere.
        temperature: :math:`\tau > 0`.
        real_fraction: mix and augment: the real share ``k/M`` (None under replace).
        first_tempered: the first generation whose synthetic samples are tempered (2; 1 is
            the wrong convention that tempers the first fit's real data too).

    Returns:
        ``{"mean_sq_error": array, "variance": array}`` shaped like ``n``.
    """
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    tau = _check_tau(temperature)
    k = _count(regime, real_fraction, M)
    n_arr = _generations(n)
    num = _numeric(estimator)
    A1 = np.asarray(num[f"A/{regime}"](float(k), float(M), 1.0), np.float64)
    At = np.asarray(num[f"A/{regime}"](float(k), float(M), tau), np.float64)
    c = np.asarray(num[f"c/{regime}"](float(k), float(M)), np.float64).reshape(-1)
    n_max = int(n_arr.max(initial=0))
    v = np.zeros((n_max + 1, c.size))
    v[0, 1] = 1.0
    for i in range(1, n_max + 1):
        v[i] = (At if i >= first_tempered else A1) @ v[i - 1] + c
    return {"mean_sq_error": _out(dim * sigma2 * v[n_arr, 0], n_arr), "variance": _out(v[n_arr, 1], n_arr)}


def tempered_stationary(
    regime: str, estimator: str, *, dim: int, M: int, sigma2: float, temperature: float, real_fraction: float
) -> dict[str, float]:
    r"""Stationary ``E||mu* - mu||^2`` and ``E tr Sigma* / tr Sigma`` of mix or augment at temperature ``tau``.

    :math:`(I - A_\tau)^{-1}c` from :func:`bias_derivation` (derived here): the moment-level
    version of Alemohammad et al. 2024's limit "independent of the initial sample size".

    Raises:
        ValueError: ``real_fraction = 0`` (replace), or a temperature at which the recursion
            has spectral radius >= 1 (no stationary point; possible only for ``tau > 1``).
    """
    if regime not in ("mix", "augment"):
        raise ValueError(f"stationary points exist for mix and augment, not {regime!r}")
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    tau = _check_tau(temperature)
    k = _count(regime, real_fraction, M)
    if k == 0:
        raise ValueError(f"{regime} with real_fraction = 0 is replace: no stationary limit")
    num = _numeric(estimator)
    At = np.asarray(num[f"A/{regime}"](float(k), float(M), tau), np.float64)
    if np.max(np.abs(np.linalg.eigvals(At))) >= 1:
        raise ValueError(f"at temperature {tau} the {regime} recursion does not contract: no stationary point")
    v = np.asarray(num[f"stationary/{regime}"](float(k), float(M), tau), np.float64).reshape(-1)
    return {"mean_sq_error": dim * sigma2 * float(v[0]), "variance": float(v[1])}


def mean_effective_size(*, M: int, estimator: str, temperature: float, real_fraction: float) -> float:
    r"""The fresh-data loop's effective sample size at the level of the mean (derived here).

    :math:`n_e^{\text{mean}} = \operatorname{tr}\Sigma / E\|\mu^* - \mu\|^2 = 1/\alpha^*`: the
    number of real samples whose sample mean has the stationary mean error of ``mix`` with
    ``k = real_fraction * M`` real and ``M - k`` synthetic samples at temperature ``tau``
    (a real-only fit on ``n`` samples has :math:`\alpha = 1/n`). Alemohammad et al. 2024
    define their effective sample size with the Wasserstein distance instead, which has no
    closed form (see the module docstring); this is its exact moment-level counterpart.

    Returns:
        :math:`n_e^{\text{mean}}` (divide by ``k`` for the ratio the paper plots).
    """
    s = tempered_stationary(
        "mix", estimator, dim=1, M=M, sigma2=1.0, temperature=temperature, real_fraction=real_fraction
    )
    return 1.0 / s["mean_sq_error"]


_KINDS = {
    ("replace", "mean_sq_error"): "any",
    ("replace", "variance"): "any",
    ("replace", "log_det"): "any",
    ("replace", "std"): "1",
    ("replace", "w2_sq"): "1",
    ("mix", "mean_sq_error"): "any",
    ("mix", "variance"): "any",
    ("augment", "mean_sq_error"): "any",
    ("augment", "variance"): "any",
}


def tempered_law_kind(metric: str, regime: str, estimator: str, dim: int) -> str | None:
    """``"exact expectation"`` where :func:`tempered_predict` has a law, else None."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    dims = _KINDS.get((regime, metric))
    if dims is None or (dims == "1" and dim != 1):
        return None
    return "exact expectation"


def tempered_predict(
    metric: str,
    regime: str,
    estimator: str,
    n: ArrayLike,
    *,
    dim: int,
    M: int,
    sigma2: float = 1.0,
    temperature: float,
    real_fraction: float | None = None,
    first_tempered: int = 2,
) -> np.ndarray | None:
    r"""The expectation of ``metric`` at generations ``n`` under sampling bias ``tau`` (None: no law).

    Replace: every metric in closed form (``std`` and ``w2_sq`` in 1-D); mix and augment:
    ``mean_sq_error`` and ``variance`` by the exact recursion (:func:`tempered_moments`).
    ``first_tempered`` as there (the replace closed forms assume 2; 1 shifts the
    temperature's exponent by one, the wrong twin).
    """
    if tempered_law_kind(metric, regime, estimator, dim) is None:
        return None
    if metric in ("mean_sq_error", "variance"):
        return tempered_moments(
            regime,
            estimator,
            n,
            dim=dim,
            M=M,
            sigma2=sigma2,
            temperature=temperature,
            real_fraction=real_fraction,
            first_tempered=first_tempered,
        )[metric]
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    tau = _check_tau(temperature)
    _count(regime, real_fraction, M)
    n_arr = _generations(n)
    nn = n_arr.astype(np.float64)
    tau = np.float64(tau)  # the closed forms' Piecewise evaluates every branch: 1/(tau - 1) must not raise
    # tempering from generation 1 multiplies by one more factor of tau: tau^(n-1) -> tau^n
    shift = 1.0 if first_tempered == 1 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = _closed_form(metric, estimator, nn, n_arr, dim, M, sigma2, tau, shift)
    return _out(np.where(n_arr == 0, 0.0 if metric in ("log_det", "w2_sq") else 1.0, vals), n_arr)


def _closed_form(metric, estimator, nn, n_arr, dim, M, sigma2, tau, shift):
    """Replace's closed forms of ``log_det``, ``std`` and ``w2_sq`` at temperature ``tau``."""
    num = _numeric(estimator)
    if metric == "log_det":
        _need_det(dim, M)
        vals = _log_det_fn(estimator, dim)(nn, M - 1.0, tau) + dim * shift * np.log(tau)
    elif metric == "std":
        vals = num["replace/std"](nn, M - 1.0, dim, sigma2, tau) * tau ** (shift / 2)
    else:  # w2_sq, 1-D: sigma2 (alpha_n + beta_n - 2 E sigma_n/sigma + 1)
        if shift:
            mom = tempered_moments(
                "replace", estimator, n_arr, dim=1, M=M, sigma2=1.0, temperature=tau, first_tempered=1
            )
            std = num["replace/std"](nn, M - 1.0, 1, 1.0, tau) * np.sqrt(tau)
            vals = sigma2 * (mom["mean_sq_error"] + mom["variance"] - 2 * std + 1)
        else:
            vals = num["replace/w2_sq"](nn, M - 1.0, 1, sigma2, tau)
    return vals
