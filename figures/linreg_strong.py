"""Strong model collapse: a small share of shifted synthetic rows stops the scaling law (Dohmatob et al. 2025).

* :func:`strong`: the OLS test error against the number of rows ``n`` (log axes) for several synthetic
  shares ``p2``, simulated (points with 95% bands), with the exact finite-``n`` law (derived here), the
  paper's finite-sample approximation and the floor ``p2^2 C^2`` that more data does not remove.

Signature ``(outdir, seeds=None, progress=None, **params)`` as every figure of the package.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments import LinRegConfig, config_hash
from ..experiments.engine.cache import cached_run as run
from ..experiments.models.config import ConfigError
from ..theory import linreg_strong as ts
from . import style

__all__ = ["FIGURES", "strong"]

THEORY = dict(linestyle="--", linewidth=1.0, alpha=0.9)


@style.styled
def strong(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 10,
    shift: float = 1.0,
    sigma2: float = 1.0,
    synthetic_shares: Sequence[float] = (0.0, 0.01, 0.1, 0.5),
    n_values: Sequence[int] = (100, 1000, 10_000, 100_000, 1_000_000),
) -> list[Path]:
    """Test error against rows ``n`` for synthetic shares ``p2`` (one OLS fit; the exact sampler).

    ``n1 = (1 - p2) n`` real rows from ``w*``, ``n2 = p2 n`` rows labelled by ``w* + delta``,
    ``E||delta||^2 = shift`` (:mod:`model_collapse.experiments.models.linreg_sources`). Lines: the exact
    law (dashed), the paper's approximation ``p2^2 C^2 + (sigma2 + p1 p2 C^2) d/(n-d-1)`` (dotted) and the
    floor ``p2^2 C^2`` (thin).

    Args:
        outdir: the folder to write ``linreg_strong.{pdf,png}`` into.
        seeds: seeds per point (default 2000).
        progress: passed to the runner (``False`` silences it).
        d: features.
        shift: ``C^2 = E||delta||^2``.
        sigma2: label noise variance.
        synthetic_shares: the ``p2`` drawn (each times every ``n`` whole).
        n_values: rows ``n`` simulated (``> d + 1``).
    """
    seeds = seeds or 2000
    fig = style.figure(style.COLUMN if len(synthetic_shares) < 3 else (4.6, 3.2))
    ax = fig.subplots()
    dense = np.unique(np.geomspace(d + 2, max(n_values), 300).astype(int))
    hashes = []
    for j, p2 in enumerate(synthetic_shares):
        color = style.PALETTE[j % len(style.PALETTE)]
        rows = np.array([n for n in n_values if n > d + 1], dtype=np.int64)
        if any(abs(p2 * n - round(p2 * n)) > 1e-9 for n in rows):
            raise ConfigError(f"synthetic share {p2} times every n must be a whole number of rows")
        means, sems = [], []
        for n in rows:
            cfg = LinRegConfig(
                d=d,
                T=int(n),
                sigma2=sigma2,
                regime="mix",
                real_fraction=1 - p2,
                synthetic_source="shifted",
                shift=shift,
                sampler="exact",
                generations=1,
            )
            hashes.append(config_hash(cfg))
            summary = run(cfg, seeds, 0, progress=progress).metrics["test_error"]
            means.append(float(np.asarray(summary.mean)[0]))
            sems.append(float(np.asarray(summary.sem)[0]))
        summary = type("Summary", (), {"mean": np.array(means), "sem": np.array(sems)})
        style.band(ax, rows, summary, color, label=f"p2 = {p2:g}", marker="o", markersize=2, linestyle="none")
        ax.plot(dense, ts.exact_test_error(dense, d, 1 - p2, sigma2, shift), color=color, **THEORY)
        ax.plot(dense, ts.approximate_test_error(dense, d, 1 - p2, sigma2, shift), color=color, linestyle=":", lw=0.8)
        if p2 > 0:
            ax.axhline(ts.floor(1 - p2, shift), color=color, linewidth=0.6, alpha=0.7)
    ax.plot([], [], color="gray", label="exact law (derived here)", **THEORY)
    ax.plot([], [], color="gray", linestyle=":", lw=0.8, label="p2^2 C^2 + (sigma^2 + p1 p2 C^2) d/(n-d-1)")
    ax.plot([], [], color="gray", linewidth=0.6, label="floor p2^2 C^2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows n")
    ax.set_ylabel(r"test error $\|\hat w-w^*\|^2$")
    ax.legend(fontsize=5.5)
    ax.set_title(
        f"Strong model collapse, d = {d}, C^2 = {shift:g}, sigma^2 = {sigma2:g}: even 1% shifted rows stop the "
        f"scaling law\n(points: {seeds} seeds, 95% bands)",
        fontsize=6.5,
    )
    return style.save(fig, outdir, "linreg_strong", {"configs": len(hashes), "seeds": seeds})


FIGURES = {"linreg_strong": strong}
