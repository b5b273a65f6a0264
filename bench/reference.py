"""The plain NumPy reference: what the papers' public code does, one seed at a time.

A Python loop over seeds and generations, each generation drawn with ``rng.normal``
and fit as the papers fit it:

* linear regression (Gerstgrasser et al. 2024; Dohmatob et al. 2024): one fixed design
  ``X`` (``T x d``) per seed; generation ``n`` labels ``y = X w_{n-1} + sigma eps`` and is
  fit by ``np.linalg.lstsq``; under ``accumulate`` the fit is on the stacked data of every
  generation so far (the growing ``nT x d`` matrix, rebuilt by ``np.vstack`` as the papers do);
  under ``accumulate-subsample`` on ``T`` of its rows drawn by ``rng.choice(..., replace=False)``
  (Kazdan et al. 2024's code);
* Gaussian (Shumailov et al., Nature 2024; Kazdan et al. 2024): ``M`` samples drawn with
  ``rng.normal`` from the previous fit, refit by ``np.mean`` and ``np.cov``; under
  ``accumulate`` on the concatenation of every sample so far;
* categorical (Shumailov et al. 2024's discrete chain; Seddik et al. 2024): ``M`` samples of
  the previous fit counted by ``rng.multinomial`` (replace only; no decoder), refit ``c/M``.

Each function returns the same per-generation metrics as the package's simulator
(``test_error``; or ``mean_sq_error``, ``variance``, ``std``, ``log_det``, ``w2_sq``),
so the reference does the same work, not less.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["linreg_seed", "gaussian_seed", "categorical_seed", "run_reference"]


def linreg_seed(rng: np.random.Generator, d: int, T: int, sigma2: float, generations: int, regime: str):
    """One seed of linear regression refit on its own labels; ``||w_n - w*||^2`` per generation."""
    sigma = math.sqrt(sigma2)
    w_star = rng.normal(size=d) / math.sqrt(d)
    X = rng.normal(size=(T, d))
    w = w_star
    xs, ys = [], []
    errors = np.empty(generations)
    for n in range(generations):
        y = X @ w + sigma * rng.normal(size=T)
        if regime == "replace":
            w = np.linalg.lstsq(X, y, rcond=None)[0]
        elif regime == "accumulate":
            xs.append(X)
            ys.append(y)
            w = np.linalg.lstsq(np.vstack(xs), np.concatenate(ys), rcond=None)[0]
        elif regime == "accumulate-subsample":
            xs.append(X)
            ys.append(y)
            rows, labels = np.vstack(xs), np.concatenate(ys)
            take = rng.choice(len(labels), size=T, replace=False)
            w = np.linalg.lstsq(rows[take], labels[take], rcond=None)[0]
        else:
            raise ValueError(f"reference regime {regime!r} not implemented")
        errors[n] = np.sum((w - w_star) ** 2)
    return {"test_error": errors}


def _gaussian_metrics(mu, cov, sigma2, dim):
    """The package's five Gaussian metrics from a fit ``N(mu, cov)`` against ``N(0, sigma2 I)``."""
    mse = float(mu @ mu)
    tr = float(np.trace(cov))
    variance = tr / (dim * sigma2)
    log_det = np.linalg.slogdet(cov)[1] - dim * math.log(sigma2)
    root_trace = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(cov), 0.0, None))))
    w2 = mse + tr + dim * sigma2 - 2.0 * math.sqrt(sigma2) * root_trace
    return mse, variance, math.sqrt(variance), log_det, max(w2, 0.0)


def gaussian_seed(
    rng: np.random.Generator, dim: int, M: int, sigma2: float, generations: int, regime: str, estimator: str
):
    """One seed of a Gaussian refit on its own samples; the five metrics per generation."""
    bias = estimator == "mle"
    out = np.empty((5, generations))
    if dim == 1:
        # The 1-D code of the papers: scalars, rng.normal(mu, sigma, M), np.mean, np.cov.
        mu, sigma = 0.0, math.sqrt(sigma2)
        pool = []
        for n in range(generations):
            x = rng.normal(mu, sigma, M)
            if regime == "accumulate":
                pool.append(x)
                x = np.concatenate(pool)
            elif regime != "replace":
                raise ValueError(f"reference regime {regime!r} not implemented")
            mu = float(np.mean(x))
            var = float(np.cov(x, bias=bias))
            sigma = math.sqrt(var)
            mse = mu * mu
            variance = var / sigma2
            log_det = math.log(var) - math.log(sigma2) if var > 0 else -math.inf
            w2 = mse + (sigma - math.sqrt(sigma2)) ** 2
            out[:, n] = (mse, variance, math.sqrt(variance), log_det, w2)
    else:
        mu = np.zeros(dim)
        L = math.sqrt(sigma2) * np.eye(dim)
        pool = []
        for n in range(generations):
            x = mu + rng.normal(size=(M, dim)) @ L.T
            if regime == "accumulate":
                pool.append(x)
                x = np.concatenate(pool)
            elif regime != "replace":
                raise ValueError(f"reference regime {regime!r} not implemented")
            mu = np.mean(x, axis=0)
            cov = np.cov(x, rowvar=False, bias=bias)
            L = np.linalg.cholesky(cov)
            out[:, n] = _gaussian_metrics(mu, cov, sigma2, dim)
    names = ("mean_sq_error", "variance", "std", "log_det", "w2_sq")
    return dict(zip(names, out, strict=True))


def categorical_seed(rng: np.random.Generator, p0: np.ndarray, tail: np.ndarray, M: int, generations: int):
    """One seed of the categorical refit under replace, without a decoder; the package's 12 metrics."""
    out = np.empty((12, generations))  # the package's 12 metrics, in its order (METRICS)
    p = p0
    for n in range(generations):
        p = rng.multinomial(M, p) / M
        positive = p > 0
        miss = np.log1p(-np.minimum(p, 1.0))
        out[:, n] = (
            1.0 - p @ p,
            -np.sum(p[positive] * np.log(p[positive])),
            np.count_nonzero(positive),
            p[tail].sum(),
            0.5 * np.abs(p - p0).sum(),
            p.max(),
            float(p.max() == 1.0),
            p[0],
            float(p[0] == 1.0),
            *(p0 @ np.exp(T * miss) for T in (100, 1000, 10_000)),
        )
    from model_collapse.experiments.models.categorical import METRICS

    return dict(zip(METRICS, out, strict=True))


def run_reference(cfg, seeds: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``seeds`` seeds of the reference for a package config; metric -> ``(seeds, generations)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(seeds):
        if cfg.model == "linreg":
            if cfg.design != "fixed":
                raise ValueError("the reference implements the fixed design only")
            rows.append(linreg_seed(rng, cfg.d, cfg.T, cfg.sigma2, cfg.generations, cfg.regime))
        elif cfg.model == "gaussian":
            rows.append(gaussian_seed(rng, cfg.dim, cfg.M, cfg.sigma2, cfg.generations, cfg.regime, cfg.estimator))
        elif cfg.model == "categorical":
            from model_collapse.experiments.models.categorical_theory import decoded
            from model_collapse.theory.categorical import initial_distribution, tail_set

            if cfg.regime != "replace" or decoded(cfg):
                raise ValueError("the categorical reference implements replace without a decoder only")
            p0 = initial_distribution(cfg.K, cfg.init, cfg.zipf_a)
            rows.append(categorical_seed(rng, p0, tail_set(p0), cfg.M, cfg.generations))
        else:
            raise ValueError(f"no reference for model {cfg.model!r}")
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}
