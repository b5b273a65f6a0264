"""Figures: empirical error (mean with a 95% band) beside the predicted curve.

``make_all`` regenerates every registered figure as PDF and PNG; the rendered files
live in this folder. Run ``collapse figures``.
"""

from __future__ import annotations

from pathlib import Path

from . import gaussian, linreg, style

__all__ = ["FIGURES", "make_all", "FIGURE_DIR"]

FIGURE_DIR = Path(__file__).resolve().parent

FIGURES = {
    "linreg_gerstgrasser": linreg.gerstgrasser_grid,
    "linreg_designs": linreg.designs,
    "linreg_convention": linreg.convention,
    "gaussian_nature": gaussian.nature,
    "gaussian_regimes": gaussian.regimes,
    "gaussian_logdet": gaussian.logdet,
}


def make_all(outdir=None, seeds=None, only=None, progress=None) -> list[Path]:
    """Render the figures named in ``only`` (all by default) into ``outdir``."""
    from ..experiments.models.config import ConfigError

    names = list(FIGURES) if not only else list(only)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ConfigError(f"unknown figure {unknown[0]!r}; choose from: {', '.join(FIGURES)}")
    style.apply()
    paths = []
    for name in names:
        paths += FIGURES[name](outdir or FIGURE_DIR, seeds=seeds, progress=progress)
    return paths
