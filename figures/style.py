"""One figure style: colour-blind palette, paper-column sizes, embedded fonts, reproducible bytes."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["PALETTE", "COLUMN", "WIDE", "apply", "band", "save", "Z95"]

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
COLUMN = (3.4, 2.6)  # inches: one column of a two-column paper
WIDE = (7.0, 4.2)  # full width
Z95 = 1.959963984540054


def apply() -> None:
    plt.rcParams.update(
        {
            "font.size": 8,
            "axes.titlesize": 8,
            "axes.labelsize": 8,
            "legend.fontsize": 6.5,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "lines.linewidth": 1.2,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            "pdf.fonttype": 42,  # embed TrueType fonts
            "ps.fonttype": 42,
            "svg.hashsalt": "model-collapse",
            "figure.dpi": 150,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
        }
    )


def band(ax, x, summary, color, label=None, **kwargs):
    """Empirical mean with a 95% normal band (mean +/- 1.96 sem)."""
    mean, sem = np.asarray(summary.mean), np.asarray(summary.sem)
    ax.fill_between(x, mean - Z95 * sem, mean + Z95 * sem, color=color, alpha=0.25, linewidth=0)
    ax.plot(x, mean, color=color, label=label, **kwargs)


def save(fig, outdir: str | os.PathLike, name: str, meta: dict | None = None) -> list[Path]:
    """Write ``name.pdf`` and ``name.png`` with fixed metadata (no dates), then close ``fig``.

    The metadata (PDF Keywords, PNG Description) carries ``meta`` (seeds, config hash)
    and the git commit the figure was made from, so bytes are reproducible per commit.
    """
    from ..experiments.engine.cache import _git_commit

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    keywords = ";".join(f"{k}={v}" for k, v in sorted({**(meta or {}), "commit": _git_commit()}.items()))
    paths = []
    for ext, md in (
        ("pdf", {"CreationDate": None, "ModDate": None, "Producer": None, "Keywords": keywords}),
        ("png", {"Software": None, "Description": keywords}),
    ):
        path = outdir / f"{name}.{ext}"
        tmp = path.with_suffix(f".tmp.{ext}")
        fig.savefig(tmp, format=ext, metadata=md)
        os.replace(tmp, path)  # atomic: never a half-written figure
        paths.append(path)
    plt.close(fig)
    return paths
