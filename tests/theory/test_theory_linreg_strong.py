"""Strong model collapse: the exact finite-n law, its approximation's gap, the proportional limit, the floor.

The exact law of :mod:`model_collapse.theory.linreg_strong` against a NumPy Monte Carlo of one OLS
fit on real and shifted rows (independent of the JAX simulator), with a wrong twin rejected; the
stated tolerances checked on a grid; Corollary 1 as the limit; the floor below the error everywhere.
"""

import numpy as np
import pytest
from model_collapse.theory import linreg_strong as S


def test_exact_law_by_monte_carlo_and_a_wrong_twin_rejected():
    rng = np.random.default_rng(3)
    d, n, n2, sigma2, C2, seeds = 2, 10, 4, 0.5, 3.0, 100_000
    X = rng.standard_normal((seeds, n, d))
    delta = rng.standard_normal((seeds, d)) * np.sqrt(C2 / d)
    eps = rng.standard_normal((seeds, n)) * np.sqrt(sigma2)
    X2 = X[:, n - n2 :]
    rhs = np.einsum("sni,snj,sj->si", X2, X2, delta) + np.einsum("sni,sn->si", X, eps)
    e = np.linalg.solve(np.einsum("sni,snj->sij", X, X), rhs[..., None])[..., 0]
    values = np.sum(e**2, axis=1)
    mean, sem = values.mean(), values.std() / np.sqrt(seeds)
    p1 = (n - n2) / n
    assert abs(mean - S.exact_test_error(n, d, p1, sigma2, C2)) < 5 * sem
    separate = S.floor(p1, C2) + sigma2 * d / (n - d - 1)  # no cross term: the wrong twin
    assert abs(mean - separate) > 10 * sem


def _grid():
    for d in (1, 2, 3, 5, 8, 20, 40):
        for n in sorted({d + 2, d + 3, 2 * d + 2, 4 * d, 10 * d + 3, 100 * d}):
            for p1 in (0.0, 0.1, 0.5, 0.75, 0.99, 1.0):
                if abs(p1 * n - round(p1 * n)) < 1e-9:
                    yield d, n, p1


@pytest.mark.parametrize("sigma2", [0.0, 1.0])
def test_stated_tolerances_hold_on_a_grid(sigma2):
    for d, n, p1 in _grid():
        exact = float(S.exact_test_error(n, d, p1, sigma2, 1.0))
        approx = float(S.approximate_test_error(n, d, p1, sigma2, 1.0))
        assert abs(exact - approx) <= S.relative_gap_bound(d) * approx * (1 + 1e-12) + 1e-15, (d, n, p1)
        if n > d + 1 and d < n:
            eq11 = float(S.proportional_limit(d / n, p1, sigma2, 1.0))
            tol = S.relative_gap_bound(d) + (1 + 1 / d) / (n - d - 1)
            assert abs(exact - eq11) <= tol * eq11 * (1 + 1e-12) + 1e-15, (d, n, p1)
        assert exact >= S.floor(p1, 1.0) * (1 - 1e-12), (d, n, p1)


def test_corollary_is_the_proportional_limit_and_the_floor_stays():
    gaps = []
    for d in (10, 100, 1000, 10_000):
        n = 4 * d
        exact = float(S.exact_test_error(n, d, 0.75, 1.0, 2.0))
        gaps.append(abs(exact / float(S.proportional_limit(0.25, 0.75, 1.0, 2.0)) - 1))
    assert all(b < a / 5 for a, b in zip(gaps, gaps[1:], strict=False)) and gaps[-1] < 1e-3
    # at a fixed d, more rows leave the floor p2^2 C2: the scaling law stops
    big = S.exact_test_error(np.array([10**3, 10**5, 10**7]), 8, 0.99, 1.0, 1.0)
    assert np.all(np.diff(big) < 0) and big[-1] == pytest.approx(S.floor(0.99, 1.0), rel=1e-2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.exact_test_error(5, 4, 0.5, 1.0, 1.0),
        lambda: S.exact_test_error(50, 4, 1.5, 1.0, 1.0),
        lambda: S.exact_test_error(50, 4, 0.5, 1.0, -1.0),
        lambda: S.proportional_limit(1.0, 0.5, 1.0, 1.0),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
