"""The golden-ratio weighting of fresh real data against synthetic data (He, Xu & Cheng 2025).

* :func:`golden`: the Gaussian mean's stationary error against the real weight ``w`` for a few
  ``k = n/m`` (simulation points with 95% bars at the last generation, the derived law as a
  line), the optimum ``w*(k) = (sqrt(k^2 + 4k) - k)/2`` and the naive proportional weight
  ``k/(1 + k)`` marked; beside it ``w*(k)`` and ``k/(1 + k)`` against ``k``.

Signature ``(outdir, seeds=None, progress=None, **params)`` as every figure of the package.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments import config_hash
from ..experiments.engine.cache import cached_run as run
from ..experiments.models.config import ConfigError
from ..experiments.models.gaussian import GaussianConfig
from ..theory import weighting as tw
from . import style

__all__ = ["FIGURES", "golden"]

THEORY = dict(linestyle="--", linewidth=1.0, alpha=0.8)


@style.styled
def golden(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    M: int = 20,
    dim: int = 1,
    sampler: str = "exact",
    real_fractions: Sequence[float] = (0.2, 0.5, 0.8),
    weights: Sequence[float] = (0.2, 0.4, 0.6, 0.8),
    generations: int = 120,
) -> list[Path]:
    """Stationary error of the weighted Gaussian mean against the real weight ``w``.

    One curve per ``real_fraction`` (``n = real_fraction M`` real, ``m = M - n`` synthetic samples per
    generation, ``k = n/m``), unbiased covariance, ``sigma2 = 1``, error in units of ``sigma2 dim/n``:
    simulated at each of ``weights`` and at ``w*(k)``, read at the last generation (the transient
    ``(1 - w)^{2t}`` is gone); the line is the derived stationary law ``[w^2 + k(1 - w)^2]/[1 - (1 - w)^2]``,
    whose minimum is ``w*`` itself; the square marks the naive weight ``k/(1 + k)`` on it.

    Args:
        outdir: the folder to write ``weighting_golden.{pdf,png}`` into.
        seeds: seeds per point (default 4000).
        progress: passed to the runner (``False`` silences it).
        M: samples per generation.
        dim: the Gaussian's dimension.
        sampler: ``exact`` or ``faithful`` (the model's samplers).
        real_fractions: the real shares drawn (each times ``M`` whole, both parts at least 2).
        weights: real weights simulated besides ``w*(k)`` and ``k/(1 + k)``.
        generations: fits per chain (the last one is read).
    """
    seeds = seeds or 4000
    fig = style.figure((7.0, 2.8))
    ax, ax_k = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    grid = np.linspace(0.02, 1.0, 400)
    hashes = []
    for j, rf in enumerate(real_fractions):
        n = int(round(rf * M))
        m = M - n
        if abs(rf * M - n) > 1e-9 or min(n, m) < 2:
            raise ConfigError(f"real_fraction * M must be whole with both parts >= 2, got {rf} * {M}")
        k = n / m
        color = style.PALETTE[j % len(style.PALETTE)]
        w_star, naive = float(tw.optimal_weight(k)), float(tw.naive_weight(k))
        ax.plot(grid, tw.stationary_mean_error(grid, k), color=color, **THEORY)
        ws = sorted({*(float(w) for w in weights), w_star})
        means, bars = [], []
        for w in ws:
            cfg = GaussianConfig(
                dim=dim, M=M, regime="mix", real_fraction=rf, real_weight=w, generations=generations, sampler=sampler
            )
            hashes.append(config_hash(cfg))
            res = run(cfg, seeds, 0, progress=progress)
            summary = res.metrics["mean_sq_error"]
            means.append(float(np.asarray(summary.mean)[-1]) * n / dim)
            bars.append(1.96 * float(np.asarray(summary.sem)[-1]) * n / dim)
        ax.errorbar(ws, means, yerr=bars, color=color, linestyle="none", marker="o", markersize=2.5, capsize=1.5)
        ax.plot([w_star], [w_star], marker="*", markersize=9, color=color, linestyle="none")
        ax.plot([naive], [float(tw.stationary_mean_error(naive, k))], marker="s", markersize=4, color=color)
        ax.plot([], [], color=color, marker="o", markersize=2.5, label=f"k = n/m = {k:.3g} (n = {n}, m = {m})")
    ax.plot([], [], marker="*", color="gray", linestyle="none", markersize=8, label="optimum w*(k) (error = w*)")
    ax.plot([], [], marker="s", color="gray", linestyle="none", markersize=4, label="naive weight k/(1+k) (pooled)")
    ax.plot([], [], color="gray", label="stationary law", **THEORY)
    ax.set_yscale("log")
    ax.set_xlabel("weight w on the real samples")
    ax.set_ylabel(r"$n\,\lim_t E\|\mu_t-\mu\|^2/(\sigma^2 \mathrm{dim})$")
    ax.legend(fontsize=5.5)
    ks = np.logspace(-2, 2, 200)
    ax_k.plot(ks, tw.optimal_weight(ks), color=style.PALETTE[0], label="w*(k) = (sqrt(k^2+4k) - k)/2")
    ax_k.plot(ks, tw.naive_weight(ks), color=style.PALETTE[1], linestyle=":", label="naive k/(1+k)")
    ax_k.axhline((np.sqrt(5) - 1) / 2, color="gray", linewidth=0.6, linestyle="--")
    ax_k.axvline(1.0, color="gray", linewidth=0.6, linestyle="--")
    ax_k.set_xscale("log")
    ax_k.set_xlabel("k = n/m (real per synthetic)")
    ax_k.set_ylabel("real weight")
    ax_k.legend(fontsize=5.5)
    ax_k.set_title("0.618 = 1/golden ratio at k = 1", fontsize=7)
    fig.suptitle(
        f"Weighting fresh real against synthetic samples (Gaussian mean, dim = {dim}, M = {M}): the optimum beats "
        f"pooling (points: {seeds} seeds, generation {generations}; dashed: derived law)",
        fontsize=7,
    )
    return style.save(fig, outdir, "weighting_golden", {"configs": len(hashes), "seeds": seeds})


FIGURES = {"weighting_golden": golden}
