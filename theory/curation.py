r"""Curation by a reward (Ferbach, Bertrand, Bose & Gidel, NeurIPS 2024, arXiv 2407.09499).

The one-step rule (the model's recursion): draw ``K`` candidates :math:`x_1..x_K \sim p_t` i.i.d. and keep
:math:`x_j` with probability :math:`e^{r(x_j)}/\sum_l e^{r(x_l)}` (Bradley-Terry/Luce). The kept sample's law is

.. math:: p_{t+1}(x) = p_t(x) H^K_{p_t}(x), \qquad
          H^K_p(x) = K\,E_{Y_1..Y_{K-1} \sim p}\Big[\frac{e^{r(x)}}{e^{r(x)} + \sum_j e^{r(Y_j)}}\Big]

(by symmetry of the ``K`` slots). Computed here, each from that rule:

* categorical, exactly (:func:`luce_map_exact`): the other ``K - 1`` candidates' category counts are
  :math:`\operatorname{Mult}(K-1, p)`; a finite sum over their compositions (derived here);
* categorical, any ``K`` (:func:`luce_map`): :math:`w/(w+S) = \int_0^\infty w e^{-s(w+S)} ds` gives
  :math:`H^K_p(x) = K\int_0^\infty w_x e^{-s w_x}\,\varphi(s)^{K-1} ds`, :math:`\varphi(s) = E_p e^{-s w}`,
  :math:`w = e^{r - \max r}`, one adaptive 1-D integral (derived here);
* ``K = 2``: :math:`p_{t+1}(x) = 2 p_t(x) E_{y \sim p_t}\sigma(r(x) - r(y))` (the paper's ``K = 2`` case; it
  normalises since :math:`E\sigma(r(x) - r(y)) = 1/2` by symmetry);
* ``K -> oo``: the exponential tilt :math:`p_{t+1} \propto p_t e^r` (the paper's limit, which mirrors RLHF),
  so :math:`p_t = p_0 e^{tr}/E_{p_0}e^{tr}`; for :math:`p_0 = N(m_0, S_0)` and
  :math:`r(x) = -(x-a)^T A (x-a)/2`, :math:`S_t^{-1} = S_0^{-1} + tA`, :math:`m_t = S_t(S_0^{-1}m_0 + tAa)`
  (:func:`tilt_derivation`, SymPy, from the one-step product of densities; derived here);
* the expected reward never decreases along the tilt: :math:`E_{p_{t+1}}e^r - E_{p_t}e^r =
  \operatorname{Var}_{p_t}(e^r)/E_{p_t}e^r \ge 0` and :math:`\frac{d}{dt}E_{p_t} r = \operatorname{Var}_{p_t} r`
  (:func:`reward_increase_derivation`, SymPy; derived here);
* with a fraction ``f`` of fresh real data (``mix``): the population map :math:`p \mapsto f p_0 + (1-f)
  \Phi_K(p)`; with two categories :math:`\Phi_2` and :math:`\Phi_\infty` make the fixed point a root of a
  quadratic (:func:`two_category_derivation`; derived here); elsewhere by iteration (:func:`stationary`).

The Gaussian at finite ``K`` (1-D, :mod:`.curation_gaussian`) reuses the same integral.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, special, stats

from .frozen import frozen

__all__ = [
    "INFINITE",
    "curated_path",
    "luce_map",
    "luce_map_exact",
    "reward_increase_derivation",
    "stationary",
    "tilt",
    "tilt_derivation",
    "two_category_derivation",
    "two_category_stationary",
]

INFINITE = math.inf  # K -> oo: the exponential tilt
MAX_OUTCOMES = 2_000_000


def _check(q: ArrayLike, r: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    q, r = np.asarray(q, np.float64), np.asarray(r, np.float64)
    if q.ndim != 1 or q.shape != r.shape:
        raise ValueError(f"q and r must be 1-D of the same length, got {q.shape} and {r.shape}")
    if np.any(q < 0) or abs(q.sum() - 1) > 1e-9 or not np.all(np.isfinite(r)):
        raise ValueError("q must be a probability vector and r finite")
    return q, r


def tilt(q: ArrayLike, r: ArrayLike, t: float = 1.0) -> np.ndarray:
    r""":math:`q e^{t r}/\sum q e^{t r}`: the ``K -> oo`` map applied ``t`` times (the paper's limit)."""
    q, r = _check(q, r)
    w = q * np.exp(t * (r - r[q > 0].max()))
    return w / w.sum()


def luce_map_exact(q: ArrayLike, r: ArrayLike, K: int) -> np.ndarray:
    r"""The kept sample's law :math:`q H^K_q`, exactly: a sum over the other ``K - 1`` candidates' counts.

    :math:`P(\text{keep } x) = K q_x \sum_c \operatorname{Mult}(c; K-1, q)\, w_x/(w_x + \sum_y c_y w_y)`,
    :math:`w = e^r` (derived here, from the Luce rule; the sum has :math:`\binom{K+L-2}{L-1}` terms for ``L``
    categories).
    """
    from .categorical.one_step import compositions

    q, r = _check(q, r)
    if int(K) != K or K < 1:
        raise ValueError(f"K must be a whole number >= 1, got {K}")
    K = int(K)
    if K == 1:
        return q.copy()
    if math.comb(K + q.size - 2, q.size - 1) > MAX_OUTCOMES:
        raise ValueError(f"too many outcomes to enumerate for K={K} and {q.size} categories")
    c = compositions(K - 1, q.size)
    weights = stats.multinomial.pmf(c, K - 1, q)
    w = np.exp(r - r.max())
    others = c @ w  # sum_y c_y w_y, one per composition
    H = K * (weights[:, None] * (w[None, :] / (w[None, :] + others[:, None]))).sum(axis=0)
    return q * H


def luce_map(q: ArrayLike, r: ArrayLike, K: float) -> np.ndarray:
    r"""The kept sample's law :math:`q H^K_q` for any ``K`` (``INFINITE``: the tilt).

    ``K = 1``: ``q``; ``K = 2``: :math:`2 q_x \sum_y q_y \sigma(r_x - r_y)`; otherwise
    :math:`H^K_q(x) = K\int_0^\infty w_x e^{-s w_x}\varphi(s)^{K-1}ds` (module docstring) by adaptive quadrature
    to a relative error of about 1e-12.
    """
    q, r = _check(q, r)
    if K == INFINITE:
        return tilt(q, r)
    if int(K) != K or K < 1:
        raise ValueError(f"K must be a whole number >= 1 or INFINITE, got {K}")
    if K == 1:
        return q.copy()
    if K == 2:
        out = 2.0 * q * (special.expit(r[:, None] - r[None, :]) @ q)
        return out / out.sum()  # sums to 1 up to round-off, which iterating would amplify
    w = np.exp(r - r[q > 0].max())
    live = q > 0

    def integrand(s):
        phi = float(q[live] @ np.exp(-s * w[live]))
        return w * np.exp(-s * w) * phi ** (K - 1)

    H, _ = integrate.quad_vec(integrand, 0.0, np.inf, epsabs=1e-15, epsrel=1e-12, limit=2000)
    out = q * K * H
    return out / out.sum()  # the quadrature's round-off, at 1e-12


def curated_path(p0: ArrayLike, r: ArrayLike, K: float, generations: int, real_fraction: float = 0.0) -> np.ndarray:
    r"""The infinite-sample path :math:`p_1..p_G` (``(G, L)``): :math:`p_1 = p_0`,
    :math:`p_{n+1} = f p_0 + (1-f)\,\Phi_K(p_n)` (``f``: the real fraction, ``mix``)."""
    p0, r = _check(p0, r)
    path = np.empty((generations, p0.size))
    p = p0
    for n in range(generations):
        if n:
            p = real_fraction * p0 + (1 - real_fraction) * luce_map(p, r, K)
        path[n] = p
    return path


def stationary(
    p0: ArrayLike, r: ArrayLike, K: float, real_fraction: float, tol: float = 1e-13, max_iter: int = 100_000
) -> np.ndarray:
    r"""The fixed point of :math:`p = f p_0 + (1-f)\Phi_K(p)` by iteration from :math:`p_0` (``f > 0``).

    Raises:
        ValueError: ``f <= 0`` (no real data: the path concentrates on the reward's maximisers) or no
            convergence within ``max_iter`` steps.
    """
    p0, r = _check(p0, r)
    if not 0 < real_fraction <= 1:
        raise ValueError(f"a stationary point needs real data: real_fraction in (0, 1], got {real_fraction}")
    p = p0
    for _ in range(max_iter):
        new = real_fraction * p0 + (1 - real_fraction) * luce_map(p, r, K)
        if np.abs(new - p).max() < tol:
            return new
        p = new
    raise ValueError("the fixed-point iteration did not converge")


@frozen(("2",), ("oo",))
def two_category_derivation(K: str) -> dict[str, object]:
    r"""Two categories, ``mix``: the population fixed point :math:`p = f\pi + (1-f)\Phi_K(p)` as a quadratic.

    :math:`p` is the probability of category 0, :math:`\pi` its real probability, :math:`\rho =
    e^{r_1 - r_0}`. The map from the Luce rule: ``K = 2`` sums over the two candidates
    (:math:`\Phi_2(p) = p^2 + 2p(1-p)/(1+\rho)`: both 0, or one each with 0 kept with probability
    :math:`1/(1+\rho)`); ``K = oo`` is the tilt :math:`\Phi_\infty(p) = p/(p + (1-p)\rho)`. Clearing the
    denominator leaves a polynomial of degree 2 in :math:`p` (derived here).

    Returns:
        dict ``map`` (:math:`\Phi_K(p)`), ``coefficients`` (the quadratic's, highest degree first) and
        ``check`` (the fixed-point equation minus the quadratic over its denominator: 0).
    """
    import sympy as sp

    p, pi, f, rho = sp.symbols("p pi f rho", positive=True)
    if K == "2":
        # candidates (0, 0): keep 0; (0, 1) or (1, 0): keep 0 with probability e^r0/(e^r0 + e^r1).
        phi = p**2 + 2 * p * (1 - p) * 1 / (1 + rho)
        denominator = sp.Integer(1)
    elif K == "oo":
        phi = p / (p + (1 - p) * rho)
        denominator = p + (1 - p) * rho
    else:
        raise ValueError(f"K must be '2' or 'oo', got {K!r}")
    equation = sp.expand(sp.cancel((f * pi + (1 - f) * phi - p) * denominator))
    poly = sp.Poly(equation, p)
    if poly.degree() != 2:
        raise AssertionError(f"expected a quadratic, got degree {poly.degree()}")
    coefficients = tuple(sp.factor(c) for c in poly.all_coeffs())
    check = sp.simplify(
        f * pi + (1 - f) * phi - p - sum(c * p**i for i, c in enumerate(reversed(coefficients))) / denominator
    )
    return {"map": phi, "coefficients": coefficients, "check": check}


def two_category_stationary(pi: float, rho: float, real_fraction: float, K: float) -> float:
    r"""The fixed point's probability of category 0 (two categories, ``K`` in {2, oo}): the root in [0, 1].

    Args:
        pi: category 0's real probability; rho: :math:`e^{r_1 - r_0}`; real_fraction: ``f`` in (0, 1].
    """
    import sympy as sp

    name = "oo" if K == INFINITE else str(int(K)) if K == 2 else None
    if name is None:
        raise ValueError(f"a closed form exists for K = 2 and K = oo, not K = {K}")
    derived = two_category_derivation(name)
    p, pi_s, f, rho_s = sp.symbols("p pi f rho", positive=True)
    values = {pi_s: pi, f: real_fraction, rho_s: rho}
    coefficients = [float(c.subs(values)) for c in derived["coefficients"]]
    roots = np.roots(coefficients) if abs(coefficients[0]) > 1e-15 else np.array([-coefficients[2] / coefficients[1]])
    roots = roots[np.isreal(roots)].real
    inside = roots[(roots >= -1e-12) & (roots <= 1 + 1e-12)]
    if inside.size != 1:
        raise ValueError(f"expected one root in [0, 1], got {roots}")
    return float(np.clip(inside[0], 0.0, 1.0))


@frozen()
def tilt_derivation() -> dict[str, object]:
    r"""The Gaussian under the tilt: one step is the product of :math:`N(m, S)` and :math:`e^{-A(x-a)^2/2}`.

    Per coordinate (``A`` diagonal, the package's ``A = c I``): completing the square in the exponent
    :math:`-(x-m)^2/(2S) - A(x-a)^2/2` gives precision :math:`1/S + A` and mean :math:`(m/S + Aa)/(1/S + A)`
    (the one-step recursion). The closed form :math:`S_t = 1/(1/S_0 + tA)`, :math:`m_t = S_t(m_0/S_0 + tAa)`
    satisfies it (induction step checked: ``step_precision`` and ``step_mean`` are 0) and holds at
    :math:`t = 0` (derived here).

    Returns:
        dict ``precision`` and ``mean`` (one step from ``(m, S)``), ``S_t``, ``m_t``, and the two checks.
    """
    import sympy as sp

    x, m, a, m0 = sp.symbols("x m a m_0", real=True)
    S, A, S0 = sp.symbols("S A S_0", positive=True)
    t = sp.Symbol("t", nonnegative=True)
    exponent = sp.expand(-((x - m) ** 2) / (2 * S) - A * (x - a) ** 2 / 2)
    quadratic = sp.Poly(exponent, x)
    c2, c1 = quadratic.coeff_monomial(x**2), quadratic.coeff_monomial(x)
    precision = sp.simplify(-2 * c2)
    mean = sp.simplify(c1 / precision)
    S_t = 1 / (1 / S0 + t * A)
    m_t = S_t * (m0 / S0 + t * A * a)
    step = {m: m_t, S: S_t}
    step_precision = sp.simplify(precision.subs(step) - 1 / S_t.subs(t, t + 1))
    step_mean = sp.simplify(mean.subs(step) - m_t.subs(t, t + 1))
    start = sp.simplify(S_t.subs(t, 0) - S0) + sp.simplify(m_t.subs(t, 0) - m0)
    return {
        "precision": precision,
        "mean": mean,
        "S_t": S_t,
        "m_t": m_t,
        "step_precision": step_precision,
        "step_mean": step_mean,
        "start": start,
    }


@frozen((3,))
def reward_increase_derivation(L: int) -> dict[str, object]:
    r"""The expected reward along the tilt, for a distribution on ``L`` points (symbols ``q_i``, ``r_i``).

    With :math:`p' = p e^r/E_p e^r` (one tilt step): :math:`E_{p'}e^r - E_p e^r - \operatorname{Var}_p(e^r)/E_p
    e^r` simplifies to 0 (``gap_exp``), so the step never lowers :math:`E e^r`. Along :math:`p_t \propto p_0
    e^{tr}`: :math:`\frac{d}{dt}E_{p_t}r - \operatorname{Var}_{p_t} r` simplifies to 0 (``gap_derivative``),
    so :math:`E_{p_t} r` never decreases either (derived here).
    """
    import sympy as sp

    q = sp.symbols(f"q0:{L}", positive=True)
    r = sp.symbols(f"r0:{L}", real=True)
    t = sp.Symbol("t", real=True)
    e = [sp.exp(ri) for ri in r]
    Z = sum(qi * ei for qi, ei in zip(q, e, strict=True))
    total = sum(q)
    mean_e = Z / total
    tilted_mean_e = sum(qi * ei * ei for qi, ei in zip(q, e, strict=True)) / Z
    var_e = sum(qi * ei**2 for qi, ei in zip(q, e, strict=True)) / total - mean_e**2
    gap_exp = sp.simplify(tilted_mean_e - mean_e - var_e / mean_e)
    Zt = sum(qi * sp.exp(t * ri) for qi, ri in zip(q, r, strict=True))
    mean_r = sum(qi * ri * sp.exp(t * ri) for qi, ri in zip(q, r, strict=True)) / Zt
    var_r = sum(qi * ri**2 * sp.exp(t * ri) for qi, ri in zip(q, r, strict=True)) / Zt - mean_r**2
    gap_derivative = sp.simplify(sp.diff(mean_r, t) - var_r)
    return {"gap_exp": gap_exp, "gap_derivative": gap_derivative, "variance_exp": sp.simplify(var_e)}
