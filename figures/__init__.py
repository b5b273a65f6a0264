"""Figures: empirical error (mean with a 95% band) beside the predicted curve.

``make_all`` renders every registered figure as PDF and PNG, by default into
``collapse-figures/`` in the working directory (:data:`DEFAULT_OUTDIR`); ``collapse figures``
runs it. The repository's rendered figures live in this package's folder,
:data:`FIGURE_DIR`, and are regenerated explicitly: ``make_all(FIGURE_DIR)``.

Each model has one module here (``linreg``, ``gaussian``) exporting ``FIGURES``, a dict
name -> function; every module of this package except :mod:`.style` is collected, so a new
model adds one module. A figure function has the signature
``fn(outdir, seeds=None, progress=None, **params)`` and returns the paths it wrote; its
keyword-only ``params`` default to the rendered figure's settings.

Importing this package, or rendering, changes no global matplotlib state: the backend is
never chosen and the style's rcParams hold only inside :func:`style.context`. For figures
of your own, :func:`band` draws a mean with its 95% band and :func:`save` writes PDF and
PNG with reproducible bytes (see :mod:`.style`).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Sequence
from pathlib import Path

from . import style
from .style import band, save

__all__ = ["FIGURES", "DEFAULT_OUTDIR", "FIGURE_DIR", "make_all", "style", "band", "save"]

FIGURE_DIR = Path(__file__).resolve().parent
DEFAULT_OUTDIR = Path("collapse-figures")  # relative: resolved against the working directory when writing


def _collect() -> dict:
    figures: dict = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name == "style" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        own = getattr(module, "FIGURES", None)
        if not isinstance(own, dict):
            raise TypeError(f"{module.__name__} must export FIGURES, a dict name -> figure function")
        clash = sorted(set(own) & set(figures))
        if clash:
            raise ValueError(f"figure {clash[0]!r} registered twice (again in {module.__name__})")
        figures.update(own)
    return figures


FIGURES = _collect()


def make_all(
    outdir: str | os.PathLike[str] | None = None,
    seeds: int | None = None,
    only: Sequence[str] | None = None,
    progress: bool | None = None,
) -> list[Path]:
    """Render the figures named in ``only`` (all by default) into ``outdir``.

    Args:
        outdir: the folder to write into; ``None`` means :data:`DEFAULT_OUTDIR`
            (``collapse-figures`` in the working directory), never the package folder.
        seeds: seeds per curve for every figure (``None``: each figure's default).
        only: figure names (keys of :data:`FIGURES`); ``None`` or empty for all.
        progress: passed to the runner (``False`` silences it).

    Returns:
        The paths written, a PDF and a PNG per figure.

    Raises:
        ConfigError: a name in ``only`` is not registered.
    """
    from ..experiments.models.config import ConfigError

    names = list(FIGURES) if not only else list(only)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ConfigError(f"unknown figure {unknown[0]!r}; choose from: {', '.join(FIGURES)}")
    outdir = DEFAULT_OUTDIR if outdir is None else Path(outdir)
    paths = []
    with style.context():
        for name in names:
            paths += FIGURES[name](outdir, seeds=seeds, progress=progress)
    return paths
