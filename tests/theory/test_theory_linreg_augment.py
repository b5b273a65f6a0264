"""The augment law of linear regression (real labels of the first k rows kept, the other rows relabelled):
the symbolic forms, the conditional law against the matrix recursion of second moments and a NumPy Monte
Carlo of the OLS loop with one fixed design, and the one-dimensional law over random designs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import linreg as L
from model_collapse.theory import linreg_augment as LA
from scipy.integrate import quad
from scipy.special import hyp2f1

Z_TOL = 5.0


def _design(T=24, d=4, k=6, seed=3):
    X = np.random.default_rng(seed).standard_normal((T, d))
    return X[:k], X[k:]


def _matrix_recursion(n_max, X_R, X_S, sigma2):
    """E||e_n||^2 from C_n = E e_n e_n^T and F_n = E e_n u^T, u = A^-1 X_R^T eps_R (not the law's algebra)."""
    G_R, G_S = X_R.T @ X_R, X_S.T @ X_S
    Ainv = np.linalg.inv(G_R + G_S)
    P, U, H = Ainv @ G_S, sigma2 * Ainv @ G_R @ Ainv, sigma2 * Ainv @ G_S @ Ainv
    C, F, out = np.zeros_like(P), np.zeros_like(P), [0.0]
    for _ in range(n_max):
        C = U + H + P @ C @ P.T + P @ F + F.T @ P.T
        F = U + P @ F
        out.append(np.trace(C))
    return np.array(out)


def test_symbolic_forms():
    laws = L.derive_augment_laws()
    b, n, s2, c = sp.Symbol("b", nonnegative=True), L.n, L.sigma2, sp.Symbol("c", nonnegative=True)
    assert sp.simplify(laws["K"] - s2 * (1 - b**n) * (1 + 2 * b - b**n) / (1 - b**2)) == 0
    assert sp.simplify(laws["J"] - s2 * (1 - b**n)) == 0
    assert sp.simplify(laws["K_limit"] - s2 * (3 - 2 * c) / (c * (2 - c))) == 0
    mom, inv = LA._beta_moments()
    a, be = sp.Symbol("a", positive=True), sp.Symbol("beta", positive=True)
    assert sp.simplify(inv - (a + be - 1) / (be - 1)) == 0
    # E 1/(1 + b) for b ~ Beta(a, beta) is 2F1(1, a; a + beta; -1) (Euler), the limit's second term
    av, bv = 4.0, 3.0
    val = quad(lambda x: x ** (av - 1) * (1 - x) ** (bv - 1) / (1 + x), 0, 1)[0] / math.exp(
        math.lgamma(av) + math.lgamma(bv) - math.lgamma(av + bv)
    )
    assert math.isclose(val, hyp2f1(1, av, av + bv, -1), rel_tol=1e-10)


def test_conditional_law_equals_the_matrix_recursion_and_its_edges():
    X_R, X_S = _design()
    gens = np.arange(0, 80)
    law = L.conditional_augment_test_error(gens, X_R, X_S, 1.7)
    np.testing.assert_allclose(law, _matrix_recursion(79, X_R, X_S, 1.7), rtol=1e-10)
    assert math.isclose(
        L.conditional_augment_test_error(5000, X_R, X_S, 1.7), L.conditional_augment_limit(X_R, X_S, 1.7), rel_tol=1e-9
    )
    X = np.vstack([X_R, X_S])
    tr = np.trace(np.linalg.inv(X.T @ X))
    np.testing.assert_allclose(
        L.conditional_augment_test_error(gens, X[:0], X, 1.7),  # no real rows: replace
        L.conditional_test_error(gens, 1.7, tr, "replace"),
        rtol=1e-12,
    )
    np.testing.assert_allclose(L.conditional_augment_test_error(gens[1:], X, X[:0], 1.7), 1.7 * tr, rtol=1e-12)
    np.testing.assert_allclose(
        L.conditional_augment_test_error(gens, X_R, X_S, 1.7, "downstream"),
        law[1:].tolist() + [L.conditional_augment_test_error(80, X_R, X_S, 1.7)],
        rtol=1e-12,
    )
    # fewer real rows than features: the unpinned directions random-walk (no limit)
    assert L.conditional_augment_limit(X[:2], X[2:], 1.7) == math.inf
    np.testing.assert_allclose(
        L.conditional_augment_test_error(gens, X[:2], X[2:], 1.7), _matrix_recursion(79, X[:2], X[2:], 1.7), rtol=1e-9
    )
    with pytest.raises(ValueError, match="full column rank"):
        L.conditional_augment_test_error(3, X[:1], X[1:3], 1.0)
    with pytest.raises(ValueError, match="same columns"):
        L.conditional_augment_test_error(3, X[:6, :3], X[6:], 1.0)


def test_mc_conditional_law_fixed_design():
    """T = 24, d = 4, k = 6, one fixed design, 20,000 seeds of the OLS loop, 30 generations, 5 standard errors."""
    X_R, X_S = _design()
    T_S, sigma2, seeds, n_gen = X_S.shape[0], 0.8, 20_000, 30
    rng = np.random.default_rng(5)
    Ainv = np.linalg.inv(X_R.T @ X_R + X_S.T @ X_S)
    w_star = rng.standard_normal(4)
    sd = math.sqrt(sigma2)
    y_R = X_R @ w_star + sd * rng.standard_normal((seeds, X_R.shape[0]))  # kept for good
    y_S = X_S @ w_star + sd * rng.standard_normal((seeds, T_S))  # generation 1: real labels on every row
    err, w = np.zeros((n_gen + 1, seeds)), None
    for gen in range(1, n_gen + 1):
        if gen > 1:
            y_S = w @ X_S.T + sd * rng.standard_normal((seeds, T_S))
        w = (y_R @ X_R + y_S @ X_S) @ Ainv
        err[gen] = np.sum((w - w_star) ** 2, axis=1)
    mean, sem = err.mean(axis=1), err.std(axis=1, ddof=1) / math.sqrt(seeds)
    law = L.conditional_augment_test_error(np.arange(n_gen + 1), X_R, X_S, sigma2)
    z = (mean[1:] - law[1:]) / sem[1:]
    assert np.max(np.abs(z)) < Z_TOL, z
    tr = np.trace(Ainv)
    z_replace = (mean[1:] - L.conditional_test_error(np.arange(1, n_gen + 1), sigma2, tr, "replace")) / sem[1:]
    assert np.max(np.abs(z_replace)) > 3 * Z_TOL


def test_one_dimensional_law_over_random_designs():
    """d = 1, T = 12, k = 4: a fresh Gaussian design per seed, 20,000 seeds, 25 generations."""
    T, k, sigma2, seeds, n_gen = 12, 4, 1.3, 20_000, 25
    rng = np.random.default_rng(9)
    x_R, x_S = rng.standard_normal((seeds, k)), rng.standard_normal((seeds, T - k))
    A = np.sum(x_R**2, axis=1) + np.sum(x_S**2, axis=1)
    sd = math.sqrt(sigma2)
    u_R = np.sum(x_R * sd * rng.standard_normal((seeds, k)), axis=1)  # x_R . eps_R, kept
    e, err = np.zeros(seeds), np.zeros((n_gen + 1, seeds))
    for gen in range(1, n_gen + 1):  # A e_n = x_R.eps_R + |x_S|^2 e_{n-1} + x_S.eps_n (e_0 = 0)
        e = (u_R + np.sum(x_S**2, axis=1) * e + np.sum(x_S * sd * rng.standard_normal((seeds, T - k)), axis=1)) / A
        err[gen] = e**2
    gens = np.arange(n_gen + 1)
    law = L.expected_augment_test_error(gens, 1, T, sigma2, k / T)
    z = (err.mean(axis=1)[1:] - law[1:]) / (err.std(axis=1, ddof=1)[1:] / math.sqrt(seeds))
    assert np.max(np.abs(z)) < Z_TOL, z
    assert math.isclose(law[1], L.one_generation_error(1, T, sigma2), rel_tol=1e-12)
    np.testing.assert_allclose(
        L.expected_augment_test_error(gens, 1, T, sigma2, 0.0),
        L.expected_test_error(gens, 1, T, sigma2, "replace"),
        rtol=1e-12,
    )
    np.testing.assert_allclose(L.expected_augment_test_error(gens[1:], 1, T, sigma2, 1.0), sigma2 / (T - 2))
    far = L.expected_augment_test_error(3000, 1, T, sigma2, 8 / T)  # k = 8: error ~ n^(1 - k/2)
    assert math.isclose(float(far), L.expected_augment_limit(1, T, sigma2, 8 / T), rel_tol=1e-8)
    assert L.expected_augment_limit(1, T, sigma2, 2 / T) == math.inf
    assert math.isclose(L.expected_augment_limit(1, T, sigma2, 1.0), sigma2 / (T - 2), rel_tol=1e-12)


def test_bad_input():
    with pytest.raises(NotImplementedError, match="d = 1 only"):
        L.expected_augment_test_error(3, 2, 12, 1.0, 0.5)
    for bad in (0.25, -0.1, 1.2, float("nan"), True):
        with pytest.raises(ValueError, match="real_fraction"):
            L.expected_augment_test_error(3, 1, 10, 1.0, bad)
    with pytest.raises(ValueError, match="convention"):
        L.conditional_augment_test_error(3, *_design(), 1.0, convention="n+1")
    with pytest.raises(ValueError, match="sigma2"):
        L.conditional_augment_limit(*_design(), -1.0)


def test_exact_skewness_of_the_augment_error():
    """The tail guard's skewness: k = 0 is replace's F(1, T) skewness; a Monte Carlo agrees at k > 0."""
    from model_collapse.theory import tails
    from scipy.stats import skew

    np.testing.assert_allclose(
        tails.linreg_augment_skewness([1, 4], T=20, k=0),
        tails.linreg_test_error_skewness([1, 4], d=1, T=20, regime="replace", design="fixed"),
        rtol=1e-12,
    )
    rng = np.random.default_rng(0)
    seeds, T, k = 400_000, 20, 5
    x_R, x_S = rng.standard_normal((seeds, k)), rng.standard_normal((seeds, T - k))
    A = np.sum(x_R**2, axis=1) + np.sum(x_S**2, axis=1)
    b = np.sum(x_S**2, axis=1) / A
    n_gen = 10  # skewness 4.39 here, against 3.71 for replace's F(1, T)
    K = sum(b ** (2 * j) * (1 + 2 * b) - 2 * b ** (n_gen + j) for j in range(n_gen))
    sample = K * rng.standard_normal(seeds) ** 2 / A
    # the sample skewness of a variable this heavy has a standard error of about 0.1 at this size
    assert abs(skew(sample) - tails.linreg_augment_skewness(n_gen, T=T, k=k)[0]) < 0.3
    assert abs(skew(sample) - tails.linreg_augment_skewness(n_gen, T=T, k=0)[0]) > 0.3  # not replace's

    X_R, X_S = _design()
    e = np.zeros((seeds, 4))
    Ainv = np.linalg.inv(X_R.T @ X_R + X_S.T @ X_S)
    u = rng.standard_normal((seeds, X_R.shape[0])) @ X_R @ Ainv  # the kept real labels' noise, through the fit
    for _ in range(3):
        e = u + (e @ X_S.T + rng.standard_normal((seeds, X_S.shape[0]))) @ X_S @ Ainv
    got = L.conditional_augment_skewness([3], X_R, X_S)[0]
    assert abs(skew(np.sum(e**2, axis=1)) - got) < 0.1 and got < math.sqrt(8)
