"""Curation theory: the kept law three ways, the tilt, the reward increase, the fixed points, the Gaussian step.

Each formula is checked against an independent computation (enumeration vs integral, closed form vs
iteration, quadrature vs Monte Carlo with a fixed seed at 5 standard errors), and a wrong twin is
shown to fail the same check.
"""

import numpy as np
import pytest
from model_collapse.theory import curation as tcur
from model_collapse.theory import curation_gaussian as tg

Q = np.array([0.5, 0.3, 0.15, 0.05])
R = np.array([0.0, 0.5, 1.0, 2.0])


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_the_kept_law_by_enumeration_equals_the_integral_and_the_sigmoid_form(K):
    exact = tcur.luce_map_exact(Q, R, K)
    assert abs(exact.sum() - 1) < 1e-12
    np.testing.assert_allclose(tcur.luce_map(Q, R, K), exact, rtol=1e-10, atol=1e-14)
    if K == 2:  # 2 p(x) E_y sigmoid(r(x) - r(y))
        sig = 1 / (1 + np.exp(-(R[:, None] - R[None, :])))
        np.testing.assert_allclose(2 * Q * (sig @ Q), exact, rtol=1e-12)
    if K > 1:  # wrong twin: the tilt at finite K
        assert np.abs(tcur.tilt(Q, R) - exact).max() > 1e-2


def test_many_candidates_tend_to_the_tilt_at_rate_one_over_K():
    gaps = {K: np.abs(tcur.luce_map(Q, R, K) - tcur.tilt(Q, R)).max() for K in (16, 64, 256)}
    assert gaps[16] > gaps[64] > gaps[256]
    for K, gap in gaps.items():  # gap * K settles (first-order term in 1/K), so the law's 2/K tolerance has room
        assert 0.3 < gap * K < 0.7, (K, gap * K)


def test_tilt_over_t_generations_is_p0_exp_tr():
    p = Q
    for _ in range(3):
        p = tcur.luce_map(p, R, tcur.INFINITE)
    want = Q * np.exp(3 * R) / (Q * np.exp(3 * R)).sum()
    np.testing.assert_allclose(p, want, rtol=1e-12)
    np.testing.assert_allclose(tcur.tilt(Q, R, 3.0), want, rtol=1e-12)


def test_the_frozen_identities_hold():
    inc = tcur.reward_increase_derivation(3)
    assert inc["gap_exp"] == 0 and inc["gap_derivative"] == 0
    gauss = tcur.tilt_derivation()
    assert gauss["step_precision"] == 0 and gauss["step_mean"] == 0 and gauss["start"] == 0
    for K in ("2", "oo"):
        assert tcur.two_category_derivation(K)["check"] == 0


def test_the_expected_reward_never_decreases_along_the_tilt():
    rng = np.random.default_rng(0)
    for _ in range(20):
        q, r = rng.dirichlet(np.ones(6)), rng.normal(size=6)
        path = [tcur.tilt(q, r, t) for t in range(6)]
        mean_r = np.array([p @ r for p in path])
        mean_e = np.array([p @ np.exp(r) for p in path])
        assert np.all(np.diff(mean_r) >= -1e-12) and np.all(np.diff(mean_e) >= -1e-12)
        var_e = q @ np.exp(2 * r) - (q @ np.exp(r)) ** 2  # one step: E_{p'} e^r - E_p e^r = Var_p e^r / E_p e^r
        assert abs(mean_e[1] - mean_e[0] - var_e / mean_e[0]) < 1e-12


@pytest.mark.parametrize("K", [2, tcur.INFINITE])
def test_two_category_fixed_point_closed_form_equals_iteration(K):
    pi, r, f = 0.7, np.array([0.0, 1.2]), 0.3
    closed = tcur.two_category_stationary(pi, np.exp(r[1]), f, K)
    iterated = tcur.stationary(np.array([pi, 1 - pi]), r, K, f)[0]
    assert abs(closed - iterated) < 1e-10
    other = tcur.INFINITE if K == 2 else 2  # wrong twin: the other K's fixed point
    assert abs(tcur.two_category_stationary(pi, np.exp(r[1]), f, other) - closed) > 1e-2


def test_no_real_data_has_no_stationary_point():
    with pytest.raises(ValueError, match="needs real data"):
        tcur.stationary(Q, R, 2, 0.0)


def test_gaussian_tilt_is_gaussian_with_the_closed_form_moments():
    """Tilt N(m0, S0) by exp(-A (x - a)^2 / 2) t times on a grid: mean and variance of the closed form."""
    m0, S0, A, a, t = 0.3, 2.0, 0.7, -1.0, 3
    x = np.linspace(-30, 30, 200_001)
    density = np.exp(-((x - m0) ** 2) / (2 * S0) - t * A * (x - a) ** 2 / 2)
    density /= density.sum()
    mean = density @ x
    var = density @ (x - mean) ** 2
    St = 1 / (1 / S0 + t * A)
    assert abs(var - St) < 1e-9 and abs(mean - St * (m0 / S0 + t * A * a)) < 1e-9
    assert abs(var - S0 / (1 + t * A)) > 1e-2  # wrong twin: shrinking the variance instead of adding precision


def test_kept_moments_integral_and_pairs_and_monte_carlo():
    mu, s, a, A = np.array([0.3]), np.array([0.7]), 1.0, 2.0
    m_int, v_int = tg.kept_moments(mu, s, a, A, 3)
    # K = 2 two ways: the 2-D Gauss-Hermite sigmoid form and the t-integral
    m2, v2 = tg.kept_moments(mu, s, a, A, 2)
    ez, ez2 = tg._whitened_moments(float(A * s[0] ** 2), float((a - mu[0]) / s[0]), 2)
    assert abs(m2[0] - (mu[0] + s[0] * ez)) < 1e-7 and abs(v2[0] - s[0] ** 2 * (ez2 - ez**2)) < 1e-7
    rng = np.random.default_rng(0)
    n = 200_000
    x = rng.normal(mu[0], s[0], (n, 3))
    j = np.argmax(-A * (x - a) ** 2 / 2 + rng.gumbel(size=x.shape), axis=1)
    kept = x[np.arange(n), j]
    se_m, se_v = kept.std() / np.sqrt(n), np.sqrt(np.var((kept - kept.mean()) ** 2) / n)
    assert abs(kept.mean() - m_int[0]) < 5 * se_m and abs(kept.var() - v_int[0]) < 5 * se_v
    m_tilt, _ = tg.kept_moments(mu, s, a, A, tcur.INFINITE)  # wrong twin: the tilt at K = 3
    assert abs(kept.mean() - m_tilt[0]) > 5 * se_m


def test_one_step_quadrature_converges():
    coarse = tg.one_step(10, 1.0, 1.0, 1.0, 2, nodes=12)
    fine = tg.one_step(10, 1.0, 1.0, 1.0, 2, nodes=16)
    for key in coarse:
        assert abs(coarse[key] - fine[key]) < 1e-8
    assert abs(tg.one_step(10, 1.0, 1.0, 1.0, 1)["variance"] - 1.0) < 1e-12  # no curation: unbiased
