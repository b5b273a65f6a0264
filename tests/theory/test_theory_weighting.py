"""Weighting fresh real data against synthetic data: the derived laws, checked against their own recursions.

The numeric functions of :mod:`model_collapse.theory.weighting` against the SymPy derivation
(served frozen), against the one-step recursion iterated numerically, the golden-ratio optimum
against a grid, and the regression law given the design against a NumPy Monte Carlo of the
loss-weighted recursion (independent of the JAX simulator), with its wrong twin rejected.
"""

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import weighting as W


def _iterate(t_max, w, n, m, sigma2, dim, estimator):
    """``a_t`` by the one-step recursion of the expectations, iterated in floats."""
    rn, rm = (1.0, 1.0) if estimator == "unbiased" else ((n - 1) / n, (m - 1) / m)
    a, v, out = 0.0, sigma2 * dim, [0.0]
    for _ in range(t_max):
        a, v = w**2 * sigma2 * dim / n + (1 - w) ** 2 * (a + v / m), w * rn * sigma2 * dim + (1 - w) * rm * v
        out.append(a)
    return np.array(out)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
@pytest.mark.parametrize("w", [0.0, 0.05, 0.1, 0.3, 0.618, 1.0])
def test_gaussian_mean_error_is_the_solved_recursion(w, estimator):
    n, m, sigma2, dim = 10, 10, 2.0, 3
    t = np.arange(0, 30)
    np.testing.assert_allclose(
        W.gaussian_mean_error(t, w, n, m, sigma2, dim, estimator),
        _iterate(29, w, n, m, sigma2, dim, estimator),
        rtol=1e-10,
        atol=1e-14,
    )
    if 0 < w < 1 and w != 0.1:  # away from the removable singularity beta = gamma (MLE at w = 1/m)
        rn, rm = (1, 1) if estimator == "unbiased" else ((n - 1) / n, (m - 1) / m)
        f = sp.lambdify((W.t, W.w, W.n_r, W.m_s, W.sigma2, W.D, W.r_n, W.r_m), W.derive_gaussian_weighting()["a"])
        np.testing.assert_allclose(
            f(t, w, n, m, sigma2, dim, rn, rm),
            W.gaussian_mean_error(t, w, n, m, sigma2, dim, estimator),
            rtol=1e-9,
            atol=1e-12,
        )


def test_gaussian_variance_is_one_unbiased_and_solved_mle():
    t = np.arange(0, 20)
    np.testing.assert_allclose(W.gaussian_variance(t, 0.4, 8, 12), 1.0)
    v, rn, rm, w = 1.0, 7 / 8, 11 / 12, 0.4
    expected = [v]
    for _ in range(19):
        v = w * rn + (1 - w) * rm * v
        expected.append(v)
    np.testing.assert_allclose(W.gaussian_variance(t, w, 8, 12, estimator="mle"), expected, rtol=1e-12)


def test_golden_ratio_optimum_its_minimum_and_the_naive_weight():
    assert W.optimal_weight(1.0) == pytest.approx((np.sqrt(5) - 1) / 2, rel=1e-15)
    grid = np.linspace(1e-4, 1, 200_001)
    for k in (0.01, 0.25, 1.0, 4.0, 100.0):
        errors = W.stationary_mean_error(grid, k)
        assert abs(grid[np.argmin(errors)] - W.optimal_weight(k)) < 1e-4
        assert W.stationary_mean_error(W.optimal_weight(k), k) == pytest.approx(W.optimal_weight(k), rel=1e-12)
        assert W.stationary_mean_error(W.naive_weight(k), k) == pytest.approx((1 + k) / (2 + k), rel=1e-12)
        assert W.optimal_weight(k) > W.naive_weight(k)  # the optimum leans towards the real data
    # the transient tends to the stationary value
    assert W.gaussian_mean_error(200, 0.3, 5, 20) == pytest.approx(W.stationary_mean_error(0.3, 0.25) / 5, rel=1e-12)
    assert np.isinf(W.stationary_mean_error(0.0, 1.0))


def test_regression_law_given_the_design_by_monte_carlo_and_its_twin_rejected():
    """The loss-weighted recursion in NumPy on one design; the derived pencil law; the n, m -> oo law rejected."""
    rng = np.random.default_rng(7)
    d, n, m, w, sigma2, t_max, seeds = 2, 6, 9, 0.618, 1.0, 4, 50_000
    X_r, X_s = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    a, b = w / n, (1 - w) / m
    A = a * X_r.T @ X_r + b * X_s.T @ X_s
    e = np.zeros((seeds, d))
    values = []
    for _ in range(t_max):  # e_t = A^-1 (a X_r^T eps_r + b X_s^T (X_s e_{t-1} + eps_s))
        eps_r, eps_s = rng.standard_normal((seeds, n)), rng.standard_normal((seeds, m))
        rhs = a * eps_r @ X_r + b * ((e @ X_s.T) + eps_s) @ X_s
        e = np.linalg.solve(A, rhs.T).T
        values.append(np.sum(e**2, axis=1))
    values = np.array(values)
    mean, sem = values.mean(axis=1), values.std(axis=1) / np.sqrt(seeds)
    t = np.arange(1, t_max + 1)
    law = W.conditional_regression_error(t, X_r.T @ X_r, X_s.T @ X_s, n, m, w, sigma2)
    assert np.all(np.abs(mean - law) < 5 * sem), (mean, law, sem)
    twin = W.asymptotic_regression_error(t, w, n, m, d, sigma2)
    assert np.any(np.abs(mean - twin) > 10 * sem)


def test_regression_law_is_the_gaussian_law_in_the_isotropic_limit():
    t = np.arange(0, 12)
    d, n, m, w = 3, 50, 200, 0.37
    exact = W.conditional_regression_error(t, n * np.eye(d), m * np.eye(d), n, m, w, 2.0)
    np.testing.assert_allclose(exact, W.asymptotic_regression_error(t, w, n, m, d, 2.0), rtol=1e-12)
    np.testing.assert_allclose(exact, W.gaussian_mean_error(t, w, n, m, 2.0, d), rtol=1e-12)


def test_convex_fits_law_is_the_derived_one():
    f = sp.lambdify(
        (W.t, W.w, W.n_r, W.m_s, sp.Symbol("d", positive=True), W.sigma2), W.derive_regression_weighting()["convex"]
    )
    t = np.arange(1, 8)
    np.testing.assert_allclose(W.convex_fits_error(t, 0.4, 20, 30, 3, 1.5), f(t, 0.4, 20, 30, 3, 1.5), rtol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: W.gaussian_mean_error(1, 1.2, 4, 4),
        lambda: W.gaussian_mean_error(1, -0.1, 4, 4),
        lambda: W.gaussian_mean_error(1, 0.5, 0, 4),
        lambda: W.gaussian_variance(1, 0.5, 4, 4, estimator="ml"),
        lambda: W.convex_fits_error(1, 0.5, 4, 40, 3),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
