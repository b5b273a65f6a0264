"""The tail guard: chi-square product moments (symbolic and Monte Carlo) and the refusal rule."""

import numpy as np
import pytest
import sympy as sp
from model_collapse.experiments import LinRegConfig, run
from model_collapse.experiments.laws import DEFAULT_ALPHA, LAWS, Law, check_law, critical_z, metric_skewness
from model_collapse.theory import linreg as theory_linreg
from model_collapse.theory import tails
from scipy import stats as sps
from sympy.stats import ChiSquared, E


@pytest.mark.parametrize("nu, k", [(3, 1), (5, 2), (19, 3), (4, sp.Rational(1, 2))])
def test_chi2_moment_formula_matches_sympy(nu, k):
    """E (chi2_nu)^k = 2^k Gamma(nu/2 + k)/Gamma(nu/2), the closed form chi2_product_moment uses."""
    X = ChiSquared("X", nu)
    exact = sp.simplify(E(X**k))
    closed = 2**k * sp.gamma(sp.Rational(nu, 2) + k) / sp.gamma(sp.Rational(nu, 2))
    assert sp.simplify(exact - closed) == 0
    assert np.isclose(float(closed), float(tails.chi2_product_moment(float(k), 1, nu, 1.0)), rtol=1e-12)


def test_chi2_product_skewness_matches_monte_carlo():
    """n = 3 products of chi2_9/9: skewness from moments vs 4e6 draws (MC s.e. of skewness ~ 0.01)."""
    rng = np.random.default_rng(0)
    x = np.prod(rng.chisquare(9, size=(4_000_000, 3)) / 9, axis=1)
    c = x - x.mean()
    empirical = (c**3).mean() / (c**2).mean() ** 1.5
    exact = float(tails.chi2_product_skewness(3, 9, 9.0))
    assert abs(empirical - exact) < 0.05 * exact
    # A wrong law (the skewness of one factor, not of the product) is far outside.
    assert abs(empirical - float(tails.chi2_product_skewness(1, 9, 9.0))) > 0.3 * exact


def test_skewness_grows_and_overflows_to_inf():
    s = tails.chi2_product_skewness(np.array([1, 8, 60, 10_000]), 19, 19.0)
    assert 0.6 < s[0] < 0.7 and 4.0 < s[1] < 4.2 and s[2] > 1000 and np.isinf(s[3])


def test_seeds_for_honest_z_inverts_the_relative_error():
    z = critical_z("expectation", DEFAULT_ALPHA, 300)
    n = tails.seeds_for_honest_z(3.0, z)
    assert tails.edgeworth_relative_error(3.0, int(n), z) <= 1 < tails.edgeworth_relative_error(3.0, int(n) - 1, z)
    for side, skew in (("upper", -3.0), ("lower", 3.0)):  # the inflated tail of each side
        n = tails.seeds_for_honest_z(skew, z, side=side)
        err = tails.edgeworth_tail_error
        assert err(skew, int(n), z, side) <= 1 < err(skew, int(n) - 1, z, side)
    # The deflated tail never needs more than one seed; an infinite skewness no count.
    assert tails.seeds_for_honest_z(3.0, z, side="upper") == 1 == tails.seeds_for_honest_z(-3.0, z, side="lower")
    assert np.isinf(tails.seeds_for_honest_z(np.inf, z, side="upper"))


def test_studentized_mean_of_skewed_data_inflates_its_lower_tail():
    """chi-square(1) data (skewness sqrt 8), N = 20, x = 2: P(z > 2) = 0.005, P(z < -2) = 0.112 (nominal 0.023).

    z is the Studentized mean, as the checks compute it (sem from the sample standard
    deviation). The one-term Edgeworth expansion gets the direction right (and, this far
    from its range, not the size: it says 0.074 below and a negative number above).
    """
    rng = np.random.default_rng(0)
    N, x, reps = 20, 2.0, 400_000
    data = rng.chisquare(1, size=(reps, N))
    z = (data.mean(axis=1) - 1.0) / (data.std(axis=1, ddof=1) / np.sqrt(N))
    upper, lower = float(np.mean(z > x)), float(np.mean(z < -x))
    nominal = float(sps.norm.sf(x))
    assert abs(upper - 0.005) < 0.001 and abs(lower - 0.112) < 0.002
    assert upper < nominal < lower
    first_upper = float(tails.edgeworth_tail_probability(np.sqrt(8), N, x, "upper"))
    first_lower = float(tails.edgeworth_tail_probability(np.sqrt(8), N, x, "lower"))
    assert first_upper < nominal < first_lower
    # The refusal rule reads the same direction: a lower-tail check is inflated, an upper one not.
    assert tails.edgeworth_tail_error(np.sqrt(8), N, x, "upper") == 0
    assert tails.edgeworth_tail_error(np.sqrt(8), N, x, "lower") == tails.edgeworth_relative_error(np.sqrt(8), N, x) > 0


def test_edgeworth_sign_matches_monte_carlo_at_a_large_seed_count():
    """Where the expansion holds (gamma/sqrt(N) small): exponential data, N = 400, x = 1.5, 1e5 replications."""
    rng = np.random.default_rng(1)
    N, x, reps = 400, 1.5, 100_000
    z = np.empty(reps)
    for i in range(0, reps, 10_000):  # blocks keep memory small
        data = rng.exponential(size=(10_000, N))
        z[i : i + 10_000] = (data.mean(axis=1) - 1.0) / (data.std(axis=1, ddof=1) / np.sqrt(N))
    for tail, measured in (("upper", np.mean(z > x)), ("lower", np.mean(z < -x))):
        predicted = float(tails.edgeworth_tail_probability(2.0, N, x, tail))
        se = np.sqrt(predicted * (1 - predicted) / reps)
        assert abs(measured - predicted) < 4 * se + 0.002, (tail, measured, predicted)
        # The reversed sign (the old docstring's) predicts the other tail's rate: far off.
        reversed_sign = float(tails.edgeworth_tail_probability(-2.0, N, x, tail))
        assert abs(measured - reversed_sign) > 10 * se, (tail, measured, reversed_sign)


def test_non_finite_skewness_is_refused_on_every_side():
    for side in tails.SIDES:
        assert np.isinf(tails.edgeworth_tail_error(np.inf, 10**9, 3.0, side))
    with pytest.raises(ValueError):
        tails.edgeworth_tail_error(1.0, 10, 3.0, "left")


def _side(law: Law) -> str:
    return {2: "two-sided", 1: "upper", -1: "lower"}[getattr(law.verdict, "sides", 2)]


# Models whose skewness comes from a pilot simulation (seconds per law): checked with -m slow.
PILOTED = ("categorical", "verifier")


@pytest.mark.parametrize(
    "models",
    [
        pytest.param("closed-form", id="closed-form-skewness"),
        pytest.param("piloted", id="piloted-skewness", marks=pytest.mark.slow),
    ],
)
def test_registered_laws_have_no_refused_check_at_their_default_seeds(models):
    total = sum(len(law.generations) for law in LAWS.values())
    for law in LAWS.values():
        if (law.model in PILOTED) != (models == "piloted"):
            continue
        if law.verdict.critical(DEFAULT_ALPHA / total) is None:
            continue  # an exact verdict (a binomial interval or an equality): no normal approximation to refuse
        zc = critical_z(law.verdict, DEFAULT_ALPHA, total)
        skew = metric_skewness(law.config, law.metric, law.generations)
        assert np.all(tails.edgeworth_tail_error(skew, law.seeds, zc, _side(law)) <= 1), law.id


def test_infinite_variance_regression_check_is_refused_not_scored():
    """T = d + 3, random design: the unconditional error has infinite variance; no z-score."""
    with pytest.warns(UserWarning, match="infinite variance"):
        cfg = LinRegConfig(d=4, T=7, generations=3, sampler="exact")
    res = run(cfg, 256, seed=0, progress=False)
    law = Law(
        id="heavy",
        title="",
        reference=next(iter(LAWS.values())).reference,
        status="derived here",
        statement="a test law",
        config=cfg,
        metric="test_error",
        kind="expectation",
        predict=lambda n: theory_linreg.expected_test_error(n, 4, 7, 1.0, "replace"),
        perturbed=lambda n: n,
        generations=(1, 3),
    )
    rows = check_law(law, res, DEFAULT_ALPHA, 2)
    assert all(r.z is None and r.passed and "infinite" in r.refused for r in rows)
    # Given the design the same T is fine: a quadratic form in Gaussians, skewness at most sqrt(8).
    skew = metric_skewness(LinRegConfig(d=4, T=7, design="shared"), "test_error", [1, 3])
    assert np.all((0 <= skew) & (skew <= np.sqrt(8)))


def test_exact_skewness_of_log_det_and_w2_under_replace():
    """Monte Carlo of the 1-D refit (M = 20, 10^6 seeds, fixed seed): the exact skewness, not the stand-ins."""
    from scipy.stats import skew

    rng = np.random.default_rng(11)
    seeds, M, gens = 1_000_000, 20, (1, 2, 4)
    m, s = np.zeros(seeds), np.ones(seeds)
    logdet = np.zeros(seeds)
    w2, ld = [], []
    for g in range(1, max(gens) + 1):
        x = rng.chisquare(M - 1, seeds)
        m, s = m + s * rng.standard_normal(seeds) / np.sqrt(M), s * np.sqrt(x / (M - 1))
        logdet += np.log(x)
        if g in gens:
            w2.append(skew(m**2 + (s - 1) ** 2))
            ld.append(skew(logdet))
    exact_w2 = tails.gaussian_w2_skewness(gens, M=M)
    exact_ld = tails.gaussian_log_det_skewness(gens, dim=1, M=M)
    # sample skewness standard errors at 10^6 seeds: below 0.03 for W2 here, 0.003 for log det
    np.testing.assert_allclose(w2, exact_w2, atol=0.1)
    np.testing.assert_allclose(ld, exact_ld, atol=0.01)
    assert exact_ld[0] == pytest.approx(-0.333, abs=1e-3)  # not the 0 the guard used to assume
    # the stand-in the guard used for W2 (the variance factor's skewness) is far below the truth
    stand_in = tails.chi2_product_skewness(np.array(gens, float), M - 1, 1.0)
    assert np.all(exact_w2 - stand_in > 1.0) and np.all(np.abs(np.array(w2) - stand_in) > 0.9)
