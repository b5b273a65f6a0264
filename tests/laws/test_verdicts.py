"""The verdict kinds on synthetic data: false alarms at most the nominal rate, power where promised.

Every case draws NumPy data with a fixed seed (no simulation), so the outcomes are
deterministic and fast. Rates over ``R`` replications are compared with the nominal
level through a binomial bound at ``1e-4`` (a correct test fails here with
probability about that).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from model_collapse.experiments.laws import (
    Asymptotic,
    Deterministic,
    Distribution,
    Expectation,
    LowerBound,
    Probability,
    UpperBound,
)
from model_collapse.experiments.laws.verdicts import VERDICTS, as_verdict
from scipy import stats as sps

LEVEL = 0.05
R = 2000  # replications
N = 200  # seeds per replication


def _max_rate(level: float, reps: int = R) -> float:
    """The largest rejection count / reps consistent with a rate <= level (one-sided, 1e-4)."""
    return float(sps.binom.isf(1e-4, reps, level)) / reps


def _min_rate(level: float, reps: int = R) -> float:
    return float(sps.binom.ppf(1e-4, reps, level)) / reps


def _z_rejections(verdict, predicted, mean_shift, *, cfg=None, level=LEVEL, seeds=N, reps=R, seed=0):
    """Fraction of replications whose check fails: data N(predicted + shift, 1), ``seeds`` per replication."""
    rng = np.random.default_rng(seed)
    x = rng.normal(predicted + mean_shift, 1.0, size=(reps, seeds))
    mean, sem = x.mean(axis=1), x.std(axis=1, ddof=1) / np.sqrt(seeds)
    fails = [
        not verdict.passes(verdict.test(predicted, m, s, seeds, cfg=cfg)[1], level)
        for m, s in zip(mean, sem, strict=True)
    ]
    return float(np.mean(fails))


def test_expectation_false_alarm_rate_and_power():
    v = Expectation()
    rate = _z_rejections(v, 1.0, 0.0)
    assert _min_rate(LEVEL) <= rate <= _max_rate(LEVEL), rate  # exact: neither above nor far below
    assert _z_rejections(v, 1.0, 0.3) > 0.95  # 0.3 sd off: z ~ 4.2 at 200 seeds


def test_upper_and_lower_bounds_are_one_sided():
    up, low = UpperBound(), LowerBound()
    assert _z_rejections(up, 1.0, 0.0) <= _max_rate(LEVEL)  # at the bound: the nominal rate
    assert _z_rejections(up, 1.0, -0.5) == 0.0  # a loose bound (the mean far below) never fails
    assert _z_rejections(up, 1.0, +0.3) > 0.95  # exceeded: fails
    assert _z_rejections(low, 1.0, +0.5) == 0.0
    assert _z_rejections(low, 1.0, -0.3) > 0.95
    assert up.critical(0.05) == pytest.approx(1.6448536, rel=1e-6)
    assert Expectation().critical(0.05) == pytest.approx(1.959964, rel=1e-6)


def test_asymptotic_allows_a_bias_within_its_tolerance_and_it_shrinks_with_size():
    v = Asymptotic(tolerance=lambda cfg: 2.0 / cfg.d, rate="2/d")
    small, large = SimpleNamespace(d=20), SimpleNamespace(d=200)  # tolerance 0.1 and 0.01
    predicted = 1.0
    # A bias of exactly the tolerance is the worst case of the null: rate <= level.
    assert _z_rejections(v, predicted, 0.1, cfg=small, seeds=2000, reps=1000) <= _max_rate(LEVEL, 1000)
    assert _z_rejections(v, predicted, -0.1, cfg=small, seeds=2000, reps=1000) <= _max_rate(LEVEL, 1000)
    # No bias: well within.
    assert _z_rejections(v, predicted, 0.0, cfg=small, seeds=2000, reps=500) == 0.0
    # The same bias of 0.1 is far beyond the tolerance at the larger size.
    assert _z_rejections(v, predicted, 0.1, cfg=large, seeds=2000, reps=500) > 0.99
    # A plain expectation check would reject the biased-but-within-tolerance law.
    assert _z_rejections(Expectation(), predicted, 0.1, seeds=2000, reps=500) > 0.99
    with pytest.raises(ValueError, match="needs the config"):
        v.test(1.0, 1.0, 0.1, 10)


def test_asymptotic_p_value_is_exact_at_the_boundary():
    """P(|N(t, 1)| >= x) at the worst bias: compare with a direct Monte Carlo of the folded normal."""
    v = Asymptotic(tolerance=lambda cfg: 0.5)
    _, p = v.test(predicted=2.0, mean=2.0 + 1.0 + 1.7, sem=1.0, seeds=100, cfg=SimpleNamespace())
    t, x = 1.0, 2.7  # slack 0.5 * 2 = 1 sem; gap 2.7 sem
    z = np.random.default_rng(1).normal(t, 1.0, 2_000_000)
    assert p == pytest.approx(np.mean(np.abs(z) >= x), abs=5e-4)


def test_probability_is_an_exact_binomial_test():
    rng = np.random.default_rng(2)
    v, p0, seeds = Probability(), 0.3, 400
    counts = rng.binomial(seeds, p0, size=R)

    def rejected(predicted):  # one exact test per distinct count
        fails = {k: not v.passes(v.test(predicted, k / seeds, 0.0, seeds)[1], LEVEL) for k in np.unique(counts)}
        return np.mean([fails[k] for k in counts])

    assert rejected(p0) <= _max_rate(LEVEL)  # a discrete test is conservative
    assert rejected(0.2) > 0.95
    # One-sided: "at most p0" is not contradicted by too few successes.
    assert Probability("at_most").test(0.3, 0.05, 0.0, seeds)[1] == pytest.approx(1.0)
    assert Probability("at_most").test(0.3, 0.5, 0.0, seeds)[1] < 1e-10
    with pytest.raises(ValueError, match="not 0/1"):
        v.test(0.3, 0.123456, 0.0, 10)
    with pytest.raises(ValueError):
        Probability("sometimes")


def test_distribution_is_a_ks_test_of_per_seed_values():
    rng = np.random.default_rng(3)
    v = Distribution()
    truth = sps.norm(0.0, 1.0)
    samples = rng.normal(size=(300, 300))
    rate = np.mean([not v.passes(v.test(truth, s.mean(), 0.0, len(s), values=s)[1], LEVEL) for s in samples])
    assert rate <= _max_rate(LEVEL, 300)
    wrong = sps.norm(0.4, 1.0)
    power = np.mean([not v.passes(v.test(wrong, s.mean(), 0.0, len(s), values=s)[1], LEVEL) for s in samples])
    assert power > 0.95
    # A bare CDF function works too; and values are required.
    assert v.test(truth.cdf, 0.0, 0.0, 300, values=samples[0])[1] > 0
    with pytest.raises(ValueError, match="per-seed values"):
        v.test(truth, 0.0, 0.0, 300)


def test_deterministic_metrics_are_compared_within_a_tolerance_not_by_float_equality():
    v = Deterministic(rtol=1e-9)
    assert v.passes(v.test(0.3, 0.1 + 0.2, 0.0, 1)[1], LEVEL)  # 0.30000000000000004
    assert not v.passes(v.test(0.3, 0.3001, 0.0, 1)[1], LEVEL)
    assert Deterministic(atol=1e-3).test(0.0, 5e-4, 0.0, 1)[1] == 1.0
    # A z-kind with a standard error of 0 does not demand exact equality either.
    for z_kind in (Expectation(), UpperBound(), LowerBound()):
        stat, p = z_kind.test(0.3, 0.1 + 0.2, 0.0, 100)
        assert p == 1.0 and stat == 0.0
    stat, p = Expectation().test(0.3, 0.4, 0.0, 100)
    assert p == 0.0 and math.isinf(stat)
    assert UpperBound().test(0.3, 0.2, 0.0, 100)[1] == 1.0  # below the bound: fine
    assert Deterministic().power_seeds(1.0, 1.5, 1.5, 0.0, LEVEL) == 1.0
    assert math.isinf(Deterministic().power_seeds(1.0, 1.0, 1.0, 0.0, LEVEL))


def test_refusal_is_the_z_kinds_alone():
    """A z-kind refuses skew that inflates the tail it rejects in, until the seeds make that tail honest.

    Positive skew inflates the Studentized mean's lower tail and thins its upper one (Hall
    1992), so a two-sided check is refused for either sign, an upper-bound check (it rejects
    large z) only for negative skew, a lower-bound check only for positive skew; the thinned
    tail is conservative and is never refused, at any seed count.
    """
    level = 1e-3 / 300
    inflating = [
        (Expectation(), (5.0, -5.0), "two-sided"),
        (UpperBound(), (-5.0,), "upper"),
        (LowerBound(), (5.0,), "lower"),
        (Asymptotic(lambda c: 0.1), (5.0, -5.0), "two-sided"),
    ]
    for v, skews, side in inflating:
        assert v.refusal(0.0, 100, level) is None
        assert "infinite" in v.refusal(math.inf, 10**6, level)
        for skew in skews:
            why = v.refusal(skew, 2048, level)
            assert why is not None and "needs >=" in why and f"{side} tail" in why, why
            need = int(why.split(">= ")[1].split(" ")[0].replace(",", ""))
            assert need > 2048 and need == int(v.honest_seeds(skew, level))
            assert v.refusal(skew, need, level) is None and v.refusal(skew, need - 1, level) is not None
    for v, skew in ((UpperBound(), 5.0), (LowerBound(), -5.0)):  # the conservative tail
        assert v.refusal(skew, 2, level) is None and int(v.honest_seeds(skew, level)) == 1
    for v in (Probability(), Distribution(), Deterministic()):
        assert v.refusal(math.inf, 10, level) is None


def test_power_seeds_deliver_the_promised_power():
    """At the seed count power_seeds returns, the wrong prediction is rejected in >= ~99% of replications."""
    rng = np.random.default_rng(4)
    level = 1e-3
    # Expectation: the truth 1.0, the twin 1.2, sd 1.
    n = math.ceil(Expectation().power_seeds(1.0, 1.2, 1.0, 1.0, level))
    x = rng.normal(1.0, 1.0, size=(400, n))
    mean, sem = x.mean(axis=1), x.std(axis=1, ddof=1) / np.sqrt(n)
    v = Expectation()
    assert np.mean([not v.passes(v.test(1.2, m, s, n)[1], level) for m, s in zip(mean, sem, strict=True)]) >= 0.97
    # An upper bound that is too tight: the mean 1.0 exceeds the wrong bound 0.9.
    u = UpperBound()
    n = math.ceil(u.power_seeds(1.5, 0.9, 1.0, 1.0, level))
    x = rng.normal(1.0, 1.0, size=(400, n))
    mean, sem = x.mean(axis=1), x.std(axis=1, ddof=1) / np.sqrt(n)
    assert np.mean([not u.passes(u.test(0.9, m, s, n)[1], level) for m, s in zip(mean, sem, strict=True)]) >= 0.97
    assert math.isinf(u.power_seeds(1.5, 1.2, 1.0, 1.0, level))  # a loose wrong bound is never rejected
    # Probability: truth 0.3, twin 0.25.
    p = Probability()
    n = math.ceil(p.power_seeds(0.3, 0.25, 0.3, 0.0, level))
    counts = rng.binomial(n, 0.3, size=400)
    fails = {k: not p.passes(p.test(0.25, k / n, 0.0, n)[1], level) for k in np.unique(counts)}
    assert np.mean([fails[k] for k in counts]) >= 0.97
    # Distribution: N(0, 1) against the twin N(0.5, 1) (a DKW bound: conservative).
    d = Distribution()
    n = math.ceil(d.power_seeds(sps.norm(0, 1), sps.norm(0.5, 1), 0.0, 1.0, level))
    x = rng.normal(size=(200, n))
    assert np.mean([not d.passes(d.test(sps.norm(0.5, 1), 0.0, 0.0, n, values=s)[1], level) for s in x]) >= 0.99
    # Asymptotic: the twin is off by more than its tolerance.
    a = Asymptotic(lambda cfg: 0.05)
    n = math.ceil(a.power_seeds(1.0, 1.3, 1.0, 1.0, level, cfg=SimpleNamespace()))
    x = rng.normal(1.0, 1.0, size=(400, n))
    mean, sem = x.mean(axis=1), x.std(axis=1, ddof=1) / np.sqrt(n)
    cfg = SimpleNamespace()
    rejected = [not a.passes(a.test(1.3, m, s, n, cfg=cfg)[1], level) for m, s in zip(mean, sem, strict=True)]
    assert np.mean(rejected) >= 0.97


def test_kind_names_and_objects():
    assert set(VERDICTS) == {
        "expectation",
        "upper_bound",
        "lower_bound",
        "asymptotic",
        "probability",
        "distribution",
        "deterministic",
    }
    assert as_verdict("upper_bound") == UpperBound() and as_verdict(UpperBound()) == UpperBound()
    with pytest.raises(ValueError, match="tolerance"):
        as_verdict("asymptotic")
    with pytest.raises(ValueError):
        as_verdict("median")
    assert UpperBound().extreme([-3.0, 1.0]) == 1.0 and Expectation().extreme([-3.0, 1.0]) == 3.0
    assert LowerBound().extreme([-3.0, 1.0]) == 3.0
