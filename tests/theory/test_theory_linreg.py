"""The SymPy derivations of the linear-regression laws reproduce the published closed forms."""

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import linreg as L

n, d, T, m, s, sigma2 = L.n, L.d, L.T, L.m, L.s, L.sigma2


def test_step_coefficients_from_the_normal_equations():
    coeffs = L.derive_step_coefficients()
    assert coeffs["replace"] == 1
    assert sp.simplify(coeffs["accumulate"] - 1 / n) == 0


def test_one_step_moment_has_no_cross_term():
    c, v = sp.Symbol("c", real=True), sp.Symbol("v", positive=True)
    assert sp.simplify(L.derive_one_step_moment() - c**2 * v) == 0


def test_solved_recursions_are_the_published_laws():
    laws = L.derive_laws()
    assert sp.simplify(laws.error_given_s["replace"] - n * s) == 0
    assert sp.simplify(laws.error_given_s["accumulate"] - s * sp.harmonic(n, 2)) == 0
    # Dohmatob et al. (replace) and Gerstgrasser et al. Thm 1 (accumulate), in sigma2, d, T.
    one = sigma2 * d / (T - d - 1)
    assert sp.simplify(laws.expected_error["replace"] - one * n) == 0
    assert sp.simplify(laws.expected_error["accumulate"] - one * sp.harmonic(n, 2)) == 0


def test_accumulate_limit_is_pi_squared_over_six_and_replace_diverges():
    laws = L.derive_laws()
    assert laws.limit_ratio["accumulate"] == sp.pi**2 / 6
    assert laws.limit_ratio["replace"] == sp.oo


def test_inverse_wishart_moments():
    laws = L.derive_laws()
    assert sp.simplify(laws.mean_trace_inverse - d / m) == 0
    # The second moment is 1/(m(m-2)) for m > 2 and diverges otherwise: T > d + 3 is
    # exactly the condition for a finite Monte Carlo variance.
    second = laws.second_inverse_moment
    assert isinstance(second, sp.Piecewise)
    assert sp.simplify(second.args[0].expr - 1 / (m * (m - 2))) == 0
    assert second.args[0].cond == (m > 2)


def test_mean_trace_inverse_by_monte_carlo():
    """E tr (X^T X)^-1 = d/(T-d-1): 5 standard errors, 200k Gaussian designs (finite variance, T > d+3)."""
    rng = np.random.default_rng(0)
    dd, TT, reps = 4, 12, 200_000
    X = rng.standard_normal((reps, TT, dd))
    tr = np.trace(np.linalg.inv(np.einsum("rti,rtj->rij", X, X)), axis1=1, axis2=2)
    sem = tr.std(ddof=1) / np.sqrt(reps)
    assert abs(tr.mean() - dd / (TT - dd - 1)) < 5 * sem
    assert abs(tr.mean() - dd / (TT - dd)) > 5 * sem  # a wrong denominator is rejected


@pytest.mark.parametrize("regime", L.REGIMES)
def test_numeric_functions_match_the_symbolic_laws(regime):
    laws = L.derive_laws()
    gens = np.arange(0, 40)
    for dd, TT, s2 in ((1, 4, 0.5), (32, 100, 1.0), (10, 1000, 100.0)):
        got = L.expected_test_error(gens, dd, TT, s2, regime)
        want = [float(laws.expected_error[regime].subs({n: k, d: dd, T: TT, sigma2: s2})) for k in gens]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        shifted = L.expected_test_error(gens, dd, TT, s2, regime, convention="downstream")
        np.testing.assert_allclose(shifted, L.expected_test_error(gens + 1, dd, TT, s2, regime), rtol=1e-12)


def test_bound_holds_and_is_approached():
    gens = np.arange(1, 10_001)
    curve = L.expected_test_error(gens, 32, 100, 1.0, "accumulate")
    bound = L.accumulate_limit(32, 100, 1.0)
    assert np.all(np.diff(curve) > 0) and np.all(curve < bound)
    assert bound - curve[-1] < 1.01 * L.one_generation_error(32, 100, 1.0) / gens[-1]


def test_conditional_law():
    gens = np.arange(1, 6)
    np.testing.assert_allclose(L.conditional_test_error(gens, 2.0, 0.25, "replace"), 0.5 * gens)
    np.testing.assert_allclose(
        L.conditional_test_error(gens, 2.0, 0.25, "accumulate"), 0.5 * np.cumsum(1 / gens**2), rtol=1e-12
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ((1, 32, 33, 1.0, "replace"), "T must exceed d \\+ 1"),
        ((1, 0, 10, 1.0, "replace"), "d must be a positive integer"),
        ((1, 3, 10, -1.0, "replace"), "sigma2 must be"),
        ((1, 3, 10, float("nan"), "replace"), "sigma2 must be"),
        ((1, 3, 10, 1.0, "mix"), "no closed form for regime"),
        ((-1, 3, 10, 1.0, "replace"), "non-negative"),
        ((1.5, 3, 10, 1.0, "replace"), "integers"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        L.expected_test_error(*args)
    with pytest.raises(ValueError, match="unknown convention"):
        L.expected_test_error(1, 3, 10, 1.0, "replace", convention="n+1")
