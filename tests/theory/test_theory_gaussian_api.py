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
            g.mix_variance(NN, dim=2, M=M, estimator="unbiased", real_fraction=k / M))
    # 0 is replace, 1 is fresh i.i.d. fitting
    np.testing.assert_allclose(g.mix_mean_sq_error(NN, dim=2, M=10, sigma2=1.0, estimator="mle", real_fraction=0),
                               g.replace_mean_sq_error(NN, dim=2, M=10, sigma2=1.0, estimator="mle"), rtol=1e-12)
    np.testing.assert_allclose(g.mix_mean_sq_error(NN[1:], dim=2, M=10, sigma2=1.0, estimator="mle", real_fraction=1),
                               2 / 10, rtol=1e-12)
    # a product within 1e-9 of a whole number is accepted (0.1 * 30 = 3.0000000000000004)
    g.mix_variance(NN, dim=1, M=30, estimator="mle", real_fraction=0.1)


@pytest.mark.parametrize("fraction", [0.25, 1 / 3 + 1e-6, -0.1, 1.1, 1.0 + 1e-12, float("nan"), float("inf"), None,
                                      True, "0.5"])
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
        with pytest.raises(ValueError, match="real_fraction applies only to regime 'mix'"):
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
