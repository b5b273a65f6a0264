"""Figures for linear regression (Gerstgrasser et al. 2024; Dohmatob et al. 2024)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..experiments import LinRegConfig, config_hash, get_model
from ..experiments.engine.cache import cached_run as run
from ..theory import linreg as theory_linreg

from . import style

__all__ = ["gerstgrasser_grid", "designs", "convention"]

THEORY = dict(linestyle="--", linewidth=1.0, color="black", alpha=0.8)


def gerstgrasser_grid(outdir, seeds=None, progress=None):
    """The linear-regression figure of Gerstgrasser et al. (2024), with the laws dashed.

    d = 32, T in {100, 316, 1000}, sigma^2 in {0.01, 0.1, 1, 10, 100}, 50 generations.
    """
    seeds = seeds or 1000
    Ts, sigma2s, d, G = (100, 316, 1000), (0.01, 0.1, 1.0, 10.0, 100.0), 32, 50
    fig, axes = plt.subplots(2, 3, figsize=style.WIDE, sharex=True, sharey=True)
    hashes = []
    for row, regime in enumerate(("replace", "accumulate")):
        for col, T in enumerate(Ts):
            ax = axes[row, col]
            for k, s2 in enumerate(sigma2s):
                cfg = LinRegConfig(d=d, T=T, sigma2=s2, generations=G, regime=regime)
                res = run(cfg, seeds, 0, progress=progress)
                hashes.append(config_hash(cfg))
                x = res.generation
                style.band(ax, x, res.metrics["test_error"], style.PALETTE[k], label=f"$\\sigma^2$={s2:g}")
                ax.plot(x, get_model("linreg").theory(cfg, x)["test_error"], **THEORY)
            ax.set_yscale("log")
            ax.set_title(f"{regime}, T={T}")
            if row == 1:
                ax.set_xlabel("generation n (fits)")
            if col == 0:
                ax.set_ylabel(r"test error $\|w_n-w^*\|^2$")
    axes[0, 0].plot([], [], label="law (dashed)", **THEORY)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, bbox_to_anchor=(0.5, -0.04), frameon=False)
    fig.suptitle(
        f"OLS refit on its own labels, d={d}: replace grows as $\\sigma^2 d n/(T-d-1)$, accumulate stays below "
        f"$\\frac{{\\pi^2}}{{6}}\\sigma^2 d/(T-d-1)$  ({seeds} seeds, mean and 95% band)",
        fontsize=7,
    )
    return style.save(fig, outdir, "linreg_gerstgrasser", {"configs": len(hashes), "seeds": seeds})


def designs(outdir, seeds=None, progress=None):
    """Accumulate with a fresh design and with subsampling, against the fixed-design law and the bound."""
    seeds = seeds or 4000
    d, G, Ts = 8, 50, (24, 40, 160)
    variants = [
        ("replace", "fixed", "replace, fixed X"),
        ("accumulate", "fixed", "accumulate, fixed X"),
        ("accumulate", "fresh", "accumulate, fresh X"),
        ("accumulate-subsample", "fixed", "accumulate-subsample, fixed X"),
        ("accumulate-subsample", "fresh", "accumulate-subsample, fresh X"),
    ]
    fig, axes = plt.subplots(1, len(Ts), figsize=(7.0, 2.6), sharey=True)
    for ax, T in zip(axes, Ts):
        unit = theory_linreg.one_generation_error(d, T, 1.0)
        for k, (regime, design, label) in enumerate(variants):
            cfg = LinRegConfig(d=d, T=T, sigma2=1.0, generations=G, regime=regime, design=design)
            res = run(cfg, seeds, 0, progress=progress)
            s = res.metrics["test_error"]
            scaled = type(s)(s.mean / unit, s.sem / unit, s.std / unit, s.minimum, s.maximum, {})
            style.band(ax, res.generation, scaled, style.PALETTE[k], label=label)
        n = np.arange(1, G + 1)
        ax.plot(n, theory_linreg.expected_test_error(n, d, T, 1.0, "accumulate") / unit, **THEORY)
        ax.axhline(theory_linreg.accumulate_limit(d, T, 1.0) / unit, color="black", linestyle=":", linewidth=1.0)
        ax.set_yscale("log")
        ax.set_ylim(0.8, 2 * G)
        ax.set_title(f"d={d}, T={T}")
        ax.set_xlabel("generation n")
    axes[0].set_ylabel(r"test error / $\sigma^2 d/(T-d-1)$")
    axes[0].plot([], [], label="fixed-X accumulate law", **THEORY)
    axes[0].plot([], [], color="black", linestyle=":", label=r"$\pi^2/6$ bound")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 0.0), frameon=False)
    fig.suptitle(
        f"Fresh designs and subsampling: no closed form; fresh-X accumulate sits below the fixed-X law at small T "
        f"and meets it as T grows ({seeds} seeds)",
        fontsize=7,
    )
    return style.save(fig, outdir, "linreg_designs", {"seeds": seeds})


def convention(outdir, seeds=None, progress=None):
    """Indexing: the replace law counted in fits (ours) and shifted by one (a downstream fit)."""
    seeds = seeds or 4000
    cfg = LinRegConfig(d=32, T=100, sigma2=1.0, generations=20, regime="replace")
    res = run(cfg, seeds, 0, progress=progress)
    x = res.generation
    fig, ax = plt.subplots(figsize=style.COLUMN)
    style.band(ax, x, res.metrics["test_error"], style.PALETTE[0], label="simulation (n = fits)", marker="o", markersize=2)
    ax.plot(x, theory_linreg.expected_test_error(x, 32, 100, 1.0, "replace", "fit"), label="law, n fits", **THEORY)
    ax.plot(
        x,
        theory_linreg.expected_test_error(x, 32, 100, 1.0, "replace", "downstream"),
        color=style.PALETTE[3],
        linestyle="-.",
        label="law, n generators + downstream fit",
    )
    ax.set_xlabel("generation n")
    ax.set_ylabel(r"test error $\|w_n-w^*\|^2$")
    ax.set_title(f"Replace, d=32, T=100: the one-generation shift ({seeds} seeds)")
    ax.legend()
    return style.save(fig, outdir, "linreg_convention", {"config": config_hash(cfg), "seeds": seeds})
