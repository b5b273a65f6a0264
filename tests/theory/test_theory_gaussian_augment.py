"""The augment laws (the same k real samples every generation) and the Nature paper's fresh-subset option:
symbolic forms, edges, the closed form against the recursion, and a plain NumPy Monte Carlo of each loop."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import gaussian as g
from model_collapse.theory.gaussian.augment import _augment_curves, _augment_numeric

SYM = g.symbols()
k, M, n = SYM["k"], SYM["M"], SYM["n"]
m = M - k
Z_TOL = 5.0


def _zero(expr) -> bool:
    return sp.simplify(expr) == 0


# ---------------------------------------------------------------------------
# Symbolic.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_augment_recursion_forms(estimator):
    ag = g.augment_derivation(estimator)
    D = M - 1 if estimator == "unbiased" else M
    A_want = sp.Matrix(
        [[m**2 / M**2, m / M**2, 2 * m / M**2], [k * m / (M * D), (m - 1 + k / M) / D, -2 * m / (M * D)], [0, 0, m / M]]
    )
    c_want = sp.Matrix([k / M**2, (k - 1 + m / M) / D, k / M])
    assert (ag["A"] - A_want).applyfunc(sp.simplify) == sp.zeros(3, 3)
    assert (ag["c"] - c_want).applyfunc(sp.simplify) == sp.zeros(3, 1)
    assert _zero(ag["real_cross"] - (1 - (m / M) ** n))
    assert len(ag["edges"]) == 4 and all(ag["edges"].values()) and len(ag["direct"]) == 4
    a_star, b_star, g_star = ag["stationary"]
    assert _zero(g_star - 1)
    if estimator == "unbiased":
        assert _zero(a_star - (3 * M * k - 2 * M - 2 * k**2 + k) / (k * (2 * M * k - M - k**2)))
        assert _zero(b_star - (2 * M - k) * (k - 1) / (2 * M * k - M - k**2))
        assert _zero(a_star.subs(k, 1) - 1) and _zero(b_star.subs(k, 1))  # collapse onto the one kept sample
    else:
        assert _zero(a_star - (3 * M - 2 * k) / (2 * M * k + M - k**2 - k))
        assert _zero(ag["conserved"] - 1)
    assert _zero(a_star.subs(k, M) - 1 / M) and _zero(b_star.subs(k, M) - (M - 1) / D)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_augment_closed_forms_equal_the_iterated_recursion(estimator):
    ag = g.augment_derivation(estimator)
    for Mv, kv in ((20, 5), (7, 3), (6, 1)):
        curves = _augment_curves(estimator, Mv, kv, 60)
        closed = sp.lambdify([n], ag["closed_form"].subs({k: kv, M: Mv}), modules="mpmath")
        with mpmath.workdps(40):
            for nv in (0, 1, 2, 5, 60):
                v = np.array([float(x) for x in closed(nv)])
                np.testing.assert_allclose(v, curves[nv], rtol=1e-12, atol=1e-14)
        if estimator == "mle":
            alpha = sp.lambdify([n], ag["mle_mean_sq_error"].subs({k: kv, M: Mv}))
            np.testing.assert_allclose([alpha(nv) for nv in range(61)], curves[:, 0], rtol=1e-12, atol=1e-15)


def test_augment_sanity_values_and_mix_contrast():
    kw = dict(dim=1, M=20, estimator="unbiased", real_fraction=0.25)
    assert math.isclose(g.augment_mean_sq_error(60, sigma2=1.0, **kw), 43 / 155, rel_tol=1e-6)  # 0.2774
    assert math.isclose(g.augment_variance(60, **kw), 140 / 155, rel_tol=1e-6)  # 0.9032
    assert math.isclose(g.mix_mean_sq_error(60, sigma2=1.0, **kw), 19 / 155, rel_tol=1e-6)  # 0.1226
    assert abs(g.mix_variance(60, **kw) - 1.097) < 1e-3
    st = g.augment_stationary(sigma2=1.0, **kw)
    assert math.isclose(st["mean_sq_error"], 43 / 155, rel_tol=1e-12) and math.isclose(st["variance"], 140 / 155)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_augment_edges_and_stability(estimator):
    nn = np.arange(0, 40)
    for Mv in (2, 5, 12):
        kw = dict(dim=2, M=Mv, estimator=estimator)
        np.testing.assert_allclose(
            g.augment_mean_sq_error(nn, sigma2=1.5, real_fraction=0.0, **kw),
            g.replace_mean_sq_error(nn, sigma2=1.5, **kw),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            g.augment_variance(nn, real_fraction=0.0, **kw), g.replace_variance(nn, **kw), rtol=1e-12
        )
        kept = g.augment_mean_sq_error(nn, sigma2=1.5, real_fraction=1.0, **kw)
        np.testing.assert_allclose(kept[1:], 2 * 1.5 / Mv, rtol=1e-12)
        D = Mv - 1 if estimator == "unbiased" else Mv
        np.testing.assert_allclose(g.augment_variance(nn[1:], real_fraction=1.0, **kw), (Mv - 1) / D, rtol=1e-12)
        for kv in range(1, Mv + 1):
            A = np.asarray(_augment_numeric(estimator)["A"](float(kv), float(Mv)), float)
            assert np.max(np.abs(np.linalg.eigvals(A))) < 1
            st = g.augment_stationary(sigma2=1.5, real_fraction=kv / Mv, **kw)
            far = g.augment_mean_sq_error(3000, sigma2=1.5, real_fraction=kv / Mv, **kw)
            assert math.isclose(float(far), st["mean_sq_error"], rel_tol=1e-9)
            assert st["mean_sq_error"] >= g.mix_stationary(sigma2=1.5, real_fraction=kv / Mv, **kw)["mean_sq_error"]
    if estimator == "mle":  # alpha + beta = 1 at every generation, as in every regime
        np.testing.assert_allclose(
            g.augment_mean_sq_error(nn, dim=3, M=7, sigma2=2.0, estimator="mle", real_fraction=3 / 7) / 6.0
            + g.augment_variance(nn, dim=3, M=7, estimator="mle", real_fraction=3 / 7),
            1.0,
            rtol=1e-12,
        )


def test_augment_in_predict_law_kind_and_bounds():
    nn = np.arange(0, 6)
    kw = dict(dim=2, M=8, real_fraction=0.25)
    for est in g.ESTIMATORS:
        assert g.law_kind("mean_sq_error", "augment", est, 2) == "exact expectation"
        assert g.law_kind("variance", "augment", est, 1) == "exact expectation"
        assert g.law_kind("std", "augment", est, 1) == "upper bound"
        assert g.law_kind("log_det", "augment", est, 3) == "upper bound"
        assert g.law_kind("w2_sq", "augment", est, 1) is None
        assert g.law_kind("variance", "augment", est, 1, "var") is None
        var = g.predict("variance", "augment", est, nn, **kw)
        np.testing.assert_array_equal(var, g.augment_variance(nn, estimator=est, **kw))
        np.testing.assert_array_equal(g.predict("std", "augment", est, nn, **kw), np.sqrt(var))
        np.testing.assert_array_equal(g.predict("log_det", "augment", est, nn, **kw), 2 * np.log(var))
        assert g.predict("w2_sq", "augment", est, nn, **kw) is None
    for bad in (None, 0.3, 1.5, float("nan"), True):
        with pytest.raises(ValueError, match="real_fraction"):
            g.predict("variance", "augment", "mle", nn, dim=1, M=8, real_fraction=bad)
        with pytest.raises(ValueError, match="real_fraction"):
            g.augment_mean_sq_error(nn, dim=1, M=8, sigma2=1.0, estimator="mle", real_fraction=bad)
    with pytest.raises(ValueError, match="regime 'augment' needs real_fraction"):
        g.augment_variance(nn, dim=1, M=8, estimator="mle", real_fraction=None)
    with pytest.raises(ValueError, match="no stationary limit"):
        g.augment_stationary(dim=1, M=8, sigma2=1.0, estimator="mle", real_fraction=0.0)


def test_srswor_moments_and_resample_forms():
    sr = g.srswor_moments()
    assert _zero(sr["var_mean"] - (1 / k - 1 / M) / (M - 1)) and _zero(sr["scatter"] - (k - 1) / (M - 1))
    for est in g.ESTIMATORS:
        rd = g.resample_derivation(est)
        assert _zero(rd["h"] - 1 / M)
        assert (rd["B"] - g.mix_derivation(est)["A"]).applyfunc(sp.simplify) == sp.zeros(2, 2)
        nn = np.arange(0, 30)
        kw = dict(dim=2, M=10, estimator=est)
        np.testing.assert_allclose(
            g.resample_mean_sq_error(nn, sigma2=1.5, real_fraction=0.0, **kw),
            g.replace_mean_sq_error(nn, sigma2=1.5, **kw),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            g.resample_variance(nn, real_fraction=0.0, **kw), g.replace_variance(nn, **kw), rtol=1e-12
        )
        np.testing.assert_allclose(g.resample_mean_sq_error(nn[1:], sigma2=1.5, real_fraction=1.0, **kw), 0.3)
        st = g.resample_stationary(sigma2=1.5, real_fraction=0.3, **kw)
        far = g.resample_mean_sq_error(3000, sigma2=1.5, real_fraction=0.3, **kw)
        assert math.isclose(float(far), st["mean_sq_error"], rel_tol=1e-9)
        lo = g.mix_stationary(sigma2=1.5, real_fraction=0.3, **kw)["mean_sq_error"]
        hi = g.augment_stationary(sigma2=1.5, real_fraction=0.3, **kw)["mean_sq_error"]
        assert lo < st["mean_sq_error"] < hi
        if est == "mle":
            alpha = sp.lambdify([n], rd["mle_mean_sq_error"].subs({k: 3, M: 10}))
            np.testing.assert_allclose(
                [2 * 1.5 * alpha(v) for v in range(1, 30)],
                g.resample_mean_sq_error(nn[1:], sigma2=1.5, real_fraction=0.3, **kw),
                rtol=1e-12,
            )


# ---------------------------------------------------------------------------
# Monte Carlo: the raw loop in NumPy (samples, Cholesky sampling, sample mean and scatter).
# ---------------------------------------------------------------------------
def simulate(estimator, *, dim, M, k, sigma2, n_gen, seed, seeds=20_000, fresh_subset=False):
    """mean_sq_error and variance per generation (rows 0..n_gen) for augment, or the fresh-subset option."""
    rng = np.random.default_rng(seed)
    sd = math.sqrt(sigma2)
    D = M - 1 if estimator == "unbiased" else M
    real = sd * rng.standard_normal((seeds, M, dim))  # generation 1's samples; the first k are kept
    mse, var = np.zeros((n_gen + 1, seeds)), np.ones((n_gen + 1, seeds))
    mu, L = None, None
    for gen in range(1, n_gen + 1):
        if gen == 1:
            x = real
        else:
            if fresh_subset:
                idx = np.argsort(rng.random((seeds, M)), axis=1)[:, :k]
                kept = np.take_along_axis(real, idx[:, :, None], axis=1)
            else:
                kept = real[:, :k]
            syn = mu[:, None, :] + np.einsum("sij,smj->smi", L, rng.standard_normal((seeds, M - k, dim)))
            x = np.concatenate([kept, syn], axis=1)
        mu = x.mean(axis=1)
        c = x - mu[:, None, :]
        cov = np.einsum("smi,smj->sij", c, c) / D
        L = np.linalg.cholesky(cov)
        mse[gen] = np.sum(mu**2, axis=1)
        var[gen] = np.trace(cov, axis1=1, axis2=2) / (dim * sigma2)
    return mse, var


def zscores(samples, predicted):
    mean = samples.mean(axis=1)
    se = samples.std(axis=1, ddof=1) / math.sqrt(samples.shape[1])
    return (mean[1:] - predicted[1:]) / se[1:]


N_GEN = 60
GENS = np.arange(N_GEN + 1)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
@pytest.mark.parametrize("dim", [1, 2])
def test_mc_augment(estimator, dim):
    """M = 20, k = 5, 60 generations, 20,000 seeds: every generation within 5 standard errors."""
    mse, var = simulate(estimator, dim=dim, M=20, k=5, sigma2=1.3, n_gen=N_GEN, seed=100 + dim + 10 * len(estimator))
    kw = dict(dim=dim, M=20, estimator=estimator, real_fraction=0.25)
    z_mse = zscores(mse, g.augment_mean_sq_error(GENS, sigma2=1.3, **kw))
    z_var = zscores(var, g.augment_variance(GENS, **kw))
    assert np.max(np.abs(z_mse)) < Z_TOL and np.max(np.abs(z_var)) < Z_TOL, (z_mse, z_var)
    # the fresh-data (mix) law is rejected by the same data: the kept sample's error does not average out
    z_mix = zscores(mse, g.mix_mean_sq_error(GENS, sigma2=1.3, **kw))
    assert np.max(np.abs(z_mix)) > 3 * Z_TOL
    if estimator == "unbiased" and dim == 1:
        assert abs(mse[60].mean() / 1.3 - 0.278) < 0.01 and abs(var[60].mean() - 0.904) < 0.01


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_mc_fresh_subset(estimator):
    """A fresh random 5 of the original 20 each generation (2-D, 40 generations, 20,000 seeds)."""
    mse, var = simulate(estimator, dim=2, M=20, k=5, sigma2=0.8, n_gen=40, seed=7 + len(estimator), fresh_subset=True)
    gens = np.arange(41)
    kw = dict(dim=2, M=20, estimator=estimator, real_fraction=0.25)
    z_mse = zscores(mse, g.resample_mean_sq_error(gens, sigma2=0.8, **kw))
    z_var = zscores(var, g.resample_variance(gens, **kw))
    assert np.max(np.abs(z_mse)) < Z_TOL and np.max(np.abs(z_var)) < Z_TOL, (z_mse, z_var)
    assert np.max(np.abs(zscores(mse, g.augment_mean_sq_error(gens, sigma2=0.8, **kw)))) > 3 * Z_TOL
