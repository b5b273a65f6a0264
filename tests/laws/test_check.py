"""Checking laws: Holm's procedure, laws at the user's config, theory variances, assert_law, the report.

Most tests feed the checks synthetic results (a :class:`Result` built from chosen
means and standard errors), so they need no simulation; ``assert_law`` runs a small
exact-sampler config.
"""

import dataclasses
import json
import warnings

import numpy as np
import pytest
from model_collapse.experiments import ConfigError, GaussianConfig, LinRegConfig
from model_collapse.experiments.engine.runner import MetricSummary, Result
from model_collapse.experiments.laws import (
    LAWS,
    Check,
    Distribution,
    Expectation,
    InconclusiveError,
    Law,
    Probability,
    apply_holm,
    assert_law,
    check_law,
    holm,
    status,
    verify,
)
from model_collapse.experiments.report import build_report, write_report
from model_collapse.theory import linreg as theory_linreg
from scipy import stats as sps

REF = LAWS["linreg/replace/fixed"].reference


def _result(cfg, mean, sem, seeds=1000, metric="test_error", std=None):
    mean, sem = np.asarray(mean, np.float64), np.asarray(sem, np.float64)
    std = sem * np.sqrt(seeds) if std is None else np.asarray(std, np.float64)
    summary = MetricSummary(mean=mean, sem=sem, std=std, minimum=mean, maximum=mean, quantiles={})
    return Result(
        config=cfg,
        seed=0,
        seed_start=0,
        seeds=seeds,
        generation=np.arange(1, len(mean) + 1),
        metrics={metric: summary},
        meta={},
    )


# --------------------------------------------------------------------------------------
# Holm's step-down procedure


def test_holm_rejects_at_least_what_bonferroni_rejects():
    alpha = 0.05
    rejected, level = holm([0.01, 0.015, 0.03, 0.5], alpha)
    assert rejected.tolist() == [True, True, False, False]  # Bonferroni (alpha/4 = 0.0125) rejects only the first
    assert level.tolist() == pytest.approx([alpha / 4, alpha / 3, alpha / 2, alpha / 2])
    rng = np.random.default_rng(0)
    for _ in range(500):
        m = int(rng.integers(1, 30))
        p = rng.uniform(0, 0.02, m) ** rng.uniform(0.5, 2)
        rejected, level = holm(p, alpha)
        assert np.all(rejected[p <= alpha / m])  # everything Bonferroni rejects
        assert np.all((p <= level) == rejected)
        if rejected.any() and not rejected.all():  # step-down: the rejected are the smallest
            assert p[rejected].max() <= p[~rejected].min()


def test_holm_controls_the_family_wise_rate_under_the_global_null():
    rng = np.random.default_rng(1)
    alpha, families = 0.05, 4000
    any_rejected = sum(holm(rng.uniform(size=10), alpha)[0].any() for _ in range(families))
    assert any_rejected / families <= float(sps.binom.isf(1e-4, families, alpha)) / families


def _row(p, kind="expectation", refused=None, law="x", generation=1):
    z = None if p is None else float(sps.norm.isf(p / 2))
    return Check(
        law=law,
        generation=generation,
        predicted=1.0,
        empirical=1.0,
        sem=0.1,
        z=z,
        z_critical=4.0,
        kind=kind,
        passed=True,
        refused=refused,
        p_value=p,
        level=None,
    )


def test_apply_holm_skips_refused_rows_and_states_levels():
    rows = [_row(0.001), _row(0.03), _row(None, refused="skewed"), _row(0.3)]
    out = apply_holm(rows, 0.05)
    assert [c.passed for c in out] == [False, True, True, True]
    assert out[2] == rows[2]  # refused: untouched, no level
    assert out[0].level == pytest.approx(0.05 / 3) and out[1].level == pytest.approx(0.05 / 2)
    assert out[0].z_critical == pytest.approx(sps.norm.isf(0.05 / 3 / 2))  # the first step over 3 scored rows
    assert status(out) == "fail"
    assert status(apply_holm([_row(0.5), _row(None, refused="why")], 0.05)) == "inconclusive"
    assert status(apply_holm([_row(0.5)], 0.05)) == "pass"


# --------------------------------------------------------------------------------------
# A law is a function of the config it is checked at


def test_a_law_checked_at_a_user_config_predicts_for_that_config():
    law = LAWS["linreg/replace/fixed"]
    mine = LinRegConfig(d=4, T=40, sigma2=1.0, generations=20)
    n = np.array([1, 5])
    # The bug this fixes: replace() kept the registered config's prediction (0.48 n at d=32, T=100).
    replaced = dataclasses.replace(law, config=mine)
    np.testing.assert_allclose(replaced.predict(replaced.config, n), 1.0 * 4 * n / 35, rtol=1e-12)
    at = law.at(mine)
    assert at.config == mine and at.generations == law.generations
    np.testing.assert_allclose(at.predict(mine, n), 4 * n / 35, rtol=1e-12)
    # check_law predicts for the result's config, whatever law object it is given.
    # At d=4, T=40 the error is a scaled F(4, 37) (skewness 1.80): a z-score is honest at alpha/5 from
    # ~1,150 seeds, so the synthetic result claims 4,000 (at the default 1,000 every check would be refused).
    gens = np.arange(1, 21)
    rows = check_law(law, _result(mine, 4 * gens / 35, np.full(20, 0.01), seeds=4000))
    assert [r.predicted for r in rows] == pytest.approx(list(4 * np.array(law.generations) / 35))
    assert all(r.refused is None and r.passed and r.z == pytest.approx(0.0) for r in rows)
    # Fewer generations simulated: the law checks those it can.
    assert law.at(dataclasses.replace(mine, generations=5)).generations == (1, 2, 5)
    assert law.at(mine, generations=[3, 1]).generations == (1, 3)


def test_a_law_refuses_configs_it_does_not_cover():
    law = LAWS["linreg/replace/fixed"]
    for cfg, reason in [
        (LinRegConfig(d=4, T=40, design="shared"), "design=fixed, not design=shared"),
        (LinRegConfig(d=4, T=40, regime="accumulate"), "regime=replace"),
        (GaussianConfig(), "a linreg law; this is a gaussian config"),
    ]:
        with pytest.raises(ConfigError, match=reason):
            law.at(cfg)
        with pytest.raises(ConfigError, match=reason):
            dataclasses.replace(law, config=cfg)
    with pytest.raises(ConfigError, match="must lie in 1..5"):
        law.at(LinRegConfig(d=4, T=40, generations=5), generations=[25])
    with pytest.raises(ConfigError, match="simulates only 1"):  # the bound is checked from generation 2 on
        LAWS["linreg/accumulate/bound"].at(LinRegConfig(d=4, T=40, generations=1, regime="accumulate"))
    # The exact law for std holds in 1-D only; in 3-D the law there is a bound (another law).
    with pytest.raises(ConfigError, match="upper bound"):
        LAWS["gaussian/replace/unbiased/std/dim1"].at(GaussianConfig(dim=3, M=20))
    # The mean error's law holds in any dimension, and predicts for it.
    law = LAWS["gaussian/replace/unbiased/mean_sq_error/dim1"].at(GaussianConfig(dim=5, M=50, sigma2=3.0))
    np.testing.assert_allclose(law.predict(law.config, np.array([1, 4])), np.array([1, 4]) * 5 * 3.0 / 50)
    # Sampler and precision are not part of what a law is about.
    LAWS["linreg/replace/fixed"].at(LinRegConfig(d=4, T=40, sampler="exact", precision="float32"))


def test_a_prediction_of_n_alone_is_pinned_to_its_config():
    cfg = LinRegConfig(d=4, T=40, generations=5)
    law = Law(
        id="legacy",
        title="",
        reference=REF,
        status="derived here",
        statement="a test law",
        config=cfg,
        metric="test_error",
        kind="expectation",
        predict=lambda n: theory_linreg.expected_test_error(n, 4, 40, 1.0, "replace"),
        perturbed=lambda n: np.asarray(n) * 0.0,
        generations=(1, 5),
    )
    assert law.kind == "expectation" and law.verdict == Expectation() and law.model == "linreg"
    np.testing.assert_allclose(law.predict(cfg, [5]), [20 / 35])
    with pytest.raises(ConfigError, match="write predict\\(cfg, n\\)"):
        law.at(dataclasses.replace(cfg, d=8)).predict(dataclasses.replace(cfg, d=8), [1])


def test_theory_variance_replaces_the_run_standard_error_where_given():
    # The metric's skewness at d=32, T=100 (0.84, a scaled F(32, 69)) makes a z-score honest at alpha/3 from
    # 208 seeds, so none of the 400-seed checks below is refused.
    cfg = LinRegConfig(d=32, T=100, generations=3)

    def predict(cfg, n):
        return np.ones(np.shape(n))

    law = Law(
        id="synthetic/variance",
        title="E x = 1",
        reference=REF,
        status="derived here",
        statement="a test law",
        metric="test_error",
        verdict=Expectation(),
        predict=predict,
        perturbed=lambda cfg, n: 2 * predict(cfg, n),
        config=cfg,
        generations=(1, 2, 3),
        variance=lambda cfg, n: np.full(np.shape(n), 4.0),
    )
    res = _result(cfg, [1.05, 1.05, 1.05], [0.5, 0.5, 0.5], seeds=400)  # the run's sem says z = 0.1
    rows = check_law(law, res)
    assert all(r.refused is None for r in rows)
    assert all(r.sem_source == "theory" and r.sem == pytest.approx(0.1) for r in rows)  # sqrt(4/400)
    assert rows[0].z == pytest.approx(0.5)
    rows = check_law(law, res, theory_variance=False)
    assert rows[0].sem_source == "empirical" and rows[0].z == pytest.approx(0.1)
    # The registered Gaussian replace laws for variance and log_det carry theirs; the mean error's has none.
    assert LAWS["gaussian/replace/unbiased/log_det/dim1"].variance is not None
    assert LAWS["gaussian/replace/mle/variance/dim3"].variance is not None
    assert LAWS["gaussian/replace/unbiased/mean_sq_error/dim1"].variance is None


def test_probability_and_distribution_laws_through_check_law():
    cfg = LinRegConfig(d=4, T=40, generations=2)
    prob = Law(
        id="synthetic/probability",
        title="P(event) = 0.3",
        reference=REF,
        status="derived here",
        statement="a test law",
        metric="test_error",
        verdict=Probability(),
        predict=lambda cfg, n: np.full(np.shape(n), 0.3),
        perturbed=lambda cfg, n: np.full(np.shape(n), 0.2),
        config=cfg,
        generations=(1, 2),
    )
    rows = check_law(prob, _result(cfg, [0.31, 0.5], [0.0, 0.0], seeds=1000))
    assert rows[0].passed and not rows[1].passed and rows[0].z is None and rows[0].statistic == 310
    rng = np.random.default_rng(5)
    values = rng.normal(size=(2000, 2))
    dist = Law(
        id="synthetic/distribution",
        title="x ~ N(0, 1)",
        reference=REF,
        status="derived here",
        statement="a test law",
        metric="test_error",
        verdict=Distribution(),
        predict=lambda cfg, n: [sps.norm(0, 1) for _ in np.atleast_1d(n)],
        perturbed=lambda cfg, n: [sps.norm(0.3, 1) for _ in np.atleast_1d(n)],
        config=cfg,
        generations=(1, 2),
    )
    res = _result(cfg, values.mean(axis=0), values.std(axis=0) / np.sqrt(2000), seeds=2000)
    rows = check_law(dist, res, values=values)
    assert all(r.passed and r.predicted == 0.0 and 0 < r.statistic < 0.05 for r in rows)
    assert not any(r.passed for r in check_law(dist, res, predict=dist.perturbed, values=values))


# --------------------------------------------------------------------------------------
# assert_law: the helper for users' test suites

SMALL = LinRegConfig(d=4, T=20, generations=5, sampler="exact")


@pytest.fixture(scope="module")
def small_runner():
    from model_collapse.experiments import run

    memo = {}

    def runner(cfg, seeds, seed, progress=None, metrics=None):
        if (cfg, seeds, seed) not in memo:
            memo[cfg, seeds, seed] = run(cfg, seeds, seed, progress=False)
        return memo[cfg, seeds, seed]

    return runner


def test_assert_law_passes_a_correct_law_and_raises_on_its_wrong_twin(small_runner):
    rows = assert_law("linreg/replace/fixed", SMALL, seeds=2048, seed=1, runner=small_runner)
    assert [r.generation for r in rows] == [1, 2, 5] and all(r.passed for r in rows)
    law = LAWS["linreg/replace/fixed"]
    twin = dataclasses.replace(law, id="linreg/replace/fixed/twin", predict=law.perturbed)
    with pytest.raises(AssertionError, match="checks failed") as err:
        assert_law(twin, SMALL, seeds=2048, seed=1, runner=small_runner)
    assert not isinstance(err.value, InconclusiveError) and "FAIL" in str(err.value) and "d': 4" in str(err.value)


def test_a_distribution_check_recomputes_the_runs_own_seeds(small_runner):
    """Per-seed values for a distribution law are the run's seeds, recomputed: their mean is the run's mean."""
    from model_collapse.experiments.laws.check import _seed_values

    res = small_runner(SMALL, 2048, 1)
    values = _seed_values(res, "test_error")
    assert values.shape == (2048, SMALL.generations)
    np.testing.assert_allclose(values.mean(axis=0), res.metrics["test_error"].mean, rtol=1e-12)
    law = Law(
        id="synthetic/ks",
        title="test_error ~ its own empirical law",
        reference=REF,
        status="derived here",
        statement="a test law",
        metric="test_error",
        verdict=Distribution(),
        config=SMALL,
        generations=(1, 5),
        predict=lambda cfg, n: [sps.gamma(*sps.gamma.fit(values[:, g - 1], floc=0)) for g in np.atleast_1d(n)],
        perturbed=lambda cfg, n: [sps.expon(scale=10.0) for _ in np.atleast_1d(n)],
    )
    rows = check_law(law, res)  # no values given: recomputed
    assert len(rows) == 2 and all(r.p_value is not None and r.z is None for r in rows)
    assert not any(r.passed for r in check_law(law, res, predict=law.perturbed))


def test_assert_law_is_inconclusive_when_checks_are_refused_and_refuses_bad_input():
    def runner(cfg, seeds, seed, progress=None, metrics=None):  # refusals come from theory: no need to simulate
        return _result(cfg, np.ones(cfg.generations), np.full(cfg.generations, 0.1), seeds=seeds)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heavy = LinRegConfig(d=4, T=7, generations=2, sampler="exact")  # infinite variance: every check refused
        with pytest.raises(InconclusiveError, match="2 of 2 checks refused") as err:
            assert_law("linreg/replace/fixed", heavy, seeds=64, runner=runner)
    assert "infinite" in str(err.value)
    with pytest.raises(ConfigError, match="does not apply"):
        assert_law("linreg/replace/fixed", LinRegConfig(d=4, T=20, design="shared"), seeds=64)
    with pytest.raises(ConfigError, match="did you mean linreg/replace/fixed"):
        assert_law("linreg/replace/fixd", seeds=64)
    with pytest.raises(ConfigError, match="alpha"):
        assert_law("linreg/replace/fixed", SMALL, seeds=64, alpha=2.0)


def test_verify_runs_each_config_once_and_decides_with_holm():
    calls = []
    law_a, law_b = LAWS["linreg/accumulate/fixed"], LAWS["linreg/accumulate/bound"]
    cfg = law_a.config
    gens = np.arange(1, cfg.generations + 1)

    def runner(cfg, seeds, seed, progress=None, metrics=None):
        calls.append(cfg)
        mean = law_a.predict(cfg, gens)
        return _result(cfg, mean, mean * 0.01, seeds=seeds)

    rows, _ = verify([law_a, law_b], seeds=500, runner=runner)
    assert len(calls) == 1 and len(rows) == len(law_a.generations) + len(law_b.generations)
    m = len(rows)
    assert all(r.level is not None and r.level >= 1e-3 / m and r.passed for r in rows)
    assert status(rows) == "pass"


# --------------------------------------------------------------------------------------
# The report


def test_report_states_formulas_holm_and_inconclusive_laws(tmp_path):
    ok = LAWS["linreg/replace/fixed"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heavy = ok.at(LinRegConfig(d=4, T=7, generations=20, sampler="exact"))  # every check refused

    def runner(cfg, seeds, seed, progress=None, metrics=None):
        gens = np.arange(1, cfg.generations + 1)
        mean = ok.predict(cfg, gens)
        return _result(cfg, mean + 0.002 * mean, mean * 0.01, seeds=seeds)

    laws = [ok, heavy]  # one law at two configs: its rows are told apart by the config
    rows, results = verify(laws, seeds=4000, runner=runner)
    report = build_report(laws, rows, results, 1e-3)
    assert report["correction"].startswith("Holm") and report["holm"]["scored_checks"] == len(ok.generations)
    assert report["verdict"] == "inconclusive" and report["passed"]
    first, second = report["laws"]
    assert first["verdict"] == "pass" and second["verdict"] == "inconclusive" and second["max_abs_z"] is None
    assert first["verdict_kind"] == "expectation" and first["max_abs_z"] == pytest.approx(0.2, rel=1e-6)
    assert {"id", "title", "kind", "checks", "power", "max_abs_z", "refused", "passed"} <= set(first)
    write_report(report, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "Bonferroni" not in md and "Holm" in md and "inconclusive" in md
    assert "E\\|\\|w_n - w*\\|\\|^2 = sigma^2 d n/(T-d-1)" in md  # the formula, pipes escaped for the table
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["holm"]["first_step_level"] == pytest.approx(1e-3 / 5)
    assert saved["package"]["name"] == "model-collapse" and saved["package"]["version"]
    assert saved["laws"][0]["status"] == "published" and "@inproceedings{dohmatob" in saved["bibtex"]
    assert "| source |" in md and "```bibtex" in md and saved["package"]["version"] in md


def test_references_are_proper_bibtex_and_mix_cites_the_fresh_data_loop():
    nature = LAWS["gaussian/replace/unbiased/std/dim1"].reference.bibtex()
    assert "journal = {Nature}" in nature and "volume = {631}" in nature and "pages = {755--759}" in nature
    for law in LAWS.values():
        ref = law.reference
        assert ref.arxiv is None or ref.arxiv.replace(".", "").isdigit(), ref.arxiv
        assert "=" in law.title or "<=" in law.title, law.id  # every title states its formula
        if "/mix/" in law.id and getattr(law.config, "real_weight", None) is None:  # weighted: He et al.
            assert ref.key == "alemohammad2024mad" and ref.arxiv == "2307.01850"
    # Bertrand et al.'s setting reuses the same real data: only the augment laws cite it.
    bertrand = {law.id for law in LAWS.values() if law.reference.key == "bertrand2024stability"}  # not Ferbach et al.
    assert bertrand and all("/augment/" in law_id for law_id in bertrand), bertrand
    # The same in theory's own table: mix is the fresh-data loop, never Bertrand et al.'s setting.
    from model_collapse.theory.gaussian.laws import _law_rows

    for row in _law_rows():
        assert ("Bertrand" in row.source) == (row.regime == "augment" and row.kind == "exact expectation"), row
        assert row.regime != "mix" or "Alemohammad" in row.source or "Jensen" in row.source, row


def test_every_law_says_whether_a_paper_states_it_or_the_package_derived_it():
    """The review's cases: attribution follows the law, not the regime."""
    for law in LAWS.values():
        assert law.status in ("published", "derived here") and law.statement, law.id
        assert law.status in law.source and law.status in law.bibtex(), law.id
        if law.status == "derived here":
            assert law.statement.startswith("setting of"), law.id  # whose setting it is
    # Derived here, not Dey & Donoho's theorem; the MLE refit is not Shumailov et al.'s theorem.
    assert LAWS["gaussian/accumulate/unbiased/variance/dim1"].status == "derived here"
    for law_id in ("gaussian/replace/mle/variance/dim1", "gaussian/replace/mle/std/dim1"):
        assert "Shumailov" not in LAWS[law_id].reference.authors, law_id
    for law_id in ("gaussian/replace/unbiased/std/dim1", "gaussian/replace/unbiased/w2_sq/dim1"):
        assert LAWS[law_id].status == "derived here", law_id  # c4(M)^n and the exact W2
    assert LAWS["linreg/accumulate/fixed"].status == "published"
    assert all(
        law.status == "derived here"
        for law in LAWS.values()
        if ("/mix/" in law.id or "/augment/" in law.id) and getattr(law.config, "real_weight", None) is None
    )
    assert LAWS["gaussian/mix/weighted/golden-minimum"].status == "published"  # He, Xu & Cheng's w*(k)
