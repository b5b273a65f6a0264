"""One figure style: colour-blind palette, paper-column sizes, embedded fonts, reproducible bytes.

Nothing here touches matplotlib's global state: the backend is never chosen (figures are
:class:`matplotlib.figure.Figure` objects, saved without pyplot) and the style's rcParams
are set only inside :func:`context`, which restores the caller's on exit.

Use it for a figure of your own::

    from model_collapse.experiments import LinRegConfig
    from model_collapse.experiments.engine.cache import cached_run
    from model_collapse.figures import style

    cfg = LinRegConfig(d=8, T=40, regime="accumulate", generations=30)
    res = cached_run(cfg, 1000)
    with style.context():
        fig = style.figure(style.COLUMN)
        ax = fig.subplots()
        style.band(ax, res.generation, res.metrics["test_error"], style.PALETTE[0], label="accumulate")
        style.generation_axis(ax)
        ax.legend()
        style.save(fig, "my-figures", "accumulate_d8", {"seeds": 1000})
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

__all__ = [
    "PALETTE",
    "COLUMN",
    "WIDE",
    "Z95",
    "RC",
    "context",
    "styled",
    "figure",
    "band",
    "generation_axis",
    "save",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
COLUMN = (3.4, 2.6)  # inches: one column of a two-column paper
WIDE = (7.0, 4.2)  # full width
Z95 = 1.959963984540054

# The style's rcParams, set only inside :func:`context`.
RC = {
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


def context() -> AbstractContextManager[None]:
    """The figure style for the duration of a ``with`` block; the caller's rcParams come back on exit.

    Wrap both the making and the saving of a figure: sizes, fonts and the colour cycle are
    read when artists are created, and ``savefig.*`` and the font embedding when it is saved.

    Returns:
        A context manager (:func:`matplotlib.rc_context` with :data:`RC`); the backend is untouched.

    Example::

        with style.context():
            fig = style.figure(style.COLUMN)
            fig.subplots().plot([1, 2, 3])
            style.save(fig, "out", "line")
    """
    return matplotlib.rc_context(RC)


def styled(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: run ``fn`` inside :func:`context` (every registered figure function is styled)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with context():
            return fn(*args, **kwargs)

    return wrapper


def figure(figsize: tuple[float, float] = COLUMN) -> Figure:
    """A new :class:`~matplotlib.figure.Figure`, not registered with pyplot (nothing to close).

    Call it inside :func:`context` so it takes the style's sizes; add axes with ``fig.subplots(...)``.
    """
    return Figure(figsize=figsize)


def band(
    ax: Axes, x: ArrayLike, summary: Any, color: str, label: str | None = None, band_alpha: float = 0.25, **kwargs: Any
) -> None:
    """Draw an empirical mean over seeds with its 95% confidence band (mean +/- 1.96 sem).

    The band is the normal-approximation interval for the mean at each x: shaded, without
    an edge, in ``color`` at ``band_alpha``; the mean is a line on top carrying ``label``.

    Args:
        ax: the :class:`matplotlib.axes.Axes` to draw on.
        x: the abscissae, e.g. ``result.generation``.
        summary: anything with array-like ``mean`` and ``sem`` of the same length as ``x``,
            e.g. ``result.metrics["test_error"]`` of a :class:`model_collapse.experiments.Result`.
        color: the colour of the line and the band, e.g. ``style.PALETTE[k]``.
        label: the legend label of the mean line (the band has none).
        band_alpha: opacity of the band (``alpha`` in ``kwargs`` is the line's).
        **kwargs: passed to :meth:`~matplotlib.axes.Axes.plot` for the mean line
            (``linestyle``, ``marker``, ``linewidth``, ...).

    Example::

        res = cached_run(LinRegConfig(regime="replace"), 1000)
        style.band(ax, res.generation, res.metrics["test_error"], style.PALETTE[0], label="replace")
    """
    mean, sem = np.asarray(summary.mean), np.asarray(summary.sem)
    ax.fill_between(x, mean - Z95 * sem, mean + Z95 * sem, color=color, alpha=band_alpha, linewidth=0)
    ax.plot(x, mean, color=color, label=label, **kwargs)


def generation_axis(ax: Axes, axis: str = "x", label: str | None = None) -> None:
    """Mark ``ax``'s ``axis`` as counting generations: whole-number ticks only, optional label.

    Shared axes share their ticker, so one call covers a row or column of ``sharex`` panels;
    calling it on each panel is harmless.
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    # The default locator's steps and density, minus the non-integer steps (2.5).
    target.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    if label is not None:
        target.set_label_text(label)


def save(fig: Figure, outdir: str | os.PathLike, name: str, meta: dict | None = None) -> list[Path]:
    """Write ``fig`` as ``outdir/name.pdf`` and ``outdir/name.png`` with reproducible bytes.

    The metadata carry no dates and no software version (PDF: no ``CreationDate``,
    ``ModDate`` or ``Producer``; PNG: no ``Software``); the PDF ``Keywords`` and the PNG
    ``Description`` carry ``meta`` (e.g. seed count, config hashes) and the git commit the
    figure was made from, so the same code, data and matplotlib give the same bytes.
    Each file is written to a temporary name and renamed, so a reader never sees half a
    figure. ``outdir`` is created if missing. Fonts are embedded (TrueType) and the
    resolution is the style's when called inside :func:`context`.

    A figure made with pyplot is closed afterwards; a :func:`figure` needs no closing.

    Args:
        fig: the :class:`~matplotlib.figure.Figure` to save.
        outdir: the folder to write into.
        name: the file name without extension.
        meta: extra ``key=value`` pairs for the metadata.

    Returns:
        The two paths written, PDF first.

    Example::

        with style.context():
            fig = style.figure(style.COLUMN)
            fig.subplots().plot([0, 1], [0, 1])
            pdf, png = style.save(fig, "my-figures", "diagonal", {"seeds": 0})
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
    pyplot = sys.modules.get("matplotlib.pyplot")  # never imported here: only if the caller uses it
    if pyplot is not None:
        pyplot.close(fig)  # a no-op for a figure pyplot does not manage
    return paths
