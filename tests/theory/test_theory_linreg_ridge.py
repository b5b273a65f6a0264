"""The ridge, downstream, deterministic-equivalent and over-parameterised laws of theory/linreg_ridge.

Each derivation reduces to the package's OLS laws where it must (``lambda = 0``, ``T0 = T``),
the deterministic equivalent of ``F`` agrees with a Monte Carlo over designs within a gap that
shrinks with the dimension, and the optimal ridge grows with the number of generations.
"""

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import linreg as theory_linreg
from model_collapse.theory import linreg_ridge as lr


def _power(d: int, b: float = 1.5) -> np.ndarray:
    lam = np.arange(1, d + 1, dtype=np.float64) ** -b
    return lam * d / lam.sum()


def test_ols_step_is_invariant_to_sigma():
    assert lr.derive_sigma_invariance() == sp.zeros(2, 3)


def test_ridge_chain_reduces_to_the_ols_law_at_zero_ridge():
    laws = lr.derive_ridge_chain()
    assert sp.simplify(laws.ols_variance - sp.Symbol("n", integer=True, nonnegative=True) * lr.q) == 0
    rng = np.random.default_rng(0)
    d, T = 5, 20
    eigs = _power(d)
    X = rng.standard_normal((T, d)) * np.sqrt(eigs)
    gram = X.T @ X
    n = np.array([1, 2, 7])
    got = lr.ridge_chain_given_X(n, gram, eigs, 1.3, T, 0.0, None)
    want = 1.3 * n * np.trace(np.diag(eigs) @ np.linalg.inv(gram))
    assert np.allclose(got, want, rtol=1e-10)


def test_ridge_chain_given_X_matches_its_recursion():
    """The closed form against the mean/covariance recursion iterated with matrices (fixed w*)."""
    rng = np.random.default_rng(1)
    d, T, lam, s2 = 4, 12, 0.3, 0.7
    eigs = _power(d, 1.0)
    X = rng.standard_normal((T, d)) * np.sqrt(eigs)
    G = X.T @ X
    M = np.linalg.inv(G + T * lam * np.eye(d))
    w = rng.standard_normal(d)
    mean, cov, out = np.zeros(d), np.zeros((d, d)), []
    for _ in range(6):  # e_n = R e_{n-1} - (I - R) w + M X^T eps
        mean = M @ G @ mean - (np.eye(d) - M @ G) @ w
        cov = M @ G @ cov @ G @ M + s2 * M @ G @ M
        out.append(np.trace(np.diag(eigs) @ (cov + np.outer(mean, mean))))
    got = lr.ridge_chain_given_X(np.arange(1, 7), G, eigs, s2, T, lam, w)
    assert np.allclose(got, out, rtol=1e-10)


def test_downstream_ols_is_the_fit_convention_shifted_by_one():
    n = np.arange(0, 6)
    got = lr.downstream_ols(n, 8, 30, 30, 1.5, 1.5)
    assert np.allclose(got, theory_linreg.expected_test_error(n, 8, 30, 1.5, "replace", "downstream"))
    assert np.allclose(lr.downstream_ols(n, 8, 30, 20, 1.0, 2.0), 8 / 21 + n * 2 * 8 / 11)


def test_deterministic_equivalent_reduces_to_ols():
    d, T = 10, 40
    eigs = _power(d)
    assert lr.kappa(0.0, eigs, T) == 0.0
    assert np.isclose(lr.f_de(0.0, eigs, T), d)
    assert np.isclose(lr.clean_error_de(0.0, eigs, np.full(d, 1 / d), T, 1.0), d / (T - d))  # ~ d/(T-d-1)


def test_kappa_solves_its_fixed_point():
    eigs, T = _power(50), 30  # d > T: the effective ridge stays positive at lambda = 0
    for lam in (0.0, 0.01, 1.0):
        k = lr.kappa(lam, eigs, T)
        assert k > 0 and np.isclose(k - lam, k * lr.df(k, eigs, 1) / T, rtol=1e-9, atol=1e-14)


def _monte_carlo_F(d: int, T: int, lam: float, draws: int, seed: int = 0) -> tuple[float, float]:
    rng, eigs, F = np.random.default_rng(seed), _power(d), []
    for _ in range(draws):
        X = rng.standard_normal((T, d)) * np.sqrt(eigs)
        S = X.T @ X / T
        R = np.linalg.solve(S + lam * np.eye(d), S)
        F.append(np.trace((R / eigs[:, None]) @ (eigs[:, None] * R)))  # tr Sigma^-1 R Sigma R
    return float(np.mean(F)), float(np.std(F) / np.sqrt(draws))


def test_F_deterministic_equivalent_small():
    d, T, lam = 25, 38, 0.01
    mc, sem = _monte_carlo_F(d, T, lam, 400)
    assert abs(mc - lr.f_de(lam, _power(d), T)) <= 2.0 / d * mc + 4 * sem


@pytest.mark.slow
def test_F_deterministic_equivalent_gap_shrinks_with_dimension():
    """d = 25 and d = 100 at d/T = 2/3, lambda = 0.01, b = 1.5: the relative gap shrinks (the d = 100 setting)."""
    gaps = {}
    for d, draws in ((25, 4000), (100, 400)):
        T = 3 * d // 2
        mc, sem = _monte_carlo_F(d, T, 0.01, draws)
        de = lr.f_de(0.01, _power(d), T)
        assert abs(mc - de) <= 2.0 / d * mc + 4 * sem
        gaps[d] = (abs(mc - de) / mc, sem / mc)
    assert gaps[100][0] < gaps[25][0]


def test_optimal_ridge_grows_with_generations():
    d = 60
    eigs, w2 = _power(d), np.arange(1, d + 1, dtype=np.float64) ** -1.0
    w2 = w2 / w2.sum()
    lams = [lr.optimal_ridge(n, eigs, w2, 90, 0.2, 150, 1.0)[0] for n in (0, 1, 4, 16)]
    assert np.all(np.diff(lams) > 0), lams


def test_overparameterised_law():
    assert sp.simplify(lr.derive_overparameterised() - (1 - lr.rho**lr.n)) == 0
    assert np.allclose(lr.overparameterised_error([0, 1, 3], 8, 2), [0, 0.75, 1 - 0.25**3])
    with pytest.raises(ValueError, match="d > T0"):
        lr.overparameterised_error([1], 8, 8)
