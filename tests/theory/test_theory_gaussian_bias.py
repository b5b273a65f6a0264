"""Sampling bias in theory: the tempered recursions' closed forms, their tau = 1 edge, stationary points, tails."""

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import gaussian as tg
from model_collapse.theory import tails
from model_collapse.theory.gaussian import bias, bias_tails
from model_collapse.theory.gaussian.symbolic import symbols

S = symbols()
n, q, d, s2 = S["n"], S["q"], S["d"], S["sigma2"]
TAU = bias.bias_derivation("unbiased")["tau"]


def test_replace_closed_forms_are_the_issues_formulas():
    unb, mle = bias.bias_derivation("unbiased")["replace"], bias.bias_derivation("mle")["replace"]
    assert sp.simplify(unb["variance"] - TAU ** (n - 1)) == 0  # E Sigma_n = tau^(n-1) Sigma
    M = q + 1
    for t in (sp.Rational(3, 5), sp.Rational(7, 4)):  # exact rationals at q = 19 (M = 20)
        at = {TAU: t, q: 19, d: 2, s2: sp.Rational(3, 2)}
        for nv in range(1, 6):  # tr Sigma [1/M + sum_{k=2..n} tau^(k-1)/M]
            want = (d * s2 * (1 + sum(TAU ** (k - 1) for k in range(2, nv + 1))) / M).subs(at)
            assert unb["mean_sq_error"].subs(n, nv).subs(at) == want
            assert mle["variance"].subs(n, nv).subs(at) == ((q / M) ** nv * TAU ** (nv - 1)).subs(at)
    # bounded for tau < 1: the random walk of the mean freezes while the covariance vanishes
    assert sp.cancel(unb["mean_sq_limit"] - d * s2 / (M * (1 - TAU))) == 0
    assert sp.cancel(mle["mean_sq_limit"] - d * s2 / (M - q * TAU)) == 0


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_tau_one_is_the_untempered_theory_and_the_raw_loop_was_checked(estimator):
    der = bias.bias_derivation(estimator)
    assert {regime for regime, *_ in der["direct"]} == {"replace", "mix", "augment"}
    assert any(t > 1 for *_, t in der["direct"]) and any(t < 1 for *_, t in der["direct"])
    gens = np.arange(0, 9)
    for regime, rf in (("replace", None), ("mix", 0.25), ("augment", 0.25)):
        for metric in ("mean_sq_error", "variance", "std", "log_det", "w2_sq"):
            dim = 1 if metric in ("std", "w2_sq") else 3
            got = tg.tempered_predict(
                metric, regime, estimator, gens, dim=dim, M=20, sigma2=2.0, temperature=1.0, real_fraction=rf
            )
            want = tg.predict(metric, regime, estimator, gens, dim=dim, M=20, sigma2=2.0, real_fraction=rf)
            if got is None:
                assert tg.tempered_law_kind(metric, regime, estimator, dim) is None
                continue
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14, err_msg=f"{regime} {metric}")
    for regime, fn in (("mix", tg.mix_stationary), ("augment", tg.augment_stationary)):
        a = tg.tempered_stationary(regime, estimator, dim=2, M=20, sigma2=1.5, temperature=1.0, real_fraction=0.25)
        b = fn(dim=2, M=20, sigma2=1.5, estimator=estimator, real_fraction=0.25)
        assert a == pytest.approx(b, rel=1e-12)


def test_stationary_points_solve_the_tempered_recursion_and_the_wrong_twin_differs():
    kw = dict(dim=1, M=20, sigma2=1.0, temperature=0.7, real_fraction=0.25)
    for regime in ("mix", "augment"):
        star = tg.tempered_stationary(regime, "unbiased", **kw)
        far = tg.tempered_moments(regime, "unbiased", [400], **kw)
        assert far["mean_sq_error"][0] == pytest.approx(star["mean_sq_error"], rel=1e-10)
        assert far["variance"][0] == pytest.approx(star["variance"], rel=1e-10)
        plain = tg.tempered_stationary(regime, "unbiased", **{**kw, "temperature": 1.0})
        assert star["variance"] < 0.8 * plain["variance"]  # mode-seeking shrinks the stationary covariance
    # generation 1 fits real data: tempering it too (first_tempered=1) changes generation 1 already
    a = tg.tempered_moments("replace", "unbiased", [1, 2], dim=1, M=20, sigma2=1.0, temperature=0.7)
    b = tg.tempered_moments("replace", "unbiased", [1, 2], dim=1, M=20, sigma2=1.0, temperature=0.7, first_tempered=1)
    assert a["variance"][0] == 1.0 and b["variance"][0] == pytest.approx(0.7)


def test_mean_effective_size_and_its_large_M_limit():
    der = bias.bias_derivation("unbiased")["mean_effective"]
    lam = der["lambda"]
    assert sp.simplify(der["large_M"] - (2 - lam) * (1 - TAU * (1 - lam)) / lam) == 0
    k, M = 100, 1000  # n_r = 100, n_s = 900 (Fig. 10's loop)
    ne = tg.mean_effective_size(M=M, estimator="unbiased", temperature=0.8, real_fraction=k / M)
    star = tg.tempered_stationary("mix", "unbiased", dim=1, M=M, sigma2=1.0, temperature=0.8, real_fraction=k / M)
    assert ne == pytest.approx(1 / star["mean_sq_error"])
    assert ne / k == pytest.approx(float(der["large_M"].subs({lam: 0.1, TAU: 0.8})), rel=0.05)


def test_bad_input_and_unstable_temperatures_are_refused():
    with pytest.raises(ValueError, match="temperature"):
        tg.tempered_predict("variance", "replace", "unbiased", [1], dim=1, M=10, temperature=0.0)
    with pytest.raises(ValueError, match="regime"):
        tg.tempered_moments("accumulate", "unbiased", [1], dim=1, M=10, sigma2=1.0, temperature=0.5)
    with pytest.raises(ValueError, match="does not contract"):  # k = 1 of 20 real: tau = 1.2 grows the variance
        tg.tempered_stationary("mix", "unbiased", dim=1, M=20, sigma2=1.0, temperature=1.2, real_fraction=0.05)
    assert tg.tempered_predict("w2_sq", "mix", "unbiased", [1], dim=1, M=10, temperature=0.5, real_fraction=0.5) is None


def test_tempered_skewness_at_tau_one_is_the_untempered_one():
    gens = np.arange(1, 9)
    for est in ("unbiased", "mle"):
        np.testing.assert_allclose(
            bias_tails.tempered_mean_sq_error_skewness(gens, dim=3, M=20, estimator=est, temperature=1.0),
            tails.gaussian_mean_sq_error_skewness(gens, dim=3, M=20, estimator=est),
        )
        np.testing.assert_allclose(
            bias_tails.tempered_w2_skewness(gens, M=20, estimator=est, temperature=1.0),
            tails.gaussian_w2_skewness(gens, M=20, estimator=est),
        )
    cold = bias_tails.tempered_mean_sq_error_skewness(gens, dim=1, M=20, estimator="unbiased", temperature=0.8)
    assert cold[0] == pytest.approx(np.sqrt(8)) and np.all(
        cold[1:] < tails.gaussian_mean_sq_error_skewness(gens, dim=1, M=20)[1:]
    )
