r"""A downstream learner's error, exactly at finite ``T`` (Dohmatob et al. 2024, *A Tale of Tails*).

The learner memorises every category it sees in ``T`` training samples drawn from a distribution
``q``; its test error on the original data :math:`p_0` is the :math:`p_0`-mass of the categories it
never saw, in expectation :math:`E_T(q) = \sum_i p_{0,i}(1 - q_i)^T` (:func:`downstream_error_given`;
exact, derived here: category ``i`` is missed with probability :math:`(1 - q_i)^T`). Dohmatob et al.
2024 (ICML), "A Tale of Tails: Model Collapse as a Change of Scaling Laws", state the laws below up to
constants (:math:`\asymp`); the exact finite-``T`` sums here are the package's own:

* clean data, Zipf :math:`p_{0,i} \propto i^{-\beta}` on :math:`i \ge 1`, :math:`\beta > 1`:
  :math:`E_T \asymp T^{-(1 - 1/\beta)}` (their Hutter-LLM law); the constant, derived here from the
  integral approximation of the sum, is :math:`E_T \sim C_\beta T^{-(1-1/\beta)}`,
  :math:`C_\beta = \Gamma(1 - 1/\beta)/(\beta\zeta(\beta)^{1/\beta})`
  (:func:`zipf_constant_derivation`, :func:`zipf_downstream_constant`);
* training on :math:`p_0` cut at rank ``k`` (their Thm 2.1, tail cutting; here top-k decoding with
  infinitely many samples): :math:`E_T \asymp T^{-(1-1/\beta)} + k^{-(\beta - 1)}`; exactly
  :func:`tail_cut_error`, which tends to the plateau :math:`\sum_{i > k} p_{0,i}` (:func:`tail_cut_plateau`)
  as :math:`T \to \infty`;
* after ``n`` generations of replace, mix or augment with ``M`` samples each (no decoding),
  :math:`E[E_T(p_n)] = \sum_i p_{0,i} E(1 - c_{n,i}/M)^T` exactly, from the count chain of
  :mod:`.survival` (:func:`expected_downstream_error`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ..frozen import frozen
from .distributions import _check_distribution, decode
from .gini import _check_M
from .survival import _expect, _gens

__all__ = [
    "clean_downstream_error",
    "downstream_error_given",
    "expected_downstream_error",
    "tail_cut_error",
    "tail_cut_plateau",
    "zipf_clean_downstream_error",
    "zipf_constant_derivation",
    "zipf_downstream_constant",
]


def _check_T(T: ArrayLike) -> np.ndarray:
    T = np.asarray(T, dtype=np.float64)
    if np.any(T < 0):
        raise ValueError("T must be >= 0")
    return T


def downstream_error_given(q: ArrayLike, p0: ArrayLike, T: ArrayLike) -> np.ndarray:
    r""":math:`\sum_i p_{0,i}(1 - q_i)^T` for ``q`` shaped ``(..., K)``; returns ``q.shape[:-1] + T.shape``."""
    q = np.asarray(q, dtype=np.float64)
    p0 = _check_distribution(p0, "p0")
    T = _check_T(T)
    with np.errstate(divide="ignore"):
        log_miss = np.log1p(-np.clip(q, 0.0, 1.0))  # -inf where q = 1
    t = T.reshape((1,) * (q.ndim - 1) + (1,) + T.shape) if T.ndim else T
    lm = log_miss.reshape(q.shape + (1,) * T.ndim)
    with np.errstate(invalid="ignore"):
        miss = np.where(np.isneginf(lm) & (t == 0), 1.0, np.exp(lm * t))
    w = p0.reshape((1,) * (q.ndim - 1) + (p0.size,) + (1,) * T.ndim)
    return np.sum(w * miss, axis=q.ndim - 1)


def clean_downstream_error(p0: ArrayLike, T: ArrayLike) -> np.ndarray:
    r"""The learner trained on :math:`p_0` itself: :math:`\sum_i p_{0,i}(1 - p_{0,i})^T` (Hutter's model)."""
    return downstream_error_given(p0, p0, T)


def expected_downstream_error(
    p0: ArrayLike,
    M: int,
    generations: ArrayLike,
    T: ArrayLike,
    regime: str = "replace",
    real_fraction: float | None = None,
) -> np.ndarray:
    r"""Exact :math:`E\sum_i p_{0,i}(1 - p_{n,i})^T`, temperature 1, no decoding.

    Generation 0 is the clean error; generation :math:`n \ge 1` uses the law of each category's count
    (:mod:`.survival`: replace, mix or augment; categories with equal :math:`p_0` computed once; mix and
    augment cost ``M^2`` per distinct :math:`p_0` value and generation). Returns
    ``(len(generations), len(T))`` (``T`` flattened).
    """
    p0 = _check_distribution(p0, "p0")
    M = _check_M(M)
    gens = _gens(generations, minimum=0)
    T = np.atleast_1d(_check_T(T)).reshape(-1)
    out = np.empty((gens.size, T.size))
    out[gens == 0] = clean_downstream_error(p0, T)
    later = gens[gens > 0]
    if later.size:
        values, inverse = np.unique(p0, return_inverse=True)
        weights = np.bincount(inverse, weights=p0)  # total p0 mass of each value group
        with np.errstate(divide="ignore"):
            F = np.exp(np.log1p(-np.arange(M + 1) / M)[:, None] * T[None, :])  # (1 - c/M)^T
        F[M, T == 0] = 1.0
        e = _expect(values, M, later, F, regime, real_fraction)  # (values, later, T)
        out[gens > 0] = np.einsum("v,vgt->gt", weights, e)
    return out


def tail_cut_error(p0: ArrayLike, k: int, T: ArrayLike) -> np.ndarray:
    r"""Training on :math:`p_0` cut at rank ``k`` and renormalised (top-k decoding, infinite samples).

    :math:`\sum_{i \in \text{top } k} p_{0,i}(1 - p_{0,i}/P_k)^T + \sum_{i \notin \text{top } k} p_{0,i}`,
    :math:`P_k` the kept mass (ties in rank to the lower index, as :func:`~.distributions.decode`).
    """
    p0 = _check_distribution(p0, "p0")
    return downstream_error_given(decode(p0, top_k=int(k)), p0, T)


def tail_cut_plateau(p0: ArrayLike, k: int) -> float:
    r""":math:`\lim_{T\to\infty}` :func:`tail_cut_error` :math:`= \sum_{i \notin \text{top } k} p_{0,i}`
    (:math:`\asymp k^{-(\beta-1)}` for Zipf; Dohmatob et al. 2024, Thm 2.1)."""
    p0 = _check_distribution(p0, "p0")
    return float(np.sum(np.where(decode(p0, top_k=int(k)) > 0, 0.0, p0)))


@frozen()
def zipf_constant_derivation() -> dict[str, object]:
    r"""The constant of the clean Zipf law, :math:`E_T \sim C_\beta T^{-(1 - 1/\beta)}` (derived here).

    With :math:`p(i) = i^{-\beta}/\zeta(\beta)` on :math:`i \ge 1` and :math:`(1 - p)^T \approx e^{-Tp}`,
    the sum is approximated by :math:`\int_0^\infty p(i) e^{-Tp(i)}\,di`; SymPy changes variables to
    :math:`x = Tp(i)` (the Jacobian by ``diff``) and integrates :math:`x^{-1/\beta} e^{-x}`, giving
    :math:`C_\beta = \Gamma(1 - 1/\beta)/(\beta\zeta(\beta)^{1/\beta})`. Leading order only: the
    relative error of the sum against it shrinks as ``T`` grows (tested against the exact sum).

    Returns:
        dict ``constant`` (:math:`C_\beta` in ``beta``) and ``exponent`` (:math:`1 - 1/\beta`).
    """
    import sympy as sp

    beta = sp.Symbol("beta", positive=True)
    c = sp.Symbol("c", positive=True)  # c = 1 - 1/beta in (0, 1)
    T, x, Z = sp.symbols("T x Z", positive=True)
    i_of_x = (T / (Z * x)) ** (1 / beta)  # x = T i^-beta / Z
    p_of_x = x / T
    integrand = sp.simplify(p_of_x * sp.exp(-x) * (-sp.diff(i_of_x, x)))  # i decreases as x grows
    core = sp.simplify(integrand.subs(beta, 1 / (1 - c)))
    prefactor = sp.simplify(core / (x ** (c - 1) * sp.exp(-x)))
    assert not prefactor.has(x), prefactor
    value = sp.integrate(x ** (c - 1) * sp.exp(-x), (x, 0, sp.oo), conds="none")
    total = sp.powsimp(sp.simplify((prefactor * value).subs(c, 1 - 1 / beta)), force=True)
    exponent = 1 - 1 / beta
    constant = sp.simplify(total * T**exponent).subs(Z, sp.zeta(beta))
    assert not constant.has(T), constant
    want = sp.gamma(1 - 1 / beta) / (beta * sp.zeta(beta) ** (1 / beta))
    assert sp.simplify(constant / want - 1) == 0, constant
    return {"constant": want, "exponent": exponent}


def zipf_downstream_constant(beta: ArrayLike) -> np.ndarray:
    r""":math:`C_\beta = \Gamma(1 - 1/\beta)/(\beta\zeta(\beta)^{1/\beta})` for :math:`\beta > 1`
    (:func:`zipf_constant_derivation`; evaluated with :mod:`scipy.special`)."""
    b = np.asarray(beta, dtype=np.float64)
    if np.any(b <= 1):
        raise ValueError("beta must be > 1")
    return special.gamma(1 - 1 / b) / (b * special.zeta(b) ** (1 / b))


def zipf_clean_downstream_error(beta: float, T: ArrayLike, terms: int = 1_000_000) -> np.ndarray:
    r"""The clean error for the infinite Zipf law :math:`p_i = i^{-\beta}/\zeta(\beta)`, :math:`i \ge 1`.

    The first ``terms`` categories summed exactly; the rest, all with :math:`Tp_i` tiny when
    :math:`T p_{\text{terms}} \ll 1`, add :math:`\sum_{i > \text{terms}} p_i (1-p_i)^T`, taken as their
    mass :math:`\zeta(\beta, \text{terms}+1)/\zeta(\beta)` times :math:`(1 - p_{\text{terms}+1})^T`
    (too low by at most that mass times :math:`1 - (1 - p_{\text{terms}+1})^T`).
    """
    if not beta > 1:
        raise ValueError("beta must be > 1")
    T = np.atleast_1d(_check_T(T)).reshape(-1)
    z = special.zeta(beta)
    p = np.arange(1, terms + 1, dtype=np.float64) ** (-beta) / z
    head = np.array([np.sum(p * np.exp(t * np.log1p(-p))) for t in T])
    tail_mass = special.zeta(beta, terms + 1) / z
    p_next = (terms + 1.0) ** (-beta) / z
    return head + tail_mass * np.exp(T * np.log1p(-p_next))
