"""Survival, fixation and absorption of categories (the two-type Wright-Fisher chain) against exact enumeration
of the K-category chain and a small Monte Carlo; the published approximations and bounds checked against the
exact chain; the downstream learner's error of A Tale of Tails against enumeration and its Zipf asymptotics."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from model_collapse.theory import categorical as cat
from scipy import stats

from .test_theory_categorical import GENS, P0, K, M, enumerate_regime, fit

P0F = np.array([float(x) for x in P0])


def category_law(regime: str, k: int, n: int, j: int) -> np.ndarray:
    """Law of the count of category j at generation n, from the enumerated K-category chain."""
    law = [Fraction(0)] * (M + 1)
    for state, p in enumerate_regime(regime, k)[n - 1].items():
        law[int(fit(regime, state)[j] * M)] += p
    return np.array([float(x) for x in law])


@pytest.mark.parametrize(("regime", "k"), [("replace", 0), ("mix", 1), ("mix", 2), ("augment", 2), ("augment", 3)])
def test_count_chain_equals_the_marginal_of_the_enumerated_chain(regime, k):
    gens = np.arange(1, GENS + 1)
    for j in range(K):
        two_type = cat.count_distribution(P0F[j], M, gens, regime, k / M if k else None)
        for n in gens:
            np.testing.assert_allclose(two_type[n - 1], category_law(regime, k, n, j), atol=1e-14)
    support = cat.expected_support(P0F, M, gens, regime, k / M if k else None)
    absorbed = cat.absorption_probability(P0F, M, gens, regime, k / M if k else None)
    for n, dist in enumerate(enumerate_regime(regime, k), start=1):
        fits = [(fit(regime, s), p) for s, p in dist.items()]
        assert support[n - 1] == pytest.approx(float(sum(p * sum(x > 0 for x in f) for f, p in fits)), rel=1e-13)
        assert absorbed[n - 1] == pytest.approx(float(sum(p for f, p in fits if max(f) == 1)), rel=1e-12, abs=1e-15)


def test_accumulate_support_and_fixation_are_fixed_by_generation_one():
    gens = np.arange(1, GENS + 1)
    alive = cat.survival_probability(P0F, M, gens, "accumulate")
    fixed = cat.fixation_probability_at(P0F, M, gens, "accumulate")
    for n, dist in enumerate(enumerate_regime("accumulate"), start=1):
        for j in range(K):
            assert alive[j, n - 1] == pytest.approx(
                float(sum(p for s, p in dist.items() if fit("accumulate", s)[j] > 0))
            )
            assert fixed[j, n - 1] == pytest.approx(
                float(sum(p for s, p in dist.items() if fit("accumulate", s)[j] == 1))
            )


def test_transition_matrix_rows_and_the_martingale():
    for regime, f in (("replace", None), ("mix", 0.25)):
        P = cat.transition_matrix(40, regime, 0.3, f)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    d = cat.count_distribution(0.3, 40, [1, 5, 50, 400])
    np.testing.assert_allclose(d @ np.arange(41) / 40, 0.3, rtol=1e-11)  # E c_n / M = p0_j: a martingale


def test_fixation_tends_to_p0_with_the_residual_accounted_for():
    """The discrete theorem (Shumailov et al. 2024; Seddik et al. 2024, Prop. 1): P(fixed on j) -> p0_j."""
    p0 = cat.initial_distribution(4, "zipf", 1.0)
    M_ = 20
    for n in (50, 400):
        fixed = cat.fixation_probability_at(p0, M_, [n])[:, 0]
        residual = 1.0 - cat.absorption_probability(p0, M_, [n])[0]
        assert np.all(fixed <= p0 + 1e-12) and np.all(p0 - fixed <= residual + 1e-12)
    assert residual < 1e-6
    np.testing.assert_allclose(fixed, p0, atol=1e-6)


def test_expected_support_matches_a_monte_carlo():
    rng = np.random.default_rng(7)
    p0 = cat.initial_distribution(40, "zipf", 1.1)
    M_, seeds, gens = 60, 4000, (1, 3, 10)
    p = np.broadcast_to(p0, (seeds, 40))
    support = {}
    for n in range(1, max(gens) + 1):
        p = rng.multinomial(M_, p) / M_
        if n in gens:
            support[n] = np.count_nonzero(p, axis=1)
    law = cat.expected_support(p0, M_, gens)
    for i, n in enumerate(gens):
        se = support[n].std(ddof=1) / math.sqrt(seeds)
        assert abs(support[n].mean() - law[i]) < 4.5 * se


def test_suresh_poisson_approximation_error_shrinks_like_one_over_M():
    """Suresh et al. 2024, Thm 2, as the large-M approximation at a fixed expected count M p0_j."""
    gens = np.arange(1, 61)
    for lam in (1.0, 3.0):
        err = [
            np.abs(cat.survival_probability(lam / m, m, gens) - cat.suresh_survival(lam / m, m, gens)).max()
            for m in (30, 300)
        ]
        assert err[1] < err[0] / 8 and err[1] < 0.005
    g = cat.suresh_g(np.arange(1, 400))
    assert g[0] == 1 and np.all(np.diff(g) < 0) and np.all((g >= 1 / np.arange(1, 400)) & (g <= 3 / np.arange(1, 400)))


def test_suresh_bernoulli_bounds_hold_for_the_exact_chain():
    gens = np.arange(1, 150)
    for M_ in (5, 30, 100):
        p = np.linspace(0.002, 0.9, 25)
        exact = cat.survival_probability(p, M_, gens)
        lo, hi = cat.suresh_bernoulli_bounds(p, M_, gens)
        assert np.all(lo <= exact + 1e-12) and np.all(exact <= hi + 1e-12)


def test_seddik_absorption_bounds_and_the_diffusion_time():
    for p0 in (np.array([0.5, 0.3, 0.2]), cat.initial_distribution(6)):
        gens = np.arange(1, 1500)
        rel = []
        for M_ in (10, 80):
            absorbed = cat.absorption_probability(p0, M_, gens)
            lo, hi = cat.seddik_absorption_bounds(p0, M_, gens)
            assert np.all(lo <= absorbed + 1e-12) and np.all(absorbed <= hi + 1e-12)
            mean_time = cat.expected_absorption_time(p0, M_)
            # E T = sum_n P(T > n), against the distribution of T read off the same absorption curve
            assert mean_time == pytest.approx(1 + np.sum(1 - absorbed), rel=1e-6)
            t_lo, t_hi = cat.seddik_absorption_time_bounds(p0, M_)
            assert t_lo <= mean_time <= t_hi
            rel.append(abs(cat.diffusion_absorption_time(p0, M_) / mean_time - 1))
        assert rel[1] < rel[0] / 4 and rel[1] < 0.03  # approximate, relative error ~ 1/M


def test_bernoulli_skewness():
    q = np.array([0.01, 0.3, 0.5, 0.9])
    np.testing.assert_allclose(cat.bernoulli_skewness(q), [float(stats.bernoulli(x).stats(moments="s")) for x in q])
    assert np.isinf(cat.bernoulli_skewness(0.0)) and np.isinf(cat.bernoulli_skewness(1.0))
    p0 = cat.initial_distribution(5, "zipf", 1.0)
    q = cat.fixation_probability_at(p0[0], 12, [30])
    assert cat.fixed_on_mode_skewness(p0, 12, [30]) == pytest.approx(stats.bernoulli(q[0]).stats(moments="s"))
    a = cat.absorption_probability(p0, 12, [30])
    assert cat.absorbed_skewness(p0, 12, [30]) == pytest.approx(stats.bernoulli(a[0]).stats(moments="s"))


# ---------------------------------------------------------------------------
# The downstream learner (Dohmatob et al. 2024, A Tale of Tails).
# ---------------------------------------------------------------------------
def missed_mass_by_enumeration(q, p0, T: int) -> Fraction:
    """E p0-mass of categories not seen in T draws from q: all K^T sequences."""
    total = Fraction(0)
    for seq in itertools.product(range(len(q)), repeat=T):
        pr = math.prod((q[s] for s in seq), start=Fraction(1))
        total += pr * sum(p0[i] for i in range(len(q)) if i not in seq)
    return total


def test_downstream_error_given_equals_enumeration():
    q = (Fraction(1, 2), Fraction(1, 2), Fraction(0))
    for T in (0, 1, 4):
        for qq in (P0, q):
            want = missed_mass_by_enumeration(qq, P0, T)
            got = cat.downstream_error_given(np.array([float(x) for x in qq]), P0F, T)
            assert got == pytest.approx(float(want), rel=1e-13)
    batch = cat.downstream_error_given(np.stack([P0F, P0F]), P0F, np.array([1, 2, 3]))
    assert batch.shape == (2, 3)


@pytest.mark.parametrize(("regime", "k"), [("replace", 0), ("mix", 2), ("augment", 1)])
def test_expected_downstream_error_equals_enumeration(regime, k):
    T = 3
    got = cat.expected_downstream_error(P0F, M, np.arange(0, GENS + 1), [T], regime, k / M)[:, 0]
    assert got[0] == pytest.approx(float(missed_mass_by_enumeration(P0, P0, T)))
    for n, dist in enumerate(enumerate_regime(regime, k), start=1):
        want = sum(
            p * sum(P0[i] * (1 - f[i]) ** T for i in range(K))
            for f, p in ((fit(regime, s), p) for s, p in dist.items())
        )
        assert got[n] == pytest.approx(float(want), rel=1e-12)


def test_zipf_constant_against_the_exact_sum():
    for beta in (1.5, 2.0, 3.0):
        C = cat.zipf_downstream_constant(beta)
        ratio = [cat.zipf_clean_downstream_error(beta, T)[0] / (C * T ** -(1 - 1 / beta)) for T in (1e2, 1e4)]
        assert abs(ratio[1] - 1) < abs(ratio[0] - 1) and abs(ratio[1] - 1) < 0.01
    d = cat.zipf_constant_derivation()
    assert str(d["exponent"]) == "1 - 1/beta"


def test_tail_cut_error_and_its_plateau():
    p0 = cat.initial_distribution(2000, "zipf", 2.0)
    for k in (10, 100):
        Pk = p0[:k].sum()
        for T in (10.0, 1e3):
            direct = np.sum(p0[:k] * (1 - p0[:k] / Pk) ** T) + p0[k:].sum()
            assert cat.tail_cut_error(p0, k, T) == pytest.approx(direct, rel=1e-12)
        assert cat.tail_cut_plateau(p0, k) == pytest.approx(p0[k:].sum(), rel=1e-12)
        assert cat.tail_cut_error(p0, k, 1e9) == pytest.approx(cat.tail_cut_plateau(p0, k), rel=1e-9)
    assert cat.tail_cut_error(p0, 2000, 50.0) == pytest.approx(cat.clean_downstream_error(p0, 50.0), rel=1e-14)
    # the plateau k^-(beta - 1) of Thm 2.1, with its constant for the infinite law, 1/((beta - 1) zeta(beta))
    big = cat.initial_distribution(10**6, "zipf", 2.0)
    scaled = [cat.tail_cut_plateau(big, k) * k * math.pi**2 / 6 for k in (10, 100)]
    assert abs(scaled[1] - 1) < abs(scaled[0] - 1) < 0.1
