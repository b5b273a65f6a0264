r"""Curation of a 1-D Gaussian at finite ``K`` and finite ``M``: one step's expectations, by quadrature.

Derived here (Ferbach et al. 2024 state the ``K -> oo`` limit only). The model's recursion: generation 1
is fit on ``M`` real samples of :math:`N(0, \sigma^2)`, so :math:`\mu_1 \sim N(0, \sigma^2/M)` and
:math:`s_1^2 = \sigma^2\chi^2_{M-1}/c` (``c = M - 1`` unbiased, ``M`` MLE), independent; generation 2 is fit
on ``M`` kept samples, each the Luce choice among ``K`` candidates from :math:`N(\mu_1, \tau s_1^2)` with
the reward :math:`r(x) = -A(x-a)^2/2`. The kept samples are i.i.d. given generation 1, with mean
:math:`m(\mu_1, s_1)` and variance :math:`v(\mu_1, s_1)`, so exactly

.. math:: E\,\text{variance}_2 = E[v]\,\frac{M-1}{c}\,/\sigma^2, \qquad
          E\,\text{mean\_sq\_error}_2 = E[m^2 + v/M],

expectations over :math:`(\mu_1, s_1^2)` by Gauss-Hermite and generalised Gauss-Laguerre rules (exact for
polynomials up to their degree; the integrands are smooth). The kept sample's moments
(:func:`kept_moments`), in whitened coordinates :math:`x = \mu + s z`, :math:`w(z) = e^{-\alpha(z-b)^2/2}`,
:math:`\alpha = A s^2`, :math:`b = (a - \mu)/s`:

* ``K`` finite: :math:`E g(Z_{kept}) = K\int_0^\infty E_Z[g\,w\,e^{-tw}]\,\varphi(t)^{K-1}dt`,
  :math:`\varphi(t) = E_Z e^{-tw}` (:mod:`model_collapse.theory.curation`), the inner expectations by the
  trapezoid rule on a fine grid (spectrally accurate for these analytic, Gaussian-decaying integrands);
* ``K = 2`` also as :math:`2E[g(Z_1)\sigma(r(Z_1) - r(Z_2))]` by a 2-D Gauss-Hermite rule
  (:func:`kept_moments_pairs`, an independent check of the integral);
* ``K = oo``: the tilt, :math:`v = s^2/(1 + \alpha)`, :math:`m = (\mu + \alpha a)/(1 + \alpha)`
  (:func:`model_collapse.theory.curation.tilt_derivation`).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

from .curation import INFINITE

__all__ = ["kept_moments", "kept_moments_pairs", "one_step"]

_Z = np.linspace(-12.0, 12.0, 961)
_DZ = _Z[1] - _Z[0]
_PHI = np.exp(-0.5 * _Z**2) / np.sqrt(2 * np.pi) * _DZ  # trapezoid weights (the ends are ~1e-32)


def kept_moments(mu: np.ndarray, s: np.ndarray, a: float, A: float, K: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and variance of the kept sample among ``K`` candidates from :math:`N(\mu, s^2)` (elementwise).

    Args:
        mu, s: the candidates' mean and standard deviation (arrays of one shape).
        a, A: the reward :math:`-A(x-a)^2/2` (``A > 0``).
        K: candidates per kept sample (``INFINITE``: the tilt).
    """
    mu, s = np.broadcast_arrays(np.asarray(mu, np.float64), np.asarray(s, np.float64))
    if K == 1:
        return mu.copy(), s**2
    alpha = A * s**2
    if K == INFINITE:
        return (mu + alpha * a) / (1 + alpha), s**2 / (1 + alpha)
    if int(K) != K or K < 1:
        raise ValueError(f"K must be a whole number >= 1 or INFINITE, got {K}")
    if K == 2:
        return kept_moments_pairs(mu, s, a, A)
    b = (a - mu) / s
    flat = [x.ravel() for x in (mu, s, alpha, b)]
    ez, ez2 = np.empty(mu.size), np.empty(mu.size)
    for i in range(mu.size):  # per point: its own t-grid (the integrand's tail depends on alpha)
        ez[i], ez2[i] = _whitened_moments(float(flat[2][i]), float(flat[3][i]), K)
    ez, ez2 = ez.reshape(mu.shape), ez2.reshape(mu.shape)
    return mu + s * ez, s**2 * (ez2 - ez**2)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def _whitened_moments(alpha: float, b: float, K: int) -> tuple[float, float]:
    r""":math:`E Z_{kept}`, :math:`E Z_{kept}^2` for :math:`w(z) = e^{-\alpha(z-b)^2/2}`, ``K`` candidates.

    The ``t``-integral in :math:`y = \log(1 + t)` by composite 16-point Gauss-Legendre panels of width 1 on
    :math:`[0, Y]`: the integrand decays like :math:`e^{-y/\alpha}` (from the candidates far from ``b``), so
    :math:`Y = 36(1 + \alpha)` leaves less than :math:`e^{-36}` of it.
    """
    Y = 36.0 * (1.0 + alpha)
    edges = np.arange(0.0, Y + 1.0)
    y = ((edges[:-1, None] + edges[1:, None]) / 2 + _GL_X[None, :] / 2).ravel()
    wy = np.tile(_GL_W / 2, edges.size - 1)
    t = np.expm1(y)
    w = np.exp(-0.5 * alpha * (_Z - b) ** 2)  # (grid,), max 1 at z = b
    out = np.zeros(3)
    for chunk in np.array_split(np.arange(t.size), max(1, t.size // 512)):
        e = np.exp(-t[chunk, None] * w[None, :])  # (nodes, grid)
        phi = e @ _PHI
        ww = (w * _PHI)[None, :] * e
        weight = wy[chunk] * (1.0 + t[chunk]) * phi ** (K - 1)  # dt = (1 + t) dy
        out += np.array([weight @ ww.sum(axis=1), weight @ (ww @ _Z), weight @ (ww @ _Z**2)])
    return out[1] / out[0], out[2] / out[0]


def kept_moments_pairs(
    mu: np.ndarray, s: np.ndarray, a: float, A: float, nodes: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    r"""``K = 2``: :math:`E g(X_{kept}) = 2E[g(X_1)\sigma(r(X_1) - r(X_2))]` by a 2-D Gauss-Hermite rule."""
    mu, s = np.broadcast_arrays(np.asarray(mu, np.float64), np.asarray(s, np.float64))
    x, wts = special.roots_hermitenorm(nodes)
    wts = wts / wts.sum()
    X = mu[..., None] + s[..., None] * x  # (..., nodes)
    r = -0.5 * A * (X - a) ** 2
    sig = special.expit(r[..., :, None] - r[..., None, :])  # (..., i, j)
    weight = 2.0 * (sig * wts[None, :]).sum(axis=-1) * wts  # (..., i): P(kept = x_i) per node
    m1 = (weight * X).sum(axis=-1)
    m2 = (weight * X**2).sum(axis=-1)
    return m1, m2 - m1**2


@functools.lru_cache(maxsize=64)
def one_step(
    M: int,
    sigma2: float,
    a: float,
    A: float,
    K: float,
    estimator: str = "unbiased",
    temperature: float = 1.0,
    nodes: int = 24,
) -> dict[str, float]:
    r"""``E variance_2`` and ``E mean_sq_error_2`` (replace, 1-D, generation 2: one curated step).

    Args:
        M: samples per generation; sigma2: the truth's variance; a, A: the reward; K: candidates
        (``INFINITE``: the tilt); estimator: ``unbiased`` or ``mle``; temperature: the candidates come from
        :math:`N(\mu_1, \tau s_1^2)`; nodes: the outer rules' size per axis.
    """
    c = {"unbiased": M - 1.0, "mle": float(M)}[estimator]
    h, hw = special.roots_hermitenorm(nodes)
    hw = hw / hw.sum()
    shape = (M - 1) / 2.0  # chi2_{M-1} = 2 Gamma((M-1)/2)
    g, gw = special.roots_genlaguerre(nodes, shape - 1.0)
    gw = gw / gw.sum()
    mu1 = np.sqrt(sigma2 / M) * h[:, None] * np.ones((1, nodes))
    s1 = np.sqrt(sigma2 * 2.0 * g / c)[None, :] * np.ones((nodes, 1))
    m, v = kept_moments(mu1, np.sqrt(temperature) * s1, a, A, K)
    weight = hw[:, None] * gw[None, :]
    ev = float((weight * v).sum())
    return {
        "variance": ev * (M - 1) / c / sigma2,
        "mean_sq_error": float((weight * (m**2 + v / M)).sum()),
    }
