"""Figures for Gaussian refitting (Shumailov et al. 2024; Kazdan et al. 2024; Bertrand et al. 2023).

* :func:`nature`: the Nature theorem, 1-D, unbiased, replace: :math:`E\\sigma_n^2 = \\sigma^2`
  for every n, yet :math:`\\sigma_n \\to 0` almost surely (quantile fan, trajectories, the laws).
* :func:`regimes`: replace, accumulate and mix for both estimators, mean error and variance.
* :func:`logdet`: the multivariate panel, :math:`\\log\\det\\Sigma_n` and :math:`\\operatorname{tr}\\Sigma_n`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..experiments import GaussianConfig, config_hash, get_model, simulate_seeds
from ..experiments.engine.cache import cached_run as run
from ..theory import gaussian as theory_gaussian

from . import style

__all__ = ["nature", "regimes", "logdet"]

THEORY = dict(linestyle="--", linewidth=1.0, color="black", alpha=0.8)
BOUND = dict(linestyle=":", linewidth=1.2, color="black", alpha=0.8)
LABELS = {
    "mean_sq_error": r"$(\mu_n-\mu)^2$",
    "variance": r"$\sigma_n^2/\sigma^2$",
    "log_det": r"$\log\det\Sigma_n - \log\det\Sigma$",
}
TRACE = r"$\mathrm{tr}\,\Sigma_n/\mathrm{tr}\,\Sigma$"


def _law(ax, cfg, x, metric, curves):
    """Draw the predicted curve of ``metric``: dashed if exact, dotted if a bound; nothing if none."""
    curve = curves[metric]
    if curve is None:
        return None
    kind = theory_gaussian.law_kind(metric, cfg.regime, cfg.estimator, cfg.dim)
    ax.plot(x, curve, **(BOUND if kind == "upper bound" else THEORY))
    return kind


def _positive_band(ax, x, summary, color, label=None, **kwargs):
    """:func:`style.band` for a log axis: the band drawn only where its lower edge is positive."""
    mean, sem = np.asarray(summary.mean), np.asarray(summary.sem)
    lower, upper = mean - style.Z95 * sem, mean + style.Z95 * sem
    ok = lower > 0
    ax.fill_between(x, np.where(ok, lower, np.nan), np.where(ok, upper, np.nan), color=color, alpha=0.25, linewidth=0)
    ax.plot(x, mean, color=color, label=label, **kwargs)


def nature(outdir, seeds=None, progress=None):
    """Shumailov et al. (2024)'s theorem: a martingale variance whose standard deviation collapses.

    1-D, unbiased variance, replace, M in {10, 100}, 1000 generations. The quantile fan of
    ``sigma_n / sigma`` over seeds, its median, five single trajectories, the exact mean
    ``c4(M)^n`` and the median proxy ``exp(n r / 2)``, ``r = psi((M-1)/2) + log(2/(M-1))`` the
    almost-sure drift of ``log sigma_n^2`` per generation.
    """
    seeds = seeds or 2000
    G, Ms = 1000, (10, 100)
    fig, axes = plt.subplots(1, len(Ms), figsize=(7.0, 2.9))
    hashes = []
    for ax, M in zip(axes, Ms):
        cfg = GaussianConfig(dim=1, M=M, generations=G, regime="replace", estimator="unbiased", sampler="exact")
        res = run(cfg, seeds, 0, progress=progress)
        hashes.append(config_hash(cfg))
        x = res.generation
        s = res.metrics["std"]
        q = s.quantiles
        color = style.PALETTE[0]
        ax.fill_between(x, q["0.05"], q["0.95"], color=color, alpha=0.15, linewidth=0, label="5-95% of seeds")
        ax.fill_between(x, q["0.25"], q["0.75"], color=color, alpha=0.3, linewidth=0, label="25-75% of seeds")
        paths = simulate_seeds(cfg, np.arange(5), 0)["std"]
        for k, path in enumerate(paths):
            label = "5 single seeds" if k == 0 else None
            ax.plot(x, path, color=style.PALETTE[1], linewidth=0.5, alpha=0.8, label=label)
        ax.plot(x, q["0.5"], color=color, linewidth=1.4, label="empirical median")
        _positive_band(ax, x, s, style.PALETTE[2], label="empirical mean (95% band)", linewidth=0.9)
        curves = get_model("gaussian").theory(cfg, x)
        ax.plot(x, curves["std"], label=r"law: $E\,\sigma_n/\sigma = c_4(M)^n$", **THEORY)
        rate = theory_gaussian.predict("log_det", "replace", "unbiased", x, dim=1, M=M, statistic="rate")
        ax.plot(
            x, np.exp(x * rate / 2), color=style.PALETTE[3], linestyle="-.", linewidth=1.0,
            label=r"law: median $\approx e^{nr/2}$, $r$ = a.s. drift of $\log\sigma_n^2$",
        )
        ax.axhline(1.0, color="black", linestyle=":", linewidth=0.8, label=r"$E\,\sigma_n^2/\sigma^2 = 1$ (martingale)")
        ax.set_yscale("log")
        ax.set_xlim(0, G)
        ax.set_ylim(min(np.min(q["0.05"]), np.min(paths)) / 3, max(3.0, 2 * np.max(paths)))
        c4 = theory_gaussian.replace_std(1, M=M, estimator="unbiased")
        ax.set_title(f"M={M}: $c_4(M)$={float(c4):.4f}, r={rate[0]:.4f}")
        ax.set_xlabel("generation n (fits)")
    axes[0].set_ylabel(r"$\sigma_n/\sigma$")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.17), frameon=False)
    fig.suptitle(
        "Shumailov et al. (2024), 1-D Gaussian refit on its own M samples (unbiased variance, replace): "
        r"$E\,\sigma_n^2=\sigma^2$ for every n, yet $\sigma_n\to 0$ almost surely"
        f"\n({seeds} seeds per panel; the sample mean of $\\sigma_n$ falls below $c_4^n$ once its rare large values "
        "are no longer sampled)",
        fontsize=7,
        y=1.04,
    )
    return style.save(fig, outdir, "gaussian_nature", {"configs": ",".join(hashes), "seeds": seeds})


def regimes(outdir, seeds=None, progress=None):
    """Replace, accumulate and mix, 1-D, M = 20, both estimators: mean error and variance."""
    seeds = seeds or 4000
    M, G = 20, 100
    variants = [
        ("replace", 0.5, "replace"),
        ("accumulate", 0.5, "accumulate"),
        ("mix", 0.5, r"mix, $\lambda$=0.5 real"),
        ("mix", 0.25, r"mix, $\lambda$=0.25 real"),
    ]
    metrics = ("mean_sq_error", "variance")
    fig, axes = plt.subplots(2, 2, figsize=style.WIDE, sharex=True, sharey="row")
    # The bounded regimes' variances differ by a few percent: a linear-y inset shows them against their laws,
    # placed where replace's curve does not pass (flat near 1 for unbiased, falling diagonally for MLE).
    insets = [
        axes[1, 0].inset_axes([0.40, 0.08, 0.57, 0.5]),
        axes[1, 1].inset_axes([0.11, 0.07, 0.41, 0.4]),
    ]
    hashes = []
    for col, estimator in enumerate(("unbiased", "mle")):
        for k, (regime, fraction, label) in enumerate(variants):
            cfg = GaussianConfig(
                dim=1, M=M, generations=G, regime=regime, estimator=estimator, sampler="exact",
                real_fraction=fraction,
            )
            res = run(cfg, seeds, 0, progress=progress)
            hashes.append(config_hash(cfg))
            x = res.generation
            curves = get_model("gaussian").theory(cfg, x)
            for row, metric in enumerate(metrics):
                ax = axes[row, col]
                style.band(ax, x, res.metrics[metric], style.PALETTE[k], label=label)
                _law(ax, cfg, x, metric, curves)
            if regime != "replace":
                style.band(insets[col], x, res.metrics["variance"], style.PALETTE[k], linewidth=0.9)
                _law(insets[col], cfg, x, "variance", curves)
        insets[col].set_title("accumulate, mix (linear y)", fontsize=5.5, pad=2)
        insets[col].tick_params(labelsize=5, length=2, pad=1)
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            ax.set_yscale("log")
            ax.set_title(f"{estimator} estimator (divide by {'M-1' if estimator == 'unbiased' else 'M'})")
            if row == 1:
                ax.set_xlabel("generation n (fits)")
            if col == 0:
                ax.set_ylabel(LABELS[metric])
    axes[0, 0].plot([], [], label="law, exact expectation (dashed)", **THEORY)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, bbox_to_anchor=(0.5, -0.04), frameon=False)
    fig.suptitle(
        f"1-D Gaussian, M={M}: under replace $E(\\mu_n-\\mu)^2$ grows as $n\\sigma^2/M$ (unbiased) or saturates at "
        f"$\\sigma^2$ (MLE),\nand $E\\sigma_n^2$ is flat (unbiased, a martingale) or decays as $(1-1/M)^n$ (MLE); "
        f"accumulate and mix stay bounded\n({seeds} seeds per curve, mean and 95% band; replace's $\\sigma_n^2$ is "
        f"heavy-tailed, Var $\\sigma_n^2/(E\\sigma_n^2)^2 = (1+2/(M-1))^n-1$, so its sample mean lags the law late)",
        fontsize=7,
        y=1.06,
    )
    return style.save(fig, outdir, "gaussian_regimes", {"configs": len(hashes), "seeds": seeds})


def logdet(outdir, seeds=None, progress=None):
    """Kazdan et al.'s multivariate metrics, dim = 10, M = 100: log det and trace of Sigma_n."""
    seeds = seeds or 2000
    dim, M, G = 10, 100, 100
    estimators = (("unbiased", style.PALETTE[0]), ("mle", style.PALETTE[3]))
    metrics = ("log_det", "variance")
    fig, axes = plt.subplots(2, 2, figsize=style.WIDE, sharex=True)
    fig.subplots_adjust(wspace=0.3)
    hashes = []
    for col, regime in enumerate(("replace", "accumulate")):
        for estimator, color in estimators:
            cfg = GaussianConfig(dim=dim, M=M, generations=G, regime=regime, estimator=estimator, sampler="exact")
            res = run(cfg, seeds, 0, progress=progress)
            hashes.append(config_hash(cfg))
            x = res.generation
            curves = get_model("gaussian").theory(cfg, x)
            for row, metric in enumerate(metrics):
                ax = axes[row, col]
                s = res.metrics[metric]
                style.band(ax, x, s, color, label=f"{estimator}: mean (95% band)")
                median = s.quantiles["0.5"]
                ax.plot(x, median, color=color, linestyle="-.", linewidth=0.9, label=f"{estimator}: median")
                if _law(ax, cfg, x, metric, curves) == "upper bound":
                    ax.text(x[G // 2], curves[metric][G // 2], f"bound, {estimator}", fontsize=5.5, va="bottom")
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            ax.set_title(f"{regime}")
            if row == 1:
                ax.set_xlabel("generation n (fits)")
            if col == 0:
                ax.set_ylabel(TRACE if metric == "variance" else LABELS[metric])
    axes[0, 0].plot([], [], label="law, exact expectation (dashed)", **THEORY)
    bound = r"upper bound $d\log E[\mathrm{tr}\Sigma_n/\mathrm{tr}\Sigma]$ (AM-GM + Jensen; dotted)"
    axes[0, 0].plot([], [], label=bound, **BOUND)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.08), frameon=False)
    fig.suptitle(
        f"Gaussian in d={dim}, M={M} (Kazdan et al. 2024's metrics): under replace $E\\log\\det\\Sigma_n$ drifts "
        f"linearly, by a sum of {dim} digammas per generation,\nwhile $E\\,\\mathrm{{tr}}\\Sigma_n$ stays put "
        f"(unbiased) or decays geometrically (MLE) and its median falls; accumulate stays bounded "
        f"({seeds} seeds per curve)",
        fontsize=7,
        y=1.04,
    )
    return style.save(fig, outdir, "gaussian_logdet", {"configs": len(hashes), "seeds": seeds})
