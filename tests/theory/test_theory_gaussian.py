"""Tests for theory.gaussian: symbolic checks against the published forms, limits,
edge cases, numeric/symbolic agreement, bad input, and a Monte Carlo cross-check
of every exact-expectation law on a faithful NumPy simulation (raw samples),
including checks that deliberately wrong formulas fail the same tolerance."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import gaussian as g
from scipy.special import digamma, gammaln

SYM = g.symbols()
n, q, d, s2, M_ = SYM["n"], SYM["q"], SYM["d"], SYM["sigma2"], SYM["M"]
Mq = q + 1  # M in the derivations' parameterisation
Z_TOL = 5.0  # Monte Carlo tolerance, in standard errors


def _c4_published(M):
    """c4(M) = sqrt(2/(M-1)) Gamma(M/2) / Gamma((M-1)/2), as printed in the papers."""
    return sp.sqrt(2 / (M - 1)) * sp.gamma(M / 2) / sp.gamma((M - 1) / 2)


def _zero(expr) -> bool:
    for form in (
        sp.simplify,
        lambda e: sp.simplify(sp.gammasimp(e)),
        lambda e: sp.simplify(sp.powsimp(sp.expand_power_base(sp.expand(e), force=True), force=True)),
    ):
        if form(expr) == 0:
            return True
    return False


# ---------------------------------------------------------------------------
# Symbolic: derived forms equal the published ones.
# ---------------------------------------------------------------------------
def test_chi2_moments_from_mellin():
    m = g.chi2_moments()
    assert _zero(m["mean"] - q)
    assert _zero(m["second"] - q * (q + 2))
    assert _zero(m["mean_log"] - (sp.digamma(q / 2) + sp.log(2)))
    assert _zero(m["var_log"] - sp.polygamma(1, q / 2))
    assert _zero(m["sqrt"] - sp.sqrt(2) * sp.gamma((q + 1) / 2) / sp.gamma(q / 2))


def test_replace_unbiased_matches_shumailov():
    r = g.replace_derivation("unbiased")
    assert _zero(r["mean_sq_error"] - n * d * s2 / Mq)  # linear growth
    assert _zero(r["variance"] - 1)  # martingale
    assert _zero(r["std_factor"] - _c4_published(Mq))  # c4(M)
    assert _zero(r["std"] - _c4_published(Mq) ** n)
    assert _zero(r["log_det_drift_1d"] - (sp.digamma((Mq - 1) / 2) + sp.log(2 / (Mq - 1))))
    assert _zero(r["var_variance"].subs(d, 1) - ((1 + 2 / (Mq - 1)) ** n - 1))
    assert _zero(r["w2_sq"] - s2 * (n / Mq + 2 * (1 - _c4_published(Mq) ** n)))
    lim = r["limits"]
    assert lim["mean_sq_error"] == sp.oo and lim["variance"] == 1 and lim["std"] == 0
    assert lim["var_variance"] == sp.oo and lim["w2_sq"] == sp.oo and lim["log_det"] == -sp.oo


def test_replace_mle_forms_and_limits():
    r = g.replace_derivation("mle")
    rr = (Mq - 1) / Mq
    assert _zero(r["mean_sq_error"] - d * s2 * (1 - rr**n))  # saturating, not linear
    assert _zero(r["variance"] - rr**n)
    assert _zero(r["std_factor"] - sp.sqrt(rr) * _c4_published(Mq))
    assert r["conserved"] == 1  # E||mu_n - mu||^2 / tr + E variance = 1
    lim = r["limits"]
    assert lim["mean_sq_error"] == d * s2 and lim["variance"] == 0 and lim["std"] == 0
    assert lim["var_variance"] == 0 and lim["w2_sq"] == 2 * s2


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_log_det_drift_is_wishart_digamma_sum(estimator, dim):
    # E log det Wishart(k, S) = log det S + sum_{j=1}^{dim} digamma((k - j + 1)/2) + dim log 2, k = M - 1.
    r = g.replace_derivation(estimator)
    k = Mq - 1
    D = Mq - 1 if estimator == "unbiased" else Mq
    published = sum(sp.digamma((k - jj + 1) / 2) for jj in range(1, dim + 1)) + dim * sp.log(2) - dim * sp.log(D)
    assert _zero(r["log_det_drift"].subs(d, dim).doit() - published)


def test_drift_negative_and_asymptotics():
    # sign: checked for a range of M (the proof is Jensen, see chi2_moments)
    M = np.arange(2, 20001, dtype=float)
    for est in g.ESTIMATORS:
        rate = np.array([g.replace_log_det_rate(dim=1, M=int(m), estimator=est) for m in M[:200]])
        assert np.all(rate < 0)
    drift = digamma((M - 1) / 2) + np.log(2 / (M - 1))
    assert np.all(drift < 0)
    c4 = np.exp(0.5 * np.log(2 / (M - 1)) + gammaln(M / 2) - gammaln((M - 1) / 2))
    assert np.all(c4 < 1)
    # drift = -1/(M-1) - 1/(3 (M-1)^2) + O(M^-4)
    r = g.replace_derivation("unbiased")["log_det_drift_1d"]
    series = sp.series(r, q, sp.oo, 4).removeO()
    assert _zero(series - (-1 / q - 1 / (3 * q**2)))


def test_wishart_trace_moments():
    w = g.wishart_trace_moments()
    p1, p2 = w["p1"], w["p2"]
    assert _zero(w["tr_sq"] - (q**2 * p1**2 + 2 * q * p2))
    assert _zero(w["tr_of_sq"] - (q * p1**2 + q * (q + 1) * p2))


def test_replace_var_variance_multivariate_form():
    r = g.replace_derivation("unbiased")["var_variance"]
    expected = (d + 2) / (3 * d) * (1 + 2 / q) ** n + 2 * (d - 1) / (3 * d) * (1 - 1 / q) ** n - 1
    assert _zero(r - expected)


def test_pooling_identities():
    assert g.check_pooling_identities()


def test_accumulate_recursion_and_limits():
    ua = g.accumulate_derivation("unbiased")
    ma = g.accumulate_derivation("mle")
    assert _zero(ua["ratio"] - (1 - 1 / (n * (n * Mq - 1))))
    assert _zero(ma["ratio"] - (1 - 1 / (Mq * n**2)))
    assert ua["beta1"] == 1 and _zero(ma["beta1"] - (Mq - 1) / Mq)
    x = 1 / sp.sqrt(Mq)
    assert _zero(ma["variance_limit"] - sp.sin(sp.pi * x) / (sp.pi * x))
    rho_p = (1 + sp.sqrt(4 * Mq + 1)) / (2 * Mq)
    rho_m = (1 - sp.sqrt(4 * Mq + 1)) / (2 * Mq)
    assert _zero(ua["variance_limit"] - sp.gamma(2 - 1 / Mq) / (sp.gamma(2 - rho_p) * sp.gamma(2 - rho_m)))
    assert _zero(ma["mean_sq_error_limit"] - d * s2 * (1 - sp.sin(sp.pi * x) / (sp.pi * x)))
    assert _zero(ua["mean_sq_error_bound"] - sp.pi**2 / 6 * d * s2 / Mq)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_accumulate_closed_form_matches_recursion_numerically(estimator):
    a = g.accumulate_derivation(estimator)
    for M in (2, 3, 10, 100):
        beta_rec = g.accumulate_variance(np.arange(0, 60), dim=1, M=M, estimator=estimator)
        for nn in (1, 2, 7, 59):
            closed = float(a["variance"].subs({q: M - 1, n: nn}).evalf(30))
            assert math.isclose(closed, beta_rec[nn], rel_tol=1e-12)
        # n -> oo: the closed-form limit is reached by the recursion
        lim = g.accumulate_limits(dim=1, M=M, sigma2=1.0, estimator=estimator)
        far = g.accumulate_variance(np.array([10**6]), dim=1, M=M, estimator=estimator)[0]
        assert abs(far - lim["variance"]) < 2e-6 / M
        mse = g.accumulate_mean_sq_error(np.arange(0, 2001), dim=1, M=M, sigma2=1.0, estimator=estimator)
        assert np.all(np.diff(mse) > 0) and np.all(mse < lim["mean_sq_error_bound"])
        assert mse[-1] < lim["mean_sq_error"] + lim["mean_sq_error_err"] < lim["mean_sq_error_bound"]
        assert lim["mean_sq_error"] - mse[-1] < 1e-3 / M


def test_mix_recursion_edges_and_stationary():
    for est in g.ESTIMATORS:
        mx = g.mix_derivation(est)
        assert all(mx["edges"].values()) and len(mx["edges"]) == 4
        k, M = SYM["k"], M_
        m = M - k
        a_star, b_star = mx["stationary"]
        if est == "unbiased":
            assert _zero(a_star - (M - 1) / (k * (M + m) - M))
            assert _zero(b_star - k * (M + m - 1) / (k * (M + m) - M))
        else:
            assert _zero(a_star - M / (k * (M + m - 1) + M))
            assert _zero(a_star + b_star - 1)
        # k = M: fresh i.i.d. fitting -> (1/M, (M-1)/D)
        D = M - 1 if est == "unbiased" else M
        assert _zero(a_star.subs(k, M) - 1 / M) and _zero(b_star.subs(k, M) - (M - 1) / D)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_mix_numeric_edges_and_stability(estimator):
    nn = np.arange(0, 40)
    for M in (2, 5, 12):
        # k = 0 is replace
        np.testing.assert_allclose(
            g.mix_mean_sq_error(nn, dim=2, M=M, sigma2=1.5, estimator=estimator, real_fraction=0.0),
            g.replace_mean_sq_error(nn, dim=2, M=M, sigma2=1.5, estimator=estimator),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            g.mix_variance(nn, dim=2, M=M, estimator=estimator, real_fraction=0.0),
            g.replace_variance(nn, dim=2, M=M, estimator=estimator),
            rtol=1e-12,
        )
        # k = M is i.i.d. fitting on fresh real data each generation
        fresh = g.mix_mean_sq_error(nn, dim=2, M=M, sigma2=1.5, estimator=estimator, real_fraction=1.0)
        np.testing.assert_allclose(fresh[1:], 2 * 1.5 / M, rtol=1e-12)
        for k in range(1, M + 1):
            A = np.asarray(g._mix_numeric(estimator)["A"](float(k), float(M)), dtype=float)
            assert np.max(np.abs(np.linalg.eigvals(A))) < 1
            st = g.mix_stationary(dim=2, M=M, sigma2=1.5, estimator=estimator, real_fraction=k / M)
            far = g.mix_mean_sq_error(
                np.array([3000]), dim=2, M=M, sigma2=1.5, estimator=estimator, real_fraction=k / M
            )
            assert math.isclose(far[0], st["mean_sq_error"], rel_tol=1e-9)


def test_mle_conservation_in_every_regime():
    nn = np.arange(0, 30)
    for M in (2, 7):
        curves = [
            (
                g.replace_mean_sq_error(nn, dim=3, M=M, sigma2=2.0, estimator="mle"),
                g.replace_variance(nn, dim=3, M=M, estimator="mle"),
            ),
            (
                g.accumulate_mean_sq_error(nn, dim=3, M=M, sigma2=2.0, estimator="mle"),
                g.accumulate_variance(nn, dim=3, M=M, estimator="mle"),
            ),
            (
                g.mix_mean_sq_error(nn, dim=3, M=M, sigma2=2.0, estimator="mle", real_fraction=1 / M),
                g.mix_variance(nn, dim=3, M=M, estimator="mle", real_fraction=1 / M),
            ),
        ]
        for mse, var in curves:
            np.testing.assert_allclose(mse / 6.0 + var, 1.0, rtol=1e-12)


def test_numeric_equals_symbolic():
    r = {e: g.replace_derivation(e) for e in g.ESTIMATORS}
    for est in g.ESTIMATORS:
        for M, nn in ((2, 3), (7, 5), (1000, 40), (20000, 900)):
            checks = [
                (g.replace_mean_sq_error(nn, dim=2, M=M, sigma2=1.5, estimator=est), r[est]["mean_sq_error"]),
                (g.replace_variance(nn, dim=2, M=M, estimator=est), r[est]["variance"]),
                (g.replace_std(nn, M=M, estimator=est), r[est]["std"]),
                (g.replace_w2_sq(nn, M=M, sigma2=1.5, estimator=est), r[est]["w2_sq"]),
                (g.replace_var_variance(nn, dim=2, M=M, estimator=est), r[est]["var_variance"]),
            ]
            if M > 2:
                checks += [
                    (g.replace_log_det(nn, dim=2, M=M, estimator=est), r[est]["log_det"].doit()),
                    (g.replace_var_log_det(nn, dim=2, M=M, estimator=est), r[est]["var_log_det"].doit()),
                ]
            for num, sym in checks:
                # reference: the raw derived expression (gamma, not log-gamma) in 40-digit mpmath
                ref = sp.lambdify([q, n, s2, d], sym, modules="mpmath")
                with mpmath.workdps(40):
                    exact = float(ref(mpmath.mpf(M - 1), nn, mpmath.mpf(3) / 2, 2))
                assert math.isclose(float(num), exact, rel_tol=1e-9, abs_tol=1e-12), (est, M, nn, sym)


# ---------------------------------------------------------------------------
# Dispatcher, law table, bad input.
# ---------------------------------------------------------------------------
def test_predict_matches_law_table():
    nn = np.arange(0, 5)
    laws = g.closed_forms()
    for dim in (1, 2):  # at most one law per (metric, regime, estimator, statistic) in each dimension
        here = [law for law in laws if law.applies_to(dim)]
        assert len({(law.metric, law.regime, law.estimator, law.statistic) for law in here}) == len(here)
    for law in laws:
        for dim in (1, 2):
            if not law.applies_to(dim):
                continue
            kw = dict(dim=dim, M=6, sigma2=1.3, statistic=law.statistic)
            if law.regime in ("mix", "augment"):
                kw["real_fraction"] = 2 / 6
            out = g.predict(law.metric, law.regime, law.estimator, nn, **kw)
            assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == nn.shape
            assert g.law_kind(law.metric, law.regime, law.estimator, dim, law.statistic) == law.kind
            if law.statistic == "mean" and law.kind == "exact expectation":
                truth = {"mean_sq_error": 0.0, "variance": 1.0, "std": 1.0, "log_det": 0.0, "w2_sq": 0.0}
                assert out[0] == truth[law.metric]
    for metric in g.METRICS:
        for est in g.ESTIMATORS:
            assert g.predict(metric, "accumulate-subsample", est, nn, dim=1, M=6) is None
    assert g.predict("w2_sq", "replace", "unbiased", nn, dim=2, M=6) is None
    assert g.predict("w2_sq", "accumulate", "mle", nn, dim=1, M=6) is None
    assert g.predict("mean_sq_error", "replace", "mle", nn, dim=2, M=6, statistic="var") is None
    scalar = g.predict("variance", "replace", "mle", 3, dim=1, M=4)
    assert scalar.shape == () and scalar.dtype == np.float64


@pytest.mark.parametrize(
    "call",
    [
        lambda: g.predict("variance", "replace", "unbiased", 3, dim=1, M=1),
        lambda: g.predict("variance", "replace", "unbiased", 3, dim=1, M=5.0),
        lambda: g.predict("variance", "replace", "unbiased", 3, dim=0, M=5),
        lambda: g.predict("mean_sq_error", "replace", "unbiased", 3, dim=1, M=5, sigma2=0.0),
        lambda: g.predict("mean_sq_error", "replace", "unbiased", 3, dim=1, M=5, sigma2=-1.0),
        lambda: g.predict("variance", "replace", "unbiased", -1, dim=1, M=5),
        lambda: g.predict("variance", "replace", "unbiased", 1.5, dim=1, M=5),
        lambda: g.predict("variance", "replace", "biased", 1, dim=1, M=5),
        lambda: g.predict("variance", "replace-ish", "mle", 1, dim=1, M=5),
        lambda: g.predict("kurtosis", "replace", "mle", 1, dim=1, M=5),
        lambda: g.predict("variance", "mix", "mle", 1, dim=1, M=5),
        lambda: g.predict("variance", "mix", "mle", 1, dim=1, M=5, real_fraction=1.2),
        lambda: g.predict("variance", "mix", "mle", 1, dim=1, M=5, real_fraction=-0.2),
        lambda: g.predict("variance", "replace", "mle", 1, dim=1, M=5, real_fraction=0.4),
        lambda: g.predict("log_det", "replace", "mle", 1, dim=3, M=3),
        lambda: g.replace_std(2, M=5, estimator="mle", dim=2),
        lambda: g.mix_stationary(dim=1, M=5, sigma2=1.0, estimator="mle", real_fraction=0.0),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def test_w2_multivariate_not_implemented():
    with pytest.raises(NotImplementedError):
        g.replace_w2_sq(2, M=5, sigma2=1.0, estimator="unbiased", dim=2)


# ---------------------------------------------------------------------------
# Monte Carlo: a faithful simulator (raw samples, Cholesky sampling, pooled sums).
# ---------------------------------------------------------------------------
SEEDS = 200_000


def simulate(regime, estimator, *, dim, M, sigma2, n_gen, seed, k_real=0, seeds=SEEDS):
    rng = np.random.default_rng(seed)
    sd = math.sqrt(sigma2)
    mu = np.zeros((seeds, dim))
    L = np.broadcast_to(sd * np.eye(dim), (seeds, dim, dim)).copy()
    n_acc, sx, sxx = 0, np.zeros((seeds, dim)), np.zeros((seeds, dim, dim))
    out = {k: np.empty((n_gen + 1, seeds)) for k in ("mean_sq_error", "variance", "log_det", "std", "w2_sq")}
    for key, v in (("mean_sq_error", 0.0), ("variance", 1.0), ("log_det", 0.0), ("std", 1.0), ("w2_sq", 0.0)):
        out[key][0] = v
    k = k_real if regime == "mix" else 0
    for gen in range(1, n_gen + 1):
        z = rng.standard_normal((seeds, M - k, dim))
        x = mu[:, None, :] + np.einsum("sij,smj->smi", L, z)
        if k:
            x = np.concatenate([sd * rng.standard_normal((seeds, k, dim)), x], axis=1)
        if regime == "accumulate":
            n_acc += M
            sx += x.sum(axis=1)
            sxx += np.einsum("smi,smj->sij", x, x)
            N, mean = n_acc, sx / n_acc
            scatter = sxx - n_acc * mean[:, :, None] * mean[:, None, :]
        else:
            N, mean = M, x.mean(axis=1)
            c = x - mean[:, None, :]
            scatter = np.einsum("smi,smj->sij", c, c)
        cov = scatter / (N - 1 if estimator == "unbiased" else N)
        mu, L = mean, np.linalg.cholesky(cov)
        out["mean_sq_error"][gen] = np.sum(mu**2, axis=1)
        out["variance"][gen] = np.trace(cov, axis1=1, axis2=2) / (dim * sigma2)
        out["log_det"][gen] = np.linalg.slogdet(cov)[1] - dim * math.log(sigma2)
        if dim == 1:
            out["std"][gen] = np.sqrt(cov[:, 0, 0] / sigma2)
            out["w2_sq"][gen] = mu[:, 0] ** 2 + (np.sqrt(cov[:, 0, 0]) - sd) ** 2
    return out


def zscores(samples, predicted):
    """(empirical mean - predicted) / standard error, per generation (rows)."""
    m = samples.mean(axis=1)
    se = samples.std(axis=1, ddof=1) / math.sqrt(samples.shape[1])
    return (m[1:] - predicted[1:]) / se[1:]


def zscores_var(samples, predicted):
    """(empirical variance - predicted) / its standard error, per generation."""
    c = samples - samples.mean(axis=1, keepdims=True)
    v = np.mean(c**2, axis=1)
    se = np.sqrt((np.mean(c**4, axis=1) - v**2) / samples.shape[1])
    return (v[1:] - predicted[1:]) / se[1:]


def ok(z):
    return bool(np.all(np.abs(z) < Z_TOL))


N_GEN = 4
GENS = np.arange(N_GEN + 1)


@pytest.fixture(scope="module")
def sims():
    out = {}
    for i, est in enumerate(g.ESTIMATORS):
        out[("replace", est, 3)] = simulate("replace", est, dim=3, M=7, sigma2=2.5, n_gen=N_GEN, seed=10 + i)
        out[("replace", est, 1)] = simulate("replace", est, dim=1, M=5, sigma2=0.7, n_gen=N_GEN, seed=20 + i)
        out[("accumulate", est, 2)] = simulate("accumulate", est, dim=2, M=5, sigma2=1.7, n_gen=N_GEN, seed=30 + i)
        out[("mix", est, 2)] = simulate("mix", est, dim=2, M=6, sigma2=0.9, n_gen=N_GEN, seed=40 + i, k_real=2)
    return out


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_mc_replace_multivariate(sims, estimator):
    sim = sims[("replace", estimator, 3)]
    kw = dict(dim=3, M=7, estimator=estimator)
    assert ok(zscores(sim["mean_sq_error"], g.replace_mean_sq_error(GENS, sigma2=2.5, **kw)))
    assert ok(zscores(sim["variance"], g.replace_variance(GENS, **kw)))
    assert ok(zscores(sim["log_det"], g.replace_log_det(GENS, **kw)))
    assert ok(zscores_var(sim["variance"], g.replace_var_variance(GENS, **kw)))
    assert ok(zscores_var(sim["log_det"], g.replace_var_log_det(GENS, **kw)))


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_mc_replace_one_dimensional(sims, estimator):
    sim = sims[("replace", estimator, 1)]
    kw = dict(M=5, estimator=estimator)
    assert ok(zscores(sim["std"], g.replace_std(GENS, **kw)))
    assert ok(zscores(sim["w2_sq"], g.replace_w2_sq(GENS, sigma2=0.7, **kw)))
    assert ok(zscores(sim["mean_sq_error"], g.replace_mean_sq_error(GENS, dim=1, sigma2=0.7, **kw)))
    assert ok(zscores_var(sim["variance"], g.replace_var_variance(GENS, dim=1, **kw)))


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_mc_accumulate(sims, estimator):
    sim = sims[("accumulate", estimator, 2)]
    kw = dict(dim=2, M=5, estimator=estimator)
    assert ok(zscores(sim["mean_sq_error"], g.accumulate_mean_sq_error(GENS, sigma2=1.7, **kw)))
    assert ok(zscores(sim["variance"], g.accumulate_variance(GENS, **kw)))
    # upper bound: the empirical mean may not exceed it by more than the tolerance
    z = zscores(sim["log_det"], g.jensen_log_det_bound(GENS, regime="accumulate", **kw))
    assert np.all(z < Z_TOL) and np.all(z < 0)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_mc_mix(sims, estimator):
    sim = sims[("mix", estimator, 2)]
    kw = dict(dim=2, M=6, estimator=estimator, real_fraction=2 / 6)
    assert ok(zscores(sim["mean_sq_error"], g.mix_mean_sq_error(GENS, sigma2=0.9, **kw)))
    assert ok(zscores(sim["variance"], g.mix_variance(GENS, **kw)))


def test_mc_wrong_formulas_fail(sims):
    # replace, unbiased: counting one generation ahead (n + 1 instead of n)
    sim = sims[("replace", "unbiased", 3)]
    ahead = g.replace_mean_sq_error(GENS + 1, dim=3, M=7, sigma2=2.5, estimator="unbiased")
    assert not ok(zscores(sim["mean_sq_error"], ahead))
    # MLE law for unbiased data, and the converse
    assert not ok(zscores(sim["variance"], g.replace_variance(GENS, dim=3, M=7, estimator="mle")))
    sim_mle = sims[("replace", "mle", 3)]
    assert not ok(
        zscores(sim_mle["mean_sq_error"], g.replace_mean_sq_error(GENS, dim=3, M=7, sigma2=2.5, estimator="unbiased"))
    )
    # 1-D: the unbiased std law on MLE data
    assert not ok(zscores(sims[("replace", "mle", 1)]["std"], g.replace_std(GENS, M=5, estimator="unbiased")))
    # accumulate data against replace's law, and against the "variance is a martingale" guess
    acc = sims[("accumulate", "unbiased", 2)]
    assert not ok(
        zscores(acc["mean_sq_error"], g.replace_mean_sq_error(GENS, dim=2, M=5, sigma2=1.7, estimator="unbiased"))
    )
    assert not ok(zscores(acc["variance"], np.ones(N_GEN + 1)))
    # mix without the between-group term in the pooled scatter
    for est in g.ESTIMATORS:
        M, k, m = 6, 2, 4
        D = M - 1 if est == "unbiased" else M
        a, b, wrong = 0.0, 1.0, [1.0]
        for _ in range(N_GEN):
            a, b = (m * m * a + m * b + k) / M**2, ((k - 1) + (m - 1) * b) / D
            wrong.append(b)
        assert not ok(zscores(sims[("mix", est, 2)]["variance"], np.array(wrong)))


def test_almost_sure_collapse_despite_constant_mean():
    """Unbiased replace, 1-D: sigma_n^2 -> 0 on every chain at the a.s. rate while E sigma_n^2 = sigma^2."""
    rng = np.random.default_rng(7)
    M, chains, gens = 5, 4000, 2000
    steps = np.log(rng.chisquare(M - 1, size=(gens, chains)) / (M - 1))
    log_var = steps.sum(axis=0)  # log sigma_n^2 / sigma^2 at n = gens
    rate = g.replace_log_det_rate(dim=1, M=M, estimator="unbiased")
    sd = math.sqrt(g.replace_var_log_det(gens, dim=1, M=M, estimator="unbiased")) / gens
    per_gen = log_var / gens
    assert np.all(np.abs(per_gen - rate) < 6 * sd)  # every chain near the rate
    assert np.all(log_var < -200)  # every chain has collapsed (sigma_n^2 < e^-200 sigma^2)
    assert g.replace_variance(gens, dim=1, M=M, estimator="unbiased") == 1.0  # ... yet E sigma_n^2 = sigma^2
    # and the first generations of the same chi-square chain agree with the faithful simulation's law
    short = np.exp(np.cumsum(steps[:4], axis=0))
    assert ok(zscores(np.vstack([np.ones(chains), short]), g.replace_variance(GENS, dim=1, M=M, estimator="unbiased")))


def test_mix_large_M_and_mle_scalar_form():
    k, M = SYM["k"], M_
    for est in g.ESTIMATORS:
        mx = g.mix_derivation(est)
        lam = mx["large_M"]["lambda"]
        assert _zero(mx["large_M"]["M_times_mean_sq_error"] - 1 / (lam * (2 - lam)))
        assert mx["large_M"]["variance"] == 1
    mx = g.mix_derivation("mle")
    rho = (M - k) * (M - k - 1) / M**2
    assert _zero(mx["mle_rate"] - rho)
    assert _zero(mx["mle_mean_sq_error"] - mx["stationary"][0] * (1 - rho**n))
    # and the numeric (matrix) iteration agrees with the scalar closed form
    nn = np.arange(0, 12)
    for Mv, kv in ((6, 2), (9, 1), (4, 4)):
        closed = sp.lambdify([n], mx["mle_mean_sq_error"].subs({M: Mv, k: kv}), modules="numpy")(nn.astype(float))
        num = g.mix_mean_sq_error(nn, dim=1, M=Mv, sigma2=1.0, estimator="mle", real_fraction=kv / Mv)
        np.testing.assert_allclose(num, closed, rtol=1e-12, atol=1e-15)
