"""Each Gaussian law's title states its formula; the formula, evaluated here by hand, is the theory's curve.

The titles are documentation, but a wrong one would mislead: this evaluates each
stated formula with NumPy and SciPy (``c4``, digamma sums, the accumulate products,
the mix and augment recursions) and compares it with the law's own prediction.
"""

import numpy as np
import pytest
from model_collapse.experiments import GaussianConfig
from model_collapse.experiments.laws import LAWS
from model_collapse.experiments.laws.gaussian import formula
from scipy.special import digamma, gammaln

M, SIGMA2, N = 20, 2.0, np.arange(1, 61)


def _c4(M):
    return np.sqrt(2 / (M - 1)) * np.exp(gammaln(M / 2) - gammaln((M - 1) / 2))


def _by_hand(metric, regime, estimator, dim, real_fraction):
    unb = estimator == "unbiased"
    D = M - 1 if unb else M
    f = _c4(M) * (1.0 if unb else np.sqrt(1 - 1 / M))
    if regime == "replace":
        return {
            "mean_sq_error": N * dim * SIGMA2 / M if unb else dim * SIGMA2 * (1 - (1 - 1 / M) ** N),
            "variance": np.ones(N.shape) if unb else (1 - 1 / M) ** N,
            "std": f**N,
            "log_det": N * (digamma((M - np.arange(1, dim + 1)) / 2).sum() + dim * np.log(2 / D)),
            "w2_sq": SIGMA2 * (N / M + 2 * (1 - f**N)) if unb else 2 * SIGMA2 * (1 - f**N),
        }[metric]
    if regime == "accumulate":
        ratios = (
            [1.0] + [1 - 1 / (i * (i * M - 1)) for i in range(2, 61)]
            if unb
            else [1 - 1 / (M * i * i) for i in range(1, 61)]
        )
        beta = np.cumprod(ratios)
        previous = np.concatenate([[1.0], beta[:-1]])
        mse = dim * SIGMA2 / M * np.cumsum(previous / N**2) if unb else dim * SIGMA2 * (1 - beta)
        return {"mean_sq_error": mse, "variance": beta, "std": np.sqrt(beta), "log_det": dim * np.log(beta)}[metric]
    k = round(real_fraction * M)
    m = M - k
    if regime == "augment":  # the three-state recursion stated in the title
        A3 = np.array(
            [
                [m * m / M**2, m / M**2, 2 * m / M**2],
                [k * m / (M * D), m * (M - 1) / (M * D), -2 * m / (M * D)],
                [0.0, 0.0, m / M],
            ]
        )
        c3 = np.array([k / M**2, k * (M - 1) / (M * D), k / M])
        v, rows = np.array([0.0, 1.0, 0.0]), []
        for _ in N:
            v = A3 @ v + c3
            rows.append(v.copy())
        alpha, beta = np.array(rows)[:, 0], np.array(rows)[:, 1]
        return {
            "mean_sq_error": dim * SIGMA2 * alpha,
            "variance": beta,
            "std": np.sqrt(beta),
            "log_det": dim * np.log(beta),
        }[metric]
    A = np.array([[m * m / M**2, m / M**2], [k * m / (M * D), (m - 1 + k / M) / D]])
    c = np.array([k / M**2, (k - 1 + m / M) / D])
    v, alpha, beta = np.array([0.0, 1.0]), [], []
    for _ in N:
        v = A @ v + c
        alpha.append(v[0])
        beta.append(v[1])
    alpha, beta = np.array(alpha), np.array(beta)
    return {
        "mean_sq_error": dim * SIGMA2 * alpha,
        "variance": beta,
        "std": np.sqrt(beta),
        "log_det": dim * np.log(beta),
    }[metric]


# the tempered laws (ids with a /tau0.8/ segment) have formulas of their own: tests/laws/test_gaussian_bias_laws.py
GAUSSIAN = [
    law
    for law in LAWS.values()
    if law.model == "gaussian"
    and law.config.temperature == 1.0
    and law.config.curate == 1
    and law.config.real_weight is None
]


@pytest.mark.parametrize("law", GAUSSIAN, ids=lambda law: law.id)
def test_the_title_formula_is_the_law(law):
    cfg = law.config
    assert cfg.M == M and cfg.sigma2 == SIGMA2
    assert law.title.startswith(formula(law.metric, cfg.regime, cfg.estimator, cfg.dim))
    assert f"({cfg.regime}, {cfg.estimator} covariance)" in law.title
    want = _by_hand(law.metric, cfg.regime, cfg.estimator, cfg.dim, cfg.real_fraction)
    np.testing.assert_allclose(law.predict(cfg, N), want, rtol=1e-10, atol=1e-12)


def test_gaussian_laws_predict_for_the_config_they_are_checked_at():
    law = LAWS["gaussian/mix/unbiased/mean_sq_error/dim1"]
    mine = GaussianConfig(dim=2, M=40, sigma2=0.5, generations=10, regime="mix", real_fraction=0.5)
    from model_collapse.theory import gaussian as tg

    np.testing.assert_allclose(
        law.at(mine).predict(mine, np.arange(1, 11)),
        tg.predict("mean_sq_error", "mix", "unbiased", np.arange(1, 11), dim=2, M=40, sigma2=0.5, real_fraction=0.5),
    )
    assert law.at(mine).generations == (1, 2, 5, 10)
