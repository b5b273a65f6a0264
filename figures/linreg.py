"""Figures for linear regression (Gerstgrasser et al. 2024; Dohmatob et al. 2024).

Every function takes ``(outdir, seeds=None, progress=None, **params)``: ``seeds`` per curve
(``None``: the figure's default), ``progress`` passed to the runner, and keyword-only
settings whose defaults draw the figure in ``figures/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments import LinRegConfig, config_hash, get_model
from ..experiments.engine.cache import cached_run as run
from ..theory import linreg as theory_linreg
from . import style

__all__ = ["FIGURES", "augment", "convention", "designs", "gerstgrasser_grid"]

THEORY = dict(linestyle="--", linewidth=1.0, color="black", alpha=0.8)

DESIGN_VARIANTS = (
    ("replace", "fixed"),
    ("accumulate", "fixed"),
    ("accumulate", "fresh"),
    ("accumulate-subsample", "fixed"),
    ("accumulate-subsample", "fresh"),
)


@style.styled
def gerstgrasser_grid(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 32,
    T_values: Sequence[int] = (100, 316, 1000),
    sigma2_values: Sequence[float] = (0.01, 0.1, 1.0, 10.0, 100.0),
    generations: int = 50,
    regimes: Sequence[str] = ("replace", "accumulate"),
) -> list[Path]:
    """The linear-regression figure of Gerstgrasser et al. (2024), with the laws dashed.

    Ordinary least squares refit each generation on labels drawn from the previous fit
    (fixed Gaussian design): one panel per regime (rows) and T (columns), one curve per
    noise level, the test error ``||w_n - w*||^2`` against the replace law of Dohmatob
    et al. (2024, ``sigma^2 d n / (T - d - 1)``) and the accumulate law of Gerstgrasser
    et al. (2024, bounded by ``pi^2/6 sigma^2 d / (T - d - 1)``).

    Args:
        outdir: the folder to write ``linreg_gerstgrasser.{pdf,png}`` into.
        seeds: seeds per curve (default 1000).
        progress: passed to the runner (``False`` silences it).
        d: features.
        T_values: rows per generation, one column each (each ``> d + 1``).
        sigma2_values: label noise variances, one curve each.
        generations: fits per chain, generation 1 on real labels.
        regimes: one row each, among ``replace``, ``accumulate``, ``accumulate-subsample``.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 1000
    fig = style.figure(style.WIDE)
    axes = fig.subplots(len(regimes), len(T_values), sharex=True, sharey=True, squeeze=False)
    hashes = []
    for row, regime in enumerate(regimes):
        for col, T in enumerate(T_values):
            ax = axes[row, col]
            for k, s2 in enumerate(sigma2_values):
                cfg = LinRegConfig(d=d, T=T, sigma2=s2, generations=generations, regime=regime)
                res = run(cfg, seeds, 0, progress=progress)
                hashes.append(config_hash(cfg))
                x = res.generation
                color = style.PALETTE[k % len(style.PALETTE)]
                style.band(ax, x, res.metrics["test_error"], color, label=f"$\\sigma^2$={s2:g}")
                ax.plot(x, get_model("linreg").theory(cfg, x)["test_error"], **THEORY)
            ax.set_yscale("log")
            ax.set_title(f"{regime}, T={T}")
            style.generation_axis(ax)
            if row == len(regimes) - 1:
                ax.set_xlabel("generation n (fits)")
            if col == 0:
                ax.set_ylabel(r"test error $\|w_n-w^*\|^2$")
    axes[0, 0].plot([], [], label="law (dashed)", **THEORY)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(handles), 6), bbox_to_anchor=(0.5, -0.04), frameon=False
    )
    fig.suptitle(
        f"OLS refit on its own labels, d={d}: replace grows as $\\sigma^2 d n/(T-d-1)$, accumulate stays below "
        f"$\\frac{{\\pi^2}}{{6}}\\sigma^2 d/(T-d-1)$  ({seeds} seeds, mean and 95% band)",
        fontsize=7,
    )
    return style.save(fig, outdir, "linreg_gerstgrasser", {"configs": len(hashes), "seeds": seeds})


@style.styled
def designs(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 8,
    T_values: Sequence[int] = (24, 40, 160),
    sigma2: float = 1.0,
    generations: int = 50,
    variants: Sequence[tuple[str, str]] = DESIGN_VARIANTS,
) -> list[Path]:
    """Accumulate with a fresh design and with subsampling, against the fixed-design law and the bound.

    Gerstgrasser et al. (2024) derive the accumulate law for a fixed design; Kazdan et al.
    (2024) study accumulate-subsample. With a fresh design each generation, or a
    subsampled pool, there is no closed form: the curves (test error over the
    one-generation error ``sigma^2 d / (T - d - 1)``) are set against the fixed-design
    accumulate law (dashed) and its ``pi^2/6`` limit (dotted).

    Args:
        outdir: the folder to write ``linreg_designs.{pdf,png}`` into.
        seeds: seeds per curve (default 4000).
        progress: passed to the runner (``False`` silences it).
        d: features.
        T_values: rows per generation, one panel each (each ``> d + 1``).
        sigma2: label noise variance (``> 0``; the curves are scaled by it).
        generations: fits per chain.
        variants: ``(regime, design)`` pairs, one curve each; regime among ``replace``,
            ``accumulate``, ``accumulate-subsample``, design ``fixed``, ``fresh`` or ``shared``.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 4000
    G = generations
    fig = style.figure((7.0, 2.6))
    axes = fig.subplots(1, len(T_values), sharey=True, squeeze=False)[0]
    for ax, T in zip(axes, T_values, strict=True):
        unit = theory_linreg.one_generation_error(d, T, sigma2)
        for k, (regime, design) in enumerate(variants):
            cfg = LinRegConfig(d=d, T=T, sigma2=sigma2, generations=G, regime=regime, design=design)
            res = run(cfg, seeds, 0, progress=progress)
            s = res.metrics["test_error"]
            scaled = type(s)(s.mean / unit, s.sem / unit, s.std / unit, s.minimum, s.maximum, {})
            color = style.PALETTE[k % len(style.PALETTE)]
            label = f"{regime}, {design} X"
            if regime == "accumulate-subsample" and design == "fixed":
                # A subsample of the n T accumulated rows can hold at most d + 1 distinct design rows once
                # n >= T/(d+1): the expected error is infinite there, and the band is a sample mean of a
                # variable without a mean (marked by the vertical line).
                label += r" ($E = \infty$ right of $|$)"
                ax.axvline(T / (d + 1), color=color, linestyle="-", linewidth=0.6, alpha=0.6)
            style.band(ax, res.generation, scaled, color, label=label)
        n = np.arange(1, G + 1)
        ax.plot(n, theory_linreg.expected_test_error(n, d, T, sigma2, "accumulate") / unit, **THEORY)
        ax.axhline(theory_linreg.accumulate_limit(d, T, sigma2) / unit, color="black", linestyle=":", linewidth=1.0)
        ax.set_yscale("log")
        ax.set_ylim(0.8, 2 * G)
        ax.set_title(f"d={d}, T={T}")
        style.generation_axis(ax, label="generation n")
    axes[0].set_ylabel(r"test error / $\sigma^2 d/(T-d-1)$")
    axes[0].plot([], [], label="fixed-X accumulate law", **THEORY)
    axes[0].plot([], [], color="black", linestyle=":", label=r"$\pi^2/6$ bound")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 0.0), frameon=False)
    fig.suptitle(
        f"Fresh designs and subsampling: no closed form; fresh-X accumulate sits below the fixed-X law at small T "
        f"and meets it as T grows ({seeds} seeds).\nFixed-X subsampling has an infinite expected error from "
        "n = T/(d+1) on (vertical line): there its curve is a sample mean, not an estimate of a finite mean",
        fontsize=6,
    )
    return style.save(fig, outdir, "linreg_designs", {"seeds": seeds})


@style.styled
def convention(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 32,
    T: int = 100,
    sigma2: float = 1.0,
    generations: int = 20,
) -> list[Path]:
    """Indexing: the replace law counted in fits (ours) and shifted by one (a downstream fit).

    Dohmatob et al. (2024) count n generators and then one downstream fit, so their
    replace law reads ``sigma^2 d (n + 1) / (T - d - 1)`` where ours, counting fits, reads
    ``sigma^2 d n / (T - d - 1)``; the simulation (generation 1 = the fit on real labels)
    follows ours.

    Args:
        outdir: the folder to write ``linreg_convention.{pdf,png}`` into.
        seeds: seeds (default 4000).
        progress: passed to the runner (``False`` silences it).
        d: features.
        T: rows per generation (``> d + 1``).
        sigma2: label noise variance.
        generations: fits in the chain.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 4000
    cfg = LinRegConfig(d=d, T=T, sigma2=sigma2, generations=generations, regime="replace")
    res = run(cfg, seeds, 0, progress=progress)
    x = res.generation
    fig = style.figure(style.COLUMN)
    ax = fig.subplots()
    style.band(
        ax, x, res.metrics["test_error"], style.PALETTE[0], label="simulation (n = fits)", marker="o", markersize=2
    )
    ax.plot(x, theory_linreg.expected_test_error(x, d, T, sigma2, "replace", "fit"), label="law, n fits", **THEORY)
    ax.plot(
        x,
        theory_linreg.expected_test_error(x, d, T, sigma2, "replace", "downstream"),
        color=style.PALETTE[3],
        linestyle="-.",
        label="law, n generators + downstream fit",
    )
    style.generation_axis(ax, label="generation n")
    ax.set_ylabel(r"test error $\|w_n-w^*\|^2$")
    ax.set_title(f"Replace, d={d}, T={T}: the one-generation shift ({seeds} seeds)")
    ax.legend()
    return style.save(fig, outdir, "linreg_convention", {"config": config_hash(cfg), "seeds": seeds})


@style.styled
def augment(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    T: int = 24,
    sigma2: float = 1.0,
    real_fractions: Sequence[float] = (0.125, 0.25, 0.5),
    shared: tuple[int, int] = (8, 48),
    generations: int = 40,
) -> list[Path]:
    """Augment: the first ``k = f T`` rows keep their real labels for good (Bertrand et al. 2024's setting).

    Left, ``d = 1`` with a Gaussian design per seed: the law over designs (derived here),
    ``sigma^2/(T-2) sum_{j<n} (mu_2j + 2 mu_2j+1 - 2 mu_n+j)``, ``mu_j = E b^j`` for
    ``b ~ Beta((T-k)/2, k/2)``, bounded iff ``k > 2``. Right, one design ``d x T`` shared by
    every seed: the law given the design, bounded iff the ``k`` real rows have rank ``d``
    (``k >= d``; with fewer, the unpinned directions random-walk as under replace).
    Replace's law (dotted) grows without bound.

    Args:
        outdir: the folder to write ``linreg_augment.{pdf,png}`` into.
        seeds: seeds per curve (default 20,000 at ``d = 1``, 4,000 given the design).
        progress: passed to the runner (``False`` silences it).
        T: rows per generation in the left panel (``> 2``; each ``f T`` whole).
        sigma2: label noise variance.
        real_fractions: the shares ``f`` of rows with kept real labels, one curve each.
        shared: ``(d, T)`` of the right panel's shared design.
        generations: fits per chain.

    Returns:
        The PDF and PNG paths.
    """
    n = np.arange(1, generations + 1)
    fig = style.figure((6.4, 2.6))
    axes = fig.subplots(1, 2)
    panels = ((1, T, "fixed", seeds or 20_000), (*shared, "shared", seeds or 4000))
    for ax, (d, rows, design, n_seeds) in zip(axes, panels, strict=True):
        for k, f in enumerate(real_fractions):
            cfg = LinRegConfig(
                d=d, T=rows, sigma2=sigma2, generations=generations, regime="augment", real_fraction=f, design=design
            )
            res = run(cfg, n_seeds, 0, progress=progress)
            color = style.PALETTE[k % len(style.PALETTE)]
            style.band(ax, res.generation, res.metrics["test_error"], color, label=f"real fraction {f:g}")
            ax.plot(n, get_model("linreg").theory(cfg, n)["test_error"], **THEORY)
        if design == "fixed":
            ax.plot(n, theory_linreg.expected_test_error(n, d, rows, sigma2, "replace"), color="gray", linestyle=":")
        ax.set_yscale("log")
        ax.set_title(f"d={d}, T={rows}, " + ("a design per seed" if design == "fixed" else "one design for all seeds"))
        style.generation_axis(ax, label="generation n")
    axes[0].set_ylabel(r"test error $\|w_n-w^*\|^2$")
    axes[0].plot([], [], label="law (derived here)", **THEORY)
    axes[0].plot([], [], color="gray", linestyle=":", label="replace's law")
    axes[0].legend(fontsize=6)
    fig.suptitle("Augment: the kept real rows bound the error (dashed: the derived laws)", fontsize=7)
    return style.save(fig, outdir, "linreg_augment", {"seeds": seeds})


FIGURES = {
    "linreg_gerstgrasser": gerstgrasser_grid,
    "linreg_designs": designs,
    "linreg_convention": convention,
    "linreg_augment": augment,
}
