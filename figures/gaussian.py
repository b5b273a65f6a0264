"""Figures for Gaussian refitting (Shumailov et al. 2024; Kazdan et al. 2024; Alemohammad et al. 2024).

* :func:`nature`: the Nature theorem, 1-D, unbiased, replace: :math:`E\\sigma_n^2 = \\sigma^2`
  for every n, yet :math:`\\sigma_n \\to 0` almost surely (quantile fan, trajectories, the laws).
* :func:`regimes`: replace, accumulate and mix for both estimators, mean error and variance.
  ``mix`` is the fresh-data loop of Alemohammad et al. (2024, "Self-Consuming Generative
  Models Go MAD"): each generation fits on ``k = f M`` fresh real samples and ``M - k``
  synthetic ones. The figures write ``f`` for the real fraction (not Bertrand et al.
  2023's ``lambda``, a synthetic-to-real ratio).
* :func:`logdet`: the multivariate panel, :math:`\\log\\det\\Sigma_n` and :math:`\\operatorname{tr}\\Sigma_n`.

Every function takes ``(outdir, seeds=None, progress=None, **params)``: ``seeds`` per curve
(``None``: the figure's default), ``progress`` passed to the runner, and keyword-only
settings whose defaults draw the figure in ``figures/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments import GaussianConfig, config_hash, get_model, simulate_seeds
from ..experiments.engine.cache import cached_run as run
from ..theory import gaussian as theory_gaussian
from . import style

__all__ = ["FIGURES", "nature", "regimes", "logdet"]

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


@style.styled
def nature(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    M_values: Sequence[int] = (10, 100),
    generations: int = 1000,
    trajectories: int = 5,
) -> list[Path]:
    """Shumailov et al. (2024)'s theorem: a martingale variance whose standard deviation collapses.

    1-D Gaussian, unbiased variance, replace, one panel per M. The quantile fan of
    ``sigma_n / sigma`` over seeds, its median, single trajectories, the exact mean
    ``c4(M)^n`` and the median proxy ``exp(n r / 2)``, ``r = psi((M-1)/2) + log(2/(M-1))`` the
    almost-sure drift of ``log sigma_n^2`` per generation.

    Args:
        outdir: the folder to write ``gaussian_nature.{pdf,png}`` into.
        seeds: seeds per panel (default 2000).
        progress: passed to the runner (``False`` silences it).
        M_values: samples per generation, one panel each (each ``>= 2``).
        generations: fits per chain.
        trajectories: single seeds drawn over the fan (0 for none).

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 2000
    G = generations
    fig = style.figure((7.0, 2.9))
    axes = fig.subplots(1, len(M_values), squeeze=False)[0]
    hashes = []
    for ax, M in zip(axes, M_values, strict=True):
        cfg = GaussianConfig(dim=1, M=M, generations=G, regime="replace", estimator="unbiased", sampler="exact")
        res = run(cfg, seeds, 0, progress=progress)
        hashes.append(config_hash(cfg))
        x = res.generation
        s = res.metrics["std"]
        q = s.quantiles
        color = style.PALETTE[0]
        ax.fill_between(x, q["0.05"], q["0.95"], color=color, alpha=0.15, linewidth=0, label="5-95% of seeds")
        ax.fill_between(x, q["0.25"], q["0.75"], color=color, alpha=0.3, linewidth=0, label="25-75% of seeds")
        paths = np.asarray(simulate_seeds(cfg, np.arange(trajectories), 0)["std"]) if trajectories else np.ones((0, G))
        for k, path in enumerate(paths):
            label = f"{trajectories} single seed{'s' if trajectories > 1 else ''}" if k == 0 else None
            ax.plot(x, path, color=style.PALETTE[1], linewidth=0.5, alpha=0.8, label=label)
        ax.plot(x, q["0.5"], color=color, linewidth=1.4, label="empirical median")
        _positive_band(ax, x, s, style.PALETTE[2], label="empirical mean (95% band)", linewidth=0.9)
        curves = get_model("gaussian").theory(cfg, x)
        ax.plot(x, curves["std"], label=r"law: $E\,\sigma_n/\sigma = c_4(M)^n$", **THEORY)
        rate = theory_gaussian.predict("log_det", "replace", "unbiased", x, dim=1, M=M, statistic="rate")
        ax.plot(
            x,
            np.exp(x * rate / 2),
            color=style.PALETTE[3],
            linestyle="-.",
            linewidth=1.0,
            label=r"law: median $\approx e^{nr/2}$, $r$ = a.s. drift of $\log\sigma_n^2$",
        )
        ax.axhline(1.0, color="black", linestyle=":", linewidth=0.8, label=r"$E\,\sigma_n^2/\sigma^2 = 1$ (martingale)")
        ax.set_yscale("log")
        ax.set_xlim(0, G)
        low = min(np.min(q["0.05"]), np.min(paths, initial=np.inf))
        ax.set_ylim(low / 3, max(3.0, 2 * np.max(paths, initial=0.0)))
        c4 = theory_gaussian.replace_std(1, M=M, estimator="unbiased")
        ax.set_title(f"M={M}: $c_4(M)$={float(c4):.4f}, r={rate[0]:.4f}")
        style.generation_axis(ax, label="generation n (fits)")
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


# Where each estimator's inset goes (axes fractions): where replace's variance does not pass,
# flat near 1 for unbiased, falling diagonally for MLE.
INSETS = {"unbiased": [0.40, 0.08, 0.57, 0.5], "mle": [0.11, 0.07, 0.41, 0.4]}


@style.styled
def regimes(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    M: int = 20,
    generations: int = 100,
    real_fractions: Sequence[float] = (0.5, 0.25),
    augment_fractions: Sequence[float] = (0.25,),
    estimators: Sequence[str] = ("unbiased", "mle"),
) -> list[Path]:
    """Replace, accumulate, mix and augment, 1-D: mean error and variance per estimator, with the laws.

    Replace is the loop of Shumailov et al. (2024); accumulate that of Kazdan et al. (2024)
    (every sample so far is kept); mix the fresh-data loop of Alemohammad et al. (2024,
    "Self-Consuming Generative Models Go MAD"): each generation fits on ``k = f M`` fresh
    real samples plus ``M - k`` synthetic ones from the previous fit, ``f`` the real
    fraction; augment keeps the **same** ``k`` real samples of generation 1 for good
    (Bertrand et al. 2024's setting; its exact laws are derived here), and its mean error
    settles more than twice as high as mix's with the same ``f``. Exact laws are dashed,
    upper bounds dotted; a linear-y inset shows the bounded regimes' variances, which
    differ by a few percent.

    Args:
        outdir: the folder to write ``gaussian_regimes.{pdf,png}`` into.
        seeds: seeds per curve (default 4000).
        progress: passed to the runner (``False`` silences it).
        M: samples per generation (``>= 2``; ``f M`` a whole number for each ``f``).
        generations: fits per chain.
        real_fractions: the real fractions ``f`` of the mix curves, one curve each (none: no mix).
        augment_fractions: the real fractions ``f`` of the augment curves (none: no augment).
        estimators: one column each, ``unbiased`` (divide by M - 1) and/or ``mle`` (divide by M).

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 4000
    G = generations
    variants = [("replace", None, "replace"), ("accumulate", None, "accumulate")]
    variants += [("mix", f, f"mix, $f$={f:g} fresh real") for f in real_fractions]
    variants += [("augment", f, f"augment, $f$={f:g} kept real") for f in augment_fractions]
    metrics = ("mean_sq_error", "variance")
    fig = style.figure(style.WIDE)
    axes = fig.subplots(2, len(estimators), sharex=True, sharey="row", squeeze=False)
    # The bounded regimes' variances differ by a few percent: a linear-y inset shows them against their laws.
    insets = [axes[1, col].inset_axes(INSETS.get(est, INSETS["unbiased"])) for col, est in enumerate(estimators)]
    hashes = []
    for col, estimator in enumerate(estimators):
        for k, (regime, fraction, label) in enumerate(variants):
            extra = {} if fraction is None else {"real_fraction": fraction}
            cfg = GaussianConfig(
                dim=1, M=M, generations=G, regime=regime, estimator=estimator, sampler="exact", **extra
            )
            res = run(cfg, seeds, 0, progress=progress)
            hashes.append(config_hash(cfg))
            x = res.generation
            curves = get_model("gaussian").theory(cfg, x)
            color = style.PALETTE[k % len(style.PALETTE)]
            for row, metric in enumerate(metrics):
                ax = axes[row, col]
                style.band(ax, x, res.metrics[metric], color, label=label)
                _law(ax, cfg, x, metric, curves)
            if regime != "replace":
                style.band(insets[col], x, res.metrics["variance"], color, linewidth=0.9)
                _law(insets[col], cfg, x, "variance", curves)
        insets[col].set_title("bounded regimes (linear y)", fontsize=5.5, pad=2)
        insets[col].tick_params(labelsize=5, length=2, pad=1)
        style.generation_axis(insets[col])
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            ax.set_yscale("log")
            ax.set_title(f"{estimator} estimator (divide by {'M-1' if estimator == 'unbiased' else 'M'})")
            style.generation_axis(ax)
            if row == 1:
                ax.set_xlabel("generation n (fits)")
            if col == 0:
                ax.set_ylabel(LABELS[metric])
    axes[0, 0].plot([], [], label="law, exact expectation (dashed)", **THEORY)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, bbox_to_anchor=(0.5, -0.07), frameon=False)
    bounded = "accumulate, mix (Alemohammad et al. 2024) and augment (Bertrand et al. 2024's setting)"
    fig.suptitle(
        f"1-D Gaussian, M={M}: under replace $E(\\mu_n-\\mu)^2$ grows as $n\\sigma^2/M$ (unbiased) or saturates at "
        f"$\\sigma^2$ (MLE),\nand $E\\sigma_n^2$ is flat (unbiased, a martingale) or decays as $(1-1/M)^n$ (MLE); "
        f"{bounded} stay bounded\n({seeds} seeds per curve, mean and 95% band; replace's $\\sigma_n^2$ is "
        f"heavy-tailed, Var $\\sigma_n^2/(E\\sigma_n^2)^2 = (1+2/(M-1))^n-1$, so its sample mean lags the law late)",
        fontsize=7,
        y=1.06,
    )
    return style.save(fig, outdir, "gaussian_regimes", {"configs": len(hashes), "seeds": seeds})


# Each estimator's colour, as in the rendered figure; others take the next free palette colours.
ESTIMATOR_COLORS = {"unbiased": style.PALETTE[0], "mle": style.PALETTE[3]}


@style.styled
def logdet(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    dim: int = 10,
    M: int = 100,
    generations: int = 100,
    regimes: Sequence[str] = ("replace", "accumulate"),
    estimators: Sequence[str] = ("unbiased", "mle"),
) -> list[Path]:
    """Kazdan et al. (2024)'s multivariate metrics: log det and trace of Sigma_n, with the laws.

    A ``dim``-dimensional Gaussian refit on M samples per generation. Under replace
    ``E log det Sigma_n`` drifts linearly (a sum of ``dim`` digammas per generation) while
    ``E tr Sigma_n`` stays put (unbiased) or decays geometrically (MLE); accumulate stays
    bounded. Means with 95% bands, medians dash-dotted, exact laws dashed, upper bounds dotted.

    Args:
        outdir: the folder to write ``gaussian_logdet.{pdf,png}`` into.
        seeds: seeds per curve (default 2000).
        progress: passed to the runner (``False`` silences it).
        dim: dimension.
        M: samples per generation (``> dim``).
        generations: fits per chain.
        regimes: one column each, among ``replace``, ``accumulate``, ``mix``.
        estimators: one curve each, ``unbiased`` and/or ``mle``.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 2000
    G = generations
    spare = iter(c for c in style.PALETTE if c not in ESTIMATOR_COLORS.values())
    colors = [(e, ESTIMATOR_COLORS.get(e) or next(spare)) for e in estimators]
    metrics = ("log_det", "variance")
    fig = style.figure(style.WIDE)
    axes = fig.subplots(2, len(regimes), sharex=True, squeeze=False)
    fig.subplots_adjust(wspace=0.3)
    hashes = []
    for col, regime in enumerate(regimes):
        for estimator, color in colors:
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
            style.generation_axis(ax)
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


FIGURES = {
    "gaussian_nature": nature,
    "gaussian_regimes": regimes,
    "gaussian_logdet": logdet,
}
