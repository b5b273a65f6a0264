"""The public surface of theory.gaussian: names, the real-data share, every reported metric."""

from __future__ import annotations

import numpy as np
import pytest
from model_collapse.theory import gaussian as g

NN = np.arange(0, 6)


# ---------------------------------------------------------------------------
# real_fraction: a fraction of M in [0, 1] whose product with M is whole.
# ---------------------------------------------------------------------------
def test_real_fraction_is_the_count_over_M():
    for M, k in ((10, 3), (6, 2), (7, 7), (12, 1)):
        np.testing.assert_array_equal(
            g.predict("variance", "mix", "unbiased", NN, dim=2, M=M, real_fraction=k / M),
            g.mix_variance(NN, dim=2, M=M, estimator="unbiased", real_fraction=k / M),
        )
    # 0 is replace, 1 is fresh i.i.d. fitting
    np.testing.assert_allclose(
        g.mix_mean_sq_error(NN, dim=2, M=10, sigma2=1.0, estimator="mle", real_fraction=0),
        g.replace_mean_sq_error(NN, dim=2, M=10, sigma2=1.0, estimator="mle"),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        g.mix_mean_sq_error(NN[1:], dim=2, M=10, sigma2=1.0, estimator="mle", real_fraction=1), 2 / 10, rtol=1e-12
    )
    # a product within 1e-9 of a whole number is accepted (0.1 * 30 = 3.0000000000000004)
    g.mix_variance(NN, dim=1, M=30, estimator="mle", real_fraction=0.1)


@pytest.mark.parametrize(
    "fraction", [0.25, 1 / 3 + 1e-6, -0.1, 1.1, 1.0 + 1e-12, float("nan"), float("inf"), None, True, "0.5"]
)
def test_real_fraction_rejected(fraction):
    M = 10  # 0.25 * 10 = 2.5 and (1/3 + 1e-6) * 10 are not whole
    calls = [
        lambda: g.predict("variance", "mix", "mle", NN, dim=1, M=M, real_fraction=fraction),
        lambda: g.predict("w2_sq", "mix", "mle", NN, dim=3, M=M, real_fraction=fraction),  # checked even for None
        lambda: g.mix_mean_sq_error(NN, dim=1, M=M, sigma2=1.0, estimator="mle", real_fraction=fraction),
        lambda: g.mix_variance(NN, dim=1, M=M, estimator="mle", real_fraction=fraction),
        lambda: g.mix_stationary(dim=1, M=M, sigma2=1.0, estimator="mle", real_fraction=fraction),
        lambda: g.jensen_std_bound(NN, regime="mix", M=M, estimator="mle", real_fraction=fraction),
        lambda: g.jensen_log_det_bound(NN, regime="mix", dim=2, M=M, estimator="mle", real_fraction=fraction),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="real_fraction") as info:
            call()
        assert "\n" not in str(info.value)


def test_real_fraction_only_for_mix():
    for regime in ("replace", "accumulate", "accumulate-subsample"):
        with pytest.raises(ValueError, match="real_fraction applies only to regime 'mix' or 'augment'"):
            g.predict("variance", regime, "mle", NN, dim=1, M=10, real_fraction=0.5)
    with pytest.raises(ValueError, match="real_fraction"):
        g.jensen_std_bound(NN, regime="accumulate", M=10, estimator="mle", real_fraction=0.5)
    with pytest.raises(ValueError, match="needs real_fraction"):
        g.predict("variance", "mix", "mle", NN, dim=1, M=10)
    with pytest.raises(ValueError, match="no stationary limit"):
        g.mix_stationary(dim=1, M=10, sigma2=1.0, estimator="mle", real_fraction=0.0)


def test_no_public_function_takes_k_real():
    import inspect

    for name in g.__all__:
        obj = getattr(g, name)
        if callable(obj) and not isinstance(obj, type):
            assert "k_real" not in inspect.signature(obj).parameters, name


# ---------------------------------------------------------------------------
# Every metric the simulator reports is accepted by predict, in every dimension.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("regime", g.REGIMES)
@pytest.mark.parametrize("estimator", g.ESTIMATORS)
@pytest.mark.parametrize("dim", [1, 3])
def test_predict_accepts_every_reported_metric(regime, estimator, dim):
    assert g.METRICS == ("mean_sq_error", "variance", "std", "log_det", "w2_sq")
    extra = {"real_fraction": 0.3} if regime in ("mix", "augment") else {}
    for metric in g.METRICS:
        out = g.predict(metric, regime, estimator, NN, dim=dim, M=10, sigma2=1.7, **extra)
        kind = g.law_kind(metric, regime, estimator, dim)
        assert (out is None) == (kind is None), (metric, kind)
        if out is not None:
            assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == NN.shape
            assert np.all(np.isfinite(out)), (metric, out)
        if regime != "accumulate-subsample" and metric in ("mean_sq_error", "variance", "std", "log_det"):
            assert out is not None, metric  # these have a law (exact or a bound) in every dimension
    if regime == "accumulate-subsample":
        assert all(g.law_kind(m, regime, estimator, dim) is None for m in g.METRICS)
    else:
        std_kind = "exact expectation" if (regime, dim) == ("replace", 1) else "upper bound"
        assert g.law_kind("std", regime, estimator, dim) == std_kind
        assert (g.law_kind("w2_sq", regime, estimator, dim) is None) == (regime != "replace" or dim > 1)


def test_std_in_several_dimensions_is_the_root_of_the_variance_law():
    for regime, extra in (
        ("replace", {}),
        ("accumulate", {}),
        ("mix", {"real_fraction": 0.5}),
        ("augment", {"real_fraction": 0.5}),
    ):
        for est in g.ESTIMATORS:
            var = g.predict("variance", regime, est, NN, dim=2, M=10, **extra)
            np.testing.assert_array_equal(g.predict("std", regime, est, NN, dim=2, M=10, **extra), np.sqrt(var))
            np.testing.assert_array_equal(
                g.jensen_std_bound(NN, regime=regime, M=10, estimator=est, dim=2, **extra), np.sqrt(var)
            )


def test_unknown_metric_names_the_allowed_ones():
    for call in (
        lambda: g.predict("sigma", "replace", "mle", NN, dim=1, M=10),
        lambda: g.law_kind("sigma", "replace", "mle", 1),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert all(m in str(info.value) for m in g.METRICS)
    with pytest.raises(ValueError, match="regime"):
        g.law_kind("std", "replace-ish", "mle", 1)
    with pytest.raises(ValueError, match="dim"):
        g.law_kind("std", "replace", "mle", 0)


@pytest.mark.parametrize("estimator", g.ESTIMATORS)
def test_std_bound_above_monte_carlo_dim2(estimator):
    """The exact replace recursion, 2-D, M = 10: mean of sqrt(tr Sigma_n / tr Sigma) over 20,000 chains."""
    rng = np.random.default_rng(11 if estimator == "unbiased" else 12)
    R, dim, M, sigma2, gens = 20_000, 2, 10, 1.3, 4
    D = M - 1 if estimator == "unbiased" else M
    mu = np.zeros((R, dim))
    L = np.broadcast_to(np.sqrt(sigma2) * np.eye(dim), (R, dim, dim))
    means, sems = [1.0], [0.0]
    for _ in range(gens):  # fit generation n on M samples of generation n - 1's fit
        x = mu[:, None, :] + np.einsum("rij,rmj->rmi", L, rng.standard_normal((R, M, dim)))
        mu = x.mean(axis=1)
        c = x - mu[:, None, :]
        cov = np.einsum("rmi,rmj->rij", c, c) / D
        std = np.sqrt(np.trace(cov, axis1=1, axis2=2) / (dim * sigma2))
        means.append(std.mean())
        sems.append(std.std(ddof=1) / np.sqrt(R))
        L = np.linalg.cholesky(cov)
    means, sems = np.array(means), np.array(sems)
    n = np.arange(gens + 1)
    bound = g.predict("std", "replace", estimator, n, dim=dim, M=M, sigma2=sigma2)
    assert g.law_kind("std", "replace", estimator, dim) == "upper bound"
    assert bound[0] == 1.0 and means[0] == 1.0
    assert np.all(means <= bound + 3 * sems), (means, bound, sems)
    # not vacuous: 0.013-0.062 above here (the gap grows with n: E std decays, sqrt(E variance) less or not at all)
    assert np.all(bound[1:] - means[1:] > 0) and np.all(bound - means < 0.1), (means, bound)
